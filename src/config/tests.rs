//! The config reader on small files: defaults, every problem at its
//! position, adaptive bounds, derived names, limits.

use super::*;

fn load(text: &str) -> Result<Config, Vec<String>> {
    Config::from_str_at(text, Path::new("/etc/gleaner/g.toml")).map_err(|e| match e {
        ConfigError::Invalid(p) => p.iter().map(|p| p.to_string()).collect(),
        other => vec![other.to_string()],
    })
}

#[test]
fn minimal_config_gets_spec_defaults() {
    let config = load("[[feeds]]\nurl = \"https://www.example.org/feed.xml\"\n").unwrap();
    assert_eq!(
        config.storage.database,
        Database::Sqlite("/etc/gleaner/gleaner.db".into())
    );
    assert_eq!(config.fetch.timeout, Duration::from_secs(20));
    assert_eq!(config.fetch.concurrency, 16);
    assert_eq!(config.fetch.per_host_concurrency, 2);
    assert_eq!(config.fetch.per_host_interval, Duration::from_millis(500));
    assert!(!config.fetch.allow_private_networks);
    let feed = &config.feeds[0];
    assert_eq!(feed.name, "example.org");
    assert!(feed.full_text);
    assert_eq!(feed.schedule.as_str(), DEFAULT_SCHEDULE);
}

#[test]
fn unknown_key_is_reported_with_line_and_column() {
    let errors = load("[fetch]\ntimeout_secs = 5\nuser_agnet = \"x\"\n").unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("/etc/gleaner/g.toml:3:1: "),
        "{errors:?}"
    );
    assert!(
        errors[0].contains("unknown key `user_agnet` in [fetch]"),
        "{errors:?}"
    );
}

#[test]
fn every_semantic_problem_is_reported_at_its_value() {
    let text = r#"
[schedule]
default = "every day"

[[feeds]]
url = "https://a.example/feed"
name = "a"

[[feeds]]
url = "https://a.example/feed"

[[feeds]]
url = "not a url"

[[feeds]]
url = "https://b.example/feed"
name = "a"
schedule = "61 * * * * *"
content_selector = "div[["
"#;
    let errors = load(text).unwrap_err();
    let expect = [
        "/etc/gleaner/g.toml:3:11: [schedule].default",
        "/etc/gleaner/g.toml:10:7: duplicate feed URL https://a.example/feed (first used on line 6)",
        "/etc/gleaner/g.toml:13:7: invalid feed URL",
        "/etc/gleaner/g.toml:17:8: duplicate feed name \"a\" (first used on line 7)",
        "/etc/gleaner/g.toml:18:12: schedule of feed https://b.example/feed",
        "/etc/gleaner/g.toml:19:20: invalid CSS selector",
    ];
    assert_eq!(errors.len(), expect.len(), "{errors:#?}");
    for (error, prefix) in errors.iter().zip(expect) {
        assert!(
            error.starts_with(prefix),
            "{error} should start with {prefix}"
        );
    }
}

#[test]
fn adaptive_schedules_and_their_bounds() {
    let config = load(
        "[schedule]\ndefault = \"adaptive\"\nadaptive_min = \"5m\"\nadaptive_max = \"12h\"\n\
         [[feeds]]\nurl = \"https://a.example/feed\"\n\
         [[feeds]]\nurl = \"https://b.example/feed\"\nschedule = \"0 0 * * * *\"\n",
    )
    .unwrap();
    assert!(matches!(config.feeds[0].schedule, FeedSchedule::Adaptive));
    assert_eq!(config.feeds[1].schedule.as_str(), "0 0 * * * *");
    assert_eq!(config.schedule.adaptive.min, Duration::from_secs(300));
    assert_eq!(config.schedule.adaptive.max, Duration::from_secs(12 * 3600));

    let errors = load(
        "[schedule]\nadaptive_min = \"2h\"\nadaptive_max = \"1h\"\n[[feeds]]\nurl = \"https://a.example/f\"\n",
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("/etc/gleaner/g.toml:3:16: [schedule].adaptive_max must not be shorter"),
        "{errors:?}"
    );
    let errors =
        load("[schedule]\nadaptive_min = \"ten minutes\"\nadaptive_max = \"0s\"\n").unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0].contains("2:16: [schedule].adaptive_min: invalid duration"),
        "{errors:?}"
    );
    assert!(
        errors[1].contains("3:16: [schedule].adaptive_max must be longer than zero"),
        "{errors:?}"
    );
}

#[test]
fn derived_names_stay_unique() {
    let config = load(
        "[[feeds]]\nurl = \"https://x.example/a.xml\"\n[[feeds]]\nurl = \"https://x.example/b.xml\"\n",
    )
    .unwrap();
    assert_eq!(config.feeds[0].name, "x.example");
    assert_eq!(config.feeds[1].name, "x.example/b.xml");
}

#[test]
fn zero_limits_and_other_schemes_are_rejected() {
    let errors =
        load("[fetch]\nconcurrency = 0\n[[feeds]]\nurl = \"file:///etc/passwd\"\n").unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors[0]
            .contains("[fetch].concurrency = 0 is out of range: write a number from 1 to 1024"),
        "{errors:?}"
    );
    assert!(errors[1].contains("scheme \"file\""));
}
