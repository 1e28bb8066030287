//! Article extraction on real pages with human answers, against the
//! libraries' own output in the same run.
//!
//! ```sh
//! cargo bench --bench extraction
//! ```
//!
//! Reads every set in `$GLEANER_EXTRACTION_BENCH` (folders separated by `:`;
//! default the three DEV sets `../shared/bench/extraction`,
//! `extraction-wcxb` and `extraction-snippets`), each with pages in
//! `html/<id>.html.gz` and answers in `ground-truth.json` (whole article
//! text, scored as in `metric.rs`) or `expectations.json` (passages in and
//! out of the article and the page's metadata, scored as in `snippets.rs`).
//! For each set and system it prints F1 with its bootstrap ±, P, R, empty
//! outputs and pages/s on one core (the bench runs on one thread), plus
//! exact-match accuracy on the first kind and the shares of dates, titles
//! and authors that agree on the second:
//!
//! - `gleaner`: `article::extract`, the path the daemon, `extract` and
//!   `reextract` share;
//! - `trafilatura`: the `trafilatura` crate's own `content_text` (fallback on,
//!   `FavorPrecision`), the best library on the first set;
//! - `dom_smoothie`: its own `text_content` (`TextMode::Formatted`).
//!
//! With `GLEANER_SITE_CONFIG_DIR=../shared/site-config/ftr` (folders separated
//! by `:`) a fourth system, `gleaner+rules`, runs the same extractor with that
//! rule library (as `[extraction] site_config_dir` gives it), and each set
//! also prints the figures on the pages whose host has a site file of its
//! own (`global.txt` applies to every page). The rules are used as
//! published.
//!
//! `GLEANER_BENCH_SYSTEMS=gleaner` measures a subset. gleaner's predictions and
//! per-page scores go to `target/extraction-bench/<set>/<system>/`
//! (`scores.tsv` for diffing two runs or systems), cross-checked with the set's `score.py` when python3 is
//! there. With `GLEANER_EXTRACTION_MIN_F1=extraction=0.97,extraction-wcxb=0.94,extraction-snippets=0.92`
//! it exits 1 when gleaner's F1 on a named set is below its floor.

mod metric;
mod snippets;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use std::sync::OnceLock;

use gleaner::article::site_config::SiteConfigs;
use gleaner::article::{self, SiteRules};
use metric::{PageScore, Total};
use url::Url;

struct Page {
    id: String,
    url: Url,
    html: Vec<u8>,
    truth: String,
}

/// A system under measurement: page bytes and address (none for the
/// snippet pages without one) to plain text and metadata.
struct System {
    name: &'static str,
    run: fn(&[u8], Option<&Url>) -> Output,
}

/// What a system gives for one page.
#[derive(Default)]
pub struct Output {
    pub text: String,
    /// `YYYY-MM-DD…`.
    pub published: Option<String>,
    pub title: Option<String>,
    pub author: Option<String>,
}

/// The address `gleaner extract` uses when it is given none.
fn page_url(url: Option<&Url>) -> Url {
    url.cloned()
        .unwrap_or_else(|| Url::parse("file:///").expect("a valid URL"))
}

fn from_article(article: Option<article::Article>) -> Output {
    article.map_or_else(Output::default, |a| Output {
        published: a.published.map(|d| d.format("%Y-%m-%d").to_string()),
        title: a.title,
        author: a.author,
        text: a.content_text,
    })
}

const SYSTEMS: &[System] = &[
    System {
        name: "gleaner",
        run: gleaner_text,
    },
    System {
        name: "gleaner+rules",
        run: gleaner_rules_text,
    },
    System {
        name: "trafilatura",
        run: trafilatura_text,
    },
    System {
        name: "dom_smoothie",
        run: smoothie_text,
    },
];

fn gleaner_text(html: &[u8], url: Option<&Url>) -> Output {
    from_article(article::extract(html, None, &page_url(url), SiteRules::default()).ok())
}

