//! `gleaner run`: the scheduler, signals and systemd notifications.
//!
//! Feeds that share a cron expression share one tokio-cron-scheduler job,
//! whose tick polls them as one pass; adaptive feeds are polled by a repeated
//! job that sweeps for the ones that are due. Every feed is also polled once
//! at start-up. SIGHUP, or an edit of the config file (looked for every
//! two seconds), reloads the config: the new configuration's jobs are added
//! to the daemon's one scheduler, then the old one's are removed. All polls
//! run on one [`TaskTracker`] and observe one [`CancellationToken`], so
//! shutdown is a single path: stop the scheduler, cancel, wait for in-flight
//! polls (bounded), let the store thread commit and close.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;
use tokio_cron_scheduler::job::JobId;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::article::site_config;
use crate::config::{Config, FeedConfig};
use crate::deliver::Deliveries;
use crate::metrics::{Endpoints, Metrics};
use crate::poll::{FeedLocks, PassSummary, Pipeline, PollMode};
use crate::retention::Retention;
use crate::schedule::FeedSchedule;
use crate::store::{Access, Store, StoreHandle};

/// How long shutdown waits for polls in flight before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf, config: Config) -> anyhow::Result<()> {
    // Off the reactor: opening may connect to PostgreSQL, whose client
    // blocks (and would not run inside the async runtime at all).
    let database = config.storage.database.clone();
    let (store, last_successes) = tokio::task::spawn_blocking(move || {
        let store = Store::open_for(&database, Access::Create)
            .with_context(|| format!("cannot open database {}", database.display()))?;
        let last_successes = store
            .last_successes()
            .with_context(|| format!("cannot read database {}", database.display()))?;
        anyhow::Ok((store, last_successes))
    })
    .await
    .context("opening the database")??;
    let (store, store_thread) = StoreHandle::spawn(store);
    let heartbeat = Arc::new(Mutex::new(Instant::now()));
    let shared = Shared {
        scheduler: start_scheduler(heartbeat.clone()).await?,
        store: store.clone(),
        locks: FeedLocks::default(),
        cancel: CancellationToken::new(),
        tracker: TaskTracker::new(),
        heartbeat,
        metrics: Arc::new(Metrics::starting_from(last_successes)),
        passed: Arc::new(Notify::new()),
        last_purge: Arc::default(),
    };
    let (cancel, tracker) = (shared.cancel.clone(), shared.tracker.clone());

    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sighup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;

    let metrics_server = match config.metrics_listen {
        Some(addr) => Some(serve_metrics(addr, &shared).await?),
        None => None,
    };
    let mut schedule = Schedule::start(&config, &config.feeds, &shared).await?;
    let mut deliveries = Delivering::start(&config, &shared)?;
    notify(&[NotifyState::Ready]);
    notify_status(&format!(
        "polling {}",
        crate::plural::count(config.feeds.len() as u64, "feed", "feeds")
    ));
    tracing::info!(
        feeds = config.feeds.len(),
        database = %config.storage.database.display(),
        "gleaner is running"
    );
    // The watchdog is fed only while the scheduler ticks and the database
    // thread answers: a stuck scheduler or writer (or a starved runtime)
    // stops the pings and systemd restarts us.
    let watchdog = sd_notify::watchdog_enabled().map(|interval| {
        let (cancel, store, heartbeat) = (cancel.clone(), store.clone(), shared.heartbeat.clone());
        let stale_after = (interval / 2).max(HEARTBEAT * 3);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval / 2);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let since_beat = heartbeat.lock().unwrap_or_else(|e| e.into_inner()).elapsed();
                        let alive = tokio::time::timeout(interval / 4, store.call(|_| Ok(()))).await;
                        match alive {
                            _ if since_beat > stale_after => tracing::error!(
                                "the scheduler has not ticked for {since_beat:?}; not feeding the watchdog"),
                            Ok(Ok(())) => notify(&[NotifyState::Watchdog]),
                            Ok(Err(error)) => tracing::error!("the database thread failed ({error}); not feeding the watchdog"),
                            Err(_) => tracing::error!("the database thread did not answer within {:?}; not feeding the watchdog", interval / 4),
                        }
                    }
                    () = cancel.cancelled() => break,
                }
            }
        })
    });

    let mut config = config;
    // Set when the database thread died: the daemon stops with an error so
    // that the service manager restarts it, instead of polling on without
    // being able to store anything.
    let mut writer_died = None;
    // Edits of the config file (by hand or `gleaner add`) are picked up like
    // a SIGHUP, so a daemon started by hand needs no signal.
    let mut watched = ConfigStamp::of(&config_path);
    let mut watch = tokio::time::interval(CONFIG_WATCH);
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping"); break; }
            message = store.died() => {
                tracing::error!("the database thread stopped ({message}): stopping with an error so that gleaner is restarted");
                writer_died = Some(message);
                break;
            }
            _ = sighup.recv() => {
                reload(&config_path, &mut config, &mut schedule, &mut deliveries, &shared, "SIGHUP").await;
                watched = ConfigStamp::of(&config_path);
            }
            _ = watch.tick() => {
                let now = ConfigStamp::of(&config_path);
                if now != watched {
                    watched = now;
                    reload(&config_path, &mut config, &mut schedule, &mut deliveries, &shared, "the config file changed").await;
                }
            }
        }
    }

    notify(&[NotifyState::Stopping]);
    notify_status("stopping");
    // Stops every tick; the jobs go with the scheduler.
    if let Err(error) = shared.scheduler.clone().shutdown().await {
        tracing::warn!("stopping the scheduler: {error}");
    }
    deliveries.stop().await;
    cancel.cancel();
    tracker.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("polls still running after {SHUTDOWN_GRACE:?}; abandoning them");
    }
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    if let Some(server) = metrics_server {
        server.abort();
    }
    drop(schedule);
    drop(shared);
    drop(store);
    // The store thread drains its queue and commits before it returns.
    tokio::task::spawn_blocking(move || store_thread.join())
        .await
        .context("waiting for the database thread")?;
    if let Some(message) = writer_died {
        anyhow::bail!(
            "the database thread of {} panicked ({message}); nothing could be stored, so gleaner stopped (restart it; report the panic if it recurs)",
            config.storage.database.display()
        );
    }
    tracing::info!("stopped");
    Ok(())
}

