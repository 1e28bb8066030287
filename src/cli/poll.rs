//! `gleaner poll`: poll all (or the named) feeds once, then exit.

use std::process::ExitCode;

use anyhow::Context;

use super::out::StdoutClosed;
use super::report::ADVICE_SPACE;
use super::{open_store, outln, progress_bar, runtime, select_feeds, stderr};
use crate::article::site_config;
use crate::config::{Config, FeedConfig};
use crate::controls::escape;
use crate::poll::{FeedLocks, Pipeline, PollMode, ReportOutcome};
use crate::store::{Access, StoreHandle};

/// Exit code of a `poll` that SIGINT (Ctrl-C) cut short: 128 + SIGINT, as a
/// shell reports a process the signal ended, so `gleaner poll && …` stops.
pub(super) const INTERRUPTED: u8 = 130;

pub(super) fn poll(config: &Config, names: &[String], force: bool) -> anyhow::Result<ExitCode> {
    if config.feeds.is_empty() {
        // The database is still created: the other commands' message for a
        // missing one says to run `poll`.
        drop(open_store(config, Access::Create)?);
        outln!("poll: {}", super::no_feed(&config.path))?;
        return Ok(ExitCode::SUCCESS);
    }
    let feeds: Vec<FeedConfig> = if names.is_empty() {
        config.feeds.clone()
    } else {
        select_feeds(config, names)?.into_iter().cloned().collect()
    };
    let mode = if force {
        PollMode::Forced
    } else {
        PollMode::Manual
    };
    let site_configs = site_config::load_logged(&config.extraction.site_config_dirs)?;
    let store = open_store(config, Access::Create)?;
    let runtime = runtime()?;
    let (summary, database_failure, interrupted) = runtime.block_on(async {
        let (store, store_thread) = StoreHandle::spawn(store);
        let failures = store.clone();
        let cancel = tokio_util::sync::CancellationToken::new();
        let pipeline = Pipeline::new(config, store, FeedLocks::default(), cancel.clone())
            .context("starting the HTTP client")?
            .with_site_configs(site_configs);
        let bar = progress_bar(feeds.len(), "feeds");
        // Caught before the first request goes out: an early Ctrl-C too is
        // an interrupted pass (exit 130), not a kill.
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
                .context("catching SIGINT")?;
        let ctrl_c = {
            let cancel = cancel.clone();
            tokio::spawn(async move {
                if interrupt.recv().await.is_some() {
                    cancel.cancel();
                }
            })
        };
        let summary = pipeline
            .poll_all(&feeds, mode, |report| {
                if let Some(bar) = &bar {
                    bar.set_message(report.feed.clone());
                    bar.inc(1);
                }
                let level = match report.outcome {
                    ReportOutcome::Failed(_) => tracing::Level::WARN,
                    ReportOutcome::Skipped(_) => tracing::Level::INFO,
                    _ => return,
                };
                // A failure's message may quote what a server sent.
                let line = escape(&report.to_string()).into_owned();
                match &bar {
                    Some(bar) => bar.println(line),
                    None => stderr::report(level, &line),
                }
            })
            .await;
        super::progress::done(bar);
        ctrl_c.abort();
        drop(pipeline);
        tokio::task::spawn_blocking(move || store_thread.join()).await?;
        anyhow::Ok((summary, failures.first_failure(), cancel.is_cancelled()))
    })?;
    let printed = if interrupted {
        outln!("poll: interrupted, the feeds not polled are polled next time: {summary}")
    } else {
        outln!("poll: {summary}")
    };
    // A feed's failure is recorded in its state; a database that cannot
    // record is the operator's problem (exit 1).
    if let Some(failure) = database_failure {
        anyhow::bail!(
            "cannot record the poll in the database {}: {failure}; the feeds not recorded are polled again next time ({ADVICE_SPACE}, and that the database and its folder are writable)",
            config.storage.database.display()
        );
    }
    // A closed stdout is the end of the report, not of the exit code.
    match printed {
        Err(error) if !error.is::<StdoutClosed>() => return Err(error),
        _ => {}
    }
    Ok(ExitCode::from(if interrupted { INTERRUPTED } else { 0 }))
}
