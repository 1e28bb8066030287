//! Storage: the only module that speaks SQL.
//!
//! [`Store`] is one interface, [`Backend`] (documented once, in
//! [`backend`]), over two peers: [`sqlite`] (one file, the embedded default)
//! and [`postgres`] (one database shared by many instances). Both speak the
//! types of [`model`]; the rules of a poll's writes are written once, in
//! `dedup`, and every operation the dialects can say alike once, in
//! `shared` over the statement layer `sql`; each backend's folder holds
//! only what its dialect says differently.
//!
//! Invariants (each backend's module says how it keeps them):
//! - `articles.seq` is the order of first storage, and sources and tags
//!   added to a stored article later get a position from the same counter;
//!   an export's order is when each article entered its selection, and a
//!   consumer cursor is "the highest position given" (see
//!   `dedup::join_selections`).
//! - Every identity an article was seen under is a row of `article_keys`;
//!   deduplication is a lookup of all of an incoming article's keys, done
//!   inside the transaction that inserts it.
//! - A feed's validators (ETag, Last-Modified) are committed in the same
//!   transaction as the articles of that poll: a crash never records "seen"
//!   without the articles.

#![deny(missing_docs)]

pub mod backend;
mod connection;
pub mod consumer_lock;
pub mod copy;
mod dedup;
pub mod handle;
pub mod model;
pub mod postgres;
pub mod retries;
mod schema;
pub mod search;
mod shared;
mod sql;
pub mod sqlite;

use std::ops::{ControlFlow, Deref, DerefMut};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};

pub use backend::Backend;
use consumer_lock::ConsumerLock;
pub use handle::StoreHandle;
use model::{ExportFilter, StoredArticle};

use crate::config::Database;
// `dedup` names the identity keys as `super::keys`.
use crate::identity as keys;

/// An open database, SQLite or PostgreSQL, with its schema up to date.
///
/// Every operation of [`Backend`] is called on it directly (it dereferences
/// to the backend); the few below wrap one with what every backend needs
/// alike, so that no backend can forget it.
pub struct Store {
    backend: Box<dyn Backend>,
}

impl Store {
    /// Opens the configured database for `access`; every error names it.
    pub fn open_for(database: &Database, access: Access) -> Result<Store, StoreError> {
        let backend: Box<dyn Backend> = match database {
            Database::Sqlite(path) => Box::new(sqlite::Sqlite::open_for(path, access)?),
            Database::Postgres(target) => Box::new(postgres::Postgres::open(target, access)?),
        };
        Ok(Store { backend })
    }

    /// Opens (creating if needed) the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Box::new(sqlite::Sqlite::open(path)?),
        })
    }

    /// [`backend::Exports::for_each_article`] until `each` fails (its error
    /// is returned inside), each article as it goes out: a date that is
    /// not RFC 3339 (written by an older version, `+99999-01-01T…`) goes
    /// out as no date rather than break a strict consumer, and the link
    /// without tracking parameters (`sources` keep it as the feed gave
    /// it). Every export and delivery reads articles here, on both backends.
    pub fn for_each_article<E>(
        &mut self,
        filter: &ExportFilter,
        mut each: impl FnMut(StoredArticle) -> Result<(), E>,
    ) -> Result<Result<i64, E>, StoreError> {
        let rfc3339 = |t: &String| parse_time(t).is_some();
        let mut failed = None;
        let highest = self.backend.for_each_article(filter, &mut |mut article| {
            article.published = article.published.filter(rfc3339);
            article.updated = article.updated.filter(rfc3339);
            article.url = article.url.map(|u| keys::without_tracking_text(&u));
            match each(article) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            }
        })?;
        Ok(match failed {
            Some(e) => Err(e),
            None => Ok(highest),
        })
    }

    /// [`backend::ConsumerLocks::lock_consumer`] with a `waiting` called at most once.
    pub fn lock_consumer(
        &mut self,
        consumer: &str,
        lease: std::time::Duration,
        waiting: impl FnOnce(),
    ) -> Result<ConsumerLock, StoreError> {
        let mut waiting = Some(waiting);
        self.backend.lock_consumer(consumer, lease, &mut || {
            if let Some(waiting) = waiting.take() {
                waiting();
            }
        })
    }
}

impl Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &(dyn Backend + 'static) {
        &*self.backend
    }
}

impl DerefMut for Store {
    fn deref_mut(&mut self) -> &mut (dyn Backend + 'static) {
        &mut *self.backend
    }
}

