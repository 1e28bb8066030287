//! `add`, `remove`, `import-opml` and `export-opml`: the config file is
//! edited in place, keeping the operator's comments and layout.

mod common;

use std::collections::HashMap;

use common::pages::{Item, rss};
use common::{Gleaner, Route, TestServer, feed_block};

fn a_feed(title: &str) -> Route {
    Route::rss(rss(
        title,
        &[Item {
            guid: "1",
            title: "Story",
            link: "http://example.invalid/1",
            description: "text",
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        }],
    ))
}

fn config_text(gleaner: &Gleaner) -> String {
    std::fs::read_to_string(gleaner.config_path()).unwrap()
}

const COMMENTED: &str = "# my feeds, hand-kept\n[[feeds]]\nname = \"first\"   # keep this note\nurl = \"https://first.example/feed\"\n";

#[test]
fn add_finds_the_feed_behind_a_page_and_keeps_the_config_as_written() {
    let server = TestServer::start();
    // A page that names its feed, and a site whose feed is at a usual path.
    server.set(
        "/",
        Route::html(
            "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"/news.xml\"></head><body>Hi</body></html>",
        ),
    );
    server.set("/news.xml", a_feed("News"));
    server.set(
        "/blog/",
        Route::html("<html><body>no links here</body></html>"),
    );
    server.set("/rss.xml", a_feed("Blog"));
    let gleaner = Gleaner::new(COMMENTED);
    let before = config_text(&gleaner);

    let output = gleaner.ok(&[
        "add",
        &server.url("/"),
        "--name",
        "news",
        "--tag",
        "local",
        "--tag",
        "daily",
    ]);
    let said = String::from_utf8(output.stdout).unwrap();
    assert!(
        said.starts_with(&format!("added news: {}", server.url("/news.xml"))),
        "{said}"
    );
    let after = config_text(&gleaner);
    assert!(
        after.starts_with(&before),
        "the existing text is untouched:\n{after}"
    );
    gleaner.ok(&["add", &server.url("/blog/")]);

    let feeds = gleaner.feeds_before_any_poll();
    assert_eq!(feeds["news"]["url"], server.url("/news.xml"));
    assert_eq!(feeds["news"]["tags"], serde_json::json!(["local", "daily"]));
    let derived: Vec<_> = feeds
        .values()
        .filter(|f| f["url"] == server.url("/rss.xml"))
        .collect();
    assert_eq!(derived.len(), 1, "the usual path was found: {feeds:?}");
    assert_eq!(feeds["first"]["url"], "https://first.example/feed");

    // Adding it again, or a name in use, is refused as a usage error (exit
    // 2, as README says) and changes nothing.
    let written = config_text(&gleaner);
    for args in [
        vec!["add", "--name", "other", &server.url("/news.xml")],
        vec!["add", "--name", "first", &server.url("/news.xml")],
    ] {
        let output = gleaner.command().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("already"), "{stderr}");
    }
    assert_eq!(config_text(&gleaner), written);
}

#[test]
fn add_says_where_it_looked_when_there_is_no_feed() {
    let server = TestServer::start();
    server.set("/", Route::html("<html><body>just a page</body></html>"));
    let gleaner = Gleaner::new(COMMENTED);
    let before = config_text(&gleaner);
    let output = gleaner
        .command()
        .args(["add", &server.url("/")])
        .output()
        .unwrap();
    // No feed, and nothing on the page to read as one (issue 28): exit 2.
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("no feed found for {}", server.url("/"))),
        "{stderr}"
    );
    assert!(stderr.contains("no list of entries found on"), "{stderr}");
    assert!(stderr.contains("this is an HTML page"), "{stderr}");
    assert!(stderr.contains(&server.url("/rss.xml")), "{stderr}");
    assert_eq!(config_text(&gleaner), before);
}

#[test]
fn remove_drops_only_that_block() {
    let gleaner = Gleaner::new(&format!(
        "{COMMENTED}\n# the second one\n[[feeds]]\nname = \"second\"\nurl = \"https://second.example/feed\"\n"
    ));
    let output = gleaner.ok(&["remove", "first"]);
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("removed first (https://first.example/feed)")
    );
    let text = config_text(&gleaner);
    assert!(!text.contains("first.example"), "{text}");
    assert!(text.contains("# the second one"), "{text}");
    assert_eq!(gleaner.feeds_before_any_poll().len(), 1);
    let output = gleaner
        .command()
        .args(["remove", "first"])
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "an unknown feed is a usage error"
    );
}

