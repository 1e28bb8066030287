//! Entries whose page was an interstitial (`article::verdict`): the entry
//! was stored with its feed's text, and its page is tried again on later
//! polls of the feed, at most [`MAX_RETRIES`] times over a day, until the
//! article comes (then it replaces the feed's text in place).

use super::format_time;
use chrono::{DateTime, Utc};

/// How many times a page is tried again after the interstitial.
pub const MAX_RETRIES: u32 = 3;

/// How long after the first verdict, then after each failed retry, the
/// page is tried again: 1 h, 4 h, 12 h (17 h in all).
pub const RETRY_AFTER: [chrono::Duration; MAX_RETRIES as usize] = [
    chrono::Duration::hours(1),
    chrono::Duration::hours(4),
    chrono::Duration::hours(12),
];

/// When a page that was an interstitial `attempts` times is tried next,
/// `None` when its retries are used up.
pub(in crate::store) fn next_attempt(attempts: u32, now: DateTime<Utc>) -> Option<String> {
    let wait = RETRY_AFTER.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    Some(format_time(now + *wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_retries_within_a_day() {
        // Whole seconds, as the database keeps times.
        let now = super::super::parse_time(&format_time(chrono::Utc::now())).unwrap();
        let at = |attempts| next_attempt(attempts, now).and_then(|t| super::super::parse_time(&t));
        assert_eq!(at(0), None);
        let waits: Vec<i64> = (1..=3)
            .map(|n| (at(n).unwrap() - now).num_minutes())
            .collect();
        assert_eq!(waits, [60, 240, 720]);
        assert!(waits.iter().sum::<i64>() < 24 * 60);
        assert_eq!(at(4), None, "the fourth verdict is the last");
    }
}
