//! The rules of one poll's writes, written once for both backends.
//!
//! What a sighting becomes (new article, update in place, merge into an
//! article known under another identity, tombstone kept) and when an
//! adaptive feed is due next are decided here, over the statements of
//! `shared::articles` that both backends run. Both therefore deduplicate
//! by the same rules.

use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::pacing::{ADAPTIVE_HISTORY, AdaptiveBounds, adaptive_interval};

use super::StoreError;
use super::keys::{article_id, entry_key, normalize_url, text_key, url_key};
use super::model::{PollSummary, Sighting};
use super::shared::near_dup::NearDup;
use super::sql::Conn;

enum SightingResult {
    New,
    Updated,
    Merged,
    /// Merged as a near-duplicate (`near_dup`).
    NearDuplicate,
    Unchanged,
}

pub(super) fn record_all(
    tx: &mut dyn Conn,
    feed_url: &str,
    now: &str,
    sightings: &[Sighting],
) -> Result<PollSummary, StoreError> {
    let mut summary = PollSummary::default();
    for sighting in sightings {
        match record_sighting(tx, feed_url, now, sighting)? {
            SightingResult::New => summary.new += 1,
            SightingResult::Updated => summary.updated += 1,
            SightingResult::Merged => summary.merged += 1,
            SightingResult::NearDuplicate => {
                summary.merged += 1;
                summary.near_duplicates += 1;
            }
            SightingResult::Unchanged => {}
        }
    }
    Ok(summary)
}

/// Sets the next poll of an adaptive feed that was just polled successfully
/// (its new entries already inserted).
pub(super) fn schedule_adaptive(
    tx: &mut dyn Conn,
    feed_url: &str,
    now: DateTime<Utc>,
    bounds: AdaptiveBounds,
    fresh_for: Option<Duration>,
) -> Result<(), StoreError> {
    let publications: Vec<DateTime<Utc>> = tx
        .publications(feed_url, ADAPTIVE_HISTORY as i64)?
        .iter()
        .filter_map(|t| super::parse_time(t))
        .collect();
    let (ttl, previous) = tx.feed_cadence(feed_url)?;
    let floor = fresh_for.max(ttl.map(Duration::from_secs));
    let interval = adaptive_interval(
        &publications,
        now,
        previous.map(Duration::from_secs),
        bounds,
        floor,
    );
    let next = chrono::Duration::from_std(interval)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    tx.set_next_poll(feed_url, interval.as_secs(), &super::format_time(next))
}

