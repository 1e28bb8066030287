//! Whether a fetched page is the article or an interstitial: a bot
//! challenge, a consent wall, a login wall, a paywall, a (soft) "not
//! found", a page that is only a script's shell, or a refusal. An
//! interstitial's text is never stored as the article: the entry keeps its
//! feed's own text and the page is tried again later (`poll`).
//!
//! [`judge`] is the one entry point for a page: it weighs the response
//! ([`ResponseFacts`]: status, `cf-mitigated`, bot managers' headers and
//! cookies, a `Refresh` to the same URL), what the page shows before
//! anything is removed ([`PageSigns`]: title, first headings, a password
//! field, consent buttons and markup, an empty application root with a
//! `<noscript>` about JavaScript) and the extracted body (its length and its
//! words, in seven languages: [`vocabulary`]). Words decide only when the
//! body is short: a long body is an article whatever its words say.
//! [`Repeats`] adds the one sign a single page cannot show: the same body
//! served for several URLs of one host.

mod phrases;
mod repeats;
mod response;
mod signs;
mod vocabulary;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use url::Url;

use super::Article;
use phrases::{find, normalize, title_segment};
pub use repeats::{Repeated, Repeats};
pub use response::ResponseFacts;
pub use signs::PageSigns;

/// A body shorter than this (characters) may be judged by its words.
const SHORT: usize = 1500;
/// A body shorter than this may be judged by a phrase near its start.
const VERY_SHORT: usize = 600;
/// A consent wall's text can be long (the purposes, the vendors); a body
/// up to this long may still be one when consent words dominate it.
const CONSENT_MAX: usize = 8000;
/// A refresh to the page itself within this many seconds is a check that
/// reloads (a live blog refreshes every few minutes).
const QUICK_REFRESH: u32 = 15;
/// Below this many characters of visible text a page has nothing to read.
const NO_TEXT: usize = 200;

/// What an interstitial is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A bot check (Cloudflare's "Just a moment…", a captcha).
    Challenge,
    /// A consent manager's wall in front of the page.
    Consent,
    /// A sign-in form in front of the page.
    Login,
    /// A teaser and an offer to subscribe.
    Paywall,
    /// The page does not exist (404, 410, or a 200 that says so).
    NotFound,
    /// An application shell whose text only a script would render.
    ScriptOnly,
    /// The server refuses (403, 451, 429) without saying more.
    Denied,
}

impl Kind {
    pub const ALL: [Kind; 7] = [
        Kind::Challenge,
        Kind::Consent,
        Kind::Login,
        Kind::Paywall,
        Kind::NotFound,
        Kind::ScriptOnly,
        Kind::Denied,
    ];

