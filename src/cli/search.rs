//! `gleaner search`: full-text search over the stored articles.

use std::io::Write;

use anyhow::Context;

use super::args::SearchFormat;
use super::{open_store, out};
use crate::config::Config;
use crate::controls::escape;
use crate::store::Access;
use crate::store::keys::without_tracking_text;

pub(super) fn search(
    config: &Config,
    words: &str,
    format: SearchFormat,
    limit: u64,
) -> anyhow::Result<()> {
    let store = open_store(config, Access::Read)?;
    let mut hits = store
        .search(words, limit)
        .with_context(|| format!("searching for {words:?}"))?;
    // One URL for one article: the one `export` shows.
    for hit in &mut hits {
        if let Some(url) = &mut hit.url {
            *url = without_tracking_text(url);
        }
    }
    let mut stdout = std::io::stdout().lock();
    match format {
        SearchFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&hits)?),
        SearchFormat::Table => print_hits(&mut stdout, &hits, words),
    }
    .map_err(out::stdout_error)
}

/// The `search` table: rank, title, date, feeds, URL and snippet per hit.
pub(super) fn print_hits(
    out: &mut impl Write,
    hits: &[crate::store::search::SearchHit],
    words: &str,
) -> std::io::Result<()> {
    for (rank, hit) in hits.iter().enumerate() {
        let date = hit
            .published
            .as_deref()
            .map_or("", |p| p.get(..10).unwrap_or(p));
        // Everything but the rank comes from the database, and so from
        // outside: escaped like any table's cells.
        writeln!(
            out,
            "{:>2}. {}  {}  [{}]",
            rank + 1,
            escape(hit.title.as_deref().unwrap_or("(untitled)")),
            escape(date),
            escape(&hit.feeds.join(", "))
        )?;
        if let Some(url) = &hit.url {
            writeln!(out, "    {}", escape(url))?;
        }
        writeln!(out, "    {}\n", escape(&hit.snippet.replace('\n', " ")))?;
    }
    if hits.is_empty() {
        writeln!(out, "no article matches {words:?}")?;
    }
    Ok(())
}
