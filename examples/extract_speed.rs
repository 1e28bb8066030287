//! The extractor's CPU per page on the DEV sets, in one process, and a
//! digest of everything it gives for each page, so that a change meant to
//! make extraction cheaper can be shown to change no output.
//!
//! ```sh
//! cargo run --release --example extract_speed -- ROUNDS DIGEST_FILE \
//!     ../shared/bench/extraction ../shared/bench/extraction-wcxb ../shared/bench/extraction-snippets
//! ```
//!
//! Each folder holds `html/<id>.html.gz` and `ground-truth.json` or
//! `expectations.json` (for the page's URL). Every page is unpacked into
//! memory first, then each set's pages are extracted `ROUNDS` times
//! (`article::extract`, no site rules, then `verdict::judge_bytes` as the
//! daemon judges a page); the median round gives µs per page, of CPU
//! time (the thread's own, which a busy machine disturbs less than the
//! wall clock) and of wall time. The first
//! round writes to `DIGEST_FILE` one line per page: the set, the page's id
//! and a hash of the whole `Article` (its `Debug` form: text, HTML,
//! metadata, links, the page's signs) and of the verdict. Two runs are
//! the same when their digest files are (`cmp`).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use gleaner::article::verdict::{self, ResponseFacts};
use gleaner::article::{self, SiteRules};
use url::Url;

#[path = "common/dev_pages.rs"]
mod dev_pages;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(rounds), Some(digest_path)) = (
        args.first().and_then(|r| r.parse::<usize>().ok()),
        args.get(1),
    ) else {
        eprintln!("usage: extract_speed ROUNDS DIGEST_FILE FOLDER…");
        return ExitCode::from(2);
    };
    let mut digest = match std::fs::File::create(digest_path) {
        Ok(file) => std::io::BufWriter::new(file),
        Err(e) => {
            eprintln!("{digest_path}: {e}");
            return ExitCode::from(1);
        }
    };
    for dir in &args[2..] {
        let dir = Path::new(dir);
        let pages = match load(dir) {
            Ok(pages) => pages,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                return ExitCode::from(1);
            }
        };
        let set = dir
            .file_name()
            .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
        let (mut cpu, mut wall) = (Vec::new(), Vec::new());
        for round in 0..rounds.max(1) {
            let (started, started_cpu) = (Instant::now(), thread_cpu());
            for (id, url, html) in &pages {
                let extracted = article::extract(html, None, url, SiteRules::default());
                let judged = verdict::judge_bytes(
                    &ResponseFacts::default(),
                    html,
                    None,
                    url,
                    extracted.as_ref(),
                );
                if round == 0 {
                    let mut hasher = DefaultHasher::new();
                    format!("{extracted:?}").hash(&mut hasher);
                    format!("{judged:?}").hash(&mut hasher);
                    if let Err(e) = writeln!(digest, "{set}\t{id}\t{:016x}", hasher.finish()) {
                        eprintln!("{digest_path}: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
            let pages = pages.len().max(1) as f64;
            cpu.push((thread_cpu() - started_cpu) * 1e6 / pages);
            wall.push(started.elapsed().as_secs_f64() * 1e6 / pages);
        }
        cpu.sort_by(f64::total_cmp);
        wall.sort_by(f64::total_cmp);
        println!(
            "{set}: {} pages, {} rounds, µs/page median (min–max): CPU {:.0} ({:.0}–{:.0}), wall {:.0} ({:.0}–{:.0})",
            pages.len(),
            cpu.len(),
            cpu[cpu.len() / 2],
            cpu[0],
            cpu[cpu.len() - 1],
            wall[wall.len() / 2],
            wall[0],
            wall[wall.len() - 1],
        );
    }
    if let Err(e) = digest.flush() {
        eprintln!("{digest_path}: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

/// The calling thread's CPU time in seconds.
fn thread_cpu() -> f64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill.
    let read = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if read != 0 {
        return 0.0;
    }
    now.tv_sec as f64 + now.tv_nsec as f64 / 1e9
}

/// The set's pages in id order: id, URL and unpacked bytes.
fn load(dir: &Path) -> Result<Vec<(String, Url, Vec<u8>)>, String> {
    dev_pages::urls(dir)?
        .into_iter()
        .map(|(id, url)| {
            let html = dev_pages::html(dir, &id)?;
            Ok((id, url, html))
        })
        .collect()
}
