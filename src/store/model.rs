//! What the store and its callers say to each other: the domain types every
//! [`Backend`](super::Backend) takes and gives, defined once here so that
//! neither backend owns the interface and a caller never names one.
//!
//! Times that go out as text (`StoredArticle`'s dates, `KeptPage::fetched_at`)
//! are the stored RFC 3339 strings (see [`super::format_time`]); times the
//! daemon computes with are `DateTime<Utc>`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use url::Url;

use crate::article::verdict::Tally;
use crate::pacing::{AdaptiveBounds, FeedOutcome};

/// Where an article's body came from (SPEC: `content_source`): a body from
/// the page wins over the feed's when a later sighting brings one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentSource {
    /// Extracted from the scraped article page.
    Article,
    /// The feed's own content or summary.
    Feed,
    /// No body at all.
    None,
}

impl ContentSource {
    /// The stored (and exported) name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentSource::Article => "article",
            ContentSource::Feed => "feed",
            ContentSource::None => "none",
        }
    }
}

/// One entry seen in a feed during a poll: what deduplication decides on.
#[derive(Debug, Clone)]
pub struct Sighting {
    /// The entry's id in its feed (its guid, or what the feed layer made).
    pub entry_id: String,
    /// The entry's link, as given by the feed.
    pub url: Option<Url>,
    /// A hash of the entry as the feed gave it: a change means "updated in place".
    pub entry_hash: String,
    /// The article, when it had to be built (new or changed entry). `None`
    /// for an entry already known by its id or URL: only the source is added.
    pub article: Option<ArticleRecord>,
    /// The article was rebuilt from the feed alone: the entry changed but its
    /// link did not, so its page was not fetched again (feeds whose items
    /// change on every fetch would otherwise re-download every page). The
    /// feed's fields update the stored article; a body extracted from the
    /// page stays.
    pub feed_only: bool,
    /// The config's tags of the feed it was seen in: every sighting adds
    /// those the article lacks, a new one's or another feed's alike.
    pub tags: Vec<String>,
}

/// An article as the pipeline built it, ready to be stored; the fields are
/// SPEC's export fields of the same names (see [`StoredArticle`]).
#[derive(Debug, Clone, Default)]
pub struct ArticleRecord {
    /// The title, as plain text.
    pub title: Option<String>,
    /// The entry's link: the article's page.
    pub url: Option<Url>,
    /// The page's own canonical link: another identity for dedup.
    pub canonical_url: Option<Url>,
    /// One author's name.
    pub author: Option<String>,
    /// When it was first published, as the feed or page says.
    pub published: Option<DateTime<Utc>>,
    /// When it was last changed, as the feed says.
    pub updated: Option<DateTime<Utc>>,
    /// The feed's summary, as plain text.
    pub summary: Option<String>,
    /// The body, cleaned HTML.
    pub content_html: Option<String>,
    /// The body as text: what search indexes and dedup hashes.
    pub content_text: Option<String>,
    /// Where the body came from; `None` stores `none`.
    pub content_source: Option<ContentSource>,
    /// Words in `content_text`.
    pub word_count: Option<u32>,
    /// Its language (BCP 47), from the page or the feed.
    pub language: Option<String>,
    /// Its lead image.
    pub image: Option<Url>,
    /// The entry's own categories.
    pub categories: Vec<String>,
    /// The entry's media files.
    pub enclosures: Vec<crate::feed::Enclosure>,
    /// The page the body was extracted from, kept when `[storage] keep_html`.
    pub page: Option<StoredPage>,
    /// The near-duplicate sketch of `content_text` (made on the extraction
    /// thread) and the threshold to judge it at; `None` when `[dedup]
    /// near_duplicates` is off or there is no text.
    pub near_dup: Option<crate::near_dup::Incoming>,
}

/// An article page as fetched, compressed: kept so that `gleaner reextract`
/// can run a newer extractor without fetching again.
#[derive(Debug, Clone)]
pub struct StoredPage {
    /// Where it was fetched from (after redirects).
    pub url: Url,
    /// The response's `Content-Type`.
    pub content_type: Option<String>,
    /// The body, zstd-compressed.
    pub body_zstd: Vec<u8>,
}

