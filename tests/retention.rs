//! Retention: `[storage] keep_days` and `max_articles_per_feed`, applied by
//! `gleaner gc` (and daily by the daemon). A purged article leaves a
//! tombstone: its feed still lists it, and it never comes back as new.

mod common;

use common::pages::{article_page, rss_entries, story};
use common::{Gleaner, Route, TestServer, feed_block};

fn publish(server: &TestServer, count: usize, text: &str) {
    let entries: Vec<(String, String, String)> = (0..count)
        .map(|i| {
            (
                format!("id-{i}"),
                server.url(&format!("/s{i}")),
                text.to_owned(),
            )
        })
        .collect();
    server.set("/feed.xml", Route::rss(rss_entries("F", &entries)));
    for i in 0..count {
        server.set(
            &format!("/s{i}"),
            Route::html(article_page("S", &story(&format!("lighthouse {i}")), "")),
        );
    }
}

fn page_requests(server: &TestServer) -> usize {
    server
        .all_requests()
        .iter()
        .filter(|r| r.path.starts_with("/s"))
        .count()
}

fn ids(articles: &[serde_json::Value]) -> Vec<&str> {
    articles.iter().map(|a| a["id"].as_str().unwrap()).collect()
}

#[test]
fn purged_articles_are_gone_from_exports_and_never_come_back() {
    let server = TestServer::start();
    publish(&server, 5, "teaser");
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config(
        "[storage]\n",
        "[storage]\nkeep_days = 30\nmax_articles_per_feed = 3\n",
    );
    gleaner.poll();
    let all = gleaner.export(&[]);
    assert_eq!(all.len(), 5);
    // The first article was stored 40 days ago (set by hand: the test cannot wait).
    gleaner.sql("UPDATE articles SET fetched_at = '2000-01-01T00:00:00Z' WHERE seq = 1");

    let said = String::from_utf8(gleaner.ok(&["gc"]).stdout).unwrap();
    assert_eq!(
        said.trim(),
        "purged 2 articles (1 older than 30 days, 1 beyond 3 per feed)"
    );
    let kept = gleaner.export(&[]);
    assert_eq!(ids(&kept), ids(&all)[2..], "the two oldest are gone");
    let search = gleaner.ok(&["search", "--format", "json", "lighthouse"]);
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&search.stdout).unwrap();
    assert_eq!(hits.len(), 3, "purged text is not searchable");
    assert_eq!(gleaner.feeds()["f"]["articles"], 3);

    // The feed still lists them, even changed: nothing is stored or fetched again.
    let pages = page_requests(&server);
    publish(&server, 5, "a rewritten teaser");
    let output = gleaner.poll();
    assert!(output.contains("0 new articles"), "{output}");
    assert_eq!(
        page_requests(&server),
        pages,
        "changed entries whose links did not change keep their pages"
    );
    let changed = gleaner.export(&[]);
    assert_eq!(ids(&changed), ids(&all)[2..]);
    assert!(
        changed.iter().all(|a| a["summary"] == "a rewritten teaser"),
        "the kept ones take the feed's new teaser"
    );
    let consumer = gleaner.export(&["--consumer", "late"]);
    assert_eq!(ids(&consumer), ids(&all)[2..]);

    // Running gc again purges nothing more.
    let said = String::from_utf8(gleaner.ok(&["gc", "--vacuum"]).stdout).unwrap();
    assert!(said.starts_with("purged 0 articles"), "{said}");
    assert!(said.contains("vacuumed"), "{said}");
    if gleaner.postgres.is_none() {
        // SQLite rewrote its file: still a sound database.
        let check: String = gleaner
            .db()
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
    }
    assert_eq!(
        ids(&gleaner.export(&[])),
        ids(&all)[2..],
        "vacuum kept what gc kept"
    );
}

#[test]
fn zero_retention_is_a_config_error_and_none_keeps_everything() {
    let gleaner = Gleaner::new("");
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_days = 0\n");
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("[storage].keep_days = 0 is out of range")
    );
    gleaner.edit_config("keep_days = 0\n", "");
    // gc needs a database: a poll (of no feed) creates it.
    gleaner.poll();
    let said = String::from_utf8(gleaner.ok(&["gc"]).stdout).unwrap();
    assert!(said.starts_with("nothing to purge"), "{said}");
}
