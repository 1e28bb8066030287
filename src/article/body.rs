//! Finding the article body in a page's DOM: our own extractor.
//!
//! Three steps on the one parsed tree, each a function below:
//!
//! 1. `noise` detaches what is never text (scripts, styles, controls,
//!    hidden elements), then `furniture` what is page furniture:
//!    navigation, asides, headers and footers (by tag, ARIA role, or a
//!    class/id of the boilerplate vocabulary), unless the element holds more
//!    than half of the page's text (some sites wrap everything in a `<form>`
//!    or a `<header>`); reader comments always go.
//! 2. `choose` scores text blocks (paragraphs, and containers with text of
//!    their own) by length and commas, damped by their link density, adds
//!    each score to the containers above (less the further up), weights them
//!    by the class/id vocabulary and picks the best one. It grows to its
//!    parent while the parent adds mostly prose, and takes siblings that
//!    score nearly as well or read like prose.
//! 3. `prune` removes link lists, galleries, link-heavy boxes and empty
//!    wrappers from inside the chosen subtrees.
//!
//! `find` runs these in `PASSES`, strictest first, until one leaves
//! `MIN_ARTICLE_CHARS` of text.
//!
//! Each rule and constant was measured with `cargo bench --bench extraction`
//! on both DEV sets, against trafilatura's and dom_smoothie's own text in the
//! same run. Change one only with that bench's figures for both sets.

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{Html, Node, node::Element};

/// Maps keyed by node. A node id is a small index: hashing it with SipHash
/// (the std default, built against collision attacks on untrusted keys) was
/// a tenth of extraction's time; these keys come from our own parser.
type HashMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<NodeIdHasher>>;

/// Fibonacci hashing of the one integer a [`NodeId`] hashes.
#[derive(Default)]
pub(super) struct NodeIdHasher(u64);

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(u64::from(*byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// Elements whose content is never article text.
const NOISE_TAGS: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed",
    "button", "select", "textarea", "input", "link", "meta", "dialog", "map", "audio", "video",
];

/// Elements that are page furniture, unless they hold most of the prose.
const FURNITURE_TAGS: &[&str] = &["nav", "aside", "footer", "header", "form", "menu"];

/// ARIA roles of page furniture.
const FURNITURE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "dialog",
    "alertdialog",
    "menu",
    "menubar",
    "search",
    "toolbar",
];

/// class/id words of boilerplate containers.
static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)comment|disqus|footer|sidebar|side-bar|share|sharing|social|related|",
        r"recommend|promo|sponsor|advert|^ads?$|^ad-|-ad-|-ads?$|banner|breadcrumb|pagination|",
        r"pager|popup|modal|cookie|consent|newsletter|subscri|signup|sign-up|masthead|",
        r"outbrain|taboola|trending|popular|read-?more|more-?stories|also-?read|tags|",
        r"skip|toolbar|login|print|byline-social|author-?bio|bio-?box|jump|meta-?nav|",
        r"^nav|-nav|navbar|menu|rss|shopping|donate|teaser|carousel|slider"
    ))
    .expect("a valid pattern")
});

/// class/id words of reader comments: removed in every pass, whatever their
/// size (a short post with a long discussion under it is still the post).
static COMMENTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)comment|disqus").expect("a valid pattern"));

/// class/id words of article containers.
static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)article|body|content|entry|hentry|main|post|text|blog|story|prose|column")
        .expect("a valid pattern")
});

/// Counts over a subtree, computed once per pass.
#[derive(Debug, Clone, Copy, Default)]
struct Measure {
    /// Non-whitespace characters of text.
    chars: usize,
    /// Of those, inside links.
    link_chars: usize,
    commas: usize,
    paragraphs: usize,
    images: usize,
    list_items: usize,
    headings: usize,
}

impl Measure {
    fn link_density(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f64 / self.chars as f64
        }
    }

    fn add(&mut self, other: &Measure) {
        self.chars += other.chars;
        self.link_chars += other.link_chars;
        self.commas += other.commas;
        self.paragraphs += other.paragraphs;
        self.images += other.images;
        self.list_items += other.list_items;
        self.headings += other.headings;
    }
}

