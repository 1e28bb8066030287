//! The daemon's one scheduler and a configuration's jobs on it: one job per
//! distinct cron expression, the sweep for adaptive feeds that are due, and
//! the daily purge.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio_cron_scheduler::job::JobId;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::task::TaskTracker;

use super::{HEARTBEAT, Shared};
use crate::article::site_config;
use crate::config::{Config, FeedConfig};
use crate::poll::{PassSummary, Pipeline, PollMode};
use crate::retention::Retention;
use crate::schedule::FeedSchedule;
use crate::store::StoreHandle;

/// When the daemon purges what retention no longer keeps: daily, and when
/// it starts (a reload does not purge: on a large database a purge is heavy,
/// and every `gleaner add` reloads).
const GC_SCHEDULE: &str = "0 17 3 * * *";

/// The daemon purges about once per this period. The first configuration
/// with retention purges at once unless the daemon purged within it; the
/// daily tick skips when the daemon purged within half of it (a daemon
/// started at 03:10 purges once that day). The time of the last purge is
/// the daemon's, kept across reloads: a restart purges again, once.
const PURGE_EVERY: Duration = Duration::from_secs(24 * 3600);

/// Creates the daemon's one scheduler, with its heartbeat, and starts it.
///
/// A reload swaps a configuration's jobs on this scheduler rather than
/// making another: each `JobScheduler` spawns a dozen listener tasks that
/// hold the senders of their own channels, so they never end (`shutdown`
/// only stops the ticking), and a scheduler per reload left about 200 KB
/// behind every time.
pub(super) async fn start_scheduler(
    heartbeat: Arc<Mutex<Instant>>,
) -> anyhow::Result<JobScheduler> {
    let scheduler = JobScheduler::new()
        .await
        .context("creating the scheduler")?;
    // The daemon's, not a configuration's: it stays across reloads.
    let job = Job::new_repeated_async(HEARTBEAT, move |_, _| {
        *heartbeat.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        Box::pin(async {})
    })
    .context("scheduling the heartbeat")?;
    scheduler
        .add(job)
        .await
        .context("adding the heartbeat to the scheduler")?;
    scheduler.start().await.context("starting the scheduler")?;
    Ok(scheduler)
}

/// The jobs one configuration added to the daemon's scheduler, and the
/// [`Pipeline`] they poll with (its HTTP clients and extraction threads).
///
/// The schedule holds the only lasting reference to its pipeline; jobs
/// hold a `Weak` one and polls a strong one only while they run, so a
/// replaced configuration's pipeline, threads and all, is dropped once its
/// polls in flight are done, even while the scheduler still holds a
/// removed job's code (it lets go of it a moment after `remove`).
pub(super) struct Schedule {
    jobs: Vec<JobId>,
    _pipeline: Arc<Pipeline>,
}

impl Schedule {
    /// Adds a job per feed of `config` to the daemon's scheduler and polls
    /// `first_poll` right away. When a job cannot be added, the ones added
    /// are removed again, so the running configuration's jobs are the only
    /// ones left.
    pub(super) async fn start(
        config: &Config,
        first_poll: &[FeedConfig],
        shared: &Shared,
    ) -> anyhow::Result<Schedule> {
        let tracker = &shared.tracker;
        let pipeline = Arc::new(
            Pipeline::new(
                config,
                shared.store.clone(),
                shared.locks.clone(),
                shared.cancel.clone(),
            )
            .context("starting the HTTP client")?
            .with_metrics(shared.metrics.clone())
            .with_site_configs(
                site_config::load_logged(&config.extraction.site_config_dirs)
                    .context("loading the site rules")?,
            ),
        );
        let mut jobs = Vec::new();
        let mut by_cron: BTreeMap<&str, Vec<FeedConfig>> = BTreeMap::new();
        let mut adaptive = Vec::new();
        for feed in &config.feeds {
            match &feed.schedule {
                FeedSchedule::Cron(cron) => {
                    by_cron.entry(cron.as_str()).or_default().push(feed.clone())
                }
                FeedSchedule::Adaptive => adaptive.push(feed.clone()),
            }
        }
        for (cron, feeds) in by_cron {
            let count = feeds.len();
            let feeds = Arc::new(feeds);
            let (pipeline, tracker) = (Arc::downgrade(&pipeline), tracker.clone());
            let passed = shared.passed.clone();
            // This schedule's previous tick (at first, the start-up pass):
            // when this tick began as far as claims go (`poll::tick_start`).
            let previous = Arc::new(Mutex::new(Instant::now()));
            let job = Job::new_async(cron, move |_, _| {
                // Gone once this configuration was replaced.
                let Some(pipeline) = pipeline.upgrade() else {
                    return Box::pin(async {});
                };
                let tick = {
                    let mut previous = previous.lock().unwrap_or_else(|e| e.into_inner());
                    let tick = crate::poll::tick_start(Some(*previous));
                    *previous = Instant::now();
                    tick
                };
                let (feeds, passed) = (feeds.clone(), passed.clone());
                tracker.spawn(async move {
                    pipeline
                        .poll_tick(&feeds, PollMode::Scheduled, tick, |_| {})
                        .await;
                    passed.notify_one();
                });
                Box::pin(async {})
            })
            .with_context(|| format!("scheduling {count} feeds on {cron:?}"))?;
            jobs.push(job);
        }
        if !adaptive.is_empty() {
            jobs.push(sweep_job(adaptive, config, &pipeline, shared)?);
        }
        let retention = config.storage.retention;
        let purge = retention.is_set().then(|| Purge {
            retention,
            store: shared.store.clone(),
            tracker: tracker.clone(),
            last: shared.last_purge.clone(),
        });
        if let Some(purge) = purge.clone() {
            let job = Job::new_async(GC_SCHEDULE, move |_, _| {
                purge.unless_done_within(PURGE_EVERY / 2);
                Box::pin(async {})
            })
            .context("scheduling the daily purge")?;
            jobs.push(job);
        }

        let mut schedule = Schedule {
            jobs: Vec::with_capacity(jobs.len()),
            _pipeline: pipeline.clone(),
        };
        for job in jobs {
            match shared.scheduler.add(job).await {
                Ok(id) => schedule.jobs.push(id),
                Err(error) => {
                    schedule.stop(&shared.scheduler).await;
                    return Err(error).context("adding a job to the scheduler");
                }
            }
        }
        // The first configuration with retention purges at once; later ones
        // (reloads) leave it to the daily tick, unless none purged before.
        if let Some(purge) = purge {
            purge.unless_done_within(PURGE_EVERY);
        }

        // The first poll of a feed happens now, not at its first tick.
        let feeds = first_poll.to_vec();
        let (first, passed) = (pipeline, shared.passed.clone());
        tracker.spawn(async move {
            if feeds.is_empty() {
                return;
            }
            let summary: PassSummary = first.poll_all(&feeds, PollMode::Scheduled, |_| {}).await;
            tracing::info!("first poll: {summary}");
            passed.notify_one();
        });
        Ok(schedule)
    }

