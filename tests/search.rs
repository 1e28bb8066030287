//! `gleaner search`: full-text search (SQLite FTS5, PostgreSQL tsvector)
//! over stored titles and text, ranked with title matches first, kept in
//! step with updates in place.

mod common;

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block};

fn feed(items: &[(&str, &str, &str)]) -> String {
    let items: Vec<Item<'_>> = items
        .iter()
        .map(|(guid, title, text)| Item {
            guid,
            title,
            link: guid,
            description: text,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    rss("F", &items)
}

fn search(gleaner: &Gleaner, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["search", "--format", "json"];
    all.extend_from_slice(args);
    let output = gleaner.ok(&all);
    serde_json::from_slice::<Vec<serde_json::Value>>(&output.stdout).expect("a JSON array")
}

fn titles(hits: &[serde_json::Value]) -> Vec<&str> {
    hits.iter().map(|h| h["title"].as_str().unwrap()).collect()
}

#[test]
fn search_ranks_title_matches_first_and_follows_updates() {
    let server = TestServer::start();
    let filler = "The council met on Thursday and talked for a long time about roads, \
                  schools, parking and the budget for next year.";
    let in_text = format!("{filler} The reservoir was mentioned once, near the end.");
    let twice = format!("{filler} Reservoir levels fell; the reservoir is half empty.");
    server.set(
        "/a.xml",
        Route::rss(feed(&[
            (
                "https://news.example/1",
                "Reservoir opens to swimmers",
                filler,
            ),
            ("https://news.example/2", "Council news", &in_text),
        ])),
    );
    server.set(
        "/b.xml",
        Route::rss(feed(&[
            ("https://other.example/3", "Dry summer", &twice),
            ("https://other.example/4", "Unrelated story", filler),
        ])),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("local", &server.url("/a.xml"), "full_text = false"),
        feed_block("regional", &server.url("/b.xml"), "full_text = false"),
    ));
    gleaner.poll();

    let hits = search(&gleaner, &["reservoir"]);
    assert_eq!(
        titles(&hits),
        ["Reservoir opens to swimmers", "Dry summer", "Council news"],
        "a title match first, then more mentions before fewer"
    );
    assert_eq!(hits[1]["feeds"], serde_json::json!(["regional"]));
    assert_eq!(hits[1]["url"], "https://other.example/3");
    let snippet = hits[1]["snippet"].as_str().unwrap();
    assert!(snippet.contains("[reservoir]"), "{snippet}");
    // A match in the title alone shows the start of the text, not the title.
    let title_only = hits[0]["snippet"].as_str().unwrap();
    assert!(
        title_only.starts_with("The council met on Thursday"),
        "{title_only}"
    );
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // A reader that stops early (`search … | head`) is not an error.
    let mut child = gleaner
        .command()
        .args(["search", "reservoir"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(output.stderr.is_empty(), "{output:?}");

    // Every word must appear; a prefix matches; --limit cuts.
    assert_eq!(
        titles(&search(&gleaner, &["reservoir", "swimmers"])),
        ["Reservoir opens to swimmers"]
    );
    assert_eq!(search(&gleaner, &["reserv*"]).len(), 3);
    assert_eq!(search(&gleaner, &["reservoir", "--limit", "1"]).len(), 1);
    // Query syntax typed by a person never makes the command fail.
    assert!(search(&gleaner, &["C++", "\"reservoir", "AND", "NEAR("]).is_empty());
    assert!(search(&gleaner, &["--", "-"]).is_empty());
    // Nor does PostgreSQL's tsquery syntax: its operators are punctuation
    // like any other, around words that still count.
    assert_eq!(
        titles(&search(
            &gleaner,
            &["!reservoir", "|", "(swimmers:)", "&", "<->"]
        )),
        ["Reservoir opens to swimmers"]
    );
    assert!(search(&gleaner, &["reservoir's", "a\\b:*", "'"]).is_empty());

    // An entry updated in place is found by its new text, not its old one.
    server.set(
        "/b.xml",
        Route::rss(feed(&[
            (
                "https://other.example/3",
                "Dry summer",
                &format!("{filler} The lake is full again."),
            ),
            ("https://other.example/4", "Unrelated story", filler),
        ])),
    );
    gleaner.poll();
    assert_eq!(
        titles(&search(&gleaner, &["reservoir"])),
        ["Reservoir opens to swimmers", "Council news"]
    );
    assert_eq!(titles(&search(&gleaner, &["lake"])), ["Dry summer"]);

    // The table names the match, its feed and URL.
    let table = String::from_utf8(gleaner.ok(&["search", "lake"]).stdout).unwrap();
    assert!(
        table.starts_with(" 1. Dry summer  2026-11-23  [regional]"),
        "{table}"
    );
    assert!(table.contains("https://other.example/3"), "{table}");
    assert!(table.contains("[lake]"), "{table}");
}

#[test]
fn words_are_split_at_punctuation_on_both_backends() {
    let server = TestServer::start();
    let text = "Read the report at www.example.com, or write to desk@paper.org \
                about the state-of-the-art dam.";
    server.set(
        "/a.xml",
        Route::rss(feed(&[
            ("https://news.example/1", "The dam report", text),
            ("https://news.example/2", "Weather", "Rain, then sun."),
        ])),
    );
    let gleaner = Gleaner::new(&feed_block(
        "local",
        &server.url("/a.xml"),
        "full_text = false",
    ));
    gleaner.poll();
    // A host name, an address and a hyphenated word are words apart, as
    // SQLite's tokenizer reads them; typed whole, they are a phrase.
    for typed in [
        "example",
        "paper",
        "art",
        "state",
        "www.example.com",
        "desk@paper.org",
        "state-of-the-art",
    ] {
        assert_eq!(
            titles(&search(&gleaner, &[typed])),
            ["The dam report"],
            "{typed}"
        );
    }
    // A phrase is its words in order, not merely all of them.
    assert!(search(&gleaner, &["com.example"]).is_empty());
}

#[test]
fn a_hit_shows_the_url_export_shows_without_tracking_parameters() {
    let server = TestServer::start();
    server.set(
        "/a.xml",
        Route::rss(feed(&[(
            "https://news.example/1?id=7&utm_source=rss&utm_medium=feed",
            "Harbour reopens",
            "The harbour reopened on Monday.",
        )])),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/a.xml"), "full_text = false"));
    gleaner.poll();
    let exported = gleaner.export(&[]);
    assert_eq!(exported[0]["url"], "https://news.example/1?id=7");
    let hits = search(&gleaner, &["harbour"]);
    assert_eq!(hits[0]["url"], exported[0]["url"]);
    let table = String::from_utf8(gleaner.ok(&["search", "harbour"]).stdout).unwrap();
    assert!(!table.contains("utm_"), "{table}");
}

#[test]
fn search_filters_by_feed_tag_and_time_and_dates_a_hit_by_its_update() {
    let server = TestServer::start();
    server.set(
        "/a.xml",
        Route::rss(feed(&[(
            "https://a.example/1",
            "Harbour news from A",
            "The harbour reopened.",
        )])),
    );
    // An Atom entry with an update time and no publication time.
    server.set(
        "/b.xml",
        Route::new(
            200,
            "application/atom+xml",
            r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>B</title><id>urn:b</id><updated>2026-11-20T10:00:00Z</updated>
<entry><id>urn:b:1</id><title>Harbour news from B</title><link href="https://b.example/1"/><updated>2026-11-20T10:00:00Z</updated><content>The harbour closed.</content></entry></feed>"#,
        ),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block(
            "a",
            &server.url("/a.xml"),
            "full_text = false\ntags = [\"port\"]"
        ),
        feed_block("b", &server.url("/b.xml"), "full_text = false"),
    ));
    gleaner.poll();
    assert_eq!(search(&gleaner, &["harbour"]).len(), 2);
    assert_eq!(
        titles(&search(&gleaner, &["harbour", "--feed", "b"])),
        ["Harbour news from B"]
    );
    assert_eq!(
        titles(&search(&gleaner, &["harbour", "--tag", "port"])),
        ["Harbour news from A"]
    );
    assert_eq!(search(&gleaner, &["harbour", "--since", "1h"]).len(), 2);
    assert!(search(&gleaner, &["harbour", "--since", "2999-01-01"]).is_empty());
    let table =
        String::from_utf8(gleaner.ok(&["search", "harbour", "--feed", "b"]).stdout).unwrap();
    assert!(
        table.starts_with(" 1. Harbour news from B  2026-11-20  [b]"),
        "{table}"
    );
}

/// SQLite indexes the articles a transaction stored when it commits: an
/// article stored and then changed in one poll (its entry listed twice with
/// another text) is found by the text it was left with, and the index stays
/// consistent with the table (FTS5's own integrity check, which a delete of
/// what the index never held fails).
#[test]
fn an_article_changed_in_the_poll_that_stored_it_is_found_by_its_last_text() {
    let server = TestServer::start();
    let filler = "The harbour board met on Monday and read the minutes of the last \
                  meeting before it turned to the tides, the cranes and the ferries.";
    let first = format!("{filler} Pelicans nested on the old pier.");
    let second = format!("{filler} Cormorants nested on the old pier.");
    server.set(
        "/a.xml",
        Route::rss(feed(&[
            ("https://port.example/1", "Harbour birds", &first),
            ("https://port.example/2", "Harbour board", filler),
            ("https://port.example/1", "Harbour birds", &second),
        ])),
    );
    let gleaner = Gleaner::new(&feed_block(
        "port",
        &server.url("/a.xml"),
        "full_text = false",
    ));
    gleaner.poll();

    let exported = gleaner.export(&[]);
    let stored = exported
        .iter()
        .find(|a| a["title"] == "Harbour birds")
        .and_then(|a| a["content_text"].as_str())
        .expect("the article is exported with its text");
    let (kept, other) = if stored.contains("Cormorants") {
        ("cormorants", "pelicans")
    } else {
        ("pelicans", "cormorants")
    };
    assert_eq!(titles(&search(&gleaner, &[kept])), ["Harbour birds"]);
    assert!(search(&gleaner, &[other]).is_empty());
    assert_eq!(search(&gleaner, &["harbour"]).len(), 2);
    if common::postgres::backend_is_postgres() {
        return;
    }
    let db = gleaner.db();
    db.execute(
        "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)",
        [],
    )
    .expect("the search index matches the articles");
    let pending: i64 = db
        .query_row("SELECT count(*) FROM articles_fts_pending", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(pending, 0, "every committed article is indexed");
}
