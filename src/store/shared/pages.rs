//! Kept article pages (`[storage] keep_html`): read back for `gleaner
//! reextract`, and its writes, new bodies for them.

use crate::store::backend::{Pages, Reextractions};
use crate::store::model::{Applied, KeptPage, Reextraction};
use crate::store::sql::{SqlBackend, Value, by_dialect, columns, in_list, no_texts, without_nul};
use crate::store::{StoreError, json_list};

/// The kept pages of unpurged articles seen in the feeds `?1` (a list;
/// empty: all), as `p` with their article `a`.
macro_rules! kept {
    ($d:ident) => {
        concat!(
            " FROM pages p JOIN articles a ON a.seq = p.article_seq
              WHERE a.purged_at IS NULL AND (",
            no_texts!($d, "?1"),
            " OR EXISTS (SELECT 1 FROM sources s WHERE s.article_seq = p.article_seq AND ",
            in_list!($d, "s.feed_url", "?1"),
            "))"
        )
    };
}

macro_rules! count_kept {
    ($d:ident) => {
        concat!("SELECT count(*) AS n", kept!($d))
    };
}

/// The next `?3` kept pages after the article `?2`, each with the feeds of
/// its article (a JSON array, in the order they were seen).
macro_rules! kept_after {
    (Sqlite) => {
        concat!(
            "SELECT p.article_seq, p.url, p.fetched_at, p.content_type, p.body_zstd,
                    a.content_source, a.word_count,
                    (SELECT json_group_array(feed_url ORDER BY rowid) FROM sources
                     WHERE article_seq = p.article_seq) AS feed_urls",
            kept!(Sqlite),
            " AND p.article_seq > ?2 ORDER BY p.article_seq LIMIT ?3"
        )
    };
    (Postgres) => {
        concat!(
            "SELECT p.article_seq, p.url, p.fetched_at, p.content_type, p.body_zstd,
                    a.content_source, a.word_count,
                    (SELECT CAST(json_agg(feed_url ORDER BY source_seq) AS TEXT) FROM sources
                     WHERE article_seq = p.article_seq) AS feed_urls",
            kept!(Postgres),
            " AND p.article_seq > ?2 ORDER BY p.article_seq LIMIT ?3"
        )
    };
}

impl<B: SqlBackend> Pages for B {
    fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError> {
        let count =
            self.read(|c| c.number(by_dialect!(c, count_kept), &[Value::Texts(feed_urls)], "n"))?;
        Ok(count.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    fn kept_pages_after(
        &self,
        after_seq: i64,
        limit: usize,
        feed_urls: &[String],
    ) -> Result<Vec<KeptPage>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let params = [Value::Texts(feed_urls), after_seq.into(), limit.into()];
        let rows = self.read(|c| c.rows(by_dialect!(c, kept_after), &params))?;
        rows.iter()
            .map(|r| {
                Ok(columns!(r, KeptPage {
                    url, fetched_at, content_type, body_zstd, content_source, word_count;
                    seq: r.get("article_seq")?,
                    feed_urls: json_list(r.get("feed_urls")?),
                }))
            })
            .collect()
    }
}

/// The article `?1` is still as its page `?2`..`?5` (URL, kept at, bytes,
/// the body's origin) was read with: not purged (`gc` since), the same
/// kept page (a poll since replaced it when the entry's link changed), the
/// body from the same origin.
macro_rules! still_as_read {
    () => {
        "a.seq = ?1 AND a.purged_at IS NULL AND a.content_source = ?5
         AND EXISTS (SELECT 1 FROM pages p WHERE p.article_seq = a.seq
                     AND p.url = ?2 AND p.fetched_at = ?3 AND p.body_zstd = ?4)"
    };
}

/// Under the write lock (SQLite's taken first, PostgreSQL's `gleaner
/// write`), so that a poll or a `gc` of any instance waits rather than
/// interleaving; the check is in the UPDATE too.
impl<B: SqlBackend> Reextractions for B {
    fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<Applied, StoreError> {
        self.write(true, |c| {
            let mut applied = Applied::default();
            for r in new.iter() {
                let page = &r.page;
                let read_as = [
                    page.seq.into(),
                    (&page.url).into(),
                    (&page.fetched_at).into(),
                    page.body_zstd.as_slice().into(),
                    (&page.content_source).into(),
                ];
                let Some(stored) = c.row(
                    concat!(
                        "SELECT a.content_html, a.content_text FROM articles a WHERE ",
                        still_as_read!()
                    ),
                    &read_as,
                )?
                else {
                    applied.changed_meanwhile += 1;
                    continue;
                };
                // Compared as stored: without NUL.
                if stored.get::<Option<String>>("content_html")?.as_deref()
                    == Some(&*without_nul(&r.content_html))
                    && stored.get::<Option<String>>("content_text")?.as_deref()
                        == Some(&*without_nul(&r.content_text))
                {
                    continue;
                }
                let updated = c.run(
                    concat!(
                        "UPDATE articles AS a SET content_html = ?6, content_text = ?7,
                             word_count = ?8, content_source = 'article'
                         WHERE ",
                        still_as_read!()
                    ),
                    &[
                        &read_as[..],
                        &[
                            (&r.content_html).into(),
                            (&r.content_text).into(),
                            i64::from(r.word_count).into(),
                        ],
                    ]
                    .concat(),
                )?;
                if updated > 0 {
                    if let Some(incoming) = &r.near_dup {
                        super::near_dup::reindex(c, page.seq, incoming, &page.url)?;
                    }
                    applied.changed += 1;
                } else {
                    applied.changed_meanwhile += 1;
                }
            }
            Ok(applied)
        })
    }
}