#[test]
fn opml_export_and_import_round_trip_names_urls_and_tags() {
    let source = Gleaner::new(&format!(
        "{}{}{}",
        feed_block(
            "Rust & Co",
            "https://blog.rust-lang.org/feed.xml",
            "tags = [\"tech\", \"rust\"]"
        ),
        feed_block("lwn", "https://lwn.net/headlines/rss", "tags = [\"tech\"]"),
        feed_block("quiet", "https://quiet.example/feed", ""),
    ));
    let opml_path = source.dir.path().join("feeds.opml");
    source.ok(&["export-opml", "--output", opml_path.to_str().unwrap()]);

    let target = Gleaner::new(COMMENTED);
    let output = target.ok(&["import-opml", opml_path.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("imported 3 feeds"));
    let rows = |g: &Gleaner| -> HashMap<String, (serde_json::Value, serde_json::Value)> {
        g.feeds_before_any_poll()
            .into_iter()
            .map(|(name, row)| (name, (row["url"].clone(), row["tags"].clone())))
            .collect()
    };
    let mut expected = rows(&source);
    expected.insert(
        "first".into(),
        ("https://first.example/feed".into(), serde_json::json!([])),
    );
    assert_eq!(rows(&target), expected);
    assert!(
        config_text(&target).contains(COMMENTED),
        "comments are kept"
    );

    let again = target.ok(&["import-opml", opml_path.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&again.stdout).starts_with("imported 0 feeds"),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn thirty_adds_at_once_each_keep_their_feed() {
    const ADDS: usize = 30;
    let server = TestServer::start();
    for i in 0..ADDS {
        server.set(&format!("/f{i}.xml"), a_feed(&format!("Feed {i}")));
    }
    let gleaner = Gleaner::new(COMMENTED);
    let adds: Vec<std::process::Child> = (0..ADDS)
        .map(|i| {
            gleaner
                .command()
                .args(["add", &server.url(&format!("/f{i}.xml"))])
                .args(["--name", &format!("f{i}")])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for add in adds {
        let output = add.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let config = config_text(&gleaner);
    let missing: Vec<usize> = (0..ADDS)
        .filter(|i| !config.contains(&format!("\"{}\"", server.url(&format!("/f{i}.xml")))))
        .collect();
    assert!(missing.is_empty(), "feeds said added but lost: {missing:?}");
    assert_eq!(config.matches("[[feeds]]").count(), ADDS + 1, "{config}");
    assert!(config.contains(COMMENTED), "{config}");
}

#[test]
fn add_and_remove_write_through_a_symlinked_config() {
    let server = TestServer::start();
    server.set("/news.xml", a_feed("News"));
    let gleaner = Gleaner::new(COMMENTED);
    let real = gleaner.dir.path().join("etc");
    std::fs::create_dir(&real).unwrap();
    let target = real.join("gleaner.toml");
    std::fs::rename(gleaner.config_path(), &target).unwrap();
    std::os::unix::fs::symlink(&target, gleaner.config_path()).unwrap();
    let is_link = || {
        std::fs::symlink_metadata(gleaner.config_path())
            .unwrap()
            .file_type()
            .is_symlink()
    };

    gleaner.ok(&["add", &server.url("/news.xml"), "--name", "news"]);
    assert!(is_link(), "the link became a file");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains(&server.url("/news.xml")), "{text}");

    gleaner.ok(&["remove", "news"]);
    assert!(is_link(), "the link became a file");
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(!text.contains(&server.url("/news.xml")), "{text}");
    assert!(text.contains(COMMENTED), "{text}");
}

#[test]
fn add_and_remove_keep_the_configs_owner_and_mode() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: giving the config to another user needs root");
        return;
    }
    let server = TestServer::start();
    server.set("/news.xml", a_feed("News"));
    let gleaner = Gleaner::new(COMMENTED);
    let path = gleaner.config_path();
    // nobody's ids, as Debian and most systems give them.
    let (uid, gid) = (65534, 65534);
    std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let owner_and_mode = || {
        let meta = std::fs::metadata(&path).unwrap();
        (meta.uid(), meta.gid(), meta.mode() & 0o7777)
    };

    gleaner.ok(&["add", &server.url("/news.xml"), "--name", "news"]);
    assert!(config_text(&gleaner).contains(&server.url("/news.xml")));
    assert_eq!(owner_and_mode(), (uid, gid, 0o600), "after add");
    gleaner.ok(&["remove", "news"]);
    assert!(!config_text(&gleaner).contains(&server.url("/news.xml")));
    assert_eq!(owner_and_mode(), (uid, gid, 0o600), "after remove");
}

/// What each feed is, as its last poll read it: `feeds --json` gives the
/// feed's own title and format, `export-opml` writes the format as the
/// outline's `type` (a scraped page is not taken for a feed by another
/// reader), and `import-opml` does not subscribe to such a page as a feed.
#[test]
fn feeds_and_opml_say_what_each_feed_is() {
    let server = TestServer::start();
    let article = "<html><body><article><p>Text of the story.</p></article></body></html>";
    server.set("/story", Route::html(article));
    let link = server.url("/story");
    server.set(
        "/atom",
        Route::new(
            200,
            "application/atom+xml",
            format!(
                "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
                 <title>  The Atom\n Times </title><id>urn:a</id><updated>2026-11-23T08:00:00Z</updated>\
                 <entry><id>urn:a:1</id><title>A</title><updated>2026-11-23T08:00:00Z</updated>\
                 <link href=\"{link}?a\"/></entry></feed>"
            ),
        ),
    );
    server.set(
        "/json",
        Route::new(
            200,
            "application/feed+json",
            format!(
                "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"Jason's Feed\",\
                 \"items\":[{{\"id\":\"j1\",\"url\":\"{link}?j\",\"title\":\"J\",\
                 \"date_published\":\"2026-11-23T08:00:00Z\"}}]}}"
            ),
        ),
    );
    server.set("/rss", a_feed("Plain RSS"));
    server.set(
        "/news/",
        Route::html(format!(
            "<html><head><title>Council news</title></head><body>\
             <article class=\"post\"><h2><a href=\"{link}?n\">Budget passed</a></h2></article>\
             </body></html>"
        )),
    );
    let feeds = format!(
        "{}{}{}{}",
        feed_block("atom", &server.url("/atom"), ""),
        feed_block("json", &server.url("/json"), ""),
        feed_block("rss", &server.url("/rss"), ""),
        feed_block(
            "council",
            &server.url("/news/"),
            "[feeds.scrape]\nitems = \"//article[@class='post']\"\ntitle = \".//h2\"",
        ),
    );
    let source = Gleaner::new(&feeds);
    source.poll();
    // A feed added after the poll has no format yet: OPML's `rss`.
    source.write_config(&format!(
        "{feeds}{}",
        feed_block("later", &server.url("/later"), "")
    ));

    let rows = source.feeds();
    let seen = |name: &str| (rows[name]["title"].clone(), rows[name]["format"].clone());
    assert_eq!(seen("atom"), ("The Atom Times".into(), "atom".into()));
    assert_eq!(seen("json"), ("Jason's Feed".into(), "json".into()));
    assert_eq!(seen("rss"), ("Plain RSS".into(), "rss".into()));
    assert_eq!(seen("council"), ("Council news".into(), "html".into()));
    assert_eq!(
        seen("later"),
        (serde_json::Value::Null, serde_json::Value::Null)
    );

    let opml_path = source.dir.path().join("feeds.opml");
    source.ok(&["export-opml", "--output", opml_path.to_str().unwrap()]);
    let opml = std::fs::read_to_string(&opml_path).unwrap();
    let type_of = |path: &str| {
        let url = server.url(path);
        let line = opml
            .lines()
            .find(|l| l.contains(&format!("xmlUrl=\"{url}\"")))
            .unwrap_or_else(|| panic!("no outline for {url}: {opml}"));
        line.split("type=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        ["/atom", "/json", "/rss", "/news/", "/later"].map(type_of),
        ["atom", "json", "rss", "html", "rss"]
    );

    let target = Gleaner::new(COMMENTED);
    let output = target.ok(&["import-opml", opml_path.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.starts_with("imported 4 feeds"), "{stdout}");
    assert!(
        stderr.contains(&format!("skipped {}", server.url("/news/")))
            && stderr.contains("gleaner add --scrape"),
        "{stderr}"
    );
    assert!(!config_text(&target).contains("/news/"));
}