/// Everything learnt from one poll of one feed: stored in one transaction,
/// so a crash never records the feed's validators without its articles.
#[derive(Debug, Clone)]
pub struct PollRecord {
    /// The feed as configured (its row's key).
    pub feed_url: String,
    /// Its configured name.
    pub feed_name: String,
    /// When the poll ran.
    pub polled_at: DateTime<Utc>,
    /// How the fetch went: the feed's new state.
    pub outcome: FeedOutcome,
    /// How its next poll is timed.
    pub cadence: Cadence,
    /// The entries still to store (a large poll stores the others first).
    pub sightings: Vec<Sighting>,
    /// The feed's lease the poll ran under: nothing is stored unless the
    /// poll still holds it.
    pub claim: Claim,
}

/// A feed's lease as a poll claimed it: every write of the poll is fenced
/// by it (stored only while the lease is still this claim, in the same
/// transaction), so a poll that lost its feed to another instance while it
/// was paused writes nothing older over that instance's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The database is this process's alone (SQLite): no other instance
    /// can take the feed, and the fence always holds.
    Sole,
    /// A lease in a shared database (PostgreSQL): `holder` claimed it at
    /// `at`, the server's `claimed_at` in microseconds since the epoch,
    /// which a later claim of the feed (by anyone) changes.
    Shared {
        /// This instance (`HOST:PID:RANDOM`).
        holder: String,
        /// The claim's time on the server, its identity.
        at: i64,
    },
}

/// How the feed's next poll is timed, as far as the store decides it.
#[derive(Debug, Clone, Copy)]
pub enum Cadence {
    /// By its cron schedule: after a success nothing is stored.
    Cron,
    /// `schedule = "adaptive"`: after a success the next poll is set from the
    /// feed's stored publication history, no sooner than the server's
    /// `fresh_for` or the feed's `<ttl>` allow.
    Adaptive {
        /// The shortest and longest interval allowed.
        bounds: AdaptiveBounds,
        /// How long the server said its answer stays fresh.
        fresh_for: Option<Duration>,
    },
}

/// What a poll changed in the database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollSummary {
    /// Articles stored for the first time (these reach consumers).
    pub new: usize,
    /// Known entries whose content changed, updated in place.
    pub updated: usize,
    /// Sightings that turned out to be an already stored article (a new source).
    pub merged: usize,
    /// Of `merged`, those found by their text's similarity (near-duplicates).
    pub near_duplicates: usize,
}

impl std::ops::AddAssign for PollSummary {
    fn add_assign(&mut self, other: PollSummary) {
        self.new += other.new;
        self.updated += other.updated;
        self.merged += other.merged;
        self.near_duplicates += other.near_duplicates;
    }
}

/// What the database remembers about a feed: what the next poll sends
/// (validators), whether it may run yet, and what `gleaner feeds` shows.
#[derive(Debug, Clone, Default)]
pub struct FeedStatus {
    /// Its configured name as of its last poll.
    pub name: Option<String>,
    /// The validators of its last fetch, sent back as `If-None-Match` and
    /// `If-Modified-Since`.
    pub etag: Option<String>,
    /// See `etag`.
    pub last_modified: Option<String>,
    /// When it was last polled, whatever came of it.
    pub last_poll_at: Option<DateTime<Utc>>,
    /// When a poll of it last succeeded (fetched or not modified).
    pub last_success_at: Option<DateTime<Utc>>,
    /// `ok`, `not_modified`, `rate_limited`, `error` or `gone`; `None` before the first poll.
    pub state: Option<String>,
    /// What went wrong last, while it fails.
    pub last_error: Option<String>,
    /// Failures in a row (a rate limit is none): what back-off grows with.
    pub consecutive_errors: u32,
    /// Polls before this time are skipped (back-off or Retry-After).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Distinct articles this feed has contributed (not purged); counted by
    /// `Store::feed_statuses` only: a poll does not need it.
    pub articles: u64,
    /// Names of the repairs its last parsed fetch needed (`feed::Repair::name`);
    /// empty for a healthy feed.
    pub repairs: Vec<String>,
    /// Where the feed permanently redirects: update the config to it.
    pub moved_to: Option<String>,
    /// The interval of an adaptive schedule, as of the last successful poll.
    pub poll_interval: Option<Duration>,
    /// How many entries its filter rules dropped in its last fetched poll.
    pub filtered: u32,
    /// How many article pages its last fetched poll judged, and which
    /// were interstitials (`article::verdict`).
    pub interstitials: Tally,
    /// Its sightings merged into a stored article as near-duplicates.
    pub near_duplicates: u64,
    /// The feed's own title, as of its last parsed fetch.
    pub title: Option<String>,
    /// What its document was (`feed::FeedFormat::as_str`), as of its last
    /// parsed fetch.
    pub format: Option<String>,
}

