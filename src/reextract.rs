//! `gleaner reextract`: runs today's extractor and site rules over the pages
//! kept by `[storage] keep_html`, without fetching anything.
//!
//! Pages are read in batches, extracted on every core, and each batch's
//! results are stored in one transaction; an interrupted run leaves every
//! article either as it was or re-extracted.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use url::Url;

use crate::article::site_config::SiteConfigs;
use crate::article::{self, SiteRules, verdict};
use crate::config::Config;
use crate::poll::ARTICLE_TO_FEED_MIN_RATIO;
use crate::store::handle::panic_message;
use crate::store::model::{KeptPage, Reextraction};
use crate::store::{Store, StoreError};

/// Pages read, extracted and stored together.
const BATCH: usize = 64;

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub pages: usize,
    /// Articles whose stored body changed.
    pub changed: usize,
    /// Pages the extractor found nothing in (the stored body is kept).
    pub failed: usize,
    /// Articles that keep the feed's own text, longer than the new extraction.
    pub kept_feed_text: usize,
    /// Pages whose extraction panicked (their stored body is kept).
    pub crashed: usize,
    /// Articles purged or given another page (by `gc` or a poll) while
    /// their page was being re-extracted: left as they are now.
    pub changed_meanwhile: usize,
    /// Pages judged interstitials (`article::verdict`: a wall, a challenge,
    /// a soft 404): their text is no article, the stored body is kept.
    pub interstitials: usize,
}

/// Re-extracts the kept pages of articles from `feed_urls` (all when
/// empty) with the feeds' rules and `site_configs`, calling `progress` with
/// the number of pages done so far. An article split over several pages
/// keeps only its first page, so it is re-extracted from that one alone.
pub fn reextract(
    store: &mut Store,
    config: &Config,
    site_configs: Option<&SiteConfigs>,
    feed_urls: &[String],
    mut progress: impl FnMut(usize),
) -> Result<Summary, StoreError> {
    let mut summary = Summary::default();
    let threads = thread::available_parallelism().map_or(2, |n| n.get());
    let mut after = 0;
    loop {
        let batch = store.kept_pages_after(after, BATCH, feed_urls)?;
        let Some(last) = batch.last() else {
            return Ok(summary);
        };
        after = last.seq;
        let chunk = batch.len().div_ceil(threads);
        let results: Vec<(&KeptPage, Extraction)> = thread::scope(|scope| {
            let workers: Vec<_> = batch
                .chunks(chunk)
                .map(|pages| {
                    let worker = scope.spawn(move || {
                        pages
                            .iter()
                            .map(|page| (page, extract_guarded(page, config, site_configs)))
                            .collect::<Vec<_>>()
                    });
                    (pages, worker)
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|(pages, worker)| {
                    // Each page is guarded, so this is only a panic outside
                    // the extractor; its pages are still counted, as crashed.
                    worker.join().unwrap_or_else(|panic| {
                        tracing::error!(
                            pages = pages.len(),
                            "a re-extraction worker crashed: {}",
                            panic_message(panic.as_ref())
                        );
                        pages.iter().map(|p| (p, Extraction::Crashed)).collect()
                    })
                })
                .collect()
        });
        let mut new = Vec::new();
        for (page, extraction) in results {
            summary.pages += 1;
            let article = match extraction {
                Extraction::Done(article) => article,
                Extraction::Nothing => {
                    summary.failed += 1;
                    continue;
                }
                Extraction::Crashed => {
                    summary.crashed += 1;
                    continue;
                }
                Extraction::Interstitial => {
                    summary.interstitials += 1;
                    continue;
                }
            };
            let feed_words = page.word_count.unwrap_or(0) as f64;
            if page.content_source == "feed"
                && (article.word_count as f64) < feed_words * ARTICLE_TO_FEED_MIN_RATIO
            {
                summary.kept_feed_text += 1;
                continue;
            }
            // The new text's near-duplicate sketch replaces the old one's.
            let near_dup = config
                .dedup
                .near_duplicates
                .then(|| crate::near_dup::Incoming {
                    sketch: crate::near_dup::Sketch::of_text(&article.content_text),
                    similarity: config.dedup.similarity,
                });
            new.push(Reextraction {
                page: page.clone(),
                content_html: article.content_html,
                content_text: article.content_text,
                word_count: article.word_count,
                near_dup,
            });
        }
        let applied = store.apply_reextractions(&new)?;
        summary.changed += applied.changed;
        summary.changed_meanwhile += applied.changed_meanwhile;
        progress(summary.pages);
    }
}

/// What became of one page.
enum Extraction {
    Done(Box<article::Article>),
    /// The extractor found no article (logged).
    Nothing,
    /// The extractor panicked (logged): counted, never silently dropped.
    Crashed,
    /// The page is an interstitial, not an article (logged).
    Interstitial,
}

/// [`extract`] behind `catch_unwind`, so that a page that panics the
/// extractor costs that page, not its whole chunk.
fn extract_guarded(
    page: &KeptPage,
    config: &Config,
    site_configs: Option<&SiteConfigs>,
) -> Extraction {
    match catch_unwind(AssertUnwindSafe(|| extract(page, config, site_configs))) {
        Ok(Some(Ok(article))) => Extraction::Done(Box::new(article)),
        Ok(Some(Err(()))) => Extraction::Interstitial,
        Ok(None) => Extraction::Nothing,
        Err(panic) => {
            tracing::error!(url = %page.url, "the extractor crashed on the kept page: {}",
                panic_message(panic.as_ref()));
            Extraction::Crashed
        }
    }
}

/// One page through the extractor, with the rules of the first configured
/// feed the article came from; `None` (logged) when it yields nothing,
/// `Err` (logged) when it is an interstitial (`article::verdict`, on the
/// kept page as a 200 with nothing special: its headers are not kept).
fn extract(
    page: &KeptPage,
    config: &Config,
    site_configs: Option<&SiteConfigs>,
) -> Option<Result<article::Article, ()>> {
    let url = Url::parse(&page.url).ok()?;
    let mut bytes = Vec::new();
    if let Err(error) =
        zstd::Decoder::new(&page.body_zstd[..]).and_then(|mut d| d.read_to_end(&mut bytes))
    {
        tracing::warn!(url = %url, "the kept page cannot be decompressed: {error}");
        return None;
    }
    let feed = config
        .feeds
        .iter()
        .find(|f| page.feed_urls.iter().any(|u| u == f.url.as_str()));
    let no_selectors = Vec::new();
    let rules = SiteRules {
        content_selector: feed.and_then(|f| f.content_selector.as_ref()),
        remove_selectors: feed.map_or(&no_selectors, |f| &f.remove_selectors),
        site_configs,
    };
    let extracted = article::extract(&bytes, page.content_type.as_deref(), &url, rules);
    let judged = verdict::judge_bytes(
        &verdict::ResponseFacts::default(),
        &bytes,
        page.content_type.as_deref(),
        &url,
        extracted.as_ref(),
    );
    if let Some(found) = judged.interstitial() {
        tracing::info!(url = %url, evidence = %found.evidence,
            "the kept page is {}; keeping the stored body", found.kind.described());
        return Some(Err(()));
    }
    match extracted {
        Ok(article) => Some(Ok(article)),
        Err(error) => {
            tracing::info!("{error}; keeping the stored body");
            None
        }
    }
}
