//! Proxies (issue 13): `[fetch] proxy`, a feed's own `proxy` and the
//! environment (`HTTP_PROXY`, `NO_PROXY`, …), through a small HTTP forward
//! proxy started here on 127.0.0.1. The SSRF rule still holds: a proxied
//! article link to a refused address is refused before the proxy hears of
//! it. `feeds --json` names the proxy without its credentials.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::pages::{article_page, rss_of_pages, story};
use common::{Gleaner, Route, TestServer, feed_block};

/// Each request line the proxy received, with its `Proxy-Authorization`.
type Seen = Mutex<Vec<(String, Option<String>)>>;

/// A forward proxy for plain http: one request per connection, in absolute
/// form, passed on to its host with `Connection: close`; it records each
/// request line and its `Proxy-Authorization`.
struct ForwardProxy {
    url: String,
    seen: Arc<Seen>,
}

impl ForwardProxy {
    fn start() -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = forward(client, &log);
                });
            }
        });
        ForwardProxy { url, seen }
    }

    /// The request lines received (`GET http://… HTTP/1.1`).
    fn requests(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(l, _)| l.clone())
            .collect()
    }

    fn authorizations(&self) -> Vec<Option<String>> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, a)| a.clone())
            .collect()
    }
}

fn forward(client: TcpStream, log: &Seen) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    let mut authorization = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        let lower = header.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("proxy-authorization:") {
            authorization = Some(header[header.len() - value.len()..].trim().to_owned());
        } else if !lower.starts_with("connection:") && !lower.starts_with("proxy-connection:") {
            headers.push(header);
        }
    }
    log.lock()
        .unwrap()
        .push((line.trim().to_owned(), authorization));
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let rest = target.strip_prefix("http://").unwrap_or(target);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut upstream = TcpStream::connect(host)?;
    write!(upstream, "{method} /{path} HTTP/1.1\r\n")?;
    for header in headers {
        upstream.write_all(header.as_bytes())?;
    }
    upstream.write_all(b"Connection: close\r\n\r\n")?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response)?;
    let mut client = client;
    client.write_all(&response)
}

#[test]
fn feeds_and_pages_go_through_the_configured_proxy_and_private_links_stay_refused() {
    let server = TestServer::start();
    let proxy = ForwardProxy::start();
    let port = server.addr.port();
    // One page on the feed's own host, one link to another name of
    // 127.0.0.1, which the SSRF rule refuses.
    let mut feed = rss_of_pages(|p| server.url(p), &["own"]);
    feed = feed.replace(
        "</channel>",
        &format!(
            "<item><guid>other</guid><title>other</title><link>http://localhost:{port}/other</link>\
             <description>teaser</description></item></channel>"
        ),
    );
    server.set("/feed.xml", Route::rss(feed));
    server.set(
        "/own",
        Route::html(article_page("Own", &story("the harbour"), "")),
    );
    server.set(
        "/other",
        Route::html(article_page("Other", &story("the bridge"), "")),
    );
    let proxy_with_login = proxy.url.replace("http://", "http://reader:pw-secret@");
    let gleaner = Gleaner::new(&format!(
        "proxy = \"{proxy_with_login}\"\n\n{}",
        feed_block("news", &server.url("/feed.xml"), "")
    ));
    gleaner.poll();

    let requests = proxy.requests();
    assert!(
        requests.contains(&format!("GET {} HTTP/1.1", server.url("/feed.xml"))),
        "{requests:?}"
    );
    assert!(
        requests.contains(&format!("GET {} HTTP/1.1", server.url("/own"))),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.contains("localhost")),
        "a refused link reached the proxy: {requests:?}"
    );
    assert!(server.requests("/other").is_empty());
    // base64 of "reader:pw-secret".
    assert!(
        proxy
            .authorizations()
            .iter()
            .all(|a| a.as_deref() == Some("Basic cmVhZGVyOnB3LXNlY3JldA==")),
        "{:?}",
        proxy.authorizations()
    );
    let articles = gleaner.export(&["--format", "json"]);
    let own = articles.iter().find(|a| a["title"] == "own").unwrap();
    assert_eq!(own["content_source"], "article");
    let other = articles.iter().find(|a| a["title"] == "other").unwrap();
    assert_eq!(other["content_source"], "feed");

    let shown = &gleaner.feeds()["news"]["proxy"];
    assert_eq!(shown.as_str(), Some(format!("{}/", proxy.url).as_str()));
    let listing = String::from_utf8(gleaner.ok(&["feeds", "--json"]).stdout).unwrap();
    assert!(!listing.contains("pw-secret"), "{listing}");
}

#[test]
fn the_environment_proxy_is_used_unless_no_proxy_or_the_feed_says_none() {
    let server = TestServer::start();
    let proxy = ForwardProxy::start();
    for feed in ["a", "b"] {
        server.set(
            &format!("/{feed}.xml"),
            Route::rss(rss_of_pages(|p| server.url(p), &[])),
        );
    }
    let gleaner = Gleaner::new(&format!(
        "{}{}",
        feed_block("a", &server.url("/a.xml"), ""),
        feed_block("b", &server.url("/b.xml"), "proxy = \"none\""),
    ));
    let poll = |no_proxy: Option<&str>| {
        let mut command = gleaner.command();
        command.env("HTTP_PROXY", &proxy.url).arg("poll");
        if let Some(hosts) = no_proxy {
            command.env("NO_PROXY", hosts);
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
    };
    poll(None);
    assert_eq!(
        proxy.requests(),
        [format!("GET {} HTTP/1.1", server.url("/a.xml"))]
    );
    assert_eq!(server.requests("/b.xml").len(), 1, "b went direct");

    poll(Some("example.org, 127.0.0.1"));
    assert_eq!(proxy.requests().len(), 1, "NO_PROXY sends a direct");
    assert_eq!(server.requests("/a.xml").len(), 2);

    let mut feeds = gleaner.command();
    let output = feeds
        .env("HTTP_PROXY", &proxy.url)
        .args(["feeds", "--json"])
        .output()
        .unwrap();
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        rows[0]["proxy"].as_str(),
        Some(format!("{}/", proxy.url).as_str())
    );
    assert_eq!(rows[1]["proxy"], serde_json::Value::Null);
}

#[test]
fn a_proxy_that_is_not_a_proxy_url_is_a_config_error() {
    let gleaner = Gleaner::new(&feed_block(
        "a",
        "https://a.example/f",
        "proxy = \"ftp://user:pw-secret@proxy.example\"",
    ));
    let stderr = gleaner.config_problems(&[
        "10:9: feed https://a.example/f: proxy ***@proxy.example: scheme \"ftp\"",
    ]);
    assert!(!stderr.contains("pw-secret"), "{stderr}");
}
