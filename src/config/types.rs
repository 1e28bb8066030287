//! The type of every known key's value, checked before serde reads the file.
//!
//! serde stops at the first value of the wrong type and says it in Rust's
//! words ("invalid type: string \"3\", expected i64"), naming no key. So every
//! known key's value is checked here first, all of them, each problem with
//! its key, position and a plain expected type ("a whole number"); the
//! values found wrong are then blanked (same length, so every other position
//! stays right) and serde reads the rest, whose own checks (ranges, URLs,
//! cron expressions…) report beside these.

use std::ops::Range;

use toml_edit::{Item, TableLike, Value};

use super::{Positions, Problem};

/// What a key's value must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    WholeNumber,
    /// Whole or decimal.
    Number,
    Boolean,
    TextList,
    TextOrTextList,
    /// `{ Name = "value" }` (or a `[table]` of them).
    TextTable,
    TextOrTextTable,
}

impl Kind {
    /// The expected type, in the words of someone who writes the file.
    fn described(self) -> &'static str {
        match self {
            Kind::Text => "text in quotes",
            Kind::WholeNumber => "a whole number",
            Kind::Number => "a number, e.g. 0.8",
            Kind::Boolean => "true or false",
            Kind::TextList => "a list of text, e.g. [\"a\", \"b\"]",
            Kind::TextOrTextList => "text in quotes or a list of text",
            Kind::TextTable => "a table of text values, e.g. { Name = \"value\" }",
            Kind::TextOrTextTable => "text in quotes or a table of text values",
        }
    }

    fn accepts(self, item: &Item) -> bool {
        let text = |item: &Item| item.as_str().is_some();
        let text_list = |item: &Item| {
            item.as_array()
                .is_some_and(|a| a.iter().all(|v| v.as_str().is_some()))
        };
        let text_table = |item: &Item| {
            item.as_table_like()
                .is_some_and(|t| t.iter().all(|(_, v)| v.as_str().is_some()))
        };
        match self {
            Kind::Text => text(item),
            Kind::WholeNumber => item.as_integer().is_some(),
            Kind::Number => item.as_integer().is_some() || item.as_float().is_some(),
            Kind::Boolean => item.as_bool().is_some(),
            Kind::TextList => text_list(item),
            Kind::TextOrTextList => text(item) || text_list(item),
            Kind::TextTable => text_table(item),
            Kind::TextOrTextTable => text(item) || text_table(item),
        }
    }
}

/// What was found instead, in the same words.
fn found(item: &Item) -> String {
    match item {
        Item::Value(Value::String(s)) => format!("text ({:?})", s.value()),
        Item::Value(Value::Integer(i)) => format!("a whole number ({})", i.value()),
        Item::Value(Value::Float(f)) => format!("a decimal number ({})", f.value()),
        Item::Value(Value::Boolean(b)) => format!("{}", b.value()),
        Item::Value(Value::Datetime(_)) => "a date".to_owned(),
        Item::Value(Value::Array(a)) if a.iter().all(|v| v.as_str().is_some()) => {
            "a list of text".to_owned()
        }
        Item::Value(Value::Array(_)) => "a list with something other than text in it".to_owned(),
        Item::Value(Value::InlineTable(_)) | Item::Table(_) => "a table".to_owned(),
        Item::ArrayOfTables(_) => "a list of tables".to_owned(),
        Item::None => "nothing".to_owned(),
    }
}

const STORAGE: &[(&str, Kind)] = &[
    ("database", Kind::Text),
    ("password_file", Kind::Text),
    ("ca_file", Kind::Text),
    ("keep_days", Kind::WholeNumber),
    ("keep_html", Kind::Boolean),
    ("max_articles_per_feed", Kind::WholeNumber),
    ("lease_secs", Kind::WholeNumber),
];

const FETCH: &[(&str, Kind)] = &[
    ("user_agent", Kind::Text),
    ("timeout_secs", Kind::WholeNumber),
    ("max_feed_bytes", Kind::WholeNumber),
    ("max_article_bytes", Kind::WholeNumber),
    ("concurrency", Kind::WholeNumber),
    ("per_host_concurrency", Kind::WholeNumber),
    ("per_host_interval_ms", Kind::WholeNumber),
    ("allow_private_networks", Kind::Boolean),
    ("max_retry_after", Kind::Text),
    ("headers", Kind::TextTable),
    ("cookies", Kind::TextOrTextTable),
    ("proxy", Kind::Text),
];

const SCHEDULE: &[(&str, Kind)] = &[
    ("default", Kind::Text),
    ("adaptive_min", Kind::Text),
    ("adaptive_max", Kind::Text),
];

const METRICS: &[(&str, Kind)] = &[("listen", Kind::Text)];

const FILTER: &[(&str, Kind)] = &[("block", Kind::TextList), ("keep", Kind::TextList)];

const EXTRACTION: &[(&str, Kind)] = &[("site_config_dir", Kind::TextOrTextList)];

const DEDUP: &[(&str, Kind)] = &[
    ("near_duplicates", Kind::Boolean),
    ("similarity", Kind::Number),
];