/// How often the daemon looks for an edited config file.
const CONFIG_WATCH: Duration = Duration::from_secs(2);

/// What tells that the config file was written: its modification time and
/// size (`None` while it cannot be read: a reload then reports why).
#[derive(Debug, PartialEq, Eq)]
struct ConfigStamp(Option<(std::time::SystemTime, u64)>);

impl ConfigStamp {
    fn of(path: &Path) -> ConfigStamp {
        ConfigStamp(
            std::fs::metadata(path)
                .and_then(|m| Ok((m.modified()?, m.len())))
                .ok(),
        )
    }
}

/// Loads the config again and, when it is valid and its schedule starts,
/// replaces the running one; otherwise the running one stays (logged).
async fn reload(
    config_path: &Path,
    config: &mut Config,
    schedule: &mut Schedule,
    deliveries: &mut Delivering,
    shared: &Shared,
    why: &str,
) {
    let mut reloading = vec![NotifyState::Reloading];
    reloading.extend(NotifyState::monotonic_usec_now().ok());
    notify(&reloading);
    match Config::load(config_path) {
        Ok(new_config) => {
            if new_config.metrics_listen != config.metrics_listen {
                tracing::warn!("[metrics] listen changed: restart gleaner for it to take effect");
            }
            // Feeds new to the config get their first poll now; the others
            // keep their rhythm.
            let changes = ConfigChanges::between(config, &new_config);
            // The new configuration's jobs are added before the old one's
            // are removed, so that a failure keeps the old ones running;
            // FeedLocks keep the two from polling one feed at once.
            match Schedule::start(&new_config, &changes.added, shared).await {
                Ok(started) => {
                    schedule.stop(&shared.scheduler).await;
                    *schedule = started;
                    deliveries.stop().await;
                    *deliveries = Delivering::start(&new_config, shared).unwrap_or_else(|error| {
                        tracing::error!("{why}: cannot start the [[deliver]] blocks: {error:#}");
                        Delivering::default()
                    });
                    tracing::info!(
                        feeds = new_config.feeds.len(),
                        "{why}: configuration reloaded: {changes}"
                    );
                    notify_status(&format!(
                        "polling {}",
                        crate::plural::count(new_config.feeds.len() as u64, "feed", "feeds")
                    ));
                    *config = new_config;
                }
                Err(error) => tracing::error!(
                    "{why}: cannot start the new configuration's schedule, keeping the old one ({} feeds): {error:#}",
                    config.feeds.len()
                ),
            }
        }
        Err(error) => {
            tracing::error!(
                "{why}: the new configuration is invalid, keeping the old one ({} feeds):\n{error}",
                config.feeds.len()
            );
        }
    }
    notify(&[NotifyState::Ready]);
}

/// What a reload changed: the added feeds, and the names of the removed
/// and rescheduled ones.
#[derive(Default)]
struct ConfigChanges {
    /// The feeds themselves: they get their first poll at once.
    added: Vec<FeedConfig>,
    removed: Vec<String>,
    rescheduled: Vec<String>,
}

impl ConfigChanges {
    fn between(old: &Config, new: &Config) -> ConfigChanges {
        let mut changes = ConfigChanges::default();
        for feed in &new.feeds {
            match old.feeds.iter().find(|f| f.url == feed.url) {
                None => changes.added.push(feed.clone()),
                Some(before) if before.schedule.as_str() != feed.schedule.as_str() => {
                    changes.rescheduled.push(feed.name.clone())
                }
                Some(_) => {}
            }
        }
        for feed in &old.feeds {
            if !new.feeds.iter().any(|f| f.url == feed.url) {
                changes.removed.push(feed.name.clone());
            }
        }
        changes
    }
}

