//! The tree builder's element sets that [`super::nesting`] needs, by name
//! as the HTML standard's parsing section gives them. A name's sets are
//! looked up once, as bits ([`flags`]): the measure asks of every tag, and
//! of every open element around it, whether it is in one.

use std::sync::LazyLock;

/// One of the sets below, as a bit of [`flags`].
#[derive(Clone, Copy)]
pub(super) struct Set(u32);

impl Set {
    /// Whether `flags` (a name's, from [`flags`]) hold this set.
    pub(super) fn holds(self, flags: u32) -> bool {
        flags & self.0 != 0
    }
}

pub(super) const VOID: Set = Set(1 << 0);
pub(super) const RAW_TEXT: Set = Set(1 << 1);
pub(super) const FORMATTING: Set = Set(1 << 2);
pub(super) const MARKERS: Set = Set(1 << 3);
pub(super) const SPECIAL: Set = Set(1 << 4);
pub(super) const CLOSES_P: Set = Set(1 << 5);
pub(super) const NO_REOPEN: Set = Set(1 << 6);
pub(super) const BREAKOUT: Set = Set(1 << 7);
pub(super) const MATH_INTEGRATION_POINTS: Set = Set(1 << 8);
pub(super) const SVG_INTEGRATION_POINTS: Set = Set(1 << 9);
pub(super) const SCOPE: Set = Set(1 << 10);
pub(super) const TABLE_PARTS: Set = Set(1 << 11);
pub(super) const TABLE_SCOPE: Set = Set(1 << 12);

/// Each set with its names.
const SETS: &[(Set, &[&[u8]])] = &[
    (VOID, VOID_NAMES),
    (RAW_TEXT, RAW_TEXT_NAMES),
    (FORMATTING, FORMATTING_NAMES),
    (MARKERS, MARKERS_NAMES),
    (SPECIAL, SPECIAL_NAMES),
    (CLOSES_P, CLOSES_P_NAMES),
    (NO_REOPEN, NO_REOPEN_NAMES),
    (BREAKOUT, BREAKOUT_NAMES),
    (MATH_INTEGRATION_POINTS, MATH_INTEGRATION_POINTS_NAMES),
    (SVG_INTEGRATION_POINTS, SVG_INTEGRATION_POINTS_NAMES),
    (SCOPE, SCOPE_NAMES),
    (TABLE_PARTS, TABLE_PARTS_NAMES),
    (TABLE_SCOPE, TABLE_SCOPE_NAMES),
];

/// Slots of [`FLAGS`]: a power of two, several times the names.
const SLOTS: usize = 1024;

/// Every name of a set, by [`key`] in an open-addressed table, with the
/// bits of its sets; names too long for a key are looked up in [`SETS`].
static FLAGS: LazyLock<Vec<(u128, u32)>> = LazyLock::new(|| {
    let mut table = vec![(0u128, 0u32); SLOTS];
    for (set, names) in SETS {
        for name in *names {
            let Some(key) = key(name) else { continue };
            let mut slot = slot(key);
            while table[slot].0 != 0 && table[slot].0 != key {
                slot = (slot + 1) % SLOTS;
            }
            table[slot].0 = key;
            table[slot].1 |= set.0;
        }
    }
    table
});

/// A name of 1 to 15 bytes as one number: its bytes and its length.
fn key(name: &[u8]) -> Option<u128> {
    if name.is_empty() || name.len() > 15 {
        return None;
    }
    let mut bytes = [0u8; 16];
    bytes[..name.len()].copy_from_slice(name);
    bytes[15] = name.len() as u8;
    Some(u128::from_le_bytes(bytes))
}

