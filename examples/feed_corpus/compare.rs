//! Field-by-field comparison of gleaner's entries with Python feedparser's,
//! read from the JSON that `scripts/feedparser_entries.py` writes.
//!
//! Entries of one file are paired by id, then by link, then by title, and
//! what is left in document order (gleaner stores oldest first, so its
//! leftovers are paired from the end). Agreement is counted over the pairs;
//! for `published`, over the pairs where both parsers found a date, with
//! one-sided dates counted apart.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use gleaner::feed::Entry;
use serde::Deserialize;
use url::Url;

/// One entry as feedparser read it.
#[derive(Debug, Deserialize)]
pub struct TheirEntry {
    id: Option<String>,
    title: Option<String>,
    link: Option<String>,
    published: Option<String>,
    author: Option<String>,
}

/// feedparser's entries of every corpus file, by manifest path.
pub fn read_feedparser(path: &Path) -> anyhow::Result<HashMap<String, Vec<TheirEntry>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// The fields compared, in the order they are printed.
pub const FIELDS: [&str; 4] = ["title", "link", "published", "author"];

/// Counts of one field over the paired entries.
#[derive(Default, Clone, Copy)]
pub struct FieldTally {
    pub compared: usize,
    pub agreed: usize,
    /// Only for `published`: dates one side found and the other did not.
    pub only_gleaner: usize,
    pub only_feedparser: usize,
}

impl FieldTally {
    /// Agreement in thousandths (1000 when nothing was compared).
    pub fn permille(&self) -> usize {
        (self.agreed * 1000)
            .checked_div(self.compared)
            .unwrap_or(1000)
    }
}

/// One disagreement, for `--list`.
pub struct Difference {
    pub path: String,
    pub field: &'static str,
    pub gleaner: Option<String>,
    pub feedparser: Option<String>,
}

/// The whole comparison.
#[derive(Default)]
pub struct Comparison {
    pub files_both_read: usize,
    pub gleaner_entries: usize,
    pub feedparser_entries: usize,
    pub paired: usize,
    pub paired_by: BTreeMap<&'static str, usize>,
    pub fields: BTreeMap<&'static str, FieldTally>,
    pub differences: Vec<Difference>,
}

/// gleaner's values of one entry, in the compared form.
struct Ours<'a> {
    entry: &'a Entry,
}

impl Ours<'_> {
    fn field(&self, field: &str) -> Option<String> {
        let e = self.entry;
        match field {
            "title" => e.title.clone(),
            "link" => e.url.as_ref().map(|u| u.to_string()),
            "published" => e.published.map(|t| t.to_rfc3339()),
            "author" => e.author.clone(),
            _ => None,
        }
    }
}

fn their_field(entry: &TheirEntry, field: &str) -> Option<String> {
    match field {
        "title" => entry.title.clone(),
        "link" => entry.link.clone(),
        "published" => entry.published.clone(),
        "author" => entry.author.clone(),
        _ => None,
    }
}

