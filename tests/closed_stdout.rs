//! A reader that closes stdout early (`gleaner feeds | head -1`): every
//! command that prints ends there without a panic, exit 0 and nothing on
//! stderr, except an export that would move a consumer's cursor: that one
//! leaves the cursor where it was and exits 1, so it is not taken as
//! delivered.

mod common;

use std::process::Output;

use common::{Gleaner, TestServer, feed_block};

/// A polled set-up with one feed of one article and one `[[deliver]]` block.
fn polled(server: &TestServer) -> Gleaner {
    let feed = common::pages::serve_one_article(server);
    let gleaner = Gleaner::new(&format!(
        "{}\n[[deliver]]\nname = \"hook\"\nexec = [\"/bin/true\"]\n",
        feed_block("f", &feed, "")
    ));
    gleaner.poll();
    gleaner
}

/// `gleaner ARGS…` with stdout a pipe whose reader closed it before
/// anything was written, as `| head -1` does once it has its line.
fn with_closed_stdout(gleaner: &Gleaner, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = gleaner
        .command()
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let stderr = std::io::read_to_string(stderr).unwrap();
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    }
}

#[test]
fn every_printing_command_ends_quietly_when_its_reader_stops() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    for args in [
        &["feeds"][..],
        &["feeds", "--json"],
        &["deliveries"],
        &["deliveries", "--json"],
        &["check-config"],
        &["export"],
        &["export", "--format", "jsonl"],
        &["export", "--consumer", "c", "--peek"],
        &["search", "harbour"],
        &["export-opml"],
        &["gc"],
        &["poll"],
        &["completions", "bash"],
        &["man"],
    ] {
        let output = with_closed_stdout(&gleaner, args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            output.status.code(),
            Some(0),
            "gleaner {args:?} with a closed stdout: {stderr}"
        );
        assert!(
            stderr.is_empty(),
            "gleaner {args:?} says nothing on stderr: {stderr}"
        );
    }
}

#[test]
fn a_consumers_export_into_a_closed_pipe_is_not_delivered() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    let output = with_closed_stdout(&gleaner, &["export", "--consumer", "c"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("the cursor of consumer \"c\" did not move"),
        "{stderr}"
    );
    // The cursor stayed: the next export gives the article again.
    assert_eq!(gleaner.export(&["--consumer", "c"]).len(), 1);
    assert!(gleaner.export(&["--consumer", "c"]).is_empty());
}
