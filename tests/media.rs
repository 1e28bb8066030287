//! Enclosures and media (issue 13): RSS `<enclosure>` with the iTunes
//! duration, Media RSS (`media:group`, `media:content`, `media:thumbnail`)
//! and JSON Feed attachments are stored and exported in every format
//! (`enclosures`, JSON Feed `attachments`, Atom `link rel="enclosure"`,
//! checked by polling gleaner's Atom with a second gleaner); a podcast
//! episode keeps its description and its media is never downloaded. Also:
//! the entry's own categories, and `url` exported without tracking
//! parameters while `sources` keeps the link as the feed gave it.

mod common;

use common::pages::{article_page, story};
use common::{Gleaner, Route, TestServer, feed_block};
use serde_json::{Value, json};

fn podcast(server: &TestServer) -> String {
    format!(
        r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
<title>Cast</title><link>{home}</link><description>d</description>
<item><guid isPermaLink="false">ep1</guid><title>Episode one</title><link>{mp3}</link>
<description>We talk about the harbour and the new ferry timetable.</description>
<enclosure url="{mp3}" length="12345678" type="audio/mpeg"/>
<itunes:duration>01:02:03</itunes:duration>
<category>Local</category><category>Transport</category>
<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>"#,
        home = server.url("/"),
        mp3 = server.url("/ep1.mp3"),
    )
}

fn media_rss(server: &TestServer) -> String {
    format!(
        r#"<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Pictures</title><link>{home}</link><description>d</description>
<item><guid isPermaLink="false">p1</guid><title>The bridge</title>
<link>{page}?utm_source=rss&amp;id=7&amp;fbclid=abc</link><description>teaser</description>
<media:group>
<media:content url="{video}" type="video/mp4" fileSize="999" duration="90"/>
<media:thumbnail url="{thumb}"/>
<media:title>Bridge at dawn</media:title>
</media:group>
<pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate></item>
</channel></rss>"#,
        home = server.url("/"),
        page = server.url("/bridge"),
        video = server.url("/bridge.mp4"),
        thumb = server.url("/bridge.jpg"),
    )
}

fn json_feed(server: &TestServer) -> String {
    json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Notes",
        "items": [{
            "id": "n1",
            "title": "A note with a file",
            "content_text": "A short note about the tram, with the minutes attached.",
            "tags": ["Council"],
            "attachments": [{
                "url": server.url("/minutes.pdf"),
                "mime_type": "application/pdf",
                "title": "Minutes",
                "size_in_bytes": 2048
            }],
            "date_published": "2026-11-23T10:00:00Z"
        }]
    })
    .to_string()
}

/// The articles of an export, by title.
fn by_title(articles: &[Value]) -> std::collections::HashMap<String, Value> {
    articles
        .iter()
        .map(|a| (a["title"].as_str().unwrap().to_owned(), a.clone()))
        .collect()
}

fn polled(server: &TestServer) -> Gleaner {
    server.set("/cast.xml", Route::rss(podcast(server)));
    server.set("/pictures.xml", Route::rss(media_rss(server)));
    server.set(
        "/notes.json",
        Route::new(200, "application/feed+json", json_feed(server)),
    );
    server.set(
        "/bridge?utm_source=rss&id=7&fbclid=abc",
        Route::html(article_page("The bridge", &story("the bridge"), "")),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}{}",
        feed_block("cast", &server.url("/cast.xml"), ""),
        feed_block("pictures", &server.url("/pictures.xml"), ""),
        feed_block("notes", &server.url("/notes.json"), ""),
    ));
    gleaner.poll();
    gleaner
}

#[test]
fn enclosures_are_stored_and_exported_as_json_and_jsonl() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    let json = gleaner.export(&["--format", "json"]);
    let jsonl = gleaner.export(&["--format", "jsonl"]);
    assert_eq!(json, jsonl);
    let articles = by_title(&json);

    let episode = &articles["Episode one"];
    assert_eq!(
        episode["enclosures"],
        json!([{
            "url": server.url("/ep1.mp3"), "mime_type": "audio/mpeg",
            "length": 12345678, "duration_secs": 3723, "title": null
        }])
    );
    // No page to fetch: the media is not downloaded, the description is the text.
    assert!(server.requests("/ep1.mp3").is_empty());
    assert_eq!(episode["content_source"], "feed");
    assert!(
        episode["content_text"]
            .as_str()
            .unwrap()
            .contains("new ferry timetable")
    );
    assert_eq!(episode["categories"], json!(["Local", "Transport"]));

    let bridge = &articles["The bridge"];
    assert_eq!(
        bridge["enclosures"],
        json!([
            {"url": server.url("/bridge.mp4"), "mime_type": "video/mp4", "length": 999,
             "duration_secs": 90, "title": "Bridge at dawn"},
            {"url": server.url("/bridge.jpg"), "mime_type": null, "length": null,
             "duration_secs": null, "title": null}
        ])
    );
    assert!(server.requests("/bridge.mp4").is_empty());
    assert!(server.requests("/bridge.jpg").is_empty());
    assert_eq!(bridge["content_source"], "article");
    // Clean links: tracking parameters go from `url`, the source keeps them.
    assert_eq!(bridge["url"], server.url("/bridge?id=7"));
    assert_eq!(
        bridge["sources"][0]["url"],
        server.url("/bridge?utm_source=rss&id=7&fbclid=abc")
    );
    assert_eq!(bridge["categories"], json!([]));

    let note = &articles["A note with a file"];
    assert_eq!(
        note["enclosures"],
        json!([{"url": server.url("/minutes.pdf"), "mime_type": "application/pdf",
                "length": 2048, "duration_secs": null, "title": "Minutes"}])
    );
    assert_eq!(note["categories"], json!(["Council"]));
}

#[test]
fn json_feed_export_carries_attachments() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    let output = gleaner.ok(&["export", "--format", "jsonfeed"]);
    let feed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let items = by_title(feed["items"].as_array().unwrap());
    assert_eq!(
        items["Episode one"]["attachments"],
        json!([{"url": server.url("/ep1.mp3"), "mime_type": "audio/mpeg",
                "size_in_bytes": 12345678, "duration_in_seconds": 3723}])
    );
    // JSON Feed requires a MIME type: an unknown one is said so.
    assert_eq!(
        items["The bridge"]["attachments"][1]["mime_type"],
        "application/octet-stream"
    );
    assert_eq!(
        items["Episode one"]["_gleaner"]["categories"],
        json!(["Local", "Transport"])
    );
    assert_eq!(items["The bridge"]["url"], server.url("/bridge?id=7"));
}

#[test]
fn atom_export_links_enclosures_that_a_reader_finds_again() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    let atom = gleaner.ok(&["export", "--format", "atom"]).stdout;
    // A second gleaner subscribes to the first one's Atom.
    server.set(
        "/export.atom",
        Route::new(200, "application/atom+xml", atom),
    );
    let reader = Gleaner::new(&feed_block(
        "reader",
        &server.url("/export.atom"),
        "full_text = false",
    ));
    reader.poll();
    let articles = by_title(&reader.export(&["--format", "json"]));
    assert_eq!(
        articles["Episode one"]["enclosures"],
        json!([{"url": server.url("/ep1.mp3"), "mime_type": "audio/mpeg",
                "length": 12345678, "duration_secs": null, "title": null}])
    );
    assert_eq!(
        articles["A note with a file"]["enclosures"][0]["title"],
        "Minutes"
    );
    assert_eq!(
        articles["Episode one"]["categories"],
        json!(["Local", "Transport"])
    );
}
