//! The lenient pre-pass: small, pure text repairs that turn a broken XML feed
//! into one feed-rs reads.
//!
//! Each step takes UTF-8 text and returns `Some(repaired)` only when it
//! changed something, so the caller can record which [`Repair`]s a feed
//! needed. Steps are generic (no feed is special-cased) and never panic on
//! any input; they run only after a strict parse failed or came back empty.

use std::fmt;

use serde::Serialize;

use super::dialects::{
    add_missing_channel, atom_items_as_entries, cdf_as_rss, map_atom03, map_legacy_namespaces,
    normalize_rss_version, normalize_text_types, rdf_as_rss2,
};
use super::references::{decode_html_entities, escape_bare_ampersands};
use super::xml_tags::{local_name, rewrite_tags, root_element, tag_end};

/// One kind of fix the lenient path applied to a feed. The stable
/// [`name`](Repair::name) is what operators see (`gleaner feeds --json`, logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "&'static str")]
pub enum Repair {
    /// No charset was declared and the bytes were not UTF-8: chardetng guessed.
    CharsetGuessed,
    /// The feed sat inside an HTML page and was cut out of it.
    HtmlWrapper,
    /// Characters XML forbids (C0 controls, U+FFFE, U+FFFF) were removed.
    ControlChars,
    /// Atom 0.3 was read as Atom 1.0.
    Atom03,
    /// An old RSS or Dublin Core namespace was mapped to the current one.
    LegacyNamespace,
    /// `<rss>` had no `version`, or one feed-rs does not know.
    RssVersion,
    /// `<rss>` had no `<channel>`.
    MissingChannel,
    /// HTML entities (`&nbsp;`, `&eacute;`, …) used without a DTD.
    HtmlEntities,
    /// `&` not starting a reference was escaped.
    BareAmpersands,
    /// The document stopped early; open elements were closed.
    Truncated,
    /// End tags that did not match their start tags (`<br>` in unescaped
    /// HTML, an unclosed element) were balanced.
    UnbalancedTags,
    /// Text constructs with a MIME or empty `type` (`text/plain`,
    /// `application/xhtml+xml`, `""`) were given the Atom keyword; other
    /// types (`application/octet-stream`) on anything but `content` are
    /// read as text rather than fail the feed.
    TextTypes,
    /// An Atom `<feed>` whose entries were written as RSS `<item>`s.
    AtomItems,
    /// A Channel Definition Format (CDF) document was read as RSS.
    Cdf,
    /// RSS 1.0/0.90 was read as RSS 2.0, so that items without a `<link>`
    /// (feed-rs drops those) are kept; `rdf:about` became their link.
    RdfItems,
    /// A feed element without the content feed-rs requires was dropped.
    EmptyElements,
    /// A date that could not be read was dropped so that it cannot hide a good one.
    UnreadableDates,
    /// JSON Feed with an old or odd `version`.
    JsonFeedVersion,
    /// JSON Feed fields of the wrong type (`tags` as a string, …).
    JsonFeedTypes,
    /// The JSON document stopped early; the complete items were kept.
    JsonTruncated,
}

impl Repair {
    /// A short, stable, kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Repair::CharsetGuessed => "charset-guessed",
            Repair::HtmlWrapper => "html-wrapper",
            Repair::ControlChars => "control-chars",
            Repair::Atom03 => "atom-0.3",
            Repair::LegacyNamespace => "legacy-namespace",
            Repair::RssVersion => "rss-version",
            Repair::MissingChannel => "missing-channel",
            Repair::HtmlEntities => "html-entities",
            Repair::BareAmpersands => "bare-ampersands",
            Repair::Truncated => "truncated",
            Repair::UnbalancedTags => "unbalanced-tags",
            Repair::TextTypes => "text-types",
            Repair::Cdf => "cdf",
            Repair::AtomItems => "atom-items",
            Repair::RdfItems => "rdf-items",
            Repair::EmptyElements => "empty-elements",
            Repair::UnreadableDates => "unreadable-dates",
            Repair::JsonFeedVersion => "jsonfeed-version",
            Repair::JsonFeedTypes => "jsonfeed-types",
            Repair::JsonTruncated => "json-truncated",
        }
    }
}

impl From<Repair> for &'static str {
    fn from(repair: Repair) -> &'static str {
        repair.name()
    }
}

