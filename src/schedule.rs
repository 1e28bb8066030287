//! How a feed's schedule is written: cron expressions, `adaptive`, and the
//! config's durations. When a feed is polled next is `pacing`'s decision.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

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

/// A feed's own request not to be polled more often (`Cache-Control: max-age`,
/// `Expires`, `<ttl>`) is honoured up to this long; beyond it a feed is still
/// polled weekly.
pub const FRESHNESS_CAP: Duration = Duration::from_secs(7 * 24 * 3600);

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

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(24 * 3600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(" 2d "), Ok(Duration::from_secs(48 * 3600)));
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        for bad in ["", "10", "m", "10 minutes", "-5m", "1.5h", "10m x"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.contains("invalid duration"), "{bad}: {e}");
        }
    }
}
