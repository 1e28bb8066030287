//! `gleaner migrate-db --to URL`: a SQLite database into PostgreSQL.
//!
//! Every table is compared row by row, in key order, between one SQLite
//! snapshot and PostgreSQL (`rows`: both read at once, never a table
//! whole), and PostgreSQL's rows made SQLite's: the missing written, the
//! changed replaced, those SQLite no longer has deleted, in batches that
//! are each a transaction of their own. A copy cut short therefore goes on
//! where it stopped when run again, and a copy run again after SQLite
//! changed (a poll, an export's cursor, a purge, a feed's state) brings
//! every changed row up to date. Rows keep their keys (`articles.seq`,
//! source order), so consumer cursors mean the same on PostgreSQL; the
//! sequences then move past the copied keys. At the end both sides are
//! compared again, value for value.
//!
//! `gleaner_copied_from` says whose copy the database holds: the SQLite
//! file, and once the copy is complete its time and the digest of the
//! copied rows. A copy is brought up to date only while PostgreSQL still
//! holds exactly those rows: once instances have written to it, running
//! the copy again would undo their work, and it refuses.
//!
//! This speaks SQL to both backends' tables directly (SQLite's snapshot
//! connection, a PostgreSQL connection of its own), which no `Backend`
//! method offers, so it stays inside `store`.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::config::database::PostgresTarget;

use super::postgres::{Postgres, connect};
use super::sqlite::Sqlite;
use super::{Access, StoreError};

mod rows;

use rows::{Row, Step, Survey};

/// How a column is written to PostgreSQL.
#[derive(Clone, Copy)]
pub(super) enum Kind {
    Int,
    Text,
    Blob,
}

use Kind::{Blob, Int, Text};

/// A column: the SQLite expression read, the PostgreSQL column written.
type Column = (&'static str, &'static str, Kind);

/// A table copied: its name, its columns, how many of the first columns
/// are its key.
pub(super) struct Table {
    name: &'static str,
    columns: &'static [Column],
    key: usize,
}

/// The tables in an order their foreign keys allow, with their columns.
const TABLES: &[Table] = &[
    Table {
        name: "feeds",
        columns: &[
            ("url", "url", Text),
            ("name", "name", Text),
            ("etag", "etag", Text),
            ("last_modified", "last_modified", Text),
            ("last_poll_at", "last_poll_at", Text),
            ("last_success_at", "last_success_at", Text),
            ("state", "state", Text),
            ("last_error", "last_error", Text),
            ("consecutive_errors", "consecutive_errors", Int),
            ("next_attempt_at", "next_attempt_at", Text),
            ("repairs", "repairs", Text),
            ("moved_to", "moved_to", Text),
            ("ttl_secs", "ttl_secs", Int),
            ("poll_interval_secs", "poll_interval_secs", Int),
            ("filtered", "filtered", Int),
            ("interstitials", "interstitials", Text),
            ("title", "title", Text),
            ("format", "format", Text),
            ("near_duplicates", "near_duplicates", Int),
        ],
        key: 1,
    },
    Table {
        name: "articles",
        columns: &[
            ("seq", "seq", Int),
            ("id", "id", Text),
            ("title", "title", Text),
            ("url", "url", Text),
            ("canonical_url", "canonical_url", Text),
            ("author", "author", Text),
            ("published", "published", Text),
            ("updated", "updated", Text),
            ("fetched_at", "fetched_at", Text),
            ("summary", "summary", Text),
            ("content_html", "content_html", Text),
            ("content_text", "content_text", Text),
            ("content_source", "content_source", Text),
            ("word_count", "word_count", Int),
            ("language", "language", Text),
            ("image", "image", Text),
            ("purged_at", "purged_at", Text),
            ("categories", "categories", Text),
            ("enclosures", "enclosures", Text),
        ],
        key: 1,
    },
    Table {
        name: "article_keys",
        columns: &[("key", "key", Text), ("article_seq", "article_seq", Int)],
        key: 1,
    },
    Table {
        name: "sources",
        columns: &[
            ("rowid", "source_seq", Int),
            ("feed_url", "feed_url", Text),
            ("entry_id", "entry_id", Text),
            ("article_seq", "article_seq", Int),
            ("url", "url", Text),
            ("entry_hash", "entry_hash", Text),
            ("first_seen", "first_seen", Text),
            ("pos", "pos", Int),
        ],
        key: 1,
    },
    Table {
        name: "article_tags",
        columns: &[
            ("article_seq", "article_seq", Int),
            ("tag", "tag", Text),
            ("pos", "pos", Int),
        ],
        key: 2,
    },
    Table {
        name: "consumers",
        columns: &[
            ("name", "name", Text),
            ("cursor_seq", "cursor_seq", Int),
            ("updated_at", "updated_at", Text),
        ],
        key: 1,
    },
    Table {
        name: "pages",
        columns: &[
            ("article_seq", "article_seq", Int),
            ("url", "url", Text),
            ("content_type", "content_type", Text),
            ("fetched_at", "fetched_at", Text),
            ("body_zstd", "body_zstd", Blob),
        ],
        key: 1,
    },
    Table {
        name: "page_retries",
        columns: &[
            ("feed_url", "feed_url", Text),
            ("entry_id", "entry_id", Text),
            ("kind", "kind", Text),
            ("attempts", "attempts", Int),
            ("next_at", "next_at", Text),
        ],
        key: 2,
    },
    Table {
        name: "deliveries",
        columns: &[
            ("name", "name", Text),
            ("last_attempt_at", "last_attempt_at", Text),
            ("last_success_at", "last_success_at", Text),
            ("last_error", "last_error", Text),
            ("consecutive_failures", "consecutive_failures", Int),
            ("delivered", "delivered", Int),
        ],
        key: 1,
    },
    // The near-duplicate index (`shared::near_dup`): its window's rows keep
    // merging copies into the articles they came with.
    Table {
        name: "near_dup_sketches",
        columns: &[
            ("article_seq", "article_seq", Int),
            ("sketch_key", "sketch_key", Int),
            ("host", "host", Int),
            ("stored_at", "stored_at", Int),
            ("signature", "signature", Blob),
            ("blocks", "blocks", Blob),
        ],
        key: 2,
    },
    Table {
        name: "near_dup_blocks",
        columns: &[
            ("block_key", "block_key", Int),
            ("host", "host", Int),
            ("article_seq", "article_seq", Int),
            ("stored_at", "stored_at", Int),
        ],
        key: 3,
    },
];

