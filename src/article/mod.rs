//! Article pages into clean [`Article`]s: the body without navigation, share
//! bars, related boxes, comments and footers; sanitized HTML with absolute
//! links; plain text with a blank line between paragraphs; metadata.
//!
//! The flow, one function: decode the bytes ([`crate::encoding`]) → drop the
//! feed's `remove_selectors` → take the feed's `content_selector` if it
//! matches, else ask the [`Extractor`] → sanitize ([`sanitize`]) → plain text
//! ([`text`]). Extraction is CPU-bound: callers run it on a blocking thread.

pub mod cleanup;
pub mod combine;
pub mod extractor;
pub mod limits;
pub mod sanitize;
pub mod text;

use chrono::{DateTime, Utc};
use scraper::Html;
use serde::Serialize;
use url::Url;

use crate::config::CssSelector;
use crate::encoding;
pub use extractor::{Combined, DomSmoothie, Extracted, Extractor, Trafilatura};

/// Per-site rules from a feed's config.
#[derive(Debug, Clone, Copy, Default)]
pub struct SiteRules<'a> {
    /// When it matches, the article body is exactly these elements.
    pub content_selector: Option<&'a CssSelector>,
    /// Removed from the page before anything else looks at it.
    pub remove_selectors: &'a [CssSelector],
}

/// An extracted article (SPEC: the `extract --format json` object).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Article {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub canonical_url: Option<Url>,
    pub language: Option<String>,
    pub image: Option<Url>,
    /// Sanitized: no scripts, handlers, iframes or forms; links and images absolute.
    pub content_html: String,
    /// Paragraphs separated by a blank line.
    pub content_text: String,
    pub word_count: u32,
}

/// Why a page gave no article.
#[derive(Debug, thiserror::Error)]
pub enum ArticleError {
    #[error("{url}: no article body found")]
    NoContent { url: Url },
    #[error("{url}: not an HTML page (binary data)")]
    Binary { url: Url },
    #[error(
        "{url}: elements nested {depth} deep (more than {} is refused as pathological)",
        limits::MAX_DEPTH
    )]
    TooDeep { url: Url, depth: usize },
}

/// Extracts the article from a page's bytes. `url` is the page's address
/// (for relative links and per-site rules); `content_type` its HTTP header.
pub fn extract(
    bytes: &[u8],
    content_type: Option<&str>,
    url: &Url,
    rules: SiteRules<'_>,
    extractor: &dyn Extractor,
) -> Result<Article, ArticleError> {
    if limits::looks_binary(bytes) {
        return Err(ArticleError::Binary { url: url.clone() });
    }
    let depth = limits::nesting_depth(bytes);
    if depth > limits::MAX_DEPTH {
        return Err(ArticleError::TooDeep {
            url: url.clone(),
            depth,
        });
    }
    let html = encoding::decode_html(bytes, content_type);
    extract_html(&html, url, rules, extractor)
}

/// [`extract`] on already decoded HTML.
fn extract_html(
    html: &str,
    url: &Url,
    rules: SiteRules<'_>,
    extractor: &dyn Extractor,
) -> Result<Article, ArticleError> {
    let cleaned;
    let html = if rules.remove_selectors.is_empty() {
        html
    } else {
        cleaned = remove_matching(html, rules.remove_selectors);
        cleaned.as_str()
    };

    let selected = rules
        .content_selector
        .and_then(|selector| select_html(html, selector));
    let mut readings = extractor.candidates(html, url);
    let bodies: Vec<Body> = match &selected {
        Some(selected) => vec![Body::new(selected, url)],
        None => readings
            .iter()
            .map(|r| Body::new(&r.content_html, url))
            .collect(),
    };
    let chosen = match bodies.as_slice() {
        [primary, alternative, ..] => combine::choose(&primary.text, &alternative.text),
        _ => 0,
    };
    let witness = bodies.get(1 - chosen.min(1)).map(|b| b.text.clone());
    let Some(mut body) = bodies.into_iter().nth(chosen) else {
        return Err(ArticleError::NoContent { url: url.clone() });
    };
    if let (0, Some(witness)) = (chosen, witness.filter(|_| selected.is_none()))
        && cleanup::drop_unconfirmed(&mut body.fragment, &witness, UNCONFIRMED_MAX_WORDS)
    {
        body.text = text::fragment_text(&body.fragment);
    }
    let content_html = body.fragment.root_element().inner_html();
    let content_text = body.text;
    if content_text.is_empty() {
        return Err(ArticleError::NoContent { url: url.clone() });
    }
    let word_count = content_text.split_whitespace().count() as u32;
    // Metadata from the first reading that has each field.
    let meta = readings.drain(..).reduce(Extracted::or).unwrap_or_default();
    Ok(Article {
        title: meta.title,
        author: meta.author,
        published: meta.published,
        canonical_url: meta.canonical_url,
        language: meta.language,
        image: meta.image,
        content_html,
        content_text,
        word_count,
    })
}

