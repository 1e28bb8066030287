//! The `[[feeds]]` entries checked: URLs parsed, names given or derived
//! and unique, schedules, selectors, requests and filters with the
//! sections' defaults applied.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;

use toml::Spanned;
use url::Url;

use super::{
    CssSelector, FeedConfig, FeedRequest, Positions, Problem, RawFeed, RawFilter, config_folder,
    request,
};
use crate::filter::Filter;
use crate::schedule::FeedSchedule;

/// What a feed takes from the sections above it unless it says otherwise.
pub(super) struct FeedDefaults<'a> {
    pub(super) schedule: &'a FeedSchedule,
    pub(super) request: &'a FeedRequest,
    pub(super) filter: &'a Filter,
}

pub(super) fn check_feeds(
    raw_feeds: Vec<RawFeed>,
    defaults: &FeedDefaults<'_>,
    at: &Positions<'_>,
    problems: &mut Vec<Problem>,
) -> Vec<FeedConfig> {
    let mut feeds = Vec::with_capacity(raw_feeds.len());
    let mut seen_urls: HashMap<String, usize> = HashMap::new();
    // Values are byte offsets of the first use; turned into a line number
    // only for a message (counting lines for every feed would cost O(n²)).
    let mut explicit_names: HashMap<String, usize> = HashMap::new();
    let mut derived_names: HashSet<String> = HashSet::new();
    // Feeds that share an expression share its compiled schedule.
    let mut schedules: HashMap<String, FeedSchedule> = HashMap::new();

    for raw in &raw_feeds {
        if let Some(name) = &raw.name {
            if name.get_ref().trim().is_empty() {
                problems.push(at.at(name, "feed name must not be empty"));
            } else if let Some(&first) = explicit_names.get(name.get_ref()) {
                problems.push(at.at(
                    name,
                    format!(
                        "duplicate feed name {:?} (first used on line {}); names must be unique",
                        name.get_ref(),
                        at.problem(first, "").line
                    ),
                ));
            } else {
                explicit_names.insert(name.get_ref().clone(), name.span().start);
            }
        }
    }

    for mut raw in raw_feeds {
        // A feed with a bad or duplicate URL is still checked to the end, so
        // that one run reports every problem.
        let url = match parse_feed_url(raw.url.get_ref()) {
            Ok(url) => match seen_urls.get(url.as_str()) {
                Some(&first) => {
                    let first = at.problem(first, "").line;
                    problems.push(at.at(
                        &raw.url,
                        format!(
                            "duplicate feed URL {} (first used on line {first})",
                            crate::redact::url(&url)
                        ),
                    ));
                    None
                }
                None => {
                    seen_urls.insert(url.as_str().to_owned(), raw.url.span().start);
                    Some(url)
                }
            },
            Err(message) => {
                problems.push(at.at(&raw.url, message));
                None
            }
        };
        let feed_label = url.as_ref().map_or_else(
            || raw.url.get_ref().clone(),
            |url| crate::redact::url(url).to_string(),
        );

        let schedule = match &raw.schedule {
            Some(s) => match schedules.get(s.get_ref().trim()) {
                Some(parsed) => parsed.clone(),
                None => {
                    let parsed = FeedSchedule::from_str(s.get_ref()).unwrap_or_else(|e| {
                        problems.push(at.at(s, format!("schedule of feed {feed_label}: {e}")));
                        defaults.schedule.clone()
                    });
                    schedules.insert(s.get_ref().trim().to_owned(), parsed.clone());
                    parsed
                }
            },
            None => defaults.schedule.clone(),
        };

        let mut selector = |s: &Spanned<String>| match CssSelector::parse(s.get_ref()) {
            Ok(sel) => Some(sel),
            Err(message) => {
                problems.push(at.at(s, message));
                None
            }
        };
        let content_selector = raw.content_selector.as_ref().and_then(&mut selector);
        let remove_selectors = raw.remove_selectors.iter().filter_map(selector).collect();

        let own_filter = RawFilter {
            block: std::mem::take(&mut raw.block),
            keep: std::mem::take(&mut raw.keep),
        };
        let filter = defaults.filter.and(&own_filter.check(at, problems));
        let raw_request = raw.take_request();
        if let (Some(username), Some(url)) = (&raw_request.username, &url)
            && (!url.username().is_empty() || url.password().is_some())
        {
            problems.push(at.at(
                username,
                format!("feed {feed_label}: its URL already has credentials; give them once, in the URL or as username"),
            ));
        }
        let request = request::check(
            &raw_request,
            defaults.request,
            &format!("feed {feed_label}"),
            config_folder(at),
            at,
            problems,
        );

        let source = super::scrape::check(raw.scrape, raw.json, &feed_label, at, problems);
        let Some(url) = url else {
            continue;
        };
        let name = match raw.name {
            Some(name) => name.into_inner(),
            None => derive_name(&url, &explicit_names, &mut derived_names),
        };

        feeds.push(FeedConfig {
            url,
            name,
            schedule,
            full_text: raw.full_text.unwrap_or(true),
            content_selector,
            remove_selectors,
            tags: raw.tags,
            request,
            filter,
            source,
        });
    }
    feeds
}

/// Parses an operator-given feed URL; only http and https are fetched.
fn parse_feed_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("invalid feed URL {text:?}: {e}"))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "http" | "https" => Err(format!("invalid feed URL {text:?}: no host")),
        other => Err(format!(
            "invalid feed URL {text:?}: scheme {other:?} is not supported (use http or https)"
        )),
    }
}

/// A name from the host (`www.` dropped); when that is taken, host and path.
/// `derived` holds the names derived so far (a set: configs of 10,000
/// feeds on one host must not cost a scan per feed).
fn derive_name(
    url: &Url,
    explicit: &HashMap<String, usize>,
    derived: &mut HashSet<String>,
) -> String {
    let host = url.host_str().unwrap_or("feed");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let taken = |n: &str| explicit.contains_key(n) || derived.contains(n);
    let with_path = format!("{host}{}", url.path().trim_end_matches('/'));
    let name = if !taken(host) {
        host.to_owned()
    } else if !taken(&with_path) {
        with_path
    } else {
        (2..)
            .map(|n| format!("{with_path}#{n}"))
            .find(|n| !taken(n))
            .expect("an unused name exists")
    };
    derived.insert(name.clone());
    name
}
