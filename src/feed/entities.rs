//! HTML 4 named character references (`&nbsp;`, `&eacute;`, `&hellip;`, …),
//! which feeds use without declaring them. XML knows only `amp`, `lt`, `gt`,
//! `quot` and `apos`; the repair pass and entry text use [`lookup`] to turn
//! the others into characters.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The names of U+00A0 to U+00FF, in code point order.
const LATIN1: [&str; 96] = [
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf",
    "laquo", "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro",
    "para", "middot", "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest",
    "Agrave", "Aacute", "Acirc", "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute",
    "Ecirc", "Euml", "Igrave", "Iacute", "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute",
    "Ocirc", "Otilde", "Ouml", "times", "Oslash", "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute",
    "THORN", "szlig", "agrave", "aacute", "acirc", "atilde", "auml", "aring", "aelig", "ccedil",
    "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc", "iuml", "eth", "ntilde",
    "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave", "uacute", "ucirc",
    "uuml", "yacute", "thorn", "yuml",
];

/// The Greek capitals from U+0391 (U+03A2 is unassigned) and small letters from U+03B1.
const GREEK: [&str; 25] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigmaf", "sigma", "tau", "upsilon", "phi",
    "chi", "psi", "omega",
];

/// Everything else in HTML 4, with its code point.
const OTHERS: &[(&str, u32)] = &[
    ("quot", 34),
    ("amp", 38),
    ("apos", 39),
    ("lt", 60),
    ("gt", 62),
    ("OElig", 338),
    ("oelig", 339),
    ("Scaron", 352),
    ("scaron", 353),
    ("Yuml", 376),
    ("fnof", 402),
    ("circ", 710),
    ("tilde", 732),
    ("thetasym", 977),
    ("upsih", 978),
    ("piv", 982),
    ("ensp", 8194),
    ("emsp", 8195),
    ("thinsp", 8201),
    ("zwnj", 8204),
    ("zwj", 8205),
    ("lrm", 8206),
    ("rlm", 8207),
    ("ndash", 8211),
    ("mdash", 8212),
    ("lsquo", 8216),
    ("rsquo", 8217),
    ("sbquo", 8218),
    ("ldquo", 8220),
    ("rdquo", 8221),
    ("bdquo", 8222),
    ("dagger", 8224),
    ("Dagger", 8225),
    ("bull", 8226),
    ("hellip", 8230),
    ("permil", 8240),
    ("prime", 8242),
    ("Prime", 8243),
    ("lsaquo", 8249),
    ("rsaquo", 8250),
    ("oline", 8254),
    ("frasl", 8260),
    ("euro", 8364),
    ("image", 8465),
    ("weierp", 8472),
    ("real", 8476),
    ("trade", 8482),
    ("alefsym", 8501),
    ("larr", 8592),
    ("uarr", 8593),
    ("rarr", 8594),
    ("darr", 8595),
    ("harr", 8596),
    ("crarr", 8629),
    ("lArr", 8656),
    ("uArr", 8657),
    ("rArr", 8658),
    ("dArr", 8659),
    ("hArr", 8660),
    ("forall", 8704),
    ("part", 8706),
    ("exist", 8707),
    ("empty", 8709),
    ("nabla", 8711),
    ("isin", 8712),
    ("notin", 8713),
    ("ni", 8715),
    ("prod", 8719),
    ("sum", 8721),
    ("minus", 8722),
    ("lowast", 8727),
    ("radic", 8730),
    ("prop", 8733),
    ("infin", 8734),
    ("ang", 8736),
    ("and", 8743),
    ("or", 8744),
    ("cap", 8745),
    ("cup", 8746),
    ("int", 8747),
    ("there4", 8756),
    ("sim", 8764),
    ("cong", 8773),
    ("asymp", 8776),
    ("ne", 8800),
    ("equiv", 8801),
    ("le", 8804),
    ("ge", 8805),
    ("sub", 8834),
    ("sup", 8835),
    ("nsub", 8836),
    ("sube", 8838),
    ("supe", 8839),
    ("oplus", 8853),
    ("otimes", 8855),
    ("perp", 8869),
    ("sdot", 8901),
    ("lceil", 8968),
    ("rceil", 8969),
    ("lfloor", 8970),
    ("rfloor", 8971),
    ("lang", 9001),
    ("rang", 9002),
    ("loz", 9674),
    ("spades", 9824),
    ("clubs", 9827),
    ("hearts", 9829),
    ("diams", 9830),
];

