//! Filter rules (issue 13): `block` and `keep` lists of `field: regex`, per
//! feed and in `[filter]`. What the entry shows is judged before the page is
//! fetched (a blocked entry's page is never requested, nothing is stored);
//! `content` rules again on the article's text. `feeds --json` counts drops.

mod common;

use common::pages::{article_page, escape, story};
use common::{Gleaner, Route, TestServer, feed_block};

/// An RSS item with categories.
fn item(id: &str, title: &str, link: &str, categories: &[&str]) -> String {
    let categories: String = categories
        .iter()
        .map(|c| format!("<category>{}</category>", escape(c)))
        .collect();
    format!(
        "<item><guid isPermaLink=\"false\">{id}</guid><title>{}</title><link>{}</link>\
         <description>teaser</description>{categories}<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>",
        escape(title),
        escape(link)
    )
}

fn rss(items: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>F</title>\
         <link>http://example.invalid/</link><description>d</description>{}</channel></rss>",
        items.concat()
    )
}

fn titles(gleaner: &Gleaner) -> Vec<String> {
    let mut titles: Vec<String> = gleaner
        .export(&["--format", "json"])
        .iter()
        .map(|a| a["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    titles
}

#[test]
fn blocked_entries_cost_no_page_and_are_not_stored() {
    let server = TestServer::start();
    let pages = [
        ("/good", article_page("Good", &story("the harbour"), "")),
        ("/sponsored", article_page("Ad", &story("a sofa"), "")),
        ("/video/clip", article_page("Clip", &story("a cat"), "")),
        ("/advert", article_page("Advert", &story("a car"), "")),
        (
            "/paywalled",
            article_page("Paywalled", &story("the tunnel"), ""),
        ),
    ];
    for (path, page) in &pages {
        server.set(path, Route::html(page.as_str()));
    }
    server.set(
        "/feed.xml",
        Route::rss(rss(&[
            item("1", "Good news", &server.url("/good"), &["Local"]),
            item("2", "SPONSORED: a sofa", &server.url("/sponsored"), &[]),
            item("3", "A clip", &server.url("/video/clip"), &[]),
            item("4", "A car", &server.url("/advert"), &["Local", "advert"]),
            item("5", "Underground", &server.url("/paywalled"), &[]),
        ])),
    );
    let gleaner = Gleaner::new(&format!(
        "[filter]\nblock = [\"title: (?i)sponsored|advert\", \"category: (?i)^advert$\"]\n\n{}",
        feed_block(
            "news",
            &server.url("/feed.xml"),
            "block = [\"url: /video/\", \"content: of the tunnel\"]"
        )
    ));
    gleaner.poll();

    assert_eq!(titles(&gleaner), ["Good news"]);
    for path in ["/sponsored", "/video/clip", "/advert"] {
        assert!(server.requests(path).is_empty(), "{path} was fetched");
    }
    // Only the page's text matches its content rule: fetched once, dropped.
    assert_eq!(server.requests("/paywalled").len(), 1);
    assert_eq!(server.requests("/good").len(), 1);
    assert_eq!(gleaner.feeds()["news"]["filtered"], 4);
}

#[test]
fn keep_rules_on_content_decide_on_the_articles_text() {
    let server = TestServer::start();
    server.set(
        "/harbour",
        Route::html(article_page("H", &story("the harbour"), "")),
    );
    server.set(
        "/bridge",
        Route::html(article_page("B", &story("the bridge"), "")),
    );
    server.set("/tagged", Route::html(article_page("T", &story("x"), "")));
    server.set(
        "/feed.xml",
        Route::rss(rss(&[
            item("h", "Harbour", &server.url("/harbour"), &[]),
            item("b", "Bridge", &server.url("/bridge"), &[]),
        ])),
    );
    server.set(
        "/tagged.xml",
        Route::rss(rss(&[item("t", "Tagged", &server.url("/tagged"), &[])])),
    );
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block(
            "harbour-only",
            &server.url("/feed.xml"),
            "keep = [\"content: (?i)the harbour\"]"
        ),
        // A keep rule on the config's tags: every entry of the feed matches.
        feed_block(
            "tagged",
            &server.url("/tagged.xml"),
            "tags = [\"ports\"]\nkeep = [\"tags: ^ports$\", \"title: never\"]"
        ),
    ));
    gleaner.poll();
    assert_eq!(titles(&gleaner), ["Harbour", "Tagged"]);
    let feeds = gleaner.feeds();
    assert_eq!(feeds["harbour-only"]["filtered"], 1);
    assert_eq!(feeds["tagged"]["filtered"], 0);
}

#[test]
fn a_rule_that_does_not_compile_is_a_config_error_at_its_position() {
    let gleaner = Gleaner::new(
        "[filter]\nkeep = [\"title: ok\", \"title: (unclosed\"]\n\n\
         [[feeds]]\nurl = \"https://a.example/f\"\nblock = [\"body: x\", \"no field\"]\n",
    );
    // The harness puts 6 lines of [storage]/[fetch] before these.
    gleaner.config_problems(&[
        "8:22: filter rule \"title: (unclosed\": the regex does not compile",
        "12:10: filter rule \"body: x\": unknown field \"body\"",
        "12:21: filter rule \"no field\": write `field: regex`",
    ]);
}
