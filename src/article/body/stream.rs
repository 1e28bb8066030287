//! Putting a streamed page together as the browser does.
//!
//! A page rendered by React's streaming server (Next.js and others) sends
//! its shell first, with a placeholder where content is not ready yet, and
//! the content later, at the end of `<body>`, in a hidden piece:
//! `<div hidden id="S:4">…</div>`. A small script then moves each piece into
//! its place: `$RC("B:4","S:4")` replaces a boundary's fallback (the nodes
//! between `<!--$?--><template id="B:4">` and the matching `<!--/$-->`,
//! "Loading…" or a skeleton) with the piece's children, `$RS("S:4","P:4")`
//! puts them where `<template id="P:4">` stands. The piece and its
//! placeholder share the number (both name the same segment); many saved
//! pages lack the scripts, so the pairing is read from the ids alone.
//!
//! Read as sent, an article streamed in several pieces is several hidden
//! elements, each too small to be kept as the page's article; put together,
//! it is one body where the page shows it.

use super::*;

/// Moves every hidden streamed piece (`S:n`) to its placeholder (`B:n` or
/// `P:n`), as the page's script would; a piece without a placeholder stays
/// where it is (and hidden).
pub(in crate::article) fn resolve_streaming(doc: &mut Html) {
    let mut pieces: Vec<(NodeId, String)> = Vec::new();
    // Key → the placeholder, and whether it is a boundary's (`B:`).
    let mut placeholders: std::collections::HashMap<String, (NodeId, bool)> =
        std::collections::HashMap::new();
    for node in doc.root_element().descendants() {
        let Some(el) = element(&node) else { continue };
        let Some((kind, key)) = el.attr("id").and_then(streamed_id) else {
            continue;
        };
        match (kind, el.name()) {
            ('S', _) if el.attr("hidden").is_some() => pieces.push((node.id(), key)),
            ('B' | 'P', "template") => {
                placeholders.entry(key).or_insert((node.id(), kind == 'B'));
            }
            _ => {}
        }
    }
    for (piece, key) in pieces {
        let Some(&(placeholder, boundary)) = placeholders.get(&key) else {
            continue;
        };
        let Some(place) = doc.tree.get(placeholder) else {
            continue;
        };
        // A placeholder inside its own piece (or detached) has no place to
        // receive it.
        if place.parent().is_none() || place.ancestors().any(|a| a.id() == piece) {
            continue;
        }
        let anchor = if boundary {
            clear_fallback(doc, placeholder)
        } else {
            placeholder
        };
        let children: Vec<NodeId> = doc
            .tree
            .get(piece)
            .map(|p| p.children().map(|c| c.id()).collect())
            .unwrap_or_default();
        for child in children {
            if let Some(mut anchor) = doc.tree.get_mut(anchor) {
                anchor.insert_id_before(child);
            }
        }
        for gone in [Some(piece), (anchor == placeholder).then_some(placeholder)]
            .into_iter()
            .flatten()
        {
            if let Some(mut node) = doc.tree.get_mut(gone) {
                node.detach();
            }
        }
    }
}

/// `S:1f`, `B:1f`, `P:1f` (after an optional prefix a page may set): the
/// kind's letter and the key the piece and its placeholder share.
fn streamed_id(id: &str) -> Option<(char, String)> {
    let (head, number) = id.rsplit_once(':')?;
    if number.is_empty() || number.len() > 8 || !number.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let kind = head.chars().last()?;
    if !matches!(kind, 'S' | 'B' | 'P') {
        return None;
    }
    let prefix = &head[..head.len() - 1];
    Some((kind, format!("{prefix}:{number}")))
}

/// Removes a boundary's fallback as `$RC` does: from the template through
/// the nodes after it, up to the `<!--/$-->` that closes the boundary opened
/// by the `<!--$?-->` before the template. Returns where the content goes:
/// before that closing comment, or (none: `$RC` appends to the parent) the
/// template, the last node left. Without the opening comment (a page saved without comments)
/// the fallback cannot be told apart: the template itself is the anchor and
/// whatever follows it stays.
fn clear_fallback(doc: &mut Html, template: NodeId) -> NodeId {
    let opens = doc
        .tree
        .get(template)
        .and_then(|t| t.prev_sibling())
        .and_then(|c| c.value().as_comment().map(|c| c.trim() == "$?"))
        .unwrap_or(false);
    if !opens {
        return template;
    }
    let mut doomed = Vec::new();
    let mut depth = 0usize;
    let mut end = None;
    let mut current = doc.tree.get(template);
    while let Some(node) = current {
        if let Some(comment) = node.value().as_comment() {
            match comment.trim() {
                "/$" if depth == 0 => {
                    end = Some(node.id());
                    break;
                }
                "/$" => depth -= 1,
                "$" | "$?" | "$!" => depth += 1,
                _ => {}
            }
        }
        doomed.push(node.id());
        current = node.next_sibling();
    }
    // The template stays until the content is in, as the anchor when there
    // is no closing comment.
    let anchor = end.unwrap_or(template);
    for id in doomed {
        if id == anchor {
            continue;
        }
        if let Some(mut node) = doc.tree.get_mut(id) {
            node.detach();
        }
    }
    anchor
}
