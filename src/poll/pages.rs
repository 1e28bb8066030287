//! An article's pages fetched and extracted: one download per normalized
//! URL in a pass ([`InFlight`](super::InFlight)), the further pages its
//! site's rules lead to, and the interstitial verdict on each.

use std::sync::Arc;

use url::Url;

use super::verdicts::{Scraped, ScrapedArticle};
use super::{MAX_ARTICLE_PAGES, PAGE_COMPRESSION, Pipeline};
use crate::article::verdict::{self, Verdict as PageVerdict};
use crate::article::{self, SiteRules};
use crate::config::FeedConfig;
use crate::fetch::FetchError;
use crate::identity::normalize_url;
use crate::near_dup::Sketch;
use crate::store::model::StoredPage;

impl Pipeline {
    /// Fetches and extracts one article page, with the page itself when it
    /// is to be kept; `None` (logged) when that fails.
    pub(super) async fn scrape(&self, feed: &FeedConfig, url: &Url) -> Scraped {
        // Feeds with their own extraction rules get their own extraction.
        let rules = feed.content_selector.is_some() || !feed.remove_selectors.is_empty();
        let key = normalize_url(url).map(|u| match rules {
            true => format!("{u} {}", feed.url),
            false => u,
        });
        let Some(key) = key else {
            return self.scrape_once(feed, url).await;
        };
        let cell = self
            .in_flight
            .lock()
            .entry(key.clone())
            .or_default()
            .clone();
        let scraped = cell
            .get_or_init(|| self.scrape_once(feed, url))
            .await
            .clone();
        // Later polls find the article in the store (dedup at insert): only
        // the pass's concurrent fetches of one page share the cell.
        let mut in_flight = self.in_flight.lock();
        if in_flight.get(&key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            in_flight.remove(&key);
        }
        scraped
    }

    /// [`Pipeline::scrape`] without the sharing: fetches and extracts. When
    /// the site's rules name a one-page view (`single_page_link`) it is read
    /// instead; when they name a next page (`next_page_link`), up to
    /// [`MAX_ARTICLE_PAGES`] pages on the same site
    /// ([`crate::fetch::site::same_site`]) are read and their
    /// bodies joined in order. Only the first page is kept.
    async fn scrape_once(&self, feed: &FeedConfig, url: &Url) -> Scraped {
        let _in_hand = self
            .pages_in_hand
            .clone()
            .acquire_owned()
            .await
            .expect("semaphores are never closed");
        let mut found = match self.scrape_page(feed, url, self.keep_html).await {
            Scraped::Article(found) => found,
            other => return other,
        };
        let same_site = |link: &Url| crate::fetch::site::same_site(url, link);
        if let Some(single) = found.article.links.single_page.clone().filter(same_site)
            && let Scraped::Article(whole) = self.scrape_page(feed, &single, false).await
        {
            found.article = whole.article;
            found.sketch = whole.sketch;
        }
        let mut seen = vec![url.clone()];
        while let Some(next) = found.article.links.next_page.take() {
            if seen.len() >= MAX_ARTICLE_PAGES || !same_site(&next) || seen.contains(&next) {
                break;
            }
            seen.push(next.clone());
            let page = match self.scrape_page(feed, &next, false).await {
                Scraped::Article(page) => page.article,
                Scraped::Interstitial(found) => {
                    tracing::info!(feed = %feed.name, url = %next, evidence = %found.evidence,
                        "a further page of the article is {}: the article ends before it",
                        found.kind.described());
                    break;
                }
                Scraped::Failed => break,
            };
            found.article.append_page(page);
            // The joined text is sketched when the article is built.
            found.sketch = None;
        }
        Scraped::Article(found)
    }

    /// Fetches and extracts one page (with the site's `http_header`s).
    async fn scrape_page(&self, feed: &FeedConfig, url: &Url, keep_html: bool) -> Scraped {
        let site = self
            .site_configs
            .as_ref()
            .zip(url.host_str())
            .and_then(|(configs, host)| configs.for_host(host));
        let headers = site.as_ref().map_or(&[][..], |s| &s.http_headers[..]);
        let page = match self
            .fetcher
            .fetch_site_page(url, &feed.url, &feed.request, headers)
            .await
        {
            Ok(page) => page,
            Err(error) => {
                if let FetchError::Status { response, .. } = &error
                    && let PageVerdict::Interstitial(found) = verdict::judge(response, None, None)
                {
                    tracing::debug!(feed = %feed.name, "{error}: {}", found.kind.described());
                    return Scraped::Interstitial(found);
                }
                let refused = matches!(error, FetchError::Refused { .. });
                if refused {
                    tracing::warn!(feed = %feed.name, "not fetching article: {error}");
                } else {
                    tracing::warn!(feed = %feed.name, "article page unavailable, using the feed's content: {error}");
                }
                return Scraped::Failed;
            }
        };
        let content_selector = feed.content_selector.clone();
        let remove_selectors = feed.remove_selectors.clone();
        let site_configs = self.site_configs.clone();
        let page_url = page.final_url.clone();
        let sketched = self.near_dup.is_some();
        let result = self
            .extraction
            .run(move || {
                let rules = SiteRules {
                    content_selector: content_selector.as_ref(),
                    remove_selectors: &remove_selectors,
                    site_configs: site_configs.as_deref(),
                };
                let extracted = article::extract(
                    &page.bytes,
                    page.content_type.as_deref(),
                    &page.final_url,
                    rules,
                );
                let judged = verdict::judge_bytes(
                    &page.response,
                    &page.bytes,
                    page.content_type.as_deref(),
                    &page.final_url,
                    extracted.as_ref(),
                );
                if let PageVerdict::Interstitial(found) = judged {
                    return Ok(Scraped::Interstitial(found));
                }
                let article = extracted?;
                // Here, not in a job of its own: on the thread that has the
                // text in its cache, without another hop through the queue.
                let sketch = sketched.then(|| Sketch::of_text(&article.content_text));
                // Compressed here, on the extraction thread, not on the reactor.
                let kept = keep_html
                    .then(|| zstd::encode_all(&page.bytes[..], PAGE_COMPRESSION).ok())
                    .flatten()
                    .map(|body_zstd| StoredPage {
                        url: page.final_url,
                        content_type: page.content_type,
                        body_zstd,
                    });
                Ok::<_, article::ArticleError>(Scraped::Article(Box::new(ScrapedArticle {
                    article,
                    kept,
                    sketch,
                })))
            })
            .await;
        match result {
            Ok(Ok(scraped)) => scraped,
            Ok(Err(error)) => {
                self.metrics.extraction_failed();
                tracing::info!(feed = %feed.name, "{error}; using the feed's content");
                Scraped::Failed
            }
            Err(crash) => {
                self.metrics.extraction_failed();
                tracing::error!(feed = %feed.name, url = %page_url, "the extractor failed: {crash}");
                Scraped::Failed
            }
        }
    }
}
