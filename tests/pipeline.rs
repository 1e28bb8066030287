//! Real polls against a local server: full text, conditional GET, dedup,
//! character sets, failing feeds and the SSRF rule, read back through
//! `gleaner export` and `gleaner feeds`.

mod common;

use common::pages::{BOILERPLATE, Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer, feed_block};
use serde_json::Value;

const DATE_1: &str = "Mon, 23 Nov 2026 08:00:00 GMT";
const DATE_2: &str = "Tue, 24 Nov 2026 08:00:00 GMT";

fn item<'a>(guid: &'a str, title: &'a str, link: &'a str) -> Item<'a> {
    Item {
        guid,
        title,
        link,
        description: "A short teaser from the feed.",
        pub_date: DATE_1,
    }
}

fn text(article: &Value) -> &str {
    article["content_text"].as_str().unwrap_or("")
}

#[test]
fn a_poll_stores_the_full_text_without_boilerplate() {
    let server = TestServer::start();
    let link = server.url("/2026/11/bridge");
    server.set(
        "/feed.xml",
        Route::rss(rss("Daily", &[item("b-1", "Bridge review", &link)])),
    );
    server.set(
        "/2026/11/bridge",
        Route::html(article_page("Bridge review", &story("the new bridge"), "")),
    );
    let gleaner = Gleaner::new(&feed_block(
        "daily",
        &server.url("/feed.xml"),
        "tags = [\"local\"]",
    ));

    let summary = gleaner.poll();
    assert!(
        summary.contains("1 ok") && summary.contains("1 new article"),
        "{summary}"
    );

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1);
    let a = &articles[0];
    assert_eq!(a["content_source"], "article");
    assert_eq!(a["title"], "Bridge review");
    assert_eq!(a["url"], link.as_str());
    assert_eq!(a["published"], "2026-11-23T08:00:00Z");
    assert_eq!(a["summary"], "A short teaser from the feed.");
    assert_eq!(a["tags"], serde_json::json!(["local"]));
    assert_eq!(a["sources"][0]["feed"], "daily");
    assert_eq!(a["sources"][0]["entry_id"], "b-1");
    for paragraph in story("the new bridge") {
        assert!(
            text(a).contains(&paragraph),
            "missing {paragraph:?} in {}",
            text(a)
        );
    }
    for boilerplate in BOILERPLATE {
        assert!(
            !text(a).contains(boilerplate),
            "{boilerplate:?} left in {}",
            text(a)
        );
        assert!(!a["content_html"].as_str().unwrap().contains(boilerplate));
    }
    // Paragraphs are separated by exactly one blank line.
    assert!(text(a).contains(&format!(
        "{}\n\n{}",
        story("the new bridge")[0],
        story("the new bridge")[1]
    )));
    assert_eq!(
        a["word_count"].as_u64().unwrap() as usize,
        text(a).split_whitespace().count()
    );
    // Unknown values are null, never empty strings.
    for (key, value) in a.as_object().unwrap() {
        assert_ne!(value, "", "{key} is an empty string");
    }
}

