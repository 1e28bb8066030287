//! `gleaner search`: SQLite FTS5 over titles and text, ranked by bm25.

use rusqlite::params;

use super::model::SearchHit;
use super::{Sqlite, StoreError};

/// A title match weighs this many times a match in the text.
pub(super) const TITLE_WEIGHT: f64 = 5.0;

/// Around this many words of text are shown around the matches.
const SNIPPET_WORDS: u32 = 16;

/// One word of what a person typed: its text without `"`, and whether a
/// trailing `*` made it a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub word: String,
    pub prefix: bool,
}

/// The rules both backends apply to what a person typed: every word must
/// appear (in any order), a trailing `*` matches a prefix, and nothing else
/// is syntax, so `C++`, quotes or `AND` never make a query fail. A word
/// without a letter or digit is no term. Empty when there is no word at all.
pub fn terms(typed: &str) -> Vec<Term> {
    typed
        .split_whitespace()
        .filter_map(|word| {
            let (word, prefix) = match word.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (word, false),
            };
            let word = word.replace('"', "");
            let has_token = word.chars().any(char::is_alphanumeric);
            has_token.then_some(Term { word, prefix })
        })
        .collect()
}

/// Turns what a person typed into an FTS5 query (see [`terms`]): each word
/// a quoted string, `None` when there is no word at all.
pub fn fts_query(typed: &str) -> Option<String> {
    let terms: Vec<String> = terms(typed)
        .into_iter()
        .map(|t| format!("\"{}\"{}", t.word, if t.prefix { "*" } else { "" }))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

impl Sqlite {
    /// The `limit` best matches of `typed` (see [`fts_query`]).
    pub fn search(&self, typed: &str, limit: u64) -> Result<Vec<SearchHit>, StoreError> {
        let Some(query) = fts_query(typed) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT a.id, a.title, a.url, a.published,
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
                let feeds: String = r.get(4)?;
                Ok(SearchHit {
                    id: r.get(0)?,
                    title: r.get(1)?,
                    url: r.get(2)?,
                    published: r.get(3)?,
                    feeds: serde_json::from_str(&feeds).unwrap_or_default(),
                    snippet: r.get(5)?,
                    score: r.get(6)?,
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
        assert_eq!(
            fts_query("water reservoir").as_deref(),
            Some("\"water\" \"reservoir\"")
        );
        assert_eq!(fts_query("reserv*").as_deref(), Some("\"reserv\"*"));
        assert_eq!(
            fts_query("C++ \"quoted").as_deref(),
            Some("\"C++\" \"quoted\"")
        );
        assert_eq!(fts_query("  -- * \"\" "), None);
    }
}
