//! One poll of one feed, end to end: fetch → parse → skip what is known →
//! fetch and extract new articles → the store (a large feed's articles in
//! parts, the feed's state with the last).
//!
//! A [`Pipeline`] is shared by the daemon's jobs and by `gleaner poll`, so both
//! run the same code. Failures of a feed are data (recorded in its state),
//! never errors that stop other feeds.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::{self, FuturesUnordered};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::article::site_config::SiteConfigs;
use crate::article::verdict::{self, Interstitial, Verdict as PageVerdict};
use crate::article::{self, SiteRules, sanitize::sanitize, text::html_to_text};
use crate::config::{Config, FeedConfig};
use crate::feed::{self, Entry};
use crate::fetch::shared::HostLedger;
use crate::fetch::{FeedResponse, FetchError, Fetcher, Validators};
use crate::filter::Verdict;
use crate::metrics::{ErrorKind, Metrics, PollOutcome};
use crate::pacing::{self, AdaptiveBounds, FeedOutcome, Held, HoldReason};
use crate::redact;
use crate::schedule::FeedSchedule;
use crate::store::StoreHandle;
use crate::store::keys::normalize_url;
use crate::store::read::Known;
use crate::store::write::{
    ArticleRecord, Cadence, ContentSource, PollRecord, PollSummary, Sighting, StoredPage,
};

mod extraction;
mod ledger;
mod verdicts;

use extraction::ExtractionPool;
use verdicts::{Demotable, PollVerdicts, Scraped};

/// How many article pages of one feed are fetched at once (the fetcher's
/// global and per-host limits still apply).
const ARTICLES_IN_PARALLEL: usize = 8;

/// How many built articles (HTML, text, maybe a compressed page each) a poll
/// holds before it stores them: what bounds a poll's memory whatever its
/// feed's size (with the [`ARTICLES_IN_PARALLEL`] being built).
const ARTICLES_PER_TRANSACTION: usize = 32;

/// At most this many pages of one article are fetched by following its
/// site's `next_page_link` (the first page included).
pub const MAX_ARTICLE_PAGES: usize = 10;

/// zstd level for kept pages: fast, and HTML still shrinks about 5×.
pub const PAGE_COMPRESSION: i32 = 3;

/// At most this many entries of one feed are read per poll (the newest):
/// a feed of 100,000 entries is an archive dump, not news.
pub const MAX_ENTRIES_PER_POLL: usize = 1000;

/// An extracted page must have at least this share of the feed content's
/// words to be preferred over it (SPEC: "extraction weaker than the feed's content").
pub(crate) const ARTICLE_TO_FEED_MIN_RATIO: f64 = 0.8;

pub use crate::pacing::PollMode;

/// The result of polling one feed.
#[derive(Debug, Clone)]
pub struct FeedReport {
    pub feed: String,
    pub url: Url,
    pub outcome: ReportOutcome,
}

#[derive(Debug, Clone)]
pub enum ReportOutcome {
    Fetched(PollSummary),
    NotModified,
    Failed(String),
    /// Not polled.
    Skipped(Skip),
}

/// Why a feed was not polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Backing off, rate-limited or not due ([`pacing::hold`]).
    Held(Held),
    /// The previous poll of the feed is still running.
    Busy,
    /// Another instance on the same PostgreSQL database holds the feed's
    /// lease: it is polling the feed, or already did in this tick.
    Elsewhere,
    ShuttingDown,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Held(held) => held.fmt(f),
            Skip::Busy => f.write_str("the previous poll of this feed is still running"),
            Skip::Elsewhere => f.write_str("another instance is polling this feed (or just did)"),
            Skip::ShuttingDown => f.write_str("shutting down"),
        }
    }
}

impl fmt::Display for FeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            ReportOutcome::Fetched(s) => write!(
                f,
                "{}: ok, {} new, {} updated, {} already known",
                self.feed, s.new, s.updated, s.merged
            ),
            ReportOutcome::NotModified => write!(f, "{}: not modified", self.feed),
            ReportOutcome::Failed(e) => write!(f, "{}: failed: {e}", self.feed),
            ReportOutcome::Skipped(why) => write!(f, "{}: skipped: {why}", self.feed),
        }
    }
}

/// Totals of a pass over several feeds (the summary line of `gleaner poll`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub ok: usize,
    pub not_modified: usize,
    pub failed: usize,
    pub skipped: usize,
    pub new_articles: usize,
    /// The skipped feeds held back, by reason: how many, and the earliest
    /// end of their pauses.
    held: [(usize, Option<DateTime<Utc>>); 3],
}

impl PassSummary {
    pub fn add(&mut self, report: &FeedReport) {
        match &report.outcome {
            ReportOutcome::Fetched(s) => {
                self.ok += 1;
                self.new_articles += s.new;
            }
            ReportOutcome::NotModified => self.not_modified += 1,
            ReportOutcome::Failed(_) => self.failed += 1,
            ReportOutcome::Skipped(skip) => {
                self.skipped += 1;
                if let Skip::Held(held) = skip {
                    let (n, first) = &mut self.held[held.reason as usize];
                    *n += 1;
                    *first = Some(first.map_or(held.until, |t| t.min(held.until)));
                }
            }
        }
    }
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::plural::count;
        write!(
            f,
            "{}: {} ok, {} not modified, {} failed",
            count(
                (self.ok + self.not_modified + self.failed + self.skipped) as u64,
                "feed",
                "feeds"
            ),
            self.ok,
            self.not_modified,
            self.failed
        )?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
            let now = Utc::now();
            let reasons = [
                (HoldReason::RateLimited, "rate-limited"),
                (HoldReason::BackingOff, "backing off"),
                (HoldReason::NotDue, "not due"),
            ];
            let mut why: Vec<String> = reasons
                .iter()
                .filter_map(|(reason, label)| {
                    let (n, first) = self.held[*reason as usize];
                    let first = first?;
                    let next = if n == 1 { "until" } else { "the first until" };
                    Some(format!("{n} {label}, {next} {}", pacing::clock(first, now)))
                })
                .collect();
            let held: usize = self.held.iter().map(|(n, _)| n).sum();
            if self.skipped > held {
                why.push(format!(
                    "{} already polling or stopping",
                    self.skipped - held
                ));
            }
            write!(f, " ({})", why.join("; "))?;
        }
        write!(
            f,
            "; {}",
            count(self.new_articles as u64, "new article", "new articles")
        )
    }
}

