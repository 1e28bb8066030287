//! One feed-rs entry into gleaner's [`Entry`]: plain-text title, the page
//! link, one author name, the dates the feed means.
//!
//! For RSS items, the [`ItemDetails`] read beside feed-rs fill in what its
//! model loses (see [`super::items`]): `<pubDate>` wins over `<dc:date>`,
//! `updated` is only a date the feed gives as a modification (unknown stays
//! unknown), a permalink `<guid>` or an `<atom:link>` is the link when there
//! is no `<link>`, and Atom, iTunes and nested authors count.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use feed_rs::model::{self, LinkTarget};
use regex::Regex;
use sha2::{Digest, Sha256};
use url::Url;

use super::dates::parse_timestamp;
use super::entities;
use super::items::{Guid, ItemDetails};
use crate::article::text::html_to_text;
use crate::controls;

/// One feed entry, as gleaner uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// GUID / Atom id / JSON Feed id (feed-rs derives one when the feed has none).
    pub id: String,
    /// The article link, absolute.
    pub url: Option<Url>,
    /// Plain text, whatever markup the feed put in it.
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    /// When the feed says the entry was last modified; `None` when it does
    /// not say (a publication date is not copied here).
    pub updated: Option<DateTime<Utc>>,
    /// The entry's summary/description as HTML (text is valid HTML too).
    pub summary_html: Option<String>,
    /// The entry's full content as HTML, when the feed carries it.
    pub content_html: Option<String>,
    /// Another entry of the same feed, with another id, links to the same
    /// page (posts that are anchors of one day's page, or one link given to
    /// many entries): that page is not this entry's article, so it is not
    /// scraped and the entry keeps its own content.
    pub shares_page: bool,
    /// The entry's own categories (RSS `<category>`, Atom `category`,
    /// JSON Feed `tags`), their labels else their terms, without repeats.
    pub categories: Vec<String>,
    /// Its media files (enclosures, Media RSS, attachments), never fetched.
    pub enclosures: Vec<super::Enclosure>,
}

