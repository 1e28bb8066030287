//! Text from outside that must not reach the operator's terminal, break
//! the store or break a consumer: control characters (ESC sequences, NUL)
//! in feeds' titles, authors and ids, a NUL the database refuses, data the
//! database refuses for any other reason, and dates past year 9999. Runs
//! on SQLite, and on PostgreSQL with `GLEANER_TEST_BACKEND=postgres`.

mod common;

use common::pages::{article_page, story};
use common::{Gleaner, Route, TestServer, feed_block};
use serde_json::Value;

/// The sequence the review found printed raw: set the terminal's title,
/// ring the bell, clear the screen.
const ESCAPES: &str = "\u{1b}]0;owned\u{7}\u{1b}[2J";

/// Whether `text` has a control character other than tab and newline
/// (C0, DEL or C1).
fn has_controls(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// Whether any string in `value` has a control character other than tab
/// and newline.
fn any_controls(value: &Value) -> bool {
    match value {
        Value::String(s) => has_controls(s),
        Value::Array(items) => items.iter().any(any_controls),
        Value::Object(fields) => fields.values().any(any_controls),
        _ => false,
    }
}

fn rss_with(items: &str) -> Route {
    Route::rss(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>Hostile</title>\
         <link>http://example.invalid/</link><description>d</description>{items}</channel></rss>"
    ))
}

/// An RSS item whose title, author, id and category carry `&#27;]0;…&#7;`
/// and `&#0;` as character references (the XML form the review used).
const CONTROLLED_ITEM: &str = "<item><guid isPermaLink=\"false\">id-&#27;[31m-&#0;-1</guid>\
    <title>Harbour &#27;]0;owned&#7;&#27;[2Jreopens&#0; today</title>\
    <dc:creator>Ann &#27;[31mOwner&#0;</dc:creator><category>ne&#27;ws&#0;</category>\
    <link>http://example.invalid/harbour</link>\
    <description>The harbour reopens&#0; after the storm, the council said.</description>\
    <pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>";

/// The same in JSON Feed, as JSON escapes.
const CONTROLLED_JSON: &str = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
    {"id":"j-\u001b[31m-\u0000-1","url":"http://example.invalid/j1",
     "title":"Ferry \u001b]0;owned\u0007\u001b[2Jreturns\u0000 today\u009b","tags":["ne\u001bws\u0000"],
     "authors":[{"name":"Jo \u001b[31mOwner\u0000"}],"content_text":"The ferry returns\u0000 after the storm."}]}"#;

#[test]
fn control_characters_in_a_feed_never_leave_the_feed_layer() {
    let server = TestServer::start();
    // Raw control characters in the XML too, as a careless feed writes them.
    let raw = "<item><guid>raw-\u{1b}[31m-2</guid><title>Raw \u{1b}]0;owned\u{7}title</title>\
        <link>http://example.invalid/raw</link><description>Raw.</description></item>";
    server.set("/feed.xml", rss_with(&format!("{CONTROLLED_ITEM}{raw}")));
    server.set(
        "/feed.json",
        Route::new(200, "application/feed+json", CONTROLLED_JSON),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("hostile", &server.url("/feed.xml"), "full_text = false"),
        feed_block("json", &server.url("/feed.json"), "full_text = false"),
    ));
    gleaner.poll();

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 3, "{articles:#?}");
    assert!(
        !any_controls(&Value::Array(articles.clone())),
        "{articles:#?}"
    );
    let article = |title: &str| -> &Value {
        articles
            .iter()
            .find(|a| a["title"] == title)
            .unwrap_or_else(|| panic!("no {title:?} in {articles:#?}"))
    };
    let rss = article("Harbour ]0;owned[2Jreopens today");
    assert_eq!(rss["author"], "Ann [31mOwner");
    assert_eq!(rss["categories"], serde_json::json!(["news"]));
    assert_eq!(rss["sources"][0]["entry_id"], "id-[31m--1");
    assert_eq!(
        article("Raw ]0;ownedtitle")["sources"][0]["entry_id"],
        "raw-[31m-2"
    );
    let json = article("Ferry ]0;owned[2Jreturns today");
    assert_eq!(json["author"], "Jo [31mOwner");
    assert_eq!(json["categories"], serde_json::json!(["news"]));
    assert_eq!(json["sources"][0]["entry_id"], "j-[31m--1");

    for args in [&["search", "ferry"][..], &["feeds"][..]] {
        let output = gleaner.ok(args);
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(!has_controls(&stdout), "{args:?} printed {stdout:?}");
        if args[0] == "search" {
            assert!(
                stdout.contains("Ferry ]0;owned[2Jreturns today"),
                "{stdout}"
            );
        }
    }
}