impl std::fmt::Display for ConfigChanges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let added: Vec<String> = self.added.iter().map(|f| f.name.clone()).collect();
        let parts: Vec<String> = [
            ("added", &added),
            ("removed", &self.removed),
            ("rescheduled", &self.rescheduled),
        ]
        .into_iter()
        .filter(|(_, names)| !names.is_empty())
        .map(|(what, names)| {
            format!(
                "{} {what} ({})",
                crate::plural::count(names.len() as u64, "feed", "feeds"),
                names.join(", ")
            )
        })
        .collect();
        if parts.is_empty() {
            f.write_str("no feed added, removed or rescheduled")
        } else {
            f.write_str(&parts.join(", "))
        }
    }
}

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

/// How often the scheduler proves it is alive (see the watchdog in [`run`]).
const HEARTBEAT: Duration = Duration::from_secs(1);

/// What every configuration's jobs share for the daemon's lifetime.
struct Shared {
    /// The one scheduler: a reload swaps its jobs (see [`start_scheduler`]).
    scheduler: JobScheduler,
    store: StoreHandle,
    locks: FeedLocks,
    cancel: CancellationToken,
    tracker: TaskTracker,
    /// When the scheduler last ran its heartbeat job.
    heartbeat: Arc<Mutex<Instant>>,
    metrics: Arc<Metrics>,
    /// Told when a poll pass ends: deliveries then look for new articles.
    passed: Arc<Notify>,
    /// When this daemon last started a retention purge.
    last_purge: Arc<Mutex<Option<Instant>>>,
}

/// The task that runs the `[[deliver]]` blocks of one configuration.
#[derive(Default)]
struct Delivering {
    task: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Delivering {
    fn start(config: &Config, shared: &Shared) -> anyhow::Result<Delivering> {
        let Some(deliveries) =
            Deliveries::new(config, shared.store.clone(), shared.metrics.clone())?
        else {
            return Ok(Delivering::default());
        };
        let stop = shared.cancel.child_token();
        let task = shared.tracker.spawn(crate::deliver::run(
            deliveries,
            shared.passed.clone(),
            stop.clone(),
        ));
        Ok(Delivering {
            task: Some((stop, task)),
        })
    }

    /// Stops the task and waits for it (it holds at most one consumer lock,
    /// which must be gone before another task takes one).
    async fn stop(&mut self) {
        if let Some((stop, task)) = self.task.take() {
            stop.cancel();
            let _ = task.await;
        }
    }
}

/// Serves `/metrics` and `/healthz` on `addr` until the daemon stops.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    shared: &Shared,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for [metrics] (is the port in use?)"))?;
    let router = Endpoints {
        metrics: shared.metrics.clone(),
        store: shared.store.clone(),
        heartbeat: shared.heartbeat.clone(),
        stale_after: HEARTBEAT * 3,
    }
    .router();
    let cancel = shared.cancel.clone();
    tracing::info!("serving /metrics and /healthz on http://{addr}");
    Ok(tokio::spawn(async move {
        let serve = axum::serve(listener, router).with_graceful_shutdown(cancel.cancelled_owned());
        if let Err(error) = serve.await {
            tracing::error!("the metrics server stopped: {error}");
        }
    }))
}

/// Creates the daemon's one scheduler, with its heartbeat, and starts it.
///
/// A reload swaps a configuration's jobs on this scheduler rather than
/// making another: each `JobScheduler` spawns a dozen listener tasks that
/// hold the senders of their own channels, so they never end (`shutdown`
/// only stops the ticking), and a scheduler per reload left about 200 KB
/// behind every time.
async fn start_scheduler(heartbeat: Arc<Mutex<Instant>>) -> anyhow::Result<JobScheduler> {
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
struct Schedule {
    jobs: Vec<JobId>,
    _pipeline: Arc<Pipeline>,
}

impl Schedule {
    /// Adds a job per feed of `config` to the daemon's scheduler and polls
    /// `first_poll` right away. When a job cannot be added, the ones added
    /// are removed again, so the running configuration's jobs are the only
    /// ones left.
    async fn start(
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
            let job = Job::new_async(cron, move |_, _| {
                // Gone once this configuration was replaced.
                let Some(pipeline) = pipeline.upgrade() else {
                    return Box::pin(async {});
                };
                let (feeds, passed) = (feeds.clone(), passed.clone());
                tracker.spawn(async move {
                    pipeline.poll_all(&feeds, PollMode::Scheduled, |_| {}).await;
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
    async fn stop(&mut self, scheduler: &JobScheduler) {
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

fn notify(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {error}");
    }
}

fn notify_status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}
