//! A poll's entries into sightings: which are new, changed or known
//! elsewhere (the feed's filter first), and the articles built for them,
//! from their pages or from the feed's own content. The pages themselves
//! are fetched in [`pages`](super::pages).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use futures_util::stream::{self};
use url::Url;

use super::verdicts::{self, Demotable, PollVerdicts, Scraped, ScrapedArticle};
use super::{ARTICLE_TO_FEED_MIN_RATIO, ARTICLES_IN_PARALLEL, ARTICLES_PER_TRANSACTION, Pipeline};
use crate::article::sanitize::sanitize;
use crate::article::text::html_to_text;
use crate::article::verdict::{self, Interstitial};
use crate::config::FeedConfig;
use crate::feed::Entry;
use crate::filter::Verdict;
use crate::store::model::{ArticleRecord, ContentSource, PollSummary, Sighting};
use crate::store::model::{Claim, Known};

impl Pipeline {
    /// Which entries are new, changed or known elsewhere; builds the articles
    /// of new and changed ones. Every [`ARTICLES_PER_TRANSACTION`] built
    /// articles are stored at once (without the feed's state), so that a
    /// feed's articles are not all held until its end; returns the sightings
    /// left for the poll's own transaction, what the earlier ones stored and
    /// how many entries the feed's filter rules dropped.
    pub(super) async fn sightings(
        &self,
        feed: &FeedConfig,
        claim: &Claim,
        polled_at: DateTime<Utc>,
        entries: Vec<Entry>,
        every_pending: bool,
    ) -> Result<(Vec<Sighting>, PollSummary, u32, verdicts::Finished), crate::store::StoreError>
    {
        let (entries, mut filtered) = self.filter_entries(feed, entries).await;
        let feed_url = feed.url.as_str().to_owned();
        let lookups: Vec<(String, Option<Url>)> = entries
            .iter()
            .map(|(e, _)| (e.id.clone(), e.url.clone()))
            .collect();
        // Pages that were an interstitial and are due again (all of them
        // for `gleaner poll`).
        let due_at = (!every_pending).then_some(polled_at);
        let (known, due) = self
            .store
            .call(move |s| {
                let known = lookups
                    .iter()
                    .map(|(id, url)| s.known(&feed_url, id, url.as_ref()))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((known, s.due_page_retries(&feed_url, due_at)?))
            })
            .await?;
        let due: HashMap<String, bool> = due.into_iter().collect();
        let poll_verdicts = PollVerdicts::default();
        let verdicts = &poll_verdicts;

        let work = entries
            .into_iter()
            .zip(known)
            .filter_map(|((entry, verdict), known)| {
                let entry_hash = entry.fingerprint();
                let build = match known {
                    Known::Entry {
                        entry_hash: ref old,
                        ..
                    } if *old == entry_hash && due.contains_key(&entry.id) => Build::Retry {
                        stored_page: due.get(&entry.id).copied().unwrap_or(false),
                    },
                    Known::Entry {
                        entry_hash: ref old,
                        ..
                    } if *old == entry_hash => return None,
                    // Changed in its feed, same page: the stored page is not
                    // fetched again, only the feed's fields are taken.
                    Known::Entry {
                        link_changed: false,
                        ..
                    } => Build::FromFeed,
                    Known::Entry { .. } | Known::New => Build::Full,
                    Known::Url => Build::Nothing,
                };
                Some((entry, entry_hash, build, verdict))
            });
        let sightings = stream::iter(work)
            .map(|(entry, entry_hash, build, verdict)| async move {
                let built = match build {
                    Build::Full | Build::Retry { .. } => {
                        let retry = matches!(build, Build::Retry { .. });
                        Some(
                            self.build_article(feed, &entry, true, verdicts, retry)
                                .await,
                        )
                    }
                    Build::FromFeed => Some(
                        self.build_article(feed, &entry, false, verdicts, false)
                            .await,
                    ),
                    Build::Nothing => None,
                };
                let (article, demotable) = match built {
                    // A page tried again that is still no article: the
                    // stored entry stays as it is, unless what is stored is
                    // that page's (a repeated body found after it was stored).
                    Some((article, _))
                        if build == (Build::Retry { stored_page: false })
                            && article.content_source != Some(ContentSource::Article) =>
                    {
                        (None, None)
                    }
                    Some((article, demotable)) => (Some(article), demotable),
                    None => (None, None),
                };
                // The `content` rules once more, on the article's own text.
                if let Some(article) = &article
                    && !feed
                        .filter
                        .on_full_text(verdict, article.content_text.as_deref())
                {
                    return None;
                }
                let sighting = Sighting {
                    entry_id: entry.id,
                    url: entry.url,
                    entry_hash,
                    article,
                    feed_only: build == Build::FromFeed,
                    tags: feed.tags.clone(),
                };
                Some((sighting, demotable))
            })
            .buffered(ARTICLES_IN_PARALLEL);
        let mut sightings = std::pin::pin!(sightings);
        let (mut pending, mut built, mut stored) = (Vec::new(), 0, PollSummary::default());
        while let Some(sighting) = sightings.next().await {
            let Some(sighting) = sighting else {
                filtered += 1;
                continue;
            };
            built += usize::from(sighting.0.article.is_some());
            pending.push(sighting);
            if built == ARTICLES_PER_TRANSACTION {
                verdicts.demote(&mut pending);
                let chunk: Vec<Sighting> = pending.drain(..).map(|(s, _)| s).collect();
                let (feed_url, feed_name) = (feed.url.as_str().to_owned(), feed.name.clone());
                let claim = claim.clone();
                stored += self
                    .write(feed, move |s| {
                        s.record_sightings(&feed_url, &feed_name, polled_at, &chunk, &claim)
                    })
                    .await?;
                built = 0;
            }
        }
        verdicts.demote(&mut pending);
        let pending = pending.into_iter().map(|(s, _)| s).collect();
        Ok((pending, stored, filtered, verdicts.finish()))
    }

