//! What the commands say when something is off, and the man pages (issue 29):
//! each message names what failed, on which input, and what to do.

mod common;

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block};

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn man_writes_one_page_per_command_with_its_options() {
    let gleaner = Gleaner::new("");
    // A folder that does not exist yet is created.
    let dir = gleaner.dir.path().join("share").join("man");
    gleaner.ok(&["man", "--dir", dir.to_str().unwrap()]);
    let help = String::from_utf8(gleaner.ok(&["--help"]).stdout).unwrap();
    // Every command `--help` lists has its page, which the top page names.
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() > 10, "{help}");
    let top = std::fs::read_to_string(dir.join("gleaner.1")).unwrap();
    for command in &commands {
        let page = dir.join(format!("gleaner-{command}.1"));
        assert!(page.exists(), "no page for {command}");
        assert!(
            top.contains(&format!("gleaner\\-{}(1)", command.replace('-', "\\-"))),
            "the top page refers to {command}'s page"
        );
    }
    let export = std::fs::read_to_string(dir.join("gleaner-export.1")).unwrap();
    assert!(export.contains("\\-\\-consumer"), "{export}");
    assert!(export.contains("\\-\\-since"), "{export}");
    // One page to stdout, by its command's name.
    let search = String::from_utf8(gleaner.ok(&["man", "search"]).stdout).unwrap();
    assert!(search.contains(".TH gleaner-search 1"), "{search}");
    assert!(search.contains("\\-\\-limit"), "{search}");
    let output = gleaner.command().args(["man", "nosuch"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("export-opml"), "{output:?}");
}

