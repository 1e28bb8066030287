//! A poll's writes on PostgreSQL: the statements of [`dedup::PollTx`] (the
//! rules are `dedup`'s, shared with SQLite) under the `gleaner write` lock.

use chrono::{DateTime, Utc};
use postgres::Row;
use postgres::types::ToSql;
use url::Url;

use super::{PgTx, Postgres};
use crate::pacing::FeedOutcome;
use crate::store::backend::Polls;
use crate::store::model::{
    ArticleRecord, Cadence, ContentSource, PollRecord, PollSummary, Sighting,
};
use crate::store::{StoreError, dedup, format_time, json_column};

impl Polls for Postgres {
    fn record_poll(&mut self, poll: &PollRecord) -> Result<PollSummary, StoreError> {
        // A poll that stores no sightings (a 304, a failure, an unchanged
        // feed) writes only its feed's row, which no other instance writes
        // while this one holds the feed's lease.
        self.transaction(!poll.sightings.is_empty(), |tx| {
            let now = format_time(poll.polled_at);
            record_feed_state(tx, poll, &now)?;
            let summary = dedup::record_all(tx, &poll.feed_url, &now, &poll.sightings)?;
            let succeeded = !matches!(poll.outcome, FeedOutcome::Failed { .. });
            if let (Cadence::Adaptive { bounds, fresh_for }, true) = (poll.cadence, succeeded) {
                dedup::schedule_adaptive(tx, &poll.feed_url, poll.polled_at, bounds, fresh_for)?;
            }
            Ok(summary)
        })
    }

    fn record_sightings(
        &mut self,
        feed_url: &str,
        feed_name: &str,
        polled_at: DateTime<Utc>,
        sightings: &[Sighting],
    ) -> Result<PollSummary, StoreError> {
        self.write(|tx| {
            register_feed(tx, feed_url, feed_name)?;
            dedup::record_all(tx, feed_url, &format_time(polled_at), sightings)
        })
    }
}

fn register_feed(tx: &mut PgTx<'_, '_>, feed_url: &str, feed_name: &str) -> Result<(), StoreError> {
    tx.run(
        "INSERT INTO feeds (url, name) VALUES ($1, $2)
         ON CONFLICT (url) DO UPDATE SET name = EXCLUDED.name",
        &[&feed_url, &feed_name],
    )?;
    Ok(())
}

fn record_feed_state(
    tx: &mut PgTx<'_, '_>,
    poll: &PollRecord,
    now: &str,
) -> Result<(), StoreError> {
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
        } => {
            let repairs = repairs
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(" ");
            let ttl = ttl.map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX));
            tx.run(
                "UPDATE feeds SET etag = $2, last_modified = $3, last_poll_at = $4,
                     last_success_at = $4, state = 'ok', last_error = NULL,
                     consecutive_errors = 0, next_attempt_at = NULL, repairs = $5,
                     moved_to = $6, ttl_secs = $7, filtered = $8, interstitials = $9
                 WHERE url = $1",
                &[
                    &poll.feed_url,
                    etag,
                    last_modified,
                    &now,
                    &repairs,
                    moved_to,
                    &ttl,
                    &i64::from(*filtered),
                    &interstitials.to_column(),
                ],
            )?
        }
        FeedOutcome::NotModified => tx.run(
            "UPDATE feeds SET last_poll_at = $2, last_success_at = $2, state = 'not_modified',
                 last_error = NULL, consecutive_errors = 0, next_attempt_at = NULL
             WHERE url = $1",
            &[&poll.feed_url, &now],
        )?,
        FeedOutcome::Failed {
            state,
            error,
            next_attempt,
        } => tx.run(
            "UPDATE feeds SET last_poll_at = $2, state = $3, last_error = $4,
                 consecutive_errors = consecutive_errors
                     + CASE WHEN $3 <> 'rate_limited' THEN 1 ELSE 0 END,
                 next_attempt_at = $5
             WHERE url = $1",
            &[
                &poll.feed_url,
                &now,
                &state.as_str(),
                error,
                &next_attempt.map(format_time),
            ],
        )?,
    };
    Ok(())
}

fn url_text(url: &Option<Url>) -> Option<&str> {
    url.as_ref().map(Url::as_str)
}

fn content_source(a: &ArticleRecord) -> &'static str {
    a.content_source.unwrap_or(ContentSource::None).as_str()
}

/// The columns an article record sets, in the order the INSERT and the
/// UPDATE of [`dedup::PollTx`] list them.
struct Columns<'a> {
    a: &'a ArticleRecord,
    url: Option<&'a str>,
    canonical_url: Option<&'a str>,
    image: Option<&'a str>,
    content_source: &'static str,
    published: Option<String>,
    updated: Option<String>,
    word_count: Option<i64>,
    categories: Option<String>,
    enclosures: Option<String>,
}

