//! Consumers whose selection (`--feed`, `--tag`, a `[[deliver]]` block's
//! `feeds`/`tags`) an already stored article enters later, when another
//! feed's sighting of it adds a source and that feed's tags: each such
//! consumer gets the article exactly once, the first time it enters.
//! Runs on both backends (`GLEANER_TEST_BACKEND=postgres`).

mod common;

use std::time::Duration;

use common::pages::{Item, rss};
use common::{Gleaner, Received, Route, TestServer, feed_block, signal, wait_exit, wait_for};
use serde_json::Value;

/// Feeds `a` (tag `a`) and `b` (tag `b`) at `/a.xml` and `/b.xml`, each
/// listing the one page `/story` under an entry id of its own; `extra` is
/// appended to the config.
fn two_feeds_one_story(server: &TestServer, extra: &str) -> Gleaner {
    let link = server.url("/story");
    for (path, title, guid) in [("/a.xml", "A", "a-1"), ("/b.xml", "B", "b-1")] {
        let item = Item {
            guid,
            title: "The story",
            link: &link,
            description: "The story both feeds carry, told in the feed itself.",
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        };
        server.set(path, Route::rss(rss(title, &[item])));
    }
    let feeds = [
        feed_block(
            "a",
            &server.url("/a.xml"),
            "full_text = false\ntags = [\"a\"]\nschedule = \"0 0 0 1 1 *\"",
        ),
        feed_block(
            "b",
            &server.url("/b.xml"),
            "full_text = false\ntags = [\"b\"]\nschedule = \"0 0 0 1 1 *\"",
        ),
        extra.to_owned(),
    ]
    .concat();
    Gleaner::new(&feeds)
}

fn strings(value: &Value) -> Vec<&str> {
    let mut all: Vec<&str> = value
        .as_array()
        .expect("an array")
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect();
    all.sort_unstable();
    all
}

fn source_feeds(article: &Value) -> Vec<&str> {
    let mut feeds: Vec<&str> = article["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| s["feed"].as_str().expect("a feed name"))
        .collect();
    feeds.sort_unstable();
    feeds
}

#[test]
fn a_consumer_whose_tag_an_article_gains_later_gets_it_once() {
    let server = TestServer::start();
    let gleaner = two_feeds_one_story(&server, "");

    gleaner.ok(&["poll", "--feed", "a"]);
    let everything = gleaner.export(&["--consumer", "all"]);
    assert_eq!(everything.len(), 1);
    assert!(
        gleaner
            .export(&["--consumer", "cb", "--tag", "b"])
            .is_empty()
    );
    assert!(
        gleaner
            .export(&["--consumer", "fb", "--feed", "b"])
            .is_empty()
    );
    let either = gleaner.export(&["--consumer", "cab", "--tag", "a", "--tag", "b"]);
    assert_eq!(either.len(), 1, "tag a selects it already");

    gleaner.ok(&["poll", "--feed", "b"]);

    // The merge added feed b's source and its tag.
    let tagged_b = gleaner.export(&["--tag", "b"]);
    assert_eq!(tagged_b.len(), 1, "export --tag b: {tagged_b:#?}");
    assert_eq!(strings(&tagged_b[0]["tags"]), ["a", "b"]);
    assert_eq!(source_feeds(&tagged_b[0]), ["a", "b"]);

    // Consumers the article entered now get it, once, as the same article.
    let by_tag = gleaner.export(&["--consumer", "cb", "--tag", "b"]);
    assert_eq!(by_tag.len(), 1, "{by_tag:#?}");
    assert_eq!(by_tag[0]["id"], everything[0]["id"]);
    assert!(
        gleaner
            .export(&["--consumer", "cb", "--tag", "b"])
            .is_empty()
    );
    let by_feed = gleaner.export(&["--consumer", "fb", "--feed", "b"]);
    assert_eq!(by_feed.len(), 1, "{by_feed:#?}");
    assert!(
        gleaner
            .export(&["--consumer", "fb", "--feed", "b"])
            .is_empty()
    );

    // Consumers that had it already get nothing new: a merge re-delivers
    // to nobody.
    assert!(gleaner.export(&["--consumer", "all"]).is_empty());
    assert!(
        gleaner
            .export(&["--consumer", "cab", "--tag", "a", "--tag", "b"])
            .is_empty()
    );
    // A new consumer of either selection gets it once too.
    assert_eq!(
        gleaner.export(&["--consumer", "late", "--tag", "b"]).len(),
        1
    );
    assert!(
        gleaner
            .export(&["--consumer", "late", "--tag", "b"])
            .is_empty()
    );
}

#[test]
fn a_limited_consumer_gets_an_entering_article_in_the_order_it_entered() {
    let server = TestServer::start();
    let gleaner = two_feeds_one_story(&server, "");
    gleaner.ok(&["poll", "--feed", "a"]);
    assert!(
        gleaner
            .export(&["--consumer", "cb", "--tag", "b"])
            .is_empty()
    );
    gleaner.ok(&["poll", "--feed", "b"]);
    // A later article of feed b alone, stored after the merge.
    let later = Item {
        guid: "b-2",
        title: "Later",
        link: &server.url("/later"),
        description: "Only feed b carries this one.",
        pub_date: "Tue, 24 Nov 2026 08:00:00 GMT",
    };
    let first = Item {
        guid: "b-1",
        title: "The story",
        link: &server.url("/story"),
        description: "The story both feeds carry, told in the feed itself.",
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    };
    server.set("/b.xml", Route::rss(rss("B", &[later, first])));
    gleaner.ok(&["poll", "--feed", "b"]);

    let one = gleaner.export(&["--consumer", "cb", "--tag", "b", "--limit", "1"]);
    let two = gleaner.export(&["--consumer", "cb", "--tag", "b", "--limit", "1"]);
    let titles: Vec<&str> = one
        .iter()
        .chain(&two)
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["The story", "Later"]);
    assert!(
        gleaner
            .export(&["--consumer", "cb", "--tag", "b"])
            .is_empty()
    );
}

