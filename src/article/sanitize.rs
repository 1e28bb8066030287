//! Sanitizing article HTML for export (SPEC, Security): no scripts, event
//! handlers, `javascript:` URLs, iframes or forms; links and images absolute.

use std::collections::HashSet;

use ammonia::{Builder, UrlRelative};
use url::Url;

/// Returns `html` cleaned by ammonia's allow-list, with relative URLs
/// resolved against `base` and links marked `rel="noopener noreferrer"`.
pub fn sanitize(html: &str, base: &Url) -> String {
    let mut builder = Builder::default();
    builder
        .url_relative(UrlRelative::RewriteWithBase(base.clone()))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .add_tags(["figure", "figcaption", "picture", "time"])
        .add_tag_attributes("img", ["src", "srcset", "alt", "title", "width", "height"])
        .add_tag_attributes("time", ["datetime"])
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    builder.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://site.example/news/story.html").unwrap()
    }

    #[test]
    fn dangerous_markup_is_removed() {
        let html = r#"<p onclick="x()">Hi<script>alert(1)</script></p>
            <a href="javascript:alert(1)">bad</a><iframe src="https://evil.example"></iframe>
            <form action="/post"><input name="q"></form><img src="x.png" onerror="y()">"#;
        let clean = sanitize(html, &base());
        for bad in [
            "onclick",
            "script",
            "javascript:",
            "iframe",
            "form",
            "input",
            "onerror",
        ] {
            assert!(!clean.contains(bad), "{bad} left in {clean}");
        }
        assert!(clean.contains("<p>Hi</p>"));
    }

    #[test]
    fn links_and_images_become_absolute() {
        let clean = sanitize(
            r#"<a href="../other">o</a><img src="/img/a.png" alt="a">"#,
            &base(),
        );
        assert!(
            clean.contains(r#"href="https://site.example/other""#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"src="https://site.example/img/a.png""#),
            "{clean}"
        );
    }
}
