//! Writing one feed poll: feed state and every sighting, in one transaction,
//! with deduplication resolved at insert time.

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, ToSql, Transaction, params};
use url::Url;

use crate::pacing::FeedOutcome;

use super::Sqlite;
use crate::store::backend::Polls;
use crate::store::model::{
    ArticleRecord, Cadence, ContentSource, PollRecord, PollSummary, Sighting,
};
use crate::store::{StoreError, dedup, format_time, json_column};

impl Polls for Sqlite {
    fn record_poll(&mut self, poll: &PollRecord) -> Result<PollSummary, StoreError> {
        let mut tx = self.conn.transaction()?;
        let now = format_time(poll.polled_at);
        record_feed_state(&tx, poll, &now)?;
        let summary = dedup::record_all(&mut tx, &poll.feed_url, &now, &poll.sightings)?;
        let succeeded = !matches!(poll.outcome, FeedOutcome::Failed { .. });
        if let (Cadence::Adaptive { bounds, fresh_for }, true) = (poll.cadence, succeeded) {
            dedup::schedule_adaptive(&mut tx, &poll.feed_url, poll.polled_at, bounds, fresh_for)?;
        }
        tx.commit()?;
        Ok(summary)
    }

    fn record_sightings(
        &mut self,
        feed_url: &str,
        feed_name: &str,
        polled_at: DateTime<Utc>,
        sightings: &[Sighting],
    ) -> Result<PollSummary, StoreError> {
        let mut tx = self.conn.transaction()?;
        register_feed(&tx, feed_url, feed_name)?;
        let summary = dedup::record_all(&mut tx, feed_url, &format_time(polled_at), sightings)?;
        tx.commit()?;
        Ok(summary)
    }
}

/// The feed's row, with its configured name.
fn register_feed(tx: &Transaction<'_>, feed_url: &str, feed_name: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO feeds (url, name) VALUES (?1, ?2)
         ON CONFLICT (url) DO UPDATE SET name = excluded.name",
        params![feed_url, feed_name],
    )?;
    Ok(())
}

fn record_feed_state(tx: &Transaction<'_>, poll: &PollRecord, now: &str) -> rusqlite::Result<()> {
    register_feed(tx, &poll.feed_url, &poll.feed_name)?;
    match &poll.outcome {
        FeedOutcome::Fetched {
            etag,
            last_modified,
            moved_to,
            repairs,
            ttl,
            filtered,
            interstitials,
        } => tx.execute(
            "UPDATE feeds SET etag = ?2, last_modified = ?3, last_poll_at = ?4,
                 last_success_at = ?4, state = 'ok', last_error = NULL,
                 consecutive_errors = 0, next_attempt_at = NULL, repairs = ?5,
                 moved_to = ?6, ttl_secs = ?7, filtered = ?8, interstitials = ?9
             WHERE url = ?1",
            params![
                poll.feed_url,
                etag,
                last_modified,
                now,
                repairs
                    .iter()
                    .map(|r| r.name())
                    .collect::<Vec<_>>()
                    .join(" "),
                moved_to,
                ttl.map(|t| t.as_secs()),
                filtered,
                interstitials.to_column()
            ],
        )?,
        FeedOutcome::NotModified => tx.execute(
            "UPDATE feeds SET last_poll_at = ?2, last_success_at = ?2, state = 'not_modified',
                 last_error = NULL, consecutive_errors = 0, next_attempt_at = NULL
             WHERE url = ?1",
            params![poll.feed_url, now],
        )?,
        FeedOutcome::Failed {
            state,
            error,
            next_attempt,
        } => tx.execute(
            "UPDATE feeds SET last_poll_at = ?2, state = ?3, last_error = ?4,
                 consecutive_errors = consecutive_errors + (?3 <> 'rate_limited'),
                 next_attempt_at = ?5
             WHERE url = ?1",
            params![
                poll.feed_url,
                now,
                state.as_str(),
                error,
                next_attempt.map(format_time)
            ],
        )?,
    };
    Ok(())
}