/// One lock per feed URL, kept across config reloads, so that a poll of a
/// feed never overlaps a running poll of the same feed.
#[derive(Clone, Default)]
pub struct FeedLocks(Arc<Mutex<HashMap<Url, Arc<tokio::sync::Mutex<()>>>>>);

impl FeedLocks {
    fn try_lock(&self, url: &Url) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let lock = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(url.clone())
            .or_default()
            .clone();
        lock.try_lock_owned().ok()
    }
}

/// Everything a poll needs, shared by all polls of one configuration.
pub struct Pipeline {
    fetcher: Fetcher,
    store: StoreHandle,
    /// Extraction is CPU-bound: one thread per core.
    extraction: ExtractionPool,
    /// Article pages downloaded or being downloaded and not yet extracted:
    /// as many as can be in flight plus a short queue per extraction thread,
    /// so that pages wait on the network, not in memory.
    pages_in_hand: Arc<Semaphore>,
    locks: FeedLocks,
    cancel: CancellationToken,
    concurrency: usize,
    adaptive: AdaptiveBounds,
    metrics: Arc<Metrics>,
    /// `[storage] keep_html`: store each page, compressed, with its article.
    keep_html: bool,
    /// `[fetch] max_retry_after`: the longest pause a server's Retry-After gets.
    max_retry_after: std::time::Duration,
    /// `[extraction] site_config_dir`, loaded.
    site_configs: Option<Arc<SiteConfigs>>,
    /// Pages being fetched and extracted, by normalized URL: a link that two
    /// feeds of a pass give (tracking parameters aside) is downloaded once.
    in_flight: InFlight,
    /// This process among the instances sharing a database (feed leases).
    instance: String,
    /// `[storage] lease_secs`: a feed's lease runs this long past its claim
    /// or its last renewal (every [`RENEWALS_PER_LEASE`]th of it while the
    /// poll runs), so an instance killed mid-poll loses its feeds to the
    /// others after at most this, and a long poll keeps its feed.
    lease: std::time::Duration,
    /// Recent article bodies per host: one body on many URLs is an interstitial.
    repeats: verdict::Repeats,
}

/// A running poll renews its feed's lease this many times per lease: two
/// renewals may be late or fail before the lease runs out.
const RENEWALS_PER_LEASE: u32 = 3;

/// Ticks of one schedule come at least this far apart, and instances'
/// clocks agree within it: a feed claimed since the tick's start, less
/// this, was polled in this tick by another instance.
const TICK_SLACK: chrono::Duration = chrono::Duration::seconds(1);

#[derive(Default)]
struct InFlight(Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Scraped>>>>);

