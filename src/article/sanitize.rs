//! Sanitizing article HTML for export (SPEC, Security): no scripts, event
//! handlers, `javascript:` URLs, iframes or forms; links and images absolute.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use regex::Regex;
use url::Url;

/// Returns `html` cleaned by ammonia's allow-list, with relative URLs
/// resolved against `base`, links marked `rel="noopener noreferrer"`, and
/// lazy-loaded images given their real `src`. Markup past
/// [`super::limits::MAX_DEPTH`] levels is cut off there.
pub fn sanitize(html: &str, base: &Url) -> String {
    let html = reveal_images(html);
    let mut builder = Builder::default();
    // Only a web address can resolve a relative link; against anything
    // else (`gleaner extract` without --url) relative links are dropped.
    let relative = match base.scheme() {
        "http" | "https" => UrlRelative::RewriteWithBase(base.clone()),
        _ => UrlRelative::Deny,
    };
    builder
        .url_relative(relative)
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .add_tags(["figure", "figcaption", "picture", "time"])
        .add_tag_attributes("img", ["src", "alt", "title", "width", "height"])
        .add_tag_attributes("time", ["datetime"])
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true);
    builder
        .clean(super::limits::within_depth(&html))
        .to_string()
}

/// Lazy-loading markup into plain images: `<noscript>` is unwrapped (its
/// content would otherwise be kept as escaped text), and an `<img>` whose
/// `src` is missing or a `data:` placeholder takes its address from
/// `data-src`, `data-lazy-src`, `data-original` or the first `srcset` /
/// `data-srcset` candidate. `srcset` itself is not kept: its URLs would stay
/// relative.
fn reveal_images(html: &str) -> Cow<'_, str> {
    static NOSCRIPT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)</?noscript\b[^>]*>").expect("a valid pattern"));
    static IMG: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)<img\b[^>]*>").expect("a valid pattern"));
    static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)"#)
            .expect("a valid pattern")
    });
    let unwrapped = NOSCRIPT.replace_all(html, "");
    if !IMG.is_match(&unwrapped) {
        return unwrapped;
    }
    let rewritten = IMG.replace_all(&unwrapped, |tag: &regex::Captures<'_>| {
        let attributes: Vec<(String, String)> = ATTRIBUTE
            .captures_iter(&tag[0])
            .map(|a| {
                let value = a[2].trim_matches(['"', '\'']);
                (a[1].to_ascii_lowercase(), value.to_owned())
            })
            .collect();
        let get = |name: &str| {
            attributes
                .iter()
                .find(|(n, v)| n == name && !v.trim().is_empty())
                .map(|(_, v)| v.trim())
        };
        let first_candidate = |srcset: &str| {
            srcset
                .split(',')
                .next()?
                .split_whitespace()
                .next()
                .map(str::to_owned)
        };
        let real_src = get("src")
            .filter(|s| !s.starts_with("data:"))
            .map(str::to_owned);
        let src = real_src
            .or_else(|| {
                ["data-src", "data-lazy-src", "data-original"]
                    .iter()
                    .find_map(|n| get(n).map(str::to_owned))
            })
            .or_else(|| {
                ["srcset", "data-srcset"]
                    .iter()
                    .find_map(|n| get(n).and_then(first_candidate))
            });
        let Some(src) = src else {
            return String::new();
        };
        let mut out = format!("<img src=\"{}\"", escape_attribute(&src));
        for name in ["alt", "title", "width", "height"] {
            if let Some(value) = get(name) {
                out.push_str(&format!(" {name}=\"{}\"", escape_attribute(value)));
            }
        }
        out.push('>');
        out
    });
    Cow::Owned(rewritten.into_owned())
}

fn escape_attribute(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
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

    #[test]
    fn lazy_images_get_their_real_address() {
        let html = r#"<img src="data:image/gif;base64,R0l" data-src="/real.png" alt="A">
            <img data-lazy-src='/lazy.png'><img srcset="/small.png 1x, /big.png 2x">
            <img src="/plain.png" srcset="/p2.png 2x"><img src="data:image/gif;base64,x">"#;
        let clean = sanitize(html, &base());
        assert!(
            clean.contains(r#"<img src="https://site.example/real.png" alt="A">"#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"<img src="https://site.example/lazy.png">"#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"<img src="https://site.example/small.png">"#),
            "{clean}"
        );
        assert!(
            clean.contains(r#"<img src="https://site.example/plain.png">"#),
            "{clean}"
        );
        assert!(
            !clean.contains("srcset") && !clean.contains("data:"),
            "{clean}"
        );
    }

    #[test]
    fn noscript_images_are_images_not_text() {
        let clean = sanitize(
            r#"<p>a</p><noscript><img src="/x.png"></noscript><p>b</p>"#,
            &base(),
        );
        assert_eq!(
            clean,
            r#"<p>a</p><img src="https://site.example/x.png"><p>b</p>"#
        );
    }

    /// Filter-evasion vectors in the style of OWASP's XSS cheat sheet.
    #[test]
    fn xss_filter_evasion_vectors_do_not_survive() {
        let vectors = [
            r#"<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>"#,
            r#"<IMG SRC="javascript:alert('XSS');">"#,
            r#"<IMG SRC=JaVaScRiPt:alert('XSS')>"#,
            r#"<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)>"#,
            r#"<IMG SRC="jav&#x09;ascript:alert('XSS');">"#,
            r#"<a href=" &#14;  javascript:alert('XSS');">x</a>"#,
            r#"<IMG """><SCRIPT>alert("XSS")</SCRIPT>">"#,
            r#"<IMG SRC=# onmouseover="alert('xxs')">"#,
            r#"<img src=x onerror=alert(1)//>"#,
            r#"<BODY ONLOAD=alert('XSS')>"#,
            r#"<svg/onload=alert('XSS')>"#,
            r#"<svg><script>alert(1)</script></svg>"#,
            r#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>"#,
            r#"<img src="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">"#,
            r#"<BASE HREF="javascript:alert('XSS');//">"#,
            r#"<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">"#,
            r#"<DIV STYLE="width: expression(alert('XSS'));">x</DIV>"#,
            r#"<STYLE>@import'http://xss.example/xss.css';</STYLE>"#,
            r#"<LINK REL="stylesheet" HREF="javascript:alert('XSS');">"#,
            r#"<IFRAME SRC="javascript:alert('XSS');"></IFRAME>"#,
            r#"<OBJECT TYPE="text/x-scriptlet" DATA="http://xss.example/scriptlet.html"></OBJECT>"#,
            r#"<EMBED SRC="data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=">"#,
            r#"<FORM ACTION="javascript:alert(1)"><INPUT TYPE="submit"></FORM>"#,
            r#"<TABLE BACKGROUND="javascript:alert('XSS')"><TD>x</TD></TABLE>"#,
            r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>">"#,
            r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>"#,
        ];
        for vector in vectors {
            let clean = sanitize(vector, &base()).to_ascii_lowercase();
            for bad in [
                "<script",
                "javascript:",
                "onerror",
                "onload",
                "onmouseover",
                "<svg",
                "data:",
                "<base",
                "<meta",
                "expression(",
                "<style",
                "<link",
                "<iframe",
                "<object",
                "<embed",
                "<form",
                "<input",
                "background=",
            ] {
                assert!(
                    !clean.contains(bad),
                    "{bad:?} survived in {clean:?} (from {vector})"
                );
            }
        }
    }
}
