//! One export at a time per consumer across machines: the export holds a
//! session advisory lock for its consumer on a connection of its own,
//! released by the server when that connection ends, however it ends.
//! (SQLite, one machine, locks a byte of a file: `sqlite::consumer_lock`.)

use postgres::Client;

use super::{Postgres, connect};
use crate::store::StoreError;
use crate::store::backend::ConsumerLocks;
use crate::store::consumer_lock::ConsumerLock;

/// The advisory lock (a text hashed by the server) of `consumer`'s exports.
fn consumer_lock_key(consumer: &str) -> String {
    format!("gleaner consumer {consumer}")
}

impl ConsumerLocks for Postgres {
    fn lock_consumer(
        &self,
        consumer: &str,
        waiting: &mut dyn FnMut(),
    ) -> Result<ConsumerLock, StoreError> {
        let mut client = connect(&self.target)?;
        let key = consumer_lock_key(consumer);
        let got: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                &[&key],
            )?
            .get(0);
        if !got {
            waiting();
            client.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", &[&key])?;
        }
        Ok(held(client))
    }

    fn try_lock_consumer(&self, consumer: &str) -> Result<Option<ConsumerLock>, StoreError> {
        let mut client = connect(&self.target)?;
        let got: bool = client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                &[&consumer_lock_key(consumer)],
            )?
            .get(0);
        Ok(got.then(|| held(client)))
    }
}

/// The lock `client`'s session holds, released when it is dropped.
fn held(client: Client) -> ConsumerLock {
    ConsumerLock::new(Box::new(Session(Some(client))), "postgres")
}

/// The connection holding a consumer's advisory lock.
struct Session(Option<Client>);

impl Drop for Session {
    /// Lets go of the lock and closes the connection. The unlock is
    /// explicit so that the lock is free when this returns, not only once
    /// the server notices the connection is gone: a daemon delivering one
    /// batch after another takes it again at once.
    fn drop(&mut self) {
        let Some(mut client) = self.0.take() else {
            return;
        };
        let mut release = move || {
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
}
