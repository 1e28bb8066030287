//! `gleaner reextract`: run today's extractor over the kept pages.

use super::{feed_urls, open_store, outln, progress_bar};
use crate::article::site_config;
use crate::config::Config;
use crate::store::Access;

pub(super) fn reextract(config: &Config, names: &[String]) -> anyhow::Result<()> {
    let feed_urls = feed_urls(config, names)?;
    let mut store = open_store(config, Access::Update)?;
    let kept = store.kept_pages(&feed_urls)?;
    if kept == 0 {
        if config.storage.keep_html {
            outln!(
                "no article pages are kept yet: [storage] keep_html is on, so the pages the next polls fetch are kept; run reextract after them"
            )?;
        } else {
            outln!(
                "no article pages are kept: set [storage] keep_html = true to keep the pages fetched from then on"
            )?;
        }
        return Ok(());
    }
    let bar = progress_bar(kept as usize);
    let site_configs = site_config::load_logged(&config.extraction.site_config_dirs)?;
    let site_configs = site_configs.as_deref();
    let summary =
        crate::reextract::reextract(&mut store, config, site_configs, &feed_urls, |done| {
            if let Some(bar) = &bar {
                bar.set_position(done as u64);
            }
        })?;
    super::progress::done(bar);
    outln!(
        "re-extracted {} pages: {} changed, {} unchanged, {} without an article (kept as stored), {} keep the feed's longer text",
        summary.pages,
        summary.changed,
        summary.pages.saturating_sub(
            summary.changed
                + summary.failed
                + summary.kept_feed_text
                + summary.crashed
                + summary.changed_meanwhile
                + summary.interstitials
        ),
        summary.failed,
        summary.kept_feed_text
    )?;
    if summary.changed_meanwhile > 0 {
        outln!(
            "{} articles were purged or fetched again while their page was re-extracted: left as they are now",
            summary.changed_meanwhile
        )?;
    }
    if summary.interstitials > 0 {
        outln!(
            "{} pages are interstitials (a consent or login wall, a challenge, a soft 404…), not articles: kept as stored",
            summary.interstitials
        )?;
    }
    if summary.crashed > 0 {
        outln!(
            "{} pages crashed the extractor (kept as stored; the log names them): please report them",
            summary.crashed
        )?;
    }
    Ok(())
}
