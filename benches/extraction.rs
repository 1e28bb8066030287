//! Article extraction on real pages with human answers.
//!
//! ```sh
//! cargo bench --bench extraction
//! ```
//!
//! Reads `../shared/bench/extraction` (or `$GLEANER_EXTRACTION_BENCH`): pages in
//! `html/<id>.html.gz`, answers in `ground-truth.json`. Writes one text file per
//! page to `target/extraction-bench/`, scores it with the benchmark's metric
//! (reimplemented here; cross-checked with its `score.py` when python3 is
//! there), and prints P, R, F1, empty outputs, pages/s on one core and the 10
//! worst pages. With `GLEANER_EXTRACTION_MIN_F1=0.96` it exits 1 below that F1.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use gleaner::article::{self, SiteRules, Trafilatura};
use url::Url;

struct Page {
    id: String,
    url: Url,
    html: Vec<u8>,
    truth: String,
}

fn main() -> ExitCode {
    let dir = std::env::var_os("GLEANER_EXTRACTION_BENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/extraction")
        });
    if !dir.join("ground-truth.json").exists() {
        println!(
            "extraction bench: no data at {} (set $GLEANER_EXTRACTION_BENCH); skipped",
            dir.display()
        );
        return ExitCode::SUCCESS;
    }
    let pages = match load(&dir) {
        Ok(pages) => pages,
        Err(error) => {
            eprintln!("extraction bench: {error}");
            return ExitCode::FAILURE;
        }
    };

    let extractor: Box<dyn article::Extractor> =
        match std::env::var("GLEANER_BENCH_EXTRACTOR").as_deref() {
            // One library alone, to measure what the combination adds.
            Ok("smoothie") => Box::new(article::DomSmoothie),
            Ok("trafilatura") => Box::new(Trafilatura::default()),
            _ => Box::new(article::Combined::default()),
        };
    let mut outputs = Vec::with_capacity(pages.len());
    let mut elapsed = Duration::ZERO;
    for page in &pages {
        let started = Instant::now();
        let text = article::extract(
            &page.html,
            None,
            &page.url,
            SiteRules::default(),
            extractor.as_ref(),
        )
        .map(|a| a.content_text)
        .unwrap_or_default();
        elapsed += started.elapsed();
        outputs.push(text);
    }

    let out_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/extraction-bench");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).expect("creating target/extraction-bench");
    for (page, text) in pages.iter().zip(&outputs) {
        std::fs::write(out_dir.join(format!("{}.txt", page.id)), text)
            .expect("writing a prediction");
    }

    let scores: Vec<PageScore> = pages
        .iter()
        .zip(&outputs)
        .map(|(page, text)| PageScore::new(&page.id, &page.truth, text))
        .collect();
    let total = Total::of(&scores);

    let mut worst: Vec<&PageScore> = scores.iter().collect();
    worst.sort_by(|a, b| a.f1.total_cmp(&b.f1));
    println!(
        "{:<16} {:>6} {:>6} {:>6} {:>8} {:>8}",
        "page", "P", "R", "F1", "pred_tok", "true_tok"
    );
    for s in worst.iter().take(10) {
        println!(
            "{:<16} {:>6.3} {:>6.3} {:>6.3} {:>8} {:>8}",
            &s.id[..16],
            s.precision.unwrap_or(0.0),
            s.recall.unwrap_or(0.0),
            s.f1,
            s.pred_tokens,
            s.truth_tokens
        );
    }
    let empty = scores.iter().filter(|s| s.pred_tokens == 0).count();
    println!("empty outputs: {empty}");
    println!(
        "speed: {:.0} pages/s on one core ({} pages in {:.2} s)",
        pages.len() as f64 / elapsed.as_secs_f64(),
        pages.len(),
        elapsed.as_secs_f64()
    );
    println!(
        "F1 {:.4} P {:.4} R {:.4} acc {:.3} n={}",
        total.f1,
        total.precision,
        total.recall,
        total.accuracy,
        scores.len()
    );
    cross_check(&dir, &out_dir);

    match std::env::var("GLEANER_EXTRACTION_MIN_F1")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
    {
        Some(min) if total.f1 < min => {
            eprintln!(
                "extraction bench: F1 {:.3} is below the required {min}",
                total.f1
            );
            ExitCode::FAILURE
        }
        _ => ExitCode::SUCCESS,
    }
}

