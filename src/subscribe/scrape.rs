//! `add` on a page that has no feed: the page's entries found by
//! [`crate::feed::scrape::find_items`] and written as a `[feeds.scrape]`
//! block.

use toml_edit::{Table, value};
use url::Url;

use super::{ConfigFile, NewFeed, SubscribeError};
use crate::feed::Entry;
use crate::feed::scrape::{self, FeedSource, find_items::FoundItems};
use crate::fetch::{FeedResponse, Fetcher, Validators};

/// The entries a page holds, as `add` found them.
pub struct ScrapedPage {
    /// Where the page is (its final URL when every redirect was permanent).
    pub url: Url,
    pub found: FoundItems,
    /// Read with the expressions found, the way polls will read them,
    /// in the page's order.
    pub entries: Vec<Entry>,
}

/// Fetches the page at `url` and finds its entries; `Ok(None)` when
/// nothing on it repeats like a list of entries.
pub async fn find_entries(
    fetcher: &Fetcher,
    url: &Url,
) -> Result<Option<ScrapedPage>, SubscribeError> {
    let response = fetcher
        .fetch_feed(url, &Validators::default(), fetcher.default_request())
        .await
        .map_err(|e| SubscribeError::Page {
            url: crate::redact::url(url),
            reason: e.to_string(),
        })?;
    let FeedResponse::Fetched(body) = response else {
        return Err(SubscribeError::Page {
            url: crate::redact::url(url),
            reason: "the server answered 304 Not Modified to a request without validators".into(),
        });
    };
    let html = crate::encoding::decode_html(&body.bytes, body.content_type.as_deref());
    let Some(found) = scrape::find_items::find(&html, &body.final_url) else {
        return Ok(None);
    };
    let Some(rules) = found.rules() else {
        return Ok(None);
    };
    let source = FeedSource::Scrape(std::sync::Arc::new(rules));
    let parsed = scrape::parse(
        &source,
        html.as_bytes(),
        Some("text/html; charset=utf-8"),
        &body.final_url,
    )
    .map_err(|e| SubscribeError::Page {
        url: crate::redact::url(url),
        reason: e.to_string(),
    })?;
    // The parse orders entries oldest first; the page shows newest first.
    let mut entries = parsed.entries;
    entries.reverse();
    Ok(Some(ScrapedPage {
        url: body.moved_permanently.unwrap_or_else(|| url.clone()),
        found,
        entries,
    }))
}

impl ConfigFile {
    /// Appends a `[[feeds]]` block for `feed` with its `[feeds.scrape]`.
    pub fn add_scraped(
        &mut self,
        feed: &NewFeed,
        found: &FoundItems,
    ) -> Result<(), SubscribeError> {
        self.add(feed)?;
        let mut scrape = Table::new();
        scrape["items"] = value(found.items.as_str());
        scrape["title"] = value(found.title.as_str());
        for (key, expression) in [
            ("link", &found.link),
            ("published", &found.published),
            ("summary", &found.summary),
        ] {
            if let Some(expression) = expression {
                scrape[key] = value(expression.as_str());
            }
        }
        let feeds = self.feeds()?;
        let last = feeds.len().saturating_sub(1);
        if let Some(table) = feeds.get_mut(last) {
            table.insert("scrape", toml_edit::Item::Table(scrape));
        }
        Ok(())
    }
}