#[test]
fn tables_escape_control_characters_whatever_wrote_them() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        rss_with(
            "<item><guid>1</guid><title>Harbour reopens</title>\
             <link>http://example.invalid/harbour</link>\
             <description>The harbour reopens after the storm.</description></item>",
        ),
    );
    let gleaner = Gleaner::new(&feed_block(
        "plain",
        &server.url("/feed.xml"),
        "full_text = false",
    ));
    gleaner.poll();
    // What an older version stored, or an error that quotes a server.
    gleaner.sql(&format!(
        "UPDATE articles SET title = 'Harbour {ESCAPES} reopens\u{9b}31m'"
    ));
    gleaner.sql(&format!(
        "UPDATE feeds SET state = 'error', last_error = 'HTTP 500: {ESCAPES}\nsecond line'"
    ));

    let search = String::from_utf8(gleaner.ok(&["search", "harbour"]).stdout).unwrap();
    assert!(!has_controls(&search), "{search:?}");
    assert!(
        search.contains("Harbour \\u{1b}]0;owned\\u{7}\\u{1b}[2J reopens\\u{9b}31m"),
        "{search}"
    );
    let feeds = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    assert!(!has_controls(&feeds), "{feeds:?}");
    assert!(
        feeds.contains("HTTP 500: \\u{1b}]0;owned\\u{7}\\u{1b}[2J\\nsecond line"),
        "{feeds}"
    );
    assert_eq!(feeds.lines().count(), 2, "one line per feed:\n{feeds}");
    // A delivery command's stderr, as the delivery's last error.
    gleaner.edit_config(
        "[[feeds]]",
        "[[deliver]]\nname = \"ingest\"\nexec = [\"true\"]\n\n[[feeds]]",
    );
    gleaner.sql(&format!(
        "INSERT INTO deliveries (name, last_attempt_at, last_error, consecutive_failures) \
         VALUES ('ingest', '2026-11-23T08:00:00Z', 'exit 1: {ESCAPES}', 1)"
    ));
    gleaner.sql(
        "INSERT INTO consumers (name, cursor_seq, updated_at) \
         VALUES ('ingest', 4217, '2026-11-23T08:00:00Z')",
    );
    let deliveries = String::from_utf8(gleaner.ok(&["deliveries"]).stdout).unwrap();
    assert!(!has_controls(&deliveries), "{deliveries:?}");
    assert!(
        deliveries.contains("exit 1: \\u{1b}]0;owned\\u{7}\\u{1b}[2J"),
        "{deliveries}"
    );
    // The cursor, as in `--json`: its own column, holding the stored value.
    let mut table = deliveries.lines();
    let header = table.next().unwrap();
    let column = header.find("CURSOR");
    assert!(column.is_some(), "a CURSOR column:\n{deliveries}");
    let row = table.next().unwrap();
    let cell: String = row.chars().skip(column.unwrap()).collect();
    assert!(
        cell.starts_with("4217 "),
        "the stored cursor under CURSOR:\n{deliveries}"
    );
    // `--json` keeps the text as it is: JSON escapes it.
    let json = gleaner.feeds();
    assert!(
        json["plain"]["last_error"]
            .as_str()
            .unwrap()
            .contains(ESCAPES)
    );
}

#[test]
fn a_nul_in_a_title_does_not_keep_a_feeds_entries_out_of_the_store() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        rss_with(&format!(
            "{CONTROLLED_ITEM}<item><guid>2</guid><title>Second story</title>\
             <link>http://example.invalid/2</link><description>Two.</description></item>"
        )),
    );
    server.set(
        "/feed.json",
        Route::new(
            200,
            "application/feed+json",
            r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
                {"id":"j\u0000-1","url":"http://example.invalid/j1","title":"Nul\u0000 in JSON","authors":[{"name":"Jo\u0000"}],"content_text":"Text\u0000 here."},
                {"id":"j-2","url":"http://example.invalid/j2","title":"Plain JSON","content_text":"Plain."}]}"#,
        ),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("rss", &server.url("/feed.xml"), "full_text = false"),
        feed_block("json", &server.url("/feed.json"), "full_text = false"),
    ));
    let output = gleaner.ok(&["poll"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("disk"), "{stderr}");

    let feeds = gleaner.feeds();
    for name in ["rss", "json"] {
        assert_eq!(feeds[name]["state"], "ok", "{:#}", feeds[name]);
        assert_eq!(feeds[name]["articles"], 2, "{:#}", feeds[name]);
    }
    let articles = gleaner.export(&[]);
    let mut titles: Vec<&str> = articles
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "Harbour ]0;owned[2Jreopens today",
            "Nul in JSON",
            "Plain JSON",
            "Second story"
        ]
    );
    let json = articles
        .iter()
        .find(|a| a["title"] == "Nul in JSON")
        .unwrap();
    assert_eq!(json["author"], "Jo");
    assert_eq!(json["sources"][0]["entry_id"], "j-1");
    assert!(!any_controls(&Value::Array(articles.clone())));
}

