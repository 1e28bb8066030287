//! Judging containers inside the chosen article: link lists, galleries,
//! link-heavy boxes and empty wrappers go.

use super::*;

pub(super) const JUDGED: &[&str] = &[
    "div", "section", "table", "ul", "ol", "dl", "figure", "aside", "header", "footer", "form",
    "nav", "center",
];

/// Removes boilerplate containers from inside the chosen subtrees (see the
/// module doc). Inner containers are judged before the ones around them.
pub(super) fn prune(doc: &mut Html, roots: &[NodeId]) {
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
pub(super) fn is_boilerplate(el: &Element, m: &Measure, node: NodeRef<'_, Node>) -> bool {
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
