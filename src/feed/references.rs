//! Character and entity references in XML that feeds get wrong: HTML
//! entities (`&nbsp;`, `&eacute;`) used without a DTD, `&#X41;`, references
//! to characters XML forbids, and `&` that starts no reference at all. Both
//! steps leave CDATA sections and comments alone, and keep their hands off a
//! document that declares its own entities.

use super::entities;

/// Applies `fix` to every stretch of `text` outside CDATA sections and
/// comments (where `&` and `<` are literal); `None` when nothing changed.
fn outside_literals(text: &str, mut fix: impl FnMut(&str, &mut String) -> bool) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    let mut changed = false;
    loop {
        let next = [("<![CDATA[", "]]>"), ("<!--", "-->")]
            .iter()
            .filter_map(|(open, close)| rest.find(open).map(|at| (at, *close)))
            .min_by_key(|(at, _)| *at);
        let Some((at, close)) = next else {
            changed |= fix(rest, &mut out);
            break;
        };
        changed |= fix(&rest[..at], &mut out);
        let end = rest[at..]
            .find(close)
            .map_or(rest.len(), |i| at + i + close.len());
        out.push_str(&rest[at..end]);
        rest = &rest[end..];
    }
    changed.then_some(out)
}

/// What follows an `&`: a well-formed XML reference, an HTML entity name,
/// or nothing valid. The length includes the `&` and `;`.
enum Reference {
    Xml(usize),
    Html(char, usize),
    /// `&#X41;` (uppercase X) or a number that is not an XML character.
    BadNumber(Option<char>, usize),
    Bare,
}

fn reference_at(rest: &str) -> Reference {
    let body_len = rest[1..]
        .bytes()
        .take(34)
        .position(|b| b == b';')
        .filter(|&n| n > 0);
    let Some(len) = body_len else {
        return Reference::Bare;
    };
    let body = &rest[1..1 + len];
    let total = len + 2;
    if let Some(number) = body.strip_prefix('#') {
        let valid_digits = match number.strip_prefix('x') {
            Some(hex) => !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()),
            None => !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit()),
        };
        let c = entities::character(body);
        let xml_char = c.is_some_and(|c| {
            !matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
        });
        return if valid_digits && xml_char {
            Reference::Xml(total)
        } else if c.is_some() || number.starts_with(['x', 'X']) {
            Reference::BadNumber(c.filter(|_| xml_char), total)
        } else {
            Reference::Bare
        };
    }
    if matches!(body, "amp" | "lt" | "gt" | "quot" | "apos") {
        return Reference::Xml(total);
    }
    match entities::lookup(body) {
        Some(c) => Reference::Html(c, total),
        None => Reference::Bare,
    }
}

/// Declared entities of an internal DTD subset are fine; this only looks
/// for whether one exists, in which case entity repairs keep their hands off.
fn declares_entities(text: &str) -> bool {
    text.find("<!ENTITY").is_some_and(|at| at < 8192)
}

/// HTML named entities (`&nbsp;`, `&eacute;`, `&hellip;`) turned into the
/// characters they name; `&#X..;` and numeric references to forbidden
/// characters fixed.
pub fn decode_html_entities(text: &str) -> Option<String> {
    rewrite_references(text, |reference, source, out| match reference {
        Reference::Html(c, _) => {
            out.push(c);
            true
        }
        Reference::BadNumber(c, _) => {
            if let Some(c) = c {
                push_escaped(out, c);
            }
            true
        }
        Reference::Xml(_) | Reference::Bare => {
            out.push_str(source);
            false
        }
    })
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        c => out.push(c),
    }
}

/// An `&` that does not start a reference (`AT&T`, `?a=1&b=2`, `&doesnotexist;`)
/// becomes `&amp;`.
pub fn escape_bare_ampersands(text: &str) -> Option<String> {
    rewrite_references(text, |reference, source, out| match reference {
        Reference::Bare => {
            out.push_str("&amp;");
            true
        }
        _ => {
            out.push_str(source);
            false
        }
    })
}

/// Copies `text` (outside CDATA and comments) with every `&…` reference
/// written by `replace`, which gets the reference, its source text, and the
/// output, and says whether it changed anything. `None` when nothing changed
/// or the document declares its own entities.
fn rewrite_references(
    text: &str,
    replace: impl Fn(Reference, &str, &mut String) -> bool,
) -> Option<String> {
    if !text.contains('&') || declares_entities(text) {
        return None;
    }
    outside_literals(text, |stretch, out| {
        let mut changed = false;
        let mut rest = stretch;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            let reference = reference_at(rest);
            let len = match reference {
                Reference::Xml(len) | Reference::Html(_, len) | Reference::BadNumber(_, len) => len,
                Reference::Bare => 1,
            };
            changed |= replace(reference, &rest[..len], out);
            rest = &rest[len..];
        }
        out.push_str(rest);
        changed
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_entities_become_characters_but_cdata_is_untouched() {
        assert_eq!(
            decode_html_entities("<t>caf&eacute;&nbsp;&amp; &#X41;&#1;</t><![CDATA[&eacute;]]>")
                .as_deref(),
            Some("<t>caf\u{e9}\u{a0}&amp; A</t><![CDATA[&eacute;]]>")
        );
        assert_eq!(decode_html_entities("<t>&amp;&lt;&#233;</t>"), None);
    }

    #[test]
    fn bare_ampersands_are_escaped() {
        assert_eq!(
            escape_bare_ampersands("<a href=\"?a=1&b=2\">AT&T &doesnotexist; &amp;</a>").as_deref(),
            Some("<a href=\"?a=1&amp;b=2\">AT&amp;T &amp;doesnotexist; &amp;</a>")
        );
        assert_eq!(escape_bare_ampersands("<!-- a & b --><t>&lt;</t>"), None);
    }
}