/// Why the database could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite could not open (or set up) the file.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// SQLite's reason.
        source: rusqlite::Error,
    },
    /// The file could not be created.
    #[error(
        "cannot create database {path}: {source} (check that its folder exists and is writable)"
    )]
    Create {
        /// The database file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A newer gleaner migrated the database: this one would misread it.
    #[error(
        "database {path} has schema version {found}, newer than this gleaner understands ({supported}); upgrade gleaner"
    )]
    TooNew {
        /// The database.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this gleaner knows.
        supported: i64,
    },
    /// A command that does not poll met no database: an empty one made
    /// by a typo in the path would only hide it.
    #[error(
        "the database {path} does not exist yet: run `gleaner poll` or `gleaner run` to create it (or point [storage] database at the right file)"
    )]
    Missing {
        /// The database looked for.
        path: PathBuf,
    },
    /// A command that writes met a file it may not write.
    #[error("cannot write the database {path}: {source}")]
    NotWritable {
        /// The database file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// SQLite refused a statement.
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// PostgreSQL refused a statement (or the connection broke).
    #[error("PostgreSQL error: {}", postgres_message(.0))]
    Postgres(#[from] ::postgres::Error),
    /// Connecting failed.
    #[error(
        "cannot connect to the PostgreSQL database {database}: {} (check {setting}, that the server runs and lets this user in)", postgres_message(.source)
    )]
    PostgresOpen {
        /// The URL without credentials.
        database: String,
        /// Where its URL was given: `[storage] database`, `--to`.
        setting: &'static str,
        /// The client's reason.
        source: ::postgres::Error,
    },
    /// The server's certificate was refused.
    #[error(
        "cannot connect to the PostgreSQL database {database}: its TLS certificate is refused ({reason}): {}",
        match .ca_file {
            Some(file) => format!("check that {} holds the CA that signed the server's certificate, and that the URL's host is a name in it", file.display()),
            None => "for a server whose CA the system does not trust, set [storage] ca_file to that CA's certificate (PEM)".to_owned(),
        }
    )]
    PostgresCertificate {
        /// The URL without credentials.
        database: String,
        /// `[storage] ca_file`, if set.
        ca_file: Option<std::path::PathBuf>,
        /// Why rustls refused it.
        reason: String,
    },
    /// The password or the TLS set-up could not be had before connecting.
    #[error("PostgreSQL database {database}: {message}")]
    PostgresPassword {
        /// The URL without credentials.
        database: String,
        /// What went wrong.
        message: String,
    },
    /// `migrate-db` into a database that holds something other than a
    /// copy of the SQLite file by it.
    #[error(
        "the PostgreSQL database {database} already holds data that differs from {from} (table {table}: {detail}) and is no copy by migrate-db: migrate-db copies into an empty database, or brings its own copy up to date. If no gleaner instance uses {database}, drop it and create it empty (dropdb, createdb), then run migrate-db again"
    )]
    NotEmpty {
        /// The URL without credentials.
        database: String,
        /// The SQLite file.
        from: String,
        /// The first table that differs.
        table: &'static str,
        /// How it differs.
        detail: String,
    },
    /// `migrate-db` again, after SQLite changed, on a copy finished by a
    /// version that copied other columns.
    #[error(
        "{from} changed since migrate-db finished copying it into the PostgreSQL database {database} at {finished_at} (table {table}: {detail}), but that copy was made by a gleaner that copied other columns, so migrate-db cannot tell whether {database} was written to since; nothing was changed. If no gleaner instance has used {database}, drop it, create it empty and run migrate-db again; otherwise keep it as it is"
    )]
    CopyOfOtherColumns {
        /// The URL without credentials.
        database: String,
        /// The SQLite file.
        from: String,
        /// When the copy finished (RFC 3339).
        finished_at: String,
        /// The first table that differs.
        table: &'static str,
        /// How it differs.
        detail: String,
    },
    /// `migrate-db` again after the copy it finished was written to.
    #[error(
        "{from} changed since migrate-db finished copying it into the PostgreSQL database {database} at {finished_at}, and {database} was written to since as well (table {table}: {detail}): gleaner instances use it, and copying {from} again would undo their work, so nothing was changed. Keep {database} as it is (what changed in {from} since {finished_at} is not in it), or, if nothing written to it since must be kept, drop it, create it empty and run migrate-db again"
    )]
    WrittenSinceCopy {
        /// The URL without credentials.
        database: String,
        /// The SQLite file.
        from: String,
        /// When the copy finished (RFC 3339).
        finished_at: String,
        /// The first table that differs.
        table: &'static str,
        /// How it differs.
        detail: String,
    },
    /// What a person typed cannot be searched for.
    #[error(transparent)]
    Search(#[from] search::QueryError),
    /// A row or count that the schema rules out.
    #[error("the database answered something impossible: {0}")]
    Inconsistent(String),
    /// A poll's write found the feed's lease no longer its claim (another
    /// instance took the feed while the poll was held up): nothing of the
    /// poll was written (see [`model::Claim`]).
    #[error(
        "the feed's lease was taken by another instance while this poll ran; its results are dropped and the newer poll stands"
    )]
    LeaseLost,
    /// A write waited for a lock longer than the connection allows
    /// (PostgreSQL's `lock_timeout`, from `[storage] lease_secs`): another
    /// instance holds it, or is stalled holding it until the server ends
    /// its session. Nothing of the transaction was written.
    #[error(
        "waited more than {waited_ms} ms for a lock another instance holds (a third of [storage] lease_secs); nothing of this write was stored, it is tried again"
    )]
    LockTimeout {
        /// The connection's `lock_timeout`.
        waited_ms: u64,
    },
    /// The daemon's database thread is gone (see [`StoreHandle::died`]).
    #[error("the database writer thread has stopped")]
    WriterGone,
    /// The lock file of consumers' exports beside a SQLite database.
    #[error(
        "cannot open or lock {path} (which keeps two exports of one consumer from running at once): {source} ({})",
        consumer_lock_advice(.source)
    )]
    ConsumerLock {
        /// The lock file.
        path: PathBuf,
        /// The system's reason.
        source: std::io::Error,
    },
    /// A consumer's cursor move found another claim's token: this holder's
    /// lease ran out and another export or instance claimed the consumer.
    #[error(
        "the lock of consumer {consumer:?} was lost: this process held it past its lease ([storage] lease_secs) without renewing it (stopped, or cut off from the database), and another export or instance has claimed the consumer since; the cursor was not moved, so what this process gave the consumer last is given again by the other"
    )]
    ConsumerLockLost {
        /// The consumer.
        consumer: String,
    },
}

