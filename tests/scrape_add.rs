//! `gleaner add` on pages that publish no feed: it finds the list of
//! entries itself. Fourteen listing layouts written for this test (cards,
//! lists, tables, definition lists, nested sections, …), each beside
//! navigation, a rail of popular links, a pager, a footer and sometimes a
//! tag cloud, in varying markup. After `add`, a real poll reads each page
//! with the expressions written, and the export must hold exactly the
//! entries' links: none missing, no link of the page's furniture.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::pages::{Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer};

const TOPICS: [&str; 6] = [
    "Harbour wall repairs begin next month",
    "New cycle lanes approved for the ring road",
    "Library opening hours extended over winter",
    "Council publishes its draft budget for 2027",
    "Primary school expansion gets the go-ahead",
    "Street lighting to switch to LED by spring",
];

const POPULAR: [&str; 5] = [
    "Residents react to the new parking rules",
    "Ten photos of the winter market opening",
    "Why the bus station clock stopped for a week",
    "The oldest pub in town changes hands",
    "Lost dog found safe after three days in the woods",
];

/// One entry of a listing: its title and the path its link leads to.
struct Entry {
    title: String,
    path: String,
}

/// Navigation, the popular rail, the pager, the footer and the tag cloud,
/// in one of three spellings each (`v` picks), around `entries`.
fn page(v: usize, layout: usize, entries: &str, head: &str) -> String {
    let nav = [
        "<header><a href=\"/\">Town Council</a><nav><ul><li><a href=\"/\">Home</a></li>\
         <li><a href=\"/departments/planning\">Planning and building control</a></li>\
         <li><a href=\"/departments/waste\">Bins, recycling and waste</a></li>\
         <li><a href=\"/contact\">Contact the council offices</a></li></ul></nav></header>",
        "<div id=\"top-menu\" class=\"menu\"><a href=\"/\">Home</a> | <a href=\"/services/parking\">Parking permits and fines</a> | \
         <a href=\"/services/council-tax\">Council tax and benefits</a> | <a href=\"/about\">About the council</a></div>",
        "<div class=\"navbar\"><ul><li><a href=\"/\">Home</a></li><li><a href=\"/news/\">News and announcements</a></li>\
         <li><a href=\"/events\">What's on in town this month</a></li><li><a href=\"/jobs\">Jobs at the council</a></li></ul></div>",
    ][v % 3];
    let popular_items = |f: &dyn Fn(usize, &str) -> String| -> String {
        POPULAR.iter().enumerate().map(|(k, t)| f(k, t)).collect()
    };
    let rail = match v % 4 {
        0 => format!(
            "<aside><h3>Popular</h3><ol>{}</ol></aside>",
            popular_items(&|k, t| format!("<li><a href=\"/popular/{layout}-{k}\">{t}</a></li>"))
        ),
        1 => format!(
            "<div class=\"sidebar\"><div class=\"widget most-read\"><h4>Most read</h4><ul>{}</ul></div></div>",
            popular_items(&|k, t| format!(
                "<li><a href=\"/popular/{layout}-{k}\">{t}</a> <span>{} views</span></li>",
                1000 + k
            ))
        ),
        2 => format!(
            "<section class=\"trending\"><h2>Trending now</h2>{}</section>",
            popular_items(&|k, t| format!(
                "<div class=\"trend\"><h3><a href=\"/popular/{layout}-{k}\">{t}</a></h3></div>"
            ))
        ),
        // No name or landmark says what this rail is.
        _ => format!(
            "<div class=\"col-right\"><h3>Popular this week</h3>{}</div>",
            popular_items(&|k, t| format!(
                "<div class=\"pop-item\"><a href=\"/popular/{layout}-{k}\">{t}</a></div>"
            ))
        ),
    };
    let pager = [
        "<nav class=\"pagination\"><a href=\"?page=1\">1</a> <a href=\"?page=2\">2</a> <a href=\"?page=3\">3</a> <a href=\"?page=2\">Next page »</a></nav>",
        "<div class=\"pager\"><a href=\"?page=2\">« Older entries</a> <a href=\"?page=0\">Newer entries »</a></div>",
        "<ul class=\"page-numbers\"><li><a href=\"/news/page/1\">1</a></li><li><a href=\"/news/page/2\">2</a></li><li><a href=\"/news/page/2\">Next</a></li></ul>",
    ][v % 3];
    let footer = [
        "<footer><ul><li><a href=\"/accessibility\">Accessibility statement</a></li>\
         <li><a href=\"/privacy\">Privacy and cookie policy</a></li><li><a href=\"/foi\">Freedom of information requests</a></li></ul>\
         <p>© 2026 Town Council</p></footer>",
        "<div id=\"footer\" class=\"site-info\"><a href=\"/terms\">Terms and conditions of use</a> \
         <a href=\"/privacy\">Privacy and cookie policy</a> <a href=\"/sitemap\">Sitemap of the website</a></div>",
        "<div role=\"contentinfo\"><p><a href=\"/accessibility\">Accessibility statement</a></p>\
         <p><a href=\"/complaints\">Comments, compliments and complaints</a></p><p><a href=\"/data\">Open data and transparency</a></p></div>",
    ][(v + 1) % 3];
    let tags = match v % 2 {
        0 => {
            "<div class=\"tag-cloud\"><a href=\"/tag/roads\">roads</a> <a href=\"/tag/schools\">schools</a> \
              <a href=\"/tag/budget\">budget</a> <a href=\"/tag/public-transport\">public transport</a> \
              <a href=\"/tag/libraries\">libraries</a></div>"
        }
        _ => "",
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>News | Town Council</title>{head}</head><body>\
         {nav}<div class=\"wrap\"><div class=\"content-area\"><h1>Latest news</h1>{entries}{pager}</div>{rail}{tags}</div>{footer}</body></html>"
    )
}

