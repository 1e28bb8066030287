//! Near-duplicate articles: one story published twice with small changes (a
//! wire story with a credit line and another byline, a press release on
//! several sites, a post edited under a new URL) is one article.
//!
//! Pure functions; the store keeps what they produce. An article's text
//! becomes a [`Sketch`] on the extraction thread ([`Sketch::of_text`]):
//! per block of text, a key and a MinHash of its five-word shingles. At insert
//! time the store says which of the article's blocks are its host's
//! boilerplate (blocks already in other stored articles of the host: see
//! [`Boilerplate`]); the rest gives the [`Signature`]. The stored articles
//! that have one of the rest's blocks among their [`INDEXED_BLOCKS`]
//! largest ([`Sketch::largest_blocks`]) are the candidates, each judged by
//! [`same_story`].
//!
//! Where the line lies between a light edit and another story: the incoming
//! text is a copy when at least `similarity` (default
//! [`DEFAULT_SIMILARITY`]) of its shingles are in the stored one, i.e. it
//! adds at most a fifth of new text. That merges a credit line, another
//! byline, reworded sentences, a paragraph dropped, a paragraph added to a
//! text five times its length, other page chrome; it keeps apart an update
//! that adds or rewrites more than a fifth of the text, which has news the
//! reader of the first version has not seen. Merging loses the incoming
//! version's new text for consumers who already have the article, so the
//! line errs towards delivering twice.
//!
//! Templated stories: two different stories written from one template (an
//! earnings note, a match result, a weather report, "the council discussed
//! X") differ only in a name, a place or a number in each sentence, so most
//! of their five-word shingles are shared and the share above cannot tell
//! them apart. What does is where the differences lie. A copy of a story
//! leaves most of the text verbatim, paragraph for paragraph: a credit line
//! or byline is a block of its own, a reworded sentence or a dropped or
//! added paragraph changes a block or two and leaves the others identical.
//! A templated story changes a little in nearly every paragraph, so hardly
//! any block is found verbatim. Hence the last condition: at least
//! [`VERBATIM_SHARE`] of the incoming text's shingles (outside boilerplate)
//! must lie in blocks the stored text has verbatim (same block key; the
//! block keys are stored with the signature anyway). The cost: a copy that
//! changed something in more than half of its text's paragraphs (a text of
//! one paragraph with one sentence reworded, a copy whose paragraphs were
//! cut differently) is delivered twice, which the line above already
//! prefers to a wrong merge.

mod sketch;
mod words;

use std::ops::RangeInclusive;

pub use sketch::{MIN_SHINGLES, SHINGLE_WORDS, SIGNATURE_BYTES, SLOTS, Signature, Sketch};
pub use words::{MAX_BLOCKS, MAX_TEXT_BYTES, MAX_WORDS, MIN_BLOCK_WORDS};

/// What an article brings to the store for near-duplicate merging: its
/// text's sketch, made on the extraction thread, and the `[dedup]
/// similarity` to judge it at.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The sketch of the article's `content_text`.
    pub sketch: Sketch,
    /// See [`DEFAULT_SIMILARITY`].
    pub similarity: f64,
}

/// The share of an incoming text's shingles that must be in a stored
/// article for the two to be one story (`[dedup] similarity`).
pub const DEFAULT_SIMILARITY: f64 = 0.8;
/// What `[dedup] similarity` accepts: below one half, two stories sharing a
/// long quote or boilerplate paragraph would merge.
pub const SIMILARITY_RANGE: RangeInclusive<f64> = 0.5..=1.0;
/// The least share of the stored text that the incoming one must have: a
/// one-paragraph quote of a long article is not that article.
pub const MIN_STORED_SHARE: f64 = 0.2;
/// When both texts have text of their own (the stored one has a block the
/// incoming lacks), the rest of the incoming text without the block that
/// matched most must still be this much in the stored text, unless the rest
/// is under [`REST_SHINGLES`] shingles: two press releases sharing their
/// long "About the company" paragraph, on a host not yet known to repeat
/// it, differ everywhere else; a copy that reworded a sentence or dropped a
/// paragraph still matches in its other paragraphs.
pub const REST_SHARE: f64 = 0.5;
/// See [`REST_SHARE`].
pub const REST_SHINGLES: u32 = 20;
/// The least share of the incoming text's shingles (outside boilerplate)
/// that must lie in blocks found verbatim in the stored text (see the
/// module comment, "templated stories"): most of it. Read off `cargo bench
/// --bench near_duplicates`: without this guard 1,461 of 2,665 templated
/// stories merged, all with a verbatim share of 0.00; of the copies merged,
/// 1 % keep under 0.19 and 5 % under 0.74. Any line from 0.1 to 0.5 leaves
/// no false merge there (recall 96.9 % at 0.1, 95.7 % at 0.5); one half is
/// taken so that a template that keeps a paragraph or two verbatim (an
/// intro, a closing line its host does not repeat often enough to be
/// boilerplate) still stays apart; what it costs is copies whose paragraphs
/// were cut differently ("other page chrome": 93 % merged without the
/// guard, 81 % with it).
pub const VERBATIM_SHARE: f64 = 0.5;
/// A block stored in this many other articles of the host is the host's
/// boilerplate: it is left out of an incoming article's signature.
pub const BOILERPLATE_ARTICLES: u32 = 2;
/// The blocks of a text the index keeps ([`Sketch::largest_blocks`]): its
/// largest, which a copy keeps verbatim unless it changed most of the
/// text, and which hold most of a short text (where a host's boilerplate
/// weighs, and so is counted). Each costs a row of random key per article,
/// which is most of what the index costs to write; `cargo bench --bench
/// near_duplicates` reads the recall off this number.
pub const INDEXED_BLOCKS: usize = 4;

