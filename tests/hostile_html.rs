//! HTML built to hurt the parser: nesting that the old byte count did not
//! see (`<span/>`, stray end tags), and feed content nested thousands deep.
//! Every page here is generated; none is kept as a fixture.

mod common;

use std::time::{Duration, Instant};

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block};

const WORDS: &str = "The harbour opened its new pier on Monday, and the town came to watch the \
    first ferry tie up beside the old fish market before noon. ";

/// A page with a real paragraph and then `hostile` markup.
fn page(hostile: &str) -> String {
    format!(
        "<html><body><article><p>{}</p>{hostile}<p>after</p></article></body></html>",
        WORDS.repeat(4)
    )
}

#[test]
fn pages_nested_past_the_limit_by_ignored_markup_are_refused_fast() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("self-closing spans", "<span/>".repeat(20_000)),
        ("stray end tags", "<span></b>".repeat(20_000)),
        ("misnested formatting", "<b><div></b>".repeat(20_000)),
        ("foreign content", format!("<svg>{}", "<g>".repeat(20_000))),
    ];
    for (name, hostile) in cases {
        let path = dir.path().join("page.html");
        std::fs::write(&path, page(&hostile)).unwrap();
        let started = Instant::now();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
            .args(["--config", "/nonexistent/g.toml", "extract", "--url"])
            .arg("https://x.example/a")
            .arg(&path)
            .output()
            .unwrap();
        // Generous for a loaded machine: it took minutes before.
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name} took {:?}",
            started.elapsed()
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.contains("nested more than 512 deep"),
            "{name}: {stderr}"
        );
    }
}

#[test]
fn real_nesting_and_siblings_are_still_extracted() {
    // Thousands of self-closing and misnested siblings, but shallow.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("page.html");
    let shallow = format!(
        "{}{}<svg>{}</svg>",
        "<br/><img src=x.png/>".repeat(5_000),
        "<p><b>x</p>".repeat(200),
        "<path d='m0 0'/>".repeat(5_000)
    );
    std::fs::write(&path, page(&shallow)).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(["--config", "/nonexistent/g.toml", "extract", "--url"])
        .arg("https://x.example/a")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("first ferry"), "{stdout}");
}

/// Polls a feed whose one entry's content is `description` and returns
/// the exported article.
fn poll_feed_with(server: &TestServer, feed: String, content_type: &str) -> serde_json::Value {
    server.set("/feed.xml", Route::new(200, content_type, feed));
    let gleaner = Gleaner::new(&feed_block(
        "f",
        &server.url("/feed.xml"),
        "full_text = false",
    ));
    let started = Instant::now();
    let report = gleaner.poll();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the poll took {:?}",
        started.elapsed()
    );
    assert!(report.contains("1 new"), "{report}");
    let articles = gleaner.export(&["--consumer", "c"]);
    assert_eq!(articles.len(), 1, "{articles:?}");
    articles[0].clone()
}

#[test]
fn an_entry_nested_thirty_thousand_deep_is_stored_with_its_text_cut() {
    let server = TestServer::start();
    let description = format!(
        "<p>{WORDS}</p>{}deep tail{}",
        "<span>".repeat(30_000),
        "</span>".repeat(30_000)
    );
    let item = Item {
        guid: "deep-1",
        title: "Deep",
        link: "https://x.example/deep",
        description: &description,
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    };
    let article = poll_feed_with(&server, rss("F", &[item]), "application/rss+xml");
    let text = article["content_text"].as_str().unwrap_or_default();
    assert!(text.contains("first ferry"), "{article}");
    assert!(!text.contains("deep tail"), "the text is cut: {text}");
}

