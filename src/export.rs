//! `gleaner export`: stored articles as JSON, with exactly-once delivery to
//! named consumers.
//!
//! The order of operations is what makes delivery exactly-once: read one
//! snapshot, write the whole output, flush it (fsync and rename for a file),
//! and only then advance the consumer's cursor. A crash before the cursor is
//! stored re-delivers; nothing is ever skipped. A consumer's export first
//! shows that its cursor can be stored (a read-only database fails before any
//! output, not after a complete one).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::store::read::{ExportFilter, StoredArticle};
use crate::store::{Store, StoreError};

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// One JSON array.
    #[default]
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// What to export and where.
#[derive(Debug, Clone, Default)]
pub struct ExportRequest {
    pub format: Format,
    /// Deliver only what this consumer has not been given, and remember it.
    pub consumer: Option<String>,
    /// With a consumer: show without advancing the cursor.
    pub peek: bool,
    pub since: Option<DateTime<Utc>>,
    /// Feed URLs (names are resolved by the caller).
    pub feed_urls: Vec<String>,
    pub tags: Vec<String>,
    pub limit: Option<u64>,
    /// Written atomically; stdout when `None`.
    pub output: Option<PathBuf>,
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
    #[error("cannot encode article {id} as JSON: {source}")]
    Encode {
        id: String,
        source: serde_json::Error,
    },
}

/// Runs an export; returns how many articles were written.
pub fn export(store: &mut Store, request: &ExportRequest) -> Result<usize, ExportError> {
    if let (Some(consumer), false) = (&request.consumer, request.peek) {
        store
            .claim_consumer(consumer, Utc::now())
            .map_err(|source| ExportError::CursorUnwritable {
                consumer: consumer.clone(),
                database: store.path().to_owned(),
                source: Box::new(source),
            })?;
    }
    match &request.output {
        Some(path) => {
            let target = path.display().to_string();
            let io_error = |source| ExportError::Write {
                target: target.clone(),
                source,
            };
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
                _ => PathBuf::from("."),
            };
            // tempfile creates the file with mode 0600.
            let mut file = tempfile::Builder::new()
                .prefix(".gleaner-export-")
                .tempfile_in(&dir)
                .map_err(io_error)?;
            let (count, finish) = {
                let mut writer = io::BufWriter::new(file.as_file_mut());
                let result = write_articles(store, request, &mut writer, &target)?;
                writer.flush().map_err(io_error)?;
                result
            };
            file.as_file().sync_all().map_err(io_error)?;
            file.persist(path).map_err(|e| io_error(e.error))?;
            sync_dir(&dir).map_err(io_error)?;
            finish.commit(store)?;
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
            finish.commit(store)?;
            Ok(count)
        }
    }
}

/// The cursor move owed once the output is safely written.
#[must_use]
struct CursorUpdate(Option<(String, i64)>);

impl CursorUpdate {
    fn commit(self, store: &mut Store) -> Result<(), ExportError> {
        match self.0 {
            Some((consumer, seq)) => {
                store
                    .advance_cursor(&consumer, seq, Utc::now())
                    .map_err(|source| ExportError::CursorNotStored {
                        consumer,
                        database: store.path().to_owned(),
                        source: Box::new(source),
                    })
            }
            None => Ok(()),
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
        limit: request.limit,
    };
    let mut count = 0usize;
    let mut last_seq = after_seq;
    let write_error = |source| ExportError::Write {
        target: target.to_owned(),
        source,
    };
    if request.format == Format::Json {
        out.write_all(b"[").map_err(write_error)?;
    }
    let snapshot_max = store.for_each_article(&filter, |article: StoredArticle| {
        let json = serde_json::to_string(&article).map_err(|source| ExportError::Encode {
            id: article.id.clone(),
            source,
        })?;
        let separator: &[u8] = match (request.format, count) {
            (Format::Json, 0) => b"\n",
            (Format::Json, _) => b",\n",
            (Format::Jsonl, _) => b"",
        };
        out.write_all(separator).map_err(write_error)?;
        out.write_all(json.as_bytes()).map_err(write_error)?;
        if request.format == Format::Jsonl {
            out.write_all(b"\n").map_err(write_error)?;
        }
        count += 1;
        last_seq = article.seq;
        Ok::<(), ExportError>(())
    })??;
    if request.format == Format::Json {
        let close: &[u8] = if count == 0 { b"]\n" } else { b"\n]\n" };
        out.write_all(close).map_err(write_error)?;
    }

    // A limit that cut the output short leaves the rest for next time;
    // otherwise the consumer has seen everything in the snapshot (filters
    // define what a consumer subscribes to).
    let cut_short = request.limit.is_some_and(|limit| count as u64 >= limit);
    let cursor = if cut_short { last_seq } else { snapshot_max };
    let update = match (&request.consumer, request.peek) {
        (Some(consumer), false) => Some((consumer.clone(), cursor)),
        _ => None,
    };
    Ok((count, CursorUpdate(update)))
}

/// Makes a rename durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
