//! The limits every request waits on before it starts: the global and the
//! per-host semaphores, the per-host start spacing (with jitter) and, when
//! the database is shared, the host's slots among instances.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::Fetcher;
use super::shared::{self, SharedSlot, Slots};

/// What is shared by all requests to one host.
pub(super) struct HostLimits {
    in_flight: Arc<Semaphore>,
    /// The next free start slot of this host (reserved before waiting).
    next_start: Mutex<Instant>,
    /// When the last request to this host actually started (or will, once
    /// its final short wait is over).
    last_start: Mutex<Option<Instant>>,
    /// Which of the host's slots among instances this process holds.
    shared_slots: Arc<Slots>,
}

/// A request's places under the per-host and the global limit (and among
/// the instances sharing a database), held until its body is read.
pub(super) struct Permits {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
    _shared: Option<SharedSlot>,
}

impl Fetcher {
    pub(super) async fn permits(&self, url: &Url) -> Permits {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let limits = {
            let mut map = self.per_host.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(host.clone())
                .or_insert_with(|| {
                    let slots = self.config.per_host_concurrency;
                    Arc::new(HostLimits {
                        in_flight: Arc::new(Semaphore::new(slots)),
                        next_start: Mutex::new(Instant::now()),
                        last_start: Mutex::new(None),
                        shared_slots: Arc::new(Slots::new(slots)),
                    })
                })
                .clone()
        };
        // Take the host's permit first, so a busy host does not hold global ones.
        let host_permit = limits
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        let shared = match &self.ledger {
            Some(ledger) => shared::take_slot(ledger, &limits.shared_slots, &host).await,
            None => None,
        };
        // Reserve the next start slot of this host, then wait for it.
        let interval = self.config.per_host_interval;
        if !interval.is_zero() {
            let jitter = interval.mul_f64(fastrand::f64() / 4.0);
            let agreed = match (&self.ledger, &shared) {
                (Some(ledger), Some(_)) => {
                    let spacing = interval + shared::margin(interval) + jitter;
                    match ledger.reserve_start(host.clone(), spacing).await {
                        Ok(wait) => Some(Instant::now() + wait),
                        Err(e) => {
                            tracing::warn!(
                                host,
                                "cannot agree on the host's next request with the other \
                                 instances (this process's own spacing applies): {e}"
                            );
                            None
                        }
                    }
                }
                _ => None,
            };
            let start = agreed.unwrap_or_else(|| {
                let mut next = limits.next_start.lock().unwrap_or_else(|e| e.into_inner());
                let start = (*next).max(Instant::now());
                *next = start + interval + jitter;
                start
            });
            tokio::time::sleep_until(start.into()).await;
        }
        let global = self
            .in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        if !interval.is_zero() {
            // Waiting for a global place may have made this request late,
            // and a later slot's request may have started meanwhile: the
            // spacing is kept between actual starts.
            let wait = {
                let mut last = limits.last_start.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                let wait = last.map_or(Duration::ZERO, |l| {
                    (l + interval).saturating_duration_since(now)
                });
                *last = Some(now + wait);
                wait
            };
            tokio::time::sleep(wait).await;
        }
        Permits {
            _host: host_permit,
            _global: global,
            _shared: shared,
        }
    }
}
