//! Retention: `[storage] keep_days` and `max_articles_per_feed`.
//!
//! Purging keeps a tombstone (see migration 6): the row with its id, links
//! and dates, its sources and its dedup keys stay, so a purged article is
//! recognised when its feed still lists it and never comes back as new.

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Sqlite;
use crate::retention::Retention;
use crate::store::backend::Purge;
use crate::store::model::Purged;
use crate::store::{StoreError, format_time};

/// Empties an article down to its tombstone.
const PURGE: &str = "UPDATE articles SET title = NULL, author = NULL, summary = NULL,
        content_html = NULL, content_text = NULL, image = NULL, word_count = NULL,
        purged_at = ?1";

impl Purge for Sqlite {
    fn purge(&mut self, retention: &Retention, now: DateTime<Utc>) -> Result<Purged, StoreError> {
        let tx = self.conn.transaction()?;
        let stamp = format_time(now);
        let mut purged = Purged::default();
        if let Some(days) = retention.keep_days {
            let cutoff = now - chrono::Duration::days(i64::from(days));
            purged.by_age = tx.execute(
                &format!("{PURGE} WHERE purged_at IS NULL AND fetched_at < ?2"),
                params![stamp, format_time(cutoff)],
            )?;
        }
        if let Some(limit) = retention.max_articles_per_feed {
            // An article seen in several feeds stays while any of them keeps it.
            purged.by_feed_limit = tx.execute(
                &format!(
                    "{PURGE} WHERE purged_at IS NULL AND seq IN (
                        SELECT article_seq FROM (
                            SELECT s.article_seq, row_number() OVER (
                                PARTITION BY s.feed_url ORDER BY s.article_seq DESC) AS rank
                            FROM sources s JOIN articles a ON a.seq = s.article_seq
                            WHERE a.purged_at IS NULL)
                        GROUP BY article_seq HAVING min(rank) > ?2)"
                ),
                params![stamp, i64::from(limit)],
            )?;
        }
        tx.execute(
            "DELETE FROM pages WHERE article_seq IN (SELECT seq FROM articles WHERE purged_at IS NOT NULL)",
            [],
        )?;
        tx.commit()?;
        Ok(purged)
    }

    fn vacuum(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM")?;
        Ok(())
    }
}
