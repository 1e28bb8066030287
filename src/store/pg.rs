//! PostgreSQL storage: one database shared by any number of gleaner instances.
//!
//! The schema is SQLite's (same tables, columns and numbered migrations,
//! times as RFC 3339 text in the C collation so text order is time order);
//! the rules of a poll's writes are shared ([`super::dedup`]).
//!
//! Invariants, as SQLite gives them:
//! - **One writer at a time.** Every transaction that stores sightings
//!   first takes the transaction-level advisory lock `gleaner write`, held
//!   until it commits. Dedup's look-up-then-insert therefore never races
//!   another instance, and `articles.seq` values and the positions of
//!   sources and tags added later (taken from one sequence under that lock)
//!   become visible in increasing order: a snapshot that sees position N
//!   sees every one below it, so a consumer cursor stays "the highest
//!   position given".
//! - **Migrations run once.** They run under the session advisory lock
//!   `gleaner migrate`, so instances starting together take turns and the
//!   later ones find the work done.
//! - **One poller per feed.** A feed's lease (`gleaner_leases`) is claimed
//!   with `FOR UPDATE SKIP LOCKED` and renewed by its holder while the
//!   poll runs, all in the server's clock; only a lease past its expiry
//!   can be claimed by another holder.
//! - **One export per consumer at a time** across machines: the export holds
//!   a session advisory lock for its consumer on a connection of its own,
//!   released by the server when that connection ends, however it ends.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};
use url::Url;

use crate::config::database::{PostgresTarget, Tls};

use super::consumer_lock::{ConsumerLock, Held};
use super::keys::{normalize_url, url_key};
use super::model::{
    ArticleRecord, Cadence, ContentSource, ExportFilter, FeedStatus, Known, PollRecord,
    PollSummary, Sighting, StoredArticle, StoredSource,
};
use super::read::feed_status_sql;
use super::{Access, StoreError, dedup, format_time, parse_time};
use crate::article::verdict::Tally;
use crate::pacing::FeedOutcome;

// The rest of the interface, in files of their own (each an `impl Postgres`).
mod deliveries;
mod follow;
pub(super) use follow::release_consumer_lock;
mod hosts;
mod pages;
mod retention;
mod retries;
mod search;
mod tls;

/// Schema migrations; `gleaner_schema.version` counts those applied. Entry
/// N is SQLite's migration N for PostgreSQL, so a version means one schema.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE articles (
    seq            BIGSERIAL PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    title          TEXT,
    url            TEXT,
    canonical_url  TEXT,
    author         TEXT,
    published      TEXT COLLATE "C",
    updated        TEXT COLLATE "C",
    fetched_at     TEXT COLLATE "C" NOT NULL,
    summary        TEXT,
    content_html   TEXT,
    content_text   TEXT,
    content_source TEXT NOT NULL CHECK (content_source IN ('article', 'feed', 'none')),
    word_count     BIGINT,
    language       TEXT,
    image          TEXT
);
CREATE INDEX articles_fetched_at ON articles (fetched_at);

CREATE TABLE article_keys (
    key         TEXT COLLATE "C" PRIMARY KEY,
    article_seq BIGINT NOT NULL REFERENCES articles (seq)
);
CREATE INDEX article_keys_article ON article_keys (article_seq);

