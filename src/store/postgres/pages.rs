//! Kept pages on PostgreSQL, for `gleaner reextract` (see
//! [`crate::store::backend::Pages`]).

use postgres::Row;

use super::{Postgres, prepared};
use crate::store::StoreError;
use crate::store::backend::Pages;
use crate::store::model::{Applied, KeptPage, Reextraction};

/// Restricts to articles seen in the feeds `$1` (an empty array: all).
macro_rules! in_feeds {
    () => {
        "(cardinality($1::text[]) = 0 OR EXISTS (SELECT 1 FROM sources s
             WHERE s.article_seq = p.article_seq AND s.feed_url = ANY ($1)))"
    };
}

/// SQLite's `pages::STILL_AS_READ`: the article `$1` is not purged, its
/// kept page is still `$2`..`$4` (URL, kept at, bytes), its body from `$5`.
macro_rules! still_as_read {
    () => {
        "a.seq = $1 AND a.purged_at IS NULL AND a.content_source = $5
         AND EXISTS (SELECT 1 FROM pages p WHERE p.article_seq = a.seq
                     AND p.url = $2 AND p.fetched_at = $3 AND p.body_zstd = $4)"
    };
}

impl Pages for Postgres {
    fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError> {
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

    fn kept_pages_after(
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
                            a.content_source, a.word_count, p.fetched_at
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

    // Under the `gleaner write` lock, so a poll or
    // a `gc` of any instance waits rather than interleaving with it; the
    // check is in the UPDATE too.
    fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<Applied, StoreError> {
        self.write(|tx| {
            let mut applied = Applied::default();
            for r in new {
                let page = &r.page;
                let stored = tx.row(
                    concat!(
                        "SELECT a.content_html, a.content_text FROM articles a WHERE ",
                        still_as_read!()
                    ),
                    &[
                        &page.seq,
                        &page.url,
                        &page.fetched_at,
                        &page.body_zstd,
                        &page.content_source,
                    ],
                )?;
                let Some(stored) = stored else {
                    applied.changed_meanwhile += 1;
                    continue;
                };
                if stored.get::<_, Option<&str>>(0) == Some(r.content_html.as_str())
                    && stored.get::<_, Option<&str>>(1) == Some(r.content_text.as_str())
                {
                    continue;
                }
                let updated = tx.run(
                    concat!(
                        "UPDATE articles AS a SET content_html = $6, content_text = $7,
                             word_count = $8, content_source = 'article'
                         WHERE ",
                        still_as_read!()
                    ),
                    &[
                        &page.seq,
                        &page.url,
                        &page.fetched_at,
                        &page.body_zstd,
                        &page.content_source,
                        &r.content_html,
                        &r.content_text,
                        &i64::from(r.word_count),
                    ],
                )?;
                if updated > 0 {
                    applied.changed += 1;
                } else {
                    applied.changed_meanwhile += 1;
                }
            }
            Ok(applied)
        })
    }
}

fn kept_page(r: &Row) -> KeptPage {
    KeptPage {
        seq: r.get(0),
        url: r.get(1),
        fetched_at: r.get(7),
        content_type: r.get(2),
        body_zstd: r.get(3),
        feed_urls: r.get(4),
        content_source: r.get(5),
        word_count: r
            .get::<_, Option<i64>>(6)
            .and_then(|n| u32::try_from(n).ok()),
    }
}
