//! A consumer's claim, cursor move and release, fenced by its
//! `claim_token` (the rule is `store::consumer_lock`'s), the same SQL on
//! both backends. Lease times are milliseconds since 1970 in the
//! database's clock: PostgreSQL's server clock, whichever instance asks.

use std::time::Duration;

use crate::store::StoreError;
use crate::store::sql::{Conn, Dialect};

/// The claim, with `$now` the dialect's clock in milliseconds: a new
/// consumer's row, or the next token of an existing one, unless (without
/// `?5`, the force) another holder's lease is still running. Returns the
/// token when the claim was granted, no row when it was not.
macro_rules! claim_sql {
    ($now:expr) => {
        concat!(
            "INSERT INTO consumers (name, cursor_seq, updated_at, claim_token, claim_holder,
                                    claim_until_ms)
             VALUES (?1, 0, ?2, 1, ?3, ",
            $now,
            " + ?4)
             ON CONFLICT (name) DO UPDATE SET claim_token = consumers.claim_token + 1,
                 claim_holder = excluded.claim_holder, claim_until_ms = excluded.claim_until_ms
             WHERE CAST(?5 AS BIGINT) = 1 OR consumers.claim_holder IS NULL
                OR consumers.claim_until_ms < ",
            $now,
            "
             RETURNING claim_token"
        )
    };
}

/// The renewal, with `$now` the dialect's clock in milliseconds.
macro_rules! renew_sql {
    ($now:expr) => {
        concat!(
            "UPDATE consumers SET claim_until_ms = ",
            $now,
            " + ?3 WHERE name = ?1 AND claim_token = ?2"
        )
    };
}

/// Each dialect's clock, in milliseconds since 1970 (PostgreSQL's: the
/// time of the statement, not of its transaction's start).
macro_rules! by_dialect {
    ($conn:expr, $sql:ident) => {
        match $conn.dialect() {
            Dialect::Sqlite => $sql!("CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)"),
            Dialect::Postgres => $sql!("(extract(epoch FROM clock_timestamp()) * 1000)::bigint"),
        }
    };
}

/// A lease as milliseconds.
fn millis(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2)
}

/// Claims `consumer` for `holder` for `lease`: its new token, or `None`
/// while another holder's lease runs. `force`: the backend's own lock
/// already keeps every other holder out (SQLite's file lock), so whatever
/// the row says is a holder that is gone.
pub(in crate::store) fn claim(
    conn: &mut dyn Conn,
    consumer: &str,
    holder: &str,
    lease: Duration,
    force: bool,
    now: &str,
) -> Result<Option<i64>, StoreError> {
    let row = conn.row(
        by_dialect!(conn, claim_sql),
        &[
            consumer.into(),
            now.into(),
            holder.into(),
            millis(lease).into(),
            i64::from(force).into(),
        ],
    )?;
    row.map(|r| r.get("claim_token")).transpose()
}

/// Extends `consumer`'s lease to `lease` from now while `token` is still
/// its claim's; `false` when another claim has taken it since.
pub(in crate::store) fn renew(
    conn: &mut dyn Conn,
    consumer: &str,
    token: i64,
    lease: Duration,
) -> Result<bool, StoreError> {
    let renewed = conn.run(
        by_dialect!(conn, renew_sql),
        &[consumer.into(), token.into(), millis(lease).into()],
    )?;
    Ok(renewed == 1)
}

/// Moves `consumer`'s cursor forward to `seq` (never back) while `token`
/// is still its claim's; `false` when another claim has taken it since.
pub(in crate::store) fn advance(
    conn: &mut dyn Conn,
    consumer: &str,
    token: i64,
    seq: i64,
    now: &str,
) -> Result<bool, StoreError> {
    let moved = conn.run(
        "UPDATE consumers SET
             cursor_seq = CASE WHEN ?2 > cursor_seq THEN ?2 ELSE cursor_seq END,
             updated_at = ?3
         WHERE name = ?1 AND claim_token = ?4",
        &[consumer.into(), seq.into(), now.into(), token.into()],
    )?;
    Ok(moved == 1)
}

/// Gives back `consumer`'s lease if `token` is still its claim's, so the
/// next claimer need not wait for it to run out.
pub(in crate::store) fn release(
    conn: &mut dyn Conn,
    consumer: &str,
    token: i64,
) -> Result<(), StoreError> {
    conn.run(
        "UPDATE consumers SET claim_holder = NULL, claim_until_ms = NULL
         WHERE name = ?1 AND claim_token = ?2",
        &[consumer.into(), token.into()],
    )?;
    Ok(())
}