    /// The name in JSON, metrics and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Challenge => "challenge",
            Kind::Consent => "consent",
            Kind::Login => "login",
            Kind::Paywall => "paywall",
            Kind::NotFound => "not_found",
            Kind::ScriptOnly => "script_only",
            Kind::Denied => "denied",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// "a consent wall", for messages.
    pub fn described(self) -> &'static str {
        match self {
            Kind::Challenge => "a bot challenge",
            Kind::Consent => "a consent wall",
            Kind::Login => "a login wall",
            Kind::Paywall => "a paywall",
            Kind::NotFound => "not found",
            Kind::ScriptOnly => "a script-only shell",
            Kind::Denied => "refused",
        }
    }

    /// What an operator can do about it.
    pub fn advice(self) -> &'static str {
        match self {
            Kind::Challenge => {
                "the site checks for bots; a slower per_host_interval_ms or the feed's `cookies = \"…\"` from a browser may let gleaner through"
            }
            Kind::Consent => {
                "the feed's `cookies = \"…\"` with the site's consent cookie may let gleaner through"
            }
            Kind::Login | Kind::Paywall => {
                "the feed's `cookies = \"…\"` (or credentials) of a subscriber's session may let gleaner through"
            }
            Kind::NotFound => "the pages may not be published yet; they are tried again",
            Kind::ScriptOnly => {
                "the site renders its articles with JavaScript; the feed's own text is what gleaner can read"
            }
            Kind::Denied => {
                "the site refuses gleaner; a `user_agent` or `cookies` for the feed may help"
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A page judged an interstitial, and why (a short phrase for logs and JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Interstitial {
    pub kind: Kind,
    pub evidence: String,
}

impl Interstitial {
    fn verdict(kind: Kind, evidence: impl Into<String>) -> Verdict {
        Verdict::Interstitial(Interstitial {
            kind,
            evidence: evidence.into(),
        })
    }
}

/// What [`judge`] decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Article,
    Interstitial(Interstitial),
}

impl Verdict {
    pub fn interstitial(&self) -> Option<&Interstitial> {
        match self {
            Verdict::Article => None,
            Verdict::Interstitial(i) => Some(i),
        }
    }
}

impl Serialize for Verdict {
    /// `{"kind": "article", "evidence": null}` or `{"kind": "consent", "evidence": "…"}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = s.serialize_struct("Verdict", 2)?;
        match self {
            Verdict::Article => {
                out.serialize_field("kind", "article")?;
                out.serialize_field("evidence", &None::<String>)?;
            }
            Verdict::Interstitial(i) => {
                out.serialize_field("kind", i.kind.as_str())?;
                out.serialize_field("evidence", &i.evidence)?;
            }
        }
        out.end()
    }
}

/// The verdict on one fetched page: `response` is how it was answered (a
/// 4xx has no `page`), `page` what the parsed page shows, `article` what
/// the extractor made of it (`None` when it found nothing).
pub fn judge(
    response: &ResponseFacts,
    page: Option<&PageSigns>,
    article: Option<&Article>,
) -> Verdict {
    if let Some(verdict) = judge_response(response) {
        return verdict;
    }
    let Some(page) = page else {
        return Verdict::Article;
    };
    let length = article.map_or(0, |a| a.content_text.chars().count());
    // Every rule that reads the body's words asks for one shorter than
    // CONSENT_MAX: a longer body is not copied to be lower-cased.
    let body = match article {
        None => page.text_head.clone(),
        Some(a) if length < CONSENT_MAX => normalize(&a.content_text),
        Some(_) => String::new(),
    };
    judge_page(response, page, &body, length)
}

/// [`judge`] on a fetched or saved page's `bytes` and what the extractor
/// made of them (a page it found nothing in is parsed once more for its
/// signs, on that rare path only). A saved page (`gleaner extract`,
/// `reextract`) has `ResponseFacts::default()`: a 200 with nothing special.
pub fn judge_bytes(
    response: &ResponseFacts,
    bytes: &[u8],
    content_type: Option<&str>,
    url: &Url,
    article: Result<&Article, &super::ArticleError>,
) -> Verdict {
    match article {
        Ok(article) => judge(response, Some(&article.signs), Some(article)),
        Err(super::ArticleError::NoContent { .. } | super::ArticleError::NoRuleMatch { .. }) => {
            let signs = PageSigns::of_bytes(bytes, content_type, url);
            judge(response, signs.as_ref(), None)
        }
        Err(_) => judge(response, None, None),
    }
}

fn judge_response(response: &ResponseFacts) -> Option<Verdict> {
    if response.cf_mitigated.as_deref() == Some("challenge") {
        return Some(Interstitial::verdict(
            Kind::Challenge,
            "cf-mitigated: challenge",
        ));
    }
    let status = response.status;
    let checking = response
        .title
        .as_deref()
        .and_then(|t| title_segment(t, vocabulary::CHALLENGE))
        .map(|p| format!("title \"{p}\""));
    let bot = response.bot_manager.as_deref().or(checking.as_deref());
    Some(match (status, bot) {
        (403 | 429 | 503, Some(bot)) => {
            Interstitial::verdict(Kind::Challenge, format!("HTTP {status} with {bot}"))
        }
        (401, _) => Interstitial::verdict(Kind::Login, "HTTP 401"),
        (403, _) => Interstitial::verdict(Kind::Denied, "HTTP 403"),
        (451, _) => Interstitial::verdict(Kind::Denied, "HTTP 451"),
        (429, _) => Interstitial::verdict(Kind::Denied, "HTTP 429"),
        (404, _) => Interstitial::verdict(Kind::NotFound, "HTTP 404"),
        (410, _) => Interstitial::verdict(Kind::NotFound, "HTTP 410"),
        _ => return None,
    })
}

/// The page's own signs, with `body` (normalized) and its `length` in
/// characters (0 when the extractor found nothing).
fn judge_page(response: &ResponseFacts, page: &PageSigns, body: &str, length: usize) -> Verdict {
    let short = length < SHORT;
    let title = page.title.as_str();
    let heading = page.heading.as_str();
    let quoted = |what: &str, text: &str| {
        format!("{what} \"{}\"", text.chars().take(60).collect::<String>())
    };

    // A bot check.
    if short
        && let Some(delay) = response.refresh_to_self.or(page.refresh_to_self)
        && delay <= QUICK_REFRESH
    {
        return Interstitial::verdict(
            Kind::Challenge,
            format!("a refresh to the same URL after {delay} s"),
        );
    }
    if short && let Some(p) = title_segment(title, vocabulary::CHALLENGE) {
        return Interstitial::verdict(Kind::Challenge, quoted("title", p));
    }
    let bare = page.challenge_markup || page.text_chars < VERY_SHORT;
    if length < VERY_SHORT
        && bare
        && let Some(p) = find(start(body, 400), vocabulary::CHALLENGE_TEXT)
    {
        return Interstitial::verdict(Kind::Challenge, quoted("text", p));
    }

    // Nothing but a script's shell. A `<noscript>` alone is common (a
    // comment widget's): without an empty app root the page must have
    // next to no text at all.
    if length < NO_TEXT
        && page.text_chars < NO_TEXT
        && (page.empty_app_root || (page.noscript_javascript && page.text_chars < NO_TEXT / 4))
    {
        let evidence = match (page.empty_app_root, page.noscript_javascript) {
            (true, true) => "an empty app root and a <noscript> asking for JavaScript",
            (true, false) => "an empty app root and no text",
            _ => "no text but a <noscript> asking for JavaScript",
        };
        return Interstitial::verdict(Kind::ScriptOnly, evidence);
    }

    // A consent manager: several of its concepts, dominating the body (or,
    // when the extractor kept next to nothing, the page's own text, with
    // the manager's markup or buttons).
    if length < CONSENT_MAX
        && let Some(words) = consent(body, page, false).or_else(|| {
            (length < NO_TEXT)
                .then(|| consent(&page.text_head, page, true))
                .flatten()
        })
    {
        return Interstitial::verdict(Kind::Consent, format!("consent words: {words}"));
    }

    // The page says it does not exist.
    if short
        && let Some((what, p)) = title_segment(title, vocabulary::NOT_FOUND_TITLE)
            .map(|p| ("title", p))
            .or_else(|| find(title, vocabulary::NOT_FOUND).map(|p| ("title", p)))
            .or_else(|| find(heading, vocabulary::NOT_FOUND).map(|p| ("heading", p)))
    {
        return Interstitial::verdict(Kind::NotFound, quoted(what, p));
    }
    if length < VERY_SHORT
        && let Some(p) = find(start(body, 400), vocabulary::NOT_FOUND)
    {
        return Interstitial::verdict(Kind::NotFound, quoted("text", p));
    }

    // A sign-in form.
    if short && let Some(p) = find(body, vocabulary::SIGN_IN_GATE) {
        return Interstitial::verdict(Kind::Login, quoted("text", p));
    }
    // A sign-in dialog often sits hidden in an article's page, its heading
    // among the page's first: the heading and the words count only for a
    // body too short to be even a brief.
    if short && page.password_field {
        let very_short = length < NO_TEXT;
        let named = title_segment(title, vocabulary::SIGN_IN_TITLE)
            .map(|p| quoted("title", p))
            .or_else(|| {
                very_short
                    .then(|| title_segment(heading, vocabulary::SIGN_IN_TITLE))
                    .flatten()
                    .map(|p| quoted("heading", p))
            })
            .or_else(|| {
                very_short
                    .then(|| find(body, vocabulary::PASSWORD))
                    .flatten()
                    .map(|p| quoted("text", p))
            })
            .or_else(|| {
                very_short
                    .then(|| {
                        find(heading, vocabulary::SIGN_IN_WORDS)
                            .or_else(|| find(body, vocabulary::SIGN_IN_WORDS))
                    })
                    .flatten()
                    .map(|p| quoted("text", p))
            });
        if let Some(named) = named {
            return Interstitial::verdict(Kind::Login, format!("a password field and {named}"));
        }
    }
    // An email-first sign-in form (no password field yet) titled as one.
    if length < VERY_SHORT
        && let Some(p) = title_segment(title, vocabulary::SIGN_IN_TITLE)
    {
        return Interstitial::verdict(Kind::Login, quoted("title", p));
    }

    // A teaser and an offer.
    if short {
        // In the body itself: a paywall box elsewhere on the page sits
        // beside teasers that are articles in their own right (a page of
        // the DEV sets is one). Only "subscribe to …", a prompt the
        // clean-up removes from every body, is read in the page's text.
        let offers: Vec<&str> = vocabulary::PAYWALL
            .iter()
            .copied()
            .filter(|p| {
                body.contains(p) || (p.starts_with("subscribe to") && page.text_head.contains(p))
            })
            .take(2)
            .collect();
        if offers.len() >= 2 || (page.not_free && !offers.is_empty()) {
            let evidence = match page.not_free {
                true => format!("isAccessibleForFree: false and \"{}\"", offers[0]),
                false => format!("\"{}\" and \"{}\"", offers[0], offers[1]),
            };
            return Interstitial::verdict(Kind::Paywall, evidence);
        }
    }

    // A refusal that came with a 200.
    if length < VERY_SHORT
        && let Some(p) = title_segment(title, vocabulary::DENIED)
    {
        return Interstitial::verdict(Kind::Denied, quoted("title", p));
    }
    Verdict::Article
}

/// The consent concepts `text` speaks of, when they make a consent wall:
/// four (two beside consent buttons or markup; always with them when
/// `markup_needed`), in sentences that make half of `text` or more.
fn consent(text: &str, page: &PageSigns, markup_needed: bool) -> Option<String> {
    let markup = page.consent_buttons > 0 || page.consent_markup;
    if markup_needed && !markup {
        return None;
    }
    // "Our 842 partners": the count is no part of the words.
    let text: String = text
        .split(' ')
        .filter(|w| {
            !w.chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        })
        .collect::<Vec<_>>()
        .join(" ");
    // Without the manager's buttons or markup, a story about consent
    // managers could speak of three: a wall's own text speaks of four.
    let needed = if markup { 2 } else { 4 };
    let mut concepts: Vec<&str> = Vec::new();
    for (i, words) in vocabulary::CONSENT.iter().enumerate() {
        // Too few concepts left to make `needed`: no wall, and no need to
        // look for the rest.
        if concepts.len() + (vocabulary::CONSENT.len() - i) < needed {
            return None;
        }
        concepts.extend(find(&text, words));
    }
    (concepts.len() >= needed && dominated_by(&text, vocabulary::CONSENT))
        .then(|| concepts.join(", "))
}

/// The kind a body's words suggest, for a body judged by its repetition
/// alone (see [`Repeats`]); `Denied` when they suggest none.
pub fn kind_of_words(text: &str) -> Kind {
    let body = normalize(text);
    if vocabulary::CONSENT
        .iter()
        .filter(|w| find(&body, w).is_some())
        .count()
        >= 2
    {
        Kind::Consent
    } else if find(&body, vocabulary::SIGN_IN_GATE).is_some()
        || find(&body, vocabulary::PASSWORD).is_some()
    {
        Kind::Login
    } else if find(&body, vocabulary::PAYWALL).is_some() {
        Kind::Paywall
    } else if find(&body, vocabulary::NOT_FOUND).is_some() {
        Kind::NotFound
    } else if find(&body, vocabulary::CHALLENGE_TEXT).is_some() {
        Kind::Challenge
    } else {
        Kind::Denied
    }
}

/// Whether the sentences that hold one of `concepts`' words make most of `body`.
fn dominated_by(body: &str, concepts: &[&[&str]]) -> bool {
    let (mut hit, mut all) = (0usize, 0usize);
    for sentence in body.split_inclusive(['.', '!', '?', '\n']) {
        let len = sentence.len();
        all += len;
        if concepts.iter().any(|words| find(sentence, words).is_some()) {
            hit += len;
        }
    }
    all > 0 && hit * 2 >= all
}

/// The first `max` bytes of `text`, at a character boundary.
fn start(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// How many article pages one feed's poll judged, and how many of them
/// were interstitials of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub pages: u32,
    pub kinds: BTreeMap<Kind, u32>,
}

impl Tally {
    /// One page judged: an article (`None`) or an interstitial.
    pub fn add(&mut self, kind: Option<Kind>) {
        self.pages = self.pages.saturating_add(1);
        if let Some(kind) = kind {
            let n = self.kinds.entry(kind).or_default();
            *n = n.saturating_add(1);
        }
    }

    /// Interstitials of every kind.
    pub fn total(&self) -> u32 {
        self.kinds.values().fold(0, |a, b| a.saturating_add(*b))
    }

    /// Whether most pages judged were interstitials.
    pub fn mostly_interstitials(&self) -> bool {
        self.total() > 0 && u64::from(self.total()) * 2 > u64::from(self.pages)
    }

    /// The kind of most interstitials.
    pub fn main_kind(&self) -> Option<Kind> {
        self.kinds.iter().max_by_key(|(_, n)| **n).map(|(k, _)| *k)
    }

    /// `pages=5 consent=3 challenge=1`, as the database keeps it.
    pub fn to_column(&self) -> String {
        std::iter::once(format!("pages={}", self.pages))
            .chain(self.kinds.iter().map(|(k, n)| format!("{k}={n}")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// [`Tally::to_column`] read back; what it does not know is skipped.
    pub fn from_column(column: &str) -> Tally {
        let mut tally = Tally::default();
        for (name, n) in column.split_whitespace().filter_map(|pair| {
            let (name, n) = pair.split_once('=')?;
            Some((name, n.parse::<u32>().ok()?))
        }) {
            match Kind::parse(name) {
                Some(kind) => {
                    tally.kinds.insert(kind, n);
                }
                None if name == "pages" => tally.pages = n,
                None => {}
            }
        }
        tally
    }
}

#[cfg(test)]
mod tests;
