//! What feed-rs' model of an RSS item loses, read from the document itself.
//!
//! feed-rs keeps one date per field, set by whichever element came last (so
//! `<dc:date>` overrides `<pubDate>`), copies the publication date into
//! `updated`, drops `isPermaLink`, and ignores Atom elements inside items
//! (`<a10:link>`, `<a10:author>`), `<itunes:author>`, `<dcterms:modified>`,
//! an `<author>` written as `<author><name>…</name></author>` and a
//! `<media:title>` without media content. One
//! quick-xml pass over the (already repaired) text collects these per item,
//! in document order; [`super::convert`] pairs them with feed-rs' entries
//! when both found the same number of items.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

use super::entities;

const ATOM: &str = "http://www.w3.org/2005/Atom";
const DUBLIN_CORE: &str = "http://purl.org/dc/elements/1.1/";
const DC_TERMS: &str = "http://purl.org/dc/terms/";
const ITUNES: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const MEDIA_RSS: &str = "http://search.yahoo.com/mrss/";
/// Namespaces RSS's own elements come in (none, for RSS 0.9x/2.0).
const RSS: [&str; 3] = [
    "http://purl.org/rss/1.0/",
    "http://my.netscape.com/rdf/simple/0.9/",
    "http://backend.userland.com/rss2",
];

/// An item's `<guid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guid {
    pub text: String,
    /// `isPermaLink`, true unless it says `false` (RSS 2.0's default).
    pub permalink: bool,
}

/// The parts of one RSS item that feed-rs does not give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemDetails {
    pub guid: Option<Guid>,
    /// `<pubDate>`: the publication date, which wins over `<dc:date>`.
    pub pub_date: Option<String>,
    /// `<dc:date>`: RSS 1.0's publication date.
    pub dc_date: Option<String>,
    /// `<dcterms:modified>`, `<atom:updated>`, `<updated>`, in document order.
    pub modified: Vec<String>,
    /// The `href` of an `<atom:link>` (or an RSS `<link>` written the Atom
    /// way) that names the item's page (`rel` absent or `alternate`).
    pub atom_link: Option<String>,
    /// Author names feed-rs misses, best first: `<atom:author>` (its name,
    /// else its e-mail), `<itunes:author>`, `<author><name>`.
    pub authors: Vec<String>,
    /// `<media:title>`: the item's title when it has none of its own.
    pub media_title: Option<String>,
    /// `<itunes:duration>` in seconds (feed-rs drops it when the item has
    /// no Media RSS to merge it into).
    pub itunes_duration: Option<u64>,
}

/// What a direct child of an item is, when it is one this module reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Child {
    Guid { permalink: bool },
    PubDate,
    DcDate,
    Modified,
    AtomAuthor,
    ItunesAuthor,
    RssAuthor,
    MediaTitle,
    ItunesDuration,
    Other,
}

/// The text being collected for the current child of an item.
#[derive(Default)]
struct Collected {
    text: String,
    /// Text of a nested `<name>` / `<email>` (Atom persons, `<author><name>`).
    name: String,
    email: String,
}

