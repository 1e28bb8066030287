//! Politeness across instances: what `[fetch] per_host_concurrency` and
//! `per_host_interval_ms` need to hold for every instance on one PostgreSQL
//! database together, not for each process alone.
//!
//! - A host's request slots are session advisory locks in the two-key space
//!   (`hashtext('gleaner host ' || host)`, slot number), which no other lock
//!   of gleaner uses. The server frees a session's locks when its connection
//!   ends, however it ends: an instance killed mid-request gives its slots
//!   back at once. Two hosts whose names hash alike share slots, which is
//!   only ever more polite.
//! - A host's next request start is a row of `gleaner_hosts`, moved on by
//!   one `INSERT … ON CONFLICT DO UPDATE` per request: the row lock orders
//!   instances reserving at once, and the wait is computed in the server's
//!   clock, so the instances' clocks need not agree.

use std::time::Duration;

use super::{Postgres, prepared};
use crate::store::StoreError;

impl Postgres {
    /// Takes slot `slot` of `host` for this connection unless another
    /// connection holds it. Taking a slot this connection already holds
    /// succeeds again (the caller keeps its own slots apart).
    pub fn try_lock_host(&self, host: &str, slot: i32) -> Result<bool, StoreError> {
        self.with_client(|client, cache| {
            let lock = prepared(
                cache,
                client,
                "SELECT pg_try_advisory_lock(hashtext('gleaner host ' || $1), $2)",
            )?;
            Ok(client.query_one(&lock, &[&host, &slot])?.get(0))
        })
    }

    /// Gives back slot `slot` of `host` (see [`Postgres::try_lock_host`]).
    pub fn unlock_host(&self, host: &str, slot: i32) -> Result<(), StoreError> {
        self.with_client(|client, cache| {
            let unlock = prepared(
                cache,
                client,
                "SELECT pg_advisory_unlock(hashtext('gleaner host ' || $1), $2)",
            )?;
            client.query_one(&unlock, &[&host, &slot])?;
            Ok(())
        })
    }

    /// Reserves the next request start of `host`: now, or `spacing` after
    /// the start last reserved by any instance, whichever is later. Returns
    /// how long from now that start is.
    pub fn reserve_host_start(
        &self,
        host: &str,
        spacing: Duration,
    ) -> Result<Duration, StoreError> {
        let secs = spacing.as_secs_f64();
        self.with_client(|client, cache| {
            let reserve = prepared(
                cache,
                client,
                "INSERT INTO gleaner_hosts AS h (host, next_start)
                 VALUES ($1, clock_timestamp() + make_interval(secs => $2))
                 ON CONFLICT (host) DO UPDATE
                     SET next_start = greatest(h.next_start, clock_timestamp())
                                      + make_interval(secs => $2)
                 RETURNING extract(epoch FROM h.next_start - clock_timestamp())::float8 - $2",
            )?;
            let wait: f64 = client.query_one(&reserve, &[&host, &secs])?.get(0);
            // Negative when the start is now; bounded by what was reserved.
            Ok(Duration::try_from_secs_f64(wait.clamp(0.0, 86_400.0)).unwrap_or_default())
        })
    }
}
