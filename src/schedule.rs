//! When feeds are polled: cron schedules, the adaptive rhythm that follows a
//! feed's publications, and the back-off that skips polls of a failing feed.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// A cron expression with seconds, parsed exactly as tokio-cron-scheduler
/// parses it (six or seven fields, e.g. `0 */30 * * * *`).
///
/// Clones share the compiled expression: croner's is several kilobytes, and
/// ten thousand feeds on one schedule must not hold ten thousand copies.
#[derive(Clone)]
pub struct CronSchedule {
    source: Arc<str>,
    cron: Arc<Cron>,
}

impl CronSchedule {
    /// The expression as written in the config.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The first time strictly after `after` at which this schedule fires.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }
}

impl FromStr for CronSchedule {
    type Err = String;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .dom_and_dow(true)
            .build()
            .parse(source.trim())
            .map_err(|e| {
                format!(
                    "invalid cron expression {source:?}: {e} (expected six fields with seconds, e.g. \"0 */30 * * * *\")"
                )
            })?;
        Ok(CronSchedule {
            source: source.trim().into(),
            cron: Arc::new(cron),
        })
    }
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({:?})", self.source)
    }
}

/// A feed's schedule: a cron expression, or `"adaptive"`.
#[derive(Debug, Clone)]
pub enum FeedSchedule {
    Cron(Box<CronSchedule>),
    /// The interval follows how often the feed publishes (see [`adaptive_interval`]).
    Adaptive,
}

/// The config keyword for [`FeedSchedule::Adaptive`].
pub const ADAPTIVE: &str = "adaptive";

impl FeedSchedule {
    /// As written in the config: the cron expression or `adaptive`.
    pub fn as_str(&self) -> &str {
        match self {
            FeedSchedule::Cron(cron) => cron.as_str(),
            FeedSchedule::Adaptive => ADAPTIVE,
        }
    }

    pub fn cron(&self) -> Option<&CronSchedule> {
        match self {
            FeedSchedule::Cron(cron) => Some(cron),
            FeedSchedule::Adaptive => None,
        }
    }
}

impl FromStr for FeedSchedule {
    type Err = String;

    fn from_str(source: &str) -> Result<Self, Self::Err> {
        if source.trim() == ADAPTIVE {
            return Ok(FeedSchedule::Adaptive);
        }
        source
            .parse()
            .map(|cron| FeedSchedule::Cron(Box::new(cron)))
            .map_err(|e| format!("{e}, or \"{ADAPTIVE}\" to follow the feed's own rhythm"))
    }
}

/// The bounds of an adaptive interval (`[schedule] adaptive_min`/`adaptive_max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveBounds {
    pub min: Duration,
    pub max: Duration,
}

impl Default for AdaptiveBounds {
    fn default() -> Self {
        AdaptiveBounds {
            min: Duration::from_secs(10 * 60),
            max: Duration::from_secs(24 * 3600),
        }
    }
}

/// How many of a feed's newest publications set its adaptive rhythm.
pub const ADAPTIVE_HISTORY: usize = 10;

/// A feed's own request not to be polled more often (`Cache-Control: max-age`,
/// `Expires`, `<ttl>`) is honoured up to this long; beyond it a feed is still
/// polled weekly.
pub const FRESHNESS_CAP: Duration = Duration::from_secs(7 * 24 * 3600);

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

/// `pause` shortened by a random 0–20 %, so that feeds that failed (or were
/// polled) together do not come back together. Never longer than `pause`, so
/// that caps stay true.
pub fn jitter(pause: Duration) -> Duration {
    pause.mul_f64(1.0 - fastrand::f64() * 0.2)
}

/// Parses a duration as written in the config: a number and a unit, `s`, `m`,
/// `h` or `d`, possibly several (`90s`, `10m`, `1h30m`, `2d`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "invalid duration {text:?}: write a number and a unit (s, m, h or d), e.g. \"10m\" or \"1h30m\""
        )
    };
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit = rest[digits..].chars().next().ok_or_else(bad)?;
        let seconds = match unit {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad()),
        };
        total = total.saturating_add(Duration::from_secs(number.saturating_mul(seconds)));
        rest = rest[digits + 1..].trim_start();
    }
    Ok(total)
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

    #[test]
    fn six_field_expressions_parse_and_fire() {
        let s: CronSchedule = "0 */30 * * * *".parse().unwrap();
        let t = Utc.with_ymd_and_hms(2026, 1, 1, 10, 5, 0).unwrap();
        assert_eq!(
            s.next_after(t),
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 10, 30, 0).unwrap())
        );
    }

    #[test]
    fn bad_expressions_are_explained() {
        for bad in ["*/5 * * * *", "61 * * * * *", "every day", ""] {
            let e = bad.parse::<CronSchedule>().unwrap_err();
            assert!(e.contains("invalid cron expression"), "{bad}: {e}");
        }
    }

    #[test]
    fn adaptive_and_cron_schedules_parse() {
        assert!(matches!(
            "adaptive".parse::<FeedSchedule>(),
            Ok(FeedSchedule::Adaptive)
        ));
        let cron: FeedSchedule = "0 */5 * * * *".parse().unwrap();
        assert_eq!(cron.as_str(), "0 */5 * * * *");
        let e = "sometimes".parse::<FeedSchedule>().unwrap_err();
        assert!(e.contains("or \"adaptive\""), "{e}");
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
        let now = Utc::now();
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
        let now = Utc::now();
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
        for _ in 0..1000 {
            let j = jitter(hours(10));
            assert!(j <= hours(10) && j >= hours(8), "{j:?}");
        }
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("24h"), Ok(hours(24)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 2d "), Ok(hours(48)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        for bad in ["", "10", "m", "10 minutes", "-5m", "1.5h", "10m x"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped_at_a_day() {
        assert_eq!(error_backoff(1), Duration::from_secs(60));
        assert_eq!(error_backoff(2), Duration::from_secs(120));
        assert_eq!(error_backoff(5), Duration::from_secs(960));
        assert_eq!(error_backoff(40), Duration::from_secs(86400));
    }
}
