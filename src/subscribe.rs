//! Changing the feed list from the command line: `add` (with discovery),
//! `remove`, and OPML import and export.
//!
//! The TOML file is edited with toml_edit, so the operator's comments and
//! layout survive. Every edit is checked as a whole config before it is
//! written, and written atomically with the file's own permissions and
//! owner, through a symbolic link to the file it names. Edits of one file
//! take turns ([`ConfigFile::load`] locks it): each reads the file as the
//! previous one left it, so edits running at once all land.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use quick_xml::events::{BytesStart, Event};
use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};
use url::Url;

use crate::atomic;
use crate::config::{Config, ConfigError};
use crate::feed::scrape::FeedSource;
use crate::feed::{self, FeedError, FeedFormat, ParsedFeed};
use crate::fetch::{FeedResponse, Fetcher, Validators};

mod scrape;
pub use scrape::{ScrapedPage, find_entries};

/// Where sites usually keep their feed, tried when a page names none.
const COMMON_FEED_PATHS: [&str; 7] = [
    "/feed",
    "/rss.xml",
    "/atom.xml",
    "/feed.xml",
    "/index.xml",
    "/rss",
    "/feed.json",
];

#[derive(Debug, thiserror::Error)]
pub enum SubscribeError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source} (the file is unchanged)")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Edit { path: PathBuf, reason: String },
    #[error("the edited config would be invalid, so it was not written:\n{0}")]
    Invalid(ConfigError),
    #[error("{0}")]
    Current(ConfigError),
    #[error(
        "cannot lock {path} against other edits of the config: {source} (check that the folder is readable)"
    )]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no feed found for {url}:\n  {}", .tried.join("\n  "))]
    NoFeed { url: Url, tried: Vec<String> },
    #[error("{url}: {reason}")]
    Page { url: Url, reason: String },
    #[error("{path}: not an OPML subscription list: {reason}")]
    Opml { path: PathBuf, reason: String },
}

/// A feed to append to the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFeed {
    pub url: Url,
    /// `None`: derived from the host, as for a hand-written block without a name.
    pub name: Option<String>,
    pub tags: Vec<String>,
}

/// The config file as a document that can be edited and written back,
/// locked against other edits for as long as this value lives.
pub struct ConfigFile {
    path: PathBuf,
    doc: DocumentMut,
    /// The config as read under the lock.
    config: Config,
    _lock: EditLock,
}