/// Whether an entry is already stored, and how: decides, before any page
/// is fetched, whether the article must be built at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// This feed already gave this entry id; `entry_hash` is what it looked
    /// like then, `link_changed` whether its link now names another page
    /// (after normalization, so a rotating tracking parameter is no change).
    Entry {
        /// The entry's hash when it was stored.
        entry_hash: String,
        /// Whether its link now names another page.
        link_changed: bool,
    },
    /// Another entry (maybe of another feed) has the same normalized URL.
    Url,
    /// Never seen: build the article.
    New,
}

/// Which stored articles an export wants.
#[derive(Debug, Clone, Default)]
pub struct ExportFilter {
    /// Only articles that entered the selection at a position greater than
    /// this (a consumer's cursor; see `dedup::join_selections`).
    pub after_seq: i64,
    /// Only articles fetched at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only articles with a source in one of these feeds (URLs); empty = all.
    pub feed_urls: Vec<String>,
    /// Only articles carrying one of these tags; empty = all.
    pub tags: Vec<String>,
    /// At most this many articles.
    pub limit: Option<u64>,
}

/// One stored article in the export format of SPEC (field order included):
/// the fields are SPEC's, described there.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoredArticle {
    /// Internal order of first storage; not exported.
    #[serde(skip)]
    pub seq: i64,
    /// Where the article entered the export's selection (its seq for an
    /// export of everything): the export's order, and the cursor of a
    /// consumer given it. Not exported.
    #[serde(skip)]
    pub position: i64,
    /// The stable public id (a hash of the first key it was stored under).
    pub id: String,
    /// The title, as plain text.
    pub title: Option<String>,
    /// The page it is at, without tracking parameters.
    pub url: Option<String>,
    /// The page's own canonical link.
    pub canonical_url: Option<String>,
    /// One author's name.
    pub author: Option<String>,
    /// When it was first published (RFC 3339).
    pub published: Option<String>,
    /// When it was last changed (RFC 3339).
    pub updated: Option<String>,
    /// When gleaner first stored it (RFC 3339).
    pub fetched_at: String,
    /// The feed's summary.
    pub summary: Option<String>,
    /// The body, cleaned HTML.
    pub content_html: Option<String>,
    /// The body as text.
    pub content_text: Option<String>,
    /// Made from `content_html` by the export (`article::markdown`), not
    /// stored: `None` as read.
    pub content_markdown: Option<String>,
    /// `article`, `feed` or `none`: where the body came from.
    pub content_source: String,
    /// Words in `content_text`.
    pub word_count: Option<u32>,
    /// Its language (BCP 47).
    pub language: Option<String>,
    /// Its lead image.
    pub image: Option<String>,
    /// The config's tags of every feed it was seen in.
    pub tags: Vec<String>,
    /// The entry's own categories (beside the config's `tags`).
    pub categories: Vec<String>,
    /// The entry's media files.
    pub enclosures: Vec<crate::feed::Enclosure>,
    /// Every feed entry it was seen as.
    pub sources: Vec<StoredSource>,
}

