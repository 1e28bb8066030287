//! The timed jobs of one configuration: cron ticks and repeated runs, each
//! one task of the configuration's own [`TaskTracker`], all stopped by one
//! token.
//!
//! A reload replaces every job, so a replaced configuration must leave
//! nothing behind. tokio-cron-scheduler could not promise that: each of its
//! schedulers spawns a dozen listener tasks that hold the senders of their
//! own channels, so they never end, and `shutdown` only stops the ticking;
//! every reload left a scheduler's tasks, channels and job stores behind
//! (about 200 KB). Here a job is a task that ends when [`Jobs::stop`]
//! cancels it, and `stop` waits until every one has ended.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::schedule::CronSchedule;

/// The longest a cron job sleeps before it looks at the clock again, so a
/// change of the system clock or a suspend delays a tick by at most this.
const CLOCK_CHECK: Duration = Duration::from_secs(30);

/// The jobs of one configuration (see the module's documentation).
pub(super) struct Jobs {
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl Jobs {
    pub(super) fn new() -> Jobs {
        Jobs {
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Runs `job` at every time `cron` names (UTC). A tick missed while the
    /// machine slept runs once, late; the next is counted from then.
    /// `job` must return quickly: it spawns whatever takes time.
    pub(super) fn cron(&self, cron: CronSchedule, mut job: impl FnMut() + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let mut after = Utc::now();
            while let Some(next) = cron.next_after(after) {
                loop {
                    let now = Utc::now();
                    if now >= next {
                        break;
                    }
                    let wait = (next - now)
                        .to_std()
                        .unwrap_or_default()
                        .clamp(Duration::from_millis(1), CLOCK_CHECK);
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = stop.cancelled() => return,
                    }
                }
                job();
                after = next.max(Utc::now());
            }
        });
    }

    /// Runs `job` every `period`, the first time one `period` from now.
    pub(super) fn every(&self, period: Duration, mut job: impl FnMut() + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            let start = tokio::time::Instant::now() + period;
            let mut ticks = tokio::time::interval_at(start, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => job(),
                    () = stop.cancelled() => return,
                }
            }
        });
    }

    /// Stops every job and waits until their tasks have ended (what a job
    /// spawned elsewhere runs on).
    pub(super) async fn stop(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Drop for Jobs {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn repeated_jobs_run_each_period_and_end_when_stopped() {
        let jobs = Jobs::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        jobs.every(Duration::from_millis(20), move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while runs.load(Ordering::SeqCst) < 3 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        jobs.stop().await;
        assert!(jobs.tasks.is_empty());
        let stopped_at = runs.load(Ordering::SeqCst);
        assert!(stopped_at >= 3);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), stopped_at);
    }

    #[tokio::test]
    async fn cron_jobs_tick_and_end_when_stopped() {
        let jobs = Jobs::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        jobs.cron("* * * * * *".parse().unwrap(), move || {
            counted.fetch_add(1, Ordering::SeqCst);
        });
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while runs.load(Ordering::SeqCst) < 2 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(runs.load(Ordering::SeqCst) >= 2);
        jobs.stop().await;
        assert!(jobs.tasks.is_empty());
    }
}
