//! `gleaner export`: stored articles as JSON (an array, lines, or a JSON Feed)
//! or as an Atom feed, with exactly-once delivery to named consumers.
//!
//! The order of operations is what makes delivery exactly-once: read one
//! snapshot, write the whole output, flush it (fsync and rename for a file),
//! and only then advance the consumer's cursor. A crash before the cursor is
//! stored re-delivers; nothing is ever skipped. A consumer's export first
//! shows that its cursor can be stored (a read-only database fails before any
//! output, not after a complete one).

use std::io::{self, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};

mod follow;

pub use follow::follow;

use crate::atomic::Replacement;
use crate::store::consumer_lock::{ConsumerLock, MIN_LEASE};
use crate::store::model::{ExportFilter, StoredArticle};
use crate::store::{Store, StoreError};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One JSON array.
    #[default]
    Json,
    /// One JSON object per line.
    Jsonl,
    /// A JSON Feed 1.1 document, so a feed reader can subscribe to the full text.
    Jsonfeed,
    /// An Atom 1.0 feed (RFC 4287), for the same.
    Atom,
}

/// The title of the feed documents gleaner writes.
const FEED_TITLE: &str = "gleaner: full-text articles";

/// What to export and where.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    pub format: Format,
    /// Deliver only what this consumer has not been given, and remember it.
    pub consumer: Option<String>,
    /// With a consumer: show without advancing the cursor.
    pub peek: bool,
    pub since: Option<DateTime<Utc>>,
    /// Only articles fetched at or before this time. Not for a consumer:
    /// its cursor would pass the articles left out.
    pub until: Option<DateTime<Utc>>,
    /// Feed URLs (names are resolved by the caller).
    pub feed_urls: Vec<String>,
    pub tags: Vec<String>,
    pub limit: Option<u64>,
    /// Written atomically; stdout when `None`.
    pub output: Option<PathBuf>,
    /// The output file's permissions (e.g. `0o644` for a file a web server
    /// serves); `None` keeps it private, 0600.
    pub mode: Option<u32>,
    /// `[storage] lease_secs`: how long the consumer's lock outlives its
    /// last renewal (PostgreSQL; see `store::consumer_lock`).
    pub lease: std::time::Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export to {target}: {source}")]
    Write { target: String, source: io::Error },
    #[error(
        "cannot store the cursor of consumer {consumer:?} in the database {}, so nothing was exported: {source}", .database.display()
    )]
    CursorUnwritable {
        consumer: String,
        database: PathBuf,
        source: Box<StoreError>,
    },
    #[error(
        "the export is complete, but the cursor of consumer {consumer:?} could not be stored in the database {}, so the next export gives these articles again: {source}", .database.display()
    )]
    CursorNotStored {
        consumer: String,
        database: PathBuf,
        source: Box<StoreError>,
    },
    #[error("export --follow cannot catch SIGTERM and SIGINT: {0}")]
    Signals(io::Error),
    #[error("cannot encode article {id} as JSON: {source}")]
    Encode {
        id: String,
        source: serde_json::Error,
    },
}

/// Runs an export; returns how many articles were written.
pub fn export(store: &mut Store, request: &ExportRequest) -> Result<usize, ExportError> {
    // Held until the cursor has moved: a second export of this consumer
    // waits here, then reads the moved cursor (exactly-once holds for
    // concurrent exports too).
    let mut exporting = None;
    if let (Some(consumer), false) = (&request.consumer, request.peek) {
        exporting = Some(claim(store, consumer, request.lease)?);
    }
    let result = export_locked(store, request, exporting.as_ref());
    if let Some(lock) = exporting {
        release(store, lock);
    }
    result
}

/// [`export`] once the consumer's lock (if any) is held.
fn export_locked(
    store: &mut Store,
    request: &ExportRequest,
    lock: Option<&ConsumerLock>,
) -> Result<usize, ExportError> {
    match &request.output {
        Some(path) => {
            let target = path.display().to_string();
            let io_error = |source| ExportError::Write {
                target: target.clone(),
                source,
            };
            let mut file = Replacement::begin(path, ".gleaner-export-").map_err(io_error)?;
            let (count, finish) = {
                let mut writer = io::BufWriter::new(file.file());
                let result = write_articles(store, request, &mut writer, &target)?;
                writer.flush().map_err(io_error)?;
                result
            };
            if let Some(mode) = request.mode {
                use std::os::unix::fs::PermissionsExt;
                file.file()
                    .set_permissions(std::fs::Permissions::from_mode(mode))
                    .map_err(io_error)?;
            }
            file.commit().map_err(io_error)?;
            finish.commit(store, lock)?;
            Ok(count)
        }
        None => {
            let stdout = io::stdout();
            let mut writer = io::BufWriter::new(stdout.lock());
            let (count, finish) = write_articles(store, request, &mut writer, "stdout")?;
            writer.flush().map_err(|source| ExportError::Write {
                target: "stdout".into(),
                source,
            })?;
            finish.commit(store, lock)?;
            Ok(count)
        }
    }
}

