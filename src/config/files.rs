//! The files a first run needs, which only `check-config` looks for: the
//! other commands find out when they reach the file.

use std::path::{Path, PathBuf};

use toml_edit::{Item, Value};

use super::{Positions, Problem};

/// The files a first run needs that the config names but that are not
/// there: `[storage] password_file`, and each `[[deliver]]` `exec`
/// command (looked up on `$PATH` when it names no folder). `check-config`
/// reports them; the other commands find out when they need the file.
pub fn missing_files(path: &Path) -> Vec<Problem> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let Ok(document) = toml_edit::Document::parse(text.as_str()) else {
        return Vec::new();
    };
    let at = Positions::new(&text, path);
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut problems = Vec::new();
    let root = document.as_table();
    let password_file = root
        .get("storage")
        .and_then(Item::as_table_like)
        .and_then(|s| s.get("password_file"));
    if let Some(item) = password_file
        && let Some(file) = item.as_str()
    {
        let resolved = folder.join(file);
        if !resolved.is_file() {
            problems.push(at.problem(
                item.span().map_or(0, |s| s.start),
                format!(
                    "[storage].password_file: {} does not exist (write the database's password into it, or remove the key to use $PGPASSWORD)",
                    resolved.display()
                ),
            ));
        }
    }
    if let Some(blocks) = root.get("deliver").and_then(Item::as_array_of_tables) {
        for block in blocks.iter() {
            let Some(exec) = block.get("exec") else {
                continue;
            };
            let Some(program) = exec
                .as_array()
                .and_then(|a| a.get(0))
                .and_then(Value::as_str)
            else {
                continue;
            };
            if program.trim().is_empty() || find_program(program).is_some() {
                continue;
            }
            let name = block.get("name").and_then(Item::as_str).unwrap_or("");
            let looked = if program.contains('/') {
                "no such file".to_owned()
            } else {
                "not found on $PATH".to_owned()
            };
            problems.push(at.problem(
                exec.span().map_or(0, |s| s.start),
                format!(
                    "[[deliver]] {name:?}: exec command {program:?}: {looked} (install it, or give its full path)"
                ),
            ));
        }
    }
    problems
}

/// Where `program` is: itself when it names a folder (as the daemon runs
/// it), else the first `$PATH` entry that has it.
fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
