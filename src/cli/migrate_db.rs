//! `gleaner migrate-db`: copy the SQLite database into PostgreSQL.

use anyhow::Context;

use super::{UsageError, outln};
use crate::config::Config;
use crate::redact;
use crate::store::copy::Outcome;

/// `gleaner migrate-db --to URL`.
pub(super) fn migrate_db(config: &Config, to: &str) -> anyhow::Result<()> {
    let Some(from) = config.storage.database.sqlite_path() else {
        anyhow::bail!(
            "[storage] database is already PostgreSQL ({}): migrate-db copies a SQLite database",
            config.storage.database.display()
        );
    };
    if !crate::config::database::is_postgres_url(to) {
        return Err(UsageError(format!(
            "--to {:?} is not a postgres:// or postgresql:// URL",
            redact::url_text(to)
        ))
        .into());
    }
    let target = crate::config::database::check_postgres_url(to, None)
        .map_err(|message| UsageError(format!("--to: {message}")))?
        .given_in("--to");
    let mut started = false;
    let (counts, outcome) = crate::store::copy::sqlite_to_postgres(from, &target, |table, rows| {
        started = true;
        tracing::info!(table, rows, "copying");
    })
    .with_context(|| {
        let next = if started {
            "run it again to go on where it stopped"
        } else {
            "nothing was copied"
        };
        format!(
            "copying {} into {} ({next})",
            from.display(),
            target.shown()
        )
    })?;
    if outcome == Outcome::UpToDate {
        outln!(
            "already copied {} into {}: nothing changed since",
            from.display(),
            target.shown()
        )?;
        return Ok(());
    }
    for count in &counts {
        outln!(
            "{}: {}",
            count.table,
            crate::plural::count(count.postgres as u64, "row", "rows")
        )?;
    }
    match outcome {
        Outcome::Updated(rows) => outln!(
            "brought the copy in {} up to date with {}: {} changed since the last copy",
            target.shown(),
            from.display(),
            crate::plural::count(rows, "row", "rows")
        )?,
        _ => outln!(
            "copied {} into {}; point [storage] database at it",
            from.display(),
            target.shown()
        )?,
    }
    Ok(())
}