/// The ids of a webhook POST's articles.
fn posted_ids(request: &Received) -> Vec<String> {
    let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
    body["articles"]
        .as_array()
        .expect("an articles array")
        .iter()
        .map(|a| a["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// A running `gleaner run`, killed if the test fails before stopping it.
struct Daemon(std::process::Child);

impl Daemon {
    fn stop(mut self) {
        signal(&self.0, libc::SIGTERM);
        assert!(wait_exit(&mut self.0, Duration::from_secs(20)).success());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn delivery_state(gleaner: &Gleaner) -> Value {
    let output = gleaner.ok(&["deliveries", "--json"]);
    serde_json::from_slice::<Value>(&output.stdout).expect("JSON")[0].clone()
}

#[test]
fn a_deliver_block_by_tag_gets_an_article_that_enters_its_selection_once() {
    let server = TestServer::start();
    server.set("/hook", Route::new(204, "text/plain", ""));
    let deliver = format!(
        "[[deliver]]\nname = \"hook\"\nwebhook = \"{}\"\ntags = [\"b\"]\n",
        server.url("/hook")
    );
    let gleaner = two_feeds_one_story(&server, &deliver);
    gleaner.edit_config(
        "per_host_interval_ms = 0\n",
        "per_host_interval_ms = 0\nallow_private_networks = true\n",
    );
    // Feed b is not configured yet: the daemon stores the story from a
    // alone, and the block (tag b) passes it by.
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    let b_block = feed_block(
        "b",
        &server.url("/b.xml"),
        "full_text = false\ntags = [\"b\"]\nschedule = \"0 0 0 1 1 *\"",
    );
    gleaner.edit_config(&b_block, "");
    let mut daemon = gleaner.daemon();
    wait_for(
        Duration::from_secs(30),
        "the block's cursor to move",
        || gleaner.database_exists() && delivery_state(&gleaner)["cursor"].as_i64() > Some(0),
    );
    signal(&daemon, libc::SIGTERM);
    assert!(wait_exit(&mut daemon, Duration::from_secs(20)).success());
    assert!(server.requests("/hook").is_empty());

    // With feed b, the story gains tag b: the block gets it, once.
    std::fs::write(gleaner.config_path(), config).unwrap();
    let daemon = Daemon(gleaner.daemon());
    wait_for(Duration::from_secs(30), "a POST", || {
        !server.requests("/hook").is_empty()
    });
    wait_for(Duration::from_secs(10), "the cursor", || {
        delivery_state(&gleaner)["pending"] == 0
    });
    daemon.stop();
    let requests = server.requests("/hook");
    assert_eq!(requests.len(), 1);
    let stored = gleaner.export(&["--tag", "b"]);
    assert_eq!(
        posted_ids(&requests[0]),
        [stored[0]["id"].as_str().unwrap()]
    );
}
