//! `gleaner search`: what both backends make of what a person typed (each
//! backend's own index does the rest: `sqlite::search`, `postgres::search`).

/// A title match weighs this many times a match in the text.
pub const TITLE_WEIGHT: f64 = 5.0;

/// One word of what a person typed: its text without `"`, and whether a
/// trailing `*` made it a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The word, without `"`.
    pub word: String,
    /// Whether a trailing `*` made it a prefix.
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
