//! Feeds from documents that are not feeds: a web page read with XPath
//! (`[feeds.scrape]`, [`xpath_source`]) or a JSON document read with dot
//! paths (`[feeds.json]`, [`json_source`]). Each gives the same [`Entry`]
//! values the feed parser gives, so everything after the parse (filters,
//! dedup, full text, conditional GET, back-off, export) treats them alike.
//!
//! [`find_items`] is the other direction: on a page with no feed, it finds
//! the repeated structure that holds the entries and writes the
//! expressions `gleaner add` puts in `[feeds.scrape]`.

pub mod find_items;
pub mod json_source;
pub mod xpath_source;

use std::sync::Arc;

use sha2::{Digest, Sha256};
use url::Url;

use super::entry::{MAX_ID_BYTES, MAX_TITLE_CHARS, mark_shared_pages, without_controls};
use super::{Entry, FeedError, FeedFormat, ParsedFeed};
pub use json_source::{DotPath, DotPathError, JsonRules};
pub use xpath_source::ScrapeRules;

/// Where a feed's entries come from: decided by its config (`[feeds.scrape]`,
/// `[feeds.json]`, or neither), never guessed from the document, so a page
/// that changes its markup fails loudly instead of turning into another kind.
#[derive(Debug, Clone, Default)]
pub enum FeedSource {
    /// RSS, Atom or JSON Feed, read by [`super::parse`].
    #[default]
    Feed,
    /// A web page (or any HTML/XML) read with XPath.
    Scrape(Arc<ScrapeRules>),
    /// A JSON document read with dot paths.
    Json(Arc<JsonRules>),
}

impl FeedSource {
    /// `feed`, `scrape` or `json`: what `feeds --json` shows as `kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            FeedSource::Feed => "feed",
            FeedSource::Scrape(_) => "scrape",
            FeedSource::Json(_) => "json",
        }
    }
}

/// Reads the entries of a document fetched from `base` the way `source`
/// says: the one place the poll turns a fetched document into entries.
pub fn parse(
    source: &FeedSource,
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, FeedError> {
    let (format, entries) = match source {
        FeedSource::Feed => return super::parse(bytes, content_type, base),
        FeedSource::Scrape(rules) => (
            FeedFormat::Page,
            xpath_source::entries(rules, bytes, content_type, base),
        ),
        FeedSource::Json(rules) => (
            FeedFormat::JsonDocument,
            json_source::entries(rules, bytes, content_type, base),
        ),
    };
    let (title, entries) = entries.map_err(|reason| FeedError::Source {
        url: base.clone(),
        reason,
    })?;
    Ok(ParsedFeed {
        title: title.as_deref().and_then(super::entry::feed_title),
        format,
        entries: finish(entries),
        repairs: Vec::new(),
        ttl: None,
    })
}

/// Entries as read in document order into what the pipeline expects:
/// without control characters, one per identity, shared pages marked,
/// oldest first. A listing puts its newest item first, so the document
/// order is reversed; when every entry has a date, the dates decide.
fn finish(entries: Vec<Entry>) -> Vec<Entry> {
    let mut seen = std::collections::HashSet::new();
    let mut entries: Vec<Entry> = entries
        .into_iter()
        .map(without_controls)
        .filter(|e| seen.insert(e.id.clone()))
        .collect();
    mark_shared_pages(&mut entries);
    entries.reverse();
    if entries.iter().all(|e| e.published.is_some()) {
        entries.sort_by_key(|e| e.published);
    }
    entries
}

/// An entry read from a page or a JSON item: its identity is `id` when
/// the source gives one, else its link without the fragment, else (no
/// link) a hash of its title and summary, so that the same item read
/// twice is the same entry.
fn entry(
    id: Option<String>,
    url: Option<Url>,
    title: Option<String>,
    summary_html: Option<String>,
) -> Option<Entry> {
    let id = id.filter(|i| !i.trim().is_empty()).or_else(|| {
        url.as_ref().map(|u| {
            let mut page = u.clone();
            page.set_fragment(None);
            page.to_string()
        })
    });
    let id = match id {
        Some(id) => id,
        None if title.is_some() || summary_html.is_some() => {
            let mut hasher = Sha256::new();
            hasher.update(title.as_deref().unwrap_or("").as_bytes());
            hasher.update([0]);
            hasher.update(summary_html.as_deref().unwrap_or("").as_bytes());
            format!("item:{}", hex(&hasher.finalize()[..16]))
        }
        None => return None,
    };
    let id = if id.len() > MAX_ID_BYTES {
        format!("sha256:{}", hex(&Sha256::digest(id.as_bytes())))
    } else {
        id
    };
    Some(Entry {
        id,
        url,
        title: title.map(|t| cut(&t, MAX_TITLE_CHARS)),
        author: None,
        published: None,
        updated: None,
        summary_html,
        content_html: None,
        shares_page: false,
        categories: Vec::new(),
        enclosures: Vec::new(),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `text` with its whitespace collapsed, cut to `max` characters.
fn cut(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// `href` resolved against `base`, when it gives an http(s) address.
fn web_link(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() {
        return None;
    }
    base.join(href)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// An image as the entry's media file (its type unknown: never fetched).
fn image(url: Url) -> super::Enclosure {
    super::Enclosure {
        url: url.to_string(),
        mime_type: None,
        length: None,
        duration_secs: None,
        title: None,
    }
}
