//! `[metrics] listen`: Prometheus text at `/metrics` and a liveness check at
//! `/healthz`, served by the daemon.
//!
//! Counters are process-wide atomics that polls bump as they finish; the
//! per-feed "last success" gauges are kept the same way (read from the
//! database once, at start). A scrape touches neither the network nor the
//! database, so it never waits on a poll nor delays the database thread's
//! writes, however large the database; only `/healthz` asks the database
//! thread for a round trip.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};

use crate::article::verdict::Kind;
use crate::fetch::FetchError;
use crate::pacing::{FeedOutcome, FeedState};
use crate::store::StoreHandle;

/// Why a poll failed, as the `kind` label of `gleaner_poll_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Timeout,
    Network,
    Http4xx,
    Http5xx,
    RateLimited,
    Gone,
    TooLarge,
    Redirect,
    Parse,
    Database,
}

const KINDS: [ErrorKind; 10] = [
    ErrorKind::Timeout,
    ErrorKind::Network,
    ErrorKind::Http4xx,
    ErrorKind::Http5xx,
    ErrorKind::RateLimited,
    ErrorKind::Gone,
    ErrorKind::TooLarge,
    ErrorKind::Redirect,
    ErrorKind::Parse,
    ErrorKind::Database,
];

impl ErrorKind {
    fn label(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::Network => "network",
            ErrorKind::Http4xx => "http_4xx",
            ErrorKind::Http5xx => "http_5xx",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Gone => "gone",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Redirect => "redirect",
            ErrorKind::Parse => "parse",
            ErrorKind::Database => "database",
        }
    }

    /// The kind of a failed fetch, given the outcome the poll recorded for
    /// it (which already says whether it was rate-limited or gone).
    pub fn of(error: &FetchError, recorded: &FeedOutcome) -> ErrorKind {
        match recorded {
            FeedOutcome::Failed {
                state: FeedState::RateLimited,
                ..
            } => return ErrorKind::RateLimited,
            FeedOutcome::Failed {
                state: FeedState::Gone,
                ..
            } => return ErrorKind::Gone,
            _ => {}
        }
        match error {
            FetchError::Status { status, .. } if status.is_client_error() => ErrorKind::Http4xx,
            FetchError::Status { .. } => ErrorKind::Http5xx,
            FetchError::TooLarge { .. } => ErrorKind::TooLarge,
            FetchError::Timeout { .. } => ErrorKind::Timeout,
            FetchError::TooManyRedirects { .. } | FetchError::BadRedirect { .. } => {
                ErrorKind::Redirect
            }
            FetchError::Refused { .. } | FetchError::NotHtml { .. } => ErrorKind::Parse,
            FetchError::Network { .. } => ErrorKind::Network,
        }
    }
}

/// The daemon's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    polls_ok: AtomicU64,
    polls_not_modified: AtomicU64,
    polls_failed: AtomicU64,
    polls_skipped: AtomicU64,
    errors: [AtomicU64; KINDS.len()],
    articles_new: AtomicU64,
    articles_updated: AtomicU64,
    /// Sightings merged into a stored article as near-duplicates.
    near_duplicates: AtomicU64,
    extraction_failures: AtomicU64,
    /// Article pages judged interstitials, by kind (`article::verdict::Kind::ALL`'s order).
    interstitials: [AtomicU64; Kind::ALL.len()],
    /// When each feed last polled successfully, by feed URL: its name (the
    /// gauge's label) and the poll's time.
    last_success: Mutex<HashMap<String, (String, DateTime<Utc>)>>,
    /// `[[deliver]]` consumers by name.
    deliveries: Mutex<HashMap<String, DeliveryCounters>>,
}

/// One `[[deliver]]` consumer's counters.
#[derive(Debug, Default, Clone, Copy)]
struct DeliveryCounters {
    batches_ok: u64,
    batches_failed: u64,
    articles: u64,
    consecutive_failures: u64,
}

/// How a poll ended, as the `outcome` label of `gleaner_polls_total` (a
/// plain enum, so that metrics need not know the pipeline's report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollOutcome {
    /// Fetched and stored: `new` articles stored, `updated` in place,
    /// `near_duplicates` merged into stored ones by their text's similarity.
    Fetched {
        new: usize,
        updated: usize,
        near_duplicates: usize,
    },
    NotModified,
    Failed,
    Skipped,
}

impl Metrics {
    /// Metrics that start from the stored last successes (`feed URL, name,
    /// time`, as `Store::last_successes` reads them), so that a restart
    /// does not blank the gauges.
    pub fn starting_from(last_success: Vec<(String, String, DateTime<Utc>)>) -> Metrics {
        let metrics = Metrics::default();
        for (feed_url, name, at) in last_success {
            metrics.succeeded(&feed_url, &name, at);
        }
        metrics
    }

    /// A poll of the feed at `feed_url`, named `name`, that started at `at`
    /// succeeded (fetched or not modified) and was stored.
    pub fn succeeded(&self, feed_url: &str, name: &str, at: DateTime<Utc>) {
        self.last_success
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(feed_url.to_owned(), (name.to_owned(), at));
    }

