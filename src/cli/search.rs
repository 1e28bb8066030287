//! `gleaner search`: full-text search over the stored articles.

use std::collections::HashSet;
use std::io::Write;

use anyhow::Context;

use super::args::SearchFormat;
use super::{UsageError, open_store, out};
use crate::config::Config;
use crate::controls::escape;
use crate::identity::without_tracking_text;
use crate::store::Access;
use crate::store::model::ExportFilter;
use crate::store::search::QueryError;

/// The `limit` best matches of `words` among the articles `filter` selects
/// (its feeds, tags and time; its other fields unused).
pub(super) fn search(
    config: &Config,
    words: &str,
    format: SearchFormat,
    filter: &ExportFilter,
    limit: u64,
) -> anyhow::Result<()> {
    // What cannot be searched for is said before the database is opened.
    let query = crate::store::search::query(words).map_err(|e| match e {
        QueryError::TooManyWords { .. } => UsageError(format!("search {words:?}: {e}")).into(),
        other => anyhow::Error::from(other),
    })?;
    if query.phrases.is_empty() {
        super::stderr::report(
            tracing::Level::WARN,
            &format!(
                "search {words:?}: nothing to search for (no letter or digit in {}), so nothing matches",
                query.dropped.join(" ")
            ),
        );
    }
    let mut store = open_store(config, Access::Read)?;
    let searching = || format!("searching for {words:?}");
    let filtered =
        !filter.feed_urls.is_empty() || !filter.tags.is_empty() || filter.since.is_some();
    let mut hits = if filtered {
        // The selection is export's (the same feeds, tags and time); the
        // matches are ranked over every article and those outside it
        // dropped, so the best `limit` of the selection remain.
        let mut selected = HashSet::new();
        store
            .for_each_article(filter, |article| {
                selected.insert(article.id);
                Ok::<(), std::convert::Infallible>(())
            })
            .with_context(searching)?
            .ok();
        let all = store.search(words, u64::MAX).with_context(searching)?;
        all.into_iter()
            .filter(|hit| selected.contains(&hit.id))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
    } else {
        store.search(words, limit).with_context(searching)?
    };
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
    hits: &[crate::store::model::SearchHit],
    words: &str,
) -> std::io::Result<()> {
    for (rank, hit) in hits.iter().enumerate() {
        // The publication date, else the last update's.
        let date = hit
            .published
            .as_deref()
            .or(hit.updated.as_deref())
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
