//! A poll's writes: each fenced by the feed's lease (the store checks the
//! claim in the write's own transaction), skipped when the poll was given
//! up before its turn came, and tried again when PostgreSQL's bounded lock
//! wait ran out.

use std::sync::Arc;
use std::time::Duration;

use super::{Pipeline, ReportOutcome, Skip};
use crate::config::FeedConfig;
use crate::store::{Store, StoreError};

/// How many times a write that waited too long for a lock is tried in all.
/// Each wait is bounded by a third of the lease (see `store::postgres`), so
/// the instance's lease renewals, which queue behind it, keep the lease.
const WRITE_ATTEMPTS: u32 = 3;

impl Pipeline {
    /// Runs the write `f` of `feed`'s poll on the database thread, unless
    /// the poll was dropped before its turn came; a lock wait that timed
    /// out is tried again a few times (nothing of it was written), after a
    /// pause that lets the instance's other work, its renewals first, in.
    pub(super) async fn write<T, F>(&self, feed: &FeedConfig, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Fn(&mut Store) -> Result<T, StoreError> + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let mut attempt = 1;
        loop {
            let once = f.clone();
            match self.store.call_while_wanted(move |s| once(s)).await {
                Err(error @ StoreError::LockTimeout { .. }) if attempt < WRITE_ATTEMPTS => {
                    tracing::info!(feed = %feed.name, attempt, "{error}");
                    tokio::time::sleep(Duration::from_millis(100) * attempt).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// What a poll whose write failed with `error` reports: a lease lost
    /// to another instance is one line naming the feed and a skip (the
    /// other instance's poll stands), anything else a database failure.
    pub(super) fn write_failure(&self, feed: &FeedConfig, error: StoreError) -> ReportOutcome {
        match error {
            StoreError::LeaseLost => {
                tracing::warn!(feed = %feed.name, "{error}");
                ReportOutcome::Skipped(Skip::Elsewhere)
            }
            error => self.database_failure(error),
        }
    }
}
