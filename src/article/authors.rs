//! The article's author as its byline names them: the declared author
//! (JSON-LD, `<meta name=author>`) unless that is the site's or publisher's
//! own name, else the byline a reader sees ("By …", "Von …", "Par …",
//! `rel=author`, `itemprop=author`, an author box), cleaned of "By", dates,
//! roles and "and 2 more" tails. Several authors are joined with "; ".
//! A comment's author sits in a box [`page`] leaves out, and a form's "By
//! clicking …" is no name.

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Html, Selector};

use super::dates::{Order, find_all, page};

/// Bylines looked at, at most: the article's own comes first.
const MAX_CANDIDATES: usize = 40;
/// A name longer than this is a sentence.
const MAX_NAME_CHARS: usize = 80;
const MAX_NAME_WORDS: usize = 6;

/// What a byline puts before the name, in the languages dates are read in.
const LEAD_WORDS: &[&str] = &[
    "written by",
    "posted by",
    "published by",
    "geschrieben von",
    "ein beitrag von",
    "ein artikel von",
    "escrito por",
    "publicado por",
    "publié par",
    "écrit par",
    "scritto da",
    "pubblicato da",
    "geschreven door",
    "napisane przez",
    "skrivet av",
    "skrevet af",
    "skrevet av",
    "autor:",
    "autorin:",
    "author:",
    "authors:",
    "auteur :",
    "auteur:",
    "autore:",
    "text:",
    "texto:",
    "von:",
    "by:",
    "by",
    "von",
    "par",
    "por",
    "di",
    "door",
    "av",
    "af",
    "przez",
    "автор:",
    "автор",
    "yazar:",
    "text",
    "autor",
    "autorin",
    "author",
    "auteur",
    "autore",
];
/// Account names that say no one.
const NO_ONE: &[&str] = &[
    "admin",
    "administrator",
    "webmaster",
    "wordpressadmin",
    "no author",
    "unknown",
    "anonymous",
    "guest",
    "user",
    "publiziert",
    "stand",
    "follow",
    "about the author",
    "über den autor",
    "à propos de l'auteur",
    "sobre el autor",
];

/// The article's author: `declared` unless it is one of `site_names`, an
/// address or an account placeholder, else the page's byline.
pub fn author(doc: &Html, declared: Option<String>, site_names: &[String]) -> Option<String> {
    let is_site = |name: &str| {
        let name = squash(name);
        site_names
            .iter()
            .map(|s| squash(s))
            .any(|s| s.len() >= 2 && (s == name || (name.len() > 4 && name.contains(&s))))
    };
    declared
        .map(|d| clean(&d))
        .filter(|d| !d.is_empty() && !is_site(d) && plausible(d))
        .or_else(|| byline(doc))
}

/// Lower-case letters and digits only: "Jobs & Hire" and "jobs-hire" are one.
fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn plausible(name: &str) -> bool {
    let lower = name.to_lowercase();
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !lower.starts_with("http")
        && !name.contains('@')
        && !name.contains("[at]")
        && !NO_ONE.contains(&lower.as_str())
        // A label left alone ("By", "Por"), its name in another element.
        && !LEAD_WORDS.contains(&lower.trim_end_matches([':', ' ']))
        && !LEAD_WORDS.contains(&format!("{}:", lower.trim_end_matches([':', ' '])).as_str())
        && !looks_like_a_domain(&lower)
}

fn looks_like_a_domain(name: &str) -> bool {
    static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,6}$").expect("a valid built-in pattern")
    });
    DOMAIN.is_match(name)
}

/// The first byline in the page's text that names someone.
fn byline(doc: &Html) -> Option<String> {
    static BYLINES: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse(
            "[itemprop~=author], [rel~=author], [class*=author], [class*=Author], \
             [class*=byline], [class*=Byline], [id*=author], [class*=autor], [class*=auteur], \
             [class*=autore], [class*=writer], [class=by], [class*=posted-by]",
        )
        .expect("a valid built-in selector")
    });
    static NAMES: LazyLock<Selector> = LazyLock::new(|| {
        Selector::parse("[itemprop~=name], a[rel~=author], a[href*='/author/'], a[href*='/autor/']")
            .expect("a valid built-in selector")
    });
    doc.select(&BYLINES)
        .filter(|e| !beside_the_article(*e))
        .take(MAX_CANDIDATES)
        .find_map(|e| {
            // Names the byline marks one by one: several authors.
            let mut marked: Vec<String> = Vec::new();
            for name in e.select(&NAMES) {
                let name = clean(&name.text().collect::<String>());
                if plausible(&name) && words(&name) <= MAX_NAME_WORDS && !marked.contains(&name) {
                    marked.push(name);
                }
            }
            if !marked.is_empty() {
                return Some(marked.join("; "));
            }
            let name = clean(&e.text().collect::<String>());
            (plausible(&name) && words(&name) <= MAX_NAME_WORDS).then_some(name)
        })
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// In (or itself) a comment, teaser, sidebar or footer box.
fn beside_the_article(element: ElementRef<'_>) -> bool {
    std::iter::once(element)
        .chain(element.ancestors().filter_map(ElementRef::wrap))
        .any(page::skipped)
}

/// A byline's text with its lead word ("By", "Von"), its date and what
/// follows it, and an "and 2 more" tail taken off; quotes and white space
/// trimmed.
pub fn clean(text: &str) -> String {
    static TAIL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\s*(?:,|\band\b|\bund\b|\+)\s*\d+\s*(?:more|weitere|others|andere)\b.*$")
            .expect("a valid built-in pattern")
    });
    static CUT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)\s+(?:\||•|·|—|–|-\s|/\s)|\n|\s(?:on|am|le|el|il|den|published|updated|veröffentlicht|aktualisiert|publié|publicado|pubblicato|posted|in)\s+\d",
        )
        .expect("a valid built-in pattern")
    });
    let mut text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // The date and whatever follows it.
    if let Some(found) = find_all(&text, Order::DayFirst, chrono::Utc::now().date_naive()).first() {
        text.truncate(found.at);
    }
    // The words that led to the date ("le", "am", "Published on").
    static BEFORE_DATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?i)(?:[\s,|·•-]+(?:on|am|le|el|il|den|vom|du|del|published|updated|posted|veröffentlicht|aktualisiert|publié|publicado|pubblicato|erschienen))*[\s,|·•-]*$",
        )
        .expect("a valid built-in pattern")
    });
    let end = BEFORE_DATE.find(&text).map_or(text.len(), |m| m.start());
    text.truncate(end);
    let mut text = text.trim().to_owned();
    loop {
        let lower = text.to_lowercase();
        let lead = LEAD_WORDS.iter().find(|w| {
            lower.starts_with(*w)
                && lower[w.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_whitespace() || c == ':' || w.ends_with(':'))
                // "Di Maio" is a name; "di Mario Rossi" a byline.
                && (!matches!(**w, "di" | "av" | "af")
                    || text.starts_with(|c: char| c.is_lowercase()))
        });
        let Some(rest) = lead.and_then(|lead| text.get(lead.len()..)) else {
            break;
        };
        text = rest.trim_start_matches([':', ' ']).trim().to_owned();
    }
    if let Some(cut) = CUT.find(&text) {
        text.truncate(cut.start());
    }
    let text = TAIL.replace(&text, "");
    text.trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '\'' | '"' | ',' | ':' | '|' | '-' | '–' | '(' | ')')
    })
    .to_owned()
}

#[cfg(test)]
mod tests;
