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

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;
use tokio_cron_scheduler::JobScheduler;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::deliver::Deliveries;
use crate::metrics::{Endpoints, Metrics};
use crate::poll::FeedLocks;
use crate::store::{Access, Store, StoreHandle};

mod jobs;
mod reload;

use jobs::{Schedule, start_scheduler};
use reload::{CONFIG_WATCH, ConfigStamp, reload};

/// How long shutdown waits for polls in flight before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf, config: Config) -> anyhow::Result<()> {
    // First, so that a stop asked for while the database opens (a
    // PostgreSQL connection can take seconds) is a clean stop once the
    // daemon is up, not the default action of the signal.
    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sighup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;

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

fn notify(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {error}");
    }
}

fn notify_status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}
