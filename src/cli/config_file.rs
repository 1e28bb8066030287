//! The config file as `add` (of a feed or of a page's entries) meets it:
//! created on a first run, and a name checked free before a feed is
//! appended. Both `add` and `add_page` look down at this file.

use std::io::Write;

use anyhow::Context;

use super::UsageError;
use crate::config::Config;
use crate::redact;

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
