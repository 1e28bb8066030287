//! `[feeds.scrape]`: a web page's entries read with XPath 1.0 (the
//! evaluator site rules use, [`crate::article::xpath`]), each expression but
//! `items` relative to its item.

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{Entry, cut, entry, image, web_link};
use crate::article::xpath::{Found, XPath};
use crate::article::{dates, limits};
use crate::encoding;
use crate::feed::dates::parse_timestamp;

/// The expressions of one `[feeds.scrape]` block, compiled by `config`.
/// `None`: the default the README gives for that field.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeRules {
    /// One node per entry (required).
    pub items: XPath,
    /// Default: the item's first heading, else its first link's text.
    pub title: Option<XPath>,
    /// Default: the title's link, else the item's first link.
    pub link: Option<XPath>,
    /// Default: the item's first `<time datetime>` (else its text).
    pub published: Option<XPath>,
    /// Default: none (full text, or the article's own, fills it).
    pub summary: Option<XPath>,
    pub author: Option<XPath>,
    pub image: Option<XPath>,
}

/// The page's title and its entries in document order, or why there are
/// none (the items expression matches nothing: the page changed, and the
/// operator must hear of it rather than see "0 new articles").
pub(super) fn entries(
    rules: &ScrapeRules,
    bytes: &[u8],
    content_type: Option<&str>,
    page: &Url,
) -> Result<(Option<String>, Vec<Entry>), String> {
    if limits::looks_binary(bytes) {
        return Err("not an HTML page (binary data)".into());
    }
    let html = encoding::decode_html(bytes, content_type);
    let doc = Html::parse_document(limits::within_depth(&html));
    read(rules, &doc, page)
}

/// [`entries`] on a parsed page (`add` tries several expressions on one).
pub(super) fn read(
    rules: &ScrapeRules,
    doc: &Html,
    page: &Url,
) -> Result<(Option<String>, Vec<Entry>), String> {
    let base = document_base(doc, page);
    let items = rules.items.elements(doc);
    if items.is_empty() {
        return Err(format!(
            "no items on the page: `{}` matches nothing (has the page changed? check [feeds.scrape] items)",
            rules.items.as_str()
        ));
    }
    let title = Selector::parse("title")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .map(|t| cut(&t.text().collect::<String>(), 300))
        .filter(|t| !t.is_empty());
    let matched = items.len();
    let firsts = |x: &Option<XPath>| -> Vec<Option<Found>> {
        match x {
            Some(x) => x
                .find_each(doc, &items)
                .into_iter()
                .map(|found| found.into_iter().next())
                .collect(),
            None => vec![None; items.len()],
        }
    };
    let columns = [
        firsts(&rules.title),
        firsts(&rules.link),
        firsts(&rules.published),
        firsts(&rules.summary),
        firsts(&rules.author),
        firsts(&rules.image),
    ];
    let entries: Vec<Entry> = items
        .iter()
        .enumerate()
        .filter_map(|(i, &item)| {
            let row = Row {
                title: columns[0][i].clone(),
                link: columns[1][i].clone(),
                published: columns[2][i].clone(),
                summary: columns[3][i].clone(),
                author: columns[4][i].clone(),
                image: columns[5][i].clone(),
            };
            read_item(rules, doc, item, row, &base)
        })
        .collect();
    if entries.is_empty() {
        return Err(format!(
            "no entries on the page: `{}` matches {matched} elements, none with a title or a link (check [feeds.scrape] title and link)",
            rules.items.as_str()
        ));
    }
    Ok((title, entries))
}

/// The page's `<base href>` resolved against its URL, else its URL.
pub(super) fn document_base(doc: &Html, page: &Url) -> Url {
    Selector::parse("base[href]")
        .ok()
        .and_then(|s| doc.select(&s).next())
        .and_then(|b| b.value().attr("href"))
        .and_then(|href| web_link(page, href))
        .unwrap_or_else(|| page.clone())
}

/// What each configured expression found first from one item.
struct Row {
    title: Option<Found>,
    link: Option<Found>,
    published: Option<Found>,
    summary: Option<Found>,
    author: Option<Found>,
    image: Option<Found>,
}

fn read_item(rules: &ScrapeRules, doc: &Html, item: NodeId, row: Row, base: &Url) -> Option<Entry> {
    let element = ElementRef::wrap(doc.tree.get(item)?)?;
    // The node the title came from: its link is the entry's by default.
    let (title, title_node) = match &rules.title {
        Some(_) => first_text(doc, row.title),
        None => default_title(element),
    };
    let link = match &rules.link {
        Some(_) => first_text(doc, row.link).0,
        None => default_link(element, title_node.and_then(|n| doc.tree.get(n))),
    }
    .and_then(|href| web_link(base, &href));
    let summary = first_html(doc, row.summary);
    let mut entry = entry(None, link, title, summary)?;
    entry.published = match &rules.published {
        Some(_) => first_text(doc, row.published)
            .0
            .as_deref()
            .and_then(parse_timestamp),
        None => default_published(element),
    };
    entry.author = first_text(doc, row.author).0;
    if let Some(src) = first_text(doc, row.image).0
        && let Some(url) = web_link(base, &src)
    {
        entry.enclosures.push(image(url));
    }
    Some(entry)
}