/// The library of `GLEANER_SITE_CONFIG_DIR`, loaded once.
fn site_configs() -> Option<&'static SiteConfigs> {
    static LOADED: OnceLock<Option<SiteConfigs>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            let dirs: Vec<PathBuf> = std::env::var("GLEANER_SITE_CONFIG_DIR")
                .ok()
                .filter(|dirs| !dirs.is_empty())?
                .split(':')
                .map(PathBuf::from)
                .collect();
            match SiteConfigs::load(&dirs) {
                Ok((configs, warnings)) => {
                    println!(
                        "site rules: {} site files, {} rules skipped",
                        configs.len(),
                        warnings.len()
                    );
                    Some(configs)
                }
                Err(error) => {
                    eprintln!("extraction bench: {error}");
                    None
                }
            }
        })
        .as_ref()
}

fn gleaner_rules_text(html: &[u8], url: Option<&Url>) -> Output {
    let rules = SiteRules {
        site_configs: site_configs(),
        ..SiteRules::default()
    };
    from_article(article::extract(html, None, &page_url(url), rules).ok())
}

fn trafilatura_text(html: &[u8], url: Option<&Url>) -> Output {
    let mut options = trafilatura::Options::default()
        .with_fallback(true)
        .with_focus(trafilatura::ExtractionFocus::FavorPrecision);
    if let Some(url) = url {
        options = options.with_url(url.clone());
    }
    let html = gleaner::encoding::decode_html(html, None);
    let nonempty = |s: String| (!s.trim().is_empty()).then_some(s);
    trafilatura::extract(&html, &options).map_or_else(
        |_| Output::default(),
        |r| Output {
            text: r.content_text,
            published: r.metadata.date.map(|d| d.format("%Y-%m-%d").to_string()),
            title: nonempty(r.metadata.title),
            author: nonempty(r.metadata.author),
        },
    )
}

