//! Dates as a reader sees them: "16. Oktober 2019", "October 16, 2019",
//! "16/10/2019", "2019-10-16", the `/2019/10/16/` of an address. Pages that
//! declare no machine-readable date still show one in their dateline, and
//! feeds built from pages have nothing else to go on.
//!
//! [`find_in_text`] reads one short text (a dateline, a list item's line);
//! [`in_url`] reads an address; [`page`] finds the dateline of a parsed page.
//! Relative forms ("vor 3 Tagen", "2 hours ago") are not read: a saved page
//! gives nothing to anchor them to.

mod months;
pub mod page;

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Utc};
use regex::Regex;
use url::Url;

/// At most this many characters of a text are read: a dateline is short,
/// and whatever the caller hands in, the work stays bounded.
const MAX_TEXT_CHARS: usize = 4_000;

/// How to read a numeric date whose first two parts could both be a day
/// ("03/04/2019"): the page's language decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    DayFirst,
    MonthFirst,
}

impl Order {
    /// Month first for US English (the web's default English), day first
    /// for every other language and region.
    pub fn for_language(language: Option<&str>) -> Self {
        let Some(language) = language else {
            return Order::DayFirst;
        };
        let language = language.trim().to_ascii_lowercase().replace('_', "-");
        let day_first_english = ["en-gb", "en-au", "en-nz", "en-ie", "en-in", "en-za"];
        if (language == "en" || language.starts_with("en-"))
            && !day_first_english.iter().any(|l| language.starts_with(l))
        {
            Order::MonthFirst
        } else {
            Order::DayFirst
        }
    }
}

/// What the words just before a date say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// "Published", "veröffentlicht am", "publié le" …
    Published,
    /// No word says.
    Plain,
    /// "Updated", "aktualisiert", "mis à jour" …
    Modified,
}

/// One date found in a text, with where it starts (in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub date: NaiveDate,
    pub at: usize,
    pub kind: Kind,
}

/// The date a short text gives, read as a reader would: the first one
/// marked as a publication date, else the first unmarked one, else the
/// first marked as an update. Dates after today, before 1995, or that do
/// not exist (31 February) are not dates.
pub fn find_in_text(text: &str, order: Order) -> Option<NaiveDate> {
    best(&find_all(text, order, Utc::now().date_naive())).map(|f| f.date)
}

/// Published first, then unmarked, then modified; earliest in the text
/// within each.
pub fn best(found: &[Found]) -> Option<Found> {
    found.iter().min_by_key(|f| (f.kind, f.at)).copied()
}

/// Every date in `text` (its first [`MAX_TEXT_CHARS`] characters), in text
/// order, none later than `latest`.
pub fn find_all(text: &str, order: Order, latest: NaiveDate) -> Vec<Found> {
    let text = match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    };
    // (start, end, date) of each match, kinds read once they are in order.
    let mut spans: Vec<(usize, usize, NaiveDate)> = Vec::new();
    let mut push = |at: usize, end: usize, date: Option<NaiveDate>| {
        let Some(date) = date.filter(|d| d.year() >= 1995 && *d <= latest) else {
            return;
        };
        // A digit right before or after (or after a dot or dash) means the
        // match is part of a longer number: a phone number, an id, a version.
        let rest = &text.as_bytes()[end..];
        let glued = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_digit())
            || rest.first().is_some_and(u8::is_ascii_digit)
            || (rest.len() > 1 && b".-/".contains(&rest[0]) && rest[1].is_ascii_digit());
        if glued || spans.iter().any(|&(s, e, _)| s < end && at < e) {
            return;
        }
        spans.push((at, end, date));
    };
    for c in ISO.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        push(whole.start(), whole.end(), ymd(&c[1], &c[2], &c[3]));
    }
    for c in DOTTED.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        let year = short_year(&c[3], latest);
        push(
            whole.start(),
            whole.end(),
            year.and_then(|y| dm(y, &c[2], &c[1])),
        );
    }
    for c in SLASHED.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        let (a, b) = (number(&c[1]), number(&c[2]));
        let day_first = match (a, b) {
            (Some(a), _) if a > 12 => true,
            (_, Some(b)) if b > 12 => false,
            _ => order == Order::DayFirst,
        };
        let (day, month) = if day_first {
            (&c[1], &c[2])
        } else {
            (&c[2], &c[1])
        };
        push(whole.start(), whole.end(), ymd(&c[3], month, day));
    }
    for c in DAY_MONTH_YEAR.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        let date = months::number(&c[2]).and_then(|m| named(&c[3], m, &c[1]));
        push(whole.start(), whole.end(), date);
    }
    for c in MONTH_DAY_YEAR.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        let date = months::number(&c[1]).and_then(|m| named(&c[3], m, &c[2]));
        push(whole.start(), whole.end(), date);
    }
    for c in YEAR_MONTH_DAY.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        let date = months::number(&c[2]).and_then(|m| named(&c[1], m, &c[3]));
        push(whole.start(), whole.end(), date);
    }
    for c in EAST_ASIAN.captures_iter(text) {
        let whole = c.get(0).expect("group 0 is the match");
        push(whole.start(), whole.end(), ymd(&c[1], &c[2], &c[3]));
    }
    spans.sort_by_key(|&(at, _, _)| at);
    let mut previous_end = 0;
    spans
        .into_iter()
        .map(|(at, end, date)| {
            // Only the words since the previous date say what this one is.
            let kind = kind_before(&text[previous_end.min(at)..at]);
            previous_end = end;
            Found { date, at, kind }
        })
        .collect()
}

