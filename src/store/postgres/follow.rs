//! One export or delivery at a time per consumer across machines: the
//! consumer's row is a lease (`store::consumer_lock` has the rule).
//!
//! A claim takes the row when no holder's lease runs in the server's clock,
//! adding one to its token; the row lock of that one statement orders
//! instances claiming at once. The holder's [`Keeper`], a thread with a
//! connection of its own, renews the lease every third of it while the
//! lock is held, and connects again at once when that connection was ended
//! (by an administrator, an idle timeout, a restart), so a holder that is
//! alive keeps its consumer whatever happens to its connections: another
//! instance waits, and does not give the batch in flight again. A holder
//! that is killed, or stalled or cut off from the server past its lease,
//! loses the consumer to the next claim, and its own cursor move then fails
//! (the token is no longer its own): only its batch in flight is given
//! twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use postgres::Client;

use super::{Postgres, Prepared, Session, connect};
use crate::config::database::PostgresTarget;
use crate::store::backend::ConsumerLocks;
use crate::store::consumer_lock::{ConsumerLock, Held, holder};
use crate::store::shared::consumers;
use crate::store::sql::SqlBackend;
use crate::store::{StoreError, format_time};

/// How often a claim waiting for another holder's lease tries again.
const CLAIM_AGAIN: Duration = Duration::from_millis(250);
/// The longest wait between renewals that failed in a row.
const RENEW_AGAIN: Duration = Duration::from_secs(1);
/// How long a lock dropped without its release waits for its keeper to
/// give it back (else it runs out by itself).
const GIVE_BACK_WAIT: Duration = Duration::from_secs(5);

impl ConsumerLocks for Postgres {
    fn lock_consumer(
        &mut self,
        consumer: &str,
        lease: Duration,
        waiting: &mut dyn FnMut(),
    ) -> Result<ConsumerLock, StoreError> {
        loop {
            if let Some(lock) = self.try_lock_consumer(consumer, lease)? {
                return Ok(lock);
            }
            waiting();
            std::thread::sleep(CLAIM_AGAIN);
        }
    }

    fn try_lock_consumer(
        &mut self,
        consumer: &str,
        lease: Duration,
    ) -> Result<Option<ConsumerLock>, StoreError> {
        let (holder, now) = (holder(), format_time(chrono::Utc::now()));
        let token = self.write(false, |c| {
            consumers::claim(c, consumer, &holder, lease, false, &now)
        })?;
        Ok(token.map(|token| {
            let keeper = Keeper::start(self.target.clone(), consumer, token, lease);
            ConsumerLock::new(consumer, token, lease, Box::new(keeper))
        }))
    }
}

/// The thread that renews a held consumer's lease.
struct Keeper {
    /// Tells the thread to stop (`true`: and give the lease back).
    stop: Option<mpsc::Sender<bool>>,
    /// Closed by the thread when it ends.
    done: mpsc::Receiver<()>,
    /// Set by the thread when a renewal found another claim's token.
    lost: Arc<AtomicBool>,
}

impl Keeper {
    fn start(target: PostgresTarget, consumer: &str, token: i64, lease: Duration) -> Keeper {
        let (stop, stopped) = mpsc::channel();
        let (finished, done) = mpsc::channel();
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = Renewal {
            target,
            consumer: consumer.to_owned(),
            token,
            lease,
            lost: lost.clone(),
            connection: None,
        };
        // The sync client runs a runtime of its own: on a thread of its own
        // it never meets the daemon's.
        let _ = std::thread::Builder::new()
            .name("consumer-lock".into())
            .spawn(move || {
                renewal.run(&stopped);
                drop(finished);
            });
        Keeper {
            stop: Some(stop),
            done,
            lost,
        }
    }
}

impl Held for Keeper {
    fn lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Does not wait for a renewal in progress when the store releases the
    /// lock itself: a late renewal of a released lease names no holder,
    /// and one of a lease claimed since names another token, so neither
    /// keeps anyone out.
    fn stop(&mut self, give_back: bool) {
        let Some(stop) = self.stop.take() else {
            return;
        };
        if stop.send(give_back).is_ok() && give_back {
            let _ = self.done.recv_timeout(GIVE_BACK_WAIT);
        }
    }
}

/// What the keeper's thread works with.
struct Renewal {
    target: PostgresTarget,
    consumer: String,
    token: i64,
    lease: Duration,
    lost: Arc<AtomicBool>,
    /// Its own connection, made at the first renewal (an export that ends
    /// within a third of its lease never needs one).
    connection: Option<(Client, Prepared)>,
}

impl Renewal {
    /// Renews every third of the lease until told to stop or the lease is
    /// found taken; a failed renewal is tried again at once on a new
    /// connection, then every second (at most a third of the lease).
    fn run(mut self, stop: &mpsc::Receiver<bool>) {
        let every = self.lease / 3;
        let mut wait = every;
        let mut outage: Option<Instant> = None;
        let give_back = loop {
            match stop.recv_timeout(wait) {
                Ok(give_back) => break give_back,
                Err(mpsc::RecvTimeoutError::Disconnected) => break true,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let renewed = self.renew().or_else(|first| {
                // A connection ended since the last renewal: a new one now.
                self.connection = None;
                self.renew().map_err(|_| first)
            });
            match renewed {
                Ok(true) => {
                    if let Some(since) = outage.take() {
                        tracing::info!(
                            "consumer {:?}: its lease is renewed again, {} ms after the first renewal that failed",
                            self.consumer,
                            since.elapsed().as_millis()
                        );
                    }
                    wait = every;
                }
                Ok(false) => {
                    self.lost.store(true, Ordering::Relaxed);
                    tracing::error!(
                        "consumer {:?}: its lease ran out before it was renewed and another export or instance has claimed it; this one's cursor will not move (its batch in flight is given again by the other)",
                        self.consumer
                    );
                    return;
                }
                Err(error) => {
                    self.connection = None;
                    if outage.is_none() {
                        outage = Some(Instant::now());
                        tracing::warn!(
                            "consumer {:?}: could not renew its lease ({error}); trying again every {} ms (it runs out {} s after the last renewal)",
                            self.consumer,
                            RENEW_AGAIN.min(every).as_millis(),
                            self.lease.as_secs()
                        );
                    }
                    wait = RENEW_AGAIN.min(every);
                }
            }
        };
        if give_back && self.give_back().is_err() {
            self.connection = None;
            let _ = self.give_back();
        }
    }

    /// The keeper's connection, made when there is none (or it was ended),
    /// under a name that tells it apart from the instance's other ones.
    fn session(&mut self) -> Result<(&mut Client, &mut Prepared), StoreError> {
        let connection = match self.connection.take() {
            Some(connection) if !connection.0.is_closed() => connection,
            _ => {
                let mut client = connect(&self.target)?;
                client.batch_execute(
                    "SELECT set_config('application_name',
                         left(current_setting('application_name') || ' (consumer lock)', 63),
                         false)",
                )?;
                (client, Prepared::default())
            }
        };
        let (client, cache) = self.connection.insert(connection);
        Ok((client, cache))
    }

    fn renew(&mut self) -> Result<bool, StoreError> {
        let (consumer, token, lease) = (self.consumer.clone(), self.token, self.lease);
        let (client, cache) = self.session()?;
        consumers::renew(&mut Session { client, cache }, &consumer, token, lease)
    }

    fn give_back(&mut self) -> Result<(), StoreError> {
        let (consumer, token) = (self.consumer.clone(), self.token);
        let (client, cache) = self.session()?;
        consumers::release(&mut Session { client, cache }, &consumer, token)
    }
}
