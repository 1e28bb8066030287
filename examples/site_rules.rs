//! How much of a rule library in Full-Text RSS's format gleaner reads: files
//! that load without a warning, expressions per directive that compile (and
//! so evaluate: our evaluator has no runtime errors), the directives it does
//! not apply, and the time to load the library.
//!
//! ```sh
//! cargo run --release --example site_rules -- ../shared/site-config/ftr [--warnings]
//! ```
//!
//! The library is read in place (the snapshot stays in `../shared`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use gleaner::article::site_config::{SiteConfig, SiteConfigs};
use gleaner::article::xpath::XPath;

/// Directives whose value is an XPath expression.
const XPATH_DIRECTIVES: &[&str] = &[
    "body",
    "strip",
    "strip_attr",
    "title",
    "author",
    "date",
    "next_page_link",
    "single_page_link",
];

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: site_rules FOLDER [--warnings]");
        return std::process::ExitCode::from(2);
    };
    let show_warnings = args.any(|a| a == "--warnings");

    let started = Instant::now();
    let (configs, warnings) = match SiteConfigs::load(std::slice::from_ref(&dir)) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("{error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let load_time = started.elapsed();

    // Expressions per directive, compiled one by one.
    let mut per_directive: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut ignored: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    entries.sort();
    for path in &entries {
        let Ok(bytes) = std::fs::read(path) else {
            continue;
        };
        files += 1;
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines() {
            let Some((name, value)) = line.trim().split_once(':') else {
                continue;
            };
            let name = name.trim().to_ascii_lowercase();
            if let Some(known) = XPATH_DIRECTIVES.iter().find(|d| **d == name) {
                let counts = per_directive.entry(known).or_default();
                counts.0 += 1;
                counts.1 += usize::from(XPath::compile(value.trim()).is_ok());
            }
        }
        let (config, _) = SiteConfig::parse(&text, path);
        for (name, count) in config.ignored {
            *ignored.entry(name).or_default() += count;
        }
    }
    let files_warned: std::collections::HashSet<&PathBuf> =
        warnings.iter().map(|w| &w.path).collect();

    println!(
        "{}: {files} files ({} site files loaded)",
        dir.display(),
        configs.len()
    );
    println!(
        "files without a warning: {} of {files} ({:.1} %); {} rules skipped",
        files - files_warned.len(),
        100.0 * (files - files_warned.len()) as f64 / files.max(1) as f64,
        warnings.len()
    );
    println!(
        "{:<18} {:>7} {:>9} {:>7}",
        "directive", "rules", "compiled", "share"
    );
    let (mut all, mut all_ok) = (0, 0);
    for (name, (total, ok)) in &per_directive {
        all += total;
        all_ok += ok;
        println!(
            "{name:<18} {total:>7} {ok:>9} {:>6.2}%",
            100.0 * *ok as f64 / (*total).max(1) as f64
        );
    }
    println!(
        "{:<18} {all:>7} {all_ok:>9} {:>6.2}%",
        "all XPath",
        100.0 * all_ok as f64 / all.max(1) as f64
    );
    println!("not applied (read and counted):");
    for (name, count) in &ignored {
        println!("  {name}: {count}");
    }
    println!(
        "load and compile: {:.0} ms",
        load_time.as_secs_f64() * 1000.0
    );
    if show_warnings {
        for warning in &warnings {
            println!("{warning}");
        }
    }
    std::process::ExitCode::SUCCESS
}
