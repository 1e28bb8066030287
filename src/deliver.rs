//! `[[deliver]]`: the daemon pushes each consumer's new articles to a
//! webhook or a command, with the export's promise.
//!
//! A delivery is: take the consumer's lock (skip the consumer while an
//! `export` of it runs), read its next batch from one snapshot, send it, and
//! only when the receiver took it (a 2xx, exit 0) move the cursor. A failure
//! leaves the cursor where it was, so the same batch (same articles, same
//! `id`s, same order) is sent again after a back-off of 1 s, 2 s, 4 s … up to
//! [`MAX_BACKOFF`]; nothing is skipped or reordered. A kill between the send
//! and the cursor's move sends that batch again: at least once per batch,
//! and a receiver drops the repeat by `id`.
//!
//! Deliveries run after every poll pass and every [`TIMER`] (which also
//! brings what a `gleaner poll` in another process stored), one consumer
//! after another: a process may hold one consumer lock at a time (see
//! `store::consumer_lock`).

mod exec;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, DeliverConfig, DeliverTarget};
use crate::export::{self, Batch};
use crate::fetch::webhook::WebhookClient;
use crate::metrics::Metrics;
use crate::store::consumer_lock::{ConsumerLock, MIN_LEASE};
use crate::store::model::ExportFilter;
use crate::store::{Store, StoreError, StoreHandle};

/// How often deliveries run without a poll pass to prompt them.
pub const TIMER: Duration = Duration::from_secs(30);
/// How soon a consumer another export or instance holds is tried again.
const BUSY_AGAIN: Duration = Duration::from_secs(1);
/// The longest wait before a failed batch is tried again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// The header that carries the hex HMAC-SHA256 of a webhook's body.
pub const SIGNATURE_HEADER: &str = "X-Gleaner-Signature";

/// The pushing consumers of one configuration, and their back-off.
pub struct Deliveries {
    blocks: Vec<DeliverConfig>,
    webhooks: WebhookClient,
    store: StoreHandle,
    metrics: Arc<Metrics>,
    /// Consumers waiting out a back-off: until when, and after how many failures.
    waiting: HashMap<String, (Instant, u32)>,
    /// `[storage] lease_secs`: how long a consumer's lock outlives its last
    /// renewal (PostgreSQL; see `store::consumer_lock`).
    lease: Duration,
}

