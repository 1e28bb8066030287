//! What `export --follow` and `[[deliver]]` ask of PostgreSQL besides an
//! export: whether new articles were committed, a consumer's backlog, and
//! its lock without waiting.

use postgres::Client;

use super::{Postgres, connect, consumer_lock_key, prepared};
use crate::store::StoreError;
use crate::store::consumer_lock::{ConsumerLock, Held};
use crate::store::model::ExportFilter;

impl Postgres {
    /// The highest committed position (seq, or that of a source or tag
    /// added to a stored article): what `export --follow` waits on to
    /// change (SQLite's `data_version`). Articles, sources and tags are
    /// only added, and writers commit their positions in order under the
    /// `gleaner write` lock, so it grows exactly when an export could find
    /// new articles; updates in place and purges, which no export delivers
    /// again, leave it as it is. One look at each of three indexes' last
    /// entry.
    pub fn data_version(&self) -> Result<i64, StoreError> {
        self.with_client(|client, cache| {
            let stmt = prepared(cache, client, super::HIGHEST_POSITION)?;
            Ok(client.query_one(&stmt, &[])?.get(0))
        })
    }

    /// See the SQLite version: the articles an export with `filter` (its
    /// limit aside) would give.
    pub fn count_articles(&self, filter: &ExportFilter) -> Result<u64, StoreError> {
        let since = filter.since.map(crate::store::format_time);
        self.with_client(|client, cache| {
            let stmt = prepared(
                cache,
                client,
                concat!("SELECT count(*) FROM ", super::export_selection!()),
            )?;
            let count: i64 = client
                .query_one(
                    &stmt,
                    &[
                        &filter.after_seq,
                        &i64::MAX,
                        &since,
                        &filter.feed_urls,
                        &filter.tags,
                    ],
                )?
                .get(0);
            Ok(u64::try_from(count).unwrap_or(0))
        })
    }

    /// The consumer's lock when no export (on any machine) holds it, else
    /// `None`: the lock [`Postgres::lock_consumer`] waits for, tried once.
    pub fn try_lock_consumer(&self, consumer: &str) -> Result<Option<ConsumerLock>, StoreError> {
        let mut client = connect(&self.target)?;
        let got: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                &[&consumer_lock_key(consumer)],
            )?
            .get(0);
        Ok(got.then(|| ConsumerLock::new(Held::Postgres(Box::new(client)))))
    }
}

/// Lets go of a consumer's lock (see [`Postgres::lock_consumer`]) and closes
/// its connection. The unlock is explicit so that the lock is free when this
/// returns, not only once the server notices the connection is gone: a
/// daemon delivering one batch after another takes it again at once.
pub(in crate::store) fn release_consumer_lock(client: Box<Client>) {
    let release = move || {
        let mut client = client;
        if let Err(error) = client.batch_execute("SELECT pg_advisory_unlock_all()") {
            tracing::debug!(
                "releasing a consumer lock: {error} (the server frees it as the connection closes)"
            );
        }
    };
    // The sync client runs a runtime of its own, which cannot start on a
    // thread that drives another (the daemon's): there, on a thread of its own.
    if tokio::runtime::Handle::try_current().is_ok() {
        let _ = std::thread::spawn(release).join();
    } else {
        release();
    }
}
