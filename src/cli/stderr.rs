//! How a line on stderr starts, for log lines and for the lines a command
//! prints itself (`poll`'s failed feeds): both are read in the same place
//! (a terminal, the journal, a cron job's log file), so both start alike.

use std::fmt;
use std::io::IsTerminal;

use chrono::{SecondsFormat, Utc};
use tracing::Level;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// Where stderr goes, which decides what a line needs to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stderr {
    /// A person is watching: no time, colours.
    Terminal,
    /// journald, which stamps each line itself (systemd sets
    /// `JOURNAL_STREAM` when stderr goes to the journal).
    Journal,
    /// A file or a pipe: each line says when, in UTC (RFC 3339).
    Elsewhere,
}

impl Stderr {
    pub fn detect() -> Stderr {
        if std::io::stderr().is_terminal() {
            Stderr::Terminal
        } else if std::env::var_os("JOURNAL_STREAM").is_some_and(|v| !v.is_empty()) {
            Stderr::Journal
        } else {
            Stderr::Elsewhere
        }
    }

    /// What a line at `level` starts with off a terminal, as tracing's
    /// formatter writes it with [`UtcTime`] (`TIME LEVEL message`, the
    /// level right-aligned in five columns); nothing on a terminal, where
    /// a command's own lines stay as they are.
    pub fn prefix(self, level: Level) -> String {
        match self {
            Stderr::Terminal => String::new(),
            Stderr::Journal => format!("{level:>5} "),
            Stderr::Elsewhere => format!("{} {level:>5} ", now()),
        }
    }
}

/// The time of a log line: UTC, RFC 3339, to the microsecond.
fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// tracing's timer, so that log lines and [`report`] lines tell the time
/// with one function.
pub struct UtcTime;

impl FormatTime for UtcTime {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        w.write_str(&now())
    }
}

/// Prints one line of a command's report on stderr, starting as a log line
/// at `level` would.
pub fn report(level: Level, line: &str) {
    eprintln!("{}{line}", Stderr::detect().prefix(level));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_off_a_terminal_start_with_the_utc_time_and_the_level() {
        let prefix = Stderr::Elsewhere.prefix(Level::WARN);
        let (time, rest) = prefix.split_once(' ').unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(time).is_ok(),
            "{prefix}"
        );
        assert!(time.ends_with('Z'), "{prefix}");
        assert_eq!(rest, " WARN ");
        assert_eq!(Stderr::Journal.prefix(Level::ERROR), "ERROR ");
        assert_eq!(Stderr::Terminal.prefix(Level::INFO), "");
    }
}
