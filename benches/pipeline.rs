//! The whole pipeline at scale, next to the two ceilings it cannot beat.
//!
//! ```sh
//! cargo bench --bench pipeline -- [--feeds 10000] [--entries 20] [--concurrency 16] [--database URL]
//!     [--sample 2000] [--skip-ceilings] [--skip-export] [--skip-startup] [--near-dup-off-first]
//!     [--skip-near-dup-off | --near-duplicates-off]
//! cargo bench --bench pipeline -- --scaling postgres://USER:PASSWORD@HOST/DB [--feeds 300 …]
//! ```
//!
//! An in-process HTTP server on 127.0.0.1 (its own runtime and threads) serves
//! N synthetic RSS feeds of M entries, with ETags, and one article page of
//! about 60 KB per entry: navigation, sidebar, related box, share bar,
//! comments and footer around a body whose length and words vary by page.
//! Everything is generated on request from (feed, entry), so nothing large is
//! held in memory. Then, through the library the way `gleaner poll` uses it:
//!
//! 1. the first pass: fetch, parse, full text, dedup, store;
//! 2. the idle pass: every feed answers 304;
//! 3. the same two passes with `[dedup] near_duplicates = false`, on a
//!    database of their own (SQLite only), and the ratio of each pass's
//!    wall and CPU time with the feature on to off (`--near-dup-off-first`
//!    runs these before 1 and 2: a process's first pass costs more, so
//!    compare runs in both orders);
//! 4. a pass in which 10 % of the feeds have one new entry.
//!
//! Each pass is set beside two ceilings measured in the same run: downloading
//! the same URLs with the same client (gleaner's `Fetcher`) and concurrency,
//! and extracting the same pages alone on every core (on a sample when there
//! are many, extrapolated). Then `gleaner export --format jsonl` of everything
//! stored, and the start-up of `gleaner run` with the same N feeds until it
//! tells systemd `READY=1`.
//!
//! With `--scaling` it runs the three passes instead on SQLite and on
//! PostgreSQL with 1, 2 and 3 instances sharing one database (see
//! `pipeline/scaling.rs`).

use std::io::Read;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use chrono::{TimeZone, Utc};
use clap::Parser;
use futures_util::StreamExt;
use gleaner::article::{self, SiteRules};
use gleaner::config::Config;
use gleaner::fetch::{FeedResponse, Fetcher, Validators};
use gleaner::poll::{FeedLocks, PassSummary, Pipeline, PollMode};
use gleaner::store::handle::StoreThread;
use gleaner::store::{Access, Store, StoreHandle};
use tokio_util::sync::CancellationToken;
use url::Url;

#[path = "pipeline/scaling.rs"]
mod scaling;

