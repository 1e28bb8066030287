//! A poll's writes: the feed's state, and its sightings by the rules of
//! `dedup` (whose statements are in `shared::articles`).

use chrono::{DateTime, Utc};

use crate::pacing::FeedOutcome;
use crate::store::backend::Polls;
use crate::store::dedup;
use crate::store::model::{Cadence, Claim, PollRecord, PollSummary, Sighting};
use crate::store::shared::fence::fence;
use crate::store::sql::{Conn, SqlBackend};
use crate::store::{StoreError, format_time};

impl<B: SqlBackend> Polls for B {
    fn record_poll(&mut self, poll: &PollRecord) -> Result<PollSummary, StoreError> {
        // A poll that stores no sightings (a 304, a failure, an unchanged
        // feed) writes only its feed's row, which no other instance writes
        // while this one holds the feed's lease: no need to take turns.
        self.write(!poll.sightings.is_empty(), |tx| {
            fence(tx, &poll.feed_url, &poll.claim)?;
            let now = format_time(poll.polled_at);
            record_feed_state(tx, poll, &now)?;
            let summary = dedup::record_all(tx, &poll.feed_url, &now, &poll.sightings)?;
            let succeeded = !matches!(poll.outcome, FeedOutcome::Failed { .. });
            if let (Cadence::Adaptive { bounds, fresh_for }, true) = (poll.cadence, succeeded) {
                dedup::schedule_adaptive(tx, &poll.feed_url, poll.polled_at, bounds, fresh_for)?;
            }
            Ok(summary)
        })
    }

    fn record_sightings(
        &mut self,
        feed_url: &str,
        feed_name: &str,
        polled_at: DateTime<Utc>,
        sightings: &[Sighting],
        claim: &Claim,
    ) -> Result<PollSummary, StoreError> {
        self.write(true, |tx| {
            fence(tx, feed_url, claim)?;
            register_feed(tx, feed_url, feed_name)?;
            dedup::record_all(tx, feed_url, &format_time(polled_at), sightings)
        })
    }
}

/// The feed's row, with its configured name.
fn register_feed(tx: &mut dyn Conn, feed_url: &str, feed_name: &str) -> Result<(), StoreError> {
    tx.run(
        "INSERT INTO feeds (url, name) VALUES (?1, ?2)
         ON CONFLICT (url) DO UPDATE SET name = excluded.name",
        &[feed_url.into(), feed_name.into()],
    )?;
    Ok(())
}

fn record_feed_state(tx: &mut dyn Conn, poll: &PollRecord, now: &str) -> Result<(), StoreError> {
    register_feed(tx, &poll.feed_url, &poll.feed_name)?;
    match &poll.outcome {
        FeedOutcome::Fetched {
            etag,
            last_modified,
            moved_to,
            repairs,
            ttl,
            filtered,
            interstitials,
            title,
            format,
        } => {
            let repairs: Vec<&str> = repairs.iter().map(|r| r.name()).collect();
            let ttl = ttl.map(|t| i64::try_from(t.as_secs()).unwrap_or(i64::MAX));
            tx.run(
                "UPDATE feeds SET etag = ?2, last_modified = ?3, last_poll_at = ?4,
                     last_success_at = ?4, state = 'ok', last_error = NULL,
                     consecutive_errors = 0, next_attempt_at = NULL, repairs = ?5,
                     moved_to = ?6, ttl_secs = ?7, filtered = ?8, interstitials = ?9,
                     title = ?10, format = ?11
                 WHERE url = ?1",
                &[
                    (&poll.feed_url).into(),
                    etag.into(),
                    last_modified.into(),
                    now.into(),
                    (&repairs.join(" ")).into(),
                    moved_to.into(),
                    ttl.into(),
                    i64::from(*filtered).into(),
                    (&interstitials.to_column()).into(),
                    title.into(),
                    format.as_str().into(),
                ],
            )?
        }
        FeedOutcome::NotModified => tx.run(
            "UPDATE feeds SET last_poll_at = ?2, last_success_at = ?2, state = 'not_modified',
                 last_error = NULL, consecutive_errors = 0, next_attempt_at = NULL
             WHERE url = ?1",
            &[(&poll.feed_url).into(), now.into()],
        )?,
        FeedOutcome::Failed {
            state,
            error,
            next_attempt,
        } => tx.run(
            "UPDATE feeds SET last_poll_at = ?2, state = ?3, last_error = ?4,
                 consecutive_errors = consecutive_errors
                     + CASE WHEN ?3 <> 'rate_limited' THEN 1 ELSE 0 END,
                 next_attempt_at = ?5
             WHERE url = ?1",
            &[
                (&poll.feed_url).into(),
                now.into(),
                state.as_str().into(),
                error.into(),
                (&next_attempt.map(format_time)).into(),
            ],
        )?,
    };
    Ok(())
}
