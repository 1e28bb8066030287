//! A CSS selector that compiled, with the text it was written as: the
//! feed's `content_selector` and `remove_selectors`. It lives in `article`,
//! which runs it on the parsed page; `config` compiles it once when it reads
//! the file, so past `config` every selector is valid.

use std::fmt;

use super::selector_error::described;

/// A CSS selector that is known to compile, with its source text kept for messages.
#[derive(Clone)]
pub struct CssSelector {
    source: String,
    selector: scraper::Selector,
}

impl CssSelector {
    /// Compiles `source`; the error is a human-readable reason.
    pub fn parse(source: &str) -> Result<Self, String> {
        scraper::Selector::parse(source)
            .map(|selector| CssSelector {
                source: source.to_owned(),
                selector,
            })
            .map_err(|e| format!("invalid CSS selector {source:?}: {}", described(&e)))
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn selector(&self) -> &scraper::Selector {
        &self.selector
    }
}

impl fmt::Debug for CssSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CssSelector({:?})", self.source)
    }
}
