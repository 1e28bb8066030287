//! Feed dates, read as leniently as the web writes them.
//!
//! feed-rs reads RFC 3339 and RFC 2822 (with some slack); feeds also carry
//! `2020/1/10 14:33:00`, dates without a time zone (read as UTC), named zones
//! such as `CEST` or `AEST`, and Unix epoch numbers. [`parse_timestamp`] is
//! installed through feed-rs' `Builder::timestamp_parser`: the fast standard
//! forms first, then feed-rs' own lenient reader (so everything it reads is
//! still read the same way), then the extra forms here.
//!
//! feed-rs assigns a date field once per element, so an unreadable
//! `<dc:date>` after a good `<pubDate>` would erase it; [`DateLog`] records
//! the texts that could not be read so that the caller can drop those
//! elements and parse again (see `repair::drop_elements_with_text`).

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Texts the timestamp parser could not read during one parse.
#[derive(Debug, Clone, Default)]
pub struct DateLog(Arc<Mutex<Vec<String>>>);

impl DateLog {
    /// A timestamp parser for feed-rs that records what it could not read here.
    pub fn parser(&self) -> impl Fn(&str) -> Option<DateTime<Utc>> + Send + Sync + 'static {
        let log = self.0.clone();
        move |text| {
            let parsed = parse_timestamp(text);
            if parsed.is_none() && !text.trim().is_empty() {
                log.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(text.to_owned());
            }
            parsed
        }
    }

    /// The distinct unreadable date texts seen so far (taken out of the log).
    pub fn take_unreadable(&self) -> Vec<String> {
        let mut texts = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        texts.sort();
        texts.dedup();
        texts
    }
}

/// Whether `time` is in years 0000–9999, the years RFC 3339 (and so every
/// export and the store) can write: any date read from outside that is not
/// is no date, or it would be exported as `+99999-01-01T00:00:00Z`, which a
/// strict consumer refuses.
pub fn representable(time: &DateTime<Utc>) -> bool {
    (0..=9999).contains(&time.year())
}

/// Reads one date as a feed writes it; `None` when nothing sensible can be
/// made of it, or when it is outside [`representable`] years.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    read_timestamp(text).filter(representable)
}

fn read_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_rfc2822(text))
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| feed_rs_timestamp(text))
        .or_else(|| epoch(text))
        .or_else(|| with_named_zone(text))
        .or_else(|| without_weekday(text))
        .or_else(|| numeric(text).map(|t| t.and_utc()))
}

/// feed-rs' own lenient reader. It is private to feed-rs, so it is reached
/// through a one-item JSON Feed whose date it parses with its default parser.
fn feed_rs_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let doc = serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "d", "date_published": text}],
    });
    let feed = feed_rs::parser::parse(doc.to_string().as_bytes()).ok()?;
    feed.entries.first()?.published
}

/// Seconds (10 digits) or milliseconds (13 digits) since 1970.
fn epoch(text: &str) -> Option<DateTime<Utc>> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: i64 = text.parse().ok()?;
    match text.len() {
        9 | 10 => Utc.timestamp_opt(value, 0).single(),
        13 => Utc.timestamp_millis_opt(value).single(),
        _ => None,
    }
}

/// Offsets of zone abbreviations that RFC 2822 does not name but feeds use.
fn zone_offset(name: &str) -> Option<i32> {
    let hours = match name.to_ascii_uppercase().as_str() {
        "UTC" | "GMT" | "UT" | "Z" | "WET" => 0.0,
        "BST" | "CET" | "MET" | "WEST" => 1.0,
        "CEST" | "MEST" | "EET" => 2.0,
        "EEST" | "MSK" => 3.0,
        "IST" => 5.5,
        "SGT" | "HKT" | "AWST" => 8.0,
        "JST" | "KST" => 9.0,
        "ACST" => 9.5,
        "AEST" => 10.0,
        "ACDT" => 10.5,
        "AEDT" => 11.0,
        "NZST" => 12.0,
        "NZDT" => 13.0,
        "AST" | "EDT" => -4.0,
        "EST" | "CDT" => -5.0,
        "CST" | "MDT" => -6.0,
        "MST" | "PDT" => -7.0,
        "PST" | "AKDT" => -8.0,
        "AKST" => -9.0,
        "HST" => -10.0,
        _ => return None,
    };
    Some((hours * 3600.0) as i32)
}

