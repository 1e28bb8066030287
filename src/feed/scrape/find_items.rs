//! `gleaner add` on a page with no feed: find the repeated structure that
//! holds the page's entries and the XPath expressions that read it.
//!
//! The rule, the same for every page:
//! 1. Elements are grouped by their place in the page: the tags, classes
//!    and ids of their ancestors, and their own tag. Items of one list
//!    share a place, even across sections (a news page grouped by month).
//! 2. A member of a group is entry-like when it holds a link to another
//!    page of the same site whose title (the member's first heading, else
//!    its link with the longest text) has some length, and holds no second
//!    such link to another page (then it is a container of entries).
//! 3. A group is a candidate when at least three of its members are
//!    entry-like, they are most of the group, and their links are distinct.
//!    Groups inside navigation, a banner, a footer or a form are never
//!    entries, nor are groups inside an `aside` or under a name such as
//!    `sidebar`, `popular`, `related`, `pagination`, `tags`; but an element
//!    that holds two thirds of the page's text is its layout, whatever it
//!    is called (a page-wide `<form>`, a body `has-sidebar`). Groups inside
//!    `main` count half again.
//! 4. Candidates are ranked by the sum of their members' weight (title
//!    length, further text, a date, an image, a heading, each capped), the
//!    outermost of equal ones first; the first for which expressions can be
//!    written that select exactly its entry-like members wins.
//!
//! Every expression written is checked by reading the page with it
//! ([`super::xpath_source`]), so what `add` prints is what polls will read.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};
use url::Url;

use super::xpath_source::{ScrapeRules, document_base};
use crate::article::limits;
use crate::article::xpath::XPath;

/// A title shorter than this (in characters) is a label (a menu entry, a
/// page number, a tag), not an entry's.
const MIN_TITLE_CHARS: usize = 12;
/// Fewer entry-like members than this are no list.
const MIN_ENTRIES: usize = 3;
/// How many candidate lists are tried for expressions, heaviest first.
const MAX_TRIED: usize = 8;
/// Names (class and id words) that mark furniture beside the entries.
const FURNITURE_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "footer",
    "pager",
    "pagination",
    "paging",
    "breadcrumb",
    "breadcrumbs",
    "sidebar",
    "widget",
    "popular",
    "trending",
    "mostread",
    "related",
    "tags",
    "tagcloud",
    "cloud",
    "share",
    "social",
    "promo",
    "sponsored",
    "ad",
    "ads",
];

/// The expressions `add` writes in `[feeds.scrape]`, each known to read
/// the page's entries.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundItems {
    pub items: String,
    pub title: String,
    /// `None`: the default (the title's link) reads the right links.
    pub link: Option<String>,
    pub published: Option<String>,
    pub summary: Option<String>,
    /// How many entries the page has by these expressions.
    pub count: usize,
}

impl FoundItems {
    /// The expressions compiled, as `config` would compile them.
    pub fn rules(&self) -> Option<ScrapeRules> {
        let compile = |s: &Option<String>| s.as_deref().map(XPath::compile).transpose();
        Some(ScrapeRules {
            items: XPath::compile(&self.items).ok()?,
            title: Some(XPath::compile(&self.title).ok()?),
            link: compile(&self.link).ok()?,
            published: compile(&self.published).ok()?,
            summary: compile(&self.summary).ok()?,
            author: None,
            image: None,
        })
    }
}

/// One entry-like member of a group.
struct Member {
    node: NodeId,
    title: String,
    link: Url,
    /// The heading or link the title was read from.
    title_node: NodeId,
    weight: f64,
}

