//! [`Store`]: the one storage interface, over SQLite or PostgreSQL.
//!
//! Each method hands the call to the backend the config names; both
//! implement every method with the same meaning (see [`super::Sqlite`] for
//! the documentation of each).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use crate::config::Database;

use super::consumer_lock::ConsumerLock;
use super::model::{
    Applied, DeliveryStatus, ExportFilter, FeedStatus, KeptPage, Known, PollRecord, PollSummary,
    Purged, Reextraction, RetryChange, SearchHit, Sighting, StoredArticle,
};
use super::pg::Postgres;
use super::{Access, Sqlite, StoreError};
use crate::retention::Retention;

/// An open database, SQLite or PostgreSQL, with its schema up to date.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Sqlite(Sqlite),
    Postgres(Box<Postgres>),
}

/// Runs `$call` with `$s` bound to whichever backend `$backend` holds.
macro_rules! on {
    ($backend:expr, $s:ident => $call:expr) => {
        match $backend {
            Backend::Sqlite($s) => $call,
            Backend::Postgres($s) => $call,
        }
    };
}

impl Store {
    /// Opens the configured database for `access`; every error names it.
    pub fn open_for(database: &Database, access: Access) -> Result<Store, StoreError> {
        let backend = match database {
            Database::Sqlite(path) => Backend::Sqlite(Sqlite::open_for(path, access)?),
            Database::Postgres(target) => {
                Backend::Postgres(Box::new(Postgres::open(target, access)?))
            }
        };
        Ok(Store { backend })
    }