/// Measures every element of the tree in one post-order walk.
fn measure_all(doc: &Html) -> HashMap<NodeId, Measure> {
    let mut measures: HashMap<NodeId, Measure> = HashMap::default();
    let mut stack: Vec<Measure> = vec![Measure::default()];
    let mut link_depth = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => match node.value() {
                Node::Element(element) => {
                    if is_link(element) {
                        link_depth += 1;
                    }
                    stack.push(Measure::default());
                }
                Node::Text(text) => {
                    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
                    let commas = text
                        .chars()
                        .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
                        .count();
                    if let Some(top) = stack.last_mut() {
                        top.chars += chars;
                        top.commas += commas;
                        if link_depth > 0 {
                            top.link_chars += chars;
                        }
                    }
                }
                _ => {}
            },
            ego_tree::iter::Edge::Close(node) => {
                let Node::Element(element) = node.value() else {
                    continue;
                };
                let Some(mut own) = stack.pop() else { continue };
                if is_link(element) {
                    link_depth = link_depth.saturating_sub(1);
                }
                match element.name() {
                    "p" | "pre" | "blockquote" => own.paragraphs += 1,
                    "img" | "picture" => own.images += 1,
                    "li" | "dt" | "dd" => own.list_items += 1,
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => own.headings += 1,
                    _ => {}
                }
                if let Some(parent) = stack.last_mut() {
                    parent.add(&own);
                }
                measures.insert(node.id(), own);
            }
        }
    }
    measures
}

/// A link to somewhere: `<a href>`. An `<a>` without `href` is an anchor
/// (headings are often wrapped in one) and its text is not link text.
pub(super) fn is_link(element: &Element) -> bool {
    element.name() == "a" && element.attr("href").is_some()
}

fn element<'a>(node: &NodeRef<'a, Node>) -> Option<&'a Element> {
    node.value().as_element()
}

/// The class and id of an element, as one string.
fn class_and_id(element: &Element) -> String {
    let mut names = String::new();
    for name in [element.attr("class"), element.attr("id")]
        .into_iter()
        .flatten()
    {
        names.push_str(name);
        names.push(' ');
    }
    names
}

/// The vocabulary weight of an element's class and id: +25 for article words,
/// −25 for boilerplate words, each judged on the class and the id apart.
fn class_weight(element: &Element) -> f64 {
    let mut weight = 0.0;
    for name in [element.attr("class"), element.attr("id")]
        .into_iter()
        .flatten()
    {
        if name.is_empty() {
            continue;
        }
        let words: Vec<&str> = name.split_whitespace().collect();
        if words.iter().any(|w| NEGATIVE.is_match(w)) {
            weight -= 25.0;
        }
        if words.iter().any(|w| POSITIVE.is_match(w)) {
            weight += 25.0;
        }
    }
    weight
}

/// Boilerplate by class or id: a negative word and no article word.
fn looks_like_furniture(element: &Element) -> bool {
    let names = class_and_id(element);
    let words: Vec<&str> = names.split_whitespace().collect();
    words.iter().any(|w| NEGATIVE.is_match(w)) && !words.iter().any(|w| POSITIVE.is_match(w))
}

fn is_hidden(element: &Element) -> bool {
    if element.attr("hidden").is_some() || element.attr("aria-hidden") == Some("true") {
        return true;
    }
    element.attr("style").is_some_and(|style| {
        let style: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        style.contains("display:none") || style.contains("visibility:hidden")
    })
}

/// Detaches what is never article text (see the module doc). An element that
/// holds more than half of the page's paragraph text is kept whatever its
/// name says.
/// How strict one attempt is. The strictest comes first; when it leaves too
/// little text, the page is read again with less removed (pages whose
/// article sits in a container named like boilerplate: `widget`, `sidebar-first`).
#[derive(Debug, Clone, Copy)]
struct Pass {
    /// Remove containers by their class or id.
    strip_by_class: bool,
    /// Judge containers inside the article ([`prune`]).
    prune: bool,
    /// Remove hidden elements. Pages rendered by script keep their article
    /// in a hidden element until the script moves it (`<div hidden id="S:0">`).
    strip_hidden: bool,
}

const PASSES: &[Pass] = &[
    Pass {
        strip_by_class: true,
        prune: true,
        strip_hidden: true,
    },
    Pass {
        strip_by_class: false,
        prune: true,
        strip_hidden: true,
    },
    Pass {
        strip_by_class: false,
        prune: false,
        strip_hidden: true,
    },
    Pass {
        strip_by_class: false,
        prune: true,
        strip_hidden: false,
    },
];

/// A looser pass replaces a stricter one only with this many times its text.
const LOOSER_PASS_GAIN: usize = 2;

/// An attempt is accepted when its text has this many characters…
const MIN_ARTICLE_CHARS: usize = 500;