CREATE TABLE sources (
    -- The order sightings were stored (SQLite's rowid).
    source_seq  BIGSERIAL PRIMARY KEY,
    feed_url    TEXT COLLATE "C" NOT NULL,
    entry_id    TEXT COLLATE "C" NOT NULL,
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    url         TEXT,
    entry_hash  TEXT NOT NULL,
    first_seen  TEXT COLLATE "C" NOT NULL,
    UNIQUE (feed_url, entry_id)
);
CREATE INDEX sources_article ON sources (article_seq);

CREATE TABLE article_tags (
    article_seq BIGINT NOT NULL REFERENCES articles (seq),
    tag         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (article_seq, tag)
);
CREATE INDEX article_tags_tag ON article_tags (tag, article_seq);

CREATE TABLE feeds (
    url                TEXT COLLATE "C" PRIMARY KEY,
    name               TEXT NOT NULL,
    etag               TEXT,
    last_modified      TEXT,
    last_poll_at       TEXT COLLATE "C",
    last_success_at    TEXT COLLATE "C",
    state              TEXT,
    last_error         TEXT,
    consecutive_errors BIGINT NOT NULL DEFAULT 0,
    next_attempt_at    TEXT COLLATE "C"
);

CREATE TABLE consumers (
    name       TEXT COLLATE "C" PRIMARY KEY,
    cursor_seq BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
"#,
    "ALTER TABLE feeds ADD COLUMN repairs TEXT NOT NULL DEFAULT '';",
    "ALTER TABLE feeds ADD COLUMN moved_to TEXT;",
    "ALTER TABLE feeds ADD COLUMN ttl_secs BIGINT;
     ALTER TABLE feeds ADD COLUMN poll_interval_secs BIGINT;",
    // Full-text search: SQLite's FTS5 table; here a generated tsvector.
    "ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
         (setweight(to_tsvector('simple', coalesce(title, '')), 'A')
          || to_tsvector('simple', coalesce(content_text, ''))) STORED;
     CREATE INDEX articles_search ON articles USING gin (search);",
    "ALTER TABLE articles ADD COLUMN purged_at TEXT COLLATE \"C\";",
    r#"
CREATE TABLE pages (
    article_seq  BIGINT PRIMARY KEY REFERENCES articles (seq),
    url          TEXT NOT NULL,
    content_type TEXT,
    fetched_at   TEXT NOT NULL,
    body_zstd    BYTEA NOT NULL
);
"#,
    r#"
CREATE TABLE deliveries (
    name                 TEXT COLLATE "C" PRIMARY KEY,
    last_attempt_at      TEXT COLLATE "C" NOT NULL,
    last_success_at      TEXT COLLATE "C",
    last_error           TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    delivered            BIGINT NOT NULL DEFAULT 0
);
"#,
    "ALTER TABLE feeds ADD COLUMN filtered BIGINT NOT NULL DEFAULT 0;",
    "ALTER TABLE articles ADD COLUMN categories TEXT;
     ALTER TABLE articles ADD COLUMN enclosures TEXT;",
    // Words split at ASCII punctuation, as SQLite's unicode61 splits them:
    // PostgreSQL's parser kept `www.example.com`, `a@b.org` and URLs as one
    // token each, so `example` did not find them. (`translate` is immutable
    // and knows no locale; the typed words get the same, see `pg::search`.)
    r##"ALTER TABLE articles DROP COLUMN search;
     ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS
         (setweight(to_tsvector('simple', translate(coalesce(title, ''),
              '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                ')), 'A')
          || to_tsvector('simple', translate(coalesce(content_text, ''),
              '!"#$%&''()*+,-./:;<=>?@[\]^_`{|}~', '                                '))) STORED;
     CREATE INDEX articles_search ON articles USING gin (search);"##,
    "ALTER TABLE sources ADD COLUMN pos BIGINT;
     UPDATE sources SET pos = article_seq;
     ALTER TABLE sources ALTER COLUMN pos SET NOT NULL;
     CREATE INDEX sources_pos ON sources (pos);
     ALTER TABLE article_tags ADD COLUMN pos BIGINT;
     UPDATE article_tags SET pos = article_seq;
     ALTER TABLE article_tags ALTER COLUMN pos SET NOT NULL;
     CREATE INDEX article_tags_pos ON article_tags (pos);",
    r#"
ALTER TABLE feeds ADD COLUMN interstitials TEXT NOT NULL DEFAULT '';
CREATE TABLE page_retries (
    feed_url TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    kind     TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (feed_url, entry_id)
);
"#,
];

/// How long connecting may take before the command fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many articles an export reads per round trip.
const EXPORT_BATCH: i32 = 256;

/// An export's selection after a cursor, as `a`, each article with its
/// `position` in it (SQLite's `read::SELECTION`, which says why): after
/// the cursor `$1`, up to the snapshot's highest position `$2`, not purged,
/// fetched at or after `$3` (text; NULL: any time), with a source in one of
/// the feeds `$4` and one of the tags `$5` (an empty array: any).
macro_rules! export_selection {
    () => {
        "(SELECT a.seq, a.id, a.title, a.url, a.canonical_url, a.author, a.published,
                 a.updated, a.fetched_at, a.summary, a.content_html, a.content_text,
                 a.content_source, a.word_count, a.language, a.image, a.categories,
                 a.enclosures,
                 CASE WHEN m.f IS NOT NULL AND m.t IS NOT NULL
                      THEN GREATEST(a.seq, m.f, m.t) END AS position
          FROM articles a CROSS JOIN LATERAL (SELECT
              CASE WHEN cardinality($4::text[]) = 0 THEN a.seq ELSE
                  (SELECT min(s.pos) FROM sources s WHERE s.article_seq = a.seq
                   AND s.feed_url = ANY ($4)) END AS f,
              CASE WHEN cardinality($5::text[]) = 0 THEN a.seq ELSE
                  (SELECT min(t.pos) FROM article_tags t WHERE t.article_seq = a.seq
                   AND t.tag = ANY ($5)) END AS t) m
          WHERE a.seq IN (SELECT seq FROM articles WHERE seq > $1
                          UNION SELECT article_seq FROM sources
                                WHERE pos > $1 AND pos > article_seq
                          UNION SELECT article_seq FROM article_tags
                                WHERE pos > $1 AND pos > article_seq)
            AND a.purged_at IS NULL AND ($3::text IS NULL OR a.fetched_at >= $3)) a
         WHERE a.position > $1 AND a.position <= $2"
    };
}
use export_selection;

/// The highest position in the database (SQLite's `read::HIGHEST_POSITION`).
const HIGHEST_POSITION: &str = "SELECT GREATEST(
     COALESCE((SELECT max(seq) FROM articles), 0),
     COALESCE((SELECT max(pos) FROM sources), 0),
     COALESCE((SELECT max(pos) FROM article_tags), 0))";

/// The advisory lock (a text hashed by the server) of `consumer`'s exports.
fn consumer_lock_key(consumer: &str) -> String {
    format!("gleaner consumer {consumer}")
}

/// An open connection to a migrated PostgreSQL database.
pub struct Postgres {
    client: RefCell<Client>,
    /// Statements prepared on this connection, by their text.
    statements: RefCell<Prepared>,
    target: PostgresTarget,
    /// The URL as shown, as a path for the messages that name "the database".
    shown: PathBuf,
}

