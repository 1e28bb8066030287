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
//! - **One export per consumer at a time** across machines: the consumer's
//!   row is a lease in the server's clock, renewed by its holder on a
//!   connection of its own (connected again when ended), and every cursor
//!   move names the claim's token (see `follow`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};

use crate::config::database::{PostgresTarget, Tls};

use super::backend::Backend;
use super::sql::{
    BATCH, Cell, Conn, Dialect, EachBatch, Query, Snapshot, SqlBackend, Value, dollars,
};
use super::{Access, StoreError};

// The interface, one concern per file (each an `impl` of one of its traits).
mod follow;
mod hosts;
mod schema;
pub(super) mod search;
mod tls;
mod waits;

use waits::Waits;

/// How long connecting may take before the command fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open connection to a migrated PostgreSQL database.
pub struct Postgres {
    client: RefCell<Client>,
    /// Statements prepared on this connection, by their text.
    statements: RefCell<Prepared>,
    target: PostgresTarget,
    /// The URL as shown, as a path for the messages that name "the database".
    shown: PathBuf,
    /// How long its waits may last (from `[storage] lease_secs`).
    waits: Waits,
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
    let waits = Waits::of(target.lease());
    waits.client(&mut config);
    let mut client = open_connection(target, &config, open_error)?;
    waits.server(&mut client)?;
    Ok(client)
}

/// Opens the connection `config` describes, over TLS as `target` says.
fn open_connection(
    target: &PostgresTarget,
    config: &postgres::Config,
    open_error: impl Fn(postgres::Error) -> StoreError,
) -> Result<Client, StoreError> {
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
        if access != Access::Create && schema::schema_version(&mut client)?.is_none() {
            return Err(StoreError::Missing { path: shown });
        }
        schema::migrate(&mut client, &shown)?;
        let waits = Waits::of(target.lease());
        waits.store(&mut client)?;
        Ok(Postgres {
            client: RefCell::new(client),
            statements: RefCell::default(),
            target: target.clone(),
            shown,
            waits,
        })
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
            self.waits.store(&mut client)?;
            statements.clear();
            tracing::info!(database = %self.shown.display(), "connected to the PostgreSQL database again");
        }
        f(&mut client, &mut statements)
    }
}

impl Backend for Postgres {
    fn path(&self) -> &Path {
        &self.shown
    }

    /// A plain `VACUUM (ANALYZE)` of the tables purges leave dead rows in,
    /// so new articles reuse the space (the files shrink only where their
    /// end is free). It runs beside the other instances; `VACUUM FULL`,
    /// which gives all the space back, would lock every one of them out
    /// until it is done, so it is left to the operator.
    fn vacuum(&mut self) -> Result<(), StoreError> {
        self.with_client(|client, _| {
            client.batch_execute("VACUUM (ANALYZE) articles, pages")?;
            Ok(())
        })
    }
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
    let stmt = client.prepare(&dollars(sql))?;
    cache.insert(sql, stmt.clone());
    Ok(stmt)
}

impl SqlBackend for Postgres {
    fn read<T>(
        &self,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_client(|client, cache| f(&mut Session { client, cache }))
    }

    /// Holds the `gleaner write` lock if `serialized`: what stores
    /// articles, sources or keys must (see the module's invariants); what
    /// only changes the state of a feed this instance holds the lease of
    /// need not, so that instances' idle polls do not wait on each other.
    fn write<T>(
        &mut self,
        serialized: bool,
        f: impl FnOnce(&mut dyn Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let waits = self.waits;
        self.with_client(|client, cache| {
            let mut tx = client.transaction()?;
            if serialized {
                tx.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended('gleaner write', 0))",
                    &[],
                )?;
            }
            committed(tx, cache, |s| {
                let value = f(s)?;
                // Articles written here are indexed before they are seen.
                search::index_pending(&mut *s.client)?;
                Ok(value)
            })
        })
        .map_err(|e| waits.explain(e))
    }

    fn snapshot<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Snapshot) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_client(|client, cache| {
            let mut tx = client
                .build_transaction()
                .isolation_level(postgres::IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            waits::unbounded_idle(&mut tx)?;
            committed(tx, cache, |s| f(s))
        })
    }
}

/// Runs `f` in `tx` (with the connection's prepared statements), committed
/// when it succeeds.
fn committed<T>(
    mut tx: Transaction<'_>,
    cache: &mut Prepared,
    f: impl FnOnce(&mut Session<'_, Transaction<'_>>) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let value = f(&mut Session {
        client: &mut tx,
        cache,
    })?;
    tx.commit()?;
    Ok(value)
}

/// A connection or a transaction, with the connection's prepared
/// statements, running the shared statements.
struct Session<'a, C> {
    client: &'a mut C,
    cache: &'a mut Prepared,
}

impl<C: GenericClient> Conn for Session<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn run(&mut self, sql: &'static str, params: &[Value<'_>]) -> Result<u64, StoreError> {
        let stmt = prepared(self.cache, self.client, sql)?;
        let params: Vec<_> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(self.client.execute(&stmt, &params)?)
    }

    fn rows(
        &mut self,
        sql: &'static str,
        params: &[Value<'_>],
    ) -> Result<Vec<super::sql::Row>, StoreError> {
        let stmt = prepared(self.cache, self.client, sql)?;
        let params: Vec<_> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        self.client
            .query(&stmt, &params)?
            .iter()
            .map(cells)
            .collect()
    }
}

impl Snapshot for Session<'_, Transaction<'_>> {
    /// Through a portal.
    fn batches(
        &mut self,
        (sql, params): Query<'_>,
        each: &mut EachBatch<'_>,
    ) -> Result<(), StoreError> {
        let stmt = prepared(self.cache, self.client, sql)?;
        let params: Vec<_> = params
            .iter()
            .map(|v| v as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let portal = self.client.bind(&stmt, &params)?;
        loop {
            let rows = self.client.query_portal(&portal, BATCH as i32)?;
            let last = rows.len() < BATCH;
            let batch = rows.iter().map(cells).collect::<Result<Vec<_>, _>>()?;
            if batch.is_empty() || each(self, batch)?.is_break() || last {
                return Ok(());
            }
        }
    }
}

/// A row's columns by name, each as the [`Cell`] its type reads as.
fn cells(row: &Row) -> Result<super::sql::Row, StoreError> {
    use postgres::types::Type;
    let mut cells = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let cell = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)?.map(Cell::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)?
                .map(|n| Cell::Int(n.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)?
                .map(|b| Cell::Int(b.into()))
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)?.map(Cell::Real)
        } else if *ty == Type::BYTEA {
            row.try_get::<_, Option<Vec<u8>>>(i)?.map(Cell::Blob)
        } else {
            row.try_get::<_, Option<String>>(i)?.map(Cell::Text)
        };
        cells.push((column.name().to_owned(), cell.unwrap_or(Cell::Null)));
    }
    Ok(super::sql::Row { cells })
}
