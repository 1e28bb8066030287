//! [`ConsumerLock`]: one export at a time per consumer, whichever backend
//! holds the lock (SQLite: a record lock on a file beside the database,
//! see `sqlite::consumer_lock`; PostgreSQL: a session advisory lock on a
//! connection of its own, see `postgres::follow`).

/// Held while a consumer's export runs; dropping it lets the next one in.
pub struct ConsumerLock {
    /// What holds the lock: dropping it releases the lock.
    _held: Box<dyn Send>,
    /// Which kind of lock it is, for `Debug`.
    kind: &'static str,
}

impl ConsumerLock {
    /// A lock that `held` keeps until it is dropped.
    pub(super) fn new(held: Box<dyn Send>, kind: &'static str) -> ConsumerLock {
        ConsumerLock { _held: held, kind }
    }
}

impl std::fmt::Debug for ConsumerLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConsumerLock({})", self.kind)
    }
}
