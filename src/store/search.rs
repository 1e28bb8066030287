//! `gleaner search`: what both backends make of what a person typed, and
//! the words of a stored text, decided here once so that both backends
//! answer alike (each backend's own index does the rest: `sqlite::search`,
//! `postgres::search`).
//!
//! Words are cut and folded by one tokenizer, SQLite's FTS5 `unicode61`
//! with diacritics removed (the one `articles_fts` indexes with), run on an
//! in-memory database of its own: a word is a run of letters, digits and
//! private-use characters (Unicode categories L*, N*, Co, with combining
//! marks dropped), folded to lower case without accents. PostgreSQL's
//! parser and `lower` depend on the database's locale (a `C` database
//! folds no `Д`, a `C.UTF-8` one drops `½`), so its index and queries are
//! made of these words too, never of its own.

use std::cell::RefCell;

use rusqlite::Connection;

/// A title match weighs this many times a match in the text.
pub const TITLE_WEIGHT: f64 = 5.0;

/// The most words a query may have: each is one more operator for the
/// database to nest (PostgreSQL refuses a deep one), and no person types
/// more.
pub const MAX_WORDS: usize = 64;

/// The longest word PostgreSQL stores in an index (its lexemes are shorter
/// than 2 KiB): a longer one is in no index, and a query for it matches
/// nothing, on both backends.
pub const MAX_WORD_BYTES: usize = 2046;

/// SQLite's tokenizer for `articles_fts` (migration 4 names the same).
const TOKENIZER: &str = "unicode61 remove_diacritics 2";

/// What typed text cannot be searched for.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// More words than [`MAX_WORDS`].
    #[error(
        "the query has {count} words, more than the {MAX_WORDS} a search takes: search for fewer words"
    )]
    TooManyWords {
        /// The words the query has.
        count: usize,
    },
    /// The tokenizer's in-memory database failed.
    #[error("cannot split the text into words: {0}")]
    Tokenizer(#[from] rusqlite::Error),
}

/// One word typed by a person, as the words the tokenizer finds in it:
/// several make a phrase (`www.example.com`, `state-of-the-art`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phrase {
    /// The folded words, in order (at least one).
    pub words: Vec<String>,
    /// Whether a trailing `*` made its last word a prefix.
    pub prefix: bool,
}

/// What a person typed, as both backends search for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Every phrase must appear (in any order).
    pub phrases: Vec<Phrase>,
    /// What was typed that holds no word (`--`, `—`, `""`): left out.
    pub dropped: Vec<String>,
}

impl Query {
    /// Whether nothing can match: no word at all, or a word longer than
    /// any index holds.
    pub fn matches_nothing(&self) -> bool {
        self.phrases.is_empty()
            || self
                .phrases
                .iter()
                .flat_map(|p| &p.words)
                .any(|w| w.len() > MAX_WORD_BYTES)
    }
}

/// The rules both backends apply to what a person typed: every typed word
/// must appear (in any order), split and folded as stored text is (see the
/// module), a trailing `*` matches a prefix, and nothing else is syntax,
/// so `C++`, quotes or `AND` never make a query fail. Typed text without a
/// word is dropped (and listed); more than [`MAX_WORDS`] words is an error.
pub fn query(typed: &str) -> Result<Query, QueryError> {
    // Counted whole first, so that the message gives the number.
    let count = words(typed)?.len();
    if count > MAX_WORDS {
        return Err(QueryError::TooManyWords { count });
    }
    let mut query = Query::default();
    for typed_word in typed.split_whitespace() {
        let (stem, prefix) = match typed_word.strip_suffix('*') {
            Some(stem) => (stem, true),
            None => (typed_word, false),
        };
        let words = words(stem)?;
        if words.is_empty() {
            query.dropped.push(typed_word.to_owned());
        } else {
            query.phrases.push(Phrase { words, prefix });
        }
    }
    Ok(query)
}

/// What a person typed in a backend's query syntax (see [`query`]): each
/// phrase as `phrase` writes it, all of them joined by `and`; `None` when
/// nothing can match.
pub fn rendered(
    typed: &str,
    and: &str,
    phrase: impl Fn(&Phrase) -> String,
) -> Result<Option<String>, QueryError> {
    let query = query(typed)?;
    if query.matches_nothing() {
        return Ok(None);
    }
    let phrases: Vec<String> = query.phrases.iter().map(phrase).collect();
    Ok(Some(phrases.join(and)))
}

