//! Times a full poll pass over N local feeds against the cost of merely
//! downloading the same bytes, on 127.0.0.1 only.
//!
//! ```sh
//! cargo run --release --example local_poll -- [FEEDS] [ENTRIES_PER_FEED]
//! ```
//!
//! Prints the download-only baseline, the first pass (fetch, parse, full text,
//! dedup, store), the idle pass (every feed answers 304), and their ratios.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use gleaner::config::Config;
use gleaner::poll::{FeedLocks, Pipeline, PollMode};
use gleaner::store::{Store, StoreHandle};
use tokio_util::sync::CancellationToken;

fn paragraph(feed: usize, entry: usize, n: usize) -> String {
    format!(
        "<p>Feed {feed} story {entry} paragraph {n}: the committee met again to weigh the \
         proposal, and members from both sides argued at length about the costs, the \
         timetable and the consultation that the residents had asked for last spring.</p>"
    )
}

/// A page of about 20 KB: the story and the usual boilerplate around it.
fn page(feed: usize, entry: usize) -> String {
    let nav: String = (0..40)
        .map(|i| format!("<li><a href=\"/section/{i}\">Section {i}</a></li>"))
        .collect();
    let body: String = (0..12).map(|n| paragraph(feed, entry, n)).collect();
    let comments: String = (0..30)
        .map(|i| format!("<div class=\"comment\"><p>Reader {i} wrote a comment about story {entry}.</p></div>"))
        .collect();
    format!(
        "<!DOCTYPE html><html><head><title>Story {entry}</title></head><body><nav><ul>{nav}</ul></nav>\
         <article><h1>Story {entry}</h1>{body}</article><section id=\"comments\">{comments}</section>\
         <footer>Copyright</footer></body></html>"
    )
}

fn feed(port: u16, feed: usize, entries: usize) -> String {
    let items: String = (0..entries)
        .map(|e| {
            format!(
                "<item><guid>f{feed}-e{e}</guid><title>Story {e}</title>\
                 <link>http://127.0.0.1:{port}/f{feed}/e{e}</link><description>teaser</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {feed}</title>{items}</channel></rss>"
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let feeds: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let entries: usize = args.next().map_or(Ok(10), |a| a.parse())?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let mut bodies: HashMap<String, (&'static str, String)> = HashMap::new();
    for f in 0..feeds {
        bodies.insert(
            format!("/f{f}.xml"),
            ("application/rss+xml", feed(port, f, entries)),
        );
        for e in 0..entries {
            bodies.insert(format!("/f{f}/e{e}"), ("text/html", page(f, e)));
        }
    }
    let total_bytes: usize = bodies.values().map(|(_, b)| b.len()).sum();
    let bodies = Arc::new(bodies);
    let served = bodies.clone();
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let bodies = served.clone();
        async move {
            let path = request.uri().path().to_owned();
            let etag = format!("\"{}\"", path.len());
            if request
                .headers()
                .get("if-none-match")
                .is_some_and(|v| v.as_bytes() == etag.as_bytes())
            {
                return Response::builder()
                    .status(StatusCode::NOT_MODIFIED)
                    .body(Body::empty())
                    .unwrap();
            }
            match bodies.get(&path) {
                Some((content_type, body)) => Response::builder()
                    .header("content-type", *content_type)
                    .header("etag", etag)
                    .body(Body::from(body.clone()))
                    .unwrap(),
                None => Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body(Body::empty())
                    .unwrap(),
            }
        }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let feeds_toml: String = (0..feeds)
        .map(|f| {
            format!("[[feeds]]\nurl = \"http://127.0.0.1:{port}/f{f}.xml\"\nname = \"f{f}\"\n")
        })
        .collect();
    let toml = format!(
        "[storage]\ndatabase = \"bench.db\"\n[fetch]\nconcurrency = 16\nper_host_concurrency = 16\nper_host_interval_ms = 0\n{feeds_toml}"
    );
    let config = Config::from_str_at(&toml, &dir.path().join("bench.toml"))?;

    // Baseline: download every byte once, same concurrency, nothing else.
    let client = reqwest::Client::new();
    let started = Instant::now();
    let urls: Vec<String> = bodies
        .keys()
        .map(|p| format!("http://127.0.0.1:{port}{p}"))
        .collect();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(16));
    let mut tasks = tokio::task::JoinSet::new();
    for url in urls {
        let (client, semaphore) = (client.clone(), semaphore.clone());
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            client.get(url).send().await?.bytes().await.map(|b| b.len())
        });
    }
    let mut downloaded = 0;
    while let Some(result) = tasks.join_next().await {
        downloaded += result??;
    }
    let baseline = started.elapsed();
    anyhow::ensure!(
        downloaded == total_bytes,
        "the baseline downloaded {downloaded} of {total_bytes} bytes"
    );

    let store = Store::open(&config.storage.database)?;
    let (store, store_thread) = StoreHandle::spawn(store);
    let pipeline = Pipeline::new(
        &config,
        store,
        FeedLocks::default(),
        CancellationToken::new(),
    )?;
    let started = Instant::now();
    let first = pipeline
        .poll_all(&config.feeds, PollMode::Manual, |_| {})
        .await;
    let first_time = started.elapsed();
    let started = Instant::now();
    let idle = pipeline
        .poll_all(&config.feeds, PollMode::Manual, |_| {})
        .await;
    let idle_time = started.elapsed();
    drop(pipeline);
    tokio::task::spawn_blocking(move || store_thread.join()).await?;

    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "{feeds} feeds x {entries} entries, {:.1} MB served, {} cores",
        total_bytes as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!("download only (baseline): {:.2} s", secs(baseline));
    println!(
        "first pass:  {:.2} s = {:.1}x baseline, {:.0} articles/s ({first})",
        secs(first_time),
        secs(first_time) / secs(baseline),
        first.new_articles as f64 / secs(first_time)
    );
    println!(
        "idle pass:   {:.3} s = {:.2}x baseline ({idle})",
        secs(idle_time),
        secs(idle_time) / secs(baseline)
    );
    Ok(())
}
