//! When a feed is polled next, and why: a poll's outcome (status, headers,
//! errors, the feed's stored state) in, the feed's next state and due time
//! out. Pure and unit-tested; the store only persists what it decides, and
//! `poll`, the daemon's sweep and `gleaner feeds` ask it rather than
//! deciding for themselves. (Miniflux's `reader/fetcher/response_handler.go`
//! plays the same part.)
//!
//! Pure: the time (`now`) and the randomness of jitter (`random`, a number
//! in `[0, 1)`) come in as arguments, and a failed fetch comes in as a
//! [`FetchFailure`] that `poll` makes of the fetcher's error, so this module
//! looks down at nothing that touches the network or the clock.
//!
//! The rules:
//! - `429`/`503` *with* `Retry-After` pause the feed until then, capped at
//!   `[fetch] max_retry_after` (a server cannot park a feed for years); the
//!   pause is not an error (`rate_limited`).
//! - Any other failure, `429`/`503` without `Retry-After` included, is an
//!   error: it counts and backs off 1, 2, 4 … minutes up to a day, with
//!   jitter ([`error_backoff`]).
//! - `410` marks the feed `gone`, probed daily.
//! - An adaptive feed's next poll follows its publications
//!   ([`adaptive_interval`]); the store reads the history and persists the
//!   result.
//! - Scheduled polls honour every pause; a manual `gleaner poll` only a
//!   server's Retry-After; `gleaner poll --force` none.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::feed::Repair;
/// The bounds `adaptive_interval` keeps to, written in `[schedule]`.
pub use crate::schedule::AdaptiveBounds;
use crate::schedule::{FRESHNESS_CAP, FeedSchedule};

/// Why a poll was started, which decides which pauses bind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollMode {
    /// The daemon's ticks and sweeps: every pause binds.
    Scheduled,
    /// `gleaner poll`: an operator's request; only a server's Retry-After binds.
    Manual,
    /// `gleaner poll --force`: nothing binds.
    Forced,
}

/// What went wrong with a feed's fetch, as far as its next try depends on
/// it. `poll` makes it of the fetcher's error; the message stored and shown
/// is passed beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchFailure {
    /// 429 Too Many Requests or 503 Service Unavailable, with the time the
    /// server's `Retry-After` names when it sent one.
    Throttled { retry_after: Option<DateTime<Utc>> },
    /// 410 Gone.
    Gone,
    /// Anything else: another status, the network, a refused address, a
    /// body over its cap.
    Other,
}

/// The stored outcome of a failed fetch at `now`, after
/// `consecutive_errors` failures in a row; `message` says what failed and
/// `random` (in `[0, 1)`) sets the back-off's [`jitter`].
pub fn failure(
    failure: FetchFailure,
    message: String,
    consecutive_errors: u32,
    now: DateTime<Utc>,
    max_retry_after: Duration,
    random: f64,
) -> FeedOutcome {
    match failure {
        FetchFailure::Throttled {
            retry_after: Some(until),
        } => {
            let cap = chrono::Duration::from_std(max_retry_after)
                .ok()
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            let capped = (until > cap).then(|| {
                format!(
                    " (Retry-After {}, capped by [fetch] max_retry_after)",
                    until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )
            });
            FeedOutcome::Failed {
                state: FeedState::RateLimited,
                error: format!("{message}{}", capped.unwrap_or_default()),
                next_attempt: Some(until.min(cap)),
            }
        }
        FetchFailure::Gone => FeedOutcome::Failed {
            state: FeedState::Gone,
            error: format!("{message} (the feed is gone: remove it from the config)"),
            next_attempt: Some(after(now, jitter(error_backoff(u32::MAX), random))),
        },
        FetchFailure::Throttled { retry_after: None } | FetchFailure::Other => {
            error_outcome(message, consecutive_errors, now, random)
        }
    }
}

