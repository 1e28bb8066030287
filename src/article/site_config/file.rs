//! One site file of Full-Text RSS's format into a [`SiteConfig`].
//!
//! A line is `directive: value` or a `#` comment. A line that does not parse,
//! or whose expression does not compile, is a [`Warning`] and is skipped; the
//! rest of the file still loads. Directives gleaner does not apply (`tidy`,
//! `test_url`, logins …) are counted, not errors.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::article::xpath::XPath;

/// The rules of one site file.
#[derive(Debug, Clone, Default)]
pub struct SiteConfig {
    /// Tried in order; the first that selects an element is the body.
    pub body: Vec<XPath>,
    /// Every element they select is removed (`strip`, and `strip_id_or_class`
    /// and `strip_image_src` turned into expressions).
    pub strip: Vec<XPath>,
    /// Every attribute they select is removed.
    pub strip_attr: Vec<XPath>,
    /// Tried in order; the first that gives text wins over the page's metadata.
    pub title: Vec<XPath>,
    pub author: Vec<XPath>,
    pub date: Vec<XPath>,
    /// The link to the article's next page.
    pub next_page_link: Vec<XPath>,
    /// The link to the whole article on one page (a print view).
    pub single_page_link: Vec<XPath>,
    /// Sent with requests for this site's pages: (name, value).
    pub http_headers: Vec<(String, String)>,
    /// Applied to the page's HTML before it is parsed: (find, replace).
    pub replacements: Vec<(String, String)>,
    /// `prune`: run the extractor's pruning of link lists inside a `body`.
    pub prune: Option<bool>,
    /// `autodetect_on_failure`: when no `body` matches, let the generic
    /// extractor find it (the default) or give no article.
    pub autodetect_on_failure: Option<bool>,
    /// Directives read but not applied, by name, and how often.
    pub ignored: BTreeMap<String, usize>,
}

/// A rule that was skipped, at its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Directives of the format that gleaner reads but does not apply.
const NOT_APPLIED: &[&str] = &[
    "tidy",
    "parser",
    "test_url",
    "test_contains",
    "login_uri",
    "login_username_field",
    "login_password_field",
    "login_extra_fields",
    "not_logged_in_xpath",
    "requires_login",
    "skip_json_ld",
    "insert_detected_image",
    "convert_double_br_tags",
    "wrap_in",
    "dissolve",
    "native_ad_clue",
    "footnotes",
    "autodetect_next_page",
    "if_page_contains",
    "strip_comments",
    "post_strip_attr",
    "move_into",
    "src_lazy_load_attr",
    "skip_id_or_class",
];

/// Headers a rule may not set: they belong to the connection or to the
/// fetcher's own framing.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
    "proxy-authorization",
    "accept-encoding",
];