impl ConfigFile {
    /// Waits for other edits of the config (`add`, `remove`,
    /// `import-opml` of any process) to finish, then reads it: what an edit
    /// checks (names and URLs taken) and changes is the file as the last
    /// edit left it, not as it was when the command started, so edits
    /// running at once all land. Hold the value until [`ConfigFile::save`]
    /// has written.
    pub fn load(path: &Path) -> Result<ConfigFile, SubscribeError> {
        let lock = EditLock::take(path)?;
        let text = std::fs::read_to_string(path).map_err(|source| SubscribeError::Read {
            path: path.to_owned(),
            source,
        })?;
        let doc = text
            .parse::<DocumentMut>()
            .map_err(|e| SubscribeError::Edit {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        let config = Config::from_str_at(&text, path).map_err(SubscribeError::Current)?;
        Ok(ConfigFile {
            path: path.to_owned(),
            doc,
            config,
            _lock: lock,
        })
    }

    /// The config as it is now (read under the lock).
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn feeds(&mut self) -> Result<&mut ArrayOfTables, SubscribeError> {
        let item = self
            .doc
            .entry("feeds")
            .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
        item.as_array_of_tables_mut()
            .ok_or_else(|| SubscribeError::Edit {
                path: self.path.clone(),
                reason: "`feeds` is not written as [[feeds]] tables; edit it by hand".into(),
            })
    }

    /// Appends a `[[feeds]]` block.
    pub fn add(&mut self, feed: &NewFeed) -> Result<(), SubscribeError> {
        let mut table = Table::new();
        table.decor_mut().set_prefix("\n");
        table["url"] = value(feed.url.as_str());
        if let Some(name) = &feed.name {
            table["name"] = value(name.as_str());
        }
        if !feed.tags.is_empty() {
            table["tags"] = value(feed.tags.iter().collect::<toml_edit::Array>());
        }
        self.feeds()?.push(table);
        Ok(())
    }

    /// Removes the `[[feeds]]` block of `url`; false when there is none.
    pub fn remove(&mut self, url: &Url) -> Result<bool, SubscribeError> {
        let feeds = self.feeds()?;
        let before = feeds.len();
        feeds.retain(|table| {
            let configured = table.get("url").and_then(|u| u.as_str());
            configured.and_then(|u| Url::parse(u.trim()).ok()).as_ref() != Some(url)
        });
        Ok(feeds.len() < before)
    }

    /// Checks the edited document as a config, then replaces the file.
    pub fn save(&self) -> Result<Config, SubscribeError> {
        let text = self.doc.to_string();
        let config = Config::from_str_at(&text, &self.path).map_err(SubscribeError::Invalid)?;
        atomic::write(&self.path, text.as_bytes(), ".gleaner-").map_err(|source| {
            SubscribeError::Write {
                path: self.path.clone(),
                source,
            }
        })?;
        Ok(config)
    }
}

/// An exclusive `flock` on the folder of the file a config path names
/// (through symbolic links), released when dropped or when the process
/// ends however it ends. The folder, not the file: an edit replaces the
/// file (a new inode) by renaming, so a lock on the file would not be seen
/// by an edit that opens the new one; and the folder leaves no lock file
/// behind, and whoever may replace the config (write the folder) may lock
/// it.
struct EditLock {
    _folder: std::fs::File,
}

impl EditLock {
    fn take(config: &Path) -> Result<EditLock, SubscribeError> {
        use std::os::fd::AsRawFd;
        let target = std::fs::canonicalize(config).map_err(|source| SubscribeError::Read {
            path: config.to_owned(),
            source,
        })?;
        let folder = target.parent().unwrap_or(Path::new("/")).to_owned();
        let lock_error = |source| SubscribeError::Lock {
            path: folder.clone(),
            source,
        };
        let file = std::fs::File::open(&folder).map_err(lock_error)?;
        loop {
            // SAFETY: flock on a file descriptor this function owns.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } == 0 {
                return Ok(EditLock { _folder: file });
            }
            let error = std::io::Error::last_os_error();
            if error.kind() != std::io::ErrorKind::Interrupted {
                return Err(lock_error(error));
            }
        }
    }
}

/// Finds the feed behind `url`: the URL itself when it is a feed, else the
/// feed its page links to (`<link rel="alternate">`), else the first of the
/// usual paths on its site that parses.
pub async fn discover(fetcher: &Fetcher, url: &Url) -> Result<(Url, ParsedFeed), SubscribeError> {
    let mut tried = Vec::new();
    match try_feed(fetcher, url).await {
        Ok(found) => return Ok(found),
        Err(Miss::Parsed(FeedError::WebPage { feed, .. })) => {
            match try_feed_linked(fetcher, &feed, url).await {
                Ok(found) => return Ok(found),
                Err(error) => tried.push(describe(error)),
            }
        }
        Err(error) => tried.push(describe(error)),
    }
    for path in COMMON_FEED_PATHS {
        let Ok(candidate) = url.join(path) else {
            continue;
        };
        if candidate == *url {
            continue;
        }
        match try_feed(fetcher, &candidate).await {
            Ok(found) => return Ok(found),
            Err(error) => tried.push(describe(error)),
        }
    }
    Err(SubscribeError::NoFeed {
        url: crate::redact::url(url),
        tried,
    })
}

/// Why a candidate URL gave no feed.
enum Miss {
    /// Not fetched: the fetch error (it names the URL), or what came instead.
    Unfetched(String),
    /// Fetched, and not a feed.
    Parsed(FeedError),
}

/// Fetches and parses `url`: the feed (under its final URL when it moved
/// permanently), or why not.
async fn try_feed(fetcher: &Fetcher, url: &Url) -> Result<(Url, ParsedFeed), Miss> {
    let response = fetcher
        .fetch_feed(url, &Validators::default(), fetcher.default_request())
        .await;
    parse_found(url, response)
}

/// [`try_feed`] for a feed URL that the page at `page` advertised: the page
/// is not trusted, so neither is a host its link leads to.
async fn try_feed_linked(
    fetcher: &Fetcher,
    url: &Url,
    page: &Url,
) -> Result<(Url, ParsedFeed), Miss> {
    let response = fetcher.fetch_linked_feed(url, page).await;
    parse_found(url, response)
}

fn parse_found(
    url: &Url,
    response: Result<FeedResponse, crate::fetch::FetchError>,
) -> Result<(Url, ParsedFeed), Miss> {
    // The error names the URL as fetched: shown without its credentials.
    let response = response.map_err(|error| {
        let shown = crate::redact::url(url).to_string();
        Miss::Unfetched(error.to_string().replace(url.as_str(), &shown))
    })?;
    let FeedResponse::Fetched(body) = response else {
        return Err(Miss::Unfetched(format!(
            "{}: answered 304 Not Modified to a request without validators",
            crate::redact::url(url)
        )));
    };
    let found_at = body
        .moved_permanently
        .clone()
        .unwrap_or_else(|| url.clone());
    feed::parse(&body.bytes, body.content_type.as_deref(), &body.final_url)
        .map(|parsed| (found_at, parsed))
        .map_err(Miss::Parsed)
}

/// One line of `add`'s "no feed found": the candidate and why it failed.
fn describe(miss: Miss) -> String {
    match miss {
        Miss::Parsed(error) => error.to_string(),
        Miss::Unfetched(reason) => reason,
    }
}

/// One feed of an OPML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub url: String,
    pub title: Option<String>,
    /// The enclosing outlines' titles and the `category` attribute.
    pub tags: Vec<String>,
    /// Its `type` attribute: `html` or `json-document` (what `export-opml`
    /// writes for a page read with rules) is not a feed to subscribe to.
    pub kind: Option<String>,
}

