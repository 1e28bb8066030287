//! Deliveries' state, pages tried again after an interstitial, and
//! retention's purge.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::retention::Retention;
use crate::store::backend::{Deliveries, Purge, Retries};
use crate::store::model::{Claim, DeliveryStatus, Purged, RetryChange};
use crate::store::retries::next_attempt;
use crate::store::shared::fence::fence;
use crate::store::sql::{Dialect, SqlBackend};
use crate::store::{StoreError, format_time, parse_time};

impl<B: SqlBackend> Deliveries for B {
    fn record_delivery(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
        articles: u64,
        outcome: Result<(), &str>,
    ) -> Result<(), StoreError> {
        let at = format_time(at);
        let articles = i64::try_from(articles).unwrap_or(i64::MAX);
        self.write(false, |c| match outcome {
            Ok(()) => c.run(
                "INSERT INTO deliveries (name, last_attempt_at, last_success_at, delivered)
                 VALUES (?1, ?2, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET
                     last_attempt_at = ?2, last_success_at = ?2, last_error = NULL,
                     consecutive_failures = 0,
                     delivered = deliveries.delivered + excluded.delivered",
                &[name.into(), (&at).into(), articles.into()],
            ),
            Err(error) => c.run(
                "INSERT INTO deliveries (name, last_attempt_at, last_error, consecutive_failures)
                 VALUES (?1, ?2, ?3, 1)
                 ON CONFLICT (name) DO UPDATE SET
                     last_attempt_at = ?2, last_error = ?3,
                     consecutive_failures = deliveries.consecutive_failures + 1",
                &[name.into(), (&at).into(), error.into()],
            ),
        })?;
        Ok(())
    }

    fn delivery_statuses(&self) -> Result<HashMap<String, DeliveryStatus>, StoreError> {
        let rows = self.read(|c| {
            c.rows(
                "SELECT name, last_attempt_at, last_success_at, last_error,
                        consecutive_failures, delivered FROM deliveries",
                &[],
            )
        })?;
        rows.iter()
            .map(|r| {
                let time = |name: &str| -> Result<_, StoreError> {
                    Ok(r.get::<Option<String>>(name)?
                        .as_deref()
                        .and_then(parse_time))
                };
                let status = DeliveryStatus {
                    last_attempt_at: time("last_attempt_at")?,
                    last_success_at: time("last_success_at")?,
                    last_error: r.get("last_error")?,
                    consecutive_failures: r.get("consecutive_failures")?,
                    delivered: r.get::<i64>("delivered")?.unsigned_abs(),
                };
                Ok((r.get("name")?, status))
            })
            .collect()
    }
}

impl<B: SqlBackend> Retries for B {
    fn due_page_retries(
        &self,
        feed_url: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        let now = now.map_or_else(|| "9999".to_owned(), format_time);
        let rows = self.read(|c| {
            c.rows(
                "SELECT entry_id, attempts = 0 AS recheck FROM page_retries
                 WHERE feed_url = ?1 AND next_at <= ?2",
                &[feed_url.into(), (&now).into()],
            )
        })?;
        rows.iter()
            .map(|r| Ok((r.get("entry_id")?, r.get("recheck")?)))
            .collect()
    }