fn entries_of(layout: usize, area: &str) -> Vec<Entry> {
    TOPICS
        .iter()
        .enumerate()
        .map(|(i, topic)| Entry {
            title: format!("{topic} ({layout}.{i})"),
            path: format!("/{area}/{layout}-{i}"),
        })
        .collect()
}

fn join(entries: &[Entry], f: impl Fn(usize, &Entry) -> String) -> String {
    entries.iter().enumerate().map(|(i, e)| f(i, e)).collect()
}

/// Layout `n`: the page's HTML and the entries it lists.
fn layout(n: usize, server: &TestServer) -> (String, Vec<Entry>) {
    let day = |i: usize| format!("2026-11-{:02}", 20 - i);
    match n {
        0 => {
            let entries = entries_of(n, "news");
            let html = join(&entries, |i, e| {
                format!(
                    "<div class=\"card\"><a href=\"{p}\"><img src=\"/img/{i}.jpg\" alt=\"\"></a><div class=\"card-body\">\
                     <h3 class=\"card-title\"><a href=\"{p}\">{t}</a></h3><p>A few lines about {t}.</p>\
                     <time datetime=\"{d}T09:00:00Z\">{d}</time></div></div>",
                    p = e.path,
                    t = e.title,
                    d = day(i)
                )
            });
            (format!("<div class=\"grid\">{html}</div>"), entries)
        }
        1 => {
            let entries = entries_of(n, "news");
            let html = join(&entries, |i, e| {
                format!(
                    "<li><a href=\"{}\">{}</a> <span class=\"date\">{}</span></li>",
                    e.path,
                    e.title,
                    day(i)
                )
            });
            (format!("<ul class=\"news-list\">{html}</ul>"), entries)
        }
        2 => {
            let entries = entries_of(n, "notices");
            let html = join(&entries, |i, e| {
                format!(
                    "<tr><td>{}</td><td><a href=\"{}\">{}</a></td><td>Planning</td></tr>",
                    day(i),
                    e.path,
                    e.title
                )
            });
            (
                format!(
                    "<table class=\"listing\"><thead><tr><th>Date</th><th>Notice</th><th>Department</th></tr></thead>\
                     <tbody>{html}</tbody></table>"
                ),
                entries,
            )
        }
        3 => {
            // The heading row is in the body, as old pages write tables.
            let entries = entries_of(n, "minutes");
            let html = join(&entries, |i, e| {
                format!(
                    "<tr><td><a href=\"{}\">{}</a></td><td>{}</td></tr>",
                    e.path,
                    e.title,
                    day(i)
                )
            });
            (
                format!("<table><tr><th>Meeting</th><th>Date</th></tr>{html}</table>"),
                entries,
            )
        }
        4 => {
            let entries = entries_of(n, "press");
            let html = join(&entries, |_, e| {
                format!(
                    "<dt><a href=\"{}\">{}</a></dt><dd>The press office said more about {} today.</dd>",
                    e.path, e.title, e.title
                )
            });
            (format!("<dl class=\"releases\">{html}</dl>"), entries)
        }
        5 => {
            // Nested sections: the entries grouped by month.
            let entries = entries_of(n, "news");
            let item = |e: &Entry| {
                format!(
                    "<li><article><h3><a href=\"{}\">{}</a></h3><p>What happened with {}.</p></article></li>",
                    e.path, e.title, e.title
                )
            };
            let html = format!(
                "<section class=\"month\"><h2>November 2026</h2><ul>{}</ul></section>\
                 <section class=\"month\"><h2>October 2026</h2><ul>{}</ul></section>",
                entries[..3].iter().map(item).collect::<String>(),
                entries[3..].iter().map(item).collect::<String>()
            );
            (html, entries)
        }
        6 => {
            // The whole card is the link.
            let entries = entries_of(n, "stories");
            let html = join(&entries, |i, e| {
                format!(
                    "<article class=\"teaser\"><a class=\"block-link\" href=\"{}\"><h2>{}</h2>\
                     <p>Read the story of {}.</p></a><time datetime=\"{}\">{}</time></article>",
                    e.path,
                    e.title,
                    e.title,
                    day(i),
                    day(i)
                )
            });
            (format!("<main>{html}</main>"), entries)
        }
        7 => {
            // Classes that number the items, a category link and a "read
            // more" to the same page.
            let entries = entries_of(n, "news");
            let html = join(&entries, |i, e| {
                let parity = if i % 2 == 0 { "odd" } else { "even" };
                format!(
                    "<div class=\"item item-{i} {parity}\"><a class=\"cat\" href=\"/category/roads\">Roads</a>\
                     <span class=\"t\"><a href=\"{p}\">{t}</a></span><div class=\"intro\">The intro to {t}.</div>\
                     <a href=\"{p}\">Read more</a></div>",
                    p = e.path,
                    t = e.title
                )
            });
            (format!("<div class=\"items\">{html}</div>"), entries)
        }
        8 => {
            // Absolute links, and a long "continue reading" to the same page.
            let entries = entries_of(n, "blog");
            let html = join(&entries, |_, e| {
                let url = server.url(&e.path);
                format!(
                    "<li class=\"post\"><h4><a href=\"{url}\">{t}</a></h4><p>Summary of {t}.</p>\
                     <a class=\"more\" href=\"{url}#more\">Continue reading: {t}</a></li>",
                    t = e.title
                )
            });
            (format!("<ol class=\"posts\">{html}</ol>"), entries)
        }
        9 => {
            // Links relative to <base href>.
            let entries = entries_of(n, "site/stories");
            let html = join(&entries, |i, e| {
                let slug = e.path.rsplit('/').next().unwrap_or_default();
                format!(
                    "<div class=\"entry\"><h2 class=\"entry-title\"><a href=\"stories/{slug}\">{}</a></h2>\
                     <div class=\"entry-meta\">Posted on {}</div></div>",
                    e.title,
                    day(i)
                )
            });
            (format!("<div id=\"content\">{html}</div>"), entries)
        }
        10 => {
            // Media objects, with a rail in the same markup beside them.
            let entries = entries_of(n, "news");
            let html = join(&entries, |i, e| {
                format!(
                    "<div class=\"media\"><img src=\"/img/{i}.png\" alt=\"\"><div class=\"media-body\">\
                     <h5><a href=\"{p}\">{t}</a></h5><p>Short text about {t}, and a little more.</p></div></div>",
                    p = e.path,
                    t = e.title
                )
            });
            let rail = POPULAR
                .iter()
                .enumerate()
                .map(|(k, t)| {
                    format!(
                        "<div class=\"media\"><div class=\"media-body\"><h5><a href=\"/popular/more-{k}\">{t}</a></h5></div></div>"
                    )
                })
                .collect::<String>();
            (
                format!("<div class=\"list\">{html}</div><aside class=\"also\">{rail}</aside>"),
                entries,
            )
        }
        12 => {
            // Inside a page-wide form (ASP.NET), in a body named for its
            // sidebar: the layout's names say nothing of the list.
            let entries = entries_of(n, "notices");
            let html = join(&entries, |i, e| {
                format!(
                    "<div class=\"notice\"><h3><a href=\"{}\">{}</a></h3><span>Published {}</span></div>",
                    e.path,
                    e.title,
                    day(i)
                )
            });
            (format!("<div class=\"notices\">{html}</div>"), entries)
        }
        13 => {
            // A blog theme's posts: a header with the author's link, a
            // footer of category and tag links inside each post.
            let entries = entries_of(n, "blog");
            let html = join(&entries, |i, e| {
                format!(
                    "<article class=\"post type-post entry\"><header class=\"entry-header\">\
                     <h2 class=\"entry-title\"><a href=\"{p}\">{t}</a></h2><p class=\"entry-meta\">\
                     <time class=\"entry-time\" datetime=\"{d}T10:00:00+00:00\">{d}</time> by \
                     <a href=\"/author/jane\">Jane Doe</a></p></header><div class=\"entry-content\">\
                     <p>What the post says about {t}.</p></div><footer class=\"entry-footer\">\
                     <a href=\"/category/news\">News</a> <a href=\"/tag/roads\">roads</a></footer></article>",
                    p = e.path,
                    t = e.title,
                    d = day(i)
                )
            });
            (format!("<main class=\"content\">{html}</main>"), entries)
        }
        _ => {
            // A press page of paragraphs: a bold link and a date each.
            let entries = entries_of(n, "press");
            let html = join(&entries, |i, e| {
                format!(
                    "<p><strong><a href=\"{}\">{}</a></strong><br>{}</p>",
                    e.path,
                    e.title,
                    day(i)
                )
            });
            (
                format!(
                    "<div class=\"text\"><p>Our latest press releases are below.</p>{html}</div>"
                ),
                entries,
            )
        }
    }
}

