//! Kept article pages (`[storage] keep_html`), read back for `gleaner reextract`.

use rusqlite::params;

use super::Sqlite;
use crate::store::StoreError;
use crate::store::backend::Pages;
use crate::store::model::KeptPage;

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
}
