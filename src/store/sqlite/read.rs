//! Reading: what a poll needs to know before fetching, the `feeds` status, and
//! the export snapshot with consumer cursors.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use url::Url;

use super::{Sqlite, time_column};
use crate::article::verdict::Tally;
use crate::store::backend::{Exports, Feeds};
use crate::store::keys::{normalize_url, url_key};
use crate::store::model::{ExportFilter, FeedStatus, Known, StoredArticle, StoredSource};
use crate::store::{StoreError, feed_status_sql, format_time, json_list, parse_time};

impl Feeds for Sqlite {
    fn feed_status(&self, feed_url: &str) -> Result<Option<FeedStatus>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(feed_status_sql!("0"), " WHERE f.url = ?1"))?;
        let status = stmt
            .query_row(params![feed_url], feed_status_row)
            .optional()?;
        Ok(status.map(|(_, status)| status))
    }

    fn feed_statuses(&self) -> Result<HashMap<String, FeedStatus>, StoreError> {
        let mut stmt = self.conn.prepare_cached(feed_status_sql!(
            "(SELECT count(DISTINCT s.article_seq) FROM sources s
              JOIN articles a ON a.seq = s.article_seq
              WHERE s.feed_url = f.url AND a.purged_at IS NULL)"
        ))?;
        let rows = stmt.query_map([], feed_status_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn last_successes(&self) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT url, name, last_success_at FROM feeds
             WHERE name IS NOT NULL AND last_success_at IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut found = Vec::new();
        for row in rows {
            let (url, name, at) = row?;
            if let Some(at) = parse_time(&at) {
                found.push((url, name, at));
            }
        }
        Ok(found)
    }

    fn due_feeds(
        &self,
        feed_urls: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT url FROM feeds WHERE next_attempt_at > ?1")?;
        let later: HashSet<String> = stmt
            .query_map(params![format_time(now)], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(feed_urls
            .iter()
            .filter(|url| !later.contains(url.as_str()))
            .cloned()
            .collect())
    }

    fn known(
        &self,
        feed_url: &str,
        entry_id: &str,
        url: Option<&Url>,
    ) -> Result<Known, StoreError> {
        let seen: Option<(String, bool, Option<String>)> = self
            .conn
            .prepare_cached(
                "SELECT s.entry_hash, a.purged_at IS NOT NULL, s.url
                 FROM sources s JOIN articles a ON a.seq = s.article_seq
                 WHERE s.feed_url = ?1 AND s.entry_id = ?2",
            )?
            .query_row(params![feed_url, entry_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        match seen {
            // A purged article stays purged, even when its entry changes.
            Some((_, true, _)) => return Ok(Known::Url),
            Some((entry_hash, false, old_link)) => {
                let old = old_link
                    .as_deref()
                    .and_then(|u| Url::parse(u).ok())
                    .and_then(|u| normalize_url(&u));
                let new = url.and_then(normalize_url);
                return Ok(Known::Entry {
                    entry_hash,
                    link_changed: old != new,
                });
            }
            None => {}
        }
        let Some(normalized) = url.and_then(normalize_url) else {
            return Ok(Known::New);
        };
        // An article that is already another entry of this feed is not this
        // one (anchors of one page): only articles of other feeds count.
        let known_url = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM article_keys k WHERE k.key = ?1 AND NOT EXISTS
                     (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                      AND s.feed_url = ?2)",
            )?
            .exists(params![url_key(&normalized), feed_url])?;
        if known_url {
            return Ok(Known::Url);
        }
        Ok(Known::New)
    }
}

impl Exports for Sqlite {
    // SQLite's `data_version`: a number that changes whenever another
    // connection (the daemon, a `poll`) has committed since the last call on
    // this one. `export --follow` reads the database again only then.
    fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    fn consumer_cursor(&self, consumer: &str) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT cursor_seq FROM consumers WHERE name = ?1")?
            .query_row([consumer], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    fn claim_consumer(&mut self, consumer: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO consumers (name, cursor_seq, updated_at) VALUES (?1, 0, ?2)
             ON CONFLICT (name) DO UPDATE SET cursor_seq = cursor_seq",
            params![consumer, format_time(now)],
        )?;
        Ok(())
    }

    fn advance_cursor(
        &mut self,
        consumer: &str,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO consumers (name, cursor_seq, updated_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET
                 cursor_seq = max(cursor_seq, excluded.cursor_seq),
                 updated_at = excluded.updated_at",
            params![consumer, seq, format_time(now)],
        )?;
        Ok(())
    }

    fn count_articles(&self, filter: &ExportFilter) -> Result<u64, StoreError> {
        let sql = format!("SELECT count(*) FROM {SELECTION}");
        let args = selection_args(filter, i64::MAX);
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(&*args.named(), |r| r.get(0))?)
    }

    fn for_each_article(
        &mut self,
        filter: &ExportFilter,
        each: &mut dyn FnMut(StoredArticle) -> ControlFlow<()>,
    ) -> Result<i64, StoreError> {
        // One read transaction = one consistent snapshot under WAL.
        let tx = self.conn.transaction()?;
        let snapshot_max: i64 = tx.query_row(HIGHEST_POSITION, [], |r| r.get(0))?;
        let args = selection_args(filter, snapshot_max);
        let sql = format!(
            "SELECT a.seq, a.id, a.title, a.url, a.canonical_url, a.author, a.published,
                    a.updated, a.fetched_at, a.summary, a.content_html, a.content_text,
                    a.content_source, a.word_count, a.language, a.image, a.categories,
                    a.enclosures, a.position
             FROM {SELECTION} ORDER BY a.position, a.seq LIMIT :limit"
        );

        let mut tags_stmt =
            tx.prepare("SELECT tag FROM article_tags WHERE article_seq = ?1 ORDER BY tag")?;
        let mut sources_stmt = tx.prepare(
            "SELECT COALESCE(f.name, s.feed_url), s.feed_url, s.entry_id, s.url
             FROM sources s LEFT JOIN feeds f ON f.url = s.feed_url
             WHERE s.article_seq = ?1 ORDER BY s.rowid",
        )?;
        let mut stmt = tx.prepare(&sql)?;
        let limit = filter.limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64);
        let mut named = args.named();
        named.push((":limit", &limit));
        let mut rows = stmt.query(&*named)?;
        while let Some(r) = rows.next()? {
            let seq: i64 = r.get(0)?;
            let tags = tags_stmt
                .query_map([seq], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()?;
            let sources = sources_stmt
                .query_map([seq], |r| {
                    Ok(StoredSource {
                        feed: r.get(0)?,
                        // Stored as configured; exported without credentials.
                        feed_url: crate::redact::url_text(&r.get::<_, String>(1)?),
                        entry_id: r.get(2)?,
                        url: r.get(3)?,
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            let article = StoredArticle {
                seq,
                position: r.get(18)?,
                id: r.get(1)?,
                title: r.get(2)?,
                // Exported without tracking parameters; `sources` keeps
                // the link as the feed gave it.
                url: r
                    .get::<_, Option<String>>(3)?
                    .map(|u| crate::store::keys::without_tracking_text(&u)),
                canonical_url: r.get(4)?,
                author: r.get(5)?,
                published: r.get(6)?,
                updated: r.get(7)?,
                fetched_at: r.get(8)?,
                summary: r.get(9)?,
                content_html: r.get(10)?,
                content_text: r.get(11)?,
                content_markdown: None,
                content_source: r.get(12)?,
                word_count: r.get(13)?,
                language: r.get(14)?,
                image: r.get(15)?,
                tags,
                categories: json_list(r.get(16)?),
                enclosures: json_list(r.get(17)?),
                sources,
            };
            if each(article).is_break() {
                return Ok(snapshot_max);
            }
        }
        Ok(snapshot_max)
    }
}

/// The highest position in the database: its highest seq, or a later
/// position a source or tag was added at (`dedup::join_selections`).
const HIGHEST_POSITION: &str = "SELECT max(
     COALESCE((SELECT max(seq) FROM articles), 0),
     COALESCE((SELECT max(pos) FROM sources), 0),
     COALESCE((SELECT max(pos) FROM article_tags), 0))";

/// The articles of an export's selection after a cursor, as `a`, each with
/// its `position` in the selection: when it entered it (see
/// `dedup::join_selections`). That is the largest of its seq, the
/// smallest position of its sources in the feeds `:feeds` and that of its
/// tags among `:tags` (JSON arrays; an empty one: any), NULL while it lacks
/// either. Articles are looked for among those stored after the cursor
/// `:after` or given a source or tag since (an article's position is one
/// of those), then kept when their position is above the cursor and at
/// most `:max` (the snapshot's highest), unpurged, fetched at or after
/// `:since` (NULL: any time).
const SELECTION: &str = "(SELECT a.*, max(a.seq,
         CASE WHEN json_array_length(:feeds) = 0 THEN a.seq ELSE
             (SELECT min(s.pos) FROM sources s WHERE s.article_seq = a.seq
              AND s.feed_url IN (SELECT value FROM json_each(:feeds))) END,
         CASE WHEN json_array_length(:tags) = 0 THEN a.seq ELSE
             (SELECT min(t.pos) FROM article_tags t WHERE t.article_seq = a.seq
              AND t.tag IN (SELECT value FROM json_each(:tags))) END) AS position
     FROM articles a
     WHERE a.seq IN (SELECT seq FROM articles WHERE seq > :after
                     UNION SELECT article_seq FROM sources
                           WHERE pos > :after AND pos > article_seq
                     UNION SELECT article_seq FROM article_tags
                           WHERE pos > :after AND pos > article_seq)
       AND a.purged_at IS NULL AND (:since IS NULL OR a.fetched_at >= :since)) a
     WHERE a.position > :after AND a.position <= :max";

/// The arguments of [`SELECTION`] for `filter` up to `snapshot_max`.
struct SelectionArgs {
    after: i64,
    max: i64,
    since: Option<String>,
    feeds: String,
    tags: String,
}

impl SelectionArgs {
    fn named(&self) -> Vec<(&'static str, &dyn rusqlite::ToSql)> {
        vec![
            (":after", &self.after),
            (":max", &self.max),
            (":since", &self.since),
            (":feeds", &self.feeds),
            (":tags", &self.tags),
        ]
    }
}

fn selection_args(filter: &ExportFilter, snapshot_max: i64) -> SelectionArgs {
    let list = |items: &[String]| serde_json::Value::from(items.to_vec()).to_string();
    SelectionArgs {
        after: filter.after_seq,
        max: snapshot_max,
        since: filter.since.map(format_time),
        feeds: list(&filter.feed_urls),
        tags: list(&filter.tags),
    }
}

fn feed_status_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, FeedStatus)> {
    let time = |i: usize| time_column(r, i);
    Ok((
        r.get(0)?,
        FeedStatus {
            name: r.get(1)?,
            etag: r.get(2)?,
            last_modified: r.get(3)?,
            last_poll_at: time(4)?,
            last_success_at: time(5)?,
            state: r.get(6)?,
            last_error: r.get(7)?,
            consecutive_errors: r.get(8)?,
            next_attempt_at: time(9)?,
            articles: r.get(10)?,
            repairs: r
                .get::<_, String>(11)?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            moved_to: r.get(12)?,
            poll_interval: r.get::<_, Option<u64>>(13)?.map(Duration::from_secs),
            filtered: r.get(14)?,
            interstitials: Tally::from_column(&r.get::<_, String>(15)?),
        },
    ))
}
