//! A running daemon takes a new configuration: on SIGHUP or when the file's
//! mtime or size changes, the new configuration's jobs are added before the
//! old one's are removed, and the log says what changed.

use std::path::Path;
use std::time::Duration;

use sd_notify::NotifyState;

use super::jobs::Schedule;
use super::{Delivering, Shared, notify, notify_status};
use crate::config::{Config, FeedConfig};

/// How often the daemon looks for an edited config file.
pub(super) const CONFIG_WATCH: Duration = Duration::from_secs(2);

/// What tells that the config file was written: its modification time and
/// size (`None` while it cannot be read: a reload then reports why).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct ConfigStamp(Option<(std::time::SystemTime, u64)>);

impl ConfigStamp {
    pub(super) fn of(path: &Path) -> ConfigStamp {
        ConfigStamp(
            std::fs::metadata(path)
                .and_then(|m| Ok((m.modified()?, m.len())))
                .ok(),
        )
    }
}

/// Loads the config again and, when it is valid and its schedule starts,
/// replaces the running one; otherwise the running one stays (logged).
pub(super) async fn reload(
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
                    "{why}: cannot start the new configuration's schedule, keeping the old one ({}): {error:#}",
                    crate::plural::count(config.feeds.len() as u64, "feed", "feeds")
                ),
            }
        }
        Err(error) => {
            tracing::error!(
                "{why}: the new configuration is invalid, keeping the old one ({}):\n{error}",
                crate::plural::count(config.feeds.len() as u64, "feed", "feeds")
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