impl OpmlFeed {
    /// Whether the outline names a page read with `[feeds.scrape]` or
    /// `[feeds.json]` rules, which the list does not carry.
    pub fn is_page(&self) -> bool {
        let page = |f: FeedFormat| self.kind.as_deref() == Some(f.as_str());
        page(FeedFormat::Page) || page(FeedFormat::JsonDocument)
    }
}

/// Reads the feeds of an OPML subscription list (any version): every
/// `outline` with an `xmlUrl`, tagged with its enclosing outlines.
pub fn parse_opml(path: &Path, xml: &str) -> Result<Vec<OpmlFeed>, SubscribeError> {
    let bad = |reason: String| SubscribeError::Opml {
        path: path.to_owned(),
        reason,
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut groups: Vec<Option<String>> = Vec::new();
    let mut feeds = Vec::new();
    let mut seen_opml = false;
    loop {
        let event = reader.read_event().map_err(|e| {
            bad(format!(
                "XML error at byte {}: {e}",
                reader.error_position()
            ))
        })?;
        match event {
            Event::Start(e) | Event::Empty(e) if e.local_name().into_inner() == "opml" => {
                seen_opml = true;
            }
            Event::Start(e) if e.local_name().into_inner() == "outline" => {
                let outline = Outline::read(&e).map_err(|e| bad(e.to_string()))?;
                let group = match outline.xml_url {
                    Some(_) => None,
                    None => outline.text.clone(),
                };
                feeds.extend(outline.into_feed(&groups));
                groups.push(group);
            }
            Event::Empty(e) if e.local_name().into_inner() == "outline" => {
                let outline = Outline::read(&e).map_err(|e| bad(e.to_string()))?;
                feeds.extend(outline.into_feed(&groups));
            }
            Event::End(e) if e.local_name().into_inner() == "outline" => {
                groups.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_opml {
        return Err(bad("no <opml> root element".into()));
    }
    Ok(feeds)
}

struct Outline {
    text: Option<String>,
    xml_url: Option<String>,
    kind: Option<String>,
    categories: Vec<String>,
}

impl Outline {
    fn read(element: &BytesStart<'_>) -> Result<Outline, quick_xml::Error> {
        let mut outline = Outline {
            text: None,
            xml_url: None,
            kind: None,
            categories: Vec::new(),
        };
        let mut title = None;
        for attribute in element.attributes() {
            let attribute = attribute.map_err(quick_xml::Error::from)?;
            let text = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)?
                .trim()
                .to_owned();
            if text.is_empty() {
                continue;
            }
            match attribute.key.local_name().into_inner() {
                "text" => outline.text = Some(text),
                "title" => title = Some(text),
                "xmlUrl" | "xmlurl" => outline.xml_url = Some(text),
                "type" => outline.kind = Some(text),
                // OPML 2.0: comma-separated, each a slash-delimited path.
                "category" => outline.categories.extend(
                    text.split([',', '/'])
                        .map(str::trim)
                        .filter(|c| !c.is_empty())
                        .map(str::to_owned),
                ),
                _ => {}
            }
        }
        outline.text = outline.text.or(title);
        Ok(outline)
    }

    fn into_feed(self, groups: &[Option<String>]) -> Option<OpmlFeed> {
        let url = self.xml_url?;
        let mut tags: Vec<String> = Vec::new();
        for tag in groups.iter().flatten().chain(&self.categories) {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        Some(OpmlFeed {
            url,
            title: self.text,
            tags,
            kind: self.kind,
        })
    }
}

/// The configured feeds as OPML 2.0, grouped by their first tag.
///
/// `formats` maps a feed's URL to the format its last parsed fetch found
/// (`feed::FeedFormat::as_str`); it becomes the outline's `type`, so a reader
/// importing the list knows an Atom or JSON feed, and a scraped page (`html`)
/// or JSON document is not taken for a feed. A feed never polled gets the type
/// its config implies: `rss` for a feed, as OPML 2.0 names subscriptions.
pub fn write_opml(
    config: &Config,
    formats: &std::collections::HashMap<String, String>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let escape = |text: &str| -> String {
        match quick_xml::escape::escape(text) {
            Cow::Borrowed(s) => s.to_owned(),
            Cow::Owned(s) => s,
        }
    };
    let outline = |feed: &crate::config::FeedConfig| {
        let category = if feed.tags.is_empty() {
            String::new()
        } else {
            format!(" category=\"{}\"", escape(&feed.tags.join(",")))
        };
        let kind = match &feed.source {
            FeedSource::Feed => formats
                .get(feed.url.as_str())
                .map_or(FeedFormat::Rss.as_str(), String::as_str),
            FeedSource::Scrape(_) => FeedFormat::Page.as_str(),
            FeedSource::Json(_) => FeedFormat::JsonDocument.as_str(),
        };
        format!(
            "<outline type=\"{kind}\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{url}\"{category}/>",
            kind = escape(kind),
            name = escape(&feed.name),
            // A subscription list is shared: no credentials in it.
            url = escape(crate::redact::url(&feed.url).as_str())
        )
    };
    let mut body = String::new();
    let mut groups: Vec<&str> = Vec::new();
    for feed in &config.feeds {
        if let Some(tag) = feed.tags.first()
            && !groups.contains(&tag.as_str())
        {
            groups.push(tag);
        }
    }
    for group in &groups {
        body.push_str(&format!("  <outline text=\"{}\">\n", escape(group)));
        for feed in config
            .feeds
            .iter()
            .filter(|f| f.tags.first().map(String::as_str) == Some(*group))
        {
            body.push_str(&format!("    {}\n", outline(feed)));
        }
        body.push_str("  </outline>\n");
    }
    for feed in config.feeds.iter().filter(|f| f.tags.is_empty()) {
        body.push_str(&format!("  {}\n", outline(feed)));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n<head>\n  \
         <title>gleaner feeds</title>\n  <dateCreated>{}</dateCreated>\n</head>\n<body>\n{body}</body>\n</opml>\n",
        now.to_rfc2822()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opml_outlines_become_feeds_tagged_by_their_groups() {
        let xml = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>x</title></head><body>
  <outline text="Tech">
    <outline text="Rust &amp; more" type="rss" xmlUrl="https://blog.rust-lang.org/feed.xml" category="/lang/rust,systems"/>
    <outline title="Only a title" xmlUrl="https://lwn.net/headlines/rss"/>
  </outline>
  <outline text="Loose" xmlUrl="https://example.org/feed"/>
  <outline text="Empty group"></outline>
</body></opml>"#;
        let feeds = parse_opml(Path::new("f.opml"), xml).unwrap();
        assert_eq!(
            feeds,
            [
                OpmlFeed {
                    url: "https://blog.rust-lang.org/feed.xml".into(),
                    title: Some("Rust & more".into()),
                    tags: vec![
                        "Tech".into(),
                        "lang".into(),
                        "rust".into(),
                        "systems".into()
                    ],
                    kind: Some("rss".into()),
                },
                OpmlFeed {
                    url: "https://lwn.net/headlines/rss".into(),
                    title: Some("Only a title".into()),
                    tags: vec!["Tech".into()],
                    kind: None,
                },
                OpmlFeed {
                    url: "https://example.org/feed".into(),
                    title: Some("Loose".into()),
                    kind: None,
                    tags: vec![],
                },
            ]
        );
    }

    #[test]
    fn what_is_not_opml_is_refused_with_a_reason() {
        for (xml, reason) in [
            ("<rss><channel/></rss>", "no <opml> root"),
            ("<opml><body><outline text=\"a\" xmlUrl=\"x\"", "XML error"),
        ] {
            let error = parse_opml(Path::new("f.opml"), xml)
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("f.opml: not an OPML"), "{error}");
            assert!(error.contains(reason), "{error}");
        }
    }
}
