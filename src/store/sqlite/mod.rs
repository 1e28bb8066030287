//! SQLite storage: one file, the embedded default.
//!
//! Invariants (PostgreSQL keeps each of them across instances, see
//! [`super::postgres`]):
//! - `articles.seq` is the order of first storage, and sources and tags
//!   added to a stored article later get a position from the same counter
//!   (`sqlite_sequence`); with SQLite's single write lock, seqs and
//!   positions become visible in increasing order, so a consumer cursor is
//!   "the highest position given" (see `dedup::join_selections`).
//! - Writes go through one connection in the daemon (one
//!   [`StoreHandle`](super::StoreHandle) thread); any number of connections
//!   may read at once thanks to WAL.

mod consumer_lock;
mod search;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::backend::{Backend, Sharing};
use super::schema::MIGRATIONS;
use super::sql::{BATCH, Cell, Conn, Dialect, EachBatch, Query, Row, Snapshot, SqlBackend, Value};
use super::{Access, StoreError};

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// An open SQLite connection with the schema up to date.
pub struct Sqlite {
    /// `migrate-db` reads it in one snapshot.
    pub(in crate::store) conn: Connection,
    path: PathBuf,
}

impl Backend for Sqlite {
    fn path(&self) -> &Path {
        &self.path
    }

    /// Rewrites the database file.
    fn vacuum(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("VACUUM")?;
        Ok(())
    }
}

/// One process: nothing to share (the trait's provided methods).
impl Sharing for Sqlite {}

impl SqlBackend for Sqlite {
    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        f(&mut Lite(&self.conn))
    }

    /// Takes the write lock first: a transaction that reads before it
    /// writes would fail with SQLITE_BUSY_SNAPSHOT when another process
    /// committed in between, where this waits for the lock (busy_timeout).
    fn write<T>(
        &mut self,
        _serialized: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        committed(tx, |c| {
            let value = f(c)?;
            flush_search(c.0)?;
            Ok(value)
        })
    }

    fn snapshot<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Snapshot) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        committed(self.conn.transaction()?, |c| f(c))
    }
}

/// Runs `f` in `tx`, committed when it succeeds.
fn committed<T>(
    tx: rusqlite::Transaction<'_>,
    f: impl FnOnce(&mut Lite<'_>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let value = f(&mut Lite(&tx))?;
    tx.commit()?;
    Ok(value)
}

/// Indexes the articles stored in this transaction for search, in one
/// statement (migration 18 says why not one by one); nothing when none is
/// pending.
fn flush_search(conn: &Connection) -> Result<(), StoreError> {
    let pending: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM articles_fts_pending)")?
        .query_row([], |r| r.get(0))?;
    if pending {
        conn.prepare_cached(
            "INSERT INTO articles_fts (rowid, title, content_text)
             SELECT a.seq, a.title, a.content_text
             FROM articles_fts_pending p JOIN articles a ON a.seq = p.seq",
        )?
        .execute([])?;
        conn.prepare_cached("DELETE FROM articles_fts_pending")?
            .execute([])?;
    }
    Ok(())
}

/// A connection (or a transaction on it) running the shared statements.
struct Lite<'c>(&'c Connection);

impl Conn for Lite<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn run(&mut self, sql: &'static str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let changed = self
            .0
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(changed as u64)
    }

    fn rows(&mut self, sql: &'static str, params: &[Value<'_>]) -> Result<Vec<Row>, StoreError> {
        let mut found = Vec::new();
        self.stream((sql, params), usize::MAX, &mut |_, rows| {
            found = rows;
            Ok(ControlFlow::Break(()))
        })?;
        Ok(found)
    }
}

impl Snapshot for Lite<'_> {
    fn batches(&mut self, query: Query<'_>, each: &mut EachBatch<'_>) -> Result<(), StoreError> {
        self.stream(query, BATCH, each)
    }
}

impl Lite<'_> {
    /// The rows of `sql`, `size` at a time, as [`Snapshot::batches`].
    fn stream(
        &self,
        (sql, params): Query<'_>,
        size: usize,
        each: &mut EachBatch<'_>,
    ) -> Result<(), StoreError> {
        use rusqlite::types::ValueRef;
        let mut stmt = self.0.prepare_cached(sql)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        loop {
            let mut batch = Vec::new();
            while batch.len() < size {
                let Some(r) = rows.next()? else { break };
                let mut cells = Vec::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    let cell = match r.get_ref(i)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(n) => Cell::Int(n),
                        ValueRef::Real(f) => Cell::Real(f),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
                    };
                    cells.push((name.clone(), cell));
                }
                batch.push(Row { cells });
            }
            let last = batch.len() < size;
            if batch.is_empty() || each(&mut Lite(self.0), batch)?.is_break() || last {
                return Ok(());
            }
        }
    }
}

impl Sqlite {
    /// Opens the database at `path` for `access`; every error names the file.
    pub fn open_for(path: &Path, access: Access) -> Result<Sqlite, StoreError> {
        if access != Access::Create && !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        if access != Access::Read {
            // SQLite would open a read-only file read-only and create its
            // -shm file read-only too, which then outlives a fix of the
            // file's permissions: refuse before SQLite touches anything.
            if let Err(source) = std::fs::OpenOptions::new().write(true).open(path)
                && source.kind() != std::io::ErrorKind::NotFound
            {
                return Err(StoreError::NotWritable {
                    path: path.to_owned(),
                    source,
                });
            }
        }
        Sqlite::open(path)
    }

