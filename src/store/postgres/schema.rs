//! PostgreSQL's migrations: the numbered ones of [`crate::store::schema`],
//! run once under an advisory lock, and the tables only instances sharing a
//! database need.

use std::path::Path;

use postgres::Client;

use crate::store::StoreError;
use crate::store::schema::MIGRATIONS;
use crate::store::sql::Dialect;

/// `gleaner_schema.version`, or `None` before gleaner set the database up.
pub(super) fn schema_version(client: &mut Client) -> Result<Option<i64>, StoreError> {
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

pub(super) fn migrate(client: &mut Client, shown: &Path) -> Result<(), StoreError> {
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
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(start) {
        let mut tx = client.transaction()?;
        tx.batch_execute(&migration.sql(Dialect::Postgres))?;
        tx.execute(
            "UPDATE gleaner_schema SET version = $1",
            &[&(index as i64 + 1)],
        )?;
        tx.commit()?;
    }
    // Articles stored before gleaner indexed them itself (or by a copy).
    let indexed = super::search::index_pending(client)?;
    if indexed > 0 {
        tracing::info!(articles = indexed, "indexed for search");
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
