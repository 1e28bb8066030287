//! The TOML configuration, read once into a checked [`Config`].
//!
//! Every later stage trusts what this module hands out: feed URLs are parsed
//! [`Url`]s, schedules are valid cron expressions (or `adaptive`), CSS
//! selectors compile.
//! Problems are collected (not just the first one) and reported as
//! `PATH:LINE:COL: message`, the position coming from toml's spans.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use reqwest::header::USER_AGENT;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::filter::{Filter, Rule};
use crate::pacing::DEFAULT_MAX_RETRY_AFTER;
use crate::pacing::{AdaptiveBounds, FRESHNESS_CAP};
use crate::schedule::{FeedSchedule, parse_duration};
use crate::store::retention::Retention;

pub mod database;
pub use database::Database;
pub mod proxy;
mod request;
mod scrape;

pub use request::FeedRequest;
use request::{RawCookies, RawHeaders, RawRequest};
mod deliver;

pub use deliver::{DeliverConfig, DeliverTarget, Secret};

/// The default config path when neither `--config` nor `$GLEANER_CONFIG` is given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/gleaner/gleaner.toml";

/// A fully checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from (used in messages and to resolve relative paths).
    pub path: PathBuf,
    pub storage: StorageConfig,
    pub fetch: FetchConfig,
    pub schedule: ScheduleConfig,
    /// `[extraction]`.
    pub extraction: ExtractionConfig,
    /// `[metrics] listen`: where the daemon serves `/metrics` and `/healthz`.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Feeds in file order; URLs and names are unique.
    pub feeds: Vec<FeedConfig>,
    /// `[[deliver]]` blocks in file order; names are unique.
    pub deliver: Vec<DeliverConfig>,
}

/// `[storage]`.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// A SQLite file (absolute, or relative to the current directory when
    /// the config file itself was given by a relative path: relative entries
    /// in the file are resolved against the file's folder), or a PostgreSQL URL.
    pub database: Database,
    /// `keep_days` and `max_articles_per_feed`.
    pub retention: Retention,
    /// Keep each article's page (compressed) for `gleaner reextract`.
    pub keep_html: bool,
    /// `lease_secs`: how long a feed's lease runs between renewals (PostgreSQL:
    /// the instances sharing a database; see `poll`).
    pub lease: Duration,
}

/// `[fetch]`: how gleaner talks to the network.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub user_agent: String,
    /// Whole request, per attempt.
    pub timeout: Duration,
    pub max_feed_bytes: u64,
    pub max_article_bytes: u64,
    /// Requests in flight overall (at least 1).
    pub concurrency: usize,
    /// Requests in flight to one host (at least 1).
    pub per_host_concurrency: usize,
    /// The least time between the starts of two requests to one host (a
    /// random quarter of it is added as jitter); zero turns spacing off.
    pub per_host_interval: Duration,
    /// Fetch article links that resolve to non-public addresses (see SPEC, Security).
    pub allow_private_networks: bool,
    /// The longest pause a server's `Retry-After` is obeyed for.
    pub max_retry_after: Duration,
    /// `[fetch] headers`, `cookies` and `proxy`: what every feed uses
    /// unless it sets its own (already part of each feed's `request`).
    pub request: FeedRequest,
    /// `HTTP_PROXY` and the like, read with the config.
    pub env_proxies: proxy::EnvProxies,
}

/// `[extraction]`: how article pages are read.
#[derive(Debug, Clone, Default)]
pub struct ExtractionConfig {
    /// `site_config_dir`: folders of site rules in Full-Text RSS's format,
    /// in the order given (a later folder's file overrides an earlier
    /// one's); relative paths are relative to the config file's folder.
    pub site_config_dirs: Vec<PathBuf>,
}

/// `[schedule]`.
#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub default: FeedSchedule,
    /// The bounds of `adaptive` schedules.
    pub adaptive: AdaptiveBounds,
}

/// One `[[feeds]]` entry.
#[derive(Debug, Clone)]
pub struct FeedConfig {
    /// The feed's identity: renaming a feed keeps its history.
    pub url: Url,
    /// Unique display name; derived from the host when not given.
    pub name: String,
    /// The effective schedule: the feed's own or `[schedule].default`.
    pub schedule: FeedSchedule,
    /// Fetch and extract each new entry's page.
    pub full_text: bool,
    /// The article body on this site, when the generic extractor should be bypassed.
    pub content_selector: Option<CssSelector>,
    /// Removed from the page before extraction.
    pub remove_selectors: Vec<CssSelector>,
    /// Copied onto every article of this feed.
    pub tags: Vec<String>,
    /// Headers, cookies, user agent and credentials for the feed's own site.
    pub request: FeedRequest,
    /// Its `block`/`keep` rules after `[filter]`'s.
    pub filter: Filter,
    /// Where its entries come from: a feed, or a page or JSON document read
    /// with `[feeds.scrape]` / `[feeds.json]` expressions.
    pub source: crate::feed::scrape::FeedSource,
}