/// Keeps the article's page; `replace` an older one (an update), or only
/// fill a gap (another sighting of a stored article).
fn save_page(
    tx: &Transaction<'_>,
    seq: i64,
    article: &ArticleRecord,
    now: &str,
    replace: bool,
) -> rusqlite::Result<()> {
    let Some(page) = &article.page else {
        return Ok(());
    };
    let verb = if replace { "REPLACE" } else { "IGNORE" };
    tx.prepare_cached(&format!(
        "INSERT OR {verb} INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
         VALUES (?1, ?2, ?3, ?4, ?5)"
    ))?
    .execute(params![
        seq,
        page.url.as_str(),
        page.content_type,
        now,
        page.body_zstd
    ])?;
    Ok(())
}

fn is_purged(tx: &Transaction<'_>, seq: i64) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM articles WHERE seq = ?1 AND purged_at IS NOT NULL")?
        .exists([seq])
}

/// The article stored under `key`.
fn article_under(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached("SELECT article_seq FROM article_keys WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

/// The oldest article known under any of `keys` that is not another entry
/// of `feed_url`: two entries their own feed gives distinct ids are never
/// one article (SPEC, Deduplication, comes before rules 2–4), even when they
/// link to one page (`day#post-1`, `day#post-2`) or carry the same text.
fn find_article_of(
    tx: &Transaction<'_>,
    keys: &[&str],
    feed_url: &str,
    entry_id: &str,
) -> rusqlite::Result<Option<i64>> {
    let mut best: Option<i64> = None;
    let mut stmt = tx.prepare_cached(
        "SELECT k.article_seq FROM article_keys k WHERE k.key = ?1 AND NOT EXISTS
             (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
              AND s.feed_url = ?2 AND s.entry_id <> ?3)",
    )?;
    for key in keys {
        let found = stmt
            .query_row(params![key, feed_url, entry_id], |r| r.get::<_, i64>(0))
            .optional()?;
        if let Some(seq) = found {
            best = Some(best.map_or(seq, |b| b.min(seq)));
        }
    }
    Ok(best)
}

fn add_keys(tx: &Transaction<'_>, seq: i64, keys: &[&str]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO article_keys (key, article_seq) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for key in keys {
        stmt.execute(params![key, seq])?;
    }
    Ok(())
}

fn add_tags(
    tx: &Transaction<'_>,
    seq: i64,
    position: i64,
    tags: &[String],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO article_tags (article_seq, tag, pos) VALUES (?1, ?2, ?3)
         ON CONFLICT DO NOTHING",
    )?;
    for tag in tags {
        stmt.execute(params![seq, tag, position])?;
    }
    Ok(())
}

/// The next number of `articles.seq`'s AUTOINCREMENT counter, taken: the
/// next article's seq is above it (SQLite gives the larger of the counter
/// and the highest seq, plus one).
fn next_position(tx: &Transaction<'_>) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached(
        "UPDATE sqlite_sequence
         SET seq = max(seq, (SELECT COALESCE(max(a.seq), 0) FROM articles a)) + 1
         WHERE name = 'articles' RETURNING seq",
    )?
    .query_row([], |r| r.get(0))
    .optional()
}

/// Adds (or refreshes) the source row, at `position` when new; true when
/// it did not exist before.
fn add_source(
    tx: &Transaction<'_>,
    seq: i64,
    position: i64,
    feed_url: &str,
    sighting: &Sighting,
    now: &str,
) -> rusqlite::Result<bool> {
    let existed = tx
        .prepare_cached("SELECT 1 FROM sources WHERE feed_url = ?1 AND entry_id = ?2")?
        .exists(params![feed_url, sighting.entry_id])?;
    tx.prepare_cached(
        "INSERT INTO sources (feed_url, entry_id, article_seq, url, entry_hash, first_seen, pos)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (feed_url, entry_id) DO UPDATE SET
             url = excluded.url, entry_hash = excluded.entry_hash",
    )?
    .execute(params![
        feed_url,
        sighting.entry_id,
        seq,
        sighting.url.as_ref().map(Url::as_str),
        sighting.entry_hash,
        now,
        position
    ])?;
    Ok(!existed)
}

