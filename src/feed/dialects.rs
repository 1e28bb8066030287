//! Feed dialects feed-rs does not read, rewritten into ones it does: Atom
//! 0.3, old RSS namespaces and versions, `<rss>` without `<channel>`, RSS
//! 1.0 items without links, Channel Definition Format, Atom feeds with RSS
//! `<item>`s, and MIME types where Atom wants a keyword. Like every step of
//! [`repair`](super::repair), each returns `Some` only when it changed
//! something, and runs only after a strict parse failed or came back empty.

use super::xml_tags::{find_attribute, local_name, rewrite_tags, root_element};

/// Atom 0.3 as Atom 1.0: the namespace and the renamed elements (its MIME
/// `type`s and `mode`s are [`normalize_text_types`]' job).
pub fn map_atom03(text: &str) -> Option<String> {
    const ATOM03: &str = "http://purl.org/atom/ns#";
    if !text.contains(ATOM03) {
        return None;
    }
    let text = text.replace(ATOM03, "http://www.w3.org/2005/Atom");
    let text = rename_elements(
        &text,
        &[
            ("issued", "published"),
            ("modified", "updated"),
            ("tagline", "subtitle"),
            ("copyright", "rights"),
        ],
    );
    Some(text)
}

/// Renames elements by local name, keeping their prefix.
fn rename_elements(text: &str, renames: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..=lt]);
        rest = &rest[lt + 1..];
        let slash = rest.starts_with('/');
        if slash {
            out.push('/');
            rest = &rest[1..];
        }
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let prefix_len = name.len() - local_name(name).len();
        match renames.iter().find(|(old, _)| *old == local_name(name)) {
            Some((_, new)) => {
                out.push_str(&name[..prefix_len]);
                out.push_str(new);
            }
            None => out.push_str(name),
        }
        rest = &rest[name_len..];
    }
    out.push_str(rest);
    out
}

/// Old namespace URIs for RSS 0.90, RSS 2.0 (Userland, Harvard) and Dublin
/// Core 1.0, mapped to the ones feed-rs knows.
pub fn map_legacy_namespaces(text: &str) -> Option<String> {
    const LEGACY: &[(&str, &str)] = &[
        (
            "http://my.netscape.com/rdf/simple/0.9/",
            "http://purl.org/rss/1.0/",
        ),
        (
            "http://channel.netscape.com/rdf/simple/0.9/",
            "http://purl.org/rss/1.0/",
        ),
        (
            "http://backend.userland.com/rss2",
            "http://purl.org/rss/1.0/",
        ),
        (
            "http://backend.userland.com/rss",
            "http://purl.org/rss/1.0/",
        ),
        (
            "http://blogs.law.harvard.edu/tech/rss",
            "http://purl.org/rss/1.0/",
        ),
        (
            "http://purl.org/dc/elements/1.0/",
            "http://purl.org/dc/elements/1.1/",
        ),
        (
            "http://purl.org/atom/ns#draft-ietf-atompub-format-08",
            "http://www.w3.org/2005/Atom",
        ),
    ];
    let mut current: Option<String> = None;
    for (old, new) in LEGACY {
        let quoted = [format!("\"{old}\""), format!("'{old}'")];
        let source = current.as_deref().unwrap_or(text);
        if quoted.iter().any(|q| source.contains(q.as_str())) {
            let replaced = source
                .replace(&quoted[0], &format!("\"{new}\""))
                .replace(&quoted[1], &format!("'{new}'"));
            current = Some(replaced);
        }
    }
    current
}

/// `<rss>` without a `version`, or with one feed-rs does not dispatch on
/// (`0.93`, `2.0.1`, `2`), is read as RSS 2.0.
pub fn normalize_rss_version(text: &str) -> Option<String> {
    let (start, name, end) = root_element(text)?;
    if name != "rss" {
        return None;
    }
    let tag = &text[start..end];
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..start]);
    match find_attribute(tag, "version") {
        Some((_, "2.0" | "0.91" | "0.92")) => {
            return None;
        }
        Some((range, _)) => {
            out.push_str("<rss");
            out.push_str(&tag[1 + name.len()..range.start]);
            out.push_str("2.0");
            out.push_str(&tag[range.end..]);
        }
        None => {
            out.push_str("<rss version=\"2.0\"");
            out.push_str(&tag[1 + name.len()..]);
        }
    }
    out.push_str(&text[end..]);
    Some(out)
}

/// `<rss>` whose items sit directly inside it: a `<channel>` is put around them.
pub fn add_missing_channel(text: &str) -> Option<String> {
    let (_, name, end) = root_element(text)?;
    if name != "rss" || text.contains("<channel") || text[..end].ends_with("/>") {
        return None;
    }
    let close = text.rfind("</rss>").unwrap_or(text.len());
    Some(format!(
        "{}<channel>{}</channel>{}",
        &text[..end],
        &text[end..close],
        &text[close..]
    ))
}

/// Channel Definition Format (`<CHANNEL><ITEM HREF=… LASTMOD=…><TITLE>`,
/// `<ABSTRACT>`) as RSS 2.0.
pub fn cdf_as_rss(text: &str) -> Option<String> {
    let (start, root, _) = root_element(text)?;
    if !root.eq_ignore_ascii_case("channel") || root == "channel" {
        return None;
    }
    let attribute = |tag: &str, name: &str| {
        find_attribute(tag, name)
            .or_else(|| find_attribute(tag, &name.to_ascii_lowercase()))
            .map(|(_, v)| v.to_owned())
    };
    let body = rewrite_tags(&text[start..], |is_end, name, tag| {
        let renamed = match name.to_ascii_uppercase().as_str() {
            "CHANNEL" => "channel",
            "ITEM" => "item",
            "TITLE" => "title",
            "ABSTRACT" => "description",
            _ => return None,
        };
        if is_end {
            return Some(format!("</{renamed}>"));
        }
        let mut out = format!("<{renamed}>");
        if let Some(href) = attribute(tag, "HREF") {
            out.push_str(&format!("<link>{href}</link>"));
        }
        if let Some(lastmod) = attribute(tag, "LASTMOD") {
            out.push_str(&format!("<pubDate>{lastmod}</pubDate>"));
        }
        if tag.ends_with("/>") {
            out.push_str(&format!("</{renamed}>"));
        }
        Some(out)
    })?;
    Some(format!(
        "{}<rss version=\"2.0\">{body}</rss>",
        &text[..start]
    ))
}