impl fmt::Display for Repair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Runs every XML step in order, returning the text and the repairs applied.
pub fn repair_xml(text: &str) -> (String, Vec<Repair>) {
    type Step = fn(&str) -> Option<String>;
    const STEPS: &[(Repair, Step)] = &[
        (Repair::HtmlWrapper, cut_out_feed),
        (Repair::ControlChars, strip_control_chars),
        (Repair::Truncated, close_truncated),
        (Repair::UnbalancedTags, balance_end_tags),
        (Repair::Cdf, cdf_as_rss),
        (Repair::Atom03, map_atom03),
        (Repair::LegacyNamespace, map_legacy_namespaces),
        (Repair::RdfItems, rdf_as_rss2),
        (Repair::AtomItems, atom_items_as_entries),
        (Repair::TextTypes, normalize_text_types),
        (Repair::RssVersion, normalize_rss_version),
        (Repair::MissingChannel, add_missing_channel),
        (Repair::HtmlEntities, decode_html_entities),
        (Repair::BareAmpersands, escape_bare_ampersands),
        (Repair::EmptyElements, drop_empty_text_elements),
    ];
    let mut current = text.to_owned();
    let mut applied = Vec::new();
    for (repair, step) in STEPS {
        if let Some(repaired) = step(&current) {
            current = repaired;
            applied.push(*repair);
        }
    }
    (current, applied)
}

/// A feed inside an HTML page (`<html><body><feed …>…</feed>`): the feed
/// element, from its start tag to its last end tag.
pub fn cut_out_feed(text: &str) -> Option<String> {
    let (_, root, _) = root_element(text)?;
    if !root.eq_ignore_ascii_case("html") {
        return None;
    }
    for name in ["rss", "feed", "rdf:RDF", "RDF"] {
        let open = format!("<{name}");
        let Some(start) = text.match_indices(&open).map(|(i, _)| i).find(|&i| {
            text[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '>')
        }) else {
            continue;
        };
        let close = format!("</{name}>");
        let end = text[start..]
            .rfind(&close)
            .map_or(text.len(), |i| start + i + close.len());
        return Some(text[start..end].to_owned());
    }
    None
}

/// Removes characters that XML 1.0 forbids anywhere.
pub fn strip_control_chars(text: &str) -> Option<String> {
    let forbidden = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}');
    text.contains(forbidden)
        .then(|| text.chars().filter(|&c| !forbidden(c)).collect())
}

/// How deep into the stack of open elements an end tag looks for its start
/// tag: enough for any real feed, and it keeps hostile nesting linear.
const SEARCH_DEPTH: usize = 256;

/// The position of the innermost open element matching `wanted`, looking at
/// most [`SEARCH_DEPTH`] levels down.
fn innermost<T>(open: &[T], wanted: impl Fn(&T) -> bool) -> Option<usize> {
    let floor = open.len().saturating_sub(SEARCH_DEPTH);
    open[floor..].iter().rposition(wanted).map(|i| floor + i)
}

