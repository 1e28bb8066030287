//! The tail after the article's last paragraph of prose: the contact line,
//! the "Tags" label, the photo credit, the one-line prompt that a page
//! puts under its text. None of them ends a sentence; the article's own
//! last paragraph does.

use std::cell::Cell;

use super::Block;

/// A block this wide (characters, see [`width`]) that ends a sentence
/// reads like prose: "He says the man died." is one, "Kontakt:" is not.
const SENTENCE_MIN_WIDTH: usize = 32;

/// A block this wide reads like prose whatever it ends with (a closing
/// emoji, a signature mark).
const PARAGRAPH_MIN_WIDTH: usize = 100;

/// A block that gives this share of its text to links is not prose.
const PROSE_MAX_LINK_SHARE: f64 = 0.3;

/// The tail is cut only when it is at most this share of the body's width:
/// a longer run of short blocks (a list of steps, a table) is content.
const TAIL_MAX_SHARE: f64 = 0.25;

/// Only a body this wide (before its tail) is trimmed: on a teaser page
/// the short lines at the end ("Já é assinante? Entrar") are what tells a
/// paywall from an article (`verdict`), and there is no article to protect.
const MIN_BODY_WIDTH: usize = 500;

/// Characters that close a sentence, and those that may follow them.
const SENTENCE_ENDS: &[char] = &['.', '!', '?', '…', '。', '！', '？'];
const CLOSERS: &[char] = &['"', '”', '“', '»', '«', '\'', '’', ')', '）', '」'];

/// The width of a text: its characters less white space, a Han, kana or
/// hangul character counting three (one carries about a short word).
fn width(text: &str) -> usize {
    text.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| if is_wide(c) { 3 } else { 1 })
        .sum()
}

fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{3400}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}')
}

/// Whether a block reads like a paragraph of the article. A list item, a
/// table cell, preformatted text or a quotation is judged with its structure, as
/// content; a line with a copyright sign is the site's imprint, whatever
/// sentence it makes ("The contents of this site are ©2019 …").
fn is_prose(block: &Block) -> bool {
    if block.item {
        return true;
    }
    if block.link_share >= PROSE_MAX_LINK_SHARE || block.text.contains('©') {
        return false;
    }
    let width = width(&block.text);
    let ends_a_sentence = block
        .text
        .trim_end()
        .trim_end_matches(CLOSERS)
        .ends_with(SENTENCE_ENDS);
    width >= PARAGRAPH_MIN_WIDTH || (width >= SENTENCE_MIN_WIDTH && ends_a_sentence)
}

/// The longest signature line (see [`width`]).
const SIGNATURE_MAX_WIDTH: usize = 48;

/// The most words a signature line has.
const SIGNATURE_MAX_WORDS: usize = 8;

/// Whether a block reads like the names that sign an article: a few
/// words, each name capitalized (short particles such as "by", "de",
/// "al-" aside), with no figure, address, question or label in it. A
/// label that is capitalized too ("Check Also", "Read more") is known by
/// the words cleanup already knows.
fn is_signature(block: &Block) -> bool {
    let text = block.text.trim();
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty()
        || words.len() > SIGNATURE_MAX_WORDS
        || width(text) > SIGNATURE_MAX_WIDTH
        || text
            .chars()
            .any(|c| c.is_numeric() || matches!(c, ':' | '@' | '©' | '?' | '!' | '|' | '#'))
    {
        return false;
    }
    words.iter().all(|w| super::is_name_word(w))
        && words.iter().any(|w| super::is_capitalized(w))
        && !super::is_tail_marker(text)
        && !super::is_prompt(text)
        && !super::opens_with(text, super::vocabulary::TEASER_LABELS)
}

/// The indices (into `blocks`, among those still `kept`) of the blocks
/// after the last one that reads like prose, when together they are a
/// small part of the body, in order. The tail is read twice: once as the
/// blocks read, and once with `closing` (whether the block of that index
/// is in a closing box: `closing`'s author's bio, a newsletter pitch;
/// asked only of the few blocks at the end), where such a block is never
/// that last paragraph, however much it reads like one, and only the box
/// and what follows it go (a box must not make the article's last lines a
/// tail). Both cuts are taken.
///
/// `closing` is asked once per block: the second reading needs it of the
/// blocks after the last paragraph, then of the same blocks for the first
/// box, and each answer is a walk up the block's containers.
pub(super) fn tail(blocks: &[Block], kept: &[bool], closing: &dyn Fn(usize) -> bool) -> Vec<usize> {
    let live: Vec<usize> = (0..blocks.len()).filter(|i| kept[*i]).collect();
    let total: usize = live.iter().map(|i| width(&blocks[*i].text)).sum();
    let mut cut = reading(blocks, &live, total, None).to_vec();
    let known: Vec<Cell<Option<bool>>> = vec![Cell::new(None); blocks.len()];
    let once = |i: usize| {
        known[i].get().unwrap_or_else(|| {
            let answer = closing(i);
            known[i].set(Some(answer));
            answer
        })
    };
    cut.extend_from_slice(reading(blocks, &live, total, Some(&once)));
    cut.sort_unstable();
    cut.dedup();
    cut
}

/// One reading of the tail (see [`tail`]): the blocks of `live` it cuts.
fn reading<'a>(
    blocks: &[Block],
    live: &'a [usize],
    total: usize,
    closing: Option<&dyn Fn(usize) -> bool>,
) -> &'a [usize] {
    let Some(last) = live
        .iter()
        .rposition(|i| is_prose(&blocks[*i]) && !closing.is_some_and(|c| c(*i)))
    else {
        return &[];
    };
    let mut trailing = &live[last + 1..];
    // The article's own last line stays: the byline or signature a news
    // page closes with ("Manar/Manal/ H. Said", "Reporting by …").
    if let Some((first, rest)) = trailing.split_first()
        && is_signature(&blocks[*first])
    {
        trailing = rest;
    }
    if let Some(closing) = closing {
        // The short lines before the box are the other reading's to judge.
        let first = trailing
            .iter()
            .position(|i| closing(*i))
            .unwrap_or(trailing.len());
        trailing = &trailing[first..];
    }
    let tail: usize = trailing.iter().map(|i| width(&blocks[*i].text)).sum();
    if total - tail < MIN_BODY_WIDTH || tail as f64 > total as f64 * TAIL_MAX_SHARE {
        return &[];
    }
    trailing
}
