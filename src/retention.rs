//! `[storage] keep_days` and `max_articles_per_feed`: how long and how many
//! articles are kept.
//!
//! A leaf: `config` reads it from the file and `store` purges by it
//! (`Store::purge`), so both look down at it and neither at the other.

/// How long and how many articles are kept; `None` = no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Articles first stored more than this many days ago are purged.
    pub keep_days: Option<u32>,
    /// Each feed keeps at most this many of its newest articles (an
    /// article seen in several feeds stays while any of them keeps it).
    pub max_articles_per_feed: Option<u32>,
}

impl Retention {
    /// Whether anything is ever purged.
    pub fn is_set(&self) -> bool {
        self.keep_days.is_some() || self.max_articles_per_feed.is_some()
    }
}
