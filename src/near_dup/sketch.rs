//! MinHash over word shingles, kept per block so that blocks a host repeats
//! in many articles can be left out at insert time without re-reading the
//! text.
//!
//! Each block's shingles ([`SHINGLE_WORDS`] words in a row, not crossing a
//! block's edge; a block shorter than that is one shingle) are hashed once
//! each, and the hash's top bits choose one of [`SLOTS`] slots in which the
//! block keeps the smallest of the rest ("one permutation hashing": one
//! hash and one comparison per shingle, where a MinHash of `SLOTS` hash
//! functions costs `SLOTS`). The signature of several blocks is the
//! slot-wise minimum of theirs, so the signature of "the text without its
//! boilerplate blocks" costs `blocks × SLOTS` comparisons, not a second
//! pass over the words. Of the slots that are not empty in both of two
//! signatures, the share that agree estimates the Jaccard similarity of the
//! two shingle sets.

use super::words::{self, Block, mix};

/// Words per shingle. Five words in a row rarely recur by chance across
/// stories (unlike two or three), yet one changed word costs only five
/// shingles, so a reworded sentence leaves most of its paragraph matching.
pub const SHINGLE_WORDS: usize = 5;
/// Slots per signature. The similarity estimate's standard error is about
/// `sqrt(J(1-J)/m)` for the `m` slots that are not empty in both (all 128
/// from about 600 shingles on, 27 for the shortest text with a signature):
/// 0.035 at J = 0.8 for a text of a few hundred words.
pub const SLOTS: usize = 128;
/// The bits of a shingle's hash that choose its slot.
const SLOT_BITS: u32 = SLOTS.trailing_zeros();
/// A slot no shingle fell in.
const EMPTY: u32 = u32::MAX;
/// A text (after leaving out boilerplate) with fewer distinct shingles than
/// this has no signature: in a short text one shared sentence or one
/// template paragraph decides the similarity, and an exact copy of it is
/// caught by the exact text key anyway.
pub const MIN_SHINGLES: u32 = 30;

/// One block's part of a sketch.
#[derive(Debug, Clone)]
struct BlockSketch {
    /// The block's identity, for telling recurring blocks of a host apart:
    /// a hash of its words.
    key: u64,
    /// Distinct shingles in the block.
    shingles: u32,
    mins: [u32; SLOTS],
}

/// What a text's sketch holds in memory between extraction and insert: its
/// blocks' keys and MinHashes. Built once, on the extraction thread.
#[derive(Debug, Clone, Default)]
pub struct Sketch {
    blocks: Vec<BlockSketch>,
}

/// What is stored of a text: the MinHash of its shingles outside the
/// blocks left out, and how many distinct shingles that is (to turn the
/// Jaccard estimate into containment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    mins: [u32; SLOTS],
    shingles: u32,
}

impl Sketch {
    /// The sketch of an article's plain text (paragraphs separated by blank
    /// lines). Bounded: see `words`.
    pub fn of_text(text: &str) -> Sketch {
        let blocks = words::blocks(text);
        Sketch {
            blocks: blocks.iter().map(sketch_block).collect(),
        }
    }

    /// The keys of the text's blocks, in order: what a host's recurring
    /// blocks are counted by.
    pub fn block_keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.blocks.iter().map(|b| b.key)
    }

    /// Distinct shingles of the blocks `keep` accepts.
    pub fn shingles(&self, keep: impl Fn(u64) -> bool) -> u32 {
        self.blocks
            .iter()
            .filter(|b| keep(b.key))
            .fold(0u32, |n, b| n.saturating_add(b.shingles))
    }

    /// The signature of the blocks `keep` accepts, or `None` when they hold
    /// fewer than [`MIN_SHINGLES`] shingles.
    pub fn signature(&self, keep: impl Fn(u64) -> bool) -> Option<Signature> {
        let signature = self.signature_of(keep);
        (signature.shingles >= MIN_SHINGLES).then_some(signature)
    }

    /// The signature of the blocks `keep` accepts, however few.
    pub(super) fn signature_of(&self, keep: impl Fn(u64) -> bool) -> Signature {
        let mut mins = [u32::MAX; SLOTS];
        let mut shingles = 0u32;
        for block in self.blocks.iter().filter(|b| keep(b.key)) {
            shingles = shingles.saturating_add(block.shingles);
            for (min, value) in mins.iter_mut().zip(block.mins.iter()) {
                *min = (*min).min(*value);
            }
        }
        Signature { mins, shingles }
    }

    /// Each block's key and signature.
    pub(super) fn block_signatures(&self) -> impl Iterator<Item = (u64, Signature)> + '_ {
        self.blocks.iter().map(|b| {
            (
                b.key,
                Signature {
                    mins: b.mins,
                    shingles: b.shingles,
                },
            )
        })
    }

    /// The keys of the text's `count` largest blocks (most shingles first,
    /// then by key), distinct: the blocks the index finds the text by.
    pub fn largest_blocks(&self, count: usize) -> Vec<u64> {
        let mut blocks: Vec<(u32, u64)> = self.blocks.iter().map(|b| (b.shingles, b.key)).collect();
        blocks.sort_unstable_by(|a, b| b.cmp(a));
        let mut keys: Vec<u64> = Vec::with_capacity(count);
        for (_, key) in blocks {
            if keys.len() == count {
                break;
            }
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        keys
    }

    /// The blocks' keys with their shingle counts, in order.
    pub fn blocks(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.blocks.iter().map(|b| (b.key, b.shingles))
    }
}