#[derive(Parser, Debug)]
#[command(about = "gleaner's pipeline against a local server, beside its ceilings")]
struct Args {
    /// Feeds served (and configured).
    #[arg(long, default_value_t = 10_000)]
    feeds: usize,
    /// Entries per feed.
    #[arg(long, default_value_t = 20)]
    entries: usize,
    /// `[fetch] concurrency` (gleaner's default) and `per_host_concurrency`
    /// (everything is on one host, so it is the same limit).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Pages extracted for the extraction ceiling (every k-th page; all when fewer).
    #[arg(long, default_value_t = 2_000)]
    sample: usize,
    /// Do not measure the download and extraction ceilings.
    #[arg(long)]
    skip_ceilings: bool,
    /// Store into this `[storage] database` instead of a fresh SQLite file:
    /// a `postgres://` URL of an empty database runs the same passes on
    /// PostgreSQL (one instance).
    #[arg(long, value_name = "URL")]
    database: Option<String>,
    /// Run the passes on SQLite and on PostgreSQL with 1, 2 and 3
    /// instances instead, each on a database this role creates (and drops).
    #[arg(long, value_name = "URL")]
    scaling: Option<String>,
    /// Do not time `gleaner export`.
    #[arg(long)]
    skip_export: bool,
    /// Do not time the start-up of `gleaner run`.
    #[arg(long)]
    skip_startup: bool,
    /// Do not run the first and idle passes again with `[dedup]
    /// near_duplicates = false` (always skipped with `--database`).
    #[arg(long)]
    skip_near_dup_off: bool,
    /// Run the passes with near-duplicates off before those with them on
    /// (after, by default). The process's first pass costs more than a
    /// later one; measure both orders and take the median of the ratios.
    #[arg(long)]
    near_dup_off_first: bool,
    /// Run the passes with `[dedup] near_duplicates = false` and nothing
    /// else: set against a run with `--skip-near-dup-off`, each side is a
    /// whole process, so the two can be timed in alternating pairs.
    #[arg(long)]
    near_duplicates_off: bool,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Every 10th feed gains one entry before the third pass.
const NEW_ENTRY_EVERY: usize = 10;

// ---------------------------------------------------------------------------
// Synthetic feeds and pages

/// splitmix64: the same (feed, entry) always gives the same page.
struct Rng(u64);

impl Rng {
    fn new(feed: usize, entry: usize, salt: u64) -> Rng {
        Rng((feed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (entry as u64).wrapping_mul(0xD1B5_4A32_D192_ED03)
            ^ salt.wrapping_mul(0x8CB9_2BA7_2F3D_8DD7))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    fn range(&mut self, low: usize, high: usize) -> usize {
        low + (self.next() % (high - low + 1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.range(1, one_in) == 1
    }

    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.range(0, list.len() - 1)]
    }
}

static WORDS: LazyLock<Vec<&str>> = LazyLock::new(|| {
    "the council budget river bridge school teachers market prices residents officials plan \
     vote week morning report water energy station project museum festival harbour railway \
     police court hospital nurses doctors farmers harvest weather storm flood road traffic \
     tickets season team coach players match goal league election candidate mayor minister \
     government opposition taxes housing rent tenants landlords library books students \
     university research study scientists data results company workers union strike wages \
     factory jobs growth economy bank loans interest inflation exports shipping port airport \
     flights travel tourists hotel restaurant chef menu coffee bakery neighbours park trees \
     garden volunteers charity donations concert orchestra theatre actors film director \
     artists gallery exhibition history archive letters families children parents village \
     town city region county district border treaty talks agreement dispute lawyers judge \
     verdict appeal evidence witness inquiry committee hearing proposal changes rules safety \
     inspection engineers repairs costs delay timetable contract supplier network software \
     update users privacy security experts warning risk survey voters support critics argued \
     said added explained warned announced agreed rejected approved delayed opened closed \
     expected planned reported confirmed denied asked answered visited met discussed reviewed \
     published launched returned moved built rebuilt measured counted after before during \
     while because although since until despite with without about across along around \
     between through under over near for from into onto and but or yet so also again still \
     already almost nearly only even quite rather very new old local national public private \
     small large early late first last next final annual recent former current major minor \
     quiet busy long short higher lower several many few some every each both other such \
     their its our this that these those a an of in on at to by as is was were has had have \
     will would could should may might must can not three four five dozen hundred thousand \
     million percent per"
        .split_whitespace()
        .collect()
});

static FIRST_NAMES: LazyLock<Vec<&str>> = LazyLock::new(|| {
    "Mara Tomas Ines Oren Lena Pavel Rosa Idris Greta Hugo Nadia Felix Alma Jonas Vera Emil"
        .split_whitespace()
        .collect()
});
static LAST_NAMES: LazyLock<Vec<&str>> = LazyLock::new(|| {
    "Quill Hartwell Okafor Lindqvist Moreau Castell Brennan Sato Novak Ferreira Aldous Kowal \
     Marsh Whitcombe Ibarra Vance"
        .split_whitespace()
        .collect()
});
static SECTIONS: LazyLock<Vec<&str>> = LazyLock::new(|| {
    "News World Politics Business Money Tech Science Health Sport Culture Travel Food Opinion \
     Local Weather Video"
        .split_whitespace()
        .collect()
});

fn words(rng: &mut Rng, count: usize) -> String {
    let mut out = String::with_capacity(count * 8);
    for i in 0..count {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(rng.pick(&WORDS));
    }
    out
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn sentence(rng: &mut Rng, low: usize, high: usize) -> String {
    let count = rng.range(low, high);
    let mut text = capitalized(&words(rng, count));
    if count > 12 && rng.chance(2) {
        // A comma somewhere in the middle.
        let at = text
            .char_indices()
            .filter(|(_, c)| *c == ' ')
            .nth(count / 2)
            .map(|(i, _)| i);
        if let Some(at) = at {
            text.insert(at, ',');
        }
    }
    text.push('.');
    text
}

fn person(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(&FIRST_NAMES), rng.pick(&LAST_NAMES))
}

fn headline(feed: usize, entry: usize) -> String {
    let mut rng = Rng::new(feed, entry, 1);
    let count = rng.range(5, 11);
    capitalized(&words(&mut rng, count))
}

fn teaser(feed: usize, entry: usize) -> String {
    sentence(&mut Rng::new(feed, entry, 2), 18, 30)
}

fn published(feed: usize, entry: usize) -> chrono::DateTime<Utc> {
    let base = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("a valid date");
    base + chrono::Duration::minutes((entry * 97 + feed % 60) as i64)
}

fn feed_path(feed: usize) -> String {
    format!("/feeds/{feed}.xml")
}

fn page_path(feed: usize, entry: usize) -> String {
    format!("/articles/{feed}/{entry}.html")
}

/// The entries a feed lists at `generation`: the newest `entries`, newest first.
fn feed_document(port: u16, feed: usize, entries: usize, generation: usize) -> String {
    let mut xml = String::with_capacity(entries * 600 + 400);
    xml.push_str(&format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>\
         <title>Bench feed {feed}</title><link>http://127.0.0.1:{port}/</link>\
         <description>Synthetic feed {feed} for the pipeline bench</description>\n"
    ));
    for entry in (generation..generation + entries).rev() {
        xml.push_str(&format!(
            "<item><guid isPermaLink=\"false\">bench-{feed}-{entry}</guid><title>{}</title>\
             <link>http://127.0.0.1:{port}{}</link><description>{}</description>\
             <pubDate>{}</pubDate></item>\n",
            headline(feed, entry),
            page_path(feed, entry),
            teaser(feed, entry),
            published(feed, entry).to_rfc2822()
        ));
    }
    xml.push_str("</channel></rss>\n");
    xml
}

fn feed_etag(feed: usize, generation: usize) -> String {
    format!("\"g{generation}-f{feed}\"")
}

/// `count` list items linking to topics of `section`.
fn topic_links(html: &mut String, rng: &mut Rng, section: &str, count: usize) {
    for _ in 0..count {
        let topic = rng.pick(&WORDS);
        html.push_str(&format!(
            "<li><a href=\"/{}/{topic}\">{}</a></li>",
            section.to_lowercase(),
            capitalized(topic)
        ));
    }
}

/// An article page of about 60 KB, and how many words its article body has.
fn article_page(port: u16, feed: usize, entry: usize) -> (String, usize) {
    let mut rng = Rng::new(feed, entry, 3);
    let site = format!("http://127.0.0.1:{port}");
    let url = format!("{site}{}", page_path(feed, entry));
    let title = headline(feed, entry);
    let author = person(&mut rng);
    let date = published(feed, entry);
    let section = rng.pick(&SECTIONS);
    let mut html = String::with_capacity(72 * 1024);
    let mut body_words = 0;

    // <head>: metadata, a style sheet and scripts, as real pages carry.
    html.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title} | Bench Gazette</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"description\" content=\"{}\">\
         <meta property=\"og:title\" content=\"{title}\"><meta property=\"og:type\" content=\"article\">\
         <meta property=\"og:url\" content=\"{url}\">\
         <meta property=\"og:image\" content=\"{site}/img/{feed}/{entry}/lead.jpg\">\
         <link rel=\"canonical\" href=\"{url}\">\
         <script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\
         \"headline\":\"{title}\",\"datePublished\":\"{}\",\"author\":{{\"@type\":\"Person\",\"name\":\"{author}\"}},\
         \"publisher\":{{\"@type\":\"Organization\",\"name\":\"Bench Gazette\"}}}}</script>\n<style>",
        teaser(feed, entry),
        date.to_rfc3339()
    ));
    for i in 0..rng.range(60, 90) {
        html.push_str(&format!(
            ".c{i} .item-{}{{margin:{}px {}px;padding:{}px;color:#{:06x};font-size:{}px}}\n",
            rng.pick(&WORDS),
            rng.range(0, 24),
            rng.range(0, 24),
            rng.range(0, 16),
            rng.next() & 0xFF_FFFF,
            rng.range(11, 22)
        ));
    }
    html.push_str("</style><script>window.dataLayer=window.dataLayer||[];");
    for i in 0..rng.range(25, 40) {
        html.push_str(&format!(
            "dataLayer.push({{\"event\":\"{}_{i}\",\"slot\":\"{}\",\"value\":{}}});",
            rng.pick(&WORDS),
            rng.pick(&WORDS),
            rng.next() % 10_000
        ));
    }
    html.push_str("</script></head>\n<body class=\"article-page\">");

    // Header and navigation with drop-down menus.
    html.push_str(&format!(
        "<header class=\"site-header\"><a class=\"logo\" href=\"{site}/\">Bench Gazette</a>\
         <form class=\"search\" action=\"/search\"><input name=\"q\" placeholder=\"Search\"><button>Go</button></form>\
         <nav class=\"main-nav\"><ul class=\"menu\">"
    ));
    for section in SECTIONS.iter() {
        html.push_str(&format!(
            "<li class=\"menu-item\"><a href=\"/{}\">{section}</a><ul class=\"sub-menu\">",
            section.to_lowercase()
        ));
        let count = rng.range(4, 7);
        topic_links(&mut html, &mut rng, section, count);
        html.push_str("</ul></li>");
    }
    html.push_str(&format!(
        "</ul></nav></header>\n<div class=\"breadcrumb\"><a href=\"/\">Home</a> &rsaquo; \
         <a href=\"/{}\">{section}</a> &rsaquo; <span>{title}</span></div>\n<div class=\"layout\"><main id=\"main\">",
        section.to_lowercase()
    ));

    // The article.
    html.push_str(&format!(
        "<article class=\"post\"><header class=\"entry-header\"><h1 class=\"entry-title\">{title}</h1>\
         <div class=\"byline\">By <a href=\"/authors/{}\" rel=\"author\">{author}</a> \
         <time datetime=\"{}\">{}</time></div></header>\
         <figure class=\"lead\"><img src=\"/img/{feed}/{entry}/lead.jpg\" alt=\"{}\" width=\"1200\" height=\"675\">\
         <figcaption>{} Photo: Bench Agency</figcaption></figure><div class=\"entry-content\">",
        author.to_lowercase().replace(' ', "-"),
        date.to_rfc3339(),
        date.format("%e %B %Y"),
        words(&mut rng, 6),
        sentence(&mut rng, 8, 14)
    ));
    let paragraphs = rng.range(8, 22);
    let quote_at = rng.range(2, paragraphs - 1);
    for p in 0..paragraphs {
        if p > 0 && p % 5 == 0 {
            let heading = sentence(&mut rng, 3, 7);
            body_words += heading.split_whitespace().count();
            html.push_str(&format!("<h2>{}</h2>", heading.trim_end_matches('.')));
        }
        if p == quote_at {
            let quote = sentence(&mut rng, 14, 26);
            body_words += quote.split_whitespace().count();
            html.push_str(&format!("<blockquote><p>{quote}</p></blockquote>"));
        }
        html.push_str("<p>");
        for s in 0..rng.range(2, 6) {
            let text = sentence(&mut rng, 8, 26);
            body_words += text.split_whitespace().count();
            if s > 0 {
                html.push(' ');
            }
            if rng.chance(4) {
                // A link or emphasis inside the sentence, as prose has.
                let (head, tail) = text.split_at(text.find(' ').unwrap_or(text.len()));
                let tag = ["a", "em", "strong"][rng.range(0, 2)];
                let open = if tag == "a" {
                    format!("<a href=\"/topics/{}\">", rng.pick(&WORDS))
                } else {
                    format!("<{tag}>")
                };
                html.push_str(&format!("{open}{head}</{tag}>{tail}"));
            } else {
                html.push_str(&text);
            }
        }
        html.push_str("</p>");
    }
    html.push_str("</div><div class=\"share-bar\">Share this article: ");
    for network in ["Facebook", "Twitter", "LinkedIn", "Email"] {
        html.push_str(&format!(
            "<a class=\"share-{}\" href=\"https://share.invalid/{}?u={url}\">{network}</a> ",
            network.to_lowercase(),
            network.to_lowercase()
        ));
    }
    html.push_str("</div><div class=\"tags\">Tags: ");
    for _ in 0..rng.range(3, 6) {
        let tag = rng.pick(&WORDS);
        html.push_str(&format!("<a href=\"/tag/{tag}\" rel=\"tag\">{tag}</a> "));
    }
    html.push_str("</div></article>\n");

    // Related stories from the same feed.
    html.push_str("<section class=\"related\"><h3>Related stories</h3><div class=\"cards\">");
    for i in 1..=6 {
        let other = entry + i * 7;
        html.push_str(&format!(
            "<div class=\"card\"><a href=\"{}\"><img src=\"/img/{feed}/{other}/thumb.jpg\" alt=\"\">\
             <h4>{}</h4></a><p>{}</p></div>",
            page_path(feed, other),
            headline(feed, other),
            teaser(feed, other)
        ));
    }
    html.push_str("</div></section>\n");

    // Comments.
    let comments = rng.range(12, 60);
    html.push_str(&format!(
        "<section id=\"comments\" class=\"comments-area\"><h3 class=\"comments-title\">{comments} Comments</h3>\
         <ol class=\"comment-list\">"
    ));
    for i in 0..comments {
        let name = person(&mut rng);
        let mut text = String::new();
        for _ in 0..rng.range(1, 4) {
            text.push_str(&sentence(&mut rng, 6, 22));
            text.push(' ');
        }
        html.push_str(&format!(
            "<li class=\"comment\" id=\"comment-{i}\"><article class=\"comment-body\">\
             <footer class=\"comment-meta\"><div class=\"comment-author vcard\">\
             <img class=\"avatar\" src=\"/avatars/{}.png\" width=\"48\" height=\"48\" alt=\"\">\
             <b class=\"fn\">{name}</b> <span class=\"says\">says:</span></div>\
             <div class=\"comment-metadata\"><a href=\"#comment-{i}\"><time>{} at {}:{:02}</time></a></div></footer>\
             <div class=\"comment-content\"><p>{}</p></div>\
             <div class=\"reply\"><a class=\"comment-reply-link\" href=\"?replytocom={i}#respond\">Reply</a></div>\
             </article></li>",
            rng.next() % 1000,
            date.format("%e %B %Y"),
            rng.range(0, 23),
            rng.range(0, 59),
            text.trim_end()
        ));
    }
    html.push_str(
        "</ol><div id=\"respond\"><h3>Leave a Reply</h3><form class=\"comment-form\" action=\"/comment\">\
         <p>Your email address will not be published.</p><textarea name=\"comment\"></textarea>\
         <input name=\"author\"><button>Post Comment</button></form></div></section></main>\n",
    );

    // The sidebar.
    html.push_str("<aside class=\"sidebar\"><div class=\"widget popular\"><h3>Most read</h3><ol>");
    for i in 0..10 {
        let other = (feed + i * 31) % 997;
        html.push_str(&format!(
            "<li><a href=\"{}\">{}</a></li>",
            page_path(other, i),
            headline(other, i)
        ));
    }
    html.push_str(
        "</ol></div><div class=\"widget newsletter\"><h3>Newsletter</h3>\
         <p>Sign up for our newsletter and get the day's news every morning.</p>\
         <form action=\"/subscribe\"><input name=\"email\"><button>Subscribe</button></form></div>",
    );
    for slot in 0..3 {
        html.push_str(&format!(
            "<div class=\"ad\" data-slot=\"side-{slot}\"><script>googletag.cmd.push(function(){{\
             googletag.display('side-{slot}-{}');}});</script><span>Advertisement</span></div>",
            rng.next() % 100_000
        ));
    }
    html.push_str("<div class=\"widget trending\"><h3>Trending</h3><ul>");
    for _ in 0..15 {
        let topic = rng.pick(&WORDS);
        html.push_str(&format!(
            "<li><a href=\"/topics/{topic}\">#{topic}</a></li>"
        ));
    }
    html.push_str("</ul></div></aside></div>\n");

    // The footer.
    html.push_str("<footer class=\"site-footer\"><div class=\"footer-columns\">");
    for section in SECTIONS.iter().take(5) {
        html.push_str(&format!("<div class=\"column\"><h4>{section}</h4><ul>"));
        topic_links(&mut html, &mut rng, section, 8);
        html.push_str("</ul></div>");
    }
    html.push_str(
        "</div><p class=\"legal\">&copy; 2025 Bench Gazette. All rights reserved. \
         <a href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a> <a href=\"/cookies\">Cookies</a></p></footer>\n<script>",
    );
    for i in 0..rng.range(20, 35) {
        html.push_str(&format!(
            "(function(w,d){{var s{i}=d.createElement('script');s{i}.async=true;s{i}.src='/js/{}-{}.js';\
             d.body.appendChild(s{i});}})(window,document);",
            rng.pick(&WORDS),
            rng.next() % 1000
        ));
    }
    html.push_str("</script></body></html>\n");
    (html, body_words)
}

