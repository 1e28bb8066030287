//! POSTs of `[[deliver]]` webhook batches.
//!
//! A webhook URL obeys the SSRF rule like an article link on another host:
//! an IP literal is checked before the request, a name is resolved by the
//! public-only resolver, and redirects are not followed (a 3xx is a failed
//! delivery), unless `[fetch] allow_private_networks` is set.

use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, redirect};
use url::Url;

use super::guard::{self, PublicOnlyResolver};
use crate::config::FetchConfig;

/// How much of a refusing answer's body is read; the rest is not.
const ERROR_BODY_READ: usize = 4 * 1024;
/// How much of it the error shows.
const ERROR_BODY_SHOWN: usize = 200;

/// Why a batch was not taken.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Refused(#[from] guard::Refused),
    #[error("POST {url} answered {status}{}", body_suffix(.body))]
    Status {
        url: String,
        status: reqwest::StatusCode,
        body: String,
    },
    /// `reason`: the innermost cause (a refused address, a refused
    /// connection), not reqwest's "error sending request".
    #[error("POST {url} failed: {reason}")]
    Network { url: String, reason: String },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// The client of every webhook of the process.
pub struct WebhookClient {
    client: Client,
    allow_private_networks: bool,
}

impl WebhookClient {
    /// Fails only if the TLS backend cannot start.
    pub fn new(config: &FetchConfig) -> Result<WebhookClient, reqwest::Error> {
        let mut builder = Client::builder()
            .user_agent(config.user_agent.clone())
            .redirect(redirect::Policy::none())
            .no_proxy();
        if !config.allow_private_networks {
            builder = builder.dns_resolver(Arc::new(PublicOnlyResolver));
        }
        Ok(WebhookClient {
            client: builder.build()?,
            allow_private_networks: config.allow_private_networks,
        })
    }

    /// POSTs `body` (JSON) to `url` with `headers`; `Ok` only on a 2xx
    /// within `timeout`.
    pub async fn post(
        &self,
        url: &Url,
        body: Vec<u8>,
        headers: &[(&'static str, String)],
        timeout: Duration,
    ) -> Result<(), WebhookError> {
        let shown = crate::redact::url(url).to_string();
        if !self.allow_private_networks {
            guard::check_literal(url).map_err(|mut refused| {
                refused.what = format!("webhook {shown}");
                refused
            })?;
        }
        let mut request = self
            .client
            .post(url.clone())
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let network = |source: reqwest::Error| {
            let error = super::FetchError::network(url, source, timeout).without_credentials();
            let reason = match error {
                super::FetchError::Refused { reason, .. }
                | super::FetchError::Network {
                    message: reason, ..
                } => reason,
                other => other.to_string(),
            };
            WebhookError::Network {
                url: shown.clone(),
                reason,
            }
        };
        let mut response = request.send().await.map_err(network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        // A little of the answer helps the operator; more is noise, and a
        // body that never ends must not be read: the start of it, then the
        // response is dropped (and its connection closed).
        let head = crate::capped::response_head(&mut response, ERROR_BODY_READ)
            .await
            .unwrap_or_default();
        drop(response);
        let mut body = String::from_utf8_lossy(&head.bytes).into_owned();
        if body.len() > ERROR_BODY_SHOWN {
            let mut end = ERROR_BODY_SHOWN;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            body.truncate(end);
        }
        Err(WebhookError::Status {
            url: shown,
            status,
            body: body.trim().to_owned(),
        })
    }
}