    /// The entries the feed's filter rules do not drop before any page is
    /// fetched, each with its verdict, and how many were dropped. The rules
    /// run on an extraction thread (`content` rules read the entries' HTML
    /// as text); if that crashes, every entry is kept and the crash logged.
    async fn filter_entries(
        &self,
        feed: &FeedConfig,
        entries: Vec<Entry>,
    ) -> (Vec<(Entry, Verdict)>, u32) {
        if feed.filter.is_empty() {
            return (entries.into_iter().map(|e| (e, Verdict::Keep)).collect(), 0);
        }
        let (filter, tags) = (feed.filter.clone(), feed.tags.clone());
        let entries = Arc::new(entries);
        let judged = entries.clone();
        let verdicts = self
            .extraction
            .run(move || filter.entries(&judged, &tags))
            .await
            .unwrap_or_else(|crash| {
                tracing::error!(feed = %feed.name, "the filter rules crashed, keeping every entry: {crash}");
                vec![Verdict::Keep; entries.len()]
            });
        let entries = Arc::try_unwrap(entries).unwrap_or_else(|shared| (*shared).clone());
        let mut dropped = 0;
        let kept = entries
            .into_iter()
            .zip(verdicts)
            .filter(|(entry, verdict)| {
                let drop = *verdict == Verdict::Drop;
                if drop {
                    tracing::debug!(feed = %feed.name, entry = %entry.id, "dropped by the feed's filter rules");
                    dropped += 1;
                }
                !drop
            })
            .collect();
        (kept, dropped)
    }