// ---------------------------------------------------------------------------
// The server

struct Server {
    port: u16,
    /// Per feed: how many entries it has gained (its ETag changes with it).
    generations: Arc<Vec<AtomicU32>>,
    /// Feeds answered 200, feeds answered 304, pages served, bytes served.
    counters: Arc<[AtomicU64; 4]>,
}

impl Server {
    /// Every [`NEW_ENTRY_EVERY`]th feed gains one entry (and a new ETag).
    fn add_new_entries(&self) {
        for feed in (0..self.generations.len()).step_by(NEW_ENTRY_EVERY) {
            self.generations[feed].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn start(feeds: usize, entries: usize) -> Server {
        let generations: Arc<Vec<AtomicU32>> =
            Arc::new((0..feeds).map(|_| AtomicU32::new(0)).collect());
        let counters: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (state, count) = (generations.clone(), counters.clone());
        std::thread::Builder::new()
            .name("bench-server".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("bench-server")
                    .enable_all()
                    .build()
                    .expect("the server's runtime");
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("binding 127.0.0.1:0");
                    let port = listener.local_addr().expect("a local address").port();
                    port_tx.send(port).expect("the bench waits for the port");
                    let app = axum::Router::new().fallback(move |request: Request<Body>| {
                        let (state, count) = (state.clone(), count.clone());
                        async move { respond(&request, port, entries, &state, &count) }
                    });
                    axum::serve(listener, app).await.expect("serving");
                });
            })
            .expect("spawning the server thread");
        let port = port_rx.recv().expect("the server's port");
        Server {
            port,
            generations,
            counters,
        }
    }

    fn counts(&self) -> [u64; 4] {
        [0, 1, 2, 3].map(|i| self.counters[i].load(Ordering::Relaxed))
    }

    fn generation(&self, feed: usize) -> usize {
        self.generations[feed].load(Ordering::Relaxed) as usize
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}{path}", self.port)).expect("a valid URL")
    }
}

