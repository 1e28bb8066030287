//! Identity keys for deduplication, and the stable public article id.
//!
//! An article is known by every key it was ever seen under (SPEC, Deduplication):
//! its feed entry, its normalized URL, its page's canonical URL (same namespace
//! as URLs, so a canonical link that names another article's URL matches it),
//! and a hash of its normalized text. These are pure functions: the store looks
//! the keys up inside the transaction that inserts the article.

use sha2::{Digest, Sha256};
use url::Url;

/// Texts shorter than this many words are never deduplicated by content:
/// short notices ("Photo of the day") are legitimately identical.
pub const MIN_WORDS_FOR_TEXT_KEY: usize = 50;

/// Query parameters that only track the reader and never select content.
const TRACKING_PARAMETERS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "gclsrc",
    "msclkid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wickedid",
    "rb_clickid",
    "s_cid",
    "ref_src",
    "__twitter_impression",
];
const TRACKING_PREFIXES: &[&str] = &["utm_", "pk_", "mtm_"];

fn is_tracking_parameter(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    TRACKING_PARAMETERS.contains(&lower.as_str())
        || TRACKING_PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// Normalizes a URL for comparison: scheme and host lower-cased (the `url`
/// crate already does this), default port and fragment dropped, tracking
/// parameters removed (the order of the others is kept: it can matter), and an
/// empty query dropped. Only http(s) URLs are normalized; others give `None`.
pub fn normalize_url(url: &Url) -> Option<String> {
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    let mut url = url.clone();
    url.set_fragment(None);
    // `Url` already omits a port equal to the scheme's default.
    remove_tracking(&mut url);
    Some(url.into())
}

/// A link as exported: the same, without its tracking parameters (the
/// others, and their order, kept). Text that is not a URL is kept as it is.
pub fn without_tracking_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(mut url) if url.query().is_some() => {
            remove_tracking(&mut url);
            url.into()
        }
        _ => text.to_owned(),
    }
}

/// Drops the [`TRACKING_PARAMETERS`] (and prefixes) of `url`'s query, and
/// the query when nothing is left of it.
fn remove_tracking(url: &mut Url) {
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking_parameter(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
}

/// The key of a feed entry: rule 1, same feed and same entry id.
pub fn entry_key(feed_url: &str, entry_id: &str) -> String {
    format!("entry:{feed_url}\n{entry_id}")
}

/// URLs longer than this are known by their hash: PostgreSQL cannot index a
/// key of more than about 2,700 bytes, so one entry with a longer link made
/// its whole feed unstorable there. Browsers and servers rarely take URLs
/// past 2,000 bytes, so the keys of ordinary links keep their readable form.
const MAX_URL_KEY_BYTES: usize = 2_000;

/// The key of a normalized URL (an article link or a canonical link): rules
/// 2 and 3. A URL past [`MAX_URL_KEY_BYTES`] is keyed by its SHA-256, in a
/// namespace of its own so that no readable key can equal it.
pub fn url_key(normalized_url: &str) -> String {
    if normalized_url.len() > MAX_URL_KEY_BYTES {
        return format!(
            "url-sha256:{}",
            hex(&Sha256::digest(normalized_url.as_bytes()))
        );
    }
    format!("url:{normalized_url}")
}

/// The key of an article text: rule 4, for texts of at least
/// [`MIN_WORDS_FOR_TEXT_KEY`] words, after whitespace normalization.
pub fn text_key(text: &str) -> Option<String> {
    let mut words = text.split_whitespace().peekable();
    words.peek()?;
    let mut hasher = Sha256::new();
    let mut count = 0;
    for (i, word) in words.enumerate() {
        if i > 0 {
            hasher.update(b" ");
        }
        hasher.update(word.as_bytes());
        count += 1;
    }
    (count >= MIN_WORDS_FOR_TEXT_KEY).then(|| format!("text:{}", hex(&hasher.finalize()[..16])))
}

/// The public id of an article: derived from the first key it was stored under,
/// so it is the same in every export and on every machine.
pub fn article_id(first_key: &str) -> String {
    hex(&Sha256::digest(first_key.as_bytes())[..12])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        normalize_url(&Url::parse(s).unwrap()).unwrap()
    }

    #[test]
    fn scheme_host_default_port_and_fragment() {
        assert_eq!(
            norm("HTTPS://News.Example.COM:443/Path/A?x=1#comments"),
            "https://news.example.com/Path/A?x=1"
        );
        assert_eq!(norm("http://example.com:80/"), "http://example.com/");
        assert_eq!(
            norm("http://example.com:8080/a"),
            "http://example.com:8080/a"
        );
    }

    #[test]
    fn tracking_parameters_are_removed_and_others_kept_in_order() {
        assert_eq!(
            norm("https://e.com/a?utm_source=rss&id=7&UTM_Medium=x&fbclid=abc&gclid=1&p=2"),
            "https://e.com/a?id=7&p=2"
        );
        assert_eq!(norm("https://e.com/a?utm_source=rss"), "https://e.com/a");
        assert_eq!(norm("https://e.com/a?"), "https://e.com/a");
    }

    #[test]
    fn path_case_and_trailing_slash_are_significant() {
        assert_ne!(norm("https://e.com/A"), norm("https://e.com/a"));
        assert_ne!(norm("https://e.com/a/"), norm("https://e.com/a"));
    }

    #[test]
    fn non_http_urls_are_not_normalized() {
        assert!(normalize_url(&Url::parse("mailto:a@b.c").unwrap()).is_none());
        assert!(normalize_url(&Url::parse("ftp://e.com/x").unwrap()).is_none());
    }

    #[test]
    fn text_key_ignores_whitespace_and_needs_fifty_words() {
        let words: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
        let a = words.join(" ");
        let b = format!("  {}\n\n", words.join("\n \t"));
        assert_eq!(text_key(&a), text_key(&b));
        assert!(text_key(&a).is_some());
        assert!(text_key(&words[..49].join(" ")).is_none());
        assert!(text_key("").is_none());
        assert_ne!(text_key(&a), text_key(&a.replace("w7", "w8")));
    }

    #[test]
    fn overlong_urls_are_keyed_by_their_hash_and_stay_distinct() {
        let long = |c: char| format!("https://example.org/{}", c.to_string().repeat(3_000));
        let (a, b) = (url_key(&long('a')), url_key(&long('b')));
        assert!(a.starts_with("url-sha256:") && a.len() < 100, "{a}");
        assert_ne!(a, b);
        assert_eq!(a, url_key(&long('a')));
        assert_eq!(
            url_key("https://example.org/x"),
            "url:https://example.org/x"
        );
    }

    #[test]
    fn article_id_is_stable() {
        assert_eq!(
            article_id("url:https://e.com/a"),
            article_id("url:https://e.com/a")
        );
        assert_eq!(article_id("url:https://e.com/a").len(), 24);
        assert_ne!(
            article_id("url:https://e.com/a"),
            article_id("url:https://e.com/b")
        );
    }
}