/// RSS 1.0 (and 0.90) as RSS 2.0: the items move into the channel, and an
/// item without a `<link>` gets its `rdf:about` as link. feed-rs' RSS 1.0
/// reader drops items without a link; its RSS 2.0 reader keeps them.
pub fn rdf_as_rss2(text: &str) -> Option<String> {
    let (start, root, end) = root_element(text)?;
    if local_name(root) != "RDF" || !text.contains("<item") {
        return None;
    }
    let root = root.to_owned();
    let root_tag = &text[start..end];
    let attributes = &root_tag[1 + root.len()..];
    let mut has_channel = false;
    let body = rewrite_tags(&text[end..], |is_end, name, tag| match (is_end, name) {
        (false, "channel") => {
            has_channel = true;
            Some("<channel>".to_owned())
        }
        (true, "channel") => Some(String::new()),
        (false, "item") => {
            let about = find_attribute(tag, "rdf:about").map(|(_, v)| v.to_owned());
            Some(match about {
                Some(about) => format!("<item><gleaner-about>{about}</gleaner-about>"),
                None => "<item>".to_owned(),
            })
        }
        (true, n) if n == root => Some("</channel></rss>".to_owned()),
        _ => None,
    })
    .unwrap_or_else(|| text[end..].to_owned());
    let body = link_from_about(&body);
    let channel = if has_channel { "" } else { "<channel>" };
    let attributes = attributes.trim_end_matches('>').trim_end_matches('/');
    let mut out = format!(
        "{}<rss version=\"2.0\"{attributes}>{channel}{body}",
        &text[..start]
    );
    if !out.trim_end().ends_with("</rss>") {
        out.push_str("</channel></rss>");
    }
    Some(out)
}

/// `<gleaner-about>` markers (left by [`rdf_as_rss2`]) become `<link>`
/// when their item has none, and disappear otherwise.
fn link_from_about(body: &str) -> String {
    const OPEN: &str = "<gleaner-about>";
    const CLOSE: &str = "</gleaner-about>";
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let Some(close) = after.find(CLOSE) else {
            rest = after;
            continue;
        };
        let about = &after[..close];
        let remainder = &after[close + CLOSE.len()..];
        let item_end = remainder.find("</item>").unwrap_or(remainder.len());
        if !remainder[..item_end].contains("<link") {
            out.push_str("<link>");
            out.push_str(about);
            out.push_str("</link>");
        }
        rest = remainder;
    }
    out.push_str(rest);
    out
}

/// An Atom feed without `<entry>` but with `<item>`s: the items are entries.
pub fn atom_items_as_entries(text: &str) -> Option<String> {
    let (_, root, _) = root_element(text)?;
    if local_name(root) != "feed" || text.contains("<entry") || !text.contains("<item") {
        return None;
    }
    rewrite_tags(text, |is_end, name, tag| {
        (name == "item").then(|| {
            let slash = if is_end { "/" } else { "" };
            format!("<{slash}entry{}", &tag[1 + slash.len() + name.len()..])
        })
    })
}

/// `type` attributes of text constructs that feed-rs does not accept: a MIME
/// type where Atom wants `text`/`html`/`xhtml`, or an empty one; Atom 0.3's
/// `mode` is dropped.
pub fn normalize_text_types(text: &str) -> Option<String> {
    const TEXT_CONSTRUCTS: [&str; 8] = [
        "title",
        "subtitle",
        "summary",
        "content",
        "rights",
        "tagline",
        "info",
        "copyright",
    ];
    rewrite_tags(text, |is_end, name, tag| {
        // Media RSS and other namespaces have their own `type` vocabularies.
        let atom_like = !name.contains(':') || name.starts_with("atom:");
        if is_end || !atom_like || !TEXT_CONSTRUCTS.contains(&local_name(name)) {
            return None;
        }
        let mut tag = tag.to_owned();
        let mut changed = false;
        if let Some((range, value)) = find_attribute(&tag, "type") {
            let keyword = match value.trim() {
                "" | "text/plain" | "plain" | "TEXT" => Some("text"),
                "application/xhtml+xml" | "XHTML" => Some("xhtml"),
                "HTML" | "escaped" => Some("html"),
                "text" | "html" | "xhtml" | "text/html" => None,
                // Any other type (`application/octet-stream`, `image/png`):
                // feed-rs fails the whole feed over one such element, so
                // it is read as text, and `content` keeps its type.
                _ if local_name(name) != "content" => Some("text"),
                _ => None,
            };
            if let Some(keyword) = keyword {
                tag.replace_range(range, keyword);
                changed = true;
            }
        }
        if let Some((range, _)) = find_attribute(&tag, "mode") {
            // Remove ` mode="…"` (from the space before the name to the closing quote).
            let name_start = tag[..range.start].rfind("mode").unwrap_or(range.start);
            let from = tag[..name_start].trim_end().len();
            tag.replace_range(from..range.end + 1, "");
            changed = true;
        }
        changed.then_some(tag)
    })
}

#[cfg(test)]
#[path = "dialects_tests.rs"]
mod tests;