#[test]
fn a_second_poll_sends_validators_and_fetches_no_article_again() {
    let server = TestServer::start();
    let link = server.url("/a");
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[item("1", "A", &link)])).with_etag("\"v1\""),
    );
    server.set(
        "/a",
        Route::html(article_page("A", &story("the harbour"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));

    gleaner.poll();
    let summary = gleaner.poll();
    assert!(summary.contains("1 not modified"), "{summary}");

    let feed_requests = server.requests("/feed.xml");
    assert_eq!(feed_requests.len(), 2);
    assert!(feed_requests[0].headers.get("if-none-match").is_none());
    assert_eq!(feed_requests[1].headers["if-none-match"], "\"v1\"");
    assert_eq!(
        server.requests("/a").len(),
        1,
        "the article page is fetched once"
    );
    assert_eq!(gleaner.feeds()["f"]["state"], "not_modified");
    assert_eq!(gleaner.export(&[]).len(), 1);
}

#[test]
fn a_feed_without_validators_that_repeats_its_entries_fetches_no_page_again() {
    let server = TestServer::start();
    let link = server.url("/a");
    server.set("/feed.xml", Route::rss(rss("F", &[item("1", "A", &link)])));
    server.set(
        "/a",
        Route::html(article_page("A", &story("the harbour"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    let summary = gleaner.poll();
    assert!(
        summary.contains("1 ok") && summary.contains("0 new articles"),
        "{summary}"
    );
    assert_eq!(server.requests("/a").len(), 1);
}

#[test]
fn a_new_entry_reaches_a_consumer_exactly_once() {
    let server = TestServer::start();
    let (a, b) = (server.url("/a"), server.url("/b"));
    server.set("/feed.xml", Route::rss(rss("F", &[item("1", "A", &a)])));
    server.set(
        "/a",
        Route::html(article_page("A", &story("the harbour"), "")),
    );
    server.set(
        "/b",
        Route::html(article_page("B", &story("the airport"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));

    gleaner.poll();
    let first = gleaner.export(&["--consumer", "archive"]);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["title"], "A");

    let mut b_item = item("2", "B", &b);
    b_item.pub_date = DATE_2;
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[b_item, item("1", "A", &a)])),
    );
    gleaner.poll();

    let second = gleaner.export(&["--consumer", "archive"]);
    assert_eq!(second.len(), 1, "{second:#?}");
    assert_eq!(second[0]["title"], "B");
    assert!(gleaner.export(&["--consumer", "archive"]).is_empty());
    // Another consumer is independent and gets both, oldest first.
    let other = gleaner.export(&["--consumer", "newsletter"]);
    let titles: Vec<&str> = other.iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["A", "B"]);
    // Ids are stable across exports.
    assert_eq!(other[0]["id"], first[0]["id"]);
}

#[test]
fn peek_shows_without_advancing_and_limit_leaves_the_rest() {
    let server = TestServer::start();
    let (a, b) = (server.url("/a"), server.url("/b"));
    let mut b_item = item("2", "B", &b);
    b_item.pub_date = DATE_2;
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[b_item, item("1", "A", &a)])),
    );
    server.set(
        "/a",
        Route::html(article_page("A", &story("the harbour"), "")),
    );
    server.set(
        "/b",
        Route::html(article_page("B", &story("the airport"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    assert_eq!(gleaner.export(&["--consumer", "c", "--peek"]).len(), 2);
    assert_eq!(gleaner.export(&["--consumer", "c", "--peek"]).len(), 2);
    let one = gleaner.export(&["--consumer", "c", "--limit", "1"]);
    assert_eq!(one[0]["title"], "A");
    let rest = gleaner.export(&["--consumer", "c"]);
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["title"], "B");
}

#[test]
fn the_same_entry_id_is_one_article_updated_in_place_and_not_exported_again() {
    let server = TestServer::start();
    let a = server.url("/a");
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[item("1", "Old title", &a)])),
    );
    server.set(
        "/a",
        Route::html(article_page("Old title", &story("the harbour"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    assert_eq!(gleaner.export(&["--consumer", "c"]).len(), 1);

    // The entry moves to a new page: that page is fetched.
    let b = server.url("/b");
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[item("1", "New title", &b)])),
    );
    server.set(
        "/b",
        Route::html(article_page(
            "New title",
            &story("the harbour extension"),
            "",
        )),
    );
    gleaner.poll();

    assert!(
        gleaner.export(&["--consumer", "c"]).is_empty(),
        "an update is not a new article"
    );
    let all = gleaner.export(&[]);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["title"], "New title");
    assert_eq!(all[0]["url"], b.as_str());
    assert!(text(&all[0]).contains("the harbour extension"));
}

