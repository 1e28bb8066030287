//! Soak test: the real daemon against a chaotic local server.
//!
//! ```sh
//! scripts/soak.sh MINUTES            # builds in release and runs this
//! cargo run --release --example chaos_soak -- MINUTES [FEEDS] [PATH_TO_GLEANER]
//! ```
//!
//! A server on 127.0.0.1 serves FEEDS feeds (default 200) that gain an entry
//! every 20 s, with article pages, ETags, and chaos on every request: random
//! latency up to 300 ms, 5 % HTTP 500, 3 % 429 with Retry-After, 2 % 503,
//! 2 % bodies cut off mid-stream. `gleaner run` polls them every 10 s for
//! MINUTES. Then the chaos stops, the feeds freeze, `gleaner poll` catches up,
//! and the run reports requests by outcome, articles stored, feed states,
//! the daemon's peak RSS, and whether any entry was lost or stored twice.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};

/// Seconds between two new entries of a feed.
const ENTRY_EVERY: u64 = 20;

struct Chaos {
    started: Instant,
    /// Seconds after which the feeds stop growing (`u64::MAX` while soaking).
    frozen_after: AtomicU64,
    calm: AtomicBool,
    requests: AtomicU64,
    outcomes: std::sync::Mutex<BTreeMap<&'static str, u64>>,
}

impl Chaos {
    /// How many entries feed `f` has now: one more every ENTRY_EVERY seconds.
    fn entries(&self, f: u64) -> u64 {
        let frozen = self.frozen_after.load(Ordering::SeqCst);
        let seconds = self.started.elapsed().as_secs().min(frozen);
        1 + f % 3 + seconds / ENTRY_EVERY
    }

    fn count(&self, outcome: &'static str) {
        *self
            .outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(outcome)
            .or_default() += 1;
    }
}

/// A cheap random number per request (xorshift on the request counter).
fn random(seed: u64) -> u64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn feed_xml(port: u16, f: u64, entries: u64) -> String {
    let items: String = (0..entries)
        .rev()
        .map(|e| {
            format!(
                "<item><guid>f{f}-e{e}</guid><title>Feed {f} entry {e}</title>\
                 <link>http://127.0.0.1:{port}/a/{f}/{e}</link><description>Teaser {e}.</description></item>"
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {f}</title>{items}</channel></rss>"
    )
}

fn article_html(f: u64, e: u64) -> String {
    let body: String = (0..6)
        .map(|p| format!("<p>Feed {f}, entry {e}, paragraph {p}: the council met again to weigh the proposal and argued at length about costs and timetables.</p>"))
        .collect();
    format!(
        "<html><head><title>{f}/{e}</title></head><body><nav><a href=\"/\">Home</a></nav><article><h1>Entry {e}</h1>{body}</article><footer>Footer</footer></body></html>"
    )
}

async fn answer(chaos: Arc<Chaos>, port: u16, request: Request<Body>) -> Response<Body> {
    let n = chaos.requests.fetch_add(1, Ordering::Relaxed);
    let roll = random(n);
    let path = request.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (content_type, body, etag) = match parts.as_slice() {
        [name] if name.starts_with('f') && name.ends_with(".xml") => {
            let Ok(f) = name[1..name.len() - 4].parse::<u64>() else {
                return status(StatusCode::NOT_FOUND);
            };
            let entries = chaos.entries(f);
            (
                "application/rss+xml",
                feed_xml(port, f, entries),
                Some(format!("\"{entries}\"")),
            )
        }
        ["a", f, e] => match (f.parse::<u64>(), e.parse::<u64>()) {
            (Ok(f), Ok(e)) => ("text/html", article_html(f, e), None),
            _ => return status(StatusCode::NOT_FOUND),
        },
        _ => return status(StatusCode::NOT_FOUND),
    };
    if !chaos.calm.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(roll % 300)).await;
        match (roll >> 20) % 100 {
            0..5 => {
                chaos.count("500");
                return status(StatusCode::INTERNAL_SERVER_ERROR);
            }
            5..8 => {
                chaos.count("429");
                let mut response = status(StatusCode::TOO_MANY_REQUESTS);
                response
                    .headers_mut()
                    .insert("retry-after", "2".parse().expect("a header value"));
                return response;
            }
            8..10 => {
                chaos.count("503");
                return status(StatusCode::SERVICE_UNAVAILABLE);
            }
            10..12 => {
                chaos.count("cut");
                let half = body.as_bytes()[..body.len() / 2].to_vec();
                let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
                    Ok(half),
                    Err(std::io::Error::other("chaos: connection cut")),
                ];
                return Response::builder()
                    .header("content-type", content_type)
                    .header("content-length", body.len())
                    .body(Body::from_stream(futures_util::stream::iter(chunks)))
                    .expect("a response");
            }
            _ => {}
        }
    }
    if let Some(etag) = &etag
        && request
            .headers()
            .get("if-none-match")
            .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        chaos.count("304");
        return status(StatusCode::NOT_MODIFIED);
    }
    chaos.count("200");
    let mut response = Response::builder().header("content-type", content_type);
    if let Some(etag) = etag {
        response = response.header("etag", etag);
    }
    response.body(Body::from(body)).expect("a response")
}

fn status(code: StatusCode) -> Response<Body> {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .expect("a response")
}