/// Rows per PostgreSQL transaction.
const BATCH: usize = 500;

/// One table's row counts after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    /// The table.
    pub table: &'static str,
    /// Its rows in the SQLite database.
    pub sqlite: i64,
    /// Its rows in the PostgreSQL database.
    pub postgres: i64,
}

/// What `migrate-db` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Copied (the first time, or going on after an interruption).
    Copied,
    /// A finished copy brought up to date: this many rows written or
    /// deleted because SQLite changed since.
    Updated(u64),
    /// The copy was finished and nothing has changed since.
    UpToDate,
}

/// The copy's marker: `None` when PostgreSQL holds no copy of ours,
/// `Some(None)` while one is under way, `Some(Some((time, digest)))` once
/// finished.
type Marker = Option<Option<(String, String)>>;

/// Copies the SQLite database at `from` into the PostgreSQL database `to`,
/// which must be empty or hold a copy of `from` by this command (cut
/// short, or finished and not written to since). `progress` gets each
/// table's name and rows written so far, once writing starts. Returns
/// every table's counts and what was done; an error when PostgreSQL holds
/// something else, or still differs after the copy.
pub fn sqlite_to_postgres(
    from: &Path,
    to: &PostgresTarget,
    mut progress: impl FnMut(&str, u64),
) -> Result<(Vec<TableCount>, Outcome), StoreError> {
    let mut source = Sqlite::open_for(from, Access::Read)?;
    // Sets the schema up (migrations) and checks the server.
    drop(Postgres::open(to, Access::Create)?);
    let mut writer = connect(to)?;
    let mut reader = connect(to)?;
    writer.batch_execute(
        "CREATE TABLE IF NOT EXISTS gleaner_copied_from (
             one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), source TEXT NOT NULL);
         ALTER TABLE gleaner_copied_from ADD COLUMN IF NOT EXISTS finished_at TEXT,
             ADD COLUMN IF NOT EXISTS digest TEXT;",
    )?;
    let marker: Marker =
        match writer.query_opt("SELECT finished_at, digest FROM gleaner_copied_from", &[])? {
            Some(row) => {
                let finished: Option<String> = row.try_get(0)?;
                let digest: Option<String> = row.try_get(1)?;
                Some(finished.zip(digest))
            }
            None => None,
        };

    let snapshot = source.conn.transaction()?;
    let (before, digest) = survey_all(&snapshot, &mut reader)?;
    let first_difference = TABLES
        .iter()
        .zip(&before)
        .find(|(_, survey)| survey.differs());
    let shown = || to.shown().to_owned();
    let outcome = match (&marker, first_difference) {
        // A copy finished, by this version or an older one: nothing to do.
        (Some(Some(_)), None) => return Ok((counts(&before), Outcome::UpToDate)),
        // A copy by a version that kept no marker once finished.
        (None, None) if before.iter().any(|s| s.postgres > 0) => {
            finish(&mut writer, from, &digest)?;
            return Ok((counts(&before), Outcome::UpToDate));
        }
        (None, Some(_)) if before.iter().all(|s| s.postgres == 0) => Outcome::Copied,
        (None, Some((table, survey))) => {
            return Err(StoreError::NotEmpty {
                database: shown(),
                from: from.display().to_string(),
                table: table.name,
                detail: survey.detail(),
            });
        }
        (Some(Some((finished_at, copied))), Some((table, survey))) => {
            if copied.split(':').next() != digest.split(':').next() {
                // Digests of other columns cannot be compared.
                return Err(StoreError::CopyOfOtherColumns {
                    database: shown(),
                    from: from.display().to_string(),
                    finished_at: finished_at.clone(),
                    table: table.name,
                    detail: survey.detail(),
                });
            }
            if *copied != digest {
                return Err(StoreError::WrittenSinceCopy {
                    database: shown(),
                    from: from.display().to_string(),
                    finished_at: finished_at.clone(),
                    table: table.name,
                    detail: survey.detail(),
                });
            }
            Outcome::Updated(before.iter().map(|s| s.missing + s.extra + s.changed).sum())
        }
        // Under way (or empty on both sides): go on.
        (Some(None), _) | (None, None) => Outcome::Copied,
    };
    // From here the database holds a copy under way until it is finished.
    writer.execute(
        "INSERT INTO gleaner_copied_from (source) VALUES ($1)
         ON CONFLICT (one) DO UPDATE SET source = EXCLUDED.source, finished_at = NULL, digest = NULL",
        &[&from.display().to_string()],
    )?;
    // What SQLite no longer has goes first, from the tables that refer to
    // others up; then what it has, in the order foreign keys allow.
    for (table, survey) in TABLES.iter().zip(&before).rev() {
        if survey.extra > 0 {
            write(
                table,
                &snapshot,
                &mut reader,
                &mut writer,
                true,
                &mut progress,
            )?;
        }
    }
    for (table, survey) in TABLES.iter().zip(&before) {
        progress(table.name, 0);
        if survey.missing + survey.changed > 0 {
            write(
                table,
                &snapshot,
                &mut reader,
                &mut writer,
                false,
                &mut progress,
            )?;
        }
    }
    // New rows continue after the copied keys; new positions (drawn from
    // the articles' sequence) after every copied position and cursor.
    writer.batch_execute(
        "SELECT setval(pg_get_serial_sequence('articles', 'seq'),
                       GREATEST((SELECT max(seq) FROM articles), (SELECT max(pos) FROM sources),
                                (SELECT max(pos) FROM article_tags),
                                (SELECT max(cursor_seq) FROM consumers), 1));
         SELECT setval(pg_get_serial_sequence('sources', 'source_seq'),
                       GREATEST((SELECT max(source_seq) FROM sources), 1));",
    )?;
    super::postgres::search::index_pending(&mut writer)?;

    let (after, digest) = survey_all(&snapshot, &mut reader)?;
    if let Some((table, survey)) = TABLES.iter().zip(&after).find(|(_, s)| s.differs()) {
        return Err(StoreError::Inconsistent(format!(
            "after the copy, table {} of {} still differs from {} ({}): something else wrote to {} meanwhile; stop it and run migrate-db again",
            table.name,
            to.shown(),
            from.display(),
            survey.detail(),
            to.shown()
        )));
    }
    finish(&mut writer, from, &digest)?;
    Ok((counts(&after), outcome))
}

