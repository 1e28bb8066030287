//! The export snapshot: an export's selection after a consumer's cursor,
//! read in one snapshot, 256 articles at a time with their tags and sources.

use std::collections::HashMap;
use std::ops::ControlFlow;

use crate::store::backend::Exports;
use crate::store::model::{ExportFilter, StoredArticle, StoredSource};
use crate::store::sql::{
    Row, SqlBackend, Value, by_dialect, columns, greatest, in_list, no_texts, source_order,
};
use crate::store::{StoreError, format_time, json_list};

/// The highest position in the database: its highest seq, or a later
/// position a source or tag was added at (`dedup::join_selections`).
macro_rules! highest_position {
    ($d:ident) => {
        concat!(
            "SELECT ",
            greatest!($d),
            "(COALESCE((SELECT max(seq) FROM articles), 0),
                COALESCE((SELECT max(pos) FROM sources), 0),
                COALESCE((SELECT max(pos) FROM article_tags), 0)) AS highest"
        )
    };
}

/// SQLite's `data_version`: a number that changes whenever another
/// connection (the daemon, a `poll`) has committed since the last call on
/// this one. PostgreSQL: the highest committed position. Articles, sources
/// and tags are only added, and writers commit their positions in order
/// under the `gleaner write` lock, so it grows exactly when an export could
/// find new articles; updates in place and purges, which no export
/// delivers again, leave it as it is (one look at three indexes' last entry).
macro_rules! data_version {
    (Sqlite) => {
        "SELECT data_version AS highest FROM pragma_data_version"
    };
    (Postgres) => {
        highest_position!(Postgres)
    };
}

/// The articles of an export's selection after a cursor, as `a`, each with
/// its `position` in the selection: when it entered it (see
/// `dedup::join_selections`). That is the largest of its seq, the smallest
/// position `f` of its sources in the feeds `?4` and that `t` of its tags
/// among `?5` (lists; an empty one: any), NULL while it lacks either.
/// Articles are looked for among those stored after the cursor `?1` or
/// given a source or tag since (an article's position is one of those),
/// then kept when their position is above the cursor and at most `?2` (the
/// snapshot's highest), unpurged, fetched at or after `?3` (NULL: any time).
macro_rules! selection {
    ($d:ident) => {
        concat!(
            "(SELECT a.*, CASE WHEN a.f IS NOT NULL AND a.t IS NOT NULL THEN ",
            greatest!($d),
            "(a.seq, a.f, a.t) END AS position
              FROM (SELECT a.*,
                      CASE WHEN ",
            no_texts!($d, "?4"),
            " THEN a.seq ELSE (SELECT min(s.pos) FROM sources s
                          WHERE s.article_seq = a.seq AND ",
            in_list!($d, "s.feed_url", "?4"),
            ") END AS f,
                      CASE WHEN ",
            no_texts!($d, "?5"),
            " THEN a.seq ELSE (SELECT min(t.pos) FROM article_tags t
                          WHERE t.article_seq = a.seq AND ",
            in_list!($d, "t.tag", "?5"),
            ") END AS t
                    FROM articles a
                    WHERE a.seq IN (SELECT seq FROM articles WHERE seq > ?1
                                    UNION SELECT article_seq FROM sources
                                          WHERE pos > ?1 AND pos > article_seq
                                    UNION SELECT article_seq FROM article_tags
                                          WHERE pos > ?1 AND pos > article_seq)
                      AND a.purged_at IS NULL
                      AND (CAST(?3 AS TEXT) IS NULL OR a.fetched_at >= ?3)) a) a
             WHERE a.position > ?1 AND a.position <= ?2"
        )
    };
}

macro_rules! count {
    ($d:ident) => {
        concat!("SELECT count(*) AS n FROM ", selection!($d))
    };
}

macro_rules! articles {
    ($d:ident) => {
        concat!(
            "SELECT a.seq, a.id, a.title, a.url, a.canonical_url, a.author, a.published,
                    a.updated, a.fetched_at, a.summary, a.content_html, a.content_text,
                    a.content_source, a.word_count, a.language, a.image, a.categories,
                    a.enclosures, a.position
             FROM ",
            selection!($d),
            " ORDER BY a.position, a.seq LIMIT ?6"
        )
    };
}