    /// The article for a new (or changed) entry: the scraped page when
    /// `fetch_page`, full text is on and it works, else the feed's own content.
    async fn build_article(
        &self,
        feed: &FeedConfig,
        entry: &Entry,
        fetch_page: bool,
        verdicts: &PollVerdicts,
        retried: bool,
    ) -> (ArticleRecord, Option<Demotable>) {
        let base = entry.url.clone().unwrap_or_else(|| feed.url.clone());
        let FeedContent {
            summary,
            html: feed_html,
            text: feed_text,
        } = self.feed_content(feed, entry, base).await;
        let feed_words = feed_text
            .as_deref()
            .map_or(0, |t| t.split_whitespace().count());

        // A page several entries link to (anchors) is none of their
        // articles; a link to the entry's own media file is no page at all
        // (a podcast episode keeps its description).
        let is_media = entry
            .enclosures
            .iter()
            .any(|e| entry.url.as_ref().is_some_and(|u| u.as_str() == e.url));
        let scraped = match (
            &entry.url,
            fetch_page && feed.full_text && !entry.shares_page && !is_media,
        ) {
            (Some(url), true) => self.scrape(feed, url).await,
            _ => Scraped::Failed,
        };
        let (mut scraped, mut interstitial) = match scraped {
            Scraped::Article(found) => (Some(*found), None),
            Scraped::Interstitial(found) => (None, Some(found)),
            Scraped::Failed => (None, None),
        };
        // One body served for many URLs of the host is no article either.
        if let (Some(ScrapedArticle { article, .. }), Some(url)) = (&scraped, &entry.url) {
            let owner = (feed.url.as_str().to_owned(), entry.id.clone());
            let seen = self.repeats.see(url, &article.content_text, Some(owner));
            if seen.is_interstitial() {
                let kind = verdict::kind_of_words(&article.content_text);
                verdicts.repeated(feed.url.as_str(), kind, seen.others);
                interstitial = Some(Interstitial {
                    kind,
                    evidence: format!(
                        "the same text on {} URLs of {}",
                        seen.urls,
                        url.host_str().unwrap_or("the site")
                    ),
                });
                scraped = None;
            }
        }
        if scraped.is_some() || interstitial.is_some() {
            verdicts.page(&entry.id, interstitial.as_ref(), retried);
        } else if retried {
            verdicts.retry_failed(&entry.id);
        }
        if let Some(found) = &interstitial {
            self.metrics.interstitial(found.kind);
            // The poll's one line per feed says it to the operator.
            tracing::debug!(feed = %feed.name, url = ?entry.url.as_ref().map(Url::as_str),
                evidence = %found.evidence, "the page is {}; using the feed's content", found.kind.described());
        }
        let scraped = scraped.filter(|ScrapedArticle { article: a, .. }| {
            let strong = a.word_count as f64 >= feed_words as f64 * ARTICLE_TO_FEED_MIN_RATIO;
            if !strong {
                tracing::info!(feed = %feed.name, url = ?entry.url, extracted = a.word_count, feed_words,
                    "the extracted page is shorter than the feed's content; using the feed's");
            }
            strong
        });

        let mut record = ArticleRecord {
            title: entry.title.clone(),
            url: entry.url.clone(),
            author: entry.author.clone(),
            published: entry.published,
            updated: entry.updated,
            summary,
            categories: entry.categories.clone(),
            enclosures: entry.enclosures.clone(),
            ..ArticleRecord::default()
        };
        let mut demotable = None;
        let mut sketch = None;
        match scraped {
            Some(ScrapedArticle {
                article,
                kept: page,
                sketch: page_sketch,
            }) => {
                sketch = page_sketch;
                // Kept until the poll stores it, should a later page show
                // this body to be an interstitial's.
                demotable = Some(Demotable {
                    feed: feed_html
                        .zip(feed_text)
                        .map(|(html, text)| (html, text, feed_words as u32)),
                });
                record.page = page;
                // A page's title and author come from outside like a feed's.
                let line = |t: String| crate::controls::strip_owned(t).trim().to_owned();
                record.title = record.title.or(article.title.map(line));
                record.author = record.author.or(article.author.map(line));
                record.published = record.published.or(article.published);
                record.canonical_url = article.canonical_url;
                record.language = article.language;
                record.image = article.image;
                record.word_count = Some(article.word_count);
                record.content_html = Some(article.content_html);
                record.content_text = Some(article.content_text);
                record.content_source = Some(ContentSource::Article);
            }
            None => match (feed_html, feed_text) {
                (Some(html), Some(text)) => {
                    record.word_count = Some(feed_words as u32);
                    record.content_html = Some(html);
                    record.content_text = Some(text);
                    record.content_source = Some(ContentSource::Feed);
                }
                _ => record.content_source = Some(ContentSource::None),
            },
        }
        record.near_dup = self.sketch(feed, &record, sketch).await;
        (record, demotable)
    }

