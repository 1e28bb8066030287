//! [`ConsumerLock`]: one export or delivery at a time per consumer, and a
//! cursor that only the lock's holder moves.
//!
//! The rule, one implementation for both backends (`shared::consumers`):
//! every claim of a consumer adds one to its row's `claim_token` and names
//! its holder; every cursor move is `… WHERE name = ? AND claim_token = ?`,
//! in the statement that moves it, so a holder whose lock was taken over
//! moves nothing ([`super::StoreError::ConsumerLockLost`]): its batch is
//! not recorded, and the next holder gives it again.
//!
//! What keeps a second claimer out while the lock is held differs:
//! - SQLite (one machine): a record lock on a byte of a file beside the
//!   database (`sqlite::consumer_lock`), which the kernel holds for the
//!   process until it ends; it cannot be lost while the holder lives, so a
//!   claim under it always takes the row.
//! - PostgreSQL (instances on many machines): the row itself is a lease in
//!   the server's clock. A claim takes it only when no holder's lease is
//!   running; the holder's keeper renews it every third of the lease on a
//!   connection of its own, connecting again when that connection is ended
//!   (`postgres::follow`), so a holder that is alive keeps the consumer
//!   whatever happens to its connections; one that died or stalled past
//!   the lease loses it, and its cursor move then fails.

use std::time::Duration;

/// The shortest lease a consumer is claimed for (`[storage] lease_secs`'s
/// own minimum): a caller that gives none still gets a lease renewals can
/// keep.
pub const MIN_LEASE: Duration = Duration::from_secs(2);

/// Held while a consumer's export or delivery runs: give it back with
/// `release_consumer`; dropping it lets the next one in too.
pub struct ConsumerLock {
    consumer: String,
    /// The consumer's `claim_token` as this claim left it.
    token: i64,
    /// How long the claim lasts past its last renewal.
    lease: Duration,
    /// What holds the lock on the backend's side.
    held: Box<dyn Held>,
    /// Until released through the store: dropped before, the backend's
    /// side gives the lock back itself.
    armed: bool,
}

/// A backend's side of a [`ConsumerLock`].
pub(super) trait Held: Send {
    /// Whether the backend found that the lock was taken over (a renewal
    /// saw another holder's token).
    fn lost(&self) -> bool {
        false
    }

    /// Stops keeping the lock; `give_back`: also hand it back itself (the
    /// lock is dropped without `release_consumer`).
    fn stop(&mut self, _give_back: bool) {}
}

/// SQLite's: the open lock file, whose record lock closing it releases.
impl Held for std::fs::File {}

impl ConsumerLock {
    /// `consumer`'s lock, claimed with `token` for `lease`, kept by `held`.
    pub(super) fn new(
        consumer: &str,
        token: i64,
        lease: Duration,
        held: Box<dyn Held>,
    ) -> ConsumerLock {
        ConsumerLock {
            consumer: consumer.to_owned(),
            token,
            lease,
            held,
            armed: true,
        }
    }

    /// The consumer it locks.
    pub fn consumer(&self) -> &str {
        &self.consumer
    }

    /// The fencing token its claim got.
    pub(super) fn token(&self) -> i64 {
        self.token
    }

    /// How long the claim lasts past its last renewal.
    pub(super) fn lease(&self) -> Duration {
        self.lease
    }

    /// Whether the lock is known to be lost (another holder claimed the
    /// consumer after this one's lease ran out): what is written now would
    /// not be recorded.
    pub fn lost(&self) -> bool {
        self.held.lost()
    }

    /// Stops keeping the lock, before it is released on the store's
    /// connection.
    pub(super) fn disarm(mut self) -> (String, i64) {
        self.armed = false;
        self.held.stop(false);
        (std::mem::take(&mut self.consumer), self.token)
    }
}

impl Drop for ConsumerLock {
    fn drop(&mut self) {
        // Not released through the store (an error path): the backend's
        // side gives it back itself.
        self.held.stop(self.armed);
    }
}

impl std::fmt::Debug for ConsumerLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConsumerLock({:?}, {})", self.consumer, self.token)
    }
}

/// Who holds a lock, as the consumer's row names it: this process.
pub(super) fn holder() -> String {
    format!("pid {} ({:08x})", std::process::id(), fastrand::u32(..))
}
