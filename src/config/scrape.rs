//! `[feeds.scrape]` and `[feeds.json]`: a feed read from a web page with
//! XPath or from a JSON document with dot paths. Every expression is
//! compiled here, so a poll never meets one that does not parse.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::{Positions, Problem};
use crate::article::xpath::XPath;
use crate::feed::scrape::{DotPath, FeedSource, JsonRules, ScrapeRules};

/// The keys of `[feeds.scrape]` (others are reported as unknown).
pub(super) const SCRAPE_KEYS: &[&str] = &[
    "items",
    "title",
    "link",
    "published",
    "summary",
    "author",
    "image",
];
/// The keys of `[feeds.json]`.
pub(super) const JSON_KEYS: &[&str] = &[
    "items",
    "title",
    "link",
    "published",
    "summary",
    "author",
    "image",
    "id",
];

/// `[feeds.scrape]` as written.
#[derive(Debug, Deserialize)]
pub(super) struct RawScrape {
    items: Spanned<String>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    published: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
}

/// `[feeds.json]` as written.
#[derive(Debug, Deserialize)]
pub(super) struct RawJson {
    items: Spanned<String>,
    title: Option<Spanned<String>>,
    link: Option<Spanned<String>>,
    published: Option<Spanned<String>>,
    summary: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    image: Option<Spanned<String>>,
    id: Option<Spanned<String>>,
}

/// The feed's source from its `[feeds.scrape]` or `[feeds.json]` (at most
/// one), every expression compiled; each that does not is a problem at
/// its line and column.
pub(super) fn check(
    scrape: Option<RawScrape>,
    json: Option<RawJson>,
    feed: &str,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> FeedSource {
    match (scrape, json) {
        (None, None) => FeedSource::Feed,
        (Some(_), Some(json)) => {
            problems.push(at.at(
                &json.items,
                format!("feed {feed}: give [feeds.scrape] or [feeds.json], not both"),
            ));
            FeedSource::Feed
        }
        (Some(raw), None) => {
            let mut xpath =
                |key: &str, value: &Spanned<String>| match XPath::compile(value.get_ref()) {
                    Ok(x) => Some(x),
                    Err(e) => {
                        problems.push(at.at(
                            value,
                            format!(
                                "feed {feed}: [feeds.scrape] {key} {:?}: {e}",
                                value.get_ref()
                            ),
                        ));
                        None
                    }
                };
            let mut optional =
                |key: &str, value: &Option<Spanned<String>>| value.as_ref().map(|v| xpath(key, v));
            let title = optional("title", &raw.title);
            let link = optional("link", &raw.link);
            let published = optional("published", &raw.published);
            let summary = optional("summary", &raw.summary);
            let author = optional("author", &raw.author);
            let image = optional("image", &raw.image);
            let items = xpath("items", &raw.items);
            let rules = (|| {
                Some(ScrapeRules {
                    items: items?,
                    title: settled(title)?,
                    link: settled(link)?,
                    published: settled(published)?,
                    summary: settled(summary)?,
                    author: settled(author)?,
                    image: settled(image)?,
                })
            })();
            rules.map_or(FeedSource::Feed, |r| FeedSource::Scrape(Arc::new(r)))
        }
        (None, Some(raw)) => {
            let mut path =
                |key: &str, value: &Spanned<String>| match DotPath::parse(value.get_ref()) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        problems.push(at.problem(
                            inside(at, value, e.at),
                            format!("feed {feed}: [feeds.json] {key} {:?}: {e}", value.get_ref()),
                        ));
                        None
                    }
                };
            let mut optional =
                |key: &str, value: &Option<Spanned<String>>| value.as_ref().map(|v| path(key, v));
            let title = optional("title", &raw.title);
            let link = optional("link", &raw.link);
            let published = optional("published", &raw.published);
            let summary = optional("summary", &raw.summary);
            let author = optional("author", &raw.author);
            let image = optional("image", &raw.image);
            let id = optional("id", &raw.id);
            let items = path("items", &raw.items);
            let rules = (|| {
                Some(JsonRules {
                    items: items?,
                    title: settled(title)?,
                    link: settled(link)?,
                    published: settled(published)?,
                    summary: settled(summary)?,
                    author: settled(author)?,
                    image: settled(image)?,
                    id: settled(id)?,
                })
            })();
            rules.map_or(FeedSource::Feed, |r| FeedSource::Json(Arc::new(r)))
        }
    }
}

/// The byte offset in the file of the character `chars` into a string
/// value: exact for a string written without escapes, else the value's
/// start.
fn inside(at: &Positions<'_>, value: &Spanned<String>, chars: usize) -> usize {
    let start = value.span().start;
    let written = at.text.get(start + 1..).unwrap_or("");
    if !written.starts_with(value.get_ref().as_str()) {
        return start;
    }
    let within = value
        .get_ref()
        .char_indices()
        .nth(chars)
        .map_or(value.get_ref().len(), |(b, _)| b);
    start + 1 + within
}

/// An optional key's compiled value: `Some(None)` when it is left out,
/// `None` when it is given and did not compile (already a problem).
fn settled<T>(value: Option<Option<T>>) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(compiled) => compiled.map(Some),
    }
}
