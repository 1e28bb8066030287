//! `gleaner man`: the man pages (roff), one for gleaner and one per
//! command, all generated from the clap definitions so they say what
//! `--help` says.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use super::args::Cli;
use super::{UsageError, out, outln};

/// Prints the top page, or `command`'s page; with `dir`, writes every page
/// into that folder.
pub(super) fn man(command: Option<&str>, dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let pages = pages();
    if let Some(dir) = dir {
        // Created when missing, as `install -d` would: a packaging script
        // names the folder the pages go to.
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        for (file, page) in &pages {
            let path = dir.join(file);
            std::fs::write(&path, page)
                .with_context(|| format!("cannot write the man page {}", path.display()))?;
        }
        outln!("wrote {} man pages into {}", pages.len(), dir.display())?;
        return Ok(ExitCode::SUCCESS);
    }
    let wanted = match command {
        Some(name) => format!("gleaner-{name}.1"),
        None => "gleaner.1".to_owned(),
    };
    let Some((_, page)) = pages.iter().find(|(file, _)| *file == wanted) else {
        let names: Vec<&str> = pages
            .iter()
            .filter_map(|(file, _)| file.strip_prefix("gleaner-")?.strip_suffix(".1"))
            .collect();
        return Err(UsageError(format!(
            "no command {:?}: man pages exist for {}",
            command.unwrap_or_default(),
            names.join(", ")
        ))
        .into());
    };
    out::write_all(page)?;
    Ok(ExitCode::SUCCESS)
}

/// Every page, file name first: `gleaner.1`, then `gleaner-COMMAND.1` for
/// each command (`help` aside), which the top page refers to.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut top = Cli::command().disable_help_subcommand(true);
    top.build();
    let mut pages = Vec::new();
    for command in std::iter::once(&top).chain(top.get_subcommands()) {
        let man = clap_mangen::Man::new(command.clone());
        let mut page = Vec::new();
        // Rendering into memory cannot fail.
        if man.render(&mut page).is_ok() {
            pages.push((man.get_filename(), page));
        }
    }
    pages
}
