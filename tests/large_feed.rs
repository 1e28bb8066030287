//! A large feed is stored in parts as its articles are built, so that a
//! poll's memory does not grow with its feed; a poll killed between parts
//! is redone and stores nothing twice. (Its own binary: the kills of
//! `tests/crash.rs` need a quiet machine to land mid-write.)

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use common::pages::{article_page, rss_entries, story};
use common::{Gleaner, Route, TestServer};

/// A feed of `n` entries whose pages are `/p/N`; the first `slow` in the
/// document (the newest, polled last) answer after `delay`.
fn large_feed(server: &TestServer, n: usize, slow: usize, delay: Duration) {
    let entries: Vec<(String, String, String)> = (0..n)
        .map(|e| {
            (
                format!("e{e}"),
                server.url(&format!("/p/{e}")),
                "teaser".into(),
            )
        })
        .collect();
    server.set(
        "/big.xml",
        Route::rss(rss_entries("Big", &entries)).with_etag("\"v1\""),
    );
    for e in 0..n {
        let page = article_page(&format!("E{e}"), &story(&format!("entry number {e}")), "");
        let delay = if e < slow { delay } else { Duration::ZERO };
        server.set(&format!("/p/{e}"), Route::html(page).with_delay(delay));
    }
}

#[test]
fn a_large_feed_is_stored_in_parts_and_a_poll_killed_midway_is_redone() {
    const ENTRIES: usize = 70;
    let server = TestServer::start();
    large_feed(&server, ENTRIES, 4, Duration::from_secs(60));
    let gleaner = Gleaner::new(&format!(
        "[[feeds]]\nname = \"big\"\nurl = \"{}\"\n",
        server.url("/big.xml")
    ));
    let mut poll = gleaner
        .command()
        .arg("poll")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // The articles built so far are stored while the last pages still load:
    // they are not all held in memory until the feed's end.
    // Zero until `poll` has created the database.
    let count = |sql: &str| -> i64 {
        rusqlite::Connection::open(gleaner.db_path())
            .and_then(|db| db.query_row(sql, [], |r| r.get(0)))
            .unwrap_or(0)
    };
    common::wait_for(Duration::from_secs(30), "articles stored mid-poll", || {
        count("SELECT count(*) FROM articles") >= 32
    });
    assert_eq!(
        count("SELECT count(*) FROM feeds WHERE etag IS NOT NULL"),
        0,
        "the validators wait for the poll's last part"
    );
    poll.kill().unwrap();
    poll.wait().unwrap();
    let stored: Vec<String> = {
        let db = gleaner.db();
        let mut urls = db.prepare("SELECT url FROM articles").unwrap();
        urls.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(stored.len() < ENTRIES, "{}", stored.len());

    // Redone in full: the feed is fetched again, unconditionally, and
    // nothing is stored or fetched twice.
    large_feed(&server, ENTRIES, 0, Duration::ZERO);
    let summary = gleaner.poll();
    assert!(
        summary.contains(&format!("{} new articles", ENTRIES - stored.len())),
        "{summary}"
    );
    let feed_requests = server.requests("/big.xml");
    assert_eq!(feed_requests.len(), 2);
    assert!(feed_requests[1].headers.get("if-none-match").is_none());
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), ENTRIES);
    let ids: HashSet<&str> = articles.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids.len(), ENTRIES);
    for url in &stored {
        let path = url.trim_start_matches(&server.url(""));
        assert_eq!(server.requests(path).len(), 1, "{path} fetched again");
    }
    assert_eq!(gleaner.feeds()["big"]["state"], "ok");
}
