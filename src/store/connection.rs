//! A database connection that went away, told apart from a database that
//! refused: the call that finds a PostgreSQL connection ended fails, and
//! the next one connects again (`postgres::Postgres::with_client`), so what
//! can wait (a follower, a cursor move after a taken batch) tries again.

use std::time::Duration;

use chrono::Utc;

use super::consumer_lock::ConsumerLock;
use super::{Store, StoreError};

/// How many times [`Store::move_cursor`] tries a cursor move whose
/// connection was lost, and the first wait between tries (doubling).
const MOVE_TRIES: u32 = 5;
const MOVE_FIRST_WAIT: Duration = Duration::from_millis(200);

impl StoreError {
    /// Whether the error says the connection to the database is gone or
    /// cannot be had just now (the server ended it, restarts, is not
    /// reachable), rather than that the database refused the statement:
    /// the same call on a new connection may succeed. SQLite's file has no
    /// connection to lose: never.
    pub fn is_connection_lost(&self) -> bool {
        let lost = |e: &::postgres::Error| {
            if e.is_closed() {
                return true;
            }
            match e.code() {
                // Connection exceptions, the server shutting down or
                // starting up (administrator, crash, not yet accepting),
                // and all its connection slots taken for now.
                Some(state) => {
                    let code = state.code();
                    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
                }
                // No answer from the server: the socket broke.
                None => std::error::Error::source(e)
                    .is_some_and(|source| source.downcast_ref::<std::io::Error>().is_some()),
            }
        };
        match self {
            StoreError::Postgres(e) => lost(e),
            // Refused by the server (a password, a missing database) is
            // no outage; no server to answer is.
            StoreError::PostgresOpen { source, .. } => {
                source.as_db_error().is_none() || lost(source)
            }
            _ => false,
        }
    }
}

impl Store {
    /// [`super::backend::Cursors::advance_cursor`] to `seq`, tried again
    /// (a few times, within a few seconds) while the connection is lost:
    /// the move is fenced by the lock's token and never goes back, so
    /// trying it again is safe, and a taken batch is not given twice
    /// because a connection ended between its send and its cursor.
    pub fn move_cursor(&mut self, lock: &ConsumerLock, seq: i64) -> Result<(), StoreError> {
        let mut wait = MOVE_FIRST_WAIT;
        let mut tries = 1;
        loop {
            match self.advance_cursor(lock, seq, Utc::now()) {
                Err(error) if error.is_connection_lost() && tries < MOVE_TRIES => {
                    tracing::warn!(
                        "consumer {:?}: the cursor could not be stored ({error}); trying again in {} ms",
                        lock.consumer(),
                        wait.as_millis()
                    );
                    std::thread::sleep(wait);
                    wait *= 2;
                    tries += 1;
                }
                result => return result,
            }
        }
    }
}