/// Finds the article body: detaches everything else that [`prune`] and the
/// furniture rules judge boilerplate from `doc` and returns the body's
/// element(s), in document order; empty when the page has no prose.
pub(super) fn find(doc: &mut Html) -> Vec<NodeId> {
    let mut best: Option<(usize, Html, Vec<NodeId>)> = None;
    for pass in PASSES {
        let mut attempt = doc.clone();
        let noise = noise(&attempt, *pass);
        detach(&mut attempt, &noise);
        let furniture = furniture(&attempt, *pass);
        detach(&mut attempt, &furniture);
        let roots = choose(&attempt);
        if pass.prune {
            prune(&mut attempt, &roots);
        }
        let measures = measure_all(&attempt);
        let chars: usize = roots
            .iter()
            .filter_map(|r| measures.get(r))
            .map(|m| m.chars)
            .sum();
        let accepted = chars >= MIN_ARTICLE_CHARS;
        // A looser pass must find clearly more: a short article read by the
        // strict pass is not traded for the same text with its furniture.
        if best
            .as_ref()
            .is_none_or(|(most, _, _)| chars > most.saturating_mul(LOOSER_PASS_GAIN))
        {
            best = Some((chars, attempt, roots));
        }
        if accepted {
            break;
        }
    }
    match best {
        Some((_, attempt, roots)) => {
            *doc = attempt;
            roots
        }
        None => Vec::new(),
    }
}

/// Cleans a body that a site rule chose: what is never text goes (the
/// strictest pass's [`noise`]), and with `prune` the link lists and empty
/// wrappers [`prune`] judges boilerplate inside it.
pub(super) fn clean_chosen(doc: &mut Html, roots: &[NodeId], prune_too: bool) {
    let noise = noise(doc, PASSES[0]);
    detach(doc, &noise);
    if prune_too {
        prune(doc, roots);
    }
}

/// Elements that are never text: scripts, styles, controls, hidden ones.
fn noise(doc: &Html, pass: Pass) -> Vec<NodeId> {
    outermost_matching(doc, |_, el| {
        NOISE_TAGS.contains(&el.name()) || (pass.strip_hidden && is_hidden(el))
    })
}

/// Navigation, asides, footers, boilerplate containers: measured after the
/// noise is gone, so that scripts do not make the page look larger than it is.
fn furniture(doc: &Html, pass: Pass) -> Vec<NodeId> {
    let measures = measure_all(doc);
    let page_chars = measures
        .get(&doc.root_element().id())
        .map_or(0, |m| m.chars);
    outermost_matching(doc, |node, el| {
        let name = el.name();
        let furniture = FURNITURE_TAGS.contains(&name)
            || el
                .attr("role")
                .is_some_and(|r| FURNITURE_ROLES.contains(&r))
            || (pass.strip_by_class
                && !matches!(name, "article" | "main")
                && looks_like_furniture(el));
        let comments = !matches!(name, "article" | "main")
            && [el.attr("class"), el.attr("id")]
                .into_iter()
                .flatten()
                .any(|n| n.split_whitespace().any(|w| COMMENTS.is_match(w)));
        comments || (furniture && measures.get(&node.id()).map_or(0, |m| m.chars) * 2 < page_chars)
    })
}

/// The outermost elements below `<body>` for which `doomed` holds (nothing
/// inside a doomed element is looked at).
fn outermost_matching(
    doc: &Html,
    doomed: impl Fn(&NodeRef<'_, Node>, &Element) -> bool,
) -> Vec<NodeId> {
    let mut found = Vec::new();
    let mut stack: Vec<NodeRef<'_, Node>> = doc.root_element().children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(el) = element(&node) else { continue };
        if !matches!(el.name(), "html" | "body") && doomed(&node, el) {
            found.push(node.id());
            continue;
        }
        let mut children: Vec<_> = node.children().collect();
        children.reverse();
        stack.extend(children);
    }
    found
}

fn detach(doc: &mut Html, ids: &[NodeId]) {
    for id in ids {
        if let Some(mut node) = doc.tree.get_mut(*id) {
            node.detach();
        }
    }
}

/// Elements whose own text makes them a block to score.
const SCORED: &[&str] = &[
    "p",
    "pre",
    "td",
    "blockquote",
    "li",
    "dd",
    "div",
    "section",
    "article",
    "main",
    "span",
    "font",
    "center",
];

/// Blocks with more of their text in links are not prose.
const PROSE_MAX_LINK_DENSITY: f64 = 0.25;

