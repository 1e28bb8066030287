//! `[metrics] listen`: Prometheus text at /metrics and /healthz, scraped
//! while the daemon is in the middle of a poll.

mod common;

use std::time::Duration;

use common::pages::{article_page, rss, rss_of_pages, story};
use common::{Gleaner, Route, TestServer, feed_block, free_port, get, sample, wait_for};

#[test]
fn metrics_are_served_during_a_poll_and_count_what_happened() {
    let server = TestServer::start();
    server.set(
        "/good.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &["fast", "slow"])),
    );
    server.set(
        "/fast",
        Route::html(article_page("Fast", &story("fast news"), "")),
    );
    server.set(
        "/slow",
        Route::html(article_page("Slow", &story("slow news"), ""))
            .with_delay(Duration::from_secs(3)),
    );
    server.set(
        "/cached.xml",
        Route::rss(rss("Cached", &[])).with_etag("\"c1\""),
    );
    let port = free_port();
    let gleaner = Gleaner::new(&format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n{}{}{}",
        feed_block(
            "good",
            &server.url("/good.xml"),
            "schedule = \"0 0 0 1 1 *\""
        ),
        feed_block(
            "missing",
            &server.url("/missing.xml"),
            "schedule = \"0 0 0 1 1 *\""
        ),
        feed_block(
            "cached",
            &server.url("/cached.xml"),
            "schedule = \"* * * * * *\""
        ),
    ));
    let mut daemon = gleaner.daemon();

    wait_for(Duration::from_secs(20), "/healthz", || {
        get(port, "/healthz").is_some_and(|(status, body)| status == 200 && body == "ok\n")
    });
    // The slow page is still being fetched: a scrape does not wait for it.
    wait_for(Duration::from_secs(20), "the slow page request", || {
        !server.requests("/slow").is_empty()
    });
    let (status, during) = get(port, "/metrics").expect("/metrics answers during a poll");
    assert_eq!(status, 200);
    assert_eq!(
        sample(&during, "gleaner_articles_stored_total"),
        0.0,
        "{during}"
    );

    wait_for(Duration::from_secs(20), "the good feed's poll", || {
        get(port, "/metrics").is_some_and(|(_, text)| {
            sample(&text, "gleaner_polls_total{outcome=\"ok\"}") >= 2.0
                && sample(&text, "gleaner_polls_total{outcome=\"not_modified\"}") >= 1.0
        })
    });
    let (_, text) = get(port, "/metrics").unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    assert_eq!(
        sample(&text, "gleaner_articles_stored_total"),
        2.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "gleaner_poll_errors_total{kind=\"http_4xx\"}"),
        1.0
    );
    assert_eq!(
        sample(&text, "gleaner_polls_total{outcome=\"failed\"}"),
        1.0
    );
    assert!(sample(&text, "gleaner_not_modified_ratio") > 0.0);
    let now = chrono::Utc::now().timestamp() as f64;
    let good = sample(
        &text,
        "gleaner_feed_last_success_timestamp_seconds{feed=\"good\"}",
    );
    assert!((now - 60.0..=now + 1.0).contains(&good), "{good}");
    assert!(
        !text.contains("feed=\"missing\""),
        "a feed that never succeeded has no gauge"
    );
}

#[test]
fn a_bad_listen_address_is_a_config_error() {
    let gleaner = Gleaner::new("[metrics]\nlisten = \"localhost\"\n");
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(":8:10: [metrics].listen \"localhost\""),
        "{stderr}"
    );
}

#[test]
fn a_scrape_answers_at_once_while_the_database_thread_is_busy() {
    let server = TestServer::start();
    server.set(
        "/f.xml",
        Route::rss(rss_of_pages(|p| server.url(p), &["a"])).with_etag("\"f1\""),
    );
    server.set("/a", Route::html(article_page("A", &story("news"), "")));
    let port = free_port();
    let gleaner = Gleaner::new(&format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n{}",
        feed_block("f", &server.url("/f.xml"), "schedule = \"* * * * * *\""),
    ));
    let mut daemon = gleaner.daemon();
    let gauge = "gleaner_feed_last_success_timestamp_seconds{feed=\"f\"}";
    wait_for(Duration::from_secs(20), "the first poll's gauge", || {
        get(port, "/metrics").is_some_and(|(_, text)| text.contains(gauge))
    });

    // Another process holds the write lock: the next poll's transaction
    // keeps the database thread waiting (busy_timeout).
    let blocker = gleaner.db();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let polls = server.requests("/f.xml").len();
    wait_for(Duration::from_secs(10), "a poll under the lock", || {
        server.requests("/f.xml").len() > polls
    });
    std::thread::sleep(Duration::from_millis(500));

    let started = std::time::Instant::now();
    let scraped = get(port, "/metrics");
    let took = started.elapsed();
    blocker.execute_batch("ROLLBACK").unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    let (status, text) = scraped.expect("/metrics answers");
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "the scrape took {took:?}");
    assert!(text.contains(gauge), "{text}");
}
