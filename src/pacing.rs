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
                    until.to_rfc3339()
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

/// `pause` shortened by 0–20 % as `random` goes from 0 to 1 (the caller's
/// `fastrand::f64()`), so that feeds that failed (or were polled) together
/// do not come back together. Never longer than `pause`, so that caps stay
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
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::str::FromStr;

    /// `[fetch] max_retry_after`'s default: one day.
    const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    /// A failed fetch as `poll` hands it over: 429 and 503 are throttled,
    /// 410 gone, the rest other.
    fn status(code: u16, retry_after: Option<DateTime<Utc>>) -> (FetchFailure, String) {
        let failure = match code {
            429 | 503 => FetchFailure::Throttled { retry_after },
            410 => FetchFailure::Gone,
            _ => FetchFailure::Other,
        };
        (failure, format!("https://a.example/feed: HTTP {code}"))
    }

    /// `failure` with the largest jitter (`random` = 0.999…).
    fn fail(
        (failure, message): (FetchFailure, String),
        errors_before: u32,
        now: DateTime<Utc>,
        max_retry_after: Duration,
    ) -> FeedOutcome {
        super::failure(
            failure,
            message,
            errors_before,
            now,
            max_retry_after,
            LARGEST,
        )
    }

    /// The largest `random` fastrand gives.
    const LARGEST: f64 = 1.0 - f64::EPSILON;

    fn state_and_next(outcome: &FeedOutcome) -> (FeedState, DateTime<Utc>) {
        match outcome {
            FeedOutcome::Failed {
                state,
                next_attempt: Some(next),
                ..
            } => (*state, *next),
            other => panic!("not a failure with a next attempt: {other:?}"),
        }
    }

    #[test]
    fn retry_after_pauses_without_an_error_up_to_the_cap() {
        let day = DEFAULT_MAX_RETRY_AFTER;
        let in_an_hour = now() + chrono::Duration::hours(1);
        for code in [429, 503] {
            let outcome = fail(status(code, Some(in_an_hour)), 3, now(), day);
            assert_eq!(
                state_and_next(&outcome),
                (FeedState::RateLimited, in_an_hour)
            );
        }
        // 136 years, or a cap the operator lowered.
        let far = now() + chrono::Duration::days(365 * 136);
        let outcome = fail(status(429, Some(far)), 0, now(), day);
        assert_eq!(
            state_and_next(&outcome),
            (FeedState::RateLimited, now() + chrono::Duration::days(1))
        );
        let FeedOutcome::Failed { error, .. } = &outcome else {
            unreachable!()
        };
        assert!(
            error.contains("capped by [fetch] max_retry_after"),
            "{error}"
        );
        let outcome = fail(
            status(503, Some(in_an_hour)),
            0,
            now(),
            Duration::from_secs(600),
        );
        assert_eq!(
            state_and_next(&outcome).1,
            now() + chrono::Duration::minutes(10)
        );
    }

    #[test]
    fn a_429_or_503_without_retry_after_is_an_error_that_backs_off() {
        for code in [429, 503, 500] {
            for (errors_before, max_minutes) in [(0, 1), (3, 8), (40, 24 * 60)] {
                let outcome = fail(
                    status(code, None),
                    errors_before,
                    now(),
                    DEFAULT_MAX_RETRY_AFTER,
                );
                let (state, next) = state_and_next(&outcome);
                assert_eq!(state, FeedState::Error, "{code}");
                let pause = next - now();
                let max = chrono::Duration::minutes(max_minutes);
                assert!(pause < max && pause >= max * 4 / 5, "{code}: {pause}");
                // Without jitter the pause is the whole back-off.
                let (failure, message) = status(code, None);
                let whole = super::failure(
                    failure,
                    message,
                    errors_before,
                    now(),
                    DEFAULT_MAX_RETRY_AFTER,
                    0.0,
                );
                assert_eq!(state_and_next(&whole).1 - now(), max, "{code}");
            }
        }
        let (state, _) =
            state_and_next(&fail(status(410, None), 0, now(), DEFAULT_MAX_RETRY_AFTER));
        assert_eq!(state, FeedState::Gone);
    }

    #[test]
    fn which_pauses_bind_which_polls() {
        let cron = FeedSchedule::from_str("0 */30 * * * *").unwrap();
        let adaptive = FeedSchedule::Adaptive;
        let in_an_hour = now() + chrono::Duration::hours(1);
        let later = Some(in_an_hour);
        let held = |state, mode, schedule| hold(Some(state), later, mode, schedule, now());
        use PollMode::*;
        assert!(held("rate_limited", Scheduled, &cron).is_some());
        assert!(held("rate_limited", Manual, &cron).is_some());
        assert_eq!(held("rate_limited", Forced, &cron), None);
        assert_eq!(
            held("error", Scheduled, &cron).map(|h| h.reason),
            Some(HoldReason::BackingOff)
        );
        assert_eq!(held("error", Manual, &cron), None);
        assert_eq!(
            held("ok", Scheduled, &adaptive),
            Some(Held {
                reason: HoldReason::NotDue,
                until: in_an_hour,
                now: now(),
            })
        );
        assert_eq!(held("ok", Scheduled, &cron), None);
        // A pause that is over holds nothing.
        let past = Some(now() - chrono::Duration::seconds(1));
        assert_eq!(hold(Some("error"), past, Scheduled, &cron, now()), None);
    }

    #[test]
    fn a_failure_says_when_it_is_retried_and_after_how_many() {
        let cron = FeedSchedule::from_str("0 */30 * * * *").unwrap();
        let error = error_outcome("refused".into(), 2, now(), 0.0);
        // The third error backs off ~4 minutes: the next tick is at 00:30.
        assert_eq!(
            retry_note(&error, 2, &cron, now()).as_deref(),
            Some("retrying at 00:30 UTC, after 3 failures")
        );
        let first = error_outcome("refused".into(), 0, now(), 0.0);
        assert!(
            retry_note(&first, 0, &FeedSchedule::Adaptive, now())
                .unwrap()
                .ends_with("after 1 failure")
        );
        let limited = FeedOutcome::Failed {
            state: FeedState::RateLimited,
            error: "429".into(),
            next_attempt: Some(now() + chrono::Duration::days(1)),
        };
        assert_eq!(
            retry_note(&limited, 0, &FeedSchedule::Adaptive, now()).as_deref(),
            Some("rate-limited: retrying at 2026-01-02 00:00 UTC")
        );
        assert_eq!(retry_note(&FeedOutcome::NotModified, 0, &cron, now()), None);
    }

    #[test]
    fn the_next_due_time_is_the_first_tick_after_a_pause() {
        let cron = FeedSchedule::from_str("0 */30 * * * *").unwrap();
        let half_past = now() + chrono::Duration::minutes(30);
        assert_eq!(next_due(&cron, None, now()), Some(half_past));
        let paused = Some(now() + chrono::Duration::minutes(40));
        assert_eq!(
            next_due(&cron, paused, now()),
            Some(now() + chrono::Duration::minutes(60))
        );
        assert_eq!(next_due(&FeedSchedule::Adaptive, None, now()), Some(now()));
        assert_eq!(next_due(&FeedSchedule::Adaptive, paused, now()), paused);
    }

    fn hours(h: u64) -> Duration {
        Duration::from_secs(h * 3600)
    }

    #[test]
    fn the_adaptive_interval_follows_publications() {
        let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
        let every = |gap: chrono::Duration, n: i32| -> Vec<DateTime<Utc>> {
            (0..n).map(|i| now - gap * i).collect()
        };
        let bounds = AdaptiveBounds::default();
        // Hourly: ten publications over the last nine hours (plus now).
        let hourly = every(chrono::Duration::hours(1), 10);
        assert_eq!(
            adaptive_interval(&hourly, now, None, bounds, None),
            Duration::from_secs(9 * 3600 / 10)
        );
        // Only the newest ten count, in any order.
        let mut long = every(chrono::Duration::hours(1), 30);
        long.reverse();
        assert_eq!(
            adaptive_interval(&long, now, None, bounds, None),
            Duration::from_secs(9 * 3600 / 10)
        );
        // Every minute: held at the minimum. Yearly: held at the maximum.
        let busy = every(chrono::Duration::minutes(1), 10);
        assert_eq!(
            adaptive_interval(&busy, now, None, bounds, None),
            bounds.min
        );
        let quiet = every(chrono::Duration::days(365), 3);
        assert_eq!(
            adaptive_interval(&quiet, now, None, bounds, None),
            bounds.max
        );
        // A feed that stopped publishing slows down.
        let stopped: Vec<_> = hourly
            .iter()
            .map(|t| *t - chrono::Duration::days(2))
            .collect();
        assert!(adaptive_interval(&stopped, now, None, bounds, None) > hours(5));
        // Dates in the future count as now.
        let future = vec![
            now + chrono::Duration::days(30),
            now - chrono::Duration::hours(4),
        ];
        assert_eq!(
            adaptive_interval(&future, now, None, bounds, None),
            hours(2)
        );
    }

    #[test]
    fn without_history_the_interval_grows_from_the_minimum() {
        let now = now();
        let bounds = AdaptiveBounds::default();
        let first = adaptive_interval(&[], now, None, bounds, None);
        assert_eq!(first, bounds.min);
        let second = adaptive_interval(&[], now, Some(first), bounds, None);
        assert_eq!(second, bounds.min * 3 / 2);
        let last = adaptive_interval(&[], now, Some(hours(23)), bounds, None);
        assert_eq!(last, bounds.max);
    }

    #[test]
    fn the_feeds_own_freshness_is_a_floor_up_to_a_week() {
        let now = now();
        let bounds = AdaptiveBounds::default();
        let busy: Vec<_> = (0..10)
            .map(|i| now - chrono::Duration::minutes(i))
            .collect();
        assert_eq!(
            adaptive_interval(&busy, now, None, bounds, Some(hours(2))),
            hours(2)
        );
        // Above adaptive_max too: the feed asked for it.
        assert_eq!(
            adaptive_interval(&busy, now, None, bounds, Some(hours(48))),
            hours(48)
        );
        assert_eq!(
            adaptive_interval(&busy, now, None, bounds, Some(hours(24 * 365))),
            FRESHNESS_CAP
        );
    }

    #[test]
    fn jitter_only_shortens_by_at_most_a_fifth() {
        assert_eq!(jitter(hours(10), 0.0), hours(10));
        assert_eq!(jitter(hours(10), 0.5), hours(9));
        let largest = jitter(hours(10), LARGEST);
        assert!(largest < hours(10) && largest >= hours(8), "{largest:?}");
        // Whatever the caller passes, the pause is never longer.
        assert_eq!(jitter(hours(10), -1.0), hours(10));
        assert_eq!(jitter(hours(10), 7.0), hours(8));
    }

    #[test]
    fn backoff_grows_and_is_capped_at_a_day() {
        assert_eq!(error_backoff(1), Duration::from_secs(60));
        assert_eq!(error_backoff(2), Duration::from_secs(120));
        assert_eq!(error_backoff(5), Duration::from_secs(960));
        assert_eq!(error_backoff(40), Duration::from_secs(86400));
    }
}
