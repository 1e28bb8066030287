//! Counting text, links and blocks under each element, and the class/id
//! vocabulary of article and boilerplate containers.

use super::*;

/// class/id words of boilerplate containers. Not `social`:
/// it names an embedded post (`social-media-embed`) or a subject
/// (`category-social-sciences`) as often as a share bar, which `share`
/// names anyway.
pub(super) static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)comment|disqus|footer|sidebar|side-bar|share|sharing|related|",
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
pub(super) static COMMENTS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)comment|disqus").expect("a valid pattern"));

/// class/id words of article containers.
pub(super) static POSITIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)article|body|content|entry|hentry|main|post|text|blog|story|prose|column")
        .expect("a valid pattern")
});

/// Classes that hide an element (Tailwind, Bootstrap, WordPress and
/// screen-reader-only utilities).
const HIDING_CLASSES: &[&str] = &[
    "hidden",
    "d-none",
    "is-hidden",
    "hide",
    "visually-hidden",
    "sr-only",
    "screen-reader-text",
];

/// Counts over a subtree, computed once per pass.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Measure {
    /// Non-whitespace characters of text.
    pub(super) chars: usize,
    /// Of those, inside links.
    pub(super) link_chars: usize,
    pub(super) commas: usize,
    pub(super) paragraphs: usize,
    pub(super) images: usize,
    pub(super) list_items: usize,
    pub(super) headings: usize,
}

impl Measure {
    pub(super) fn link_density(&self) -> f64 {
        if self.chars == 0 {
            0.0
        } else {
            self.link_chars as f64 / self.chars as f64
        }
    }

    pub(super) fn add(&mut self, other: &Measure) {
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
pub(super) fn measure_all(doc: &Html) -> HashMap<NodeId, Measure> {
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
pub(in crate::article) fn is_link(element: &Element) -> bool {
    element.name() == "a" && element.attr("href").is_some()
}

pub(super) fn element<'a>(node: &NodeRef<'a, Node>) -> Option<&'a Element> {
    node.value().as_element()
}

/// The class and id of an element, as one string.
pub(super) fn class_and_id(element: &Element) -> String {
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
/// −25 for boilerplate words, each judged on the class and the id apart. A
/// word that holds both (`related-articles`, `post-share`, `entry-footer`)
/// is boilerplate: the article word names what the boilerplate is about.
pub(super) fn class_weight(element: &Element) -> f64 {
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
        if words
            .iter()
            .any(|w| POSITIVE.is_match(w) && !NEGATIVE.is_match(w))
        {
            weight += 25.0;
        }
    }
    weight
}

/// Boilerplate by class or id: a negative word and no article word.
pub(super) fn looks_like_furniture(element: &Element) -> bool {
    let names = class_and_id(element);
    let words: Vec<&str> = names.split_whitespace().collect();
    words.iter().any(|w| NEGATIVE.is_match(w)) && !words.iter().any(|w| POSITIVE.is_match(w))
}

/// Hidden by its attributes, its inline style, or a class that hides it in
/// every CSS framework (`hidden`, `d-none`…). A class list with a
/// responsive variant (`hidden md:block`) shows the element on some screens:
/// it is not hidden.
pub(super) fn is_hidden(element: &Element) -> bool {
    if element.attr("hidden").is_some() || element.attr("aria-hidden") == Some("true") {
        return true;
    }
    if let Some(class) = element.attr("class")
        && !class.contains(':')
        && class
            .split_whitespace()
            .any(|w| HIDING_CLASSES.iter().any(|h| w.eq_ignore_ascii_case(h)))
    {
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

/// Characters of prose under each element, counted as [`choose`] counts
/// them: the own text of scored blocks with few links. What is never text
/// (scripts, styles) is not looked into.
pub(super) fn prose_all(doc: &Html) -> HashMap<NodeId, usize> {
    let mut prose: HashMap<NodeId, usize> = HashMap::default();
    let mut stack: Vec<NodeRef<'_, Node>> = vec![*doc.root_element()];
    while let Some(node) = stack.pop() {
        let Some(el) = element(&node) else { continue };
        if NOISE_TAGS.contains(&el.name()) {
            continue;
        }
        stack.extend(node.children());
        if !SCORED.contains(&el.name()) {
            continue;
        }
        let own = own_text(node);
        if own.chars < MIN_BLOCK_CHARS || own.link_density() >= PROSE_MAX_LINK_DENSITY {
            continue;
        }
        for ancestor in std::iter::once(node).chain(node.ancestors()) {
            *prose.entry(ancestor.id()).or_default() += own.chars;
        }
    }
    prose
}