/// The stored outcome of any other failure (a parse error, a crash of the
/// parser): an error that backs off, shortened by `random` (in `[0, 1)`,
/// see [`jitter`]).
pub fn error_outcome(
    error: String,
    consecutive_errors: u32,
    now: DateTime<Utc>,
    random: f64,
) -> FeedOutcome {
    FeedOutcome::Failed {
        state: FeedState::Error,
        error,
        next_attempt: Some(after(
            now,
            jitter(error_backoff(consecutive_errors.saturating_add(1)), random),
        )),
    }
}

/// Why a poll is held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// The server's Retry-After.
    RateLimited,
    /// The back-off after errors.
    BackingOff,
    /// An adaptive feed whose interval has not passed.
    NotDue,
}

/// A poll held back, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub reason: HoldReason,
    pub until: DateTime<Utc>,
    /// When it was decided: `until` is shown as a time of that day.
    pub now: DateTime<Utc>,
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let until = clock(self.until, self.now);
        match self.reason {
            HoldReason::RateLimited => write!(
                f,
                "rate-limited until {until} (gleaner poll --force overrides it)"
            ),
            HoldReason::BackingOff => write!(f, "backing off after errors until {until}"),
            HoldReason::NotDue => write!(f, "not due until {until}"),
        }
    }
}

/// Why a poll in `mode` must not run yet, given the feed's stored `state`
/// and `next_attempt`; `None` when it may run.
pub fn hold(
    state: Option<&str>,
    next_attempt: Option<DateTime<Utc>>,
    mode: PollMode,
    schedule: &FeedSchedule,
    now: DateTime<Utc>,
) -> Option<Held> {
    let until = next_attempt.filter(|t| *t > now)?;
    let reason = match (state, mode, schedule) {
        (_, PollMode::Forced, _) => return None,
        (Some("rate_limited"), _, _) => HoldReason::RateLimited,
        (_, PollMode::Manual, _) => return None,
        (Some("ok" | "not_modified"), _, FeedSchedule::Adaptive) => HoldReason::NotDue,
        (Some("ok" | "not_modified"), _, FeedSchedule::Cron(_)) => return None,
        _ => HoldReason::BackingOff,
    };
    Some(Held { reason, until, now })
}

/// What a failed poll's line says about the next try: when the daemon
/// polls the feed again (the first tick of its schedule after the pause),
/// and after how many failures in a row. `errors_before` is the count
/// stored before this poll.
pub fn retry_note(
    outcome: &FeedOutcome,
    errors_before: u32,
    schedule: &FeedSchedule,
    now: DateTime<Utc>,
) -> Option<String> {
    let FeedOutcome::Failed {
        state,
        next_attempt,
        ..
    } = outcome
    else {
        return None;
    };
    let at = next_due(schedule, *next_attempt, now).map(|t| clock(t, now));
    let at = at.as_deref().unwrap_or("the next scheduled tick");
    Some(match state {
        FeedState::RateLimited => format!("rate-limited: retrying at {at}"),
        FeedState::Gone => format!("probing again at {at}"),
        _ => {
            let failures = errors_before.saturating_add(1);
            format!(
                "retrying at {at}, after {}",
                crate::plural::count(u64::from(failures), "failure", "failures")
            )
        }
    })
}

/// `t` for a person: `12:04 UTC` on `now`'s day, else with its date.
pub fn clock(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    if t.date_naive() == now.date_naive() {
        t.format("%H:%M UTC").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// When a feed on `schedule` is next polled by the daemon, given its stored
/// `next_attempt` (what `gleaner feeds` shows).
pub fn next_due(
    schedule: &FeedSchedule,
    next_attempt: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match schedule {
        // The first tick at or after the pause ends.
        FeedSchedule::Cron(cron) => match (cron.next_after(now), next_attempt) {
            (Some(tick), Some(after)) if after > tick => {
                cron.next_after(after - chrono::Duration::seconds(1))
            }
            (tick, _) => tick,
        },
        // Swept for due feeds every few seconds.
        FeedSchedule::Adaptive => Some(next_attempt.map_or(now, |t| t.max(now))),
    }
}

/// `now + pause`, saturating at the end of time.
fn after(now: DateTime<Utc>, pause: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(pause)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// A feed's state after a poll, as `feeds --json` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedState {
    Ok,
    NotModified,
    RateLimited,
    Error,
    Gone,
}

impl FeedState {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedState::Ok => "ok",
            FeedState::NotModified => "not_modified",
            FeedState::RateLimited => "rate_limited",
            FeedState::Error => "error",
            FeedState::Gone => "gone",
        }
    }
}

