//! `gleaner export-opml`: the configured feeds as OPML 2.0.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;

use super::out;
use crate::config::Config;
use crate::store::{Access, Store, StoreError};
use crate::subscribe;

/// Writes the OPML to `output` atomically, or to stdout.
pub(super) fn export_opml(config: &Config, output: Option<PathBuf>) -> anyhow::Result<()> {
    let opml = subscribe::write_opml(config, &stored_formats(config), Utc::now());
    match output {
        Some(file) => crate::atomic::write(&file, opml.as_bytes(), ".gleaner-")
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => out::write_all(opml.as_bytes())?,
    }
    Ok(())
}

/// Each polled feed's format (`feed::FeedFormat::as_str`) by URL, as its
/// last parsed fetch found it. A subscription list is the config's: with no
/// database yet (nothing polled) every feed is written with the type its
/// config implies, and a database that cannot be read is said once, not fatal.
fn stored_formats(config: &Config) -> HashMap<String, String> {
    match Store::open_for(&config.storage.database, Access::Read) {
        Ok(store) => match store.feed_statuses() {
            Ok(statuses) => statuses
                .into_iter()
                .filter_map(|(url, status)| Some((url, status.format?)))
                .collect(),
            Err(error) => unread(error),
        },
        Err(StoreError::Missing { .. }) => HashMap::new(),
        Err(error) => unread(error),
    }
}

fn unread(error: StoreError) -> HashMap<String, String> {
    tracing::warn!(
        "cannot read the feeds' formats from the database ({error}): each feed's OPML type \
         is the one its config implies (rss for a feed)"
    );
    HashMap::new()
}