/// The share of what a parent adds that must be prose for the body to grow
/// to the parent.
const CLIMB_MIN_PROSE_SHARE: f64 = 0.6;

/// A parent that adds no more than this is a wrapper: the body grows to it.
const WRAPPER_MAX_CHARS: usize = 50;

/// Blocks of fewer characters are not scored.
const MIN_BLOCK_CHARS: usize = 25;

/// The element(s) holding the article, in document order; empty when the
/// page has no block of prose.
fn choose(doc: &Html) -> Vec<NodeId> {
    let measures = measure_all(doc);
    let mut scores: HashMap<NodeId, f64> = HashMap::default();
    // Characters of prose (blocks of their own text, few links) under each element.
    let mut prose: HashMap<NodeId, usize> = HashMap::default();
    for node in doc.root_element().descendants() {
        let Some(el) = element(&node) else { continue };
        if !SCORED.contains(&el.name()) {
            continue;
        }
        let own = own_text(node);
        if own.chars < MIN_BLOCK_CHARS {
            continue;
        }
        let score = (1.0 + own.commas as f64 + (own.chars as f64 / 100.0).min(3.0))
            * (1.0 - own.link_density());
        if own.link_density() < PROSE_MAX_LINK_DENSITY {
            for ancestor in node.ancestors() {
                *prose.entry(ancestor.id()).or_default() += own.chars;
            }
            *prose.entry(node.id()).or_default() += own.chars;
        }
        // A paragraph's score goes to its container; a container's own text
        // is like a paragraph inside it, so the container is scored itself.
        let container = matches!(el.name(), "div" | "section" | "article" | "main" | "center");
        let receivers = container
            .then_some(node)
            .into_iter()
            .chain(node.ancestors());
        for (level, ancestor) in receivers.take(5).enumerate() {
            let Some(ancestor_el) = element(&ancestor) else {
                break;
            };
            let entry = scores
                .entry(ancestor.id())
                .or_insert_with(|| initial_score(ancestor_el));
            *entry += match level {
                0 => score,
                1 => score / 2.0,
                n => score / (n as f64 * 3.0),
            };
        }
    }
    let link_density = |id: &NodeId| measures.get(id).map_or(0.0, Measure::link_density);
    let mut ranked: Vec<(NodeId, f64)> = scores
        .iter()
        .map(|(id, score)| (*id, score * (1.0 - link_density(id))))
        .collect();
    // Ties go to the earlier element, so that the result never depends on
    // the map's order.
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let Some(&(mut top, top_score)) = ranked.first() else {
        return Vec::new();
    };
    let final_score = |id: NodeId| {
        scores
            .get(&id)
            .map_or(0.0, |s| s * (1.0 - link_density(&id)))
    };

    // Several near-best candidates under one ancestor: the article is that
    // ancestor (paragraphs split over several containers).
    let close: Vec<NodeId> = ranked
        .iter()
        .skip(1)
        .take(4)
        .filter(|(_, s)| *s >= top_score * 0.75)
        .map(|(id, _)| *id)
        .collect();
    if close.len() >= 2
        && let Some(top_node) = doc.tree.get(top)
    {
        for ancestor in top_node.ancestors() {
            if element(&ancestor).is_some_and(|e| e.name() == "body") {
                break;
            }
            let covers = close
                .iter()
                .filter(|id| {
                    doc.tree
                        .get(**id)
                        .is_some_and(|n| n.ancestors().any(|a| a.id() == ancestor.id()))
                })
                .count();
            if covers >= 2 {
                top = ancestor.id();
                break;
            }
        }
    }
    // A parent that scores better than its only scored child is the article.
    while let Some(node) = doc.tree.get(top)
        && let Some(parent) = node.parent()
        && element(&parent).is_some_and(|e| !matches!(e.name(), "body" | "html"))
        && final_score(parent.id()) > final_score(top)
        && node
            .parent()
            .is_some_and(|p| p.children().filter(|c| element(c).is_some()).count() == 1)
    {
        top = parent.id();
    }

    // The article split over several containers (one per section, per
    // block of a page builder): climb while the parent adds mostly prose.
    let prose_of = |id: NodeId| prose.get(&id).copied().unwrap_or(0);
    let chars_of = |id: NodeId| measures.get(&id).map_or(0, |m| m.chars);
    while let Some(node) = doc.tree.get(top)
        && let Some(parent) = node.parent()
        && element(&parent).is_some_and(|e| !matches!(e.name(), "body" | "html"))
    {
        let gain = prose_of(parent.id()).saturating_sub(prose_of(top));
        let extra = chars_of(parent.id()).saturating_sub(chars_of(top));
        let wrapper = extra <= WRAPPER_MAX_CHARS;
        let more_prose =
            gain * 5 >= prose_of(top) && (gain as f64) >= extra as f64 * CLIMB_MIN_PROSE_SHARE;
        if wrapper || more_prose {
            top = parent.id();
        } else {
            break;
        }
    }

    let Some(top_node) = doc.tree.get(top) else {
        return Vec::new();
    };
    let Some(parent) = top_node.parent() else {
        return vec![top];
    };
    let top_final = final_score(top);
    let threshold = (top_final * 0.2).max(10.0);
    let top_class = element(&top_node).and_then(|e| e.attr("class"));
    let mut chosen = Vec::new();
    for sibling in parent.children() {
        if sibling.id() == top {
            chosen.push(top);
            continue;
        }
        let Some(sibling_el) = element(&sibling) else {
            continue;
        };
        let mut bonus = 0.0;
        if top_class.is_some_and(|c| !c.is_empty()) && sibling_el.attr("class") == top_class {
            bonus += top_final * 0.2;
        }
        let keep = if final_score(sibling.id()) + bonus >= threshold {
            true
        } else if sibling_el.name() == "p" {
            let m = measures.get(&sibling.id()).copied().unwrap_or_default();
            (m.chars > 80 && m.link_density() < 0.25)
                || (m.chars > 0 && m.link_chars == 0 && ends_a_sentence(sibling))
        } else {
            false
        };
        if keep {
            chosen.push(sibling.id());
        }
    }
    chosen
}

