//! Retention on PostgreSQL: the same tombstones as SQLite's
//! ([`crate::store::backend::Purge`]), purged under the `gleaner write` lock so
//! that no poll of another instance updates an article while it is purged.

use chrono::{DateTime, Utc};

use super::Postgres;
use crate::retention::Retention;
use crate::store::backend::Purge;
use crate::store::model::Purged;
use crate::store::{StoreError, format_time};

/// Empties an article down to its tombstone (`$1`: the time), where `$where`.
macro_rules! purge {
    ($where:literal) => {
        concat!(
            "UPDATE articles SET title = NULL, author = NULL, summary = NULL,
                 content_html = NULL, content_text = NULL, image = NULL, word_count = NULL,
                 purged_at = $1 ",
            $where
        )
    };
}

impl Purge for Postgres {
    // One transaction.
    fn purge(&mut self, retention: &Retention, now: DateTime<Utc>) -> Result<Purged, StoreError> {
        let stamp = format_time(now);
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        self.write(|tx| {
            let mut purged = Purged::default();
            if let Some(days) = retention.keep_days {
                let cutoff = format_time(now - chrono::Duration::days(i64::from(days)));
                purged.by_age = count(tx.run(
                    purge!("WHERE purged_at IS NULL AND fetched_at < $2"),
                    &[&stamp, &cutoff],
                )?);
            }
            if let Some(limit) = retention.max_articles_per_feed {
                // An article seen in several feeds stays while any of them keeps it.
                purged.by_feed_limit = count(tx.run(
                    purge!(
                        "WHERE purged_at IS NULL AND seq IN (
                            SELECT article_seq FROM (
                                SELECT s.article_seq, row_number() OVER (
                                    PARTITION BY s.feed_url ORDER BY s.article_seq DESC) AS rank
                                FROM sources s JOIN articles a ON a.seq = s.article_seq
                                WHERE a.purged_at IS NULL) ranked
                            GROUP BY article_seq HAVING min(rank) > $2)"
                    ),
                    &[&stamp, &i64::from(limit)],
                )?);
            }
            tx.run(
                "DELETE FROM pages WHERE article_seq IN
                     (SELECT seq FROM articles WHERE purged_at IS NOT NULL)",
                &[],
            )?;
            Ok(purged)
        })
    }

    // `gleaner gc --vacuum`: a plain `VACUUM (ANALYZE)` of the tables
    // purges leave dead rows in, so new articles reuse the space (the
    // files shrink only where their end is free). It runs beside the other
    // instances; `VACUUM FULL`, which gives all the space back, would lock
    // every one of them out until it is done, so it is left to the
    // operator.
    fn vacuum(&mut self) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            client.batch_execute("VACUUM (ANALYZE) articles, pages")?;
            Ok(())
        })
    }
}
