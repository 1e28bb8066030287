//! Site rules in Full-Text RSS's format (`[extraction] site_config_dir`):
//! small rule files written for these tests, a local server, real polls
//! through the binary, the exported JSON.

mod common;

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block};
use serde_json::Value;

/// A page of a multi-page story: its own paragraphs in `#story`, a
/// navigation block and a "next page" link in a pager.
fn story_page(words: &str, next: Option<&str>) -> String {
    let paragraphs: String = (1..=4)
        .map(|i| {
            format!(
                "<p>Paragraph {i} of {words}: the council met on Thursday and argued at length \
                 about the cost, the timetable and the people who would live with it.</p>"
            )
        })
        .collect();
    let pager = next.map_or_else(String::new, |n| {
        format!(r#"<div class="pager"><a class="next" href="{n}">Next page</a></div>"#)
    });
    format!(
        r#"<html><head><title>Story</title></head><body>
        <nav><a href="/">Home</a> <a href="/world">World</a></nav>
        <div id="story"><div class="promo">Subscribe to our newsletter today</div>{paragraphs}</div>
        {pager}
        <div class="sidebar"><p>Most read: something else entirely, a long list of other stories.</p></div>
        </body></html>"#
    )
}

/// A set-up whose `[extraction] site_config_dir` holds `rules` as the rule
/// file of the test server's host, polling one feed with one entry at `/a/1`.
fn setup(server: &TestServer, rules: &str) -> Gleaner {
    let link = server.url("/a/1");
    server.set(
        "/feed.xml",
        Route::rss(rss(
            "Site",
            &[Item {
                guid: "a-1",
                title: "Story",
                link: &link,
                description: "A teaser.",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        )),
    );
    let gleaner = Gleaner::new(&format!(
        "[extraction]\nsite_config_dir = \"rules\"\n\n{}",
        feed_block("site", &server.url("/feed.xml"), "")
    ));
    let dir = gleaner.dir.path().join("rules");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("127.0.0.1.txt"), rules).unwrap();
    gleaner
}

fn only_article(gleaner: &Gleaner) -> Value {
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 1, "{articles:?}");
    articles[0].clone()
}

fn text(article: &Value) -> String {
    article["content_text"].as_str().unwrap_or("").to_owned()
}

#[test]
fn a_three_page_article_is_joined_in_order_with_each_pages_boilerplate_removed() {
    let server = TestServer::start();
    server.set(
        "/a/1",
        Route::html(story_page("page one", Some("/a/1?page=2"))),
    );
    server.set(
        "/a/1?page=2",
        Route::html(story_page("page two", Some("/a/1?page=3"))),
    );
    // The last page links back to the first: that is not followed again.
    server.set(
        "/a/1?page=3",
        Route::html(story_page("page three", Some("/a/1"))),
    );
    let gleaner = setup(
        &server,
        "body: //div[@id='story']\n\
         strip_id_or_class: promo\n\
         next_page_link: //div[@class='pager']/a[contains(@class, 'next')]\n",
    );
    gleaner.poll();

    let article = only_article(&gleaner);
    let text = text(&article);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing from {text}"))
    };
    assert!(at("Paragraph 1 of page one") < at("Paragraph 4 of page one"));
    assert!(at("Paragraph 4 of page one") < at("Paragraph 1 of page two"));
    assert!(at("Paragraph 4 of page two") < at("Paragraph 1 of page three"));
    for boilerplate in ["Subscribe", "Next page", "Most read", "Home"] {
        assert!(!text.contains(boilerplate), "{boilerplate:?} in {text}");
    }
    assert_eq!(text.matches("Paragraph 1 of page one").count(), 1);
    assert_eq!(
        article["word_count"].as_u64().unwrap() as usize,
        text.split_whitespace().count()
    );
    assert_eq!(server.requests("/a/1").len(), 1);
    assert_eq!(server.requests("/a/1?page=3").len(), 1);
}

#[test]
fn a_single_page_link_is_read_instead_of_the_first_page() {
    let server = TestServer::start();
    server.set(
        "/a/1",
        Route::html(story_page("the teaser page", None).replace(
            "</body>",
            r#"<a class="print" href="/print/1">Print</a></body>"#,
        )),
    );
    server.set("/print/1", Route::html(story_page("the whole story", None)));
    let gleaner = setup(
        &server,
        "body: //div[@id='story']\nsingle_page_link: //a[@class='print']\n",
    );
    gleaner.poll();

    let text = text(&only_article(&gleaner));
    assert!(text.contains("Paragraph 4 of the whole story"), "{text}");
    assert!(!text.contains("the teaser page"), "{text}");
}