impl InFlight {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Arc<tokio::sync::OnceCell<Scraped>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Pipeline {
    /// Builds a pipeline for `config`; `cancel` abandons polls in flight.
    pub fn new(
        config: &Config,
        store: StoreHandle,
        locks: FeedLocks,
        cancel: CancellationToken,
    ) -> Result<Pipeline, reqwest::Error> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Pipeline {
            fetcher: Fetcher::new(&config.fetch)?.with_ledger(
                store
                    .is_shared()
                    .then(|| Arc::new(store.clone()) as Arc<dyn HostLedger>),
            ),
            store,
            extraction: ExtractionPool::start(cores),
            pages_in_hand: Arc::new(Semaphore::new(config.fetch.concurrency + 2 * cores)),
            locks,
            cancel,
            concurrency: config.fetch.concurrency,
            adaptive: config.schedule.adaptive,
            metrics: Arc::default(),
            keep_html: config.storage.keep_html,
            max_retry_after: config.fetch.max_retry_after,
            site_configs: None,
            in_flight: InFlight::default(),
            instance: format!(
                "{}:{}:{:08x}",
                hostname(),
                std::process::id(),
                fastrand::u32(..)
            ),
            lease: config.storage.lease,
            repeats: verdict::Repeats::default(),
        })
    }

    /// Applies `site_configs` (`[extraction] site_config_dir`, loaded) to
    /// every article page.
    pub fn with_site_configs(mut self, site_configs: Option<Arc<SiteConfigs>>) -> Pipeline {
        self.site_configs = site_configs;
        self
    }

    /// Counts this pipeline's polls in `metrics` (shared across reloads).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Pipeline {
        self.metrics = metrics;
        self
    }

    fn database_failure(&self, error: crate::store::StoreError) -> ReportOutcome {
        self.metrics.error(ErrorKind::Database);
        ReportOutcome::Failed(format!("database: {error}"))
    }

    /// Polls `feeds` concurrently, calling `progress` as each one finishes.
    pub async fn poll_all(
        &self,
        feeds: &[FeedConfig],
        mode: PollMode,
        mut progress: impl FnMut(&FeedReport),
    ) -> PassSummary {
        let mut summary = PassSummary::default();
        let mut waiting = feeds.iter();
        let mut running = FuturesUnordered::new();
        let started = Utc::now();
        loop {
            while running.len() < self.concurrency {
                match waiting.next() {
                    Some(feed) => running.push(self.poll_feed_of_pass(feed, mode, started)),
                    None => break,
                }
            }
            let Some(report) = running.next().await else {
                return summary;
            };
            summary.add(&report);
            progress(&report);
        }
    }

    /// Polls one feed and records the result. Never fails: problems are in the report
    /// (and in the feed's stored state).
    pub async fn poll_feed(&self, feed: &FeedConfig, mode: PollMode) -> FeedReport {
        self.poll_feed_of_pass(feed, mode, Utc::now()).await
    }

    /// [`Pipeline::poll_feed`] in a pass that started at `pass_started`.
    async fn poll_feed_of_pass(
        &self,
        feed: &FeedConfig,
        mode: PollMode,
        pass_started: chrono::DateTime<Utc>,
    ) -> FeedReport {
        let report = |outcome| FeedReport {
            feed: feed.name.clone(),
            url: feed.url.clone(),
            outcome,
        };
        let Some(_guard) = self.locks.try_lock(&feed.url) else {
            return report(ReportOutcome::Skipped(Skip::Busy));
        };
        // Across instances: the feed's lease (always granted on SQLite). A
        // scheduled poll also yields to an instance that claimed the feed
        // in this tick; an operator's `gleaner poll` only to one polling now.
        let claimed_before = (mode == PollMode::Scheduled).then(|| pass_started - TICK_SLACK);
        let (url, instance, lease) = (
            feed.url.as_str().to_owned(),
            self.instance.clone(),
            self.lease,
        );
        let claim = self
            .store
            .call(move |s| s.claim_feed(&url, &instance, lease, claimed_before))
            .await;
        match claim {
            Ok(true) => {}
            Ok(false) => return report(ReportOutcome::Skipped(Skip::Elsewhere)),
            Err(e) => {
                // `gleaner poll` prints its own report line for a failure.
                if mode == PollMode::Scheduled {
                    tracing::warn!(feed = %feed.name, "could not claim the feed's lease: {e}");
                }
                return report(self.database_failure(e));
            }
        }
        let outcome = tokio::select! {
            outcome = self.poll_locked(feed, mode) => outcome,
            outcome = self.keep_lease(feed) => outcome,
            () = self.cancel.cancelled() => ReportOutcome::Skipped(Skip::ShuttingDown),
        };
        let (url, instance) = (feed.url.as_str().to_owned(), self.instance.clone());
        if let Err(e) = self
            .store
            .call(move |s| s.release_feed(&url, &instance))
            .await
        {
            tracing::warn!(feed = %feed.name, "could not release the feed's lease (it expires by itself): {e}");
        }
        match &outcome {
            // `gleaner poll` prints its own report line for a failure.
            ReportOutcome::Failed(error) if mode != PollMode::Scheduled => {
                tracing::info!(feed = %feed.name, "poll failed: {error}")
            }
            ReportOutcome::Failed(error) => {
                tracing::warn!(feed = %feed.name, "poll failed: {error}")
            }
            ReportOutcome::Fetched(s) => {
                tracing::info!(feed = %feed.name, new = s.new, updated = s.updated, known = s.merged, "polled")
            }
            ReportOutcome::NotModified => tracing::debug!(feed = %feed.name, "not modified"),
            ReportOutcome::Skipped(why) => tracing::debug!(feed = %feed.name, "skipped: {why}"),
        }
        let report = report(outcome);
        self.metrics.poll(match &report.outcome {
            ReportOutcome::Fetched(s) => PollOutcome::Fetched {
                new: s.new,
                updated: s.updated,
            },
            ReportOutcome::NotModified => PollOutcome::NotModified,
            ReportOutcome::Failed(_) => PollOutcome::Failed,
            ReportOutcome::Skipped(_) => PollOutcome::Skipped,
        });
        report
    }

    /// Renews `feed`'s lease every [`RENEWALS_PER_LEASE`]th of it while its
    /// poll runs; returns only when another instance has taken the lease
    /// (ours ran out unrenewed), which ends this poll: the feed is that
    /// instance's now. A renewal that fails is logged and tried again at
    /// the next.
    async fn keep_lease(&self, feed: &FeedConfig) -> ReportOutcome {
        let every = self.lease / RENEWALS_PER_LEASE;
        loop {
            tokio::time::sleep(every).await;
            let (url, instance, lease) = (
                feed.url.as_str().to_owned(),
                self.instance.clone(),
                self.lease,
            );
            match self
                .store
                .call(move |s| s.renew_feed(&url, &instance, lease))
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(feed = %feed.name,
                        "the feed's lease ran out before it was renewed and another instance took the feed; \
                         this poll stops (renewals held up for two thirds of [storage] lease_secs: raise it)");
                    return ReportOutcome::Skipped(Skip::Elsewhere);
                }
                Err(e) => tracing::warn!(feed = %feed.name,
                    "could not renew the feed's lease (tried again in {} ms; it runs out {} s after the last renewal): {e}",
                    every.as_millis(), self.lease.as_secs()),
            }
        }
    }

    async fn poll_locked(&self, feed: &FeedConfig, mode: PollMode) -> ReportOutcome {
        let url = feed.url.as_str().to_owned();
        let status = match self.store.call(move |s| s.feed_status(&url)).await {
            Ok(status) => status.unwrap_or_default(),
            Err(e) => return self.database_failure(e),
        };
        let now = Utc::now();
        let held = pacing::hold(
            status.state.as_deref(),
            status.next_attempt_at,
            mode,
            &feed.schedule,
            now,
        );
        if let Some(held) = held {
            return ReportOutcome::Skipped(Skip::Held(held));
        }

        let validators = Validators {
            etag: status.etag.clone(),
            last_modified: status.last_modified.clone(),
        };
        let response = match self
            .fetcher
            .fetch_feed(&feed.url, &validators, &feed.request)
            .await
        {
            Ok(response) => response,
            Err(error) => {
                let outcome =
                    pacing::failure(&error, status.consecutive_errors, now, self.max_retry_after);
                self.metrics.error(ErrorKind::of(&error, &outcome));
                return self
                    .record_failure(feed, now, outcome, status.consecutive_errors)
                    .await;
            }
        };
        let body = match response {
            FeedResponse::NotModified { fresh_for } => {
                return self
                    .record(feed, now, FeedOutcome::NotModified, fresh_for, Vec::new())
                    .await;
            }
            FeedResponse::Fetched(body) => *body,
        };
        let fresh_for = body.fresh_for;

        let (bytes, content_type, base) = (body.bytes, body.content_type, body.final_url.clone());
        let source = feed.source.clone();
        let parsed = tokio::task::spawn_blocking(move || {
            feed::scrape::parse(&source, &bytes, content_type.as_deref(), &base)
        })
        .await;
        let parsed = match parsed {
            Ok(Ok(parsed)) => parsed,
            Ok(Err(error)) => {
                self.metrics.error(ErrorKind::Parse);
                let outcome =
                    pacing::error_outcome(error.to_string(), status.consecutive_errors, now);
                return self
                    .record_failure(feed, now, outcome, status.consecutive_errors)
                    .await;
            }
            Err(join) => {
                self.metrics.error(ErrorKind::Parse);
                let outcome = pacing::error_outcome(
                    format!("{}: the feed parser failed: {join}", body.final_url),
                    status.consecutive_errors,
                    now,
                );
                return self
                    .record_failure(feed, now, outcome, status.consecutive_errors)
                    .await;
            }
        };

        if !parsed.repairs.is_empty() {
            let repairs: Vec<&str> = parsed.repairs.iter().map(|r| r.name()).collect();
            tracing::info!(feed = %feed.name, repairs = %repairs.join(" "),
                "the feed is broken; parsed it after repairs");
        }
        let repairs = parsed.repairs;
        let mut entries = parsed.entries;
        if entries.len() > MAX_ENTRIES_PER_POLL {
            // Entries are oldest first: keep the newest.
            let dropped = entries.len() - MAX_ENTRIES_PER_POLL;
            entries.drain(..dropped);
            tracing::warn!(feed = %feed.name, url = %redact::url(&feed.url), dropped,
                "the feed has more than {MAX_ENTRIES_PER_POLL} entries; only the newest are read");
        }
        // An operator's poll tries every page that is pending again at once
        // (as it ignores the other pauses gleaner sets itself).
        let every_pending = mode != PollMode::Scheduled;
        let errors_before = status.consecutive_errors;
        let (sightings, stored, filtered, (interstitials, retries, verdict_line)) =
            match self.sightings(feed, now, entries, every_pending).await {
                Ok(found) => found,
                Err(e) if e.is_data_error() => {
                    return self.unstorable(feed, now, e, errors_before).await;
                }
                Err(e) => return self.database_failure(e),
            };
        if let Some(line) = verdict_line {
            tracing::warn!(feed = %feed.name, "{line}");
        }
        if let Some(moved) = &body.moved_permanently {
            tracing::warn!(feed = %feed.name,
                "{} has moved permanently to {}: update the feed's url in the config",
                redact::url(&feed.url), redact::url(moved));
        }
        let outcome = FeedOutcome::Fetched {
            etag: body.etag,
            last_modified: body.last_modified,
            moved_to: body.moved_permanently.map(String::from),
            repairs,
            ttl: parsed.ttl,
            filtered,
            interstitials,
        };
        match self
            .try_record(feed, now, outcome, fresh_for, sightings)
            .await
        {
            Ok(ReportOutcome::Fetched(mut summary)) => {
                summary += stored;
                if !retries.is_empty() {
                    let feed_url = feed.url.as_str().to_owned();
                    let recorded = self
                        .store
                        .call(move |s| s.record_page_retries(&feed_url, now, &retries))
                        .await;
                    if let Err(e) = recorded {
                        tracing::warn!(feed = %feed.name,
                            "could not record which pages to try again (they keep the feed's text): {e}");
                    }
                }
                ReportOutcome::Fetched(summary)
            }
            Ok(other) => other,
            Err(e) if e.is_data_error() => self.unstorable(feed, now, e, errors_before).await,
            Err(e) => self.database_failure(e),
        }
    }

    /// A poll whose entries the database refused for their data (not for
    /// want of room or rights: [`crate::store::StoreError::is_data_error`]):
    /// a failure of this feed like any other, recorded in its state and
    /// backed off, so that its pages are not fetched again every tick.
    async fn unstorable(
        &self,
        feed: &FeedConfig,
        now: DateTime<Utc>,
        error: crate::store::StoreError,
        errors_before: u32,
    ) -> ReportOutcome {
        self.metrics.error(ErrorKind::Database);
        let message = format!(
            "{}: the database refused an entry of the feed: {error}",
            redact::url(&feed.url)
        );
        let outcome = pacing::error_outcome(message, errors_before, now);
        self.record_failure(feed, now, outcome, errors_before).await
    }

    /// Which entries are new, changed or known elsewhere; builds the articles
    /// of new and changed ones. Every [`ARTICLES_PER_TRANSACTION`] built
    /// articles are stored at once (without the feed's state), so that a
    /// feed's articles are not all held until its end; returns the sightings
    /// left for the poll's own transaction, what the earlier ones stored and
    /// how many entries the feed's filter rules dropped.
    async fn sightings(
        &self,
        feed: &FeedConfig,
        polled_at: DateTime<Utc>,
        entries: Vec<Entry>,
        every_pending: bool,
    ) -> Result<(Vec<Sighting>, PollSummary, u32, verdicts::Finished), crate::store::StoreError>
    {
        let (entries, mut filtered) = self.filter_entries(feed, entries).await;
        let feed_url = feed.url.as_str().to_owned();
        let lookups: Vec<(String, Option<Url>)> = entries
            .iter()
            .map(|(e, _)| (e.id.clone(), e.url.clone()))
            .collect();
        // Pages that were an interstitial and are due again (all of them
        // for `gleaner poll`).
        let due_at = (!every_pending).then_some(polled_at);
        let (known, due) = self
            .store
            .call(move |s| {
                let known = lookups
                    .iter()
                    .map(|(id, url)| s.known(&feed_url, id, url.as_ref()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((known, s.due_page_retries(&feed_url, due_at)?))
            })
            .await?;
        let due: HashMap<String, bool> = due.into_iter().collect();
        let poll_verdicts = PollVerdicts::default();
        let verdicts = &poll_verdicts;

        let work = entries
            .into_iter()
            .zip(known)
            .filter_map(|((entry, verdict), known)| {
                let entry_hash = entry.fingerprint();
                let build = match known {
                    Known::Entry {
                        entry_hash: ref old,
                        ..
                    } if *old == entry_hash && due.contains_key(&entry.id) => Build::Retry {
                        stored_page: due.get(&entry.id).copied().unwrap_or(false),
                    },
                    Known::Entry {
                        entry_hash: ref old,
                        ..
                    } if *old == entry_hash => return None,
                    // Changed in its feed, same page: the stored page is not
                    // fetched again, only the feed's fields are taken.
                    Known::Entry {
                        link_changed: false,
                        ..
                    } => Build::FromFeed,
                    Known::Entry { .. } | Known::New => Build::Full,
                    Known::Url => Build::Nothing,
                };
                Some((entry, entry_hash, build, verdict))
            });
        let sightings = stream::iter(work)
            .map(|(entry, entry_hash, build, verdict)| async move {
                let built = match build {
                    Build::Full | Build::Retry { .. } => {
                        let retry = matches!(build, Build::Retry { .. });
                        Some(
                            self.build_article(feed, &entry, true, verdicts, retry)
                                .await,
                        )
                    }
                    Build::FromFeed => Some(
                        self.build_article(feed, &entry, false, verdicts, false)
                            .await,
                    ),
                    Build::Nothing => None,
                };
                let (article, demotable) = match built {
                    // A page tried again that is still no article: the
                    // stored entry stays as it is, unless what is stored is
                    // that page's (a repeated body found after it was stored).
                    Some((article, _))
                        if build == (Build::Retry { stored_page: false })
                            && article.content_source != Some(ContentSource::Article) =>
                    {
                        (None, None)
                    }
                    Some((article, demotable)) => (Some(article), demotable),
                    None => (None, None),
                };
                // The `content` rules once more, on the article's own text.
                if let Some(article) = &article
                    && !feed
                        .filter
                        .on_full_text(verdict, article.content_text.as_deref())
                {
                    return None;
                }
                let sighting = Sighting {
                    entry_id: entry.id,
                    url: entry.url,
                    entry_hash,
                    article,
                    feed_only: build == Build::FromFeed,
                    tags: feed.tags.clone(),
                };
                Some((sighting, demotable))
            })
            .buffered(ARTICLES_IN_PARALLEL);
        let mut sightings = std::pin::pin!(sightings);
        let (mut pending, mut built, mut stored) = (Vec::new(), 0, PollSummary::default());
        while let Some(sighting) = sightings.next().await {
            let Some(sighting) = sighting else {
                filtered += 1;
                continue;
            };
            built += usize::from(sighting.0.article.is_some());
            pending.push(sighting);
            if built == ARTICLES_PER_TRANSACTION {
                verdicts.demote(&mut pending);
                let chunk: Vec<Sighting> = pending.drain(..).map(|(s, _)| s).collect();
                let (feed_url, feed_name) = (feed.url.as_str().to_owned(), feed.name.clone());
                stored += self
                    .store
                    .call(move |s| s.record_sightings(&feed_url, &feed_name, polled_at, &chunk))
                    .await?;
                built = 0;
            }
        }
        verdicts.demote(&mut pending);
        let pending = pending.into_iter().map(|(s, _)| s).collect();
        Ok((pending, stored, filtered, verdicts.finish()))
    }

    /// The entries the feed's filter rules do not drop before any page is
    /// fetched, each with its verdict, and how many were dropped. The rules
    /// run on an extraction thread (`content` rules read the entries' HTML
    /// as text); if that crashes, every entry is kept and the crash logged.
    async fn filter_entries(
        &self,
        feed: &FeedConfig,
        entries: Vec<Entry>,
    ) -> (Vec<(Entry, Verdict)>, u32) {
        if feed.filter.is_empty() {
            return (entries.into_iter().map(|e| (e, Verdict::Keep)).collect(), 0);
        }
        let (filter, tags) = (feed.filter.clone(), feed.tags.clone());
        let entries = Arc::new(entries);
        let judged = entries.clone();
        let verdicts = self
            .extraction
            .run(move || filter.entries(&judged, &tags))
            .await
            .unwrap_or_else(|crash| {
                tracing::error!(feed = %feed.name, "the filter rules crashed, keeping every entry: {crash}");
                vec![Verdict::Keep; entries.len()]
            });
        let entries = Arc::try_unwrap(entries).unwrap_or_else(|shared| (*shared).clone());
        let mut dropped = 0;
        let kept = entries
            .into_iter()
            .zip(verdicts)
            .filter(|(entry, verdict)| {
                let drop = *verdict == Verdict::Drop;
                if drop {
                    tracing::debug!(feed = %feed.name, entry = %entry.id, "dropped by the feed's filter rules");
                    dropped += 1;
                }
                !drop
            })
            .collect();
        (kept, dropped)
    }

    /// The article for a new (or changed) entry: the scraped page when
    /// `fetch_page`, full text is on and it works, else the feed's own content.
    async fn build_article(
        &self,
        feed: &FeedConfig,
        entry: &Entry,
        fetch_page: bool,
        verdicts: &PollVerdicts,
        retried: bool,
    ) -> (ArticleRecord, Option<Demotable>) {
        let base = entry.url.clone().unwrap_or_else(|| feed.url.clone());
        let FeedContent {
            summary,
            html: feed_html,
            text: feed_text,
        } = self.feed_content(feed, entry, base).await;
        let feed_words = feed_text
            .as_deref()
            .map_or(0, |t| t.split_whitespace().count());

        // A page several entries link to (anchors) is none of their
        // articles; a link to the entry's own media file is no page at all
        // (a podcast episode keeps its description).
        let is_media = entry
            .enclosures
            .iter()
            .any(|e| entry.url.as_ref().is_some_and(|u| u.as_str() == e.url));
        let scraped = match (
            &entry.url,
            fetch_page && feed.full_text && !entry.shares_page && !is_media,
        ) {
            (Some(url), true) => self.scrape(feed, url).await,
            _ => Scraped::Failed,
        };
        let (mut scraped, mut interstitial) = match scraped {
            Scraped::Article(found) => (Some(*found), None),
            Scraped::Interstitial(found) => (None, Some(found)),
            Scraped::Failed => (None, None),
        };
        // One body served for many URLs of the host is no article either.
        if let (Some((article, _)), Some(url)) = (&scraped, &entry.url) {
            let owner = (feed.url.as_str().to_owned(), entry.id.clone());
            let seen = self.repeats.see(url, &article.content_text, Some(owner));
            if seen.is_interstitial() {
                let kind = verdict::kind_of_words(&article.content_text);
                verdicts.repeated(feed.url.as_str(), kind, seen.others);
                interstitial = Some(Interstitial {
                    kind,
                    evidence: format!(
                        "the same text on {} URLs of {}",
                        seen.urls,
                        url.host_str().unwrap_or("the site")
                    ),
                });
                scraped = None;
            }
        }
        if scraped.is_some() || interstitial.is_some() {
            verdicts.page(&entry.id, interstitial.as_ref(), retried);
        } else if retried {
            verdicts.retry_failed(&entry.id);
        }
        if let Some(found) = &interstitial {
            self.metrics.interstitial(found.kind);
            // The poll's one line per feed says it to the operator.
            tracing::debug!(feed = %feed.name, url = ?entry.url.as_ref().map(Url::as_str),
                evidence = %found.evidence, "the page is {}; using the feed's content", found.kind.described());
        }
        let scraped = scraped.filter(|(a, _)| {
            let strong = a.word_count as f64 >= feed_words as f64 * ARTICLE_TO_FEED_MIN_RATIO;
            if !strong {
                tracing::info!(feed = %feed.name, url = ?entry.url, extracted = a.word_count, feed_words,
                    "the extracted page is shorter than the feed's content; using the feed's");
            }
            strong
        });

        let mut record = ArticleRecord {
            title: entry.title.clone(),
            url: entry.url.clone(),
            author: entry.author.clone(),
            published: entry.published,
            updated: entry.updated,
            summary,
            categories: entry.categories.clone(),
            enclosures: entry.enclosures.clone(),
            ..ArticleRecord::default()
        };
        let mut demotable = None;
        match scraped {
            Some((article, page)) => {
                // Kept until the poll stores it, should a later page show
                // this body to be an interstitial's.
                demotable = Some(Demotable {
                    feed: feed_html
                        .zip(feed_text)
                        .map(|(html, text)| (html, text, feed_words as u32)),
                });
                record.page = page;
                // A page's title and author come from outside like a feed's.
                let line = |t: String| crate::controls::strip_owned(t).trim().to_owned();
                record.title = record.title.or(article.title.map(line));
                record.author = record.author.or(article.author.map(line));
                record.published = record.published.or(article.published);
                record.canonical_url = article.canonical_url;
                record.language = article.language;
                record.image = article.image;
                record.word_count = Some(article.word_count);
                record.content_html = Some(article.content_html);
                record.content_text = Some(article.content_text);
                record.content_source = Some(ContentSource::Article);
            }
            None => match (feed_html, feed_text) {
                (Some(html), Some(text)) => {
                    record.word_count = Some(feed_words as u32);
                    record.content_html = Some(html);
                    record.content_text = Some(text);
                    record.content_source = Some(ContentSource::Feed);
                }
                _ => record.content_source = Some(ContentSource::None),
            },
        }
        (record, demotable)
    }

    /// The entry's own summary and content, sanitized and as text, worked
    /// out on an extraction thread: ammonia and the text conversion are CPU
    /// work that on the reactor would stall every feed of the pass.
    async fn feed_content(&self, feed: &FeedConfig, entry: &Entry, base: Url) -> FeedContent {
        let (summary_html, content_html) = (entry.summary_html.clone(), entry.content_html.clone());
        if summary_html.is_none() && content_html.is_none() {
            return FeedContent::default();
        }
        let work = move || FeedContent::of(summary_html.as_deref(), content_html.as_deref(), &base);
        match self.extraction.run(work).await {
            Ok(content) => content,
            Err(crash) => {
                tracing::error!(feed = %feed.name, entry = %entry.id,
                    "sanitizing the feed's content crashed: {crash}");
                FeedContent::default()
            }
        }
    }

    /// Fetches and extracts one article page, with the page itself when it
    /// is to be kept; `None` (logged) when that fails.
    async fn scrape(&self, feed: &FeedConfig, url: &Url) -> Scraped {
        // Feeds with their own extraction rules get their own extraction.
        let rules = feed.content_selector.is_some() || !feed.remove_selectors.is_empty();
        let key = normalize_url(url).map(|u| match rules {
            true => format!("{u} {}", feed.url),
            false => u,
        });
        let Some(key) = key else {
            return self.scrape_once(feed, url).await;
        };
        let cell = self
            .in_flight
            .lock()
            .entry(key.clone())
            .or_default()
            .clone();
        let scraped = cell
            .get_or_init(|| self.scrape_once(feed, url))
            .await
            .clone();
        // Later polls find the article in the store (dedup at insert): only
        // the pass's concurrent fetches of one page share the cell.
        let mut in_flight = self.in_flight.lock();
        if in_flight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            in_flight.remove(&key);
        }
        scraped
    }

    /// [`Pipeline::scrape`] without the sharing: fetches and extracts. When
    /// the site's rules name a one-page view (`single_page_link`) it is read
    /// instead; when they name a next page (`next_page_link`), up to
    /// [`MAX_ARTICLE_PAGES`] pages on the same site
    /// ([`crate::fetch::site::same_site`]) are read and their
    /// bodies joined in order. Only the first page is kept.
    async fn scrape_once(&self, feed: &FeedConfig, url: &Url) -> Scraped {
        let _in_hand = self
            .pages_in_hand
            .clone()
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        let (mut article, kept) = match self.scrape_page(feed, url, self.keep_html).await {
            Scraped::Article(found) => *found,
            other => return other,
        };
        let same_site = |link: &Url| crate::fetch::site::same_site(url, link);
        if let Some(single) = article.links.single_page.clone().filter(same_site)
            && let Scraped::Article(whole) = self.scrape_page(feed, &single, false).await
        {
            article = whole.0;
        }
        let mut seen = vec![url.clone()];
        while let Some(next) = article.links.next_page.take() {
            if seen.len() >= MAX_ARTICLE_PAGES || !same_site(&next) || seen.contains(&next) {
                break;
            }
            seen.push(next.clone());
            let page = match self.scrape_page(feed, &next, false).await {
                Scraped::Article(page) => page.0,
                Scraped::Interstitial(found) => {
                    tracing::info!(feed = %feed.name, url = %next, evidence = %found.evidence,
                        "a further page of the article is {}: the article ends before it",
                        found.kind.described());
                    break;
                }
                Scraped::Failed => break,
            };
            article.append_page(page);
        }
        Scraped::Article(Box::new((article, kept)))
    }

    /// Fetches and extracts one page (with the site's `http_header`s).
    async fn scrape_page(&self, feed: &FeedConfig, url: &Url, keep_html: bool) -> Scraped {
        let site = self
            .site_configs
            .as_ref()
            .zip(url.host_str())
            .and_then(|(configs, host)| configs.for_host(host));
        let headers = site.as_ref().map_or(&[][..], |s| &s.http_headers[..]);
        let page = match self
            .fetcher
            .fetch_site_page(url, &feed.url, &feed.request, headers)
            .await
        {
            Ok(page) => page,
            Err(error) => {
                if let FetchError::Status { response, .. } = &error
                    && let PageVerdict::Interstitial(found) = verdict::judge(response, None, None)
                {
                    tracing::debug!(feed = %feed.name, "{error}: {}", found.kind.described());
                    return Scraped::Interstitial(found);
                }
                let refused = matches!(error, FetchError::Refused { .. });
                if refused {
                    tracing::warn!(feed = %feed.name, "not fetching article: {error}");
                } else {
                    tracing::warn!(feed = %feed.name, "article page unavailable, using the feed's content: {error}");
                }
                return Scraped::Failed;
            }
        };
        let content_selector = feed.content_selector.clone();
        let remove_selectors = feed.remove_selectors.clone();
        let site_configs = self.site_configs.clone();
        let page_url = page.final_url.clone();
        let result = self
            .extraction
            .run(move || {
                let rules = SiteRules {
                    content_selector: content_selector.as_ref(),
                    remove_selectors: &remove_selectors,
                    site_configs: site_configs.as_deref(),
                };
                let extracted = article::extract(
                    &page.bytes,
                    page.content_type.as_deref(),
                    &page.final_url,
                    rules,
                );
                let judged = verdict::judge_bytes(
                    &page.response,
                    &page.bytes,
                    page.content_type.as_deref(),
                    &page.final_url,
                    extracted.as_ref(),
                );
                if let PageVerdict::Interstitial(found) = judged {
                    return Ok(Scraped::Interstitial(found));
                }
                let article = extracted?;
                // Compressed here, on the extraction thread, not on the reactor.
                let kept = keep_html
                    .then(|| zstd::encode_all(&page.bytes[..], PAGE_COMPRESSION).ok())
                    .flatten()
                    .map(|body_zstd| StoredPage {
                        url: page.final_url,
                        content_type: page.content_type,
                        body_zstd,
                    });
                Ok::<_, article::ArticleError>(Scraped::Article(Box::new((article, kept))))
            })
            .await;
        match result {
            Ok(Ok(scraped)) => scraped,
            Ok(Err(error)) => {
                self.metrics.extraction_failed();
                tracing::info!(feed = %feed.name, "{error}; using the feed's content");
                Scraped::Failed
            }
            Err(crash) => {
                self.metrics.extraction_failed();
                tracing::error!(feed = %feed.name, url = %page_url, "the extractor failed: {crash}");
                Scraped::Failed
            }
        }
    }

    /// Stores a failed poll; its report (the log line, `gleaner poll`'s
    /// line) says when the feed is tried again.
    async fn record_failure(
        &self,
        feed: &FeedConfig,
        now: DateTime<Utc>,
        outcome: FeedOutcome,
        errors_before: u32,
    ) -> ReportOutcome {
        let note = pacing::retry_note(&outcome, errors_before, &feed.schedule, now);
        let error = match &outcome {
            FeedOutcome::Failed { error, .. } => Some(error.clone()),
            _ => None,
        };
        match self.record(feed, now, outcome, None, Vec::new()).await {
            // Not when storing it failed: that report is the database's.
            ReportOutcome::Failed(stored) if Some(&stored) == error.as_ref() => {
                ReportOutcome::Failed(match note {
                    Some(note) => format!("{stored}; {note}"),
                    None => stored,
                })
            }
            other => other,
        }
    }

    /// Stores the poll; `fresh_for` is how long the server said the feed's
    /// response stays fresh.
    async fn record(
        &self,
        feed: &FeedConfig,
        polled_at: DateTime<Utc>,
        outcome: FeedOutcome,
        fresh_for: Option<std::time::Duration>,
        sightings: Vec<Sighting>,
    ) -> ReportOutcome {
        self.try_record(feed, polled_at, outcome, fresh_for, sightings)
            .await
            .unwrap_or_else(|e| self.database_failure(e))
    }

    /// [`Pipeline::record`], with the database's error.
    async fn try_record(
        &self,
        feed: &FeedConfig,
        polled_at: DateTime<Utc>,
        outcome: FeedOutcome,
        fresh_for: Option<std::time::Duration>,
        sightings: Vec<Sighting>,
    ) -> Result<ReportOutcome, crate::store::StoreError> {
        let report = match &outcome {
            FeedOutcome::Fetched { .. } => None,
            FeedOutcome::NotModified => Some(ReportOutcome::NotModified),
            FeedOutcome::Failed { error, .. } => Some(ReportOutcome::Failed(error.clone())),
        };
        let poll = PollRecord {
            feed_url: feed.url.as_str().to_owned(),
            feed_name: feed.name.clone(),
            polled_at,
            outcome,
            cadence: match feed.schedule {
                FeedSchedule::Cron(_) => Cadence::Cron,
                FeedSchedule::Adaptive => Cadence::Adaptive {
                    bounds: self.adaptive,
                    fresh_for,
                },
            },
            sightings,
        };
        let summary = self.store.call(move |s| s.record_poll(&poll)).await?;
        if !matches!(report, Some(ReportOutcome::Failed(_))) {
            self.metrics
                .succeeded(feed.url.as_str(), &feed.name, polled_at);
        }
        Ok(report.unwrap_or(ReportOutcome::Fetched(summary)))
    }
}

