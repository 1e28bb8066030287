//! What stands around the article's prose rather than in it: a dateline or
//! byline above the first paragraph, photo credits, and contact or
//! copyright lines in the second half.
//!
//! By position first (before the first block of prose, in the late half),
//! then by what the block holds (a date or a clock time, a phone or fax
//! number, a copyright sign, a credit label). Each rule was kept for its
//! gain on the extraction bench's three DEV sets (see the commit that added
//! it); the ones that helped one set and cost another were left out.

use std::sync::LazyLock;

use ego_tree::NodeId;
use regex::Regex;

use super::Block;
use crate::article::dates::{self, Order};

/// A block of prose: this many words or more, most of them not links.
const PROSE_WORDS: usize = 12;

/// A dateline or byline above the text has at most this many words.
const DATELINE_WORDS: usize = 15;

/// A credit or a contact line has at most this many words.
const LINE_WORDS: usize = 30;

/// A photo credit: a caption ending in "(Image: …)", or a block opening
/// with a credit label, in the languages of the DEV sets.
static CREDIT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)\((?:images?|photos?|picture|pic|credit|source|fotos?|bild|bildquelle|quelle|",
        r"crédits?|créditos?|fuente|fonte|zdjęcie|фото)\s*:[^)]*\)$",
        r"|^(?:images?|photos?|picture|credits?|photo credit|fotos?|bild|bildquelle|titelbild|",
        r"crédits? photo|créditos?|fuente|fonte|zdjęcie|фото)\s*:"
    ))
    .expect("a valid pattern")
});

/// A copyright notice or a phone or fax number: the publisher's imprint and
/// contact card.
static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)©|\(c\)\s*\d{4}|\bcopyright\s*(?:\(c\)|\d{4})",
        r"|\b(?:tel|phone|telephone|fax|telefon|telefax|téléphone|tél|teléfono|telefono|",
        r"telefone|телефон)\b\.?\s*:?\s*\+?[\d(]"
    ))
    .expect("a valid pattern")
});

/// A clock time ("11:04", "18h30") in a dateline.
static CLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d{1,2}[:h]\d{2}\b").expect("a valid pattern"));

fn is_prose(block: &Block) -> bool {
    block.words >= PROSE_WORDS && block.link_share < 0.5 && !block.caption
}

fn ends_a_sentence(text: &str) -> bool {
    text.trim_end()
        .ends_with(['.', '!', '?', '。', '！', '？', '"', '”', '»', ':'])
}

fn has_date(text: &str) -> bool {
    [Order::DayFirst, Order::MonthFirst]
        .into_iter()
        .any(|order| dates::find_in_text(text, order).is_some())
        || CLOCK.is_match(text)
}

/// The blocks around the prose that are not the article, among `blocks`
/// less those `already` doomed.
pub(super) fn doomed(blocks: &[Block], already: &[NodeId]) -> Vec<NodeId> {
    let live: Vec<&Block> = blocks
        .iter()
        .filter(|b| !already.contains(&b.id) && b.words > 0)
        .collect();
    let Some(first) = live.iter().position(|b| is_prose(b)) else {
        return Vec::new();
    };
    // Above the first paragraph: "By Jane Doe - 11/18/19 11:04 PM EST",
    // "Posted: Fri 6:45 PM, Feb 16, 2018 |", "LinkNaija October 06, 2018".
    let datelines = live[..first]
        .iter()
        .filter(|b| b.words <= DATELINE_WORDS && !ends_a_sentence(&b.text) && has_date(&b.text));
    let credits = live
        .iter()
        .filter(|b| b.words <= LINE_WORDS && CREDIT.is_match(b.text.trim()));
    // The second half of the words: the imprint, the office's address card.
    let total: usize = live.iter().map(|b| b.words).sum();
    let mut words = 0;
    let contacts = live.iter().filter(move |b| {
        words += b.words;
        words * 2 >= total && b.words <= LINE_WORDS && CONTACT.is_match(&b.text)
    });
    datelines
        .chain(credits)
        .chain(contacts)
        .map(|b| b.id)
        .collect()
}
