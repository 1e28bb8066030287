//! JSON Feed quirks: an old `version` URL (`http://jsonfeed.org/version/1`),
//! fields of the wrong type (`tags` as a string, numeric ids), and documents
//! cut off in the middle. Only used after the strict parse failed.

use serde_json::Value;

use super::repair::Repair;

/// Repairs a JSON Feed document; `None` when it is not a JSON Feed at all
/// (no `items` array, e.g. RSS-in-JSON) or nothing needed fixing.
pub fn repair_json(text: &str) -> Option<(String, Vec<Repair>)> {
    let mut repairs = Vec::new();
    let mut value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(_) => {
            let closed = close_truncated_json(text)?;
            repairs.push(Repair::JsonTruncated);
            serde_json::from_str(&closed).ok()?
        }
    };
    let feed = value.as_object_mut()?;
    let items = feed.get_mut("items")?.as_array_mut()?;
    let mut retyped = false;
    for item in items.iter_mut().filter_map(Value::as_object_mut) {
        if let Some(Value::String(tag)) = item.get("tags") {
            let tags = tag
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| Value::String(t.to_owned()))
                .collect();
            item.insert("tags".into(), Value::Array(tags));
            retyped = true;
        }
        if let Some(id @ (Value::Number(_) | Value::Bool(_))) = item.get("id") {
            let id = Value::String(id.to_string());
            item.insert("id".into(), id);
            retyped = true;
        }
    }
    if retyped {
        repairs.push(Repair::JsonFeedTypes);
    }
    let version_ok = feed
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v.starts_with("https://jsonfeed.org/version/1"));
    if !version_ok {
        feed.insert(
            "version".into(),
            Value::String("https://jsonfeed.org/version/1".into()),
        );
        repairs.push(Repair::JsonFeedVersion);
    }
    if repairs.is_empty() {
        return None;
    }
    Some((value.to_string(), repairs))
}

/// A JSON document cut short, cut back to just after the last object or
/// array that was complete and closed with what was still open.
pub fn close_truncated_json(text: &str) -> Option<String> {
    let mut open: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    // Where the last complete value ended, and the closers still open there.
    let mut last_complete: Option<(usize, Vec<u8>)> = None;
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => open.push(b'}'),
            b'[' => open.push(b']'),
            b'}' | b']' => {
                if open.pop() != Some(b) {
                    return None;
                }
                if open.is_empty() {
                    return None;
                }
                last_complete = Some((i + 1, open.clone()));
            }
            _ => {}
        }
    }
    let (cut, closers) = last_complete?;
    let mut out = text[..cut].to_owned();
    out.extend(closers.iter().rev().map(|&b| b as char));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_version_and_string_tags_are_fixed() {
        let doc = r#"{"version":"http://jsonfeed.org/version/1","items":[{"id":7,"tags":"a, b"}]}"#;
        let (fixed, repairs) = repair_json(doc).unwrap();
        assert_eq!(repairs, [Repair::JsonFeedTypes, Repair::JsonFeedVersion]);
        let value: Value = serde_json::from_str(&fixed).unwrap();
        assert_eq!(value["version"], "https://jsonfeed.org/version/1");
        assert_eq!(value["items"][0]["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(value["items"][0]["id"], "7");
    }

    #[test]
    fn truncated_json_keeps_complete_items() {
        let doc = r#"{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","title":"a}"},{"id":"2","ti"#;
        let closed = close_truncated_json(doc).unwrap();
        assert_eq!(
            closed,
            r#"{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","title":"a}"}]}"#
        );
        let (_, repairs) = repair_json(doc).unwrap();
        assert_eq!(repairs, [Repair::JsonTruncated]);
    }

    #[test]
    fn json_that_is_not_a_json_feed_is_left_alone() {
        assert!(repair_json(r#"{"rss":{"channel":{"item":[]}}}"#).is_none());
        assert!(repair_json("{").is_none());
        assert!(close_truncated_json("{}").is_none());
    }
}