/// A CSS selector that is known to compile, with its source text kept for messages.
#[derive(Clone)]
pub struct CssSelector {
    source: String,
    selector: scraper::Selector,
}

impl CssSelector {
    /// Compiles `source`; the error is a human-readable reason.
    pub fn parse(source: &str) -> Result<Self, String> {
        scraper::Selector::parse(source)
            .map(|selector| CssSelector {
                source: source.to_owned(),
                selector,
            })
            .map_err(|e| format!("invalid CSS selector {source:?}: {e}"))
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn selector(&self) -> &scraper::Selector {
        &self.selector
    }
}

impl fmt::Debug for CssSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CssSelector({:?})", self.source)
    }
}

/// One problem in a config file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Why a config could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "cannot read config file {path}: {source} (pass another file with --config or $GLEANER_CONFIG)"
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}", display_problems(.0))]
    Invalid(Vec<Problem>),
}

fn display_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    /// Reads and checks the file at `path`. Touches neither network nor database.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_str_at(&text, path)
    }

    /// Checks `text` as if read from `path` (which is used for messages and to
    /// resolve the relative database path).
    pub fn from_str_at(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let positions = Positions::new(text, path);
        // Unknown keys are found first, all of them, so that one run reports
        // them beside every other problem (serde would stop at the first).
        let mut problems = unknown_keys(text, &positions);
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            problems.push(positions.problem(offset, e.message().trim()));
            ConfigError::Invalid(problems.clone())
        })?;
        match raw.check(&positions) {
            Ok(config) if problems.is_empty() => Ok(config),
            Ok(_) => Err(ConfigError::Invalid(problems)),
            Err(more) => {
                problems.extend(more);
                problems.sort_by_key(|p| (p.line, p.column));
                Err(ConfigError::Invalid(problems))
            }
        }
    }
}

/// The keys each table may have.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "storage",
        &[
            "database",
            "password_file",
            "ca_file",
            "keep_days",
            "keep_html",
            "max_articles_per_feed",
            "lease_secs",
        ],
    ),
    (
        "fetch",
        &[
            "user_agent",
            "timeout_secs",
            "max_feed_bytes",
            "max_article_bytes",
            "concurrency",
            "per_host_concurrency",
            "per_host_interval_ms",
            "allow_private_networks",
            "max_retry_after",
            "headers",
            "cookies",
            "proxy",
        ],
    ),
    ("schedule", &["default", "adaptive_min", "adaptive_max"]),
    ("metrics", &["listen"]),
    ("filter", &["block", "keep"]),
    ("extraction", &["site_config_dir"]),
    ("deliver", deliver::KEYS),
    (
        "feeds",
        &[
            "url",
            "name",
            "schedule",
            "full_text",
            "content_selector",
            "remove_selectors",
            "tags",
            "user_agent",
            "headers",
            "cookies",
            "username",
            "password",
            "password_file",
            "headers_file",
            "block",
            "keep",
            "proxy",
            "scrape",
            "json",
        ],
    ),
    ("feeds.scrape", scrape::SCRAPE_KEYS),
    ("feeds.json", scrape::JSON_KEYS),
];

/// Every key of `text` that no table of [`KNOWN_KEYS`] has, at its
/// position. A document toml cannot parse gives none here (the parse error
/// is reported by serde).
fn unknown_keys(text: &str, at: &Positions<'_>) -> Vec<Problem> {
    let Ok(document) = toml_edit::Document::parse(text) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let mut check = |table: &dyn toml_edit::TableLike, section: Option<&str>| {
        let known: &[&str] = match section {
            None => &[
                "storage",
                "fetch",
                "schedule",
                "metrics",
                "filter",
                "extraction",
                "feeds",
                "deliver",
            ],
            Some(name) => KNOWN_KEYS
                .iter()
                .find(|(s, _)| *s == name)
                .map_or(&[], |(_, keys)| *keys),
        };
        for (key, _) in table.iter() {
            if known.contains(&key) {
                continue;
            }
            let offset = table.key(key).and_then(|k| k.span()).map_or(0, |s| s.start);
            let place = section.map_or_else(|| "the top level".to_owned(), |s| format!("[{s}]"));
            problems.push(at.problem(
                offset,
                format!(
                    "unknown key `{key}` in {place} (known keys: {})",
                    known.join(", ")
                ),
            ));
        }
    };
    let root = document.as_table();
    check(root, None);
    for (section, _) in KNOWN_KEYS {
        let Some(item) = root.get(section) else {
            continue;
        };
        if let Some(feeds) = item.as_array_of_tables() {
            for feed in feeds.iter() {
                check(feed, Some(section));
                for (key, sub) in [("scrape", "feeds.scrape"), ("json", "feeds.json")] {
                    if let Some(table) = feed.get(key).and_then(|t| t.as_table_like()) {
                        check(table, Some(sub));
                    }
                }
            }
        } else if let Some(array) = item.as_array() {
            for feed in array.iter().filter_map(|v| v.as_inline_table()) {
                check(feed, Some(section));
            }
        } else if let Some(table) = item.as_table_like() {
            check(table, Some(section));
        }
    }
    problems
}

