//! Kept pages on PostgreSQL, for `gleaner reextract` (see
//! [`crate::store::pages`]).

use postgres::Row;

use super::{Postgres, prepared};
use crate::store::StoreError;
use crate::store::pages::{KeptPage, Reextraction};

/// Restricts to articles seen in the feeds `$1` (an empty array: all).
macro_rules! in_feeds {
    () => {
        "(cardinality($1::text[]) = 0 OR EXISTS (SELECT 1 FROM sources s
             WHERE s.article_seq = p.article_seq AND s.feed_url = ANY ($1)))"
    };
}

impl Postgres {
    /// See the SQLite version.
    pub fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                concat!(
                    "SELECT count(*) FROM pages p JOIN articles a ON a.seq = p.article_seq
                     WHERE a.purged_at IS NULL AND ",
                    in_feeds!()
                ),
            )?;
            let count: i64 = client.query_one(&stmt, &[&feed_urls])?.get(0);
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    /// See the SQLite version.
    pub fn kept_pages_after(
        &self,
        after_seq: i64,
        limit: usize,
        feed_urls: &[String],
    ) -> Result<Vec<KeptPage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                concat!(
                    "SELECT p.article_seq, p.url, p.content_type, p.body_zstd,
                            ARRAY(SELECT feed_url FROM sources
                                  WHERE article_seq = p.article_seq ORDER BY source_seq),
                            a.content_source, a.word_count
                     FROM pages p JOIN articles a ON a.seq = p.article_seq
                     WHERE a.purged_at IS NULL AND p.article_seq > $2 AND ",
                    in_feeds!(),
                    " ORDER BY p.article_seq LIMIT $3"
                ),
            )?;
            let rows = client.query(&stmt, &[&feed_urls, &after_seq, &limit])?;
            Ok(rows.iter().map(kept_page).collect())
        })
    }

    /// See the SQLite version: under the `gleaner write` lock, so a poll of
    /// any instance waits rather than interleaving with it.
    pub fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<usize, StoreError> {
        self.write(|tx| {
            let mut changed = 0;
            for r in new {
                let stored = tx.row(
                    "SELECT content_html, content_text FROM articles WHERE seq = $1",
                    &[&r.seq],
                )?;
                let same = stored.is_some_and(|row| {
                    row.get::<_, Option<&str>>(0) == Some(r.content_html.as_str())
                        && row.get::<_, Option<&str>>(1) == Some(r.content_text.as_str())
                });
                if !same {
                    tx.run(
                        "UPDATE articles SET content_html = $2, content_text = $3,
                             word_count = $4, content_source = 'article'
                         WHERE seq = $1",
                        &[
                            &r.seq,
                            &r.content_html,
                            &r.content_text,
                            &i64::from(r.word_count),
                        ],
                    )?;
                    changed += 1;
                }
            }
            Ok(changed)
        })
    }
}

fn kept_page(r: &Row) -> KeptPage {
    KeptPage {
        seq: r.get(0),
        url: r.get(1),
        content_type: r.get(2),
        body_zstd: r.get(3),
        feed_urls: r.get(4),
        content_source: r.get(5),
        word_count: r
            .get::<_, Option<i64>>(6)
            .and_then(|n| u32::try_from(n).ok()),
    }
}
