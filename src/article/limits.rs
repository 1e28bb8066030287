//! Cheap checks on raw page bytes that keep pathological input away from the
//! HTML parser and the extractors, whose cost grows with the square of the
//! nesting depth (20,000 nested `<div>`s take minutes and then overflow the
//! stack).

/// Deeper element nesting than this is refused. Real article pages stay far
/// below (a hundred is a lot); 1,000 levels already cost a third of a second.
pub const MAX_DEPTH: usize = 512;

/// Elements that never nest (void) or whose end tag is optional, so that
/// pages leaving `<p>` or `<li>` open do not look deep.
const NON_NESTING: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "optgroup", "thead", "tbody",
    "tfoot", "colgroup", "rb", "rt", "rp", "param", "keygen",
];

/// The deepest element nesting in `html`, estimated in one pass over the bytes.
pub fn nesting_depth(html: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(offset) = html[i..].iter().position(|&b| b == b'<') {
        i += offset + 1;
        let Some(&next) = html.get(i) else { break };
        if next == b'/' {
            depth = depth.saturating_sub(1);
            continue;
        }
        if html[i..].starts_with(b"!--") {
            // A comment: nothing inside it is markup.
            match html[i..].windows(3).position(|w| w == b"-->") {
                Some(end) => i += end + 3,
                None => break,
            }
            continue;
        }
        if !next.is_ascii_alphabetic() {
            continue; // a doctype, processing instruction or stray '<'
        }
        let name_end = html[i..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric())
            .map_or(html.len(), |n| i + n);
        let name = &html[i..name_end];
        let tag_end = html[name_end..]
            .iter()
            .position(|&b| b == b'>')
            .map(|n| name_end + n);
        let self_closing = tag_end.is_some_and(|end| end > 0 && html[end - 1] == b'/');
        let nests = !NON_NESTING
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name));
        if !self_closing && nests {
            depth += 1;
            deepest = deepest.max(depth);
        }
        i = name_end;
    }
    deepest
}

/// Whether the bytes look like binary data rather than a text document: more
/// than 1 % NUL or other control bytes in the first 64 KiB (UTF-16 pages, which
/// are mostly NULs in ASCII ranges, are let through when they start with a BOM).
pub fn looks_binary(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return false;
    }
    let head = &bytes[..bytes.len().min(64 * 1024)];
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    controls * 100 > head.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_nesting_not_siblings() {
        assert_eq!(
            nesting_depth(b"<html><body><div><p>a<p>b<br></div></body></html>"),
            3
        );
        let siblings = "<div>x</div>".repeat(10_000);
        assert_eq!(nesting_depth(siblings.as_bytes()), 1);
        let unclosed_paragraphs = "<p>x".repeat(10_000);
        assert_eq!(nesting_depth(unclosed_paragraphs.as_bytes()), 0);
        let nested = format!("{}{}", "<div>".repeat(600), "</div>".repeat(600));
        assert_eq!(nesting_depth(nested.as_bytes()), 600);
        assert_eq!(
            nesting_depth(b"<!-- <div> --><img src=x/><a href='/'>x</a>"),
            1
        );
    }

    #[test]
    fn binary_garbage_is_recognised() {
        let garbage: Vec<u8> = (0..10_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        assert!(looks_binary(&garbage));
        assert!(!looks_binary(
            b"<html><body><p>plain text\n</p></body></html>"
        ));
        assert!(!looks_binary(&[0xFF, 0xFE, b'<', 0, b'a', 0]));
    }
}