const FEED: &[(&str, Kind)] = &[
    ("url", Kind::Text),
    ("name", Kind::Text),
    ("schedule", Kind::Text),
    ("full_text", Kind::Boolean),
    ("content_selector", Kind::Text),
    ("remove_selectors", Kind::TextList),
    ("tags", Kind::TextList),
    ("user_agent", Kind::Text),
    ("headers", Kind::TextTable),
    ("cookies", Kind::TextOrTextTable),
    ("username", Kind::Text),
    ("password", Kind::Text),
    ("password_file", Kind::Text),
    ("headers_file", Kind::Text),
    ("block", Kind::TextList),
    ("keep", Kind::TextList),
    ("proxy", Kind::Text),
];

const DELIVER: &[(&str, Kind)] = &[
    ("name", Kind::Text),
    ("webhook", Kind::Text),
    ("exec", Kind::TextList),
    ("env_keep", Kind::TextList),
    ("secret", Kind::Text),
    ("secret_file", Kind::Text),
    ("batch", Kind::WholeNumber),
    ("timeout_secs", Kind::WholeNumber),
    ("feeds", Kind::TextList),
    ("tags", Kind::TextList),
];

/// The sections that are one table each.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    ("storage", STORAGE),
    ("fetch", FETCH),
    ("schedule", SCHEDULE),
    ("metrics", METRICS),
    ("filter", FILTER),
    ("extraction", EXTRACTION),
    ("dedup", DEDUP),
];

/// The sections that are lists of tables (`[[feeds]]`).
const LISTS: &[(&str, &[(&str, Kind)])] = &[("feeds", FEED), ("deliver", DELIVER)];

/// Every value of a known key (and every known section) whose type is
/// wrong, each a problem at the value; with the text those values are
/// blanked in, for serde to read the rest (`None` when nothing was wrong).
/// A document toml cannot parse gives none (serde reports the parse error).
pub(super) fn value_types(text: &str, at: &Positions<'_>) -> (Vec<Problem>, Option<String>) {
    let Ok(document) = toml_edit::Document::parse(text) else {
        return (Vec::new(), None);
    };
    let mut problems = Vec::new();
    let mut blanks: Vec<Range<usize>> = Vec::new();
    let root = document.as_table();
    let mut wrong = |label: String, key: &str, item: &Item, expected: &str, span: Range<usize>| {
        let start = item.span().map_or(span.start, |s| s.start);
        problems.push(at.problem(
            start,
            format!("{label}{key} must be {expected}, not {}", found(item)),
        ));
        blanks.push(span);
    };
    for (section, keys) in TABLES {
        let Some(item) = root.get(section) else {
            continue;
        };
        let Some(table) = item.as_table_like() else {
            let span = entry_span(root, section, item);
            wrong(
                String::new(),
                section,
                item,
                "a table, e.g. [section]",
                span,
            );
            continue;
        };
        check_table(table, keys, &format!("[{section}]."), &mut wrong);
    }
    for (section, keys) in LISTS {
        let Some(item) = root.get(section) else {
            continue;
        };
        let tables: Vec<&dyn TableLike> = match item {
            Item::ArrayOfTables(list) => list.iter().map(|t| t as &dyn TableLike).collect(),
            Item::Value(Value::Array(list))
                if list.iter().all(|v| v.as_inline_table().is_some()) =>
            {
                list.iter()
                    .filter_map(|v| v.as_inline_table())
                    .map(|t| t as &dyn TableLike)
                    .collect()
            }
            _ => {
                let span = entry_span(root, section, item);
                let expected = format!("a list of tables, each starting with [[{section}]]");
                wrong(String::new(), section, item, &expected, span);
                continue;
            }
        };
        for (n, table) in tables.into_iter().enumerate() {
            check_table(
                table,
                keys,
                &format!("[[{section}]] {}: ", n + 1),
                &mut wrong,
            );
        }
    }
    if blanks.is_empty() {
        return (problems, None);
    }
    (problems, Some(blanked(text, &blanks)))
}

/// Checks each known key of `table`; `label` prefixes the key in messages.
fn check_table(
    table: &dyn TableLike,
    keys: &[(&str, Kind)],
    label: &str,
    wrong: &mut impl FnMut(String, &str, &Item, &str, Range<usize>),
) {
    for (key, item) in table.iter() {
        let Some((_, kind)) = keys.iter().find(|(k, _)| *k == key) else {
            continue;
        };
        if !kind.accepts(item) {
            let span = entry_span(table, key, item);
            wrong(label.to_owned(), key, item, kind.described(), span);
        }
    }
}

/// The bytes of `key = value` in the source (the value's alone when the
/// key's position is unknown; empty when neither is known).
fn entry_span(table: &dyn TableLike, key: &str, item: &Item) -> Range<usize> {
    let value = item.span().unwrap_or(0..0);
    match table.key(key).and_then(|k| k.span()) {
        Some(k) if k.start <= value.start => k.start..value.end.max(k.end),
        _ => value,
    }
}

/// `text` with every byte of `ranges` but line breaks turned into spaces,
/// so each position outside them stays where it was.
fn blanked(text: &str, ranges: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for range in ranges {
        let end = range.end.min(bytes.len());
        for byte in bytes
            .get_mut(range.start.min(end)..end)
            .into_iter()
            .flatten()
        {
            if *byte != b'\n' && *byte != b'\r' {
                *byte = b' ';
            }
        }
    }
    // Only whole UTF-8 sequences of a value were replaced, with ASCII, so
    // this cannot fail; the original text is the fallback all the same.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanking_keeps_every_other_position() {
        let text = "a = \"x\"\nb = 3\nc = 4\n";
        assert_eq!(blanked(text, &[0..7, 14..19]), "       \nb = 3\n     \n");
    }
}