/// What happened when a feed was fetched.
#[derive(Debug, Clone)]
pub enum FeedOutcome {
    /// A 200 that parsed: store the new validators.
    Fetched {
        etag: Option<String>,
        last_modified: Option<String>,
        /// Where the feed permanently redirected to, if it did.
        moved_to: Option<String>,
        /// What the lenient parser had to fix (a failed or unmodified poll
        /// keeps the previous list).
        repairs: Vec<Repair>,
        /// The feed's RSS `<ttl>`, kept until the next parsed fetch.
        ttl: Option<Duration>,
        /// How many entries the feed's filter rules dropped.
        filtered: u32,
        /// The verdicts on the article pages fetched (`article::verdict`).
        interstitials: crate::article::verdict::Tally,
        /// The feed's own title, kept until the next parsed fetch.
        title: Option<String>,
        /// What the document was.
        format: crate::feed::FeedFormat,
    },
    /// A 304: nothing new.
    NotModified,
    /// The poll failed; `state` is `Error`, `RateLimited` or `Gone`.
    Failed {
        state: FeedState,
        error: String,
        next_attempt: Option<DateTime<Utc>>,
    },
}

/// How many of a feed's newest publications set its adaptive rhythm.
pub const ADAPTIVE_HISTORY: usize = 10;

/// The pause before the next poll of an adaptive feed.
///
/// `publications` are when the feed's newest entries appeared (any order; at
/// most [`ADAPTIVE_HISTORY`] are used). The estimate is the average time per
/// publication over the window from the oldest of them to `now`, so a feed
/// that stops publishing slows down on its own. With no history the previous
/// interval grows by half (starting at the minimum). The result lies within
/// `bounds` and never below `floor`, the feed's own freshness lifetime
/// (capped at [`FRESHNESS_CAP`]).
pub fn adaptive_interval(
    publications: &[DateTime<Utc>],
    now: DateTime<Utc>,
    previous: Option<Duration>,
    bounds: AdaptiveBounds,
    floor: Option<Duration>,
) -> Duration {
    let mut past: Vec<DateTime<Utc>> = publications.iter().map(|t| (*t).min(now)).collect();
    past.sort_unstable_by(|a, b| b.cmp(a));
    past.truncate(ADAPTIVE_HISTORY);
    let estimate = match past.last() {
        Some(oldest) => (now - *oldest).to_std().unwrap_or_default() / past.len() as u32,
        None => previous.map_or(bounds.min, |p| p.saturating_add(p / 2)),
    };
    let bounded = estimate.clamp(bounds.min, bounds.max.max(bounds.min));
    bounded.max(floor.unwrap_or_default().min(FRESHNESS_CAP))
}

/// `pause` shortened by 0–20 % as `random` goes from 0 to 1 (a number the
/// caller draws), so that feeds that failed (or were polled) together do
/// not come back together. Never longer than `pause`, so that caps stay
/// true, whatever `random` is.
pub fn jitter(pause: Duration, random: f64) -> Duration {
    pause.mul_f64(1.0 - random.clamp(0.0, 1.0) * 0.2)
}

/// The pause after `consecutive_errors` failed polls in a row: 1, 2, 4 … minutes,
/// capped at a day, so a dead feed is still probed once a day and never dropped.
pub fn error_backoff(consecutive_errors: u32) -> Duration {
    const CAP: Duration = Duration::from_secs(24 * 3600);
    let exponent = consecutive_errors.saturating_sub(1).min(20);
    Duration::from_secs(60)
        .saturating_mul(1 << exponent)
        .min(CAP)
}

#[cfg(test)]
mod tests;
