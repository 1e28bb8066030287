//! `gleaner search` on PostgreSQL: the `articles.search` tsvector (title
//! weighted A, text D) and its GIN index, made of the words
//! [`crate::store::search`] cuts and folds (SQLite's tokenizer), never of
//! PostgreSQL's parser and `lower`, which follow the database's locale:
//! both backends find the same articles for the same words.
//!
//! The column is written by gleaner: a row whose title or text changes has
//! it set to NULL by a trigger (migration 16), and [`index_pending`] fills
//! such rows before every write transaction commits (and after migrations,
//! after `migrate-db`, and before a search, for rows changed by hand), so
//! no statement that writes articles needs to know.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use postgres::GenericClient;

use super::{Postgres, prepared};
use crate::store::StoreError;
use crate::store::backend::Search;
use crate::store::model::SearchHit;
use crate::store::search::{MAX_WORD_BYTES, Place, TITLE_WEIGHT, document, rendered};

/// `ts_headline`'s options: one passage of around as many words as SQLite's
/// snippet shows, with words on both sides of the matches (each in `[` `]`).
const HEADLINE: &str =
    "StartSel=[, StopSel=], MaxFragments=1, MaxWords=16, MinWords=15, ShortWord=0";

/// A tsvector's highest position (later words all share it) and most
/// positions of one word, as PostgreSQL keeps them.
const MAX_POSITION: u32 = 16_383;
const MAX_POSITIONS: usize = 255;

/// A tsvector holds under 1 MiB of words: the words of a text past that are
/// left out of its index.
const MAX_VECTOR_BYTES: usize = (1 << 20) - 1;

/// Articles indexed per round trip by [`index_pending`].
const INDEX_BATCH: i64 = 100;

/// `word` quoted as a tsvector or tsquery lexeme, taken as it is (no
/// parser, no dictionary).
fn lexeme(word: &str) -> String {
    format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"))
}

/// Turns what a person typed into tsquery text (read with `::tsquery`, so
/// PostgreSQL neither splits nor folds it): each typed word a phrase of
/// its words (`<->`), `:*` for a prefix, all of them required. `None` when
/// nothing can match.
pub fn tsquery(typed: &str) -> Result<Option<String>, StoreError> {
    Ok(rendered(typed, " & ", |p| {
        let mut words: Vec<String> = p.words.iter().map(|w| lexeme(w)).collect();
        if let (true, Some(last)) = (p.prefix, words.last_mut()) {
            last.push_str(":*");
        }
        let phrase = words.join(" <-> ");
        if words.len() > 1 {
            format!("({phrase})")
        } else {
            phrase
        }
    })?)
}

/// The tsvector text of an article's title and text: the title's words at
/// positions 1… with weight A, the text's after one free position (so no
/// phrase runs from the title into the text, as in SQLite's columns).
pub(in crate::store) fn tsvector(title: &str, text: &str) -> Result<String, StoreError> {
    let words = document(title, text)?;
    let title_words = words
        .iter()
        .filter(|(_, place)| matches!(place, Place::Title(_)))
        .count();
    let title_words = u32::try_from(title_words).unwrap_or(u32::MAX);
    let mut positions: BTreeMap<&str, Vec<(u32, bool)>> = BTreeMap::new();
    let mut bytes = 0usize;
    for (word, place) in &words {
        if word.len() > MAX_WORD_BYTES {
            continue;
        }
        let (position, in_title) = match *place {
            Place::Title(n) => (n.saturating_add(1), true),
            Place::Text(n) => (title_words.saturating_add(2).saturating_add(n), false),
        };
        let position = position.min(MAX_POSITION);
        if !positions.contains_key(word.as_str()) {
            if bytes + word.len() > MAX_VECTOR_BYTES {
                continue;
            }
            bytes += word.len();
        }
        let at = positions.entry(word.as_str()).or_default();
        if at.len() < MAX_POSITIONS && at.last().is_none_or(|(p, _)| *p < position) {
            at.push((position, in_title));
        }
    }
    let mut vector = String::new();
    for (word, at) in positions {
        if !vector.is_empty() {
            vector.push(' ');
        }
        vector.push_str(&lexeme(word));
        for (i, (position, in_title)) in at.iter().enumerate() {
            let sep = if i == 0 { ':' } else { ',' };
            let weight = if *in_title { "A" } else { "" };
            let _ = write!(vector, "{sep}{position}{weight}");
        }
    }
    Ok(vector)
}