/// The details of every RSS item, in document order; `None` when the text
/// is not well-formed enough to scan (the caller then keeps feed-rs' reading).
pub fn rss_items(text: &str) -> Option<Vec<ItemDetails>> {
    let mut reader = NsReader::from_str(text);
    let mut items = Vec::new();
    // Depth of the open elements, the item's depth, and the current child.
    let mut depth = 0usize;
    let mut item: Option<(usize, ItemDetails)> = None;
    let mut child: Option<(Child, Collected)> = None;
    let mut nested: Option<String> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().ok()?;
        let namespace = match ns {
            ResolveResult::Bound(ns) => Some(ns.into_inner().to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(_) => Some(String::new()),
        };
        match event {
            Event::Start(ref start) | Event::Empty(ref start) => {
                let empty = matches!(event, Event::Empty(_));
                let local = start.local_name().into_inner().to_owned();
                let ns = namespace.as_deref();
                match &mut item {
                    None if local == "item" && is_rss(ns) => {
                        if empty {
                            items.push(ItemDetails::default());
                        } else {
                            item = Some((depth + 1, ItemDetails::default()));
                        }
                    }
                    Some((item_depth, details)) if depth == *item_depth => {
                        let kind = child_kind(ns, &local, start);
                        // `<atom:link href>`, and an RSS `<link href>` written Atom-style.
                        let is_link = local == "link" && (ns == Some(ATOM) || is_rss(ns));
                        if is_link {
                            read_atom_link(start, details);
                        }
                        if !empty {
                            child = Some((kind, Collected::default()));
                        }
                    }
                    Some(_) if !empty && child.is_some() => nested = Some(local),
                    _ => {}
                }
                if !empty {
                    depth += 1;
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                match &mut item {
                    Some((item_depth, _)) if depth + 1 == *item_depth => {
                        if let Some((_, details)) = item.take() {
                            items.push(details);
                        }
                    }
                    Some((item_depth, details)) if depth == *item_depth => {
                        if let Some((kind, collected)) = child.take() {
                            keep(details, kind, collected);
                        }
                    }
                    _ => nested = None,
                }
            }
            Event::Text(t) => collect(
                &mut child,
                nested.as_deref(),
                &t.xml_content(XmlVersion::Implicit1_0),
            ),
            Event::CData(t) => collect(
                &mut child,
                nested.as_deref(),
                &t.xml_content(XmlVersion::Implicit1_0),
            ),
            Event::GeneralRef(r) => {
                let reference = format!("&{};", r.into_inner());
                collect(&mut child, nested.as_deref(), &reference)
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(items)
}

fn is_rss(ns: Option<&str>) -> bool {
    ns.is_none_or(|ns| RSS.contains(&ns))
}

fn child_kind(ns: Option<&str>, local: &str, start: &BytesStart<'_>) -> Child {
    match (ns, local) {
        (ns, "guid") if is_rss(ns) => Child::Guid {
            permalink: attribute(start, "isPermaLink")
                .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false")),
        },
        (ns, "pubDate") if is_rss(ns) => Child::PubDate,
        (ns, "updated") if is_rss(ns) => Child::Modified,
        (ns, "author") if is_rss(ns) => Child::RssAuthor,
        (Some(DUBLIN_CORE), "date") => Child::DcDate,
        (Some(DC_TERMS), "modified") | (Some(ATOM), "updated") => Child::Modified,
        (Some(ATOM), "author") => Child::AtomAuthor,
        (Some(ITUNES), "author") => Child::ItunesAuthor,
        (Some(ITUNES), "duration") => Child::ItunesDuration,
        (Some(MEDIA_RSS), "title") => Child::MediaTitle,
        _ => Child::Other,
    }
}

fn attribute(start: &BytesStart<'_>, name: &str) -> Option<String> {
    start
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().into_inner() == name)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn read_atom_link(start: &BytesStart<'_>, details: &mut ItemDetails) {
    let rel = attribute(start, "rel");
    let names_page = rel.as_deref().is_none_or(|r| r.trim() == "alternate");
    if let (true, None, Some(href)) = (names_page, &details.atom_link, attribute(start, "href"))
        && !href.trim().is_empty()
    {
        details.atom_link = Some(href.trim().to_owned());
    }
}

fn collect(child: &mut Option<(Child, Collected)>, nested: Option<&str>, text: &str) {
    let Some((_, collected)) = child else {
        return;
    };
    match nested {
        None => collected.text.push_str(text),
        Some("name") => collected.name.push_str(text),
        Some("email") => collected.email.push_str(text),
        Some(_) => {}
    }
}

/// Plain, trimmed text with the references XML left alone decoded.
fn clean(text: &str) -> Option<String> {
    let text = entities::decode_text(text);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn keep(details: &mut ItemDetails, kind: Child, collected: Collected) {
    let text = clean(&collected.text);
    match kind {
        Child::Guid { permalink } => {
            details.guid = text.map(|text| Guid { text, permalink });
        }
        Child::PubDate => details.pub_date = details.pub_date.take().or(text),
        Child::DcDate => details.dc_date = details.dc_date.take().or(text),
        Child::Modified => details.modified.extend(text),
        Child::AtomAuthor => details
            .authors
            .extend(clean(&collected.name).or_else(|| clean(&collected.email))),
        Child::ItunesAuthor => details.authors.extend(text),
        Child::RssAuthor => details.authors.extend(clean(&collected.name)),
        Child::MediaTitle => details.media_title = details.media_title.take().or(text),
        Child::ItunesDuration => {
            details.itunes_duration = text.as_deref().and_then(duration_seconds);
        }
        Child::Other => {}
    }
}

/// An iTunes duration: seconds, `MM:SS` or `HH:MM:SS` (a fraction of a
/// second dropped); `None` for anything else.
fn duration_seconds(text: &str) -> Option<u64> {
    let whole = text.split('.').next()?;
    let parts: Vec<&str> = whole.split(':').collect();
    if parts.len() > 3 {
        return None;
    }
    parts.iter().try_fold(0u64, |total, part| {
        let n: u64 = part.trim().parse().ok()?;
        total.checked_mul(60)?.checked_add(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn itunes_durations_in_every_spelling() {
        assert_eq!(duration_seconds("3723"), Some(3723));
        assert_eq!(duration_seconds("62:03"), Some(3723));
        assert_eq!(duration_seconds("01:02:03.250"), Some(3723));
        assert_eq!(duration_seconds("an hour"), None);
        assert_eq!(duration_seconds("1:2:3:4"), None);
        assert_eq!(duration_seconds("99999999999999999999"), None);
    }

    #[test]
    fn guid_permalink_dates_and_atom_elements_are_read() {
        let rss = r#"<rss version="2.0" xmlns:a10="http://www.w3.org/2005/Atom"
              xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
              xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>
            <item><guid>https://e.example/1</guid><pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>
              <dc:date>2025-01-01T00:00:00Z</dc:date><dcterms:modified>2024-02-01T00:00:00Z</dcterms:modified>
              <a10:link rel="self" href="https://e.example/self"/><a10:link href="https://e.example/page"/>
              <a10:author><a10:name>Ann &amp; Bo</a10:name><a10:email>a@e.example</a10:email></a10:author>
              <itunes:author>Cast</itunes:author><author><name>Named</name></author></item>
            <item><guid isPermaLink="false">x-2</guid></item>
            <item/>
            </channel></rss>"#;
        let items = rss_items(rss).unwrap();
        assert_eq!(items.len(), 3);
        let first = &items[0];
        assert_eq!(
            first.guid,
            Some(Guid {
                text: "https://e.example/1".into(),
                permalink: true
            })
        );
        assert_eq!(
            first.pub_date.as_deref(),
            Some("Mon, 01 Jan 2024 10:00:00 GMT")
        );
        assert_eq!(first.dc_date.as_deref(), Some("2025-01-01T00:00:00Z"));
        assert_eq!(first.modified, ["2024-02-01T00:00:00Z"]);
        assert_eq!(first.atom_link.as_deref(), Some("https://e.example/page"));
        assert_eq!(first.authors, ["Ann & Bo", "Cast", "Named"]);
        assert_eq!(items[1].guid.as_ref().map(|g| g.permalink), Some(false));
        assert_eq!(items[2], ItemDetails::default());
    }

    #[test]
    fn rss_1_items_and_nested_markup_are_read() {
        let rdf = r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
              xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            <channel><title>c</title></channel>
            <item><title>t</title><dc:date>2002-09-28T20:01:19Z</dc:date></item></rdf:RDF>"#;
        let items = rss_items(rdf).unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].dc_date.as_deref(), Some("2002-09-28T20:01:19Z"));
        assert_eq!(items[0].pub_date, None);
    }

    #[test]
    fn malformed_text_gives_none() {
        assert_eq!(rss_items("<rss><channel><item></channel>"), None);
    }
}