/// Every table compared, and the digest of PostgreSQL's rows, after the
/// digest of the tables' columns (`LAYOUT:ROWS`), so that a copy by a
/// version that copies other columns is known as such.
fn survey_all(
    snapshot: &rusqlite::Transaction<'_>,
    reader: &mut postgres::Client,
) -> Result<(Vec<Survey>, String), StoreError> {
    let mut digest = Sha256::new();
    let surveys = TABLES
        .iter()
        .map(|table| rows::survey(table, snapshot, reader, &mut digest))
        .collect::<Result<Vec<_>, _>>()?;
    let mut layout = Sha256::new();
    for table in TABLES {
        layout.update(table.name);
        for (_, written, _) in table.columns {
            layout.update([0]);
            layout.update(written);
        }
        layout.update([1]);
    }
    let hex = |bytes: &[u8]| -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() };
    let digest = format!(
        "{}:{}",
        hex(&layout.finalize()[..8]),
        hex(&digest.finalize())
    );
    Ok((surveys, digest))
}

fn counts(surveys: &[Survey]) -> Vec<TableCount> {
    TABLES
        .iter()
        .zip(surveys)
        .map(|(table, s)| TableCount {
            table: table.name,
            sqlite: s.sqlite,
            postgres: s.postgres,
        })
        .collect()
}

