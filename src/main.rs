//! The `gleaner` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    gleaner::cli::run(gleaner::cli::Cli::parse())
}
