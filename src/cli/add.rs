//! `gleaner add`: subscribe to a feed found behind a URL.

use anyhow::Context;
use url::Url;

use super::{UsageError, outln, runtime};
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::redact;
use crate::subscribe::{self, ConfigFile, NewFeed};

pub(super) fn add(
    path: &std::path::Path,
    config: &Config,
    url: &Url,
    name: Option<String>,
    tags: Vec<String>,
) -> anyhow::Result<()> {
    check_name_free(config, name.as_deref())?;
    let fetcher = Fetcher::new(&config.fetch).context("starting the HTTP client")?;
    let (feed_url, parsed) = runtime()?.block_on(subscribe::discover(&fetcher, url))?;
    // Checked again against the config as it is now: another edit may have
    // taken the name or the feed meanwhile.
    let mut file = ConfigFile::load(path)?;
    check_name_free(file.config(), name.as_deref())?;
    if let Some(existing) = file.config().feeds.iter().find(|f| f.url == feed_url) {
        return Err(UsageError(format!(
            "{} is already configured, as {:?}",
            redact::url(&feed_url),
            existing.name
        ))
        .into());
    }
    file.add(&NewFeed {
        url: feed_url.clone(),
        name,
        tags,
    })?;
    let saved = file.save()?;
    let added = saved
        .feeds
        .iter()
        .find(|f| f.url == feed_url)
        .context("the added feed is missing from the saved config")?;
    let title = parsed.title.map(|t| format!("{t:?}, ")).unwrap_or_default();
    outln!(
        "added {}: {} ({title}{}) to {}",
        added.name,
        redact::url(&feed_url),
        crate::plural::count(parsed.entries.len() as u64, "entry", "entries"),
        path.display()
    )?;
    outln!("a running daemon picks it up within seconds (or on `systemctl reload gleaner`)")?;
    Ok(())
}

/// A usage error when `name` is already a feed's name in `config`.
pub(super) fn check_name_free(config: &Config, name: Option<&str>) -> anyhow::Result<()> {
    if let Some(name) = name
        && let Some(taken) = config.feeds.iter().find(|f| f.name == name)
    {
        return Err(UsageError(format!(
            "the name {name:?} is already used by {}; pick another with --name",
            redact::url(&taken.url)
        ))
        .into());
    }
    Ok(())
}