/// Marks the copy finished, holding rows of this digest.
fn finish(writer: &mut postgres::Client, from: &Path, digest: &str) -> Result<(), StoreError> {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    writer.execute(
        "INSERT INTO gleaner_copied_from (source, finished_at, digest) VALUES ($1, $2, $3)
         ON CONFLICT (one) DO UPDATE SET source = EXCLUDED.source,
             finished_at = EXCLUDED.finished_at, digest = EXCLUDED.digest",
        &[&from.display().to_string(), &now, &digest],
    )?;
    Ok(())
}

/// Makes `table` on PostgreSQL SQLite's: deletes the rows SQLite does not
/// have (`deletes`), or writes those it lacks or holds otherwise, in
/// batches of [`BATCH`] rows.
fn write(
    table: &Table,
    snapshot: &rusqlite::Transaction<'_>,
    reader: &mut postgres::Client,
    writer: &mut postgres::Client,
    deletes: bool,
    progress: &mut impl FnMut(&str, u64),
) -> Result<(), StoreError> {
    let mut batch: Vec<Row> = Vec::new();
    let mut done = 0u64;
    let flush = |writer: &mut postgres::Client, batch: &mut Vec<Row>| {
        if deletes {
            rows::delete(writer, table, batch)?;
        } else {
            rows::upsert(writer, table, batch)?;
        }
        batch.clear();
        Ok::<(), StoreError>(())
    };
    rows::merge(table, snapshot, reader, |step| {
        let row = match (step, deletes) {
            (Step::Extra(row), true) => row,
            (Step::Missing(row) | Step::Changed(row, _), false) => row,
            _ => return Ok(()),
        };
        batch.push(row.clone());
        done += 1;
        if batch.len() >= BATCH {
            flush(writer, &mut batch)?;
            progress(table.name, done);
        }
        Ok(())
    })?;
    flush(writer, &mut batch)?;
    progress(table.name, done);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns `migrate-db` leaves at their defaults, each with why: the state of
    /// a lease held by a running process, which means nothing on the other side
    /// (a lease taken on SQLite names no PostgreSQL instance).
    const NOT_COPIED: &[(&str, &str)] = &[
        ("consumers", "claim_token"),
        ("consumers", "claim_holder"),
        ("consumers", "claim_until_ms"),
    ];

    /// SQLite's tables that are not data of their own: FTS5's index (made
    /// again from the articles on PostgreSQL) and SQLite's bookkeeping.
    fn derived(table: &str) -> bool {
        table.starts_with("articles_fts") || table.starts_with("sqlite_")
    }

    /// A migration that adds a table or a column must say how `migrate-db`
    /// carries it, or a copy would leave it behind and still compare equal.
    #[test]
    fn every_table_and_column_of_the_schema_is_copied() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("g.db")).unwrap();
        let mut tables = store
            .conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap();
        let names: Vec<String> = tables
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for name in names.iter().filter(|n| !derived(n)) {
            let table = TABLES
                .iter()
                .find(|t| t.name == name)
                .unwrap_or_else(|| panic!("table {name} is not in copy::TABLES"));
            let mut info = store
                .conn
                .prepare(&format!("SELECT name FROM pragma_table_info('{name}')"))
                .unwrap();
            let columns: Vec<String> = info
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for column in columns {
                assert!(
                    table.columns.iter().any(|(read, _, _)| *read == column)
                        || NOT_COPIED.contains(&(name.as_str(), column.as_str())),
                    "{name}.{column} is neither copied by migrate-db nor in NOT_COPIED"
                );
            }
        }
    }
}
