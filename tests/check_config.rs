//! `gleaner check-config` refuses, at its line and column, a value that
//! would otherwise pass and fail later in every `poll` (issue 29).

mod common;

use common::Gleaner;

#[test]
fn a_database_url_of_another_scheme_is_refused_where_it_is_written() {
    let gleaner = Gleaner::new("");
    for value in [
        "postgress://gleaner:s3cret@db.example/gleaner",
        "mysql://db.example/gleaner",
        "sqlite:///var/lib/gleaner/gleaner.db",
    ] {
        std::fs::write(
            gleaner.config_path(),
            format!("[storage]\ndatabase = \"{value}\"\n"),
        )
        .unwrap();
        let stderr = gleaner.config_problems(&["2:12: [storage].database: "]);
        assert!(
            stderr.contains("a SQLite file path") && stderr.contains("postgres://"),
            "{value}: the accepted forms are named: {stderr}"
        );
        assert!(!stderr.contains("s3cret"), "{stderr}");
        assert!(
            !gleaner.dir.path().join("postgress:").exists(),
            "nothing is created"
        );
    }
    // A SQLite path and a PostgreSQL URL still pass.
    for value in ["data/g.db", "postgresql://db.example/gleaner"] {
        std::fs::write(
            gleaner.config_path(),
            format!("[storage]\ndatabase = \"{value}\"\n"),
        )
        .unwrap();
        gleaner.ok(&["check-config"]);
    }
}

#[test]
fn a_user_agent_that_is_no_header_value_is_refused_where_it_is_written() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[fetch]\nuser_agent = \"bad\\nagent\"\nheaders = { X-Team = \"a\\u0000b\" }\n\n\
         [[feeds]]\nurl = \"https://a.example/feed\"\nuser_agent = \"feed\\ragent\"\n",
    )
    .unwrap();
    gleaner.config_problems(&[
        "2:14: [fetch].user_agent: the value of header user-agent must be visible ASCII text",
        "3:22: [fetch]: the value of header x-team must be visible ASCII text",
        "7:14: feed https://a.example/feed: the value of header user-agent",
    ]);
}

#[test]
fn every_problem_is_reported_with_its_key_and_a_plain_type() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[storage]\nkeep_html = \"yes\"\nkeep_days = \"3\"\n[fetch]\nconcurrency = 0\n\
         timeout_secs = 2.5\n\n[[feeds]]\nurl = \"ftp://x/y\"\ntags = \"news\"\n",
    )
    .unwrap();
    let stderr = gleaner.config_problems(&[
        "2:13: [storage].keep_html must be true or false",
        "3:13: [storage].keep_days must be a whole number",
        "5:15: [fetch].concurrency",
        "6:16: [fetch].timeout_secs must be a whole number",
        "9:7: invalid feed URL",
        "10:8: [[feeds]] 1: tags must be a list of text",
    ]);
    assert!(!stderr.contains("invalid type"), "{stderr}");
    assert!(!stderr.contains("i64"), "{stderr}");
}

#[test]
fn the_files_the_first_run_needs_must_exist() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[storage]\ndatabase = \"postgres://db.example/g\"\npassword_file = \"missing.pw\"\n\n\
         [[deliver]]\nname = \"hook\"\nexec = [\"/nonexistent/bin/hook\", \"--x\"]\n",
    )
    .unwrap();
    gleaner.config_problems(&[
        "3:17: [storage].password_file",
        "7:8: [[deliver]] \"hook\": exec",
    ]);
    // A command found on $PATH passes.
    std::fs::write(gleaner.dir.path().join("pw"), "x").unwrap();
    std::fs::write(
        gleaner.config_path(),
        "[storage]\ndatabase = \"postgres://db.example/g\"\npassword_file = \"pw\"\n\n\
         [[deliver]]\nname = \"hook\"\nexec = [\"sh\", \"-c\", \"cat\"]\n",
    )
    .unwrap();
    gleaner.ok(&["check-config"]);
}

#[test]
fn a_bad_css_selector_is_said_in_words_on_one_line() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[[feeds]]\nurl = \"https://a.example/feed\"\nremove_selectors = [\"p:foo\", \">>\"]\n",
    )
    .unwrap();
    let stderr = gleaner.config_problems(&[
        // The selector names the pseudo-class; scraper 0.29's error no
        // longer carries it.
        "3:21: invalid CSS selector \"p:foo\": unsupported pseudo class or element",
        "3:30: invalid CSS selector \">>\": empty selector",
    ]);
    assert!(!stderr.contains("report this"), "{stderr}");
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
}

#[test]
fn an_unsupported_sslmode_lists_the_accepted_ones() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[storage]\ndatabase = \"postgres://db.example/g?sslmode=verify-full\"\n",
    )
    .unwrap();
    let stderr = gleaner.config_problems(&["2:12: [storage].database: "]);
    for mode in ["sslmode=disable", "sslmode=prefer", "sslmode=require"] {
        assert!(stderr.contains(mode), "{stderr}");
    }
}

#[test]
fn a_deliver_blocks_range_error_names_the_block() {
    let gleaner = Gleaner::new("");
    std::fs::write(
        gleaner.config_path(),
        "[[deliver]]\nname = \"hook\"\nexec = [\"sh\"]\nbatch = 0\n",
    )
    .unwrap();
    let stderr = gleaner.config_problems(&["4:9: [[deliver]] \"hook\": batch = 0 is out of range"]);
    assert!(!stderr.contains("[deliver].batch"), "{stderr}");
}
