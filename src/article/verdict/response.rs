//! What an HTTP response says of the page it answers with, for
//! [`super::judge`]: read from its status and headers (and an error
//! answer's `<title>`).

use reqwest::header::{self, HeaderMap};
use url::Url;

use super::phrases::normalize;
use super::signs;

/// What the HTTP response says of the page, read from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseFacts {
    pub status: u16,
    /// `cf-mitigated` (Cloudflare answers `challenge` instead of the page).
    pub cf_mitigated: Option<String>,
    /// A bot manager's header or cookie, by name.
    pub bot_manager: Option<String>,
    /// `Refresh` back to the same URL, within this many seconds.
    pub refresh_to_self: Option<u32>,
    /// The `<title>` of an error answer's body (normalized), which the
    /// fetch reads only that far.
    pub title: Option<String>,
}

impl Default for ResponseFacts {
    /// A 200 with nothing special: a saved page (`gleaner extract`, `reextract`).
    fn default() -> Self {
        ResponseFacts {
            status: 200,
            cf_mitigated: None,
            bot_manager: None,
            refresh_to_self: None,
            title: None,
        }
    }
}

/// Headers a bot manager answers with instead of the page.
const BOT_HEADERS: &[&str] = &[
    "x-datadome",
    "x-datadome-cid",
    "x-amzn-waf-action",
    "x-sucuri-block",
    "x-px-block",
    "akamai-grn",
];

/// `Server` names of fronts that answer a bot check with a 503.
const BOT_SERVERS: &[&str] = &["cloudflare", "ddos-guard"];

/// Cookies bot managers set on the challenge they answer with.
const BOT_COOKIES: &[&str] = &[
    "datadome", "_abck", "ak_bmsc", "bm_sz", "_px3", "_pxhd", "cf_chl",
];

impl ResponseFacts {
    /// The facts of a response with `status` and `headers` for the page at `url`.
    pub fn of(status: u16, headers: &HeaderMap, url: &Url) -> ResponseFacts {
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().chars().take(64).collect::<String>())
        };
        let bot_header = BOT_HEADERS
            .iter()
            .find(|h| headers.contains_key(**h))
            .map(|h| (*h).to_owned());
        let bot_cookie = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|cookie| cookie.split('=').next())
            .map(|name| name.trim().to_ascii_lowercase())
            .find(|name| BOT_COOKIES.iter().any(|b| name.starts_with(b)))
            .map(|name| format!("cookie {name}"));
        // A bot check's front answers 503 in its own name.
        let server = text("server")
            .map(|v| v.to_ascii_lowercase())
            .filter(|v| status == 503 && BOT_SERVERS.iter().any(|b| v.starts_with(b)))
            .map(|v| format!("server: {v}"));
        ResponseFacts {
            status,
            cf_mitigated: text("cf-mitigated").map(|v| v.to_ascii_lowercase()),
            bot_manager: bot_header.or(bot_cookie).or(server),
            refresh_to_self: text("refresh").and_then(|r| signs::refresh_to(&r, url)),
            title: None,
        }
    }

    /// These facts with the `<title>` of the start of an error answer's
    /// body (a byte scan: no parse for an error page).
    pub fn with_body(mut self, start: &[u8]) -> ResponseFacts {
        let text = String::from_utf8_lossy(start);
        let lower = text.to_lowercase();
        self.title = lower
            .find("<title")
            .and_then(|at| Some(at + lower[at..].find('>')? + 1))
            .and_then(|from| Some(&lower[from..from + lower[from..].find("</title")?]))
            .map(|title| normalize(title).chars().take(200).collect());
        self
    }
}
