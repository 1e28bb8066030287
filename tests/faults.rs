//! Misbehaving servers: each fault next to a good feed, which must still land,
//! while the faulty feed's error names its URL.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

use common::pages::{Item, article_page, rss, story};
use common::{Gleaner, Route, TestServer, feed_block};

/// A raw TCP server that answers every connection with `behave`.
fn raw_server(behave: fn(std::net::TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behave(stream));
        }
    });
    addr
}

fn read_request(stream: &mut std::net::TcpStream) {
    let mut buffer = [0u8; 4096];
    let _ = stream.read(&mut buffer);
}

fn item<'a>(guid: &'a str, link: &'a str) -> Item<'a> {
    Item {
        guid,
        title: "Entry",
        link,
        description: "The feed's own text.",
        pub_date: "Mon, 23 Nov 2026 08:00:00 GMT",
    }
}

/// A config with a good feed and `bad_url`, a 1 s timeout, polled once.
fn poll_beside_a_good_feed(bad_url: &str) -> (Gleaner, TestServer, Duration) {
    let server = TestServer::start();
    server.set(
        "/good.xml",
        Route::rss(rss("G", &[item("g1", &server.url("/g1"))])),
    );
    server.set(
        "/g1",
        Route::html(article_page("Good", &story("the good feed"), "")),
    );
    let feeds = [
        feed_block("good", &server.url("/good.xml"), ""),
        feed_block("bad", bad_url, ""),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);
    gleaner.edit_config("timeout_secs = 5", "timeout_secs = 1");
    let started = Instant::now();
    gleaner.poll();
    let took = started.elapsed();
    (gleaner, server, took)
}

fn bad_feed_error(gleaner: &Gleaner, bad_url: &str) -> String {
    let feeds = gleaner.feeds();
    assert_eq!(feeds["good"]["state"], "ok");
    assert_eq!(
        gleaner.export(&["--feed", "good"]).len(),
        1,
        "the good feed landed"
    );
    assert_eq!(feeds["bad"]["state"], "error");
    let error = feeds["bad"]["last_error"].as_str().unwrap().to_owned();
    assert!(error.contains(bad_url), "the error names the URL: {error}");
    error
}

/// A poll of a feed on `addr` ends at the 1 s timeout, named as such, and
/// the good feed beside it lands.
fn assert_times_out(addr: SocketAddr) {
    let url = format!("http://{addr}/feed.xml");
    let (gleaner, _server, took) = poll_beside_a_good_feed(&url);
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let error = bad_feed_error(&gleaner, &url);
    assert!(error.contains("no answer within 1s"), "{error}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let addr = raw_server(|mut stream| {
        read_request(&mut stream);
        std::thread::sleep(Duration::from_secs(30));
    });
    assert_times_out(addr);
}

#[test]
fn a_server_that_trickles_a_byte_per_second_times_out() {
    let addr = raw_server(|mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 1000\r\n\r\n",
        );
        for _ in 0..30 {
            if stream.write_all(b"<").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    assert_times_out(addr);
}

#[test]
fn a_connection_reset_mid_body_is_an_error() {
    let addr = raw_server(|mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 5000\r\n\r\n<rss version=\"2.0\"><channel><item><title>half");
        // Dropping the stream closes it 4,950 bytes short.
    });
    let url = format!("http://{addr}/feed.xml");
    let (gleaner, _server, _) = poll_beside_a_good_feed(&url);
    let error = bad_feed_error(&gleaner, &url);
    assert!(error.contains("cut off"), "{error}");
}

#[test]
fn an_unknown_host_is_a_dns_error() {
    let url = "http://feed.gleaner-test.invalid/feed.xml";
    let (gleaner, _server, _) = poll_beside_a_good_feed(url);
    let error = bad_feed_error(&gleaner, url);
    assert!(error.contains("DNS lookup failed"), "{error}");
}

#[test]
fn malformed_headers_do_not_stop_a_poll() {
    let addr = raw_server(|mut stream| {
        read_request(&mut stream);
        let body = "<rss version=\"2.0\"><channel><title>T</title><item><guid>m1</guid><title>Odd headers</title></item></channel></rss>";
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=no-such-charset\r\nLast-Modified: yesterday-ish\r\nETag: \r\nRetry-After: soon\r\nExpires: 0\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
    });
    let url = format!("http://{addr}/feed.xml");
    let (gleaner, _server, _) = poll_beside_a_good_feed(&url);
    assert_eq!(gleaner.feeds()["bad"]["state"], "ok");
    assert_eq!(
        gleaner.export(&["--feed", "bad"])[0]["title"],
        "Odd headers"
    );
}