/// Blocks of the chosen reading this short must also be in the other reading.
const UNCONFIRMED_MAX_WORDS: usize = 15;

/// An article body after sanitizing and clean-up, with its text. Parsed
/// once: the clean-up steps and the text work on the same tree.
struct Body {
    fragment: Html,
    text: String,
}

impl Body {
    fn new(raw_html: &str, url: &Url) -> Body {
        let mut fragment = Html::parse_fragment(&sanitize::sanitize(raw_html, url));
        drop_leading_headline(&mut fragment);
        cleanup::clean_fragment(&mut fragment);
        let text = text::fragment_text(&fragment);
        Body { fragment, text }
    }
}

/// Removes the headline when the body starts with one: it is the article's
/// `title`, not part of its body (the benchmark's answers leave it out, and a
/// syndicated copy under another headline must still have the same text).
fn drop_leading_headline(fragment: &mut Html) {
    let first = fragment
        .root_element()
        .descendants()
        .find(|node| match node.value() {
            scraper::Node::Text(text) => !text.trim().is_empty(),
            scraper::Node::Element(e) => e.name() == "img",
            _ => false,
        })
        .and_then(|node| {
            node.ancestors()
                .find(|a| a.value().as_element().is_some_and(|e| e.name() == "h1"))
        })
        .map(|h1| h1.id());
    if let Some(mut headline) = first.and_then(|id| fragment.tree.get_mut(id)) {
        headline.detach();
    }
}

/// The page with every element matching one of `selectors` removed.
fn remove_matching(html: &str, selectors: &[CssSelector]) -> String {
    let mut document = Html::parse_document(html);
    let doomed: Vec<_> = selectors
        .iter()
        .flat_map(|s| {
            document
                .select(s.selector())
                .map(|e| e.id())
                .collect::<Vec<_>>()
        })
        .collect();
    for id in doomed {
        if let Some(mut node) = document.tree.get_mut(id) {
            node.detach();
        }
    }
    document.html()
}

