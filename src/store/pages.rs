//! Kept article pages (`[storage] keep_html`), read back for `gleaner reextract`.

use rusqlite::{OptionalExtension, params};

use super::{Sqlite, StoreError};

/// A kept page and what is stored of its article.
#[derive(Debug, Clone)]
pub struct KeptPage {
    pub seq: i64,
    pub url: String,
    pub content_type: Option<String>,
    pub body_zstd: Vec<u8>,
    /// The feeds the article was seen in.
    pub feed_urls: Vec<String>,
    /// `article` or `feed`: where the stored body came from.
    pub content_source: String,
    pub word_count: Option<u32>,
}

/// A new extraction of a kept page.
#[derive(Debug, Clone)]
pub struct Reextraction {
    pub seq: i64,
    pub content_html: String,
    pub content_text: String,
    pub word_count: u32,
}

/// Restricts to articles seen in these feeds (a JSON array; `[]` = all).
const IN_FEEDS: &str = "(?1 = '[]' OR EXISTS (SELECT 1 FROM sources s
     WHERE s.article_seq = p.article_seq
       AND s.feed_url IN (SELECT value FROM json_each(?1))))";

impl Sqlite {
    /// How many pages are kept (of articles from `feed_urls`; all when empty).
    pub fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError> {
        let feeds = serde_json::to_string(feed_urls).unwrap_or_else(|_| "[]".into());
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM pages p JOIN articles a ON a.seq = p.article_seq
                 WHERE a.purged_at IS NULL AND {IN_FEEDS}"
            ))?
            .query_row([feeds], |r| r.get(0))?)
    }

    /// The next `limit` kept pages after `after_seq`, in article order.
    pub fn kept_pages_after(
        &self,
        after_seq: i64,
        limit: usize,
        feed_urls: &[String],
    ) -> Result<Vec<KeptPage>, StoreError> {
        let feeds = serde_json::to_string(feed_urls).unwrap_or_else(|_| "[]".into());
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT p.article_seq, p.url, p.content_type, p.body_zstd,
                    (SELECT json_group_array(feed_url) FROM sources WHERE article_seq = p.article_seq),
                    a.content_source, a.word_count
             FROM pages p JOIN articles a ON a.seq = p.article_seq
             WHERE a.purged_at IS NULL AND p.article_seq > ?2 AND {IN_FEEDS}
             ORDER BY p.article_seq LIMIT ?3"
        ))?;
        let pages = stmt.query_map(params![feeds, after_seq, limit as i64], |r| {
            let feed_urls: String = r.get(4)?;
            Ok(KeptPage {
                seq: r.get(0)?,
                url: r.get(1)?,
                content_type: r.get(2)?,
                body_zstd: r.get(3)?,
                feed_urls: serde_json::from_str(&feed_urls).unwrap_or_default(),
                content_source: r.get(5)?,
                word_count: r.get(6)?,
            })
        })?;
        Ok(pages.collect::<Result<_, _>>()?)
    }

    /// Stores new extractions; returns how many changed the stored body.
    pub fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<usize, StoreError> {
        // It reads before it writes: a deferred transaction would fail with
        // SQLITE_BUSY_SNAPSHOT when a daemon committed in between, where
        // taking the write lock first waits for it (busy_timeout).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut changed = 0;
        {
            let mut current = tx
                .prepare_cached("SELECT content_html, content_text FROM articles WHERE seq = ?1")?;
            let mut update = tx.prepare_cached(
                "UPDATE articles SET content_html = ?2, content_text = ?3, word_count = ?4,
                     content_source = 'article'
                 WHERE seq = ?1",
            )?;
            for r in new {
                let stored: Option<(Option<String>, Option<String>)> = current
                    .query_row([r.seq], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                let same = stored.is_some_and(|(html, text)| {
                    html.as_deref() == Some(r.content_html.as_str())
                        && text.as_deref() == Some(r.content_text.as_str())
                });
                if !same {
                    update.execute(params![r.seq, r.content_html, r.content_text, r.word_count])?;
                    changed += 1;
                }
            }
        }
        tx.commit()?;
        Ok(changed)
    }
}
