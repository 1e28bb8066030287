//! MinHash over word shingles, kept per block so that blocks a host repeats
//! in many articles can be left out at insert time without re-reading the
//! text.
//!
//! Each block's shingles ([`SHINGLE_WORDS`] words in a row, not crossing a
//! block's edge; a block shorter than that is one shingle) are hashed, and
//! for each of [`SLOTS`] hash functions the block keeps the smallest value.
//! The MinHash of several blocks is the slot-wise minimum of theirs, so the
//! signature of "the text without its boilerplate blocks" costs
//! `blocks × SLOTS` comparisons, not a second pass over the words. Two
//! signatures agree in a slot with probability equal to the Jaccard
//! similarity of the two shingle sets.

use super::words::{self, Block, mix};

/// Words per shingle. Five words in a row rarely recur by chance across
/// stories (unlike two or three), yet one changed word costs only five
/// shingles, so a reworded sentence leaves most of its paragraph matching.
pub const SHINGLE_WORDS: usize = 5;
/// MinHash values per signature. The similarity estimate's standard error
/// is `sqrt(J(1-J)/SLOTS)`: 0.035 at J = 0.8.
pub const SLOTS: usize = 128;
/// Slots per LSH band.
pub const ROWS: usize = 4;
/// LSH bands: the keys a signature is looked up by. Two texts become
/// candidates when all [`ROWS`] slots of some band agree: probability
/// `1 - (1 - J^ROWS)^BANDS`, 0.87 at J = 0.5, 0.99 at J = 0.6, 0.9997 at
/// J = 0.7, 0.003 at J = 0.1.
pub const BANDS: usize = SLOTS / ROWS;
/// A text (after leaving out boilerplate) with fewer distinct shingles than
/// this has no signature: in a short text one shared sentence or one
/// template paragraph decides the similarity, and an exact copy of it is
/// caught by the exact text key anyway.
pub const MIN_SHINGLES: u32 = 30;

/// The multipliers and offsets of the slots' hash functions
/// (multiply-add-shift, 2-universal). Fixed forever: stored signatures and
/// band keys are only comparable with ones computed by the same functions.
const SLOT_HASHES: [(u64, u64); SLOTS] = slot_hashes();

const fn slot_hashes() -> [(u64, u64); SLOTS] {
    let mut out = [(0u64, 0u64); SLOTS];
    let mut state: u64 = 0x6e65_6172_2d64_7570; // "near-dup"
    let mut i = 0;
    while i < SLOTS {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let a = mix(state) | 1;
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let b = mix(state);
        out[i] = (a, b);
        i += 1;
    }
    out
}

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

    /// The blocks' keys with their shingle counts.
    pub(super) fn blocks(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.blocks.iter().map(|b| (b.key, b.shingles))
    }
}

fn sketch_block(block: &Block) -> BlockSketch {
    let words = &block.words;
    let key = words
        .iter()
        .fold(0x626c_6f63_6b00_0000u64, |h, w| mix(h ^ w));
    let mut shingles: Vec<u64> = if words.len() < SHINGLE_WORDS {
        vec![key]
    } else {
        words
            .windows(SHINGLE_WORDS)
            .map(|w| w.iter().fold(0x7368_696eu64, |h, word| mix(h ^ word)))
            .collect()
    };
    shingles.sort_unstable();
    shingles.dedup();
    let mut mins = [u32::MAX; SLOTS];
    for &shingle in &shingles {
        for (min, (a, b)) in mins.iter_mut().zip(SLOT_HASHES.iter()) {
            let value = (a.wrapping_mul(shingle).wrapping_add(*b) >> 32) as u32;
            *min = (*min).min(value);
        }
    }
    BlockSketch {
        key,
        shingles: u32::try_from(shingles.len()).unwrap_or(u32::MAX),
        mins,
    }
}

/// Bytes of [`Signature::to_bytes`].
pub const SIGNATURE_BYTES: usize = 4 + SLOTS * 4;

impl Signature {
    /// The LSH band keys this signature is stored and looked up under.
    /// Each band's slots are hashed with the band's number, so equal values
    /// in different bands never collide.
    pub fn bands(&self) -> [i64; BANDS] {
        let mut keys = [0i64; BANDS];
        for (band, (key, rows)) in keys.iter_mut().zip(self.mins.chunks(ROWS)).enumerate() {
            let h = rows
                .iter()
                .fold(mix(band as u64 + 1), |h, v| mix(h ^ u64::from(*v)));
            *key = h as i64;
        }
        keys
    }

    /// Distinct shingles the signature covers.
    pub fn shingles(&self) -> u32 {
        self.shingles
    }

    /// The estimated Jaccard similarity of the two shingle sets.
    pub fn jaccard(&self, other: &Signature) -> f64 {
        let equal = self
            .mins
            .iter()
            .zip(other.mins.iter())
            .filter(|(a, b)| a == b)
            .count();
        equal as f64 / SLOTS as f64
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
    fn identical_texts_have_identical_signatures_and_bands() {
        let a = Sketch::of_text(&text(1, 400)).signature(all).unwrap();
        let b = Sketch::of_text(&text(1, 400)).signature(all).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.bands(), b.bands());
        assert_eq!(a.jaccard(&b), 1.0);
    }

    #[test]
    fn unrelated_texts_share_no_band() {
        let a = Sketch::of_text(&text(1, 400)).signature(all).unwrap();
        let b = Sketch::of_text(&text(2, 400)).signature(all).unwrap();
        assert!(a.jaccard(&b) < 0.05, "{}", a.jaccard(&b));
        assert!(a.bands().iter().all(|k| !b.bands().contains(k)));
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
