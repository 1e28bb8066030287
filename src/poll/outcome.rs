//! A poll's end written down: the feed's state and validators with its last
//! articles, or a failure with the next try `pacing` decides (the fetcher's
//! error reduced to the [`FetchFailure`](crate::pacing::FetchFailure) pacing
//! reads), and the report that says so.

use chrono::{DateTime, Utc};

use super::{Pipeline, ReportOutcome};
use crate::config::FeedConfig;
use crate::fetch::FetchError;
use crate::pacing::{self, FeedOutcome};
use crate::schedule::FeedSchedule;
use crate::store::model::{Cadence, Claim, PollRecord, Sighting};

impl Pipeline {
    /// Stores a failed poll; its report (the log line, `gleaner poll`'s
    /// line) says when the feed is tried again.
    pub(super) async fn record_failure(
        &self,
        feed: &FeedConfig,
        claim: &Claim,
        now: DateTime<Utc>,
        outcome: FeedOutcome,
        errors_before: u32,
    ) -> ReportOutcome {
        let note = pacing::retry_note(&outcome, errors_before, &feed.schedule, now);
        let error = match &outcome {
            FeedOutcome::Failed { error, .. } => Some(error.clone()),
            _ => None,
        };
        match self
            .record(feed, claim, now, outcome, None, Vec::new())
            .await
        {
            // Not when storing it failed: that report is the database's.
            ReportOutcome::Failed(stored) if Some(&stored) == error.as_ref() => {
                ReportOutcome::Failed(match note {
                    Some(note) => format!("{stored}; {note}"),
                    None => stored,
                })
            }
            other => other,
        }
    }

    /// Stores the poll; `fresh_for` is how long the server said the feed's
    /// response stays fresh.
    pub(super) async fn record(
        &self,
        feed: &FeedConfig,
        claim: &Claim,
        polled_at: DateTime<Utc>,
        outcome: FeedOutcome,
        fresh_for: Option<std::time::Duration>,
        sightings: Vec<Sighting>,
    ) -> ReportOutcome {
        self.try_record(feed, claim, polled_at, outcome, fresh_for, sightings)
            .await
            .unwrap_or_else(|e| self.write_failure(feed, e))
    }

    /// [`Pipeline::record`], with the database's error.
    pub(super) async fn try_record(
        &self,
        feed: &FeedConfig,
        claim: &Claim,
        polled_at: DateTime<Utc>,
        outcome: FeedOutcome,
        fresh_for: Option<std::time::Duration>,
        sightings: Vec<Sighting>,
    ) -> Result<ReportOutcome, crate::store::StoreError> {
        let report = match &outcome {
            FeedOutcome::Fetched { .. } => None,
            FeedOutcome::NotModified => Some(ReportOutcome::NotModified),
            FeedOutcome::Failed { error, .. } => Some(ReportOutcome::Failed(error.clone())),
        };
        let poll = PollRecord {
            feed_url: feed.url.as_str().to_owned(),
            feed_name: feed.name.clone(),
            polled_at,
            outcome,
            cadence: match feed.schedule {
                FeedSchedule::Cron(_) => Cadence::Cron,
                FeedSchedule::Adaptive => Cadence::Adaptive {
                    bounds: self.adaptive,
                    fresh_for,
                },
            },
            sightings,
            claim: claim.clone(),
        };
        let summary = self.write(feed, move |s| s.record_poll(&poll)).await?;
        if !matches!(report, Some(ReportOutcome::Failed(_))) {
            self.metrics
                .succeeded(feed.url.as_str(), &feed.name, polled_at);
        }
        Ok(report.unwrap_or(ReportOutcome::Fetched(summary)))
    }
}

/// What pacing needs to know of a failed fetch: a 429 or 503 (with its
/// Retry-After), a 410, or anything else.
pub(super) fn fetch_failure(error: &FetchError) -> pacing::FetchFailure {
    use reqwest::StatusCode;
    match error {
        FetchError::Status {
            status: StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE,
            retry_after,
            ..
        } => pacing::FetchFailure::Throttled {
            retry_after: *retry_after,
        },
        FetchError::Status {
            status: StatusCode::GONE,
            ..
        } => pacing::FetchFailure::Gone,
        _ => pacing::FetchFailure::Other,
    }
}
