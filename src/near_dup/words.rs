//! An article's text into the word blocks its sketch is made of.
//!
//! Two copies of one story differ in ways that are no part of the story:
//! letter case, typographic quotes and dashes, compatibility forms
//! (full-width letters, ligatures, no-break spaces), accents written as a
//! separate combining mark or not, and short lines of chrome around the text
//! (a byline, "Photo: AP", "Share this"). Words here are therefore taken after
//! NFKD, without combining marks, lower-cased, split at anything that is not a
//! letter or digit (an apostrophe inside a word joins it: "don't" and "don’t"
//! are one word). Scripts written without spaces (Han, kana, Thai, Lao, Khmer,
//! Myanmar) give one word per character, so their shingles are character
//! n-grams rather than one whole paragraph.
//!
//! A text's paragraphs (separated by a blank line, as `article::text` writes
//! them) become blocks; a run of consecutive short paragraphs (fewer than
//! [`MIN_BLOCK_WORDS`] words each) counts as one block when the run is long
//! enough, and is dropped otherwise: a byline or a credit line between two
//! paragraphs is chrome, a list of short items is content.
//!
//! Hostile input costs bounded work: only the first [`MAX_TEXT_BYTES`] of a
//! text are read, at most [`MAX_WORDS`] words and [`MAX_BLOCKS`] blocks are
//! kept (words past the last block join it), and every step is linear.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// The most bytes of a text read for its sketch. A story's identity is in
/// its first pages; a longer text is sketched on its beginning, which two
/// copies of it share.
pub const MAX_TEXT_BYTES: usize = 256 * 1024;
/// The most words sketched.
pub const MAX_WORDS: usize = 32_000;
/// The most blocks a text is cut into; the rest joins the last one.
pub const MAX_BLOCKS: usize = 256;
/// A paragraph of fewer words is chrome unless it sits in a run of short
/// paragraphs (a list) that together reach this many words.
pub const MIN_BLOCK_WORDS: usize = 8;

/// One block of the text: its words as hashes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Block {
    pub words: Vec<u64>,
}

/// The text's blocks (see the module comment), in order.
pub(super) fn blocks(text: &str) -> Vec<Block> {
    let text = head(text, MAX_TEXT_BYTES);
    let mut blocks: Vec<Block> = Vec::new();
    // The short paragraphs seen since the last block.
    let mut pending: Vec<u64> = Vec::new();
    let mut words_left = MAX_WORDS;
    let mut letters = Letters::new();
    for paragraph in paragraphs(text) {
        if words_left == 0 {
            break;
        }
        let mut words = words_of(paragraph, words_left, &mut letters);
        words_left -= words.len();
        if words.is_empty() {
            continue;
        }
        if words.len() >= MIN_BLOCK_WORDS {
            flush(&mut pending, &mut blocks);
            push(&mut blocks, std::mem::take(&mut words));
        } else {
            pending.extend(words);
        }
    }
    flush(&mut pending, &mut blocks);
    blocks
}

/// Ends a run of short paragraphs: a block when long enough, else dropped.
fn flush(pending: &mut Vec<u64>, blocks: &mut Vec<Block>) {
    if pending.len() >= MIN_BLOCK_WORDS {
        push(blocks, std::mem::take(pending));
    }
    pending.clear();
}

fn push(blocks: &mut Vec<Block>, words: Vec<u64>) {
    if blocks.len() >= MAX_BLOCKS
        && let Some(last) = blocks.last_mut()
    {
        last.words.extend(words);
    } else {
        blocks.push(Block { words });
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a
/// character boundary.
fn head(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Paragraphs: runs of lines separated by a line that holds only white space.
fn paragraphs(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        if line.trim().is_empty() {
            if let Some(s) = start.take() {
                found.push(&text[s..line_start]);
            }
        } else if start.is_none() {
            start = Some(line_start);
        }
    }
    if let Some(s) = start {
        found.push(&text[s..]);
    }
    found
}

/// The normalized words of `paragraph` as hashes, at most `max` of them.
/// Most text is ASCII, which NFKD leaves as it is: it is read byte by byte,
/// and only the other characters are decoded and normalized.
fn words_of(paragraph: &str, max: usize, letters: &mut Letters) -> Vec<u64> {
    // About one word in six bytes of prose: room enough that the list is
    // seldom grown.
    let mut words = Vec::with_capacity((paragraph.len() / 6).min(max));
    let mut word = WordHash::new();
    let bytes = paragraph.as_bytes();
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        if words.len() >= max {
            return words;
        }
        if byte.is_ascii() {
            if byte.is_ascii_alphanumeric() {
                word.add_byte(byte.to_ascii_lowercase());
            } else if byte != b'\'' {
                word.finish_into(&mut words);
            }
            at += 1;
            continue;
        }
        let Some(c) = paragraph.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        at += c.len_utf8();
        for c in std::iter::once(c).nfkd() {
            add_char(c, letters, &mut word, &mut words);
        }
    }
    if words.len() < max {
        word.finish_into(&mut words);
    }
    words
}

/// One character of a word (after NFKD): joins the word, ends it, or is
/// a word of its own.
fn add_char(c: char, letters: &mut Letters, word: &mut WordHash, words: &mut Vec<u64>) {
    if is_combining_mark(c) || is_apostrophe(c) {
        // An apostrophe inside a word joins it; elsewhere it is punctuation.
        return;
    }
    if !letters.is_alphanumeric(c) {
        word.finish_into(words);
        return;
    }
    let unspaced = is_unspaced_script(c);
    if unspaced {
        word.finish_into(words);
    }
    for lower in c.to_lowercase() {
        // Full case folding's two common differences from lower case, so
        // that an upper-cased "STRASSE" and a final sigma compare equal.
        match lower {
            '\u{df}' => {
                word.add('s');
                word.add('s');
            }
            '\u{3c2}' => word.add('\u{3c3}'),
            other => word.add(other),
        }
    }
    if unspaced {
        word.finish_into(words);
    }
}

/// `char::is_alphanumeric`, remembered for the characters a text used
/// last: outside ASCII the standard library searches its tables, about a
/// thousand instructions a character (a third of what sketching a text
/// cost on the DEV sets), and a text in one script uses few characters.
struct Letters {
    seen: [(char, bool); 256],
}

impl Letters {
    fn new() -> Self {
        // '\0' is no letter, so the empty places hold a true answer too.
        Letters {
            seen: [('\0', false); 256],
        }
    }

    fn is_alphanumeric(&mut self, c: char) -> bool {
        let place = &mut self.seen[c as usize % 256];
        if place.0 != c {
            *place = (c, c.is_alphanumeric());
        }
        place.1
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}')
}

/// Scripts written without spaces between words.
fn is_unspaced_script(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // CJK compatibility ideographs
        | 0x20000..=0x2FFFF) // CJK extensions B and later
}