/// Connects to `target` as [`PostgresTarget`] describes.
pub(super) fn connect(target: &PostgresTarget) -> Result<Client, StoreError> {
    let open_error = |source| StoreError::PostgresOpen {
        database: target.shown().to_owned(),
        setting: target.setting(),
        source,
    };
    let mut config: postgres::Config = target
        .url_without_password()
        .as_str()
        .parse()
        .map_err(open_error)?;
    let password = target
        .password()
        .map_err(|e| StoreError::PostgresPassword {
            database: target.shown().to_owned(),
            message: e.to_string(),
        })?;
    if let Some(password) = password {
        config.password(password);
    }
    if config.get_application_name().is_none() {
        config.application_name("gleaner");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    match target.tls() {
        Tls::Off => config.connect(NoTls).map_err(open_error),
        Tls::Verified { ca_file } => {
            let tls = tls::connector(ca_file.as_deref()).map_err(|message| {
                StoreError::PostgresPassword {
                    database: target.shown().to_owned(),
                    message,
                }
            })?;
            config
                .connect(tls)
                .map_err(|source| match refused_certificate(&source) {
                    Some(reason) => StoreError::PostgresCertificate {
                        database: target.shown().to_owned(),
                        ca_file: ca_file.clone(),
                        reason,
                    },
                    None => open_error(source),
                })
        }
    }
}

/// Why the server's certificate was refused, if that is why connecting failed.
fn refused_certificate(error: &postgres::Error) -> Option<String> {
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        // tokio-rustls hands rustls's error over inside an io::Error, whose
        // `source` skips it: look inside.
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map_or(e, |inner| inner as &(dyn std::error::Error + 'static));
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return matches!(tls, rustls::Error::InvalidCertificate(_)).then(|| tls.to_string());
        }
        source = e.source();
    }
    None
}

impl Postgres {
    /// Connects and migrates. `Access::Read` and `Update` need a database
    /// gleaner has already set up (the schema), like SQLite's file.
    pub fn open(target: &PostgresTarget, access: Access) -> Result<Postgres, StoreError> {
        let mut client = connect(target)?;
        let shown = PathBuf::from(target.shown());
        if access != Access::Create && schema_version(&mut client)?.is_none() {
            return Err(StoreError::Missing { path: shown });
        }
        migrate(&mut client, &shown)?;
        Ok(Postgres {
            client: RefCell::new(client),
            statements: RefCell::default(),
            target: target.clone(),
            shown,
        })
    }

    /// The database as shown in messages.
    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// See [`super::Store::claim_feed`]: the feed's lease row, taken with
    /// `FOR UPDATE SKIP LOCKED` so that instances claiming at once never
    /// wait on each other, in the server's clock.
    pub fn claim_feed(
        &mut self,
        feed_url: &str,
        holder: &str,
        lease: Duration,
        claimed_before: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let before = claimed_before.map(|t| t.to_rfc3339());
        let secs = lease.as_secs_f64();
        self.with_client(|client, cache| {
            // One statement, its own transaction: a feed's row is locked
            // only while it is claimed, and a claim that finds it locked
            // skips it rather than wait (another instance is claiming).
            let claim = prepared(
                cache,
                client,
                "UPDATE gleaner_leases l SET holder = $2, claimed_at = now(),
                     expires_at = now() + make_interval(secs => $3)
                 FROM (SELECT feed_url FROM gleaner_leases
                       WHERE feed_url = $1 AND expires_at < now()
                         AND claimed_at < COALESCE($4::text::timestamptz, 'infinity')
                       FOR UPDATE SKIP LOCKED) free
                 WHERE l.feed_url = free.feed_url",
            )?;
            if client.execute(&claim, &[&feed_url, &holder, &secs, &before])? == 1 {
                return Ok(true);
            }
            // No free row: the feed's first claim ever, or it is taken.
            let first = prepared(
                cache,
                client,
                "INSERT INTO gleaner_leases (feed_url, holder, claimed_at, expires_at)
                 VALUES ($1, $2, now(), now() + make_interval(secs => $3))
                 ON CONFLICT DO NOTHING",
            )?;
            Ok(client.execute(&first, &[&feed_url, &holder, &secs])? == 1)
        })
    }

    /// See [`super::Store::renew_feed`]: a lease that ran out stays its
    /// holder's until another claims it, so a late renewal still holds.
    pub fn renew_feed(
        &mut self,
        feed_url: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let secs = lease.as_secs_f64();
        self.with_client(|client, cache| {
            let renew = prepared(
                cache,
                client,
                "UPDATE gleaner_leases SET expires_at = now() + make_interval(secs => $3)
                 WHERE feed_url = $1 AND holder = $2",
            )?;
            Ok(client.execute(&renew, &[&feed_url, &holder, &secs])? == 1)
        })
    }

    /// See [`super::Store::release_feed`].
    pub fn release_feed(&mut self, feed_url: &str, holder: &str) -> Result<(), StoreError> {
        self.with_client(|client, cache| {
            let release = prepared(
                cache,
                client,
                "UPDATE gleaner_leases SET holder = NULL, expires_at = '-infinity'
                 WHERE feed_url = $1 AND holder = $2",
            )?;
            client.execute(&release, &[&feed_url, &holder])?;
            Ok(())
        })
    }

    /// Waits until no other export (on any machine) runs for `consumer`,
    /// and keeps others out until the returned lock is dropped: a session
    /// advisory lock on a connection of its own, which the server releases
    /// when the connection ends, however it ends.
    pub fn lock_consumer(
        &self,
        consumer: &str,
        waiting: impl FnOnce(),
    ) -> Result<ConsumerLock, StoreError> {
        let mut client = connect(&self.target)?;
        let key = consumer_lock_key(consumer);
        let got: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                &[&key],
            )?
            .get(0);
        if !got {
            waiting();
            client.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", &[&key])?;
        }
        Ok(ConsumerLock::new(Held::Postgres(Box::new(client))))
    }

    fn with_client<T>(
        &self,
        f: impl FnOnce(&mut Client, &mut Prepared) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut statements = self.statements.borrow_mut();
        if client.is_closed() {
            // The server ended the connection (a restart, a fail-over, an
            // administrator): the call that found out failed; this one
            // connects again, so that a long-running instance outlives it.
            *client = connect(&self.target)?;
            statements.clear();
            tracing::info!(database = %self.shown.display(), "connected to the PostgreSQL database again");
        }
        f(&mut client, &mut statements)
    }

    /// A write transaction holding the `gleaner write` lock.
    fn write<T>(
        &self,
        f: impl FnOnce(&mut PgTx<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.transaction(true, f)
    }

    /// A write transaction, holding the `gleaner write` lock if `serialized`:
    /// what stores articles, sources or keys must be; what only changes the
    /// state of a feed this instance holds the lease of need not, so that
    /// instances' idle polls do not wait on each other.
    fn transaction<T>(
        &self,
        serialized: bool,
        f: impl FnOnce(&mut PgTx<'_, '_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_client(|client, cache| {
            let mut tx = client.transaction()?;
            if serialized {
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('gleaner write', 0))",
                    &[],
                )?;
            }
            let mut pg_tx = PgTx { tx, cache };
            let value = f(&mut pg_tx)?;
            pg_tx.tx.commit()?;
            Ok(value)
        })
    }

    pub fn record_poll(&mut self, poll: &PollRecord) -> Result<PollSummary, StoreError> {
        // A poll that stores no sightings (a 304, a failure, an unchanged
        // feed) writes only its feed's row, which no other instance writes
        // while this one holds the feed's lease.
        self.transaction(!poll.sightings.is_empty(), |tx| {
            let now = format_time(poll.polled_at);
            record_feed_state(tx, poll, &now)?;
            let summary = dedup::record_all(tx, &poll.feed_url, &now, &poll.sightings)?;
            let succeeded = !matches!(poll.outcome, FeedOutcome::Failed { .. });
            if let (Cadence::Adaptive { bounds, fresh_for }, true) = (poll.cadence, succeeded) {
                dedup::schedule_adaptive(tx, &poll.feed_url, poll.polled_at, bounds, fresh_for)?;
            }
            Ok(summary)
        })
    }

    pub fn record_sightings(
        &mut self,
        feed_url: &str,
        feed_name: &str,
        polled_at: DateTime<Utc>,
        sightings: &[Sighting],
    ) -> Result<PollSummary, StoreError> {
        self.write(|tx| {
            register_feed(tx, feed_url, feed_name)?;
            dedup::record_all(tx, feed_url, &format_time(polled_at), sightings)
        })
    }

    pub fn feed_status(&self, feed_url: &str) -> Result<Option<FeedStatus>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                concat!(feed_status_sql!("0::bigint"), " WHERE f.url = $1"),
            )?;
            let row = client.query_opt(&stmt, &[&feed_url])?;
            Ok(row.map(|r| feed_status_row(&r).1))
        })
    }

    pub fn feed_statuses(&self) -> Result<HashMap<String, FeedStatus>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                feed_status_sql!(
                    "(SELECT count(DISTINCT s.article_seq) FROM sources s
                      JOIN articles a ON a.seq = s.article_seq
                      WHERE s.feed_url = f.url AND a.purged_at IS NULL)"
                ),
            )?;
            Ok(client
                .query(&stmt, &[])?
                .iter()
                .map(feed_status_row)
                .collect())
        })
    }

    pub fn last_successes(&self) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        self.with_client(|client, _| {
            let rows = client.query(
                "SELECT url, name, last_success_at FROM feeds WHERE last_success_at IS NOT NULL",
                &[],
            )?;
            Ok(rows
                .iter()
                .filter_map(|r| {
                    let at = parse_time(r.get::<_, &str>(2))?;
                    Some((r.get(0), r.get(1), at))
                })
                .collect())
        })
    }

    pub fn due_feeds(
        &self,
        feed_urls: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT u FROM unnest($1::text[]) WITH ORDINALITY AS c (u, n)
                 WHERE NOT EXISTS (SELECT 1 FROM feeds f
                                   WHERE f.url = c.u AND f.next_attempt_at > $2)
                 ORDER BY n",
            )?;
            let rows = client.query(&stmt, &[&feed_urls, &format_time(now)])?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    pub fn known(
        &self,
        feed_url: &str,
        entry_id: &str,
        url: Option<&Url>,
    ) -> Result<Known, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                "SELECT s.entry_hash, a.purged_at IS NOT NULL, s.url
                 FROM sources s JOIN articles a ON a.seq = s.article_seq
                 WHERE s.feed_url = $1 AND s.entry_id = $2",
            )?;
            if let Some(row) = client.query_opt(&stmt, &[&feed_url, &entry_id])? {
                // A purged article stays purged, even when its entry changes.
                if row.get::<_, bool>(1) {
                    return Ok(Known::Url);
                }
                let old = row
                    .get::<_, Option<&str>>(2)
                    .and_then(|u| Url::parse(u).ok())
                    .and_then(|u| normalize_url(&u));
                return Ok(Known::Entry {
                    entry_hash: row.get(0),
                    link_changed: old != url.and_then(normalize_url),
                });
            }
            let Some(normalized) = url.and_then(normalize_url) else {
                return Ok(Known::New);
            };
            // Only articles of other feeds count (see the SQLite version).
            let stmt = prepared(
                cache,
                client,
                "SELECT 1 FROM article_keys k WHERE k.key = $1 AND NOT EXISTS
                     (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                      AND s.feed_url = $2)",
            )?;
            let found = client.query_opt(&stmt, &[&url_key(&normalized), &feed_url])?;
            Ok(if found.is_some() {
                Known::Url
            } else {
                Known::New
            })
        })
    }

    pub fn consumer_cursor(&self, consumer: &str) -> Result<i64, StoreError> {
        self.with_client(|client, _| {
            let row = client.query_opt(
                "SELECT cursor_seq FROM consumers WHERE name = $1",
                &[&consumer],
            )?;
            Ok(row.map_or(0, |r| r.get(0)))
        })
    }

    pub fn claim_consumer(&mut self, consumer: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            client.execute(
                "INSERT INTO consumers (name, cursor_seq, updated_at) VALUES ($1, 0, $2)
                 ON CONFLICT (name) DO UPDATE SET cursor_seq = consumers.cursor_seq",
                &[&consumer, &format_time(now)],
            )?;
            Ok(())
        })
    }

    pub fn advance_cursor(
        &mut self,
        consumer: &str,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            client.execute(
                "INSERT INTO consumers (name, cursor_seq, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO UPDATE SET
                     cursor_seq = GREATEST(consumers.cursor_seq, EXCLUDED.cursor_seq),
                     updated_at = EXCLUDED.updated_at",
                &[&consumer, &seq, &format_time(now)],
            )?;
            Ok(())
        })
    }

    /// See the SQLite version: one snapshot (REPEATABLE READ), oldest first,
    /// read [`EXPORT_BATCH`] articles per round trip.
    pub fn for_each_article<E>(
        &mut self,
        filter: &ExportFilter,
        mut each: impl FnMut(StoredArticle) -> Result<(), E>,
    ) -> Result<Result<i64, E>, StoreError> {
        let mut client = self.client.borrow_mut();
        let mut tx = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        let snapshot_max: i64 = tx.query_one(HIGHEST_POSITION, &[])?.get(0);
        let since = filter.since.map(format_time);
        let limit = filter.limit.map(|l| l.min(i64::MAX as u64) as i64);
        let portal = tx.bind(
            concat!(
                "SELECT a.seq, a.id, a.title, a.url, a.canonical_url, a.author, a.published,
                        a.updated, a.fetched_at, a.summary, a.content_html, a.content_text,
                        a.content_source, a.word_count, a.language, a.image, a.categories,
                        a.enclosures, a.position
                 FROM ",
                export_selection!(),
                " ORDER BY a.position, a.seq LIMIT $6"
            ),
            &[
                &filter.after_seq,
                &snapshot_max,
                &since,
                &filter.feed_urls,
                &filter.tags,
                &limit,
            ],
        )?;
        loop {
            let rows = tx.query_portal(&portal, EXPORT_BATCH)?;
            if rows.is_empty() {
                break;
            }
            let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
            for r in tx.query(
                "SELECT article_seq, tag FROM article_tags WHERE article_seq = ANY ($1)
                 ORDER BY article_seq, tag",
                &[&seqs],
            )? {
                tags.entry(r.get(0)).or_default().push(r.get(1));
            }
            let mut sources: HashMap<i64, Vec<StoredSource>> = HashMap::new();
            for r in tx.query(
                "SELECT s.article_seq, COALESCE(f.name, s.feed_url), s.feed_url, s.entry_id, s.url
                 FROM sources s LEFT JOIN feeds f ON f.url = s.feed_url
                 WHERE s.article_seq = ANY ($1) ORDER BY s.source_seq",
                &[&seqs],
            )? {
                sources.entry(r.get(0)).or_default().push(StoredSource {
                    feed: r.get(1),
                    // Stored as configured; exported without credentials.
                    feed_url: crate::redact::url_text(r.get(2)),
                    entry_id: r.get(3),
                    url: r.get(4),
                });
            }
            let done = rows.len() < EXPORT_BATCH as usize;
            for r in rows {
                let seq: i64 = r.get(0);
                let article = StoredArticle {
                    seq,
                    position: r.get(18),
                    id: r.get(1),
                    title: r.get(2),
                    url: r.get(3),
                    canonical_url: r.get(4),
                    author: r.get(5),
                    published: r.get(6),
                    updated: r.get(7),
                    fetched_at: r.get(8),
                    summary: r.get(9),
                    content_html: r.get(10),
                    content_text: r.get(11),
                    content_markdown: None,
                    content_source: r.get(12),
                    word_count: r
                        .get::<_, Option<i64>>(13)
                        .and_then(|n| u32::try_from(n).ok()),
                    language: r.get(14),
                    image: r.get(15),
                    categories: super::read::json_list(r.get(16)),
                    enclosures: super::read::json_list(r.get(17)),
                    tags: tags.remove(&seq).unwrap_or_default(),
                    sources: sources.remove(&seq).unwrap_or_default(),
                };
                if let Err(e) = each(article) {
                    return Ok(Err(e));
                }
            }
            if done {
                break;
            }
        }
        tx.commit()?;
        Ok(Ok(snapshot_max))
    }
}

