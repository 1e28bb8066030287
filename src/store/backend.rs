//! [`Backend`]: the one storage interface, implemented by SQLite
//! ([`super::sqlite`]) and PostgreSQL ([`super::postgres`]) as peers.
//!
//! The interface is cut into a few traits, one per concern, so that each
//! backend implements a concern in the one file that holds its SQL (a Rust
//! trait is implemented in one block) without a line that only forwards.
//! Every method is documented here, once; an implementation says only how
//! its dialect does it. [`Store`](super::Store) holds a `Box<dyn Backend>`
//! and adds what every backend needs alike (an export's date check, a
//! consumer lock's `waiting` once).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use url::Url;

use super::StoreError;
use super::consumer_lock::ConsumerLock;
use super::model::{
    Applied, Claim, DeliveryStatus, ExportFilter, FeedStatus, KeptPage, Known, PollRecord,
    PollSummary, Purged, Reextraction, RetryChange, SearchHit, Sighting, StoredArticle,
};
use crate::retention::Retention;

/// An open database with its schema up to date: every operation gleaner
/// asks of storage.
pub trait Backend:
    Polls
    + Feeds
    + Cursors
    + Exports
    + ConsumerLocks
    + Sharing
    + Retries
    + Deliveries
    + Search
    + Purge
    + Pages
    + Reextractions
    + Send
{
    /// The database as messages name it: the SQLite file, or the
    /// PostgreSQL URL without credentials.
    fn path(&self) -> &Path;

    /// Returns the space purges freed (`gleaner gc --vacuum`).
    fn vacuum(&mut self) -> Result<(), StoreError>;
}

/// Storing what polls saw.
pub trait Polls {
    /// Records a poll: the feed's state and all its (remaining) sightings,
    /// atomically, deduplicated by the rules in `dedup`. A large poll
    /// stores its earlier sightings first with [`Polls::record_sightings`];
    /// the validators come only with this last part, so a crash in between
    /// redoes the poll (and dedup makes the redo store nothing twice).
    fn record_poll(&mut self, poll: &PollRecord) -> Result<PollSummary, StoreError>;

    /// Records part of a poll's sightings in one transaction, before the
    /// rest of the poll: the feed's state is not touched (it is stored,
    /// validators and all, with the last part by [`Polls::record_poll`]).
    /// Fenced by `claim` as [`Polls::record_poll`] is.
    fn record_sightings(
        &mut self,
        feed_url: &str,
        feed_name: &str,
        polled_at: DateTime<Utc>,
        sightings: &[Sighting],
        claim: &Claim,
    ) -> Result<PollSummary, StoreError>;
}

/// What a poll needs to know before fetching, and `gleaner feeds`.
pub trait Feeds {
    /// The remembered state of one feed (its article count left at 0).
    fn feed_status(&self, feed_url: &str) -> Result<Option<FeedStatus>, StoreError>;

    /// The remembered state of every feed that was ever polled, by URL,
    /// with its article count.
    fn feed_statuses(&self) -> Result<HashMap<String, FeedStatus>, StoreError>;

    /// `(feed URL, name, time)` of every feed's last successful poll: what
    /// the metrics start from. Reads only the feeds table.
    fn last_successes(&self) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError>;

    /// Which of `feed_urls` are due at `now`, in their order: never polled,
    /// or with no pending next attempt, or one that has come.
    fn due_feeds(
        &self,
        feed_urls: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError>;

    /// Whether `entry_id` of `feed_url` (with link `url`) is already stored.
    /// A purged article stays purged ([`Known::Url`]) even when its entry
    /// changes; an article that is already another entry of this feed is
    /// not this one (anchors of one page): only other feeds' count for the URL.
    fn known(&self, feed_url: &str, entry_id: &str, url: Option<&Url>)
    -> Result<Known, StoreError>;
}

/// Exports and consumer cursors.
pub trait Exports {
    /// A number that changes whenever new articles (or sources or tags
    /// that make an article enter a selection) may have been committed
    /// since the last call: `export --follow` reads the database again only
    /// then.
    fn data_version(&self) -> Result<i64, StoreError>;