fn respond(
    request: &Request<Body>,
    port: u16,
    entries: usize,
    generations: &[AtomicU32],
    counters: &[AtomicU64; 4],
) -> Response<Body> {
    let path = request.uri().path();
    let reply = |status: StatusCode, content_type: &str, etag: Option<&str>, body: String| {
        counters[3].fetch_add(body.len() as u64, Ordering::Relaxed);
        let mut response = Response::builder()
            .status(status)
            .header("content-type", content_type);
        if let Some(etag) = etag {
            response = response.header("etag", etag);
        }
        response.body(Body::from(body)).expect("a valid response")
    };
    let feed = path
        .strip_prefix("/feeds/")
        .and_then(|p| p.strip_suffix(".xml"))
        .and_then(|f| f.parse::<usize>().ok())
        .filter(|f| *f < generations.len());
    if let Some(feed) = feed {
        let generation = generations[feed].load(Ordering::Relaxed) as usize;
        let etag = feed_etag(feed, generation);
        let matches = request
            .headers()
            .get("if-none-match")
            .is_some_and(|v| v.as_bytes() == etag.as_bytes());
        if matches {
            counters[1].fetch_add(1, Ordering::Relaxed);
            return reply(
                StatusCode::NOT_MODIFIED,
                "text/plain",
                Some(&etag),
                String::new(),
            );
        }
        counters[0].fetch_add(1, Ordering::Relaxed);
        let xml = feed_document(port, feed, entries, generation);
        return reply(
            StatusCode::OK,
            "application/rss+xml; charset=utf-8",
            Some(&etag),
            xml,
        );
    }
    let page = path
        .strip_prefix("/articles/")
        .and_then(|p| p.strip_suffix(".html"))
        .and_then(|p| p.split_once('/'))
        .and_then(|(f, e)| Some((f.parse::<usize>().ok()?, e.parse::<usize>().ok()?)));
    if let Some((feed, entry)) = page {
        counters[2].fetch_add(1, Ordering::Relaxed);
        let (html, _) = article_page(port, feed, entry);
        return reply(StatusCode::OK, "text/html; charset=utf-8", None, html);
    }
    reply(
        StatusCode::NOT_FOUND,
        "text/plain",
        None,
        "not found".into(),
    )
}

