//! `gleaner export --consumer NAME --follow`: the backlog, then each new
//! article as it is stored, as JSON lines on stdout, until a signal or the
//! reader goes away.
//!
//! Every batch keeps the export's order of operations: one snapshot from
//! the consumer's cursor (at most [`BATCH`] articles, read into memory),
//! written and flushed, and only then the cursor moved. The consumer's
//! lock is held for the whole run, so another export of the same consumer
//! waits until this one ends; the cursor moves only while the lock is
//! still this follower's (`store::consumer_lock`).
//!
//! Between batches the process sleeps, and reads the database again only
//! when SQLite's `data_version` says another connection has committed
//! (PostgreSQL: when the highest committed seq has grown; checked every
//! [`WAKE`]): an idle follower costs one pragma (or one index look-up) per
//! tick and no export query. SIGTERM and SIGINT end it after the batch in hand (its cursor
//! stored); a closed pipe ends it without moving the cursor past what the
//! reader did not take.
//!
//! A PostgreSQL connection that is lost (a server restart, an
//! administrator ending it) is no reason to stop: the follower logs it
//! once, tries again after 0.2 s, 0.4 s … at most [`OUTAGE_MOST`] apart,
//! and goes on from the cursor the database holds. A batch is written only
//! once it has been read whole, and its cursor move is tried again until
//! it is stored, so nothing is given twice or skipped across the outage
//! (unless the outage outlasts the lock's lease and another export claims
//! the consumer: then the follower stops with an error, its last batch
//! given again by the other).

use std::io::{self, Write};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::signal::unix::{SignalKind, signal};

use super::{CursorUpdate, ExportError, ExportRequest, Format, claim, release, write_articles};
use crate::store::consumer_lock::ConsumerLock;
use crate::store::{Store, StoreError};

/// How often the follower looks for commits of other connections: well
/// within the second the SPEC's "as they arrive" allows.
const WAKE: Duration = Duration::from_millis(200);
/// The most articles read (into memory) and written as one batch: a batch
/// is written only once read whole, so that a connection lost while it is
/// read gives nothing twice.
const BATCH: u64 = 64;
/// The first wait after a lost connection, doubled while it stays lost...
const OUTAGE_FIRST: Duration = Duration::from_millis(200);
/// ...up to this.
const OUTAGE_MOST: Duration = Duration::from_secs(5);

/// Runs `request` (which names a consumer) as a follow; returns how many
/// articles were written when it ends cleanly.
pub fn follow(store: &mut Store, request: &ExportRequest) -> Result<usize, ExportError> {
    let request = ExportRequest {
        format: Format::Jsonl,
        peek: false,
        limit: None,
        output: None,
        ..request.clone()
    };
    let Some(consumer) = request.consumer.clone() else {
        return super::export(store, &request);
    };
    let request = ExportRequest {
        limit: Some(BATCH),
        ..request
    };
    let lock = claim(store, &consumer, request.lease)?;
    let result = Signals::install()
        .map_err(ExportError::Signals)
        .and_then(|mut signals| run(store, &request, &lock, &mut signals));
    release(store, lock);
    result
}

/// The follower's loop, while it holds `lock`.
fn run(
    store: &mut Store,
    request: &ExportRequest,
    lock: &ConsumerLock,
    signals: &mut Signals,
) -> Result<usize, ExportError> {
    let consumer = lock.consumer();
    let stdout = io::stdout();
    let mut written = 0usize;
    let mut seen_version = None;
    let mut more = false;
    let mut outage = Outage::new(consumer);
    loop {
        if lock.lost() {
            return Err(StoreError::ConsumerLockLost {
                consumer: consumer.to_owned(),
            }
            .into());
        }
        // Read before the snapshot: a commit after this point shows up as
        // a new version next time, so none is missed.
        let version = match store.data_version() {
            Ok(version) => version,
            Err(error) if error.is_connection_lost() => {
                if outage.wait(&error, signals) {
                    return Ok(written);
                }
                continue;
            }
            Err(error) => return Err(error.into()),
        };
        outage.over();
        if more || seen_version != Some(version) {
            let mut batch = Vec::new();
            let (count, CursorUpdate(cursor)) =
                match write_articles(store, request, &mut batch, "stdout") {
                    Ok(read) => read,
                    Err(ExportError::Store(error)) if error.is_connection_lost() => {
                        if outage.wait(&error, signals) {
                            return Ok(written);
                        }
                        continue;
                    }
                    Err(error) => return Err(error),
                };
            // Given out only while the lock is still this follower's (it
            // may have been stopped past its lease since the last batch).
            match store.renew_consumer(lock) {
                Ok(()) => {}
                Err(error) if error.is_connection_lost() => {
                    if outage.wait(&error, signals) {
                        return Ok(written);
                    }
                    continue;
                }
                Err(error) => return Err(error.into()),
            }
            let mut out = stdout.lock();
            if let Err(source) = out.write_all(&batch).and_then(|()| out.flush()) {
                if source.kind() == io::ErrorKind::BrokenPipe {
                    tracing::info!(
                        "export --follow for {consumer:?}: the reader closed the pipe; stopping (the unread batch stays for the next export)"
                    );
                    return Ok(written);
                }
                return Err(ExportError::Write {
                    target: "stdout".into(),
                    source,
                });
            }
            drop(out);
            if let Some(seq) = cursor {
                move_cursor(store, lock, seq, &mut outage, signals)?;
            }
            seen_version = Some(version);
            more = count as u64 >= BATCH;
            written += count;
            if more {
                continue;
            }
        }
        if signals.wait(WAKE) {
            tracing::info!("export --follow for {consumer:?}: stopping on a signal");
            return Ok(written);
        }
        if reader_gone() {
            tracing::info!(
                "export --follow for {consumer:?}: the reader closed the pipe; stopping"
            );
            return Ok(written);
        }
    }
}

