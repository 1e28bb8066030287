//! The last clean-up of the chosen article body: the "Check Also" /
//! "Related" tail, lists of links to other stories, newsletter and social
//! prompts, captions and paragraphs repeated by carousels.
//!
//! Works on the body's subtrees of the parsed page, one leaf block (a
//! paragraph, list item, heading, … that holds no other block) at a time;
//! a run of text and inline elements standing loose between blocks is one
//! block too (`orphan`).
//! The short lines after the last paragraph of prose go too (`trailing`),
//! and with them a closing box under the text (`closing`: the author's
//! bio, a newsletter or letters pitch, known by its container's name) or
//! a closing note (`note`: a portrait of the author or the company, set
//! apart from the text and opening with a name and what it is; a call to
//! subscribe, follow or support). A dateline above the first paragraph
//! goes (`dateline`).
//! Every rule is measured on the three DEV sets of the extraction bench and
//! kept only where it gains on more than one.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node};

mod caption;
mod closing;
mod dateline;
mod note;
mod orphan;
mod trailing;
mod vocabulary;

use vocabulary::{PROMPTS, TAIL_MARKERS, TEASER_LABELS};

/// A teaser block gives at least this share of its text to links.
const TEASER_MIN_LINK_SHARE: f64 = 0.4;

/// A marker does not end the article when the prose after it is more than a
/// third of the words before it ("Related:" over a list in the middle of a
/// guide): a teaser after "Check Also" is short.
const TAIL_MAX_PROSE_SHARE: usize = 3;

/// Words in blocks that read like prose: ten words or more, few of them links.
fn prose_words(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .filter(|b| b.words >= 10 && b.link_share < 0.5)
        .map(|b| b.words)
        .sum()
}

/// Blocks longer than this are prose, whatever they contain.
const SHORT_BLOCK_WORDS: usize = 40;

/// Applies every clean-up rule to an HTML fragment.
pub fn clean(html: &str) -> String {
    let mut fragment = Html::parse_fragment(super::limits::within_depth(html));
    let root = fragment.root_element().id();
    if clean_subtrees(&mut fragment, &[root]) {
        fragment.root_element().inner_html()
    } else {
        html.to_owned()
    }
}

/// [`clean`] on the subtrees under `roots` (the article body, in document
/// order) of a parsed page; true when it removed anything.
pub fn clean_subtrees(doc: &mut Html, roots: &[NodeId]) -> bool {
    let blocks = leaf_blocks(doc, roots);
    let mut doomed: Vec<NodeId> = Vec::new();

    let total_words: usize = blocks.iter().map(|b| b.words).sum();
    let mut words_before = 0;
    let mut seen: HashSet<&str> = HashSet::new();
    let mut cut = false;
    for (index, block) in blocks.iter().enumerate() {
        let late = words_before * 2 >= total_words;
        words_before += block.words;
        if cut {
            doomed.push(block.id);
            continue;
        }
        if block.caption {
            doomed.push(block.id);
            continue;
        }
        if late
            && block.words <= 6
            && is_tail_marker(&block.text)
            && prose_words(&blocks[index + 1..]) * TAIL_MAX_PROSE_SHARE < words_before
        {
            cut = true;
            doomed.push(block.id);
            continue;
        }
        let short = block.words <= SHORT_BLOCK_WORDS;
        let repeated = block.words >= 3 && !seen.insert(block.text.as_str());
        let teaser = short
            && block.link_share >= TEASER_MIN_LINK_SHARE
            && opens_with(&block.text, TEASER_LABELS);
        if repeated
            || teaser
            || (short && block.link_share >= 0.9 && block.words > 0)
            || (short && is_prompt(&block.text))
        {
            doomed.push(block.id);
        }
    }
    // What is left after the last paragraph of prose (see `trailing`).
    let mut gone: HashSet<NodeId> = doomed.iter().copied().collect();
    // The dateline above the first paragraph (see `dateline`).
    for i in dateline::above_text(&blocks, &gone) {
        doomed.push(blocks[i].id);
        gone.insert(blocks[i].id);
    }
    let kept: Vec<bool> = blocks.iter().map(|b| !gone.contains(&b.id)).collect();
    // Whether a block is in a closing box is asked only of the blocks at
    // the end (a walk up its containers with a pattern per class), not of
    // every block of the body.
    // A portrait set apart under the text, and a call to subscribe, follow
    // or support (`note`), are closing too.
    let closing = |i: usize| {
        let Some(e) = doc.tree.get(blocks[i].id).and_then(ElementRef::wrap) else {
            return false;
        };
        closing::in_closing_box(&e, blocks[i].root)
            || note::is_call(&blocks[i].text)
            || (note::opens_with_identity(&blocks[i].text) && {
                let previous = (0..i)
                    .rev()
                    .find(|j| kept[*j])
                    .and_then(|j| doc.tree.get(blocks[j].id))
                    .and_then(ElementRef::wrap);
                note::set_apart(e, previous)
            })
    };
    let tail = trailing::tail(&blocks, &kept, &closing);
    doomed.extend(tail.into_iter().map(|i| blocks[i].id));
    let rest: Vec<NodeId> = {
        let doomed: HashSet<NodeId> = doomed.iter().copied().collect();
        blocks
            .iter()
            .filter(|b| !b.rest.is_empty() && doomed.contains(&b.id))
            .flat_map(|b| b.rest.iter().copied())
            .collect()
    };
    doomed.extend(rest);
    remove(doc, &doomed)
}

