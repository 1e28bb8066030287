//! What a parsed page shows of an interstitial, read once, before the
//! extractor removes anything (a wall's form and buttons are what the
//! extractor throws away first).

use ego_tree::iter::Edge;
use scraper::{ElementRef, Html, Node};
use url::Url;

use super::phrases::{normalize, normalize_into};
use super::vocabulary;

/// At most this many characters of a title, a heading or a `<noscript>`
/// are kept: what names a wall is at their start.
const KEPT_CHARS: usize = 300;

/// At most this many characters of the page's visible text are kept (its
/// start, for judging a page the extractor found nothing in).
const HEAD_CHARS: usize = 4000;

/// How many `<h1>`s [`PageSigns::heading`] keeps.
const HEADINGS: usize = 3;

/// Ids of the element a single-page application renders into.
const APP_ROOTS: &[&str] = &[
    "root",
    "app",
    "__next",
    "__nuxt",
    "___gatsby",
    "svelte",
    "main-app",
    "app-root",
];

/// Class or id words of a bot check's markup.
const CHALLENGE_MARKUP: &[&str] = &[
    "challenge-form",
    "challenge-platform",
    "cf-chl",
    "cf-turnstile",
    "g-recaptcha",
    "h-captcha",
    "captcha",
];

/// Class or id words of a consent manager's markup.
const CONSENT_MARKUP: &[&str] = &["consent", "cmp", "gdpr", "cookiewall", "cookie-wall"];

/// Elements whose text a reader does not see.
const INVISIBLE: &[&str] = &[
    "script", "style", "noscript", "template", "head", "title", "svg", "math",
];

/// The signs of an interstitial on one page (see [`super::judge`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageSigns {
    /// `<title>`, normalized.
    pub title: String,
    /// The first [`HEADINGS`] `<h1>`s, normalized, joined by " | " (a
    /// blog's name is often its first).
    pub heading: String,
    /// An `<input type=password>` not hidden in the markup.
    pub password_field: bool,
    /// Buttons (or button-like links) whose whole text is a consent answer.
    pub consent_buttons: usize,
    /// An element whose class or id names a consent manager.
    pub consent_markup: bool,
    /// An element whose class or id names a bot check (captcha, challenge).
    pub challenge_markup: bool,
    /// A `<noscript>` that speaks of JavaScript.
    pub noscript_javascript: bool,
    /// An application root (`#root`, `#app`, `#__next`…) with no text.
    pub empty_app_root: bool,
    /// `<meta http-equiv=refresh>` back to this page, within this many seconds.
    pub refresh_to_self: Option<u32>,
    /// JSON-LD says `isAccessibleForFree: false`.
    pub not_free: bool,
    /// Characters of visible text in the whole page.
    pub text_chars: usize,
    /// The start of the visible text, normalized.
    pub text_head: String,
}

impl PageSigns {
    /// Reads the signs of `doc`, the page at `url`. One walk over the tree,
    /// no recursion (the page's depth is bounded, its walk need not be):
    /// whether a text is inside an element a reader does not see is kept
    /// as a count of such elements open, not looked up per text.
    pub fn read(doc: &Html, url: &Url) -> PageSigns {
        let mut signs = PageSigns::default();
        let mut head = String::new();
        let mut headings = Vec::new();
        let mut noscript = String::new();
        let mut invisible = 0usize;
        let mut scratch = Scratch::default();
        for edge in doc.tree.root().traverse() {
            match edge {
                Edge::Open(node) => match node.value() {
                    Node::Text(text) => {
                        if invisible > 0 {
                            continue;
                        }
                        let chars = visible_chars(text);
                        signs.text_chars = signs.text_chars.saturating_add(chars);
                        if head.len() < HEAD_CHARS * 2 && chars > 0 {
                            head.push(' ');
                            head.push_str(text);
                        }
                    }
                    Node::Element(e) => {
                        invisible += usize::from(INVISIBLE.contains(&e.name()));
                        let Some(element) = ElementRef::wrap(node) else {
                            continue;
                        };
                        signs.element(element, url, &mut headings, &mut noscript, &mut scratch);
                    }
                    _ => {}
                },
                Edge::Close(node) => {
                    if let Node::Element(e) = node.value() {
                        invisible -= usize::from(INVISIBLE.contains(&e.name()));
                    }
                }
            }
        }
        signs.title = first_title(doc)
            .map(|t| bounded(&normalize(&t.text().collect::<String>()), KEPT_CHARS))
            .unwrap_or_default();
        signs.heading = headings.join(" | ");
        signs.noscript_javascript = noscript.contains("javascript");
        signs.text_head = bounded(&normalize(&head), HEAD_CHARS);
        signs
    }

    /// The signs of a page the extractor found no article in (a second
    /// parse, on that rare path only); `None` for what is no HTML page or
    /// is nested too deep to parse.
    pub fn of_bytes(bytes: &[u8], content_type: Option<&str>, url: &Url) -> Option<PageSigns> {
        use crate::article::limits;
        if limits::looks_binary(bytes) || limits::nesting_depth(bytes) > limits::MAX_DEPTH {
            return None;
        }
        let html = crate::encoding::decode_html(bytes, content_type);
        Some(PageSigns::read(&Html::parse_document(&html), url))
    }