// ---------------------------------------------------------------------------
// Measuring

/// Counters read at the start of a measured step.
struct Mark {
    at: Instant,
    cpu: Duration,
    machine_busy: Duration,
    server_cpu: Duration,
    store_busy: Duration,
}

/// What a measured step cost.
#[derive(Clone, Copy, Default)]
struct Cost {
    wall: Duration,
    /// The whole process, user + system (the in-process server included).
    cpu: Duration,
    /// The server's threads alone.
    server_cpu: Duration,
    /// CPU time other processes on the machine used meanwhile (other builds
    /// compete for the same cores and slow the step down).
    others_cpu: Duration,
    /// VmHWM during the step, after resetting it at the start (server included).
    peak_rss_kb: u64,
    /// Time the database thread spent running jobs.
    store_busy: Duration,
}

fn mark(store: Option<&StoreHandle>) -> Mark {
    // Resets VmHWM to the current RSS, so the peak is this step's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Mark {
        at: Instant::now(),
        cpu: process_cpu(),
        machine_busy: machine_busy(),
        server_cpu: server_cpu(),
        store_busy: store.map_or(Duration::ZERO, StoreHandle::busy),
    }
}

impl Mark {
    fn cost(&self, store: Option<&StoreHandle>) -> Cost {
        let cpu = process_cpu().saturating_sub(self.cpu);
        Cost {
            wall: self.at.elapsed(),
            cpu,
            others_cpu: machine_busy()
                .saturating_sub(self.machine_busy)
                .saturating_sub(cpu),
            server_cpu: server_cpu().saturating_sub(self.server_cpu),
            peak_rss_kb: status_kb("VmHWM"),
            store_busy: store
                .map_or(Duration::ZERO, StoreHandle::busy)
                .saturating_sub(self.store_busy),
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

fn rusage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage fills the struct it is given.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut usage);
        usage
    }
}

fn process_cpu() -> Duration {
    let usage = rusage(libc::RUSAGE_SELF);
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// CPU time spent by the whole machine (all processes, all cores).
fn machine_busy() -> Duration {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    let busy: u64 = fields
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Duration::from_secs_f64(busy as f64 / ticks)
}

/// CPU time of the threads named `bench-server` (the in-process server).
fn server_cpu() -> Duration {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    let mut total = 0u64;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !comm.starts_with("bench-server") {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the command name: state is the 1st, utime the 12th, stime the 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or(Vec::new(), |(_, rest)| rest.split_whitespace().collect());
        let field = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        total += field(11) + field(12);
    }
    Duration::from_secs_f64(total as f64 / ticks)
}

fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status_field(&status, key).unwrap_or(0)
}

/// A `kB` field of a `/proc/PID/status` text.
fn status_field(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

// ---------------------------------------------------------------------------
// The ceilings

/// One request of a download ceiling.
enum Fetch {
    Feed { feed: usize, etag: Option<String> },
    Page { feed: usize, entry: usize },
}

/// Downloads the given URLs with gleaner's own `Fetcher` (same clients, same
/// limits, same body reading) and `concurrency` requests at once; nothing
/// else is done with the bytes.
async fn download(
    fetcher: &Fetcher,
    server: &Server,
    requests: impl Iterator<Item = Fetch>,
    concurrency: usize,
) -> Cost {
    let start = mark(None);
    futures_util::stream::iter(requests)
        .map(|request| async move {
            match request {
                Fetch::Feed { feed, etag } => {
                    let validators = Validators {
                        etag,
                        last_modified: None,
                    };
                    match fetcher
                        .fetch_feed(
                            &server.url(&feed_path(feed)),
                            &validators,
                            fetcher.default_request(),
                        )
                        .await
                    {
                        Ok(FeedResponse::Fetched(body)) => body.bytes.len() as u64,
                        Ok(FeedResponse::NotModified { .. }) => 0,
                        Err(error) => panic!("download ceiling: {error}"),
                    }
                }
                Fetch::Page { feed, entry } => fetcher
                    .fetch_page(
                        &server.url(&page_path(feed, entry)),
                        &server.url(&feed_path(feed)),
                        fetcher.default_request(),
                    )
                    .await
                    .map(|body| body.bytes.len() as u64)
                    .unwrap_or_else(|error| panic!("download ceiling: {error}")),
            }
        })
        .buffer_unordered(concurrency)
        .fold(0u64, |sum, n| async move { sum + n })
        .await;
    start.cost(None)
}

/// Extraction alone, on every core, measured on every k-th page (all pages
/// when there are at most `sample`).
struct ExtractionCeiling {
    pages: usize,
    threads: usize,
    /// What the threads did, added up.
    tally: Tally,
    /// The busiest thread's time in `article::extract`: the wall time the
    /// sample took, generating the pages aside.
    wall: Duration,
    /// CPU time other processes used meanwhile.
    others_cpu: Duration,
    peak_rss_kb: u64,
}

/// One extraction thread's work.
#[derive(Default)]
struct Tally {
    /// Time in `article::extract`.
    busy: Duration,
    /// CPU time of the thread in `article::extract`.
    cpu: Duration,
    failed: usize,
    /// Words extracted, and words of the article bodies written.
    extracted_words: usize,
    written_words: usize,
    bytes: usize,
}

impl Tally {
    fn add(mut self, other: &Tally) -> Tally {
        self.busy += other.busy;
        self.cpu += other.cpu;
        self.failed += other.failed;
        self.extracted_words += other.extracted_words;
        self.written_words += other.written_words;
        self.bytes += other.bytes;
        self
    }
}

impl ExtractionCeiling {
    /// Pages per second on all cores, from CPU time: what the cores do when
    /// nothing else runs (other processes on the machine inflate wall time).
    fn pages_per_sec(&self) -> f64 {
        self.threads as f64 * self.pages as f64 / self.tally.cpu.as_secs_f64()
    }

    /// The time extraction alone would take for `pages` pages on all cores.
    fn time_for(&self, pages: usize) -> Duration {
        Duration::from_secs_f64(pages as f64 / self.pages_per_sec())
    }

    /// The CPU time extraction alone costs for `pages` pages.
    fn cpu_for(&self, pages: usize) -> Duration {
        self.tally.cpu.mul_f64(pages as f64 / self.pages as f64)
    }
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    // SAFETY: clock_gettime fills the struct it is given.
    let time = unsafe {
        let mut time: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time);
        time
    };
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

fn extraction_ceiling(port: u16, feeds: usize, entries: usize, sample: usize) -> ExtractionCeiling {
    let total = feeds * entries;
    let stride = (total / sample.max(1)).max(1);
    let chosen: Vec<usize> = (0..total).step_by(stride).collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = AtomicUsize::new(0);
    let start = mark(None);
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut tally = Tally::default();
                    while let Some(&page) = chosen.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let (feed, entry) = (page / entries, page % entries);
                        let (html, body_words) = article_page(port, feed, entry);
                        let url = Url::parse(&format!(
                            "http://127.0.0.1:{port}{}",
                            page_path(feed, entry)
                        ))
                        .expect("a valid URL");
                        let (started, cpu) = (Instant::now(), thread_cpu());
                        let result = article::extract(
                            html.as_bytes(),
                            Some("text/html; charset=utf-8"),
                            &url,
                            SiteRules::default(),
                        );
                        tally.cpu += thread_cpu().saturating_sub(cpu);
                        tally.busy += started.elapsed();
                        match result {
                            Ok(article) => tally.extracted_words += article.word_count as usize,
                            Err(_) => tally.failed += 1,
                        }
                        tally.written_words += body_words;
                        tally.bytes += html.len();
                    }
                    tally
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("an extraction thread"))
            .collect()
    });
    let cost = start.cost(None);
    ExtractionCeiling {
        pages: chosen.len(),
        threads,
        wall: tallies.iter().map(|t| t.busy).max().unwrap_or_default(),
        tally: tallies.iter().fold(Tally::default(), Tally::add),
        others_cpu: cost.others_cpu,
        peak_rss_kb: cost.peak_rss_kb,
    }
}

