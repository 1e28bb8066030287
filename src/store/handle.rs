//! The daemon's single owner of the database connection.
//!
//! rusqlite is synchronous, so the connection lives on a dedicated thread and
//! async code sends it closures over a bounded channel (back-pressure when the
//! writer falls behind). Dropping every [`StoreHandle`] lets the thread drain
//! the queue, finish the last transaction and close the database.

use std::thread;

use tokio::sync::{mpsc, oneshot};

use super::{Store, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// How many requests may queue up for the writer thread.
const QUEUE: usize = 64;

/// A cloneable async handle to the thread that owns the [`Store`].
#[derive(Clone)]
pub struct StoreHandle {
    jobs: mpsc::Sender<Job>,
}

/// Joins the writer thread; returned by [`StoreHandle::spawn`].
pub struct StoreThread(thread::JoinHandle<()>);

impl StoreThread {
    /// Waits until every handle is dropped and the queue is drained.
    pub fn join(self) {
        if self.0.join().is_err() {
            tracing::error!("the database thread panicked");
        }
    }
}

impl StoreHandle {
    /// Moves `store` onto its own thread.
    pub fn spawn(mut store: Store) -> (StoreHandle, StoreThread) {
        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        let thread = thread::Builder::new()
            .name("gleaner-store".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    job(&mut store);
                }
            })
            .expect("spawning the database thread");
        (StoreHandle { jobs }, StoreThread(thread))
    }

    /// Runs `f` on the database thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |store| {
            let _ = reply.send(f(store));
        });
        // A full queue makes the caller wait: back-pressure on the pollers.
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}
