//! `gleaner add` when the page has no feed (or `--scrape`): its entries
//! found on the page and written as a `[feeds.scrape]` block.

use url::Url;

use super::config_file::{check_name_free, create_config};
use super::{UsageError, outln, runtime};
use crate::fetch::Fetcher;
use crate::redact;
use crate::subscribe::{self, ConfigFile, NewFeed, SubscribeError};

/// How many of the entries found `add` prints.
const SHOWN: usize = 5;

/// Finds the page's entries, appends the feed with the expressions that
/// read them, and prints the first; a page where nothing repeats is a
/// usage error (exit 2) that says what was tried.
pub(super) fn add_page(
    path: &std::path::Path,
    fetcher: &Fetcher,
    url: &Url,
    name: Option<String>,
    tags: Vec<String>,
    tried: Option<SubscribeError>,
) -> anyhow::Result<()> {
    let no_feed = tried.map(|e| format!("{e}\n")).unwrap_or_default();
    let Some(page) = runtime()?.block_on(subscribe::find_entries(fetcher, url))? else {
        return Err(UsageError(format!(
            "{no_feed}no list of entries found on {}: nothing on the page repeats as a list of titled links to the site's pages; write a [feeds.scrape] block by hand (see the README)",
            redact::url(url)
        ))
        .into());
    };
    if !path.exists() {
        create_config(path)?;
    }
    let mut file = ConfigFile::load(path)?;
    check_name_free(file.config(), name.as_deref())?;
    if let Some(existing) = file.config().feeds.iter().find(|f| f.url == page.url) {
        return Err(UsageError(format!(
            "{} is already configured, as {:?}",
            redact::url(&page.url),
            existing.name
        ))
        .into());
    }
    file.add_scraped(
        &NewFeed {
            url: page.url.clone(),
            name,
            tags,
        },
        &page.found,
    )?;
    let saved = file.save()?;
    let added = saved
        .feeds
        .iter()
        .find(|f| f.url == page.url)
        .ok_or_else(|| anyhow::anyhow!("the added feed is missing from the saved config"))?;
    outln!(
        "added {}: {} (a page read with [feeds.scrape] items = {:?}, {}) to {}",
        added.name,
        redact::url(&page.url),
        page.found.items,
        crate::plural::count(page.entries.len() as u64, "entry", "entries"),
        path.display()
    )?;
    for entry in page.entries.iter().take(SHOWN) {
        let link = entry
            .url
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_default();
        outln!(
            "  {} <{}>",
            crate::controls::escape(entry.title.as_deref().unwrap_or("(no title)")),
            link
        )?;
    }
    outln!("a running daemon picks it up within seconds (or on `systemctl reload gleaner`)")?;
    Ok(())
}
