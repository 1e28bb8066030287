//! Near-duplicate merging (issue 26): one story published twice with small
//! changes is one article with two sources, on SQLite and (with
//! `GLEANER_TEST_BACKEND=postgres`) PostgreSQL; what is not the same story
//! stays apart. The feeds are served by a local server and carry the texts
//! themselves (`full_text = false`), their links on made-up hosts.

mod common;

use common::pages::{article_page, rss};
use common::{Gleaner, Route, TestServer, feed_block, free_port, get, sample, wait_for};
use gleaner::near_dup::INDEXED_BLOCKS as INDEXED;

/// A made-up news story, six paragraphs (about 300 words).
fn story() -> Vec<String> {
    [
        "The harbour authority confirmed on Monday that the old swing bridge over the eastern basin will close for eighteen months while engineers replace its rusted turning gear and strengthen the piers that have carried traffic since the nineteen twenties.",
        "Ferry operators said the closure would add twenty minutes to the crossing for most commuters, and several shop owners on the quay warned that fewer visitors would find their way to the waterfront during the long works.",
        "The authority's chief engineer, Tomas Brandt, told reporters that divers had found deep cracks in two of the four piers last winter and that the bridge could not safely open for ships much longer without a complete overhaul.",
        "A temporary footbridge for pedestrians and cyclists is planned for the spring, and a shuttle bus will run every ten minutes between the railway station and the fish market while the main road stays closed to cars.",
        "Residents who attended an evening meeting at the maritime museum asked why the repairs had been postponed three times since the first inspection, and several demanded compensation for the businesses on the eastern quay.",
        "The council will vote next month on a grant to cover part of the cost, which the authority now estimates at forty two million, nearly double the figure given when the project was first announced four years ago.",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// The story as a wire service republishes it: a credit line, another
/// byline, the same paragraphs.
fn syndicated() -> Vec<String> {
    let mut text = vec![
        "By Maria Lindqvist, Northern Wire correspondent in the port city".to_owned(),
        "This story was first published by the Harbour Gazette and is republished here under a content sharing agreement with the newspaper.".to_owned(),
    ];
    text.extend(story());
    text
}

/// The story edited after publication: one sentence reworded, the last
/// paragraph dropped.
fn edited() -> Vec<String> {
    let mut text = story();
    text[1] = "Ferry operators warned that the closure would add about twenty minutes to the crossing for most commuters, and several shop owners on the quay warned that fewer visitors would find their way to the waterfront during the long works.".to_owned();
    text.pop();
    text
}

/// A feed of `(id, link, paragraphs)` entries, each paragraph its own `<p>`.
fn feed(title: &str, entries: &[(&str, &str, Vec<String>)]) -> String {
    let html: Vec<String> = entries
        .iter()
        .map(|(_, _, paragraphs)| paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect())
        .collect();
    let items: Vec<common::pages::Item<'_>> = entries
        .iter()
        .zip(&html)
        .map(|((id, link, _), html)| common::pages::Item {
            guid: id,
            title: id,
            link,
            description: html,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    rss(title, &items)
}

/// `[[feeds]]` blocks for the server's `paths`, by the same names, full
/// text off (the feed's text is the article).
fn feeds(server: &TestServer, paths: &[&str]) -> String {
    paths
        .iter()
        .map(|p| feed_block(p, &server.url(&format!("/{p}")), "full_text = false"))
        .collect()
}

/// Polls the feeds `paths` one after another (each poll adds one), so the
/// first is stored first.
fn poll_in_turn(gleaner: &Gleaner, server: &TestServer, paths: &[&str], extra: &str) {
    for n in 1..=paths.len() {
        gleaner.write_config(&format!("{extra}{}", feeds(server, &paths[..n])));
        gleaner.poll();
    }
}

fn sources(article: &serde_json::Value) -> Vec<&str> {
    let mut feeds: Vec<&str> = article["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["feed"].as_str().unwrap())
        .collect();
    feeds.sort_unstable();
    feeds
}

fn count(gleaner: &Gleaner, table: &str) -> i64 {
    gleaner
        .sql(&format!("SELECT count(*) FROM {table}"))
        .unwrap()
}

#[test]
fn a_syndicated_copy_on_another_host_is_another_source_of_the_story() {
    let server = TestServer::start();
    let original = ("gazette-1", "https://gazette.example/2026/bridge", story());
    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    server.set("/gazette", Route::rss(feed("Gazette", &[original])));
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    let gleaner = Gleaner::new("");
    poll_in_turn(&gleaner, &server, &["gazette", "wire"], "");

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:#?}");
    assert_eq!(sources(&articles[0]), ["gazette", "wire"]);
    assert_eq!(
        articles[0]["title"], "gazette-1",
        "the first stays the article"
    );
    let feeds = gleaner.feeds();
    assert_eq!(feeds["wire"]["near_duplicates"], 1);
    assert_eq!(feeds["gazette"]["near_duplicates"], 0);
    // One hit per story.
    let hits: Vec<serde_json::Value> = serde_json::from_slice(
        &gleaner
            .ok(&["search", "--format", "json", "footbridge"])
            .stdout,
    )
    .unwrap();
    assert_eq!(hits.len(), 1, "{hits:#?}");
}

#[test]
fn an_edited_copy_under_a_new_url_is_merged() {
    let server = TestServer::start();
    let original = ("news-1", "https://gazette.example/2026/bridge", story());
    let copy = (
        "city-9",
        "https://gazette.example/city/bridge-closure-updated",
        edited(),
    );
    server.set("/news", Route::rss(feed("News", &[original])));
    server.set("/city", Route::rss(feed("City", &[copy])));
    let gleaner = Gleaner::new("");
    poll_in_turn(&gleaner, &server, &["news", "city"], "");

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:#?}");
    assert_eq!(sources(&articles[0]), ["city", "news"]);
}

/// Another story written from the story's template: the same sentences,
/// another place, name or number in each (as earnings notes, results or
/// council reports of one site are).
fn templated() -> Vec<String> {
    let swaps = [
        ("eastern basin", "northern basin"),
        ("twenty minutes", "thirty minutes"),
        ("Tomas Brandt", "Greta Holm"),
        ("ten minutes", "fifteen minutes"),
        ("maritime museum", "town library"),
        ("forty two million", "thirty six million"),
    ];
    story()
        .into_iter()
        .zip(swaps)
        .map(|(paragraph, (from, to))| {
            assert!(paragraph.contains(from), "{from}");
            paragraph.replacen(from, to, 1)
        })
        .collect()
}

/// Two stories from one template on one host under two URLs are two
/// articles, though most of their five-word runs are the same; a light edit
/// of the first under a third URL is still merged into it.
#[test]
fn templated_stories_stay_apart_and_a_light_edit_still_merges() {
    let server = TestServer::start();
    let first = ("news-1", "https://gazette.example/2026/bridge", story());
    let other = (
        "news-2",
        "https://gazette.example/2026/other-bridge",
        templated(),
    );
    let edit = (
        "city-9",
        "https://gazette.example/city/bridge-closure-updated",
        edited(),
    );
    server.set("/news", Route::rss(feed("News", &[first])));
    server.set("/other", Route::rss(feed("Other", &[other])));
    server.set("/city", Route::rss(feed("City", &[edit])));
    let gleaner = Gleaner::new("");
    poll_in_turn(&gleaner, &server, &["news", "other", "city"], "");

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2, "{articles:#?}");
    let mut found: Vec<Vec<&str>> = articles.iter().map(sources).collect();
    found.sort();
    assert_eq!(found, [vec!["city", "news"], vec!["other"]]);
    let feeds = gleaner.feeds();
    assert_eq!(feeds["other"]["near_duplicates"], 0);
    assert_eq!(feeds["city"]["near_duplicates"], 1);
}

/// A company's press releases: each a little news and the same long
/// "About" paragraph.
const ABOUT: &str = "About Brightwater Instruments: Brightwater Instruments designs and manufactures precision measuring equipment for laboratories, water utilities and environmental agencies in more than forty countries. Founded in nineteen eighty eight by two university physicists, the company employs eleven hundred people at its headquarters and three production sites, and invests about a tenth of its revenue in research and development every year. Its sensors monitor drinking water for millions of households, and its field stations record river levels, rainfall and soil moisture for flood warning services on four continents. The company is listed on the regional stock exchange and has been recognised repeatedly as one of the best employers in its industry.";

fn release(news: &[&str]) -> Vec<String> {
    let mut text: Vec<String> = news.iter().map(|p| (*p).to_owned()).collect();
    text.push(ABOUT.to_owned());
    text
}

#[test]
fn short_releases_sharing_a_long_about_paragraph_stay_apart() {
    let server = TestServer::start();
    let first_news = [
        "Brightwater Instruments today opened a new calibration centre in the northern industrial park, doubling the number of sensors it can certify each month for utilities and research laboratories across the region.",
        "The centre employs sixty technicians and was built in fourteen months; it runs entirely on electricity from the solar roof and the heat pumps installed beside the loading bays.",
    ];
    let first = (
        "acme-1",
        "https://brightwater.example/news/centre",
        release(&first_news),
    );
    let second = (
        "acme-2",
        "https://brightwater.example/news/results",
        release(&[
            "Brightwater Instruments reported third quarter revenue of two hundred and ten million, up nine percent on the year, driven by strong orders from water utilities in the south.",
        ]),
    );
    // Other news, the same About: no copy of either.
    let third = (
        "products-5",
        "https://brightwater.example/products/probe",
        release(&[
            "Brightwater Instruments launched a pocket probe for nitrate levels in well water, priced for farmers and small rural utilities.",
        ]),
    );
    // A real copy of the first release, one sentence reworded.
    let mut reworded = first_news.map(str::to_owned).to_vec();
    reworded[1] = "The centre employs sixty technicians and was completed in fourteen months; it runs entirely on electricity from the solar roof and the heat pumps installed beside the loading bays.".to_owned();
    reworded.push(ABOUT.to_owned());
    let copy = (
        "products-6",
        "https://brightwater.example/products/centre",
        reworded,
    );
    server.set("/newsroom", Route::rss(feed("Newsroom", &[first, second])));
    server.set("/products", Route::rss(feed("Products", &[third, copy])));
    let gleaner = Gleaner::new("");
    poll_in_turn(&gleaner, &server, &["newsroom", "products"], "");

    let articles = gleaner.export(&[]);
    let mut titles: Vec<(&str, Vec<&str>)> = articles
        .iter()
        .map(|a| (a["title"].as_str().unwrap(), sources(a)))
        .collect();
    titles.sort_unstable();
    assert_eq!(
        titles,
        [
            ("acme-1", vec!["newsroom", "products"]),
            ("acme-2", vec!["newsroom"]),
            ("products-5", vec!["products"]),
        ]
    );
    assert_eq!(gleaner.feeds()["products"]["near_duplicates"], 1);
}

#[test]
fn two_entries_of_one_feed_with_distinct_ids_stay_apart() {
    let server = TestServer::start();
    // The feed gives the story twice, under two ids: it says they differ.
    let first = ("gazette-1", "https://gazette.example/2026/bridge", story());
    let second = (
        "gazette-2",
        "https://gazette.example/2026/bridge-2",
        edited(),
    );
    server.set("/gazette", Route::rss(feed("Gazette", &[first, second])));
    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    let gleaner = Gleaner::new("");
    poll_in_turn(&gleaner, &server, &["gazette", "wire"], "");

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2, "{articles:#?}");
    let mut all: Vec<Vec<&str>> = articles.iter().map(sources).collect();
    all.sort_unstable();
    // The other feed's copy joins one of them.
    assert_eq!(all, [vec!["gazette"], vec!["gazette", "wire"]]);
}

#[test]
fn a_consumer_who_got_the_first_copy_gets_nothing_more() {
    let server = TestServer::start();
    let original = ("gazette-1", "https://gazette.example/2026/bridge", story());
    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    server.set("/gazette", Route::rss(feed("Gazette", &[original])));
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    let gleaner = Gleaner::new("");
    gleaner.write_config(&feeds(&server, &["gazette"]));
    gleaner.poll();
    let first = gleaner.export(&["--consumer", "reader"]);
    assert_eq!(first.len(), 1);

    gleaner.write_config(&feeds(&server, &["gazette", "wire"]));
    gleaner.poll();
    let more = gleaner.export(&["--consumer", "reader"]);
    assert!(more.is_empty(), "{more:#?}");
    let all = gleaner.export(&[]);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], first[0]["id"]);
    assert_eq!(sources(&all[0]), ["gazette", "wire"]);
}

#[test]
fn the_switch_and_the_threshold_decide() {
    let server = TestServer::start();
    let original = ("news-1", "https://gazette.example/2026/bridge", story());
    let copy = ("city-9", "https://gazette.example/city/bridge-2", edited());
    server.set("/news", Route::rss(feed("News", &[original])));
    server.set("/city", Route::rss(feed("City", &[copy])));
    let articles = |dedup: &str| {
        let gleaner = Gleaner::new("");
        poll_in_turn(&gleaner, &server, &["news", "city"], dedup);
        gleaner.export(&[]).len()
    };
    assert_eq!(articles(""), 1, "on by default");
    assert_eq!(articles("[dedup]\nnear_duplicates = false\n"), 2);
    // The edited copy has text the first lacks: not all of it is there.
    assert_eq!(articles("[dedup]\nsimilarity = 1.0\n"), 2);
    assert_eq!(articles("[dedup]\nsimilarity = 0.8\n"), 1);
}

#[test]
fn gc_drops_the_index_rows_with_the_article() {
    let server = TestServer::start();
    let original = ("gazette-1", "https://gazette.example/2026/bridge", story());
    server.set("/gazette", Route::rss(feed("Gazette", &[original])));
    let gleaner = Gleaner::new("");
    gleaner.write_config(&feeds(&server, &["gazette"]));
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_days = 30\n");
    gleaner.poll();
    assert_eq!(count(&gleaner, "near_dup_sketches"), 1);
    assert_eq!(count(&gleaner, "near_dup_blocks"), INDEXED as i64);

    gleaner.sql("UPDATE articles SET fetched_at = '2000-01-01T00:00:00Z'");
    gleaner.ok(&["gc"]);
    for table in ["near_dup_sketches", "near_dup_blocks"] {
        assert_eq!(count(&gleaner, table), 0, "{table}");
    }
    // A copy arriving now is not merged into the purged article.
    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    gleaner.write_config(&feeds(&server, &["gazette", "wire"]));
    gleaner.poll();
    assert_eq!(gleaner.export(&[]).len(), 1, "the copy is stored as new");
}

#[test]
fn the_daemon_counts_near_duplicate_merges_in_metrics() {
    let server = TestServer::start();
    let original = ("gazette-1", "https://gazette.example/2026/bridge", story());
    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    server.set("/gazette", Route::rss(feed("Gazette", &[original])));
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    let port = free_port();
    let gleaner = Gleaner::new(&format!(
        "[metrics]\nlisten = \"127.0.0.1:{port}\"\n\n{}",
        feeds(&server, &["gazette", "wire"])
    ));
    let mut daemon = gleaner.daemon();
    // Both feeds are polled at start, in either order: one stores, the
    // other merges.
    wait_for(std::time::Duration::from_secs(30), "both polls", || {
        get(port, "/metrics")
            .is_some_and(|(_, text)| sample(&text, "gleaner_polls_total{outcome=\"ok\"}") >= 2.0)
    });
    let (_, text) = get(port, "/metrics").unwrap();
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    assert_eq!(
        sample(&text, "gleaner_articles_stored_total"),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "gleaner_near_duplicates_total"),
        1.0,
        "{text}"
    );
}