/// Takes `consumer`'s lock, waiting while another export or delivery of
/// it runs, which registers it (showing that its cursor can be stored).
/// Held until the cursor has moved, the lock makes exports of one consumer
/// take turns.
pub fn claim(
    store: &mut Store,
    consumer: &str,
    lease: std::time::Duration,
) -> Result<ConsumerLock, ExportError> {
    let waiting = || {
        tracing::warn!(
            "another export for consumer {consumer:?} is running (or a delivery of it; on PostgreSQL, one that was killed holds it until its lease runs out); waiting for it to finish"
        )
    };
    let lease = lease.max(MIN_LEASE);
    store
        .lock_consumer(consumer, lease, waiting)
        .map_err(|source| match source {
            StoreError::ConsumerLock { .. } => ExportError::Store(source),
            source => ExportError::CursorUnwritable {
                consumer: consumer.to_owned(),
                database: store.path().to_owned(),
                source: Box::new(source),
            },
        })
}

/// Gives `lock` back; one that cannot be (the database went away) runs
/// out by itself.
fn release(store: &mut Store, lock: ConsumerLock) {
    let consumer = lock.consumer().to_owned();
    if let Err(error) = store.release_consumer(lock) {
        tracing::warn!(
            "could not give back the lock of consumer {consumer:?} ({error}); it runs out by itself"
        );
    }
}

/// The cursor move owed once the output is safely written.
#[must_use]
struct CursorUpdate(Option<i64>);

impl CursorUpdate {
    /// Moves the cursor of the consumer `lock` holds (none: a peek, or no
    /// consumer), only while the lock is still this export's.
    fn commit(self, store: &mut Store, lock: Option<&ConsumerLock>) -> Result<(), ExportError> {
        match (self.0, lock) {
            (Some(seq), Some(lock)) => {
                store
                    .move_cursor(lock, seq)
                    .map_err(|source| ExportError::CursorNotStored {
                        consumer: lock.consumer().to_owned(),
                        database: store.path().to_owned(),
                        source: Box::new(source),
                    })
            }
            _ => Ok(()),
        }
    }
}

/// Writes the articles to `out` in the requested format.
fn write_articles(
    store: &mut Store,
    request: &ExportRequest,
    out: &mut impl Write,
    target: &str,
) -> Result<(usize, CursorUpdate), ExportError> {
    let after_seq = match &request.consumer {
        Some(consumer) => store.consumer_cursor(consumer)?,
        None => 0,
    };
    let filter = ExportFilter {
        after_seq,
        since: request.since,
        feed_urls: request.feed_urls.clone(),
        tags: request.tags.clone(),
        // With --until the articles left out are skipped here, so the
        // limit counts what is written.
        limit: request.limit.filter(|_| request.until.is_none()),
    };
    let limit = request
        .limit
        .map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
    let mut count = 0usize;
    let mut last_position = after_seq;
    let write_error = |source| ExportError::Write {
        target: target.to_owned(),
        source,
    };
    let encode_error = |id: &str| {
        let id = id.to_owned();
        move |source| ExportError::Encode { id, source }
    };
    let opening = match request.format {
        Format::Json => "[".to_owned(),
        Format::Jsonl => String::new(),
        Format::Jsonfeed => format!(
            "{{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": {}, \"items\": [",
            serde_json::Value::from(FEED_TITLE)
        ),
        Format::Atom => atom::opening(FEED_TITLE, Utc::now()),
    };
    out.write_all(opening.as_bytes()).map_err(write_error)?;
    let snapshot_max = store.for_each_article(&filter, |mut article: StoredArticle| {
        if count >= limit || !fetched_by(&article, request.until) {
            return Ok(());
        }
        let item = match request.format {
            Format::Json | Format::Jsonl => {
                with_markdown(&mut article);
                serde_json::to_string(&article)
            }
            Format::Jsonfeed => serde_json::to_string(&jsonfeed::Item::from(&article)),
            Format::Atom => Ok(atom::entry(&article)),
        }
        .map_err(encode_error(&article.id))?;
        let separator: &[u8] = match (request.format, count) {
            (Format::Json | Format::Jsonfeed, 0) => b"\n",
            (Format::Json | Format::Jsonfeed, _) => b",\n",
            (Format::Jsonl | Format::Atom, _) => b"",
        };
        out.write_all(separator).map_err(write_error)?;
        out.write_all(item.as_bytes()).map_err(write_error)?;
        if matches!(request.format, Format::Jsonl | Format::Atom) {
            out.write_all(b"\n").map_err(write_error)?;
        }
        count += 1;
        last_position = article.position;
        Ok::<(), ExportError>(())
    })??;
    let newline = if count == 0 { "" } else { "\n" };
    let closing = match request.format {
        Format::Json => format!("{newline}]\n"),
        Format::Jsonl => String::new(),
        Format::Jsonfeed => format!("{newline}]}}\n"),
        Format::Atom => "</feed>\n".to_owned(),
    };
    out.write_all(closing.as_bytes()).map_err(write_error)?;

    // A limit that cut the output short leaves the rest for next time;
    // otherwise the consumer has seen everything in the snapshot (filters
    // define what a consumer subscribes to).
    let cut_short = request.limit.is_some_and(|limit| count as u64 >= limit);
    let cursor = if cut_short {
        last_position
    } else {
        snapshot_max
    };
    let update = match (&request.consumer, request.peek) {
        (Some(_), false) => Some(cursor),
        _ => None,
    };
    Ok((count, CursorUpdate(update)))
}