#[test]
fn control_characters_in_an_article_pages_metadata_are_dropped() {
    let server = TestServer::start();
    // The page names the entry's title and author (the feed does not),
    // with a NUL and an ESC sequence escaped in its JSON-LD.
    let ld = r#"<script type="application/ld+json">{"@type":"NewsArticle",
        "headline":"Page\u0000 title\u001b[2J","author":{"name":"Pat\u001b]0;x\u0007 Writer"}}</script>"#;
    server.set(
        "/a/1",
        Route::html(article_page("Page", &story("the harbour"), ld)),
    );
    server.set(
        "/feed.xml",
        rss_with(&format!(
            "<item><guid>1</guid><link>{}</link><description>Short.</description></item>",
            server.url("/a/1")
        )),
    );
    let gleaner = Gleaner::new(&feed_block("pages", &server.url("/feed.xml"), ""));
    gleaner.ok(&["poll"]);

    let feeds = gleaner.feeds();
    assert_eq!(feeds["pages"]["state"], "ok", "{:#}", feeds["pages"]);
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    assert_eq!(
        articles[0]["content_source"], "article",
        "{:#}",
        articles[0]
    );
    assert_eq!(articles[0]["title"], "Page title[2J");
    assert_eq!(articles[0]["author"], "Pat]0;x Writer");
    assert!(
        !any_controls(&Value::Array(articles.clone())),
        "{articles:#?}"
    );
}

/// A key longer than an index row can hold: PostgreSQL refuses the row
/// (program limit 54000) for its data, SQLite stores it.
fn overlong_link() -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let path: String = (0..12_000)
        .map(|_| {
            let n = common::next_random(&mut state) % 36;
            char::from_digit(n as u32, 36).unwrap()
        })
        .collect();
    format!("http://example.invalid/{path}")
}

#[test]
fn an_entry_with_an_overlong_link_is_stored_on_every_backend() {
    // PostgreSQL cannot index a key of 12,000 bytes: the link's dedup key
    // made the whole feed unstorable there.
    let server = TestServer::start();
    let link = overlong_link();
    server.set(
        "/feed.xml",
        rss_with(&format!(
            "<item><guid>long</guid><title>Long link</title><link>{link}</link>\
             <description>A story with a very long link.</description></item>\
             <item><guid>2</guid><title>Short link</title><link>http://example.invalid/2</link>\
             <description>Two.</description></item>"
        )),
    );
    server.set(
        "/copy.xml",
        rss_with(&format!(
            "<item><guid>copy</guid><title>Long link again</title><link>{link}</link>\
             <description>The same story.</description></item>"
        )),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("long", &server.url("/feed.xml"), "full_text = false"),
        feed_block("copy", &server.url("/copy.xml"), "full_text = false"),
    ));
    gleaner.ok(&["poll", "--feed", "long"]);
    gleaner.ok(&["poll", "--feed", "copy"]);
    let feeds = gleaner.feeds();
    assert_eq!(feeds["long"]["state"], "ok", "{:#}", feeds["long"]);
    // Another feed's entry with the same link is the same article.
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2, "{articles:#?}");
    let long = articles.iter().find(|a| a["url"] == link.as_str()).unwrap();
    assert_eq!(long["sources"].as_array().unwrap().len(), 2, "{long:#}");
}