    /// Opens (creating if needed) the SQLite database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(Sqlite::open(path)?),
        })
    }

    /// The database as messages name it: the SQLite file, or the
    /// PostgreSQL URL without credentials.
    pub fn path(&self) -> &Path {
        on!(&self.backend, s => s.path())
    }

    /// Whether this is a PostgreSQL database (shared by instances).
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    pub fn record_poll(&mut self, poll: &PollRecord) -> Result<PollSummary, StoreError> {
        let poll = super::nul::poll(poll);
        on!(&mut self.backend, s => s.record_poll(&poll))
    }

    pub fn record_sightings(
        &mut self,
        feed_url: &str,
        feed_name: &str,
        polled_at: DateTime<Utc>,
        sightings: &[Sighting],
    ) -> Result<PollSummary, StoreError> {
        let sightings = super::nul::sightings(sightings);
        on!(&mut self.backend, s => s.record_sightings(feed_url, feed_name, polled_at, &sightings))
    }

    pub fn due_page_retries(
        &self,
        feed_url: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, bool)>, StoreError> {
        on!(&self.backend, s => s.due_page_retries(feed_url, now))
    }

    pub fn record_page_retries(
        &mut self,
        feed_url: &str,
        now: DateTime<Utc>,
        changes: &[RetryChange],
    ) -> Result<(), StoreError> {
        on!(&mut self.backend, s => s.record_page_retries(feed_url, now, changes))
    }

    pub fn feed_status(&self, feed_url: &str) -> Result<Option<FeedStatus>, StoreError> {
        on!(&self.backend, s => s.feed_status(feed_url))
    }

    pub fn feed_statuses(&self) -> Result<HashMap<String, FeedStatus>, StoreError> {
        on!(&self.backend, s => s.feed_statuses())
    }

    pub fn last_successes(&self) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        on!(&self.backend, s => s.last_successes())
    }

    pub fn due_feeds(
        &self,
        feed_urls: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        on!(&self.backend, s => s.due_feeds(feed_urls, now))
    }

    pub fn known(
        &self,
        feed_url: &str,
        entry_id: &str,
        url: Option<&Url>,
    ) -> Result<Known, StoreError> {
        on!(&self.backend, s => s.known(feed_url, entry_id, url))
    }

    pub fn consumer_cursor(&self, consumer: &str) -> Result<i64, StoreError> {
        on!(&self.backend, s => s.consumer_cursor(consumer))
    }

    pub fn claim_consumer(&mut self, consumer: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        on!(&mut self.backend, s => s.claim_consumer(consumer, now))
    }

    pub fn advance_cursor(
        &mut self,
        consumer: &str,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on!(&mut self.backend, s => s.advance_cursor(consumer, seq, now))
    }

    pub fn for_each_article<E>(
        &mut self,
        filter: &ExportFilter,
        mut each: impl FnMut(StoredArticle) -> Result<(), E>,
    ) -> Result<Result<i64, E>, StoreError> {
        // Every export and delivery reads articles here: a date that is not
        // RFC 3339 (written by an older version, `+99999-01-01T…`) goes out
        // as no date rather than break a strict consumer.
        let rfc3339 = |t: &String| super::parse_time(t).is_some();
        let each = move |mut article: StoredArticle| {
            article.published = article.published.filter(rfc3339);
            article.updated = article.updated.filter(rfc3339);
            each(article)
        };
        on!(&mut self.backend, s => s.for_each_article(filter, each))
    }

    pub fn lock_consumer(
        &self,
        consumer: &str,
        waiting: impl FnOnce(),
    ) -> Result<ConsumerLock, StoreError> {
        on!(&self.backend, s => s.lock_consumer(consumer, waiting))
    }

    /// Claims `feed_url` for `holder` for `lease`, unless another holder's
    /// lease on it is still running or (with `claimed_before`) the feed was
    /// claimed at or after that time. Always granted on SQLite: one
    /// machine's polls are kept apart by the process's own locks.
    pub fn claim_feed(
        &mut self,
        feed_url: &str,
        holder: &str,
        lease: Duration,
        claimed_before: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(_) => Ok(true),
            Backend::Postgres(s) => s.claim_feed(feed_url, holder, lease, claimed_before),
        }
    }

    /// Extends `holder`'s lease on `feed_url` to `lease` from now; `false`
    /// when the lease is no longer `holder`'s (it ran out and another
    /// holder claimed it). Always `true` on SQLite.
    pub fn renew_feed(
        &mut self,
        feed_url: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        match &mut self.backend {
            Backend::Sqlite(_) => Ok(true),
            Backend::Postgres(s) => s.renew_feed(feed_url, holder, lease),
        }
    }

    /// Ends `holder`'s lease on `feed_url` (its claim time stays).
    pub fn release_feed(&mut self, feed_url: &str, holder: &str) -> Result<(), StoreError> {
        match &mut self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(s) => s.release_feed(feed_url, holder),
        }
    }

    /// Takes request slot `slot` of `host` among all instances sharing the
    /// database, unless another instance holds it. Always granted on
    /// SQLite, where one process's own limits are all there is.
    pub fn try_lock_host(&self, host: &str, slot: i32) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(true),
            Backend::Postgres(s) => s.try_lock_host(host, slot),
        }
    }

    /// Gives back a slot [`Store::try_lock_host`] took.
    pub fn unlock_host(&self, host: &str, slot: i32) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(s) => s.unlock_host(host, slot),
        }
    }

    /// Reserves `host`'s next request start among all instances, `spacing`
    /// after the last one reserved, and says how long until it. No wait on
    /// SQLite (the process spaces its own requests).
    pub fn reserve_host_start(
        &self,
        host: &str,
        spacing: Duration,
    ) -> Result<Duration, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Duration::ZERO),
            Backend::Postgres(s) => s.reserve_host_start(host, spacing),
        }
    }

    pub fn data_version(&self) -> Result<i64, StoreError> {
        on!(&self.backend, s => s.data_version())
    }

    pub fn count_articles(&self, filter: &ExportFilter) -> Result<u64, StoreError> {
        on!(&self.backend, s => s.count_articles(filter))
    }

    pub fn try_lock_consumer(&self, consumer: &str) -> Result<Option<ConsumerLock>, StoreError> {
        on!(&self.backend, s => s.try_lock_consumer(consumer))
    }

    pub fn record_delivery(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
        articles: u64,
        outcome: Result<(), &str>,
    ) -> Result<(), StoreError> {
        on!(&mut self.backend, s => s.record_delivery(name, at, articles, outcome))
    }

    pub fn delivery_statuses(&self) -> Result<HashMap<String, DeliveryStatus>, StoreError> {
        on!(&self.backend, s => s.delivery_statuses())
    }

    pub fn search(&self, typed: &str, limit: u64) -> Result<Vec<SearchHit>, StoreError> {
        on!(&self.backend, s => s.search(typed, limit))
    }

    pub fn purge(
        &mut self,
        retention: &Retention,
        now: DateTime<Utc>,
    ) -> Result<Purged, StoreError> {
        on!(&mut self.backend, s => s.purge(retention, now))
    }

    pub fn vacuum(&mut self) -> Result<(), StoreError> {
        on!(&mut self.backend, s => s.vacuum())
    }

    pub fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError> {
        on!(&self.backend, s => s.kept_pages(feed_urls))
    }

    pub fn kept_pages_after(
        &self,
        after_seq: i64,
        limit: usize,
        feed_urls: &[String],
    ) -> Result<Vec<KeptPage>, StoreError> {
        on!(&self.backend, s => s.kept_pages_after(after_seq, limit, feed_urls))
    }

    /// Stores `gleaner reextract`'s new bodies, each only while its article
    /// is still as its page was read (not purged, the same kept page).
    pub fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<Applied, StoreError> {
        let new = super::nul::reextractions(new);
        on!(&mut self.backend, s => s.apply_reextractions(&new))
    }
}