    /// A batch of `articles` pushed to the `[[deliver]]` consumer `name`:
    /// taken (`ok`) or not.
    pub fn delivery(&self, name: &str, articles: usize, ok: bool) {
        let mut deliveries = self.deliveries.lock().unwrap_or_else(|e| e.into_inner());
        let counters = deliveries.entry(name.to_owned()).or_default();
        if ok {
            counters.batches_ok += 1;
            counters.articles += articles as u64;
            counters.consecutive_failures = 0;
        } else {
            counters.batches_failed += 1;
            counters.consecutive_failures += 1;
        }
    }

    /// Counts a finished poll.
    pub fn poll(&self, outcome: PollOutcome) {
        let counter = match outcome {
            PollOutcome::Fetched {
                new,
                updated,
                near_duplicates,
            } => {
                self.articles_new.fetch_add(new as u64, Ordering::Relaxed);
                self.near_duplicates
                    .fetch_add(near_duplicates as u64, Ordering::Relaxed);
                self.articles_updated
                    .fetch_add(updated as u64, Ordering::Relaxed);
                &self.polls_ok
            }
            PollOutcome::NotModified => &self.polls_not_modified,
            PollOutcome::Failed => &self.polls_failed,
            PollOutcome::Skipped => &self.polls_skipped,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn error(&self, kind: ErrorKind) {
        // KINDS lists the variants in declaration order.
        self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// An article page was fetched but its extraction failed or crashed.
    pub fn extraction_failed(&self) {
        self.extraction_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// An article page was judged an interstitial of `kind` (the feed's text was kept).
    pub fn interstitial(&self, kind: Kind) {
        if let Some(i) = Kind::ALL.iter().position(|k| *k == kind) {
            self.interstitials[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn render_deliveries(&self, out: &mut String) {
        let mut deliveries: Vec<(String, DeliveryCounters)> = self
            .deliveries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, counters)| (name.clone(), *counters))
            .collect();
        deliveries.sort_by(|a, b| a.0.cmp(&b.0));
        let _ = writeln!(
            out,
            "# HELP gleaner_delivery_batches_total [[deliver]] batches by consumer and outcome.\n\
             # TYPE gleaner_delivery_batches_total counter"
        );
        for (name, c) in &deliveries {
            let name = label_value(name);
            let _ = writeln!(
                out,
                "gleaner_delivery_batches_total{{consumer=\"{name}\",outcome=\"ok\"}} {}\n\
                 gleaner_delivery_batches_total{{consumer=\"{name}\",outcome=\"failed\"}} {}",
                c.batches_ok, c.batches_failed
            );
        }
        for (metric, help, kind, value) in [
            (
                "gleaner_delivered_articles_total",
                "Articles a [[deliver]] consumer has taken.",
                "counter",
                (|c: &DeliveryCounters| c.articles) as fn(&DeliveryCounters) -> u64,
            ),
            (
                "gleaner_delivery_consecutive_failures",
                "Failed attempts since a [[deliver]] consumer last took a batch.",
                "gauge",
                |c: &DeliveryCounters| c.consecutive_failures,
            ),
        ] {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} {kind}");
            for (name, c) in &deliveries {
                let _ = writeln!(
                    out,
                    "{metric}{{consumer=\"{}\"}} {}",
                    label_value(name),
                    value(c)
                );
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::from(
            "# HELP gleaner_polls_total Feed polls by outcome.\n# TYPE gleaner_polls_total counter\n",
        );
        for (outcome, counter) in [
            ("ok", &self.polls_ok),
            ("not_modified", &self.polls_not_modified),
            ("failed", &self.polls_failed),
            ("skipped", &self.polls_skipped),
        ] {
            let _ = writeln!(
                out,
                "gleaner_polls_total{{outcome=\"{outcome}\"}} {}",
                get(counter)
            );
        }
        let answered = get(&self.polls_ok) + get(&self.polls_not_modified);
        let ratio = if answered == 0 {
            0.0
        } else {
            get(&self.polls_not_modified) as f64 / answered as f64
        };
        let _ = writeln!(
            out,
            "# HELP gleaner_not_modified_ratio Share of answered polls that were 304 Not Modified.\n\
             # TYPE gleaner_not_modified_ratio gauge\ngleaner_not_modified_ratio {ratio}"
        );
        let _ = writeln!(
            out,
            "# HELP gleaner_poll_errors_total Failed polls by kind (429/503 with Retry-After are rate_limited).\n\
             # TYPE gleaner_poll_errors_total counter"
        );
        for (kind, counter) in KINDS.iter().zip(&self.errors) {
            let _ = writeln!(
                out,
                "gleaner_poll_errors_total{{kind=\"{}\"}} {}",
                kind.label(),
                get(counter)
            );
        }
        for (name, help, counter) in [
            (
                "gleaner_articles_stored_total",
                "Articles stored for the first time.",
                &self.articles_new,
            ),
            (
                "gleaner_articles_updated_total",
                "Stored articles updated in place.",
                &self.articles_updated,
            ),
            (
                "gleaner_near_duplicates_total",
                "Articles merged into a stored one as near-duplicates ([dedup] near_duplicates): another source, no second delivery.",
                &self.near_duplicates,
            ),
            (
                "gleaner_extraction_failures_total",
                "Article pages fetched whose extraction failed (the feed's text was used).",
                &self.extraction_failures,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP gleaner_interstitials_total Article pages that were an interstitial (bot challenge, consent or login wall, paywall, not found, script-only, refused), by kind; the feed's text was kept.\n\
             # TYPE gleaner_interstitials_total counter"
        );
        for (kind, counter) in Kind::ALL.iter().zip(&self.interstitials) {
            let _ = writeln!(
                out,
                "gleaner_interstitials_total{{kind=\"{kind}\"}} {}",
                get(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP gleaner_feed_last_success_timestamp_seconds When each feed last polled successfully.\n\
             # TYPE gleaner_feed_last_success_timestamp_seconds gauge"
        );
        let mut last_success: Vec<(String, i64)> = self
            .last_success
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|(name, at)| (name.clone(), at.timestamp()))
            .collect();
        last_success.sort();
        for (feed, at) in last_success {
            let _ = writeln!(
                out,
                "gleaner_feed_last_success_timestamp_seconds{{feed=\"{}\"}} {at}",
                label_value(&feed)
            );
        }
        self.render_deliveries(&mut out);
        out
    }
}

/// A label value as the exposition format wants it.
fn label_value(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// What the two endpoints read.
#[derive(Clone)]
pub struct Endpoints {
    pub metrics: Arc<Metrics>,
    pub store: StoreHandle,
    /// When the scheduler last ticked (see the daemon's heartbeat job).
    pub heartbeat: Arc<Mutex<Instant>>,
    /// Older than this, the scheduler counts as stuck.
    pub stale_after: Duration,
}

/// How long `/healthz` waits for the database thread.
const STORE_TIMEOUT: Duration = Duration::from_secs(2);

impl Endpoints {
    pub fn router(self) -> axum::Router {
        let metrics = self.clone();
        axum::Router::new()
            .route(
                "/metrics",
                axum::routing::get(move || {
                    let endpoints = metrics.clone();
                    async move { endpoints.metrics().await }
                }),
            )
            .route(
                "/healthz",
                axum::routing::get(move || {
                    let endpoints = self.clone();
                    async move { endpoints.health().await }
                }),
            )
    }

    async fn metrics(&self) -> axum::response::Response {
        (
            [("content-type", "text/plain; version=0.0.4; charset=utf-8")],
            self.metrics.render(),
        )
            .into_response()
    }

    async fn health(&self) -> (StatusCode, String) {
        let since_beat = self
            .heartbeat
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .elapsed();
        if since_beat > self.stale_after {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the scheduler has not ticked for {since_beat:?}\n"),
            );
        }
        match tokio::time::timeout(STORE_TIMEOUT, self.store.call(|_| Ok(()))).await {
            Ok(Ok(())) => (StatusCode::OK, "ok\n".into()),
            Ok(Err(error)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the database thread failed: {error}\n"),
            ),
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the database thread did not answer within {STORE_TIMEOUT:?}\n"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_listed_in_declaration_order() {
        for (index, kind) in KINDS.iter().enumerate() {
            assert_eq!(*kind as usize, index, "{kind:?}");
        }
    }

    #[test]
    fn the_exposition_has_every_family_and_escapes_labels() {
        let metrics = Metrics::default();
        metrics.error(ErrorKind::Timeout);
        metrics.extraction_failed();
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        metrics.succeeded("https://a.example/feed", "a \"quoted\" feed", at);
        let text = metrics.render();
        assert!(
            text.contains("gleaner_polls_total{outcome=\"ok\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("gleaner_poll_errors_total{kind=\"timeout\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("gleaner_extraction_failures_total 1\n"),
            "{text}"
        );
        assert!(text.contains(
            "gleaner_feed_last_success_timestamp_seconds{feed=\"a \\\"quoted\\\" feed\"} 1700000000\n"
        ));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }

    #[test]
    fn deliveries_count_batches_articles_and_failures_in_a_row() {
        let metrics = Metrics::default();
        metrics.delivery("hook", 3, false);
        metrics.delivery("hook", 3, false);
        let failing = metrics.render();
        assert!(failing.contains("gleaner_delivery_consecutive_failures{consumer=\"hook\"} 2\n"));
        metrics.delivery("hook", 3, true);
        let text = metrics.render();
        for line in [
            "gleaner_delivery_batches_total{consumer=\"hook\",outcome=\"ok\"} 1",
            "gleaner_delivery_batches_total{consumer=\"hook\",outcome=\"failed\"} 2",
            "gleaner_delivered_articles_total{consumer=\"hook\"} 3",
            "gleaner_delivery_consecutive_failures{consumer=\"hook\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}: {text}");
        }
    }
}
