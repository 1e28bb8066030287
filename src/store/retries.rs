//! Entries whose page was an interstitial (`article::verdict`): the entry
//! was stored with its feed's text, and its page is tried again on later
//! polls of the feed, at most [`MAX_RETRIES`] times over a day, until the
//! article comes (then it replaces the feed's text in place).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::model::RetryChange;
use super::{Sqlite, StoreError, format_time};

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
pub(super) fn next_attempt(attempts: u32, now: DateTime<Utc>) -> Option<String> {
    let wait = RETRY_AFTER.get(usize::try_from(attempts).ok()?.checked_sub(1)?)?;
    Some(format_time(now + *wait))
}

impl Sqlite {
    /// The entries of `feed_url` whose page is due to be tried again at
    /// `now` (all pending ones when `now` is `None`: an operator's poll),
    /// each with whether its stored text is that page's (a [`RetryChange::Recheck`]).
    pub fn due_page_retries(
        &self,
        feed_url: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let now = now.map_or_else(|| "9999".to_owned(), format_time);
        let mut stmt = self.conn.prepare_cached(
            "SELECT entry_id, attempts = 0 FROM page_retries WHERE feed_url = ?1 AND next_at <= ?2",
        )?;
        let rows = stmt.query_map(params![feed_url, now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what a poll of `feed_url` at `now` learnt of its entries' pages.
    pub fn record_page_retries(
        &mut self,
        feed_url: &str,
        now: DateTime<Utc>,
        changes: &[RetryChange],
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for change in changes {
            match change {
                RetryChange::Interstitial { entry_id, .. } | RetryChange::Failed { entry_id } => {
                    let kind = match change {
                        RetryChange::Interstitial { kind, .. } => Some(kind),
                        _ => None,
                    };
                    let attempts: u32 = tx
                        .query_row(
                            "SELECT attempts FROM page_retries WHERE feed_url = ?1 AND entry_id = ?2",
                            params![feed_url, entry_id],
                            |r| r.get(0),
                        )
                        .or_else(|e| match e {
                            rusqlite::Error::QueryReturnedNoRows => Ok(0),
                            e => Err(e),
                        })?;
                    let attempts = attempts.saturating_add(1);
                    match next_attempt(attempts, now) {
                        Some(next) => match kind {
                            Some(kind) => tx.execute(
                                "INSERT INTO page_retries (feed_url, entry_id, kind, attempts, next_at)
                                 VALUES (?1, ?2, ?3, ?4, ?5)
                                 ON CONFLICT (feed_url, entry_id) DO UPDATE SET
                                     kind = ?3, attempts = ?4, next_at = ?5",
                                params![feed_url, entry_id, kind, attempts, next],
                            )?,
                            None => tx.execute(
                                "UPDATE page_retries SET attempts = ?3, next_at = ?4
                                 WHERE feed_url = ?1 AND entry_id = ?2",
                                params![feed_url, entry_id, attempts, next],
                            )?,
                        },
                        None => tx.execute(
                            "DELETE FROM page_retries WHERE feed_url = ?1 AND entry_id = ?2",
                            params![feed_url, entry_id],
                        )?,
                    };
                }
                RetryChange::Article { entry_id } => {
                    tx.execute(
                        "DELETE FROM page_retries WHERE feed_url = ?1 AND entry_id = ?2",
                        params![feed_url, entry_id],
                    )?;
                }
                RetryChange::Recheck { entry_id, kind } => {
                    tx.execute(
                        "INSERT INTO page_retries (feed_url, entry_id, kind, attempts, next_at)
                         VALUES (?1, ?2, ?3, 0, ?4)
                         ON CONFLICT (feed_url, entry_id) DO UPDATE SET next_at = ?4",
                        params![feed_url, entry_id, kind, format_time(now)],
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
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