/// `gleaner_schema.version`, or `None` before gleaner set the database up.
fn schema_version(client: &mut Client) -> Result<Option<i64>, StoreError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('gleaner_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client.query_opt("SELECT version FROM gleaner_schema", &[])?;
    Ok(Some(row.map_or(0, |r| r.get(0))))
}

/// Whether the tables of instances sharing the work exist (they are made
/// after the numbered migrations, see [`migrate_locked`]).
fn has_sharing_tables(client: &mut Client) -> Result<bool, StoreError> {
    Ok(client
        .query_one(
            "SELECT to_regclass('gleaner_leases') IS NOT NULL
                AND to_regclass('gleaner_hosts') IS NOT NULL",
            &[],
        )?
        .get(0))
}

fn migrate(client: &mut Client, shown: &Path) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    if schema_version(client)?.is_some_and(|v| v == supported) && has_sharing_tables(client)? {
        return Ok(());
    }
    // Instances starting together take turns; the later ones find it done.
    client.execute(
        "SELECT pg_advisory_lock(hashtextextended('gleaner migrate', 0))",
        &[],
    )?;
    let result = migrate_locked(client, shown, supported);
    let unlocked = client.execute(
        "SELECT pg_advisory_unlock(hashtextextended('gleaner migrate', 0))",
        &[],
    );
    result?;
    unlocked?;
    Ok(())
}

