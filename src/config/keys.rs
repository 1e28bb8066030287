//! Which keys each table may have, and every key a file has that none
//! does, reported at its position beside every other problem (serde would
//! stop at the first).

use super::{Positions, Problem, dedup, deliver};

/// The keys each table may have.
const KNOWN_KEYS: &[(&str, &[&str])] = &[
    (
        "storage",
        &[
            "database",
            "password_file",
            "ca_file",
            "keep_days",
            "keep_html",
            "max_articles_per_feed",
            "lease_secs",
        ],
    ),
    (
        "fetch",
        &[
            "user_agent",
            "timeout_secs",
            "max_feed_bytes",
            "max_article_bytes",
            "concurrency",
            "per_host_concurrency",
            "per_host_interval_ms",
            "allow_private_networks",
            "max_retry_after",
            "headers",
            "cookies",
            "proxy",
        ],
    ),
    ("schedule", &["default", "adaptive_min", "adaptive_max"]),
    ("metrics", &["listen"]),
    ("filter", &["block", "keep"]),
    ("extraction", &["site_config_dir"]),
    ("deliver", deliver::KEYS),
    ("dedup", dedup::KEYS),
    (
        "feeds",
        &[
            "url",
            "name",
            "schedule",
            "full_text",
            "content_selector",
            "remove_selectors",
            "tags",
            "user_agent",
            "headers",
            "cookies",
            "username",
            "password",
            "password_file",
            "headers_file",
            "block",
            "keep",
            "proxy",
            "scrape",
            "json",
        ],
    ),
    ("feeds.scrape", super::scrape::SCRAPE_KEYS),
    ("feeds.json", super::scrape::JSON_KEYS),
];

/// Every key of `text` that no table of [`KNOWN_KEYS`] has, at its
/// position. A document toml cannot parse gives none here (the parse error
/// is reported by serde).
pub(super) fn unknown_keys(text: &str, at: &Positions<'_>) -> Vec<Problem> {
    let Ok(document) = toml_edit::Document::parse(text) else {
        return Vec::new();
    };
    let mut problems = Vec::new();
    let mut check = |table: &dyn toml_edit::TableLike, section: Option<&str>| {
        let known: &[&str] = match section {
            None => &[
                "storage",
                "fetch",
                "schedule",
                "metrics",
                "filter",
                "extraction",
                "feeds",
                "deliver",
                "dedup",
            ],
            Some(name) => KNOWN_KEYS
                .iter()
                .find(|(s, _)| *s == name)
                .map_or(&[], |(_, keys)| *keys),
        };
        for (key, _) in table.iter() {
            if known.contains(&key) {
                continue;
            }
            let offset = table.key(key).and_then(|k| k.span()).map_or(0, |s| s.start);
            let place = section.map_or_else(|| "the top level".to_owned(), |s| format!("[{s}]"));
            problems.push(at.problem(
                offset,
                format!(
                    "unknown key `{key}` in {place} (known keys: {})",
                    known.join(", ")
                ),
            ));
        }
    };
    let root = document.as_table();
    check(root, None);
    for (section, _) in KNOWN_KEYS {
        let Some(item) = root.get(section) else {
            continue;
        };
        if let Some(feeds) = item.as_array_of_tables() {
            for feed in feeds.iter() {
                check(feed, Some(section));
                for (key, sub) in [("scrape", "feeds.scrape"), ("json", "feeds.json")] {
                    if let Some(table) = feed.get(key).and_then(|t| t.as_table_like()) {
                        check(table, Some(sub));
                    }
                }
            }
        } else if let Some(array) = item.as_array() {
            for feed in array.iter().filter_map(|v| v.as_inline_table()) {
                check(feed, Some(section));
            }
        } else if let Some(table) = item.as_table_like() {
            check(table, Some(section));
        }
    }
    problems
}
