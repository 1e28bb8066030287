//! The interstitial verdict (`article::verdict`) over the DEV sets' real
//! article pages: every one of them is an article, so every interstitial
//! verdict is a false alarm.
//!
//! ```sh
//! cargo run --release --example interstitial_dev -- \
//!     ../shared/bench/extraction ../shared/bench/extraction-wcxb ../shared/bench/extraction-snippets
//! ```
//!
//! Each folder holds `html/<id>.html.gz` and either `ground-truth.json` or
//! `expectations.json` (for the page's URL). Prints each page judged an
//! interstitial with its kind and evidence, then
//! `interstitial verdicts on DEV pages: N of M`; exits 1 when N > 0, or
//! when a folder cannot be read.

use std::path::Path;
use std::process::ExitCode;

use gleaner::article::verdict::{self, ResponseFacts};
use gleaner::article::{self, SiteRules};

#[path = "common/dev_pages.rs"]
mod dev_pages;

fn main() -> ExitCode {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: interstitial_dev FOLDER…");
        return ExitCode::from(2);
    }
    let (mut pages, mut alarms) = (0usize, 0usize);
    for dir in &dirs {
        let dir = Path::new(dir);
        let urls = match dev_pages::urls(dir) {
            Ok(urls) => urls,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                return ExitCode::from(1);
            }
        };
        let mut set_alarms = 0;
        for (id, url) in &urls {
            let html = match dev_pages::html(dir, id) {
                Ok(html) => html,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::from(1);
                }
            };
            let extracted = article::extract(&html, None, url, SiteRules::default());
            let judged = verdict::judge_bytes(
                &ResponseFacts::default(),
                &html,
                None,
                url,
                extracted.as_ref(),
            );
            pages += 1;
            if let Some(found) = judged.interstitial() {
                set_alarms += 1;
                println!("{id} {url}: {} ({})", found.kind, found.evidence);
            }
        }
        println!(
            "{}: {set_alarms} of {} pages judged interstitials",
            dir.display(),
            urls.len()
        );
        alarms += set_alarms;
    }
    println!("interstitial verdicts on DEV pages: {alarms} of {pages}");
    if alarms > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
