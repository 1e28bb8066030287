//! What the database remembers of feeds, and consumer cursors.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::article::verdict::Tally;
use crate::identity::{normalize_url, url_key};
use crate::store::backend::{Cursors, Feeds};
use crate::store::consumer_lock::ConsumerLock;
use crate::store::model::{FeedStatus, Known};
use crate::store::shared::consumers;
use crate::store::sql::{Row, SqlBackend, columns};
use crate::store::{StoreError, format_time, parse_time};

/// The columns of a [`FeedStatus`], read by [`feed_status`]; the argument
/// is the SQL expression of its article count.
macro_rules! feed_status_sql {
    ($articles:expr) => {
        concat!(
            "SELECT f.url, f.name, f.etag, f.last_modified, f.last_poll_at,
                f.last_success_at, f.state, f.last_error, f.consecutive_errors,
                f.next_attempt_at, ",
            $articles,
            " AS articles, f.repairs, f.moved_to, f.poll_interval_secs, f.filtered,
                f.interstitials, f.near_duplicates, f.title, f.format FROM feeds f"
        )
    };
}

impl<B: SqlBackend> Feeds for B {
    fn feed_status(&self, feed_url: &str) -> Result<Option<FeedStatus>, StoreError> {
        let sql = concat!(feed_status_sql!("0"), " WHERE f.url = ?1");
        let row = self.read(|c| c.row(sql, &[feed_url.into()]))?;
        Ok(row.map(|r| feed_status(&r)).transpose()?.map(|(_, s)| s))
    }

    fn feed_statuses(&self) -> Result<HashMap<String, FeedStatus>, StoreError> {
        let sql = feed_status_sql!(
            "(SELECT count(DISTINCT s.article_seq) FROM sources s
              JOIN articles a ON a.seq = s.article_seq
              WHERE s.feed_url = f.url AND a.purged_at IS NULL)"
        );
        self.read(|c| c.rows(sql, &[]))?
            .iter()
            .map(feed_status)
            .collect()
    }

    fn last_successes(&self) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        let rows = self.read(|c| {
            c.rows(
                "SELECT url, name, last_success_at FROM feeds
                 WHERE name IS NOT NULL AND last_success_at IS NOT NULL",
                &[],
            )
        })?;
        let mut found = Vec::new();
        for r in rows {
            if let Some(at) = parse_time(&r.get::<String>("last_success_at")?) {
                found.push((r.get("url")?, r.get("name")?, at));
            }
        }
        Ok(found)
    }

    fn due_feeds(
        &self,
        feed_urls: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let now = format_time(now);
        let rows = self.read(|c| {
            c.rows(
                "SELECT url FROM feeds WHERE next_attempt_at > ?1",
                &[(&now).into()],
            )
        })?;
        let later: HashSet<String> = rows
            .iter()
            .map(|r| r.get("url"))
            .collect::<Result<_, _>>()?;
        Ok(feed_urls
            .iter()
            .filter(|url| !later.contains(url.as_str()))
            .cloned()
            .collect())
    }

    fn known(
        &self,
        feed_url: &str,
        entry_id: &str,
        url: Option<&Url>,
    ) -> Result<Known, StoreError> {
        let normalized = url.and_then(normalize_url);
        self.read(|c| {
            let seen = c.row(
                "SELECT s.entry_hash, a.purged_at IS NOT NULL AS purged, s.url
                 FROM sources s JOIN articles a ON a.seq = s.article_seq
                 WHERE s.feed_url = ?1 AND s.entry_id = ?2",
                &[feed_url.into(), entry_id.into()],
            )?;
            if let Some(seen) = seen {
                // A purged article stays purged, even when its entry changes.
                if seen.get::<bool>("purged")? {
                    return Ok(Known::Url);
                }
                let old = seen
                    .get::<Option<String>>("url")?
                    .and_then(|u| Url::parse(&u).ok())
                    .and_then(|u| normalize_url(&u));
                return Ok(Known::Entry {
                    entry_hash: seen.get("entry_hash")?,
                    link_changed: old != normalized,
                });
            }
            let Some(normalized) = &normalized else {
                return Ok(Known::New);
            };
            // Only articles of other feeds count (anchors of one page).
            let other = c.row(
                "SELECT 1 AS found FROM article_keys k WHERE k.key = ?1 AND NOT EXISTS
                     (SELECT 1 FROM sources s WHERE s.article_seq = k.article_seq
                      AND s.feed_url = ?2)",
                &[(&url_key(normalized)).into(), feed_url.into()],
            )?;
            Ok(if other.is_some() {
                Known::Url
            } else {
                Known::New
            })
        })
    }
}

/// A row of [`feed_status_sql`], by its URL.
fn feed_status(r: &Row) -> Result<(String, FeedStatus), StoreError> {
    let time = |name: &str| -> Result<_, StoreError> {
        Ok(r.get::<Option<String>>(name)?
            .as_deref()
            .and_then(parse_time))
    };
    Ok((
        r.get("url")?,
        columns!(r, FeedStatus {
            name, etag, last_modified, state, last_error, consecutive_errors, articles, moved_to,
            filtered, near_duplicates, title, format;
            last_poll_at: time("last_poll_at")?,
            last_success_at: time("last_success_at")?,
            next_attempt_at: time("next_attempt_at")?,
            repairs: r
                .get::<String>("repairs")?
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            poll_interval: r
                .get::<Option<i64>>("poll_interval_secs")?
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
            interstitials: Tally::from_column(&r.get::<String>("interstitials")?),
        }),
    ))
}

impl<B: SqlBackend> Cursors for B {
    fn consumer_cursor(&self, consumer: &str) -> Result<i64, StoreError> {
        let row = self.read(|c| {
            c.row(
                "SELECT cursor_seq FROM consumers WHERE name = ?1",
                &[consumer.into()],
            )
        })?;
        Ok(row.map(|r| r.get("cursor_seq")).transpose()?.unwrap_or(0))
    }

    fn advance_cursor(
        &mut self,
        lock: &ConsumerLock,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = format_time(now);
        let (consumer, token) = (lock.consumer(), lock.token());
        if self.write(false, |c| consumers::advance(c, consumer, token, seq, &now))? {
            Ok(())
        } else {
            Err(StoreError::ConsumerLockLost {
                consumer: consumer.to_owned(),
            })
        }
    }

    fn renew_consumer(&mut self, lock: &ConsumerLock) -> Result<(), StoreError> {
        let (consumer, token, lease) = (lock.consumer(), lock.token(), lock.lease());
        if self.write(false, |c| consumers::renew(c, consumer, token, lease))? {
            Ok(())
        } else {
            Err(StoreError::ConsumerLockLost {
                consumer: consumer.to_owned(),
            })
        }
    }

    fn release_consumer(&mut self, lock: ConsumerLock) -> Result<(), StoreError> {
        let (consumer, token) = lock.disarm();
        self.write(false, |c| consumers::release(c, &consumer, token))
    }
}
