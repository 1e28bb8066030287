//! `gleaner run`: the scheduler, signals and systemd notifications.
//!
//! One job per feed is registered with tokio-cron-scheduler; every feed is
//! also polled once at start-up. All polls run on one [`TaskTracker`] and
//! observe one [`CancellationToken`], so shutdown is a single path: stop the
//! scheduler, cancel, wait for in-flight polls (bounded), let the store thread
//! commit and close.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sd_notify::NotifyState;
use tokio::signal::unix::{SignalKind, signal};
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, FeedConfig};
use crate::poll::{FeedLocks, PassSummary, Pipeline, PollMode};
use crate::store::{Store, StoreHandle};

/// How long shutdown waits for polls in flight before abandoning them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Runs the daemon until SIGTERM or SIGINT.
pub async fn run(config_path: PathBuf, config: Config) -> anyhow::Result<()> {
    let store = Store::open(&config.storage.database)?;
    let (store, store_thread) = StoreHandle::spawn(store);
    let locks = FeedLocks::default();
    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();

    let mut sigterm = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut sighup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;

    let mut schedule =
        Schedule::start(&config, &config.feeds, &store, &locks, &cancel, &tracker).await?;
    notify(&[NotifyState::Ready]);
    notify_status(&format!("polling {} feeds", config.feeds.len()));
    tracing::info!(
        feeds = config.feeds.len(),
        database = %config.storage.database.display(),
        "gleaner is running"
    );
    // The watchdog is fed only while the database thread answers: a stuck
    // writer (or a starved runtime) stops the pings and systemd restarts us.
    let watchdog = sd_notify::watchdog_enabled().map(|interval| {
        let (cancel, store) = (cancel.clone(), store.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(interval / 2);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        let alive = tokio::time::timeout(interval / 4, store.call(|_| Ok(()))).await;
                        match alive {
                            Ok(Ok(())) => notify(&[NotifyState::Watchdog]),
                            _ => tracing::error!("the database thread did not answer within {:?}; not feeding the watchdog", interval / 4),
                        }
                    }
                    () = cancel.cancelled() => break,
                }
            }
        })
    });

    let mut config = config;
    loop {
        tokio::select! {
            _ = sigterm.recv() => { tracing::info!("SIGTERM: stopping"); break; }
            _ = sigint.recv() => { tracing::info!("SIGINT: stopping"); break; }
            _ = sighup.recv() => {
                let mut reloading = vec![NotifyState::Reloading];
                reloading.extend(NotifyState::monotonic_usec_now().ok());
                notify(&reloading);
                match Config::load(&config_path) {
                    Ok(new_config) => {
                        schedule.stop().await;
                        // Feeds new to the config get their first poll now; the
                        // others keep their rhythm.
                        let added: Vec<_> = new_config
                            .feeds
                            .iter()
                            .filter(|f| !config.feeds.iter().any(|old| old.url == f.url))
                            .cloned()
                            .collect();
                        schedule = Schedule::start(&new_config, &added, &store, &locks, &cancel, &tracker).await?;
                        tracing::info!(feeds = new_config.feeds.len(), "configuration reloaded");
                        notify_status(&format!("polling {} feeds", new_config.feeds.len()));
                        config = new_config;
                    }
                    Err(error) => {
                        tracing::error!("SIGHUP: the new configuration is invalid, keeping the old one ({} feeds):\n{error}", config.feeds.len());
                    }
                }
                notify(&[NotifyState::Ready]);
            }
        }
    }

    notify(&[NotifyState::Stopping]);
    notify_status("stopping");
    schedule.stop().await;
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
    drop(schedule);
    drop(store);
    // The store thread drains its queue and commits before it returns.
    tokio::task::spawn_blocking(move || store_thread.join())
        .await
        .context("waiting for the database thread")?;
    tracing::info!("stopped");
    Ok(())
}

/// The jobs of one configuration.
struct Schedule {
    scheduler: JobScheduler,
}

impl Schedule {
    /// Registers a job per feed of `config` and polls `first_poll` right away.
    async fn start(
        config: &Config,
        first_poll: &[FeedConfig],
        store: &StoreHandle,
        locks: &FeedLocks,
        cancel: &CancellationToken,
        tracker: &TaskTracker,
    ) -> anyhow::Result<Schedule> {
        let pipeline = Arc::new(
            Pipeline::new(config, store.clone(), locks.clone(), cancel.clone())
                .context("starting the HTTP client")?,
        );
        let scheduler = JobScheduler::new()
            .await
            .context("starting the scheduler")?;
        for feed in &config.feeds {
            let feed = Arc::new(feed.clone());
            let (pipeline, tracker) = (pipeline.clone(), tracker.clone());
            let (cron, name) = (feed.schedule.as_str().to_owned(), feed.name.clone());
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let (pipeline, feed) = (pipeline.clone(), feed.clone());
                tracker.spawn(async move {
                    pipeline.poll_feed(&feed, PollMode::Scheduled).await;
                });
                Box::pin(async {})
            })
            .with_context(|| format!("scheduling feed {name} ({cron})"))?;
            scheduler
                .add(job)
                .await
                .context("adding a job to the scheduler")?;
        }
        scheduler.start().await.context("starting the scheduler")?;

        // The first poll of a feed happens now, not at its first tick.
        let feeds = first_poll.to_vec();
        tracker.spawn(async move {
            let summary: PassSummary = pipeline.poll_all(&feeds, PollMode::Scheduled, |_| {}).await;
            tracing::info!("first poll: {summary}");
        });
        Ok(Schedule { scheduler })
    }

    async fn stop(&mut self) {
        if let Err(error) = self.scheduler.shutdown().await {
            tracing::warn!("stopping the scheduler: {error}");
        }
    }
}

fn notify(states: &[NotifyState<'_>]) {
    if let Err(error) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {error}");
    }
}

fn notify_status(status: &str) {
    notify(&[NotifyState::Status(status)]);
}