const LAYOUTS: usize = 14;

/// The date layout `n` shows for its entry `i`, as exported: from a
/// `<time datetime>` or an ISO date in the item's text; layouts that show
/// none have none (their article pages have none either).
fn shown_date(n: usize, i: usize) -> Option<String> {
    let day = format!("2026-11-{:02}", 20 - i);
    match n {
        0 => Some(format!("{day}T09:00:00Z")),
        1 | 2 | 3 | 6 | 9 | 11 | 12 => Some(format!("{day}T00:00:00Z")),
        13 => Some(format!("{day}T10:00:00Z")),
        _ => None,
    }
}

fn listing_path(n: usize) -> String {
    if n == 9 {
        "/site/index.html".to_owned()
    } else {
        format!("/l{n}/")
    }
}

/// Serves layout `n` and every page its entries and its rail link to.
fn serve_layout(server: &TestServer, n: usize) -> Vec<Entry> {
    let (entries_html, entries) = layout(n, server);
    let head = if n == 9 { "<base href=\"/site/\">" } else { "" };
    let mut html = page(n, n, &entries_html, head);
    if n == 12 {
        html = html
            .replace(
                "<body>",
                "<body class=\"home blog has-sidebar\"><form id=\"aspnetForm\" method=\"post\" action=\"./\">",
            )
            .replace("</body>", "</form></body>")
            .replace("<div class=\"wrap\">", "<div class=\"wrap content-sidebar-wrap\">");
    }
    server.set(&listing_path(n), Route::html(html));
    for e in &entries {
        server.set(
            &e.path,
            Route::html(article_page(&e.title, &story(&e.title), "")),
        );
    }
    for (k, t) in POPULAR.iter().enumerate() {
        for path in [format!("/popular/{n}-{k}"), format!("/popular/more-{k}")] {
            server.set(&path, Route::html(article_page(t, &story(t), "")));
        }
    }
    entries
}