/// Maps byte offsets of the source text to 1-based line and column.
struct Positions<'a> {
    text: &'a str,
    path: &'a Path,
}

impl<'a> Positions<'a> {
    fn new(text: &'a str, path: &'a Path) -> Self {
        Positions { text, path }
    }

    fn problem(&self, offset: usize, message: impl Into<String>) -> Problem {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        Problem {
            path: self.path.to_owned(),
            line,
            column,
            message: message.into(),
        }
    }

    fn at<T>(&self, spanned: &Spanned<T>, message: impl Into<String>) -> Problem {
        self.problem(spanned.span().start, message)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    #[serde(default)]
    storage: RawStorage,
    #[serde(default)]
    fetch: RawFetch,
    #[serde(default)]
    schedule: RawSchedule,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(default)]
    filter: RawFilter,
    #[serde(default)]
    extraction: RawExtraction,
    #[serde(default)]
    feeds: Vec<RawFeed>,
    #[serde(default)]
    deliver: Vec<deliver::RawDeliver>,
}

/// `block` and `keep`, in `[filter]` and in a feed.
#[derive(Debug, Default, Deserialize)]
struct RawFilter {
    #[serde(default)]
    block: Vec<Spanned<String>>,
    #[serde(default)]
    keep: Vec<Spanned<String>>,
}