/// A document that stops early: a partial tag at the end is cut, an open
/// CDATA section or comment is closed, and every element still open is
/// closed, so feed-rs keeps the entries that were complete.
pub fn close_truncated(text: &str) -> Option<String> {
    // Open elements: name and the offset of their start tag.
    let mut open: Vec<(&str, usize)> = Vec::new();
    let mut complete_entries = false;
    let mut at = 0;
    let mut cut = text.len();
    let mut suffix = String::new();
    while let Some(lt) = text[at..].find('<') {
        let start = at + lt;
        let tag = &text[start..];
        let literal = [("<![CDATA[", "]]>"), ("<!--", "-->"), ("<?", "?>")]
            .into_iter()
            .find(|(o, _)| tag.starts_with(o));
        if let Some((_, close)) = literal {
            match tag.find(close) {
                Some(end) => at = start + end + close.len(),
                None => {
                    suffix.push_str(close);
                    break;
                }
            }
            continue;
        }
        let Some(end) = tag_end(tag) else {
            cut = start;
            break;
        };
        let inner = &tag[1..end - 1];
        at = start + end;
        if inner.starts_with('!') {
            continue;
        }
        if let Some(name) = inner.strip_prefix('/') {
            let name = name.trim();
            if let Some(pos) = innermost(&open, |(n, _)| *n == name) {
                open.truncate(pos);
                complete_entries |= matches!(local_name(name), "item" | "entry");
            }
        } else if !inner.ends_with('/') {
            let name_len = inner
                .find(|c: char| c.is_whitespace() || c == '/')
                .unwrap_or(inner.len());
            open.push((&inner[..name_len], start));
        }
    }
    if open.is_empty() && suffix.is_empty() && cut == text.len() {
        return None;
    }
    // An entry cut in the middle is dropped when complete ones precede it:
    // its id, link or text may be missing, and the complete copy in the next
    // fetch would be a different entry. A document cut inside its first
    // entry keeps what there is of it.
    if let Some(entry) = open
        .iter()
        .position(|(n, _)| matches!(local_name(n), "item" | "entry"))
        .filter(|_| complete_entries)
    {
        cut = open[entry].1;
        open.truncate(entry);
        suffix.clear();
    }
    let mut out = String::with_capacity(cut + 64);
    out.push_str(&text[..cut]);
    out.push_str(&suffix);
    for (name, _) in open.iter().rev() {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    Some(out)
}

/// End tags that close an element other than the innermost open one: the
/// elements in between are closed first; an end tag with no open element is
/// dropped. Unterminated documents are left to [`close_truncated`].
pub fn balance_end_tags(text: &str) -> Option<String> {
    let mut open: Vec<String> = Vec::new();
    rewrite_tags(text, |is_end, name, tag| {
        if !is_end {
            // An item or entry belongs to its channel or feed: elements left
            // open before it (an unclosed `<itunes:category>`) end there.
            let mut closers = String::new();
            if matches!(local_name(name), "item" | "entry")
                && let Some(container) = innermost(&open, |n| {
                    matches!(local_name(n), "channel" | "feed" | "RDF" | "rss")
                })
                && container + 1 < open.len()
            {
                closers = open[container + 1..]
                    .iter()
                    .rev()
                    .map(|n| format!("</{n}>"))
                    .collect();
                open.truncate(container + 1);
            }
            if !tag.ends_with("/>") {
                open.push(name.to_owned());
            }
            return (!closers.is_empty()).then(|| closers + tag);
        }
        match innermost(&open, |n| n == name) {
            Some(pos) if pos + 1 == open.len() => {
                open.pop();
                None
            }
            Some(pos) => {
                let mut closers: String = open[pos + 1..]
                    .iter()
                    .rev()
                    .map(|n| format!("</{n}>"))
                    .collect();
                closers.push_str(tag);
                open.truncate(pos);
                Some(closers)
            }
            None => Some(String::new()),
        }
    })
}

/// Text constructs that feed-rs refuses when empty (`<title/>`,
/// `<summary type="html"></summary>`, `<content></content>`) are removed.
pub fn drop_empty_text_elements(text: &str) -> Option<String> {
    let mut current: Option<String> = None;
    for name in [
        "title",
        "summary",
        "content",
        "subtitle",
        "rights",
        "description",
    ] {
        let source = current.as_deref().unwrap_or(text);
        if let Some(dropped) = drop_empty(source, name) {
            current = Some(dropped);
        }
    }
    current
}

fn drop_empty(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}");
    let close = format!("</{name}>");
    let mut out = String::new();
    let mut rest = text;
    let mut changed = false;
    while let Some(at) = rest.find(&open) {
        let tag = &rest[at..];
        let boundary = tag[open.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/');
        let Some(end) = tag_end(tag).filter(|_| boundary) else {
            out.push_str(&rest[..at + open.len()]);
            rest = &rest[at + open.len()..];
            continue;
        };
        let empty_len = if tag[..end].ends_with("/>") {
            Some(end)
        } else {
            let after = &tag[end..];
            let blank = after.len() - after.trim_start().len();
            after
                .trim_start()
                .starts_with(&close)
                .then(|| end + blank + close.len())
        };
        match empty_len {
            Some(len) => {
                out.push_str(&rest[..at]);
                rest = &rest[at + len..];
                changed = true;
            }
            None => {
                out.push_str(&rest[..at + end]);
                rest = &rest[at + end..];
            }
        }
    }
    out.push_str(rest);
    changed.then_some(out)
}

/// Removes the elements whose whole text is one of `texts` (the dates the
/// timestamp parser could not read).
pub fn drop_elements_with_text(text: &str, texts: &[String]) -> Option<String> {
    let mut current: Option<String> = None;
    for needle in texts {
        let source = current.as_deref().unwrap_or(text);
        let pattern = format!(">{needle}</");
        let mut out = String::with_capacity(source.len());
        let mut rest = source;
        let mut changed = false;
        while let Some(at) = rest.find(&pattern) {
            let open = rest[..at].rfind('<');
            let close = rest[at + pattern.len()..].find('>');
            match (open, close) {
                (Some(open), Some(close)) => {
                    out.push_str(&rest[..open]);
                    rest = &rest[at + pattern.len() + close + 1..];
                    changed = true;
                }
                _ => {
                    out.push_str(&rest[..at + 1]);
                    rest = &rest[at + 1..];
                }
            }
        }
        out.push_str(rest);
        if changed {
            current = Some(out);
        }
    }
    current
}

#[cfg(test)]
#[path = "repair_tests.rs"]
mod tests;
