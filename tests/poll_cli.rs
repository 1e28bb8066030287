//! `gleaner poll` from the command line: the exit code of an interrupted
//! pass, and a feed named twice in the selection.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::pages::rss;
use common::{Gleaner, Route, TestServer, feed_block, signal, wait_exit, wait_for};

#[test]
fn a_poll_interrupted_by_ctrl_c_exits_130_and_says_so() {
    let server = TestServer::start();
    // Slow enough that the pass is still running when SIGINT comes.
    server.set(
        "/slow.xml",
        Route::rss(rss("Slow", &[])).with_delay(Duration::from_secs(30)),
    );
    let gleaner = Gleaner::new(&feed_block("slow", &server.url("/slow.xml"), ""));
    let mut child = gleaner
        .command()
        .arg("poll")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(Duration::from_secs(30), "the feed's request", || {
        !server.requests("/slow.xml").is_empty()
    });
    signal(&child, libc::SIGINT);
    let status = wait_exit(&mut child, Duration::from_secs(20));
    let stdout = std::io::read_to_string(child.stdout.take().unwrap()).unwrap();
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(stdout.starts_with("poll: interrupted"), "{stdout}");
}

#[test]
fn a_feed_named_twice_is_polled_once() {
    let server = TestServer::start();
    server.set("/f0.xml", Route::rss(rss("F0", &[])));
    server.set("/f1.xml", Route::rss(rss("F1", &[])));
    let f0 = server.url("/f0.xml");
    let gleaner = Gleaner::new(&format!(
        "{}\n{}",
        feed_block("f0", &f0, ""),
        feed_block("f1", &server.url("/f1.xml"), "")
    ));
    let output = gleaner.ok(&["poll", "--feed", "f0", "--feed", &f0, "--feed", "f0"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(server.requests("/f0.xml").len(), 1, "{stdout}{stderr}");
    assert!(server.requests("/f1.xml").is_empty());
    assert!(stdout.starts_with("poll: 1 feed: 1 ok"), "{stdout}");
    assert!(!stderr.contains("skipped"), "{stderr}");
}