#[test]
fn an_atom_entry_with_xhtml_nested_fifty_thousand_deep_is_stored_cut() {
    let server = TestServer::start();
    let feed = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><id>urn:f</id>
<updated>2026-11-23T08:00:00Z</updated>
<entry><id>urn:deep</id><title>Deep</title><link href="https://x.example/deep"/>
<updated>2026-11-23T08:00:00Z</updated>
<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>{WORDS}</p>{}deep tail{}</div></content>
</entry></feed>"#,
        "<div>".repeat(50_000),
        "</div>".repeat(50_000)
    );
    let article = poll_feed_with(&server, feed, "application/atom+xml");
    let text = article["content_text"].as_str().unwrap_or_default();
    assert!(text.contains("first ferry"), "{article}");
    assert!(!text.contains("deep tail"), "the text is cut: {text}");
}

/// A set-up with `[extraction] site_config_dir = "rules"` and one feed.
fn with_rules(server: &TestServer) -> Gleaner {
    server.set("/feed.xml", Route::rss(rss("F", &[])));
    let gleaner = Gleaner::new(&format!(
        "[extraction]\nsite_config_dir = \"rules\"\n\n{}",
        feed_block("f", &server.url("/feed.xml"), "")
    ));
    std::fs::create_dir_all(gleaner.dir.path().join("rules")).unwrap();
    gleaner
}

/// A `body:` rule nested 30,000 parentheses deep.
fn deep_rule() -> String {
    format!(
        "body: //article\nbody: {}//div{}\n",
        "(".repeat(30_000),
        ")".repeat(30_000)
    )
}

#[test]
fn check_config_names_a_rule_nested_too_deep() {
    let server = TestServer::start();
    let gleaner = with_rules(&server);
    let file = gleaner.dir.path().join("rules").join("x.example.txt");
    std::fs::write(&file, deep_rule()).unwrap();
    let output = gleaner.command().arg("check-config").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with(&format!("{}:2: body:", file.display())))
        .unwrap_or_else(|| panic!("no line for the rule in {stderr}"));
    assert!(line.contains("nests more than 100 levels"), "{line}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 rule skipped"), "{stdout}");
}

#[test]
fn a_reload_with_a_rule_nested_too_deep_keeps_the_daemon_running() {
    let server = TestServer::start();
    let gleaner = with_rules(&server);
    let log_path = gleaner.dir.path().join("run.log");
    let mut daemon = gleaner
        .command()
        .arg("run")
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    common::wait_for(Duration::from_secs(60), "the first poll", || {
        !server.requests("/feed.xml").is_empty()
    });
    std::fs::write(
        gleaner.dir.path().join("rules").join("x.example.txt"),
        deep_rule(),
    )
    .unwrap();
    common::signal(&daemon, libc::SIGHUP);
    common::wait_for(Duration::from_secs(60), "the reload", || {
        log().contains("configuration reloaded") || daemon.try_wait().unwrap().is_some()
    });
    assert!(
        daemon.try_wait().unwrap().is_none(),
        "the daemon died on the reload: {}",
        log()
    );
    assert!(log().contains("some site rules do not parse"), "{}", log());
    common::signal(&daemon, libc::SIGTERM);
    common::wait_exit(&mut daemon, Duration::from_secs(30));
}

#[test]
fn a_poll_whose_article_page_walks_around_the_old_count_stores_the_feeds_text() {
    // The page a daemon died on at every restart: now refused at once, and
    // the entry is stored with its feed's own text.
    let server = TestServer::start();
    server.set("/a/1", Route::html(page(&"<span></b>".repeat(20_000))));
    let link = server.url("/a/1");
    let description = format!("<p>{WORDS}</p>");
    let item = Item {
        guid: "a-1",
        title: "Story",
        link: &link,
        description: &description,
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    };
    server.set("/feed.xml", Route::rss(rss("F", &[item])));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    let started = Instant::now();
    let report = gleaner.poll();
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the poll took {:?}",
        started.elapsed()
    );
    assert!(report.contains("1 new"), "{report}");
    let articles = gleaner.export(&["--consumer", "c"]);
    assert_eq!(articles.len(), 1, "{articles:?}");
    assert_eq!(articles[0]["content_source"], "feed", "{:#}", articles[0]);
    let text = articles[0]["content_text"].as_str().unwrap_or_default();
    assert!(text.contains("first ferry"), "{text}");
}