fn load(dir: &Path) -> Result<Vec<Page>, String> {
    let truth_path = dir.join("ground-truth.json");
    let truth: HashMap<String, serde_json::Value> = serde_json::from_slice(
        &std::fs::read(&truth_path).map_err(|e| format!("{}: {e}", truth_path.display()))?,
    )
    .map_err(|e| format!("{}: {e}", truth_path.display()))?;
    let mut ids: Vec<&String> = truth.keys().collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let entry = &truth[id];
            let path = dir.join("html").join(format!("{id}.html.gz"));
            let mut html = Vec::new();
            flate2::read::GzDecoder::new(
                std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?,
            )
            .read_to_end(&mut html)
            .map_err(|e| format!("{}: {e}", path.display()))?;
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

/// Python's `\w+`: runs of alphanumeric characters and underscores.
fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// The multiset of 4-token shingles (one shingle of all tokens when there are 1–3).
fn shingles(tokens: &[&str]) -> HashMap<String, usize> {
    let mut bag = HashMap::new();
    if tokens.is_empty() {
        return bag;
    }
    if tokens.len() < 4 {
        *bag.entry(tokens.join(" ")).or_default() += 1;
        return bag;
    }
    for window in tokens.windows(4) {
        *bag.entry(window.join(" ")).or_default() += 1;
    }
    bag
}

/// F1 from precision and recall (0 when both are 0).
fn harmonic_mean(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

struct PageScore {
    id: String,
    /// `None` when the prediction has no shingle (left out of P).
    precision: Option<f64>,
    /// `None` when the truth has no shingle.
    recall: Option<f64>,
    f1: f64,
    exact: bool,
    pred_tokens: usize,
    truth_tokens: usize,
}

impl PageScore {
    fn new(id: &str, truth: &str, prediction: &str) -> PageScore {
        let (truth_tokens, pred_tokens) = (tokens(truth), tokens(prediction));
        let (truth_bag, pred_bag) = (shingles(&truth_tokens), shingles(&pred_tokens));
        let tp: usize = pred_bag
            .iter()
            .map(|(s, n)| (*n).min(truth_bag.get(s).copied().unwrap_or(0)))
            .sum();
        let pred_total: usize = pred_bag.values().sum();
        let truth_total: usize = truth_bag.values().sum();
        let (fp, fn_) = (pred_total - tp, truth_total - tp);
        let (precision, recall) = if fp == 0 && fn_ == 0 {
            (Some(1.0), Some(1.0))
        } else {
            (
                (pred_total > 0).then(|| tp as f64 / pred_total as f64),
                (truth_total > 0).then(|| tp as f64 / truth_total as f64),
            )
        };
        let (p, r) = (precision.unwrap_or(0.0), recall.unwrap_or(0.0));
        PageScore {
            id: id.to_owned(),
            precision,
            recall,
            f1: harmonic_mean(p, r),
            exact: truth_tokens == pred_tokens,
            pred_tokens: pred_tokens.len(),
            truth_tokens: truth_tokens.len(),
        }
    }
}

struct Total {
    precision: f64,
    recall: f64,
    f1: f64,
    accuracy: f64,
}

impl Total {
    /// Macro averages: P over pages with a prediction, R over pages with a truth
    /// (an empty prediction counts 0 there), F1 = harmonic mean of the two.
    fn of(scores: &[PageScore]) -> Total {
        let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len().max(1) as f64;
        let precision = mean(scores.iter().filter_map(|s| s.precision).collect());
        let recall = mean(
            scores
                .iter()
                .filter(|s| s.truth_tokens > 0)
                .map(|s| s.recall.unwrap_or(0.0))
                .collect(),
        );
        Total {
            precision,
            recall,
            f1: harmonic_mean(precision, recall),
            accuracy: scores.iter().filter(|s| s.exact).count() as f64 / scores.len().max(1) as f64,
        }
    }
}

/// Runs the benchmark's own scorer on the same files, when python3 is there.
fn cross_check(dir: &Path, out_dir: &Path) {
    let output = Command::new("python3")
        .arg(dir.join("score.py"))
        .arg("--truth")
        .arg(dir.join("ground-truth.json"))
        .arg("--pred")
        .arg(out_dir)
        .args(["--bootstrap", "0"])
        .output();
    if let Ok(output) = output {
        let stdout = String::from_utf8_lossy(&output.stdout);
        if let Some(last) = stdout.lines().last() {
            println!("score.py: {last}");
        }
    }
}
