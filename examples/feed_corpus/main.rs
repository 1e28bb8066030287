//! Runs gleaner's feed parser and raw feed-rs side by side over a corpus of
//! feed files described by a `manifest.tsv` (path, format, source, expected,
//! http_headers, note), such as the third-party corpus in
//! `../shared/corpus/feeds` (read in place, never copied into this repo).
//!
//! ```sh
//! cargo run --release --example feed_corpus -- PATH [--check] [--http] [--list] [--mutate SECS]
//!     [--feedparser FILE]
//! ```
//!
//! Prints per-folder counts (files, files with entries, entries, dated
//! entries, errors by kind, panics) for both parsers, their throughput, and
//! the totals. `--check` exits non-zero on any panic or when a total falls
//! below the minimums in `examples/feed_corpus.min`. `--http` also serves
//! every file on 127.0.0.1 (with its manifest `Content-Type`) and polls it
//! through the real `gleaner::poll::Pipeline` into a temporary database,
//! checking that as many feeds stored an article as parsed to one directly.
//! It also counts entries lost to a merge inside their own feed (two
//! entries the feed gives distinct ids stored as one article), which must be
//! none. `--feedparser FILE` compares gleaner's entries field by field with
//! Python feedparser's (`scripts/feedparser_entries.py` writes FILE) and
//! prints the agreement per field; `--check` holds it to the minimums too.
//! `--list` names the files that lost or gained entries (and, with
//! `--feedparser`, every field the two parsers disagree on). `--mutate SECS`
//! then feeds randomly mutated copies of the files (fixed seed) to gleaner's
//! parser for that long and counts panics: the fuzzing stand-in for
//! machines where `cargo fuzz` cannot run.

mod compare;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use gleaner::config::Config;
use gleaner::feed::{self, FeedError};
use gleaner::poll::{FeedLocks, MAX_ENTRIES_PER_POLL, Pipeline, PollMode};
use gleaner::store::{Access, Store, StoreHandle};
use tokio_util::sync::CancellationToken;
use url::Url;

/// How many times each file is parsed when timing (the corpus is small).
const TIMING_ROUNDS: u32 = 5;

struct CorpusFile {
    path: String,
    folder: String,
    expected: String,
    content_type: Option<String>,
    bytes: Vec<u8>,
}

/// What one parser made of one file.
#[derive(Clone, Debug)]
struct Outcome {
    entries: usize,
    dated: usize,
    /// `None` when it parsed; else a short error kind.
    error: Option<String>,
    repairs: Vec<String>,
}

#[derive(Default)]
struct Tally {
    files: usize,
    with_entries: usize,
    entries: usize,
    dated: usize,
    errors: BTreeMap<String, usize>,
    panics: usize,
}

impl Tally {
    fn add(&mut self, outcome: &Outcome) {
        self.files += 1;
        self.with_entries += usize::from(outcome.entries > 0);
        self.entries += outcome.entries;
        self.dated += outcome.dated;
        if let Some(kind) = &outcome.error {
            if kind == "panic" || kind == "parser-panicked" {
                self.panics += 1;
            }
            *self.errors.entry(kind.clone()).or_default() += 1;
        }
    }

