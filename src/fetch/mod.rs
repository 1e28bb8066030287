//! The only module that touches the network.
//!
//! Every request goes through a [`Fetcher`], which enforces the limits of
//! `[fetch]`: a global and a per-host cap on requests in flight, a timeout per
//! attempt, a body cap applied while streaming the *decoded* body (so a
//! compression bomb is cut at the cap), at most [`MAX_REDIRECTS`] redirects,
//! and the SSRF rule for article links ([`guard`]). A feed's own headers
//! (cookies, credentials, user agent: [`FeedRequest`]) go only to hops on its
//! own site ([`site`]).

mod error;
pub mod guard;
mod headers;
mod hosts;
pub mod shared;
pub mod site;
pub mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Client, Response, StatusCode, redirect};
use tokio::sync::Semaphore;
use url::Url;

use crate::article::verdict::ResponseFacts;
use crate::config::proxy::{self, Proxy};
use crate::config::{FeedRequest, FetchConfig};
use guard::PublicOnlyResolver;
use shared::HostLedger;

pub use error::FetchError;
pub use headers::{fresh_for, retry_after};
use hosts::{HostLimits, Permits};

/// SPEC: at most 10 redirects.
pub const MAX_REDIRECTS: usize = 10;

/// A feed response.
#[derive(Debug)]
pub enum FeedResponse {
    /// 304: the validators still match. `fresh_for` as in [`Body`].
    NotModified {
        fresh_for: Option<Duration>,
    },
    Fetched(Box<Body>),
}

/// A fetched body with the headers the later stages need.
#[derive(Debug)]
pub struct Body {
    /// After redirects: the base for relative links.
    pub final_url: Url,
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Set when every redirect on the way was permanent (301/308): the URL
    /// the operator should put in the config.
    pub moved_permanently: Option<Url>,
    /// How long the server says the response stays fresh
    /// (`Cache-Control: max-age`, else `Expires`).
    pub fresh_for: Option<Duration>,
    /// What the status and headers say of the page, for `article::verdict`.
    pub response: ResponseFacts,
}

/// Validators remembered from the last response of a feed.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The site whose headers a request carries, and those headers.
#[derive(Clone, Copy)]
struct OwnSite<'a> {
    url: &'a Url,
    request: &'a FeedRequest,
}

/// The HTTP client of the whole process.
pub struct Fetcher {
    /// For operator-configured feed URLs (and article links on the feed's site).
    trusted: Client,
    /// For article links on other sites: only public addresses, no automatic redirects.
    untrusted: Client,
    config: FetchConfig,
    in_flight: Arc<Semaphore>,
    per_host: Mutex<HashMap<String, Arc<HostLimits>>>,
    /// One client per proxy in use (by its URL), built when first needed.
    proxied: Mutex<HashMap<String, Client>>,
    /// Where the per-host limits are agreed with other instances, if any.
    ledger: Option<Arc<dyn HostLedger>>,
}

impl Fetcher {
    /// Builds the clients. Fails only if the TLS backend cannot start.
    pub fn new(config: &FetchConfig) -> Result<Fetcher, reqwest::Error> {
        let base = || base_client(config);
        let trusted = base().redirect(redirect::Policy::none()).build()?;
        let untrusted = if config.allow_private_networks {
            trusted.clone()
        } else {
            base()
                .redirect(redirect::Policy::none())
                .dns_resolver(Arc::new(PublicOnlyResolver))
                .build()?
        };
        Ok(Fetcher {
            trusted,
            untrusted,
            config: config.clone(),
            in_flight: Arc::new(Semaphore::new(config.concurrency)),
            per_host: Mutex::new(HashMap::new()),
            proxied: Mutex::new(HashMap::new()),
            ledger: None,
        })
    }

    /// Holds the per-host limits for all the processes that share
    /// `ledger`, not for this one alone.
    pub fn with_ledger(mut self, ledger: Option<Arc<dyn HostLedger>>) -> Fetcher {
        self.ledger = ledger;
        self
    }

