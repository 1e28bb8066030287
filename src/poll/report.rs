//! What a poll says it did: one feed's [`FeedReport`] (the log line and
//! `gleaner poll`'s line) and a pass's [`PassSummary`]. Kept apart from the
//! pipeline because the daemon, the CLI and the metrics read them without
//! running a poll.

use std::fmt;

use chrono::{DateTime, Utc};
use url::Url;

use crate::pacing::{self, Held, HoldReason};
use crate::store::model::PollSummary;

/// The result of polling one feed.
#[derive(Debug, Clone)]
pub struct FeedReport {
    pub feed: String,
    pub url: Url,
    pub outcome: ReportOutcome,
}

#[derive(Debug, Clone)]
pub enum ReportOutcome {
    Fetched(PollSummary),
    NotModified,
    Failed(String),
    /// Not polled.
    Skipped(Skip),
}

/// Why a feed was not polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Backing off, rate-limited or not due ([`pacing::hold`]).
    Held(Held),
    /// The previous poll of the feed is still running.
    Busy,
    /// Another instance on the same PostgreSQL database holds the feed's
    /// lease: it is polling the feed, or already did in this tick.
    Elsewhere,
    ShuttingDown,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Held(held) => held.fmt(f),
            Skip::Busy => f.write_str("the previous poll of this feed is still running"),
            Skip::Elsewhere => f.write_str("another instance is polling this feed (or just did)"),
            Skip::ShuttingDown => f.write_str("shutting down"),
        }
    }
}

impl fmt::Display for FeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            ReportOutcome::Fetched(s) => write!(
                f,
                "{}: ok, {} new, {} updated, {} already known",
                self.feed, s.new, s.updated, s.merged
            ),
            ReportOutcome::NotModified => write!(f, "{}: not modified", self.feed),
            ReportOutcome::Failed(e) => write!(f, "{}: failed: {e}", self.feed),
            ReportOutcome::Skipped(why) => write!(f, "{}: skipped: {why}", self.feed),
        }
    }
}

/// Totals of a pass over several feeds (the summary line of `gleaner poll`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassSummary {
    pub ok: usize,
    pub not_modified: usize,
    pub failed: usize,
    pub skipped: usize,
    pub new_articles: usize,
    /// The skipped feeds held back, by reason: how many, and the earliest
    /// end of their pauses.
    held: [(usize, Option<DateTime<Utc>>); 3],
}

impl PassSummary {
    pub fn add(&mut self, report: &FeedReport) {
        match &report.outcome {
            ReportOutcome::Fetched(s) => {
                self.ok += 1;
                self.new_articles += s.new;
            }
            ReportOutcome::NotModified => self.not_modified += 1,
            ReportOutcome::Failed(_) => self.failed += 1,
            ReportOutcome::Skipped(skip) => {
                self.skipped += 1;
                if let Skip::Held(held) = skip {
                    let (n, first) = &mut self.held[held.reason as usize];
                    *n += 1;
                    *first = Some(first.map_or(held.until, |t| t.min(held.until)));
                }
            }
        }
    }
}

impl fmt::Display for PassSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::plural::count;
        write!(
            f,
            "{}: {} ok, {} not modified, {} failed",
            count(
                (self.ok + self.not_modified + self.failed + self.skipped) as u64,
                "feed",
                "feeds"
            ),
            self.ok,
            self.not_modified,
            self.failed
        )?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
            let now = Utc::now();
            let reasons = [
                (HoldReason::RateLimited, "rate-limited"),
                (HoldReason::BackingOff, "backing off"),
                (HoldReason::NotDue, "not due"),
            ];
            let mut why: Vec<String> = reasons
                .iter()
                .filter_map(|(reason, label)| {
                    let (n, first) = self.held[*reason as usize];
                    let first = first?;
                    let next = if n == 1 { "until" } else { "the first until" };
                    Some(format!("{n} {label}, {next} {}", pacing::clock(first, now)))
                })
                .collect();
            let held: usize = self.held.iter().map(|(n, _)| n).sum();
            if self.skipped > held {
                why.push(format!(
                    "{} already polling or stopping",
                    self.skipped - held
                ));
            }
            write!(f, " ({})", why.join("; "))?;
        }
        write!(
            f,
            "; {}",
            count(self.new_articles as u64, "new article", "new articles")
        )
    }
}
