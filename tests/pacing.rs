//! When a failing feed is polled next (src/pacing.rs through `gleaner
//! poll` and `gleaner feeds`): 429/503 with Retry-After pause it, capped by
//! `[fetch] max_retry_after`; without Retry-After they are errors that back
//! off; `poll --force` overrides a pause.

mod common;

use chrono::{DateTime, Utc};
use common::{Gleaner, Route, TestServer, feed_block};

fn next_due_in_secs(gleaner: &Gleaner, feed: &str) -> i64 {
    let row = &gleaner.feeds()[feed];
    let due: DateTime<Utc> = row["next_due"]
        .as_str()
        .unwrap_or_else(|| panic!("no next_due: {row}"))
        .parse()
        .unwrap();
    (due - Utc::now()).num_seconds()
}

/// A feed block polled every second by the daemon, so that `next_due` is
/// the end of its pause.
fn every_second(name: &str, server: &TestServer, path: &str) -> String {
    feed_block(name, &server.url(path), "schedule = \"* * * * * *\"")
}

#[test]
fn a_429_or_503_without_retry_after_is_an_error_that_backs_off() {
    let server = TestServer::start();
    server.set("/busy.xml", Route::new(503, "text/plain", "busy"));
    server.set("/slow.xml", Route::new(429, "text/plain", "slow down"));
    let gleaner = Gleaner::new(
        &[
            every_second("busy", &server, "/busy.xml"),
            every_second("slow", &server, "/slow.xml"),
        ]
        .concat(),
    );
    gleaner.poll();
    let second = gleaner.ok(&["poll"]);
    // Each failure says when the daemon tries again, and after how many.
    let said = String::from_utf8(second.stderr).unwrap();
    for name in ["busy", "slow"] {
        let line = said
            .lines()
            // Off a terminal the line starts as log lines do: time, level.
            .find(|l| l.contains(&format!(" WARN {name}: failed")))
            .unwrap_or_else(|| panic!("no line for {name}: {said}"));
        assert!(line.contains("; retrying at "), "{line}");
        assert!(line.ends_with("UTC, after 2 failures"), "{line}");
    }
    // The table shows the cause, not the URL it has in its own column.
    let table = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    let row = table.lines().find(|l| l.starts_with("busy")).unwrap();
    assert!(row.contains("error: HTTP 503"), "{table}");
    assert_eq!(row.matches("/busy.xml").count(), 1, "{table}");
    let feeds = gleaner.feeds();
    for name in ["busy", "slow"] {
        let row = &feeds[name];
        assert_eq!(row["state"], "error", "{row}");
        assert_eq!(row["consecutive_errors"], 2, "{row}");
        // The second error backs off 2 minutes (less up to 20 % jitter).
        let pause = next_due_in_secs(&gleaner, name);
        assert!((80..=121).contains(&pause), "{name}: due in {pause} s");
    }
}

#[test]
fn retry_after_is_capped_and_poll_force_overrides_it() {
    let server = TestServer::start();
    let mut forever = Route::new(429, "text/plain", "come back in 136 years");
    forever
        .headers
        .push(("retry-after".into(), u32::MAX.to_string()));
    server.set("/forever.xml", forever);
    let mut doomsday = Route::new(503, "text/plain", "maintenance");
    doomsday
        .headers
        .push(("retry-after".into(), "Fri, 31 Dec 9999 23:59:59 GMT".into()));
    server.set("/doomsday.xml", doomsday);
    let gleaner = Gleaner::new(
        &[
            every_second("forever", &server, "/forever.xml"),
            every_second("doomsday", &server, "/doomsday.xml"),
        ]
        .concat(),
    );
    gleaner.poll();
    let day = 24 * 3600;
    for name in ["forever", "doomsday"] {
        assert_eq!(gleaner.feeds()[name]["state"], "rate_limited");
        assert_eq!(gleaner.feeds()[name]["consecutive_errors"], 0);
        let pause = next_due_in_secs(&gleaner, name);
        assert!(
            (day - 60..=day + 1).contains(&pause),
            "{name}: due in {pause} s"
        );
    }

    // A manual poll honours the pause; --force does not.
    let said = gleaner.poll();
    assert!(
        said.contains("2 skipped (2 rate-limited, the first until "),
        "the summary says why: {said}"
    );
    assert_eq!(server.requests("/forever.xml").len(), 1);
    gleaner.ok(&["poll", "--force", "--feed", "forever"]);
    assert_eq!(server.requests("/forever.xml").len(), 2);
    assert_eq!(server.requests("/doomsday.xml").len(), 1);

    // The cap is the operator's.
    gleaner.edit_config("[fetch]\n", "[fetch]\nmax_retry_after = \"1h\"\n");
    gleaner.ok(&["poll", "--force"]);
    for name in ["forever", "doomsday"] {
        let pause = next_due_in_secs(&gleaner, name);
        assert!((3540..=3601).contains(&pause), "{name}: due in {pause} s");
        let error = gleaner.feeds()[name]["last_error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            error.contains("capped by [fetch] max_retry_after"),
            "{error}"
        );
    }
}