    fn element(
        &mut self,
        element: ElementRef<'_>,
        url: &Url,
        headings: &mut Vec<String>,
        noscript: &mut String,
        scratch: &mut Scratch,
    ) {
        let e = element.value();
        match e.name() {
            "h1" if headings.len() < HEADINGS && !hidden(element) => {
                headings.push(bounded(
                    &normalize(&element.text().collect::<String>()),
                    KEPT_CHARS,
                ));
            }
            "input" => {
                let kind = e.attr("type").unwrap_or("").trim();
                if kind.eq_ignore_ascii_case("password") && !hidden(element) {
                    self.password_field = true;
                }
                if kind.eq_ignore_ascii_case("submit") || kind.eq_ignore_ascii_case("button") {
                    let value = normalize(e.attr("value").unwrap_or(""));
                    self.consent_button(&value);
                }
            }
            "button" | "a" => {
                scratch.text.clear();
                scratch.text.extend(element.text().take(8));
                if scratch.text.len() < 80 {
                    normalize_into(&scratch.text, &mut scratch.normal);
                    self.consent_button(&scratch.normal);
                }
            }
            "noscript" if noscript.len() < KEPT_CHARS * 4 => {
                noscript.push_str(&element.text().collect::<String>().to_lowercase());
            }
            "meta" => {
                let refresh = e
                    .attr("http-equiv")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("refresh"));
                if refresh && let Some(content) = e.attr("content") {
                    self.refresh_to_self = refresh_to(content, url).or(self.refresh_to_self);
                }
            }
            "script"
                if e.attr("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json")) =>
            {
                let json: String = element.text().collect();
                let compact: String = json
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != '"')
                    .collect::<String>()
                    .to_ascii_lowercase();
                if compact.contains("isaccessibleforfree:false") {
                    self.not_free = true;
                }
            }
            _ => {}
        }
        // The id and the class attribute's words, read from the attributes
        // in one pass (no mark holds a space, so a word holds one when the
        // value does; `classes()` would intern every class of the page).
        let mut id = None;
        for (name, value) in e.attrs() {
            match name {
                "id" => id = id.or(Some(value)),
                "class" => {}
                _ => continue,
            }
            if !self.challenge_markup && holds_any(value, CHALLENGE_MARKUP) {
                self.challenge_markup = true;
            }
            if !self.consent_markup && holds_any(value, CONSENT_MARKUP) {
                self.consent_markup = true;
            }
        }
        let app_root = id.is_some_and(|id| APP_ROOTS.contains(&id)) || e.name() == "app-root";
        if app_root && !self.empty_app_root {
            let empty = element
                .descendants()
                .filter_map(|d| d.value().as_text())
                .all(|t| t.trim().is_empty());
            self.empty_app_root = empty;
        }
    }

    fn consent_button(&mut self, text: &str) {
        let text = text.trim_matches(|c: char| c.is_whitespace() || ".!".contains(c));
        if vocabulary::CONSENT_BUTTON.contains(&text) {
            self.consent_buttons = self.consent_buttons.saturating_add(1);
        }
    }
}

/// Whether `element` or one of its ancestors is hidden in the markup
/// itself (`hidden`, `aria-hidden="true"`, `display: none`): a sign-in
/// dialog parked in an article's page.
fn hidden(element: ElementRef<'_>) -> bool {
    std::iter::once(*element)
        .chain(element.ancestors())
        .filter_map(|n| n.value().as_element())
        .any(|e| {
            e.attr("hidden").is_some()
                || e.attr("aria-hidden").is_some_and(|v| v.trim() == "true")
                || e.attr("style").is_some_and(|v| {
                    let style: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                    style.to_ascii_lowercase().contains("display:none")
                })
        })
}

/// The delay of a refresh (`"5"`, `"5; url=…"`) whose target is `page`
/// itself (or none, which means itself).
pub(super) fn refresh_to(content: &str, page: &Url) -> Option<u32> {
    let (delay, target) = match content.split_once([';', ',']) {
        Some((delay, rest)) => (delay, Some(rest)),
        None => (content, None),
    };
    let delay: u32 = delay.trim().split('.').next()?.parse().ok()?;
    let target = target
        .map(|t| t.trim())
        .map(|t| {
            let lower = t.to_ascii_lowercase();
            match lower.strip_prefix("url") {
                Some(rest) => t[t.len() - rest.len()..]
                    .trim_start()
                    .trim_start_matches('=')
                    .trim()
                    .trim_matches(['\'', '"']),
                None => t,
            }
        })
        .filter(|t| !t.is_empty());
    let same = match target {
        None => true,
        Some(target) => page.join(target).is_ok_and(|t| {
            t.host_str() == page.host_str()
                && t.path() == page.path()
                && t.scheme() == page.scheme()
        }),
    };
    same.then_some(delay)
}

/// Whether `value` holds one of `marks` (lower-case ASCII) in any ASCII
/// case: each mark tried where `value` has its first letter, no copy made.
fn holds_any(value: &str, marks: &[&str]) -> bool {
    let value = value.as_bytes();
    (0..value.len()).any(|i| {
        let first = value[i].to_ascii_lowercase();
        marks.iter().any(|m| {
            let m = m.as_bytes();
            m.first() == Some(&first)
                && value
                    .get(i..i + m.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(m))
        })
    })
}

/// Room reused from element to element while a page's signs are read.
#[derive(Default)]
struct Scratch {
    text: String,
    normal: String,
}

/// The characters of `text` that are not whitespace (ASCII text counted
/// by its bytes: the same whitespace, without decoding).
fn visible_chars(text: &str) -> usize {
    if text.is_ascii() {
        return text
            .bytes()
            .filter(|b| !matches!(b, b'\t'..=b'\r' | b' '))
            .count();
    }
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// The page's `<title>`: the first element so named, in the order the
/// parser made them, that sits in a tree (what `doc.select("title")`
/// gives first, without matching a selector against every element).
fn first_title(doc: &Html) -> Option<ElementRef<'_>> {
    doc.tree
        .nodes()
        .filter(|n| n.parent().is_some())
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "title")
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn bounded(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
