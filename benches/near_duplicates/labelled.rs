//! The labelled set, built in memory from the DEV sets' texts.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use gleaner::article::{self, SiteRules};
use url::Url;

/// Originals shorter than this get no copies: texts under the sketch's
/// minimum are never near-duplicates by design (the exact text key still
/// merges an identical one), so copies of them would measure nothing.
const MIN_ORIGINAL_WORDS: usize = 60;
/// Companies whose press releases make the boilerplate trap, and releases each.
const COMPANIES: usize = 40;
const RELEASES: usize = 5;

pub struct Doc {
    /// The set and id it comes from, and what was done to it.
    pub name: String,
    pub host: String,
    pub text: String,
    pub label: Label,
}

#[derive(Clone, Copy)]
pub enum Label {
    /// Must be merged into the article of document `of`.
    Copy { of: usize, kind: &'static str },
    /// Must stay its own article.
    Distinct { kind: &'static str },
}

struct Original {
    name: String,
    host: String,
    text: String,
    /// `article::extract`'s text of the page when the set has an answer
    /// text (then `text` is the answer).
    extracted: Option<String>,
}

pub fn build(sets: &[PathBuf]) -> Result<Vec<Doc>, String> {
    let mut originals = Vec::new();
    for dir in sets {
        load_set(dir, &mut originals)?;
    }
    originals.retain(|o| !o.text.trim().is_empty());
    // Every tenth text is material for the press releases only: a release
    // made of a stored article's paragraphs would be an excerpt of it.
    type Numbered = Vec<(usize, Original)>;
    let (material, originals): (Numbered, Numbered) = originals
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 10 == 9);
    let material: Vec<Original> = material.into_iter().map(|(_, o)| o).collect();
    let originals: Vec<Original> = originals.into_iter().map(|(_, o)| o).collect();
    let mut docs: Vec<Doc> = Vec::new();
    let mut hosts: HashMap<String, usize> = HashMap::new();
    for o in &originals {
        let seen = hosts.entry(o.host.clone()).or_default();
        let kind = if *seen > 0 {
            "other story, same site"
        } else {
            "original"
        };
        *seen += 1;
        docs.push(Doc {
            name: o.name.clone(),
            host: o.host.clone(),
            text: o.text.clone(),
            label: Label::Distinct { kind },
        });
    }
    press_releases(&material, &mut docs);
    copies(&originals, &mut docs);
    templated(&originals, &mut docs);
    Ok(docs)
}

fn load_set(dir: &Path, out: &mut Vec<Original>) -> Result<(), String> {
    let set = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))
    };
    let ids = read("ids.txt")?;
    let answers: Option<serde_json::Value> = match read("ground-truth.json") {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| format!("{set}: {e}"))?),
        Err(_) => None,
    };
    let expectations: Option<serde_json::Value> = match read("expectations.json") {
        Ok(text) => Some(serde_json::from_str(&text).map_err(|e| format!("{set}: {e}"))?),
        Err(_) => None,
    };
    let before = out.len();
    for (n, id) in ids
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let entry = answers
            .as_ref()
            .and_then(|a| a.get(id))
            .or_else(|| expectations.as_ref().and_then(|e| e.get(id)));
        let Some(entry) = entry else { continue };
        let url = entry
            .get("url")
            .and_then(|u| u.as_str())
            .and_then(|u| Url::parse(u).ok())
            .unwrap_or_else(|| {
                Url::parse(&format!("https://unknown{n}.{set}.example/")).expect("a valid URL")
            });
        let host = url.host_str().unwrap_or("unknown.example").to_owned();
        let html = page(&dir.join("html").join(format!("{id}.html.gz")))?;
        let extracted = article::extract(&html, None, &url, SiteRules::default())
            .map(|a| a.content_text)
            .unwrap_or_default();
        let answer = entry.get("articleBody").and_then(|b| b.as_str());
        let (text, extracted) = match answer {
            Some(answer) => (answer.to_owned(), Some(extracted)),
            None => (extracted, None),
        };
        out.push(Original {
            name: format!("{set}/{}", &id[..12.min(id.len())]),
            host,
            text,
            extracted,
        });
    }
    if out.len() == before {
        return Err(format!("{}: no pages", dir.display()));
    }
    Ok(())
}

fn page(path: &Path) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}

fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

