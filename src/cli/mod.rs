//! The command line (SPEC: Binary and Commands). Each command is a few lines
//! that call the library; exit codes are 0 ok, 1 runtime failure, 2 usage or
//! config error.

use std::process::ExitCode;

use anyhow::Context;
use url::Url;

use crate::config::{Config, ConfigError, FeedConfig};
use crate::export::ExportRequest;
use crate::store::model::ExportFilter;
use crate::store::{Access, Store, StoreError};

mod add;
mod add_page;
mod args;
mod check_config;
mod completions;
mod config_file;
mod deliveries;
mod export;
mod export_opml;
mod extract;
mod feeds;
mod gc;
mod import_opml;
mod logging;
mod man;
mod migrate_db;
pub(crate) mod out;
mod poll;
mod progress;
mod reextract;
mod remove;
mod report;
mod search;
mod stderr;
mod table;
pub use args::{Cli, Command, ExtractFormat, SearchFormat};
use out::{StdoutClosed, outln};
use progress::progress_bar;
use report::describe;
use table::{print_table, shorten};

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    logging::init_logging(&cli);
    let result = match cli.command {
        Command::CheckConfig => check_config::check_config(&cli.config),
        Command::Completions { shell } => completions::completions(shell),
        Command::Man { command, dir } => man::man(command.as_deref(), dir.as_deref()),
        Command::Extract { url, format, file } => extract::extract(&cli.config, url, format, &file),
        // A first run: `add` creates the config it is pointed at.
        command @ Command::Add { .. } if !cli.config.exists() => {
            config_file::first_config(&cli.config)
                .and_then(|config| run_with_config(&cli.config, config, command))
        }
        command => {
            load(&cli.config).and_then(|config| run_with_config(&cli.config, config, command))
        }
    };
    match result {
        Ok(code) => code,
        // The reader of stdout stopped early (`| head`): the end, not a failure.
        Err(error) if error.is::<StdoutClosed>() => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(ConfigError::Invalid(problems)) = error.downcast_ref::<ConfigError>() {
                for problem in problems {
                    eprintln!("{problem}");
                }
                return ExitCode::from(2);
            }
            eprintln!("error: {}", describe(&error));
            let usage = error.downcast_ref::<UsageError>().is_some()
                || error.downcast_ref::<ConfigError>().is_some();
            ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

/// A mistake in the command line that clap cannot see (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct UsageError(String);

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

fn run_with_config(
    path: &std::path::Path,
    config: Config,
    command: Command,
) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run => {
            if config.feeds.is_empty() {
                tracing::warn!("{}", no_feed(path));
            }
            let runtime = runtime()?;
            runtime.block_on(crate::daemon::run(path.to_owned(), config))?;
        }
        Command::Poll { feeds, force } => return poll::poll(&config, &feeds, force),
        Command::Export {
            format,
            consumer,
            peek,
            since,
            until,
            feeds,
            tags,
            limit,
            output,
            mode,
            follow,
        } => {
            let request = ExportRequest {
                format,
                consumer,
                peek,
                since,
                until,
                feed_urls: Vec::new(),
                tags,
                limit,
                output,
                mode,
                lease: config.storage.lease,
            };
            return export::export(&config, request, &feeds, follow);
        }
        Command::Feeds { json } => feeds::feeds(&config, json)?,
        Command::Deliveries { json } => deliveries::deliveries(&config, json)?,
        Command::Search {
            words,
            format,
            feeds,
            tags,
            since,
            limit,
        } => {
            let filter = ExportFilter {
                feed_urls: export::export_feed_urls(&config, &feeds)?,
                tags,
                since,
                ..ExportFilter::default()
            };
            search::search(&config, &words.join(" "), format, &filter, limit)?
        }
        Command::Gc { vacuum } => gc::gc(&config, vacuum)?,
        Command::MigrateDb { to } => migrate_db::migrate_db(&config, &to)?,
        Command::Reextract { feeds } => reextract::reextract(&config, &feeds)?,
        Command::Add {
            url,
            name,
            tags,
            scrape,
        } => add::add(path, &config, &url, name, tags, scrape)?,
        Command::Remove { feed } => remove::remove(path, &feed)?,
        Command::ImportOpml { file } => import_opml::import_opml(path, &file)?,
        Command::ExportOpml { output } => export_opml::export_opml(&config, output)?,
        Command::CheckConfig
        | Command::Extract { .. }
        | Command::Completions { .. }
        | Command::Man { .. } => unreachable!("handled without a config"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the database of `config` for `access`; every error names the file.
fn open_store(config: &Config, access: Access) -> anyhow::Result<Store> {
    let path = &config.storage.database;
    Store::open_for(path, access).map_err(|error| match error {
        StoreError::Sql(_) | StoreError::WriterGone => {
            anyhow::Error::new(error).context(format!("cannot open database {}", path.display()))
        }
        named => named.into(),
    })
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gleaner")
        .build()
        .context("starting the async runtime")
}

/// The feeds a repeated `--feed NAME_OR_URL` names, each once in the order
/// first named: a feed named twice (or by its name and its URL) is one feed,
/// so `poll` fetches it once.
fn select_feeds<'a>(config: &'a Config, names: &[String]) -> anyhow::Result<Vec<&'a FeedConfig>> {
    let mut selected: Vec<&FeedConfig> = Vec::with_capacity(names.len());
    for name in names {
        let feed = find_feed(config, name)?;
        if !selected.iter().any(|f| f.url == feed.url) {
            selected.push(feed);
        }
    }
    Ok(selected)
}

/// The URLs of [`select_feeds`].
fn feed_urls(config: &Config, names: &[String]) -> anyhow::Result<Vec<String>> {
    Ok(select_feeds(config, names)?
        .into_iter()
        .map(|f| f.url.to_string())
        .collect())
}

fn find_feed<'a>(config: &'a Config, name_or_url: &str) -> anyhow::Result<&'a FeedConfig> {
    config
        .feeds
        .iter()
        .find(|f| f.name == name_or_url || f.url.as_str() == name_or_url)
        .or_else(|| {
            let url = Url::parse(name_or_url).ok()?;
            config.feeds.iter().find(|f| f.url == url)
        })
        .ok_or_else(|| {
            UsageError(format!(
                "no feed named {name_or_url:?} in {} (see `gleaner feeds`)",
                config.path.display()
            ))
            .into()
        })
}

/// What `poll` and `run` say when the config has no feed: how to add one.
fn no_feed(path: &std::path::Path) -> String {
    format!(
        "no feed is configured in {}: add one with `gleaner add URL` (a feed, or a page of its site), or a [[feeds]] block",
        path.display()
    )
}