/// The entries' expressions on the page at `page`, or `None` when nothing
/// on it repeats like a list of entries.
pub fn find(html: &str, page: &Url) -> Option<FoundItems> {
    let doc = Html::parse_document(limits::within_depth(html));
    let base = document_base(&doc, page);
    let mut groups: HashMap<(u64, String), Vec<NodeId>> = HashMap::new();
    let mut depth_of: HashMap<NodeId, usize> = HashMap::new();
    // The place of each open element: a hash of its ancestors' tags,
    // classes and ids and its own.
    let mut stack: Vec<u64> = vec![0];
    // The text each element holds, in characters, summed as elements close.
    let mut text: Vec<usize> = vec![0];
    let mut text_of_element: HashMap<NodeId, usize> = HashMap::new();
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                let element = match node.value() {
                    Node::Element(element) => element,
                    Node::Text(t) => {
                        if let Some(open) = text.last_mut() {
                            *open = open.saturating_add(t.trim().chars().count());
                        }
                        continue;
                    }
                    _ => continue,
                };
                text.push(0);
                let parent = *stack.last().unwrap_or(&0);
                groups
                    .entry((parent, element.name().to_owned()))
                    .or_default()
                    .push(node.id());
                depth_of.insert(node.id(), stack.len());
                let mut hasher = DefaultHasher::new();
                parent.hash(&mut hasher);
                element.name().hash(&mut hasher);
                for word in place_words(element) {
                    word.hash(&mut hasher);
                }
                stack.push(hasher.finish());
            }
            Edge::Close(node) => {
                if node.value().is_element() {
                    stack.pop();
                    let held = text.pop().unwrap_or(0);
                    text_of_element.insert(node.id(), held);
                    if let Some(open) = text.last_mut() {
                        *open = open.saturating_add(held);
                    }
                }
            }
        }
    }
    let page_text = text.first().copied().unwrap_or(0);
    // An element that holds most of the page's text is the page's layout
    // (ASP.NET's page-wide `<form>`, a `content-sidebar-wrap`, a body
    // `has-sidebar`), whatever its tag or name says.
    let is_layout = |id: NodeId| text_of_element.get(&id).copied().unwrap_or(0) * 3 > page_text * 2;

    let mut candidates: Vec<(f64, usize, Vec<Member>, usize)> = Vec::new();
    for members in groups.values() {
        if members.len() < MIN_ENTRIES {
            continue;
        }
        let Some(first) = doc.tree.get(members[0]).and_then(ElementRef::wrap) else {
            continue;
        };
        let Some(factor) = place_factor(first, &is_layout) else {
            continue;
        };
        let found: Vec<Member> = members
            .iter()
            .filter_map(|&id| ElementRef::wrap(doc.tree.get(id)?))
            .filter_map(|e| member(e, page, &base))
            .collect();
        let distinct: HashSet<&str> = found.iter().map(|m| m.link.as_str()).collect();
        if found.len() < MIN_ENTRIES
            || found.len() * 2 < members.len()
            || distinct.len() * 5 < found.len() * 4
        {
            continue;
        }
        let weight: f64 = found.iter().map(|m| m.weight).sum::<f64>() * factor;
        let depth = depth_of.get(&members[0]).copied().unwrap_or(0);
        candidates.push((weight, depth, found, members.len()));
    }
    // Heaviest first; of equal weight (an `li` and the `article` it
    // wraps), the outermost.
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // Each candidate tried re-reads the page a few times: the heaviest
    // few are enough.
    candidates
        .iter()
        .take(MAX_TRIED)
        .find_map(|(_, _, members, _)| expressions(&doc, members, page))
}

/// The words of an element that name its place: its tag's classes and id,
/// without those that carry digits (`post-123`, `item-4`: one per item).
fn place_words(element: &scraper::node::Element) -> Vec<String> {
    let mut words: Vec<String> = element
        .classes()
        .filter(|c| !c.bytes().any(|b| b.is_ascii_digit()))
        .map(|c| format!(".{c}"))
        .collect();
    words.sort();
    if let Some(id) = element
        .id()
        .filter(|i| !i.bytes().any(|b| b.is_ascii_digit()))
    {
        words.push(format!("#{id}"));
    }
    words
}