fn sketch_block(block: &Block) -> BlockSketch {
    let words = &block.words;
    let key = words
        .iter()
        .fold(0x626c_6f63_6b00_0000u64, |h, w| mix(h ^ w));
    let shingles = words.len().saturating_sub(SHINGLE_WORDS - 1).max(1);
    let mut distinct = Distinct::with_room_for(shingles);
    let mut mins = [EMPTY; SLOTS];
    let mut add = |shingle: u64| {
        // A shingle seen again changes no minimum: only the count needs
        // it to be new.
        if distinct.insert(shingle) {
            let (slot, value) = slot_of(shingle);
            if let Some(min) = mins.get_mut(slot) {
                *min = (*min).min(value);
            }
        }
    };
    if words.len() < SHINGLE_WORDS {
        add(key);
    } else {
        words.windows(SHINGLE_WORDS).map(shingle_hash).for_each(add);
    }
    BlockSketch {
        key,
        shingles: distinct.count,
        mins,
    }
}

/// Counts distinct shingle hashes in an open-addressing table at most half
/// full. The hashes are mixed already, so their low bits are the place.
/// This is what sorting the block's shingles and removing repeats did,
/// without the sort's comparisons (most of what a sketch cost).
struct Distinct {
    table: Vec<u64>,
    /// Whether the hash 0, which marks an empty place, was seen.
    zero: bool,
    count: u32,
}

impl Distinct {
    /// A table for up to `inserts` hashes (a block has at most
    /// `words::MAX_WORDS` shingles, so at most 64 K places of 8 bytes).
    fn with_room_for(inserts: usize) -> Self {
        let places = inserts.saturating_mul(2).next_power_of_two().max(16);
        Distinct {
            table: vec![0; places],
            zero: false,
            count: 0,
        }
    }

    /// Adds `hash`; true when it was not there yet.
    fn insert(&mut self, hash: u64) -> bool {
        if hash == 0 {
            let new = !self.zero;
            self.zero = true;
            self.count = self.count.saturating_add(u32::from(new));
            return new;
        }
        let mask = self.table.len() - 1;
        let mut at = hash as usize & mask;
        // The table is never more than half full, so an empty place is
        // found; the bound only keeps a broken invariant from looping.
        for _ in 0..self.table.len() {
            match self.table.get_mut(at) {
                Some(place) if *place == 0 => {
                    *place = hash;
                    self.count = self.count.saturating_add(1);
                    return true;
                }
                Some(place) if *place == hash => return false,
                _ => at = (at + 1) & mask,
            }
        }
        false
    }
}

/// One hash of a shingle's words (each already a mixed 64-bit hash): each
/// word rotated by its place, so that the same words in another order
/// differ, then mixed once.
fn shingle_hash(words: &[u64]) -> u64 {
    let folded = words
        .iter()
        .zip([0u32, 13, 26, 39, 52])
        .fold(0x7368_696eu64, |h, (w, r)| h ^ w.rotate_left(r));
    mix(folded)
}

/// A shingle's slot (its hash's top bits) and its value there (the low 32
/// bits; a value equal to [`EMPTY`] reads as an empty slot, one in 2^32).
fn slot_of(shingle: u64) -> (usize, u32) {
    ((shingle >> (64 - SLOT_BITS)) as usize, shingle as u32)
}

/// Bytes of [`Signature::to_bytes`].
pub const SIGNATURE_BYTES: usize = 4 + SLOTS * 4;

impl Signature {
    /// Distinct shingles the signature covers.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// The estimated Jaccard similarity of the two shingle sets: of the
    /// slots where either has a shingle, the share where both hold the
    /// same smallest one.
    pub fn jaccard(&self, other: &Signature) -> f64 {
        let (mut equal, mut used) = (0u32, 0u32);
        for (a, b) in self.mins.iter().zip(other.mins.iter()) {
            if *a == EMPTY && *b == EMPTY {
                continue;
            }
            used += 1;
            equal += u32::from(a == b);
        }
        match used {
            0 => 0.0,
            _ => f64::from(equal) / f64::from(used),
        }
    }

