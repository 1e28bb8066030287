//! The command line (SPEC: Binary and Commands). Each command is a few lines
//! that call the library; exit codes are 0 ok, 1 runtime failure, 2 usage or
//! config error.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use serde::Serialize;
use url::Url;

use crate::article::{self, SiteRules, site_config};
use crate::config::{Config, ConfigError, DEFAULT_CONFIG_PATH, FeedConfig};
use crate::controls::escape;
use crate::export::{self, ExportError, ExportRequest, Format};
use crate::fetch::Fetcher;
use crate::poll::{FeedLocks, Pipeline, PollMode, ReportOutcome};
use crate::redact;
use crate::schedule::FeedSchedule;
use crate::store::read::FeedStatus;
use crate::store::{Access, Store, StoreError, StoreHandle, format_time};
use crate::subscribe::{self, ConfigFile, NewFeed};

mod add_page;
mod deliveries;
pub(crate) mod out;
mod report;
mod stderr;
use out::{StdoutClosed, outln};
use report::{ADVICE_SPACE, describe};
use stderr::Stderr;

/// gleaner: polls RSS, Atom and JSON feeds, extracts each article's full
/// text, deduplicates into SQLite and exports JSON.
#[derive(Debug, Parser)]
#[command(version, about, max_term_width = 100)]
pub struct Cli {
    /// The TOML config file.
    #[arg(short, long, global = true, env = "GLEANER_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// Log filter, e.g. `info` or `gleaner=debug,reqwest=warn` (default: info for
    /// `run`, warn otherwise).
    #[arg(long, global = true, env = "GLEANER_LOG")]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll every feed on its schedule until SIGTERM.
    Run,
    /// Poll all (or the named) feeds once now, then exit (130 when Ctrl-C
    /// cut the pass short).
    Poll {
        /// A feed's name or URL; repeat for several (a feed named twice is
        /// polled once). Default: every feed.
        #[arg(long = "feed", value_name = "NAME_OR_URL")]
        feeds: Vec<String>,
        /// Poll even the feeds a server's Retry-After has paused.
        #[arg(long)]
        force: bool,
    },
    /// Write stored articles as JSON, JSON lines, a JSON Feed or an Atom feed.
    Export {
        /// The output's form.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Only articles this consumer has not been given yet; its cursor moves
        /// once the output is completely written.
        #[arg(long, value_name = "NAME")]
        consumer: Option<String>,
        /// With --consumer: show what would be given, without moving the cursor.
        #[arg(long, requires = "consumer")]
        peek: bool,
        /// Only articles fetched at or after this RFC 3339 time.
        #[arg(long, value_name = "TIME", value_parser = parse_rfc3339)]
        since: Option<DateTime<Utc>>,
        /// Only articles from this feed (name or URL); repeatable.
        #[arg(long = "feed", value_name = "NAME")]
        feeds: Vec<String>,
        /// Only articles with this tag; repeatable.
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// At most this many articles (oldest first).
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Write to this file atomically (mode 0600) instead of stdout.
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// With --consumer and --format jsonl: after the backlog, stay and write
        /// each new article as it is stored (flushed per batch, the cursor
        /// moved after each), until SIGTERM/SIGINT or the reader closes the pipe.
        #[arg(long, requires = "consumer", conflicts_with_all = ["peek", "output", "limit"])]
        follow: bool,
    },
    /// Validate the config without touching the network or the database.
    CheckConfig,
    /// Show every configured feed and its state.
    Feeds {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show every [[deliver]] block: its cursor, what it still has to
    /// deliver, and how its last attempts went.
    Deliveries {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Subscribe to a feed: find it behind URL (the URL itself, the feed its
    /// page links to, or a usual path such as /feed or /rss.xml), check that
    /// it parses, and append it to the config, keeping comments and layout.
    Add {
        /// A feed's URL, or a web page of the site.
        url: Url,
        /// Its name in `feeds` and exports (default: from the host).
        #[arg(long)]
        name: Option<String>,
        /// A tag for its articles; repeatable.
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Read the page's own list of entries (a `[feeds.scrape]` block)
        /// even when it has a feed; without it, only when no feed is found.
        #[arg(long)]
        scrape: bool,
    },
    /// Unsubscribe: remove a feed's block from the config. Its articles stay
    /// in the database.
    Remove {
        /// The feed to remove: its name or its URL as configured.
        #[arg(value_name = "NAME_OR_URL")]
        feed: String,
    },
    /// Add the feeds of an OPML subscription list; the outlines' groups and
    /// categories become tags; feeds already configured are skipped.
    ImportOpml {
        /// The OPML file to read the feeds from.
        file: PathBuf,
    },
    /// Write the configured feeds as OPML 2.0 (grouped by their first tag).
    ExportOpml {
        /// Write to this file atomically instead of stdout.
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Search the stored articles' titles and text, best matches first.
    ///
    /// Every word must appear, in any order; `word*` matches words starting
    /// with `word`. Title matches count more than text matches.
    Search {
        /// The words to look for.
        #[arg(required = true, num_args = 1.., value_name = "WORD")]
        words: Vec<String>,
        #[arg(long, value_enum, default_value_t = SearchFormat::Table)]
        format: SearchFormat,
        /// At most this many results.
        #[arg(long, default_value_t = 20, value_name = "N")]
        limit: u64,
    },
    /// Run the article extractor on a saved HTML page (no network).
    Extract {
        /// The page's address: resolves relative links and picks the rules of a
        /// configured feed on the same site. Without it relative links are dropped.
        #[arg(long)]
        url: Option<Url>,
        /// What to print of the extracted article.
        #[arg(long, value_enum, default_value_t = ExtractFormat::Text)]
        format: ExtractFormat,
        /// The HTML file, or - for stdin.
        #[arg(default_value = "-")]
        file: PathBuf,
    },
    /// Purge what `[storage] keep_days` and `max_articles_per_feed` no longer
    /// keep (the daemon does it daily). Purged articles leave a tombstone, so
    /// they never come back as new.
    Gc {
        /// Then rewrite the database file to give the freed space back (slow
        /// on a large database; needs as much free disk as the file's size).
        #[arg(long)]
        vacuum: bool,
    },
    /// Copy the configured SQLite database (articles, dedup keys, tombstones,
    /// feed state, consumer cursors, kept pages) into an empty PostgreSQL
    /// database; run it again to finish a copy cut short. The counts of
    /// every table are compared at the end.
    MigrateDb {
        /// The PostgreSQL database: postgres://USER@HOST[:PORT]/DATABASE (the
        /// password from the URL or $PGPASSWORD).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Run today's extractor and site rules again over the article pages kept
    /// by `[storage] keep_html`, without fetching anything.
    Reextract {
        /// Only articles from this feed (name or URL); repeatable.
        #[arg(long = "feed", value_name = "NAME_OR_URL")]
        feeds: Vec<String>,
    },
    /// Print a shell completion script, e.g.
    /// `gleaner completions bash > /etc/bash_completion.d/gleaner`.
    Completions { shell: clap_complete::Shell },
    /// Print the man page (roff), e.g. `gleaner man > gleaner.1`.
    Man,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchFormat {
    /// Title, date, feeds, URL and a snippet per match.
    Table,
    /// One JSON array of {id, title, url, published, feeds, snippet, score}.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtractFormat {
    /// The article's plain text.
    Text,
    /// The article's sanitized HTML.
    Html,
    /// The article object with its verdict, as JSON.
    Json,
}

fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-11-25T13:00:00Z)"))
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(&cli);
    let result = match cli.command {
        Command::CheckConfig => check_config(&cli.config),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "gleaner", &mut script);
            out::write_all(&script).map(|()| ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut page)
                .context("rendering the man page")
                .and_then(|()| out::write_all(&page))
                .map(|()| ExitCode::SUCCESS)
        }
        Command::Extract { url, format, file } => extract(&cli.config, url, format, &file),
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
            let runtime = runtime()?;
            runtime.block_on(crate::daemon::run(path.to_owned(), config))?;
        }
        Command::Poll { feeds, force } => return poll(&config, &feeds, force),
        Command::Export {
            format,
            consumer,
            peek,
            since,
            feeds,
            tags,
            limit,
            output,
            follow,
        } => {
            if follow && format != Format::Jsonl {
                return Err(
                    UsageError("--follow streams JSON lines: add --format jsonl".into()).into(),
                );
            }
            let feed_urls = feed_urls(&config, &feeds)?;
            let request = ExportRequest {
                format,
                consumer,
                peek,
                since,
                feed_urls,
                tags,
                limit,
                output,
            };
            let access = match (&request.consumer, request.peek) {
                (Some(_), false) => Access::Update,
                _ => Access::Read,
            };
            let mut store = open_store(&config, access)?;
            let run = if follow {
                export::follow
            } else {
                export::export
            };
            match run(&mut store, &request) {
                Ok(_) => {}
                Err(ExportError::Write { source, .. })
                    if request.output.is_none()
                        && source.kind() == std::io::ErrorKind::BrokenPipe =>
                {
                    return Ok(stdout_closed_export(&request));
                }
                Err(error @ ExportError::Store(_)) => {
                    return Err(anyhow::Error::new(error).context(format!(
                        "cannot export from the database {}",
                        store.path().display()
                    )));
                }
                Err(other) => return Err(other.into()),
            }
        }
        Command::Feeds { json } => feeds(&config, json)?,
        Command::Deliveries { json } => deliveries::deliveries(&config, json)?,
        Command::Search {
            words,
            format,
            limit,
        } => search(&config, &words.join(" "), format, limit)?,
        Command::Gc { vacuum } => gc(&config, vacuum)?,
        Command::MigrateDb { to } => migrate_db(&config, &to)?,
        Command::Reextract { feeds } => reextract(&config, &feeds)?,
        Command::Add {
            url,
            name,
            tags,
            scrape,
        } => add(path, &config, &url, name, tags, scrape)?,
        Command::Remove { feed } => remove(path, &feed)?,
        Command::ImportOpml { file } => import_opml(path, &file)?,
        Command::ExportOpml { output } => {
            let opml = subscribe::write_opml(&config, Utc::now());
            match output {
                Some(file) => crate::atomic::write(&file, opml.as_bytes(), ".gleaner-")
                    .with_context(|| format!("cannot write {}", file.display()))?,
                None => out::write_all(opml.as_bytes())?,
            }
        }
        Command::CheckConfig
        | Command::Extract { .. }
        | Command::Completions { .. }
        | Command::Man => unreachable!("handled without a config"),
    }
    Ok(ExitCode::SUCCESS)
}

/// How an export to stdout ends when its reader closed the pipe before the
/// end: exit 0 when no cursor would have moved (the reader had what it
/// wanted); for a consumer, whose cursor stays where it was, exit 1 (an I/O
/// failure, as SPEC's exit codes have it), because a consumer takes only an
/// export that exited 0 as delivered.
fn stdout_closed_export(request: &ExportRequest) -> ExitCode {
    match (&request.consumer, request.peek) {
        (Some(consumer), false) => {
            eprintln!(
                "error: stdout was closed before the export was complete; the cursor of consumer {consumer:?} did not move, so the next export gives these articles again"
            );
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
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

/// `gleaner migrate-db --to URL`.
fn migrate_db(config: &Config, to: &str) -> anyhow::Result<()> {
    let Some(from) = config.storage.database.sqlite_path() else {
        anyhow::bail!(
            "[storage] database is already PostgreSQL ({}): migrate-db copies a SQLite database",
            config.storage.database.display()
        );
    };
    if !crate::config::database::is_postgres_url(to) {
        return Err(UsageError(format!(
            "--to {:?} is not a postgres:// or postgresql:// URL",
            redact::url_text(to)
        ))
        .into());
    }
    let target = crate::config::database::check_postgres_url(to, None)
        .map_err(|message| UsageError(format!("--to: {message}")))?
        .given_in("--to");
    let mut started = false;
    let counts = crate::store::copy::sqlite_to_postgres(from, &target, |table, rows| {
        started = true;
        tracing::info!(table, rows, "copying");
    })
    .with_context(|| {
        let next = if started {
            "run it again to go on where it stopped"
        } else {
            "nothing was copied"
        };
        format!(
            "copying {} into {} ({next})",
            from.display(),
            target.shown()
        )
    })?;
    for count in &counts {
        outln!("{}: {} rows", count.table, count.postgres)?;
    }
    outln!(
        "copied {} into {}; point [storage] database at it",
        from.display(),
        target.shown()
    )?;
    Ok(())
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("gleaner")
        .build()
        .context("starting the async runtime")
}

/// Checks the config and, when it names site rules, loads them: a rule that
/// does not parse is a warning on stderr (`FILE:LINE: message`) and is
/// skipped, so the exit code stays 0.
fn check_config(path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = Config::load(path)?;
    outln!("ok: {} feeds", config.feeds.len())?;
    let dirs = &config.extraction.site_config_dirs;
    if !dirs.is_empty() {
        let (configs, warnings) = site_config::SiteConfigs::load(dirs)?;
        let mut stderr = std::io::stderr().lock();
        for warning in &warnings {
            let _ = writeln!(stderr, "{warning}");
        }
        outln!(
            "site rules: {} site files, {} rules skipped",
            configs.len(),
            warnings.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
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

/// Exit code of a `poll` that SIGINT (Ctrl-C) cut short: 128 + SIGINT, as a
/// shell reports a process the signal ended, so `gleaner poll && …` stops.
const INTERRUPTED: u8 = 130;

fn poll(config: &Config, names: &[String], force: bool) -> anyhow::Result<ExitCode> {
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
        let bar = progress_bar(feeds.len());
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
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
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

fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} feeds  {wide_msg}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// One row of `gleaner feeds --json`.
#[derive(Debug, Serialize)]
struct FeedRow {
    name: String,
    url: String,
    /// Where its entries come from: `feed`, `scrape` (a page read with
    /// XPath) or `json` (a JSON document read with dot paths).
    kind: &'static str,
    /// `ok`, `not_modified`, `rate_limited`, `error`, `gone`, or `null` before the first poll.
    state: Option<String>,
    last_poll: Option<String>,
    last_success: Option<String>,
    last_error: Option<String>,
    consecutive_errors: u32,
    articles: u64,
    next_due: Option<String>,
    /// A cron expression or `adaptive`.
    schedule: String,
    /// For an adaptive schedule: the interval the feed's rhythm gave at its
    /// last successful poll.
    poll_interval_secs: Option<u64>,
    tags: Vec<String>,
    /// What the lenient parser had to fix in the last fetched document
    /// (`html-entities`, `truncated`, …); empty for a healthy feed.
    repairs: Vec<String>,
    /// Where the feed permanently redirects (301/308): put this URL in the config.
    moved_to: Option<String>,
    /// How many entries its `block`/`keep` rules dropped in its last fetched poll.
    filtered: u32,
    /// How many article pages its last fetched poll judged (`article::verdict`) …
    pages_judged: u32,
    /// … and how many of them were interstitials, by kind (`{"consent": 3}`).
    interstitials: std::collections::BTreeMap<&'static str, u32>,
    /// The proxy its feed URL is fetched through, without credentials.
    proxy: Option<String>,
}

fn feeds(config: &Config, json: bool) -> anyhow::Result<()> {
    let store = open_store(config, Access::Read)?;
    let mut statuses = store.feed_statuses()?;
    let now = Utc::now();
    let rows: Vec<FeedRow> = config
        .feeds
        .iter()
        .map(|feed| {
            let status: FeedStatus = statuses.remove(feed.url.as_str()).unwrap_or_default();
            let next_due = crate::pacing::next_due(&feed.schedule, status.next_attempt_at, now);
            let poll_interval_secs = match feed.schedule {
                FeedSchedule::Adaptive => status.poll_interval.map(|d| d.as_secs()),
                FeedSchedule::Cron(_) => None,
            };
            FeedRow {
                name: feed.name.clone(),
                url: redact::url(&feed.url).to_string(),
                kind: feed.source.kind(),
                state: status.state,
                last_poll: status.last_poll_at.map(format_time),
                last_success: status.last_success_at.map(format_time),
                last_error: status.last_error,
                consecutive_errors: status.consecutive_errors,
                articles: status.articles,
                next_due: next_due.map(format_time),
                schedule: feed.schedule.as_str().to_owned(),
                poll_interval_secs,
                tags: feed.tags.clone(),
                repairs: status.repairs,
                moved_to: status.moved_to.as_deref().map(redact::url_text),
                filtered: status.filtered,
                pages_judged: status.interstitials.pages,
                interstitials: status
                    .interstitials
                    .kinds
                    .iter()
                    .map(|(k, n)| (k.as_str(), *n))
                    .collect(),
                proxy: crate::config::proxy::choose(
                    feed.request.proxy(),
                    None,
                    &config.fetch.env_proxies,
                    &feed.url,
                )
                .map(|p| p.shown()),
            }
        })
        .collect();
    if json {
        outln!("{}", serde_json::to_string_pretty(&rows)?)?;
        return Ok(());
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            let status = match (r.state.as_deref(), &r.last_error) {
                (Some("ok"), _) => match (&r.moved_to, interstitial_status(r)) {
                    (None, Some(walls)) => format!("ok, {walls}"),
                    _ => "ok".to_owned(),
                },
                (Some("not_modified"), _) => "not-modified".to_owned(),
                // The URL has its own column: the cause is what matters.
                (Some(state), Some(error)) => {
                    let cause = error
                        .strip_prefix(r.url.as_str())
                        .and_then(|rest| rest.strip_prefix(": "))
                        .unwrap_or(error);
                    format!("{state}: {}", shorten(cause, 70))
                }
                (Some(state), None) => state.to_owned(),
                (None, _) => "never polled".to_owned(),
            };
            // The move is the config's to fix, whatever the last poll
            // answered (a 304, an error): shown until the URL is updated,
            // as `--json` keeps `moved_to`.
            let status = match &r.moved_to {
                Some(to) => format!("{status}, moved permanently to {to}"),
                None => status,
            };
            [
                r.name.clone(),
                r.url.clone(),
                r.last_poll.clone().unwrap_or_else(|| "-".into()),
                status,
                r.consecutive_errors.to_string(),
                r.articles.to_string(),
                r.next_due.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print_table(
        [
            "NAME",
            "URL",
            "LAST POLL",
            "STATUS",
            "ERRORS",
            "ARTICLES",
            "NEXT DUE",
        ],
        &table,
    )
}

/// "3 of 4 pages were a consent wall", when most pages of the feed's last
/// fetched poll were interstitials (the feed's text was kept for them).
fn interstitial_status(row: &FeedRow) -> Option<String> {
    let total: u32 = row.interstitials.values().sum();
    if total == 0 || u64::from(total) * 2 <= u64::from(row.pages_judged) {
        return None;
    }
    let (main, _) = row.interstitials.iter().max_by_key(|(_, n)| **n)?;
    let described = crate::article::verdict::Kind::parse(main)?.described();
    let pages = row.pages_judged;
    Some(match row.interstitials.len() {
        1 => format!("{total} of {pages} pages were {described}"),
        _ => format!("{total} of {pages} pages were interstitials, most {described}"),
    })
}

/// `text` cut to `max` characters with an ellipsis (the table stays readable;
/// `--json` has the whole text).
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}

fn reextract(config: &Config, names: &[String]) -> anyhow::Result<()> {
    let feed_urls = feed_urls(config, names)?;
    let mut store = open_store(config, Access::Update)?;
    let kept = store.kept_pages(&feed_urls)?;
    if kept == 0 {
        outln!(
            "no article pages are kept{}: set [storage] keep_html = true to keep the pages fetched from then on",
            if config.storage.keep_html { " yet" } else { "" }
        )?;
        return Ok(());
    }
    let bar = progress_bar(kept as usize);
    let site_configs = site_config::load_logged(&config.extraction.site_config_dirs)?;
    let site_configs = site_configs.as_deref();
    let summary =
        crate::reextract::reextract(&mut store, config, site_configs, &feed_urls, |done| {
            if let Some(bar) = &bar {
                bar.set_position(done as u64);
            }
        })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    outln!(
        "re-extracted {} pages: {} changed, {} unchanged, {} without an article (kept as stored), {} keep the feed's longer text",
        summary.pages,
        summary.changed,
        summary.pages.saturating_sub(
            summary.changed
                + summary.failed
                + summary.kept_feed_text
                + summary.crashed
                + summary.changed_meanwhile
                + summary.interstitials
        ),
        summary.failed,
        summary.kept_feed_text
    )?;
    if summary.changed_meanwhile > 0 {
        outln!(
            "{} articles were purged or fetched again while their page was re-extracted: left as they are now",
            summary.changed_meanwhile
        )?;
    }
    if summary.interstitials > 0 {
        outln!(
            "{} pages are interstitials (a consent or login wall, a challenge, a soft 404…), not articles: kept as stored",
            summary.interstitials
        )?;
    }
    if summary.crashed > 0 {
        outln!(
            "{} pages crashed the extractor (kept as stored; the log names them): please report them",
            summary.crashed
        )?;
    }
    Ok(())
}

fn gc(config: &Config, vacuum: bool) -> anyhow::Result<()> {
    let retention = config.storage.retention;
    let mut store = open_store(config, Access::Update)?;
    if retention.is_set() {
        let purged = store.purge(&retention, Utc::now())?;
        outln!(
            "purged {} articles ({} older than {} days, {} beyond {} per feed)",
            purged.by_age + purged.by_feed_limit,
            purged.by_age,
            retention.keep_days.map_or("-".into(), |d| d.to_string()),
            purged.by_feed_limit,
            retention
                .max_articles_per_feed
                .map_or("-".into(), |n| n.to_string()),
        )?;
    } else {
        outln!("nothing to purge: [storage] keep_days and max_articles_per_feed are not set")?;
    }
    if vacuum {
        store
            .vacuum()
            .with_context(|| format!("vacuuming {}", config.storage.database.display()))?;
        outln!("vacuumed {}", config.storage.database.display())?;
    }
    Ok(())
}

fn add(
    path: &std::path::Path,
    config: &Config,
    url: &Url,
    name: Option<String>,
    tags: Vec<String>,
    scrape: bool,
) -> anyhow::Result<()> {
    check_name_free(config, name.as_deref())?;
    let fetcher = Fetcher::new(&config.fetch).context("starting the HTTP client")?;
    let discovered = match scrape {
        true => Err(None),
        false => runtime()?
            .block_on(subscribe::discover(&fetcher, url))
            .map_err(Some),
    };
    let (feed_url, parsed) = match discovered {
        Ok(found) => found,
        Err(tried @ (None | Some(subscribe::SubscribeError::NoFeed { .. }))) => {
            return add_page::add_page(path, &fetcher, url, name, tags, tried);
        }
        Err(Some(error)) => return Err(error.into()),
    };
    // Checked again against the config as it is now: another edit may have
    // taken the name or the feed meanwhile.
    let mut file = ConfigFile::load(path)?;
    check_name_free(file.config(), name.as_deref())?;
    if let Some(existing) = file.config().feeds.iter().find(|f| f.url == feed_url) {
        return Err(UsageError(format!(
            "{} is already configured, as {:?}",
            redact::url(&feed_url),
            existing.name
        ))
        .into());
    }
    file.add(&NewFeed {
        url: feed_url.clone(),
        name,
        tags,
    })?;
    let saved = file.save()?;
    let added = saved
        .feeds
        .iter()
        .find(|f| f.url == feed_url)
        .context("the added feed is missing from the saved config")?;
    let title = parsed.title.map(|t| format!("{t:?}, ")).unwrap_or_default();
    outln!(
        "added {}: {} ({title}{}) to {}",
        added.name,
        redact::url(&feed_url),
        crate::plural::count(parsed.entries.len() as u64, "entry", "entries"),
        path.display()
    )?;
    outln!("a running daemon picks it up within seconds (or on `systemctl reload gleaner`)")?;
    Ok(())
}

/// A usage error when `name` is already a feed's name in `config`.
fn check_name_free(config: &Config, name: Option<&str>) -> anyhow::Result<()> {
    if let Some(name) = name
        && let Some(taken) = config.feeds.iter().find(|f| f.name == name)
    {
        return Err(UsageError(format!(
            "the name {name:?} is already used by {}; pick another with --name",
            redact::url(&taken.url)
        ))
        .into());
    }
    Ok(())
}

fn remove(path: &std::path::Path, name_or_url: &str) -> anyhow::Result<()> {
    let mut file = ConfigFile::load(path)?;
    let feed = find_feed(file.config(), name_or_url)?.clone();
    if !file.remove(&feed.url)? {
        anyhow::bail!(
            "{} is not a [[feeds]] block of {}; edit it by hand",
            redact::url(&feed.url),
            path.display()
        );
    }
    file.save()?;
    outln!(
        "removed {} ({}) from {}; its articles stay in the database",
        feed.name,
        redact::url(&feed.url),
        path.display()
    )?;
    Ok(())
}

fn import_opml(path: &std::path::Path, opml: &std::path::Path) -> anyhow::Result<()> {
    let xml =
        std::fs::read_to_string(opml).with_context(|| format!("cannot read {}", opml.display()))?;
    let outlines = subscribe::parse_opml(opml, &xml)?;
    let mut file = ConfigFile::load(path)?;
    let config = file.config();
    let mut names: Vec<String> = config.feeds.iter().map(|f| f.name.clone()).collect();
    let mut urls: Vec<Url> = config.feeds.iter().map(|f| f.url.clone()).collect();
    let (mut added, mut known) = (0, 0);
    for outline in outlines {
        let url = match Url::parse(&outline.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            _ => {
                eprintln!("skipped {:?}: not an http(s) URL", outline.url);
                continue;
            }
        };
        if urls.contains(&url) {
            known += 1;
            continue;
        }
        // The outline's title names the feed unless another feed has it.
        let name = outline.title.filter(|t| !names.contains(t));
        names.extend(name.clone());
        urls.push(url.clone());
        file.add(&NewFeed {
            url,
            name,
            tags: outline.tags,
        })?;
        added += 1;
    }
    if added > 0 {
        file.save()?;
    }
    outln!(
        "imported {added} feeds into {} ({known} already configured)",
        path.display()
    )?;
    if added > 0 {
        outln!("a running daemon picks them up within seconds (or on `systemctl reload gleaner`)")?;
    }
    Ok(())
}

fn search(config: &Config, words: &str, format: SearchFormat, limit: u64) -> anyhow::Result<()> {
    let store = open_store(config, Access::Read)?;
    let hits = store
        .search(words, limit)
        .with_context(|| format!("searching for {words:?}"))?;
    let mut stdout = std::io::stdout().lock();
    match format {
        SearchFormat::Json => writeln!(stdout, "{}", serde_json::to_string_pretty(&hits)?),
        SearchFormat::Table => print_hits(&mut stdout, &hits, words),
    }
    .map_err(out::stdout_error)
}

/// The `search` table: rank, title, date, feeds, URL and snippet per hit.
fn print_hits(
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

/// Prints a table of `rows` under `header`, every cell's control
/// characters escaped ([`escape`]): cells hold text from outside (remote
/// error messages, a hook's output, feeds' names for things), which must
/// not drive the operator's terminal nor break the table's lines.
fn print_table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> anyhow::Result<()> {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| row.clone().map(|cell| escape(&cell).into_owned()))
        .collect();
    let rows = &rows[..];
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        outln!("{}", padded.join("  ").trim_end())
    };
    line(header.to_vec())?;
    for row in rows {
        line(row.iter().map(String::as_str).collect())?;
    }
    Ok(())
}

fn extract(
    config_path: &std::path::Path,
    url: Option<Url>,
    format: ExtractFormat,
    file: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading the page from stdin")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    }
    // Per-site rules come from a configured feed on the page's site, when a
    // config is there; extract works without one.
    let config = if config_path.exists() {
        Some(Config::load(config_path)?)
    } else {
        None
    };
    let feed = url.as_ref().and_then(|u| {
        config
            .as_ref()?
            .feeds
            .iter()
            .find(|f| crate::fetch::site::same_site(&f.url, u))
    });
    let site_configs = match &config {
        Some(config) => site_config::load_logged(&config.extraction.site_config_dirs)?,
        None => None,
    };
    let rules = SiteRules {
        content_selector: feed.and_then(|f| f.content_selector.as_ref()),
        remove_selectors: feed.map_or(&[], |f| &f.remove_selectors),
        site_configs: site_configs.as_deref(),
    };
    let base = match url {
        Some(url) => url,
        None => Url::parse("file:///").expect("a valid URL"),
    };
    let extracted = article::extract(&bytes, None, &base, rules);
    // A saved page has no response to weigh: a 200 with nothing special.
    let verdict = crate::article::verdict::judge_bytes(
        &Default::default(),
        &bytes,
        None,
        &base,
        extracted.as_ref(),
    );
    if let Some(found) = verdict.interstitial() {
        // Not an article: its text is the wall's. JSON still says what was
        // found, with the verdict; the other formats print nothing.
        if format == ExtractFormat::Json {
            let mut object = match &extracted {
                Ok(article) => serde_json::to_value(article)?,
                Err(_) => serde_json::json!({}),
            };
            object["verdict"] = serde_json::to_value(&verdict)?;
            outln!("{}", serde_json::to_string_pretty(&object)?)?;
        }
        eprintln!(
            "{base}: the page is {} ({}), not an article",
            found.kind.described(),
            found.evidence
        );
        return Ok(ExitCode::from(1));
    }
    let article = match extracted {
        Ok(article) => article,
        Err(error) => {
            if format == ExtractFormat::Json {
                outln!("null")?;
            }
            eprintln!("{error}");
            return Ok(ExitCode::from(1));
        }
    };
    let output = match format {
        ExtractFormat::Text => article.content_text,
        ExtractFormat::Html => article.content_html,
        ExtractFormat::Json => {
            let mut object = serde_json::to_value(&article)?;
            object["verdict"] = serde_json::to_value(&verdict)?;
            serde_json::to_string_pretty(&object)?
        }
    };
    outln!("{output}")?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let default = match cli.command {
        Command::Run => "info,tokio_cron_scheduler=warn",
        _ => "warn",
    };
    let filter = cli.log_level.as_deref().unwrap_or(default);
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|e| {
        eprintln!("warning: ignoring the log filter {filter:?}: {e}");
        EnvFilter::new(default)
    });
    // The PostgreSQL client logs every statement with its parameters at
    // debug level, feed URLs with their credentials among them: never shown.
    // The TLS verifier logs a refused certificate that the connection
    // error reports again, with what to do: once is enough.
    let filter = ["tokio_postgres=info", "rustls_platform_verifier=off"]
        .into_iter()
        .fold(filter, |filter, directive| match directive.parse() {
            Ok(quiet) => filter.add_directive(quiet),
            Err(_) => filter,
        });
    let stderr = Stderr::detect();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr == Stderr::Terminal)
        .with_timer(stderr::UtcTime);
    match stderr {
        Stderr::Terminal => builder.init(),
        // journald adds its own timestamps; one plain line per event.
        Stderr::Journal => builder.without_time().with_target(false).init(),
        // A file or a pipe: each line says when (UTC, RFC 3339).
        Stderr::Elsewhere => builder.with_target(false).init(),
    }
}
