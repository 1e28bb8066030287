//! Everything a command prints on stdout goes through here, so one place
//! decides what a closed stdout (`gleaner feeds | head -1`) means: `println!`
//! would panic on it (exit 101 and a stack trace).
//!
//! A reader that stops early is not a failure: the command ends there and
//! exits 0 quietly ([`StdoutClosed`], turned into the exit code by
//! `cli::run`). The one exception is an export that would move a
//! consumer's cursor: its cursor stays where it was and it exits 1 (an I/O
//! failure), because a consumer takes only an export that exited 0 as
//! delivered.

use std::io::{self, Write};

/// Stdout's reader closed it before the command had printed everything.
#[derive(Debug, thiserror::Error)]
#[error("stdout was closed before the output was complete")]
pub struct StdoutClosed;

/// What an io error writing to stdout means for the command: the end of its
/// output for a closed pipe, else an error that names stdout.
pub fn stdout_error(error: io::Error) -> anyhow::Error {
    if error.kind() == io::ErrorKind::BrokenPipe {
        StdoutClosed.into()
    } else {
        anyhow::Error::new(error).context("cannot write to stdout")
    }
}

/// Writes `bytes` to stdout and flushes them.
pub fn write_all(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(stdout_error)
}

/// Writes one line to stdout (see [`outln!`](crate::cli::outln)).
pub fn line(args: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        .map_err(stdout_error)
}

/// `println!` that returns a closed stdout as [`StdoutClosed`] instead of
/// panicking: `outln!("ok: {n} feeds")?`.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;
