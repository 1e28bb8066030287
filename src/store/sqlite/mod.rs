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
mod deliveries;
mod pages;
mod read;
mod retention;
mod retries;
mod search;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};

use super::backend::{Backend, Sharing};
use super::{Access, StoreError, parse_time};

/// How long a connection waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
pub(in crate::store) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE articles (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT NOT NULL UNIQUE,
    title          TEXT,
    url            TEXT,
    canonical_url  TEXT,
    author         TEXT,
    published      TEXT,
    updated        TEXT,
    fetched_at     TEXT NOT NULL,
    summary        TEXT,
    content_html   TEXT,
    content_text   TEXT,
    content_source TEXT NOT NULL CHECK (content_source IN ('article', 'feed', 'none')),
    word_count     INTEGER,
    language       TEXT,
    image          TEXT
);
CREATE INDEX articles_fetched_at ON articles (fetched_at);

CREATE TABLE article_keys (
    key         TEXT PRIMARY KEY,
    article_seq INTEGER NOT NULL REFERENCES articles (seq)
) WITHOUT ROWID;
CREATE INDEX article_keys_article ON article_keys (article_seq);

CREATE TABLE sources (
    feed_url    TEXT NOT NULL,
    entry_id    TEXT NOT NULL,
    article_seq INTEGER NOT NULL REFERENCES articles (seq),
    url         TEXT,
    entry_hash  TEXT NOT NULL,
    first_seen  TEXT NOT NULL,
    UNIQUE (feed_url, entry_id)
);
CREATE INDEX sources_article ON sources (article_seq);

CREATE TABLE article_tags (
    article_seq INTEGER NOT NULL REFERENCES articles (seq),
    tag         TEXT NOT NULL,
    PRIMARY KEY (article_seq, tag)
) WITHOUT ROWID;
CREATE INDEX article_tags_tag ON article_tags (tag, article_seq);

CREATE TABLE feeds (
    url                TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    etag               TEXT,
    last_modified      TEXT,
    last_poll_at       TEXT,
    last_success_at    TEXT,
    state              TEXT,
    last_error         TEXT,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    next_attempt_at    TEXT
);

CREATE TABLE consumers (
    name       TEXT PRIMARY KEY,
    cursor_seq INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
"#,
    r#"
-- The repairs (space-separated names, see feed::Repair) the last parsed
-- fetch of a feed needed; '' for a healthy feed.
ALTER TABLE feeds ADD COLUMN repairs TEXT NOT NULL DEFAULT '';
"#,
    r#"
-- Where the feed's URL permanently redirects (301/308 on every hop) as of
-- its last successful fetch; NULL when it does not.
ALTER TABLE feeds ADD COLUMN moved_to TEXT;
"#,
    r#"
-- Adaptive schedules: the feed's RSS <ttl> as of its last parsed fetch, and
-- the interval its publications suggest (NULL for cron-scheduled feeds).
ALTER TABLE feeds ADD COLUMN ttl_secs INTEGER;
ALTER TABLE feeds ADD COLUMN poll_interval_secs INTEGER;
"#,
    r#"
-- Full-text search over title and text (gleaner search), kept in step with
-- articles by triggers; existing articles are indexed once here.
CREATE VIRTUAL TABLE articles_fts USING fts5(
    title, content_text,
    content = 'articles', content_rowid = 'seq',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, content_text)
    VALUES (new.seq, new.title, new.content_text);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
    VALUES ('delete', old.seq, old.title, old.content_text);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, content_text ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, content_text)
    VALUES ('delete', old.seq, old.title, old.content_text);
    INSERT INTO articles_fts (rowid, title, content_text)
    VALUES (new.seq, new.title, new.content_text);
END;
INSERT INTO articles_fts (articles_fts) VALUES ('rebuild');
"#,
    r#"
