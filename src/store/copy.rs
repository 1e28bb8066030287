//! `gleaner migrate-db --to URL`: a SQLite database into PostgreSQL.
//!
//! Every table is read in one SQLite snapshot and written in batches, each
//! its own transaction, with `ON CONFLICT DO NOTHING`: a copy cut short
//! keeps what it committed, and running it again adds only what is missing
//! (resumable). Rows keep their keys (`articles.seq`, source order), so
//! consumer cursors mean the same on PostgreSQL; the sequences then move
//! past the copied keys. At the end both sides' row counts are compared.

use std::path::Path;

use postgres::types::ToSql;
use rusqlite::types::Value;

use crate::config::database::PostgresTarget;

use super::postgres::{Postgres, connect};
use super::sqlite::Sqlite;
use super::{Access, StoreError};

/// How a column is written to PostgreSQL.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    Blob,
}

use Kind::{Blob, Int, Text};

/// A column: the SQLite expression read, the PostgreSQL column written.
type Column = (&'static str, &'static str, Kind);

/// The tables in an order their foreign keys allow, with their columns.
const TABLES: &[(&str, &[Column])] = &[
    (
        "feeds",
        &[
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
        ],
    ),
    (
        "articles",
        &[
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
    ),
    (
        "article_keys",
        &[("key", "key", Text), ("article_seq", "article_seq", Int)],
    ),
    (
        "sources",
        &[
            ("rowid", "source_seq", Int),
            ("feed_url", "feed_url", Text),
            ("entry_id", "entry_id", Text),
            ("article_seq", "article_seq", Int),
            ("url", "url", Text),
            ("entry_hash", "entry_hash", Text),
            ("first_seen", "first_seen", Text),
            ("pos", "pos", Int),
        ],
    ),
    (
        "article_tags",
        &[
            ("article_seq", "article_seq", Int),
            ("tag", "tag", Text),
            ("pos", "pos", Int),
        ],
    ),
    (
        "consumers",
        &[
            ("name", "name", Text),
            ("cursor_seq", "cursor_seq", Int),
            ("updated_at", "updated_at", Text),
        ],
    ),
    (
        "pages",
        &[
            ("article_seq", "article_seq", Int),
            ("url", "url", Text),
            ("content_type", "content_type", Text),
            ("fetched_at", "fetched_at", Text),
            ("body_zstd", "body_zstd", Blob),
        ],
    ),
    (
        "page_retries",
        &[
            ("feed_url", "feed_url", Text),
            ("entry_id", "entry_id", Text),
            ("kind", "kind", Text),
            ("attempts", "attempts", Int),
            ("next_at", "next_at", Text),
        ],
    ),
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

/// Copies the SQLite database at `from` into the PostgreSQL database `to`,
/// which must be empty or the target of an earlier (interrupted) copy.
/// `progress` gets each table's name and rows read so far. Returns every
/// table's counts; an error when they differ.
pub fn sqlite_to_postgres(
    from: &Path,
    to: &PostgresTarget,
    mut progress: impl FnMut(&str, u64),
) -> Result<Vec<TableCount>, StoreError> {
    let mut source = Sqlite::open_for(from, Access::Read)?;
    // Sets the schema up (migrations) and checks the server.
    drop(Postgres::open(to, Access::Create)?);
    let mut target = connect(to)?;
    target.batch_execute(
        "CREATE TABLE IF NOT EXISTS gleaner_copied_from (
             one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one), source TEXT NOT NULL)",
    )?;
    let copying_here: bool = target
        .query_one("SELECT EXISTS (SELECT 1 FROM gleaner_copied_from)", &[])?
        .get(0);
    let has_articles: bool = target
        .query_one("SELECT EXISTS (SELECT 1 FROM articles)", &[])?
        .get(0);
    if has_articles && !copying_here {
        return Err(StoreError::NotEmpty {
            database: to.shown().to_owned(),
        });
    }
    target.execute(
        "INSERT INTO gleaner_copied_from (source) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&from.display().to_string()],
    )?;

    let snapshot = source.conn.transaction()?;
    for (table, columns) in TABLES {
        // Rows 0 of a table: the copy has started (a failure from here on
        // leaves rows that a second run goes on from).
        progress(table, 0);
        let read: Vec<&str> = columns.iter().map(|c| c.0).collect();
        let written: Vec<&str> = columns.iter().map(|c| c.1).collect();
        let mut select = snapshot.prepare(&format!(
            // By the first column: seq, key, source order (rowid), …
            "SELECT {} FROM {table} ORDER BY 1",
            read.join(", ")
        ))?;
        let mut rows = select.query([])?;
        let mut batch: Vec<Box<dyn ToSql + Sync>> = Vec::new();
        let mut done = 0u64;
        while let Some(row) = rows.next()? {
            for (i, (_, _, kind)) in columns.iter().enumerate() {
                batch.push(convert(row.get::<_, Value>(i)?, *kind));
            }
            done += 1;
            if batch.len() >= BATCH * columns.len() {
                insert(&mut target, table, &written, &batch)?;
                batch.clear();
                progress(table, done);
            }
        }
        if !batch.is_empty() {
            insert(&mut target, table, &written, &batch)?;
        }
        progress(table, done);
    }
    // New rows continue after the copied keys; new positions (drawn from
    // the articles' sequence) after every copied position and cursor.
    target.batch_execute(
        "SELECT setval(pg_get_serial_sequence('articles', 'seq'),
                       GREATEST((SELECT max(seq) FROM articles), (SELECT max(pos) FROM sources),
                                (SELECT max(pos) FROM article_tags),
                                (SELECT max(cursor_seq) FROM consumers), 1));
         SELECT setval(pg_get_serial_sequence('sources', 'source_seq'),
                       GREATEST((SELECT max(source_seq) FROM sources), 1));",
    )?;

    let mut counts = Vec::new();
    for (table, _) in TABLES {
        let sqlite: i64 =
            snapshot.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
        let postgres: i64 = target
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])?
            .get(0);
        counts.push(TableCount {
            table,
            sqlite,
            postgres,
        });
    }
    if let Some(off) = counts.iter().find(|c| c.sqlite != c.postgres) {
        return Err(StoreError::Inconsistent(format!(
            "after the copy, table {} has {} rows in {} and {} in {}: run migrate-db again; if the counts still differ, the PostgreSQL database was written to meanwhile",
            off.table,
            off.sqlite,
            from.display(),
            off.postgres,
            to.shown()
        )));
    }
    target.batch_execute("DROP TABLE gleaner_copied_from")?;
    Ok(counts)
}

