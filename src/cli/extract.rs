//! `gleaner extract`: the article extractor on a saved page, no network.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use url::Url;

use super::args::ExtractFormat;
use super::outln;
use crate::article::{self, SiteRules, site_config};
use crate::config::{Config, DEFAULT_CONFIG_PATH};

pub(super) fn extract(
    config_path: &std::path::Path,
    url: Option<Url>,
    format: ExtractFormat,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading the page from stdin")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    }
    // Messages name the page as it was given: its --url, else the file.
    let source = match (&url, file.as_os_str() == "-") {
        (Some(url), _) => url.to_string(),
        (None, true) => "stdin".to_owned(),
        (None, false) => file.display().to_string(),
    };
    // Per-site rules come from a configured feed on the page's site, when a
    // config is there; extract works without one, and says so when the
    // missing one was asked for (--config or $GLEANER_CONFIG).
    let config = if config_path.exists() {
        Some(Config::load(config_path)?)
    } else {
        if config_path != Path::new(DEFAULT_CONFIG_PATH) {
            eprintln!(
                "warning: no config file at {}: extracting without its feeds' site rules",
                config_path.display()
            );
        }
        None
    };
    let feed = url.as_ref().and_then(|u| {
        config
            .as_ref()?
            .feeds
            .iter()
            .find(|f| crate::fetch::site::same_site(&f.url, u))
    });
    let site_configs = match &config {
        Some(config) => site_config::load_logged(&config.extraction.site_config_dirs)?,
        None => None,
    };
    let rules = SiteRules {
        content_selector: feed.and_then(|f| f.content_selector.as_ref()),
        remove_selectors: feed.map_or(&[], |f| &f.remove_selectors),
        site_configs: site_configs.as_deref(),
    };
    let base = match url {
        Some(url) => url,
        None => Url::parse("file:///").expect("a valid URL"),
    };
    let extracted = article::extract(&bytes, None, &base, rules);
    // A saved page has no response to weigh: a 200 with nothing special.
    let verdict = crate::article::verdict::judge_bytes(
        &Default::default(),
        &bytes,
        None,
        &base,
        extracted.as_ref(),
    );
    if let Some(found) = verdict.interstitial() {
        // Not an article: its text is the wall's. JSON still says what was
        // found, with the verdict; the other formats print nothing.
        if format == ExtractFormat::Json {
            let mut object = match &extracted {
                Ok(article) => serde_json::to_value(article)?,
                Err(_) => serde_json::json!({}),
            };
            object["verdict"] = serde_json::to_value(&verdict)?;
            outln!("{}", serde_json::to_string_pretty(&object)?)?;
        }
        eprintln!(
            "{source}: the page is {} ({}), not an article",
            found.kind.described(),
            found.evidence
        );
        return Ok(ExitCode::from(1));
    }
    let article = match extracted {
        Ok(article) => article,
        Err(error) => {
            if format == ExtractFormat::Json {
                outln!("null")?;
            }
            // The error names the page by its address, a placeholder
            // without --url.
            let message = error.to_string();
            let reason = message
                .strip_prefix(base.as_str())
                .and_then(|rest| rest.strip_prefix(": "))
                .unwrap_or(&message);
            eprintln!("{source}: {reason}");
            return Ok(ExitCode::from(1));
        }
    };
    let output = match format {
        ExtractFormat::Text => article.content_text,
        ExtractFormat::Html => article.content_html,
        ExtractFormat::Json => {
            let mut object = serde_json::to_value(&article)?;
            object["verdict"] = serde_json::to_value(&verdict)?;
            serde_json::to_string_pretty(&object)?
        }
    };
    outln!("{output}")?;
    Ok(ExitCode::SUCCESS)
}