/// The words of `text`, in order, cut and folded as the search index has
/// them (see the module).
pub fn words(text: &str) -> Result<Vec<String>, QueryError> {
    Ok(document(text, "")?.into_iter().map(|(w, _)| w).collect())
}

/// Where a word is in a document of a title and a text: its position
/// among the title's words, or among the text's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// The `n`th word of the title (from 0).
    Title(u32),
    /// The `n`th word of the text (from 0).
    Text(u32),
}

/// Every word of a title and a text with its place, the title's first,
/// each in order: what `postgres::search` indexes.
pub fn document(title: &str, text: &str) -> Result<Vec<(String, Place)>, QueryError> {
    TOKENIZER_DB.with(|cell| {
        let mut slot = cell.borrow_mut();
        let conn = match &mut *slot {
            Some(conn) => conn,
            None => slot.insert(tokenizer()?),
        };
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO doc (rowid, title, body) VALUES (1, ?1, ?2)",
            [title, text],
        )?;
        let words = {
            let mut stmt = tx.prepare_cached(
                "SELECT term, col = 'title', \"offset\" FROM doc_words
                 ORDER BY col = 'body', \"offset\"",
            )?;
            let rows = stmt.query_map([], |r| {
                let offset = r.get::<_, i64>(2)?;
                let offset = u32::try_from(offset).unwrap_or(u32::MAX);
                let place = if r.get::<_, bool>(1)? {
                    Place::Title(offset)
                } else {
                    Place::Text(offset)
                };
                Ok((r.get::<_, String>(0)?, place))
            })?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        tx.execute("DELETE FROM doc", [])?;
        tx.commit()?;
        Ok(words)
    })
}

thread_local! {
    /// Each thread's tokenizer database, opened on first use.
    static TOKENIZER_DB: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// An in-memory FTS5 table with `articles_fts`'s tokenizer, and the view
/// of its words with their places (`fts5vocab`'s `instance`).
fn tokenizer() -> Result<Connection, rusqlite::Error> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE doc USING fts5(title, body, tokenize = '{TOKENIZER}');
         CREATE VIRTUAL TABLE doc_words USING fts5vocab(doc, instance);"
    ))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases(typed: &str) -> Vec<(Vec<&'static str>, bool)> {
        query(typed)
            .unwrap()
            .phrases
            .into_iter()
            .map(|p| {
                let words = p
                    .words
                    .into_iter()
                    .map(|w| &*Box::leak(w.into_boxed_str()))
                    .collect();
                (words, p.prefix)
            })
            .collect()
    }

    #[test]
    fn typed_words_are_cut_and_folded_as_the_index_has_them() {
        assert_eq!(
            phrases("Москва CAFÉ reserv*"),
            [
                (vec!["москва"], false),
                (vec!["cafe"], false),
                (vec!["reserv"], true)
            ]
        );
        assert_eq!(
            phrases("www.example.com C++ ½"),
            [
                (vec!["www", "example", "com"], false),
                (vec!["c"], false),
                (vec!["½"], false)
            ]
        );
        let none = query("  -- * \"\" — ").unwrap();
        assert!(none.phrases.is_empty() && none.matches_nothing());
        assert_eq!(none.dropped, ["--", "*", "\"\"", "—"]);
        assert!(
            query(&format!("a {}", "x".repeat(3000)))
                .unwrap()
                .matches_nothing()
        );
    }

    #[test]
    fn a_query_has_at_most_max_words() {
        let many = vec!["w"; MAX_WORDS].join(" ");
        assert_eq!(query(&many).unwrap().phrases.len(), MAX_WORDS);
        let error = query(&format!("{many} one-more")).unwrap_err();
        assert!(error.to_string().contains("66 words"), "{error}");
        // Words of one typed word count too (a phrase of many).
        assert!(query(&"a.".repeat(MAX_WORDS + 1)).is_err());
    }

    #[test]
    fn the_words_are_those_sqlites_index_holds() {
        let indexed = format!("tokenize = '{TOKENIZER}'");
        assert!(
            crate::store::schema::MIGRATIONS
                .iter()
                .any(|m| m.sql(crate::store::sql::Dialect::Sqlite).contains(&indexed)),
            "articles_fts is made with another tokenizer than {TOKENIZER:?}"
        );
    }

    #[test]
    fn a_document_places_the_title_before_the_text() {
        assert_eq!(
            document("Big Dam", "the DAM").unwrap(),
            [
                ("big".to_owned(), Place::Title(0)),
                ("dam".to_owned(), Place::Title(1)),
                ("the".to_owned(), Place::Text(0)),
                ("dam".to_owned(), Place::Text(1)),
            ]
        );
    }
}