#[test]
fn reextract_recomputes_the_sketch() {
    let server = TestServer::start();
    let page = server.url("/2026/bridge");
    server.set(
        "/2026/bridge",
        Route::html(article_page("Bridge", &story(), "")),
    );
    server.set(
        "/gazette",
        Route::rss(feed("Gazette", &[("gazette-1", page.as_str(), vec![])])),
    );
    let gleaner = Gleaner::new(&feed_block("gazette", &server.url("/gazette"), ""));
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_html = true\n");
    gleaner.poll();
    // As an older version stored it: another text, no index rows.
    gleaner.sql("UPDATE articles SET content_text = 'An older extraction.'");
    for table in ["near_dup_sketches", "near_dup_blocks"] {
        gleaner.sql(&format!("DELETE FROM {table}"));
    }
    gleaner.ok(&["reextract"]);
    assert_eq!(count(&gleaner, "near_dup_sketches"), 1);
    assert_eq!(count(&gleaner, "near_dup_blocks"), INDEXED as i64);

    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    gleaner.write_config(&format!(
        "{}{}",
        feed_block("gazette", &server.url("/gazette"), ""),
        feeds(&server, &["wire"])
    ));
    gleaner.poll();
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:#?}");
    assert_eq!(sources(&articles[0]), ["gazette", "wire"]);
}