/// A date whose last word is a zone abbreviation: the rest read by the
/// other rules, then shifted by the zone's offset.
fn with_named_zone(text: &str) -> Option<DateTime<Utc>> {
    let (rest, zone) = text.rsplit_once(' ')?;
    let offset = FixedOffset::east_opt(zone_offset(zone.trim_matches(['(', ')']))?)?;
    let rest = rest.trim();
    let local = numeric(rest).or_else(|| {
        // An RFC 2822 date read as if it were UTC, the zone applied below.
        let as_utc = format!("{rest} +0000");
        DateTime::parse_from_rfc2822(&as_utc)
            .ok()
            .or_else(|| DateTime::parse_from_rfc2822(strip_weekday(&as_utc)).ok())
            .map(|t| t.naive_utc())
    })?;
    offset
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// RFC 2822 dates whose weekday is wrong (chrono rejects those).
fn without_weekday(text: &str) -> Option<DateTime<Utc>> {
    let stripped = strip_weekday(text);
    if stripped.len() == text.len() {
        return None;
    }
    DateTime::parse_from_rfc2822(stripped)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn strip_weekday(text: &str) -> &str {
    match text.split_once(',') {
        Some((day, rest)) if day.len() <= 9 && day.chars().all(char::is_alphabetic) => rest.trim(),
        _ => text,
    }
}

/// Numeric dates without a zone, read as UTC: `2020/1/10 14:33:00`,
/// `2004-02-28 18:14:55`, `2004-02-28T18:14`, `2004-02-28`, `2003-12`, `2003`.
fn numeric(text: &str) -> Option<NaiveDateTime> {
    const DATE_TIMES: &[&str] = &[
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%d.%m.%Y %H:%M:%S",
        "%d.%m.%Y %H:%M",
    ];
    const DATES: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d"];
    let text = text.trim_end_matches('Z');
    DATE_TIMES
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
        .or_else(|| {
            DATES
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(text, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .or_else(|| year_month(text))
}

/// W3C-DTF reduced precision: `2003-12` or `2003`.
fn year_month(text: &str) -> Option<NaiveDateTime> {
    let mut parts = text.split('-');
    let year: i32 = parts.next().filter(|y| y.len() == 4)?.parse().ok()?;
    let month: u32 = match parts.next() {
        Some(m) if m.len() == 2 => m.parse().ok()?,
        Some(_) => return None,
        None => 1,
    };
    if parts.next().is_some() {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn standard_forms_are_read() {
        assert_eq!(
            parse_timestamp("Tue, 02 Jan 2024 10:00:00 GMT"),
            Some(utc("2024-01-02T10:00:00Z"))
        );
        assert_eq!(
            parse_timestamp(" 2024-01-02T10:00:00+02:00 "),
            Some(utc("2024-01-02T08:00:00Z"))
        );
    }

    #[test]
    fn years_rfc_3339_cannot_write_are_no_dates() {
        for text in [
            "Mon, 01 Jan 99999 00:00:00 GMT",
            "+99999-01-01T00:00:00Z",
            "99999-01-01T00:00:00Z",
            "-0001-12-31T00:00:00Z",
        ] {
            assert_eq!(parse_timestamp(text), None, "{text}");
        }
        assert_eq!(
            parse_timestamp("9999-12-31T23:59:59Z"),
            Some(utc("9999-12-31T23:59:59Z"))
        );
    }

    #[test]
    fn slashed_and_zoneless_dates_are_utc() {
        assert_eq!(
            parse_timestamp("2020/1/10 14:33:00"),
            Some(utc("2020-01-10T14:33:00Z"))
        );
        assert_eq!(
            parse_timestamp("2004-02-28 18:14:55"),
            Some(utc("2004-02-28T18:14:55Z"))
        );
        assert_eq!(
            parse_timestamp("2003-12"),
            Some(utc("2003-12-01T00:00:00Z"))
        );
    }

    #[test]
    fn named_zones_are_applied() {
        assert_eq!(
            parse_timestamp("Mon, 15 Jul 2019 14:00:00 CEST"),
            Some(utc("2019-07-15T12:00:00Z"))
        );
        assert_eq!(
            parse_timestamp("2019-07-15 14:00:00 AEST"),
            Some(utc("2019-07-15T04:00:00Z"))
        );
    }

    #[test]
    fn epoch_numbers_and_wrong_weekdays() {
        assert_eq!(
            parse_timestamp("1577836800"),
            Some(utc("2020-01-01T00:00:00Z"))
        );
        assert_eq!(
            parse_timestamp("1577836800000"),
            Some(utc("2020-01-01T00:00:00Z"))
        );
        // 2 January 2024 was a Tuesday.
        assert_eq!(
            parse_timestamp("Fri, 02 Jan 2024 10:00:00 +0000"),
            Some(utc("2024-01-02T10:00:00Z"))
        );
    }

    #[test]
    fn nonsense_is_none_and_logged() {
        let log = DateLog::default();
        let parser = log.parser();
        assert_eq!(parser("yesterday-ish"), None);
        assert_eq!(parser("12"), None);
        assert!(parser("2024-01-02").is_some());
        assert_eq!(parser("12"), None);
        assert_eq!(log.take_unreadable(), ["12", "yesterday-ish"]);
        assert!(log.take_unreadable().is_empty());
    }
}
