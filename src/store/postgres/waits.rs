//! Bounded waits: every connection gleaner opens to PostgreSQL gives up on
//! a silent peer, and the store's connection on a lock or a stalled
//! transaction, within a third of `[storage] lease_secs`, so an instance
//! that stalls (a paused VM, SIGSTOP) or is cut off (a partition) loses its
//! place within its lease instead of holding the others up.
//!
//! - `idle_in_transaction_session_timeout`: the server ends the session of
//!   an instance that stopped in the middle of a transaction (holding the
//!   `gleaner write` lock, or a feed's lease row), which frees its locks.
//! - `lock_timeout`: a write that waits longer for a lock fails with
//!   [`StoreError::LockTimeout`] (nothing of it written) and is tried again
//!   by the poll, so the instance's lease renewals, which queue behind it
//!   on the same connection, are held up by at most that much.
//! - TCP keepalives, both ways: the client notices a server it can no
//!   longer reach, the server a client (and frees its session's locks, a
//!   host slot or a consumer's) instead of after the system's two hours.
//!
//! The store's connection sets the first two after migrating (a migration
//! waits for another instance's as long as it takes) and keeps them off
//! for an export's snapshot, which may sit idle while its reader is slow.

use std::time::Duration;

use postgres::{Client, Config};

use crate::store::StoreError;

/// Keepalive probes sent before a silent peer is given up.
const KEEPALIVE_PROBES: u32 = 3;

/// The waits of the connections of instances whose leases run `lease`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Waits {
    /// `lock_timeout` and `idle_in_transaction_session_timeout`.
    stall: Duration,
    /// Silence before the first keepalive probe.
    idle: Duration,
    /// Between probes.
    interval: Duration,
}

impl Waits {
    /// A third of the lease for a stall; the keepalives give a silent
    /// peer up after about the same (a sixth, then three probes a
    /// twelfth apart). Never below a second: the server counts keepalives
    /// in seconds.
    pub(super) fn of(lease: Duration) -> Waits {
        let at_least_a_second = |d: Duration| d.max(Duration::from_secs(1));
        Waits {
            stall: at_least_a_second(lease / 3),
            idle: at_least_a_second(lease / 6),
            interval: at_least_a_second(lease / 12),
        }
    }

    /// The client's side: keepalives, and a connection whose sent data goes
    /// unacknowledged that long is given up (`TCP_USER_TIMEOUT`).
    pub(super) fn client(&self, config: &mut Config) {
        config
            .keepalives(true)
            .keepalives_idle(self.idle)
            .keepalives_interval(self.interval)
            .keepalives_retries(KEEPALIVE_PROBES)
            .tcp_user_timeout(self.stall);
    }

    /// The server's side of every connection: its keepalives towards this
    /// client (ignored on a Unix socket).
    pub(super) fn server(&self, client: &mut Client) -> Result<(), StoreError> {
        client.batch_execute(&format!(
            "SET tcp_keepalives_idle = {}; SET tcp_keepalives_interval = {};
             SET tcp_keepalives_count = {KEEPALIVE_PROBES}",
            self.idle.as_secs(),
            self.interval.as_secs(),
        ))?;
        Ok(())
    }

    /// The store's connection: bounded lock waits and idle transactions.
    pub(super) fn store(&self, client: &mut Client) -> Result<(), StoreError> {
        let ms = self.stall_ms();
        client.batch_execute(&format!(
            "SET lock_timeout = {ms}; SET idle_in_transaction_session_timeout = {ms}"
        ))?;
        Ok(())
    }

    fn stall_ms(&self) -> u64 {
        u64::try_from(self.stall.as_millis()).unwrap_or(u64::MAX)
    }

    /// `error` in words when it is a lock wait that timed out (SQLSTATE
    /// 55P03), else as it is.
    pub(super) fn explain(&self, error: StoreError) -> StoreError {
        match &error {
            StoreError::Postgres(e)
                if e.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) =>
            {
                StoreError::LockTimeout {
                    waited_ms: self.stall_ms(),
                }
            }
            _ => error,
        }
    }
}

/// Keeps `idle_in_transaction_session_timeout` off for the rest of the
/// transaction `client` is in: an export's snapshot, idle while its reader
/// takes its time, holds no lock another instance waits for.
pub(super) fn unbounded_idle(client: &mut impl postgres::GenericClient) -> Result<(), StoreError> {
    client.batch_execute("SET LOCAL idle_in_transaction_session_timeout = 0")?;
    Ok(())
}