#[test]
fn counts_are_said_in_words_that_agree() {
    // A poll of no feed creates the database (either backend) for gc.
    let gleaner = Gleaner::new("");
    gleaner.poll();
    gleaner.write_config(&feed_block("a", "https://a.example/feed", ""));
    let output = gleaner.ok(&["check-config"]);
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok: 1 feed\n");
    gleaner.edit_config("[fetch]", "keep_days = 1\n[fetch]");
    let output = gleaner.ok(&["gc"]);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.contains("older than 1 day)"), "{said}");
    assert!(!said.contains('-'), "an unset limit is not a dash: {said}");

    let opml = gleaner.dir.path().join("one.opml");
    std::fs::write(
        &opml,
        r#"<opml version="2.0"><body><outline text="B" xmlUrl="https://b.example/feed"/></body></opml>"#,
    )
    .unwrap();
    let output = gleaner.ok(&["import-opml", opml.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(said.starts_with("imported 1 feed into"), "{said}");
}

#[test]
fn a_search_limited_to_nothing_is_a_usage_error() {
    let gleaner = Gleaner::new("");
    gleaner.poll();
    let output = gleaner
        .command()
        .args(["search", "x", "--limit", "0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("--limit"), "{output:?}");
}

#[test]
fn extract_names_the_page_it_read_and_a_missing_config() {
    let gleaner = Gleaner::new("");
    let page = gleaner.dir.path().join("saved.html");
    std::fs::write(&page, "<html><body>x</body></html>").unwrap();
    let output = gleaner
        .command()
        .args(["extract", page.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).starts_with(&format!("{}: ", page.display())),
        "{output:?}"
    );
    assert!(!stderr_of(&output).contains("file:///"), "{output:?}");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(["-c", "/nonexistent/gleaner.toml", "extract"])
        .arg(&page)
        .output()
        .unwrap();
    // Not silent: the extraction goes on without the config, saying so.
    assert!(
        stderr_of(&output).contains("no config file at /nonexistent/gleaner.toml"),
        "{output:?}"
    );
}

#[test]
fn poll_without_feeds_says_how_to_add_one() {
    let gleaner = Gleaner::new("");
    let output = gleaner.ok(&["poll"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr_of(&output)
    );
    assert!(said.contains("gleaner add"), "{said}");

    // The daemon logs the same at start-up, and runs on (a reload adds feeds).
    let log = gleaner.dir.path().join("run.log");
    let mut daemon = gleaner
        .command()
        .arg("run")
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    common::wait_for(
        std::time::Duration::from_secs(20),
        "the daemon says how to add a feed",
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("gleaner add")),
    );
    common::signal(&daemon, libc::SIGTERM);
    let status = common::wait_exit(&mut daemon, std::time::Duration::from_secs(20));
    assert!(status.success(), "{status:?}");
}

#[test]
fn add_refuses_what_it_cannot_subscribe_to_before_fetching() {
    let server = TestServer::start();
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["add", "ftp://files.example/feed"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("http"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "no candidates tried: {stderr}");

    let output = gleaner
        .command()
        .args(["add", &server.url("/feed"), "--name", ""])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr_of(&output).contains("--name"), "{output:?}");
    assert!(server.all_requests().is_empty(), "nothing fetched");
}

#[test]
fn add_says_why_each_candidate_failed() {
    let server = TestServer::start();
    server.set("/", Route::html("<html><body>no feed</body></html>"));
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["add", &server.url("/")])
        .output()
        .unwrap();
    // No feed and no list of entries on the page either: exit 2 (issue 28).
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("404"), "the status is named: {stderr}");
}

fn one_article_feed(server: &TestServer) -> Gleaner {
    server.set(
        "/feed.xml",
        Route::rss(rss(
            "F",
            &[Item {
                guid: "https://news.example/1",
                title: "A",
                link: "https://news.example/1",
                description: "teaser",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        )),
    );
    let gleaner = Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "full_text = false",
    ));
    gleaner.poll();
    gleaner
}

#[test]
fn export_since_and_until_take_a_date_or_a_duration() {
    let server = TestServer::start();
    let gleaner = one_article_feed(&server);
    assert_eq!(gleaner.export(&["--since", "2000-01-01"]).len(), 1);
    assert_eq!(gleaner.export(&["--since", "24h"]).len(), 1);
    assert_eq!(gleaner.export(&["--since", "7d"]).len(), 1);
    assert!(gleaner.export(&["--since", "2999-12-31"]).is_empty());
    // --until bounds the other end, in the same forms.
    assert_eq!(gleaner.export(&["--until", "2999-12-31"]).len(), 1);
    assert!(gleaner.export(&["--until", "2000-01-01"]).is_empty());
    assert!(
        gleaner
            .export(&["--until", "7d", "--limit", "1"])
            .is_empty()
    );
    let output = gleaner
        .command()
        .args(["export", "--since", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr_of(&output).contains("2026-12-07"), "{output:?}");
}

#[test]
fn export_of_a_removed_feed_gives_its_kept_articles() {
    let server = TestServer::start();
    let gleaner = one_article_feed(&server);
    let url = server.url("/feed.xml");
    gleaner.ok(&["remove", "f"]);
    assert_eq!(gleaner.export(&["--feed", &url]).len(), 1);
}

#[test]
fn reextract_with_keep_html_on_does_not_ask_to_turn_it_on() {
    let gleaner = Gleaner::new("");
    gleaner.edit_config("[fetch]", "keep_html = true\n[fetch]");
    gleaner.poll();
    let said = String::from_utf8(gleaner.ok(&["reextract"]).stdout).unwrap();
    assert!(said.contains("no article pages are kept yet"), "{said}");
    assert!(!said.contains("set [storage] keep_html"), "{said}");
}

#[test]
fn a_capped_retry_after_is_shown_to_the_second_and_the_table_keeps_the_causes_end() {
    let server = TestServer::start();
    let mut route = Route::new(429, "text/plain", "slow down");
    route.headers.push(("retry-after".into(), "7200".into()));
    server.set("/feed.xml", route);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config("[fetch]", "[fetch]\nmax_retry_after = \"1h\"");
    gleaner.command().arg("poll").output().unwrap();
    let error = gleaner.feeds()["f"]["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, after) = error.split_once("Retry-After ").expect(&error);
    let time = after.split(',').next().unwrap();
    assert_eq!(time.len(), "2026-12-07T13:00:00Z".len(), "{error}");
    let table = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    assert!(table.contains("max_retry_after)"), "{table}");
}

#[test]
fn an_output_error_names_the_output_file() {
    let gleaner = Gleaner::new("");
    gleaner.poll();
    for command in ["export", "export-opml"] {
        let output = gleaner
            .command()
            .args([command, "--output", "/nonexistent/out.json"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = stderr_of(&output);
        assert!(stderr.contains("/nonexistent/out.json"), "{stderr}");
        assert!(!stderr.contains(".gleaner-"), "{stderr}");
    }
}

#[test]
fn add_creates_the_config_it_is_pointed_at() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        Route::rss(rss(
            "News",
            &[Item {
                guid: "1",
                title: "A",
                link: "http://example.invalid/1",
                description: "text",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        )),
    );
    let gleaner = Gleaner::new("");
    let new = gleaner.dir.path().join("new.toml");
    let output = gleaner
        .command_on(&new)
        .args(["add", &server.url("/feed.xml"), "--name", "news"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = gleaner
        .command_on(&new)
        .arg("check-config")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ok: 1 feed\n");
    let text = std::fs::read_to_string(&new).unwrap();
    assert!(text.contains("name = \"news\""), "{text}");
}

#[test]
fn export_output_takes_the_mode_a_web_server_needs() {
    let server = TestServer::start();
    let gleaner = one_article_feed(&server);
    let target = gleaner.dir.path().join("feed.atom");
    let path = target.to_str().unwrap();
    gleaner.ok(&["export", "--format", "atom", "--output", path]);
    assert_eq!(common::file_mode(&target), 0o600, "private by default");
    gleaner.ok(&[
        "export", "--format", "atom", "--output", path, "--mode", "644",
    ]);
    assert_eq!(common::file_mode(&target), 0o644);
    let output = gleaner
        .command()
        .args(["export", "--output", path, "--mode", "999"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}

/// The log lines of `output` (a terminal's bytes) that start in the middle
/// of a line another writer drew (the progress bar), rather than at a line
/// start or after the bar's line was cleared.
fn log_lines_over_other_text(output: &str) -> Vec<String> {
    let mut over = Vec::new();
    let mut rest = output;
    let mut offset = 0;
    // A terminal's log line starts with its dimmed UTC time.
    while let Some(at) = rest.find("\u{1b}[2m20") {
        let start = offset + at;
        let before = &output[..start];
        let clean = before.is_empty()
            || before.ends_with('\n')
            || before.ends_with('\r')
            || before.ends_with("\u{1b}[2K");
        if !clean {
            let from = before.len().saturating_sub(60);
            let from = (from..=before.len())
                .find(|i| output.is_char_boundary(*i))
                .unwrap_or(before.len());
            over.push(output[from..start + 40.min(output.len() - start)].to_owned());
        }
        offset = start + 1;
        rest = &output[offset..];
    }
    over
}

#[test]
fn log_lines_are_written_above_the_progress_bar() {
    let server = TestServer::start();
    server.set(
        "/slow.xml",
        Route::rss(rss(
            "F",
            &[Item {
                guid: "1",
                title: "A",
                link: "http://example.invalid/1",
                description: "text",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        ))
        .with_delay(std::time::Duration::from_millis(1500)),
    );
    let gleaner = Gleaner::new(&feed_block(
        "slow",
        &server.url("/slow.xml"),
        "full_text = false",
    ));
    // `script` gives gleaner a terminal, where the progress bar is drawn.
    let command = format!(
        "{} --config {} --log-level debug poll",
        env!("CARGO_BIN_EXE_gleaner"),
        gleaner.config_path().display()
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("GLEANER_LOG")
        .output()
        .expect("script(1) from util-linux");
    let terminal = String::from_utf8_lossy(&output.stdout);
    assert!(
        terminal.contains("feeds"),
        "the bar was drawn: {terminal:?}"
    );
    assert!(terminal.contains("DEBUG"), "{terminal:?}");
    let over = log_lines_over_other_text(&terminal);
    assert!(over.is_empty(), "log lines written over the bar: {over:#?}");
}
