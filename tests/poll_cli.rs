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
