//! `gleaner check-config`: validate the config without network or database.

use std::io::Write;
use std::process::ExitCode;

use super::outln;
use crate::article::site_config;
use crate::config::{Config, ConfigError};
use crate::plural::count;

/// Checks the config and, when it names site rules, loads them: a rule that
/// does not parse is a warning on stderr (`FILE:LINE: message`) and is
/// skipped, so the exit code stays 0.
pub(super) fn check_config(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    // What the first run needs that the other commands only find missing
    // when they reach it.
    let missing = crate::config::missing_files(path);
    if !missing.is_empty() {
        return Err(ConfigError::Invalid(missing).into());
    }
    outln!("ok: {}", count(config.feeds.len() as u64, "feed", "feeds"))?;
    let dirs = &config.extraction.site_config_dirs;
    if !dirs.is_empty() {
        let (configs, warnings) = site_config::SiteConfigs::load(dirs)?;
        let mut stderr = std::io::stderr().lock();
        for warning in &warnings {
            let _ = writeln!(stderr, "{warning}");
        }
        outln!(
            "site rules: {}, {} skipped",
            count(configs.len() as u64, "site file", "site files"),
            count(warnings.len() as u64, "rule", "rules")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