impl<'a> Columns<'a> {
    fn of(a: &'a ArticleRecord) -> Columns<'a> {
        Columns {
            a,
            url: url_text(&a.url),
            canonical_url: url_text(&a.canonical_url),
            image: url_text(&a.image),
            content_source: content_source(a),
            published: a.published.map(format_time),
            updated: a.updated.map(format_time),
            word_count: a.word_count.map(i64::from),
            categories: json_column(&a.categories),
            enclosures: json_column(&a.enclosures),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 15] {
        let a = self.a;
        [
            &a.title,
            &self.url,
            &self.canonical_url,
            &a.author,
            &self.published,
            &self.updated,
            &a.summary,
            &a.content_html,
            &a.content_text,
            &self.content_source,
            &self.word_count,
            &a.language,
            &self.image,
            &self.categories,
            &self.enclosures,
        ]
    }
}

/// PostgreSQL's statements for the rules in [`dedup`].
impl dedup::PollTx for PgTx<'_, '_> {
    fn article_under(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        let row = self.row(
            "SELECT article_seq FROM article_keys WHERE key = $1",
            &[&key],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn find_article_of(
        &mut self,
        keys: &[&str],
        feed_url: &str,
        entry_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = self.row(
            "SELECT min(k.article_seq) FROM article_keys k WHERE k.key = ANY ($1) AND NOT EXISTS
                 (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                  AND s.feed_url = $2 AND s.entry_id <> $3)",
            &[&keys, &feed_url, &entry_id],
        )?;
        Ok(row.and_then(|r| r.get(0)))
    }

    fn is_purged(&mut self, seq: i64) -> Result<bool, StoreError> {
        Ok(self
            .row(
                "SELECT 1 FROM articles WHERE seq = $1 AND purged_at IS NOT NULL",
                &[&seq],
            )?
            .is_some())
    }

    fn next_position(&mut self) -> Result<i64, StoreError> {
        // Under the `gleaner write` lock, like every seq the sequence gives.
        let row = self.row(
            "SELECT nextval(pg_get_serial_sequence('articles', 'seq'))",
            &[],
        )?;
        row.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Inconsistent("nextval gave no row".into()))
    }

    fn add_source(
        &mut self,
        seq: i64,
        position: i64,
        feed_url: &str,
        sighting: &Sighting,
        now: &str,
    ) -> Result<bool, StoreError> {
        // xmax = 0 only for a row this statement inserted.
        let row = self.row(
            "INSERT INTO sources (feed_url, entry_id, article_seq, url, entry_hash, first_seen,
                 pos)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (feed_url, entry_id) DO UPDATE SET
                 url = EXCLUDED.url, entry_hash = EXCLUDED.entry_hash
             RETURNING xmax = 0",
            &[
                &feed_url,
                &sighting.entry_id,
                &seq,
                &url_text(&sighting.url),
                &sighting.entry_hash,
                &now,
                &position,
            ],
        )?;
        Ok(row.is_some_and(|r| r.get(0)))
    }

    fn add_keys(&mut self, seq: i64, keys: &[&str]) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO article_keys (key, article_seq)
             SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING",
            &[&keys, &seq],
        )?;
        Ok(())
    }

