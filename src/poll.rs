//! One poll of one feed, end to end: fetch → parse → skip what is known →
//! fetch and extract new articles → the store (a large feed's articles in
//! parts, the feed's state with the last).
//!
//! A [`Pipeline`] is shared by the daemon's jobs and by `gleaner poll`, so both
//! run the same code. Failures of a feed are data (recorded in its state),
//! never errors that stop other feeds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::article::site_config::SiteConfigs;
use crate::article::verdict::{self};
use crate::config::{Config, FeedConfig};
use crate::feed::{self};
use crate::fetch::shared::HostLedger;
use crate::fetch::{FeedResponse, Fetcher, Validators};
use crate::metrics::{ErrorKind, Metrics, PollOutcome};
use crate::pacing::{self, FeedOutcome};
use crate::redact;
use crate::schedule::AdaptiveBounds;
use crate::store::StoreHandle;
use crate::store::model::Claim;

mod entries;
mod extraction;
mod ledger;
mod outcome;
mod pages;
mod report;
mod tick;
mod verdicts;
mod writes;

pub use tick::tick_start;

use outcome::fetch_failure;
pub use report::{FeedReport, PassSummary, ReportOutcome, Skip};

use extraction::ExtractionPool;
use verdicts::Scraped;

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
    /// `[dedup] similarity` when `near_duplicates` is on: each article's
    /// text is sketched on an extraction thread for the store to judge.
    near_dup: Option<f64>,
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
            near_dup: config
                .dedup
                .near_duplicates
                .then_some(config.dedup.similarity),
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
    /// A scheduled pass yields a feed to an instance that claimed it since
    /// a second before the pass ([`tick_start`]; see [`Pipeline::poll_tick`]).
    pub async fn poll_all(
        &self,
        feeds: &[FeedConfig],
        mode: PollMode,
        progress: impl FnMut(&FeedReport),
    ) -> PassSummary {
        self.poll_tick(feeds, mode, tick_start(None), progress)
            .await
    }

    /// [`Pipeline::poll_all`] as a tick of a schedule: a scheduled poll
    /// yields its feed to any instance that claimed it at or after `tick`
    /// (from [`tick_start`]), the tick's polls by instances whose clocks
    /// fired it a little earlier. `tick` is this machine's monotonic time,
    /// turned into an age the server compares with its own clock, so
    /// instances' clocks need not agree.
    pub async fn poll_tick(
        &self,
        feeds: &[FeedConfig],
        mode: PollMode,
        tick: std::time::Instant,
        mut progress: impl FnMut(&FeedReport),
    ) -> PassSummary {
        let mut summary = PassSummary::default();
        let mut waiting = feeds.iter();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < self.concurrency {
                match waiting.next() {
                    Some(feed) => running.push(self.poll_feed_of_pass(feed, mode, tick)),
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
        self.poll_feed_of_pass(feed, mode, tick_start(None)).await
    }

    /// [`Pipeline::poll_feed`] in a pass of the tick that began at `tick`.
    async fn poll_feed_of_pass(
        &self,
        feed: &FeedConfig,
        mode: PollMode,
        tick: std::time::Instant,
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
        // in this tick (since `tick`, measured on this machine's monotonic
        // clock and compared in the server's); an operator's `gleaner poll`
        // only to one polling now.
        let scheduled = mode == PollMode::Scheduled;
        let (url, instance, lease) = (
            feed.url.as_str().to_owned(),
            self.instance.clone(),
            self.lease,
        );
        let claim = self
            .store
            .call(move |s| {
                let within = scheduled.then(|| tick.elapsed());
                s.claim_feed(&url, &instance, lease, within)
            })
            .await;
        let claim = match claim {
            Ok(Some(claim)) => claim,
            Ok(None) => return report(ReportOutcome::Skipped(Skip::Elsewhere)),
            Err(e) => {
                // `gleaner poll` prints its own report line for a failure.
                if mode == PollMode::Scheduled {
                    tracing::warn!(feed = %feed.name, "could not claim the feed's lease: {e}");
                }
                return report(self.database_failure(e));
            }
        };
        let outcome = tokio::select! {
            outcome = self.poll_locked(feed, mode, &claim) => outcome,
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
                near_duplicates: s.near_duplicates,
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

    async fn poll_locked(&self, feed: &FeedConfig, mode: PollMode, claim: &Claim) -> ReportOutcome {
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
                let outcome = pacing::failure(
                    fetch_failure(&error),
                    error.to_string(),
                    status.consecutive_errors,
                    now,
                    self.max_retry_after,
                    fastrand::f64(),
                );
                self.metrics.error(ErrorKind::of(&error, &outcome));
                return self
                    .record_failure(feed, claim, now, outcome, status.consecutive_errors)
                    .await;
            }
        };
        let body = match response {
            FeedResponse::NotModified { fresh_for } => {
                return self
                    .record(
                        feed,
                        claim,
                        now,
                        FeedOutcome::NotModified,
                        fresh_for,
                        Vec::new(),
                    )
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
                let outcome = pacing::error_outcome(
                    error.to_string(),
                    status.consecutive_errors,
                    now,
                    fastrand::f64(),
                );
                return self
                    .record_failure(feed, claim, now, outcome, status.consecutive_errors)
                    .await;
            }
            Err(join) => {
                self.metrics.error(ErrorKind::Parse);
                let outcome = pacing::error_outcome(
                    format!("{}: the feed parser failed: {join}", body.final_url),
                    status.consecutive_errors,
                    now,
                    fastrand::f64(),
                );
                return self
                    .record_failure(feed, claim, now, outcome, status.consecutive_errors)
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
        let (sightings, stored, filtered, (interstitials, retries, verdict_line)) = match self
            .sightings(feed, claim, now, entries, every_pending)
            .await
        {
            Ok(found) => found,
            Err(e) if e.is_data_error() => {
                return self.unstorable(feed, claim, now, e, errors_before).await;
            }
            Err(e) => return self.write_failure(feed, e),
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
            title: parsed.title,
            format: parsed.format,
        };
        match self
            .try_record(feed, claim, now, outcome, fresh_for, sightings)
            .await
        {
            Ok(ReportOutcome::Fetched(mut summary)) => {
                summary += stored;
                if !retries.is_empty() {
                    let (feed_url, claim) = (feed.url.as_str().to_owned(), claim.clone());
                    let recorded = self
                        .write(feed, move |s| {
                            s.record_page_retries(&feed_url, now, &retries, &claim)
                        })
                        .await;
                    if let Err(e) = recorded {
                        tracing::warn!(feed = %feed.name,
                            "could not record which pages to try again (they keep the feed's text): {e}");
                    }
                }
                ReportOutcome::Fetched(summary)
            }
            Ok(other) => other,
            Err(e) if e.is_data_error() => {
                self.unstorable(feed, claim, now, e, errors_before).await
            }
            Err(e) => self.write_failure(feed, e),
        }
    }

    /// A poll whose entries the database refused for their data (not for
    /// want of room or rights: [`crate::store::StoreError::is_data_error`]):
    /// a failure of this feed like any other, recorded in its state and
    /// backed off, so that its pages are not fetched again every tick.
    async fn unstorable(
        &self,
        feed: &FeedConfig,
        claim: &Claim,
        now: DateTime<Utc>,
        error: crate::store::StoreError,
        errors_before: u32,
    ) -> ReportOutcome {
        self.metrics.error(ErrorKind::Database);
        let message = format!(
            "{}: the database refused an entry of the feed: {error}",
            redact::url(&feed.url)
        );
        let outcome = pacing::error_outcome(message, errors_before, now, fastrand::f64());
        self.record_failure(feed, claim, now, outcome, errors_before)
            .await
    }
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