/// How much a group at this place counts: `None` inside navigation, a
/// banner, a footer, a form, an `aside` or anything named as furniture
/// ([`FURNITURE_WORDS`]), unless that element holds most of the page
/// (`is_layout`); half again in the page's `main`.
fn place_factor(first: ElementRef<'_>, is_layout: &dyn Fn(NodeId) -> bool) -> Option<f64> {
    let mut factor = 1.0;
    let chain: Vec<ElementRef<'_>> = std::iter::once(first)
        .chain(first.ancestors().filter_map(ElementRef::wrap))
        .collect();
    for (i, e) in chain.iter().enumerate() {
        let element = e.value();
        if matches!(element.name(), "main") || element.attr("role") == Some("main") {
            factor *= 1.5;
            continue;
        }
        if is_layout(e.id()) {
            continue;
        }
        let sectioned = chain[i + 1..].iter().any(|a| {
            matches!(
                a.value().name(),
                "article" | "aside" | "main" | "nav" | "section"
            )
        });
        let role = element.attr("role").unwrap_or("");
        match element.name() {
            "nav" | "form" | "menu" => return None,
            "header" | "footer" if !sectioned => return None,
            "aside" => return None,
            _ => {}
        }
        match role {
            "navigation" | "banner" | "contentinfo" | "search" | "menu" | "menubar" => {
                return None;
            }
            "complementary" => return None,
            _ => {}
        }
        let names = element.classes().chain(element.id());
        if names
            .flat_map(name_words)
            .any(|w| FURNITURE_WORDS.contains(&w.as_str()))
        {
            return None;
        }
    }
    Some(factor)
}

/// `most-read_list` → `most`, `read`, `list`, `mostread`, `readlist`: the
/// words of a class or id, single and joined in pairs.
fn name_words(name: &str) -> Vec<String> {
    let parts: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let pairs = parts.windows(2).map(|w| format!("{}{}", w[0], w[1]));
    parts.clone().into_iter().chain(pairs).collect()
}

/// The element's text as the reader gives a title: its text nodes
/// joined, whitespace collapsed.
fn text_of(e: ElementRef<'_>) -> String {
    super::cut(&e.text().collect::<String>(), usize::MAX)
}

fn is_heading(e: ElementRef<'_>) -> bool {
    matches!(e.value().name(), "h1" | "h2" | "h3" | "h4" | "h5" | "h6")
}

/// Whether `text` is long enough to be an entry's title: a dozen
/// characters, or half as many in scripts written without spaces.
fn title_like(text: &str) -> bool {
    let chars = text.chars().count();
    chars >= MIN_TITLE_CHARS || (chars >= MIN_TITLE_CHARS / 2 && !text.is_ascii())
}

/// Whether `link` leads to another page of the page's site.
fn site_page(link: &Url, page: &Url) -> bool {
    let host = |u: &Url| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_owned())
    };
    let mut bare = link.clone();
    bare.set_fragment(None);
    let mut here = page.clone();
    here.set_fragment(None);
    host(link) == host(page) && bare != here
}

