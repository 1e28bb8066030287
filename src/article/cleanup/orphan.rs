//! Loose lines: text that stands directly in a container beside its
//! blocks rather than in a block of its own (`<div><h2>…</h2>Text of the
//! section.<br><br><h2>…</h2>…`, `<div><p>…</p><a>Back to the list</a>
//! </div>`). The leaf blocks do not hold it, so no rule saw it: the
//! trailing rule took the headings between such sections for short lines
//! after the text, and a link or label after the last paragraph stayed.
//! Each run of such siblings (text, inline elements, line breaks) between
//! two blocks is read as a block of its own.

use ego_tree::{NodeId, NodeRef};
use scraper::Node;

use crate::article::text::BLOCKS;

/// Whether `node` is a block element (`text::BLOCKS`).
pub(super) fn is_block_element(node: NodeRef<'_, Node>) -> bool {
    node.value()
        .as_element()
        .is_some_and(|e| BLOCKS.contains(&e.name()))
}

/// Whether `node` is, or holds, a block.
fn holds_block(node: NodeRef<'_, Node>) -> bool {
    is_block_element(node) || holds_block_below(node)
}

/// Whether a node holds a block below it.
pub(super) fn holds_block_below(node: NodeRef<'_, Node>) -> bool {
    node.descendants().skip(1).any(is_block_element)
}

/// A node that adds nothing to a run's text: white space or a comment.
fn is_blank(node: NodeRef<'_, Node>) -> bool {
    match node.value() {
        Node::Text(t) => t.trim().is_empty(),
        Node::Comment(_) => true,
        _ => false,
    }
}

/// The loose run that `node` opens: `node` and the siblings after it up
/// to the next block, when `node` is the first of them (after a block or
/// first in its container), the run has text and a block stands before or
/// after it (so no leaf block holds it). Empty otherwise.
pub(super) fn run_from(node: NodeRef<'_, Node>) -> Vec<NodeId> {
    if !matches!(node.value(), Node::Text(_) | Node::Element(_)) || holds_block(node) {
        return Vec::new();
    }
    let before = node.prev_sibling();
    if before.is_some_and(|b| !holds_block(b)) {
        return Vec::new();
    }
    let mut run = vec![node.id()];
    let mut after = None;
    for sibling in node.next_siblings() {
        if holds_block(sibling) {
            after = Some(sibling);
            break;
        }
        run.push(sibling.id());
    }
    let has_text = run.iter().any(|id| {
        node.tree().get(*id).is_some_and(|n| {
            !is_blank(n)
                && n.descendants()
                    .any(|d| d.value().as_text().is_some_and(|t| !t.trim().is_empty()))
        })
    });
    if has_text && (before.is_some() || after.is_some()) {
        run
    } else {
        Vec::new()
    }
}
