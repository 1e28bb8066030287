//! The daemon's single owner of the database connection.
//!
//! rusqlite is synchronous, so the connection lives on a dedicated thread and
//! async code sends it closures over a bounded channel (back-pressure when the
//! writer falls behind). Dropping every [`StoreHandle`] lets the thread drain
//! the queue, finish the last transaction and close the database.
//!
//! The handle remembers the first call that failed, so that a command can
//! tell "the database failed" (exit 1) from "some feeds failed" (recorded).
//!
//! A job that panics stops the thread: the connection may be in the middle
//! of a transaction nobody will finish, and carrying on would leave a
//! process that polls and fetches but stores nothing. [`StoreHandle::died`]
//! tells the daemon, which exits 1 so that the service manager restarts it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::{Store, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

enum Message {
    Run(Job),
    /// Finish the jobs queued before this one, then close the database.
    Stop,
}

/// How many requests may queue up for the writer thread.
const QUEUE: usize = 64;

/// A cloneable async handle to the thread that owns the [`Store`].
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Message>,
    /// The message of the first call that failed, shared by all clones.
    first_failure: Arc<Mutex<Option<String>>>,
    /// Nanoseconds the thread has spent running jobs (see [`StoreHandle::busy`]).
    busy: Arc<AtomicU64>,
    /// Cancelled when a job panicked and the thread stopped; the message is in `panic`.
    dead: CancellationToken,
    panic: Arc<Mutex<Option<String>>>,
    /// Whether the database is shared by instances (PostgreSQL).
    shared: bool,
}

/// Stops and joins the writer thread; returned by [`StoreHandle::spawn`].
pub struct StoreThread {
    thread: thread::JoinHandle<()>,
    jobs: mpsc::Sender<Message>,
}

impl StoreThread {
    /// Lets the jobs already queued finish, closes the database and waits for
    /// the thread. Handles still alive then get [`StoreError::WriterGone`].
    /// Blocking: call it off the async reactor.
    pub fn join(self) {
        let _ = self.jobs.blocking_send(Message::Stop);
        if self.thread.join().is_err() {
            tracing::error!("the database thread panicked");
        }
    }
}

impl StoreHandle {
    /// Moves `store` onto its own thread.
    pub fn spawn(mut store: Store) -> (StoreHandle, StoreThread) {
        let shared = store.is_shared();
        let (jobs, mut queue) = mpsc::channel::<Message>(QUEUE);
        let busy = Arc::new(AtomicU64::new(0));
        let counter = busy.clone();
        let dead = CancellationToken::new();
        let panic = Arc::new(Mutex::new(None));
        let (dying, last_words) = (dead.clone(), panic.clone());
        let thread = thread::Builder::new()
            .name("gleaner-store".into())
            .spawn(move || {
                while let Some(Message::Run(job)) = queue.blocking_recv() {
                    let started = Instant::now();
                    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| job(&mut store))) {
                        let message = panic_message(payload.as_ref());
                        tracing::error!(
                            "the database thread panicked and stopped: {message}; nothing more can be stored"
                        );
                        *last_words.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
                        // Close the queue first, so that no caller waits on a
                        // job that will never run.
                        queue.close();
                        dying.cancel();
                        return;
                    }
                    let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                    counter.fetch_add(nanos, Ordering::Relaxed);
                }
            })
            .expect("spawning the database thread");
        let stopper = jobs.clone();
        (
            StoreHandle {
                jobs,
                first_failure: Arc::default(),
                busy,
                dead,
                panic,
                shared,
            },
            StoreThread {
                thread,
                jobs: stopper,
            },
        )
    }

    /// Whether other instances may share the database (PostgreSQL): what
    /// they do together must then be agreed through it.
    pub fn is_shared(&self) -> bool {
        self.shared
    }

    /// The time the database thread has spent running jobs since it started
    /// (the benchmarks divide it by wall time: the share of time in SQLite).
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy.load(Ordering::Relaxed))
    }

    /// Waits until the database thread has stopped because a job panicked,
    /// and returns the panic's message. Never returns while the thread works
    /// (an orderly [`StoreThread::join`] does not count).
    pub async fn died(&self) -> String {
        self.dead.cancelled().await;
        self.panic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .unwrap_or_else(|| "a panic".to_owned())
    }

    /// Runs `f` on the database thread and returns its result. Once
    /// queued, `f` runs even if the caller stops waiting (a cursor moved
    /// after its batch went out must move).
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(f, false).await
    }

    /// [`StoreHandle::call`] for a write only its caller wants (a poll's):
    /// if the caller has stopped waiting when its turn comes (the poll was
    /// dropped because its lease ran out, or the daemon is stopping), `f`
    /// does not run, so a poll given up never writes afterwards.
    pub async fn call_while_wanted<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.run(f, true).await
    }

    async fn run<T, F>(&self, f: F, only_if_wanted: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            if only_if_wanted && reply.is_closed() {
                return;
            }
            let _ = reply.send(f(store));
        });
        // A full queue makes the caller wait: back-pressure on the pollers.
        let result = match self.jobs.send(Message::Run(job)).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err(StoreError::WriterGone)),
            Err(_) => Err(StoreError::WriterGone),
        };
        // An error caused by the data written is the failure of the feed
        // that wrote it (recorded in its state), not of the database; a
        // lease lost or a lock waited for too long is an instance's turn
        // taken by another, not a failure either.
        if let Err(error) = &result
            && !error.is_data_error()
            && !matches!(
                error,
                StoreError::LeaseLost | StoreError::LockTimeout { .. }
            )
        {
            let mut first = self.first_failure.lock().unwrap_or_else(|e| e.into_inner());
            first.get_or_insert_with(|| error.to_string());
        }
        result
    }

    /// The error of the first call that failed on any clone of this handle,
    /// if one did: the database could not be read or written (disk full,
    /// read-only file), as opposed to a feed's own failure (an error caused
    /// by the data it wrote, [`StoreError::is_data_error`], is not counted).
    pub fn first_failure(&self) -> Option<String> {
        self.first_failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// The text of a panic's payload (`panic!` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