/// Which blocks are a host's boilerplate, as the store knows them at insert
/// time: a block key is boilerplate when at least
/// [`BOILERPLATE_ARTICLES`] other stored articles of the same host (within
/// the window) have it among their [`INDEXED_BLOCKS`] largest. A block that
/// is a small part of every text is not counted; where it would weigh, in
/// a short text, it is among the largest. The store keeps one row per
/// (block key, host, article), so memory is bounded by the window's
/// articles.
pub trait Boilerplate {
    fn is_boilerplate(&self, block: u64) -> bool;
}

impl<F: Fn(u64) -> bool> Boilerplate for F {
    fn is_boilerplate(&self, block: u64) -> bool {
        self(block)
    }
}

/// A stored candidate: one signature and the block keys (sorted) of the
/// text it was made from.
#[derive(Debug, Clone, Copy)]
pub struct Stored<'a> {
    pub signature: &'a Signature,
    pub blocks: &'a [u64],
}

/// How an incoming text compares with a stored one; `same` is the verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub same: bool,
    /// Estimated share of the incoming text's shingles in the stored text.
    pub incoming_share: f64,
    /// Estimated share of the stored text's shingles in the incoming text.
    pub stored_share: f64,
    /// The share of the rest (see [`REST_SHARE`]), when it was measured.
    pub rest_share: Option<f64>,
    /// Share of the incoming text's shingles in blocks the stored text has
    /// verbatim (see [`VERBATIM_SHARE`]).
    pub verbatim_share: f64,
}

/// Whether `incoming` (its `boilerplate` blocks left out) is the same story
/// as `stored` at `similarity` (see the module comment for the rule).
pub fn same_story(
    incoming: &Sketch,
    boilerplate: &impl Boilerplate,
    stored: Stored<'_>,
    similarity: f64,
) -> Verdict {
    let keep = |k: u64| !boilerplate.is_boilerplate(k);
    let mut verdict = Verdict {
        same: false,
        incoming_share: 0.0,
        stored_share: 0.0,
        rest_share: None,
        verbatim_share: 0.0,
    };
    let Some(signature) = incoming.signature(keep) else {
        return verdict;
    };
    let shared = |k: u64| stored.blocks.binary_search(&k).is_ok();
    verdict.incoming_share = share(incoming, &signature, stored, keep, &shared);
    verdict.stored_share = stored.signature.contained_in(&signature);
    verdict.verbatim_share = verbatim(incoming, &signature, keep, &shared);
    if verdict.incoming_share < similarity || verdict.stored_share < MIN_STORED_SHARE {
        return verdict;
    }
    // Both texts have text of their own (the stored one a block the
    // incoming lacks): the match must not rest on one block.
    let own_blocks: Vec<u64> = incoming.block_keys().collect();
    let both_differ = stored.blocks.iter().any(|k| !own_blocks.contains(k));
    let largest = incoming
        .block_signatures()
        .filter(|(k, _)| keep(*k))
        .map(|(k, block)| {
            let matched = block.contained_in(stored.signature) * f64::from(block.shingles());
            (k, matched)
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(k, _)| k);
    if both_differ && let Some(largest) = largest {
        let rest_keep = |k: u64| keep(k) && k != largest;
        let rest = incoming.signature_of(rest_keep);
        if rest.shingles() >= REST_SHINGLES {
            let rest_share = share(incoming, &rest, stored, rest_keep, &shared);
            verdict.rest_share = Some(rest_share);
            if rest_share < REST_SHARE {
                return verdict;
            }
        }
    }
    // Last, so that a verdict says whether everything else held.
    verdict.same = verdict.verbatim_share >= VERBATIM_SHARE;
    verdict
}

/// The share of `signature`'s text (the blocks `keep` accepts) found in
/// `stored`: the MinHash estimate, or the blocks stored verbatim when they
/// alone say more (an exact lower bound).
fn share(
    incoming: &Sketch,
    signature: &Signature,
    stored: Stored<'_>,
    keep: impl Fn(u64) -> bool,
    shared: &impl Fn(u64) -> bool,
) -> f64 {
    let estimate = signature.contained_in(stored.signature);
    estimate.max(verbatim(incoming, signature, keep, shared))
}

/// The share of `signature`'s text (the blocks `keep` accepts) in blocks
/// that `shared` says the stored text has verbatim.
fn verbatim(
    incoming: &Sketch,
    signature: &Signature,
    keep: impl Fn(u64) -> bool,
    shared: &impl Fn(u64) -> bool,
) -> f64 {
    let verbatim: u32 = incoming
        .blocks()
        .filter(|(k, _)| keep(*k) && shared(*k))
        .fold(0u32, |n, (_, s)| n.saturating_add(s));
    verbatim_share(verbatim, signature.shingles())
}

/// The share of a text's `shingles` (outside boilerplate) that `verbatim`
/// of them, in blocks a stored text has verbatim, make: what
/// [`VERBATIM_SHARE`] bounds.
fn verbatim_share(verbatim: u32, shingles: u32) -> f64 {
    if shingles == 0 {
        return 0.0;
    }
    (f64::from(verbatim) / f64::from(shingles)).min(1.0)
}

#[cfg(test)]
mod tests;
