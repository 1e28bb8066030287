//! `gleaner add`: subscribe to a feed found behind a URL.

use std::io::Write;

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

/// The settings `add` uses when its config file does not exist yet: every
/// default (the file is created once a feed is found).
pub(super) fn first_config(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::from_str_at("", path)?)
}

/// Creates the config file `add` was pointed at (a first run): a comment
/// and nothing else, every setting its default, the feed appended next.
/// Another `add` that created it meanwhile wins.
pub(super) fn create_config(path: &std::path::Path) -> anyhow::Result<()> {
    let header = "# gleaner's config, created by `gleaner add`. Every key is described in\n\
                  # README.md and in the commented example config/gleaner.toml\n\
                  # (/usr/share/doc/gleaner/examples/gleaner.toml when installed).\n";
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(mut file) => file
            .write_all(header.as_bytes())
            .with_context(|| format!("cannot write the new config {}", path.display())),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error).with_context(|| {
            format!(
                "cannot create the config {} (does its folder exist, and may you write there?)",
                path.display()
            )
        }),
    }
}