    /// How many stored articles match `filter` (its limit aside): what a
    /// consumer still has to be given.
    fn count_articles(&self, filter: &ExportFilter) -> Result<u64, StoreError>;

    /// Calls `each` on every article matching `filter`, in the order they
    /// entered its selection (oldest first), all read from one snapshot,
    /// until `each` breaks. Returns the highest position that existed in
    /// that snapshot (what a consumer has "seen" when no limit cut the
    /// output short).
    fn for_each_article(
        &mut self,
        filter: &ExportFilter,
        each: &mut dyn FnMut(StoredArticle) -> ControlFlow<()>,
    ) -> Result<i64, StoreError>;
}

/// Consumer cursors.
pub trait Cursors {
    /// The cursor of a consumer: the highest position it was given, or
    /// passed (0 for a new one).
    fn consumer_cursor(&self, consumer: &str) -> Result<i64, StoreError>;

    /// Moves the cursor of the consumer `lock` holds forward to `seq`
    /// (never backwards), in the statement that checks the lock's token:
    /// [`StoreError::ConsumerLockLost`] when another claim has taken the
    /// consumer since (nothing moves).
    fn advance_cursor(
        &mut self,
        lock: &ConsumerLock,
        seq: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Checks that `lock` is still its consumer's and renews its lease
    /// (on the store's own connection): [`StoreError::ConsumerLockLost`]
    /// when another claim has taken the consumer since. What is about to
    /// be given out under a lock that has been lost is then not.
    fn renew_consumer(&mut self, lock: &ConsumerLock) -> Result<(), StoreError>;

    /// Gives `lock` back: the next claim of its consumer need not wait for
    /// its lease to run out.
    fn release_consumer(&mut self, lock: ConsumerLock) -> Result<(), StoreError>;
}

/// One export or delivery at a time per consumer (see
/// [`super::consumer_lock`]). Each claim registers the consumer (at cursor
/// 0 when new) with a write: run before an export's output is written, it
/// shows that the cursor can be stored afterwards (the database is
/// writable and its write lock can be had), so a read-only database fails
/// the export before it prints anything rather than after.
pub trait ConsumerLocks {
    /// Waits until no other export or delivery holds `consumer`, then
    /// claims it for `lease` (renewed while the lock is held, on a backend
    /// whose lock is a lease). `waiting` is called when another holds it.
    fn lock_consumer(
        &mut self,
        consumer: &str,
        lease: Duration,
        waiting: &mut dyn FnMut(),
    ) -> Result<ConsumerLock, StoreError>;

    /// The consumer's lock when no other export or delivery holds it, else
    /// `None` (the daemon's deliveries skip a consumer a running export
    /// holds).
    fn try_lock_consumer(
        &mut self,
        consumer: &str,
        lease: Duration,
    ) -> Result<Option<ConsumerLock>, StoreError>;
}

/// How instances sharing one database divide the work. The provided
/// methods are a database only one process uses (SQLite): everything is
/// granted, and the process's own locks and limits are all there is.
pub trait Sharing {
    /// Whether other instances may share the database: what they do
    /// together must then be agreed through it.
    fn is_shared(&self) -> bool {
        false
    }

    /// Claims `feed_url` for `holder` for `lease`, unless another holder's
    /// lease on it is still running or (with `claimed_within`) anyone
    /// claimed the feed less than that long ago. Every time compared is
    /// the database server's, so instances whose clocks disagree still
    /// agree on leases. `None` when the feed is not granted.
    fn claim_feed(
        &mut self,
        _feed_url: &str,
        _holder: &str,
        _lease: Duration,
        _claimed_within: Option<Duration>,
    ) -> Result<Option<Claim>, StoreError> {
        Ok(Some(Claim::Sole))
    }

