//! The dateline or byline above the article's first paragraph: "By Jane
//! Doe - 11/18/19 11:04 PM EST", "Posted: Fri 6:45 PM, Feb 16, 2018 |",
//! "segunda-feira, 22 de janeiro de 2018 às 0:13". It is the page's
//! metadata (which `metadata` has read by then), not the article's text.
//!
//! Known by where it stands first (before the first block of prose, not a
//! list item or a quotation), then by what it is (a short line, no
//! sentence, with a date or a clock time in it, read by `dates` in a dozen
//! languages). A dated sentence ("On 16 May 2019 it rained.") stays, and so
//! does a date after the text.

use std::collections::HashSet;
use std::sync::LazyLock;

use ego_tree::NodeId;
use regex::Regex;

use super::Block;
use crate::article::dates::{self, Order};
use crate::article::text::SENTENCE_END;

/// A block of prose: this many words or more, most of them not links.
const PROSE_WORDS: usize = 12;

/// A dateline has at most this many words.
const DATELINE_WORDS: usize = 20;

/// A clock time ("11:04", "18h30") in a dateline.
static CLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{1,2}[:h]\d{2}(?:\b|[ap]m\b)").expect("a valid pattern"));

fn is_prose(block: &Block) -> bool {
    block.words >= PROSE_WORDS && block.link_share < 0.5 && !block.caption
}

/// Ends like a sentence, or like the label of what follows (`:`).
fn ends_a_sentence(text: &str) -> bool {
    let text = text.trim_end();
    text.ends_with(SENTENCE_END) || text.ends_with(':')
}

fn has_date(text: &str) -> bool {
    CLOCK.is_match(text)
        || [Order::DayFirst, Order::MonthFirst]
            .into_iter()
            .any(|order| dates::find_in_text(text, order).is_some())
}

/// The indices (into `blocks`, none of them `gone`) of the datelines above
/// the first block of prose. Only the blocks before it are read; a line
/// that reads as a dateline is one before it is asked whether it is prose
/// ("By HNN Staff | November 18, 2019 at 2:26 PM HST - Updated November
/// 18 at 4:46 PM" has the words of a paragraph).
pub(super) fn above_text(blocks: &[Block], gone: &HashSet<NodeId>) -> Vec<usize> {
    let mut found = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        if gone.contains(&block.id) || block.words == 0 {
            continue;
        }
        if !block.item
            && block.words <= DATELINE_WORDS
            && !ends_a_sentence(&block.text)
            && has_date(&block.text)
        {
            found.push(i);
        } else if is_prose(block) {
            return found;
        }
    }
    // No prose at all: nothing is "above" it.
    Vec::new()
}