    fn record_page_retries(
        &mut self,
        feed_url: &str,
        now: DateTime<Utc>,
        changes: &[RetryChange],
        claim: &Claim,
    ) -> Result<(), StoreError> {
        let at = format_time(now);
        self.write(false, |c| {
            fence(c, feed_url, claim)?;
            for change in changes {
                match change {
                    RetryChange::Interstitial { entry_id, .. } | RetryChange::Failed { entry_id } => {
                        let kind = match change {
                            RetryChange::Interstitial { kind, .. } => Some(kind),
                            _ => None,
                        };
                        // PostgreSQL: the row locked, as no write lock is held.
                        let attempts_sql = match c.dialect() {
                            Dialect::Sqlite => {
                                "SELECT attempts FROM page_retries WHERE feed_url = ?1 AND entry_id = ?2"
                            }
                            Dialect::Postgres => {
                                "SELECT attempts FROM page_retries
                                 WHERE feed_url = ?1 AND entry_id = ?2 FOR UPDATE"
                            }
                        };
                        let attempts: u32 = c
                            .row(attempts_sql, &[feed_url.into(), entry_id.into()])?
                            .map(|r| r.get("attempts"))
                            .transpose()?
                            .unwrap_or(0);
                        let attempts = attempts.saturating_add(1);
                        let keys = [feed_url.into(), entry_id.into()];
                        match (next_attempt(attempts, now), kind) {
                            (Some(next), Some(kind)) => c.run(
                                "INSERT INTO page_retries (feed_url, entry_id, kind, attempts, next_at)
                                 VALUES (?1, ?2, ?3, ?4, ?5)
                                 ON CONFLICT (feed_url, entry_id) DO UPDATE SET
                                     kind = ?3, attempts = ?4, next_at = ?5",
                                &[keys[0], keys[1], kind.into(), i64::from(attempts).into(), (&next).into()],
                            )?,
                            (Some(next), None) => c.run(
                                "UPDATE page_retries SET attempts = ?3, next_at = ?4
                                 WHERE feed_url = ?1 AND entry_id = ?2",
                                &[keys[0], keys[1], i64::from(attempts).into(), (&next).into()],
                            )?,
                            (None, _) => c.run(
                                "DELETE FROM page_retries WHERE feed_url = ?1 AND entry_id = ?2",
                                &keys,
                            )?,
                        };
                    }
                    RetryChange::Article { entry_id } => {
                        c.run(
                            "DELETE FROM page_retries WHERE feed_url = ?1 AND entry_id = ?2",
                            &[feed_url.into(), entry_id.into()],
                        )?;
                    }
                    RetryChange::Recheck { entry_id, kind } => {
                        c.run(
                            "INSERT INTO page_retries (feed_url, entry_id, kind, attempts, next_at)
                             VALUES (?1, ?2, ?3, 0, ?4)
                             ON CONFLICT (feed_url, entry_id) DO UPDATE SET next_at = ?4",
                            &[feed_url.into(), entry_id.into(), kind.into(), (&at).into()],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }
}

/// Empties an article down to its tombstone (`?1`: the time), where `$where`.
macro_rules! purge {
    ($where:literal) => {
        concat!(
            "UPDATE articles SET title = NULL, author = NULL, summary = NULL,
                 content_html = NULL, content_text = NULL, image = NULL, word_count = NULL,
                 purged_at = ?1 ",
            $where
        )
    };
}

/// Under the write lock (PostgreSQL: `gleaner write`), so that no poll of
/// another instance updates an article while it is purged.
impl<B: SqlBackend> Purge for B {
    fn purge(&mut self, retention: &Retention, now: DateTime<Utc>) -> Result<Purged, StoreError> {
        let stamp = format_time(now);
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        self.write(true, |c| {
            let mut purged = Purged::default();
            if let Some(days) = retention.keep_days {
                let cutoff = format_time(now - chrono::Duration::days(i64::from(days)));
                purged.by_age = count(c.run(
                    purge!("WHERE purged_at IS NULL AND fetched_at < ?2"),
                    &[(&stamp).into(), (&cutoff).into()],
                )?);
            }
            if let Some(limit) = retention.max_articles_per_feed {
                // An article seen in several feeds stays while any of them keeps it.
                purged.by_feed_limit = count(c.run(
                    purge!(
                        "WHERE purged_at IS NULL AND seq IN (
                            SELECT article_seq FROM (
                                SELECT s.article_seq, row_number() OVER (
                                    PARTITION BY s.feed_url ORDER BY s.article_seq DESC) AS rank
                                FROM sources s JOIN articles a ON a.seq = s.article_seq
                                WHERE a.purged_at IS NULL) ranked
                            GROUP BY article_seq HAVING min(rank) > ?2)"
                    ),
                    &[(&stamp).into(), i64::from(limit).into()],
                )?);
            }
            c.run(
                "DELETE FROM pages WHERE article_seq IN
                     (SELECT seq FROM articles WHERE purged_at IS NOT NULL)",
                &[],
            )?;
            super::near_dup::forget_purged(c, now.timestamp())?;
            Ok(purged)
        })
    }
}
