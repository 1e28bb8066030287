//! `gleaner search` on SQLite: the FTS5 table `articles_fts` (kept in step
//! with `articles` by triggers, migration 5), ranked by bm25. PostgreSQL has
//! no FTS5: its search is a tsvector column of its own (`postgres::search`).

use rusqlite::params;

use super::Sqlite;
use crate::store::StoreError;
use crate::store::backend::Search;
use crate::store::model::SearchHit;
use crate::store::search::{TITLE_WEIGHT, rendered};

/// Around this many words of text are shown around the matches.
const SNIPPET_WORDS: u32 = 16;

/// Turns what a person typed into an FTS5 query (see [`query`]): each
/// typed word a quoted phrase of its folded words, `None` when nothing can
/// match.
fn fts_query(typed: &str) -> Result<Option<String>, StoreError> {
    // The words hold no `"` (the tokenizer cuts there) and no space.
    Ok(rendered(typed, " ", |p| {
        format!(
            "\"{}\"{}",
            p.words.join(" "),
            if p.prefix { "*" } else { "" }
        )
    })?)
}

impl Search for Sqlite {
    fn search(&self, typed: &str, limit: u64) -> Result<Vec<SearchHit>, StoreError> {
        let Some(query) = fts_query(typed)? else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.title, a.url, a.published, a.updated,
                    (SELECT json_group_array(DISTINCT coalesce(f.name, s.feed_url))
                     FROM sources s LEFT JOIN feeds f ON f.url = s.feed_url
                     WHERE s.article_seq = a.seq),
                    snippet(articles_fts, 1, '[', ']', '…', ?3),
                    -bm25(articles_fts, ?4, 1.0) AS score
             FROM articles_fts JOIN articles a ON a.seq = articles_fts.rowid
             WHERE articles_fts MATCH ?1 AND a.purged_at IS NULL
             ORDER BY score DESC, a.seq DESC
             LIMIT ?2",
        )?;
        let hits = stmt.query_map(
            params![query, limit as i64, SNIPPET_WORDS, TITLE_WEIGHT],
            |r| {
                let feeds: String = r.get(5)?;
                Ok(SearchHit {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    url: r.get(2)?,
                    published: r.get(3)?,
                    updated: r.get(4)?,
                    feeds: serde_json::from_str(&feeds).unwrap_or_default(),
                    snippet: r.get(6)?,
                    score: r.get(7)?,
                })
            },
        )?;
        Ok(hits.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_a_query_that_cannot_fail() {
        let fts = |typed: &str| fts_query(typed).unwrap();
        assert_eq!(
            fts("Water reservoir").as_deref(),
            Some("\"water\" \"reservoir\"")
        );
        assert_eq!(fts("reserv*").as_deref(), Some("\"reserv\"*"));
        assert_eq!(
            fts("C++ \"quoted www.example.com").as_deref(),
            Some("\"c\" \"quoted\" \"www example com\"")
        );
        assert_eq!(fts("  -- * \"\" "), None);
    }
}
