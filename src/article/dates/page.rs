//! A page's dateline: the date a reader sees by the headline or the byline.
//!
//! The page's text is read in document order, leaving out what is not the
//! article's own (navigation, footers, sidebars, comments, teasers and
//! related-article boxes, forms, scripts). A date is taken near the headline
//! only: first from an element that says it holds a date (`<time>`, a class
//! such as `date`, `posted-on`, `byline`, `entry-meta`), else the first date
//! after the headline, else the closest one above it. A copyright year is no
//! date (a day is required), and a comment's or a teaser's date sits in a
//! box that is left out.

use ego_tree::iter::Edge;
use std::sync::LazyLock;

use scraper::{ElementRef, Html, Node, Selector};

use super::{Found, Order, best, find_all};
use chrono::{NaiveDate, Utc};

/// Text read from a page, at most: the headline is near the top.
const MAX_PAGE_TEXT: usize = 200_000;
/// How far before and after the headline's start a dateline is looked for.
const BEFORE_TITLE: usize = 600;
const AFTER_TITLE: usize = 2_500;
/// Without a headline, only the first elements that say they hold a date
/// are read.
const MAX_MARKED: usize = 12;

/// Elements whose text is never the article's own.
const SKIPPED_TAGS: &[&str] = &[
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "nav",
    "footer",
    "aside",
    "form",
    "button",
    "select",
    "iframe",
    "figcaption",
    "head",
    "textarea",
];
/// Words of class or id names of boxes that are not the article: a date in
/// them is a comment's, a teaser's or the site's. A name is cut into words
/// at `-`, `_` and spaces, so "l-main has-sidebar" is not a sidebar and
/// "teaser__date" is a teaser.
const SKIPPED_WORDS: &[&str] = &[
    "comment",
    "comments",
    "related",
    "teaser",
    "teasers",
    "sidebar",
    "recent",
    "popular",
    "recommended",
    "recommendations",
    "footer",
    "newsletter",
    "breadcrumb",
    "breadcrumbs",
    "menu",
    "nav",
    "navigation",
    "share",
    "sharing",
    "social",
    "cookie",
    "cookies",
    "copyright",
    "promo",
    "advert",
    "trending",
    "mostread",
    "similar",
    "pagination",
    "pager",
    "reply",
    "replies",
    "discussion",
];
/// First words of a name that describe the page's state, not a box:
/// "has-sidebar", "no-comments".
const STATE_WORDS: &[&str] = &["has", "with", "no", "is", "show", "hide", "without"];
/// Words that make a footer the article's own.
const ARTICLE_WORDS: &[&str] = &["post", "entry", "article", "story"];
/// Class, id or itemprop words of an element that holds a date.
const DATE_WORDS: &[&str] = &[
    "date",
    "time",
    "publish",
    "posted",
    "byline",
    "dateline",
    "datum",
    "fecha",
    "meta",
    "submitted",
];
/// Elements after which text does not run on.
const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "header",
    "main",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "ul",
    "ol",
    "table",
    "tr",
    "td",
    "th",
    "dl",
    "dt",
    "dd",
    "br",
    "blockquote",
    "pre",
    "hr",
    "figure",
];

/// The page's text as read, with where the headline starts and which
/// stretches are marked as dates.
#[derive(Default)]
pub(super) struct Reading {
    pub text: String,
    pub title_at: Option<usize>,
    pub marked: Vec<(usize, usize)>,
}

/// The date in the page's dateline, if it shows one. `title` is the
/// headline as the page declares it (to find it among the headings).
pub fn dateline(doc: &Html, title: Option<&str>, order: Order) -> Option<NaiveDate> {
    let reading = read(doc, title);
    let latest = Utc::now().date_naive();
    let text = &reading.text;
    let dates_in = |start: usize, end: usize| -> Vec<Found> {
        let start = floor(text, start);
        let end = floor(text, end.min(text.len()));
        let mut found = find_all(&text[start..end], order, latest);
        found.iter_mut().for_each(|f| f.at += start);
        found
    };
    let Some(title_at) = reading.title_at else {
        let marked: Vec<Found> = reading
            .marked
            .iter()
            .take(MAX_MARKED)
            .flat_map(|&(start, end)| dates_in(start, end))
            .collect();
        return best(&marked).map(|f| f.date);
    };
    let zone = (
        title_at.saturating_sub(BEFORE_TITLE),
        title_at.saturating_add(AFTER_TITLE),
    );
    let marked: Vec<Found> = reading
        .marked
        .iter()
        .filter(|&&(start, end)| end > zone.0 && start < zone.1)
        .flat_map(|&(start, end)| dates_in(start.max(zone.0), end.min(zone.1)))
        .collect();
    if let Some(found) = best(&marked) {
        return Some(found.date);
    }
    let after = dates_in(title_at, zone.1);
    if let Some(found) = best(&after) {
        return Some(found.date);
    }
    if let Some(found) = dates_in(zone.0, title_at).last() {
        return Some(found.date);
    }
    // A dateline far from the headline ("Aktualisiert: 30.12.2016" under
    // the text): only an element that says it holds a date.
    let marked: Vec<Found> = reading
        .marked
        .iter()
        .filter(|&&(start, _)| start >= zone.1)
        .take(MAX_MARKED)
        .flat_map(|&(start, end)| dates_in(start, end))
        .collect();
    best(&marked).map(|f| f.date)
}