fn migrate_locked(client: &mut Client, shown: &Path, supported: i64) -> Result<(), StoreError> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS gleaner_schema (
             one     BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
             version BIGINT NOT NULL
         );
         INSERT INTO gleaner_schema (version) VALUES (0) ON CONFLICT DO NOTHING;",
    )?;
    let version = schema_version(client)?.unwrap_or(0);
    if version > supported {
        return Err(StoreError::TooNew {
            path: shown.to_owned(),
            found: version,
            supported,
        });
    }
    let start = usize::try_from(version).unwrap_or(usize::MAX);
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(start) {
        let mut tx = client.transaction()?;
        tx.batch_execute(sql)?;
        tx.execute(
            "UPDATE gleaner_schema SET version = $1",
            &[&(index as i64 + 1)],
        )?;
        tx.commit()?;
    }
    // How instances share the work: PostgreSQL's alone, outside the
    // numbered migrations (which stay SQLite's, one for one).
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS gleaner_leases (
             feed_url   TEXT COLLATE \"C\" PRIMARY KEY,
             holder     TEXT,
             claimed_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity',
             expires_at TIMESTAMPTZ NOT NULL DEFAULT '-infinity'
         );
         CREATE TABLE IF NOT EXISTS gleaner_hosts (
             host       TEXT COLLATE \"C\" PRIMARY KEY,
             next_start TIMESTAMPTZ NOT NULL
         );",
    )?;
    Ok(())
}

