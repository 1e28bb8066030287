//! The export snapshot on SQLite: an export's selection after a consumer's
//! cursor, read in one WAL snapshot. PostgreSQL's is its own
//! (`postgres::read`): its positions come from arrays and GREATEST, ours
//! from JSON arrays and the scalar max, and it reads in batches.

use std::ops::ControlFlow;

use super::Sqlite;
use crate::store::backend::Exports;
use crate::store::model::{ExportFilter, StoredArticle, StoredSource};
use crate::store::{StoreError, format_time, json_list};

impl Exports for Sqlite {
    // SQLite's `data_version`: a number that changes whenever another
    // connection (the daemon, a `poll`) has committed since the last call on
    // this one. `export --follow` reads the database again only then.
    fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
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