// ---------------------------------------------------------------------------
// The passes

struct PassRow {
    name: &'static str,
    summary: PassSummary,
    cost: Cost,
    /// Feeds answered 200, feeds answered 304, pages served during the pass.
    served: [u64; 3],
    download: Option<Cost>,
    /// Pages the pass had to extract.
    pages: usize,
}

async fn pass(
    name: &'static str,
    pipeline: &Pipeline,
    config: &Config,
    store: &StoreHandle,
    server: &Server,
) -> PassRow {
    let before = server.counts();
    let start = mark(Some(store));
    let summary = pipeline
        .poll_all(&config.feeds, PollMode::Manual, |_| {})
        .await;
    let cost = start.cost(Some(store));
    let after = server.counts();
    let served = [0, 1, 2].map(|i| after[i] - before[i]);
    eprintln!("  {name}: {summary} in {:.2} s", cost.wall.as_secs_f64());
    PassRow {
        name,
        summary,
        cost,
        served,
        download: None,
        pages: served[2] as usize,
    }
}

// ---------------------------------------------------------------------------
// The binary: export and start-up

struct ExportRow {
    wall: Duration,
    bytes: u64,
    lines: u64,
    max_rss_kb: u64,
}

/// Waits for `child`; returns its wait status and its peak RSS in KB.
///
/// The peak is the child's VmHWM sampled every 5 ms: `ru_maxrss` is no use
/// here, as Linux carries the parent's high-water mark over the child's exec.
fn wait_with_peak_rss(child: &std::process::Child) -> (i32, u64) {
    let pid = child.id();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                let status = std::fs::read_to_string(format!("/proc/{pid}/status"));
                if let Some(kb) = status
                    .ok()
                    .as_deref()
                    .and_then(|s| status_field(s, "VmHWM"))
                {
                    peak = peak.max(kb);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            peak
        })
    };
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe {
        libc::waitpid(pid as libc::pid_t, &mut status, 0);
    }
    done.store(true, Ordering::Relaxed);
    (status, sampler.join().expect("the RSS sampler"))
}

/// The release binary with `--config PATH`, its output discarded.
fn gleaner(config_path: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gleaner"));
    command
        .arg("--config")
        .arg(config_path)
        .stdout(Stdio::null());
    command
}

fn export(config_path: &Path, output: &Path) -> ExportRow {
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "wait_with_peak_rss reaps it with waitpid"
    )]
    let child = gleaner(config_path)
        .args(["export", "--format", "jsonl", "--output"])
        .arg(output)
        .spawn()
        .expect("starting gleaner export");
    let (status, max_rss_kb) = wait_with_peak_rss(&child);
    let wall = started.elapsed();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "gleaner export failed (status {status})"
    );
    let mut file = std::fs::File::open(output).expect("the export file");
    let (mut bytes, mut lines) = (0u64, 0u64);
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).expect("reading the export");
        if n == 0 {
            break;
        }
        bytes += n as u64;
        lines += buffer[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    ExportRow {
        wall,
        bytes,
        lines,
        max_rss_kb,
    }
}

struct StartupRow {
    ready: Duration,
    stopped: Duration,
    max_rss_kb: u64,
}

/// Starts `gleaner run` with `NOTIFY_SOCKET` on a socket of ours, times
/// `READY=1`, then sends SIGTERM and times the exit.
fn startup(config_path: &Path, dir: &Path) -> StartupRow {
    let socket_path = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).expect("binding the notify socket");
    socket
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("a read timeout");
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "wait_with_peak_rss reaps it with waitpid"
    )]
    let child = gleaner(config_path)
        .args(["--log-level", "warn", "run"])
        .env("NOTIFY_SOCKET", &socket_path)
        .stderr(Stdio::null())
        .spawn()
        .expect("starting gleaner run");
    let mut buffer = [0u8; 4096];
    let ready = loop {
        let n = socket
            .recv(&mut buffer)
            .expect("gleaner run sent READY=1 within 120 s");
        if String::from_utf8_lossy(&buffer[..n])
            .lines()
            .any(|l| l == "READY=1")
        {
            break started.elapsed();
        }
    };
    let term_sent = Instant::now();
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let (_, max_rss_kb) = wait_with_peak_rss(&child);
    StartupRow {
        ready,
        stopped: term_sent.elapsed(),
        max_rss_kb,
    }
}

// ---------------------------------------------------------------------------