/// Statements prepared once per connection, by their text.
type Prepared = HashMap<&'static str, Statement>;

/// `sql` prepared on `client`'s connection, once.
fn prepared(
    cache: &mut Prepared,
    client: &mut impl GenericClient,
    sql: &'static str,
) -> Result<Statement, StoreError> {
    if let Some(stmt) = cache.get(sql) {
        return Ok(stmt.clone());
    }
    let stmt = client.prepare(sql)?;
    cache.insert(sql, stmt.clone());
    Ok(stmt)
}

/// A write transaction with the connection's prepared statements.
struct PgTx<'c, 'p> {
    tx: Transaction<'c>,
    cache: &'p mut Prepared,
}

impl PgTx<'_, '_> {
    fn run(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let stmt = prepared(self.cache, &mut self.tx, sql)?;
        Ok(self.tx.execute(&stmt, params)?)
    }

    fn row(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, StoreError> {
        let stmt = prepared(self.cache, &mut self.tx, sql)?;
        Ok(self.tx.query_opt(&stmt, params)?)
    }

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let stmt = prepared(self.cache, &mut self.tx, sql)?;
        Ok(self.tx.query(&stmt, params)?)
    }
}

fn register_feed(tx: &mut PgTx<'_, '_>, feed_url: &str, feed_name: &str) -> Result<(), StoreError> {
    tx.run(
        "INSERT INTO feeds (url, name) VALUES ($1, $2)
         ON CONFLICT (url) DO UPDATE SET name = EXCLUDED.name",
        &[&feed_url, &feed_name],
    )?;
    Ok(())
}

fn record_feed_state(
    tx: &mut PgTx<'_, '_>,
    poll: &PollRecord,
    now: &str,
) -> Result<(), StoreError> {
    register_feed(tx, &poll.feed_url, &poll.feed_name)?;
    match &poll.outcome {
        FeedOutcome::Fetched {
            etag,
            last_modified,
            moved_to,
            repairs,
            ttl,
            filtered,
            interstitials,
        } => {
            let repairs = repairs
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(" ");
            let ttl = ttl.map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX));
            tx.run(
                "UPDATE feeds SET etag = $2, last_modified = $3, last_poll_at = $4,
                     last_success_at = $4, state = 'ok', last_error = NULL,
                     consecutive_errors = 0, next_attempt_at = NULL, repairs = $5,
                     moved_to = $6, ttl_secs = $7, filtered = $8, interstitials = $9
                 WHERE url = $1",
                &[
                    &poll.feed_url,
                    etag,
                    last_modified,
                    &now,
                    &repairs,
                    moved_to,
                    &ttl,
                    &i64::from(*filtered),
                    &interstitials.to_column(),
                ],
            )?
        }
        FeedOutcome::NotModified => tx.run(
            "UPDATE feeds SET last_poll_at = $2, last_success_at = $2, state = 'not_modified',
                 last_error = NULL, consecutive_errors = 0, next_attempt_at = NULL
             WHERE url = $1",
            &[&poll.feed_url, &now],
        )?,
        FeedOutcome::Failed {
            state,
            error,
            next_attempt,
        } => tx.run(
            "UPDATE feeds SET last_poll_at = $2, state = $3, last_error = $4,
                 consecutive_errors = consecutive_errors
                     + CASE WHEN $3 <> 'rate_limited' THEN 1 ELSE 0 END,
                 next_attempt_at = $5
             WHERE url = $1",
            &[
                &poll.feed_url,
                &now,
                &state.as_str(),
                error,
                &next_attempt.map(format_time),
            ],
        )?,
    };
    Ok(())
}

fn url_text(url: &Option<Url>) -> Option<&str> {
    url.as_ref().map(Url::as_str)
}

fn content_source(a: &ArticleRecord) -> &'static str {
    a.content_source.unwrap_or(ContentSource::None).as_str()
}

