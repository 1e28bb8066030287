//! Filter rules (`block` and `keep`, per feed and in `[filter]`): which
//! entries become articles.
//!
//! A rule is a field and a regex, `"title: (?i)sponsored"`. An entry is
//! dropped when any `block` rule matches it, or when there are `keep` rules
//! and none matches. Rules are applied twice: [`Filter::before_fetch`] on the
//! entry as the feed gives it (a dropped entry costs no page download and is
//! not stored), and [`Filter::on_full_text`] on the article's text once it
//! is built, for the rules that name `content`. A `keep` rule on `content`
//! that the feed's own text does not match leaves the entry undecided until
//! its page is read. Pure and synchronous.

use std::fmt;

use regex::Regex;

use crate::article::text::html_to_text;
use crate::feed::Entry;

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Url,
    Author,
    /// The feed's content (or summary) before the page fetch, the article's
    /// text after.
    Content,
    /// The feed's `tags` from the config.
    Tags,
    /// The entry's own categories.
    Category,
}

impl Field {
    const NAMES: [(&'static str, Field); 6] = [
        ("title", Field::Title),
        ("url", Field::Url),
        ("author", Field::Author),
        ("content", Field::Content),
        ("tags", Field::Tags),
        ("category", Field::Category),
    ];
}

/// One `field: regex` rule, compiled.
#[derive(Clone)]
pub struct Rule {
    field: Field,
    regex: Regex,
    source: String,
}

impl Rule {
    /// Parses `field: regex`; the error says what is wrong.
    pub fn parse(text: &str) -> Result<Rule, String> {
        let Some((field, pattern)) = text.split_once(':') else {
            return Err(format!(
                "filter rule {text:?}: write `field: regex` (fields: {})",
                field_names()
            ));
        };
        let name = field.trim().to_ascii_lowercase();
        let Some(&(_, field)) = Field::NAMES.iter().find(|(n, _)| *n == name) else {
            return Err(format!(
                "filter rule {text:?}: unknown field {:?} (fields: {})",
                field.trim(),
                field_names()
            ));
        };
        let pattern = pattern.trim_start();
        let regex = regex::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("filter rule {text:?}: the regex does not compile: {e}"))?;
        Ok(Rule {
            field,
            regex,
            source: text.to_owned(),
        })
    }

    fn matches(&self, entry: &Fields<'_>) -> bool {
        let one = |value: Option<&str>| value.is_some_and(|v| self.regex.is_match(v));
        match self.field {
            Field::Title => one(entry.title),
            Field::Url => one(entry.url),
            Field::Author => one(entry.author),
            Field::Content => one(entry.content),
            Field::Tags => entry.tags.iter().any(|t| self.regex.is_match(t)),
            Field::Category => entry.categories.iter().any(|c| self.regex.is_match(c)),
        }
    }
}

fn field_names() -> String {
    Field::NAMES.map(|(n, _)| n).join(", ")
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Rule({:?})", self.source)
    }
}

/// An entry's fields as the rules see them.
#[derive(Debug, Default, Clone, Copy)]
pub struct Fields<'a> {
    pub title: Option<&'a str>,
    pub url: Option<&'a str>,
    pub author: Option<&'a str>,
    pub content: Option<&'a str>,
    pub tags: &'a [String],
    pub categories: &'a [String],
}

/// What the rules say about an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Drop,
    /// Only a `keep` rule on `content` could keep it: decide on the article's text.
    AwaitText,
}

/// The `block` and `keep` rules of one feed (`[filter]`'s included).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub block: Vec<Rule>,
    pub keep: Vec<Rule>,
}

