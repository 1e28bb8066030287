//! The lines `gleaner poll` prints on stderr itself (a failed feed) start
//! like its log lines: off a terminal with the UTC time (RFC 3339) and the
//! level, under journald (`JOURNAL_STREAM`) with the level alone, so a cron
//! job's log can be read.

mod common;

use common::{Gleaner, Route, TestServer, feed_block};

/// stderr of `gleaner poll --log-level info` (stderr piped) on a feed that
/// fails, with `JOURNAL_STREAM` set to `journal`.
fn poll_a_failing_feed(journal: Option<&str>) -> String {
    let server = TestServer::start();
    server.set("/feed.xml", Route::new(500, "text/plain", "down"));
    let gleaner = Gleaner::new(&feed_block("broken", &server.url("/feed.xml"), ""));
    let mut command = gleaner.command();
    command.args(["poll", "--log-level", "info"]);
    if let Some(stream) = journal {
        command.env("JOURNAL_STREAM", stream);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stderr).unwrap()
}

/// The feed's own report line among `stderr`'s lines.
fn report_line(stderr: &str) -> &str {
    stderr
        .lines()
        .find(|line| line.contains("broken: failed: "))
        .unwrap_or_else(|| panic!("no report line for the failed feed:\n{stderr}"))
}

#[test]
fn poll_report_lines_off_a_terminal_start_with_the_utc_time_as_log_lines_do() {
    let stderr = poll_a_failing_feed(None);
    report_line(&stderr);
    assert!(stderr.lines().count() >= 2, "a log line too:\n{stderr}");
    for line in stderr.lines() {
        let (time, rest) = line
            .split_once(' ')
            .unwrap_or_else(|| panic!("{line:?} has no time"));
        let parsed = chrono::DateTime::parse_from_rfc3339(time);
        assert!(
            parsed.is_ok_and(|t| t.offset().local_minus_utc() == 0) && time.ends_with('Z'),
            "{line:?} does not start with a UTC time (RFC 3339)"
        );
        assert!(
            [" INFO ", " WARN ", "ERROR "]
                .iter()
                .any(|level| rest.starts_with(level)),
            "{line:?}: no level after the time"
        );
    }
    assert!(
        report_line(&stderr)
            .split_once(' ')
            .unwrap()
            .1
            .starts_with(" WARN broken: failed: "),
        "{stderr}"
    );
}

#[test]
fn poll_report_lines_under_journald_start_with_the_level_alone() {
    let stderr = poll_a_failing_feed(Some("8:12345"));
    assert!(
        report_line(&stderr).starts_with(" WARN broken: failed: "),
        "{stderr}"
    );
    assert!(
        !stderr.contains("Z "),
        "journald stamps lines itself:\n{stderr}"
    );
}
