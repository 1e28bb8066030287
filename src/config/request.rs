//! What a feed sends with its requests: `headers`, `cookies`, `user_agent`,
//! basic auth (`username` with `password` or `password_file`) and
//! `headers_file`, with `[fetch] headers` and `[fetch] cookies` as defaults.
//!
//! All of it becomes one [`FeedRequest`] per feed at load time: header names
//! and values are checked here, files are read here (relative paths from the
//! config's folder), so a fetch only copies ready headers. Every value is
//! marked sensitive and `Debug` shows names only: these are the secrets of
//! a feed behind a login or a consent wall, never to be printed.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use base64::Engine;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use toml::Spanned;

use super::proxy::ProxySetting;
use super::{Positions, Problem};

/// The headers one feed adds to its requests to its own site (see
/// `fetch::Fetcher`: never to another host a redirect or a link leads to).
#[derive(Clone, Default, PartialEq)]
pub struct FeedRequest {
    headers: HeaderMap,
    /// The feed's `proxy`, else `[fetch] proxy`; `None`: the environment's.
    proxy: Option<ProxySetting>,
}

impl FeedRequest {
    /// The headers, every value marked sensitive.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The configured proxy (see [`super::proxy::choose`]).
    pub fn proxy(&self) -> Option<&ProxySetting> {
        self.proxy.as_ref()
    }
}

impl fmt::Debug for FeedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Names only: the values are credentials.
        let proxy = match &self.proxy {
            Some(ProxySetting::Via(proxy)) => Some(proxy.shown()),
            Some(ProxySetting::Direct) => Some("none".to_owned()),
            None => None,
        };
        f.debug_struct("FeedRequest")
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("proxy", &proxy)
            .finish()
    }
}

/// `headers = { Name = "value" }`.
pub(super) type RawHeaders = BTreeMap<Spanned<String>, Spanned<String>>;

/// `cookies = "a=1; b=2"` or `cookies = { a = "1", b = "2" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawCookies {
    Line(String),
    Table(BTreeMap<String, String>),
}

/// The request keys of one `[[feeds]]` entry (or, for `headers` and
/// `cookies`, of `[fetch]`), as written.
#[derive(Debug, Default)]
pub(super) struct RawRequest {
    pub user_agent: Option<Spanned<String>>,
    pub headers: Option<RawHeaders>,
    pub cookies: Option<Spanned<RawCookies>>,
    pub username: Option<Spanned<String>>,
    pub password: Option<Spanned<String>>,
    pub password_file: Option<Spanned<String>>,
    pub headers_file: Option<Spanned<String>>,
    pub proxy: Option<Spanned<String>>,
}

/// Headers that describe the message or the connection, not the feed:
/// set by the HTTP client, never by the config.
const RESERVED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
    "if-none-match",
    "if-modified-since",
];

