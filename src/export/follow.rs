//! `gleaner export --consumer NAME --follow`: the backlog, then each new
//! article as it is stored, as JSON lines on stdout, until a signal or the
//! reader goes away.
//!
//! Every batch keeps the export's order of operations: one snapshot from
//! the consumer's cursor, written and flushed, and only then the cursor
//! moved. The consumer's lock is held for the whole run, so another export
//! of the same consumer waits until this one ends.
//!
//! Between batches the process sleeps, and reads the database again only
//! when SQLite's `data_version` says another connection has committed
//! (PostgreSQL: when the highest committed seq has grown; checked every
//! [`WAKE`]): an idle follower costs one pragma (or one index look-up) per
//! tick and no export query. SIGTERM and SIGINT end it after the batch in hand (its cursor
//! stored); a closed pipe ends it without moving the cursor past what the
//! reader did not take.

use std::io::{self, Write};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use super::{ExportError, ExportRequest, Format, claim, write_articles};
use crate::store::Store;

/// How often the follower looks for commits of other connections: well
/// within the second the SPEC's "as they arrive" allows.
const WAKE: Duration = Duration::from_millis(200);

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
    let _following = claim(store, &consumer)?;
    let mut signals = Signals::install().map_err(ExportError::Signals)?;
    let stdout = io::stdout();
    let mut written = 0usize;
    let mut seen_version = None;
    loop {
        // Read before the snapshot: a commit after this point shows up as
        // a new version next time, so none is missed.
        let version = store.data_version()?;
        if seen_version != Some(version) {
            seen_version = Some(version);
            let mut out = io::BufWriter::new(stdout.lock());
            let batch = write_articles(store, &request, &mut out, "stdout").and_then(|batch| {
                out.flush().map_err(|source| ExportError::Write {
                    target: "stdout".into(),
                    source,
                })?;
                Ok(batch)
            });
            match batch {
                Ok((count, finish)) => {
                    finish.commit(store)?;
                    written += count;
                }
                Err(ExportError::Write { source, .. })
                    if source.kind() == io::ErrorKind::BrokenPipe =>
                {
                    tracing::info!(
                        "export --follow for {consumer:?}: the reader closed the pipe; stopping (the unread batch stays for the next export)"
                    );
                    return Ok(written);
                }
                Err(error) => return Err(error),
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