/// Why one batch was not delivered.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Webhook(#[from] crate::fetch::webhook::WebhookError),
    #[error(transparent)]
    Exec(#[from] exec::ExecError),
    #[error("cannot encode the batch: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Where a delivery failed.
enum Stage {
    /// Taking the consumer's lock or reading its batch (nothing was sent).
    Read,
    /// Sending a batch of this many articles.
    Send(usize),
    /// Storing the cursor past a batch the receiver took.
    Record,
}

/// What one consumer's turn came to.
enum Turn {
    /// Everything there was is delivered.
    CaughtUp,
    /// An `export` of this consumer holds its lock; try again later.
    Busy,
    /// A batch failed; the consumer waits until then.
    Failed(Instant),
}

impl Deliveries {
    /// The consumers of `config`; `None` when it has no `[[deliver]]`.
    pub fn new(
        config: &Config,
        store: StoreHandle,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Option<Deliveries>> {
        if config.deliver.is_empty() {
            return Ok(None);
        }
        let webhooks = WebhookClient::new(&config.fetch)
            .map_err(|e| anyhow::anyhow!("starting the webhook client: {e}"))?;
        Ok(Some(Deliveries {
            blocks: config.deliver.clone(),
            webhooks,
            store,
            metrics,
            waiting: HashMap::new(),
            lease: config.storage.lease.max(MIN_LEASE),
        }))
    }

    /// Delivers to every consumer that is not waiting out a back-off, until
    /// each is caught up or fails; returns the earliest time one of them is
    /// due again.
    pub async fn deliver_due(&mut self) -> Option<Instant> {
        for block in self.blocks.clone() {
            if let Some((until, _)) = self.waiting.get(&block.name)
                && *until > Instant::now()
            {
                continue;
            }
            match self.deliver(&block).await {
                Turn::CaughtUp => {
                    self.waiting.remove(&block.name);
                }
                Turn::Busy => {
                    // Tried again soon: the holder may be an export that
                    // ends any moment, or (PostgreSQL) an instance that
                    // died, whose lease runs out by itself.
                    let failures = self.waiting.get(&block.name).map_or(0, |(_, n)| *n);
                    self.waiting
                        .insert(block.name.clone(), (Instant::now() + BUSY_AGAIN, failures));
                }
                Turn::Failed(until) => {
                    let failures = self.waiting.get(&block.name).map_or(0, |(_, n)| *n);
                    self.waiting
                        .insert(block.name.clone(), (until, failures.saturating_add(1)));
                }
            }
        }
        self.waiting.values().map(|(until, _)| *until).min()
    }

    /// Sends `block`'s batches until it is caught up or one fails.
    async fn deliver(&self, block: &DeliverConfig) -> Turn {
        let selection = ExportFilter {
            feed_urls: block.feed_urls.clone(),
            tags: block.tags.clone(),
            ..ExportFilter::default()
        };
        loop {
            let (name, size, filter, lease) = (
                block.name.clone(),
                block.batch,
                selection.clone(),
                self.lease,
            );
            let read = self
                .store
                .call(move |s| {
                    let Some(lock) = s.try_lock_consumer(&name, lease)? else {
                        return Ok(None);
                    };
                    match export::next_batch(s, &name, &filter, size) {
                        Ok(batch) => Ok(Some((lock, batch))),
                        Err(error) => {
                            release(s, lock);
                            Err(error)
                        }
                    }
                })
                .await;
            let (lock, batch) = match read {
                Ok(Some(read)) => read,
                Ok(None) => {
                    if !self.waiting.contains_key(&block.name) {
                        tracing::info!(
                            "[[deliver]] {:?}: an export of this consumer, or another instance's delivery, holds its lock; delivering later",
                            block.name
                        );
                    }
                    return Turn::Busy;
                }
                Err(error) => return self.failed(block, Stage::Read, &error.into()).await,
            };
            let Batch {
                articles,
                cursor,
                from,
            } = batch;
            let count = articles.len();
            let full = count >= block.batch;
            let result = match count {
                0 => Ok(()),
                _ => self.send(block, articles).await,
            };
            if let Err(error) = result {
                let _ = self
                    .store
                    .call(move |s| {
                        release(s, lock);
                        Ok(())
                    })
                    .await;
                return self.failed(block, Stage::Send(count), &error).await;
            }
            let moved = self.advance(block, lock, from, cursor, count).await;
            if let Err(error) = moved {
                // Taken, but not remembered: sent again next time.
                tracing::error!(
                    "[[deliver]] {:?}: the batch was taken but its cursor could not be stored ({error}); it will be sent again",
                    block.name
                );
                return self.failed(block, Stage::Record, &error.into()).await;
            }
            if count > 0 {
                self.metrics.delivery(&block.name, count, true);
                tracing::info!(
                    consumer = %block.name,
                    articles = count,
                    "delivered a batch"
                );
            }
            if !full {
                return Turn::CaughtUp;
            }
        }
    }

    /// Moves the cursor past a taken batch, while `lock` is still this
    /// delivery's (a move whose connection was lost is tried again), records
    /// the success and gives the lock back.
    async fn advance(
        &self,
        block: &DeliverConfig,
        lock: ConsumerLock,
        from: i64,
        cursor: i64,
        count: usize,
    ) -> Result<(), StoreError> {
        let name = block.name.clone();
        self.store
            .call(move |s| {
                let moved = if cursor <= from && count == 0 {
                    Ok(())
                } else {
                    s.move_cursor(&lock, cursor).and_then(|()| match count {
                        0 => Ok(()),
                        _ => s.record_delivery(&name, chrono::Utc::now(), count as u64, Ok(())),
                    })
                };
                release(s, lock);
                moved
            })
            .await
    }

    /// Logs and records a failed delivery; returns when to try again.
    async fn failed(&self, block: &DeliverConfig, stage: Stage, error: &DeliveryError) -> Turn {
        let failures = self
            .waiting
            .get(&block.name)
            .map_or(0, |(_, n)| *n)
            .saturating_add(1);
        let wait = backoff(failures);
        let (what, count) = match stage {
            Stage::Read => ("its next batch could not be read".to_owned(), 0),
            Stage::Send(count) => (
                format!(
                    "a batch of {} was not delivered",
                    crate::plural::count(count as u64, "article", "articles")
                ),
                count,
            ),
            Stage::Record => (
                "the cursor past its batch could not be stored".to_owned(),
                0,
            ),
        };
        tracing::warn!(
            "[[deliver]] {:?}: {what}: {error}; trying again in {wait:?}",
            block.name
        );
        self.metrics.delivery(&block.name, count, false);
        let (name, message) = (block.name.clone(), error.to_string());
        let recorded = self
            .store
            .call(move |s| s.record_delivery(&name, chrono::Utc::now(), 0, Err(&message)))
            .await;
        if let Err(error) = recorded {
            tracing::error!(
                "[[deliver]] {:?}: cannot record the failure: {error}",
                block.name
            );
        }
        Turn::Failed(Instant::now() + wait)
    }

    /// Encodes the batch (off the reactor: Markdown is CPU work) and sends it.
    async fn send(
        &self,
        block: &DeliverConfig,
        mut articles: Vec<crate::store::model::StoredArticle>,
    ) -> Result<(), DeliveryError> {
        let consumer = block.name.clone();
        let webhook = matches!(block.target, DeliverTarget::Webhook { .. });
        let body = tokio::task::spawn_blocking(move || {
            articles.iter_mut().for_each(export::with_markdown);
            encode(&consumer, &articles, webhook)
        })
        .await
        .map_err(|e| exec::ExecError::Io(std::io::Error::other(e.to_string())))??;
        match &block.target {
            DeliverTarget::Webhook { url, secret } => {
                let mut headers = vec![("X-Gleaner-Consumer", block.name.clone())];
                if let Some(secret) = secret {
                    headers.push((SIGNATURE_HEADER, signature(secret.expose(), &body)));
                }
                self.webhooks
                    .post(url, body, &headers, block.timeout)
                    .await?;
            }
            DeliverTarget::Exec { argv, env_keep } => {
                exec::run(argv, env_keep, &block.name, body, block.timeout).await?;
            }
        }
        Ok(())
    }
}

/// Gives `lock` back; one that cannot be (the database went away) runs
/// out by itself.
fn release(store: &mut Store, lock: ConsumerLock) {
    let consumer = lock.consumer().to_owned();
    if let Err(error) = store.release_consumer(lock) {
        tracing::warn!(
            "[[deliver]] {consumer:?}: could not give back the consumer's lock ({error}); it runs out by itself"
        );
    }
}

/// A webhook's body, `{"consumer": NAME, "articles": [...]}`, or a
/// command's, one article object per line.
fn encode(
    consumer: &str,
    articles: &[crate::store::model::StoredArticle],
    webhook: bool,
) -> Result<Vec<u8>, serde_json::Error> {
    if webhook {
        return serde_json::to_vec(&serde_json::json!({
            "consumer": consumer,
            "articles": articles,
        }));
    }
    let mut lines = Vec::new();
    for article in articles {
        serde_json::to_writer(&mut lines, article)?;
        lines.push(b'\n');
    }
    Ok(lines)
}

/// The hex HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts any key length")
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The wait after `failures` failed attempts in a row: 1 s, doubling, at
/// most [`MAX_BACKOFF`].
fn backoff(failures: u32) -> Duration {
    let exponent = failures.saturating_sub(1).min(16);
    Duration::from_secs(1u64 << exponent).min(MAX_BACKOFF)
}

/// Runs deliveries until `cancel`: after every `wake` (a poll pass ended),
/// every [`TIMER`], and when a failed consumer is due again. A delivery in
/// flight at shutdown is abandoned: its cursor has not moved.
pub async fn run(mut deliveries: Deliveries, wake: Arc<Notify>, cancel: CancellationToken) {
    loop {
        let next = tokio::select! {
            next = deliveries.deliver_due() => next,
            () = cancel.cancelled() => return,
        };
        let timer = Instant::now() + TIMER;
        let until = next.map_or(timer, |next| next.min(timer));
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep_until(until) => {}
            () = cancel.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hex_hmac_sha256() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_from_a_second_up_to_five_minutes() {
        let waits: Vec<u64> = (1..=10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
