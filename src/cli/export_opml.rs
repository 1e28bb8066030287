//! `gleaner export-opml`: the configured feeds as OPML 2.0.

use std::path::PathBuf;

use anyhow::Context;
use chrono::Utc;

use super::out;
use crate::config::Config;
use crate::subscribe;

/// Writes the OPML to `output` atomically, or to stdout.
pub(super) fn export_opml(config: &Config, output: Option<PathBuf>) -> anyhow::Result<()> {
    let opml = subscribe::write_opml(config, Utc::now());
    match output {
        Some(file) => crate::atomic::write(&file, opml.as_bytes(), ".gleaner-")
            .with_context(|| format!("cannot write {}", file.display()))?,
        None => out::write_all(opml.as_bytes())?,
    }
    Ok(())
}