    fn add_tags(&mut self, seq: i64, position: i64, tags: &[String]) -> Result<(), StoreError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.run(
            "INSERT INTO article_tags (article_seq, tag, pos)
             SELECT $2, t, $3 FROM unnest($1::text[]) AS t ON CONFLICT DO NOTHING",
            &[&tags, &seq, &position],
        )?;
        Ok(())
    }

    fn insert_article(
        &mut self,
        id: &str,
        now: &str,
        a: &ArticleRecord,
    ) -> Result<i64, StoreError> {
        let row = self.row(
            "INSERT INTO articles (id, fetched_at, title, url, canonical_url, author, published,
                 updated, summary, content_html, content_text, content_source, word_count,
                 language, image, categories, enclosures)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             RETURNING seq",
            &[
                &[&id as &(dyn ToSql + Sync), &now],
                &Columns::of(a).params()[..],
            ]
            .concat(),
        )?;
        row.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Inconsistent("INSERT … RETURNING gave no row".into()))
    }

    fn update_article(&mut self, seq: i64, a: &ArticleRecord) -> Result<(), StoreError> {
        self.run(
            "UPDATE articles SET title = $2, url = $3, canonical_url = $4, author = $5,
                 published = COALESCE($6, published), updated = $7, summary = $8,
                 content_html = $9, content_text = $10, content_source = $11,
                 word_count = $12, language = $13, image = $14, categories = $15,
                 enclosures = $16
             WHERE seq = $1",
            &[&[&seq as &(dyn ToSql + Sync)], &Columns::of(a).params()[..]].concat(),
        )?;
        Ok(())
    }

    fn refresh_article(&mut self, seq: i64, a: &ArticleRecord) -> Result<bool, StoreError> {
        self.run(
            "UPDATE articles SET title = COALESCE($2, title), url = $3,
                 author = COALESCE($4, author), published = COALESCE($5, published),
                 updated = $6, summary = $7, categories = $8, enclosures = $9
             WHERE seq = $1",
            &[
                &seq,
                &a.title,
                &url_text(&a.url),
                &a.author,
                &a.published.map(format_time),
                &a.updated.map(format_time),
                &a.summary,
                &json_column(&a.categories),
                &json_column(&a.enclosures),
            ],
        )?;
        let took_body = self.run(
            "UPDATE articles SET content_html = $2, content_text = $3, content_source = $4,
                 word_count = $5
             WHERE seq = $1 AND content_source <> 'article'",
            &[
                &seq,
                &a.content_html,
                &a.content_text,
                &content_source(a),
                &a.word_count.map(i64::from),
            ],
        )?;
        Ok(took_body > 0)
    }

    fn merge_article(&mut self, seq: i64, a: &ArticleRecord) -> Result<(), StoreError> {
        self.run(
            "UPDATE articles SET
                 title = COALESCE(title, $2), canonical_url = COALESCE(canonical_url, $3),
                 author = COALESCE(author, $4), published = COALESCE(published, $5),
                 summary = COALESCE(summary, $6), language = COALESCE(language, $7),
                 image = COALESCE(image, $8)
             WHERE seq = $1",
            &[
                &seq,
                &a.title,
                &url_text(&a.canonical_url),
                &a.author,
                &a.published.map(format_time),
                &a.summary,
                &a.language,
                &url_text(&a.image),
            ],
        )?;
        if a.content_source == Some(ContentSource::Article) {
            self.run(
                "UPDATE articles SET content_html = $2, content_text = $3,
                     content_source = 'article', word_count = $4
                 WHERE seq = $1 AND content_source <> 'article'",
                &[
                    &seq,
                    &a.content_html,
                    &a.content_text,
                    &a.word_count.map(i64::from),
                ],
            )?;
        }
        Ok(())
    }

    fn save_page(
        &mut self,
        seq: i64,
        article: &ArticleRecord,
        now: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        let Some(page) = &article.page else {
            return Ok(());
        };
        let params: &[&(dyn ToSql + Sync)] = &[
            &seq,
            &page.url.as_str(),
            &page.content_type,
            &now,
            &page.body_zstd,
        ];
        if replace {
            self.run(
                "INSERT INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (article_seq) DO UPDATE SET url = EXCLUDED.url,
                     content_type = EXCLUDED.content_type, fetched_at = EXCLUDED.fetched_at,
                     body_zstd = EXCLUDED.body_zstd",
                params,
            )?;
        } else {
            self.run(
                "INSERT INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                params,
            )?;
        }
        Ok(())
    }

    fn publications(&mut self, feed_url: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.rows(
            "SELECT max(coalesce(a.published, s.first_seen))
             FROM sources s JOIN articles a ON a.seq = s.article_seq
             WHERE s.feed_url = $1
             GROUP BY a.seq ORDER BY 1 DESC LIMIT $2",
            &[&feed_url, &limit],
        )?;
        Ok(rows.iter().filter_map(|r| r.get(0)).collect())
    }

    fn feed_cadence(&mut self, feed_url: &str) -> Result<(Option<u64>, Option<u64>), StoreError> {
        let row = self.row(
            "SELECT ttl_secs, poll_interval_secs FROM feeds WHERE url = $1",
            &[&feed_url],
        )?;
        let secs = |r: &Row, i| {
            r.get::<_, Option<i64>>(i)
                .and_then(|s| u64::try_from(s).ok())
        };
        Ok(row.map_or((None, None), |r| (secs(&r, 0), secs(&r, 1))))
    }

    fn set_next_poll(
        &mut self,
        feed_url: &str,
        interval_secs: u64,
        next: &str,
    ) -> Result<(), StoreError> {
        let interval = i64::try_from(interval_secs).unwrap_or(i64::MAX);
        self.run(
            "UPDATE feeds SET poll_interval_secs = $2, next_attempt_at = $3 WHERE url = $1",
            &[&feed_url, &interval, &next],
        )?;
        Ok(())
    }
}
