//! Broken feeds polled through the binary: the lenient parser gets their
//! entries out and `gleaner feeds --json` says which repairs were needed.

mod common;

use common::{Gleaner, Route, TestServer, feed_block};

const FEED_TEXT_ONLY: &str = "full_text = false";

#[test]
fn bare_ampersand_and_undeclared_nbsp_are_repaired_and_reported() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        Route::rss(
            r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Tom & Jerry</title>
            <item><guid>1</guid><title>Caf&eacute;&nbsp;news</title>
            <link>https://news.example/a?x=1&y=2</link>
            <description>Fish & chips</description>
            <pubDate>2020/1/10 14:33:00</pubDate></item></channel></rss>"#,
        ),
    );
    let gleaner = Gleaner::new(&feed_block(
        "broken",
        &server.url("/feed.xml"),
        FEED_TEXT_ONLY,
    ));
    let output = gleaner.ok(&["--log-level", "info", "poll"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("html-entities bare-ampersands"), "{stderr}");

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    // The no-break space is whitespace in a plain-text title.
    assert_eq!(articles[0]["title"], "Caf\u{e9} news");
    assert_eq!(articles[0]["url"], "https://news.example/a?x=1&y=2");
    assert_eq!(articles[0]["published"], "2020-01-10T14:33:00Z");
    assert_eq!(articles[0]["content_text"], "Fish & chips");

    let feeds = gleaner.feeds();
    assert_eq!(
        feeds["broken"]["repairs"],
        serde_json::json!(["html-entities", "bare-ampersands"])
    );
}

#[test]
fn a_healthy_feed_has_no_repairs() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        Route::rss(
            r#"<rss version="2.0"><channel><title>T</title><item><guid>1</guid>
            <title>Fine</title><link>https://news.example/1</link></item></channel></rss>"#,
        ),
    );
    let gleaner = Gleaner::new(&feed_block(
        "healthy",
        &server.url("/feed.xml"),
        FEED_TEXT_ONLY,
    ));
    gleaner.poll();
    assert_eq!(gleaner.feeds()["healthy"]["repairs"], serde_json::json!([]));
}

#[test]
fn atom_03_entries_are_kept() {
    let server = TestServer::start();
    server.set(
        "/atom.xml",
        Route::new(
            200,
            "application/atom+xml",
            r#"<?xml version="1.0" encoding="utf-8"?>
            <feed version="0.3" xmlns="http://purl.org/atom/ns#">
              <title>Old blog</title>
              <modified>2004-01-02T10:00:00Z</modified>
              <entry><title>Still here</title><id>tag:old.example,2004:1</id>
                <link rel="alternate" type="text/html" href="https://old.example/1"/>
                <issued>2004-01-01T10:00:00Z</issued>
                <content type="text/html" mode="escaped">&lt;p&gt;Body text&lt;/p&gt;</content>
              </entry>
            </feed>"#,
        ),
    );
    let gleaner = Gleaner::new(&feed_block("old", &server.url("/atom.xml"), FEED_TEXT_ONLY));
    gleaner.poll();
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0]["title"], "Still here");
    assert_eq!(articles[0]["url"], "https://old.example/1");
    assert_eq!(articles[0]["published"], "2004-01-01T10:00:00Z");
    assert_eq!(articles[0]["content_text"], "Body text");
    let repairs = &gleaner.feeds()["old"]["repairs"];
    assert!(
        repairs.as_array().unwrap().contains(&"atom-0.3".into()),
        "{repairs}"
    );
}

#[test]
fn utf16_feed_without_header_charset_is_read() {
    let server = TestServer::start();
    let xml = r#"<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>Wide</title><item><guid>1</guid><title>Gr&#252;&#223;e aus M&#252;nchen – ÄÖÜ</title><link>https://wide.example/1</link></item></channel></rss>"#;
    let mut body = vec![0xFE, 0xFF];
    body.extend(xml.encode_utf16().flat_map(u16::to_be_bytes));
    server.set("/feed.xml", Route::new(200, "application/xml", body));
    let gleaner = Gleaner::new(&feed_block(
        "wide",
        &server.url("/feed.xml"),
        FEED_TEXT_ONLY,
    ));
    gleaner.poll();
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    assert_eq!(
        articles[0]["title"],
        "Gr\u{fc}\u{df}e aus M\u{fc}nchen – ÄÖÜ"
    );
}

#[test]
fn a_web_page_names_its_feed() {
    let server = TestServer::start();
    server.set(
        "/blog/",
        Route::html(
            r#"<!DOCTYPE html><html><head><title>Blog</title>
            <link rel="alternate" type="application/rss+xml" href="feed.xml"></head>
            <body><p>Welcome</p></body></html>"#,
        ),
    );
    let gleaner = Gleaner::new(&feed_block("page", &server.url("/blog/"), FEED_TEXT_ONLY));
    gleaner.poll();
    let row = &gleaner.feeds()["page"];
    assert_eq!(row["state"], "error");
    let error = row["last_error"].as_str().unwrap();
    let expected = format!(
        "this is a web page; its feed is at {}",
        server.url("/blog/feed.xml")
    );
    assert!(error.contains(&expected), "{error}");
}

#[test]
fn the_feeds_table_keeps_a_permanent_move_after_a_not_modified_poll() {
    let server = TestServer::start();
    let mut moved = Route::new(301, "text/plain", "");
    moved
        .headers
        .push(("location".into(), server.url("/new.xml")));
    server.set("/old.xml", moved);
    server.set(
        "/new.xml",
        Route::rss("<rss version=\"2.0\"><channel><title>F</title></channel></rss>")
            .with_etag("\"v1\""),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/old.xml"), FEED_TEXT_ONLY));
    let table = |gleaner: &Gleaner| {
        let output = gleaner.ok(&["feeds"]);
        let stdout = String::from_utf8(output.stdout).unwrap();
        stdout.lines().nth(1).unwrap_or_default().to_owned()
    };
    let moved_to = format!("moved permanently to {}", server.url("/new.xml"));
    gleaner.poll();
    assert!(table(&gleaner).contains(&moved_to), "{}", table(&gleaner));
    // The next poll is answered 304: still moved.
    gleaner.poll();
    assert_eq!(gleaner.feeds()["f"]["state"], "not_modified");
    let row = table(&gleaner);
    assert!(row.contains("not-modified"), "{row}");
    assert!(row.contains(&moved_to), "{row}");
}
