//! Feed discovery: when a feed URL serves a web page, the page's
//! `<link rel="alternate" type="application/rss+xml" href="…">` says where
//! the feed is, so the error can tell the operator which URL to configure.

use scraper::{Html, Selector};
use url::Url;

/// Media types of feed links, in order of preference.
const FEED_TYPES: [&str; 4] = [
    "application/atom+xml",
    "application/rss+xml",
    "application/feed+json",
    "application/json",
];

/// The absolute URL of the feed an HTML page advertises, if any; the page
/// was fetched from `base` (its `<base href>` is honoured).
pub fn feed_link(html: &str, base: &Url) -> Option<Url> {
    let document = Html::parse_document(crate::article::limits::within_depth(html));
    let links = Selector::parse("link[href]").ok()?;
    let base_href = Selector::parse("base[href]").ok()?;
    let base = document
        .select(&base_href)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| base.join(href.trim()).ok())
        .unwrap_or_else(|| base.clone());
    let mut candidates: Vec<(usize, Url)> = document
        .select(&links)
        .filter(|link| {
            link.value().attr("rel").is_some_and(|rel| {
                rel.split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("alternate"))
            })
        })
        .filter_map(|link| {
            let media_type = link.value().attr("type")?.trim().to_ascii_lowercase();
            let rank = FEED_TYPES.iter().position(|t| media_type == *t)?;
            let href = base.join(link.value().attr("href")?.trim()).ok()?;
            Some((rank, href))
        })
        .collect();
    candidates.sort_by_key(|(rank, _)| *rank);
    candidates.into_iter().next().map(|(_, url)| url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://blog.example/posts/").unwrap()
    }

    #[test]
    fn alternate_feed_links_are_found_and_made_absolute() {
        let page = r#"<html><head><link rel="stylesheet" href="/s.css">
            <link rel="alternate" type="application/rss+xml" title="RSS" href="../feed.rss">
            <link rel="Alternate" type="application/atom+xml" href="/atom.xml"></head></html>"#;
        assert_eq!(
            feed_link(page, &base()).unwrap().as_str(),
            "https://blog.example/atom.xml"
        );
    }

    #[test]
    fn base_href_and_json_feeds() {
        let page = r#"<head><base href="https://cdn.example/"><link rel="alternate home"
            type="application/feed+json" href="feed.json"></head>"#;
        assert_eq!(
            feed_link(page, &base()).unwrap().as_str(),
            "https://cdn.example/feed.json"
        );
    }

    #[test]
    fn pages_without_feed_links_give_none() {
        let page = r#"<head><link rel="alternate" hreflang="de" href="/de/"></head>"#;
        assert_eq!(feed_link(page, &base()), None);
    }
}