fn table() -> &'static HashMap<&'static str, char> {
    static TABLE: OnceLock<HashMap<&'static str, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = HashMap::new();
        let mut add = |name: &'static str, code: u32| {
            if let Some(c) = char::from_u32(code) {
                table.insert(name, c);
            }
        };
        for (i, name) in LATIN1.iter().enumerate() {
            add(name, 0xA0 + i as u32);
        }
        for (i, small) in GREEK.iter().enumerate() {
            add(small, 0x3B1 + i as u32);
        }
        // Capitals: the same names capitalized, at U+0391…, without "Sigmaf".
        for (name, code) in [
            ("Alpha", 0x391),
            ("Beta", 0x392),
            ("Gamma", 0x393),
            ("Delta", 0x394),
            ("Epsilon", 0x395),
            ("Zeta", 0x396),
            ("Eta", 0x397),
            ("Theta", 0x398),
            ("Iota", 0x399),
            ("Kappa", 0x39A),
            ("Lambda", 0x39B),
            ("Mu", 0x39C),
            ("Nu", 0x39D),
            ("Xi", 0x39E),
            ("Omicron", 0x39F),
            ("Pi", 0x3A0),
            ("Rho", 0x3A1),
            ("Sigma", 0x3A3),
            ("Tau", 0x3A4),
            ("Upsilon", 0x3A5),
            ("Phi", 0x3A6),
            ("Chi", 0x3A7),
            ("Psi", 0x3A8),
            ("Omega", 0x3A9),
        ] {
            add(name, code);
        }
        for (name, code) in OTHERS {
            add(name, *code);
        }
        table
    })
}

/// The character an HTML 4 entity name stands for (case-sensitive, as in HTML).
pub fn lookup(name: &str) -> Option<char> {
    table().get(name).copied()
}

/// Plain text with the named, decimal and hex references it still carries
/// (a feed that escaped `&nbsp;` twice) turned into characters; anything
/// that is not a known reference stays as written.
pub fn decode_text(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let reference = rest[1..]
            .find(';')
            .filter(|&end| end <= 32)
            .and_then(|end| Some((character(&rest[1..1 + end])?, end + 2)));
        match reference {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The character of a reference body (`nbsp`, `#233`, `#xE9`), if it is one.
pub fn character(body: &str) -> Option<char> {
    match body.strip_prefix('#') {
        Some(number) => {
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
        None => lookup(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_latin1_greek_and_typography() {
        assert_eq!(lookup("nbsp"), Some('\u{a0}'));
        assert_eq!(lookup("yuml"), Some('\u{ff}'));
        assert_eq!(lookup("AElig"), Some('\u{c6}'));
        assert_eq!(lookup("omega"), Some('\u{3c9}'));
        assert_eq!(lookup("Omega"), Some('\u{3a9}'));
        assert_eq!(lookup("hellip"), Some('\u{2026}'));
        assert_eq!(lookup("euro"), Some('\u{20ac}'));
        assert_eq!(lookup("doesnotexist"), None);
        assert_eq!(table().len(), 253);
    }

    #[test]
    fn leftover_references_in_text_are_decoded() {
        assert_eq!(
            decode_text("a&nbsp;b &amp; c&#233;&#xE9;"),
            "a\u{a0}b & c\u{e9}\u{e9}"
        );
        assert_eq!(decode_text("AT&T &bogus; &"), "AT&T &bogus; &");
    }
}