/// Takes the database back to the layout version 17 left (schema migration
/// 13's): the LSH band keys beside the blocks, the blocks keyed by host
/// first, and (SQLite) articles indexed for search by triggers.
fn as_version_17(gleaner: &Gleaner) {
    let postgres = gleaner.postgres.is_some();
    let (int, without_rowid) = match postgres {
        true => ("BIGINT", ""),
        false => ("INTEGER", " WITHOUT ROWID"),
    };
    gleaner.sql(&format!(
        "CREATE TABLE near_dup_bands (band_key {int} NOT NULL,
             article_seq {int} NOT NULL REFERENCES articles (seq), stored_at {int} NOT NULL,
             PRIMARY KEY (band_key, article_seq)){without_rowid}"
    ));
    gleaner
        .sql("INSERT INTO near_dup_bands SELECT 1, article_seq, stored_at FROM near_dup_sketches");
    if postgres {
        gleaner.sql(
            "ALTER TABLE near_dup_blocks DROP CONSTRAINT near_dup_blocks_pkey,
                 ADD PRIMARY KEY (host, block_key, article_seq)",
        );
        gleaner.sql("UPDATE gleaner_schema SET version = 17");
    } else {
        gleaner.sql(
            "CREATE TABLE near_dup_blocks_13 (host INTEGER NOT NULL, block_key INTEGER NOT NULL,
                 article_seq INTEGER NOT NULL REFERENCES articles (seq),
                 stored_at INTEGER NOT NULL,
                 PRIMARY KEY (host, block_key, article_seq)) WITHOUT ROWID",
        );
        gleaner.sql("INSERT INTO near_dup_blocks_13 SELECT host, block_key, article_seq, stored_at FROM near_dup_blocks");
        gleaner.sql("DROP TABLE near_dup_blocks");
        gleaner.sql("ALTER TABLE near_dup_blocks_13 RENAME TO near_dup_blocks");
        // Migration 18's search indexing at commit: the triggers as
        // migration 4 made them.
        gleaner.sql("DROP TABLE articles_fts_pending");
        gleaner.sql("DROP TRIGGER articles_fts_update");
        gleaner.sql("DROP TRIGGER articles_fts_delete");
        gleaner.sql(
            "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text ON articles
             BEGIN
                 INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
                 VALUES ('delete', old.seq, old.title, old.content_text);
                 INSERT INTO articles_fts (rowid, title, content_text)
                 VALUES (new.seq, new.title, new.content_text);
             END",
        );
        gleaner.sql(
            "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
                 INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
                 VALUES ('delete', old.seq, old.title, old.content_text);
             END",
        );
        gleaner.sql("DROP TRIGGER articles_fts_insert");
        gleaner.sql(
            "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
                 INSERT INTO articles_fts (rowid, title, content_text)
                 VALUES (new.seq, new.title, new.content_text);
             END",
        );
        gleaner.sql("PRAGMA user_version = 17");
    }
}