/// Checks the keys; `defaults` are `[fetch]`'s (already checked, its
/// problems already reported), `label` names the table in messages
/// (`[fetch]`, or the feed), `folder` is where relative files are.
pub(super) fn check(
    raw: &RawRequest,
    defaults: &FeedRequest,
    label: &str,
    folder: &Path,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> FeedRequest {
    let mut check = Check {
        at,
        problems,
        headers: HeaderMap::new(),
    };
    if let Some(table) = &raw.headers {
        for (name, value) in table {
            let place = name.span().start;
            if let Some(name) = check.header_name(name.get_ref(), label, place) {
                check.insert(name, value.get_ref(), label, value.span().start);
            }
        }
    }
    if let Some(file) = &raw.headers_file {
        check.headers_file(folder, file, label);
    }
    if let Some(agent) = &raw.user_agent {
        check.insert(
            header::USER_AGENT,
            agent.get_ref(),
            label,
            agent.span().start,
        );
    }
    if let Some(cookies) = &raw.cookies {
        check.cookies(cookies, defaults, label);
    }
    check.basic_auth(raw, folder, label);

    let proxy = raw.proxy.as_ref().and_then(|proxy| {
        ProxySetting::parse(proxy.get_ref())
            .map_err(|message| check.problem(proxy.span().start, format!("{label}: {message}")))
            .ok()
    });

    // The defaults fill in what the feed does not set itself.
    let mut headers = check.headers;
    for (name, value) in defaults.headers() {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    FeedRequest {
        headers,
        proxy: proxy.or_else(|| defaults.proxy.clone()),
    }
}

/// Why `value` cannot be sent as a header's value, in `what` (`[fetch]`, a
/// feed): the one check of every configured header value, so a value that
/// passes `check-config` never fails a request being built.
pub(super) fn header_value(
    value: &str,
    what: &str,
    name: &HeaderName,
) -> Result<HeaderValue, String> {
    HeaderValue::from_str(value).map_err(|_| header_value_problem(what, name))
}

fn header_value_problem(what: &str, name: &HeaderName) -> String {
    format!("{what}: the value of header {name} must be visible ASCII text without line breaks")
}

/// The headers being built, and where their problems go.
struct Check<'a, 'b> {
    at: &'a Positions<'b>,
    problems: &'a mut Vec<Problem>,
    headers: HeaderMap,
}

impl Check<'_, '_> {
    fn problem(&mut self, place: usize, message: String) {
        self.problems.push(self.at.problem(place, message));
    }

    /// Adds a header (marked sensitive) whose name is known to be valid.
    fn insert(&mut self, name: HeaderName, value: &str, what: &str, place: usize) {
        match header_value(value, what, &name) {
            Ok(mut value) => {
                value.set_sensitive(true);
                self.headers.insert(name, value);
            }
            Err(problem) => self.problem(place, problem),
        }
    }

    /// `name` as a header name a feed may set.
    fn header_name(&mut self, name: &str, what: &str, place: usize) -> Option<HeaderName> {
        let Ok(parsed) = HeaderName::from_bytes(name.as_bytes()) else {
            self.problem(
                place,
                format!("{what}: {name:?} is not a valid header name"),
            );
            return None;
        };
        if RESERVED.contains(&parsed.as_str()) {
            self.problem(
                place,
                format!("{what}: header {name} is set by gleaner itself and cannot be configured"),
            );
            return None;
        }
        Some(parsed)
    }

    /// The `Name: value` lines of a `headers_file` (blank lines and `#`
    /// comments skipped).
    fn headers_file(&mut self, folder: &Path, file: &Spanned<String>, label: &str) {
        let place = file.span().start;
        let text = match read_secret_file(folder, file.get_ref()) {
            Ok(text) => text,
            Err(message) => return self.problem(place, format!("{label}: headers_file {message}")),
        };
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let what = format!(
                "{label}: headers_file {:?} line {}",
                file.get_ref(),
                number + 1
            );
            let Some((name, value)) = line.split_once(':') else {
                self.problem(place, format!("{what}: write `Name: value`"));
                continue;
            };
            if let Some(name) = self.header_name(name.trim(), &what, place) {
                self.insert(name, value.trim(), &what, place);
            }
        }
    }

    /// `cookies` as one Cookie header, after the `[fetch]` cookies the feed
    /// does not replace.
    fn cookies(&mut self, cookies: &Spanned<RawCookies>, defaults: &FeedRequest, label: &str) {
        let place = cookies.span().start;
        let mut pairs = match cookie_pairs(cookies.get_ref()) {
            Ok(pairs) => pairs,
            Err(message) => return self.problem(place, format!("{label}: cookies: {message}")),
        };
        if self.headers.contains_key(header::COOKIE) {
            self.problem(
                place,
                format!(
                    "{label}: give cookies either in `cookies` or as a Cookie header, not both"
                ),
            );
            return;
        }
        let inherited: Vec<(String, String)> = default_cookies(defaults)
            .filter(|(name, _)| !pairs.iter().any(|(own, _)| own == name))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        pairs.splice(0..0, inherited);
        let line = pairs
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.insert(header::COOKIE, &line, label, place);
    }

    /// `username` with `password` or `password_file` as a basic
    /// Authorization header.
    fn basic_auth(&mut self, raw: &RawRequest, folder: &Path, label: &str) {
        let Some(username) = &raw.username else {
            if let Some(orphan) = raw.password.as_ref().or(raw.password_file.as_ref()) {
                self.problem(
                    orphan.span().start,
                    format!("{label}: a password needs a `username`"),
                );
            }
            return;
        };
        let password = match (&raw.password, &raw.password_file) {
            (Some(_), Some(file)) => {
                return self.problem(
                    file.span().start,
                    format!("{label}: give `password` or `password_file`, not both"),
                );
            }
            (Some(password), None) => password.get_ref().clone(),
            (None, Some(file)) => match read_secret_file(folder, file.get_ref()) {
                // The file's last line break is not part of the password.
                Ok(text) => text.trim_end_matches(['\n', '\r']).to_owned(),
                Err(message) => {
                    return self.problem(
                        file.span().start,
                        format!("{label}: password_file {message}"),
                    );
                }
            },
            (None, None) => String::new(),
        };
        let place = username.span().start;
        if username.get_ref().contains(':') {
            self.problem(
                place,
                format!("{label}: a username cannot contain `:` (basic auth)"),
            );
        } else if self.headers.contains_key(header::AUTHORIZATION) {
            self.problem(
                place,
                format!("{label}: give `username` or an Authorization header, not both"),
            );
        } else {
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{password}", username.get_ref()));
            self.insert(
                header::AUTHORIZATION,
                &format!("Basic {token}"),
                label,
                place,
            );
        }
    }
}

/// The cookies of a `cookies` value as name/value pairs, in order.
fn cookie_pairs(cookies: &RawCookies) -> Result<Vec<(String, String)>, String> {
    let pairs: Vec<(String, String)> = match cookies {
        RawCookies::Table(table) => table.iter().map(|(n, v)| (n.clone(), v.clone())).collect(),
        RawCookies::Line(line) => line
            .split(';')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| match part.split_once('=') {
                Some((n, v)) => Ok((n.trim().to_owned(), v.trim().to_owned())),
                None => Err(format!("{part:?} is not `name=value`")),
            })
            .collect::<Result<_, _>>()?,
    };
    for (name, value) in &pairs {
        let bad_name = name.is_empty()
            || name
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || "=;,\"".contains(c));
        if bad_name {
            return Err(format!("{name:?} is not a valid cookie name"));
        }
        if value.chars().any(|c| c.is_control() || c == ';') {
            return Err(format!(
                "the value of cookie {name} has `;` or a control character"
            ));
        }
    }
    Ok(pairs)
}

