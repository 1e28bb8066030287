//! The snippet set's metric (as its `score.py` computes it): per page,
//! passages that must be in the article (`with`) and boilerplate that must
//! not (`without`); a passage is found when it is a substring of the text,
//! both normalised ([`norm`]). Counts are summed over the set: precision
//! `tp/(tp+fp)`, recall `tp/(tp+fn)`; ± from a seeded bootstrap over pages.
//! Metadata: the share of pages, among those where the set gives one, whose
//! date (first 10 characters), title (normalised, equal) and author
//! (normalised, one containing the other) agree.

use std::path::Path;

use unicode_normalization::UnicodeNormalization;
use url::Url;

use crate::Output;

/// One page of the set with its questions.
pub struct SnippetPage {
    pub id: String,
    /// `None` for the pages whose source gives no address.
    pub url: Option<Url>,
    pub html: Vec<u8>,
    with: Vec<String>,
    without: Vec<String>,
    title: Option<String>,
    author: Option<String>,
    date: Option<String>,
}

/// `score.py`'s `norm`: NFKC, lower case, typographic quotes made plain,
/// white space collapsed and trimmed.
pub fn norm(text: &str) -> String {
    let lowered: String = text.nfkc().collect::<String>().to_lowercase();
    let mut out = String::with_capacity(lowered.len());
    let mut space = false;
    for c in lowered.chars() {
        // Python's `\s` on str: Unicode white space and the separators
        // U+001C–U+001F.
        if c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c) {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(match c {
            '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' => '\'',
            '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{ab}' | '\u{bb}' => '"',
            c => c,
        });
    }
    out
}

/// One page's counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub tp: usize,
    pub fn_: usize,
    pub fp: usize,
    pub tn: usize,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.tp += other.tp;
        self.fn_ += other.fn_;
        self.fp += other.fp;
        self.tn += other.tn;
    }

    fn prf(&self) -> (f64, f64, f64) {
        let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { 0.0 };
        let precision = ratio(self.tp, self.tp + self.fp);
        let recall = ratio(self.tp, self.tp + self.fn_);
        (
            precision,
            recall,
            crate::metric::harmonic_mean(precision, recall),
        )
    }
}

/// A page's counts for one system's output.
pub fn score(page: &SnippetPage, output: &Output) -> Counts {
    let text = norm(&output.text);
    let w = page
        .with
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .count();
    let wo = page
        .without
        .iter()
        .filter(|s| text.contains(s.as_str()))
        .count();
    Counts {
        tp: w,
        fn_: page.with.len() - w,
        fp: wo,
        tn: page.without.len() - wo,
    }
}

/// The set's figures for one system.
pub struct SnippetTotal {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub f1_sd: f64,
    pub empty: usize,
    /// (agreeing, asked) for dates, titles, authors.
    pub meta: [(usize, usize); 3],
}

impl SnippetTotal {
    pub fn of(pages: &[SnippetPage], outputs: &[Output], counts: &[Counts]) -> SnippetTotal {
        let mut sum = Counts::default();
        counts.iter().for_each(|c| sum.add(c));
        let (precision, recall, f1) = sum.prf();
        let mut rng = fastrand::Rng::with_seed(20_261_201);
        let resampled: Vec<f64> = (0..1000)
            .map(|_| {
                let mut s = Counts::default();
                for _ in 0..counts.len() {
                    s.add(&counts[rng.usize(..counts.len())]);
                }
                s.prf().2
            })
            .collect();
        let mean = resampled.iter().sum::<f64>() / resampled.len() as f64;
        let variance =
            resampled.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / resampled.len() as f64;
        let mut meta = [(0, 0); 3];
        for (page, out) in pages.iter().zip(outputs) {
            if let Some(date) = &page.date {
                meta[0].1 += 1;
                let ours: String = out
                    .published
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .take(10)
                    .collect();
                let theirs: String = date.chars().take(10).collect();
                meta[0].0 += usize::from(ours == theirs);
            }
            if let Some(title) = &page.title {
                meta[1].1 += 1;
                meta[1].0 += usize::from(norm(out.title.as_deref().unwrap_or("")) == norm(title));
            }
            if let Some(author) = &page.author {
                meta[2].1 += 1;
                let (a, b) = (norm(out.author.as_deref().unwrap_or("")), norm(author));
                meta[2].0 += usize::from(!a.is_empty() && (a.contains(&b) || b.contains(&a)));
            }
        }
        SnippetTotal {
            precision,
            recall,
            f1,
            f1_sd: variance.sqrt(),
            empty: outputs.iter().filter(|o| o.text.trim().is_empty()).count(),
            meta,
        }
    }

    /// `dates 0.637 titles 0.579 authors 0.520`.
    pub fn meta_line(&self) -> String {
        let share = |(hit, asked): (usize, usize)| hit as f64 / asked.max(1) as f64;
        format!(
            "dates {:.3}  titles {:.3}  authors {:.3}",
            share(self.meta[0]),
            share(self.meta[1]),
            share(self.meta[2])
        )
    }
}

/// A string field of the expectations, or a list of them joined as
/// `score.py` joins them; `None` when absent or empty.
fn text_field(value: &serde_json::Value) -> Option<String> {
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    (!text.is_empty()).then_some(text)
}

pub fn load(dir: &Path) -> Result<Vec<SnippetPage>, String> {
    let expectations = crate::answers(&dir.join("expectations.json"))?;
    let mut ids: Vec<&String> = expectations.keys().collect();
    ids.sort();
    ids.into_iter()
        .map(|id| {
            let entry = &expectations[id];
            let html = crate::page_html(dir, id)?;
            let passages = |key: &str| -> Vec<String> {
                entry[key]
                    .as_array()
                    .map(|a| a.iter().filter_map(|s| s.as_str()).map(norm).collect())
                    .unwrap_or_default()
            };
            Ok(SnippetPage {
                id: id.clone(),
                url: entry["url"].as_str().and_then(|u| Url::parse(u).ok()),
                html,
                with: passages("with"),
                without: passages("without"),
                title: text_field(&entry["title"]),
                author: text_field(&entry["author"]),
                date: text_field(&entry["date"]),
            })
        })
        .collect()
}

/// Writes each output as `ID.json` (the fields `score.py` reads) and the
/// per-page counts as `scores.tsv`.
pub fn write_predictions(
    out_dir: &Path,
    pages: &[SnippetPage],
    outputs: &[Output],
    counts: &[Counts],
) {
    let _ = std::fs::remove_dir_all(out_dir);
    std::fs::create_dir_all(out_dir).expect("creating the bench's output folder");
    let mut tsv = String::from("id\twith_found\twith_missing\twithout_found\twithout_absent\n");
    for ((page, out), c) in pages.iter().zip(outputs).zip(counts) {
        let json = serde_json::json!({
            "content_text": out.text,
            "published": out.published,
            "title": out.title,
            "author": out.author,
        });
        std::fs::write(out_dir.join(format!("{}.json", page.id)), json.to_string())
            .expect("writing a prediction");
        tsv.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\n",
            page.id, c.tp, c.fn_, c.fp, c.tn
        ));
    }
    std::fs::write(out_dir.join("scores.tsv"), tsv).expect("writing scores.tsv");
}