/// Detaches the `doomed` nodes; true when there were any.
fn remove(doc: &mut Html, doomed: &[NodeId]) -> bool {
    for id in doomed {
        if let Some(mut node) = doc.tree.get_mut(*id) {
            node.detach();
        }
    }
    !doomed.is_empty()
}

fn is_tail_marker(text: &str) -> bool {
    let normalized = normalize(text);
    let normalized = normalized.trim_end_matches([':', '…', '.', '!']).trim();
    TAIL_MARKERS.contains(&normalized)
}

/// Whether `text` opens with one of `openings` as whole words.
fn opens_with(text: &str, openings: &[&str]) -> bool {
    let normalized = normalize(text);
    openings.iter().any(|opening| {
        normalized
            .strip_prefix(opening)
            .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// Whether `word`'s first letter is upper case ("Said"; "al-Amin" is not).
fn is_capitalized(word: &str) -> bool {
    word.chars()
        .find(|c| c.is_alphabetic())
        .is_some_and(char::is_uppercase)
}

/// Whether `word` can stand in a person's or a company's name: it is
/// capitalized, or a short particle ("by", "de", "al-", "van") or no word
/// at all (the "/" between two names).
fn is_name_word(word: &str) -> bool {
    is_capitalized(word) || word.chars().filter(|c| c.is_alphabetic()).count() <= 3
}

fn is_prompt(text: &str) -> bool {
    let normalized = normalize(text);
    PROMPTS.iter().any(|p| normalized.contains(p))
}

fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A block that contains no other block.
struct Block {
    id: NodeId,
    text: String,
    words: usize,
    /// The share of the text's characters that are inside links.
    link_share: f64,
    /// Inside a `<figure>` or a `<figcaption>`.
    caption: bool,
    /// A list item, a table cell, preformatted text or a quotation: a
    /// part of a structure the article holds, judged with it.
    item: bool,
    /// The body's root the block is in (where `closing` stops looking).
    root: NodeId,
    /// For a loose run (see `orphan`), the siblings after `id` that it
    /// holds: they go with it.
    rest: Vec<NodeId>,
}

fn leaf_blocks(doc: &Html, roots: &[NodeId]) -> Vec<Block> {
    roots
        .iter()
        .filter_map(|id| doc.tree.get(*id))
        .flat_map(|root| root.descendants().map(move |d| (root.id(), d)))
        .filter_map(|(root, d)| {
            if orphan::is_block_element(d) {
                (!orphan::holds_block_below(d)).then(|| (root, d, Vec::new()))
            } else if d.id() == root {
                None
            } else {
                let run = orphan::run_from(d);
                (!run.is_empty()).then_some((root, d, run))
            }
        })
        .map(|(root, e, run)| {
            let nodes: Vec<NodeRef<'_, Node>> = if run.is_empty() {
                vec![e]
            } else {
                run.iter().filter_map(|id| doc.tree.get(*id)).collect()
            };
            let text = normalize_space(
                &nodes
                    .iter()
                    .flat_map(|n| n.descendants())
                    .filter_map(|n| n.value().as_text().map(|t| &**t))
                    .collect::<String>(),
            );
            let link_chars: usize = nodes
                .iter()
                .flat_map(|n| n.descendants())
                .filter(|n| {
                    n.ancestors()
                        .any(|a| a.value().as_element().is_some_and(super::body::is_link))
                })
                .filter_map(|n| match n.value() {
                    Node::Text(t) => Some(t.chars().filter(|c| !c.is_whitespace()).count()),
                    _ => None,
                })
                .sum();
            let chars = text.chars().filter(|c| !c.is_whitespace()).count();
            Block {
                caption: is_caption(e, root),
                item: std::iter::once(e).chain(e.ancestors()).any(|a| {
                    a.value().as_element().is_some_and(|el| {
                        matches!(
                            el.name(),
                            "li" | "dd" | "dt" | "td" | "th" | "pre" | "blockquote"
                        )
                    })
                }),
                root,
                id: e.id(),
                rest: run.into_iter().skip(1).collect(),
                words: text.split_whitespace().count(),
                link_share: if chars == 0 {
                    0.0
                } else {
                    link_chars as f64 / chars as f64
                },
                text,
            }
        })
        .collect()
}

/// A caption or credit: inside a container of the body named for one
/// (`caption`), inside a `<figcaption>`, or inside a `<figure>`
/// but not in a table, list or quote it holds (page builders wrap tables in
/// figures: `<figure class="wp-block-table">`).
fn is_caption(block: NodeRef<'_, Node>, root: NodeId) -> bool {
    let mut inside = true;
    for node in std::iter::once(block).chain(block.ancestors()) {
        inside &= node.id() != root;
        let Some(el) = node.value().as_element() else {
            continue;
        };
        match el.name() {
            "figcaption" | "figure" => return true,
            "table" | "ul" | "ol" | "dl" | "blockquote" | "pre" => return false,
            _ if inside && caption::is_caption_name(el) => return true,
            _ => {}
        }
    }
    false
}

fn normalize_space(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> String {
        (0..4)
            .map(|i| format!("<p>Paragraph {i} of the story tells what happened in the town hall on the evening of the vote.</p>"))
            .collect()
    }

    /// More paragraphs of the same story, none repeating [`body`].
    fn more() -> String {
        (0..4)
            .map(|i| format!("<p>Later part {i}: the neighbours met the builders, asked about the noise and got their answers.</p>"))
            .collect()
    }

    #[test]
    fn check_also_and_everything_after_it_is_dropped() {
        let html = format!(
            "{}<h3>Check Also</h3><p>Another story about something else entirely.</p>",
            body()
        );
        assert_eq!(clean(&html), body());
    }

    #[test]
    fn a_marker_early_in_the_text_is_left_alone() {
        let html = format!("<h2>Related</h2>{}", body());
        assert_eq!(clean(&html), html);
    }

    #[test]
    fn link_lists_and_prompts_are_dropped() {
        let html = format!(
            "{}<ul><li><a href=\"/a\">Five things about the vote</a></li></ul>\
             <p>Sign up for our newsletter to get the news first.</p>",
            body()
        );
        assert_eq!(clean(&html), format!("{}<ul></ul>", body()));
    }

    #[test]
    fn a_paragraph_with_a_link_in_it_is_prose() {
        let html = format!(
            "{}<p>The mayor <a href=\"/m\">said</a> the vote was fair and final.</p>",
            body()
        );
        assert_eq!(clean(&html), html);
    }

    #[test]
    fn repeated_paragraphs_are_kept_once() {
        let html = format!(
            "{}<p>Photo gallery caption one</p><p>Photo gallery caption one</p>{}",
            body(),
            more()
        );
        assert_eq!(
            clean(&html),
            format!("{}<p>Photo gallery caption one</p>{}", body(), more())
        );
    }

    #[test]
    fn an_inline_pointer_to_another_story_is_dropped() {
        let html = format!(
            "{}<p>Read more: <a href=\"/x\">Germany returns looted art to Nigeria</a></p>{}",
            body(),
            more()
        );
        assert_eq!(clean(&html), format!("{}{}", body(), more()));
        let html = format!(
            "<p>Lea también: <a href=\"/y\">Impiden ingreso a reportero</a></p>{}",
            body()
        );
        assert_eq!(clean(&html), body());
    }

    #[test]
    fn a_sentence_that_opens_like_a_pointer_but_is_prose_stays() {
        let html = format!(
            "{}<p>Read more about the vote in <a href=\"/m\">the minutes</a>, which the council \
             published on Friday with the name of every speaker.</p>",
            body()
        );
        assert_eq!(clean(&html), html);
    }
}