fn insert_article(
    tx: &Transaction<'_>,
    id: &str,
    now: &str,
    a: &ArticleRecord,
) -> rusqlite::Result<i64> {
    let mut values = article_values(a);
    values.extend([
        (":id", Value::from(id.to_owned())),
        (":now", Value::from(now.to_owned())),
    ]);
    tx.prepare_cached(
        "INSERT INTO articles (id, fetched_at, title, url, canonical_url, author, published,
             updated, summary, content_html, content_text, content_source, word_count,
             language, image, categories, enclosures)
         VALUES (:id, :now, :title, :url, :canonical_url, :author, :published, :updated,
             :summary, :content_html, :content_text, :content_source, :word_count,
             :language, :image, :categories, :enclosures)",
    )?
    .execute(&*named(&values))?;
    Ok(tx.last_insert_rowid())
}

/// The entry changed in its feed: take the new fields, keep seq, id and fetched_at.
fn update_article(tx: &Transaction<'_>, seq: i64, a: &ArticleRecord) -> rusqlite::Result<()> {
    let mut values = article_values(a);
    values.push((":seq", Value::from(seq)));
    tx.prepare_cached(
        "UPDATE articles SET title = :title, url = :url, canonical_url = :canonical_url,
             author = :author, published = COALESCE(:published, published),
             updated = :updated, summary = :summary, content_html = :content_html,
             content_text = :content_text, content_source = :content_source,
             word_count = :word_count, language = :language, image = :image,
             categories = :categories, enclosures = :enclosures
         WHERE seq = :seq",
    )?
    .execute(&*named(&values))?;
    Ok(())
}

/// The entry changed in its feed but its page was not fetched again: take
/// the feed's fields (a field the feed lacks keeps the stored value, which
/// may come from the page), and its body only when the stored body is not the
/// page's. True when the body was taken.
fn refresh_article(tx: &Transaction<'_>, seq: i64, a: &ArticleRecord) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "UPDATE articles SET title = COALESCE(?2, title), url = ?3,
             author = COALESCE(?4, author), published = COALESCE(?5, published),
             updated = ?6, summary = ?7, categories = ?8, enclosures = ?9
         WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        a.title,
        a.url.as_ref().map(Url::as_str),
        a.author,
        a.published.map(format_time),
        a.updated.map(format_time),
        a.summary,
        json_column(&a.categories),
        json_column(&a.enclosures),
    ])?;
    let took_body = tx
        .prepare_cached(
            "UPDATE articles SET content_html = ?2, content_text = ?3, content_source = ?4,
                 word_count = ?5
             WHERE seq = ?1 AND content_source <> 'article'",
        )?
        .execute(params![
            seq,
            a.content_html,
            a.content_text,
            a.content_source.unwrap_or(ContentSource::None).as_str(),
            a.word_count,
        ])?;
    Ok(took_body > 0)
}

/// The columns an article record sets, as named SQL parameters.
fn article_values(a: &ArticleRecord) -> Vec<(&'static str, Value)> {
    let url = |u: &Option<Url>| Value::from(u.as_ref().map(|u| u.as_str().to_owned()));
    vec![
        (":title", Value::from(a.title.clone())),
        (":url", url(&a.url)),
        (":canonical_url", url(&a.canonical_url)),
        (":author", Value::from(a.author.clone())),
        (":published", Value::from(a.published.map(format_time))),
        (":updated", Value::from(a.updated.map(format_time))),
        (":summary", Value::from(a.summary.clone())),
        (":content_html", Value::from(a.content_html.clone())),
        (":content_text", Value::from(a.content_text.clone())),
        (
            ":content_source",
            Value::from(
                a.content_source
                    .unwrap_or(ContentSource::None)
                    .as_str()
                    .to_owned(),
            ),
        ),
        (":word_count", Value::from(a.word_count)),
        (":language", Value::from(a.language.clone())),
        (":image", url(&a.image)),
        (":categories", Value::from(json_column(&a.categories))),
        (":enclosures", Value::from(json_column(&a.enclosures))),
    ]
}

