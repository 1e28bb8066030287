//! Feeds behind logins and consent walls (issue 13): a feed's `headers`,
//! `cookies`, `user_agent`, basic auth (`username` with `password` or
//! `password_file`) and `headers_file`, with `[fetch]` defaults, reach the
//! feed and its article pages on the same site, never another host (another
//! port of 127.0.0.1 is another host), and never show in any output.

mod common;

use common::pages::{Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer};

/// Secrets of the config below, none of which may ever be printed.
const SECRETS: &[&str] = &[
    "pw-from-file",
    "pw-inline",
    "k-123-secret",
    "tok-456-secret",
    "session-secret",
    "moved-secret",
    // base64 of "reader:pw-from-file" and of "u2:pw-inline".
    "cmVhZGVyOnB3LWZyb20tZmlsZQ==",
    "dTI6cHctaW5saW5l",
];

fn item<'a>(guid: &'a str, link: &'a str) -> Item<'a> {
    Item {
        guid,
        title: guid,
        link,
        description: "teaser",
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    }
}

fn header(request: &common::Received, name: &str) -> Option<String> {
    request
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

#[test]
fn a_feeds_headers_reach_its_own_site_and_no_other_host() {
    let site = TestServer::start();
    let other = TestServer::start();
    let feed = rss(
        "Members",
        &[
            item("own-page", &site.url("/own")),
            item("via-redirect", &site.url("/to-other")),
            item("other-page", &other.url("/linked")),
        ],
    );
    site.set("/feed.xml", Route::rss(feed));
    site.set(
        "/own",
        Route::html(article_page("Own", &story("the harbour"), "")),
    );
    site.set("/to-other", Route::redirect(&other.url("/landing")));
    other.set(
        "/landing",
        Route::html(article_page("Landing", &story("the bridge"), "")),
    );
    other.set(
        "/linked",
        Route::html(article_page("Linked", &story("the tram"), "")),
    );
    // A second feed whose URL redirects to the other host.
    site.set("/old.xml", Route::redirect(&other.url("/new.xml")));
    other.set("/new.xml", Route::rss(rss("Moved", &[])));

    let gleaner = Gleaner::new(&format!(
        r#"allow_private_networks = true
headers = {{ "X-Default" = "from-fetch" }}
cookies = "consent=yes; region=eu"

[[feeds]]
name = "members"
url = "{feed}"
user_agent = "MembersReader/2.0"
headers = {{ "X-Api-Key" = "k-123-secret" }}
cookies = {{ session = "session-secret", region = "us" }}
username = "reader"
password_file = "secret/password"
headers_file = "secret/headers"

[[feeds]]
name = "moved"
url = "{old}"
cookies = "session=moved-secret"
username = "u2"
password = "pw-inline"
"#,
        feed = site.url("/feed.xml"),
        old = site.url("/old.xml"),
    ));
    let secret = gleaner.dir.path().join("secret");
    std::fs::create_dir(&secret).unwrap();
    std::fs::write(secret.join("password"), "pw-from-file\n").unwrap();
    std::fs::write(
        secret.join("headers"),
        "# a token the config does not show\nX-Token: tok-456-secret\n\n",
    )
    .unwrap();

    let output = gleaner
        .command()
        .args(["--log-level", "trace", "poll"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");

    let members = [
        ("authorization", "Basic cmVhZGVyOnB3LWZyb20tZmlsZQ=="),
        // [fetch] cookies first, the feed's own (a table: by name) replacing one.
        ("cookie", "consent=yes; region=us; session=session-secret"),
        ("x-api-key", "k-123-secret"),
        ("x-token", "tok-456-secret"),
        ("x-default", "from-fetch"),
        ("user-agent", "MembersReader/2.0"),
    ];
    // The moved feed's first hop, on its own site, has its credentials.
    let moved = [
        ("authorization", "Basic dTI6cHctaW5saW5l"),
        ("cookie", "consent=yes; region=eu; session=moved-secret"),
    ];
    for (path, expected) in [
        ("/feed.xml", &members[..]),
        ("/own", &members[..]),
        ("/old.xml", &moved[..]),
    ] {
        let got = site.requests(path);
        assert_eq!(got.len(), 1, "{path} was requested once");
        for (name, value) in expected {
            assert_eq!(header(&got[0], name).as_deref(), Some(*value), "{path}");
        }
    }

    // Every request to the other host: a page redirect, a page linked
    // there, the feed redirect. None carries any of it.
    for path in ["/landing", "/linked", "/new.xml"] {
        let got = other.requests(path);
        assert_eq!(got.len(), 1, "{path} was requested once");
        let got = &got[0];
        for name in [
            "authorization",
            "cookie",
            "x-api-key",
            "x-token",
            "x-default",
        ] {
            assert_eq!(header(got, name), None, "{name} was sent to {path}");
        }
        let agent = header(got, "user-agent").unwrap_or_default();
        assert!(agent.starts_with("gleaner/"), "{path}: {agent}");
    }

    // No secret in the poll's log, `feeds`, the exports, check-config.
    let mut shown = String::from_utf8_lossy(&output.stdout).into_owned();
    shown += &String::from_utf8_lossy(&output.stderr);
    for args in [
        &["feeds", "--json"][..],
        &["feeds"],
        &["export", "--format", "json"],
        &["export", "--format", "atom"],
        &["export", "--format", "jsonfeed"],
        &["check-config"],
    ] {
        let output = gleaner.ok(args);
        shown += &String::from_utf8_lossy(&output.stdout);
        shown += &String::from_utf8_lossy(&output.stderr);
    }
    assert!(shown.contains("Own"), "the outputs were read: {shown}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} was shown:\n{shown}");
    }
}

#[test]
fn request_keys_are_checked_with_their_position_and_no_secret_in_messages() {
    let gleaner = Gleaner::new(
        r#"headers = { "Bad Name" = "x" }

[[feeds]]
url = "https://a.example/f"
password = "orphan-secret"

[[feeds]]
url = "https://b.example/f"
username = "me"
password_file = "missing/password"
cookies = "novalue"

[[feeds]]
url = "https://c.example/f"
headers = { Host = "c.example", "X-Key" = "line\nbreak-secret" }
"#,
    );
    // The harness puts 6 lines of [storage]/[fetch] before these.
    let stderr = gleaner.config_problems(&[
        "7:13: [fetch]: \"Bad Name\" is not a valid header name",
        "11:12: feed https://a.example/f: a password needs a `username`",
        "16:17: feed https://b.example/f: password_file ",
        "17:11: feed https://b.example/f: cookies: \"novalue\" is not `name=value`",
        "21:13: feed https://c.example/f: header Host is set by gleaner itself",
        "21:43: feed https://c.example/f: the value of header x-key must be visible ASCII",
    ]);
    assert!(
        stderr.contains("missing/password: cannot read it"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret"), "{stderr}");
}