/// The first and idle passes with `[dedup] near_duplicates = false`, on an
/// instance and a database of their own.
async fn near_dup_off_passes(
    server: &Server,
    feeds: usize,
    concurrency: usize,
    dir: &Path,
) -> Vec<PassRow> {
    let off_path = dir.join("bench-off.toml");
    let text = config_text(server, feeds, concurrency, "bench-off.db")
        + "[dedup]\nnear_duplicates = false\n";
    std::fs::write(&off_path, text).expect("writing the config");
    let off_config = Config::load(&off_path).expect("a valid config");
    let (off_pipeline, off_store, off_thread) = start_instance(&off_config);
    eprintln!("first pass, near_duplicates off…");
    let mut off_rows = vec![
        pass(
            "first (nd off)",
            &off_pipeline,
            &off_config,
            &off_store,
            server,
        )
        .await,
    ];
    eprintln!("idle pass, near_duplicates off…");
    off_rows.push(
        pass(
            "idle (nd off)",
            &off_pipeline,
            &off_config,
            &off_store,
            server,
        )
        .await,
    );
    drop(off_pipeline);
    drop(off_store);
    tokio::task::spawn_blocking(move || off_thread.join())
        .await
        .expect("joining the database thread");
    off_rows
}

/// A pipeline on its own database connection and thread, as `gleaner run`
/// or `gleaner poll` holds one. The postgres client blocks (on a runtime of
/// its own), so the database is opened off the reactor.
fn start_instance(config: &Config) -> (Pipeline, StoreHandle, StoreThread) {
    let store =
        tokio::task::block_in_place(|| Store::open_for(&config.storage.database, Access::Create))
            .expect("opening the database");
    let (store, thread) = StoreHandle::spawn(store);
    let pipeline = Pipeline::new(
        config,
        store.clone(),
        FeedLocks::default(),
        CancellationToken::new(),
    )
    .expect("a pipeline");
    (pipeline, store, thread)
}