/// Whether `article` was fetched at or before `until` (any time when
/// `None`); a time that does not parse is kept (every export reads it as
/// it is stored).
fn fetched_by(article: &StoredArticle, until: Option<DateTime<Utc>>) -> bool {
    let Some(until) = until else {
        return true;
    };
    DateTime::parse_from_rfc3339(&article.fetched_at).map_or(true, |fetched| fetched <= until)
}

/// The next batch of a pushing consumer (`[[deliver]]`).
#[derive(Debug)]
pub struct Batch {
    /// Oldest first, at most the batch size.
    pub articles: Vec<StoredArticle>,
    /// Where the consumer's cursor goes once the batch is taken: past the
    /// last article of a full batch, else past everything the snapshot held
    /// (articles the selection excludes are not kept for it).
    pub cursor: i64,
    /// The cursor the batch was read from.
    pub from: i64,
}

/// Reads `consumer`'s next batch of at most `size` articles of `selection`
/// (its feeds and tags) from one snapshot. Moves nothing.
pub fn next_batch(
    store: &mut Store,
    consumer: &str,
    selection: &ExportFilter,
    size: usize,
) -> Result<Batch, StoreError> {
    let from = store.consumer_cursor(consumer)?;
    let filter = ExportFilter {
        after_seq: from,
        limit: Some(size as u64),
        ..selection.clone()
    };
    let mut articles = Vec::new();
    let snapshot_max = store
        .for_each_article(&filter, |article| {
            articles.push(article);
            Ok::<(), std::convert::Infallible>(())
        })?
        .unwrap_or_else(|never| match never {});
    let cursor = match articles.last() {
        Some(last) if articles.len() >= size => last.position,
        _ => snapshot_max.max(from),
    };
    Ok(Batch {
        articles,
        cursor,
        from,
    })
}

/// Fills in the article object's `content_markdown`, made from its
/// sanitized HTML.
pub fn with_markdown(article: &mut StoredArticle) {
    article.content_markdown = article
        .content_html
        .as_deref()
        .and_then(crate::article::markdown::from_html);
}

/// JSON Feed 1.1 items (<https://jsonfeed.org/version/1.1>).
mod jsonfeed {
    use serde::Serialize;

    use crate::store::model::{StoredArticle, StoredSource};