fn record_sighting(
    tx: &mut dyn Conn,
    feed_url: &str,
    now: &str,
    sighting: &Sighting,
) -> Result<SightingResult, StoreError> {
    let entry = entry_key(feed_url, &sighting.entry_id);
    let link = sighting
        .url
        .as_ref()
        .and_then(normalize_url)
        .map(|u| url_key(&u));

    let Some(article) = &sighting.article else {
        // Known entry: attach this sighting to the article it is known as.
        let keys: Vec<&str> = std::iter::once(entry.as_str())
            .chain(link.as_deref())
            .collect();
        let Some(seq) = tx.find_article_of(&keys, feed_url, &sighting.entry_id)? else {
            tracing::warn!(feed = feed_url, entry = %sighting.entry_id,
                "entry was thought known but no article has its keys; it will be fetched on the next poll");
            return Ok(SightingResult::Unchanged);
        };
        let added = if tx.is_purged(seq)? {
            tx.add_source(seq, seq, feed_url, sighting, now)?
        } else {
            join_selections(tx, seq, feed_url, sighting, now)?
        };
        tx.add_keys(seq, &keys)?;
        return Ok(if added {
            SightingResult::Merged
        } else {
            SightingResult::Unchanged
        });
    };

    let canonical = article
        .canonical_url
        .as_ref()
        .filter(|u| is_specific_page(u))
        .and_then(normalize_url)
        .map(|u| url_key(&u));
    let text = article.content_text.as_deref().and_then(text_key);
    let mut keys: Vec<&str> = vec![entry.as_str()];
    keys.extend(link.as_deref());
    keys.extend(canonical.as_deref());
    keys.extend(text.as_deref());
    let mut near = NearDup::of(article, sighting.url.as_ref(), feed_url, now);

    if let Some(seq) = tx.article_under(&entry)? {
        // Same feed, same entry id: the entry changed in its feed.
        if tx.is_purged(seq)? {
            tx.add_source(seq, seq, feed_url, sighting, now)?;
            return Ok(SightingResult::Unchanged);
        }
        if sighting.feed_only {
            if !tx.refresh_article(seq, article)? {
                // The stored body is the page's: the feed's text is no identity of it.
                keys.retain(|k| Some(*k) != text.as_deref());
            }
        } else {
            tx.update_article(seq, article)?;
            tx.save_page(seq, article, now, true)?;
        }
        join_selections(tx, seq, feed_url, sighting, now)?;
        tx.add_keys(seq, &keys)?;
        index_near(tx, &mut near, seq)?;
        return Ok(SightingResult::Updated);
    }
    // After the exact keys, the text's similarity (`near_dup`): a copy
    // found so is another source of the stored article like any other.
    let exact = tx.find_article_of(&keys[1..], feed_url, &sighting.entry_id)?;
    let similar = match (exact, near.as_mut()) {
        (None, Some(near)) => near.find(tx, feed_url, &sighting.entry_id)?,
        _ => None,
    };
    if let Some(seq) = exact.or(similar) {
        // Known under another identity; a purged one stays a tombstone.
        if tx.is_purged(seq)? {
            tx.add_source(seq, seq, feed_url, sighting, now)?;
            tx.add_keys(seq, &keys)?;
            return Ok(SightingResult::Unchanged);
        }
        tx.merge_article(seq, article)?;
        tx.save_page(seq, article, now, false)?;
        join_selections(tx, seq, feed_url, sighting, now)?;
        tx.add_keys(seq, &keys)?;
        index_near(tx, &mut near, seq)?;
        return Ok(if similar.is_some() {
            SightingResult::NearDuplicate
        } else {
            SightingResult::Merged
        });
    }

    // The id comes from the link unless another entry of this feed already
    // took it (anchors of one page): then from the entry, which is unique.
    let id_key = match link.as_deref() {
        Some(link) if tx.article_under(link)?.is_none() => link,
        _ => entry.as_str(),
    };
    let id = article_id(id_key);
    let seq = tx.insert_article(&id, now, article)?;
    tx.save_page(seq, article, now, true)?;
    // Stored with its article: it entered every selection it is in at its seq.
    tx.add_source(seq, seq, feed_url, sighting, now)?;
    tx.add_tags(seq, seq, &sighting.tags)?;
    tx.add_keys(seq, &keys)?;
    index_near(tx, &mut near, seq)?;
    Ok(SightingResult::New)
}

/// The article's text into the near-duplicate index as `seq`'s, when it
/// brings a sketch.
fn index_near(
    tx: &mut dyn Conn,
    near: &mut Option<NearDup<'_>>,
    seq: i64,
) -> Result<(), StoreError> {
    match near {
        Some(near) => near.index(tx, seq),
        None => Ok(()),
    }
}

/// What a sighting of an already stored article adds to the selections it
/// is in: its feed's source and that feed's tags.
///
/// An export selection (`--feed`, `--tag`, a `[[deliver]]` block's
/// `feeds`/`tags`) is a set of sources and tags, and an article enters it
/// once it has what the selection asks for. Each source and tag row keeps
/// the position at which it was added: its article's seq when stored with
/// the article, else a new position from the seq counter (under the same
/// write lock, so positions become visible in increasing order like seqs).
/// An article's position in a selection is then the largest of its seq
/// and, per filter, the smallest position of a matching row: when it
/// entered. It never changes once the article is in (rows are only added),
/// and a consumer's new articles are those whose position is above its
/// cursor (see `read`): one that enters a filtered selection after the
/// consumer passed its seq is given then, once; one already in it (another
/// matching tag or feed gave it earlier) is not given again; an unfiltered
/// consumer's position is the seq alone, so a merge gives it nothing.
///
/// True when the source is new.
fn join_selections(
    tx: &mut dyn Conn,
    seq: i64,
    feed_url: &str,
    sighting: &Sighting,
    now: &str,
) -> Result<bool, StoreError> {
    let position = tx.next_position()?;
    let added = tx.add_source(seq, position, feed_url, sighting, now)?;
    tx.add_tags(seq, position, &sighting.tags)?;
    Ok(added)
}

/// A canonical link that points at a site's front page (a common template
/// mistake) would merge every article of the site into one; such links are
/// not used as identities.
fn is_specific_page(url: &Url) -> bool {
    url.path() != "/" || url.query().is_some()
}