    fn errors(&self) -> String {
        self.errors
            .iter()
            .map(|(k, n)| format!("{k}:{n}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn read_corpus(root: &Path) -> anyhow::Result<Vec<CorpusFile>> {
    let manifest = std::fs::read_to_string(root.join("manifest.tsv"))
        .with_context(|| format!("reading {}/manifest.tsv", root.display()))?;
    let mut files = Vec::new();
    for line in manifest.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let [path, _format, _source, expected, headers, ..] = columns[..] else {
            continue;
        };
        let content_type = headers
            .split_once(':')
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.trim().to_owned());
        let bytes = std::fs::read(root.join(path)).with_context(|| format!("reading {path}"))?;
        files.push(CorpusFile {
            path: path.to_owned(),
            folder: path.split('/').next().unwrap_or(path).to_owned(),
            expected: expected.to_owned(),
            content_type,
            bytes,
        });
    }
    Ok(files)
}

fn base_of(file: &CorpusFile) -> Url {
    Url::parse("http://corpus.invalid/")
        .and_then(|b| b.join(&file.path))
        .unwrap_or_else(|_| Url::parse("http://corpus.invalid/").expect("a valid URL"))
}

fn raw_feed_rs(file: &CorpusFile) -> Outcome {
    let result = catch_unwind(AssertUnwindSafe(|| {
        feed_rs::parser::parse(file.bytes.as_slice())
    }));
    match result {
        Err(_) => failed("panic"),
        Ok(Err(e)) => {
            let kind = match e {
                feed_rs::parser::ParseFeedError::ParseError(
                    feed_rs::parser::ParseErrorKind::NoFeedRoot,
                ) => "no-feed-root",
                feed_rs::parser::ParseFeedError::ParseError(_) => "parse",
                feed_rs::parser::ParseFeedError::IoError(_) => "io",
                feed_rs::parser::ParseFeedError::JsonSerde(_) => "json",
                feed_rs::parser::ParseFeedError::JsonUnsupportedVersion(_) => "json-version",
                feed_rs::parser::ParseFeedError::XmlReader(_) => "xml",
            };
            failed(kind)
        }
        Ok(Ok(feed)) => Outcome {
            entries: feed.entries.len(),
            dated: feed
                .entries
                .iter()
                .filter(|e| e.published.or(e.updated).is_some())
                .count(),
            error: None,
            repairs: Vec::new(),
        },
    }
}

fn gleaner_parse(file: &CorpusFile) -> Outcome {
    let base = base_of(file);
    let result = catch_unwind(AssertUnwindSafe(|| {
        feed::parse(&file.bytes, file.content_type.as_deref(), &base)
    }));
    match result {
        Err(_) => failed("panic"),
        Ok(Err(e)) => failed(match e {
            FeedError::NotAFeed { .. } | FeedError::WebPage { .. } => "not-a-feed",
            FeedError::Invalid { .. } => "invalid",
            // Only a configured page or JSON source gives this.
            FeedError::Source { .. } => "source",
            FeedError::ParserPanicked { .. } => "parser-panicked",
        }),
        Ok(Ok(parsed)) => Outcome {
            entries: parsed.entries.len(),
            dated: parsed
                .entries
                .iter()
                .filter(|e| e.published.or(e.updated).is_some())
                .count(),
            error: None,
            repairs: parsed.repairs.iter().map(|r| r.name().to_owned()).collect(),
        },
    }
}

/// Writes, per corpus file, the entries gleaner reads from it as JSON
/// (`DIR/<path>.json`: title, link, date), for comparison with other parsers.
fn dump_entries(files: &[CorpusFile], dir: &Path) -> anyhow::Result<()> {
    for file in files {
        let entries: Vec<serde_json::Value> =
            feed::parse(&file.bytes, file.content_type.as_deref(), &base_of(file))
                .map(|parsed| {
                    parsed
                        .entries
                        .iter()
                        .map(|e| {
                            serde_json::json!({
                                "title": e.title,
                                "link": e.url.as_ref().map(|u| u.as_str()),
                                "date": e.published.or(e.updated).map(|t| t.to_rfc3339()),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
        let out = dir.join(format!("{}.json", file.path));
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&out, serde_json::to_vec(&entries)?)?;
    }
    println!("wrote {} files under {}", files.len(), dir.display());
    Ok(())
}

fn failed(kind: &str) -> Outcome {
    Outcome {
        entries: 0,
        dated: 0,
        error: Some(kind.to_owned()),
        repairs: Vec::new(),
    }
}

/// Seconds to parse `files` TIMING_ROUNDS times with `parse`.
fn time(files: &[&CorpusFile], parse: impl Fn(&CorpusFile) -> Outcome) -> f64 {
    let started = Instant::now();
    for _ in 0..TIMING_ROUNDS {
        for file in files {
            std::hint::black_box(parse(file));
        }
    }
    started.elapsed().as_secs_f64()
}

fn mb_per_s(files: &[&CorpusFile], seconds: f64) -> f64 {
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    bytes as f64 * f64::from(TIMING_ROUNDS) / 1e6 / seconds.max(1e-9)
}

/// The totals `--check` compares with the recorded minimums.
fn totals(
    files: &[CorpusFile],
    ours: &[Outcome],
    raw: &[Outcome],
) -> BTreeMap<&'static str, usize> {
    let mut t = BTreeMap::new();
    let expected_feed = |f: &CorpusFile| f.expected != "reject";
    let mut put = |k, v| {
        t.insert(k, v);
    };
    put(
        "gleaner_files_with_entries",
        ours.iter().filter(|o| o.entries > 0).count(),
    );
    put(
        "feed_rs_files_with_entries",
        raw.iter().filter(|o| o.entries > 0).count(),
    );
    put(
        "feed_rs_files_kept",
        ours.iter()
            .zip(raw)
            .filter(|(o, r)| r.entries > 0 && o.entries > 0)
            .count(),
    );
    put("gleaner_entries", ours.iter().map(|o| o.entries).sum());
    put("gleaner_dated_entries", ours.iter().map(|o| o.dated).sum());
    put(
        "rejects_rejected",
        files
            .iter()
            .zip(ours)
            .filter(|(f, o)| !expected_feed(f) && o.error.as_deref() == Some("not-a-feed"))
            .count(),
    );
    put(
        "gleaner_panics",
        ours.iter()
            .filter(|o| matches!(o.error.as_deref(), Some("panic" | "parser-panicked")))
            .count(),
    );
    t
}

fn read_minimums(path: &Path) -> anyhow::Result<HashMap<String, usize>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut minimums = HashMap::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once(char::is_whitespace)
            .with_context(|| format!("{}: bad line {line:?}", path.display()))?;
        minimums.insert(key.to_owned(), value.trim().parse()?);
    }
    Ok(minimums)
}

/// A file as served over HTTP: its Content-Type (if the manifest gives one) and body.
type Served = (Option<String>, Vec<u8>);

/// What polling the corpus over HTTP stored.
struct Polled {
    /// Feeds that stored at least one article.
    feeds_with_articles: usize,
    /// Entries lost to a merge inside their own feed, with the files.
    merged_within_feed: Vec<(String, usize)>,
}

/// Serves the files on 127.0.0.1 and polls each through the real pipeline.
async fn poll_over_http(files: &[CorpusFile]) -> anyhow::Result<Polled> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let served: Arc<HashMap<String, Served>> = Arc::new(
        files
            .iter()
            .map(|f| {
                (
                    format!("/{}", f.path),
                    (f.content_type.clone(), f.bytes.clone()),
                )
            })
            .collect(),
    );
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let served = served.clone();
        async move {
            let response = match served.get(request.uri().path()) {
                Some((content_type, body)) => {
                    let mut builder = Response::builder();
                    if let Some(ct) = content_type {
                        builder = builder.header("content-type", ct.as_str());
                    }
                    builder.body(Body::from(body.clone()))
                }
                None => Response::builder()
                    .status(StatusCode::NOT_FOUND)
                    .body(Body::empty()),
            };
            response.unwrap_or_else(|_| Response::new(Body::empty()))
        }
    });
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let feeds_toml: String = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            format!(
                "[[feeds]]\nurl = \"http://127.0.0.1:{port}/{}\"\nname = \"f{i}\"\nfull_text = false\n",
                f.path
            )
        })
        .collect();
    let toml = format!(
        "[storage]\ndatabase = \"corpus.db\"\n[fetch]\nconcurrency = 16\nper_host_concurrency = 16\nper_host_interval_ms = 0\n{feeds_toml}"
    );
    let config = Config::from_str_at(&toml, &dir.path().join("corpus.toml"))?;
    let (store, store_thread) =
        StoreHandle::spawn(Store::open_for(&config.storage.database, Access::Create)?);
    let pipeline = Pipeline::new(
        &config,
        store,
        FeedLocks::default(),
        CancellationToken::new(),
    )?;
    let summary = pipeline
        .poll_all(&config.feeds, PollMode::Manual, |_| {})
        .await;
    println!("http: {summary}");
    drop(pipeline);
    tokio::task::spawn_blocking(move || store_thread.join()).await?;
    server.abort();
    let store = Store::open_for(&config.storage.database, Access::Create)?;
    let statuses = store.feed_statuses()?;
    let mut merged_within_feed = Vec::new();
    for (file, feed) in files.iter().zip(&config.feeds) {
        // Each entry id the feed gives is one article of that feed, unless
        // the merge rules wrongly joined two of them.
        let ids: HashSet<String> =
            feed::parse(&file.bytes, file.content_type.as_deref(), &feed.url)
                .map(|p| {
                    let skip = p.entries.len().saturating_sub(MAX_ENTRIES_PER_POLL);
                    p.entries.into_iter().skip(skip).map(|e| e.id).collect()
                })
                .unwrap_or_default();
        let articles = statuses.get(feed.url.as_str()).map_or(0, |s| s.articles);
        let lost = ids.len().saturating_sub(articles as usize);
        if lost > 0 {
            merged_within_feed.push((file.path.clone(), lost));
        }
    }
    Ok(Polled {
        feeds_with_articles: statuses.values().filter(|s| s.articles > 0).count(),
        merged_within_feed,
    })
}

