//! `gleaner reextract`: run today's extractor over the kept pages.

use super::{feed_urls, open_store, outln, progress_bar};
use crate::article::site_config;
use crate::config::Config;
use crate::plural::count;
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
    let bar = progress_bar(kept as usize, "pages");
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
        "re-extracted {}: {} changed, {} unchanged, {} without an article (kept as stored), {} keep the feed's longer text",
        count(summary.pages as u64, "page", "pages"),
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
            "{} purged or fetched again while their page was re-extracted: left as they are now",
            count(
                summary.changed_meanwhile as u64,
                "article was",
                "articles were"
            )
        )?;
    }
    if summary.interstitials > 0 {
        outln!(
            "{} (a consent or login wall, a challenge, a soft 404…), not articles: kept as stored",
            count(
                summary.interstitials as u64,
                "page is an interstitial",
                "pages are interstitials"
            )
        )?;
    }
    if summary.crashed > 0 {
        outln!(
            "{} the extractor (kept as stored; the log names them): please report them",
            count(summary.crashed as u64, "page crashed", "pages crashed")
        )?;
    }
    Ok(())
}
