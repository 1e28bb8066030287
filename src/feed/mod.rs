//! Feed documents (RSS 0.9x/1.0/2.0, Atom 0.3/1.0, JSON Feed) into [`Entry`]s.
//!
//! feed-rs does the parsing. Around it, this module:
//! - decodes the bytes to UTF-8 first ([`encoding`]: BOM, HTTP charset, XML
//!   declaration, detection), so feed-rs never sees UTF-16 (it panics on it);
//! - parses strictly first, and only when that fails (or finds no entries in
//!   a document that clearly has some) runs the lenient pre-pass of
//!   [`repair`] and parses again, recording the [`Repair`]s it needed;
//! - reads dates feed-rs misses ([`dates`]) without letting an unreadable
//!   date erase a good one;
//! - never lets a parser panic escape;
//! - names the feed a web page links to when a feed URL serves a page
//!   ([`discover`]);
//! - turns feed-rs' model into the few fields gleaner uses, with plain-text
//!   titles and absolute links.

pub mod dates;
pub mod dialects;
pub mod discover;
pub mod entities;
mod entry;
pub mod items;
pub mod json;
pub mod media;
pub mod references;
pub mod repair;
pub mod scrape;
mod xml_tags;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use feed_rs::model;
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use url::Url;

use crate::encoding::{self, CharsetSource};
use dates::DateLog;
pub use entry::Entry;
use entry::{convert_entry, mark_shared_pages, text_of, without_controls};
pub use media::Enclosure;
pub use repair::Repair;

/// A parsed feed.
#[derive(Debug, Clone)]
pub struct ParsedFeed {
    /// The feed's own title, plain text (cut as an entry's title is).
    pub title: Option<String>,
    /// What the document was: shown by `feeds --json`, and the OPML `type`
    /// `export-opml` writes, so another reader subscribes to the right thing.
    pub format: FeedFormat,
    /// Oldest first, so that storage order follows publication order.
    pub entries: Vec<Entry>,
    /// What the lenient path had to fix, sorted and without duplicates;
    /// empty for a healthy feed.
    pub repairs: Vec<Repair>,
    /// RSS `<ttl>`: how long the feed asks to be cached.
    pub ttl: Option<Duration>,
}

/// The kind of document a feed's entries were read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    /// RSS 0.9x, 1.0 (RDF) or 2.0.
    Rss,
    /// Atom 1.0.
    Atom,
    /// JSON Feed.
    JsonFeed,
    /// A web page read with `[feeds.scrape]` rules.
    Page,
    /// A JSON document read with `[feeds.json]` rules.
    JsonDocument,
}

impl FeedFormat {
    /// The name stored in the database and shown by `feeds --json`; also
    /// OPML's `type`, which names the format of the document at `xmlUrl`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::JsonFeed => "json",
            FeedFormat::Page => "html",
            FeedFormat::JsonDocument => "json-document",
        }
    }
}

/// Why a document fetched from `url` did not give a feed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// An HTML page, OPML, other XML or JSON: nothing to read entries from.
    #[error("{url}: not a feed: {reason}")]
    NotAFeed { url: Url, reason: String },
    /// A web page that links to its feed: the operator should subscribe to `feed`.
    #[error("{url}: not a feed: this is a web page; its feed is at {feed}")]
    WebPage { url: Url, feed: Box<Url> },
    /// A feed so broken that even the lenient pre-pass could not save it.
    #[error("{url}: cannot parse feed: {reason}")]
    Invalid { url: Url, reason: String },
    /// A page or JSON document configured as `[feeds.scrape]` or
    /// `[feeds.json]` that its expressions cannot read (no items, not JSON).
    #[error("{url}: {reason}")]
    Source { url: Url, reason: String },
    /// feed-rs panicked (caught); the message asks for a report.
    #[error(
        "{url}: the feed parser crashed on this document (please report it with the feed's URL)"
    )]
    ParserPanicked { url: Url },
}

impl FeedError {
    /// Whether the document is something other than a feed (a page, OPML, …),
    /// as opposed to a broken feed.
    pub fn is_not_a_feed(&self) -> bool {
        matches!(self, FeedError::NotAFeed { .. } | FeedError::WebPage { .. })
    }
}

