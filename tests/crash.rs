//! `kill -9` at random moments while the daemon polls 100 feeds that gain
//! entries between kills: the database stays intact, nothing is stored
//! twice, every published entry ends up stored once, and a consumer that
//! exports between the kills receives every article exactly once.

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer};

const FEEDS: usize = 100;
const KILLS: usize = 20;

/// Feed `f` at generation `g` lists entries 0..=g (newest first).
fn publish(server: &TestServer, generation: usize) {
    for f in 0..FEEDS {
        let ids: Vec<String> = (0..=generation)
            .rev()
            .map(|e| format!("f{f}-e{e}"))
            .collect();
        let links: Vec<String> = (0..=generation)
            .rev()
            .map(|e| server.url(&format!("/a/{f}/{e}")))
            .collect();
        let items: Vec<Item<'_>> = ids
            .iter()
            .zip(&links)
            .map(|(id, link)| Item {
                guid: id,
                title: id,
                link,
                description: "Entry text from the feed.",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            })
            .collect();
        let route =
            Route::rss(rss(&format!("Feed {f}"), &items)).with_etag(&format!("\"g{generation}\""));
        server.set(&format!("/f{f}.xml"), route);
    }
}

/// A small deterministic generator (xorshift), so a failure can be replayed.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn kill_9_while_polling_loses_and_duplicates_nothing() {
    let server = TestServer::start();
    let feeds: String = (0..FEEDS)
        .map(|f| {
            format!(
                "[[feeds]]\nname = \"f{f}\"\nurl = \"{}\"\nschedule = \"* * * * * *\"\nfull_text = false\n",
                server.url(&format!("/f{f}.xml"))
            )
        })
        .collect();
    let gleaner = Gleaner::new(&feeds);
    let mut random = 0x9E37_79B9_7F4A_7C15u64;
    let mut received: Vec<String> = Vec::new();

    for generation in 0..KILLS {
        publish(&server, generation);
        let mut daemon = gleaner
            .command()
            .arg("run")
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Start-up and a pass over 100 feeds take a few hundred ms: most kills
        // land in the middle of the pass.
        std::thread::sleep(Duration::from_millis(30 + next_random(&mut random) % 300));
        daemon.kill().unwrap(); // SIGKILL
        daemon.wait().unwrap();

        let db = gleaner.db();
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "after kill {generation}");
        let (total, distinct): (i64, i64) = db
            .query_row(
                "SELECT count(*), count(DISTINCT url) FROM articles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(
            total, distinct,
            "an article was stored twice (after kill {generation})"
        );
        drop(db);

        let batch = gleaner.export(&["--consumer", "archive", "--format", "jsonl"]);
        received.extend(batch.iter().map(|a| a["id"].as_str().unwrap().to_owned()));
    }

    // A last, uninterrupted poll stores whatever the kills cut short.
    gleaner.poll();
    received.extend(
        gleaner
            .export(&["--consumer", "archive", "--format", "jsonl"])
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned()),
    );

    let published = FEEDS * KILLS;
    let stored: i64 = gleaner
        .db()
        .query_row("SELECT count(*) FROM articles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored as usize, published,
        "every published entry is stored once"
    );
    let unique: HashSet<&String> = received.iter().collect();
    assert_eq!(
        unique.len(),
        received.len(),
        "the consumer got an article twice"
    );
    assert_eq!(received.len(), published, "the consumer missed articles");
}