    /// Removes this configuration's jobs from the scheduler; polls they
    /// started run on (the daemon's tracker waits for them at exit).
    pub(super) async fn stop(&mut self, scheduler: &JobScheduler) {
        for id in self.jobs.drain(..) {
            if let Err(error) = scheduler.remove(&id).await {
                tracing::warn!("removing job {id} from the scheduler: {error}");
            }
        }
    }
}

/// The retention purge of one configuration, and when the daemon last
/// purged (kept across reloads in [`Shared`]).
#[derive(Clone)]
struct Purge {
    retention: Retention,
    store: StoreHandle,
    tracker: TaskTracker,
    last: Arc<Mutex<Option<Instant>>>,
}

impl Purge {
    /// Purges in the background unless the daemon has purged within `within`.
    fn unless_done_within(&self, within: Duration) {
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|at| at.elapsed() < within) {
                return;
            }
            *last = Some(Instant::now());
        }
        let (store, retention) = (self.store.clone(), self.retention);
        self.tracker.spawn(async move {
            match store
                .call(move |s| s.purge(&retention, chrono::Utc::now()))
                .await
            {
                Ok(p) => tracing::info!(
                    by_age = p.by_age,
                    by_feed_limit = p.by_feed_limit,
                    "purged old articles"
                ),
                Err(error) => tracing::error!("purging old articles: {error}"),
            }
        });
    }
}

/// The repeated job that polls the adaptive `feeds` that are due. It runs
/// every tenth of `adaptive_min` (between 1 s and a minute), so a feed is
/// polled at most that late; a sweep still running makes the next one skip.
fn sweep_job(
    feeds: Vec<FeedConfig>,
    config: &Config,
    pipeline: &Arc<Pipeline>,
    shared: &Shared,
) -> anyhow::Result<Job> {
    let period =
        (config.schedule.adaptive.min / 10).clamp(Duration::from_secs(1), Duration::from_secs(60));
    let urls: Arc<Vec<String>> =
        Arc::new(feeds.iter().map(|f| f.url.as_str().to_owned()).collect());
    let feeds = Arc::new(feeds);
    let sweeping = Arc::new(tokio::sync::Mutex::new(()));
    let (pipeline, store, tracker, passed) = (
        Arc::downgrade(pipeline),
        shared.store.clone(),
        shared.tracker.clone(),
        shared.passed.clone(),
    );
    Job::new_repeated_async(period, move |_, _| {
        // Gone once this configuration was replaced.
        let Some(pipeline) = pipeline.upgrade() else {
            return Box::pin(async {});
        };
        let (store, feeds, urls, passed) =
            (store.clone(), feeds.clone(), urls.clone(), passed.clone());
        let Ok(running) = sweeping.clone().try_lock_owned() else {
            return Box::pin(async {});
        };
        tracker.spawn(async move {
            let _running = running;
            let due = match store
                .call(move |s| s.due_feeds(&urls, chrono::Utc::now()))
                .await
            {
                Ok(due) => due,
                Err(error) => {
                    tracing::error!("finding the adaptive feeds that are due: {error}");
                    return;
                }
            };
            let due: HashSet<String> = due.into_iter().collect();
            let due: Vec<FeedConfig> = feeds
                .iter()
                .filter(|f| due.contains(f.url.as_str()))
                .cloned()
                .collect();
            if !due.is_empty() {
                pipeline.poll_all(&due, PollMode::Scheduled, |_| {}).await;
                passed.notify_one();
            }
        });
        Box::pin(async {})
    })
    .context("scheduling the adaptive feeds")
}