    /// The near-duplicate sketch of the article's text: `made` when the
    /// page's extraction job made it already, else made on an extraction
    /// thread now (`None` when `[dedup] near_duplicates` is off, the
    /// article has no text, or the sketch crashed: it is then stored
    /// without near-duplicate merging).
    async fn sketch(
        &self,
        feed: &FeedConfig,
        record: &ArticleRecord,
        made: Option<crate::near_dup::Sketch>,
    ) -> Option<crate::near_dup::Incoming> {
        let similarity = self.near_dup?;
        if let Some(sketch) = made {
            return Some(crate::near_dup::Incoming { sketch, similarity });
        }
        let text = record.content_text.clone()?;
        let work = move || crate::near_dup::Sketch::of_text(&text);
        match self.extraction.run(work).await {
            Ok(sketch) => Some(crate::near_dup::Incoming { sketch, similarity }),
            Err(crash) => {
                tracing::error!(feed = %feed.name, url = ?record.url.as_ref().map(Url::as_str),
                    "sketching the article's text for near-duplicates crashed: {crash}");
                None
            }
        }
    }

    /// The entry's own summary and content, sanitized and as text, worked
    /// out on an extraction thread: ammonia and the text conversion are CPU
    /// work that on the reactor would stall every feed of the pass.
    async fn feed_content(&self, feed: &FeedConfig, entry: &Entry, base: Url) -> FeedContent {
        let (summary_html, content_html) = (entry.summary_html.clone(), entry.content_html.clone());
        if summary_html.is_none() && content_html.is_none() {
            return FeedContent::default();
        }
        let work = move || FeedContent::of(summary_html.as_deref(), content_html.as_deref(), &base);
        match self.extraction.run(work).await {
            Ok(content) => content,
            Err(crash) => {
                tracing::error!(feed = %feed.name, entry = %entry.id,
                    "sanitizing the feed's content crashed: {crash}");
                FeedContent::default()
            }
        }
    }
}

/// What an entry itself gives as its article's body.
#[derive(Debug, Default)]
struct FeedContent {
    /// The summary as plain text.
    summary: Option<String>,
    /// The content (else the summary), sanitized.
    html: Option<String>,
    /// `html` as plain text.
    text: Option<String>,
}

impl FeedContent {
    /// Sanitizes an entry's summary and content, links resolved against `base`.
    fn of(summary_html: Option<&str>, content_html: Option<&str>, base: &Url) -> FeedContent {
        let summary = summary_html
            .map(|html| html_to_text(&sanitize(html, base)))
            .filter(|t| !t.is_empty());
        let html = content_html
            .or(summary_html)
            .map(|html| sanitize(html, base));
        let text = html.as_deref().map(html_to_text).filter(|t| !t.is_empty());
        FeedContent {
            summary,
            html,
            text,
        }
    }
}

/// What a sighting needs built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// A new entry, or one whose link changed: fetch its page.
    Full,
    /// A changed entry with the same link: the feed's fields only.
    FromFeed,
    /// An unchanged entry whose page was an interstitial and is due to be
    /// tried again: its article replaces the stored feed text in place.
    /// `stored_page`: what is stored is the page's text (a repeated body
    /// found after it was stored), which the feed's replaces if it is still
    /// no article.
    Retry { stored_page: bool },
    /// Known under its URL from another feed: only a source is added.
    Nothing,
}
