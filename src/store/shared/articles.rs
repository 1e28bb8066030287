//! The statements a poll's transaction runs for the rules in `dedup`:
//! articles, their sources, keys, tags and kept pages, and an adaptive
//! feed's history. Written once; SQLite and PostgreSQL differ only in where
//! a new position comes from.

use url::Url;

use crate::store::model::{ArticleRecord, ContentSource, Sighting};
use crate::store::sql::{Conn, Dialect, Value};
use crate::store::{StoreError, format_time, json_column};

/// The columns an article record sets, as text and numbers, in the order
/// the INSERT and the UPDATE below list them (from `title` on).
struct Columns {
    published: Option<String>,
    updated: Option<String>,
    categories: Option<String>,
    enclosures: Option<String>,
}

impl Columns {
    fn of(a: &ArticleRecord) -> Columns {
        Columns {
            published: a.published.map(format_time),
            updated: a.updated.map(format_time),
            categories: json_column(&a.categories),
            enclosures: json_column(&a.enclosures),
        }
    }

    fn values<'a>(&'a self, a: &'a ArticleRecord) -> [Value<'a>; 15] {
        [
            (&a.title).into(),
            url_text(&a.url),
            url_text(&a.canonical_url),
            (&a.author).into(),
            (&self.published).into(),
            (&self.updated).into(),
            (&a.summary).into(),
            (&a.content_html).into(),
            (&a.content_text).into(),
            content_source(a).into(),
            a.word_count.map(i64::from).into(),
            (&a.language).into(),
            url_text(&a.image),
            (&self.categories).into(),
            (&self.enclosures).into(),
        ]
    }
}

fn url_text(url: &Option<Url>) -> Value<'_> {
    url.as_ref().map(Url::as_str).into()
}

fn content_source(a: &ArticleRecord) -> &'static str {
    a.content_source.unwrap_or(ContentSource::None).as_str()
}