#[test]
fn an_older_index_keeps_its_blocks_and_drops_the_signatures_it_cannot_compare() {
    let server = TestServer::start();
    let original = ("gazette-1", "https://gazette.example/2026/bridge", story());
    let copy = ("wire-77", "https://wire.example/story/77", syndicated());
    let edited = ("daily-3", "https://daily.example/bridge", edited());
    server.set("/gazette", Route::rss(feed("Gazette", &[original])));
    server.set("/wire", Route::rss(feed("Wire", &[copy])));
    server.set("/daily", Route::rss(feed("Daily", &[edited])));
    let gleaner = Gleaner::new("");
    gleaner.write_config(&feeds(&server, &["gazette"]));
    gleaner.poll();
    let first = "(SELECT min(seq) FROM articles)";
    let of_first = |table: &str| {
        gleaner
            .sql(&format!(
                "SELECT count(*) FROM {table} WHERE article_seq = {first}"
            ))
            .unwrap()
    };
    let blocks = of_first("near_dup_blocks");
    assert_eq!(blocks, INDEXED as i64);
    as_version_17(&gleaner);

    poll_in_turn(&gleaner, &server, &["gazette", "wire", "daily"], "");
    let bands = match gleaner.postgres.is_some() {
        true => "SELECT count(*) FROM pg_tables WHERE tablename = 'near_dup_bands'",
        false => "SELECT count(*) FROM sqlite_master WHERE name = 'near_dup_bands'",
    };
    assert_eq!(gleaner.sql(bands), Some(0), "the band keys are gone");
    assert_eq!(of_first("near_dup_blocks"), blocks, "the blocks are kept");
    assert_eq!(
        of_first("near_dup_sketches"),
        0,
        "the old signature is gone"
    );
    // The first article can no longer be merged into: the wire copy is an
    // article of its own, and the edited copy is merged into it, found by
    // the blocks they share.
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2, "{articles:#?}");
    assert_eq!(sources(&articles[0]), ["gazette"]);
    assert_eq!(sources(&articles[1]), ["daily", "wire"]);
}
