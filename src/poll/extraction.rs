//! The threads that extract articles (and sanitize an entry's own content):
//! the pipeline's CPU work, kept off the async reactor.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use tokio::sync::oneshot;

use crate::store::handle::panic_message;

/// The stack of an extraction thread: what tokio gives its blocking threads,
/// and what the deepest page `article::limits` lets through needs (tested there).
const EXTRACTION_STACK: usize = 2 << 20;

/// How long one extraction may take. The bounds on bytes and depth keep a
/// page to seconds; past this the entry is stored with the feed's own text.
const DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// The threads that extract articles, one per core, fed through a channel.
///
/// A fixed set of threads rather than tokio's blocking pool: the pool grows to
/// many threads (feed parsing uses it too), and each thread that once built a
/// page's DOM keeps its own malloc arena of freed memory; two threads keep two.
/// The threads end when the pipeline is dropped.
pub(super) struct ExtractionPool {
    jobs: mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl ExtractionPool {
    pub(super) fn start(threads: usize) -> ExtractionPool {
        let (jobs, queue) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("gleaner-extract-{i}"))
                .stack_size(EXTRACTION_STACK)
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(mpsc::RecvError) => break,
                        }
                    }
                })
                .expect("spawning an extraction thread");
        }
        ExtractionPool { jobs }
    }

    /// Runs `work` on an extraction thread; `Err` with the panic's message
    /// when it panicked (the thread survives), or when it took longer than
    /// [`DEADLINE`]: the caller goes on without it (the thread finishes it).
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(move || {
            let result =
                catch_unwind(AssertUnwindSafe(work)).map_err(|panic| panic_message(panic.as_ref()));
            let _ = reply.send(result);
        });
        self.jobs
            .send(job)
            .map_err(|_| "the extraction threads have stopped".to_owned())?;
        match tokio::time::timeout(DEADLINE, answer).await {
            Ok(answer) => answer.map_err(|_| "the extraction thread stopped".to_owned())?,
            Err(_) => Err(format!(
                "gave up after {} s (bounded in bytes and depth, no page should take that long)",
                DEADLINE.as_secs()
            )),
        }
    }
}