impl Entry {
    /// A fingerprint of what the feed says about this entry; when it changes,
    /// the stored article is updated in place.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for part in [
            self.url.as_ref().map(Url::as_str),
            self.title.as_deref(),
            self.summary_html.as_deref(),
            self.content_html.as_deref(),
        ] {
            hasher.update(part.unwrap_or("").as_bytes());
            hasher.update([0]);
        }
        hasher.update(
            self.updated
                .map(|t| t.timestamp())
                .unwrap_or(0)
                .to_le_bytes(),
        );
        hasher.finalize()[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Feeds are untrusted input: titles and author names past these lengths are
/// cut (at a character boundary, with an ellipsis).
pub(super) const MAX_TITLE_CHARS: usize = 1000;
const MAX_AUTHOR_CHARS: usize = 300;
/// Entry ids longer than this are replaced by a hash of themselves: they are
/// database keys, and cutting them could make two ids equal.
pub(super) const MAX_ID_BYTES: usize = 512;

/// Converts one entry. `details` are the RSS item's own elements, when the
/// document is RSS and they could be paired with feed-rs' entries.
pub(super) fn convert_entry(
    entry: model::Entry,
    base: &Url,
    details: Option<&ItemDetails>,
    is_rss: bool,
) -> Entry {
    let url = pick_link(&entry.links)
        .or_else(|| details.and_then(|d| d.atom_link.as_deref()))
        .and_then(|href| base.join(href.trim()).ok())
        .or_else(|| details.and_then(|d| d.guid.as_ref()).and_then(permalink))
        .or_else(|| {
            // An Atom id is a name, not a link, but one that is a web
            // address names the entry's page when it has no link.
            let is_atom = entry.links.is_empty() && !is_rss;
            is_atom.then(|| web_address(&entry.id)).flatten()
        });
    let author = entry
        .authors
        .iter()
        .filter_map(person_name)
        .chain(details.into_iter().flat_map(|d| d.authors.iter().cloned()))
        .next();
    let (published, updated) = match details {
        Some(d) => (
            d.pub_date
                .as_deref()
                .and_then(parse_timestamp)
                .or_else(|| d.dc_date.as_deref().and_then(parse_timestamp))
                .or(entry.published),
            d.modified.iter().find_map(|t| parse_timestamp(t)),
        ),
        // feed-rs copies an RSS item's publication date into `updated`.
        None if is_rss => (
            entry.published,
            entry.updated.filter(|u| Some(*u) != entry.published),
        ),
        None => (entry.published, entry.updated),
    };
    let enclosures =
        super::media::enclosures(&entry, base, details.and_then(|d| d.itunes_duration));
    // A podcast episode often describes itself only in its media
    // (`itunes:summary`, `media:description`).
    let media_description = entry
        .media
        .iter()
        .find_map(|m| m.description.as_ref())
        .map(html_of);
    Entry {
        id: bounded_id(entry.id),
        url,
        // A media item (`<media:title>`) without a title of its own is
        // called by its media's title.
        title: entry
            .title
            .iter()
            .map(text_of)
            .chain(details.and_then(|d| d.media_title.clone()))
            .map(|t| clip(t, MAX_TITLE_CHARS))
            .find(|t| !t.is_empty()),
        author: author.map(|a| clip(a, MAX_AUTHOR_CHARS)),
        published,
        updated,
        summary_html: entry
            .summary
            .map(|s| html_of(&s))
            .or(media_description)
            .filter(|s| !s.trim().is_empty()),
        content_html: entry
            .content
            .and_then(|c| c.body)
            .filter(|b| !b.trim().is_empty()),
        shares_page: false,
        categories: categories(&entry.categories),
        enclosures,
    }
}

/// At most this many categories of one entry are kept, each of at most
/// [`MAX_CATEGORY_CHARS`]: feeds are untrusted input.
const MAX_CATEGORIES: usize = 50;
const MAX_CATEGORY_CHARS: usize = 200;

fn categories(categories: &[model::Category]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for category in categories {
        let name = category
            .label
            .as_deref()
            .filter(|l| !l.trim().is_empty())
            .unwrap_or(&category.term)
            .trim();
        let name = clip(name.to_owned(), MAX_CATEGORY_CHARS);
        if !name.is_empty() && !names.contains(&name) && names.len() < MAX_CATEGORIES {
            names.push(name);
        }
    }
    names
}

/// Sets [`Entry::shares_page`]: entries with distinct ids whose links
/// differ at most by their fragment.
pub(super) fn mark_shared_pages(entries: &mut [Entry]) {
    let page = |url: &Url| {
        let mut page = url.clone();
        page.set_fragment(None);
        page
    };
    let mut ids: HashMap<Url, HashSet<&str>> = HashMap::new();
    for entry in entries.iter() {
        if let Some(url) = &entry.url {
            ids.entry(page(url)).or_default().insert(&entry.id);
        }
    }
    let shared: HashSet<Url> = ids
        .into_iter()
        .filter(|(_, ids)| ids.len() > 1)
        .map(|(page, _)| page)
        .collect();
    for entry in entries.iter_mut() {
        entry.shares_page = entry
            .url
            .as_ref()
            .is_some_and(|u| shared.contains(&page(u)));
    }
}

/// A `<guid>` that is a permalink (RSS 2.0: unless `isPermaLink="false"`)
/// and an absolute web address is the item's link when it has no other.
fn permalink(guid: &Guid) -> Option<Url> {
    guid.permalink.then(|| web_address(&guid.text)).flatten()
}

/// `text` as an absolute http(s) URL; ids like `urn:uuid:…`, `tag:…` or
/// `12345` are not pages.
fn web_address(text: &str) -> Option<Url> {
    Url::parse(text.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// The entry's web page: the `alternate` link, else the first link without
/// a rel. Never its comments (RSS `<comments>`, `wfw:commentRss`) nor a
/// link of another rel (`enclosure`, `related`, `self`, `replies`): those
/// are not the article.
fn pick_link(links: &[model::Link]) -> Option<&str> {
    let page_links: Vec<&model::Link> = links
        .iter()
        .filter(|l| {
            !matches!(
                l.target,
                Some(LinkTarget::Comments | LinkTarget::CommentsFeed)
            )
        })
        .collect();
    page_links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .or_else(|| page_links.iter().find(|l| l.rel.is_none()))
        .map(|l| l.href.as_str())
}

/// A person's display name: the name (without the parentheses of RSS's
/// `e-mail (Name)`), else the e-mail address: an author known only by
/// address is still an author.
fn person_name(person: &model::Person) -> Option<String> {
    let name = person.name.as_deref().map(str::trim).unwrap_or("");
    let name = name
        .strip_prefix('(')
        .and_then(|n| n.strip_suffix(')'))
        .unwrap_or(name);
    let name = collapse(name);
    if !name.is_empty() {
        return Some(name);
    }
    person
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A feed's own title as gleaner keeps it: without control characters,
/// on one line, cut as an entry's title is; `None` when nothing is left.
pub(super) fn feed_title(title: &str) -> Option<String> {
    let title = collapse(&controls::strip(title));
    (!title.is_empty()).then(|| clip(title, MAX_TITLE_CHARS))
}

fn clip(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `entry` without control characters (C0 but tab and newline, DEL, C1:
/// [`controls::strip`]) in anything it carries as text: its title, author,
/// id, categories, media titles and HTML. This is the one place they are
/// dropped for every entry of every feed type, so that none reaches a
/// terminal, an export or the store (where a NUL makes PostgreSQL refuse
/// the whole feed's transaction).
pub(super) fn without_controls(mut entry: Entry) -> Entry {
    let line = |text: String| {
        let text = collapse(&controls::strip(&text));
        (!text.is_empty()).then_some(text)
    };
    // In HTML a carriage return is whitespace: it stays a line break.
    let html = |html: String| controls::strip_owned(html.replace('\r', "\n"));
    entry.title = entry.title.and_then(line);
    entry.author = entry.author.and_then(line);
    let id = controls::strip(&entry.id);
    if id.len() != entry.id.len() {
        entry.id = match id.trim() {
            // An id of nothing but controls is still an id: its hash.
            "" => hashed_id(&entry.id),
            _ => id.into_owned(),
        };
    }
    entry.summary_html = entry.summary_html.map(html);
    entry.content_html = entry.content_html.map(html);
    let mut categories: Vec<String> = Vec::with_capacity(entry.categories.len());
    for category in entry.categories.into_iter().filter_map(line) {
        if !categories.contains(&category) {
            categories.push(category);
        }
    }
    entry.categories = categories;
    for enclosure in &mut entry.enclosures {
        enclosure.title = enclosure.title.take().and_then(line);
        enclosure.mime_type = enclosure.mime_type.take().and_then(line);
    }
    entry
}

fn bounded_id(id: String) -> String {
    if id.len() <= MAX_ID_BYTES {
        return id;
    }
    hashed_id(&id)
}

/// An id that cannot be used as it is, replaced by its hash.
fn hashed_id(id: &str) -> String {
    let digest: String = Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{digest}")
}

/// Whether plain text carries HTML tags (RSS titles often hold escaped or
/// CDATA markup: `<![CDATA[<b>New</b> post]]>`). Only tags of HTML's inline
/// and block elements count: a title that says `Harbour <reopens>` means
/// the angle brackets.
fn has_markup(text: &str) -> bool {
    static TAG: OnceLock<Regex> = OnceLock::new();
    TAG.get_or_init(|| {
        Regex::new(
            r"(?i)</?(a|abbr|b|big|blockquote|br|cite|code|del|div|em|font|h[1-6]|hr|i|img|ins|kbd|li|mark|ol|p|pre|q|s|small|span|strike|strong|sub|sup|time|tt|u|ul|var)(\s[^<>]*)?/?>",
        )
        .expect("a valid regex")
    })
    .is_match(text)
}

/// Plain text of a feed text construct, always: HTML and XHTML are stripped
/// of markup, and so is plain text that carries tags; entities a feed
/// escaped twice (`&amp;nbsp;`) are decoded; whitespace is collapsed.
pub(super) fn text_of(text: &model::Text) -> String {
    let subtype = text.content_type.essence().subty.as_str().to_owned();
    let is_markup = subtype == "html" || subtype.contains("xhtml") || has_markup(&text.content);
    if is_markup {
        collapse(&html_to_text(&text.content))
    } else {
        collapse(&entities::decode_text(&text.content))
    }
}

/// A feed text construct as HTML (plain text is escaped, after decoding
/// leftover entities so that `&nbsp;` does not show up literally).
fn html_of(text: &model::Text) -> String {
    if text.content_type.essence().subty.as_str() == "plain" {
        let escaped = entities::decode_text(&text.content)
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!("<p>{escaped}</p>")
    } else {
        text.content.clone()
    }
}

#[cfg(test)]
#[path = "entry_tests.rs"]
mod tests;
