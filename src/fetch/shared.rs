//! Per-host limits agreed with other processes: when instances share a
//! database, `per_host_concurrency` and `per_host_interval_ms` must hold for
//! all of them together. The [`HostLedger`] is where they agree (the
//! database, see `store::postgres::hosts`); this module takes and gives back a
//! host's places in it around each request.
//!
//! The ledger is best effort: if it cannot be reached, the request goes on
//! under the process's own limits (and the poll's own write to the same
//! database will fail and be reported).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

/// Where instances sharing a database agree on each host's requests.
pub trait HostLedger: Send + Sync {
    /// Takes request slot `slot` of `host` unless another instance holds it.
    fn try_take(&self, host: String, slot: u32) -> BoxFuture<'static, Result<bool, String>>;
    /// Gives a slot back, in the background.
    fn give_back(&self, host: String, slot: u32);
    /// Reserves `host`'s next request start, `spacing` after the previous
    /// one of any instance; the answer is how long from now it is.
    fn reserve_start(
        &self,
        host: String,
        spacing: Duration,
    ) -> BoxFuture<'static, Result<Duration, String>>;
}

/// How long to wait before asking again when every slot of a host is taken
/// by other instances (plus up to as much again, at random).
const SLOT_RETRY: Duration = Duration::from_millis(50);

/// Reserved starts across instances are this much further apart than the
/// interval (a tenth of it, at most 100 ms): the time between the
/// database's answer and the request leaving varies from one process to
/// another, and the host must still see the interval.
pub fn margin(interval: Duration) -> Duration {
    (interval / 10).min(Duration::from_millis(100))
}

/// The slots of one host this process holds in the ledger: the process's
/// own semaphore lets at most as many requests through as there are slots,
/// so a request always finds one this process does not hold.
pub struct Slots(Mutex<Vec<bool>>);

impl Slots {
    pub fn new(count: usize) -> Slots {
        Slots(Mutex::new(vec![false; count]))
    }

    fn mark(&self, slot: usize, held: bool) {
        let mut slots = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(place) = slots.get_mut(slot) {
            *place = held;
        }
    }

    /// Marks and returns a slot this process does not hold, after `after`.
    fn next_free(&self, after: Option<usize>) -> Option<usize> {
        let mut slots = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let start = after.map_or(0, |a| a + 1);
        let slot = (start..slots.len()).find(|&i| !slots[i])?;
        slots[slot] = true;
        Some(slot)
    }
}

/// A slot of a host in the ledger, given back when dropped (also when the
/// request is abandoned while the ledger is still answering).
pub struct SharedSlot {
    ledger: Arc<dyn HostLedger>,
    slots: Arc<Slots>,
    host: String,
    slot: usize,
    /// Whether the ledger may hold the slot for us (asked or granted).
    in_ledger: bool,
}

impl Drop for SharedSlot {
    fn drop(&mut self) {
        if self.in_ledger {
            self.ledger.give_back(self.host.clone(), self.slot as u32);
        }
        self.slots.mark(self.slot, false);
    }
}

/// Waits for a slot of `host` that no other instance holds. `None` when
/// the ledger failed (said in the log): the process's own limit applies.
pub async fn take_slot(
    ledger: &Arc<dyn HostLedger>,
    slots: &Arc<Slots>,
    host: &str,
) -> Option<SharedSlot> {
    loop {
        let mut after = None;
        while let Some(slot) = slots.next_free(after) {
            after = Some(slot);
            let mut held = SharedSlot {
                ledger: ledger.clone(),
                slots: slots.clone(),
                host: host.to_owned(),
                slot,
                in_ledger: true,
            };
            match ledger.try_take(host.to_owned(), slot as u32).await {
                Ok(true) => return Some(held),
                Ok(false) => held.in_ledger = false,
                Err(e) => {
                    held.in_ledger = false;
                    tracing::warn!(
                        host,
                        "cannot agree on the host's requests with the other instances \
                         (this process's own limits apply): {e}"
                    );
                    return None;
                }
            }
        }
        tokio::time::sleep(SLOT_RETRY.mul_f64(1.0 + fastrand::f64())).await;
    }
}