fn named<'a>(values: &'a [(&'static str, Value)]) -> Vec<(&'static str, &'a dyn ToSql)> {
    values.iter().map(|(k, v)| (*k, v as &dyn ToSql)).collect()
}

/// Another sighting of a stored article: fill in what the stored copy lacks,
/// and take the scraped body when the stored one only had the feed's.
fn merge_article(tx: &Transaction<'_>, seq: i64, a: &ArticleRecord) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "UPDATE articles SET
             title = COALESCE(title, ?2), canonical_url = COALESCE(canonical_url, ?3),
             author = COALESCE(author, ?4), published = COALESCE(published, ?5),
             summary = COALESCE(summary, ?6), language = COALESCE(language, ?7),
             image = COALESCE(image, ?8)
         WHERE seq = ?1",
    )?
    .execute(params![
        seq,
        a.title,
        a.canonical_url.as_ref().map(Url::as_str),
        a.author,
        a.published.map(format_time),
        a.summary,
        a.language,
        a.image.as_ref().map(Url::as_str),
    ])?;
    if a.content_source == Some(ContentSource::Article) {
        tx.prepare_cached(
            "UPDATE articles SET content_html = ?2, content_text = ?3, content_source = 'article',
                 word_count = ?4
             WHERE seq = ?1 AND content_source <> 'article'",
        )?
        .execute(params![seq, a.content_html, a.content_text, a.word_count])?;
    }
    Ok(())
}

/// SQLite's statements for the rules in [`dedup`].
impl dedup::PollTx for Transaction<'_> {
    fn article_under(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(article_under(self, key)?)
    }

    fn find_article_of(
        &mut self,
        keys: &[&str],
        feed_url: &str,
        entry_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        Ok(find_article_of(self, keys, feed_url, entry_id)?)
    }

    fn is_purged(&mut self, seq: i64) -> Result<bool, StoreError> {
        Ok(is_purged(self, seq)?)
    }

    fn next_position(&mut self) -> Result<i64, StoreError> {
        next_position(self)?.ok_or_else(|| {
            StoreError::Inconsistent(
                "an article is stored but the articles' counter (sqlite_sequence) is missing"
                    .into(),
            )
        })
    }

    fn add_source(
        &mut self,
        seq: i64,
        position: i64,
        feed_url: &str,
        sighting: &Sighting,
        now: &str,
    ) -> Result<bool, StoreError> {
        Ok(add_source(self, seq, position, feed_url, sighting, now)?)
    }

    fn add_keys(&mut self, seq: i64, keys: &[&str]) -> Result<(), StoreError> {
        Ok(add_keys(self, seq, keys)?)
    }

    fn add_tags(&mut self, seq: i64, position: i64, tags: &[String]) -> Result<(), StoreError> {
        Ok(add_tags(self, seq, position, tags)?)
    }

    fn insert_article(
        &mut self,
        id: &str,
        now: &str,
        article: &ArticleRecord,
    ) -> Result<i64, StoreError> {
        Ok(insert_article(self, id, now, article)?)
    }

    fn update_article(&mut self, seq: i64, article: &ArticleRecord) -> Result<(), StoreError> {
        Ok(update_article(self, seq, article)?)
    }

    fn refresh_article(&mut self, seq: i64, article: &ArticleRecord) -> Result<bool, StoreError> {
        Ok(refresh_article(self, seq, article)?)
    }

    fn merge_article(&mut self, seq: i64, article: &ArticleRecord) -> Result<(), StoreError> {
        Ok(merge_article(self, seq, article)?)
    }

    fn save_page(
        &mut self,
        seq: i64,
        article: &ArticleRecord,
        now: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        Ok(save_page(self, seq, article, now, replace)?)
    }

    fn publications(&mut self, feed_url: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        // When each of the feed's newest articles was published, or first
        // seen when the feed gave no date.
        let mut newest = self.prepare_cached(
            "SELECT max(coalesce(a.published, s.first_seen))
             FROM sources s JOIN articles a ON a.seq = s.article_seq
             WHERE s.feed_url = ?1
             GROUP BY a.seq ORDER BY 1 DESC LIMIT ?2",
        )?;
        let rows = newest.query_map(params![feed_url, limit], |r| r.get::<_, String>(0))?;
        Ok(rows.filter_map(Result::ok).collect())
    }

    fn feed_cadence(&mut self, feed_url: &str) -> Result<(Option<u64>, Option<u64>), StoreError> {
        Ok(self.query_row(
            "SELECT ttl_secs, poll_interval_secs FROM feeds WHERE url = ?1",
            params![feed_url],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    fn set_next_poll(
        &mut self,
        feed_url: &str,
        interval_secs: u64,
        next: &str,
    ) -> Result<(), StoreError> {
        self.execute(
            "UPDATE feeds SET poll_interval_secs = ?2, next_attempt_at = ?3 WHERE url = ?1",
            params![feed_url, interval_secs, next],
        )?;
        Ok(())
    }
}
