//! Credentials in URLs are never shown: `https://user:pass@host/feed` is
//! fetched as written (reqwest turns the userinfo into `Authorization`), but
//! every place that prints, logs or exports a feed URL shows
//! `https://***@host/feed` instead.
//!
//! The whole userinfo goes, not just the password: a token is often the
//! user name alone (`https://TOKEN@host/`).

use url::Url;

/// What replaces the userinfo of a URL.
pub const MASK: &str = "***";

/// `url` without its credentials: the userinfo, when there is one, becomes
/// [`MASK`] (so that a reader still sees that the feed logs in).
pub fn url(url: &Url) -> Url {
    let mut shown = url.clone();
    redact_in_place(&mut shown);
    shown
}

/// [`url`] in place.
pub fn redact_in_place(url: &mut Url) {
    if url.username().is_empty() && url.password().is_none() {
        return;
    }
    // Both calls only fail for URLs that cannot have a userinfo at all
    // (`mailto:`, no host), which have none to hide.
    let _ = url.set_password(None);
    let _ = url.set_username(MASK);
}

/// [`url`] for a URL kept as text (the database stores feed URLs as the
/// config wrote them); text that is not a URL is returned as it is.
pub fn url_text(text: &str) -> String {
    match Url::parse(text) {
        Ok(parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            url(&parsed).to_string()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_masked_and_the_rest_kept() {
        let shown = url_text("https://reader:s3cret@feeds.example:8443/private.xml?x=1");
        assert_eq!(shown, "https://***@feeds.example:8443/private.xml?x=1");
        assert_eq!(
            url_text("https://TOKEN@feeds.example/f"),
            "https://***@feeds.example/f"
        );
        assert_eq!(
            url_text("https://feeds.example/f"),
            "https://feeds.example/f"
        );
        assert_eq!(url_text("not a url"), "not a url");
    }
}