#[test]
fn an_entry_the_database_refuses_fails_its_feed_and_backs_off_not_the_disk() {
    const REFUSED: &str = "Refused by the database";
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        rss_with(&format!(
            "<item><guid>1</guid><title>{REFUSED}</title><link>http://example.invalid/1</link>\
             <description>One.</description></item>\
             <item><guid>2</guid><title>Short link</title><link>http://example.invalid/2</link>\
             <description>Two.</description></item>"
        )),
    );
    server.set(
        "/other.xml",
        rss_with(
            "<item><guid>o</guid><title>Other</title><link>http://example.invalid/o</link>\
             <description>Other.</description></item>",
        ),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("refused", &server.url("/feed.xml"), "full_text = false"),
        feed_block("other", &server.url("/other.xml"), "full_text = false"),
    ));
    gleaner.ok(&["poll", "--feed", "other"]);
    // The database refuses one entry's data, as it refused a NUL or an
    // overlong key before gleaner kept them out: a check of its own.
    if gleaner.postgres.is_some() {
        gleaner.sql(&format!(
            "ALTER TABLE articles ADD CONSTRAINT refused CHECK (title IS DISTINCT FROM '{REFUSED}')"
        ));
    } else {
        gleaner.sql(&format!(
            "CREATE TRIGGER refused BEFORE INSERT ON articles WHEN NEW.title = '{REFUSED}' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ));
    }
    let output = gleaner.command().arg("poll").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("disk"), "{stderr}");

    let feeds = gleaner.feeds();
    assert_eq!(feeds["other"]["state"], "ok", "{:#}", feeds["other"]);
    let refused = &feeds["refused"];
    assert_eq!(refused["state"], "error", "{refused:#}");
    assert_eq!(refused["consecutive_errors"], 1, "{refused:#}");
    let error = refused["last_error"].as_str().unwrap();
    assert!(error.contains("refused an entry"), "{error}");
    assert!(!error.contains("disk"), "{error}");
    // Backed off like any failure: not due again at the next tick.
    let next = refused["next_due"].as_str().expect("a next attempt");
    let next = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    assert!(
        next > chrono::Utc::now() + chrono::Duration::seconds(20),
        "{refused:#}"
    );
}

#[test]
fn dates_past_year_9999_are_no_dates() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        rss_with(
            "<item><guid>1</guid><title>Far future</title><link>http://example.invalid/1</link>\
             <description>One.</description><pubDate>Mon, 01 Jan 99999 00:00:00 GMT</pubDate></item>\
             <item><guid>2</guid><title>Now</title><link>http://example.invalid/2</link>\
             <description>Two.</description><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>",
        ),
    );
    server.set(
        "/feed.json",
        Route::new(
            200,
            "application/feed+json",
            r#"{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
                {"id":"j1","url":"http://example.invalid/j1","title":"JSON far","content_text":"Far.","date_published":"+99999-01-01T00:00:00Z","date_modified":"99999-01-01T00:00:00Z"}]}"#,
        ),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("rss", &server.url("/feed.xml"), "full_text = false"),
        feed_block("json", &server.url("/feed.json"), "full_text = false"),
    ));
    gleaner.poll();

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 3, "{articles:#?}");
    let by_title = |t: &str| -> &Value { articles.iter().find(|a| a["title"] == t).unwrap() };
    for title in ["Far future", "JSON far"] {
        assert_eq!(by_title(title)["published"], Value::Null, "{title}");
        assert_eq!(by_title(title)["updated"], Value::Null, "{title}");
    }
    assert_eq!(by_title("Now")["published"], "2026-11-23T08:00:00Z");

    // A date stored by an older version is not exported either.
    gleaner.sql("UPDATE articles SET published = '+99999-01-01T00:00:00Z'");
    for article in gleaner.export(&[]) {
        assert_eq!(article["published"], Value::Null, "{article:#}");
    }
    let atom = String::from_utf8(gleaner.ok(&["export", "--format", "atom"]).stdout).unwrap();
    assert!(!atom.contains("99999"), "{atom}");
}

#[test]
fn migrate_db_copies_a_sqlite_database_with_nul_in_its_text() {
    let server = TestServer::start();
    let Some(postgres) = common::postgres::server("migrate-db-nul") else {
        return;
    };
    let postgres = common::postgres::TestDatabase::create(&postgres);
    server.set(
        "/feed.xml",
        rss_with(
            "<item><guid>1</guid><title>Title</title><link>http://example.invalid/1</link>\
             <description>One.</description></item>",
        ),
    );
    let gleaner = Gleaner::with(
        None,
        &feed_block("f", &server.url("/feed.xml"), "full_text = false"),
    );
    gleaner.poll();
    // What an older version stored from a title with `&#0;` in it.
    gleaner
        .db()
        .execute_batch(
            "UPDATE articles SET title = 'Nul' || char(0) || ' title',
                                 content_text = content_text || char(0);
             UPDATE feeds SET last_error = 'HTTP 500: ' || char(0);",
        )
        .unwrap();

    let url = postgres.url().to_string();
    gleaner.ok(&["migrate-db", "--to", &url]);
    gleaner.edit_config("database = \"g.db\"", &format!("database = \"{url}\""));
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0]["title"], "Nul title", "{:#}", articles[0]);
    assert_eq!(articles[0]["content_text"], "One.");
}
