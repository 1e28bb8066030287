//! `export --format jsonfeed|atom`: gleaner's full text as feeds any reader
//! can subscribe to. Checked against the JSON Feed 1.1 required fields, and
//! by polling gleaner's own Atom output with a second gleaner.

mod common;

use common::pages::{article_page, story};
use common::{Gleaner, Route, TestServer, feed_block};

/// A JSON Feed source whose text holds characters XML cannot carry.
fn source_feed(server: &TestServer) -> String {
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Source",
        "items": [
            {
                "id": "a",
                "url": server.url("/a"),
                "title": "Harbour <reopens> & ships return",
                "date_published": "2026-11-23T08:00:00Z",
                "authors": [{"name": "R. Writer"}],
                "content_text": "teaser"
            },
            {
                "id": "b",
                "title": "No page, odd bytes",
                "date_published": "2026-11-23T09:00:00Z",
                "content_text": "Bell\u{7} and form feed\u{c} inside the feed's own text, which is kept."
            }
        ]
    })
    .to_string()
}

fn polled(server: &TestServer) -> Gleaner {
    server.set(
        "/feed.json",
        Route::new(200, "application/feed+json", source_feed(server)),
    );
    server.set(
        "/a",
        Route::html(article_page("Harbour", &story("the harbour"), "")),
    );
    let gleaner = Gleaner::new(&feed_block(
        "source",
        &server.url("/feed.json"),
        "tags = [\"port\"]",
    ));
    gleaner.poll();
    gleaner
}

#[test]
fn json_feed_export_has_the_required_fields_and_the_full_text() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    let output = gleaner.ok(&["export", "--format", "jsonfeed"]);
    let feed: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(feed["version"], "https://jsonfeed.org/version/1.1");
    assert!(feed["title"].is_string());
    let items = feed["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    for item in items {
        assert!(item["id"].is_string(), "{item}");
        assert!(
            item["content_html"].is_string() || item["content_text"].is_string(),
            "{item}"
        );
        if let Some(date) = item["date_published"].as_str() {
            chrono::DateTime::parse_from_rfc3339(date).expect("RFC 3339 dates");
        }
    }
    let harbour = &items[0];
    assert_eq!(harbour["title"], "Harbour <reopens> & ships return");
    assert_eq!(harbour["url"], server.url("/a"));
    assert_eq!(harbour["authors"][0]["name"], "R. Writer");
    assert_eq!(harbour["tags"], serde_json::json!(["port"]));
    assert!(
        harbour["content_text"]
            .as_str()
            .unwrap()
            .contains("the harbour")
    );
    assert_eq!(harbour["_gleaner"]["content_source"], "article");
    assert_eq!(harbour["_gleaner"]["sources"][0]["feed"], "source");

    // Consumers work the same in every format.
    let first = gleaner.ok(&["export", "--format", "jsonfeed", "--consumer", "reader"]);
    let first: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let again = gleaner.ok(&["export", "--format", "jsonfeed", "--consumer", "reader"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["items"], serde_json::json!([]));
}

#[test]
fn atom_export_is_a_feed_another_gleaner_can_poll() {
    let server = TestServer::start();
    let gleaner = polled(&server);
    let output = gleaner.ok(&["export", "--format", "atom"]);
    let atom = String::from_utf8(output.stdout).unwrap();
    assert!(atom.starts_with("<?xml"), "{atom}");
    assert!(
        !atom.contains('\u{7}') && !atom.contains('\u{c}'),
        "control characters are dropped"
    );

    // Strict parse: feed-rs without gleaner's lenient repairs.
    let parsed = feed_rs::parser::parse(atom.as_bytes()).expect("well-formed Atom");
    assert_eq!(parsed.entries.len(), 2);
    assert_eq!(
        parsed.entries[0].title.as_ref().unwrap().content,
        "Harbour <reopens> & ships return"
    );

    // A second gleaner subscribes to the first one's output.
    server.set(
        "/gleaner.atom",
        Route::new(200, "application/atom+xml", atom),
    );
    let reader = Gleaner::new(&feed_block(
        "upstream",
        &server.url("/gleaner.atom"),
        "full_text = false",
    ));
    reader.poll();
    let original = gleaner.export(&[]);
    let copied = reader.export(&[]);
    assert_eq!(copied.len(), 2);
    for (o, c) in original.iter().zip(&copied) {
        assert_eq!(c["title"], o["title"]);
        assert_eq!(c["url"], o["url"]);
        assert_eq!(c["author"], o["author"]);
        assert_eq!(c["published"], o["published"]);
        assert_eq!(
            c["content_text"], o["content_text"],
            "the full text travels"
        );
    }
}

#[test]
fn json_exports_carry_the_article_as_markdown() {
    let server = TestServer::start();
    let mut paragraphs = story("the bridge");
    paragraphs.push(
        "<h2>What comes next</h2><ul><li>a review by the regional planning office</li><li>a public vote in the spring</li></ul>"
            .into(),
    );
    paragraphs.push("The plans are on <a href=\"/plans\">the council's site</a> for anyone to read and comment on.".into());
    paragraphs.push("<blockquote>We will listen, said the mayor.</blockquote>".into());
    server.set("/a", Route::html(article_page("Bridge", &paragraphs, "")));
    server.set(
        "/feed.xml",
        Route::rss(common::pages::rss_of_pages(|p| server.url(p), &["a"])),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    for format in ["json", "jsonl"] {
        let articles = gleaner.export(&["--format", format]);
        assert_eq!(articles.len(), 1);
        let markdown = articles[0]["content_markdown"]
            .as_str()
            .unwrap_or_else(|| panic!("{format}: no content_markdown in {}", articles[0]));
        assert!(markdown.starts_with("The city council met"), "{markdown}");
        assert!(markdown.contains("\n\n## What comes next\n\n- a review by the regional planning office\n- a public vote in the spring\n"), "{markdown}");
        // Links are absolute, as in content_html.
        assert!(
            markdown.contains(&format!("[the council's site]({})", server.url("/plans"))),
            "{markdown}"
        );
        assert!(
            markdown.contains("> We will listen, said the mayor."),
            "{markdown}"
        );
    }
}
