//! `gleaner gc`: purge what retention no longer keeps.

use anyhow::Context;
use chrono::Utc;

use super::{open_store, outln};
use crate::config::Config;
use crate::plural::count;
use crate::store::Access;

pub(super) fn gc(config: &Config, vacuum: bool) -> anyhow::Result<()> {
    let retention = config.storage.retention;
    let mut store = open_store(config, Access::Update)?;
    if retention.is_set() {
        let purged = store.purge(&retention, Utc::now())?;
        // Only the limits that are set are named.
        let mut parts = Vec::new();
        if let Some(days) = retention.keep_days {
            parts.push(format!(
                "{} older than {}",
                purged.by_age,
                count(u64::from(days), "day", "days")
            ));
        }
        if let Some(most) = retention.max_articles_per_feed {
            parts.push(format!("{} beyond {most} per feed", purged.by_feed_limit));
        }
        outln!(
            "purged {} ({})",
            count(
                (purged.by_age + purged.by_feed_limit) as u64,
                "article",
                "articles"
            ),
            parts.join(", ")
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