    /// Opens (creating if needed, mode 0600) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Sqlite, StoreError> {
        create_private(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut store = Sqlite {
            conn,
            path: path.to_owned(),
        };
        store.configure().map_err(|source| StoreError::Open {
            path: path.to_owned(),
            source,
        })?;
        store.migrate()?;
        Ok(store)
    }

    fn configure(&mut self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(BUSY_TIMEOUT)?;
        self.conn.pragma_update(None, "journal_mode", "WAL")?;
        // WAL + NORMAL: a power cut may lose the last commits, never corrupts;
        // a killed process loses nothing committed.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn.pragma_update(None, "foreign_keys", true)?;
        // A poll's transaction runs about two dozen distinct statements per
        // article (exact keys, near-duplicate index, sources, tags): past
        // rusqlite's default of 16 cached, each was parsed again every time.
        self.conn.set_prepared_statement_cache_capacity(64);
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = MIGRATIONS.len() as i64;
        if version > supported {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        for (index, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            // Take the write lock first: a deferred transaction that read the
            // version would fail with "database is locked", not wait, when
            // another process (the daemon and an export starting together)
            // migrates meanwhile.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Re-check under the write lock: another process may have migrated.
            let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if now > index as i64 {
                continue;
            }
            tx.execute_batch(&migration.sql(Dialect::Sqlite))?;
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }
}

/// Creates the database file readable by its owner only, before SQLite does
/// (SQLite would use the umask). The -wal and -shm files take the main file's
/// permissions.
fn create_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(StoreError::Create {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backend::{Cursors, Exports, Feeds, Polls, Search};
    use crate::store::model;

    #[test]
    fn a_version_1_database_gains_feed_repairs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&MIGRATIONS[0].sql(Dialect::Sqlite))
                .unwrap();
            conn.execute(
                "INSERT INTO feeds (url, name) VALUES ('https://a.example/f', 'a')",
                [],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let mut store = Sqlite::open(&path).unwrap();
        assert_eq!(
            store.feed_statuses().unwrap()["https://a.example/f"].repairs,
            Vec::<String>::new()
        );
        let poll = model::PollRecord {
            feed_url: "https://a.example/f".into(),
            feed_name: "a".into(),
            polled_at: chrono::Utc::now(),
            outcome: crate::pacing::FeedOutcome::Fetched {
                etag: None,
                last_modified: None,
                moved_to: None,
                repairs: vec![
                    crate::feed::Repair::HtmlEntities,
                    crate::feed::Repair::Truncated,
                ],
                ttl: None,
                filtered: 0,
                interstitials: Default::default(),
                title: None,
                format: crate::feed::FeedFormat::Rss,
            },
            cadence: model::Cadence::Cron,
            sightings: Vec::new(),
            claim: model::Claim::Sole,
        };
        store.record_poll(&poll).unwrap();
        assert_eq!(
            store.feed_statuses().unwrap()["https://a.example/f"].repairs,
            ["html-entities", "truncated"]
        );
    }

    #[test]
    fn articles_stored_before_search_existed_are_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        {
            let conn = Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..4] {
                conn.execute_batch(&migration.sql(Dialect::Sqlite)).unwrap();
            }
            conn.execute(
                "INSERT INTO articles (id, title, fetched_at, content_text, content_source)
                 VALUES ('x', 'Old news', '2026-01-01T00:00:00Z', 'about the harbour', 'feed')",
                [],
            )
            .unwrap();
            conn.pragma_update(None, "user_version", 4).unwrap();
        }
        let store = Sqlite::open(&path).unwrap();
        let hits = store.search("harbour", 10).unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].title.as_deref(), Some("Old news"));
    }

    #[test]
    fn sources_and_tags_stored_before_positions_existed_entered_with_their_article() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        // The migration that added positions (later ones may follow it).
        let before = MIGRATIONS
            .iter()
            .position(|m| {
                m.sql(Dialect::Sqlite)
                    .contains("ALTER TABLE sources ADD COLUMN pos")
            })
            .unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..before] {
                conn.execute_batch(&migration.sql(Dialect::Sqlite)).unwrap();
            }
            conn.execute_batch(
                "INSERT INTO articles (seq, id, fetched_at, content_source)
                 VALUES (7, 'x', '2026-01-01T00:00:00Z', 'feed');
                 INSERT INTO sources (feed_url, entry_id, article_seq, entry_hash, first_seen)
                 VALUES ('https://a.example/f', '1', 7, 'h', '2026-01-01T00:00:00Z');
                 INSERT INTO article_tags (article_seq, tag) VALUES (7, 'news');
                 INSERT INTO consumers (name, cursor_seq, updated_at)
                 VALUES ('c', 6, '2026-01-01T00:00:00Z');",
            )
            .unwrap();
            conn.pragma_update(None, "user_version", before as i64)
                .unwrap();
        }
        let mut store = Sqlite::open(&path).unwrap();
        let positions: (i64, i64) = store
            .conn
            .query_row(
                "SELECT (SELECT pos FROM sources), (SELECT pos FROM article_tags)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(positions, (7, 7));
        // A filtered consumer behind the article still gets it, at its seq.
        let filter = model::ExportFilter {
            after_seq: store.consumer_cursor("c").unwrap(),
            feed_urls: vec!["https://a.example/f".into()],
            tags: vec!["news".into()],
            ..model::ExportFilter::default()
        };
        let mut given = Vec::new();
        let highest = store
            .for_each_article(&filter, &mut |a| {
                given.push((a.seq, a.position));
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!((given, highest), (vec![(7, 7)], 7));
    }
}
