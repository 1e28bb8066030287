//! The SSRF rule (SPEC, Security) through the public surface: a feed's own
//! host is trusted; an article link to any other host is fetched only from
//! public addresses, whatever the spelling of the address, and every redirect
//! hop is checked again after its name is resolved. tests/pipeline.rs has
//! the first cases: a link to `localhost` and a redirect to `localhost`.

mod common;

use std::net::{IpAddr, ToSocketAddrs};

use common::pages::{Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer, feed_block};

/// Names other than `localhost` that /etc/hosts gives this machine and that
/// resolve to IPv4 loopback only (the host name on a Debian machine); at
/// most two.
fn loopback_names() -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for line in hosts.lines() {
        let mut fields = line.split('#').next().unwrap_or("").split_whitespace();
        let loopback = fields
            .next()
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        if !loopback {
            continue;
        }
        for name in fields {
            let resolved: Vec<IpAddr> = (name, 80)
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a| a.ip()).collect())
                .unwrap_or_default();
            let v4_loopback =
                !resolved.is_empty() && resolved.iter().all(|ip| ip.is_ipv4() && ip.is_loopback());
            if name != "localhost" && v4_loopback && !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    names.truncate(2);
    names
}

/// An article link the feed gives, and where the server would see it.
struct Link {
    url: String,
    /// The path on `server` (or on `v6` for `[::1]`).
    path: String,
    on_v6: bool,
    /// For a redirect: the path on the feed's own host that redirects to `url`.
    via: Option<String>,
}

fn links(server: &TestServer, v6: Option<&TestServer>) -> Vec<Link> {
    let port = server.addr.port();
    let mut hosts: Vec<String> = [
        "127.0.0.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "[::ffff:127.0.0.1]",
    ]
    .map(String::from)
    .into();
    let names = loopback_names();
    if names.is_empty() {
        eprintln!(
            "note: /etc/hosts names no other loopback host; names are covered by localhost in pipeline.rs"
        );
    }
    hosts.extend(names.iter().cloned());
    let mut links: Vec<Link> = hosts
        .iter()
        .enumerate()
        .map(|(i, host)| Link {
            url: format!("http://{host}:{port}/a{i}"),
            path: format!("/a{i}"),
            on_v6: false,
            via: None,
        })
        .collect();
    match v6 {
        Some(v6) => links.push(Link {
            url: v6.url("/v6"),
            path: "/v6".into(),
            on_v6: true,
            via: None,
        }),
        None => eprintln!("note: no IPv6 loopback here; [::1] is not tested"),
    }
    // A hop from the feed's own (trusted) host to a private one.
    let redirected: Vec<Link> = ["2130706433", "[::ffff:127.0.0.1]"]
        .into_iter()
        .chain(names.first().map(String::as_str))
        .enumerate()
        .map(|(i, host)| Link {
            url: format!("http://{host}:{port}/s{i}"),
            path: format!("/s{i}"),
            on_v6: false,
            via: Some(format!("/r{i}")),
        })
        .collect();
    links.extend(redirected);
    links
}

fn feed_text(link: &Link) -> String {
    format!("The feed's own text of {}.", link.path)
}

/// A feed on `localhost` (its own host, trusted) that links to every link.
fn serve(server: &TestServer, v6: Option<&TestServer>, links: &[Link]) -> Gleaner {
    let port = server.addr.port();
    let page = |topic: &str| Route::html(article_page("Secret", &story(topic), ""));
    let entry_urls: Vec<String> = links
        .iter()
        .map(|link| match &link.via {
            Some(via) => {
                server.set(via, Route::redirect(&link.url));
                format!("http://localhost:{port}{via}")
            }
            None => link.url.clone(),
        })
        .collect();
    for link in links {
        // Distinct texts: identical pages would be one article.
        let route = page(&format!("the internal network {}", link.path));
        match (link.on_v6, v6) {
            (true, Some(v6)) => v6.set(&link.path, route),
            _ => server.set(&link.path, route),
        }
    }
    let texts: Vec<String> = links.iter().map(feed_text).collect();
    let items: Vec<Item<'_>> = links
        .iter()
        .zip(&entry_urls)
        .zip(&texts)
        .map(|((link, url), text)| Item {
            guid: &link.path,
            title: &link.path,
            link: url,
            description: text,
            pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
        })
        .collect();
    server.set("/feed.xml", Route::rss(rss("F", &items)));
    Gleaner::new(&feed_block(
        "f",
        &format!("http://localhost:{port}/feed.xml"),
        "",
    ))
}

