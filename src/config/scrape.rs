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
            let items = xpath("items", &raw.items);
            let fields = [
                ("title", &raw.title),
                ("link", &raw.link),
                ("published", &raw.published),
                ("summary", &raw.summary),
                ("author", &raw.author),
                ("image", &raw.image),
            ];
            let rules = items.zip(optional(fields, xpath)).map(
                |(items, [title, link, published, summary, author, image])| ScrapeRules {
                    items,
                    title,
                    link,
                    published,
                    summary,
                    author,
                    image,
                },
            );
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
            let items = path("items", &raw.items);
            let fields = [
                ("title", &raw.title),
                ("link", &raw.link),
                ("published", &raw.published),
                ("summary", &raw.summary),
                ("author", &raw.author),
                ("image", &raw.image),
                ("id", &raw.id),
            ];
            let rules = items.zip(optional(fields, path)).map(
                |(items, [title, link, published, summary, author, image, id])| JsonRules {
                    items,
                    title,
                    link,
                    published,
                    summary,
                    author,
                    image,
                    id,
                },
            );
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

/// The optional keys' compiled expressions, `None` for a key left out; `None`
/// in all when one of them did not compile (`compile` has reported it).
/// Every key is compiled first, so each bad one is reported.
fn optional<E, const N: usize>(
    fields: [(&str, &Option<Spanned<String>>); N],
    mut compile: impl FnMut(&str, &Spanned<String>) -> Option<E>,
) -> Option<[Option<E>; N]> {
    let compiled = fields.map(|(key, value)| value.as_ref().map(|v| compile(key, v)));
    if compiled.iter().any(|c| matches!(c, Some(None))) {
        return None;
    }
    Some(compiled.map(Option::flatten))
}
