//! When a feed is polled next, and why: a poll's outcome (status, headers,
//! errors, the feed's stored state) in, the feed's next state and due time
//! out. Pure and unit-tested; the store only persists what it decides, and
//! `poll`, the daemon's sweep and `gleaner feeds` ask it rather than
//! deciding for themselves. (Miniflux's `reader/fetcher/response_handler.go`
//! plays the same part.)
//!
//! The rules:
//! - `429`/`503` *with* `Retry-After` pause the feed until then, capped at
//!   `[fetch] max_retry_after` (a server cannot park a feed for years); the
//!   pause is not an error (`rate_limited`).
//! - Any other failure, `429`/`503` without `Retry-After` included, is an
//!   error: it counts and backs off 1, 2, 4 … minutes up to a day, with
//!   jitter ([`schedule::error_backoff`]).
//! - `410` marks the feed `gone`, probed daily.
//! - Scheduled polls honour every pause; a manual `gleaner poll` only a
//!   server's Retry-After; `gleaner poll --force` none.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;

use crate::fetch::FetchError;
use crate::schedule::{self, FeedSchedule, error_backoff, jitter};
use crate::store::write::{FeedOutcome, FeedState};

/// The `[fetch] max_retry_after` when none is configured: one day.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

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

/// The stored outcome of a failed fetch at `now`, after
/// `consecutive_errors` failures in a row.
pub fn failure(
    error: &FetchError,
    consecutive_errors: u32,
    now: DateTime<Utc>,
    max_retry_after: Duration,
) -> FeedOutcome {
    if let FetchError::Status {
        status,
        retry_after,
        ..
    } = error
    {
        match (*status, retry_after) {
            (StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE, Some(until)) => {
                let cap = chrono::Duration::from_std(max_retry_after)
                    .ok()
                    .and_then(|d| now.checked_add_signed(d))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                let capped = (*until > cap).then(|| {
                    format!(
                        " (Retry-After {}, capped by [fetch] max_retry_after)",
                        until.to_rfc3339()
                    )
                });
                return FeedOutcome::Failed {
                    state: FeedState::RateLimited,
                    error: format!("{error}{}", capped.unwrap_or_default()),
                    next_attempt: Some((*until).min(cap)),
                };
            }
            (StatusCode::GONE, _) => {
                return FeedOutcome::Failed {
                    state: FeedState::Gone,
                    error: format!("{error} (the feed is gone: remove it from the config)"),
                    next_attempt: Some(after(now, jitter(error_backoff(u32::MAX)))),
                };
            }
            _ => {}
        }
    }
    error_outcome(error.to_string(), consecutive_errors, now)
}

/// The stored outcome of any other failure (a parse error, a crash of the
/// parser): an error that backs off.
pub fn error_outcome(error: String, consecutive_errors: u32, now: DateTime<Utc>) -> FeedOutcome {
    FeedOutcome::Failed {
        state: FeedState::Error,
        error,
        next_attempt: Some(after(
            now,
            jitter(error_backoff(consecutive_errors.saturating_add(1))),
        )),
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
) -> Option<String> {
    let next = next_attempt.filter(|t| *t > now)?;
    let why = match (state, mode, schedule) {
        (_, PollMode::Forced, _) => return None,
        (Some("rate_limited"), _, _) => "rate-limited (gleaner poll --force overrides it)",
        (_, PollMode::Manual, _) => return None,
        (Some("ok" | "not_modified"), _, FeedSchedule::Adaptive) => "not due",
        (Some("ok" | "not_modified"), _, FeedSchedule::Cron(_)) => return None,
        _ => "backing off after errors",
    };
    Some(format!("{why} until {}", next.to_rfc3339()))
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
        schedule::FeedSchedule::Cron(cron) => match (cron.next_after(now), next_attempt) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::str::FromStr;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn status(code: u16, retry_after: Option<DateTime<Utc>>) -> FetchError {
        FetchError::Status {
            url: url::Url::parse("https://a.example/feed").unwrap(),
            status: StatusCode::from_u16(code).unwrap(),
            retry_after,
        }
    }

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
            let outcome = failure(&status(code, Some(in_an_hour)), 3, now(), day);
            assert_eq!(
                state_and_next(&outcome),
                (FeedState::RateLimited, in_an_hour)
            );
        }
        // 136 years, or a cap the operator lowered.
        let far = now() + chrono::Duration::days(365 * 136);
        let outcome = failure(&status(429, Some(far)), 0, now(), day);
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
        let outcome = failure(
            &status(503, Some(in_an_hour)),
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
                let outcome = failure(
                    &status(code, None),
                    errors_before,
                    now(),
                    DEFAULT_MAX_RETRY_AFTER,
                );
                let (state, next) = state_and_next(&outcome);
                assert_eq!(state, FeedState::Error, "{code}");
                let pause = next - now();
                let max = chrono::Duration::minutes(max_minutes);
                assert!(pause <= max && pause >= max * 4 / 5, "{code}: {pause}");
            }
        }
        let (state, _) = state_and_next(&failure(
            &status(410, None),
            0,
            now(),
            DEFAULT_MAX_RETRY_AFTER,
        ));
        assert_eq!(state, FeedState::Gone);
    }

    #[test]
    fn which_pauses_bind_which_polls() {
        let cron = FeedSchedule::from_str("0 */30 * * * *").unwrap();
        let adaptive = FeedSchedule::Adaptive;
        let later = Some(now() + chrono::Duration::hours(1));
        let held = |state, mode, schedule| hold(Some(state), later, mode, schedule, now());
        use PollMode::*;
        assert!(held("rate_limited", Scheduled, &cron).is_some());
        assert!(held("rate_limited", Manual, &cron).is_some());
        assert_eq!(held("rate_limited", Forced, &cron), None);
        assert!(
            held("error", Scheduled, &cron)
                .unwrap()
                .starts_with("backing off")
        );
        assert_eq!(held("error", Manual, &cron), None);
        assert_eq!(
            held("ok", Scheduled, &adaptive).as_deref().map(|w| &w[..7]),
            Some("not due")
        );
        assert_eq!(held("ok", Scheduled, &cron), None);
        // A pause that is over holds nothing.
        let past = Some(now() - chrono::Duration::seconds(1));
        assert_eq!(hold(Some("error"), past, Scheduled, &cron, now()), None);
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
}