/// The tags of the articles `?1`.
macro_rules! tags {
    ($d:ident) => {
        concat!(
            "SELECT article_seq, tag FROM article_tags WHERE ",
            in_list!($d, "article_seq", "?1"),
            " ORDER BY article_seq, tag"
        )
    };
}

/// The sources of the articles `?1`, in the order they were stored.
macro_rules! sources {
    ($d:ident) => {
        concat!(
            "SELECT s.article_seq, COALESCE(f.name, s.feed_url) AS feed, s.feed_url,
                    s.entry_id, s.url
             FROM sources s LEFT JOIN feeds f ON f.url = s.feed_url
             WHERE ",
            in_list!($d, "s.article_seq", "?1"),
            " ORDER BY s.",
            source_order!($d)
        )
    };
}

/// The arguments `?1` to `?5` of [`selection!`] for `filter` up to `highest`.
fn selection_args<'a>(
    filter: &'a ExportFilter,
    highest: i64,
    since: &'a Option<String>,
) -> [Value<'a>; 5] {
    [
        filter.after_seq.into(),
        highest.into(),
        since.into(),
        Value::Texts(&filter.feed_urls),
        Value::Texts(&filter.tags),
    ]
}

impl<B: SqlBackend> Exports for B {
    fn data_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .read(|c| c.number(by_dialect!(c, data_version), &[], "highest"))?
            .unwrap_or(0))
    }

    fn count_articles(&self, filter: &ExportFilter) -> Result<u64, StoreError> {
        let since = filter.since.map(format_time);
        let args = selection_args(filter, i64::MAX, &since);
        let count = self.read(|c| c.number(by_dialect!(c, count), &args, "n"))?;
        Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    fn for_each_article(
        &mut self,
        filter: &ExportFilter,
        each: &mut dyn FnMut(StoredArticle) -> ControlFlow<()>,
    ) -> Result<i64, StoreError> {
        let since = filter.since.map(format_time);
        let limit = filter
            .limit
            .map_or(i64::MAX, |l| i64::try_from(l).unwrap_or(i64::MAX));
        self.snapshot(|s| {
            let highest = s
                .number(by_dialect!(s, highest_position), &[], "highest")?
                .unwrap_or(0);
            let args = [
                &selection_args(filter, highest, &since)[..],
                &[limit.into()],
            ]
            .concat();
            s.batches((by_dialect!(s, articles), &args), &mut |c, rows| {
                let seqs = rows
                    .iter()
                    .map(|r| r.get("seq"))
                    .collect::<Result<Vec<i64>, _>>()?;
                let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
                for r in c.rows(by_dialect!(c, tags), &[Value::Ints(&seqs)])? {
                    tags.entry(r.get("article_seq")?)
                        .or_default()
                        .push(r.get("tag")?);
                }
                let mut sources: HashMap<i64, Vec<StoredSource>> = HashMap::new();
                for r in c.rows(by_dialect!(c, sources), &[Value::Ints(&seqs)])? {
                    sources
                        .entry(r.get("article_seq")?)
                        .or_default()
                        .push(StoredSource {
                            feed: r.get("feed")?,
                            // Stored as configured; exported without credentials.
                            feed_url: crate::redact::url_text(&r.get::<String>("feed_url")?),
                            entry_id: r.get("entry_id")?,
                            url: r.get("url")?,
                        });
                }
                for r in rows {
                    let seq = r.get("seq")?;
                    let article = article(&r, tags.remove(&seq), sources.remove(&seq))?;
                    if each(article).is_break() {
                        return Ok(ControlFlow::Break(()));
                    }
                }
                Ok(ControlFlow::Continue(()))
            })?;
            Ok(highest)
        })
    }
}

/// A row of [`articles!`] with its tags and sources.
fn article(
    r: &Row,
    tags: Option<Vec<String>>,
    sources: Option<Vec<StoredSource>>,
) -> Result<StoredArticle, StoreError> {
    Ok(columns!(r, StoredArticle {
        seq, position, id, title, url, canonical_url, author, published, updated, fetched_at,
        summary, content_html, content_text, content_source, word_count, language, image;
        content_markdown: None,
        tags: tags.unwrap_or_default(),
        categories: json_list(r.get("categories")?),
        enclosures: json_list(r.get("enclosures")?),
        sources: sources.unwrap_or_default(),
    }))
}
