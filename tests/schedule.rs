//! `schedule = "adaptive"`: the interval follows a feed's publications,
//! within `[schedule] adaptive_min`/`adaptive_max`, and never below what the
//! server (`Cache-Control: max-age`, `Expires`) or the feed (`<ttl>`) asks.

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block, wait_for};

/// A feed of `count` entries published `gap` apart, the newest `age` ago.
fn feed_every(name: &str, count: usize, gap: chrono::Duration, age: chrono::Duration) -> String {
    let now = Utc::now();
    let ids: Vec<String> = (0..count).map(|i| format!("{name}-{i}")).collect();
    let links: Vec<String> = (0..count)
        .map(|i| format!("http://example.invalid/{name}/{i}"))
        .collect();
    let dates: Vec<String> = (0..count)
        .map(|i| (now - age - gap * i as i32).to_rfc2822())
        .collect();
    let items: Vec<Item<'_>> = (0..count)
        .map(|i| Item {
            guid: &ids[i],
            title: "A story",
            link: &links[i],
            description: "The feed's own text of a story, long enough to keep.",
            pub_date: &dates[i],
        })
        .collect();
    rss(name, &items)
}

fn seconds(row: &serde_json::Value, key: &str) -> i64 {
    row[key]
        .as_i64()
        .unwrap_or_else(|| panic!("{key} missing: {row}"))
}

fn next_due_in(row: &serde_json::Value) -> i64 {
    let due = row["next_due"].as_str().expect("next_due");
    let due: DateTime<Utc> = due.parse().expect("next_due is RFC 3339");
    (due - Utc::now()).num_seconds()
}

#[test]
fn adaptive_intervals_follow_publications_and_the_feeds_own_freshness() {
    let server = TestServer::start();
    let hour = chrono::Duration::hours(1);
    let minute = chrono::Duration::minutes(1);
    // Hourly for the last nine hours: the newest ten span 9 h, so 54 min each.
    server.set(
        "/hourly.xml",
        Route::rss(feed_every("hourly", 12, hour, chrono::Duration::zero())),
    );
    // One entry a year: held at adaptive_max.
    server.set(
        "/yearly.xml",
        Route::rss(feed_every("yearly", 3, hour * 24 * 365, hour)),
    );
    // Every minute, but the feed asks for a three-hour <ttl>.
    let ttl = feed_every("ttl", 10, minute, minute).replace("<channel>", "<channel><ttl>180</ttl>");
    server.set("/ttl.xml", Route::rss(ttl));
    // Every minute, but the server says two hours (and later, on a 304, two and a half).
    let mut max_age = Route::rss(feed_every("max-age", 10, minute, minute)).with_etag("\"v1\"");
    max_age
        .headers
        .push(("cache-control".into(), "public, max-age=7200".into()));
    server.set("/max-age.xml", max_age.clone());
    // Every minute with nothing from the server: held at adaptive_min.
    server.set(
        "/busy.xml",
        Route::rss(feed_every("busy", 10, minute, minute)),
    );

    let feeds: String = ["hourly", "yearly", "ttl", "max-age", "busy"]
        .iter()
        .map(|name| feed_block(name, &server.url(&format!("/{name}.xml")), ""))
        .collect();
    let gleaner = Gleaner::new(&format!(
        "[schedule]\ndefault = \"adaptive\"\nadaptive_min = \"5m\"\nadaptive_max = \"12h\"\n\n{feeds}"
    ));
    gleaner.poll();
    let rows = gleaner.feeds();
    for row in rows.values() {
        assert_eq!(row["schedule"], "adaptive");
    }
    let interval = |name: &str| seconds(&rows[name], "poll_interval_secs");
    assert!(
        (3230..=3250).contains(&interval("hourly")),
        "{}",
        rows["hourly"]
    );
    assert_eq!(interval("yearly"), 12 * 3600);
    assert_eq!(interval("ttl"), 3 * 3600);
    assert_eq!(interval("max-age"), 2 * 3600);
    assert_eq!(interval("busy"), 5 * 60);
    // The next poll is set from the interval.
    for name in ["hourly", "yearly", "ttl", "max-age", "busy"] {
        let due = next_due_in(&rows[name]);
        assert!(
            (interval(name) - 60..=interval(name)).contains(&due),
            "{name}: next due in {due} s, interval {} s",
            interval(name)
        );
    }

    // A 304 carries the server's freshness too.
    max_age.headers.retain(|(name, _)| name != "cache-control");
    max_age
        .headers
        .push(("cache-control".into(), "max-age=9000".into()));
    server.set("/max-age.xml", max_age);
    gleaner.poll();
    let row = &gleaner.feeds()["max-age"];
    assert_eq!(row["state"], "not_modified");
    assert_eq!(seconds(row, "poll_interval_secs"), 9000);
}

#[test]
fn the_daemon_polls_an_adaptive_feed_when_due_and_not_before() {
    let server = TestServer::start();
    let minute = chrono::Duration::minutes(1);
    // Publishes every minute: due again after adaptive_min (1 s here).
    server.set(
        "/busy.xml",
        Route::rss(feed_every("busy", 10, minute, minute)),
    );
    // Publishes as often, but the server asks for an hour between fetches.
    let mut cached = Route::rss(feed_every("cached", 10, minute, minute));
    cached
        .headers
        .push(("cache-control".into(), "max-age=3600".into()));
    server.set("/cached.xml", cached);
    let gleaner = Gleaner::new(&format!(
        "[schedule]\nadaptive_min = \"1s\"\nadaptive_max = \"2s\"\n\n{}{}",
        feed_block("busy", &server.url("/busy.xml"), "schedule = \"adaptive\""),
        feed_block(
            "cached",
            &server.url("/cached.xml"),
            "schedule = \"adaptive\""
        ),
    ));
    let mut daemon = gleaner.daemon();
    wait_for(
        Duration::from_secs(15),
        "three polls of the busy feed",
        || server.requests("/busy.xml").len() >= 3,
    );
    daemon.kill().unwrap();
    daemon.wait().unwrap();

    let busy = server.requests("/busy.xml");
    for pair in busy.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= Duration::from_millis(900),
            "polled again after {gap:?}, before adaptive_min"
        );
    }
    assert_eq!(
        server.requests("/cached.xml").len(),
        1,
        "a feed fresh for an hour is polled once, at start-up"
    );
}