/// The columns an article record sets, in the order the INSERT and the
/// UPDATE of [`dedup::PollTx`] list them.
struct Columns<'a> {
    a: &'a ArticleRecord,
    url: Option<&'a str>,
    canonical_url: Option<&'a str>,
    image: Option<&'a str>,
    content_source: &'static str,
    published: Option<String>,
    updated: Option<String>,
    word_count: Option<i64>,
    categories: Option<String>,
    enclosures: Option<String>,
}

impl<'a> Columns<'a> {
    fn of(a: &'a ArticleRecord) -> Columns<'a> {
        Columns {
            a,
            url: url_text(&a.url),
            canonical_url: url_text(&a.canonical_url),
            image: url_text(&a.image),
            content_source: content_source(a),
            published: a.published.map(format_time),
            updated: a.updated.map(format_time),
            word_count: a.word_count.map(i64::from),
            categories: super::write::json_list(&a.categories),
            enclosures: super::write::json_list(&a.enclosures),
        }
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 15] {
        let a = self.a;
        [
            &a.title,
            &self.url,
            &self.canonical_url,
            &a.author,
            &self.published,
            &self.updated,
            &a.summary,
            &a.content_html,
            &a.content_text,
            &self.content_source,
            &self.word_count,
            &a.language,
            &self.image,
            &self.categories,
            &self.enclosures,
        ]
    }
}

/// PostgreSQL's statements for the rules in [`dedup`].
impl dedup::PollTx for PgTx<'_, '_> {
    fn article_under(&mut self, key: &str) -> Result<Option<i64>, StoreError> {
        let row = self.row(
            "SELECT article_seq FROM article_keys WHERE key = $1",
            &[&key],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn find_article_of(
        &mut self,
        keys: &[&str],
        feed_url: &str,
        entry_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = self.row(
            "SELECT min(k.article_seq) FROM article_keys k WHERE k.key = ANY ($1) AND NOT EXISTS
                 (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                  AND s.feed_url = $2 AND s.entry_id <> $3)",
            &[&keys, &feed_url, &entry_id],
        )?;
        Ok(row.and_then(|r| r.get(0)))
    }

    fn is_purged(&mut self, seq: i64) -> Result<bool, StoreError> {
        Ok(self
            .row(
                "SELECT 1 FROM articles WHERE seq = $1 AND purged_at IS NOT NULL",
                &[&seq],
            )?
            .is_some())
    }

    fn next_position(&mut self) -> Result<i64, StoreError> {
        // Under the `gleaner write` lock, like every seq the sequence gives.
        let row = self.row(
            "SELECT nextval(pg_get_serial_sequence('articles', 'seq'))",
            &[],
        )?;
        row.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Inconsistent("nextval gave no row".into()))
    }

    fn add_source(
        &mut self,
        seq: i64,
        position: i64,
        feed_url: &str,
        sighting: &Sighting,
        now: &str,
    ) -> Result<bool, StoreError> {
        // xmax = 0 only for a row this statement inserted.
        let row = self.row(
            "INSERT INTO sources (feed_url, entry_id, article_seq, url, entry_hash, first_seen,
                 pos)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (feed_url, entry_id) DO UPDATE SET
                 url = EXCLUDED.url, entry_hash = EXCLUDED.entry_hash
             RETURNING xmax = 0",
            &[
                &feed_url,
                &sighting.entry_id,
                &seq,
                &url_text(&sighting.url),
                &sighting.entry_hash,
                &now,
                &position,
            ],
        )?;
        Ok(row.is_some_and(|r| r.get(0)))
    }

    fn add_keys(&mut self, seq: i64, keys: &[&str]) -> Result<(), StoreError> {
        self.run(
            "INSERT INTO article_keys (key, article_seq)
             SELECT k, $2 FROM unnest($1::text[]) AS k ON CONFLICT DO NOTHING",
            &[&keys, &seq],
        )?;
        Ok(())
    }

    fn add_tags(&mut self, seq: i64, position: i64, tags: &[String]) -> Result<(), StoreError> {
        if tags.is_empty() {
            return Ok(());
        }
        self.run(
            "INSERT INTO article_tags (article_seq, tag, pos)
             SELECT $2, t, $3 FROM unnest($1::text[]) AS t ON CONFLICT DO NOTHING",
            &[&tags, &seq, &position],
        )?;
        Ok(())
    }

    fn insert_article(
        &mut self,
        id: &str,
        now: &str,
        a: &ArticleRecord,
    ) -> Result<i64, StoreError> {
        let row = self.row(
            "INSERT INTO articles (id, fetched_at, title, url, canonical_url, author, published,
                 updated, summary, content_html, content_text, content_source, word_count,
                 language, image, categories, enclosures)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             RETURNING seq",
            &[
                &[&id as &(dyn ToSql + Sync), &now],
                &Columns::of(a).params()[..],
            ]
            .concat(),
        )?;
        row.map(|r| r.get(0))
            .ok_or_else(|| StoreError::Inconsistent("INSERT … RETURNING gave no row".into()))
    }

    fn update_article(&mut self, seq: i64, a: &ArticleRecord) -> Result<(), StoreError> {
        self.run(
            "UPDATE articles SET title = $2, url = $3, canonical_url = $4, author = $5,
                 published = COALESCE($6, published), updated = $7, summary = $8,
                 content_html = $9, content_text = $10, content_source = $11,
                 word_count = $12, language = $13, image = $14, categories = $15,
                 enclosures = $16
             WHERE seq = $1",
            &[&[&seq as &(dyn ToSql + Sync)], &Columns::of(a).params()[..]].concat(),
        )?;
        Ok(())
    }

