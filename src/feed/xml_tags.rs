//! Reading tags out of XML text without parsing it: the root element, a
//! tag's end, an attribute's value, a name without its prefix, and every
//! tag rewritten in one pass. The lenient pre-pass's generic steps
//! ([`repair`](super::repair)) and its dialect steps
//! ([`dialects`](super::dialects)) both use them; they live here so that
//! `repair` runs the dialects' steps and the dialects look only down.

/// The root element: its byte offset, qualified name and the offset just
/// past its start tag. Skips the XML declaration, comments, processing
/// instructions and a DOCTYPE (with its internal subset).
pub fn root_element(text: &str) -> Option<(usize, &str, usize)> {
    let mut at = 0;
    loop {
        let rest = &text[at..];
        let lt = rest.find('<')?;
        let tag = &rest[lt..];
        if tag.starts_with("<?") {
            at += lt + tag.find("?>")? + 2;
        } else if tag.starts_with("<!--") {
            at += lt + tag.find("-->")? + 3;
        } else if tag.starts_with("<!") {
            let end = match (tag.find('['), tag.find('>')) {
                (Some(open), Some(close)) if open < close => tag.find("]>").or(Some(close))?,
                (_, Some(close)) => close,
                _ => return None,
            };
            at += lt + end + 1;
        } else {
            let name_len = tag[1..]
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(tag.len() - 1);
            let start = at + lt;
            let end = start + tag_end(tag)?;
            return Some((start, &tag[1..1 + name_len], end));
        }
    }
}

/// The offset just past the `>` closing the tag that starts `tag`,
/// skipping `>` inside quoted attribute values.
pub(super) fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, b) in tag.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

pub(super) fn local_name(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

/// The byte range of an attribute's value within a start tag, and the value.
pub(super) fn find_attribute<'a>(
    tag: &'a str,
    name: &str,
) -> Option<(std::ops::Range<usize>, &'a str)> {
    let mut from = 0;
    while let Some(found) = tag[from..].find(name) {
        let at = from + found;
        from = at + name.len();
        let before_ok = tag[..at].ends_with(char::is_whitespace);
        let after = &tag[from..];
        let trimmed = after.trim_start();
        let Some(value) = trimmed.strip_prefix('=').filter(|_| before_ok) else {
            continue;
        };
        let value_trimmed = value.trim_start();
        let quote = value_trimmed
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')?;
        let value_start = tag.len() - value_trimmed.len() + 1;
        let len = tag[value_start..].find(quote)?;
        return Some((
            value_start..value_start + len,
            &tag[value_start..value_start + len],
        ));
    }
    None
}

/// Rewrites the tags of `text` (start and end, not comments, CDATA or
/// declarations): `rewrite(is_end, name, tag)` returns a replacement for the
/// whole tag, or `None` to keep it. `None` when nothing was replaced.
pub(super) fn rewrite_tags(
    text: &str,
    mut rewrite: impl FnMut(bool, &str, &str) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    let mut changed = false;
    while let Some(lt) = text[at..].find('<') {
        let start = at + lt;
        out.push_str(&text[at..start]);
        let tag = &text[start..];
        let literal = [
            ("<![CDATA[", "]]>"),
            ("<!--", "-->"),
            ("<?", "?>"),
            ("<!", ">"),
        ]
        .into_iter()
        .find(|(o, _)| tag.starts_with(o));
        let end = match literal {
            Some((_, close)) => tag.find(close).map(|e| e + close.len()),
            None => tag_end(tag),
        };
        let Some(end) = end else {
            at = start;
            break;
        };
        at = start + end;
        let whole = &tag[..end];
        if literal.is_none() {
            let is_end = whole.starts_with("</");
            let name_start = if is_end { 2 } else { 1 };
            let name_len = whole[name_start..]
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(0);
            let name = &whole[name_start..name_start + name_len];
            if let Some(replacement) = rewrite(is_end, name, whole) {
                out.push_str(&replacement);
                changed = true;
                continue;
            }
        }
        out.push_str(whole);
    }
    out.push_str(&text[at..]);
    changed.then_some(out)
}
