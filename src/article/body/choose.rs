//! Scoring text blocks and choosing the element(s) that hold the article.

use super::*;

pub(super) const SCORED: &[&str] = &[
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
pub(super) const PROSE_MAX_LINK_DENSITY: f64 = 0.25;

/// The share of what a parent adds that must be prose for the body to grow
/// to the parent.
pub(super) const CLIMB_MIN_PROSE_SHARE: f64 = 0.6;

/// A parent that adds no more than this is a wrapper: the body grows to it.
pub(super) const WRAPPER_MAX_CHARS: usize = 50;

/// A sibling of the body is taken when it scores at least this share of
/// the body's score (a sibling of the same class gets a fifth of it as a
/// bonus). The article split into sibling blocks scores alike in each; a
/// box beside it (an imprint, an author's note, a newsletter pitch, a
/// teaser) scores far less. Measured on the three DEV sets: 0.2 took
/// those boxes, 0.8 gains precision on all three (1.0 loses on snippets).
pub(super) const SIBLING_MIN_SHARE: f64 = 0.8;

/// Blocks of fewer characters are not scored.
pub(super) const MIN_BLOCK_CHARS: usize = 25;

/// The element(s) holding the article, in document order; empty when the
/// page has no block of prose.
pub(super) fn choose(doc: &Html) -> Vec<NodeId> {
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
    let threshold = (top_final * SIBLING_MIN_SHARE).max(10.0);
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
pub(super) fn initial_score(element: &Element) -> f64 {
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
pub(super) fn ends_a_sentence(node: NodeRef<'_, Node>) -> bool {
    let text: String = node
        .descendants()
        .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
        .collect();
    text.trim_end()
        .ends_with(crate::article::text::SENTENCE_END)
}

/// The text an element holds outside its child blocks: what it says itself.
pub(super) fn own_text(node: NodeRef<'_, Node>) -> Measure {
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
                if super::super::text::BLOCKS.contains(&el.name())
                    || NOISE_TAGS.contains(&el.name())
                {
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