/// What an entry itself gives as its article's body.
#[derive(Debug, Default)]
struct FeedContent {
    /// The summary as plain text.
    summary: Option<String>,
    /// The content (else the summary), sanitized.
    html: Option<String>,
    /// `html` as plain text.
    text: Option<String>,
}

impl FeedContent {
    /// Sanitizes an entry's summary and content, links resolved against `base`.
    fn of(summary_html: Option<&str>, content_html: Option<&str>, base: &Url) -> FeedContent {
        let summary = summary_html
            .map(|html| html_to_text(&sanitize(html, base)))
            .filter(|t| !t.is_empty());
        let html = content_html
            .or(summary_html)
            .map(|html| sanitize(html, base));
        let text = html.as_deref().map(html_to_text).filter(|t| !t.is_empty());
        FeedContent {
            summary,
            html,
            text,
        }
    }
}

/// What a sighting needs built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// A new entry, or one whose link changed: fetch its page.
    Full,
    /// A changed entry with the same link: the feed's fields only.
    FromFeed,
    /// An unchanged entry whose page was an interstitial and is due to be
    /// tried again: its article replaces the stored feed text in place.
    /// `stored_page`: what is stored is the page's text (a repeated body
    /// found after it was stored), which the feed's replaces if it is still
    /// no article.
    Retry { stored_page: bool },
    /// Known under its URL from another feed: only a source is added.
    Nothing,
}

/// This machine's name, for telling instances apart in leases: the
/// kernel's answer to `gethostname(2)`, which a sandbox that hides
/// `/proc/sys` (the shipped unit's `ProcSubset=pid`) does not hide.
fn hostname() -> String {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is passed.
    let done = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) };
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    match String::from_utf8_lossy(&name[..end]).trim() {
        name if done == 0 && !name.is_empty() => name.to_owned(),
        _ => "localhost".to_owned(),
    }
}
