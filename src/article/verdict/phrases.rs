//! How text is matched against the [`super::vocabulary`]: both are
//! normalized alike ([`normalize`]), and a phrase is found in a text or is
//! a whole segment of a title.

/// Lower case, typographic apostrophes straight, whitespace collapsed.
pub(super) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

/// [`normalize`] into `out` (cleared first), whose room is reused.
pub(super) fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    if text.is_ascii() {
        // Most text: its words found by their bytes (ASCII's whitespace is
        // what `split_whitespace` splits on there), no character decoded.
        let is_space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ');
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && !is_space(bytes[i]) {
                i += 1;
            }
            if start < i {
                if !out.is_empty() {
                    out.push(' ');
                }
                let from = out.len();
                out.push_str(&text[start..i]);
                out[from..].make_ascii_lowercase();
            }
        }
        return;
    }
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            // Most words: lower-cased byte by byte (what `to_lowercase` gives ASCII).
            let from = out.len();
            out.push_str(word);
            out[from..].make_ascii_lowercase();
            continue;
        }
        for c in word.chars() {
            match c {
                '\u{2019}' | '\u{2018}' | '\u{02bc}' => out.push('\''),
                c => out.extend(c.to_lowercase()),
            }
        }
    }
}

/// The first of `phrases` that `text` (normalized) contains.
pub(super) fn find<'a>(text: &str, phrases: &[&'a str]) -> Option<&'a str> {
    phrases.iter().copied().find(|p| text.contains(p))
}

/// The first of `phrases` that a whole segment of `title` (normalized) is:
/// titles are "What | Site" or "What – Site", and a wall's title is the
/// wall's name ("Just a moment...", "Anmelden – Zeitung").
pub(super) fn title_segment<'a>(title: &str, phrases: &[&'a str]) -> Option<&'a str> {
    title
        .split(['|', '–', '—', '·', ':', '«', '»'])
        .flat_map(|s| s.split(" - "))
        .map(|s| s.trim_matches(|c: char| c.is_whitespace() || ".…!?¡¿,".contains(c)))
        .find_map(|segment| phrases.iter().copied().find(|p| *p == segment))
}
