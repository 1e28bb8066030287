//! `gleaner search` on PostgreSQL: the generated `articles.search` tsvector
//! (title weighted A, text D; migration 5) and its GIN index, with the same
//! rules for what people type as SQLite's ([`crate::store::search::terms`]).

use super::{Postgres, prepared};
use crate::store::StoreError;
use crate::store::backend::Search;
use crate::store::model::SearchHit;
use crate::store::search::{TITLE_WEIGHT, terms};

/// `ts_headline`'s options: one passage of around as many words as SQLite's
/// snippet shows, with words on both sides of the matches (each in `[` `]`).
const HEADLINE: &str =
    "StartSel=[, StopSel=], MaxFragments=1, MaxWords=16, MinWords=15, ShortWord=0";

/// PostgreSQL never indexes a longer word (`to_tsvector` drops it), and
/// `to_tsquery` refuses one: such a word matches nothing.
const MAX_WORD_BYTES: usize = 2046;

/// Turns what a person typed into `to_tsquery('simple', …)` text: each word
/// a quoted lexeme, split at ASCII punctuation as the stored text was (a
/// phrase when that leaves several parts, as FTS5 makes one), `:*` for a
/// prefix, all of them required. Nothing typed is tsquery syntax: quotes
/// and backslashes are punctuation, and would be doubled. `None` when
/// nothing can match.
pub fn tsquery(typed: &str) -> Option<String> {
    let terms = terms(typed);
    if terms.is_empty() || terms.iter().any(|t| t.word.len() > MAX_WORD_BYTES) {
        return None;
    }
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| {
            // Split where the stored text was split (migration 11): at
            // ASCII punctuation, into a phrase of the parts.
            let word: String = t
                .word
                .chars()
                .map(|c| if c.is_ascii_punctuation() { ' ' } else { c })
                .collect();
            let escaped = word.trim().replace('\\', "\\\\").replace('\'', "''");
            format!("'{escaped}'{}", if t.prefix { ":*" } else { "" })
        })
        .collect();
    Some(quoted.join(" & "))
}

impl Search for Postgres {
    // The `limit` best matches, ranked by
    // `ts_rank` with a title match weighing [`TITLE_WEIGHT`] times one in
    // the text, newest first among equals.
    fn search(&self, typed: &str, limit: u64) -> Result<Vec<SearchHit>, StoreError> {
        let Some(query) = tsquery(typed) else {
            return Ok(Vec::new());
        };
        let text_weight = (1.0 / TITLE_WEIGHT) as f32;
        let weights = vec![text_weight, text_weight, text_weight, 1.0f32];
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT a.id, a.title, a.url, a.published, a.updated,
                        ARRAY(SELECT coalesce(f.name, s.feed_url)
                              FROM sources s LEFT JOIN feeds f ON f.url = s.feed_url
                              WHERE s.article_seq = a.seq
                              GROUP BY 1 ORDER BY min(s.source_seq)),
                        ts_headline('simple', coalesce(a.content_text, ''), q, $4),
                        a.content_text, hit.score
                 FROM (SELECT a.seq, ts_rank($3::real[], a.search, q)::float8 AS score
                       FROM articles a, to_tsquery('simple', $1) q
                       WHERE a.search @@ q AND a.purged_at IS NULL
                       ORDER BY score DESC, a.seq DESC LIMIT $2) hit
                 JOIN articles a ON a.seq = hit.seq, to_tsquery('simple', $1) q
                 ORDER BY hit.score DESC, a.seq DESC",
            )?;
            let rows = client.query(&stmt, &[&query, &limit, &weights, &HEADLINE])?;
            Ok(rows
                .iter()
                .map(|r| SearchHit {
                    id: r.get(0),
                    title: r.get(1),
                    url: r.get(2),
                    published: r.get(3),
                    updated: r.get(4),
                    feeds: r.get(5),
                    snippet: snippet(r.get(6), r.get::<_, Option<&str>>(7).unwrap_or("")),
                    score: r.get(8),
                })
                .collect())
        })
    }
}

/// `headline` (a part of `text` with its matches in brackets) as SQLite's
/// snippet shows it: trimmed, with `…` where it cuts the text short.
fn snippet(headline: &str, text: &str) -> String {
    // Compared without the marks and the punctuation at either end, which
    // a passage may leave out.
    let words = |s: &str| {
        s.replace(['[', ']'], "")
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_owned()
    };
    let headline = headline.trim();
    let (part, whole) = (words(headline), words(text));
    let before = if whole.starts_with(part.as_str()) {
        ""
    } else {
        "…"
    };
    let after = if whole.ends_with(part.as_str()) {
        ""
    } else {
        "…"
    };
    format!("{before}{headline}{after}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_a_tsquery_that_cannot_fail() {
        assert_eq!(
            tsquery("water reservoir").as_deref(),
            Some("'water' & 'reservoir'")
        );
        assert_eq!(tsquery("reserv*").as_deref(), Some("'reserv':*"));
        assert_eq!(
            tsquery("C++ \"it's a\\b").as_deref(),
            Some("'C' & 'it s' & 'a b'")
        );
        assert_eq!(
            tsquery("www.example.com").as_deref(),
            Some("'www example com'")
        );
        assert_eq!(tsquery("  -- * \"\" "), None);
        assert_eq!(tsquery(&format!("a {}", "x".repeat(3000))), None);
    }

    #[test]
    fn a_snippet_says_where_it_cuts_the_text() {
        let text = "One two [three] four five.";
        assert_eq!(snippet("One two", text), "One two…");
        assert_eq!(snippet("[four] five.", text), "…[four] five.");
        assert_eq!(snippet("[four] five", text), "…[four] five");
        assert_eq!(
            snippet(" [One] two [three] four five. ", text),
            "[One] two [three] four five."
        );
    }
}