/// `e` as an entry: its title, its link and its weight; `None` when it
/// has no titled link to a page of the site, or more than one.
fn member(e: ElementRef<'_>, page: &Url, base: &Url) -> Option<Member> {
    let links: Vec<(ElementRef<'_>, Url)> = std::iter::once(e)
        .chain(e.descendants().filter_map(ElementRef::wrap))
        .filter(|a| a.value().name() == "a")
        .filter_map(|a| {
            let href = a.value().attr("href")?;
            let url = super::web_link(base, href)?;
            site_page(&url, page).then_some((a, url))
        })
        .collect();
    if links.is_empty() {
        return None;
    }
    let heading = e
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|h| is_heading(*h) && !text_of(*h).is_empty());
    let link_of = |node: ElementRef<'_>| {
        links
            .iter()
            .find(|(a, _)| a.id() == node.id() || a.ancestors().any(|x| x.id() == node.id()))
            .or_else(|| {
                links
                    .iter()
                    .find(|(a, _)| node.ancestors().any(|x| x.id() == a.id()))
            })
    };
    let (title_node, link) = match heading.and_then(|h| link_of(h).map(|l| (h, l))) {
        Some((h, (_, url))) => (h, url.clone()),
        None => {
            let (a, url) = links
                .iter()
                .max_by_key(|(a, _)| text_of(*a).chars().count())?;
            (*a, url.clone())
        }
    };
    let title = text_of(title_node);
    if !title_like(&title) {
        return None;
    }
    // A second titled link to another page: this holds several entries.
    let mut own = link.clone();
    own.set_fragment(None);
    let other = links.iter().any(|(a, url)| {
        let mut url = url.clone();
        url.set_fragment(None);
        url != own
            && (title_like(&text_of(*a))
                || a.ancestors().filter_map(ElementRef::wrap).any(is_heading))
    });
    if other {
        return None;
    }
    let all = text_of(e).chars().count();
    let title_chars = title.chars().count();
    let rest = all.saturating_sub(title_chars).min(300) as f64;
    let has = |name: &str| {
        e.descendants()
            .filter_map(ElementRef::wrap)
            .any(|x| x.value().name() == name)
    };
    let weight = title_chars.min(100) as f64
        + rest / 3.0
        + if has("time") { 40.0 } else { 0.0 }
        + if has("img") { 15.0 } else { 0.0 }
        + if heading.is_some() { 20.0 } else { 0.0 };
    Some(Member {
        node: e.id(),
        title,
        link,
        title_node: title_node.id(),
        weight,
    })
}

/// The class test XPath 1.0 writes for `.name`.
fn has_class(class: &str) -> String {
    format!("contains(concat(' ', normalize-space(@class), ' '), ' {class} ')")
}

/// Safe to put between single quotes in an expression.
fn quotable(word: &str) -> bool {
    !word.is_empty() && !word.contains(['\'', '"']) && !word.chars().any(char::is_whitespace)
}

/// The steps that may name `e` in an expression, plainest last.
fn steps(e: ElementRef<'_>) -> Vec<String> {
    let name = e.value().name();
    let mut steps: Vec<String> = e
        .value()
        .classes()
        .filter(|c| quotable(c) && !c.bytes().any(|b| b.is_ascii_digit()))
        .map(|c| format!("{name}[{}]", has_class(c)))
        .collect();
    steps.push(name.to_owned());
    steps
}

/// Expressions that select exactly the members and read their titles and
/// links as the members say, or `None`.
fn expressions(doc: &Html, members: &[Member], page: &Url) -> Option<FoundItems> {
    let first = ElementRef::wrap(doc.tree.get(members.first()?.node)?)?;
    let want: Vec<NodeId> = members.iter().map(|m| m.node).collect();
    let items = item_candidates(first)
        .into_iter()
        .find(|x| XPath::compile(x).is_ok_and(|x| x.elements(doc) == want))?;
    let title_first = ElementRef::wrap(doc.tree.get(members[0].title_node)?)?;
    let mut titles: Vec<String> = steps(title_first)
        .into_iter()
        .map(|s| format!(".//{s}"))
        .collect();
    if let Some(parent) = title_first.parent().and_then(ElementRef::wrap)
        && parent.id() != first.id()
    {
        for p in steps(parent) {
            for s in steps(title_first) {
                titles.push(format!(".//{p}/{s}"));
            }
        }
    }
    let name = title_first.value().name();
    titles.push(format!(".//{name}[normalize-space()][1]"));
    // Its place among the item's elements of its kind, when that is all
    // that tells it from the others (an untitled category link first).
    let position = first
        .descendants()
        .filter_map(ElementRef::wrap)
        .filter(|e| e.value().name() == name)
        .position(|e| e.id() == title_first.id());
    if let Some(position) = position {
        titles.push(format!("(.//{name})[{}]", position + 1));
    }
    for title in titles {
        let mut found = FoundItems {
            items: items.clone(),
            title,
            link: None,
            published: None,
            summary: None,
            count: members.len(),
        };
        if !reads_members(doc, &found, members, page) {
            continue;
        }
        let link_forms = [
            format!("{}/@href", found.title),
            format!("{}/ancestor-or-self::a[@href][1]/@href", found.title),
            format!("{}//a[@href]/@href", found.title),
        ];
        found.link = link_forms.into_iter().find(|link| {
            let with = FoundItems {
                link: Some(link.clone()),
                ..found.clone()
            };
            reads_members(doc, &with, members, page)
        });
        let all_have = |x: &str| {
            let nodes: Vec<NodeId> = members.iter().map(|m| m.node).collect();
            XPath::compile(x).is_ok_and(|x| x.find_each(doc, &nodes).iter().all(|f| !f.is_empty()))
        };
        found.published = [".//time/@datetime"]
            .into_iter()
            .find(|x| all_have(x))
            .map(str::to_owned);
        found.summary = [".//p[normalize-space()][1]"]
            .into_iter()
            .find(|x| all_have(x))
            .map(str::to_owned);
        return Some(found);
    }
    None
}

