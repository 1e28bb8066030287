//! Pages tried again after an interstitial, on PostgreSQL (see
//! [`crate::store::retries`]).

use chrono::{DateTime, Utc};

use super::{Postgres, prepared};
use crate::store::backend::Retries;
use crate::store::model::RetryChange;
use crate::store::retries::next_attempt;
use crate::store::{StoreError, format_time};

impl Retries for Postgres {
    fn due_page_retries(
        &self,
        feed_url: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let now = now.map_or_else(|| "9999".to_owned(), format_time);
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT entry_id, attempts = 0 FROM page_retries WHERE feed_url = $1 AND next_at <= $2",
            )?;
            Ok(client
                .query(&stmt, &[&feed_url, &now])?
                .iter()
                .map(|r| (r.get(0), r.get(1)))
                .collect())
        })
    }

    fn record_page_retries(
        &mut self,
        feed_url: &str,
        now: DateTime<Utc>,
        changes: &[RetryChange],
    ) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            let mut tx = client.transaction()?;
            for change in changes {
                match change {
                    RetryChange::Interstitial { entry_id, .. } | RetryChange::Failed { entry_id } => {
                        let kind = match change {
                            RetryChange::Interstitial { kind, .. } => Some(kind),
                            _ => None,
                        };
                        let attempts: i64 = tx
                            .query_opt(
                                "SELECT attempts FROM page_retries
                                 WHERE feed_url = $1 AND entry_id = $2 FOR UPDATE",
                                &[&feed_url, entry_id],
                            )?
                            .map_or(0, |r| r.get(0));
                        let attempts = u32::try_from(attempts).unwrap_or(u32::MAX).saturating_add(1);
                        match next_attempt(attempts, now) {
                            Some(next) => match kind {
                                Some(kind) => tx.execute(
                                    "INSERT INTO page_retries (feed_url, entry_id, kind, attempts, next_at)
                                     VALUES ($1, $2, $3, $4, $5)
                                     ON CONFLICT (feed_url, entry_id) DO UPDATE SET
                                         kind = $3, attempts = $4, next_at = $5",
                                    &[&feed_url, entry_id, kind, &i64::from(attempts), &next],
                                )?,
                                None => tx.execute(
                                    "UPDATE page_retries SET attempts = $3, next_at = $4
                                     WHERE feed_url = $1 AND entry_id = $2",
                                    &[&feed_url, entry_id, &i64::from(attempts), &next],
                                )?,
                            },
                            None => tx.execute(
                                "DELETE FROM page_retries WHERE feed_url = $1 AND entry_id = $2",
                                &[&feed_url, entry_id],
                            )?,
                        };
                    }
                    RetryChange::Article { entry_id } => {
                        tx.execute(
                            "DELETE FROM page_retries WHERE feed_url = $1 AND entry_id = $2",
                            &[&feed_url, entry_id],
                        )?;
                    }
                    RetryChange::Recheck { entry_id, kind } => {
                        tx.execute(
                            "INSERT INTO page_retries (feed_url, entry_id, kind, attempts, next_at)
                             VALUES ($1, $2, $3, 0, $4)
                             ON CONFLICT (feed_url, entry_id) DO UPDATE SET next_at = $4",
                            &[&feed_url, entry_id, kind, &format_time(now)],
                        )?;
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })
    }
}
