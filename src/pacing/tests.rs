//! The rules of `pacing`, each on a fixed time and a given jitter.

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
    let (state, _) = state_and_next(&fail(status(410, None), 0, now(), DEFAULT_MAX_RETRY_AFTER));
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