#[test]
fn a_changed_entry_whose_link_did_not_change_is_updated_without_fetching_its_page() {
    let server = TestServer::start();
    let link = server.url("/a?utm_source=rss&view=1");
    let feed = |title: &str, teaser: &str, link: &str| {
        rss(
            "F",
            &[Item {
                guid: "1",
                title,
                link,
                description: teaser,
                pub_date: DATE_1,
            }],
        )
    };
    server.set(
        "/feed.xml",
        Route::rss(feed("Harbour", "Seen 10 times.", &link)),
    );
    server.set(
        "/a?utm_source=rss&view=1",
        Route::html(article_page("Harbour", &story("the harbour"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    assert_eq!(gleaner.export(&["--consumer", "c"]).len(), 1);

    // A rotating summary, a new title, a tracking parameter that changes on
    // every fetch: the same page.
    for (views, title) in [(11, "Harbour (updated)"), (12, "Harbour: the vote")] {
        let moved = server.url(&format!("/a?utm_source=feed{views}&view=1"));
        server.set(
            "/feed.xml",
            Route::rss(feed(title, &format!("Seen {views} times."), &moved)),
        );
        let summary = gleaner.poll();
        assert!(summary.contains("1 ok"), "{summary}");
    }

    assert_eq!(
        server.requests("/a?utm_source=rss&view=1").len(),
        1,
        "the page is not fetched again"
    );
    assert_eq!(
        server
            .all_requests()
            .iter()
            .filter(|r| r.path.starts_with("/a"))
            .count(),
        1
    );
    assert!(
        gleaner.export(&["--consumer", "c"]).is_empty(),
        "an update is not a new article"
    );
    let all = gleaner.export(&[]);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["title"], "Harbour: the vote");
    assert_eq!(all[0]["summary"], "Seen 12 times.");
    assert_eq!(all[0]["content_source"], "article");
    assert!(text(&all[0]).contains(&story("the harbour")[0]));
}

#[test]
fn tracking_parameters_canonical_links_and_identical_text_deduplicate_across_feeds() {
    let server = TestServer::start();
    let story_a = story("the tram line");
    // Feed one: the original article.
    server.set(
        "/one.xml",
        Route::rss(rss("One", &[item("one-1", "Tram", &server.url("/tram"))])),
    );
    server.set("/tram", Route::html(article_page("Tram", &story_a, "")));
    // Feed two: the same URL with tracking parameters.
    let tracked = server.url("/tram?utm_source=rss&utm_medium=feed&fbclid=xyz");
    server.set(
        "/two.xml",
        Route::rss(rss("Two", &[item("two-1", "Tram", &tracked)])),
    );
    // Feed three: an AMP copy whose canonical link names the original.
    let canonical = format!(r#"<link rel="canonical" href="{}">"#, server.url("/tram"));
    server.set(
        "/three.xml",
        Route::rss(rss(
            "Three",
            &[item("three-1", "Tram", &server.url("/amp/tram"))],
        )),
    );
    server.set(
        "/amp/tram",
        Route::html(article_page("Tram", &story_a, &canonical)),
    );
    // Feed four: a syndicated copy on another path with the same text and no canonical.
    server.set(
        "/four.xml",
        Route::rss(rss(
            "Four",
            &[item(
                "four-1",
                "Tram (syndicated)",
                &server.url("/syndicated/77"),
            )],
        )),
    );
    server.set(
        "/syndicated/77",
        Route::html(article_page("Tram (syndicated)", &story_a, "")),
    );

    let feeds = ["one", "two", "three", "four"]
        .iter()
        .map(|n| feed_block(n, &server.url(&format!("/{n}.xml")), ""))
        .collect::<String>();
    let gleaner = Gleaner::new(&feeds);
    for feed in ["one", "two", "three", "four"] {
        gleaner.ok(&["poll", "--feed", feed]);
    }

    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:#?}");
    let sources: Vec<&str> = articles[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["feed"].as_str().unwrap())
        .collect();
    assert_eq!(sources, ["one", "two", "three", "four"]);
    // The tracked URL was known before fetching: its page was never requested.
    assert!(
        server
            .requests("/tram?utm_source=rss&utm_medium=feed&fbclid=xyz")
            .is_empty()
    );
}

#[test]
fn one_page_linked_by_two_feeds_of_a_pass_with_different_tracking_is_fetched_once() {
    let server = TestServer::start();
    let page = article_page("Ferry", &story("the night ferry"), "");
    let links = ["/ferry?utm_source=top", "/ferry?utm_source=rss&fbclid=1"];
    for (n, link) in links.iter().enumerate() {
        // Slow enough that both feeds' fetches of the page overlap.
        server.set(
            link,
            Route::html(page.clone()).with_delay(std::time::Duration::from_millis(400)),
        );
        server.set(
            &format!("/{n}.xml"),
            Route::rss(rss(
                "F",
                &[item(&format!("{n}"), "Ferry", &server.url(link))],
            )),
        );
    }
    let gleaner = Gleaner::new(
        &(0..2)
            .map(|n| feed_block(&format!("f{n}"), &server.url(&format!("/{n}.xml")), ""))
            .collect::<String>(),
    );
    gleaner.poll();
    let fetched: usize = links.iter().map(|l| server.requests(l).len()).sum();
    assert_eq!(fetched, 1, "the page was downloaded once");
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:#?}");
    assert_eq!(articles[0]["sources"].as_array().unwrap().len(), 2);
    assert!(
        articles[0]["content_text"]
            .as_str()
            .unwrap()
            .contains("the night ferry")
    );
}

#[test]
fn a_broken_feed_does_not_stop_the_good_ones_and_shows_its_error() {
    let server = TestServer::start();
    server.set(
        "/good1.xml",
        Route::rss(rss("G1", &[item("1", "One", &server.url("/1"))])),
    );
    server.set(
        "/1",
        Route::html(article_page("One", &story("the museum"), "")),
    );
    server.set(
        "/good2.xml",
        Route::rss(rss("G2", &[item("2", "Two", &server.url("/2"))])),
    );
    server.set(
        "/2",
        Route::html(article_page("Two", &story("the stadium"), "")),
    );
    server.set(
        "/broken.xml",
        // Not even the lenient parser can read this (a truncated feed no
        // longer is an error: it is recovered as far as it goes).
        Route::rss("<rss version=\"2.0\"><channel><item><title>a<</title></item></channel></rss>"),
    );
    server.set("/down.xml", Route::new(500, "text/plain", "oops"));
    let feeds = [
        feed_block("good1", &server.url("/good1.xml"), ""),
        feed_block("broken", &server.url("/broken.xml"), ""),
        feed_block("down", &server.url("/down.xml"), ""),
        feed_block("good2", &server.url("/good2.xml"), ""),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);

    let output = gleaner.ok(&["poll"]);
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(
        summary.contains("4 feeds: 2 ok, 0 not modified, 2 failed; 2 new articles"),
        "{summary}"
    );
    assert_eq!(gleaner.export(&[]).len(), 2);

    let feeds = gleaner.feeds();
    assert_eq!(feeds["good1"]["state"], "ok");
    assert_eq!(feeds["down"]["state"], "error");
    assert_eq!(feeds["down"]["consecutive_errors"], 1);
    let down_error = feeds["down"]["last_error"].as_str().unwrap();
    assert!(
        down_error.contains(&server.url("/down.xml")) && down_error.contains("500"),
        "{down_error}"
    );
    let broken_error = feeds["broken"]["last_error"].as_str().unwrap();
    assert!(
        broken_error.contains(&server.url("/broken.xml")),
        "{broken_error}"
    );

    let table = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("down") && l.contains("HTTP 500")),
        "{table}"
    );
}

#[test]
fn an_iso_8859_1_feed_and_a_windows_1252_page_are_decoded() {
    let server = TestServer::start();
    let mut feed = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf\xe9</title>".to_vec();
    feed.extend_from_slice(
        format!("<item><guid>1</guid><title>D\u{e9}j\u{e0} vu \u{e0} Z\u{fc}rich</title><link>{}</link></item></channel></rss>", server.url("/page"))
            .chars()
            .map(|c| c as u32 as u8)
            .collect::<Vec<u8>>()
            .as_slice(),
    );
    server.set("/feed.xml", Route::new(200, "text/xml", feed));
    // windows-1252: curly quotes 0x93/0x94 and the euro sign 0x80, declared in <meta>.
    let paragraphs: Vec<String> = story("the \u{93}new\u{94} station costing \u{80}4m")
        .into_iter()
        .collect();
    let page = article_page("Station", &paragraphs, "").replace(
        "<meta charset=\"utf-8\">",
        "<meta charset=\"windows-1252\">",
    );
    let page_bytes: Vec<u8> = page.chars().map(|c| c as u32 as u8).collect();
    server.set("/page", Route::new(200, "text/html", page_bytes));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();

    let articles = gleaner.export(&[]);
    assert_eq!(articles[0]["title"], "D\u{e9}j\u{e0} vu \u{e0} Z\u{fc}rich");
    assert!(
        text(&articles[0]).contains("the \u{201c}new\u{201d} station costing \u{20ac}4m"),
        "{}",
        text(&articles[0])
    );
}

#[test]
fn an_article_link_to_a_private_address_on_another_host_is_not_fetched() {
    let server = TestServer::start();
    // The feed is on 127.0.0.1 (trusted: the operator configured it); the
    // link names another host, localhost, which resolves to loopback.
    let secret = format!("http://localhost:{}/secret", server.addr.port());
    server.set(
        "/feed.xml",
        Route::rss(rss(
            "F",
            &[Item {
                guid: "1",
                title: "Innocent",
                link: &secret,
                description: "The feed's own text of this entry.",
                pub_date: DATE_1,
            }],
        )),
    );
    server.set("/secret", Route::html("<p>internal admin page</p>"));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    let output = gleaner.ok(&["poll"]);

    assert!(
        server.requests("/secret").is_empty(),
        "the private link was fetched"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("non-public address"),
        "the refusal is logged: {stderr}"
    );
    let articles = gleaner.export(&[]);
    assert_eq!(articles[0]["content_source"], "feed");
    assert_eq!(text(&articles[0]), "The feed's own text of this entry.");

    // The operator can allow it.
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config("[fetch]\n", "[fetch]\nallow_private_networks = true\n");
    gleaner.poll();
    assert_eq!(server.requests("/secret").len(), 1);
}

#[test]
fn full_text_off_uses_the_feeds_content_and_filters_select_articles() {
    let server = TestServer::start();
    server.set(
        "/a.xml",
        Route::rss(rss("A", &[item("1", "From A", &server.url("/pa"))])),
    );
    server.set(
        "/b.xml",
        Route::rss(rss("B", &[item("2", "From B", &server.url("/pb"))])),
    );
    let feeds = [
        feed_block(
            "a",
            &server.url("/a.xml"),
            "full_text = false\ntags = [\"x\"]",
        ),
        feed_block(
            "b",
            &server.url("/b.xml"),
            "full_text = false\ntags = [\"y\"]",
        ),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);
    gleaner.poll();
    assert!(server.requests("/pa").is_empty() && server.requests("/pb").is_empty());

    let all = gleaner.export(&["--format", "jsonl"]);
    assert_eq!(all.len(), 2);
    assert_eq!(gleaner.export(&["--feed", "a"])[0]["title"], "From A");
    assert_eq!(gleaner.export(&["--tag", "y"])[0]["title"], "From B");
    assert_eq!(
        gleaner.export(&["--since", "2000-01-01T00:00:00Z"]).len(),
        2
    );
    assert!(
        gleaner
            .export(&["--since", "2999-01-01T00:00:00Z"])
            .is_empty()
    );
    assert_eq!(
        gleaner.export(&["--feed", "a"])[0]["content_source"],
        "feed"
    );
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_bodies_are_decoded_and_the_cap_applies_to_the_decoded_size() {
    let server = TestServer::start();
    let mut feed = Route::rss(gzip(
        rss("F", &[item("1", "Zipped", &server.url("/a"))]).as_bytes(),
    ));
    feed.headers
        .push(("content-encoding".into(), "gzip".into()));
    server.set("/feed.xml", feed);
    server.set(
        "/a",
        Route::html(article_page("Zipped", &story("the harbour"), "")),
    );
    // 3 MB of padding compresses to a few kB: only the decoded size can trip the cap.
    let padding = format!("<!-- {} -->", "x".repeat(3_000_000));
    let big = rss("Big", &[item("2", "Padded", &server.url("/b"))])
        .replace("</rss>", &format!("{padding}</rss>"));
    let mut big_route = Route::rss(gzip(big.as_bytes()));
    big_route
        .headers
        .push(("content-encoding".into(), "gzip".into()));
    server.set("/big.xml", big_route);

    let feeds = [
        feed_block("zipped", &server.url("/feed.xml"), ""),
        feed_block("big", &server.url("/big.xml"), ""),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);
    gleaner.edit_config("[fetch]\n", "[fetch]\nmax_feed_bytes = 1_000_000\n");
    gleaner.poll();

    let requests = server.requests("/feed.xml");
    let accepted = requests[0].headers["accept-encoding"].to_str().unwrap();
    for encoding in ["gzip", "deflate", "br"] {
        assert!(accepted.contains(encoding), "{accepted}");
    }
    assert_eq!(gleaner.export(&[])[0]["title"], "Zipped");
    let feeds = gleaner.feeds();
    assert_eq!(feeds["big"]["state"], "error");
    let error = feeds["big"]["last_error"].as_str().unwrap();
    assert!(
        error.contains("larger than the limit of 1000000 bytes"),
        "{error}"
    );
}

#[test]
fn redirects_are_followed_up_to_a_limit() {
    let server = TestServer::start();
    let redirect = |to: &str| {
        let mut route = Route::new(301, "text/plain", "");
        route.headers.push(("location".into(), to.into()));
        route
    };
    server.set("/old.xml", redirect("/new.xml"));
    server.set(
        "/new.xml",
        Route::rss(rss("F", &[item("1", "Moved", &server.url("/a"))])),
    );
    server.set(
        "/a",
        Route::html(article_page("Moved", &story("the harbour"), "")),
    );
    server.set("/loop.xml", redirect("/loop.xml"));
    let feeds = [
        feed_block("moved", &server.url("/old.xml"), ""),
        feed_block("loop", &server.url("/loop.xml"), ""),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);
    let output = gleaner.ok(&["poll"]);
    assert_eq!(gleaner.export(&[])[0]["title"], "Moved");
    // A permanent move is reported, so the operator can update the config.
    assert_eq!(gleaner.feeds()["moved"]["moved_to"], server.url("/new.xml"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("moved permanently to"), "{stderr}");
    assert_eq!(
        server.requests("/loop.xml").len(),
        11,
        "the first request and 10 redirects"
    );
    let error = gleaner.feeds()["loop"]["last_error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(error.contains("more than 10 redirects"), "{error}");
}

#[test]
fn the_daemon_stores_what_extract_prints() {
    let server = TestServer::start();
    let link = server.url("/2026/11/museum");
    let page = article_page(
        "Museum",
        &story("the museum extension"),
        r#"<meta property="og:image" content="/img/m.jpg">"#,
    );
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[item("1", "Museum", &link)])),
    );
    server.set("/2026/11/museum", Route::html(page.clone()));
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    let stored = &gleaner.export(&[])[0];

    let page_file = gleaner.dir.path().join("page.html");
    std::fs::write(&page_file, page).unwrap();
    for (format, field) in [("text", "content_text"), ("html", "content_html")] {
        let output = gleaner.ok(&[
            "extract",
            "--url",
            &link,
            "--format",
            format,
            page_file.to_str().unwrap(),
        ]);
        let printed = String::from_utf8(output.stdout).unwrap();
        assert_eq!(
            printed.trim_end(),
            stored[field].as_str().unwrap(),
            "{format}"
        );
    }
    assert_eq!(stored["image"], server.url("/img/m.jpg"));
}

#[test]
fn requests_to_one_host_are_spaced() {
    let server = TestServer::start();
    let links: Vec<String> = (0..4).map(|i| server.url(&format!("/s{i}"))).collect();
    let items: Vec<Item<'_>> = links.iter().map(|l| item(l, "S", l)).collect();
    server.set("/feed.xml", Route::rss(rss("F", &items)));
    for i in 0..4 {
        server.set(
            &format!("/s{i}"),
            Route::html(article_page("S", &story(&format!("topic {i}")), "")),
        );
    }
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.edit_config(
        "per_host_interval_ms = 0",
        "per_host_interval_ms = 300\nper_host_concurrency = 4",
    );
    gleaner.poll();

    let mut starts: Vec<std::time::Instant> = server.all_requests().iter().map(|r| r.at).collect();
    starts.sort();
    assert_eq!(starts.len(), 5, "the feed and four pages");
    // 300 ms plus up to 25 % jitter between starts. The server notes a
    // request when it gets to it, which on a loaded machine can be late: the
    // whole span is exact, each gap is allowed that noise.
    let span = starts[4] - starts[0];
    assert!(
        span >= std::time::Duration::from_millis(4 * 290),
        "five requests within {span:?}"
    );
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap >= std::time::Duration::from_millis(100),
            "requests {gap:?} apart"
        );
    }
}