impl Filter {
    /// `self`'s rules followed by `more`'s.
    pub fn and(&self, more: &Filter) -> Filter {
        Filter {
            block: self.block.iter().chain(&more.block).cloned().collect(),
            keep: self.keep.iter().chain(&more.keep).cloned().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.block.is_empty() && self.keep.is_empty()
    }

    /// The verdict on an entry as its feed gives it (`content`: the feed's
    /// text of it).
    pub fn before_fetch(&self, entry: &Fields<'_>) -> Verdict {
        if self.block.iter().any(|r| r.matches(entry)) {
            return Verdict::Drop;
        }
        if self.keep.is_empty() || self.keep.iter().any(|r| r.matches(entry)) {
            return Verdict::Keep;
        }
        if self.keep.iter().any(|r| r.field == Field::Content) {
            Verdict::AwaitText
        } else {
            Verdict::Drop
        }
    }

    /// [`Filter::before_fetch`] for each entry of a feed whose config gives
    /// `tags`. CPU work when a rule names `content` (the entries' HTML
    /// becomes text): not for the reactor.
    pub fn entries(&self, entries: &[Entry], tags: &[String]) -> Vec<Verdict> {
        let on_content = self
            .block
            .iter()
            .chain(&self.keep)
            .any(|r| r.field == Field::Content);
        entries
            .iter()
            .map(|entry| {
                let content = on_content
                    .then(|| {
                        let html = entry.content_html.as_ref().or(entry.summary_html.as_ref());
                        html.map(|h| html_to_text(h))
                    })
                    .flatten();
                let fields = Fields {
                    title: entry.title.as_deref(),
                    url: entry.url.as_ref().map(url::Url::as_str),
                    author: entry.author.as_deref(),
                    content: content.as_deref(),
                    tags,
                    categories: &entry.categories,
                };
                self.before_fetch(&fields)
            })
            .collect()
    }

    /// Whether an article that [`Filter::before_fetch`] gave `before` is
    /// kept, now that its text is known: the `content` rules once more.
    pub fn on_full_text(&self, before: Verdict, text: Option<&str>) -> bool {
        let content = Fields {
            content: text,
            ..Fields::default()
        };
        let on_content = |r: &&Rule| r.field == Field::Content;
        if self
            .block
            .iter()
            .filter(on_content)
            .any(|r| r.matches(&content))
        {
            return false;
        }
        match before {
            Verdict::Keep => true,
            Verdict::Drop => false,
            Verdict::AwaitText => self
                .keep
                .iter()
                .filter(on_content)
                .any(|r| r.matches(&content)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(block: &[&str], keep: &[&str]) -> Filter {
        let rules = |r: &[&str]| r.iter().map(|t| Rule::parse(t).unwrap()).collect();
        Filter {
            block: rules(block),
            keep: rules(keep),
        }
    }

    #[test]
    fn rules_parse_with_their_field_and_report_what_is_wrong() {
        assert!(Rule::parse("Title: (?i)sponsored|advert").is_ok());
        assert!(Rule::parse("url:/video/").is_ok());
        assert!(
            Rule::parse("title (?i)x")
                .unwrap_err()
                .contains("write `field: regex`")
        );
        assert!(
            Rule::parse("body: x")
                .unwrap_err()
                .contains("unknown field \"body\"")
        );
        assert!(
            Rule::parse("title: (unclosed")
                .unwrap_err()
                .contains("does not compile")
        );
    }

    #[test]
    fn block_wins_keep_narrows_and_content_keeps_wait_for_the_text() {
        let tags = ["rust".to_owned()];
        let categories = ["Sponsored".to_owned()];
        let entry = Fields {
            title: Some("Release notes"),
            url: Some("https://a.example/video/1"),
            content: Some("short teaser"),
            tags: &tags,
            categories: &categories,
            ..Fields::default()
        };
        assert_eq!(Filter::default().before_fetch(&entry), Verdict::Keep);
        assert_eq!(
            filter(&["url: /video/"], &[]).before_fetch(&entry),
            Verdict::Drop
        );
        assert_eq!(
            filter(&["category: ^sponsored$"], &[]).before_fetch(&entry),
            Verdict::Keep
        );
        assert_eq!(
            filter(&["category: (?i)^sponsored$"], &[]).before_fetch(&entry),
            Verdict::Drop
        );
        assert_eq!(
            filter(&[], &["tags: ^rust$"]).before_fetch(&entry),
            Verdict::Keep
        );
        assert_eq!(
            filter(&[], &["author: ."]).before_fetch(&entry),
            Verdict::Drop
        );
        let on_text = filter(&["content: paywall"], &["content: borrow checker"]);
        let before = on_text.before_fetch(&entry);
        assert_eq!(before, Verdict::AwaitText);
        assert!(on_text.on_full_text(before, Some("all about the borrow checker")));
        assert!(!on_text.on_full_text(before, Some("nothing relevant")));
        assert!(!on_text.on_full_text(Verdict::Keep, Some("behind a paywall, borrow checker")));
    }
}
