//! `[feeds.scrape]` and `[feeds.json]`: a web page read with XPath and a
//! JSON document read with dot paths, through real polls against a local
//! server: the entries go through the same pipeline as a feed's (full
//! text, dedup, export), a page whose items vanish is a failed poll, and
//! `check-config` places every bad expression.

mod common;

use common::pages::{article_page, story};
use common::{Gleaner, Route, TestServer, feed_block};

/// A news page: navigation, a list of posts (newest first) whose links are
/// relative to `<base href="/site/">`, a pager and a footer.
fn news_page(posts: &[(&str, &str, &str)]) -> String {
    let posts: String = posts
        .iter()
        .map(|(slug, title, date)| {
            format!(
                "<article class=\"post featured\"><h2><a href=\"posts/{slug}.html\">{title}</a></h2>\
                 <time datetime=\"{date}\">a while ago</time><p>Teaser of {title}.</p></article>\n"
            )
        })
        .collect();
    format!(
        "<html><head><base href=\"/site/\"><title>Council news</title></head><body>\
         <nav><a href=\"/\">Home</a> <a href=\"/about\">About the council</a></nav>\
         <main>{posts}</main><div class=\"pager\"><a href=\"?page=2\">Older posts</a></div>\
         <footer><a href=\"/privacy\">Privacy</a></footer></body></html>"
    )
}

fn serve_post(server: &TestServer, slug: &str, title: &str) {
    server.set(
        &format!("/site/posts/{slug}.html"),
        Route::html(article_page(title, &story(title), "")),
    );
}

const FIRST: [(&str, &str, &str); 3] = [
    ("bridge", "The bridge reopens", "2026-11-20T08:00:00Z"),
    (
        "library",
        "The library extends its hours",
        "2026-11-19T08:00:00Z",
    ),
    ("market", "A new market square", "2026-11-18T08:00:00+01:00"),
];

