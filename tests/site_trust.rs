//! A site is a scheme, a host and a port (SPEC, Security): what a feed's
//! site is trusted with does not extend to another port of the same
//! address. Two local servers on 127.0.0.1 play two services of one
//! machine: A serves the feed, B is another service nobody configured.
//! Every decision that compares two URLs is checked through the binary: the
//! trusted client for an article link and for each redirect hop, `add`'s
//! discovery, a site rule's `next_page_link`/`single_page_link` and its
//! `http_header`s.

mod common;

use common::pages::{Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer, feed_block};
use serde_json::Value;

fn item<'a>(guid: &'a str, link: &'a str, description: &'a str) -> Item<'a> {
    Item {
        guid,
        title: guid,
        link,
        description,
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    }
}

fn article<'a>(articles: &'a [Value], title: &str) -> &'a Value {
    articles
        .iter()
        .find(|a| a["title"] == title)
        .unwrap_or_else(|| panic!("no article {title:?} in {articles:#?}"))
}

#[test]
fn an_article_on_another_port_of_the_feeds_address_is_not_fetched_as_the_feeds_site() {
    let a = TestServer::start();
    let b = TestServer::start();
    b.set(
        "/internal/secret",
        Route::html(article_page("Secret", &story("the internal secret"), "")),
    );
    b.set(
        "/hopped",
        Route::html(article_page("Hopped", &story("the hopped secret"), "")),
    );
    a.set(
        "/post",
        Route::html(article_page("Post", &story("the public post"), "")),
    );
    a.set("/hop", Route::redirect(&b.url("/hopped")));
    let (secret, post, hop) = (b.url("/internal/secret"), a.url("/post"), a.url("/hop"));
    a.set(
        "/feed.xml",
        Route::rss(rss(
            "A",
            &[
                item("other-port", &secret, "The feed's own text of the link."),
                item("same-port", &post, "The feed's own text of the post."),
                item("redirected", &hop, "The feed's own text of the hop."),
            ],
        )),
    );
    let gleaner = Gleaner::new(&feed_block("a", &a.url("/feed.xml"), ""));
    let output = gleaner.ok(&["poll"]);
    let log = String::from_utf8_lossy(&output.stderr);

    assert!(
        b.all_requests().is_empty(),
        "the other service was fetched: {:?}",
        b.all_requests()
    );
    assert_eq!(a.requests("/hop").len(), 1, "the hop on the feed's site");
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 3, "{articles:#?}");
    let kept = article(&articles, "other-port");
    assert_eq!(kept["content_source"], "feed", "{kept:#}");
    assert_eq!(kept["content_text"], "The feed's own text of the link.");
    assert_eq!(article(&articles, "redirected")["content_source"], "feed");
    let fetched = article(&articles, "same-port");
    assert_eq!(fetched["content_source"], "article", "{fetched:#}");
    assert!(
        fetched["content_text"]
            .as_str()
            .unwrap()
            .contains("the public post")
    );
    for path in ["/internal/secret", "/hopped"] {
        assert!(
            log.lines()
                .any(|l| l.contains("non-public address") && l.contains(path)),
            "the refusal of {path} is logged:\n{log}"
        );
    }
}

#[test]
fn a_feed_redirected_to_another_port_of_its_address_is_refused() {
    let a = TestServer::start();
    let b = TestServer::start();
    a.set("/feed.xml", Route::redirect(&b.url("/feed.xml")));
    b.set(
        "/feed.xml",
        Route::rss(rss("B", &[item("1", "http://example.invalid/1", "inside")])),
    );
    let gleaner = Gleaner::new(&feed_block("a", &a.url("/feed.xml"), "full_text = false"));
    gleaner.poll();

    assert!(b.all_requests().is_empty(), "{:?}", b.all_requests());
    let feeds = gleaner.feeds();
    assert_eq!(feeds["a"]["state"], "error", "{:#}", feeds["a"]);
    let error = feeds["a"]["last_error"].as_str().unwrap();
    assert!(error.contains("non-public address"), "{error}");
}

#[test]
fn add_does_not_follow_a_pages_feed_link_to_another_port() {
    let a = TestServer::start();
    let b = TestServer::start();
    a.set(
        "/",
        Route::html(format!(
            "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"{}\"></head><body>Hi</body></html>",
            b.url("/private.xml")
        )),
    );
    b.set(
        "/private.xml",
        Route::rss(rss("B", &[item("1", "http://example.invalid/1", "inside")])),
    );
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["add", &a.url("/")])
        .output()
        .unwrap();
    assert!(!output.status.success(), "add found the other port's feed");
    assert!(b.all_requests().is_empty(), "{:?}", b.all_requests());
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    assert!(!config.contains("private.xml"), "{config}");
}

/// A set-up with a rule file for 127.0.0.1 (both servers' host) and a feed
/// on `a` whose one entry is `a`'s `/a/1`; private networks are allowed,
/// so what keeps `b` out is the site rule, not the address rule.
fn with_rules(a: &TestServer, rules: &str) -> Gleaner {
    let link = a.url("/a/1");
    a.set(
        "/feed.xml",
        Route::rss(rss("A", &[item("a-1", &link, "A teaser.")])),
    );
    let gleaner = Gleaner::new(&format!(
        "[extraction]\nsite_config_dir = \"rules\"\n\n{}",
        feed_block("a", &a.url("/feed.xml"), "")
    ));
    gleaner.edit_config("[fetch]\n", "[fetch]\nallow_private_networks = true\n");
    let dir = gleaner.dir.path().join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("127.0.0.1.txt"), rules).unwrap();
    gleaner
}

fn page_with_links(topic: &str, links: &str) -> Route {
    Route::html(
        article_page("Story", &story(topic), "").replace("</main>", &format!("{links}</main>")),
    )
}

#[test]
fn next_and_single_page_links_to_another_port_are_not_followed() {
    let a = TestServer::start();
    let b = TestServer::start();
    a.set(
        "/a/1",
        page_with_links(
            "the first page",
            &format!(
                r#"<a class="next" href="{}">Next</a><a class="print" href="{}">Print</a>"#,
                b.url("/a/1?page=2"),
                b.url("/print/1")
            ),
        ),
    );
    b.set("/a/1?page=2", page_with_links("the second page", ""));
    b.set("/print/1", page_with_links("the whole story", ""));
    let gleaner = with_rules(
        &a,
        "next_page_link: //a[@class='next']\nsingle_page_link: //a[@class='print']\n",
    );
    gleaner.poll();

    assert!(b.all_requests().is_empty(), "{:?}", b.all_requests());
    let articles = gleaner.export(&[]);
    let text = articles[0]["content_text"].as_str().unwrap();
    assert!(text.contains("the first page"), "{text}");
}

#[test]
fn a_site_rules_headers_are_not_sent_to_another_port_a_page_redirects_to() {
    let a = TestServer::start();
    let b = TestServer::start();
    a.set("/a/1", Route::redirect(&b.url("/moved")));
    b.set("/moved", page_with_links("the moved story", ""));
    let gleaner = with_rules(&a, "http_header(cookie): session=secret\n");
    gleaner.poll();

    assert_eq!(a.requests("/a/1")[0].headers["cookie"], "session=secret");
    let moved = &b.requests("/moved")[0];
    assert!(moved.headers.get("cookie").is_none(), "{:?}", moved.headers);
    let articles = gleaner.export(&[]);
    let text = articles[0]["content_text"].as_str().unwrap();
    assert!(text.contains("the moved story"), "{text}");
}