fn convert(value: Value, kind: Kind) -> Box<dyn ToSql + Sync> {
    match (kind, value) {
        (Int, Value::Integer(n)) => Box::new(Some(n)),
        (Int, _) => Box::new(None::<i64>),
        // A NUL stored by an older version: PostgreSQL refuses it.
        (Text, Value::Text(t)) => Box::new(Some(super::nul::without(t))),
        (Text, Value::Integer(n)) => Box::new(Some(n.to_string())),
        (Text, _) => Box::new(None::<String>),
        (Blob, Value::Blob(b)) => Box::new(Some(b)),
        (Blob, _) => Box::new(None::<Vec<u8>>),
    }
}

/// One multi-row INSERT of `values` (whole rows) in its own transaction.
fn insert(
    client: &mut postgres::Client,
    table: &str,
    columns: &[&str],
    values: &[Box<dyn ToSql + Sync>],
) -> Result<(), StoreError> {
    let width = columns.len();
    let rows: Vec<String> = (0..values.len() / width)
        .map(|r| {
            let params: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {} ON CONFLICT DO NOTHING",
        columns.join(", "),
        rows.join(", ")
    );
    let params: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v.as_ref()).collect();
    let mut tx = client.transaction()?;
    tx.execute(sql.as_str(), &params)?;
    tx.commit()?;
    Ok(())
}
