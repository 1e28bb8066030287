//! `[feeds.json]`: a JSON document's entries read with dot paths
//! (`data.posts`, `media.0.url`), each but `items` relative to its item.

use serde_json::Value;
use url::Url;

use super::{Entry, entry, image, web_link};
use crate::feed::dates::parse_timestamp;

/// A path into a JSON value: keys and array indices separated by dots.
/// A segment of digits is an index in an array and a key in an object.
#[derive(Debug, Clone, PartialEq)]
pub struct DotPath {
    source: String,
    steps: Vec<String>,
}

/// Why a dot path is not well formed, and where in it (a character offset).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid dot path (at character {at}): {message}")]
pub struct DotPathError {
    pub at: usize,
    pub message: String,
}

impl DotPath {
    /// Checks `source`: segments separated by single dots, none empty, no
    /// whitespace, and an index that fits in memory. A lone `.` is the
    /// value itself (an API that answers with a bare array).
    pub fn parse(source: &str) -> Result<DotPath, DotPathError> {
        if source == "." {
            return Ok(DotPath {
                source: source.to_owned(),
                steps: Vec::new(),
            });
        }
        let mut steps = Vec::new();
        let mut at = 0;
        for segment in source.split('.') {
            if segment.is_empty() {
                let message = if source.is_empty() {
                    "the path is empty: give the keys to follow, such as `data.posts`"
                } else {
                    "an empty segment (two dots in a row, or a dot at an end)"
                };
                return Err(DotPathError {
                    at,
                    message: message.into(),
                });
            }
            if let Some((i, c)) = segment.char_indices().find(|(_, c)| c.is_whitespace()) {
                return Err(DotPathError {
                    at: at + segment[..i].chars().count(),
                    message: format!("{c:?} in a segment: keys are written without spaces"),
                });
            }
            if segment.bytes().all(|b| b.is_ascii_digit()) && segment.parse::<u32>().is_err() {
                return Err(DotPathError {
                    at,
                    message: format!("index {segment} is too large"),
                });
            }
            steps.push(segment.to_owned());
            at += segment.chars().count() + 1;
        }
        Ok(DotPath {
            source: source.to_owned(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The value the path leads to from `value`, when every step exists.
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        self.steps.iter().try_fold(value, |v, step| match v {
            Value::Object(map) => map.get(step),
            Value::Array(items) => step.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
    }
}

/// The paths of one `[feeds.json]` block, checked by `config`. `None`: the
/// item's own `title`, `url` (else `link`), `date_published` (else
/// `published`, `date`), `summary`; no author, image or id.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonRules {
    /// An array, one element per entry (required).
    pub items: DotPath,
    pub title: Option<DotPath>,
    pub link: Option<DotPath>,
    pub published: Option<DotPath>,
    pub summary: Option<DotPath>,
    pub author: Option<DotPath>,
    pub image: Option<DotPath>,
    /// The entry's identity; else its link.
    pub id: Option<DotPath>,
}

pub(super) fn entries(
    rules: &JsonRules,
    bytes: &[u8],
    content_type: Option<&str>,
    base: &Url,
) -> Result<(Option<String>, Vec<Entry>), String> {
    let text = crate::encoding::decode_xml(bytes, content_type);
    // serde_json refuses nesting past 128 levels: depth is bounded.
    let document: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .map_err(|e| format!("not a JSON document: {e}"))?;
    let items = match rules.items.get(&document) {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => {
            return Err(format!(
                "no items in the document: `{}` is an empty array (has the API changed?)",
                rules.items.as_str()
            ));
        }
        Some(_) => {
            return Err(format!(
                "no items in the document: `{}` is not an array (check [feeds.json] items)",
                rules.items.as_str()
            ));
        }
        None => {
            return Err(format!(
                "no items in the document: `{}` is not in it (has the API changed? check [feeds.json] items)",
                rules.items.as_str()
            ));
        }
    };
    let entries: Vec<Entry> = items
        .iter()
        .filter_map(|item| read_item(rules, item, base))
        .collect();
    if entries.is_empty() {
        return Err(format!(
            "no entries in the document: none of the {} items of `{}` has a title, a link or an id (check [feeds.json] title and link)",
            items.len(),
            rules.items.as_str()
        ));
    }
    Ok((None, entries))
}

fn read_item(rules: &JsonRules, item: &Value, base: &Url) -> Option<Entry> {
    let field = |path: &Option<DotPath>, defaults: &[&str]| -> Option<String> {
        match path {
            Some(path) => path.get(item).and_then(scalar),
            None => defaults
                .iter()
                .find_map(|key| item.get(key).and_then(scalar)),
        }
    };
    let link = field(&rules.link, &["url", "link"]).and_then(|href| web_link(base, &href));
    let title = field(&rules.title, &["title"]).map(|t| super::cut(&t, usize::MAX));
    let summary = field(&rules.summary, &["summary"]);
    let id = rules.id.as_ref().and_then(|p| p.get(item)).and_then(scalar);
    let mut entry = entry(id, link, title, summary)?;
    entry.published = field(&rules.published, &["date_published", "published", "date"])
        .as_deref()
        .and_then(parse_timestamp);
    entry.author = rules
        .author
        .as_ref()
        .and_then(|p| p.get(item))
        .and_then(scalar);
    if let Some(src) = rules
        .image
        .as_ref()
        .and_then(|p| p.get(item))
        .and_then(scalar)
        && let Some(url) = web_link(base, &src)
    {
        entry.enclosures.push(image(url));
    }
    Some(entry)
}

/// A string, number or boolean as text; objects, arrays and null are not
/// a field's value.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_paths_follow_keys_and_indices() {
        let doc: Value = serde_json::json!({"data": {"posts": [{"media": [{"url": "x"}]}]}});
        let path = DotPath::parse("data.posts.0.media.0.url").unwrap();
        assert_eq!(path.get(&doc), Some(&Value::String("x".into())));
        assert_eq!(DotPath::parse("data.posts.1").unwrap().get(&doc), None);
        let bare = serde_json::json!([{"title": "a"}]);
        assert_eq!(DotPath::parse(".").unwrap().get(&bare), Some(&bare));
    }

    #[test]
    fn malformed_dot_paths_say_where() {
        assert_eq!(DotPath::parse("data..posts").unwrap_err().at, 5);
        assert_eq!(DotPath::parse("data.po sts").unwrap_err().at, 7);
        assert_eq!(DotPath::parse("").unwrap_err().at, 0);
        assert_eq!(DotPath::parse("a.").unwrap_err().at, 2);
        assert!(DotPath::parse("a.99999999999").is_err());
    }
}
