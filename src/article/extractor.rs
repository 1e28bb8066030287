//! The article-body extractor behind our own trait, so the library can be
//! swapped or combined without touching the pipeline.

use chrono::{DateTime, NaiveTime, Utc};
use trafilatura::{ExtractionFocus, Options};
use url::Url;

/// What an extractor finds in a page. The HTML is not yet sanitized.
#[derive(Debug, Clone, Default)]
pub struct Extracted {
    pub content_html: String,
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub canonical_url: Option<Url>,
    pub language: Option<String>,
    pub image: Option<Url>,
}

/// Finds the main content of a page.
pub trait Extractor: Send + Sync {
    /// `None` when the page has no recognisable article.
    fn extract(&self, html: &str, url: &Url) -> Option<Extracted>;

    /// Every reading this extractor has of the page, the most trusted first;
    /// the article step cleans each and picks one ([`super::combine`]).
    fn candidates(&self, html: &str, url: &Url) -> Vec<Extracted> {
        self.extract(html, url).into_iter().collect()
    }
}

impl Extracted {
    /// `self`, with the metadata it lacks taken from `other`.
    pub fn or(self, other: Extracted) -> Extracted {
        Extracted {
            content_html: self.content_html,
            title: self.title.or(other.title),
            author: self.author.or(other.author),
            published: match (self.published, other.published) {
                // trafilatura only knows the day; a full timestamp for about
                // the same day is more precise.
                (Some(day), Some(precise))
                    if day.time() == NaiveTime::MIN && (precise - day).num_hours().abs() < 48 =>
                {
                    Some(precise)
                }
                (mine, theirs) => mine.or(theirs),
            },
            canonical_url: self.canonical_url.or(other.canonical_url),
            language: self.language.or(other.language),
            image: self.image.or(other.image),
        }
    }
}

/// The extractor gleaner uses: trafilatura first, dom_smoothie as the second
/// reading that [`super::combine::choose`] can prefer.
#[derive(Debug, Clone, Default)]
pub struct Combined {
    trafilatura: Trafilatura,
    smoothie: DomSmoothie,
}

impl Extractor for Combined {
    fn extract(&self, html: &str, url: &Url) -> Option<Extracted> {
        self.trafilatura
            .extract(html, url)
            .or_else(|| self.smoothie.extract(html, url))
    }

    fn candidates(&self, html: &str, url: &Url) -> Vec<Extracted> {
        [
            self.trafilatura.extract(html, url),
            self.smoothie.extract(html, url),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// The `trafilatura` crate with its readability/justext fallback on and the
/// precision focus: 0.969 F1 on the DEV benchmark pages, the best of the
/// libraries measured (see the extraction issue).
#[derive(Debug, Clone)]
pub struct Trafilatura {
    options: Options,
}

impl Default for Trafilatura {
    fn default() -> Self {
        let options = Options::default()
            .with_fallback(true)
            .with_focus(ExtractionFocus::FavorPrecision)
            .with_links(true)
            .with_images(true)
            .with_exclude_comments(true)
            .with_deduplicate(false);
        Trafilatura { options }
    }
}

impl Extractor for Trafilatura {
    fn extract(&self, html: &str, url: &Url) -> Option<Extracted> {
        let options = self.options.clone().with_url(url.clone());
        let guarded = guard_inline_spaces(html);
        let result = match trafilatura::extract(&guarded, &options) {
            Ok(result) => result,
            Err(error) => {
                tracing::debug!(%url, %error, "trafilatura found no article");
                return None;
            }
        };
        let meta = result.metadata;
        let some = |s: String| {
            let s = s.trim();
            (!s.is_empty()).then(|| s.to_owned())
        };
        let absolute = |s: String| {
            some(s)
                .and_then(|s| url.join(&s).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
        };
        Some(Extracted {
            content_html: result.content_html.replace(SPACE_GUARD, ""),
            title: some(meta.title),
            author: some(meta.author),
            published: meta.date.map(|d| d.and_time(NaiveTime::MIN).and_utc()),
            canonical_url: absolute(meta.url),
            language: some(meta.language),
            image: absolute(meta.image),
        })
    }
}

/// dom_smoothie, a port of Mozilla's Readability.
#[derive(Debug, Clone, Default)]
pub struct DomSmoothie;

impl Extractor for DomSmoothie {
    fn extract(&self, html: &str, url: &Url) -> Option<Extracted> {
        let config = dom_smoothie::Config {
            text_mode: dom_smoothie::TextMode::Formatted,
            ..Default::default()
        };
        let mut readability =
            dom_smoothie::Readability::new(html, Some(url.as_str()), Some(config)).ok()?;
        let article = readability.parse().ok()?;
        let some = |s: Option<String>| s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let absolute = |s: Option<String>| {
            some(s)
                .and_then(|s| url.join(&s).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
        };
        Some(Extracted {
            content_html: article.content.to_string(),
            title: some(Some(article.title)),
            author: some(article.byline),
            published: article
                .published_time
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc)),
            canonical_url: absolute(article.url),
            language: some(article.lang),
            image: absolute(article.image),
        })
    }
}

/// trafilatura 0.6 trims the text before an inline element (`and <a>B</a>`
/// becomes `and<a>B</a>`), gluing words together. A zero-width space after
/// that whitespace survives the trim (it is not Unicode whitespace) and is
/// removed again from the result.
const SPACE_GUARD: &str = "\u{200B}";

fn guard_inline_spaces(html: &str) -> String {
    static BEFORE_INLINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)([^\s>])(\s+)(<(?:a|abbr|b|cite|code|em|font|i|mark|q|s|small|span|strong|sub|sup|time|u)[\s>])")
            .expect("a valid pattern")
    });
    BEFORE_INLINE
        .replace_all(html, "$1$2\u{200B}$3")
        .into_owned()
}
