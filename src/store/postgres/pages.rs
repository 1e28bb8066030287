//! Kept pages on PostgreSQL, for `gleaner reextract` (see
//! [`crate::store::backend::Pages`]).

use postgres::Row;

use super::{Postgres, prepared};
use crate::store::StoreError;
use crate::store::backend::Pages;
use crate::store::model::KeptPage;

/// Restricts to articles seen in the feeds `$1` (an empty array: all).
macro_rules! in_feeds {
    () => {
        "(cardinality($1::text[]) = 0 OR EXISTS (SELECT 1 FROM sources s
             WHERE s.article_seq = p.article_seq AND s.feed_url = ANY ($1)))"
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