#[test]
fn an_article_that_is_a_pdf_or_an_image_keeps_the_feeds_text() {
    let server = TestServer::start();
    server.set(
        "/feed.xml",
        Route::rss(rss(
            "F",
            &[
                item("pdf", &server.url("/report.pdf")),
                item("img", &server.url("/photo.jpg")),
            ],
        )),
    );
    server.set(
        "/report.pdf",
        Route::new(
            200,
            "application/pdf",
            b"%PDF-1.7\n\x00\x01\x02binary".to_vec(),
        ),
    );
    // An image served as text/html: the bytes decide.
    server.set(
        "/photo.jpg",
        Route::new(
            200,
            "text/html",
            b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x02\x00\x00\x01".repeat(50),
        ),
    );
    let gleaner = Gleaner::new(&feed_block("f", &server.url("/feed.xml"), ""));
    gleaner.poll();
    let articles = gleaner.export(&[]);
    assert_eq!(articles.len(), 2);
    for article in &articles {
        assert_eq!(article["content_source"], "feed", "{article:#}");
        assert_eq!(article["content_text"], "The feed's own text.");
    }
}

#[test]
fn a_feed_with_100_000_entries_is_capped_to_the_newest() {
    let server = TestServer::start();
    let mut feed = String::from("<rss version=\"2.0\"><channel><title>Huge</title>");
    for i in (0..100_000).rev() {
        // Newest first, as feeds list them; dates one minute apart.
        let date = chrono::DateTime::from_timestamp(946_684_800 + i * 60, 0).unwrap();
        feed.push_str(&format!(
            "<item><guid>e{i}</guid><title>Entry {i}</title><pubDate>{}</pubDate></item>",
            date.to_rfc2822()
        ));
    }
    feed.push_str("</channel></rss>");
    server.set("/huge.xml", Route::rss(feed));
    let gleaner = Gleaner::new(&feed_block(
        "huge",
        &server.url("/huge.xml"),
        "full_text = false",
    ));
    gleaner.edit_config("[fetch]\n", "[fetch]\nmax_feed_bytes = 50_000_000\n");
    let output = gleaner
        .command()
        .args(["--log-level", "warn", "poll"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("only the newest are read"),
        "the cap is logged: {stderr}"
    );

    let articles = gleaner.export(&["--format", "jsonl"]);
    assert_eq!(articles.len(), 1000);
    assert_eq!(
        articles.last().unwrap()["title"],
        "Entry 99999",
        "the newest is kept"
    );
    assert_eq!(articles[0]["title"], "Entry 99000");
}

/// A gzip body of `mebibytes` MiB of zeros (about 1 kB compressed per MiB),
/// built without compressing them all: after a full flush the compressor
/// starts afresh, so every MiB of zeros is the same deflate block.
fn gzip_bomb(mebibytes: usize) -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    let chunk = vec![0u8; 1 << 20];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(1 << 16);
        let before = deflate.total_in();
        deflate.compress_vec(input, &mut out, flush).unwrap();
        assert_eq!(deflate.total_in() - before, input.len() as u64);
        out
    };
    let first = block(&chunk, FlushCompress::Full);
    let next = block(&chunk, FlushCompress::Full);
    assert_eq!(next, block(&chunk, FlushCompress::Full), "blocks repeat");
    let end = block(&[], FlushCompress::Finish);

    let mut one = Crc::new();
    one.update(&chunk);
    let mut crc = Crc::new();
    for _ in 0..mebibytes {
        crc.combine(&one);
    }
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    body.extend_from_slice(&first);
    for _ in 1..mebibytes {
        body.extend_from_slice(&next);
    }
    body.extend_from_slice(&end);
    body.extend_from_slice(&crc.sum().to_le_bytes());
    body.extend_from_slice(&((mebibytes << 20) as u32).to_le_bytes());
    body
}

fn gzipped(mut route: Route) -> Route {
    route
        .headers
        .push(("content-encoding".into(), "gzip".into()));
    route
}

/// Runs `command` to its end; its output and its peak resident memory in bytes.
#[allow(
    clippy::zombie_processes,
    reason = "reaped by wait4, which gives its rusage"
)]
fn run_measuring_memory(
    mut command: std::process::Command,
    dir: &std::path::Path,
) -> (std::process::ExitStatus, String, u64) {
    use std::os::unix::process::ExitStatusExt;
    let stderr_path = dir.join("stderr.txt");
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it in for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(waited, child.id() as libc::pid_t);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    // ru_maxrss is in kilobytes on Linux.
    let peak = usage.ru_maxrss as u64 * 1024;
    (std::process::ExitStatus::from_raw(status), stderr, peak)
}

