//! New articles pushed downstream as they arrive: `export --follow`, and the
//! daemon's `[[deliver]]` webhooks and commands. Every way keeps the
//! consumer's promise: each article once, in order, the cursor moved only
//! after the receiver took the batch.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::pages::{article_page, rss_of_pages, story};
use common::{Gleaner, Route, TestServer, feed_block, signal, wait_exit};

/// Serves a feed of `ids`, oldest first (each an article page `/ID`), at
/// `/feed.xml`.
fn serve_feed(server: &TestServer, ids: &[&str]) {
    for id in ids {
        server.set(
            &format!("/{id}"),
            Route::html(article_page(id, &story(id), "")),
        );
    }
    let newest_first: Vec<&str> = ids.iter().rev().copied().collect();
    server.set(
        "/feed.xml",
        // Entries of one date are stored in reverse document order.
        Route::rss(rss_of_pages(|p| server.url(p), &newest_first)),
    );
}

/// `gleaner export --consumer CONSUMER --follow --format jsonl`, its lines
/// (parsed, with the time each arrived) sent to the returned channel.
fn follower(
    gleaner: &Gleaner,
    consumer: &str,
) -> (Child, mpsc::Receiver<(serde_json::Value, Instant)>) {
    let mut child = gleaner
        .command()
        .args([
            "export",
            "--consumer",
            consumer,
            "--follow",
            "--format",
            "jsonl",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting export --follow");
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let article = serde_json::from_str(&line).expect("each line is one JSON object");
            if lines.send((article, Instant::now())).is_err() {
                break;
            }
        }
    });
    (child, received)
}

fn titles(articles: &[serde_json::Value]) -> Vec<&str> {
    articles
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect()
}

#[test]
fn follow_gives_the_backlog_then_each_article_a_concurrent_poll_stores_once() {
    let server = TestServer::start();
    serve_feed(&server, &["a", "b"]);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let (mut child, lines) = follower(&gleaner, "tail");
    let backlog: Vec<_> = (0..2)
        .map(|_| {
            lines
                .recv_timeout(Duration::from_secs(20))
                .expect("the backlog")
                .0
        })
        .collect();
    assert_eq!(titles(&backlog), ["a", "b"]);

    // A poll in another process stores a new article while the follower waits.
    serve_feed(&server, &["a", "b", "c"]);
    gleaner.poll();
    let stored = Instant::now();
    let (article, arrived) = lines
        .recv_timeout(Duration::from_secs(15))
        .expect("the new article reaches the follower");
    assert_eq!(article["title"], "c");
    assert!(article["content_markdown"].is_string(), "{article}");
    eprintln!(
        "follow: the article arrived {:?} after the poll exited",
        arrived.saturating_duration_since(stored)
    );
    // Exactly once: nothing more comes while nothing is stored.
    assert!(lines.recv_timeout(Duration::from_secs(1)).is_err());

    signal(&child, libc::SIGTERM);
    assert!(wait_exit(&mut child, Duration::from_secs(10)).success());
    // The cursor moved past everything the follower wrote.
    assert_eq!(
        gleaner.export(&["--consumer", "tail", "--format", "jsonl"]),
        Vec::<serde_json::Value>::new()
    );
}

#[test]
fn follow_ends_when_its_reader_goes_and_the_next_export_goes_on_from_there() {
    let server = TestServer::start();
    serve_feed(&server, &["a"]);
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let mut child = gleaner
        .command()
        .args([
            "export",
            "--consumer",
            "tail",
            "--follow",
            "--format",
            "jsonl",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["title"], "a");
    // The reader goes away: the idle follower notices and ends.
    drop(reader);
    let status = wait_exit(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{status}");

    serve_feed(&server, &["a", "b"]);
    gleaner.poll();
    let next = gleaner.export(&["--consumer", "tail", "--format", "jsonl"]);
    assert_eq!(titles(&next), ["b"]);
}

#[test]
fn follow_wants_json_lines() {
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["export", "--consumer", "c", "--follow"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--format jsonl"));
}