/// The starting score of a candidate: its tag and its vocabulary.
fn initial_score(element: &Element) -> f64 {
    let tag = match element.name() {
        "div" | "article" | "main" | "section" => 5.0,
        "pre" | "td" | "blockquote" => 3.0,
        "address" | "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    tag + class_weight(element)
}

/// A text that ends like a sentence (`.`, `!`, `?`, `。`…).
fn ends_a_sentence(node: NodeRef<'_, Node>) -> bool {
    let text: String = node
        .descendants()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect();
    text.trim_end()
        .ends_with(['.', '!', '?', '。', '！', '？', '"', '”', '»'])
}

/// The text an element holds outside its child blocks: what it says itself.
fn own_text(node: NodeRef<'_, Node>) -> Measure {
    let mut own = Measure::default();
    let mut stack: Vec<(NodeRef<'_, Node>, bool)> =
        node.children().map(|child| (child, false)).collect();
    stack.reverse();
    while let Some((current, in_link)) = stack.pop() {
        match current.value() {
            Node::Text(text) => {
                let chars = text.chars().filter(|c| !c.is_whitespace()).count();
                own.chars += chars;
                own.commas += text
                    .chars()
                    .filter(|c| matches!(c, ',' | '，' | '、' | '،'))
                    .count();
                if in_link {
                    own.link_chars += chars;
                }
            }
            Node::Element(el) => {
                if super::text::BLOCKS.contains(&el.name()) {
                    continue;
                }
                let link = in_link || is_link(el);
                let mut children: Vec<_> = current.children().map(|c| (c, link)).collect();
                children.reverse();
                stack.extend(children);
            }
            _ => {}
        }
    }
    own
}

/// Containers judged inside the article.
const JUDGED: &[&str] = &[
    "div", "section", "table", "ul", "ol", "dl", "figure", "aside", "header", "footer", "form",
    "nav", "center",
];

/// Removes boilerplate containers from inside the chosen subtrees (see the
/// module doc). Inner containers are judged before the ones around them.
fn prune(doc: &mut Html, roots: &[NodeId]) {
    let measures = measure_all(doc);
    let mut doomed: Vec<NodeId> = Vec::new();
    for root in roots {
        let Some(root) = doc.tree.get(*root) else {
            continue;
        };
        let containers: Vec<NodeRef<'_, Node>> = root
            .descendants()
            .skip(1)
            .filter(|n| element(n).is_some_and(|e| JUDGED.contains(&e.name())))
            .collect();
        for node in containers.into_iter().rev() {
            if node.ancestors().any(|a| doomed.contains(&a.id())) {
                continue;
            }
            let Some(el) = element(&node) else { continue };
            let Some(m) = measures.get(&node.id()) else {
                continue;
            };
            if is_boilerplate(el, m, node) {
                doomed.push(node.id());
            }
        }
    }
    detach(doc, &doomed);
}

/// Whether a container inside the article is boilerplate.
fn is_boilerplate(el: &Element, m: &Measure, node: NodeRef<'_, Node>) -> bool {
    let weight = class_weight(el);
    if weight < 0.0 && m.chars < 400 {
        return true;
    }
    if m.commas >= 10 {
        return false;
    }
    let name = el.name();
    let list = matches!(name, "ul" | "ol" | "dl");
    let in_figure = name == "figure"
        || node
            .ancestors()
            .any(|a| element(&a).is_some_and(|e| e.name() == "figure"));
    let paragraphs = m.paragraphs as f64;
    let density = m.link_density();
    (m.images > 1 && paragraphs / (m.images as f64) < 0.5 && !in_figure)
        || (!list && m.list_items > m.paragraphs + 2 && density > 0.3)
        || (m.chars < 25 && m.images == 0 && m.headings == 0 && name != "td")
        || (weight < 25.0 && density > 0.35 && m.chars < 1000)
        || (density > 0.6)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the seed article: headline, dateline, paragraphs, a
    /// byline, then the site's "Check Also" teaser, comments and footer.
    const NEWS_PAGE: &str = r#"<html><body>
      <header class="site-header"><a href="/">Home</a> <a href="/politics">Politics</a> <a href="/world">World</a></header>
      <div class="layout">
        <div class="main-col">
          <div class="entry-content">
            <h1>The council approves the new bridge</h1>
            <p>Springfield, NEWS – The town council voted on Thursday to build a new bridge over the river, ending years of debate.</p>
            <p>“It is a good day for the town,” said the mayor, who had argued for the project since her election, and thanked the residents.</p>
            <p>The bridge will cost 12 million, paid by the region, the state and, for a small part, the town itself.</p>
            <p>Work starts in spring, and the old ferry keeps running until the bridge opens, probably in two years.</p>
            <p>Reporting by A. Writer</p>
            <div class="sharedaddy"><a href="/s/fb">Facebook</a> <a href="/s/tw">Twitter</a></div>
          </div>
          <div class="related-posts"><h3>Check Also</h3><a href="/other">Another story about something else, with its own teaser text</a></div>
          <div id="comments"><p>Great news, finally, after all these years of waiting for it, thanks.</p></div>
        </div>
        <aside class="sidebar"><ul><li><a href="/a">Most read one</a></li><li><a href="/b">Most read two</a></li></ul></aside>
      </div>
      <footer><p>© 2019 News, all rights reserved, and more words in the footer.</p></footer>
    </body></html>"#;

    fn body_text(html: &str) -> String {
        let mut doc = Html::parse_document(html);
        let roots = find(&mut doc);
        let subtrees: Vec<_> = roots
            .iter()
            .filter_map(|id| doc.tree.get(*id))
            .filter_map(scraper::ElementRef::wrap)
            .collect();
        super::super::text::subtrees_text(&subtrees)
    }

    #[test]
    fn the_article_is_kept_and_the_furniture_around_it_dropped() {
        let text = body_text(NEWS_PAGE);
        assert!(
            text.contains("Springfield, NEWS – The town council"),
            "{text}"
        );
        assert!(text.contains("probably in two years."), "{text}");
        assert!(text.contains("Reporting by A. Writer"), "{text}");
        for boilerplate in [
            "Home",
            "Facebook",
            "Check Also",
            "Great news",
            "Most read",
            "© 2019",
        ] {
            assert!(!text.contains(boilerplate), "{boilerplate} in {text}");
        }
    }

    #[test]
    fn a_page_wrapped_in_a_form_still_has_its_article() {
        let page = NEWS_PAGE
            .replace("<body>", "<body><form id=\"aspnetForm\">")
            .replace("</body>", "</form></body>");
        assert!(body_text(&page).contains("The bridge will cost 12 million"));
    }

    #[test]
    fn hidden_elements_and_scripts_are_not_text() {
        let page = NEWS_PAGE.replace(
            "<p>The bridge",
            "<p style=\"display: none\">Hidden promo text that nobody sees on the page at all.</p><script>var a = 'script words, many, many, many';</script><p>The bridge",
        );
        let text = body_text(&page);
        assert!(!text.contains("Hidden promo"), "{text}");
        assert!(!text.contains("script words"), "{text}");
    }

    #[test]
    fn a_page_without_prose_has_no_body() {
        assert!(
            choose(&Html::parse_document(
                "<html><body><a href=/>Home</a></body></html>"
            ))
            .is_empty()
        );
    }
}
