//! Feed documents (RSS 0.9x/1.0/2.0, Atom, JSON Feed) into [`Entry`]s.
//!
//! feed-rs does the parsing; this module decodes the bytes to UTF-8 first
//! (the HTTP charset wins over the XML declaration), never lets a parser panic
//! escape (feed-rs 3.0.0 panics on some UTF-16 input), and turns feed-rs'
//! model into the few fields gleaner uses, with links made absolute.

use std::panic::{AssertUnwindSafe, catch_unwind};

use chrono::{DateTime, Utc};
use feed_rs::model;
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use sha2::{Digest, Sha256};
use url::Url;

use crate::article::text::html_to_text;
use crate::encoding;

/// A parsed feed.
#[derive(Debug, Clone)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// Oldest first, so that storage order follows publication order.
    pub entries: Vec<Entry>,
}

/// One feed entry, as gleaner uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// GUID / Atom id / JSON Feed id (feed-rs derives one when the feed has none).
    pub id: String,
    /// The article link, absolute.
    pub url: Option<Url>,
    /// Plain text.
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// The entry's summary/description as HTML (text is valid HTML too).
    pub summary_html: Option<String>,
    /// The entry's full content as HTML, when the feed carries it.
    pub content_html: Option<String>,
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

/// Why a document did not give a feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("not a feed: {0}")]
    NotAFeed(String),
    #[error("cannot parse feed: {0}")]
    Invalid(String),
    #[error("the feed parser crashed on this document (please report it with the feed's URL)")]
    ParserPanicked,
}

/// Parses a feed document fetched from `base` (used to resolve relative links).
pub fn parse(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, FeedError> {
    let text = decode(bytes, content_type);
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .build();
    let parsed = catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|_| FeedError::ParserPanicked)?;
    let feed = parsed.map_err(|e| explain(e, &text))?;
    Ok(convert(feed, base))
}

/// UTF-8 text of the document: JSON is UTF-8 by definition; XML is decoded
/// by [`encoding::decode_xml`].
fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        encoding::decode_xml(bytes, content_type)
    }
}

fn explain(error: ParseFeedError, text: &str) -> FeedError {
    let head: String = text
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    match error {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            if head.contains("<html") || head.contains("<!doctype html") {
                FeedError::NotAFeed("this is an HTML page, not RSS, Atom or JSON Feed".into())
            } else if head.contains("<opml") {
                FeedError::NotAFeed("this is an OPML subscription list, not a feed".into())
            } else {
                FeedError::NotAFeed("no RSS, Atom or JSON Feed root element".into())
            }
        }
        other => FeedError::Invalid(other.to_string()),
    }
}

fn convert(feed: model::Feed, base: &Url) -> ParsedFeed {
    let mut entries: Vec<Entry> = feed
        .entries
        .into_iter()
        .map(|e| convert_entry(e, base))
        .collect();
    // Feeds list newest first; store oldest first. Sort by date only when every
    // entry has one, otherwise trust the document order.
    entries.reverse();
    if entries.iter().all(|e| e.published.or(e.updated).is_some()) {
        entries.sort_by_key(|e| e.published.or(e.updated));
    }
    ParsedFeed {
        title: feed.title.map(|t| text_of(&t)).filter(|t| !t.is_empty()),
        entries,
    }
}

fn convert_entry(entry: model::Entry, base: &Url) -> Entry {
    let url = pick_link(&entry.links).and_then(|href| base.join(href.trim()).ok());
    let author = entry
        .authors
        .iter()
        .filter_map(|p| p.name.as_deref().map(str::trim))
        .find(|n| !n.is_empty())
        .map(str::to_owned);
    Entry {
        id: entry.id,
        url,
        title: entry.title.as_ref().map(text_of).filter(|t| !t.is_empty()),
        author,
        published: entry.published,
        updated: entry.updated,
        summary_html: entry
            .summary
            .map(|s| html_of(&s))
            .filter(|s| !s.trim().is_empty()),
        content_html: entry
            .content
            .and_then(|c| c.body)
            .filter(|b| !b.trim().is_empty()),
    }
}

/// The entry's web page: the `alternate` link, else the first link without a rel.
fn pick_link(links: &[model::Link]) -> Option<&str> {
    links
        .iter()
        .find(|l| l.rel.as_deref() == Some("alternate"))
        .or_else(|| links.iter().find(|l| l.rel.is_none()))
        .or_else(|| links.first())
        .map(|l| l.href.as_str())
}