/// The `[fetch]` cookies, as pairs.
fn default_cookies(defaults: &FeedRequest) -> impl Iterator<Item = (&str, &str)> {
    defaults
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .into_iter()
        .flat_map(|line| line.split("; "))
        .filter_map(|pair| pair.split_once('='))
}

/// The text of a file holding secrets; the message says which file and why
/// it could not be read.
fn read_secret_file(folder: &Path, path: &str) -> Result<String, String> {
    let full = folder.join(path);
    std::fs::read_to_string(&full).map_err(|e| format!("{}: cannot read it: {e}", full.display()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    #[test]
    fn debug_of_a_config_shows_header_names_but_no_value() {
        let config = Config::from_str_at(
            "[fetch]\ncookies = { consent = \"yes-secret\" }\n\
             [[feeds]]\nurl = \"https://a.example/f\"\nusername = \"me\"\npassword = \"pw-secret\"\n\
             headers = { \"X-Key\" = \"key-secret\" }\n",
            Path::new("/etc/gleaner/g.toml"),
        )
        .unwrap();
        let request = &config.feeds[0].request;
        assert_eq!(request.headers().len(), 3);
        assert!(request.headers().values().all(|v| v.is_sensitive()));
        let shown = format!("{config:?}");
        assert!(
            shown.contains("authorization") && shown.contains("x-key"),
            "{shown}"
        );
        assert!(!shown.contains("secret"), "{shown}");
    }
}
