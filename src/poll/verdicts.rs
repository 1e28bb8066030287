//! What a poll does with `article::verdict`: a page judged an interstitial
//! gives no article (the entry keeps its feed's text), is counted for the
//! feed, logged once per poll with what to do, and tried again later
//! (`store::retries`); the same body on several URLs of one host
//! (`verdict::Repeats`) is judged so too, and copies of it already built in
//! this poll are given their feed's text before they are stored.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use crate::article::Article;
use crate::article::verdict::{Interstitial, Kind, Tally};
use crate::near_dup::Sketch;
use crate::store::model::{ArticleRecord, ContentSource, RetryChange, Sighting, StoredPage};

/// What fetching and extracting an entry's page gave.
#[derive(Debug, Clone)]
pub(super) enum Scraped {
    Article(Box<ScrapedArticle>),
    /// The page was an interstitial: no article.
    Interstitial(Interstitial),
    /// No page or no article (logged).
    Failed,
}

/// An article extracted from its page(s).
#[derive(Debug, Clone)]
pub(super) struct ScrapedArticle {
    pub article: Article,
    /// The first page, when `[storage] keep_html` keeps it.
    pub kept: Option<StoredPage>,
    /// The near-duplicate sketch of `article.content_text`, made in the
    /// same extraction job as the text (when `[dedup] near_duplicates` is
    /// on), so that it costs no job of its own; `None` once the text
    /// changed after (further pages joined).
    pub sketch: Option<Sketch>,
}

/// A built article that a later page may still show to be an interstitial
/// (its body seen on more URLs): its feed's own content (HTML, text,
/// words) to put in its place.
#[derive(Debug)]
pub(super) struct Demotable {
    pub feed: Option<(String, String, u32)>,
}

/// A poll's tally, its pages to try again, and its log line.
pub(super) type Finished = (Tally, Vec<RetryChange>, Option<String>);

/// One poll's verdicts, shared by its concurrent article builds.
#[derive(Default)]
pub(super) struct PollVerdicts(Mutex<State>);

#[derive(Default)]
struct State {
    tally: Tally,
    /// The first evidence of each kind, for the log line.
    evidence: BTreeMap<Kind, String>,
    retries: Vec<RetryChange>,
    /// Entries of this feed found to share their body with later pages.
    demote: BTreeMap<String, Kind>,
    /// Those of them given their feed's text before they were stored.
    demoted: HashSet<String>,
}

impl PollVerdicts {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one page's verdict for `entry_id`; `retried` when it was a
    /// retry of an earlier interstitial.
    pub fn page(&self, entry_id: &str, verdict: Option<&Interstitial>, retried: bool) {
        let mut state = self.state();
        state.tally.add(verdict.map(|i| i.kind));
        match verdict {
            Some(i) => {
                state
                    .evidence
                    .entry(i.kind)
                    .or_insert_with(|| i.evidence.clone());
                state.retries.push(RetryChange::Interstitial {
                    entry_id: entry_id.to_owned(),
                    kind: i.kind.as_str().to_owned(),
                });
            }
            None if retried => state.retries.push(RetryChange::Article {
                entry_id: entry_id.to_owned(),
            }),
            None => {}
        }
    }

    /// A retry of `entry_id`'s page that fetched nothing: one retry spent.
    pub fn retry_failed(&self, entry_id: &str) {
        self.state().retries.push(RetryChange::Failed {
            entry_id: entry_id.to_owned(),
        });
    }

    /// Earlier pages found to serve the body of a repeated interstitial:
    /// those of `feed_url` still in this poll lose their body before they
    /// are stored; the others (stored already) are fetched again next time.
    pub fn repeated(&self, feed_url: &str, kind: Kind, others: Vec<(String, String)>) {
        let mut state = self.state();
        for (feed, entry_id) in others {
            if feed == feed_url {
                state.demote.entry(entry_id).or_insert(kind);
            }
        }
    }

    /// Gives the feed's text to each of `built` that a later page showed to
    /// be a repeated interstitial.
    pub fn demote(&self, built: &mut [(Sighting, Option<Demotable>)]) {
        let mut state = self.state();
        if state.demote.is_empty() {
            return;
        }
        for (sighting, demotable) in built.iter_mut() {
            let Some(kind) = state.demote.get(&sighting.entry_id).copied() else {
                continue;
            };
            let (Some(article), Some(demotable)) = (&mut sighting.article, demotable.take()) else {
                continue;
            };
            give_feed_text(article, demotable.feed);
            // Counted as an article when it was built.
            let n = state.tally.kinds.entry(kind).or_default();
            *n = n.saturating_add(1);
            state.retries.push(RetryChange::Interstitial {
                entry_id: sighting.entry_id.clone(),
                kind: kind.as_str().to_owned(),
            });
            state.demoted.insert(sighting.entry_id.clone());
        }
    }

    /// The poll's tally, its retries, and its log line (with what to do)
    /// when any page was an interstitial; called once, at its end.
    pub fn finish(&self) -> Finished {
        let mut state = std::mem::take(&mut *self.state());
        // Stored as articles by an earlier part or poll: fetched again next
        // time, when the repetition is seen and the feed's text replaces them.
        let stored: Vec<RetryChange> = state
            .demote
            .iter()
            .filter(|(entry_id, _)| !state.demoted.contains(*entry_id))
            .map(|(entry_id, kind)| RetryChange::Recheck {
                entry_id: entry_id.clone(),
                kind: kind.as_str().to_owned(),
            })
            .collect();
        state.retries.extend(stored);
        let line = log_line(&state.tally, &state.evidence);
        (state.tally, state.retries, line)
    }
}

/// `article` with its feed's own content (`feed`: HTML, text, words) in
/// place of the page's, as for an unreachable page.
pub(super) fn give_feed_text(article: &mut ArticleRecord, feed: Option<(String, String, u32)>) {
    article.page = None;
    // The sketch was of the page's text: the feed's goes unjudged.
    article.near_dup = None;
    article.canonical_url = None;
    article.language = None;
    article.image = None;
    match feed {
        Some((html, text, words)) => {
            article.content_html = Some(html);
            article.content_text = Some(text);
            article.word_count = Some(words);
            article.content_source = Some(ContentSource::Feed);
        }
        None => {
            article.content_html = None;
            article.content_text = None;
            article.word_count = None;
            article.content_source = Some(ContentSource::None);
        }
    }
}

/// "3 of 4 article pages were a consent wall (consent words: …): the
/// feed's text was kept …; the feed's `cookies = "…"` … may let gleaner
/// through" (several kinds: "… were interstitials: 2 a consent wall (…), 1
/// not found (HTTP 404): …").
fn log_line(tally: &Tally, evidence: &BTreeMap<Kind, String>) -> Option<String> {
    let main = tally.main_kind()?;
    let why = |kind: &Kind| {
        evidence
            .get(kind)
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    };
    let (total, pages) = (tally.total(), tally.pages);
    let verb = if total == 1 { "was" } else { "were" };
    let what = match tally.kinds.len() {
        1 => format!(
            "{total} of {pages} article pages {verb} {}{}",
            main.described(),
            why(&main)
        ),
        _ => {
            let kinds: Vec<String> = tally
                .kinds
                .iter()
                .map(|(kind, n)| format!("{n} {}{}", kind.described(), why(kind)))
                .collect();
            format!(
                "{total} of {pages} article pages were interstitials: {}",
                kinds.join(", ")
            )
        }
    };
    Some(format!(
        "{what}: the feed's text was kept and the pages are tried again later; {}",
        main.advice()
    ))
}
