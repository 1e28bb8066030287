//! `gleaner feeds`: every configured feed and its state.

use chrono::Utc;
use serde::Serialize;

use super::table::{print_table, shorten};
use super::{open_store, outln};
use crate::config::Config;
use crate::redact;
use crate::schedule::FeedSchedule;
use crate::store::model::FeedStatus;
use crate::store::{Access, format_time};

/// One row of `gleaner feeds --json`.
#[derive(Debug, Serialize)]
pub(super) struct FeedRow {
    name: String,
    url: String,
    /// The feed's own title as of its last parsed fetch (`name` is the
    /// config's).
    title: Option<String>,
    /// What its document was as of its last parsed fetch: `rss`, `atom`,
    /// `json` (JSON Feed), `html` (a scraped page) or `json-document`.
    format: Option<String>,
    /// Where its entries come from: `feed`, `scrape` (a page read with
    /// XPath) or `json` (a JSON document read with dot paths).
    kind: &'static str,
    /// `ok`, `not_modified`, `rate_limited`, `error`, `gone`, or `null` before the first poll.
    state: Option<String>,
    last_poll: Option<String>,
    last_success: Option<String>,
    last_error: Option<String>,
    consecutive_errors: u32,
    articles: u64,
    next_due: Option<String>,
    /// A cron expression or `adaptive`.
    schedule: String,
    /// For an adaptive schedule: the interval the feed's rhythm gave at its
    /// last successful poll.
    poll_interval_secs: Option<u64>,
    tags: Vec<String>,
    /// What the lenient parser had to fix in the last fetched document
    /// (`html-entities`, `truncated`, …); empty for a healthy feed.
    repairs: Vec<String>,
    /// Where the feed permanently redirects (301/308): put this URL in the config.
    moved_to: Option<String>,
    /// How many entries its `block`/`keep` rules dropped in its last fetched poll.
    filtered: u32,
    /// How many article pages its last fetched poll judged (`article::verdict`) …
    pages_judged: u32,
    /// … and how many of them were interstitials, by kind (`{"consent": 3}`).
    interstitials: std::collections::BTreeMap<&'static str, u32>,
    /// The proxy its feed URL is fetched through, without credentials.
    proxy: Option<String>,
    /// How many of its entries were merged into an article stored before
    /// as near-duplicates (`[dedup] near_duplicates`).
    near_duplicates: u64,
}

pub(super) fn feeds(config: &Config, json: bool) -> anyhow::Result<()> {
    let store = open_store(config, Access::Read)?;
    let mut statuses = store.feed_statuses()?;
    let now = Utc::now();
    let rows: Vec<FeedRow> = config
        .feeds
        .iter()
        .map(|feed| {
            let status: FeedStatus = statuses.remove(feed.url.as_str()).unwrap_or_default();
            let next_due = crate::pacing::next_due(&feed.schedule, status.next_attempt_at, now);
            let poll_interval_secs = match feed.schedule {
                FeedSchedule::Adaptive => status.poll_interval.map(|d| d.as_secs()),
                FeedSchedule::Cron(_) => None,
            };
            FeedRow {
                name: feed.name.clone(),
                url: redact::url(&feed.url).to_string(),
                title: status.title,
                format: status.format,
                kind: feed.source.kind(),
                state: status.state,
                last_poll: status.last_poll_at.map(format_time),
                last_success: status.last_success_at.map(format_time),
                last_error: status.last_error,
                consecutive_errors: status.consecutive_errors,
                articles: status.articles,
                next_due: next_due.map(format_time),
                schedule: feed.schedule.as_str().to_owned(),
                poll_interval_secs,
                tags: feed.tags.clone(),
                repairs: status.repairs,
                moved_to: status.moved_to.as_deref().map(redact::url_text),
                filtered: status.filtered,
                pages_judged: status.interstitials.pages,
                interstitials: status
                    .interstitials
                    .kinds
                    .iter()
                    .map(|(k, n)| (k.as_str(), *n))
                    .collect(),
                proxy: crate::config::proxy::choose(
                    feed.request.proxy(),
                    None,
                    &config.fetch.env_proxies,
                    &feed.url,
                )
                .map(|p| p.shown()),
                near_duplicates: status.near_duplicates,
            }
        })
        .collect();
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let status = match (r.state.as_deref(), &r.last_error) {
                (Some("ok"), _) => match (&r.moved_to, interstitial_status(r)) {
                    (None, Some(walls)) => format!("ok, {walls}"),
                    _ => "ok".to_owned(),
                },
                (Some("not_modified"), _) => "not-modified".to_owned(),
                // The URL has its own column: the cause is what matters.
                (Some(state), Some(error)) => {
                    let cause = error
                        .strip_prefix(r.url.as_str())
                        .and_then(|rest| rest.strip_prefix(": "))
                        .unwrap_or(error);
                    format!("{state}: {}", shorten(cause, 70))
                }
                (Some(state), None) => state.to_owned(),
                (None, _) => "never polled".to_owned(),
            };
            // The move is the config's to fix, whatever the last poll
            // answered (a 304, an error): shown until the URL is updated,
            // as `--json` keeps `moved_to`.
            let status = match &r.moved_to {
                Some(to) => format!("{status}, moved permanently to {to}"),
                None => status,
            };
            [
                r.name.clone(),
                r.url.clone(),
                r.last_poll.clone().unwrap_or_else(|| "-".into()),
                status,
                r.consecutive_errors.to_string(),
                r.articles.to_string(),
                r.next_due.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        [
            "NAME",
            "URL",
            "LAST POLL",
            "STATUS",
            "ERRORS",
            "ARTICLES",
            "NEXT DUE",
        ],
        &table,
    )
}

/// "3 of 4 pages were a consent wall", when most pages of the feed's last
/// fetched poll were interstitials (the feed's text was kept for them).
pub(super) fn interstitial_status(row: &FeedRow) -> Option<String> {
    let total: u32 = row.interstitials.values().sum();
    if total == 0 || u64::from(total) * 2 <= u64::from(row.pages_judged) {
        return None;
    }
    let (main, _) = row.interstitials.iter().max_by_key(|(_, n)| **n)?;
    let described = crate::article::verdict::Kind::parse(main)?.described();
    let pages = row.pages_judged;
    Some(match row.interstitials.len() {
        1 => format!("{total} of {pages} pages were {described}"),
        _ => format!("{total} of {pages} pages were interstitials, most {described}"),
    })
}
