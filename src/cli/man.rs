//! `gleaner man`: the man page (roff).

use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::args::Cli;
use super::out;

/// Prints the man page.
pub(super) fn man() -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("rendering the man page")
        .and_then(|()| out::write_all(&page))
        .map(|()| ExitCode::SUCCESS)
}