#[test]
fn add_finds_the_entries_of_fourteen_listing_layouts_and_takes_no_other_link() {
    let server = TestServer::start();
    let gleaner = Gleaner::new("");
    let mut expected: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut dates: BTreeMap<String, Option<String>> = BTreeMap::new();
    for n in 0..LAYOUTS {
        let entries = serve_layout(&server, n);
        let name = format!("layout-{n}");
        let out = gleaner.ok(&["add", &server.url(&listing_path(n)), "--name", &name]);
        let out = String::from_utf8(out.stdout).unwrap();
        assert!(out.contains("[feeds.scrape]"), "layout {n}: {out}");
        assert!(
            out.contains(&entries[0].title),
            "layout {n} prints its first entry: {out}"
        );
        expected.insert(name, entries.iter().map(|e| server.url(&e.path)).collect());
        for (i, e) in entries.iter().enumerate() {
            dates.insert(server.url(&e.path), shown_date(n, i));
        }
    }
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    println!("{config}");
    gleaner.poll();
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for article in gleaner.export(&[]) {
        let url = article["url"].as_str().unwrap();
        if let Some(date) = dates.get(url) {
            assert_eq!(article["published"].as_str(), date.as_deref(), "{url}");
        }
        for source in article["sources"].as_array().unwrap() {
            found
                .entry(source["feed"].as_str().unwrap().to_owned())
                .or_default()
                .insert(article["url"].as_str().unwrap().to_owned());
        }
    }
    for (name, want) in &expected {
        assert_eq!(found.get(name), Some(want), "{name}; config:\n{config}");
    }
    let feeds = gleaner.feeds();
    for name in expected.keys() {
        assert_eq!(feeds[name]["kind"], "scrape");
        assert_eq!(feeds[name]["state"], "ok", "{}", feeds[name]);
    }
}