/// Parses a feed document fetched from `base` (used to resolve relative
/// links). `content_type` is the HTTP header, whose charset wins over the
/// document's own declaration.
pub fn parse(
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<ParsedFeed, FeedError> {
    let (text, mut repairs) = decode(bytes, content_type);
    let is_json = text.trim_start().starts_with('{');
    let dates = DateLog::default();
    let strict = run_parser(&text, base, &dates);
    let strict = match strict {
        Ok(feed) if !feed.entries.is_empty() || !has_entry_markup(&text, is_json) => {
            let feed = keep_good_dates(feed, &text, base, &dates, &mut repairs);
            return Ok(convert(feed, &text, base, repairs));
        }
        other => other,
    };

    let repaired = if is_json {
        json::repair_json(&text)
    } else {
        Some(repair::repair_xml(&text)).filter(|(_, applied)| !applied.is_empty())
    };
    if let Some((fixed, applied)) = repaired {
        dates.take_unreadable();
        // A repair that loses every entry of a document that has some is
        // no repair: the strict error explains the feed better.
        if let Ok(feed) = run_parser(&fixed, base, &dates)
            && (!feed.entries.is_empty() || (strict.is_err() && !has_entry_markup(&text, is_json)))
        {
            repairs.extend(applied);
            let feed = keep_good_dates(feed, &fixed, base, &dates, &mut repairs);
            return Ok(convert(feed, &fixed, base, repairs));
        }
    }
    match strict {
        Ok(feed) => Ok(convert(feed, &text, base, repairs)),
        Err(Failure::Panicked) => Err(FeedError::ParserPanicked { url: base.clone() }),
        Err(Failure::Parse(error)) => Err(explain(error, &text, base)),
    }
}

enum Failure {
    Parse(ParseFeedError),
    Panicked,
}

/// One feed-rs parse of UTF-8 text, with gleaner's date reader, behind `catch_unwind`.
fn run_parser(text: &str, base: &Url, dates: &DateLog) -> Result<model::Feed, Failure> {
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(base.as_str()))
        .timestamp_parser(dates.parser())
        .build();
    catch_unwind(AssertUnwindSafe(|| parser.parse(text.as_bytes())))
        .map_err(|_| Failure::Panicked)?
        .map_err(Failure::Parse)
}

/// Whether a document that parsed to zero entries visibly has some.
fn has_entry_markup(text: &str, is_json: bool) -> bool {
    if is_json {
        text.contains("\"items\"")
    } else {
        text.contains("<item")
            || text.contains("<entry")
            || text.contains(":item")
            || text.contains(":entry")
    }
}

/// feed-rs sets a date field from each date element in turn, so an
/// unreadable later date (`<dc:date>` after `<pubDate>`) erases a good one:
/// when the parse met unreadable dates, their elements are dropped and the
/// document parsed again.
fn keep_good_dates(
    feed: model::Feed,
    text: &str,
    base: &Url,
    dates: &DateLog,
    repairs: &mut Vec<Repair>,
) -> model::Feed {
    let unreadable = dates.take_unreadable();
    if unreadable.is_empty() {
        return feed;
    }
    let Some(fixed) = repair::drop_elements_with_text(text, &unreadable) else {
        return feed;
    };
    match run_parser(&fixed, base, dates) {
        Ok(again) if again.entries.len() == feed.entries.len() => {
            repairs.push(Repair::UnreadableDates);
            again
        }
        _ => feed,
    }
}

/// UTF-8 text of the document: JSON is UTF-8 by definition (a BOM is
/// dropped); XML is decoded by [`encoding::decode_xml_detailed`].
fn decode(bytes: &[u8], content_type: Option<&str>) -> (String, Vec<Repair>) {
    let unmarked = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = unmarked.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return (String::from_utf8_lossy(unmarked).into_owned(), Vec::new());
    }
    let decoded = encoding::decode_xml_detailed(bytes, content_type);
    let repairs = if decoded.source == CharsetSource::Detected {
        vec![Repair::CharsetGuessed]
    } else {
        Vec::new()
    };
    (decoded.text, repairs)
}