/// Parses mutated copies of the corpus files (byte flips, cuts, splices of
/// other files' bytes) until `budget` runs out; returns (runs, panics that
/// escaped `feed::parse`, feed-rs panics it caught).
fn mutate_corpus(files: &[CorpusFile], budget: Duration) -> (u64, u64, u64) {
    let mut state: u64 = 0x5EED_0FF3_3D00;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let started = Instant::now();
    let (mut runs, mut panics, mut caught) = (0, 0, 0);
    while started.elapsed() < budget && !files.is_empty() {
        let file = &files[next() as usize % files.len()];
        let mut bytes = file.bytes.clone();
        for _ in 0..=(next() % 8) {
            let at = next() as usize % (bytes.len() + 1);
            match next() % 4 {
                0 if !bytes.is_empty() => {
                    let i = at.min(bytes.len() - 1);
                    bytes[i] ^= 1 << (next() % 8);
                }
                1 => bytes.truncate(at),
                2 if !bytes.is_empty() => {
                    let end = (at + (next() as usize % 64)).min(bytes.len());
                    bytes.drain(at.min(end)..end);
                }
                _ => {
                    let donor = &files[next() as usize % files.len()].bytes;
                    let start = next() as usize % (donor.len() + 1);
                    let end = (start + (next() as usize % 128)).min(donor.len());
                    bytes.splice(at..at, donor[start..end].iter().copied());
                }
            }
        }
        let mutated = CorpusFile {
            bytes,
            path: file.path.clone(),
            folder: String::new(),
            expected: String::new(),
            content_type: file.content_type.clone(),
        };
        match gleaner_parse(&mutated).error.as_deref() {
            Some("panic") => {
                panics += 1;
                eprintln!("panic on a mutation of {}", file.path);
            }
            Some("parser-panicked") => caught += 1,
            _ => {}
        }
        runs += 1;
    }
    (runs, panics, caught)
}