fn slot(key: u128) -> usize {
    let mixed = ((key as u64) ^ ((key >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - SLOTS.trailing_zeros())) as usize
}

/// The sets `name` (lower case) is in, as bits to test with [`Set::holds`].
pub(super) fn flags(name: &[u8]) -> u32 {
    let Some(key) = key(name) else {
        return SETS
            .iter()
            .filter(|(_, names)| names.contains(&name))
            .fold(0, |bits, (set, _)| bits | set.0);
    };
    let table = &*FLAGS;
    let mut slot = slot(key);
    loop {
        match table[slot] {
            (0, _) => return 0,
            (k, bits) if k == key => return bits,
            _ => slot = (slot + 1) % SLOTS,
        }
    }
}

/// Elements that never hold anything (`<image>` is read as `<img>`).
#[rustfmt::skip]
const VOID_NAMES: &[&[u8]] = &[
    b"area", b"base", b"basefont", b"bgsound", b"br", b"col", b"embed", b"frame", b"hr", b"image",
    b"img", b"input", b"keygen", b"link", b"meta", b"param", b"source", b"track", b"wbr",
];

/// Elements whose content is text to the tokenizer (when in the HTML
/// namespace); `noscript` too, as scraper and ammonia parse with scripting on.
#[rustfmt::skip]
const RAW_TEXT_NAMES: &[&[u8]] = &[
    b"script", b"style", b"xmp", b"iframe", b"noembed", b"noframes", b"noscript", b"textarea",
    b"title",
];

/// The formatting elements: reopened by the parser when closed by others.
#[rustfmt::skip]
const FORMATTING_NAMES: &[&[u8]] = &[
    b"a", b"b", b"big", b"code", b"em", b"font", b"i", b"nobr", b"s", b"small", b"strike",
    b"strong", b"tt", b"u",
];

/// Elements that put a marker in the list of formatting elements: those
/// opened inside them are not reopened outside.
#[rustfmt::skip]
const MARKERS_NAMES: &[&[u8]] = &[
    b"applet", b"caption", b"marquee", b"object", b"td", b"template", b"th",
];

/// The tree builder's "special" elements: an end tag for another element
/// does not close them.
#[rustfmt::skip]
const SPECIAL_NAMES: &[&[u8]] = &[
    b"address", b"applet", b"area", b"article", b"aside", b"base", b"basefont", b"bgsound",
    b"blockquote", b"body", b"br", b"button", b"caption", b"center", b"col", b"colgroup", b"dd",
    b"details", b"dir", b"div", b"dl", b"dt", b"embed", b"fieldset", b"figcaption", b"figure",
    b"footer", b"form", b"frame", b"frameset", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head",
    b"header", b"hgroup", b"hr", b"html", b"iframe", b"img", b"input", b"keygen", b"li", b"link",
    b"listing", b"main", b"marquee", b"menu", b"meta", b"nav", b"noembed", b"noframes",
    b"noscript", b"object", b"ol", b"p", b"param", b"plaintext", b"pre", b"script", b"search",
    b"section", b"select", b"source", b"style", b"summary", b"table", b"tbody", b"td", b"template",
    b"textarea", b"tfoot", b"th", b"thead", b"title", b"tr", b"track", b"ul", b"wbr", b"xmp",
];

/// Start tags that close an open `<p>` (in button scope).
#[rustfmt::skip]
const CLOSES_P_NAMES: &[&[u8]] = &[
    b"address", b"article", b"aside", b"blockquote", b"center", b"details", b"dialog", b"dir",
    b"div", b"dl", b"fieldset", b"figcaption", b"figure", b"footer", b"header", b"hgroup", b"main",
    b"menu", b"nav", b"ol", b"p", b"search", b"section", b"summary", b"ul", b"h1", b"h2", b"h3",
    b"h4", b"h5", b"h6", b"pre", b"listing", b"form", b"li", b"dd", b"dt", b"hr", b"xmp",
];

/// Start tags before which the parser does not reopen formatting elements.
#[rustfmt::skip]
const NO_REOPEN_NAMES: &[&[u8]] = &[
    b"address", b"article", b"aside", b"blockquote", b"center", b"details", b"dialog", b"dir",
    b"div", b"dl", b"fieldset", b"figcaption", b"figure", b"footer", b"header", b"hgroup", b"main",
    b"menu", b"nav", b"ol", b"p", b"search", b"section", b"summary", b"ul", b"h1", b"h2", b"h3",
    b"h4", b"h5", b"h6", b"pre", b"listing", b"form", b"li", b"dd", b"dt", b"plaintext", b"table",
    b"hr", b"param", b"source", b"track", b"textarea", b"iframe", b"noembed", b"caption", b"col",
    b"colgroup", b"frame", b"head", b"tbody", b"td", b"tfoot", b"th", b"thead", b"tr", b"html",
    b"body", b"frameset", b"base", b"basefont", b"bgsound", b"link", b"meta", b"noframes",
    b"script", b"style", b"template", b"title", b"rb", b"rtc", b"rp", b"rt",
];

/// Foreign-content start tags that leave `<svg>`/`<math>` for HTML.
#[rustfmt::skip]
const BREAKOUT_NAMES: &[&[u8]] = &[
    b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd", b"div", b"dl", b"dt",
    b"em", b"embed", b"font", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"hr", b"i",
    b"img", b"li", b"listing", b"menu", b"meta", b"nobr", b"ol", b"p", b"pre", b"ruby", b"s",
    b"small", b"span", b"strong", b"strike", b"sub", b"sup", b"table", b"tt", b"u", b"ul", b"var",
];

/// MathML elements whose content is HTML again (and `annotation-xml` with
/// an HTML `encoding`, opened as "annotation-xml html").
const MATH_INTEGRATION_POINTS_NAMES: &[&[u8]] =
    &[b"mi", b"mo", b"mn", b"ms", b"mtext", b"annotation-xml html"];

/// SVG elements whose content is HTML again.
const SVG_INTEGRATION_POINTS_NAMES: &[&[u8]] = &[b"foreignobject", b"desc", b"title"];

/// Elements that bound the default scope of an end tag's search.
#[rustfmt::skip]
const SCOPE_NAMES: &[&[u8]] = &[
    b"applet", b"caption", b"html", b"table", b"td", b"th", b"marquee", b"object", b"template",
];

#[rustfmt::skip]
const TABLE_PARTS_NAMES: &[&[u8]] = &[
    b"caption", b"col", b"colgroup", b"tbody", b"td", b"tfoot", b"th", b"thead", b"tr",
];

const TABLE_SCOPE_NAMES: &[&[u8]] = &[b"html", b"table", b"template"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_in_the_sets_that_list_it() {
        for (set, names) in SETS {
            for name in *names {
                assert!(set.holds(flags(name)), "{}", String::from_utf8_lossy(name));
            }
        }
        for (set, names) in SETS {
            for (_, others) in SETS {
                for name in *others {
                    assert_eq!(set.holds(flags(name)), names.contains(name));
                }
            }
        }
        assert_eq!(flags(b"custom-element"), 0);
        assert_eq!(flags(b"a-name-longer-than-a-key"), 0);
        assert_eq!(flags(b"b\0"), 0);
        assert_eq!(flags(b"DIV"), 0, "names are looked up in lower case");
    }
}