/// The string of an expression's first result, with the node it came
/// from (an element or an attribute's owner).
fn first_text(doc: &Html, found: Option<Found>) -> (Option<String>, Option<NodeId>) {
    let Some(found) = found else {
        return (None, None);
    };
    let (text, node) = match found {
        Found::Node(id) => {
            let text = doc.tree.get(id).map(|n| match ElementRef::wrap(n) {
                Some(e) => e.text().collect::<String>(),
                None => n
                    .value()
                    .as_text()
                    .map(|t| t.to_string())
                    .unwrap_or_default(),
            });
            (text, Some(id))
        }
        Found::Attribute { owner, value, .. } => (Some(value), Some(owner)),
        Found::Value(value) => (Some(value), None),
    };
    let text = text.map(|t| cut(&t, usize::MAX)).filter(|t| !t.is_empty());
    (text, node)
}

/// The inner HTML of the expression's first element from `item`, or its
/// string when it gives text or a value.
fn first_html(doc: &Html, found: Option<Found>) -> Option<String> {
    match found? {
        Found::Node(id) => {
            let node = doc.tree.get(id)?;
            match ElementRef::wrap(node) {
                Some(e) => Some(e.inner_html()),
                None => node.value().as_text().map(|t| t.to_string()),
            }
        }
        Found::Attribute { value, .. } | Found::Value(value) => Some(value),
    }
    .map(|html| html.trim().to_owned())
    .filter(|html| !html.is_empty())
}

/// The item's first heading, else its first link with text.
fn default_title(item: ElementRef<'_>) -> (Option<String>, Option<NodeId>) {
    let heading = item.descendants().filter_map(ElementRef::wrap).find(|e| {
        matches!(e.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6") && has_text(*e)
    });
    let found = heading.or_else(|| {
        item.descendants()
            .filter_map(ElementRef::wrap)
            .find(|e| e.value().name() == "a" && e.value().attr("href").is_some() && has_text(*e))
    });
    match found {
        Some(e) => (
            Some(cut(&e.text().collect::<String>(), usize::MAX)),
            Some(e.id()),
        ),
        None => (None, None),
    }
}

fn has_text(e: ElementRef<'_>) -> bool {
    e.text().any(|t| !t.trim().is_empty())
}

/// The link of the title's node (the link it is in, or the first it holds),
/// else the item's first link (the item itself when it is one).
fn default_link(
    item: ElementRef<'_>,
    title: Option<ego_tree::NodeRef<'_, scraper::Node>>,
) -> Option<String> {
    let href = |e: ElementRef<'_>| {
        (e.value().name() == "a")
            .then(|| e.value().attr("href"))
            .flatten()
            .map(str::to_owned)
    };
    let within = |e: ElementRef<'_>| {
        std::iter::once(e)
            .chain(e.descendants().filter_map(ElementRef::wrap))
            .find_map(href)
    };
    if let Some(title) = title.and_then(ElementRef::wrap) {
        let around = title
            .ancestors()
            .filter_map(ElementRef::wrap)
            .take_while(|a| a.id() != item.id())
            .find_map(href);
        if let Some(found) = around.or_else(|| within(title)) {
            return Some(found);
        }
    }
    within(item)
}

/// The item's first `<time>`: its `datetime`, else its text; else the
/// first ISO 8601 date in the item's text ("Posted on 2026-11-20"), with
/// its time when written; else a date as a reader writes it ("20 November
/// 2026", "20.11.2026", in the languages `article::dates` knows), at
/// midnight UTC. Numeric dates are read day first: a US page's
/// `11/20/2026` is no date in November, so a wrong day is not taken.
fn default_published(item: ElementRef<'_>) -> Option<chrono::DateTime<chrono::Utc>> {
    let time = item
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "time");
    if let Some(time) = time {
        return time
            .value()
            .attr("datetime")
            .and_then(parse_timestamp)
            .or_else(|| parse_timestamp(time.text().collect::<String>().trim()));
    }
    // Text nodes apart: a cell's date and the next cell's title touch.
    let text = item.text().collect::<Vec<_>>().join(" ");
    iso_date()
        .find_iter(&text)
        .find_map(|m| parse_timestamp(m.as_str()))
        .or_else(|| {
            dates::find_in_text(&text, dates::Order::DayFirst)
                .and_then(|day| day.and_hms_opt(0, 0, 0))
                .map(|midnight| midnight.and_utc())
        })
}

/// An ISO 8601 date, with its time and offset when written.
fn iso_date() -> &'static regex::Regex {
    static DATE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    DATE.get_or_init(|| {
        regex::Regex::new(
            r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b",
        )
        .expect("a valid regex")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published_of(item: &str) -> Option<String> {
        let page = Html::parse_fragment(item);
        let root = page.root_element();
        default_published(root).map(|d| d.to_rfc3339())
    }

    #[test]
    fn an_items_date_in_words_is_read_when_it_has_no_time_element() {
        assert_eq!(
            published_of("<div><a href='/a'>Council meets</a> <span>20 November 2026</span></div>")
                .as_deref(),
            Some("2026-11-20T00:00:00+00:00")
        );
        assert_eq!(
            published_of("<div><a href='/a'>Sitzung</a> am 3. Oktober 2025</div>").as_deref(),
            Some("2025-10-03T00:00:00+00:00")
        );
        // An ISO timestamp keeps its time; an item without a date has none.
        assert_eq!(
            published_of("<div>Posted 2026-11-20T08:30:00Z</div>").as_deref(),
            Some("2026-11-20T08:30:00+00:00")
        );
        assert_eq!(
            published_of("<div><a href='/a'>No date here</a></div>"),
            None
        );
    }
}