    fn refresh_article(&mut self, seq: i64, a: &ArticleRecord) -> Result<bool, StoreError> {
        self.run(
            "UPDATE articles SET title = COALESCE($2, title), url = $3,
                 author = COALESCE($4, author), published = COALESCE($5, published),
                 updated = $6, summary = $7, categories = $8, enclosures = $9
             WHERE seq = $1",
            &[
                &seq,
                &a.title,
                &url_text(&a.url),
                &a.author,
                &a.published.map(format_time),
                &a.updated.map(format_time),
                &a.summary,
                &super::write::json_list(&a.categories),
                &super::write::json_list(&a.enclosures),
            ],
        )?;
        let took_body = self.run(
            "UPDATE articles SET content_html = $2, content_text = $3, content_source = $4,
                 word_count = $5
             WHERE seq = $1 AND content_source <> 'article'",
            &[
                &seq,
                &a.content_html,
                &a.content_text,
                &content_source(a),
                &a.word_count.map(i64::from),
            ],
        )?;
        Ok(took_body > 0)
    }

    fn merge_article(&mut self, seq: i64, a: &ArticleRecord) -> Result<(), StoreError> {
        self.run(
            "UPDATE articles SET
                 title = COALESCE(title, $2), canonical_url = COALESCE(canonical_url, $3),
                 author = COALESCE(author, $4), published = COALESCE(published, $5),
                 summary = COALESCE(summary, $6), language = COALESCE(language, $7),
                 image = COALESCE(image, $8)
             WHERE seq = $1",
            &[
                &seq,
                &a.title,
                &url_text(&a.canonical_url),
                &a.author,
                &a.published.map(format_time),
                &a.summary,
                &a.language,
                &url_text(&a.image),
            ],
        )?;
        if a.content_source == Some(ContentSource::Article) {
            self.run(
                "UPDATE articles SET content_html = $2, content_text = $3,
                     content_source = 'article', word_count = $4
                 WHERE seq = $1 AND content_source <> 'article'",
                &[
                    &seq,
                    &a.content_html,
                    &a.content_text,
                    &a.word_count.map(i64::from),
                ],
            )?;
        }
        Ok(())
    }

    fn save_page(
        &mut self,
        seq: i64,
        article: &ArticleRecord,
        now: &str,
        replace: bool,
    ) -> Result<(), StoreError> {
        let Some(page) = &article.page else {
            return Ok(());
        };
        let params: &[&(dyn ToSql + Sync)] = &[
            &seq,
            &page.url.as_str(),
            &page.content_type,
            &now,
            &page.body_zstd,
        ];
        if replace {
            self.run(
                "INSERT INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (article_seq) DO UPDATE SET url = EXCLUDED.url,
                     content_type = EXCLUDED.content_type, fetched_at = EXCLUDED.fetched_at,
                     body_zstd = EXCLUDED.body_zstd",
                params,
            )?;
        } else {
            self.run(
                "INSERT INTO pages (article_seq, url, content_type, fetched_at, body_zstd)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                params,
            )?;
        }
        Ok(())
    }

    fn publications(&mut self, feed_url: &str, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = self.rows(
            "SELECT max(coalesce(a.published, s.first_seen))
             FROM sources s JOIN articles a ON a.seq = s.article_seq
             WHERE s.feed_url = $1
             GROUP BY a.seq ORDER BY 1 DESC LIMIT $2",
            &[&feed_url, &limit],
        )?;
        Ok(rows.iter().filter_map(|r| r.get(0)).collect())
    }

    fn feed_cadence(&mut self, feed_url: &str) -> Result<(Option<u64>, Option<u64>), StoreError> {
        let row = self.row(
            "SELECT ttl_secs, poll_interval_secs FROM feeds WHERE url = $1",
            &[&feed_url],
        )?;
        let secs = |r: &Row, i| {
            r.get::<_, Option<i64>>(i)
                .and_then(|s| u64::try_from(s).ok())
        };
        Ok(row.map_or((None, None), |r| (secs(&r, 0), secs(&r, 1))))
    }

    fn set_next_poll(
        &mut self,
        feed_url: &str,
        interval_secs: u64,
        next: &str,
    ) -> Result<(), StoreError> {
        let interval = i64::try_from(interval_secs).unwrap_or(i64::MAX);
        self.run(
            "UPDATE feeds SET poll_interval_secs = $2, next_attempt_at = $3 WHERE url = $1",
            &[&feed_url, &interval, &next],
        )?;
        Ok(())
    }
}

fn feed_status_row(r: &Row) -> (String, FeedStatus) {
    let time = |i: usize| r.get::<_, Option<&str>>(i).and_then(parse_time);
    let count = |i: usize| r.get::<_, i64>(i);
    (
        r.get(0),
        FeedStatus {
            name: r.get(1),
            etag: r.get(2),
            last_modified: r.get(3),
            last_poll_at: time(4),
            last_success_at: time(5),
            state: r.get(6),
            last_error: r.get(7),
            consecutive_errors: u32::try_from(count(8)).unwrap_or(u32::MAX),
            next_attempt_at: time(9),
            articles: u64::try_from(count(10)).unwrap_or(0),
            repairs: r
                .get::<_, &str>(11)
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            moved_to: r.get(12),
            poll_interval: r
                .get::<_, Option<i64>>(13)
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
            filtered: u32::try_from(count(14)).unwrap_or(u32::MAX),
            interstitials: Tally::from_column(r.get::<_, &str>(15)),
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sqlite_migration_has_its_postgresql_twin() {
        // A version number means one schema on both backends: a migration
        // added to SQLite's list needs its PostgreSQL form here.
        assert_eq!(super::MIGRATIONS.len(), super::super::MIGRATIONS.len());
    }
}