/// The resident set size of a process in kB (`VmRSS` in /proc).
fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let minutes: f64 = args
        .next()
        .context("usage: chaos_soak MINUTES [FEEDS] [GLEANER]")?
        .parse()?;
    let feeds: u64 = args.next().map_or(Ok(200), |a| a.parse())?;
    let gleaner = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/gleaner")
    });
    ensure!(
        gleaner.exists(),
        "{} not found: build it with cargo build --release",
        gleaner.display()
    );

    let chaos = Arc::new(Chaos {
        started: Instant::now(),
        frozen_after: AtomicU64::new(u64::MAX),
        calm: AtomicBool::new(false),
        requests: AtomicU64::new(0),
        outcomes: std::sync::Mutex::new(BTreeMap::new()),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let served = chaos.clone();
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let chaos = served.clone();
        async move { answer(chaos, port, request).await }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let config_path = dir.path().join("soak.toml");
    let feeds_toml: String = (0..feeds)
        .map(|f| {
            format!("[[feeds]]\nurl = \"http://127.0.0.1:{port}/f{f}.xml\"\nname = \"f{f}\"\n")
        })
        .collect();
    std::fs::write(
        &config_path,
        format!(
            "[storage]\ndatabase = \"soak.db\"\n[fetch]\ntimeout_secs = 5\nper_host_interval_ms = 0\n\
             per_host_concurrency = 16\n[schedule]\ndefault = \"*/10 * * * * *\"\n{feeds_toml}"
        ),
    )?;
    let run = |args: &[&str]| {
        Command::new(&gleaner)
            .arg("--config")
            .arg(&config_path)
            .args(args)
            .env_remove("NOTIFY_SOCKET")
            .stderr(Stdio::null())
            .stdout(Stdio::null())
            .status()
    };

    let mut daemon = Command::new(&gleaner)
        .arg("--config")
        .arg(&config_path)
        .arg("run")
        .env_remove("NOTIFY_SOCKET")
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs_f64(minutes * 60.0);
    let mut peak_rss = 0;
    while Instant::now() < deadline {
        peak_rss = peak_rss.max(rss_kb(daemon.id()).unwrap_or(0));
        if let Some(status) = daemon.try_wait()? {
            bail!("the daemon exited during the soak: {status}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    // SAFETY: kill(2) on the child we spawned.
    unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    let stopped = daemon.wait()?;
    let soak_requests = chaos.requests.load(Ordering::Relaxed);

    // Freeze the feeds, stop the chaos, and let manual polls catch up. Feeds
    // the server paused (429/503) or that are backing off wait out their
    // pause first, as they would in production: poll until every published
    // entry is stored or the longest pause (a few minutes) has surely passed.
    chaos
        .frozen_after
        .store(chaos.started.elapsed().as_secs(), Ordering::SeqCst);
    chaos.calm.store(true, Ordering::SeqCst);
    let published: u64 = (0..feeds).map(|f| chaos.entries(f)).sum();
    let db_path = dir.path().join("soak.db");
    let stored_count = || -> anyhow::Result<u64> {
        let db = rusqlite::Connection::open(&db_path)?;
        Ok(db.query_row("SELECT count(DISTINCT url) FROM articles", [], |r| r.get(0))?)
    };
    let catch_up_started = Instant::now();
    while catch_up_started.elapsed() < Duration::from_secs(600) {
        run(&["poll"])?;
        if stored_count()? >= published {
            break;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let catch_up = catch_up_started.elapsed();

    let db = rusqlite::Connection::open(dir.path().join("soak.db"))?;
    let integrity: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
    let (stored, distinct): (u64, u64) = db.query_row(
        "SELECT count(*), count(DISTINCT url) FROM articles",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let from_pages: u64 = db.query_row(
        "SELECT count(*) FROM articles WHERE content_source = 'article'",
        [],
        |r| r.get(0),
    )?;
    let mut states =
        db.prepare("SELECT coalesce(state, 'never'), count(*) FROM feeds GROUP BY 1")?;
    let states: Vec<String> = states
        .query_map([], |r| {
            Ok(format!(
                "{} {}",
                r.get::<_, String>(0)?,
                r.get::<_, u64>(1)?
            ))
        })?
        .collect::<Result<_, _>>()?;

    let outcomes = chaos
        .outcomes
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    println!(
        "soak: {minutes} min, {feeds} feeds (an entry every {ENTRY_EVERY} s), daemon exit {stopped}"
    );
    println!(
        "requests during the soak: {soak_requests}; by outcome (soak + catch-up): {outcomes:?}"
    );
    println!("peak RSS of the daemon: {:.1} MB", peak_rss as f64 / 1024.0);
    println!(
        "catch-up after the chaos stopped: {:.0} s; feed states then: {}",
        catch_up.as_secs_f64(),
        states.join(", ")
    );
    println!(
        "articles: {published} published, {stored} stored ({from_pages} with full text), {} lost, {} duplicated; integrity_check {integrity}",
        published.saturating_sub(distinct),
        stored - distinct
    );
    ensure!(integrity == "ok", "the database is damaged");
    ensure!(stored == distinct, "articles were stored twice");
    ensure!(
        distinct == published,
        "{} entries were lost",
        published.saturating_sub(distinct)
    );
    Ok(())
}
