//! Near-duplicate merging on a labelled set built at run time from the three
//! DEV extraction sets' texts (issue 26).
//!
//! ```sh
//! cargo bench --bench near_duplicates
//! ```
//!
//! Reads `../shared/bench/{extraction,extraction-wcxb,extraction-snippets}`
//! (`$GLEANER_NEAR_DUP_BENCH`: folders separated by `:`). The originals are
//! the sets' answer texts (`ground-truth.json`), or for the snippets set the
//! text `article::extract` takes from the page. Nothing of theirs is written
//! anywhere; copies and negatives are made in memory:
//!
//! - copies (positives), each on another host unless said: a credit line and
//!   another byline; a reworded sentence; the last paragraph dropped; a
//!   paragraph added; typography (quotes, dashes, no-break spaces, an
//!   upper-cased first paragraph); an edited copy under a new URL of the same
//!   host (a sentence reworded, the last paragraph dropped); other page chrome
//!   (`article::extract` on the page against the answer text);
//! - negatives: every original against every other (other stories of the
//!   same site among them), press releases of one company sharing a long
//!   "About" paragraph with different short news, each also republished on a
//!   wire host (those copies are positives).
//!
//! The index is kept in memory as the store keeps it: each article's
//! signatures and block keys, and per block which articles of which host
//! have it (boilerplate = in [`BOILERPLATE_ARTICLES`] other articles of the
//! host; candidates = the articles that have enough of the incoming text's
//! other blocks to pass the verbatim rule, the most shared first). Prints recall per kind of copy, false merges per
//! kind of negative, µs per article for the sketch and for the lookup, and
//! index bytes per article; exits 1 when recall is under 95 % or any false
//! merge happened.

mod labelled;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use gleaner::near_dup::{
    BOILERPLATE_ARTICLES, DEFAULT_SIMILARITY, INDEXED_BLOCKS, MIN_STORED_SHARE, REST_SHARE,
    SIGNATURE_BYTES, Signature, Sketch, Stored, VERBATIM_SHARE, Verdict, same_story,
};
use labelled::{Doc, Label};

/// One stored article of the in-memory index.
struct Article {
    /// Its signatures, its own and those of the copies merged into it, each
    /// with the sorted block keys of its text.
    signatures: Vec<(Signature, Vec<u64>)>,
    /// The document that created it.
    first: usize,
}

/// Whether a verdict merges: `same_story`'s, or with `guard` off its
/// verdict without the verbatim guard ([`VERBATIM_SHARE`]), to show what
/// the guard changes in the same run.
fn merges(verdict: &Verdict, similarity: f64, guard: bool) -> bool {
    if guard {
        return verdict.same;
    }
    verdict.incoming_share >= similarity
        && verdict.stored_share >= MIN_STORED_SHARE
        && verdict.rest_share.is_none_or(|r| r >= REST_SHARE)
}

#[derive(Default)]
struct Index {
    articles: Vec<Article>,
    /// (host, block key) → the articles that have the block.
    host_blocks: HashMap<(String, u64), Vec<usize>>,
    /// Block key → the articles that have the block, on any host.
    blocks: HashMap<u64, Vec<usize>>,
    /// Rows the store would keep, for the bytes per article.
    block_rows: usize,
    signature_rows: usize,
}

enum Outcome {
    New,
    Merged { into: usize, verdict: Verdict },
}

struct Costs {
    sketch: Duration,
    lookup: Duration,
    sketched: usize,
}