/// The statements of a poll's transaction, the same on both dialects but
/// for where a new position comes from.
impl dyn Conn + '_ {
    /// The article stored under `key`.
    pub(in crate::store) fn article_under(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        self.number(
            "SELECT article_seq FROM article_keys WHERE key = ?1",
            &[key.into()],
            "article_seq",
        )
    }

    /// The oldest article known under any of `keys` that is not another
    /// entry of `feed_url`.
    pub(in crate::store) fn find_article_of(
        &mut self,
        keys: &[&str],
        feed_url: &str,
        entry_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let mut best: Option<i64> = None;
        for key in keys {
            let found = self.number(
                "SELECT k.article_seq FROM article_keys k WHERE k.key = ?1 AND NOT EXISTS
                     (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                      AND s.feed_url = ?2 AND s.entry_id <> ?3)",
                &[(*key).into(), feed_url.into(), entry_id.into()],
                "article_seq",
            )?;
            if let Some(seq) = found {
                best = Some(best.map_or(seq, |b| b.min(seq)));
            }
        }
        Ok(best)
    }

    pub(in crate::store) fn is_purged(&mut self, seq: i64) -> Result<bool, StoreError> {
        Ok(self
            .row(
                "SELECT 1 AS purged FROM articles WHERE seq = ?1 AND purged_at IS NOT NULL",
                &[seq.into()],
            )?
            .is_some())
    }

    /// A new position from the counter `articles.seq` is drawn from, above
    /// every seq and position before it (see [`join_selections`]).
    pub(in crate::store) fn next_position(&mut self) -> Result<i64, StoreError> {
        // SQLite: the next number of `articles.seq`'s AUTOINCREMENT
        // counter, taken (the next article's seq is above it: SQLite gives
        // the larger of the counter and the highest seq, plus one).
        // PostgreSQL: the sequence of `articles.seq`. Both under the write
        // lock, like every seq.
        let sql = match self.dialect() {
            Dialect::Sqlite => {
                "UPDATE sqlite_sequence
                 SET seq = max(seq, (SELECT COALESCE(max(a.seq), 0) FROM articles a)) + 1
                 WHERE name = 'articles' RETURNING seq"
            }
            Dialect::Postgres => "SELECT nextval(pg_get_serial_sequence('articles', 'seq')) AS seq",
        };
        self.number(sql, &[], "seq")?.ok_or_else(|| {
            StoreError::Inconsistent(
                "an article is stored but the articles' counter (sqlite_sequence) is missing"
                    .into(),
            )
        })
    }

    /// Adds (or refreshes) the source row, at `position` when new; true
    /// when it did not exist before.
    pub(in crate::store) fn add_source(
        &mut self,
        seq: i64,
        position: i64,
        feed_url: &str,
        sighting: &Sighting,
        now: &str,
    ) -> Result<bool, StoreError> {
        let existed = self
            .row(
                "SELECT 1 AS found FROM sources WHERE feed_url = ?1 AND entry_id = ?2",
                &[feed_url.into(), (&sighting.entry_id).into()],
            )?
            .is_some();
        self.run(
            "INSERT INTO sources (feed_url, entry_id, article_seq, url, entry_hash, first_seen,
                 pos)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (feed_url, entry_id) DO UPDATE SET
                 url = excluded.url, entry_hash = excluded.entry_hash",
            &[
                feed_url.into(),
                (&sighting.entry_id).into(),
                seq.into(),
                url_text(&sighting.url),
                (&sighting.entry_hash).into(),
                now.into(),
                position.into(),
            ],
        )?;
        Ok(!existed)
    }

    pub(in crate::store) fn add_keys(&mut self, seq: i64, keys: &[&str]) -> Result<(), StoreError> {
        for key in keys {
            self.run(
                "INSERT INTO article_keys (key, article_seq) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                &[(*key).into(), seq.into()],
            )?;
        }
        Ok(())
    }

    /// Adds the tags the article lacks, at `position`.
    pub(in crate::store) fn add_tags(
        &mut self,
        seq: i64,
        position: i64,
        tags: &[String],
    ) -> Result<(), StoreError> {
        for tag in tags {
            self.run(
                "INSERT INTO article_tags (article_seq, tag, pos) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                &[seq.into(), tag.into(), position.into()],
            )?;
        }
        Ok(())
    }

    pub(in crate::store) fn insert_article(
        &mut self,
        id: &str,
        now: &str,
        a: &ArticleRecord,
    ) -> Result<i64, StoreError> {
        let columns = Columns::of(a);
        let params = [&[id.into(), now.into()], &columns.values(a)[..]].concat();
        self.number(
            "INSERT INTO articles (id, fetched_at, title, url, canonical_url, author, published,
                 updated, summary, content_html, content_text, content_source, word_count,
                 language, image, categories, enclosures)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
             RETURNING seq",
            &params,
            "seq",
        )?
        .ok_or_else(|| StoreError::Inconsistent("INSERT … RETURNING gave no row".into()))
    }

    pub(in crate::store) fn update_article(
        &mut self,
        seq: i64,
        a: &ArticleRecord,
    ) -> Result<(), StoreError> {
        let columns = Columns::of(a);
        self.run(
            "UPDATE articles SET title = ?2, url = ?3, canonical_url = ?4, author = ?5,
                 published = COALESCE(?6, published), updated = ?7, summary = ?8,
                 content_html = ?9, content_text = ?10, content_source = ?11,
                 word_count = ?12, language = ?13, image = ?14, categories = ?15,
                 enclosures = ?16
             WHERE seq = ?1",
            &[&[seq.into()], &columns.values(a)[..]].concat(),
        )?;
        Ok(())
    }

    /// Feed fields only; true when the body was taken too.
    pub(in crate::store) fn refresh_article(
        &mut self,
        seq: i64,
        a: &ArticleRecord,
    ) -> Result<bool, StoreError> {
        let c = Columns::of(a);
        self.run(
            "UPDATE articles SET title = COALESCE(?2, title), url = ?3,
                 author = COALESCE(?4, author), published = COALESCE(?5, published),
                 updated = ?6, summary = ?7, categories = ?8, enclosures = ?9
             WHERE seq = ?1",
            &[
                seq.into(),
                (&a.title).into(),
                url_text(&a.url),
                (&a.author).into(),
                (&c.published).into(),
                (&c.updated).into(),
                (&a.summary).into(),
                (&c.categories).into(),
                (&c.enclosures).into(),
            ],
        )?;
        let took_body = self.run(
            "UPDATE articles SET content_html = ?2, content_text = ?3, content_source = ?4,
                 word_count = ?5
             WHERE seq = ?1 AND content_source <> 'article'",
            &[
                seq.into(),
                (&a.content_html).into(),
                (&a.content_text).into(),
                content_source(a).into(),
                a.word_count.map(i64::from).into(),
            ],
        )?;
        Ok(took_body > 0)
    }

    pub(in crate::store) fn merge_article(
        &mut self,
        seq: i64,
        a: &ArticleRecord,
    ) -> Result<(), StoreError> {
        let published = a.published.map(format_time);
        self.run(
            "UPDATE articles SET
                 title = COALESCE(title, ?2), canonical_url = COALESCE(canonical_url, ?3),
                 author = COALESCE(author, ?4), published = COALESCE(published, ?5),
                 summary = COALESCE(summary, ?6), language = COALESCE(language, ?7),
                 image = COALESCE(image, ?8)
             WHERE seq = ?1",
            &[
                seq.into(),
                (&a.title).into(),
                url_text(&a.canonical_url),
                (&a.author).into(),
                (&published).into(),
                (&a.summary).into(),
                (&a.language).into(),
                url_text(&a.image),
            ],
        )?;
        if a.content_source == Some(ContentSource::Article) {
            self.run(
                "UPDATE articles SET content_html = ?2, content_text = ?3,
                     content_source = 'article', word_count = ?4
                 WHERE seq = ?1 AND content_source <> 'article'",
                &[
                    seq.into(),
                    (&a.content_html).into(),
                    (&a.content_text).into(),
                    a.word_count.map(i64::from).into(),
                ],
            )?;
        }
        Ok(())
    }

    pub(in crate::store) fn save_page(
        &mut self,
        seq: i64,
        article: &ArticleRecord,
        now: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        let Some(page) = &article.page else {
            return Ok(());
        };
        let params = [
            seq.into(),
            page.url.as_str().into(),
            (&page.content_type).into(),
            now.into(),
            page.body_zstd.as_slice().into(),
        ];
        if replace {
            self.run(
                "INSERT INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (article_seq) DO UPDATE SET url = excluded.url,
                     content_type = excluded.content_type, fetched_at = excluded.fetched_at,
                     body_zstd = excluded.body_zstd",
                &params,
            )?;
        } else {
            self.run(
                "INSERT INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                &params,
            )?;
        }
        Ok(())
    }

    /// When each of the feed's newest `limit` articles was published (or
    /// first seen), newest first, as stored text.
    pub(in crate::store) fn publications(
        &mut self,
        feed_url: &str,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        // When each of the feed's newest articles was published, or first
        // seen when the feed gave no date.
        let rows = self.rows(
            "SELECT max(coalesce(a.published, s.first_seen)) AS at
             FROM sources s JOIN articles a ON a.seq = s.article_seq
             WHERE s.feed_url = ?1
             GROUP BY a.seq ORDER BY 1 DESC LIMIT ?2",
            &[feed_url.into(), limit.into()],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<Option<String>>("at").ok().flatten())
            .collect())
    }

    /// The feed's `ttl_secs` and `poll_interval_secs`.
    pub(in crate::store) fn feed_cadence(
        &mut self,
        feed_url: &str,
    ) -> Result<(Option<u64>, Option<u64>), StoreError> {
        let row = self.row(
            "SELECT ttl_secs, poll_interval_secs FROM feeds WHERE url = ?1",
            &[feed_url.into()],
        )?;
        let secs = |name: &str| -> Result<Option<u64>, StoreError> {
            Ok(match &row {
                Some(r) => r
                    .get::<Option<i64>>(name)?
                    .and_then(|s| u64::try_from(s).ok()),
                None => None,
            })
        };
        Ok((secs("ttl_secs")?, secs("poll_interval_secs")?))
    }

    pub(in crate::store) fn set_next_poll(
        &mut self,
        feed_url: &str,
        interval_secs: u64,
        next: &str,
    ) -> Result<(), StoreError> {
        self.run(
            "UPDATE feeds SET poll_interval_secs = ?2, next_attempt_at = ?3 WHERE url = ?1",
            &[
                feed_url.into(),
                i64::try_from(interval_secs).unwrap_or(i64::MAX).into(),
                next.into(),
            ],
        )?;
        Ok(())
    }
}