/// Whether two values of `field` say the same thing: links as parsed URLs,
/// dates as instants to the second (feedparser has no fractions), text with
/// whitespace collapsed.
fn same(field: &str, ours: Option<&str>, theirs: Option<&str>) -> bool {
    match (ours, theirs) {
        (None, None) => true,
        (Some(a), Some(b)) => match field {
            "link" => match (Url::parse(a), Url::parse(b.trim())) {
                (Ok(a), Ok(b)) => a == b,
                _ => a == b.trim(),
            },
            "published" => {
                let instant =
                    |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc));
                match (instant(a), instant(b)) {
                    // feedparser keeps whole seconds.
                    (Ok(a), Ok(b)) => a.timestamp() == b.timestamp(),
                    _ => a == b,
                }
            }
            _ => collapse(a) == collapse(b),
        },
        _ => false,
    }
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Pairs one file's entries: indexes into `ours` for each of `theirs`
/// (document order), with how each pair was found.
fn pair(ours: &[Entry], theirs: &[TheirEntry]) -> Vec<(usize, usize, &'static str)> {
    let mut free_ours: Vec<bool> = vec![true; ours.len()];
    let mut free_theirs: Vec<bool> = vec![true; theirs.len()];
    let mut pairs = Vec::new();
    type Key = fn(&Entry, &TheirEntry) -> bool;
    let rules: [(&'static str, Key); 3] = [
        ("id", |o, t| t.id.as_deref() == Some(o.id.as_str())),
        ("link", |o, t| {
            o.url.is_some() && same("link", o.url.as_ref().map(Url::as_str), t.link.as_deref())
        }),
        ("title", |o, t| {
            o.title.is_some() && same("title", o.title.as_deref(), t.title.as_deref())
        }),
    ];
    for (name, matches) in rules {
        for (ti, their) in theirs.iter().enumerate() {
            if !free_theirs[ti] {
                continue;
            }
            let found = (0..ours.len()).find(|&oi| free_ours[oi] && matches(&ours[oi], their));
            if let Some(oi) = found {
                free_ours[oi] = false;
                free_theirs[ti] = false;
                pairs.push((oi, ti, name));
            }
        }
    }
    let rest_ours = (0..ours.len()).rev().filter(|&oi| free_ours[oi]);
    let rest_theirs = (0..theirs.len()).filter(|&ti| free_theirs[ti]);
    pairs.extend(
        rest_ours
            .zip(rest_theirs)
            .map(|(oi, ti)| (oi, ti, "position")),
    );
    pairs
}

/// Compares every file both parsers read entries from.
pub fn compare<'a>(
    files: impl Iterator<Item = (&'a str, &'a [Entry])>,
    feedparser: &HashMap<String, Vec<TheirEntry>>,
) -> Comparison {
    let mut result = Comparison::default();
    for (path, ours) in files {
        let theirs = feedparser.get(path).map(Vec::as_slice).unwrap_or_default();
        result.gleaner_entries += ours.len();
        result.feedparser_entries += theirs.len();
        if ours.is_empty() || theirs.is_empty() {
            continue;
        }
        result.files_both_read += 1;
        for (oi, ti, how) in pair(ours, theirs) {
            result.paired += 1;
            *result.paired_by.entry(how).or_default() += 1;
            let ours = Ours { entry: &ours[oi] };
            for field in FIELDS {
                let (a, b) = (ours.field(field), their_field(&theirs[ti], field));
                let tally = result.fields.entry(field).or_default();
                if field == "published" {
                    match (&a, &b) {
                        (Some(_), None) => {
                            tally.only_gleaner += 1;
                            continue;
                        }
                        (None, Some(_)) => {
                            tally.only_feedparser += 1;
                            continue;
                        }
                        (None, None) => continue,
                        _ => {}
                    }
                }
                tally.compared += 1;
                if same(field, a.as_deref(), b.as_deref()) {
                    tally.agreed += 1;
                } else {
                    result.differences.push(Difference {
                        path: path.to_owned(),
                        field,
                        gleaner: a,
                        feedparser: b,
                    });
                }
            }
        }
    }
    result
}

impl Comparison {
    /// The summary lines CI shows.
    pub fn print(&self) {
        println!(
            "feedparser: files both read {}; entries gleaner {}, feedparser {}; paired {} {:?}",
            self.files_both_read,
            self.gleaner_entries,
            self.feedparser_entries,
            self.paired,
            self.paired_by
        );
        for field in FIELDS {
            let t = self.fields.get(field).copied().unwrap_or_default();
            let mut line = format!(
                "  {field:<10} agree {:>5}/{:<5} {:>5.1} %",
                t.agreed,
                t.compared,
                t.permille() as f64 / 10.0
            );
            if field == "published" {
                line.push_str(&format!(
                    " (where both have one; only gleaner {}, only feedparser {})",
                    t.only_gleaner, t.only_feedparser
                ));
            }
            println!("{line}");
        }
    }

    /// Every disagreement, one line each.
    pub fn list(&self) {
        for d in &self.differences {
            println!(
                "DIFF {:<9} {}: gleaner {:?} feedparser {:?}",
                d.field, d.path, d.gleaner, d.feedparser
            );
        }
    }
}

/// The name of a field's agreement in `feed_corpus.min`.
pub fn permille_key(field: &str) -> &'static str {
    match field {
        "title" => "feedparser_title_permille",
        "link" => "feedparser_link_permille",
        "published" => "feedparser_published_permille",
        _ => "feedparser_author_permille",
    }
}
