//! How instances sharing one PostgreSQL database divide the work.
//!
//! - A feed's lease (`gleaner_leases`) is claimed with `FOR UPDATE SKIP
//!   LOCKED` and renewed by its holder while the poll runs, all in the
//!   server's clock; only a lease past its expiry can be claimed by another
//!   holder: one poller per feed.
//!
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
use crate::store::backend::Sharing;
use crate::store::model::Claim;

impl Sharing for Postgres {
    fn is_shared(&self) -> bool {
        true
    }

    // The feed's lease row, taken with `FOR UPDATE SKIP LOCKED` so that
    // instances claiming at once never wait on each other, in the server's
    // clock. The claim's identity is its `claimed_at` (see `Claim`).
    fn claim_feed(
        &mut self,
        feed_url: &str,
        holder: &str,
        lease: Duration,
        claimed_within: Option<Duration>,
    ) -> Result<Option<Claim>, StoreError> {
        let secs = lease.as_secs_f64();
        let within = claimed_within.map(|d| d.as_secs_f64());
        let claimed = self.with_client(|client, cache| {
            // One statement, its own transaction: a feed's row is locked
            // only while it is claimed, and a claim that finds it locked
            // skips it rather than wait (another instance is claiming, or
            // storing the feed's poll under its lease).
            let claim = prepared(
                cache,
                client,
                "UPDATE gleaner_leases l SET holder = $2, claimed_at = now(),
                     expires_at = now() + make_interval(secs => $3)
                 FROM (SELECT feed_url FROM gleaner_leases
                       WHERE feed_url = $1 AND expires_at < now()
                         AND claimed_at < COALESCE(now() - make_interval(secs => $4), 'infinity')
                       FOR UPDATE SKIP LOCKED) free
                 WHERE l.feed_url = free.feed_url
                 RETURNING (extract(epoch FROM l.claimed_at) * 1000000)::int8",
            )?;
            if let Some(row) = client.query_opt(&claim, &[&feed_url, &holder, &secs, &within])? {
                return Ok(Some(row.try_get::<_, i64>(0)?));
            }
            // No free row: the feed's first claim ever, or it is taken.
            let first = prepared(
                cache,
                client,
                "INSERT INTO gleaner_leases (feed_url, holder, claimed_at, expires_at)
                 VALUES ($1, $2, now(), now() + make_interval(secs => $3))
                 ON CONFLICT DO NOTHING
                 RETURNING (extract(epoch FROM claimed_at) * 1000000)::int8",
            )?;
            match client.query_opt(&first, &[&feed_url, &holder, &secs])? {
                Some(row) => Ok(Some(row.try_get::<_, i64>(0)?)),
                None => Ok(None),
            }
        })?;
        Ok(claimed.map(|at| Claim::Shared {
            holder: holder.to_owned(),
            at,
        }))
    }

    // A lease that ran out stays its
    // holder's until another claims it, so a late renewal still holds.
    fn renew_feed(
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

    fn release_feed(&mut self, feed_url: &str, holder: &str) -> Result<(), StoreError> {
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

    // Takes slot `slot` of `host` for this connection unless another
    // connection holds it. Taking a slot this connection already holds
    // succeeds again (the caller keeps its own slots apart).
    fn try_lock_host(&self, host: &str, slot: i32) -> Result<bool, StoreError> {
        self.with_client(|client, cache| {
            let lock = prepared(
                cache,
                client,
                "SELECT pg_try_advisory_lock(hashtext('gleaner host ' || $1), $2)",
            )?;
            Ok(client.query_one(&lock, &[&host, &slot])?.get(0))
        })
    }

    // Gives back slot `slot` of `host` (see [`Postgres::try_lock_host`]).
    fn unlock_host(&self, host: &str, slot: i32) -> Result<(), StoreError> {
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

    // Reserves the next request start of `host`: now, or `spacing` after
    // the start last reserved by any instance, whichever is later. Returns
    // how long from now that start is.
    fn reserve_host_start(&self, host: &str, spacing: Duration) -> Result<Duration, StoreError> {
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