    /// The client that sends through `proxy`.
    fn proxied_client(&self, proxy: &Proxy, url: &Url) -> Result<Client, FetchError> {
        let mut clients = self.proxied.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(proxy.url().as_str()) {
            return Ok(client.clone());
        }
        let failed = |e: reqwest::Error| FetchError::Network {
            url: url.clone(),
            message: format!("cannot use proxy {}: {e}", proxy.shown()),
        };
        let client = base_client(&self.config)
            .redirect(redirect::Policy::none())
            .proxy(reqwest::Proxy::all(proxy.url().as_str()).map_err(failed)?)
            .build()
            .map_err(failed)?;
        clients.insert(proxy.url().as_str().to_owned(), client.clone());
        Ok(client)
    }

    /// The proxy a request of a feed with `request` to `url` goes through.
    pub fn proxy_for<'a>(&'a self, request: &'a FeedRequest, url: &Url) -> Option<&'a Proxy> {
        proxy::choose(request.proxy(), None, &self.config.env_proxies, url)
    }

    /// Fetches a feed, conditionally when `validators` are known. Its URL is
    /// the operator's and trusted, but only on its own site (scheme, host
    /// and port: [`site::same_site`]): a redirect hop to any other site,
    /// another port of the same address included, must be public (unless
    /// `allow_private_networks`), or a feed host could send the daemon to
    /// 127.0.0.1, another service of its own machine or a cloud's metadata
    /// address.
    /// `request` is the feed's own headers, sent to hops on its site only.
    pub async fn fetch_feed(
        &self,
        url: &Url,
        validators: &Validators,
        request: &FeedRequest,
    ) -> Result<FeedResponse, FetchError> {
        self.feed_request(url, validators, url, request).await
    }

    /// What `[fetch]` sends to a site when no feed says more (`headers`,
    /// `cookies`), for fetches that belong to no configured feed yet.
    pub fn default_request(&self) -> &FeedRequest {
        &self.config.request
    }

    /// Fetches a feed that a page on `linked_from` advertised (`gleaner
    /// add` following `<link rel="alternate">`): the link comes from the
    /// page, not from the operator, so only hops on `linked_from`'s site are
    /// trusted.
    pub async fn fetch_linked_feed(
        &self,
        url: &Url,
        linked_from: &Url,
    ) -> Result<FeedResponse, FetchError> {
        let request = &self.config.request;
        self.feed_request(url, &Validators::default(), linked_from, request)
            .await
    }

