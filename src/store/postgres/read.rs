//! The export snapshot on PostgreSQL: an export's selection after a
//! consumer's cursor in one REPEATABLE READ snapshot, read in batches, its
//! positions from arrays (SQLite's is `sqlite::read`).

use std::collections::HashMap;
use std::ops::ControlFlow;

use super::{Postgres, prepared};
use crate::store::backend::Exports;
use crate::store::model::{ExportFilter, StoredArticle, StoredSource};
use crate::store::{StoreError, format_time, json_list};

/// How many articles an export reads per round trip.
const EXPORT_BATCH: i32 = 256;

/// An export's selection after a cursor, as `a`, each article with its
/// `position` in it (SQLite's `read::SELECTION`, which says why): after
/// the cursor `$1`, up to the snapshot's highest position `$2`, not purged,
/// fetched at or after `$3` (text; NULL: any time), with a source in one of
/// the feeds `$4` and one of the tags `$5` (an empty array: any).
macro_rules! export_selection {
    () => {
        "(SELECT a.seq, a.id, a.title, a.url, a.canonical_url, a.author, a.published,
                 a.updated, a.fetched_at, a.summary, a.content_html, a.content_text,
                 a.content_source, a.word_count, a.language, a.image, a.categories,
                 a.enclosures,
                 CASE WHEN m.f IS NOT NULL AND m.t IS NOT NULL
                      THEN GREATEST(a.seq, m.f, m.t) END AS position
          FROM articles a CROSS JOIN LATERAL (SELECT
              CASE WHEN cardinality($4::text[]) = 0 THEN a.seq ELSE
                  (SELECT min(s.pos) FROM sources s WHERE s.article_seq = a.seq
                   AND s.feed_url = ANY ($4)) END AS f,
              CASE WHEN cardinality($5::text[]) = 0 THEN a.seq ELSE
                  (SELECT min(t.pos) FROM article_tags t WHERE t.article_seq = a.seq
                   AND t.tag = ANY ($5)) END AS t) m
          WHERE a.seq IN (SELECT seq FROM articles WHERE seq > $1
                          UNION SELECT article_seq FROM sources
                                WHERE pos > $1 AND pos > article_seq
                          UNION SELECT article_seq FROM article_tags
                                WHERE pos > $1 AND pos > article_seq)
            AND a.purged_at IS NULL AND ($3::text IS NULL OR a.fetched_at >= $3)) a
         WHERE a.position > $1 AND a.position <= $2"
    };
}

/// The highest position in the database (SQLite's `read::HIGHEST_POSITION`).
const HIGHEST_POSITION: &str = "SELECT GREATEST(
     COALESCE((SELECT max(seq) FROM articles), 0),
     COALESCE((SELECT max(pos) FROM sources), 0),
     COALESCE((SELECT max(pos) FROM article_tags), 0))";

impl Exports for Postgres {
    // The highest committed position (seq, or that of a source or tag
    // added to a stored article): what `export --follow` waits on to
    // change (SQLite's `data_version`). Articles, sources and tags are
    // only added, and writers commit their positions in order under the
    // `gleaner write` lock, so it grows exactly when an export could find
    // new articles; updates in place and purges, which no export delivers
    // again, leave it as it is. One look at each of three indexes' last
    // entry.
    fn data_version(&self) -> Result<i64, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(cache, client, HIGHEST_POSITION)?;
            Ok(client.query_one(&stmt, &[])?.get(0))
        })
    }

    fn count_articles(&self, filter: &ExportFilter) -> Result<u64, StoreError> {
        let since = filter.since.map(format_time);
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                concat!("SELECT count(*) FROM ", export_selection!()),
            )?;
            let count: i64 = client
                .query_one(
                    &stmt,
                    &[
                        &filter.after_seq,
                        &i64::MAX,
                        &since,
                        &filter.feed_urls,
                        &filter.tags,
                    ],
                )?
                .get(0);
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    fn for_each_article(
        &mut self,
        filter: &ExportFilter,
        each: &mut dyn FnMut(StoredArticle) -> ControlFlow<()>,
    ) -> Result<i64, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        super::waits::unbounded_idle(&mut tx)?;
        let snapshot_max: i64 = tx.query_one(HIGHEST_POSITION, &[])?.get(0);
        let since = filter.since.map(format_time);
        let limit = filter.limit.map(|l| l.min(i64::MAX as u64) as i64);
        let portal = tx.bind(
            concat!(
                "SELECT a.seq, a.id, a.title, a.url, a.canonical_url, a.author, a.published,
                        a.updated, a.fetched_at, a.summary, a.content_html, a.content_text,
                        a.content_source, a.word_count, a.language, a.image, a.categories,
                        a.enclosures, a.position
                 FROM ",
                export_selection!(),
                " ORDER BY a.position, a.seq LIMIT $6"
            ),
            &[
                &filter.after_seq,
                &snapshot_max,
                &since,
                &filter.feed_urls,
                &filter.tags,
                &limit,
            ],
        )?;
        loop {
            let rows = tx.query_portal(&portal, EXPORT_BATCH)?;
            if rows.is_empty() {
                break;
            }
            let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
            for r in tx.query(
                "SELECT article_seq, tag FROM article_tags WHERE article_seq = ANY ($1)
                 ORDER BY article_seq, tag",
                &[&seqs],
            )? {
                tags.entry(r.get(0)).or_default().push(r.get(1));
            }
            let mut sources: HashMap<i64, Vec<StoredSource>> = HashMap::new();
            for r in tx.query(
                "SELECT s.article_seq, COALESCE(f.name, s.feed_url), s.feed_url, s.entry_id, s.url
                 FROM sources s LEFT JOIN feeds f ON f.url = s.feed_url
                 WHERE s.article_seq = ANY ($1) ORDER BY s.source_seq",
                &[&seqs],
            )? {
                sources.entry(r.get(0)).or_default().push(StoredSource {
                    feed: r.get(1),
                    // Stored as configured; exported without credentials.
                    feed_url: crate::redact::url_text(r.get(2)),
                    entry_id: r.get(3),
                    url: r.get(4),
                });
            }
            let done = rows.len() < EXPORT_BATCH as usize;
            for r in rows {
                let seq: i64 = r.get(0);
                let article = StoredArticle {
                    seq,
                    position: r.get(18),
                    id: r.get(1),
                    title: r.get(2),
                    url: r.get(3),
                    canonical_url: r.get(4),
                    author: r.get(5),
                    published: r.get(6),
                    updated: r.get(7),
                    fetched_at: r.get(8),
                    summary: r.get(9),
                    content_html: r.get(10),
                    content_text: r.get(11),
                    content_markdown: None,
                    content_source: r.get(12),
                    word_count: r
                        .get::<_, Option<i64>>(13)
                        .and_then(|n| u32::try_from(n).ok()),
                    language: r.get(14),
                    image: r.get(15),
                    categories: json_list(r.get(16)),
                    enclosures: json_list(r.get(17)),
                    tags: tags.remove(&seq).unwrap_or_default(),
                    sources: sources.remove(&seq).unwrap_or_default(),
                };
                if each(article).is_break() {
                    return Ok(snapshot_max);
                }
            }
            if done {
                break;
            }
        }
        tx.commit()?;
        Ok(snapshot_max)
    }
}
