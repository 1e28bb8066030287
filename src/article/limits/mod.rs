//! Cheap checks that keep pathological input away from the HTML parser and
//! the extractors: html5ever's cost grows with the square of the nesting
//! depth (20,000 nested `<div>`s take minutes), and every walk over what it
//! builds grows with the depth. A page deeper than [`MAX_DEPTH`] is refused
//! (the entry's own content stands in); a feed's own HTML is cut where it
//! gets that deep ([`within_depth`]).

mod name;
mod nesting;
mod sets;
mod tokens;

pub use nesting::Nesting;

/// Deeper element nesting than this is refused. Real article pages stay far
/// below (a hundred is a lot); 1,000 levels already cost a third of a second.
pub const MAX_DEPTH: usize = 512;

/// How deep the HTML parser will nest `html`'s elements (counting `<html>`
/// and `<body>`), measured up to one past [`MAX_DEPTH`], in one pass over
/// the bytes and in time linear in their length. It follows the tree
/// builder's rules (void elements, the self-closing slash, end tags that
/// match nothing, implied ends, reopened formatting elements) and errs high
/// where it cannot tell: see [`nesting`].
pub fn nesting(html: &[u8]) -> Nesting {
    nesting::measure(html, MAX_DEPTH)
}

/// [`nesting`]'s deepest element.
pub fn nesting_depth(html: &[u8]) -> usize {
    nesting(html).deepest
}