/// The date an address carries in its path: `/2019/10/16/`, `/2019-10-16-`,
/// `/20191016/`. A year and month alone (`/2019/10/`) say no day and give
/// nothing.
pub fn in_url(url: &Url) -> Option<NaiveDate> {
    static SEPARATED: LazyLock<Regex> =
        LazyLock::new(|| pattern(r"/((?:19|20)\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?:$|[/_.-])"));
    static COMPACT: LazyLock<Regex> =
        LazyLock::new(|| pattern(r"/((?:19|20)\d\d)(\d\d)(\d\d)(?:$|[/_.-])"));
    let path = url.path();
    let latest = Utc::now().date_naive();
    SEPARATED
        .captures_iter(path)
        .chain(COMPACT.captures_iter(path))
        .find_map(|c| ymd(&c[1], &c[2], &c[3]).filter(|d| d.year() >= 1995 && *d <= latest))
}

fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("a valid built-in pattern")
}

static ISO: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})"));
static DOTTED: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})"));
static SLASHED: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(\d{1,2})[/-](\d{1,2})[/-]((?:19|20)\d\d)"));
/// "16. Oktober 2019", "16 de octubre de 2019", "16th October, 2019",
/// "16 października 2019", "16-Oct-2019".
static DAY_MONTH_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"(?i)\b(\d{1,2})(?:st|nd|rd|th|er|e|º|°)?\.?[\s/-]+(?:de\s+|of\s+)?(\p{L}{3,14})\.?,?[\s/-]+(?:de\s+|del\s+)?((?:19|20)\d\d)",
    )
});
/// "October 16, 2019", "Oct. 16th 2019".
static MONTH_DAY_YEAR: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"(?i)\b(\p{L}{3,14})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d\d)")
});
/// "2019. október 16." (Hungarian), "2019 Oct 16".
static YEAR_MONTH_DAY: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"(?i)\b((?:19|20)\d\d)\.?\s+(\p{L}{3,14})\.?\s+(\d{1,2})\b"));
/// "2019年10月16日", "2019년 10월 16일".
static EAST_ASIAN: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"((?:19|20)\d\d)\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")
});

fn number(text: &str) -> Option<u32> {
    text.parse().ok()
}

fn ymd(year: &str, month: &str, day: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year.parse().ok()?, number(month)?, number(day)?)
}

fn dm(year: i32, month: &str, day: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?)
}

fn named(year: &str, month: u32, day: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year.parse().ok()?, month, number(day)?)
}

/// A four-digit year, or a two-digit one in this century up to `latest`.
fn short_year(text: &str, latest: NaiveDate) -> Option<i32> {
    let year: i32 = text.parse().ok()?;
    match text.len() {
        4 => Some(year),
        2 if 2000 + year <= latest.year() => Some(2000 + year),
        _ => None,
    }
}

/// Words that, just before a date, say what it dates.
const PUBLISHED_WORDS: &[&str] = &[
    "published",
    "posted",
    "veröffentlicht",
    "erschienen",
    "publié",
    "publiée",
    "publicado",
    "publicada",
    "pubblicato",
    "pubblicata",
    "gepubliceerd",
    "opublikowano",
    "publicerad",
    "publiceret",
    "publisert",
    "опубликовано",
    "yayınlanma",
    "yayınlandı",
    "julkaistu",
    "publikováno",
    "közzétéve",
];
const MODIFIED_WORDS: &[&str] = &[
    "updated",
    "update",
    "modified",
    "aktualisiert",
    "geändert",
    "mis à jour",
    "mise à jour",
    "actualizado",
    "actualizada",
    "actualización",
    "aggiornato",
    "aggiornata",
    "atualizado",
    "atualizada",
    "bijgewerkt",
    "gewijzigd",
    "zaktualizowano",
    "aktualizacja",
    "uppdaterad",
    "opdateret",
    "oppdatert",
    "обновлено",
    "güncellendi",
    "güncelleme",
    "päivitetty",
    "aktualizováno",
    "frissítve",
];

/// Reads the last few words before a date for a word saying what it is.
fn kind_before(before: &str) -> Kind {
    let start = before.char_indices().rev().nth(40).map_or(0, |(i, _)| i);
    let near = before[start..].to_lowercase();
    let last = |words: &[&str]| words.iter().filter_map(|w| near.rfind(w)).max();
    match (last(PUBLISHED_WORDS), last(MODIFIED_WORDS)) {
        (Some(p), Some(m)) if m > p => Kind::Modified,
        (Some(_), _) => Kind::Published,
        (None, Some(_)) => Kind::Modified,
        (None, None) => Kind::Plain,
    }
}

#[cfg(test)]
mod tests;