    /// Extends `holder`'s lease on `feed_url` to `lease` from now; `false`
    /// when the lease is no longer `holder`'s (it ran out and another
    /// holder claimed it).
    fn renew_feed(
        &mut self,
        _feed_url: &str,
        _holder: &str,
        _lease: Duration,
    ) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Ends `holder`'s lease on `feed_url` (its claim time stays).
    fn release_feed(&mut self, _feed_url: &str, _holder: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// Takes request slot `slot` of `host` among all instances sharing the
    /// database, unless another instance holds it.
    fn try_lock_host(&self, _host: &str, _slot: i32) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Gives back a slot [`Sharing::try_lock_host`] took.
    fn unlock_host(&self, _host: &str, _slot: i32) -> Result<(), StoreError> {
        Ok(())
    }

    /// Reserves `host`'s next request start among all instances, `spacing`
    /// after the last one reserved, and says how long until it.
    fn reserve_host_start(&self, _host: &str, _spacing: Duration) -> Result<Duration, StoreError> {
        Ok(Duration::ZERO)
    }
}

/// Pages tried again after an interstitial (`store::retries`).
pub trait Retries {
    /// The entries of `feed_url` whose page is due to be tried again at
    /// `now` (all pending ones when `now` is `None`: an operator's poll),
    /// each with whether its stored text is that page's (a
    /// [`RetryChange::Recheck`]).
    fn due_page_retries(
        &self,
        feed_url: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, bool)>, StoreError>;

    /// Records what a poll of `feed_url` at `now` learnt of its entries'
    /// pages; fenced by the poll's `claim` as [`Polls::record_poll`] is.
    fn record_page_retries(
        &mut self,
        feed_url: &str,
        now: DateTime<Utc>,
        changes: &[RetryChange],
        claim: &Claim,
    ) -> Result<(), StoreError>;
}

/// What the daemon's `[[deliver]]` pushes did, for `gleaner deliveries`.
pub trait Deliveries {
    /// Records one attempt to deliver a batch of `articles` to `name`:
    /// `Ok` when the receiver took it, else its error.
    fn record_delivery(
        &mut self,
        name: &str,
        at: DateTime<Utc>,
        articles: u64,
        outcome: Result<(), &str>,
    ) -> Result<(), StoreError>;

    /// Every consumer's stored delivery state, by name.
    fn delivery_statuses(&self) -> Result<HashMap<String, DeliveryStatus>, StoreError>;
}

/// `gleaner search`.
pub trait Search {
    /// The `limit` best matches of what a person typed, by the rules of
    /// `store::search::query`: best first, newest first among equals.
    fn search(&self, typed: &str, limit: u64) -> Result<Vec<SearchHit>, StoreError>;
}

/// Retention (`gleaner gc`): purging keeps a tombstone, the row with its
/// id, links and dates, its sources and its dedup keys, so a purged article
/// is recognised when its feed still lists it and never comes back as new.
pub trait Purge {
    /// Purges what `retention` no longer keeps, in one transaction, and
    /// drops the kept pages of purged articles.
    fn purge(&mut self, retention: &Retention, now: DateTime<Utc>) -> Result<Purged, StoreError>;
}

/// Kept article pages (`[storage] keep_html`), for `gleaner reextract`.
pub trait Pages {
    /// How many pages are kept (of articles from `feed_urls`; all when empty).
    fn kept_pages(&self, feed_urls: &[String]) -> Result<u64, StoreError>;

    /// The next `limit` kept pages after `after_seq`, in article order.
    fn kept_pages_after(
        &self,
        after_seq: i64,
        limit: usize,
        feed_urls: &[String],
    ) -> Result<Vec<KeptPage>, StoreError>;
}

/// `gleaner reextract`'s writes.
pub trait Reextractions {
    /// Stores new extractions, each only while its article is still as its
    /// page was read: not purged (`gc` since), the same kept page (a poll
    /// since replaced it when the entry's link changed), the body from the
    /// same origin. A `gc` or a poll that ran between the read and now
    /// wins, and the extraction is dropped.
    fn apply_reextractions(&mut self, new: &[Reextraction]) -> Result<Applied, StoreError>;
}