/// Moves the cursor past a written batch, trying again while the
/// connection is lost (the move is fenced by the lock's token and never
/// goes back, so trying again is safe).
fn move_cursor(
    store: &mut Store,
    lock: &ConsumerLock,
    seq: i64,
    outage: &mut Outage,
    signals: &mut Signals,
) -> Result<(), ExportError> {
    let not_stored = |store: &Store, source| ExportError::CursorNotStored {
        consumer: lock.consumer().to_owned(),
        database: store.path().to_owned(),
        source: Box::new(source),
    };
    loop {
        match store.advance_cursor(lock, seq, Utc::now()) {
            Ok(()) => return Ok(()),
            Err(error) if error.is_connection_lost() => {
                if outage.wait(&error, signals) {
                    return Err(not_stored(store, error));
                }
            }
            Err(error) => return Err(not_stored(store, error)),
        }
    }
}

/// A lost connection, logged once, and the wait before the next try.
struct Outage<'a> {
    consumer: &'a str,
    /// When the first failure of this outage came.
    since: Option<Instant>,
    wait: Duration,
}

impl<'a> Outage<'a> {
    fn new(consumer: &'a str) -> Outage<'a> {
        Outage {
            consumer,
            since: None,
            wait: OUTAGE_FIRST,
        }
    }

    /// Logs the outage when `error` is its first failure, then waits
    /// before the next try; true when a signal came meanwhile.
    fn wait(&mut self, error: &StoreError, signals: &mut Signals) -> bool {
        if self.since.is_none() {
            self.since = Some(Instant::now());
            self.wait = OUTAGE_FIRST;
            tracing::warn!(
                "export --follow for {:?}: lost the database ({error}); connecting again, at most {} s apart",
                self.consumer,
                OUTAGE_MOST.as_secs()
            );
        }
        let stop = signals.wait(self.wait);
        self.wait = (self.wait * 2).min(OUTAGE_MOST);
        stop
    }

    /// The database answered again.
    fn over(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(
                "export --follow for {:?}: connected to the database again after {:.1} s",
                self.consumer,
                since.elapsed().as_secs_f64()
            );
        }
    }
}

/// SIGTERM and SIGINT, caught (not fatal) while the follower runs.
struct Signals {
    runtime: tokio::runtime::Runtime,
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> io::Result<Signals> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (terminate, interrupt) = {
            let _entered = runtime.enter();
            (
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
            )
        };
        Ok(Signals {
            runtime,
            terminate,
            interrupt,
        })
    }

    /// Sleeps for `period`; true when a signal came (during it, or since
    /// the last call: the handlers keep it).
    fn wait(&mut self, period: Duration) -> bool {
        let Signals {
            runtime,
            terminate,
            interrupt,
        } = self;
        runtime.block_on(async {
            tokio::select! {
                _ = terminate.recv() => true,
                _ = interrupt.recv() => true,
                () = tokio::time::sleep(period) => false,
            }
        })
    }
}

/// Whether stdout is a pipe whose reading end has been closed (poll(2)
/// reports an error on it), so that an idle follower notices.
fn reader_gone() -> bool {
    let mut stdout = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: poll(2) on one valid, initialised pollfd, without waiting.
    let ready = unsafe { libc::poll(&mut stdout, 1, 0) };
    ready > 0 && stdout.revents & (libc::POLLERR | libc::POLLHUP) != 0
}