/// FNV-1a over a word's characters, finished with a mixer: stable across
/// builds and machines (sketches are stored), no allocation per word.
struct WordHash {
    state: u64,
    len: usize,
}

impl WordHash {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    fn new() -> Self {
        WordHash {
            state: Self::OFFSET,
            len: 0,
        }
    }

    fn add(&mut self, c: char) {
        let mut buf = [0u8; 4];
        for byte in c.encode_utf8(&mut buf).bytes() {
            self.state ^= u64::from(byte);
            self.state = self.state.wrapping_mul(Self::PRIME);
        }
        self.len += 1;
    }

    /// [`WordHash::add`] of an ASCII character.
    fn add_byte(&mut self, byte: u8) {
        self.state ^= u64::from(byte);
        self.state = self.state.wrapping_mul(Self::PRIME);
        self.len += 1;
    }

    fn finish_into(&mut self, words: &mut Vec<u64>) {
        if self.len > 0 {
            words.push(mix(self.state));
        }
        *self = WordHash::new();
    }
}

/// SplitMix64's finalizer: every input bit moves every output bit.
pub(super) const fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<u64> {
        words_of(text, usize::MAX, &mut Letters::new())
    }

    #[test]
    fn case_quotes_compatibility_forms_and_accents_do_not_matter() {
        assert_eq!(
            words("Don’t PANIC: the café’s ﬁle"),
            words("don't panic -- the cafe\u{301}'s file")
        );
        assert_eq!(words("ＡＢＣ\u{a0}def"), words("abc def"));
        assert_eq!(words("Straße ὀδυσσεύς"), words("STRASSE ὈΔΥΣΣΕΎΣ"));
    }

    #[test]
    fn punctuation_separates_words() {
        assert_eq!(words("U.S. state-run"), words("u s state run"));
        assert_eq!(words("U.S.").len(), 2);
    }

    #[test]
    fn unspaced_scripts_give_a_word_per_character() {
        assert_eq!(words("東京都庁").len(), 4);
        assert_eq!(words("ภาษาไทย").len(), 7);
        assert_eq!(words("서울 시청").len(), 2);
    }

    #[test]
    fn paragraphs_are_separated_by_blank_lines() {
        let text = "one\ntwo\n\n  \nthree\n\nfour\n";
        let got = paragraphs(text);
        assert_eq!(got, ["one\ntwo\n", "three\n", "four\n"]);
    }

    #[test]
    fn a_short_paragraph_alone_is_chrome_and_a_run_of_them_is_a_list() {
        let long = "one two three four five six seven eight nine";
        let text = format!("By Jane Doe\n\n{long}\n\nPhoto: AP\n\n{long}");
        let got = blocks(&text);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|b| b.words == words(long)));

        let list = "apples and pears\n\nthree blind mice\n\nfour calling birds";
        let got = blocks(list);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].words.len(), 9);
    }

    #[test]
    fn hostile_input_is_bounded() {
        let huge = "word ".repeat(200_000);
        let got = blocks(&huge);
        assert_eq!(got.iter().map(|b| b.words.len()).sum::<usize>(), MAX_WORDS);

        let many = "a b c d e f g h\n\n".repeat(10_000);
        let got = blocks(&many);
        assert_eq!(got.len(), MAX_BLOCKS);

        // No panic on a cut inside a multi-byte character.
        let wide = "é ".repeat(MAX_TEXT_BYTES);
        assert!(!blocks(&wide).is_empty());
    }
}