impl RawFilter {
    /// The rules compiled; each that does not is a problem at its string.
    fn check(&self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> Filter {
        let mut rules = |list: &[Spanned<String>]| -> Vec<Rule> {
            list.iter()
                .filter_map(|rule| {
                    Rule::parse(rule.get_ref())
                        .map_err(|message| problems.push(at.at(rule, message)))
                        .ok()
                })
                .collect()
        };
        Filter {
            block: rules(&self.block),
            keep: rules(&self.keep),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct RawExtraction {
    site_config_dir: Option<Spanned<OneOrMany>>,
}

/// A string, or a list of them.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Default, Deserialize)]
struct RawMetrics {
    listen: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawStorage {
    database: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    keep_days: Option<Spanned<i64>>,
    keep_html: Option<bool>,
    max_articles_per_feed: Option<Spanned<i64>>,
    lease_secs: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawFetch {
    user_agent: Option<Spanned<String>>,
    timeout_secs: Option<Spanned<i64>>,
    max_feed_bytes: Option<Spanned<i64>>,
    max_article_bytes: Option<Spanned<i64>>,
    concurrency: Option<Spanned<i64>>,
    per_host_concurrency: Option<Spanned<i64>>,
    per_host_interval_ms: Option<Spanned<i64>>,
    allow_private_networks: Option<bool>,
    max_retry_after: Option<Spanned<String>>,
    headers: Option<RawHeaders>,
    cookies: Option<Spanned<RawCookies>>,
    proxy: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawSchedule {
    default: Option<Spanned<String>>,
    adaptive_min: Option<Spanned<String>>,
    adaptive_max: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct RawFeed {
    url: Spanned<String>,
    name: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    full_text: Option<bool>,
    content_selector: Option<Spanned<String>>,
    #[serde(default)]
    remove_selectors: Vec<Spanned<String>>,
    #[serde(default)]
    tags: Vec<String>,
    user_agent: Option<Spanned<String>>,
    headers: Option<RawHeaders>,
    cookies: Option<Spanned<RawCookies>>,
    username: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    headers_file: Option<Spanned<String>>,
    #[serde(default)]
    block: Vec<Spanned<String>>,
    #[serde(default)]
    keep: Vec<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    scrape: Option<scrape::RawScrape>,
    json: Option<scrape::RawJson>,
}

impl RawFeed {
    /// The request keys, moved out.
    fn take_request(&mut self) -> RawRequest {
        RawRequest {
            user_agent: self.user_agent.take(),
            headers: self.headers.take(),
            cookies: self.cookies.take(),
            username: self.username.take(),
            password: self.password.take(),
            password_file: self.password_file.take(),
            headers_file: self.headers_file.take(),
            proxy: self.proxy.take(),
        }
    }
}

/// The `[schedule].default` when none is configured: every 30 minutes.
pub const DEFAULT_SCHEDULE: &str = "0 */30 * * * *";
/// The `[fetch].per_host_interval_ms` when none is configured.
pub const DEFAULT_PER_HOST_INTERVAL_MS: u64 = 500;
/// The `[fetch].user_agent` when none is configured.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "gleaner/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/gleaner-rss/gleaner)"
);

impl RawConfig {
    fn check(self, at: &Positions<'_>) -> Result<Config, Vec<Problem>> {
        let mut problems = Vec::new();

        let relative = |raw: &str| {
            let raw = PathBuf::from(raw);
            if raw.is_absolute() {
                raw
            } else {
                at.path.parent().unwrap_or(Path::new("")).join(raw)
            }
        };
        let password_file = self.storage.password_file.as_ref();
        let database = match &self.storage.database {
            Some(url) if database::is_postgres_url(url.get_ref()) => {
                let file = password_file.map(|f| relative(f.get_ref()));
                match database::check_postgres_url(url.get_ref(), file) {
                    Ok(target) => match &self.storage.ca_file {
                        None => Database::Postgres(target),
                        Some(ca) => match target.with_ca_file(relative(ca.get_ref())) {
                            Ok(target) => Database::Postgres(target),
                            Err(message) => {
                                problems.push(at.at(ca, format!("[storage].ca_file: {message}")));
                                Database::Sqlite(PathBuf::new())
                            }
                        },
                    },
                    Err(message) => {
                        problems.push(at.at(url, format!("[storage].database: {message}")));
                        Database::Sqlite(PathBuf::new())
                    }
                }
            }
            Some(url) if database::unknown_scheme(url.get_ref()).is_some() => {
                let scheme = database::unknown_scheme(url.get_ref()).unwrap_or_default();
                problems.push(at.at(
                    url,
                    format!(
                        "[storage].database: {}",
                        database::unknown_scheme_message(scheme)
                    ),
                ));
                Database::Sqlite(PathBuf::new())
            }
            other => {
                let storage = &self.storage;
                for (place, key) in [
                    (password_file.map(|v| v.span()), "password_file"),
                    (storage.ca_file.as_ref().map(|v| v.span()), "ca_file"),
                    (storage.lease_secs.as_ref().map(|v| v.span()), "lease_secs"),
                ] {
                    if let Some(place) = place {
                        problems.push(at.problem(
                            place.start,
                            format!("[storage].{key} is only for a PostgreSQL database (a postgres:// URL in [storage].database): remove it"),
                        ));
                    }
                }
                Database::Sqlite(relative(
                    other
                        .as_ref()
                        .map(|d| d.get_ref().as_str())
                        .unwrap_or("gleaner.db"),
                ))
            }
        };
        let lease = in_range(
            &self.storage.lease_secs,
            "storage",
            "lease_secs",
            LEASE_SECS,
            "leave it out for 600",
            at,
            &mut problems,
        )
        .and_then(|secs| u64::try_from(secs).ok())
        .map_or(DEFAULT_LEASE, Duration::from_secs);

        let mut kept = |value: &Option<Spanned<i64>>, key: &str, range| {
            let advice = "leave it out to keep everything";
            in_range(value, "storage", key, range, advice, at, &mut problems)
                .and_then(|v| u32::try_from(v).ok())
        };
        let retention = Retention {
            keep_days: kept(&self.storage.keep_days, "keep_days", KEEP_DAYS),
            max_articles_per_feed: kept(
                &self.storage.max_articles_per_feed,
                "max_articles_per_feed",
                MAX_ARTICLES_PER_FEED,
            ),
        };

        let fetch = self.fetch.check(at, &mut problems);
        let metrics_listen = self.metrics.listen.as_ref().and_then(|listen| {
            listen
                .get_ref()
                .trim()
                .parse()
                .map_err(|e| {
                    problems.push(at.at(
                        listen,
                        format!(
                            "[metrics].listen {:?}: {e} (write an address and port, e.g. \"127.0.0.1:9464\")",
                            listen.get_ref()
                        ),
                    ))
                })
                .ok()
        });

        let extraction = self.extraction.check(at, &mut problems);

        let default_schedule = match &self.schedule.default {
            Some(s) => FeedSchedule::from_str(s.get_ref()).unwrap_or_else(|e| {
                problems.push(at.at(s, format!("[schedule].default: {e}")));
                fallback_schedule()
            }),
            None => fallback_schedule(),
        };
        let adaptive = self.schedule.adaptive_bounds(at, &mut problems);

        let global_filter = self.filter.check(at, &mut problems);
        let defaults = FeedDefaults {
            schedule: &default_schedule,
            request: &fetch.request,
            filter: &global_filter,
        };
        let feeds = check_feeds(self.feeds, &defaults, at, &mut problems);
        let deliver = deliver::check(
            self.deliver,
            &feeds,
            fetch.allow_private_networks,
            at,
            &mut problems,
        );

        if problems.is_empty() {
            Ok(Config {
                path: at.path.to_owned(),
                storage: StorageConfig {
                    database,
                    retention,
                    keep_html: self.storage.keep_html.unwrap_or(false),
                    lease,
                },
                fetch,
                schedule: ScheduleConfig {
                    default: default_schedule,
                    adaptive,
                },
                extraction,
                metrics_listen,
                feeds,
                deliver,
            })
        } else {
            problems.sort_by_key(|p| (p.line, p.column));
            Err(problems)
        }
    }
}

impl RawExtraction {
    fn check(self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> ExtractionConfig {
        let Some(dirs) = self.site_config_dir else {
            return ExtractionConfig::default();
        };
        let list = match dirs.get_ref() {
            OneOrMany::One(dir) => vec![dir.clone()],
            OneOrMany::Many(list) => list.clone(),
        };
        let base = at.path.parent().unwrap_or(Path::new(""));
        let mut site_config_dirs = Vec::new();
        for dir in list {
            if dir.trim().is_empty() {
                problems.push(at.at(
                    &dirs,
                    "[extraction].site_config_dir: an empty path (write the folder of the site rules, e.g. \"/var/lib/gleaner/ftr-site-config\")",
                ));
                continue;
            }
            let path = base.join(&dir);
            if !path.is_dir() {
                problems.push(at.at(
                    &dirs,
                    format!(
                        "[extraction].site_config_dir: {} is not a folder (clone https://github.com/fivefilters/ftr-site-config there, or fix the path)",
                        path.display()
                    ),
                ));
                continue;
            }
            site_config_dirs.push(path);
        }
        ExtractionConfig { site_config_dirs }
    }
}

fn fallback_schedule() -> FeedSchedule {
    FeedSchedule::from_str(DEFAULT_SCHEDULE).expect("the built-in default schedule is valid")
}

impl RawSchedule {
    fn adaptive_bounds(&self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> AdaptiveBounds {
        let defaults = AdaptiveBounds::default();
        let mut duration = |value: &Option<Spanned<String>>, key: &str, default| match value {
            Some(v) => match parse_duration(v.get_ref()) {
                Ok(d) if d.is_zero() => {
                    problems.push(at.at(v, format!("[schedule].{key} must be longer than zero")));
                    default
                }
                Ok(d) if d > FRESHNESS_CAP => {
                    problems.push(at.at(
                        v,
                        format!("[schedule].{key} must be at most 7d (use a cron schedule for rarer polls)"),
                    ));
                    default
                }
                Ok(d) => d,
                Err(e) => {
                    problems.push(at.at(v, format!("[schedule].{key}: {e}")));
                    default
                }
            },
            None => default,
        };
        let min = duration(&self.adaptive_min, "adaptive_min", defaults.min);
        let max = duration(&self.adaptive_max, "adaptive_max", defaults.max);
        if let (Some(v), true) = (&self.adaptive_max, max < min) {
            problems.push(at.at(
                v,
                "[schedule].adaptive_max must not be shorter than adaptive_min",
            ));
        }
        AdaptiveBounds { min, max }
    }
}

impl RawFetch {
    fn check(mut self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> FetchConfig {
        let defaults = RawRequest {
            headers: self.headers.take(),
            cookies: self.cookies.take(),
            proxy: self.proxy.take(),
            ..RawRequest::default()
        };
        // Sent with every request: refused here, not by each poll.
        let user_agent = match self.user_agent.take() {
            Some(agent) => {
                match request::header_value(agent.get_ref(), "[fetch].user_agent", &USER_AGENT) {
                    Ok(_) => agent.into_inner(),
                    Err(problem) => {
                        problems.push(at.at(&agent, problem));
                        DEFAULT_USER_AGENT.to_owned()
                    }
                }
            }
            None => DEFAULT_USER_AGENT.to_owned(),
        };
        let request = request::check(
            &defaults,
            &FeedRequest::default(),
            "[fetch]",
            config_folder(at),
            at,
            problems,
        );
        let mut number = |value: &Option<Spanned<i64>>, key: &str, range, default: i64| {
            let advice = "or leave it out for the default";
            let checked = in_range(value, "fetch", key, range, advice, at, problems);
            // In range, hence non-negative.
            checked.map_or(default, |v| v).unsigned_abs()
        };
        let timeout_secs = number(&self.timeout_secs, "timeout_secs", TIMEOUT_SECS, 20);
        let max_feed_bytes = number(
            &self.max_feed_bytes,
            "max_feed_bytes",
            BODY_BYTES,
            5_000_000,
        );
        let max_article_bytes = number(
            &self.max_article_bytes,
            "max_article_bytes",
            BODY_BYTES,
            5_000_000,
        );
        let concurrency = number(&self.concurrency, "concurrency", CONCURRENCY, 16);
        let per_host_concurrency = number(
            &self.per_host_concurrency,
            "per_host_concurrency",
            PER_HOST_CONCURRENCY,
            2,
        );
        let per_host_interval_ms = number(
            &self.per_host_interval_ms,
            "per_host_interval_ms",
            PER_HOST_INTERVAL_MS,
            DEFAULT_PER_HOST_INTERVAL_MS as i64,
        );
        let max_retry_after = match &self.max_retry_after {
            Some(v) => match parse_duration(v.get_ref()) {
                Ok(d) if (MIN_RETRY_AFTER..=FRESHNESS_CAP).contains(&d) => d,
                Ok(_) => {
                    problems.push(at.at(v, "[fetch].max_retry_after must be between 1m and 7d"));
                    DEFAULT_MAX_RETRY_AFTER
                }
                Err(e) => {
                    problems.push(at.at(v, format!("[fetch].max_retry_after: {e}")));
                    DEFAULT_MAX_RETRY_AFTER
                }
            },
            None => DEFAULT_MAX_RETRY_AFTER,
        };
        FetchConfig {
            user_agent,
            timeout: Duration::from_secs(timeout_secs),
            max_feed_bytes,
            max_article_bytes,
            // Both at most a few thousand (checked above).
            concurrency: concurrency as usize,
            per_host_concurrency: per_host_concurrency as usize,
            per_host_interval: Duration::from_millis(per_host_interval_ms),
            allow_private_networks: self.allow_private_networks.unwrap_or(false),
            max_retry_after,
            request,
            env_proxies: proxy::EnvProxies::from_env(),
        }
    }
}

/// The folder relative paths of the config are read from.
fn config_folder<'a>(at: &Positions<'a>) -> &'a Path {
    at.path.parent().unwrap_or(Path::new(""))
}

/// The ranges of the numeric keys. Wide enough for any real use, narrow
/// enough that nothing downstream overflows (dates a hundred years back,
/// semaphores, `concurrency + 2 × cores` pages in hand).
const KEEP_DAYS: RangeInclusive<i64> = 1..=36_500;
const MAX_ARTICLES_PER_FEED: RangeInclusive<i64> = 1..=100_000_000;
/// `[storage].lease_secs`: from a test's few seconds (the lease is renewed
/// every third of it, so it must outlast a few database round trips) to a day.
const LEASE_SECS: RangeInclusive<i64> = 2..=86_400;
/// How long a feed's lease runs when `[storage].lease_secs` is not set: an
/// instance killed mid-poll loses its feeds to the others after at most this.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(600);
const TIMEOUT_SECS: RangeInclusive<i64> = 1..=3_600;
const BODY_BYTES: RangeInclusive<i64> = 1..=1_000_000_000;
const CONCURRENCY: RangeInclusive<i64> = 1..=1_024;
const PER_HOST_CONCURRENCY: RangeInclusive<i64> = 1..=64;
const PER_HOST_INTERVAL_MS: RangeInclusive<i64> = 0..=3_600_000;
/// The shortest `[fetch] max_retry_after`.
const MIN_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The value of `[section].key` when it lies in `range`; else a problem at
/// the value (saying the range and `advice`) and `None`.
fn in_range(
    value: &Option<Spanned<i64>>,
    section: &str,
    key: &str,
    range: RangeInclusive<i64>,
    advice: &str,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Option<i64> {
    let value = value.as_ref()?;
    let number = *value.get_ref();
    if range.contains(&number) {
        return Some(number);
    }
    problems.push(at.at(
        value,
        format!(
            "[{section}].{key} = {number} is out of range: write a number from {} to {} ({advice})",
            range.start(),
            range.end()
        ),
    ));
    None
}

/// What a feed takes from the sections above it unless it says otherwise.
struct FeedDefaults<'a> {
    schedule: &'a FeedSchedule,
    request: &'a FeedRequest,
    filter: &'a Filter,
}

fn check_feeds(
    raw_feeds: Vec<RawFeed>,
    defaults: &FeedDefaults<'_>,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<FeedConfig> {
    let mut feeds = Vec::with_capacity(raw_feeds.len());
    let mut seen_urls: HashMap<String, usize> = HashMap::new();
    // Values are byte offsets of the first use; turned into a line number
    // only for a message (counting lines for every feed would cost O(n²)).
    let mut explicit_names: HashMap<String, usize> = HashMap::new();
    let mut derived_names: HashSet<String> = HashSet::new();
    // Feeds that share an expression share its compiled schedule.
    let mut schedules: HashMap<String, FeedSchedule> = HashMap::new();

    for raw in &raw_feeds {
        if let Some(name) = &raw.name {
            if name.get_ref().trim().is_empty() {
                problems.push(at.at(name, "feed name must not be empty"));
            } else if let Some(&first) = explicit_names.get(name.get_ref()) {
                problems.push(at.at(
                    name,
                    format!(
                        "duplicate feed name {:?} (first used on line {}); names must be unique",
                        name.get_ref(),
                        at.problem(first, "").line
                    ),
                ));
            } else {
                explicit_names.insert(name.get_ref().clone(), name.span().start);
            }
        }
    }

    for mut raw in raw_feeds {
        // A feed with a bad or duplicate URL is still checked to the end, so
        // that one run reports every problem.
        let url = match parse_feed_url(raw.url.get_ref()) {
            Ok(url) => match seen_urls.get(url.as_str()) {
                Some(&first) => {
                    let first = at.problem(first, "").line;
                    problems.push(at.at(
                        &raw.url,
                        format!(
                            "duplicate feed URL {} (first used on line {first})",
                            crate::redact::url(&url)
                        ),
                    ));
                    None
                }
                None => {
                    seen_urls.insert(url.as_str().to_owned(), raw.url.span().start);
                    Some(url)
                }
            },
            Err(message) => {
                problems.push(at.at(&raw.url, message));
                None
            }
        };
        let feed_label = url.as_ref().map_or_else(
            || raw.url.get_ref().clone(),
            |url| crate::redact::url(url).to_string(),
        );

        let schedule = match &raw.schedule {
            Some(s) => match schedules.get(s.get_ref().trim()) {
                Some(parsed) => parsed.clone(),
                None => {
                    let parsed = FeedSchedule::from_str(s.get_ref()).unwrap_or_else(|e| {
                        problems.push(at.at(s, format!("schedule of feed {feed_label}: {e}")));
                        defaults.schedule.clone()
                    });
                    schedules.insert(s.get_ref().trim().to_owned(), parsed.clone());
                    parsed
                }
            },
            None => defaults.schedule.clone(),
        };

        let mut selector = |s: &Spanned<String>| match CssSelector::parse(s.get_ref()) {
            Ok(sel) => Some(sel),
            Err(message) => {
                problems.push(at.at(s, message));
                None
            }
        };
        let content_selector = raw.content_selector.as_ref().and_then(&mut selector);
        let remove_selectors = raw.remove_selectors.iter().filter_map(selector).collect();

        let own_filter = RawFilter {
            block: std::mem::take(&mut raw.block),
            keep: std::mem::take(&mut raw.keep),
        };
        let filter = defaults.filter.and(&own_filter.check(at, problems));
        let raw_request = raw.take_request();
        if let (Some(username), Some(url)) = (&raw_request.username, &url)
            && (!url.username().is_empty() || url.password().is_some())
        {
            problems.push(at.at(
                username,
                format!("feed {feed_label}: its URL already has credentials; give them once, in the URL or as username"),
            ));
        }
        let request = request::check(
            &raw_request,
            defaults.request,
            &format!("feed {feed_label}"),
            config_folder(at),
            at,
            problems,
        );

        let source = scrape::check(raw.scrape, raw.json, &feed_label, at, problems);
        let Some(url) = url else {
            continue;
        };
        let name = match raw.name {
            Some(name) => name.into_inner(),
            None => derive_name(&url, &explicit_names, &mut derived_names),
        };

        feeds.push(FeedConfig {
            url,
            name,
            schedule,
            full_text: raw.full_text.unwrap_or(true),
            content_selector,
            remove_selectors,
            tags: raw.tags,
            request,
            filter,
            source,
        });
    }
    feeds
}

/// Parses an operator-given feed URL; only http and https are fetched.
fn parse_feed_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("invalid feed URL {text:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "http" | "https" => Err(format!("invalid feed URL {text:?}: no host")),
        other => Err(format!(
            "invalid feed URL {text:?}: scheme {other:?} is not supported (use http or https)"
        )),
    }
}

/// A name from the host (`www.` dropped); when that is taken, host and path.
/// `derived` holds the names derived so far (a set: configs of 10,000
/// feeds on one host must not cost a scan per feed).
fn derive_name(
    url: &Url,
    explicit: &HashMap<String, usize>,
    derived: &mut HashSet<String>,
) -> String {
    let host = url.host_str().unwrap_or("feed");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let taken = |n: &str| explicit.contains_key(n) || derived.contains(n);
    let with_path = format!("{host}{}", url.path().trim_end_matches('/'));
    let name = if !taken(host) {
        host.to_owned()
    } else if !taken(&with_path) {
        with_path
    } else {
        (2..)
            .map(|n| format!("{with_path}#{n}"))
            .find(|n| !taken(n))
            .expect("an unused name exists")
    };
    derived.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Config, Vec<String>> {
        Config::from_str_at(text, Path::new("/etc/gleaner/g.toml")).map_err(|e| match e {
            ConfigError::Invalid(p) => p.iter().map(|p| p.to_string()).collect(),
            other => vec![other.to_string()],
        })
    }

    #[test]
    fn minimal_config_gets_spec_defaults() {
        let config = load("[[feeds]]\nurl = \"https://www.example.org/feed.xml\"\n").unwrap();
        assert_eq!(
            config.storage.database,
            Database::Sqlite("/etc/gleaner/gleaner.db".into())
        );
        assert_eq!(config.fetch.timeout, Duration::from_secs(20));
        assert_eq!(config.fetch.concurrency, 16);
        assert_eq!(config.fetch.per_host_concurrency, 2);
        assert_eq!(config.fetch.per_host_interval, Duration::from_millis(500));
        assert!(!config.fetch.allow_private_networks);
        let feed = &config.feeds[0];
        assert_eq!(feed.name, "example.org");
        assert!(feed.full_text);
        assert_eq!(feed.schedule.as_str(), DEFAULT_SCHEDULE);
    }

    #[test]
    fn unknown_key_is_reported_with_line_and_column() {
        let errors = load("[fetch]\ntimeout_secs = 5\nuser_agnet = \"x\"\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("/etc/gleaner/g.toml:3:1: "),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("unknown key `user_agnet` in [fetch]"),
            "{errors:?}"
        );
    }

    #[test]
    fn every_semantic_problem_is_reported_at_its_value() {
        let text = r#"
[schedule]
default = "every day"

[[feeds]]
url = "https://a.example/feed"
name = "a"

[[feeds]]
url = "https://a.example/feed"

[[feeds]]
url = "not a url"

[[feeds]]
url = "https://b.example/feed"
name = "a"
schedule = "61 * * * * *"
content_selector = "div[["
"#;
        let errors = load(text).unwrap_err();
        let expect = [
            "/etc/gleaner/g.toml:3:11: [schedule].default",
            "/etc/gleaner/g.toml:10:7: duplicate feed URL https://a.example/feed (first used on line 6)",
            "/etc/gleaner/g.toml:13:7: invalid feed URL",
            "/etc/gleaner/g.toml:17:8: duplicate feed name \"a\" (first used on line 7)",
            "/etc/gleaner/g.toml:18:12: schedule of feed https://b.example/feed",
            "/etc/gleaner/g.toml:19:20: invalid CSS selector",
        ];
        assert_eq!(errors.len(), expect.len(), "{errors:#?}");
        for (error, prefix) in errors.iter().zip(expect) {
            assert!(
                error.starts_with(prefix),
                "{error} should start with {prefix}"
            );
        }
    }

    #[test]
    fn adaptive_schedules_and_their_bounds() {
        let config = load(
            "[schedule]\ndefault = \"adaptive\"\nadaptive_min = \"5m\"\nadaptive_max = \"12h\"\n\
             [[feeds]]\nurl = \"https://a.example/feed\"\n\
             [[feeds]]\nurl = \"https://b.example/feed\"\nschedule = \"0 0 * * * *\"\n",
        )
        .unwrap();
        assert!(matches!(config.feeds[0].schedule, FeedSchedule::Adaptive));
        assert_eq!(config.feeds[1].schedule.as_str(), "0 0 * * * *");
        assert_eq!(config.schedule.adaptive.min, Duration::from_secs(300));
        assert_eq!(config.schedule.adaptive.max, Duration::from_secs(12 * 3600));

        let errors = load(
            "[schedule]\nadaptive_min = \"2h\"\nadaptive_max = \"1h\"\n[[feeds]]\nurl = \"https://a.example/f\"\n",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "/etc/gleaner/g.toml:3:16: [schedule].adaptive_max must not be shorter"
            ),
            "{errors:?}"
        );
        let errors = load("[schedule]\nadaptive_min = \"ten minutes\"\nadaptive_max = \"0s\"\n")
            .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].contains("2:16: [schedule].adaptive_min: invalid duration"),
            "{errors:?}"
        );
        assert!(
            errors[1].contains("3:16: [schedule].adaptive_max must be longer than zero"),
            "{errors:?}"
        );
    }

    #[test]
    fn derived_names_stay_unique() {
        let config = load(
            "[[feeds]]\nurl = \"https://x.example/a.xml\"\n[[feeds]]\nurl = \"https://x.example/b.xml\"\n",
        )
        .unwrap();
        assert_eq!(config.feeds[0].name, "x.example");
        assert_eq!(config.feeds[1].name, "x.example/b.xml");
    }

    #[test]
    fn zero_limits_and_other_schemes_are_rejected() {
        let errors = load("[fetch]\nconcurrency = 0\n[[feeds]]\nurl = \"file:///etc/passwd\"\n")
            .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0]
                .contains("[fetch].concurrency = 0 is out of range: write a number from 1 to 1024"),
            "{errors:?}"
        );
        assert!(errors[1].contains("scheme \"file\""));
    }
}