#[test]
fn a_gzip_bomb_is_cut_at_the_cap_and_memory_stays_flat() {
    const DECODED: usize = 1024; // MiB: 1 GiB of zeros
    let bomb = gzip_bomb(DECODED);
    assert!(bomb.len() < 2_000_000, "{} bytes", bomb.len());
    {
        // It is what it claims: zeros, far more than the cap.
        let mut start = Vec::new();
        flate2::read::GzDecoder::new(&bomb[..])
            .take(6_000_000)
            .read_to_end(&mut start)
            .unwrap();
        assert!(start.len() == 6_000_000 && start.iter().all(|b| *b == 0));
    }
    let server = TestServer::start();
    server.set("/bomb.xml", gzipped(Route::rss(bomb.clone())));
    server.set("/bomb.html", gzipped(Route::html(bomb)));
    // A good feed whose article page is the bomb: the feed's text is kept.
    server.set(
        "/good.xml",
        Route::rss(rss("G", &[item("g1", &server.url("/bomb.html"))])),
    );
    let feeds = [
        feed_block("good", &server.url("/good.xml"), ""),
        feed_block("bomb", &server.url("/bomb.xml"), ""),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);
    let mut poll = gleaner.command();
    poll.arg("poll");
    let (status, log, peak) = run_measuring_memory(poll, gleaner.dir.path());
    assert!(status.success(), "{status}: {log}");

    // The default caps are 5 MB; the decoded gigabyte never was in memory.
    assert!(
        peak < 300 << 20,
        "peak memory {} MiB for a {DECODED} MiB bomb",
        peak >> 20
    );
    let feeds = gleaner.feeds();
    assert_eq!(feeds["bomb"]["state"], "error");
    let error = feeds["bomb"]["last_error"].as_str().unwrap();
    assert!(
        error.contains(&server.url("/bomb.xml"))
            && error.contains("larger than the limit of 5000000 bytes"),
        "{error}"
    );
    let page_refused = log.lines().any(|l| {
        l.contains(&server.url("/bomb.html")) && l.contains("larger than the limit of 5000000")
    });
    assert!(page_refused, "the page's refusal is logged: {log}");
    let articles = gleaner.export(&["--feed", "good"]);
    assert_eq!(articles.len(), 1);
    assert_eq!(articles[0]["content_source"], "feed");
    assert_eq!(articles[0]["content_text"], "The feed's own text.");
}

#[test]
fn redirect_loops_between_two_urls_end_at_the_limit() {
    let server = TestServer::start();
    server.set("/a.xml", Route::redirect("/b.xml"));
    server.set("/b.xml", Route::redirect(&server.url("/a.xml")));
    // The good feed's article page loops too: its text comes from the feed.
    server.set("/p1", Route::redirect("/p2"));
    server.set("/p2", Route::redirect("/p1"));
    server.set(
        "/good.xml",
        Route::rss(rss("G", &[item("g1", &server.url("/p1"))])),
    );
    let loop_url = server.url("/a.xml");
    let feeds = [
        feed_block("good", &server.url("/good.xml"), ""),
        feed_block("loop", &loop_url, ""),
    ]
    .concat();
    let gleaner = Gleaner::new(&feeds);
    let output = gleaner.ok(&["poll"]);
    let log = String::from_utf8_lossy(&output.stderr);

    let hops = |a: &str, b: &str| server.requests(a).len() + server.requests(b).len();
    assert_eq!(hops("/a.xml", "/b.xml"), 11, "the request and 10 redirects");
    assert_eq!(hops("/p1", "/p2"), 11, "the request and 10 redirects");
    let feeds = gleaner.feeds();
    assert_eq!(feeds["loop"]["state"], "error");
    let error = feeds["loop"]["last_error"].as_str().unwrap();
    assert!(
        error.contains(&loop_url) && error.contains("more than 10 redirects"),
        "{error}"
    );
    assert!(
        log.lines()
            .any(|l| l.contains(&server.url("/p1")) && l.contains("more than 10 redirects")),
        "the page's loop is logged: {log}"
    );
    assert_eq!(feeds["good"]["state"], "ok");
    let articles = gleaner.export(&["--feed", "good"]);
    assert_eq!(articles[0]["content_source"], "feed");
}