/// Where an article was seen (SPEC: an export's `sources`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StoredSource {
    /// The feed's configured name (its URL when it has none stored).
    pub feed: String,
    /// The feed's URL, without credentials.
    pub feed_url: String,
    /// The entry's id in that feed.
    pub entry_id: String,
    /// The entry's link as that feed gave it.
    pub url: Option<String>,
}

/// A kept page and what is stored of its article: what `gleaner reextract`
/// reads, and what must still hold when it writes (see [`Reextraction`]).
#[derive(Debug, Clone)]
pub struct KeptPage {
    /// The article's seq.
    pub seq: i64,
    /// Where the page was fetched from.
    pub url: String,
    /// When the page was kept: with its URL and bytes, which page it is.
    pub fetched_at: String,
    /// The response's `Content-Type`.
    pub content_type: Option<String>,
    /// The page, zstd-compressed.
    pub body_zstd: Vec<u8>,
    /// The feeds the article was seen in.
    pub feed_urls: Vec<String>,
    /// `article` or `feed`: where the stored body came from.
    pub content_source: String,
    /// The stored body's word count.
    pub word_count: Option<u32>,
}

/// A new extraction of a kept page.
#[derive(Debug, Clone)]
pub struct Reextraction {
    /// The page it was extracted from, as read with its article: the new
    /// body is stored only while the article is still so (see
    /// `Store::apply_reextractions`).
    pub page: KeptPage,
    /// The new body.
    pub content_html: String,
    /// The new body as text.
    pub content_text: String,
    /// The new text's word count.
    pub word_count: u32,
    /// The new text's near-duplicate sketch; `None` when `[dedup]
    /// near_duplicates` is off.
    pub near_dup: Option<crate::near_dup::Incoming>,
}

/// What `Store::apply_reextractions` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Articles whose stored body changed.
    pub changed: usize,
    /// Articles purged, or whose kept page or body's origin was replaced,
    /// since their page was read: left as they are now.
    pub changed_meanwhile: usize,
}

/// The stored state of one consumer's `[[deliver]]` pushes, for `gleaner
/// deliveries` (the cursor itself is the consumer's).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryStatus {
    /// When a batch was last pushed, whatever came of it.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver last took one.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The error of the last attempt, when it failed.
    pub last_error: Option<String>,
    /// Failed attempts in a row.
    pub consecutive_failures: u32,
    /// Articles delivered so far.
    pub delivered: u64,
}

/// What a purge removed (see [`crate::retention::Retention`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// First stored more than `keep_days` ago.
    pub by_age: usize,
    /// Beyond `max_articles_per_feed` in every feed that gave it.
    pub by_feed_limit: usize,
}

/// What one poll learnt of an entry's page, for the pages tried again
/// after an interstitial (`store::retries`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    missing_docs,
    reason = "the fields name the entry and the interstitial's kind"
)]
pub enum RetryChange {
    /// The page was an interstitial of `kind` (first time, or a retry):
    /// try again later, unless the retries are used up.
    Interstitial { entry_id: String, kind: String },
    /// The article came: no more retries.
    Article { entry_id: String },
    /// A retry that fetched nothing (the page unreachable, full text
    /// turned off): it counts as one of the retries.
    Failed { entry_id: String },
    /// A page found to be one body served for many URLs after it was
    /// stored as an article: fetch it again at the next poll (where the
    /// repetition is seen and the feed's text replaces it).
    Recheck {
        /// The entry whose page it was.
        entry_id: String,
        /// Which repetition (`article::verdict`).
        kind: String,
    },
}

/// One article that matched `gleaner search`, best first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SearchHit {
    /// The article's public id.
    pub id: String,
    /// Its title.
    pub title: Option<String>,
    /// Its link.
    pub url: Option<String>,
    /// When it was published, as stored.
    pub published: Option<String>,
    /// When the article was last updated (its date when it has no
    /// publication date).
    pub updated: Option<String>,
    /// The names of the feeds it was seen in.
    pub feeds: Vec<String>,
    /// Text around the matches, each match in `[` `]`.
    pub snippet: String,
    /// Higher is better (bm25, title matches weighted).
    pub score: f64,
}