impl Index {
    fn insert(
        &mut self,
        doc_index: usize,
        doc: &Doc,
        similarity: f64,
        guard: bool,
        costs: &mut Costs,
    ) -> Outcome {
        let started = thread_cpu_time();
        let sketch = Sketch::of_text(&doc.text);
        let host_blocks = &self.host_blocks;
        let boilerplate = |k: u64| {
            host_blocks
                .get(&(doc.host.clone(), k))
                .is_some_and(|a| a.len() >= BOILERPLATE_ARTICLES as usize)
        };
        let signature = sketch.signature(|k| !boilerplate(k));
        costs.sketch += thread_cpu_time().saturating_sub(started);
        costs.sketched += 1;

        let started = thread_cpu_time();
        let mut merged = None;
        if signature.is_some() {
            // The store's lookup: the articles that have any of the kept
            // blocks among their indexed ones, those sharing the most
            // shingles first.
            let mut weights: HashMap<u64, u32> = HashMap::new();
            for (key, n) in sketch.blocks().filter(|(k, _)| !boilerplate(*k)) {
                *weights.entry(key).or_default() += n;
            }
            let mut shared: HashMap<usize, u32> = HashMap::new();
            for (key, n) in &weights {
                for seq in self.blocks.get(key).into_iter().flatten() {
                    *shared.entry(*seq).or_default() += n;
                }
            }
            let mut candidates: Vec<(usize, u32)> = shared.into_iter().collect();
            candidates.sort_by_key(|(seq, n)| (std::cmp::Reverse(*n), *seq));
            'candidates: for (seq, _) in candidates {
                let article = &self.articles[seq];
                for (signature, blocks) in &article.signatures {
                    let stored = Stored { signature, blocks };
                    let verdict = same_story(&sketch, &boilerplate, stored, similarity);
                    if merges(&verdict, similarity, guard) {
                        merged = Some((seq, verdict));
                        break 'candidates;
                    }
                }
            }
        }
        costs.lookup += thread_cpu_time().saturating_sub(started);

        let seq = match merged {
            Some((seq, _)) => seq,
            None => {
                self.articles.push(Article {
                    signatures: Vec::new(),
                    first: doc_index,
                });
                self.articles.len() - 1
            }
        };
        if let Some(signature) = signature {
            let mut blocks: Vec<u64> = sketch.block_keys().collect();
            blocks.sort_unstable();
            blocks.dedup();
            self.articles[seq].signatures.push((signature, blocks));
            self.signature_rows += 1;
        }
        for key in sketch.largest_blocks(INDEXED_BLOCKS) {
            let list = self.host_blocks.entry((doc.host.clone(), key)).or_default();
            if !list.contains(&seq) {
                list.push(seq);
            }
            let list = self.blocks.entry(key).or_default();
            if !list.contains(&seq) {
                list.push(seq);
            }
            self.block_rows += 1;
        }
        match merged {
            Some((into, verdict)) => Outcome::Merged { into, verdict },
            None => Outcome::New,
        }
    }
}

impl Index {
    /// Why `doc` was not merged into article `seq`, for the misses' list.
    fn why_not(&self, doc: &Doc, seq: usize, similarity: f64) -> String {
        let sketch = Sketch::of_text(&doc.text);
        let boilerplate = |k: u64| {
            self.host_blocks
                .get(&(doc.host.clone(), k))
                .is_some_and(|a| a.len() >= BOILERPLATE_ARTICLES as usize)
        };
        let shingles = sketch.shingles(|k| !boilerplate(k));
        let article = &self.articles[seq];
        let Some((stored, blocks)) = article.signatures.first() else {
            return format!("the original has no signature ({shingles} shingles here)");
        };
        let Some(signature) = sketch.signature(|k| !boilerplate(k)) else {
            return format!("no signature: {shingles} shingles outside boilerplate");
        };
        let candidate = sketch.block_keys().any(|k| {
            !boilerplate(k) && self.blocks.get(&k).is_some_and(|list| list.contains(&seq))
        });
        let verdict = same_story(
            &sketch,
            &boilerplate,
            Stored {
                signature: stored,
                blocks,
            },
            similarity,
        );
        format!(
            "candidate {candidate}, in {:.2} back {:.2} rest {:?} verbatim {:.2} ({} vs {} shingles)",
            verdict.incoming_share,
            verdict.stored_share,
            verdict.rest_share,
            verdict.verbatim_share,
            signature.shingles(),
            stored.shingles()
        )
    }
}

/// CPU time of this thread: on a machine others share, wall time measures
/// their load as much as ours.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec into the one we pass.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

#[derive(Default)]
struct Tally {
    total: usize,
    right: usize,
    /// Copies merged into another copy of their story (that one missed).
    elsewhere: usize,
    wrong: usize,
}

