//! When feeds are polled: cron schedules, and the back-off that skips polls of
//! a failing feed.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// A cron expression with seconds, parsed exactly as tokio-cron-scheduler
/// parses it (six or seven fields, e.g. `0 */30 * * * *`).
#[derive(Clone)]
pub struct CronSchedule {
    source: String,
    cron: Cron,
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
            source: source.trim().to_owned(),
            cron,
        })
    }
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronSchedule({:?})", self.source)
    }
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
    fn backoff_grows_and_is_capped_at_a_day() {
        assert_eq!(error_backoff(1), Duration::from_secs(60));
        assert_eq!(error_backoff(2), Duration::from_secs(120));
        assert_eq!(error_backoff(5), Duration::from_secs(960));
        assert_eq!(error_backoff(40), Duration::from_secs(86400));
    }
}