/// The outer HTML of every element matching `selector`, in document order;
/// `None` when nothing matches (the generic extractor is used instead).
fn select_html(html: &str, selector: &CssSelector) -> Option<String> {
    let document = Html::parse_document(html);
    let parts: Vec<String> = document
        .select(selector.selector())
        .map(|e| e.html())
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<html><head><title>Hello</title></head><body>
        <nav><a href="/">Home</a> <a href="/world">World</a></nav>
        <div class="post"><h1>Big news</h1>
          <p>The first paragraph of the story, long enough to be the body of an article.</p>
          <p>The second paragraph <a href="/more">links elsewhere</a> and <img src="/i.png"> shows.</p>
          <div class="share">Share on Twitter</div>
        </div>
        <aside class="related">Check Also: another story</aside>
        </body></html>"#;

    fn url() -> Url {
        Url::parse("https://site.example/2024/story").unwrap()
    }

    struct Nothing;
    impl Extractor for Nothing {
        fn extract(&self, _: &str, _: &Url) -> Option<Extracted> {
            None
        }
    }

    #[test]
    fn content_selector_and_remove_selectors_are_honoured() {
        let content = CssSelector::parse(".post").unwrap();
        let remove = [CssSelector::parse(".share").unwrap()];
        let rules = SiteRules {
            content_selector: Some(&content),
            remove_selectors: &remove,
        };
        let article = extract_html(PAGE, &url(), rules, &Nothing).unwrap();
        assert!(
            article.content_text.starts_with("The first paragraph"),
            "{}",
            article.content_text
        );
        assert!(!article.content_text.contains("Share on Twitter"));
        assert!(!article.content_text.contains("Check Also"));
        assert!(!article.content_text.contains("Home"));
        assert!(
            article
                .content_html
                .contains(r#"href="https://site.example/more""#)
        );
        assert!(
            article
                .content_html
                .contains(r#"src="https://site.example/i.png""#)
        );
    }

    #[test]
    fn a_leading_headline_is_the_title_not_the_body() {
        let dropped = |html: &str| {
            let mut fragment = Html::parse_fragment(html);
            drop_leading_headline(&mut fragment);
            fragment.root_element().inner_html()
        };
        let html = "<div><h1>Head <b>line</b></h1><p>Body text.</p><h1>Later heading</h1></div>";
        assert_eq!(
            dropped(html),
            "<div><p>Body text.</p><h1>Later heading</h1></div>"
        );
        let html = "<p>Intro.</p><h1>Not first</h1>";
        assert_eq!(dropped(html), html);
    }

    #[test]
    fn a_selector_that_matches_nothing_falls_back_to_the_extractor() {
        let content = CssSelector::parse(".missing").unwrap();
        let rules = SiteRules {
            content_selector: Some(&content),
            remove_selectors: &[],
        };
        let error = extract_html(PAGE, &url(), rules, &Nothing).unwrap_err();
        assert!(error.to_string().contains("no article body"));
        let article = extract_html(PAGE, &url(), rules, &Trafilatura::default()).unwrap();
        assert!(article.content_text.contains("The first paragraph"));
    }

    #[test]
    fn the_deepest_accepted_page_fits_a_small_thread_stack() {
        let depth = limits::MAX_DEPTH - 2;
        let page = format!(
            "<html><body>{}<p>{}</p>{}</body></html>",
            "<div>".repeat(depth),
            "Deep words. ".repeat(60),
            "</div>".repeat(depth)
        );
        // The daemon extracts on threads with 2 MiB stacks (poll::EXTRACTION_STACK).
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                extract(
                    page.as_bytes(),
                    None,
                    &url(),
                    SiteRules::default(),
                    &Combined::default(),
                )
                .map(|a| a.word_count)
            })
            .unwrap()
            .join()
            .expect("no stack overflow");
        assert!(result.is_ok(), "{result:?}");
    }

    #[test]
    fn metadata_comes_from_json_ld_opengraph_and_meta() {
        let page = format!(
            r#"<html lang="de"><head><title>Brücke | Zeitung</title>
            <meta property="og:title" content="Die neue Brücke">
            <meta property="og:image" content="/bilder/bruecke.jpg">
            <link rel="canonical" href="https://site.example/2024/bruecke">
            <script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
              "headline":"Die neue Brücke","datePublished":"2024-03-05T09:30:00+01:00",
              "author":{{"@type":"Person","name":"Erika Muster"}}}}</script></head>
            <body><article><h1>Die neue Brücke</h1>{}</article></body></html>"#,
            "<p>Der Stadtrat hat am Donnerstag über die Zukunft der Brücke beraten und eine unabhängige Prüfung der Kosten beschlossen.</p>".repeat(5)
        );
        let article = extract(
            page.as_bytes(),
            None,
            &url(),
            SiteRules::default(),
            &Combined::default(),
        )
        .unwrap();
        assert_eq!(article.title.as_deref(), Some("Die neue Brücke"));
        assert_eq!(article.author.as_deref(), Some("Erika Muster"));
        assert_eq!(article.language.as_deref(), Some("de"));
        assert_eq!(
            article.canonical_url.unwrap().as_str(),
            "https://site.example/2024/bruecke"
        );
        assert_eq!(
            article.image.unwrap().as_str(),
            "https://site.example/bilder/bruecke.jpg"
        );
        assert_eq!(
            article.published.unwrap().to_rfc3339(),
            "2024-03-05T08:30:00+00:00"
        );
    }
}
