//! `gleaner gc`: purge what retention no longer keeps.

use anyhow::Context;
use chrono::Utc;

use super::{open_store, outln};
use crate::config::Config;
use crate::store::Access;

pub(super) fn gc(config: &Config, vacuum: bool) -> anyhow::Result<()> {
    let retention = config.storage.retention;
    let mut store = open_store(config, Access::Update)?;
    if retention.is_set() {
        let purged = store.purge(&retention, Utc::now())?;
        outln!(
            "purged {} articles ({} older than {} days, {} beyond {} per feed)",
            purged.by_age + purged.by_feed_limit,
            purged.by_age,
            retention.keep_days.map_or("-".into(), |d| d.to_string()),
            purged.by_feed_limit,
            retention
                .max_articles_per_feed
                .map_or("-".into(), |n| n.to_string()),
        )?;
    } else {
        outln!("nothing to purge: [storage] keep_days and max_articles_per_feed are not set")?;
    }
    if vacuum {
        store
            .vacuum()
            .with_context(|| format!("vacuuming {}", config.storage.database.display()))?;
        outln!("vacuumed {}", config.storage.database.display())?;
    }
    Ok(())
}
