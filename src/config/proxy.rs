//! Which proxy a feed's requests go through: its own `proxy`, else
//! `[fetch] proxy`, else the environment as curl reads it (`HTTPS_PROXY`
//! for https URLs, `HTTP_PROXY` for http, `ALL_PROXY` for both, lower-case
//! spellings too, and `NO_PROXY` for hosts that go direct). `proxy = "none"`
//! goes direct whatever the environment says. Proxies are http, https,
//! socks5 or socks5h URLs; credentials in them are sent to the proxy and
//! never shown ([`Proxy::shown`]).

use std::fmt;

use url::Url;

/// The value of a `proxy` key (`Debug` shows no credentials: see [`Proxy`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxySetting {
    /// `"none"`: direct, whatever the environment says.
    Direct,
    Via(Proxy),
}

impl ProxySetting {
    /// Parses a `proxy` value; the error says what is accepted.
    pub fn parse(text: &str) -> Result<ProxySetting, String> {
        if text.trim().eq_ignore_ascii_case("none") {
            return Ok(ProxySetting::Direct);
        }
        Proxy::parse(text).map(ProxySetting::Via)
    }
}

/// A proxy URL known to be usable.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy(Url);

impl Proxy {
    fn parse(text: &str) -> Result<Proxy, String> {
        let problem = |why: String| {
            format!(
                "proxy {}: {why} (write e.g. \"http://proxy.example:3128\", \"socks5h://127.0.0.1:1080\" or \"none\")",
                shown_text(text)
            )
        };
        let url = Url::parse(text.trim()).map_err(|e| problem(e.to_string()))?;
        match url.scheme() {
            "http" | "https" | "socks5" | "socks5h" if url.host().is_some() => Ok(Proxy(url)),
            "http" | "https" | "socks5" | "socks5h" => Err(problem("no host".into())),
            other => Err(problem(format!("scheme {other:?} is not supported"))),
        }
    }

    /// The URL to connect to, credentials included.
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The proxy without its credentials, for `feeds` and messages.
    pub fn shown(&self) -> String {
        let mut url = self.0.clone();
        let _ = url.set_password(None);
        let _ = url.set_username("");
        url.to_string()
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({})", self.shown())
    }
}

/// Text that failed to parse as a proxy URL, shown without what looks like
/// credentials.
fn shown_text(text: &str) -> String {
    match text.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => text.to_owned(),
    }
}

/// The proxies of the environment, read once with the config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EnvProxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    /// `NO_PROXY` entries, lower-cased, leading dots dropped.
    no_proxy: Vec<String>,
}

impl EnvProxies {
    /// Reads `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY` (and their
    /// lower-case spellings, which win, as in curl). A value that is not a
    /// usable proxy URL is ignored with a warning.
    pub fn from_env() -> EnvProxies {
        EnvProxies::from_vars(|name| std::env::var(name).ok())
    }

    fn from_vars(var: impl Fn(&str) -> Option<String>) -> EnvProxies {
        let read = |name: &str| {
            let value = var(&name.to_ascii_lowercase())
                .or_else(|| var(name))
                .filter(|v| !v.trim().is_empty())?;
            Proxy::parse(&value)
                .map_err(|e| tracing::warn!("ignoring ${name}: {e}"))
                .ok()
        };
        let all = read("ALL_PROXY");
        EnvProxies {
            http: read("HTTP_PROXY").or_else(|| all.clone()),
            https: read("HTTPS_PROXY").or(all),
            no_proxy: var("no_proxy")
                .or_else(|| var("NO_PROXY"))
                .unwrap_or_default()
                .split(',')
                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        }
    }

    /// The proxy of `url` by these variables, `None` for direct.
    pub fn for_url(&self, url: &Url) -> Option<&Proxy> {
        let host = url
            .host_str()?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        let bypass = self.no_proxy.iter().any(|entry| {
            let entry = entry.rsplit_once(':').map_or(entry.as_str(), |(h, port)| {
                if port.chars().all(|c| c.is_ascii_digit()) {
                    h
                } else {
                    entry
                }
            });
            entry == "*" || host == entry || host.ends_with(&format!(".{entry}"))
        });
        if bypass {
            return None;
        }
        match url.scheme() {
            "https" => self.https.as_ref(),
            _ => self.http.as_ref(),
        }
    }
}

/// The proxy a request to `url` goes through: the feed's `proxy`, else
/// `[fetch] proxy`, else the environment's.
pub fn choose<'a>(
    feed: Option<&'a ProxySetting>,
    fetch: Option<&'a ProxySetting>,
    env: &'a EnvProxies,
    url: &Url,
) -> Option<&'a Proxy> {
    match feed.or(fetch) {
        Some(ProxySetting::Direct) => None,
        Some(ProxySetting::Via(proxy)) => Some(proxy),
        None => env.for_url(url),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> EnvProxies {
        EnvProxies::from_vars(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    fn shown(proxies: &EnvProxies, url: &str) -> Option<String> {
        proxies.for_url(&Url::parse(url).unwrap()).map(Proxy::shown)
    }

    #[test]
    fn environment_proxies_as_curl_reads_them() {
        let proxies = env(&[
            ("HTTPS_PROXY", "http://user:pw@secure.example:3128"),
            ("ALL_PROXY", "socks5h://all.example:1080"),
            ("NO_PROXY", "internal.example, .corp.example,10.0.0.1:8080"),
        ]);
        assert_eq!(
            shown(&proxies, "https://news.example/feed").as_deref(),
            Some("http://secure.example:3128/")
        );
        assert_eq!(
            shown(&proxies, "http://news.example/feed").as_deref(),
            Some("socks5h://all.example:1080")
        );
        for direct in [
            "https://internal.example/f",
            "https://a.corp.example/f",
            "http://10.0.0.1/f",
        ] {
            assert_eq!(shown(&proxies, direct), None, "{direct}");
        }
        // Lower case wins; a bad value is ignored.
        let proxies = env(&[
            ("http_proxy", "http://lower.example:1"),
            ("HTTP_PROXY", "ftp://x"),
        ]);
        assert_eq!(
            shown(&proxies, "http://a.example/").as_deref(),
            Some("http://lower.example:1/")
        );
        assert_eq!(
            shown(&env(&[("HTTP_PROXY", "ftp://x")]), "http://a.example/"),
            None
        );
    }

    #[test]
    fn settings_parse_and_hide_credentials() {
        assert_eq!(ProxySetting::parse("None"), Ok(ProxySetting::Direct));
        let Ok(ProxySetting::Via(proxy)) = ProxySetting::parse("socks5://u:secret@127.0.0.1:1080")
        else {
            panic!("a socks5 proxy parses");
        };
        assert_eq!(proxy.shown(), "socks5://127.0.0.1:1080");
        let error = ProxySetting::parse("ftp://u:secret@p.example").unwrap_err();
        assert!(error.contains("scheme \"ftp\""), "{error}");
        assert!(!error.contains("secret"), "{error}");
    }
}
