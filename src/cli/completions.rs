//! `gleaner completions`: a shell completion script.

use std::process::ExitCode;

use clap::CommandFactory;

use super::args::Cli;
use super::out;

/// Prints the completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "gleaner", &mut script);
    out::write_all(&script).map(|()| ExitCode::SUCCESS)
}
