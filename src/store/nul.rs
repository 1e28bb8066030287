//! No NUL reaches either backend. PostgreSQL refuses a NUL in any text
//! value, and the refusal fails the whole transaction: one NUL in one
//! article (a page's text, a feed's HTML, an error message quoting a
//! server) would keep every entry of its feed out of the store and make a
//! SQLite database impossible to migrate. The feed layer already drops
//! control characters from entries (`feed::entry::without_controls`);
//! every write of articles and feed states runs through here (in
//! `shared::poll` and `shared::pages`, which both backends use), so that text from any other path (extracted pages,
//! re-extraction, messages) is storable on both backends alike; and
//! `migrate-db` copies a SQLite database an older version wrote NULs into
//! ([`without`]).

use std::borrow::Cow;

use super::model::{ArticleRecord, PollRecord, Reextraction, Sighting};
use crate::pacing::FeedOutcome;

fn has(text: &str) -> bool {
    text.contains('\0')
}

fn clean(text: &mut String) {
    if has(text) {
        text.retain(|c| c != '\0');
    }
}

/// `text` without NUL (no copy when it has none): for what `migrate-db`
/// copies into PostgreSQL from a SQLite database an older version wrote.
pub(super) fn without(mut text: String) -> String {
    clean(&mut text);
    text
}

fn clean_opt(text: &mut Option<String>) {
    if let Some(text) = text {
        clean(text);
    }
}

/// Every text an article carries.
fn article_texts(a: &ArticleRecord) -> impl Iterator<Item = &str> {
    [
        &a.title,
        &a.author,
        &a.summary,
        &a.content_html,
        &a.content_text,
        &a.language,
    ]
    .into_iter()
    .filter_map(|t| t.as_deref())
    .chain(a.categories.iter().map(String::as_str))
    .chain(a.enclosures.iter().flat_map(|e| {
        [
            Some(e.url.as_str()),
            e.mime_type.as_deref(),
            e.title.as_deref(),
        ]
        .into_iter()
        .flatten()
    }))
}

fn clean_article(a: &mut ArticleRecord) {
    for text in [
        &mut a.title,
        &mut a.author,
        &mut a.summary,
        &mut a.content_html,
        &mut a.content_text,
        &mut a.language,
    ] {
        clean_opt(text);
    }
    a.categories.iter_mut().for_each(clean);
    for enclosure in &mut a.enclosures {
        clean(&mut enclosure.url);
        clean_opt(&mut enclosure.mime_type);
        clean_opt(&mut enclosure.title);
    }
}

fn sighting_has(s: &Sighting) -> bool {
    has(&s.entry_id)
        || has(&s.entry_hash)
        || s.tags.iter().any(|t| has(t))
        || s.article
            .as_ref()
            .is_some_and(|a| article_texts(a).any(has))
}

fn clean_sighting(s: &mut Sighting) {
    clean(&mut s.entry_id);
    clean(&mut s.entry_hash);
    s.tags.iter_mut().for_each(clean);
    if let Some(article) = &mut s.article {
        clean_article(article);
    }
}

/// `sightings` without NUL; borrowed (no copy) when there is none.
pub(super) fn sightings(sightings: &[Sighting]) -> Cow<'_, [Sighting]> {
    if !sightings.iter().any(sighting_has) {
        return Cow::Borrowed(sightings);
    }
    let mut owned = sightings.to_vec();
    owned.iter_mut().for_each(clean_sighting);
    Cow::Owned(owned)
}

/// The texts of a feed's new state (its validators, its error).
fn outcome_texts(outcome: &mut FeedOutcome) -> Vec<&mut String> {
    match outcome {
        FeedOutcome::Failed { error, .. } => vec![error],
        FeedOutcome::Fetched {
            etag,
            last_modified,
            moved_to,
            title,
            ..
        } => [etag, last_modified, moved_to, title]
            .into_iter()
            .filter_map(Option::as_mut)
            .collect(),
        FeedOutcome::NotModified => Vec::new(),
    }
}

/// `poll` without NUL in its articles or its feed's state; borrowed when
/// there is none.
pub(super) fn poll(poll: &PollRecord) -> Cow<'_, PollRecord> {
    let mut outcome = poll.outcome.clone();
    let outcome_has = outcome_texts(&mut outcome).into_iter().any(|t| has(t));
    if !outcome_has && !poll.sightings.iter().any(sighting_has) {
        return Cow::Borrowed(poll);
    }
    let mut owned = poll.clone();
    outcome_texts(&mut owned.outcome)
        .into_iter()
        .for_each(clean);
    owned.sightings.iter_mut().for_each(clean_sighting);
    Cow::Owned(owned)
}

/// `new` without NUL in its texts; borrowed when there is none.
pub(super) fn reextractions(new: &[Reextraction]) -> Cow<'_, [Reextraction]> {
    if !new
        .iter()
        .any(|r| has(&r.content_html) || has(&r.content_text))
    {
        return Cow::Borrowed(new);
    }
    let mut owned = new.to_vec();
    for r in &mut owned {
        clean(&mut r.content_html);
        clean(&mut r.content_text);
    }
    Cow::Owned(owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::{ContentSource, KeptPage};

    fn sighting(text: &str) -> Sighting {
        Sighting {
            entry_id: "e".into(),
            url: None,
            entry_hash: "h".into(),
            article: Some(ArticleRecord {
                title: Some(format!("T{text}")),
                content_html: Some(format!("<p>{text}</p>")),
                content_text: Some(text.to_owned()),
                content_source: Some(ContentSource::Article),
                categories: vec![text.to_owned()],
                ..ArticleRecord::default()
            }),
            feed_only: false,
            tags: vec![format!("t{text}")],
        }
    }

    #[test]
    fn every_text_of_an_article_loses_its_nul_and_clean_ones_are_not_copied() {
        let clean = [sighting("text")];
        assert!(matches!(sightings(&clean), Cow::Borrowed(_)));
        let dirty = [sighting("te\0xt")];
        let cleaned = sightings(&dirty);
        let article = cleaned[0].article.as_ref().unwrap();
        assert_eq!(article.title.as_deref(), Some("Ttext"));
        assert_eq!(article.content_html.as_deref(), Some("<p>text</p>"));
        assert_eq!(article.content_text.as_deref(), Some("text"));
        assert_eq!(article.categories, ["text"]);
        assert_eq!(cleaned[0].tags, ["ttext"]);
        let new = [Reextraction {
            page: KeptPage {
                seq: 1,
                url: "https://example.org/a".into(),
                fetched_at: "2026-12-07T00:00:00Z".into(),
                content_type: None,
                body_zstd: Vec::new(),
                feed_urls: Vec::new(),
                content_source: "article".into(),
                word_count: None,
            },
            content_html: "a\0".into(),
            content_text: "b\0".into(),
            word_count: 1,
            near_dup: None,
        }];
        let new = reextractions(&new);
        assert_eq!(
            (new[0].content_html.as_str(), new[0].content_text.as_str()),
            ("a", "b")
        );
    }
}