    async fn feed_request(
        &self,
        url: &Url,
        validators: &Validators,
        trusted: &Url,
        request: &FeedRequest,
    ) -> Result<FeedResponse, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(
                "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            ),
        );
        if let Some(etag) = validators.etag.as_deref().and_then(header_value) {
            headers.insert(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = validators.last_modified.as_deref().and_then(header_value) {
            headers.insert(header::IF_MODIFIED_SINCE, lm);
        }
        let own = OwnSite {
            url: trusted,
            request,
        };
        let (response, _permits, moved) = self
            .get(url, headers, &[], |hop| site::same_site(trusted, hop), own)
            .await
            .map_err(FetchError::without_credentials)?;
        if response.status() == StatusCode::NOT_MODIFIED {
            let fresh_for = fresh_for(response.headers(), Utc::now());
            return Ok(FeedResponse::NotModified { fresh_for });
        }
        let mut body = self
            .read_body(response, self.config.max_feed_bytes, "max_feed_bytes")
            .await
            .map_err(FetchError::without_credentials)?;
        body.moved_permanently = moved;
        Ok(FeedResponse::Fetched(Box::new(body)))
    }

    /// Fetches an article page linked from the feed at `feed_url`. Hops on the
    /// feed's own site are trusted; any other site must be public (unless
    /// `allow_private_networks`). Non-HTML answers are refused before their
    /// body is read. The feed's `request` headers go to its own site only.
    pub async fn fetch_page(
        &self,
        url: &Url,
        feed_url: &Url,
        request: &FeedRequest,
    ) -> Result<Body, FetchError> {
        self.fetch_site_page(url, feed_url, request, &[]).await
    }

    /// [`Fetcher::fetch_page`] with a site rule's `http_header`s, sent only on
    /// hops to `url`'s own site (a redirect elsewhere does not get a site's
    /// cookie). The names and values were checked when the rule was read; one
    /// that is not a header after all is left out. The feed's own headers
    /// win over a site rule's.
    pub async fn fetch_site_page(
        &self,
        url: &Url,
        feed_url: &Url,
        request: &FeedRequest,
        site_headers: &[(String, String)],
    ) -> Result<Body, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html, application/xhtml+xml;q=0.9, */*;q=0.1"),
        );
        let own = OwnSite {
            url: feed_url,
            request,
        };
        let (response, _permits, _) = self
            .get(
                url,
                headers,
                site_headers,
                |hop| site::same_site(feed_url, hop),
                own,
            )
            .await
            .map_err(FetchError::without_credentials)?;
        if let Some(content_type) = content_type(&response) {
            let mime = content_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let html = mime.is_empty()
                || mime == "text/html"
                || mime == "application/xhtml+xml"
                || mime == "text/plain"
                || mime == "application/octet-stream";
            if !html {
                return Err(FetchError::NotHtml {
                    url: response.url().clone(),
                    content_type,
                });
            }
        }
        self.read_body(response, self.config.max_article_bytes, "max_article_bytes")
            .await
            .map_err(FetchError::without_credentials)
    }

    /// One GET with redirects followed by hand (so each hop's site is checked,
    /// and only hops on `own`'s site get its headers).
    /// The returned permits (global and per-host) are to be held until the
    /// body has been read.
    async fn get(
        &self,
        url: &Url,
        headers: HeaderMap,
        site_headers: &[(String, String)],
        is_trusted: impl Fn(&Url) -> bool,
        own: OwnSite<'_>,
    ) -> Result<(Response, Permits, Option<Url>), FetchError> {
        let mut current = url.clone();
        let (mut hops, mut all_permanent) = (0, true);
        for _ in 0..=MAX_REDIRECTS {
            let trusted = is_trusted(&current) || self.config.allow_private_networks;
            if !trusted {
                guard::check_literal(&current).map_err(|refused| FetchError::Refused {
                    url: current.clone(),
                    reason: refused.to_string(),
                })?;
            }
            let via = self.proxy_for(own.request, &current);
            let client = match via {
                Some(proxy) => {
                    // The proxy resolves the name: the rule is applied here first.
                    if !trusted {
                        guard::check_resolved(&current).await.map_err(|refused| {
                            FetchError::Refused {
                                url: current.clone(),
                                reason: refused.to_string(),
                            }
                        })?;
                    }
                    self.proxied_client(proxy, &current)?
                }
                None if trusted => self.trusted.clone(),
                None => self.untrusted.clone(),
            };
            let mut hop_headers = if site::same_site(url, &current) {
                with_site_headers(&headers, site_headers)
            } else {
                headers.clone()
            };
            if site::same_site(own.url, &current) {
                for (name, value) in own.request.headers() {
                    hop_headers.insert(name, value.clone());
                }
            }
            let permits = self.permits(&current).await;
            let mut response = client
                .get(current.clone())
                .headers(hop_headers)
                .send()
                .await
                .map_err(|e| FetchError::network(&current, e, self.config.timeout))?;
            let status = response.status();
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                hops += 1;
                all_permanent &= matches!(
                    status,
                    StatusCode::MOVED_PERMANENTLY | StatusCode::PERMANENT_REDIRECT
                );
                current = redirect_target(&current, &response)?;
                continue;
            }
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                let moved = (hops > 0 && all_permanent).then(|| current.clone());
                return Ok((response, permits, moved));
            }
            let facts = ResponseFacts::of(status.as_u16(), response.headers(), &current);
            let retry_after = retry_after(response.headers(), Utc::now());
            // What the refusal says of itself ("Just a moment…"): its start only.
            let start = body_start(&mut response).await;
            return Err(FetchError::Status {
                response: Box::new(facts.with_body(&start)),
                url: current,
                status,
                retry_after,
            });
        }
        Err(FetchError::TooManyRedirects { url: url.clone() })
    }

    /// Reads the (decoded) body, refusing it as soon as it passes `limit`.
    async fn read_body(
        &self,
        mut response: Response,
        limit: u64,
        setting: &'static str,
    ) -> Result<Body, FetchError> {
        let final_url = response.url().clone();
        let too_large = || FetchError::TooLarge {
            url: final_url.clone(),
            limit,
            setting,
        };
        let declared = response.content_length().unwrap_or(0);
        // reqwest reports no length for a body it decompresses: this is the
        // declared size of an identity body, and the cap below is what
        // bounds a compressed one.
        if declared > limit {
            return Err(too_large());
        }
        let headers = response.headers();
        let text_header = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = text_header(header::CONTENT_TYPE);
        let etag = text_header(header::ETAG);
        let last_modified = text_header(header::LAST_MODIFIED);
        let fresh_for = fresh_for(headers, Utc::now());
        let facts = ResponseFacts::of(response.status().as_u16(), headers, &final_url);

        let head = crate::capped::response_head(
            &mut response,
            usize::try_from(limit).unwrap_or(usize::MAX),
        )
        .await
        .map_err(|e| FetchError::network(&final_url, e, self.config.timeout))?;
        if !head.complete {
            return Err(too_large());
        }
        let bytes = head.bytes;
        Ok(Body {
            final_url,
            bytes,
            content_type,
            etag,
            last_modified,
            moved_permanently: None,
            fresh_for,
            response: facts,
        })
    }
}

/// At most this much of an error answer's body is read, for its title.
const ERROR_BODY_START: usize = 16 << 10;

/// The first [`ERROR_BODY_START`] bytes of `response`'s body (what came
/// within a second; nothing on an error).
async fn body_start(response: &mut Response) -> Vec<u8> {
    let mut start = Vec::new();
    let read = crate::capped::read_head_into(response, ERROR_BODY_START, &mut start);
    let _ = tokio::time::timeout(Duration::from_secs(1), read).await;
    start
}

/// The settings every client shares; proxies are chosen by the fetcher,
/// never by reqwest from the environment.
fn base_client(config: &FetchConfig) -> reqwest::ClientBuilder {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ACCEPT_LANGUAGE,
        HeaderValue::from_static("en;q=0.9, *;q=0.5"),
    );
    Client::builder()
        .user_agent(config.user_agent.clone())
        .default_headers(headers)
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(30))
        .no_proxy()
}

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

fn content_type(response: &Response) -> Option<String> {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn redirect_target(from: &Url, response: &Response) -> Result<Url, FetchError> {
    let bad = |reason: &str| FetchError::BadRedirect {
        url: from.clone(),
        reason: reason.to_owned(),
    };
    let location = response
        .headers()
        .get(header::LOCATION)
        .ok_or_else(|| bad("no Location header"))?
        .to_str()
        .map_err(|_| bad("Location is not text"))?;
    let target = from
        .join(location)
        .map_err(|e| bad(&format!("Location {location:?}: {e}")))?;
    match target.scheme() {
        "http" | "https" => Ok(target),
        other => Err(bad(&format!("to a {other}: URL"))),
    }
}

/// `headers` with a site rule's own added (replacing a default such as
/// the user agent).
fn with_site_headers(headers: &HeaderMap, site_headers: &[(String, String)]) -> HeaderMap {
    let mut headers = headers.clone();
    for (name, value) in site_headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    headers
}