fn words(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Press releases: per company a long "About" paragraph (a long paragraph
/// of one text) and short news (the first 30–150 words of a paragraph
/// of other texts); each release is also republished on a wire host.
fn press_releases(material: &[Original], docs: &mut Vec<Doc>) {
    let long: Vec<String> = material
        .iter()
        .flat_map(|o| paragraphs(&o.text))
        .filter(|p| words(p) >= 90)
        .collect();
    let medium: Vec<String> = material
        .iter()
        .rev()
        .flat_map(|o| paragraphs(&o.text))
        .filter(|p| words(p) >= 30)
        .collect();
    let mut rng = fastrand::Rng::with_seed(26);
    let mut next_news = 0;
    for round in 0..RELEASES {
        for company in 0..COMPANIES.min(long.len()) {
            let about = format!("About Company {company}: {}", long[company % long.len()]);
            let Some(source) = medium.get(next_news) else {
                return;
            };
            next_news += 1;
            // Short news: one or two paragraphs of 30 to 150 words.
            let take = rng.usize(30..150);
            let mut news: Vec<&str> = source.split_whitespace().take(take).collect();
            if news.len() < take
                && let Some(more) = medium.get(next_news)
            {
                next_news += 1;
                news.push("\n\n");
                news.extend(more.split_whitespace().take(take - news.len()));
            }
            let release = format!("{}\n\n{about}", news.join(" "));
            docs.push(Doc {
                name: format!("company {company} release {round}"),
                host: format!("newsroom.company{company}.example"),
                text: release.clone(),
                label: Label::Distinct {
                    kind: "press release",
                },
            });
            let of = docs.len() - 1;
            docs.push(Doc {
                name: format!("company {company} release {round} on the wire"),
                host: "wire.example".into(),
                text: format!(
                    "The following press release was distributed by Example Wire on behalf of the issuing company.\n\n{release}"
                ),
                label: Label::Copy {
                    of,
                    kind: "press release on wire",
                },
            });
        }
    }
}

const BYLINES: &[&str] = &[
    "By Jane Smith",
    "By Ahmed Karim, Staff Writer",
    "Maria Rossi | Reporter",
];
const FILLERS: &[&str] = &["reportedly", "also", "then", "now", "several", "notably"];

/// Copies of each original long enough to have a sketch.
fn copies(originals: &[Original], docs: &mut Vec<Doc>) {
    for (i, o) in originals.iter().enumerate() {
        let paras = paragraphs(&o.text);
        if words(&o.text) < MIN_ORIGINAL_WORDS {
            continue;
        }
        let mut rng = fastrand::Rng::with_seed(i as u64);
        // Each kind of copy on its own few hosts: one site republishes a
        // story once, not in six versions.
        let syndicator = "syndicator";
        let push = |docs: &mut Vec<Doc>, kind: &'static str, host: &str, text: String| {
            let host = if host == "syndicator" {
                let slug: String = kind.chars().filter(char::is_ascii_alphanumeric).collect();
                format!("{slug}{}.example", i % 4)
            } else {
                host.to_owned()
            };
            docs.push(Doc {
                name: format!("{} ({kind})", o.name),
                host,
                text,
                label: Label::Copy { of: i, kind },
            });
        };

        let byline = BYLINES[i % BYLINES.len()];
        push(
            docs,
            "credit line + byline",
            syndicator,
            format!(
                "{byline}\n\n{}\n\nThis article was originally published by {} and is republished here with permission.",
                o.text, o.host
            ),
        );

        let reworded = reword(&paras, &mut rng);
        push(docs, "reworded sentence", syndicator, reworded.join("\n\n"));

        if paras.len() >= 2 {
            push(
                docs,
                "last paragraph dropped",
                syndicator,
                paras[..paras.len() - 1].join("\n\n"),
            );
            let mut edited = reworded.clone();
            edited.pop();
            push(docs, "edited, same host", &o.host, edited.join("\n\n"));
        }

        let other = &originals[(i + 1) % originals.len()];
        if let Some(extra) = paragraphs(&other.text).into_iter().find(|p| words(p) >= 20) {
            let extra: Vec<&str> = extra.split_whitespace().take(50).collect();
            let mut added = paras.clone();
            added.push(format!("Update: {}", extra.join(" ")));
            push(docs, "paragraph added", syndicator, added.join("\n\n"));
        }

        push(docs, "typography", syndicator, typography(&paras));

        if let Some(extracted) = &o.extracted
            && !extracted.trim().is_empty()
        {
            push(docs, "other page chrome", syndicator, extracted.clone());
        }
    }
}

/// One sentence of a middle paragraph reworded: its first two words
/// swapped and every third word replaced.
fn reword(paras: &[String], rng: &mut fastrand::Rng) -> Vec<String> {
    let mut out = paras.to_vec();
    let candidates: Vec<usize> = (0..paras.len())
        .filter(|&p| words(&paras[p]) >= 12)
        .collect();
    let Some(&p) = candidates.get(candidates.len() / 2) else {
        return out;
    };
    let sentences: Vec<&str> = paras[p].split_inclusive(". ").collect();
    let s = rng.usize(0..sentences.len());
    let mut words: Vec<String> = sentences[s].split_whitespace().map(str::to_owned).collect();
    if words.len() >= 2 {
        words.swap(0, 1);
    }
    // A sentence: at most 25 words of it, where the text has no full stops.
    for w in words.iter_mut().take(25).skip(2).step_by(3) {
        *w = FILLERS[rng.usize(0..FILLERS.len())].to_owned();
    }
    let mut rebuilt: Vec<String> = sentences.iter().map(|s| (*s).to_owned()).collect();
    rebuilt[s] = words.join(" ") + " ";
    out[p] = rebuilt.concat().trim().to_owned();
    out
}

/// Curly quotes, long dashes, no-break spaces, an upper-cased first paragraph.
fn typography(paras: &[String]) -> String {
    let mut out: Vec<String> = paras
        .iter()
        .map(|p| {
            p.replace('\'', "\u{2019}")
                .replace(" - ", " \u{2014} ")
                .replace(": ", ":\u{a0}")
                .replace('"', "\u{201c}")
        })
        .collect();
    if let Some(first) = out.first_mut() {
        *first = first.to_uppercase();
    }
    out.join("\n\n")
}

const NAMES: &[&str] = &[
    "Halvorsen",
    "Okonkwo",
    "Brennan",
    "Tashkent",
    "Valparaiso",
    "Lindqvist",
    "Marrakesh",
    "Duarte",
    "Kowalczyk",
    "Aberdeen",
];

/// Templated stories: another story written from the same template as an
/// original, on the original's host (earnings notes, results, weather):
/// the same text but for one name or number in every sentence
/// ("templated, per sentence") or in every paragraph ("templated, per
/// paragraph", for texts of at least three paragraphs, where one changed
/// word per paragraph is still a change throughout the text). Each is a
/// different story and must stay its own article.
fn templated(originals: &[Original], docs: &mut Vec<Doc>) {
    for (i, o) in originals.iter().enumerate() {
        if words(&o.text) < MIN_ORIGINAL_WORDS {
            continue;
        }
        let paras = paragraphs(&o.text);
        let mut rng = fastrand::Rng::with_seed(0x7e37 + i as u64);
        let mut n = 0usize;
        let mut substitute = |text: &str, rng: &mut fastrand::Rng| -> String {
            let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
            if words.is_empty() {
                return text.to_owned();
            }
            let at = rng.usize(0..words.len());
            n += 1;
            words[at] = if n.is_multiple_of(2) {
                NAMES[(i + n) % NAMES.len()].to_owned()
            } else {
                format!("{}", 1000 + (i * 37 + n * 11) % 9000)
            };
            words.join(" ")
        };
        let per_sentence: Vec<String> = paras
            .iter()
            .map(|p| {
                p.split_inclusive(". ")
                    .map(|s| substitute(s, &mut rng) + " ")
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .collect();
        docs.push(Doc {
            name: format!("{} (templated, per sentence)", o.name),
            host: o.host.clone(),
            text: per_sentence.join("\n\n"),
            label: Label::Distinct {
                kind: "templated, per sentence",
            },
        });
        if paras.iter().filter(|p| words(p) >= 12).count() >= 3 {
            let per_paragraph: Vec<String> =
                paras.iter().map(|p| substitute(p, &mut rng)).collect();
            docs.push(Doc {
                name: format!("{} (templated, per paragraph)", o.name),
                host: o.host.clone(),
                text: per_paragraph.join("\n\n"),
                label: Label::Distinct {
                    kind: "templated, per paragraph",
                },
            });
        }
    }
}
