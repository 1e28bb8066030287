//! Why a fetch failed, as one [`FetchError`] whose message names the URL
//! (its credentials taken out) and, for a network failure, the innermost
//! cause.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use url::Url;

use super::MAX_REDIRECTS;
use crate::article::verdict::ResponseFacts;
use crate::ssrf::Refused;

/// Why a fetch failed. Messages name the URL.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}")]
    Status {
        url: Url,
        status: StatusCode,
        /// From `Retry-After` (seconds or HTTP date), when the server sent one.
        retry_after: Option<DateTime<Utc>>,
        /// What the headers say of the refusal (a bot check, a login), for
        /// `article::verdict`.
        response: Box<ResponseFacts>,
    },
    #[error("{url}: the body is larger than the limit of {limit} bytes (raise [fetch] {setting})")]
    TooLarge {
        url: Url,
        limit: u64,
        setting: &'static str,
    },
    #[error("{url}: no answer within {0:?} (raise [fetch] timeout_secs if the server is just slow)", .timeout)]
    Timeout { url: Url, timeout: Duration },
    #[error("{url}: more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects { url: Url },
    #[error("{url}: bad redirect: {reason}")]
    BadRedirect { url: Url, reason: String },
    /// The SSRF rule: `reason` names the host and the address.
    #[error("{url}: {reason}")]
    Refused { url: Url, reason: String },
    #[error("{url}: not an HTML page (Content-Type {content_type})")]
    NotHtml { url: Url, content_type: String },
    #[error("{url}: {message}")]
    Network { url: Url, message: String },
}

impl FetchError {
    /// The same error with the credentials of its URL masked
    /// ([`crate::redact`]): messages are logged, stored and printed.
    pub(super) fn without_credentials(mut self) -> FetchError {
        let (FetchError::Status { url, .. }
        | FetchError::TooLarge { url, .. }
        | FetchError::Timeout { url, .. }
        | FetchError::TooManyRedirects { url }
        | FetchError::BadRedirect { url, .. }
        | FetchError::Refused { url, .. }
        | FetchError::NotHtml { url, .. }
        | FetchError::Network { url, .. }) = &mut self;
        crate::redact::redact_in_place(url);
        self
    }

    pub(super) fn network(url: &Url, error: reqwest::Error, timeout: Duration) -> FetchError {
        if error.is_timeout() {
            return FetchError::Timeout {
                url: url.clone(),
                timeout,
            };
        }
        if error.is_redirect() {
            return FetchError::TooManyRedirects { url: url.clone() };
        }
        // reqwest's own message repeats the URL and hyper's wrappers say
        // little; the innermost cause says what really happened.
        let mut innermost = error.to_string();
        let mut dns = false;
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            if let Some(refused) = cause.downcast_ref::<Refused>() {
                return FetchError::Refused {
                    url: url.clone(),
                    reason: refused.to_string(),
                };
            }
            let text = cause.to_string();
            dns |= text.starts_with("dns error");
            innermost = text;
            source = cause.source();
        }
        let what = if dns {
            "DNS lookup failed"
        } else if error.is_connect() {
            "cannot connect"
        } else if error.is_body() || error.is_decode() {
            "the body was cut off or undecodable"
        } else {
            "request failed"
        };
        FetchError::Network {
            url: url.clone(),
            message: format!("{what}: {innermost}"),
        }
    }
}