fn smoothie_text(html: &[u8], url: Option<&Url>) -> Output {
    let html = gleaner::encoding::decode_html(html, None);
    let config = dom_smoothie::Config {
        text_mode: dom_smoothie::TextMode::Formatted,
        ..Default::default()
    };
    let text = dom_smoothie::Readability::new(html.as_ref(), url.map(Url::as_str), Some(config))
        .ok()
        .and_then(|mut r| r.parse().ok())
        .map(|a| a.text_content.to_string())
        .unwrap_or_default();
    Output {
        text,
        ..Output::default()
    }
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets: Vec<PathBuf> = match std::env::var("GLEANER_EXTRACTION_BENCH") {
        Ok(list) => list.split(':').map(PathBuf::from).collect(),
        Err(_) => [
            "../shared/bench/extraction",
            "../shared/bench/extraction-wcxb",
            "../shared/bench/extraction-snippets",
        ]
        .iter()
        .map(|d| root.join(d))
        .collect(),
    };
    let wanted = std::env::var("GLEANER_BENCH_SYSTEMS").ok();
    let rules = site_configs();
    let systems: Vec<&System> = SYSTEMS
        .iter()
        .filter(|s| s.name != "gleaner+rules" || rules.is_some())
        .filter(|s| {
            wanted
                .as_deref()
                .is_none_or(|w| w.split(',').any(|n| n == s.name))
        })
        .collect();
    let floors = floors();
    let mut failed = false;
    for dir in &sets {
        let set = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if dir.join("expectations.json").exists() {
            match snippet_set(dir, &set, &systems, &floors, root) {
                Ok(below) => failed |= below,
                Err(error) => {
                    eprintln!("extraction bench: {error}");
                    return ExitCode::FAILURE;
                }
            }
            continue;
        }
        if !dir.join("ground-truth.json").exists() {
            println!("{set}: no data at {} ; skipped", dir.display());
            continue;
        }
        let pages = match load(dir) {
            Ok(pages) => pages,
            Err(error) => {
                eprintln!("extraction bench: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("\n== {set}: {} pages ==", pages.len());
        println!(
            "{:<14} {:>7} {:>7} {:>7} {:>7} {:>6} {:>6} {:>8}",
            "system", "F1", "±", "P", "R", "acc", "empty", "pages/s"
        );
        // The pages whose host has a site file of its own.
        let ruled: Vec<bool> = pages
            .iter()
            .map(|p| {
                rules
                    .zip(p.url.host_str())
                    .is_some_and(|(r, host)| r.site_file(host).is_some())
            })
            .collect();
        let mut ruled_lines = Vec::new();
        for system in &systems {
            let (outputs, elapsed) = run(
                system,
                pages.iter().map(|p| (p.html.as_slice(), Some(&p.url))),
            );
            let outputs: Vec<String> = outputs.into_iter().map(|o| o.text).collect();
            let scores: Vec<PageScore> = pages
                .iter()
                .zip(&outputs)
                .map(|(page, text)| PageScore::new(&page.truth, text))
                .collect();
            let total = Total::of(&scores);
            println!(
                "{:<14} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>6.3} {:>6} {:>8.0}",
                system.name,
                total.f1,
                total.f1_sd,
                total.precision,
                total.recall,
                total.accuracy,
                total.empty,
                pages.len() as f64 / elapsed.as_secs_f64()
            );
            if rules.is_some() {
                let subset: Vec<PageScore> = pages
                    .iter()
                    .zip(&outputs)
                    .zip(&ruled)
                    .filter(|(_, ruled)| **ruled)
                    .map(|((page, text), _)| PageScore::new(&page.truth, text))
                    .collect();
                if !subset.is_empty() {
                    let part = Total::of(&subset);
                    ruled_lines.push(format!(
                        "{:<14} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>6.3} {:>6}",
                        system.name,
                        part.f1,
                        part.f1_sd,
                        part.precision,
                        part.recall,
                        part.accuracy,
                        part.empty
                    ));
                }
            }
            let out_dir = root
                .join("target/extraction-bench")
                .join(&set)
                .join(system.name);
            write_predictions(&out_dir, &pages, &outputs, &scores);
            if system.name != "gleaner" {
                continue;
            }
            cross_check(dir, &out_dir);
            if let Some(floor) = floors.get(set.as_str())
                && total.f1 < *floor
            {
                eprintln!(
                    "extraction bench: gleaner's F1 {:.4} on {set} is below the required {floor}",
                    total.f1
                );
                failed = true;
            }
        }
        if !ruled_lines.is_empty() {
            let hosts: std::collections::HashSet<&str> = pages
                .iter()
                .zip(&ruled)
                .filter(|(_, r)| **r)
                .filter_map(|(p, _)| p.url.host_str())
                .collect();
            println!(
                "-- pages whose host has a site file: {} of {} ({} hosts) --",
                ruled.iter().filter(|r| **r).count(),
                pages.len(),
                hosts.len()
            );
            for line in ruled_lines {
                println!("{line}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `GLEANER_EXTRACTION_MIN_F1` as set name → floor.
fn floors() -> HashMap<String, f64> {
    let Ok(spec) = std::env::var("GLEANER_EXTRACTION_MIN_F1") else {
        return HashMap::new();
    };
    spec.split(',')
        .filter_map(|pair| {
            let (set, floor) = pair.split_once('=')?;
            Some((set.trim().to_owned(), floor.trim().parse().ok()?))
        })
        .collect()
}

/// The system's output for every page, and the time it took on this thread
/// (the bench runs on one thread: pages/s is per core).
fn run<'a>(
    system: &System,
    pages: impl Iterator<Item = (&'a [u8], Option<&'a Url>)>,
) -> (Vec<Output>, Duration) {
    let mut elapsed = Duration::ZERO;
    let outputs = pages
        .map(|(html, url)| {
            let started = Instant::now();
            let output = (system.run)(html, url);
            elapsed += started.elapsed();
            output
        })
        .collect();
    (outputs, elapsed)
}

/// The snippet set (`expectations.json`): F1, P, R, ± and the metadata
/// shares per system, cross-checked with the set's `score.py`. True when
/// gleaner is below its floor.
fn snippet_set(
    dir: &Path,
    set: &str,
    systems: &[&System],
    floors: &HashMap<String, f64>,
    root: &Path,
) -> Result<bool, String> {
    let pages = snippets::load(dir)?;
    println!("\n== {set}: {} pages ==", pages.len());
    println!(
        "{:<14} {:>7} {:>7} {:>7} {:>7} {:>6} {:>8}  metadata",
        "system", "F1", "±", "P", "R", "empty", "pages/s"
    );
    let mut failed = false;
    for system in systems {
        let (outputs, elapsed) = run(
            system,
            pages.iter().map(|p| (p.html.as_slice(), p.url.as_ref())),
        );
        let counts: Vec<snippets::Counts> = pages
            .iter()
            .zip(&outputs)
            .map(|(page, out)| snippets::score(page, out))
            .collect();
        let total = snippets::SnippetTotal::of(&pages, &outputs, &counts);
        let meta = if system.name == "dom_smoothie" {
            String::new()
        } else {
            total.meta_line()
        };
        println!(
            "{:<14} {:>7.4} {:>7.4} {:>7.4} {:>7.4} {:>6} {:>8.0}  {meta}",
            system.name,
            total.f1,
            total.f1_sd,
            total.precision,
            total.recall,
            total.empty,
            pages.len() as f64 / elapsed.as_secs_f64()
        );
        let out_dir = root
            .join("target/extraction-bench")
            .join(set)
            .join(system.name);
        snippets::write_predictions(&out_dir, &pages, &outputs, &counts);
        if system.name != "gleaner" {
            continue;
        }
        let output = Command::new("python3")
            .arg(dir.join("score.py"))
            .arg(dir.join("expectations.json"))
            .arg(&out_dir)
            .output();
        if let Ok(output) = output
            && let Some(last) = String::from_utf8_lossy(&output.stdout).lines().last()
        {
            println!("               score.py: {last}");
        }
        if let Some(floor) = floors.get(set)
            && total.f1 < *floor
        {
            eprintln!(
                "extraction bench: gleaner's F1 {:.4} on {set} is below the required {floor}",
                total.f1
            );
            failed = true;
        }
    }
    Ok(failed)
}

fn write_predictions(out_dir: &Path, pages: &[Page], outputs: &[String], scores: &[PageScore]) {
    let _ = std::fs::remove_dir_all(out_dir);
    std::fs::create_dir_all(out_dir).expect("creating the bench's output folder");
    let mut tsv = String::from("id\tP\tR\tF1\tpred_tokens\ttrue_tokens\n");
    for ((page, text), score) in pages.iter().zip(outputs).zip(scores) {
        std::fs::write(out_dir.join(format!("{}.txt", page.id)), text)
            .expect("writing a prediction");
        let _ = writeln!(
            tsv,
            "{}\t{:.4}\t{:.4}\t{:.4}\t{}\t{}",
            page.id,
            score.precision.unwrap_or(0.0),
            score.recall.unwrap_or(0.0),
            score.f1,
            score.pred_tokens,
            score.truth_tokens
        );
    }
    std::fs::write(out_dir.join("scores.tsv"), tsv).expect("writing scores.tsv");
}

/// A DEV set's answers: the JSON object at `path`, keyed by page id.
fn answers(path: &Path) -> Result<HashMap<String, serde_json::Value>, String> {
    serde_json::from_slice(&std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Page `id` of a DEV set: `html/ID.html.gz`, unpacked.
fn page_html(dir: &Path, id: &str) -> Result<Vec<u8>, String> {
    let path = dir.join("html").join(format!("{id}.html.gz"));
    let mut html = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?,
    )
    .read_to_end(&mut html)
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(html)
}

fn load(dir: &Path) -> Result<Vec<Page>, String> {
    let truth = answers(&dir.join("ground-truth.json"))?;
    let mut ids: Vec<&String> = truth.keys().collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let entry = &truth[id];
            let html = page_html(dir, id)?;
            let url = entry["url"]
                .as_str()
                .and_then(|u| Url::parse(u).ok())
                .ok_or_else(|| format!("{id}: no valid url in the ground truth"))?;
            Ok(Page {
                id: id.clone(),
                url,
                html,
                truth: entry["articleBody"].as_str().unwrap_or("").to_owned(),
            })
        })
        .collect()
}

/// Runs the set's own scorer on the same files, when python3 is there.
fn cross_check(dir: &Path, out_dir: &Path) {
    let scorer = ["score.py", "../extraction/score.py"]
        .iter()
        .map(|s| dir.join(s))
        .find(|s| s.exists());
    let Some(scorer) = scorer else { return };
    let output = Command::new("python3")
        .arg(scorer)
        .arg("--truth")
        .arg(dir.join("ground-truth.json"))
        .arg("--pred")
        .arg(out_dir)
        .args(["--bootstrap", "0"])
        .output();
    if let Ok(output) = output
        && let Some(last) = String::from_utf8_lossy(&output.stdout).lines().last()
    {
        println!("               score.py: {last}");
    }
}