/// `html` up to the first tag that would nest deeper than [`MAX_DEPTH`]:
/// all of it for every real page. The one guard in front of every parse of
/// HTML that comes from outside whose result is kept (entry content and
/// summaries, titles, discovery pages): the parser's cost grows with the
/// square of the depth, and what it builds is walked.
pub fn within_depth(html: &str) -> &str {
    match nesting(html.as_bytes()).too_deep_at {
        // The cut is at a `<`, a character boundary.
        Some(at) => html.get(..at).unwrap_or_default(),
        None => html,
    }
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
        // html, body, div, p, br
        assert_eq!(
            nesting_depth(b"<html><body><div><p>a<p>b<br></div></body></html>"),
            5
        );
        let siblings = "<div>x</div>".repeat(10_000);
        assert_eq!(nesting_depth(siblings.as_bytes()), 3);
        let unclosed_paragraphs = "<p>x".repeat(10_000);
        assert_eq!(nesting_depth(unclosed_paragraphs.as_bytes()), 3);
        let list = format!("<ul>{}</ul>", "<li>x".repeat(10_000));
        assert_eq!(nesting_depth(list.as_bytes()), 4);
        let nested = format!("{}{}", "<div>".repeat(400), "</div>".repeat(400));
        assert_eq!(nesting_depth(nested.as_bytes()), 402);
        assert_eq!(
            nesting_depth(b"<!-- <div> --><img src=x/><a href='/>'>x</a>"),
            3
        );
    }

    #[test]
    fn what_the_parser_ignores_does_not_hide_depth() {
        for hostile in [
            "<span/>".repeat(5_000),
            "<span></b>".repeat(5_000),
            "<div></b>".repeat(5_000),
            "<b><div></b>".repeat(5_000),
            "<a href=x><div>".repeat(5_000),
            format!("<svg>{}", "<g>".repeat(5_000)),
            format!("<table>{}", "<tr><td><table>".repeat(2_000)),
            "<rt>".repeat(5_000),
            format!("<div a=\"<!--\">{}", "<div>".repeat(5_000)),
            format!("<p title='x\"y>'>{}", "<i>".repeat(5_000)),
        ] {
            let nesting = nesting(hostile.as_bytes());
            assert!(
                nesting.too_deep_at.is_some(),
                "{}…: {nesting:?}",
                &hostile[..40]
            );
            let cut = within_depth(&hostile);
            assert!(cut.len() < hostile.len() && nesting_depth(cut.as_bytes()) <= MAX_DEPTH);
        }
        // Linear time whatever the mix: markers left behind by tables and
        // formatting elements closed again and again.
        let mixed = format!(
            "{}{}",
            "<table><marquee></table>".repeat(50_000),
            "<b>x</b>".repeat(100_000)
        );
        let started = std::time::Instant::now();
        assert!(nesting(mixed.as_bytes()).too_deep_at.is_none());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // Self-closing inside svg, and in text, is no nesting.
        let flat = format!("<svg>{}</svg>", "<path d='m0 0'/>".repeat(5_000));
        assert_eq!(nesting_depth(flat.as_bytes()), 4);
        let script = format!("<script>{}</script>", "'<div>'+".repeat(5_000));
        assert_eq!(nesting_depth(script.as_bytes()), 3);
    }

    /// The depth of the tree scraper builds, counting elements.
    fn built_depth(html: &str) -> usize {
        let doc = scraper::Html::parse_document(html);
        doc.tree
            .nodes()
            .filter(|n| n.value().is_element())
            .map(|n| 1 + n.ancestors().filter(|a| a.value().is_element()).count())
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn the_measure_is_never_below_the_tree_the_parser_builds() {
        const PIECES: &[&str] = &[
            "<div>",
            "</div>",
            "<span>",
            "</span>",
            "<b>",
            "</b>",
            "<i>",
            "</i>",
            "<p>",
            "</p>",
            "<a href=x>",
            "</a>",
            "<li>",
            "</li>",
            "<ul>",
            "</ul>",
            "<table>",
            "<tr>",
            "<td>",
            "</td>",
            "</tr>",
            "</table>",
            "<tbody>",
            "<caption>",
            "<svg>",
            "<g/>",
            "<g>",
            "</g>",
            "</svg>",
            "<span/>",
            "<div/>",
            "<br>",
            "<br/>",
            "x",
            " ",
            "<font color=red>",
            "</font>",
            "<select>",
            "<option>",
            "</select>",
            "<math>",
            "<mi>",
            "</mi>",
            "<foreignObject>",
            "<dd>",
            "<dt>",
            "<dl>",
            "<h1>",
            "</h1>",
            "<h2>",
            "<button>",
            "</button>",
            "<nobr>",
            "<ruby>",
            "<rt>",
            "<rb>",
            "<em>",
            "</em>",
            "<script>1</script>",
            "<!-- c -->",
            "<template>",
            "</template>",
            "<object>",
            "</object>",
            "<pre>",
            "<form>",
            "</form>",
            "<textarea>t</textarea>",
            "<title>t</title>",
            "<html>",
            "<body>",
            "</body>",
            "<u>",
            "<s>",
            "</s>",
            "<strong>",
            "</strong>",
            "<code>",
            "<section>",
            "</section>",
            "<blockquote>",
            "</blockquote>",
            "<img src=x>",
            "<input>",
            "<hr>",
            "<frameset>",
            "<marquee>",
            "</marquee>",
            "<desc>",
            "<mtext>",
            "<annotation-xml>",
            "<colgroup>",
            "<col>",
            "<thead>",
            "</thead>",
            "<th>",
            "<xmp>x</xmp>",
            "<noscript>",
            "</noscript>",
        ];
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        // Odd mixes of templates, selects, marquees and foreign content are
        // measured a level or two short; what matters is that no pattern
        // gains on the measure as it repeats.
        const SLACK: usize = 1;
        let below = |pieces: &[usize]| {
            let html: String = pieces.iter().map(|&p| PIECES[p]).collect();
            let measured = nesting::measure(html.as_bytes(), usize::MAX).deepest;
            let built = built_depth(&html);
            (measured + SLACK < built)
                .then(|| format!("measured {measured} < built {built} for {html:?}"))
        };
        for round in 0..2_000 {
            // Random tag soup, and short patterns repeated (an undercount
            // that repeats would let a page walk around the limit).
            let mut pieces: Vec<usize> = if round % 2 == 0 {
                (0..20 + next(300)).map(|_| next(PIECES.len())).collect()
            } else {
                let pattern: Vec<usize> = (0..1 + next(6)).map(|_| next(PIECES.len())).collect();
                pattern.repeat(100)
            };
            if below(&pieces).is_none() {
                continue;
            }
            // The shortest failing document is the one worth reading.
            let mut i = 0;
            while i < pieces.len() {
                let removed = pieces.remove(i);
                if below(&pieces).is_none() {
                    pieces.insert(i, removed);
                    i += 1;
                }
            }
            panic!("round {round}: {}", below(&pieces).unwrap_or_default());
        }
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