#[test]
fn a_redirect_from_the_feeds_host_to_a_private_address_is_not_followed() {
    let server = TestServer::start();
    // The link is on the feed's own (trusted) host, but redirects to another
    // host name that resolves to loopback: that hop is refused.
    let secret = format!("http://localhost:{}/secret", server.addr.port());
    server.set("/go", Route::redirect(&secret));
    server.set("/secret", Route::html("<p>internal admin page</p>"));
    server.set(
        "/feed.xml",
        Route::rss(rss("F", &[item("1", "Hop", &server.url("/go"))])),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    assert_eq!(server.requests("/go").len(), 1);
    assert!(
        server.requests("/secret").is_empty(),
        "the redirect was followed"
    );
    assert_eq!(gleaner.export(&[])[0]["content_source"], "feed");
}

#[test]
fn entries_that_are_anchors_of_one_page_stay_distinct_articles_with_their_own_text() {
    let server = TestServer::start();
    let day = server.url("/2026/11/23");
    let post = |guid: &'static str, text: &'static str, link: String| (guid, text, link);
    let posts = [
        post(
            "p1",
            "The ferry timetable changes on Monday.",
            format!("{day}#p1"),
        ),
        post(
            "p2",
            "A new bakery opened by the harbour.",
            format!("{day}#p2"),
        ),
        post(
            "p3",
            "The library stays open late this week.",
            format!("{day}#p3"),
        ),
    ];
    let feed = |posts: &[(&str, &str, String)]| {
        let items: Vec<Item<'_>> = posts
            .iter()
            .map(|(guid, text, link)| Item {
                guid,
                title: guid,
                link,
                description: text,
                pub_date: DATE_1,
            })
            .collect();
        Route::rss(rss("Day page", &items))
    };
    server.set("/feed.xml", feed(&posts[..2]));
    server.set(
        "/2026/11/23",
        Route::html(article_page("The whole day", &story("the day page"), "")),
    );
    let gleaner = Gleaner::new(&feed_block("day", &server.url("/feed.xml"), ""));
    gleaner.poll();
    // A later post on the same page, in the next poll.
    server.set("/feed.xml", feed(&posts));
    gleaner.poll();

    let articles = gleaner.export(&[]);
    let mut seen: Vec<(&str, &str, &str)> = articles
        .iter()
        .map(|a| {
            (
                a["sources"][0]["entry_id"].as_str().unwrap_or(""),
                text(a),
                a["content_source"].as_str().unwrap_or(""),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("p1", posts[0].1, "feed"),
            ("p2", posts[1].1, "feed"),
            ("p3", posts[2].1, "feed")
        ],
        "each anchor is its own article with its own text"
    );
    let ids: std::collections::HashSet<&str> =
        articles.iter().filter_map(|a| a["id"].as_str()).collect();
    assert_eq!(ids.len(), 3, "distinct public ids");
    assert!(
        server.requests("/2026/11/23").is_empty(),
        "the shared page is none of the entries' article"
    );
}

#[test]
fn credentials_in_a_feed_url_are_sent_but_never_shown() {
    let server = TestServer::start();
    let port = server.addr.port();
    server.set(
        "/private.xml",
        Route::rss(rss("P", &[item("1", "One", &server.url("/1"))])),
    );
    server.set(
        "/1",
        Route::html(article_page("One", &story("the library"), "")),
    );
    server.set("/down.xml", Route::new(500, "text/plain", "oops"));
    let secret = "s3cret-pass";
    let gleaner = Gleaner::new(
        &[
            feed_block(
                "private",
                &format!("http://reader:{secret}@127.0.0.1:{port}/private.xml"),
                "",
            ),
            feed_block(
                "down",
                &format!("http://reader:{secret}@127.0.0.1:{port}/down.xml"),
                "",
            ),
        ]
        .concat(),
    );
    let poll = gleaner.ok(&["--log-level", "debug", "poll"]);

    // The server got the credentials...
    let auth = server.requests("/private.xml")[0].headers["authorization"].clone();
    assert!(auth.to_str().unwrap().starts_with("Basic "), "{auth:?}");
    // ...and nothing gleaner prints, logs or exports shows them.
    let shown = [
        String::from_utf8_lossy(&poll.stdout).into_owned(),
        String::from_utf8_lossy(&poll.stderr).into_owned(),
        String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap(),
        String::from_utf8(gleaner.ok(&["feeds", "--json"]).stdout).unwrap(),
        String::from_utf8(gleaner.ok(&["export"]).stdout).unwrap(),
        String::from_utf8(gleaner.ok(&["export", "--format", "jsonfeed"]).stdout).unwrap(),
        String::from_utf8(gleaner.ok(&["export-opml"]).stdout).unwrap(),
    ];
    for text in &shown {
        assert!(!text.contains(secret), "the password is shown:\n{text}");
    }
    let feeds = gleaner.feeds();
    assert_eq!(
        feeds["private"]["url"],
        format!("http://***@127.0.0.1:{port}/private.xml")
    );
    let error = feeds["down"]["last_error"].as_str().unwrap();
    assert!(
        error.contains(&format!("http://***@127.0.0.1:{port}/down.xml")),
        "{error}"
    );
    let articles = gleaner.export(&[]);
    assert_eq!(
        articles[0]["sources"][0]["feed_url"],
        format!("http://***@127.0.0.1:{port}/private.xml")
    );
}
