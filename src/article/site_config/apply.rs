//! A site's rules on a parsed page: its links to other pages of the
//! article, its `strip`s, its metadata, its `body`.

use std::borrow::Cow;

use ego_tree::NodeId;
use scraper::Html;
use url::Url;

use super::SiteConfig;
use crate::article::metadata::{Metadata, parse_date};
use crate::article::xpath::{Found, XPath};

/// Where the rest of a multi-page article is, as the site's rules say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageLinks {
    /// The whole article on one page (a print view), to fetch instead.
    pub single_page: Option<Url>,
    /// The article's next page.
    pub next_page: Option<Url>,
}

/// The page's HTML with the site's `find_string`s replaced, in order.
pub(crate) fn replace_strings<'a>(html: &'a str, site: &SiteConfig) -> Cow<'a, str> {
    let mut html = Cow::Borrowed(html);
    for (find, replace) in &site.replacements {
        if html.contains(find.as_str()) {
            html = Cow::Owned(html.replace(find.as_str(), replace));
        }
    }
    html
}

/// The links the rules point at, resolved against `url`; a link back to
/// the page itself is none.
pub(crate) fn page_links(doc: &Html, site: &SiteConfig, url: &Url) -> PageLinks {
    let link = |rules: &[XPath]| {
        rules
            .iter()
            .find_map(|rule| link_of(doc, rule, url))
            .filter(|link| !same_page(link, url))
    };
    PageLinks {
        single_page: link(&site.single_page_link),
        next_page: link(&site.next_page_link),
    }
}

/// The first result of `rule` as a URL: an element's `href`, an
/// attribute's value or a string.
fn link_of(doc: &Html, rule: &XPath, url: &Url) -> Option<Url> {
    let text = match rule.find(doc).into_iter().next()? {
        Found::Node(id) => {
            let node = doc.tree.get(id)?;
            match node.value().as_element() {
                Some(element) => element.attr("href")?.to_owned(),
                None => node.value().as_text()?.to_string(),
            }
        }
        Found::Attribute { value, .. } => value,
        Found::Value(value) => value,
    };
    let text = text.trim();
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    let link = url.join(text).ok()?;
    matches!(link.scheme(), "http" | "https").then_some(link)
}

fn same_page(a: &Url, b: &Url) -> bool {
    let strip = |u: &Url| {
        let mut u = u.clone();
        u.set_fragment(None);
        u
    };
    strip(a) == strip(b)
}

/// Detaches what the site's `strip` rules select and removes the attributes
/// its `strip_attr` rules select.
pub(crate) fn strip(doc: &mut Html, site: &SiteConfig) {
    for rule in &site.strip {
        let doomed: Vec<NodeId> = rule
            .find(doc)
            .into_iter()
            .filter_map(|found| match found {
                Found::Node(id) => Some(id),
                _ => None,
            })
            .collect();
        for id in doomed {
            if let Some(mut node) = doc.tree.get_mut(id)
                && node.parent().is_some()
            {
                node.detach();
            }
        }
    }
    for rule in &site.strip_attr {
        let attributes: Vec<(NodeId, String)> = rule
            .find(doc)
            .into_iter()
            .filter_map(|found| match found {
                Found::Attribute { owner, name, .. } => Some((owner, name)),
                _ => None,
            })
            .collect();
        for (owner, name) in attributes {
            if let Some(mut node) = doc.tree.get_mut(owner)
                && let scraper::Node::Element(element) = node.value()
            {
                element
                    .attrs
                    .retain(|(qual, _)| &*qual.local != name.as_str());
            }
        }
    }
}

/// The site's `title`, `author` and `date` over what the page's metadata says.
pub(crate) fn override_metadata(doc: &Html, site: &SiteConfig, meta: &mut Metadata) {
    let text = |rules: &[XPath]| {
        rules.iter().find_map(|rule| {
            let text = rule.string(doc);
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            (!text.is_empty()).then_some(text)
        })
    };
    if let Some(title) = text(&site.title) {
        meta.title = Some(title);
    }
    if let Some(author) = text(&site.author) {
        meta.author = Some(author);
    }
    if let Some(date) = site
        .date
        .iter()
        .find_map(|rule| parse_date(&rule.string(doc)))
    {
        meta.published = Some(date);
    }
}

/// The elements of the first `body` rule that selects any.
pub(crate) fn body(doc: &Html, site: &SiteConfig) -> Vec<NodeId> {
    site.body
        .iter()
        .map(|rule| rule.elements(doc))
        .find(|found| !found.is_empty())
        .unwrap_or_default()
}