fn config_text(server: &Server, feeds: usize, concurrency: usize, database: &str) -> String {
    let mut toml = format!(
        "[storage]\ndatabase = \"{database}\"\n[fetch]\nconcurrency = {concurrency}\n \
         per_host_concurrency = {concurrency}\nper_host_interval_ms = 0\ntimeout_secs = 120\n"
    );
    for feed in 0..feeds {
        toml.push_str(&format!(
            "[[feeds]]\nurl = \"{}\"\nname = \"f{feed}\"\n",
            server.url(&feed_path(feed))
        ));
    }
    toml
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let (feeds, entries, concurrency) = (args.feeds, args.entries, args.concurrency);
    if let Some(admin) = &args.scaling {
        scaling::run(admin, feeds, entries, concurrency).await;
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let server = Server::start(feeds, entries);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config_path = dir.path().join("bench.toml");
    let mut config_toml = config_text(
        &server,
        feeds,
        concurrency,
        args.database.as_deref().unwrap_or("bench.db"),
    );
    if args.near_duplicates_off {
        config_toml.push_str("[dedup]\nnear_duplicates = false\n");
    }
    std::fs::write(&config_path, config_toml).expect("writing the config");
    let config = Config::load(&config_path).expect("a valid config");
    let (sample_html, _) = article_page(server.port, 0, 0);
    println!(
        "pipeline bench: {feeds} feeds x {entries} entries = {} articles, {cores} cores",
        feeds * entries
    );
    println!(
        "  every feed and page is on one host, 127.0.0.1:{} (an in-process axum server, 1 worker thread);",
        server.port
    );
    println!(
        "  [fetch] concurrency = {concurrency}, per_host_concurrency = {concurrency}, per_host_interval_ms = 0;"
    );
    println!(
        "  pages are generated per (feed, entry), {:.0} KB for the first; extraction runs on {} slots",
        sample_html.len() as f64 / 1024.0,
        cores
    );

    // With `--near-dup-off-first` the passes with near-duplicates off run
    // first, so that either side can be measured in the process's first
    // pass: over runs in both orders, the order's effect cancels.
    let compare_near_dup =
        !args.skip_near_dup_off && !args.near_duplicates_off && args.database.is_none();
    let mut off_rows = Vec::new();
    if compare_near_dup && args.near_dup_off_first {
        off_rows = near_dup_off_passes(&server, feeds, concurrency, dir.path()).await;
    }
    // The passes, in a fresh process (unless the passes with
    // near-duplicates off came first), as `gleaner poll` would run them.
    let (pipeline, store, store_thread) = start_instance(&config);
    println!(
        "  RSS before the first pass (config loaded, server and pipeline started): {:.0} MB",
        mb(status_kb("VmRSS"))
    );
    eprintln!("first pass…");
    let mut rows = vec![pass("first", &pipeline, &config, &store, &server).await];
    eprintln!("idle pass…");
    rows.push(pass("idle (all 304)", &pipeline, &config, &store, &server).await);
    // The same passes with near-duplicate merging off, on a database of
    // their own, before the server's feeds change.
    if compare_near_dup && !args.near_dup_off_first {
        off_rows = near_dup_off_passes(&server, feeds, concurrency, dir.path()).await;
    }
    let old_etags: Vec<String> = (0..feeds)
        .map(|f| feed_etag(f, server.generation(f)))
        .collect();
    server.add_new_entries();
    eprintln!("10 % new pass…");
    rows.push(pass("10 % new", &pipeline, &config, &store, &server).await);
    drop(pipeline);
    drop(store);
    tokio::task::spawn_blocking(move || store_thread.join())
        .await
        .expect("joining the database thread");

    // The ceilings: the same requests of each pass with gleaner's Fetcher
    // alone, and extraction alone.
    let mut extraction = None;
    if !args.skip_ceilings {
        let fetcher = Fetcher::new(&config.fetch).expect("an HTTP client");
        eprintln!("download ceilings…");
        let first = (0..feeds).flat_map(|feed| {
            std::iter::once(Fetch::Feed { feed, etag: None })
                .chain((0..entries).map(move |entry| Fetch::Page { feed, entry }))
        });
        rows[0].download = Some(download(&fetcher, &server, first, concurrency).await);
        let idle = (0..feeds).map(|feed| Fetch::Feed {
            feed,
            etag: Some(feed_etag(feed, server.generation(feed))),
        });
        rows[1].download = Some(download(&fetcher, &server, idle, concurrency).await);
        let server = &server;
        let new = old_etags.into_iter().enumerate().flat_map(|(feed, etag)| {
            let generation = server.generation(feed);
            let new_entry = (generation > 0).then(|| Fetch::Page {
                feed,
                entry: entries + generation - 1,
            });
            std::iter::once(Fetch::Feed {
                feed,
                etag: Some(etag),
            })
            .chain(new_entry)
        });
        rows[2].download = Some(download(&fetcher, server, new, concurrency).await);
        eprintln!("extraction ceiling…");
        extraction = Some(extraction_ceiling(server.port, feeds, entries, args.sample));
    }

    let exported = (!args.skip_export).then(|| {
        eprintln!("export…");
        export(&config_path, &dir.path().join("export.jsonl"))
    });
    let started = (!args.skip_startup).then(|| {
        eprintln!("gleaner run start-up…");
        startup(&config_path, dir.path())
    });

    // The report.
    if let Some(x) = &extraction {
        println!(
            "extraction ceiling: {:.0} pages/s on {} threads ({:.0} pages/s per core of CPU time; \
             {:.0} pages/s of wall time while other processes used {:.1} CPU s), \
             measured on {} of {} pages (every {}th, {:.1} KB on average) and extrapolated; \
             {} failed; extracted/article words {:.3}; peak RSS {:.0} MB",
            x.pages_per_sec(),
            x.threads,
            x.pages_per_sec() / x.threads as f64,
            x.pages as f64 / x.wall.as_secs_f64(),
            secs(x.others_cpu),
            x.pages,
            feeds * entries,
            (feeds * entries / args.sample.max(1)).max(1),
            x.tally.bytes as f64 / 1024.0 / x.pages.max(1) as f64,
            x.tally.failed,
            x.tally.extracted_words as f64 / x.tally.written_words.max(1) as f64,
            mb(x.peak_rss_kb)
        );
    }
    println!();
    let columns = [
        ("pass", 15),
        ("wall s", 8),
        ("feeds/s", 8),
        ("articles", 9),
        ("art/s", 7),
        ("CPU s", 7),
        ("server", 7),
        ("others", 7),
        ("RSS MB", 7),
        ("SQLite", 7),
        ("dl s", 7),
        ("extr s", 7),
        ("x dl", 7),
        ("x extr", 7),
        ("x max", 7),
        ("CPU x", 7),
    ];
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, (cell, (_, width))) in cells.iter().zip(columns).enumerate() {
            if i == 0 {
                out.push_str(&format!("{cell:<width$}"));
            } else {
                out.push_str(&format!(" {cell:>width$}"));
            }
        }
        println!("{out}");
    };
    line(&columns.map(|(name, _)| name.to_owned()));
    let fixed =
        |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
    for row in &rows {
        let wall = secs(row.cost.wall);
        let dl = row.download.map(|c| secs(c.wall));
        let ex = extraction
            .as_ref()
            .filter(|_| row.pages > 0)
            .map(|x| secs(x.time_for(row.pages)));
        let ceiling = dl.into_iter().chain(ex).reduce(f64::max);
        line(&[
            row.name.to_owned(),
            format!("{wall:.2}"),
            format!("{:.0}", feeds as f64 / wall),
            row.summary.new_articles.to_string(),
            format!("{:.1}", row.summary.new_articles as f64 / wall),
            format!("{:.1}", secs(row.cost.cpu)),
            format!("{:.1}", secs(row.cost.server_cpu)),
            format!("{:.1}", secs(row.cost.others_cpu)),
            format!("{:.0}", mb(row.cost.peak_rss_kb)),
            format!("{:.1}%", 100.0 * secs(row.cost.store_busy) / wall),
            fixed(dl, 2),
            fixed(ex, 2),
            fixed(dl.map(|d| wall / d), 2),
            fixed(ex.map(|e| wall / e), 2),
            fixed(ceiling.map(|c| wall / c), 2),
            fixed(
                extraction.as_ref().filter(|_| row.pages > 0).map(|x| {
                    secs(row.cost.cpu.saturating_sub(row.cost.server_cpu))
                        / secs(x.cpu_for(row.pages))
                }),
                2,
            ),
        ]);
    }
    println!();
    for row in &rows {
        println!(
            "{:<15} {}; the server answered {} feeds with 200, {} with 304, {} pages{}",
            row.name,
            row.summary,
            row.served[0],
            row.served[1],
            row.served[2],
            row.download.map_or(String::new(), |c| format!(
                "; download ceiling: CPU {:.1} s, peak RSS {:.0} MB, others {:.1} s",
                secs(c.cpu),
                mb(c.peak_rss_kb),
                secs(c.others_cpu)
            )),
        );
    }
    println!(
        "  CPU s: the whole process, user + system, the server's threads included (column `server`);\n  \
         others: CPU seconds other processes on the machine used during the pass;"
    );
    println!(
        "  RSS MB: peak resident memory during the pass (VmHWM, reset before it), server included;"
    );
    println!(
        "  SQLite: the database thread's busy time / wall; dl s, extr s: the ceilings for the pass's \
         requests and pages; x: wall / ceiling;\n  \
         CPU x: the pass's CPU (the server's aside) / the CPU extraction alone takes for its pages."
    );
    for (on, off) in rows.iter().zip(&off_rows) {
        println!(
            "near_duplicates on / off, {:<15}: wall {:.3} ({:.2} s / {:.2} s), CPU {:.3} ({:.1} s / {:.1} s), articles {} / {}, {} first",
            on.name,
            secs(on.cost.wall) / secs(off.cost.wall),
            secs(on.cost.wall),
            secs(off.cost.wall),
            secs(on.cost.cpu) / secs(off.cost.cpu),
            secs(on.cost.cpu),
            secs(off.cost.cpu),
            on.summary.new_articles,
            off.summary.new_articles,
            if args.near_dup_off_first { "off" } else { "on" },
        );
    }
    if let Some(e) = exported {
        let rows_stored = rows[0].summary.new_articles + rows[2].summary.new_articles;
        println!(
            "export --format jsonl: {} articles (stored {rows_stored}), {:.1} MB in {:.2} s = {:.0} MB/s, peak RSS {:.1} MB",
            e.lines,
            e.bytes as f64 / 1e6,
            secs(e.wall),
            e.bytes as f64 / 1e6 / secs(e.wall),
            mb(e.max_rss_kb)
        );
    }
    if let Some(s) = started {
        println!(
            "gleaner run with {feeds} feeds: READY=1 after {:.3} s; exited {:.2} s after SIGTERM; peak RSS {:.1} MB",
            secs(s.ready),
            secs(s.stopped),
            mb(s.max_rss_kb)
        );
    }
}