#[test]
fn add_says_so_when_nothing_on_the_page_repeats() {
    let server = TestServer::start();
    // Furniture only: navigation, a rail, a pager, a footer, and one story.
    let story_only = "<article><h2><a href=\"/news/one\">The only story on this page today</a></h2><p>Text.</p></article>";
    server.set("/", Route::html(page(0, 0, story_only, "")));
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["add", &server.url("/")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no list of entries found on"), "{stderr}");
    assert!(
        stderr.contains(&server.url("/rss.xml")),
        "the feeds tried are listed: {stderr}"
    );
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    assert!(!config.contains("[[feeds]]"), "{config}");
}

#[test]
fn scrape_reads_the_page_even_when_it_has_a_feed() {
    let server = TestServer::start();
    let entries = serve_layout(&server, 1);
    let listing = listing_path(1);
    let with_feed = page(
        1,
        1,
        &layout(1, &server).0,
        "<link rel=\"alternate\" type=\"application/rss+xml\" href=\"/feed.xml\">",
    );
    server.set(&listing, Route::html(with_feed));
    server.set(
        "/feed.xml",
        Route::rss(rss(
            "News",
            &[Item {
                guid: "1",
                title: "From the feed",
                link: "http://example.invalid/1",
                description: "text",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        )),
    );
    let gleaner = Gleaner::new("");
    gleaner.ok(&["add", &server.url(&listing), "--name", "feed"]);
    gleaner.ok(&["add", &server.url(&listing), "--name", "page", "--scrape"]);
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    assert_eq!(config.matches("[feeds.scrape]").count(), 1, "{config}");
    let feeds = gleaner.feeds_before_any_poll();
    assert_eq!(feeds["feed"]["kind"], "feed");
    assert_eq!(feeds["feed"]["url"], server.url("/feed.xml"));
    assert_eq!(feeds["page"]["kind"], "scrape");
    assert_eq!(feeds["page"]["url"], server.url(&listing));
    gleaner.poll();
    let urls: BTreeSet<String> = gleaner
        .export(&["--feed", "page"])
        .iter()
        .map(|a| a["url"].as_str().unwrap().to_owned())
        .collect();
    let want: BTreeSet<String> = entries.iter().map(|e| server.url(&e.path)).collect();
    assert_eq!(urls, want);
}