#[test]
fn a_page_read_with_xpath_gives_entries_with_full_text_and_a_second_poll_adds_only_new_ones() {
    let server = TestServer::start();
    server.set("/news/", Route::html(news_page(&FIRST)));
    for (slug, title, _) in FIRST {
        serve_post(&server, slug, title);
    }
    // A block rule drops one item before its page is fetched, as for a feed.
    let block = feed_block(
        "council",
        &server.url("/news/"),
        "block = [\"title: (?i)pigeons\"]\n[feeds.scrape]\nitems = \"//article[contains(@class, 'post')]\"\ntitle = \".//h2\"\nsummary = \".//p[1]\"",
    );
    let gleaner = Gleaner::new(&block);
    let out = gleaner.poll();
    assert!(out.contains("3 new articles"), "{out}");

    let articles = gleaner.export(&[]);
    let mut seen: Vec<(String, String, String)> = articles
        .iter()
        .map(|a| {
            (
                a["title"].as_str().unwrap().to_owned(),
                a["url"].as_str().unwrap().to_owned(),
                a["published"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(String, String, String)> = vec![
        (
            "A new market square".into(),
            server.url("/site/posts/market.html"),
            "2026-11-18T07:00:00Z".into(),
        ),
        (
            "The bridge reopens".into(),
            server.url("/site/posts/bridge.html"),
            "2026-11-20T08:00:00Z".into(),
        ),
        (
            "The library extends its hours".into(),
            server.url("/site/posts/library.html"),
            "2026-11-19T08:00:00Z".into(),
        ),
    ];
    want.sort();
    assert_eq!(seen, want);
    for article in &articles {
        assert_eq!(article["content_source"], "article", "{article}");
        let title = article["title"].as_str().unwrap();
        let text = article["content_text"].as_str().unwrap();
        assert!(text.contains(&format!("the future of {title}")), "{text}");
    }
    // Stored oldest first: the page's last item is the first article.
    assert_eq!(articles[0]["title"], "A new market square");
    assert_eq!(gleaner.feeds()["council"]["kind"], "scrape");

    // Two posts appear on top; the three known ones are not fetched again.
    let mut second = vec![
        ("park", "The park gets new benches", "2026-11-22T08:00:00Z"),
        (
            "pigeons",
            "Too many pigeons in the square",
            "2026-11-21T12:00:00Z",
        ),
        (
            "school",
            "The school opens a new wing",
            "2026-11-21T08:00:00Z",
        ),
    ];
    second.extend(FIRST);
    server.set(
        "/news/",
        Route::html(news_page(&second)).with_etag("\"v2\""),
    );
    for (slug, title, _) in &second[..3] {
        serve_post(&server, slug, title);
    }
    let out = gleaner.poll();
    assert!(out.contains("2 new articles"), "{out}");
    assert_eq!(gleaner.export(&[]).len(), 5);
    assert_eq!(server.requests("/site/posts/bridge.html").len(), 1);
    assert!(server.requests("/site/posts/pigeons.html").is_empty());
    assert_eq!(gleaner.feeds()["council"]["filtered"], 1);

    // The page's validators are kept: unchanged, it is not read again.
    let out = gleaner.poll();
    assert!(out.contains("1 not modified"), "{out}");
    assert_eq!(gleaner.feeds()["council"]["state"], "not_modified");
}

#[test]
fn a_json_document_read_with_dot_paths_gives_entries_with_their_ids_and_full_text() {
    let server = TestServer::start();
    let item = |uuid: &str, slug: &str, title: &str, date: &str| {
        serde_json::json!({
            "uuid": uuid,
            "headline": title,
            "links": {"web": format!("/stories/{slug}")},
            "meta": {"date": date},
            "teaser": format!("Teaser of {title}"),
            "byline": "Ann Reporter",
            "image": {"url": format!("/img/{slug}.jpg")},
        })
    };
    let document = |items: Vec<serde_json::Value>| {
        Route::new(
            200,
            "application/json",
            serde_json::json!({"data": {"posts": items}, "total": 2}).to_string(),
        )
    };
    let first = vec![
        item(
            "u-2",
            "tram",
            "The tram line is extended",
            "2026-11-20T09:30:00Z",
        ),
        item(
            "u-1",
            "pool",
            "The swimming pool reopens",
            "2026-11-19T09:30:00Z",
        ),
    ];
    server.set("/api/latest.json", document(first.clone()));
    for (slug, title) in [
        ("tram", "The tram line is extended"),
        ("pool", "The swimming pool reopens"),
        ("zoo", "The zoo welcomes two pandas"),
    ] {
        server.set(
            &format!("/stories/{slug}"),
            Route::html(article_page(title, &story(title), "")),
        );
    }
    let block = feed_block(
        "api",
        &server.url("/api/latest.json"),
        "[feeds.json]\nitems = \"data.posts\"\ntitle = \"headline\"\nlink = \"links.web\"\n\
         published = \"meta.date\"\nsummary = \"teaser\"\nauthor = \"byline\"\nimage = \"image.url\"\nid = \"uuid\"",
    );
    let gleaner = Gleaner::new(&block);
    let out = gleaner.poll();
    assert!(out.contains("2 new articles"), "{out}");
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2);
    let pool = &articles[0];
    assert_eq!(pool["title"], "The swimming pool reopens");
    assert_eq!(pool["url"], server.url("/stories/pool"));
    assert_eq!(pool["published"], "2026-11-19T09:30:00Z");
    assert_eq!(pool["author"], "Ann Reporter");
    assert_eq!(pool["sources"][0]["entry_id"], "u-1");
    assert_eq!(pool["content_source"], "article");
    assert!(
        pool["content_text"]
            .as_str()
            .unwrap()
            .contains("the future of The swimming pool reopens")
    );
    assert_eq!(gleaner.feeds()["api"]["kind"], "json");

    let mut more = vec![item(
        "u-3",
        "zoo",
        "The zoo welcomes two pandas",
        "2026-11-21T09:30:00Z",
    )];
    more.extend(first);
    server.set("/api/latest.json", document(more));
    let out = gleaner.poll();
    assert!(out.contains("1 new article"), "{out}");
    assert_eq!(gleaner.export(&[]).len(), 3);
}

#[test]
fn items_that_match_nothing_are_a_failed_poll_with_that_cause() {
    let server = TestServer::start();
    server.set("/news/", Route::html(news_page(&FIRST)));
    server.set("/titles/", Route::html(news_page(&FIRST)));
    server.set(
        "/api.json",
        Route::new(200, "application/json", r#"{"data": {"items": []}}"#),
    );
    let blocks = [
        feed_block(
            "page",
            &server.url("/news/"),
            "[feeds.scrape]\nitems = \"//div[@class='story']\"",
        ),
        feed_block(
            "api",
            &server.url("/api.json"),
            "[feeds.json]\nitems = \"data.posts\"",
        ),
        feed_block("plain", &server.url("/feed.xml"), ""),
        // Matches, but nothing in it is a title or a link.
        feed_block(
            "titles",
            &server.url("/titles/"),
            "[feeds.scrape]\nitems = \"//head/title\"",
        ),
    ];
    let gleaner = Gleaner::new(&blocks.concat());
    let out = gleaner.poll();
    assert!(out.contains("0 new articles"), "{out}");
    let feeds = gleaner.feeds();
    let page = &feeds["page"];
    assert_eq!(page["state"], "error", "{page}");
    assert_eq!(page["consecutive_errors"], 1);
    let error = page["last_error"].as_str().unwrap();
    assert!(
        error.contains("no items on the page: `//div[@class='story']` matches nothing"),
        "{error}"
    );
    let api = feeds["api"]["last_error"].as_str().unwrap();
    assert!(
        api.contains("no items in the document: `data.posts` is not in it"),
        "{api}"
    );
    assert_eq!(feeds["plain"]["kind"], "feed");
    let titles = feeds["titles"]["last_error"].as_str().unwrap();
    assert!(
        titles.contains("`//head/title` matches 1 elements, none with a title or a link"),
        "{titles}"
    );
    let table = String::from_utf8(gleaner.ok(&["feeds"]).stdout).unwrap();
    assert!(table.contains("error: no items on the page"), "{table}");
}

#[test]
fn check_config_places_every_bad_expression() {
    // Lines 1-6 are the test config's own; the feeds start on line 7.
    let feeds = "[[feeds]]\nurl = \"https://a.example/news\"\n[feeds.scrape]\n\
                 items = \"//article[\"\ntitle = \".//h2\"\nlink = \"@@href\"\n\
                 [[feeds]]\nurl = \"https://b.example/api\"\n[feeds.json]\n\
                 items = \"data..posts\"\nid = \"meta.u id\"\n\
                 [[feeds]]\nurl = \"https://c.example/\"\n[feeds.scrape]\nitems = \"//li\"\nheadline = \".//h2\"\n";
    let gleaner = Gleaner::new(feeds);
    let message = gleaner.config_problems(&[
        // items = "//article[": the value starts at column 9.
        "10:9: feed https://a.example/news: [feeds.scrape] items",
        "12:8: feed https://a.example/news: [feeds.scrape] link",
        // data..posts: the empty segment after `data.` (column 10 + 5).
        "16:15: feed https://b.example/api: [feeds.json] items",
        // meta.u id: the space (the value's text starts at column 7).
        "17:13: feed https://b.example/api: [feeds.json] id",
    ]);
    assert!(
        message.contains(":22:1: unknown key `headline` in [feeds.scrape]"),
        "{message}"
    );
    assert!(message.contains("invalid XPath"), "{message}");
}