/// Whether the expressions, read as polls read them, give each member's
/// title and link.
fn reads_members(doc: &Html, found: &FoundItems, members: &[Member], page: &Url) -> bool {
    let Some(rules) = found.rules() else {
        return false;
    };
    let Ok((_, entries)) = super::xpath_source::read(&rules, doc, page) else {
        return false;
    };
    entries.len() == members.len()
        && entries.iter().zip(members).all(|(entry, m)| {
            entry.title.as_deref() == Some(m.title.as_str()) && entry.url.as_ref() == Some(&m.link)
        })
}

/// Expressions that may select the items, plainest first: the item's own
/// classes, its parent's, the nearest ancestor with an id, then the whole
/// path from the page's root with every class on it.
fn item_candidates(first: ElementRef<'_>) -> Vec<String> {
    let own = steps(first);
    let mut out: Vec<String> = own
        .iter()
        .filter(|s| s.contains('['))
        .map(|s| format!("//{s}"))
        .collect();
    let ancestors: Vec<ElementRef<'_>> = first.ancestors().filter_map(ElementRef::wrap).collect();
    // From the parent, then from each of three more ancestors up, named
    // by one of its classes (or its tag), the steps between by their tags.
    for (i, top) in ancestors.iter().take(4).enumerate() {
        let between: String = ancestors[..i]
            .iter()
            .rev()
            .map(|x| format!("{}/", x.value().name()))
            .collect();
        for t in steps(*top) {
            if i > 0 && !t.contains('[') {
                continue;
            }
            for s in &own {
                out.push(format!("//{t}/{between}{s}"));
                out.push(format!("//{t}/{between}{s}[.//a[@href]]"));
            }
        }
    }
    for (i, a) in ancestors.iter().enumerate() {
        if let Some(id) = a.value().id().filter(|id| quotable(id)) {
            let between: Vec<String> = ancestors[..i]
                .iter()
                .rev()
                .map(|x| x.value().name().to_owned())
                .collect();
            for s in &own {
                out.push(format!("//*[@id='{id}']//{s}"));
                let mut path = between.clone();
                path.push(s.clone());
                out.push(format!("//*[@id='{id}']/{}", path.join("/")));
            }
            break;
        }
    }
    let full: Vec<String> = ancestors
        .iter()
        .rev()
        .map(|a| steps(*a).into_iter().next().unwrap_or_default())
        .collect();
    for s in &own {
        out.push(format!("/{}/{s}", full.join("/")));
        out.push(format!("/{}/{s}[.//a[@href]]", full.join("/")));
    }
    out
}
