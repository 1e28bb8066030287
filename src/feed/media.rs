//! An entry's media: RSS `<enclosure>`, Media RSS (`media:content`,
//! `media:thumbnail`, `media:group`), Atom `link rel="enclosure"`, JSON Feed
//! `attachments` and the iTunes duration, as one list of [`Enclosure`]s.
//!
//! feed-rs reads all of these; RSS enclosures, Media RSS and iTunes elements
//! arrive as media objects (merged into the Media RSS one when there is
//! one), Atom and JSON Feed ones as links. Nothing here is downloaded.

use feed_rs::model;
use serde::{Deserialize, Serialize};
use url::Url;

/// At most this many enclosures of one entry are kept (untrusted input).
const MAX_ENCLOSURES: usize = 20;
/// Titles and MIME types past this length are cut.
const MAX_TEXT_CHARS: usize = 300;

/// One media file an entry carries (as exported: `enclosures` in JSON,
/// `attachments` in JSON Feed, `link rel="enclosure"` in Atom).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enclosure {
    pub url: String,
    pub mime_type: Option<String>,
    /// In bytes, as the feed declares it.
    pub length: Option<u64>,
    pub duration_secs: Option<u64>,
    pub title: Option<String>,
}

/// The enclosures of `entry`, links resolved against `base`, without repeats
/// of one URL (the first mention, with what later ones add, wins).
/// `itunes_duration` is the item's `<itunes:duration>` (read by
/// `feed::items`: feed-rs drops it unless Media RSS is there to merge into),
/// the duration of a file that states none.
pub(super) fn enclosures(
    entry: &model::Entry,
    base: &Url,
    itunes_duration: Option<u64>,
) -> Vec<Enclosure> {
    let mut found: Vec<Enclosure> = Vec::new();
    let item_duration = entry
        .media
        .iter()
        .find_map(|m| m.duration)
        .or(itunes_duration.map(std::time::Duration::from_secs));
    for object in &entry.media {
        let title = object.title.as_ref().map(|t| t.content.clone());
        for content in &object.content {
            let Some(url) = &content.url else { continue };
            add(
                &mut found,
                Enclosure {
                    url: url.to_string(),
                    mime_type: content.content_type.as_ref().map(|m| m.to_string()),
                    length: content.size,
                    duration_secs: content
                        .duration
                        .or(object.duration)
                        .or(item_duration)
                        .map(|d| d.as_secs()),
                    title: title.clone(),
                },
            );
        }
        for thumbnail in &object.thumbnails {
            let Ok(url) = base.join(thumbnail.image.uri.trim()) else {
                continue;
            };
            add(
                &mut found,
                Enclosure {
                    url: url.to_string(),
                    mime_type: None,
                    length: None,
                    duration_secs: None,
                    title: thumbnail.image.title.clone(),
                },
            );
        }
    }
    // Atom `rel="enclosure"`; JSON Feed attachments are links without a rel
    // but with a MIME type.
    for link in &entry.links {
        let enclosure = match link.rel.as_deref() {
            Some(rel) => rel.eq_ignore_ascii_case("enclosure"),
            None => link.media_type.is_some(),
        };
        let Some(url) = enclosure
            .then(|| base.join(link.href.trim()).ok())
            .flatten()
        else {
            continue;
        };
        add(
            &mut found,
            Enclosure {
                url: url.to_string(),
                mime_type: link.media_type.clone(),
                length: link.length,
                duration_secs: item_duration.map(|d| d.as_secs()),
                title: link.title.clone(),
            },
        );
    }
    found
}

fn add(found: &mut Vec<Enclosure>, mut new: Enclosure) {
    if !matches!(
        Url::parse(&new.url)
            .map(|u| u.scheme().to_owned())
            .as_deref(),
        Ok("http" | "https")
    ) {
        return;
    }
    let clip = |t: Option<String>| {
        t.map(|t| t.trim().chars().take(MAX_TEXT_CHARS).collect::<String>())
            .filter(|t| !t.is_empty())
    };
    new.title = clip(new.title);
    new.mime_type = clip(new.mime_type);
    let full = found.len() >= MAX_ENCLOSURES;
    match found.iter_mut().find(|e| e.url == new.url) {
        Some(old) => {
            old.mime_type = old.mime_type.take().or(new.mime_type);
            old.length = old.length.or(new.length);
            old.duration_secs = old.duration_secs.or(new.duration_secs);
            old.title = old.title.take().or(new.title);
        }
        None if !full => found.push(new),
        None => {}
    }
}