#[test]
fn strip_and_http_header_rules_apply_to_the_sites_pages() {
    let server = TestServer::start();
    server.set("/a/1", Route::html(story_page("the story", None)));
    let gleaner = setup(
        &server,
        "# rules written for this test\n\
         body: //div[@id='story']\n\
         strip: //p[contains(., 'Paragraph 2')]\n\
         http_header(Cookie): consent=yes\n\
         http_header(user-agent): Mozilla/5.0 (test)\n",
    );
    gleaner.poll();

    let text = text(&only_article(&gleaner));
    assert!(text.contains("Paragraph 1 of the story"), "{text}");
    assert!(!text.contains("Paragraph 2"), "{text}");
    let page = &server.requests("/a/1")[0];
    assert_eq!(page.headers["cookie"], "consent=yes");
    assert_eq!(page.headers["user-agent"], "Mozilla/5.0 (test)");
    // The feed itself is not a page: it gets gleaner's own headers.
    let feed = &server.requests("/feed.xml")[0];
    assert!(feed.headers.get("cookie").is_none());
    assert!(
        feed.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("gleaner/")
    );
}

#[test]
fn a_body_rule_that_matches_nothing_leaves_the_page_to_the_extractor() {
    let server = TestServer::start();
    server.set("/a/1", Route::html(story_page("the story", None)));
    let gleaner = setup(&server, "body: //article[@class='gone']\n");
    gleaner.poll();
    let text = text(&only_article(&gleaner));
    assert!(text.contains("Paragraph 3 of the story"), "{text}");
    assert!(!text.contains("Home"), "{text}");
}

#[test]
fn extract_with_a_url_applies_the_rule_file_of_its_host() {
    let server = TestServer::start();
    let gleaner = setup(&server, "body: //div[@id='story']\nstrip: //p[2]\n");
    let page = gleaner.dir.path().join("page.html");
    std::fs::write(&page, story_page("the story", None)).unwrap();
    let output = gleaner.ok(&[
        "extract",
        "--url",
        &server.url("/a/1"),
        page.to_str().unwrap(),
    ]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("Paragraph 1 of the story"), "{text}");
    assert!(!text.contains("Paragraph 2 of the story"), "{text}");
}

#[test]
fn check_config_lists_broken_rules_as_warnings_and_still_succeeds() {
    let server = TestServer::start();
    let gleaner = setup(
        &server,
        "body: //div[@id='story']\nstrip: //div[\nno colon on this line\ntidy: no\n",
    );
    let output = gleaner.command().arg("check-config").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let file = gleaner.dir.path().join("rules").join("127.0.0.1.txt");
    let file = file.display();
    assert!(
        stderr.contains(&format!("{file}:2: strip: invalid XPath")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:3: not a rule")),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 2, "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("1 site file, 2 rules skipped"), "{stdout}");
}

#[test]
fn a_missing_rule_folder_is_a_config_error() {
    let gleaner = Gleaner::new("[extraction]\nsite_config_dir = [\"nowhere\"]\n");
    let output = gleaner.command().arg("check-config").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:8:19: [extraction].site_config_dir",
            gleaner.config_path().display()
        )),
        "{stderr}"
    );
}

#[test]
fn reextract_applies_a_new_rule_library_to_kept_pages_without_fetching() {
    let server = TestServer::start();
    server.set("/a/1", Route::html(story_page("the story", None)));
    // The first poll's library has nothing for this host.
    let gleaner = setup(&server, "");
    gleaner.edit_config("[storage]\n", "[storage]\nkeep_html = true\n");
    gleaner.poll();
    assert!(text(&only_article(&gleaner)).contains("Paragraph 3 of the story"));
    let fetched = server.all_requests().len();

    let rules = gleaner.dir.path().join("rules").join("127.0.0.1.txt");
    std::fs::write(
        &rules,
        "body: //div[@id='story']\nstrip: //p[contains(., 'Paragraph 3')]\n",
    )
    .unwrap();
    gleaner.ok(&["reextract"]);

    let text = text(&only_article(&gleaner));
    assert!(text.contains("Paragraph 2 of the story"), "{text}");
    assert!(!text.contains("Paragraph 3"), "{text}");
    assert_eq!(server.all_requests().len(), fetched, "reextract fetched");
}

#[test]
fn a_sites_headers_are_not_sent_to_another_host_it_redirects_to() {
    let server = TestServer::start();
    // The same server under another name: another host to the fetcher.
    let elsewhere = server.url("/moved").replace("127.0.0.1", "localhost");
    server.set("/a/1", Route::redirect(&elsewhere));
    server.set("/moved", Route::html(story_page("the story", None)));
    let gleaner = setup(&server, "http_header(cookie): session=secret\n");
    gleaner.edit_config("[fetch]\n", "[fetch]\nallow_private_networks = true\n");
    gleaner.poll();

    assert!(text(&only_article(&gleaner)).contains("Paragraph 1 of the story"));
    assert_eq!(
        server.requests("/a/1")[0].headers["cookie"],
        "session=secret"
    );
    let moved = &server.requests("/moved")[0];
    assert!(moved.headers.get("cookie").is_none(), "{:?}", moved.headers);
}