-- Retention: a purged article keeps its row (id, links, dates), its sources
-- and its dedup keys as a tombstone, so it is never stored as new again;
-- its body and title are gone and exports and search skip it.
ALTER TABLE articles ADD COLUMN purged_at TEXT;
"#,
    r#"
-- [storage] keep_html: each article's page as fetched, zstd-compressed, so
-- gleaner reextract can run a newer extractor without fetching again.
CREATE TABLE pages (
    article_seq  INTEGER PRIMARY KEY REFERENCES articles (seq),
    url          TEXT NOT NULL,
    content_type TEXT,
    fetched_at   TEXT NOT NULL,
    body_zstd    BLOB NOT NULL
);
"#,
    r#"
-- [[deliver]]: how each consumer's pushes went (the cursor itself is in
-- consumers), for gleaner deliveries.
CREATE TABLE deliveries (
    name                 TEXT PRIMARY KEY,
    last_attempt_at      TEXT NOT NULL,
    last_success_at      TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    delivered            INTEGER NOT NULL DEFAULT 0
);
"#,
    r#"
-- How many entries the feed's filter rules (block/keep) dropped in its last
-- fetched poll.
ALTER TABLE feeds ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
"#,
    r#"
-- The entry's own categories and its media files (feed::Enclosure), as
-- JSON arrays; NULL when it has none.
ALTER TABLE articles ADD COLUMN categories TEXT;
ALTER TABLE articles ADD COLUMN enclosures TEXT;
"#,
    r#"
-- PostgreSQL's search column now splits words at punctuation, as FTS5's
-- unicode61 tokenizer here always has: nothing changes in SQLite, but a
-- version still means one schema on both backends.
SELECT 1;
"#,
    r#"
-- Exactly-once export to filtered consumers: the position at which each
-- source and tag was added to its article (the article's seq when stored
-- with it, a later number of the same counter when another sighting added
-- it), so that an article entering a consumer's selection after the
-- consumer passed its seq is still given (see read::for_each_article).
-- Rows stored before came with their article.
ALTER TABLE sources ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
UPDATE sources SET pos = article_seq;
CREATE INDEX sources_pos ON sources (pos);
ALTER TABLE article_tags ADD COLUMN pos INTEGER NOT NULL DEFAULT 0;
UPDATE article_tags SET pos = article_seq;
CREATE INDEX article_tags_pos ON article_tags (pos);
"#,
    r#"
-- article::verdict: how many article pages the feed's last fetched poll
-- judged and how many were interstitials of each kind ('pages=5 consent=3').
ALTER TABLE feeds ADD COLUMN interstitials TEXT NOT NULL DEFAULT '';
-- Entries whose page was an interstitial, stored with the feed's text: the
-- page is tried again at next_at (at most store::retries::MAX_RETRIES times).
CREATE TABLE page_retries (
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at  TEXT NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);
"#,
];

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
}

/// One process: nothing to share (the trait's provided methods).
impl Sharing for Sqlite {}

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
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
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
            tx.execute_batch(sql)?;
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

/// Column `index` of `row` as a time written by [`super::format_time`] (`None`
/// when NULL or unreadable).
fn time_column(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    Ok(row
        .get::<_, Option<String>>(index)?
        .as_deref()
        .and_then(parse_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::backend::{Exports, Feeds, Polls, Search};
    use crate::store::model;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn new_database_is_private_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let store = Sqlite::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let version: i64 = store
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
        drop(store);
        // Re-opening is a no-op migration.
        Sqlite::open(&path).unwrap();
    }

    #[test]
    fn a_version_1_database_gains_feed_repairs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
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
            polled_at: Utc::now(),
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
            },
            cadence: model::Cadence::Cron,
            sightings: Vec::new(),
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
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
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
            .position(|m| m.contains("ALTER TABLE sources ADD COLUMN pos"))
            .unwrap();
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..before] {
                conn.execute_batch(sql).unwrap();
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

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.db");
        let store = Sqlite::open(&path).unwrap();
        store.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(store);
        assert!(matches!(
            Sqlite::open(&path),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
