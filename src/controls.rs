//! Control characters in text from outside (feeds, pages, servers' answers).
//!
//! Two rules, one function each:
//! - [`strip`]: what the feed layer keeps of a title, an author, an id or a
//!   category, and what the store keeps of any text. C0 controls other than
//!   tab and newline (NUL and ESC among them), DEL and C1 controls
//!   (U+0080–U+009F) are dropped: they mean nothing in a title, an ESC
//!   sequence would drive the terminal of whoever prints it, and PostgreSQL
//!   refuses a NUL in any text, so one would make a whole feed unstorable.
//! - [`escape`]: what a human-readable table (`feeds`, `deliveries`,
//!   `search`) prints of any text it did not write itself (a remote error
//!   body, a hook's stderr, a title stored by an older version): every
//!   control character, tab and newline included (a cell is one line), is
//!   shown as a Rust-style escape (`\n`, `\t`, `\r`, `\u{1b}`), so the
//!   operator sees that it was there and the terminal never acts on it.
//!   `--json` output is escaped by JSON itself.

use std::borrow::Cow;

/// Whether `c` is dropped by [`strip`]: a control character other than
/// tab and newline.
fn is_stripped(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// `text` without control characters other than tab and newline (see the
/// module's doc); borrowed when there is nothing to drop.
pub fn strip(text: &str) -> Cow<'_, str> {
    if text.chars().any(is_stripped) {
        Cow::Owned(text.chars().filter(|&c| !is_stripped(c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

/// [`strip`] on an owned string, without a copy when nothing is dropped.
pub fn strip_owned(text: String) -> String {
    match strip(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(stripped) => stripped,
    }
}

/// `text` as a table cell may print it: every control character (C0, DEL,
/// C1; tab and newline too) written as an escape (see the module's doc).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c if c.is_control() => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_drops_c0_del_and_c1_but_keeps_tab_and_newline() {
        assert_eq!(
            strip("a\u{1b}]0;x\u{7}b\u{0}c\u{7f}d\u{85}e\u{9f}\tf\ng\rh"),
            "a]0;xbcde\tf\ngh"
        );
        assert!(matches!(strip("plain café"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_shows_every_control_character() {
        assert_eq!(
            escape("a\u{1b}[2J\u{0}\n\t\r\u{9b}z"),
            "a\\u{1b}[2J\\u{0}\\n\\t\\r\\u{9b}z"
        );
        assert!(matches!(escape("plain café"), Cow::Borrowed(_)));
    }
}