fn explain(error: ParseFeedError, text: &str, base: &Url) -> FeedError {
    let head: String = text
        .chars()
        .take(2048)
        .collect::<String>()
        .to_ascii_lowercase();
    let url = base.clone();
    let not_a_feed = |reason: &str| FeedError::NotAFeed {
        url: base.clone(),
        reason: reason.to_owned(),
    };
    let is_html = head.contains("<html") || head.contains("<!doctype html");
    match error {
        _ if is_html => match discover::feed_link(text, base) {
            Some(feed) => FeedError::WebPage {
                url,
                feed: Box::new(feed),
            },
            None => not_a_feed("this is an HTML page, not RSS, Atom or JSON Feed"),
        },
        _ if head.contains("<opml") => not_a_feed("this is an OPML subscription list, not a feed"),
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            not_a_feed("no RSS, Atom or JSON Feed root element")
        }
        ParseFeedError::JsonSerde(_) | ParseFeedError::JsonUnsupportedVersion(_)
            if !text.contains("\"items\"") =>
        {
            not_a_feed("this JSON document is not a JSON Feed (it has no \"items\")")
        }
        other => FeedError::Invalid {
            url,
            reason: other.to_string(),
        },
    }
}

/// feed-rs' feed into gleaner's; `text` is the document feed-rs read, where
/// the RSS items' own elements are read again ([`items`]).
fn convert(feed: model::Feed, text: &str, base: &Url, mut repairs: Vec<Repair>) -> ParsedFeed {
    repairs.sort();
    repairs.dedup();
    let is_rss = matches!(
        feed.feed_type,
        model::FeedType::RSS0 | model::FeedType::RSS1 | model::FeedType::RSS2
    );
    let details = is_rss
        .then(|| items::rss_items(text))
        .flatten()
        .filter(|items| items.len() == feed.entries.len());
    let mut entries: Vec<Entry> = feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| convert_entry(e, base, details.as_ref().and_then(|d| d.get(i)), is_rss))
        .map(without_controls)
        .collect();
    mark_shared_pages(&mut entries);
    // Feeds list newest first; store oldest first. Sort by date only when every
    // entry has one, otherwise trust the document order.
    entries.reverse();
    if entries.iter().all(|e| e.published.or(e.updated).is_some()) {
        entries.sort_by_key(|e| e.published.or(e.updated));
    }
    let format = match feed.feed_type {
        model::FeedType::Atom => FeedFormat::Atom,
        model::FeedType::JSON => FeedFormat::JsonFeed,
        model::FeedType::RSS0 | model::FeedType::RSS1 | model::FeedType::RSS2 => FeedFormat::Rss,
    };
    ParsedFeed {
        title: feed.title.and_then(|t| entry::feed_title(&text_of(&t))),
        format,
        entries,
        repairs,
        ttl: feed
            .ttl
            .map(|minutes| Duration::from_secs(u64::from(minutes) * 60)),
    }
}

