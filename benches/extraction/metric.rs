//! The scrapinghub benchmark's metric (as its `score.py` computes it): 4-token
//! shingle multisets per page, P averaged over pages with output, R over pages
//! with an answer, F1 the harmonic mean of the two averages; ± from a seeded
//! bootstrap over pages.

use std::collections::HashMap;

/// Python's `\w+`: runs of alphanumeric characters and underscores.
fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// The multiset of 4-token shingles (one shingle of all tokens when there are 1–3).
fn shingles<'a>(tokens: &[&'a str]) -> HashMap<Vec<&'a str>, usize> {
    let mut bag = HashMap::new();
    if tokens.is_empty() {
        return bag;
    }
    if tokens.len() < 4 {
        *bag.entry(tokens.to_vec()).or_default() += 1;
        return bag;
    }
    for window in tokens.windows(4) {
        *bag.entry(window.to_vec()).or_default() += 1;
    }
    bag
}

/// F1 from precision and recall (0 when both are 0).
pub fn harmonic_mean(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// One page's score.
pub struct PageScore {
    /// `None` when the prediction has no shingle (left out of P).
    pub precision: Option<f64>,
    /// `None` when the truth has no shingle.
    pub recall: Option<f64>,
    pub f1: f64,
    pub exact: bool,
    pub pred_tokens: usize,
    pub truth_tokens: usize,
}

impl PageScore {
    pub fn new(truth: &str, prediction: &str) -> PageScore {
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
        PageScore {
            precision,
            recall,
            f1: harmonic_mean(precision.unwrap_or(0.0), recall.unwrap_or(0.0)),
            exact: truth_tokens == pred_tokens,
            pred_tokens: pred_tokens.len(),
            truth_tokens: truth_tokens.len(),
        }
    }
}

/// The set's figures.
pub struct Total {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
    /// Standard deviation of F1 over 1,000 bootstrap resamples of the pages.
    pub f1_sd: f64,
    /// Pages with no output although their answer has text.
    pub empty: usize,
}

impl Total {
    pub fn of(scores: &[PageScore]) -> Total {
        let all: Vec<&PageScore> = scores.iter().collect();
        let (precision, recall, f1) = averages(&all);
        // A fixed seed: the same outputs always print the same ±.
        let mut rng = fastrand::Rng::with_seed(20_261_201);
        let resampled: Vec<f64> = (0..1000)
            .map(|_| {
                let sample: Vec<&PageScore> = (0..scores.len())
                    .map(|_| &scores[rng.usize(..scores.len())])
                    .collect();
                averages(&sample).2
            })
            .collect();
        let mean = resampled.iter().sum::<f64>() / resampled.len() as f64;
        let variance =
            resampled.iter().map(|f| (f - mean).powi(2)).sum::<f64>() / resampled.len() as f64;
        Total {
            precision,
            recall,
            f1,
            accuracy: scores.iter().filter(|s| s.exact).count() as f64 / scores.len().max(1) as f64,
            f1_sd: variance.sqrt(),
            empty: scores
                .iter()
                .filter(|s| s.pred_tokens == 0 && s.truth_tokens > 0)
                .count(),
        }
    }
}

/// Macro averages: P over pages with a prediction, R over pages with a truth
/// (an empty prediction counts 0 there), and their harmonic mean.
fn averages(scores: &[&PageScore]) -> (f64, f64, f64) {
    let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len().max(1) as f64;
    let precision = mean(scores.iter().filter_map(|s| s.precision).collect());
    let recall = mean(
        scores
            .iter()
            .filter(|s| s.truth_tokens > 0)
            .map(|s| s.recall.unwrap_or(0.0))
            .collect(),
    );
    (precision, recall, harmonic_mean(precision, recall))
}