    #[derive(Serialize)]
    pub struct Item<'a> {
        id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        /// The spec requires `content_html` or `content_text`: an article
        /// with no body gets an empty text.
        #[serde(skip_serializing_if = "Option::is_none")]
        content_html: Option<&'a str>,
        content_text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        summary: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        image: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        date_published: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        date_modified: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        authors: Vec<Author<'a>>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        tags: &'a [String],
        #[serde(skip_serializing_if = "Option::is_none")]
        language: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Attachment<'a>>,
        /// What JSON Feed has no field for, as its extension mechanism allows.
        _gleaner: Extension<'a>,
    }

    /// An enclosure; JSON Feed requires its MIME type.
    #[derive(Serialize)]
    struct Attachment<'a> {
        url: &'a str,
        mime_type: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        size_in_bytes: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        duration_in_seconds: Option<u64>,
    }

    #[derive(Serialize)]
    struct Author<'a> {
        name: &'a str,
    }

    #[derive(Serialize)]
    struct Extension<'a> {
        content_source: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        canonical_url: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        word_count: Option<u32>,
        fetched_at: &'a str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        categories: &'a [String],
        sources: &'a [StoredSource],
    }

    impl<'a> From<&'a StoredArticle> for Item<'a> {
        fn from(a: &'a StoredArticle) -> Item<'a> {
            Item {
                id: &a.id,
                url: a.url.as_deref(),
                title: a.title.as_deref(),
                content_html: a.content_html.as_deref(),
                content_text: a.content_text.as_deref().unwrap_or(""),
                summary: a.summary.as_deref(),
                image: a.image.as_deref(),
                date_published: a.published.as_deref(),
                date_modified: a.updated.as_deref(),
                authors: a
                    .author
                    .as_deref()
                    .map(|name| Author { name })
                    .into_iter()
                    .collect(),
                tags: &a.tags,
                language: a.language.as_deref(),
                attachments: a
                    .enclosures
                    .iter()
                    .map(|e| Attachment {
                        url: &e.url,
                        mime_type: e.mime_type.as_deref().unwrap_or("application/octet-stream"),
                        title: e.title.as_deref(),
                        size_in_bytes: e.length,
                        duration_in_seconds: e.duration_secs,
                    })
                    .collect(),
                _gleaner: Extension {
                    content_source: &a.content_source,
                    canonical_url: a.canonical_url.as_deref(),
                    word_count: a.word_count,
                    fetched_at: &a.fetched_at,
                    categories: &a.categories,
                    sources: &a.sources,
                },
            }
        }
    }
}

/// Atom 1.0 (RFC 4287), written by hand: a handful of elements, each escaped.
mod atom {
    use std::fmt::Write;

    use chrono::{DateTime, Utc};

    use crate::store::format_time;
    use crate::store::model::StoredArticle;

    pub fn opening(title: &str, now: DateTime<Utc>) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
             <title>{}</title>\n<id>urn:gleaner:export</id>\n<updated>{}</updated>\n\
             <author><name>gleaner</name></author>\n<generator>gleaner</generator>\n",
            escape(title),
            format_time(now)
        )
    }

    pub fn entry(a: &StoredArticle) -> String {
        let mut xml = String::from("<entry>");
        let mut element = |name: &str, attributes: &str, text: &str| {
            let _ = write!(xml, "<{name}{attributes}>{}</{name}>", escape(text));
        };
        element("id", "", &format!("urn:gleaner:article:{}", a.id));
        element("title", "", a.title.as_deref().unwrap_or("(untitled)"));
        // Atom requires `updated`: the last change we know of.
        let updated = a.updated.as_deref().or(a.published.as_deref());
        element("updated", "", updated.unwrap_or(&a.fetched_at));
        if let Some(published) = &a.published {
            element("published", "", published);
        }
        if let Some(author) = &a.author {
            let _ = write!(xml, "<author><name>{}</name></author>", escape(author));
        }
        if let Some(url) = &a.url {
            let _ = write!(xml, "<link rel=\"alternate\" href=\"{}\"/>", escape(url));
        }
        for enclosure in &a.enclosures {
            let _ = write!(
                xml,
                "<link rel=\"enclosure\" href=\"{}\"",
                escape(&enclosure.url)
            );
            if let Some(mime) = &enclosure.mime_type {
                let _ = write!(xml, " type=\"{}\"", escape(mime));
            }
            if let Some(length) = enclosure.length {
                let _ = write!(xml, " length=\"{length}\"");
            }
            if let Some(title) = &enclosure.title {
                let _ = write!(xml, " title=\"{}\"", escape(title));
            }
            xml.push_str("/>");
        }
        // The config's tags and the entry's own categories, each once.
        let terms: Vec<&String> = a.tags.iter().chain(&a.categories).collect();
        for (i, term) in terms.iter().enumerate() {
            if !terms[..i].contains(term) {
                let _ = write!(xml, "<category term=\"{}\"/>", escape(term));
            }
        }
        if let Some(summary) = &a.summary {
            let _ = write!(xml, "<summary type=\"text\">{}</summary>", escape(summary));
        }
        match (&a.content_html, &a.content_text) {
            (Some(html), _) => {
                let _ = write!(xml, "<content type=\"html\">{}</content>", escape(html));
            }
            (None, Some(text)) => {
                let _ = write!(xml, "<content type=\"text\">{}</content>", escape(text));
            }
            (None, None) => {}
        }
        xml.push_str("</entry>");
        xml
    }

    /// Escapes markup and drops the characters XML 1.0 cannot carry at all
    /// (control characters from a web page must not break the document).
    fn escape(text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\t' | '\n' | '\r' => out.push(c),
                c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
                c => out.push(c),
            }
        }
        out
    }
}