impl SiteConfig {
    /// Parses the text of the file at `path` (named in warnings).
    pub fn parse(text: &str, path: &Path) -> (SiteConfig, Vec<Warning>) {
        let mut config = SiteConfig::default();
        let mut warnings = Vec::new();
        let mut finds: Vec<String> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let warn = |message: String| Warning {
                path: path.to_owned(),
                line: index + 1,
                message,
            };
            // `replace_string(FIND): REPLACE`, where FIND may hold a colon.
            let split = match line.find("):") {
                Some(end) if line.starts_with("replace_string(") => {
                    Some((&line[..=end], &line[end + 2..]))
                }
                _ => line.split_once(':'),
            };
            let Some((directive, value)) = split else {
                warnings.push(warn(format!(
                    "not a rule: {line:?} (write `directive: value`)"
                )));
                continue;
            };
            let (directive, value) = (directive.trim(), value.trim());
            let (name, argument) = match directive.split_once('(') {
                Some((name, rest)) => (name.trim(), rest.strip_suffix(')').map(str::trim)),
                None => (directive, None),
            };
            let name = name.to_ascii_lowercase();
            if let Err(message) = config.apply(&name, argument, value, &mut finds) {
                warnings.push(warn(format!("{directive}: {message}")));
            }
        }
        (config, warnings)
    }

    /// Takes in one directive; `Err` says why it was skipped.
    fn apply(
        &mut self,
        name: &str,
        argument: Option<&str>,
        value: &str,
        finds: &mut Vec<String>,
    ) -> Result<(), String> {
        let xpath = || XPath::compile(value).map_err(|e| e.to_string());
        let list = match name {
            "body" => &mut self.body,
            "strip" => &mut self.strip,
            "strip_attr" => &mut self.strip_attr,
            "title" => &mut self.title,
            "author" => &mut self.author,
            "date" => &mut self.date,
            "next_page_link" => &mut self.next_page_link,
            "single_page_link" => &mut self.single_page_link,
            "strip_id_or_class" | "strip_image_src" => {
                let needle: String = value.chars().filter(|c| !matches!(c, '\'' | '"')).collect();
                if needle.is_empty() {
                    return Err("an empty value would match everything".to_owned());
                }
                let source = if name == "strip_image_src" {
                    format!("//img[contains(@src, '{needle}')]")
                } else {
                    format!("//*[contains(@class, '{needle}') or contains(@id, '{needle}')]")
                };
                let compiled = XPath::compile(&source).map_err(|e| e.to_string())?;
                self.strip.push(compiled);
                return Ok(());
            }
            "prune" | "autodetect_on_failure" => {
                let flag = match value.to_ascii_lowercase().as_str() {
                    "yes" | "true" => true,
                    "no" | "false" => false,
                    other => return Err(format!("{other:?} is not yes or no")),
                };
                if name == "prune" {
                    self.prune = Some(flag);
                } else {
                    self.autodetect_on_failure = Some(flag);
                }
                return Ok(());
            }
            "http_header" => {
                let header = argument
                    .filter(|a| !a.is_empty())
                    .ok_or("write the header's name in brackets: http_header(user-agent)")?
                    .to_ascii_lowercase();
                if FORBIDDEN_HEADERS.contains(&header.as_str()) {
                    return Err(format!("the {header} header is the fetcher's own"));
                }
                reqwest::header::HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| format!("{header:?} is not a header name"))?;
                reqwest::header::HeaderValue::from_str(value)
                    .map_err(|_| format!("{value:?} is not a header value"))?;
                self.http_headers.push((header, value.to_owned()));
                return Ok(());
            }
            "find_string" => {
                if value.is_empty() {
                    return Err("an empty find_string finds nothing".to_owned());
                }
                finds.push(value.to_owned());
                return Ok(());
            }
            "replace_string" => {
                // `replace_string(find): replace`, or after a `find_string` line.
                let find = match argument {
                    Some(find) if !find.is_empty() => find.to_owned(),
                    _ if !finds.is_empty() => finds.remove(0),
                    _ => return Err("no find_string before it".to_owned()),
                };
                self.replacements.push((find, value.to_owned()));
                return Ok(());
            }
            other => {
                let key = if NOT_APPLIED.contains(&other) {
                    other.to_owned()
                } else {
                    format!("{other} (unknown)")
                };
                *self.ignored.entry(key).or_default() += 1;
                return Ok(());
            }
        };
        if value.is_empty() {
            return Err("no expression".to_owned());
        }
        list.push(xpath()?);
        Ok(())
    }

    /// Adds `other`'s rules after this file's own (a more specific file
    /// first, then `global.txt`): lists are tried in that order, and a flag
    /// this file sets wins.
    pub(super) fn then(&mut self, other: &SiteConfig) {
        self.body.extend(other.body.iter().cloned());
        self.strip.extend(other.strip.iter().cloned());
        self.strip_attr.extend(other.strip_attr.iter().cloned());
        self.title.extend(other.title.iter().cloned());
        self.author.extend(other.author.iter().cloned());
        self.date.extend(other.date.iter().cloned());
        self.next_page_link
            .extend(other.next_page_link.iter().cloned());
        self.single_page_link
            .extend(other.single_page_link.iter().cloned());
        self.http_headers.extend(other.http_headers.iter().cloned());
        self.replacements.extend(other.replacements.iter().cloned());
        self.prune = self.prune.or(other.prune);
        self.autodetect_on_failure = self.autodetect_on_failure.or(other.autodetect_on_failure);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_are_read_and_broken_lines_are_warnings() {
        let text = "\
# a comment
body: //div[@id='story']
body://article
strip: //div[@class='share']
strip_id_or_class: 'promo'
strip_image_src: pixel.gif
title: //h1
http_header(User-Agent): Mozilla/5.0
find_string: <amp-img
replace_string: <img
replace_string(<b>:): <strong>
prune: no
autodetect_on_failure: no
tidy: no
test_url: https://site.example/a
frobnicate: yes
strip: //div[
this line has no colon
replace_string: orphan
";
        let (config, warnings) = SiteConfig::parse(text, Path::new("site.example.txt"));
        assert_eq!(config.body.len(), 2);
        assert_eq!(config.strip.len(), 3);
        assert_eq!(
            config.strip[1].as_str(),
            "//*[contains(@class, 'promo') or contains(@id, 'promo')]"
        );
        assert_eq!(config.title.len(), 1);
        assert_eq!(
            config.http_headers,
            [("user-agent".to_owned(), "Mozilla/5.0".to_owned())]
        );
        assert_eq!(
            config.replacements,
            [
                ("<amp-img".to_owned(), "<img".to_owned()),
                ("<b>:".to_owned(), "<strong>".to_owned())
            ]
        );
        assert_eq!(config.prune, Some(false));
        assert_eq!(config.autodetect_on_failure, Some(false));
        assert_eq!(config.ignored.get("tidy"), Some(&1));
        assert_eq!(config.ignored.get("frobnicate (unknown)"), Some(&1));
        let shown: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert!(shown[0].starts_with("site.example.txt:17: strip: invalid XPath"));
        assert!(shown[1].starts_with("site.example.txt:18: not a rule"));
        assert!(shown[2].starts_with("site.example.txt:19: replace_string: no find_string"));
    }
}