#[cfg(test)]
mod mutation_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use entry::{MAX_ID_BYTES, MAX_TITLE_CHARS};

    #[test]
    fn overlong_titles_authors_and_ids_are_bounded() {
        let long_id = "i".repeat(5000);
        let rss = format!(
            "<rss version=\"2.0\"><channel><item><guid>{long_id}</guid><title>{}</title><author>{}</author></item>\
             <item><guid>{long_id}x</guid><title>t</title></item></channel></rss>",
            "T".repeat(50_000),
            "A".repeat(5_000)
        );
        let feed = parse(rss.as_bytes(), None, &base()).unwrap();
        let entry = feed
            .entries
            .iter()
            .find(|e| e.title.as_deref() != Some("t"))
            .unwrap();
        assert_eq!(
            entry.title.as_ref().unwrap().chars().count(),
            MAX_TITLE_CHARS + 1
        );
        assert!(entry.id.starts_with("sha256:") && entry.id.len() < MAX_ID_BYTES);
        let ids: std::collections::HashSet<&str> =
            feed.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), 2, "hashing keeps distinct ids distinct");
    }

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
            Err(FeedError::NotAFeed { .. })
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
    fn a_later_unreadable_date_does_not_erase_a_good_one() {
        let rss = r#"<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
            <item><guid>1</guid><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><dc:date>sometime</dc:date></item>
            </channel></rss>"#;
        let feed = parse(rss.as_bytes(), None, &base()).unwrap();
        assert_eq!(
            feed.entries[0].published.map(|t| t.to_rfc3339()),
            Some("2024-01-02T10:00:00+00:00".to_owned())
        );
        assert_eq!(feed.repairs, [Repair::UnreadableDates]);
    }

    #[test]
    fn dates_feed_rs_misses_are_read() {
        let rss = r#"<rss version="2.0"><channel>
            <item><guid>1</guid><pubDate>2020/1/10 14:33:00</pubDate></item>
            <item><guid>2</guid><pubDate>Mon, 15 Jul 2019 14:00:00 CEST</pubDate></item>
            </channel></rss>"#;
        let feed = parse(rss.as_bytes(), None, &base()).unwrap();
        let dates: Vec<String> = feed
            .entries
            .iter()
            .map(|e| e.published.unwrap().to_rfc3339())
            .collect();
        assert_eq!(
            dates,
            ["2019-07-15T12:00:00+00:00", "2020-01-10T14:33:00+00:00"]
        );
        assert!(feed.repairs.is_empty());
    }

    #[test]
    fn broken_feeds_go_through_the_pre_pass_and_say_so() {
        let rss = "<rss><item><title>Caf&eacute; &amp; bar</title><link>/a?b=1&c=2</link></item>";
        let feed = parse(rss.as_bytes(), None, &base()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        assert_eq!(feed.entries[0].title.as_deref(), Some("Caf\u{e9} & bar"));
        assert_eq!(
            feed.entries[0].url.as_ref().unwrap().as_str(),
            "https://news.example/a?b=1&c=2"
        );
        let names: Vec<&str> = feed.repairs.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            [
                "rss-version",
                "missing-channel",
                "html-entities",
                "bare-ampersands",
                "truncated"
            ]
        );
    }

    #[test]
    fn healthy_feeds_have_no_repairs() {
        let rss = r#"<rss version="2.0"><channel><item><guid>1</guid></item></channel></rss>"#;
        assert!(
            parse(rss.as_bytes(), None, &base())
                .unwrap()
                .repairs
                .is_empty()
        );
    }

    #[test]
    fn json_feed_quirks_are_repaired() {
        let json = r#"{"version":"http://jsonfeed.org/version/1","title":"J",
            "items":[{"id":"1","url":"https://news.example/1","tags":"a,b","content_text":"x"}"#;
        let feed = parse(json.as_bytes(), None, &base()).unwrap();
        assert_eq!(feed.entries.len(), 1);
        let names: Vec<&str> = feed.repairs.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            ["jsonfeed-version", "jsonfeed-types", "json-truncated"]
        );
    }

    #[test]
    fn a_web_page_names_its_feed() {
        let page = br#"<!DOCTYPE html><html><head>
            <link rel="alternate" type="application/atom+xml" href="/atom.xml"></head></html>"#;
        let error = parse(page, Some("text/html"), &base()).unwrap_err();
        assert!(error.is_not_a_feed());
        assert_eq!(
            error.to_string(),
            "https://news.example/feed.xml: not a feed: this is a web page; its feed is at https://news.example/atom.xml"
        );
    }

    #[test]
    fn other_documents_are_not_feeds() {
        for doc in [
            r#"<?xml version="1.0"?><opml version="2.0"><body/></opml>"#,
            r#"<?xml version="1.0"?><catalog><book/></catalog>"#,
            r#"{"rss":{"channel":{"item":[{"title":"x"}]}}}"#,
        ] {
            let error = parse(doc.as_bytes(), None, &base()).unwrap_err();
            assert!(error.is_not_a_feed(), "{doc}: {error}");
        }
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
