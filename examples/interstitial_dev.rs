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

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use gleaner::article::verdict::{self, ResponseFacts};
use gleaner::article::{self, SiteRules};
use url::Url;

fn main() -> ExitCode {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    if dirs.is_empty() {
        eprintln!("usage: interstitial_dev FOLDER…");
        return ExitCode::from(2);
    }
    let (mut pages, mut alarms) = (0usize, 0usize);
    for dir in &dirs {
        let dir = Path::new(dir);
        let urls = match urls(dir) {
            Ok(urls) => urls,
            Err(e) => {
                eprintln!("{}: {e}", dir.display());
                return ExitCode::from(1);
            }
        };
        let mut ids: Vec<&String> = urls.keys().collect();
        ids.sort();
        let mut set_alarms = 0;
        for id in ids {
            let path = dir.join("html").join(format!("{id}.html.gz"));
            let mut html = Vec::new();
            let read = std::fs::File::open(&path)
                .and_then(|f| flate2::read::GzDecoder::new(f).read_to_end(&mut html));
            if let Err(e) = read {
                eprintln!("{}: {e}", path.display());
                return ExitCode::from(1);
            }
            let url = &urls[id];
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

/// Each page's URL, by id, from the set's answers.
fn urls(dir: &Path) -> Result<HashMap<String, Url>, String> {
    let path = ["ground-truth.json", "expectations.json"]
        .iter()
        .map(|f| dir.join(f))
        .find(|p| p.exists())
        .ok_or("neither ground-truth.json nor expectations.json")?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let entries: HashMap<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    entries
        .into_iter()
        .map(|(id, entry)| {
            // A page saved without its address is judged as if at a placeholder.
            let url = entry["url"]
                .as_str()
                .and_then(|u| Url::parse(u).ok())
                .or_else(|| Url::parse(&format!("https://unknown.invalid/{id}")).ok())
                .ok_or_else(|| format!("{id}: no valid url"))?;
            Ok((id, url))
        })
        .collect()
}
