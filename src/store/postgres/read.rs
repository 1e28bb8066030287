//! What polls and exports read on PostgreSQL, and consumer cursors.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::Row;
use url::Url;

use super::{Postgres, prepared};
use crate::article::verdict::Tally;
use crate::store::backend::{Exports, Feeds};
use crate::store::keys::{normalize_url, url_key};
use crate::store::model::{ExportFilter, FeedStatus, Known, StoredArticle, StoredSource};
use crate::store::{StoreError, feed_status_sql, format_time, json_list, parse_time};

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

impl Feeds for Postgres {
    fn feed_status(&self, feed_url: &str) -> Result<Option<FeedStatus>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                concat!(feed_status_sql!("0::bigint"), " WHERE f.url = $1"),
            )?;
            let row = client.query_opt(&stmt, &[&feed_url])?;
            Ok(row.map(|r| feed_status_row(&r).1))
        })
    }

    fn feed_statuses(&self) -> Result<HashMap<String, FeedStatus>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                feed_status_sql!(
                    "(SELECT count(DISTINCT s.article_seq) FROM sources s
                      JOIN articles a ON a.seq = s.article_seq
                      WHERE s.feed_url = f.url AND a.purged_at IS NULL)"
                ),
            )?;
            Ok(client
                .query(&stmt, &[])?
                .iter()
                .map(feed_status_row)
                .collect())
        })
    }

    fn last_successes(&self) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        self.with_client(|client, _| {
            let rows = client.query(
                "SELECT url, name, last_success_at FROM feeds WHERE last_success_at IS NOT NULL",
                &[],
            )?;
            Ok(rows
                .iter()
                .filter_map(|r| {
                    let at = parse_time(r.get::<_, &str>(2))?;
                    Some((r.get(0), r.get(1), at))
                })
                .collect())
        })
    }

    fn due_feeds(
        &self,
        feed_urls: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT u FROM unnest($1::text[]) WITH ORDINALITY AS c (u, n)
                 WHERE NOT EXISTS (SELECT 1 FROM feeds f
                                   WHERE f.url = c.u AND f.next_attempt_at > $2)
                 ORDER BY n",
            )?;
            let rows = client.query(&stmt, &[&feed_urls, &format_time(now)])?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn known(
        &self,
        feed_url: &str,
        entry_id: &str,
        url: Option<&Url>,
    ) -> Result<Known, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT s.entry_hash, a.purged_at IS NOT NULL, s.url
                 FROM sources s JOIN articles a ON a.seq = s.article_seq
                 WHERE s.feed_url = $1 AND s.entry_id = $2",
            )?;
            if let Some(row) = client.query_opt(&stmt, &[&feed_url, &entry_id])? {
                // A purged article stays purged, even when its entry changes.
                if row.get::<_, bool>(1) {
                    return Ok(Known::Url);
                }
                let old = row
                    .get::<_, Option<&str>>(2)
                    .and_then(|u| Url::parse(u).ok())
                    .and_then(|u| normalize_url(&u));
                return Ok(Known::Entry {
                    entry_hash: row.get(0),
                    link_changed: old != url.and_then(normalize_url),
                });
            }
            let Some(normalized) = url.and_then(normalize_url) else {
                return Ok(Known::New);
            };
            // Only articles of other feeds count (see the SQLite version).
            let stmt = prepared(
                cache,
                client,
                "SELECT 1 FROM article_keys k WHERE k.key = $1 AND NOT EXISTS
                     (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                      AND s.feed_url = $2)",
            )?;
            let found = client.query_opt(&stmt, &[&url_key(&normalized), &feed_url])?;
            Ok(if found.is_some() {
                Known::Url
            } else {
                Known::New
            })
        })
    }
}

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

    fn consumer_cursor(&self, consumer: &str) -> Result<i64, StoreError> {
        self.with_client(|client, _| {
            let row = client.query_opt(
                "SELECT cursor_seq FROM consumers WHERE name = $1",
                &[&consumer],
            )?;
            Ok(row.map_or(0, |r| r.get(0)))
        })
    }

    fn claim_consumer(&mut self, consumer: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            client.execute(
                "INSERT INTO consumers (name, cursor_seq, updated_at) VALUES ($1, 0, $2)
                 ON CONFLICT (name) DO UPDATE SET cursor_seq = consumers.cursor_seq",
                &[&consumer, &format_time(now)],
            )?;
            Ok(())
        })
    }

    fn advance_cursor(
        &mut self,
        consumer: &str,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            client.execute(
                "INSERT INTO consumers (name, cursor_seq, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET
                     cursor_seq = GREATEST(consumers.cursor_seq, EXCLUDED.cursor_seq),
                     updated_at = EXCLUDED.updated_at",
                &[&consumer, &seq, &format_time(now)],
            )?;
            Ok(())
        })
    }

    // See the SQLite version: one snapshot (REPEATABLE READ), oldest first,
    // read [`EXPORT_BATCH`] articles per round trip.
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

fn feed_status_row(r: &Row) -> (String, FeedStatus) {
    let time = |i: usize| r.get::<_, Option<&str>>(i).and_then(parse_time);
    let count = |i: usize| r.get::<_, i64>(i);
    (
        r.get(0),
        FeedStatus {
            name: r.get(1),
            etag: r.get(2),
            last_modified: r.get(3),
            last_poll_at: time(4),
            last_success_at: time(5),
            state: r.get(6),
            last_error: r.get(7),
            consecutive_errors: u32::try_from(count(8)).unwrap_or(u32::MAX),
            next_attempt_at: time(9),
            articles: u64::try_from(count(10)).unwrap_or(0),
            repairs: r
                .get::<_, &str>(11)
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            moved_to: r.get(12),
            poll_interval: r
                .get::<_, Option<i64>>(13)
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
            filtered: u32::try_from(count(14)).unwrap_or(u32::MAX),
            interstitials: Tally::from_column(r.get::<_, &str>(15)),
        },
    )
}
