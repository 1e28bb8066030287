//! `gleaner add`: subscribe to a feed found behind a URL.

use anyhow::Context;
use url::Url;

use super::config_file::{check_name_free, create_config};
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
    scrape: bool,
) -> anyhow::Result<()> {
    // Said before anything is fetched: no candidate could change them.
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UsageError(format!(
            "{}: gleaner subscribes to http:// and https:// URLs only",
            redact::url(url)
        ))
        .into());
    }
    if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(UsageError(
            "--name is empty: give the feed a name, or leave --name out to name it after its host"
                .into(),
        )
        .into());
    }
    check_name_free(config, name.as_deref())?;
    let fetcher = Fetcher::new(&config.fetch).context("starting the HTTP client")?;
    let discovered = match scrape {
        true => Err(None),
        false => runtime()?
            .block_on(subscribe::discover(&fetcher, url))
            .map_err(Some),
    };
    let (feed_url, parsed) = match discovered {
        Ok(found) => found,
        Err(tried @ (None | Some(subscribe::SubscribeError::NoFeed { .. }))) => {
            return super::add_page::add_page(path, &fetcher, url, name, tags, tried);
        }
        Err(Some(error)) => return Err(error.into()),
    };
    if !path.exists() {
        create_config(path)?;
    }
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
