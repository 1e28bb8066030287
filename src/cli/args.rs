//! The command line's clap definitions: every command, its options and
//! their help (which `--help`, the man pages and the completions show).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};
use url::Url;

use crate::config::DEFAULT_CONFIG_PATH;
use crate::export::Format;

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
        /// Only articles fetched at or after this time: a date (2026-12-07,
        /// midnight UTC), an RFC 3339 time (2026-12-07T13:00:00Z), or a
        /// duration back from now (24h, 7d, 1h30m).
        #[arg(long, value_name = "WHEN", value_parser = parse_since)]
        since: Option<DateTime<Utc>>,
        /// Only articles fetched at or before this time (the forms of
        /// --since). Not with --consumer, whose cursor would pass the
        /// articles left out.
        #[arg(long, value_name = "WHEN", value_parser = parse_since, conflicts_with = "consumer")]
        until: Option<DateTime<Utc>>,
        /// Only articles from this feed (name or URL; the URL of a removed
        /// feed gives its kept articles); repeatable.
        #[arg(long = "feed", value_name = "NAME_OR_URL")]
        feeds: Vec<String>,
        /// Only articles with this tag; repeatable.
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// At most this many articles (oldest first).
        #[arg(long, value_name = "N")]
        limit: Option<u64>,
        /// Write to this file atomically instead of stdout; it is private
        /// (mode 0600) unless --mode says otherwise.
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
        /// With --output: the file's permissions in octal, e.g. 644 for a
        /// feed a web server serves (default 600).
        #[arg(long, value_name = "OCTAL", requires = "output", value_parser = parse_mode)]
        mode: Option<u32>,
        /// With --consumer and --format jsonl: after the backlog, stay and write
        /// each new article as it is stored (flushed per batch, the cursor
        /// moved after each), until SIGTERM/SIGINT or the reader closes the pipe.
        #[arg(long, requires = "consumer", conflicts_with_all = ["peek", "output", "limit", "mode"])]
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
    /// Write the configured feeds as OPML 2.0 (grouped by their first tag);
    /// each outline's type is the format the feed's last poll read (rss,
    /// atom, json; html for a scraped page).
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
        /// Only articles from this feed (name or URL); repeatable.
        #[arg(long = "feed", value_name = "NAME_OR_URL")]
        feeds: Vec<String>,
        /// Only articles with this tag; repeatable.
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Only articles fetched at or after this time (as export's --since:
        /// 2026-12-07, 2026-12-07T13:00:00Z, 24h, 7d).
        #[arg(long, value_name = "WHEN", value_parser = parse_since)]
        since: Option<DateTime<Utc>>,
        /// At most this many results (1 or more).
        #[arg(long, default_value_t = 20, value_name = "N",
              value_parser = clap::value_parser!(u64).range(1..))]
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
    /// Print the man page (roff), e.g. `gleaner man > gleaner.1`, or one
    /// command's page (`gleaner man export`), or write them all into a
    /// folder (`gleaner man --dir /usr/local/share/man/man1`).
    Man {
        /// The command whose page to print (`gleaner-COMMAND(1)`).
        #[arg(value_name = "COMMAND", conflicts_with = "dir")]
        command: Option<String>,
        /// Write gleaner.1 and one gleaner-COMMAND.1 per command into this
        /// folder (which must exist) instead of printing.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchFormat {
    /// Title, date, feeds, URL and a snippet per match.
    Table,
    /// One JSON array of {id, title, url, published, updated, feeds, snippet, score}.
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

/// `--since`: an RFC 3339 time, a date (its midnight, UTC), or a duration
/// back from now.
pub(super) fn parse_since(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    crate::schedule::parse_duration(text)
        .ok()
        .and_then(|back| chrono::Duration::from_std(back).ok())
        .and_then(|back| Utc::now().checked_sub_signed(back))
        .ok_or_else(|| {
            "expected a date (2026-12-07), an RFC 3339 time (2026-12-07T13:00:00Z) or a duration back from now (24h, 7d)".to_owned()
        })
}

/// `--mode`: permissions in octal (`644`, `0644` or `0o644`), at most 777.
pub(super) fn parse_mode(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix("0o").unwrap_or(text);
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| "expected permissions in octal, at most 777, e.g. 644".to_owned())
}
