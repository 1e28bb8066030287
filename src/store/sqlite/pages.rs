//! Kept article pages (`[storage] keep_html`), read back for `gleaner reextract`.

use rusqlite::{OptionalExtension, params};

use super::Sqlite;
use crate::store::StoreError;
use crate::store::backend::Pages;
use crate::store::model::{Applied, KeptPage, Reextraction};

/// The article `?1` is still as its page `?2`..`?5` (URL, kept at, bytes,
/// the body's origin) was read with: not purged (`gc` since), the same
/// kept page (a poll since replaced it when the entry's link changed), the
/// body from the same origin.
const STILL_AS_READ: &str = "a.seq = ?1 AND a.purged_at IS NULL AND a.content_source = ?5
     AND EXISTS (SELECT 1 FROM pages p WHERE p.article_seq = a.seq
                 AND p.url = ?2 AND p.fetched_at = ?3 AND p.body_zstd = ?4)";

/// Restricts to articles seen in these feeds (a JSON array; `[]` = all).
const IN_FEEDS: &str = "(?1 = '[]' OR EXISTS (SELECT 1 FROM sources s
     WHERE s.article_seq = p.article_seq
       AND s.feed_url IN (SELECT value FROM json_each(?1))))";

impl Pages for Sqlite {
    fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError> {
        let feeds = serde_json::to_string(feed_urls).unwrap_or_else(|_| "[]".into());
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM pages p JOIN articles a ON a.seq = p.article_seq
                 WHERE a.purged_at IS NULL AND {IN_FEEDS}"
            ))?
            .query_row([feeds], |r| r.get(0))?)
    }

    fn kept_pages_after(
        &self,
        after_seq: i64,
        limit: usize,
        feed_urls: &[String],
    ) -> Result<Vec<KeptPage>, StoreError> {
        let feeds = serde_json::to_string(feed_urls).unwrap_or_else(|_| "[]".into());
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT p.article_seq, p.url, p.content_type, p.body_zstd,
                    (SELECT json_group_array(feed_url) FROM sources WHERE article_seq = p.article_seq),
                    a.content_source, a.word_count, p.fetched_at
             FROM pages p JOIN articles a ON a.seq = p.article_seq
             WHERE a.purged_at IS NULL AND p.article_seq > ?2 AND {IN_FEEDS}
             ORDER BY p.article_seq LIMIT ?3"
        ))?;
        let pages = stmt.query_map(params![feeds, after_seq, limit as i64], |r| {
            let feed_urls: String = r.get(4)?;
            Ok(KeptPage {
                seq: r.get(0)?,
                url: r.get(1)?,
                fetched_at: r.get(7)?,
                content_type: r.get(2)?,
                body_zstd: r.get(3)?,
                feed_urls: serde_json::from_str(&feed_urls).unwrap_or_default(),
                content_source: r.get(5)?,
                word_count: r.get(6)?,
            })
        })?;
        Ok(pages.collect::<Result<_, _>>()?)
    }

    fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<Applied, StoreError> {
        // It reads before it writes: a deferred transaction would fail with
        // SQLITE_BUSY_SNAPSHOT when a daemon committed in between, where
        // taking the write lock first waits for it (busy_timeout).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut applied = Applied::default();
        {
            let mut current = tx.prepare_cached(&format!(
                "SELECT a.content_html, a.content_text FROM articles a WHERE {STILL_AS_READ}"
            ))?;
            let mut update = tx.prepare_cached(&format!(
                "UPDATE articles AS a SET content_html = ?6, content_text = ?7, word_count = ?8,
                     content_source = 'article'
                 WHERE {STILL_AS_READ}"
            ))?;
            for r in new {
                let page = &r.page;
                let read_as = params![
                    page.seq,
                    page.url,
                    page.fetched_at,
                    page.body_zstd,
                    page.content_source
                ];
                let stored: Option<(Option<String>, Option<String>)> = current
                    .query_row(read_as, |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()?;
                let Some((html, text)) = stored else {
                    applied.changed_meanwhile += 1;
                    continue;
                };
                if html.as_deref() == Some(r.content_html.as_str())
                    && text.as_deref() == Some(r.content_text.as_str())
                {
                    continue;
                }
                let updated = update.execute(params![
                    page.seq,
                    page.url,
                    page.fetched_at,
                    page.body_zstd,
                    page.content_source,
                    r.content_html,
                    r.content_text,
                    r.word_count
                ])?;
                if updated > 0 {
                    applied.changed += 1;
                } else {
                    applied.changed_meanwhile += 1;
                }
            }
        }
        tx.commit()?;
        Ok(applied)
    }
}