fn requests(server: &TestServer, v6: Option<&TestServer>, link: &Link) -> usize {
    match (link.on_v6, v6) {
        (true, Some(v6)) => v6.requests(&link.path).len(),
        _ => server.requests(&link.path).len(),
    }
}

#[test]
fn links_to_loopback_in_any_spelling_and_redirects_to_it_are_refused() {
    let server = TestServer::start();
    let v6 = TestServer::start_on("[::1]:0").ok();
    let links = links(&server, v6.as_ref());
    let gleaner = serve(&server, v6.as_ref(), &links);
    let output = gleaner.ok(&["poll"]);
    let log = String::from_utf8_lossy(&output.stderr);

    for link in &links {
        assert_eq!(
            requests(&server, v6.as_ref(), link),
            0,
            "{} reached the server",
            link.url
        );
    }
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), links.len());
    for link in &links {
        if let Some(via) = &link.via {
            assert_eq!(server.requests(via).len(), 1, "the hop on the feed's host");
        }
        let article = articles
            .iter()
            .find(|a| a["title"] == link.path.as_str())
            .unwrap();
        assert_eq!(article["content_source"], "feed", "{}", link.url);
        assert_eq!(article["content_text"], feed_text(link).as_str());
        // The log names the refused URL (in its normalized spelling).
        assert!(
            log.lines()
                .any(|l| l.contains("non-public address") && l.contains(&link.path)),
            "the refusal of {} is logged:\n{log}",
            link.url
        );
    }

    // The same links are reachable when private networks are allowed: what
    // kept them out above was the rule, not the network.
    let allowed = serve(&server, v6.as_ref(), &links);
    allowed.edit_config("[fetch]\n", "[fetch]\nallow_private_networks = true\n");
    allowed.poll();
    let articles = allowed.export(&[]);
    assert_eq!(articles.len(), links.len());
    for article in articles {
        assert_eq!(article["content_source"], "article", "{article:#}");
    }
    for link in &links {
        assert_eq!(requests(&server, v6.as_ref(), link), 1, "{}", link.url);
    }
}

#[test]
fn a_feed_that_redirects_to_another_host_on_a_private_address_is_refused() {
    let server = TestServer::start();
    let port = server.addr.port();
    let story_item = Item {
        guid: "1",
        title: "Inside",
        link: "http://example.invalid/1",
        description: "internal",
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    };
    server.set(
        "/feed.xml",
        Route::redirect(&format!("http://localhost:{port}/internal.xml")),
    );
    server.set("/internal.xml", Route::rss(rss("Internal", &[story_item])));
    // A hop on the feed's own host stays trusted.
    server.set("/moved.xml", Route::redirect("/internal.xml"));
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("away", &server.url("/feed.xml"), "full_text = false"),
        feed_block("home", &server.url("/moved.xml"), "full_text = false"),
    ));
    gleaner.poll();

    assert_eq!(server.requests("/feed.xml").len(), 1);
    assert_eq!(
        server.requests("/internal.xml").len(),
        1,
        "only the same-host redirect reached the private feed"
    );
    let feeds = gleaner.feeds();
    assert_eq!(feeds["away"]["state"], "error", "{:#}", feeds["away"]);
    let error = feeds["away"]["last_error"].as_str().unwrap();
    assert!(
        error.contains("localhost") && error.contains("non-public address"),
        "{error}"
    );
    assert_eq!(feeds["home"]["state"], "ok", "{:#}", feeds["home"]);
}

#[test]
fn add_does_not_follow_a_pages_feed_link_to_a_private_address() {
    let server = TestServer::start();
    let port = server.addr.port();
    server.set(
        "/",
        Route::html(format!(
            "<html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"http://localhost:{port}/private.xml\"></head><body>Hi</body></html>"
        )),
    );
    server.set(
        "/private.xml",
        Route::rss(rss(
            "Private",
            &[Item {
                guid: "1",
                title: "Inside",
                link: "http://example.invalid/1",
                description: "internal",
                pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
            }],
        )),
    );
    let gleaner = Gleaner::new("");
    let output = gleaner
        .command()
        .args(["add", &server.url("/")])
        .output()
        .unwrap();
    assert!(!output.status.success(), "add found the private feed");
    assert!(
        server.requests("/private.xml").is_empty(),
        "the page's link to a private address was followed"
    );
    let config = std::fs::read_to_string(gleaner.config_path()).unwrap();
    assert!(!config.contains("private.xml"), "{config}");
}