fn main() -> anyhow::Result<()> {
    let mut root: Option<PathBuf> = None;
    let (mut check, mut http, mut list) = (false, false, false);
    let mut mutate_secs: Option<u64> = None;
    let mut dump: Option<PathBuf> = None;
    let mut feedparser: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--http" => http = true,
            "--list" => list = true,
            "--feedparser" => {
                feedparser = Some(PathBuf::from(
                    args.next().context("--feedparser needs a file")?,
                ))
            }
            "--dump" => dump = Some(PathBuf::from(args.next().context("--dump needs a folder")?)),
            "--mutate" => {
                mutate_secs = Some(args.next().context("--mutate needs SECONDS")?.parse()?)
            }
            other if !other.starts_with("--") => root = Some(PathBuf::from(other)),
            other => bail!("unknown option {other}"),
        }
    }
    let root = root.context(
        "usage: feed_corpus PATH [--check] [--http] [--list] [--mutate SECS] [--dump DIR] [--feedparser FILE]",
    )?;
    let files = read_corpus(&root)?;
    if let Some(dir) = dump {
        return dump_entries(&files, &dir);
    }
    // Panics are caught and counted; their messages would only be noise.
    std::panic::set_hook(Box::new(|_| {}));

    let raw: Vec<Outcome> = files.iter().map(raw_feed_rs).collect();
    let ours: Vec<Outcome> = files.iter().map(gleaner_parse).collect();

    let mut folders: BTreeMap<&str, (Tally, Tally)> = BTreeMap::new();
    for ((file, r), o) in files.iter().zip(&raw).zip(&ours) {
        let (raw_tally, our_tally) = folders.entry(&file.folder).or_default();
        raw_tally.add(r);
        our_tally.add(o);
    }
    println!(
        "{:<26} {:>5} | {:>13} {:>8} {:>8} {:>6} | {:>13} {:>8} {:>8} {:>6} | errors (feed-rs / gleaner)",
        "folder",
        "files",
        "feed-rs: w/ent",
        "entries",
        "dated",
        "panics",
        "gleaner: w/ent",
        "entries",
        "dated",
        "panics"
    );
    for (folder, (r, o)) in &folders {
        println!(
            "{folder:<26} {:>5} | {:>14} {:>8} {:>8} {:>6} | {:>14} {:>8} {:>8} {:>6} | {} / {}",
            r.files,
            r.with_entries,
            r.entries,
            r.dated,
            r.panics,
            o.with_entries,
            o.entries,
            o.dated,
            o.panics,
            r.errors(),
            o.errors()
        );
    }

    // Throughput: everything, and the files feed-rs parses by itself (where
    // gleaner's strict path is all that runs).
    let all: Vec<&CorpusFile> = files.iter().collect();
    let strict_ok: Vec<&CorpusFile> = files
        .iter()
        .zip(&raw)
        .filter(|(_, r)| r.error.is_none())
        .map(|(f, _)| f)
        .collect();
    let raw_all = mb_per_s(&all, time(&all, raw_feed_rs));
    let ours_all = mb_per_s(&all, time(&all, gleaner_parse));
    let raw_strict = mb_per_s(&strict_ok, time(&strict_ok, raw_feed_rs));
    let ours_strict = mb_per_s(&strict_ok, time(&strict_ok, gleaner_parse));
    println!(
        "throughput MB/s: all files: feed-rs {raw_all:.1}, gleaner {ours_all:.1}; \
         files feed-rs parses ({}): feed-rs {raw_strict:.1}, gleaner {ours_strict:.1} \
         (gleaner costs {:.2}x)",
        strict_ok.len(),
        raw_strict / ours_strict.max(1e-9)
    );

    let union = raw
        .iter()
        .zip(&ours)
        .filter(|(r, o)| r.entries > 0 || o.entries > 0)
        .count();
    let mut totals = totals(&files, &ours, &raw);
    let rejects = files.iter().filter(|f| f.expected == "reject").count();
    println!(
        "totals: files with >=1 entry: feed-rs {}, gleaner {} (union {union}); panics: feed-rs {}, gleaner {}; \
         rejects rejected: {}/{rejects}",
        totals["feed_rs_files_with_entries"],
        totals["gleaner_files_with_entries"],
        raw.iter()
            .filter(|o| o.error.as_deref() == Some("panic"))
            .count(),
        totals["gleaner_panics"],
        totals["rejects_rejected"],
    );
    let mut repair_counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &ours {
        for r in &o.repairs {
            *repair_counts.entry(r.as_str()).or_default() += 1;
        }
    }
    println!("repairs: {repair_counts:?}");

    if list {
        for ((file, r), o) in files.iter().zip(&raw).zip(&ours) {
            let mark = match (r.entries > 0, o.entries > 0) {
                (true, false) => "LOST",
                (false, true) => "gained",
                (false, false) if file.expected != "reject" => "none",
                _ => continue,
            };
            println!(
                "{mark:<6} {} [{}] feed-rs {:?} gleaner {:?} {:?}",
                file.path, file.expected, r.error, o.error, o.repairs
            );
        }
    }

    if let Some(path) = &feedparser {
        let theirs = compare::read_feedparser(path)?;
        let entries: Vec<Vec<feed::Entry>> = files
            .iter()
            .map(|f| {
                feed::parse(&f.bytes, f.content_type.as_deref(), &base_of(f))
                    .map(|p| p.entries)
                    .unwrap_or_default()
            })
            .collect();
        let comparison = compare::compare(
            files
                .iter()
                .zip(&entries)
                .map(|(f, e)| (f.path.as_str(), e.as_slice())),
            &theirs,
        );
        comparison.print();
        if list {
            comparison.list();
        }
        for field in compare::FIELDS {
            let permille = comparison.fields.get(field).map_or(1000, |t| t.permille());
            totals.insert(compare::permille_key(field), permille);
        }
    }

    let mut failures = Vec::new();
    if let Some(secs) = mutate_secs {
        let (runs, panics, caught) = mutate_corpus(&files, Duration::from_secs(secs));
        println!(
            "mutations: {runs} mutated documents parsed in {secs} s: {panics} panics escaped, \
             {caught} feed-rs panics caught and reported as errors"
        );
        if panics > 0 {
            failures.push(format!("{panics} panics on mutated documents"));
        }
    }
    if http {
        let runtime = tokio::runtime::Runtime::new()?;
        let polled = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(600), poll_over_http(&files)).await
        })??;
        let stored = polled.feeds_with_articles;
        let direct = totals["gleaner_files_with_entries"];
        let lost: usize = polled.merged_within_feed.iter().map(|(_, n)| n).sum();
        println!(
            "http: entries merged into another entry of their own feed: {lost} {:?}",
            polled.merged_within_feed
        );
        if lost > 0 {
            failures.push(format!("{lost} entries merged within their own feed"));
        }
        println!("http: {stored} feeds stored >=1 article; direct parse: {direct}");
        if stored != direct {
            failures.push(format!(
                "http polling stored {stored} feeds, direct parsing {direct}"
            ));
        }
    }
    if check {
        let min_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/feed_corpus.min");
        for (key, minimum) in read_minimums(&min_path)? {
            if key.starts_with("feedparser_") && feedparser.is_none() {
                continue;
            }
            let Some(&value) = totals.get(key.as_str()) else {
                failures.push(format!("{key}: unknown total"));
                continue;
            };
            if value < minimum {
                failures.push(format!("{key}: {value} < minimum {minimum}"));
            }
        }
        if totals["gleaner_panics"] > 0 {
            failures.push(format!("{} panics", totals["gleaner_panics"]));
        }
    }
    if !failures.is_empty() {
        bail!("corpus check failed: {}", failures.join("; "));
    }
    if check {
        println!("corpus check: ok");
    }
    Ok(())
}