/// Plain text of a feed text construct (HTML titles are stripped of markup).
fn text_of(text: &model::Text) -> String {
    if text.content_type.essence().subty.as_str() == "html" {
        html_to_text(&text.content)
    } else {
        text.content
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A feed text construct as HTML (plain text is escaped).
fn html_of(text: &model::Text) -> String {
    if text.content_type.essence().subty.as_str() == "plain" {
        let escaped = text
            .content
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        format!("<p>{escaped}</p>")
    } else {
        text.content.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://news.example/feed.xml").unwrap()
    }

    #[test]
    fn rss_entries_come_out_oldest_first_with_absolute_links() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
            <item><guid>b</guid><title>Second</title><link>/2</link>
              <pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><description>&lt;p&gt;two&lt;/p&gt;</description></item>
            <item><guid>a</guid><title>First &amp; best</title><link>https://news.example/1</link>
              <pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate></item>
            </channel></rss>"#;
        let feed = parse(rss.as_bytes(), None, &base()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("T"));
        let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(feed.entries[0].title.as_deref(), Some("First & best"));
        assert_eq!(
            feed.entries[1].url.as_ref().unwrap().as_str(),
            "https://news.example/2"
        );
        assert_eq!(feed.entries[1].summary_html.as_deref(), Some("<p>two</p>"));
    }

    #[test]
    fn atom_and_json_feed_parse() {
        let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><id>x</id>
            <entry><id>urn:1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; move</title>
            <link rel="alternate" href="https://news.example/a"/><author><name>Ann</name></author>
            <updated>2024-01-01T00:00:00Z</updated><content type="html">&lt;p&gt;Body&lt;/p&gt;</content></entry></feed>"#;
        let feed = parse(atom.as_bytes(), None, &base()).unwrap();
        let e = &feed.entries[0];
        assert_eq!(e.title.as_deref(), Some("Bold move"));
        assert_eq!(e.author.as_deref(), Some("Ann"));
        assert_eq!(e.content_html.as_deref(), Some("<p>Body</p>"));

        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"J",
            "items":[{"id":"7","url":"https://news.example/j","title":"Jay","content_html":"<p>x</p>"}]}"#;
        let feed = parse(json.as_bytes(), Some("application/feed+json"), &base()).unwrap();
        assert_eq!(feed.entries[0].id, "7");
        assert_eq!(
            feed.entries[0].url.as_ref().unwrap().as_str(),
            "https://news.example/j"
        );
    }

    #[test]
    fn latin1_feed_is_decoded() {
        let mut rss = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>Caf".to_vec();
        rss.push(0xE9);
        rss.extend_from_slice(
            b"</title><item><guid>1</guid><title>\xC0 la carte</title></item></channel></rss>",
        );
        let feed = parse(&rss, Some("text/xml"), &base()).unwrap();
        assert_eq!(feed.title.as_deref(), Some("Caf\u{e9}"));
        assert_eq!(feed.entries[0].title.as_deref(), Some("\u{c0} la carte"));
    }

    #[test]
    fn html_and_garbage_are_not_feeds() {
        let e = parse(
            b"<!DOCTYPE html><html><body>hi</body></html>",
            None,
            &base(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("HTML page"), "{e}");
        assert!(matches!(
            parse(b"\x00\x01garbage", None, &base()),
            Err(FeedError::NotAFeed(_))
        ));
    }

    #[test]
    fn utf16_input_never_panics() {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in "<?xml version=\"1.0\" encoding=\"UTF-16\"?><rss version=\"2.0\"><channel><title>x</title></channel></rss>".encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        // Whatever the outcome, it is a value, not a panic.
        let _ = parse(&bytes, None, &base());
        let _ = parse(&bytes[1..], None, &base());
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let feed = parse(
            br#"<rss version="2.0"><channel><item><guid>1</guid><title>a</title></item></channel></rss>"#,
            None,
            &base(),
        )
        .unwrap();
        let mut entry = feed.entries[0].clone();
        let before = entry.fingerprint();
        entry.title = Some("b".into());
        assert_ne!(before, entry.fingerprint());
    }
}
