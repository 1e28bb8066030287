//! `[dedup]`: whether near-duplicate articles (one story published twice
//! with small changes) are merged, and how similar they must be (see
//! `near_dup` for the rule and where its line lies).

use serde::Deserialize;
use toml::Spanned;

use super::{Positions, Problem};
use crate::near_dup::{DEFAULT_SIMILARITY, SIMILARITY_RANGE};

/// The keys `[dedup]` may have.
pub(super) const KEYS: &[&str] = &["near_duplicates", "similarity"];

/// `[dedup]`, checked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupConfig {
    /// `near_duplicates`: merge near-duplicates at insert time (default on;
    /// exact duplicates are merged either way).
    pub near_duplicates: bool,
    /// `similarity`: the share of an incoming text that must be in a stored
    /// article for the two to be one story, within [`SIMILARITY_RANGE`].
    pub similarity: f64,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            near_duplicates: true,
            similarity: DEFAULT_SIMILARITY,
        }
    }
}

/// `[dedup]` as written.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawDedup {
    near_duplicates: Option<Spanned<bool>>,
    similarity: Option<Spanned<f64>>,
}

impl RawDedup {
    pub(super) fn check(self, at: &Positions<'_>, problems: &mut Vec<Problem>) -> DedupConfig {
        let mut config = DedupConfig::default();
        if let Some(on) = self.near_duplicates {
            config.near_duplicates = *on.get_ref();
        }
        if let Some(value) = self.similarity {
            let similarity = *value.get_ref();
            if SIMILARITY_RANGE.contains(&similarity) {
                config.similarity = similarity;
            } else {
                problems.push(at.at(
                    &value,
                    format!(
                        "[dedup].similarity = {similarity} is out of range: write a number from {} to {} \
                         (the share of an article's text another must have to count as the same story; \
                         leave it out for {DEFAULT_SIMILARITY})",
                        SIMILARITY_RANGE.start(),
                        SIMILARITY_RANGE.end()
                    ),
                ));
            }
        }
        config
    }
}
