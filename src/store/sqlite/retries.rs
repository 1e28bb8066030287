//! Pages tried again after an interstitial (see [`crate::store::retries`]).

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Sqlite;
use crate::store::backend::Retries;
use crate::store::model::RetryChange;
use crate::store::retries::next_attempt;
use crate::store::{StoreError, format_time};

impl Retries for Sqlite {
    fn due_page_retries(
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

    fn record_page_retries(
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