fn floor(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

pub(super) fn read(doc: &Html, title: Option<&str>) -> Reading {
    let title = title.map(normalise).filter(|t| !t.is_empty());
    let mut reading = Reading::default();
    let mut skipping: Option<ego_tree::NodeId> = None;
    let mut marking: Option<(ego_tree::NodeId, usize)> = None;
    let mut first_h1: Option<usize> = None;
    for edge in doc.root_element().traverse() {
        if reading.text.len() > MAX_PAGE_TEXT {
            break;
        }
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => {
                        let text = text.trim();
                        if !text.is_empty() {
                            if !reading.text.is_empty() && !reading.text.ends_with(' ') {
                                reading.text.push(' ');
                            }
                            reading.text.push_str(text);
                        }
                    }
                    Node::Element(element) => {
                        let name = element.name();
                        if ElementRef::wrap(node).is_some_and(skipped) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if BLOCK_TAGS.contains(&name) {
                            separate(&mut reading.text);
                        }
                        if marking.is_none() && holds_date(element) {
                            marking = Some((node.id(), reading.text.len()));
                        }
                        if reading.title_at.is_none()
                            && matches!(name, "h1" | "h2" | "h3")
                            && let Some(heading) = ElementRef::wrap(node)
                        {
                            let text = normalise(&heading.text().collect::<String>());
                            let is_title = title.as_deref().is_some_and(|t| same_title(t, &text));
                            if is_title {
                                reading.title_at = Some(reading.text.len());
                            } else if name == "h1" && first_h1.is_none() && !text.is_empty() {
                                first_h1 = Some(reading.text.len());
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                if let Some((id, start)) = marking
                    && id == node.id()
                {
                    reading.marked.push((start, reading.text.len()));
                    marking = None;
                }
                if let Node::Element(element) = node.value()
                    && BLOCK_TAGS.contains(&element.name())
                {
                    separate(&mut reading.text);
                }
            }
        }
    }
    reading.title_at = reading.title_at.or(first_h1);
    reading
}

/// A heading is the headline when it says the declared title, or a good
/// part of it (titles often add the site's name): a short heading such as
/// "Italien" is only a section's.
fn same_title(title: &str, heading: &str) -> bool {
    let long_enough = heading.chars().count() * 2 >= title.chars().count().min(60)
        && heading.split_whitespace().count() >= 2;
    !heading.is_empty() && (heading.contains(title) || (long_enough && title.contains(heading)))
}

/// Ends a block: a date never runs across two.
fn separate(text: &mut String) {
    if !text.is_empty() && !text.ends_with(" | ") {
        text.push_str(" | ");
    }
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The class and id of an element, lower-cased.
fn names(element: &scraper::node::Element) -> String {
    let mut names = String::new();
    for attribute in ["class", "id", "itemprop"] {
        if let Some(value) = element.attr(attribute) {
            names.push_str(&value.to_lowercase());
            names.push(' ');
        }
    }
    names
}

/// Whether an element is a box beside the article (navigation, a footer, a
/// comment, a teaser), whose dates and names are not the article's.
pub(crate) fn skipped(node: ElementRef<'_>) -> bool {
    static H1: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("h1").expect("a valid built-in selector"));
    let element = node.value();
    let name = element.name();
    if SKIPPED_TAGS.contains(&name) {
        return true;
    }
    // The page's frame carries the CMS's state ("comments-open") in its
    // class, and is never a box to leave out.
    if matches!(name, "html" | "body" | "main" | "article") {
        return false;
    }
    let boxed = names(element).split_whitespace().any(|name| {
        let mut words = name.split(['-', '_']).filter(|w| !w.is_empty());
        let first = words.clone().next();
        !first.is_some_and(|w| STATE_WORDS.contains(&w))
            && !name.ends_with("-open")
            && !name.ends_with("-closed")
            && words.any(|w| SKIPPED_WORDS.contains(&w))
            && !own_footer(name)
    });
    // A box that holds the headline wraps the article (a menu overlay
    // around the whole page): it is not beside it.
    boxed && node.select(&H1).next().is_none()
}

/// "post-footer", "entry-footer": the article's own foot, where blogs print
/// who posted it and when.
fn own_footer(name: &str) -> bool {
    name.contains("footer") && ARTICLE_WORDS.iter().any(|w| name.contains(w))
}

fn holds_date(element: &scraper::node::Element) -> bool {
    if element.name() == "time" {
        return true;
    }
    let names = names(element);
    DATE_WORDS.iter().any(|w| names.contains(w))
}