/// Indexes every article whose `search` is NULL (stored or changed since),
/// a batch at a time; rows another transaction holds are left to it.
/// Returns how many were indexed.
pub(in crate::store) fn index_pending(client: &mut impl GenericClient) -> Result<u64, StoreError> {
    let mut done = 0u64;
    loop {
        let rows = client.query(
            "SELECT seq, coalesce(title, ''), coalesce(content_text, '') FROM articles
             WHERE search IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
            &[&INDEX_BATCH],
        )?;
        let mut seqs = Vec::with_capacity(rows.len());
        let mut vectors = Vec::with_capacity(rows.len());
        for row in &rows {
            seqs.push(row.try_get::<_, i64>(0)?);
            vectors.push(tsvector(row.try_get(1)?, row.try_get(2)?)?);
        }
        if !rows.is_empty() {
            client.execute(
                "UPDATE articles a SET search = v.search::tsvector
                 FROM unnest($1::bigint[], $2::text[]) AS v (seq, search)
                 WHERE a.seq = v.seq",
                &[&seqs, &vectors],
            )?;
        }
        done += rows.len() as u64;
        if (rows.len() as i64) < INDEX_BATCH {
            return Ok(done);
        }
    }
}

impl Search for Postgres {
    // The `limit` best matches, ranked by
    // `ts_rank` with a title match weighing [`TITLE_WEIGHT`] times one in
    // the text, newest first among equals.
    fn search(&self, typed: &str, limit: u64) -> Result<Vec<SearchHit>, StoreError> {
        let Some(query) = tsquery(typed)? else {
            return Ok(Vec::new());
        };
        let text_weight = (1.0 / TITLE_WEIGHT) as f32;
        let weights = vec![text_weight, text_weight, text_weight, 1.0f32];
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_client(|client, cache| {
            // Rows changed by other means than gleaner's writes (by hand, a
            // copy cut short) are indexed first; a role that may not write
            // searches what is indexed.
            if let Err(error) = index_pending(client) {
                tracing::warn!(%error, "articles changed outside gleaner are not indexed for search");
            }
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
                       FROM articles a, (SELECT $1::text::tsquery) AS query (q)
                       WHERE a.search @@ q AND a.purged_at IS NULL
                       ORDER BY score DESC, a.seq DESC LIMIT $2) hit
                 JOIN articles a ON a.seq = hit.seq, (SELECT $1::text::tsquery) AS query (q)
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
        let long = format!("a {}", "x".repeat(3000));
        for (typed, tsq) in [
            ("Water RESERVOIR", Some("'water' & 'reservoir'")),
            ("reserv*", Some("'reserv':*")),
            (
                "C++ \"it's a\\b:*",
                Some("'c' & ('it' <-> 's') & ('a' <-> 'b':*)"),
            ),
            ("Москва ½", Some("'москва' & '½'")),
            ("  -- * \"\" ", None),
            (long.as_str(), None),
        ] {
            assert_eq!(tsquery(typed).unwrap().as_deref(), tsq, "{typed}");
        }
    }

    #[test]
    fn a_tsvector_weighs_the_title_and_keeps_phrases_in_their_column() {
        assert_eq!(
            tsvector("Big dam", "The dam's end").unwrap(),
            "'big':1A 'dam':2A,5 'end':7 's':6 'the':4"
        );
        assert_eq!(tsvector("", "").unwrap(), "");
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
