//! The one definition of "the same site", for every decision that compares
//! two URLs: which hops of a request get a feed's own headers
//! ([`FeedRequest`]: cookies, credentials, user agent) and a site rule's
//! `http_header`s, which article links and redirect hops are trusted like
//! the feed's own URL (the SSRF rule, [`super::guard`]), which feed a page
//! advertises that `add` trusts like the page, and which
//! `next_page_link`/`single_page_link` pages are read. A host alone is not a
//! site: two ports of one address are two services, and trust given to one
//! must not reach the other.
//!
//! "The same site" is the same scheme, host and port (default ports
//! applied), as for a browser's origin, except that an upgrade from `http`
//! to `https` on the default ports keeps it (most sites redirect so); a
//! downgrade to `http` does not, nor does another port of the same address.
//!
//! [`FeedRequest`]: crate::config::FeedRequest

use url::Url;

/// Whether `hop` is on the site of `own` (see the module's doc).
pub fn same_site(own: &Url, hop: &Url) -> bool {
    if own.host() != hop.host() {
        return false;
    }
    let same_port = own.port_or_known_default() == hop.port_or_known_default();
    match (own.scheme(), hop.scheme()) {
        (a, b) if a == b => same_port,
        ("http", "https") => own.port().is_none() && hop.port().is_none(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        same_site(&Url::parse(a).unwrap(), &Url::parse(b).unwrap())
    }

    #[test]
    fn host_port_and_scheme_decide() {
        assert!(same("https://a.example/feed", "https://A.example/post/1"));
        assert!(same("https://a.example/feed", "https://a.example:443/x"));
        assert!(same("http://a.example/feed", "https://a.example/feed"));
        assert!(!same("https://a.example/feed", "http://a.example/feed"));
        assert!(!same("https://a.example/feed", "https://b.example/feed"));
        assert!(!same("https://a.example/feed", "https://cdn.a.example/x"));
        assert!(!same("http://127.0.0.1:8080/f", "http://127.0.0.1:8081/f"));
        assert!(!same("http://a.example:8080/f", "https://a.example:8080/f"));
    }
}
