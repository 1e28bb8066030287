//! The TOML configuration, read once into a checked [`Config`].
//!
//! Every later stage trusts what this module hands out: feed URLs are parsed
//! [`Url`]s, schedules are valid cron expressions (or `adaptive`), CSS
//! selectors compile.
//! Problems are collected (not just the first one) and reported as
//! `PATH:LINE:COL: message`, the position coming from toml's spans.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::article::CssSelector;
use crate::filter::{Filter, Rule};
use crate::retention::Retention;
use crate::schedule::{AdaptiveBounds, FeedSchedule};

mod files;
pub use files::missing_files;
pub mod database;
mod types;
pub use database::Database;
pub mod proxy;
mod request;
mod scrape;

pub use request::FeedRequest;
use request::{RawCookies, RawHeaders, RawRequest};
mod check;
mod dedup;
mod deliver;
mod feeds;
mod keys;

use check::{config_folder, in_range};
pub use dedup::DedupConfig;
pub use deliver::{DeliverConfig, DeliverTarget, Secret};
use feeds::{FeedDefaults, check_feeds};
use keys::unknown_keys;

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
    /// `[dedup]`: near-duplicate merging.
    pub dedup: DedupConfig,
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
        let (wrong_types, rest) = types::value_types(text, &positions);
        let types_ok = wrong_types.is_empty();
        problems.extend(wrong_types);
        let raw: RawConfig = toml::from_str(rest.as_deref().unwrap_or(text)).map_err(|e| {
            // With a value blanked, serde may miss a required key: the
            // type problem already says what to fix there.
            if types_ok {
                let offset = e.span().map(|s| s.start).unwrap_or(0);
                problems.push(positions.problem(offset, e.message().trim()));
            }
            problems.sort_by_key(|p| (p.line, p.column));
            ConfigError::Invalid(problems.clone())
        })?;
        match raw.check(&positions) {
            Ok(config) if problems.is_empty() => Ok(config),
            Ok(_) => {
                problems.sort_by_key(|p| (p.line, p.column));
                Err(ConfigError::Invalid(problems))
            }
            Err(more) => {
                problems.extend(more);
                problems.sort_by_key(|p| (p.line, p.column));
                Err(ConfigError::Invalid(problems))
            }
        }
    }
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
    dedup: dedup::RawDedup,
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
/// How long a feed's lease runs when `[storage].lease_secs` is not set: an
/// instance killed mid-poll loses its feeds to the others after at most this.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(600);
/// The `[fetch] max_retry_after` when none is configured: one day.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

#[cfg(test)]
mod tests;