/// What to do when the consumer lock file cannot be had.
fn consumer_lock_advice(source: &std::io::Error) -> &'static str {
    match source.kind() {
        std::io::ErrorKind::PermissionDenied => {
            "it must belong to the user gleaner runs as, like the database file: chown it to the database file's owner, or remove it while no export runs"
        }
        _ => "check that the database's folder is writable",
    }
}

/// What a command is going to do with the database, which decides what
/// opening it checks first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Only read (`feeds`, `search`, `export`): the file must exist; an
    /// empty database created by a typo in the path would only hide it.
    Read,
    /// Write to an existing database (`export --consumer` moves a cursor,
    /// `gc`, `reextract`): every command that does not poll.
    Update,
    /// Write, creating the database when there is none (`poll`, `run`: only
    /// what fetches feeds has something to put in a new one).
    Create,
}

/// A PostgreSQL error with the server's own message and detail, which the
/// client's `Display` leaves out ("db error" alone).
fn postgres_message(error: &::postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        },
        None => error.to_string(),
    }
}

impl StoreError {
    /// Whether the database refused what was written for its data (one
    /// entry's text, a value too large for a row or an index, a constraint),
    /// not because it cannot be used (disk full, read-only, unreachable):
    /// that is a failure of the feed that wrote it, recorded in its state
    /// and backed off like any other, never a reason to tell the operator
    /// to check the disk. SQLite: a constraint, a value too big or of the
    /// wrong type. PostgreSQL: data exceptions (class 22: an invalid byte
    /// sequence, string data too long), integrity constraints (class 23),
    /// a program limit (54000: an index row too large) and the "invalid
    /// message format" a NUL in a parameter can cause (08P01).
    pub fn is_data_error(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Sql(e) => matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::ConstraintViolation | ErrorCode::TooBig | ErrorCode::TypeMismatch)
            ),
            StoreError::Postgres(e) => e.code().is_some_and(|state| {
                let code = state.code();
                code.starts_with("22")
                    || code.starts_with("23")
                    || code == "54000"
                    || code == "08P01"
            }),
            _ => false,
        }
    }
}

/// A list as a JSON array column, `NULL` when empty (an entry's
/// categories and enclosures, on both backends).
pub(in crate::store) fn json_column<T: serde::Serialize>(items: &[T]) -> Option<String> {
    if items.is_empty() {
        return None;
    }
    let text = serde_json::to_string(items).ok()?;
    if !text.contains("\\u0000") {
        return Some(text);
    }
    // An escaped NUL is no NUL to the database, but the text would carry
    // one out again: the column holds none, as no other text does
    // (`sql::without_nul`).
    let mut value = serde_json::to_value(items).ok()?;
    without_nul(&mut value);
    serde_json::to_string(&value).ok()
}

/// `value`'s strings without NUL.
fn without_nul(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => s.retain(|c| c != '\0'),
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_nul),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(without_nul),
        _ => {}
    }
}

/// A JSON array column (`NULL` for none); an unreadable one reads as none.
pub(in crate::store) fn json_list<T: serde::de::DeserializeOwned>(text: Option<String>) -> Vec<T> {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Times are stored as RFC 3339 UTC with second precision, so that text order
/// is time order.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Reads a time written by [`format_time`]; anything else (a year past
/// 9999 among them) is treated as unknown.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(crate::feed::dates::representable)
}