    /// The estimated share of this text's shingles that `other` has too:
    /// `|A ∩ B| = J (|A| + |B|) / (1 + J)`, over `|A|`.
    pub fn contained_in(&self, other: &Signature) -> f64 {
        if self.shingles == 0 {
            return 0.0;
        }
        let j = self.jaccard(other);
        let common = j * (f64::from(self.shingles) + f64::from(other.shingles)) / (1.0 + j);
        (common / f64::from(self.shingles)).min(1.0)
    }

    /// The stored form: shingle count, then the slots, little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(SIGNATURE_BYTES);
        out.extend_from_slice(&self.shingles.to_le_bytes());
        for v in &self.mins {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads [`Signature::to_bytes`]; `None` when the bytes are not one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        if bytes.len() != SIGNATURE_BYTES {
            return None;
        }
        let word = |i: usize| -> Option<u32> {
            let b: [u8; 4] = bytes.get(i * 4..i * 4 + 4)?.try_into().ok()?;
            Some(u32::from_le_bytes(b))
        };
        let shingles = word(0)?;
        let mut mins = [0u32; SLOTS];
        for (i, min) in mins.iter_mut().enumerate() {
            *min = word(i + 1)?;
        }
        Some(Signature { mins, shingles })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(seed: u64, words: usize) -> String {
        let mut rng = fastrand::Rng::with_seed(seed);
        (0..words)
            .map(|i| {
                let w = format!("w{}", rng.u32(0..5000));
                if i % 60 == 59 { w + ".\n\n" } else { w + " " }
            })
            .collect()
    }

    fn all(_: u64) -> bool {
        true
    }

    #[test]
    fn identical_texts_have_identical_signatures() {
        let a = Sketch::of_text(&text(1, 400)).signature(all).unwrap();
        let b = Sketch::of_text(&text(1, 400)).signature(all).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.jaccard(&b), 1.0);
    }

    #[test]
    fn unrelated_texts_are_not_similar() {
        let a = Sketch::of_text(&text(1, 400)).signature(all).unwrap();
        let b = Sketch::of_text(&text(2, 400)).signature(all).unwrap();
        assert!(a.jaccard(&b) < 0.05, "{}", a.jaccard(&b));
    }

    #[test]
    fn containment_is_estimated_from_the_sizes() {
        // b is a's first half: all of b is in a, half of a is in b.
        let whole = text(3, 1200);
        let half: String = whole
            .split("\n\n")
            .take(10)
            .collect::<Vec<_>>()
            .join("\n\n");
        let a = Sketch::of_text(&whole).signature(all).unwrap();
        let b = Sketch::of_text(&half).signature(all).unwrap();
        assert!(b.contained_in(&a) > 0.85, "{}", b.contained_in(&a));
        let back = a.contained_in(&b);
        assert!((0.35..0.65).contains(&back), "{back}");
    }

    #[test]
    fn left_out_blocks_leave_the_signature_of_the_rest() {
        let a = text(4, 600);
        let boiler = text(5, 120);
        let sketch = Sketch::of_text(&format!("{a}\n\n{boiler}"));
        let boiler_keys: Vec<u64> = Sketch::of_text(&boiler).block_keys().collect();
        let without = sketch.signature(|k| !boiler_keys.contains(&k)).unwrap();
        assert_eq!(without, Sketch::of_text(&a).signature(all).unwrap());
    }

    #[test]
    fn the_largest_blocks_are_indexed_once_each() {
        let long = text(8, 55);
        let short = text(9, 12);
        // The long paragraph twice, then shorter ones.
        let sketch = Sketch::of_text(&format!("{long}\n\n{long}\n\n{short}\n\n{}", text(10, 30)));
        let keys: Vec<u64> = sketch.block_keys().collect();
        let largest = sketch.largest_blocks(2);
        assert_eq!(largest.len(), 2);
        assert_eq!(
            largest[0],
            Sketch::of_text(&long).block_keys().next().unwrap()
        );
        assert_ne!(largest[1], largest[0]);
        assert!(keys.contains(&largest[1]));
        assert_eq!(sketch.largest_blocks(10).len(), 3);
    }

    #[test]
    fn a_short_text_has_no_signature() {
        assert!(Sketch::of_text(&text(6, 30)).signature(all).is_none());
        assert!(Sketch::of_text("").signature(all).is_none());
    }

    #[test]
    fn the_stored_form_reads_back() {
        let a = Sketch::of_text(&text(7, 300)).signature(all).unwrap();
        let bytes = a.to_bytes();
        assert_eq!(bytes.len(), SIGNATURE_BYTES);
        assert_eq!(Signature::from_bytes(&bytes), Some(a));
        assert_eq!(Signature::from_bytes(&bytes[1..]), None);
    }
}