/// The original a document is a copy of, or itself.
fn story(docs: &[Doc], doc: usize) -> usize {
    match docs[doc].label {
        Label::Copy { of, .. } => of,
        Label::Distinct { .. } => doc,
    }
}

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sets: Vec<PathBuf> = match std::env::var("GLEANER_NEAR_DUP_BENCH") {
        Ok(list) => list.split(':').map(PathBuf::from).collect(),
        Err(_) => {
            // The checkout's sibling `shared`, or its parent's (a worktree).
            let shared = ["../shared", "../../shared"]
                .iter()
                .map(|d| root.join(d))
                .find(|d| d.is_dir())
                .unwrap_or_else(|| root.join("../shared"));
            ["extraction", "extraction-wcxb", "extraction-snippets"]
                .iter()
                .map(|set| shared.join("bench").join(set))
                .collect()
        }
    };
    let similarity = std::env::var("GLEANER_NEAR_DUP_SIMILARITY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SIMILARITY);
    let started = Instant::now();
    let docs = match labelled::build(&sets) {
        Ok(docs) => docs,
        Err(error) => {
            eprintln!("near_duplicates bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "labelled set: {} documents built in {:.1} s (similarity {similarity})",
        docs.len(),
        started.elapsed().as_secs_f64()
    );
    println!("\n=== without the verbatim guard (share of text in verbatim blocks not required)");
    let before = evaluate(&docs, similarity, false);
    println!("\n=== with the verbatim guard (≥ {VERBATIM_SHARE} of the text in verbatim blocks)");
    let after = evaluate(&docs, similarity, true);
    if !after {
        return ExitCode::FAILURE;
    }
    let _ = before;
    ExitCode::SUCCESS
}

/// Inserts every document into a fresh index and prints the figures;
/// whether they meet the targets.
fn evaluate(docs: &[Doc], similarity: f64, guard: bool) -> bool {
    let mut index = Index::default();
    let mut costs = Costs {
        sketch: Duration::ZERO,
        lookup: Duration::ZERO,
        sketched: 0,
    };
    let mut article_of: Vec<Option<usize>> = vec![None; docs.len()];
    let mut positives: Vec<(&'static str, Tally)> = Vec::new();
    let mut negatives: Vec<(&'static str, Tally)> = Vec::new();
    let mut misses: Vec<(&str, String)> = Vec::new();
    let mut false_merges: Vec<String> = Vec::new();
    let mut texts_bytes = 0usize;
    // The verbatim share of each right merge of a copy, and the highest of
    // the false merges per kind of negative: where the guard's line can lie.
    let mut copy_verbatim: Vec<f64> = Vec::new();
    let mut negative_verbatim: Vec<(&str, f64)> = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        texts_bytes += doc.text.len();
        let outcome = index.insert(i, doc, similarity, guard, &mut costs);
        let seq = match &outcome {
            Outcome::New => index.articles.len() - 1,
            Outcome::Merged { into, .. } => *into,
        };
        article_of[i] = Some(seq);
        let tally = |list: &mut Vec<(&'static str, Tally)>, kind| {
            if let Some(at) = list.iter().position(|(k, _)| *k == kind) {
                at
            } else {
                list.push((kind, Tally::default()));
                list.len() - 1
            }
        };
        match doc.label {
            Label::Copy { of, kind } => {
                let at = tally(&mut positives, kind);
                let t = &mut positives[at].1;
                t.total += 1;
                match outcome {
                    Outcome::Merged { into, verdict } if Some(into) == article_of[of] => {
                        t.right += 1;
                        copy_verbatim.push(verdict.verbatim_share);
                    }
                    // Into the article another copy of the same story made
                    // when it was missed: the same story, no recall.
                    Outcome::Merged { into, .. }
                        if story(docs, index.articles[into].first) == of =>
                    {
                        t.elsewhere += 1
                    }
                    Outcome::Merged { into, verdict } => {
                        t.wrong += 1;
                        false_merges.push(format!(
                            "copy ({kind}) of {} merged into {}: {verdict:?}",
                            docs[of].name, docs[index.articles[into].first].name
                        ));
                    }
                    Outcome::New => {
                        let why = article_of[of]
                            .map(|seq| index.why_not(doc, seq, similarity))
                            .unwrap_or_default();
                        misses.push((kind, format!("{kind} of {}: {why}", docs[of].name)));
                    }
                }
            }
            Label::Distinct { kind } => {
                let at = tally(&mut negatives, kind);
                let t = &mut negatives[at].1;
                t.total += 1;
                match outcome {
                    Outcome::New => t.right += 1,
                    Outcome::Merged { into, verdict } => {
                        t.wrong += 1;
                        negative_verbatim.push((kind, verdict.verbatim_share));
                        false_merges.push(format!(
                            "{kind} {} merged into {}: {verdict:?}",
                            doc.name, docs[index.articles[into].first].name
                        ));
                    }
                }
            }
        }
    }

    println!("\ncopies (recall: merged into their original)");
    println!(
        "{:<22} {:>6} {:>8} {:>7} {:>9} {:>7}",
        "kind", "copies", "merged", "recall", "elsewhere", "wrong"
    );
    let (mut all, mut right, mut wrong) = (0, 0, 0);
    for (kind, t) in &positives {
        println!(
            "{kind:<22} {:>6} {:>8} {:>6.1}% {:>9} {:>7}",
            t.total,
            t.right,
            100.0 * t.right as f64 / t.total.max(1) as f64,
            t.elsewhere,
            t.wrong
        );
        all += t.total;
        right += t.right;
        wrong += t.wrong;
    }
    let recall = right as f64 / all.max(1) as f64;
    println!(
        "{:<22} {all:>6} {right:>8} {:>6.1}% {:>9} {wrong:>7}",
        "all",
        100.0 * recall,
        positives.iter().map(|(_, t)| t.elsewhere).sum::<usize>()
    );

    println!("\nnegatives (each must stay its own article)");
    println!("{:<22} {:>6} {:>8}", "kind", "texts", "merged");
    for (kind, t) in &negatives {
        println!("{kind:<22} {:>6} {:>8}", t.total, t.wrong);
        wrong += t.wrong;
    }
    println!("false merges: {wrong}");
    for line in false_merges.iter().take(20) {
        println!("  {line}");
    }
    copy_verbatim.sort_by(f64::total_cmp);
    let at = |q: f64| {
        copy_verbatim
            .get(((copy_verbatim.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    println!(
        "verbatim share of merged copies: min {:.2}, 1% {:.2}, 5% {:.2}, median {:.2}",
        at(0.0),
        at(0.01),
        at(0.05),
        at(0.5)
    );
    for (kind, _) in &negatives {
        let worst = negative_verbatim
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| *v)
            .reduce(f64::max);
        if let Some(worst) = worst {
            println!("verbatim share of false merges ({kind}): max {worst:.2}");
        }
    }
    if !guard {
        // Where the guard's line could lie, read off this run: merges that
        // would remain at each threshold (merges change the index, so this
        // is an estimate; the run with the guard gives the real figures).
        println!("verbatim threshold: copies still merged / false merges left");
        for t in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] {
            let kept = copy_verbatim.iter().filter(|v| **v >= t).count();
            let wrong = negative_verbatim.iter().filter(|(_, v)| *v >= t).count();
            println!(
                "  {t:.1}: {kept} of {all} copies ({:.1}%), {wrong} false merges",
                100.0 * kept as f64 / all.max(1) as f64
            );
        }
    }
    println!("missed copies: {} (at most 4 of each kind)", misses.len());
    for (kind, _) in &positives {
        for (_, line) in misses.iter().filter(|(k, _)| k == kind).take(4) {
            println!("  {line}");
        }
    }

    let n = costs.sketched.max(1) as f64;
    println!(
        "\ncost per article (CPU time): sketch {:.1} µs, lookup and judgement {:.1} µs (mean text {:.0} bytes)",
        costs.sketch.as_secs_f64() * 1e6 / n,
        costs.lookup.as_secs_f64() * 1e6 / n,
        texts_bytes as f64 / n
    );
    // Each row as the store would keep it: a signature row (seq 8 +
    // blob); a block row (block key 8, host key 8, seq 8). Without the
    // database's own per-row overhead.
    let bytes = index.signature_rows * (8 + SIGNATURE_BYTES) + index.block_rows * 24;
    println!(
        "index bytes per article: {:.0} (signature {} + 8, {:.1} blocks × 24)",
        bytes as f64 / n,
        SIGNATURE_BYTES,
        index.block_rows as f64 / n
    );
    println!(
        "pipeline first pass with the feature on / off: cargo bench --bench pipeline prints it"
    );
    let unique: HashSet<usize> = article_of.iter().flatten().copied().collect();
    println!("{} documents → {} articles", docs.len(), unique.len());
    if recall < 0.95 || wrong > 0 {
        eprintln!(
            "near_duplicates bench: recall {:.1}% (target ≥ 95%), false merges {wrong} (target 0)",
            100.0 * recall
        );
        return false;
    }
    true
}
