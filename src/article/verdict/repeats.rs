//! An interstitial is one page served for many URLs: the same extracted
//! body on several different URLs of one host within a short window is not
//! an article. A bounded memory of recent bodies per host tells.
//!
//! The body is the extracted text (site chrome is already gone), hashed
//! after lower-casing and collapsing whitespace. Digits count: articles
//! made from one template (a weather report, a score) differ only in them.

use std::collections::{HashMap, VecDeque};
use std::hash::{DefaultHasher, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use url::Url;

/// Hosts remembered (the least recently seen is forgotten first).
const HOSTS: usize = 64;
/// Bodies remembered per host (the oldest is forgotten first).
const BODIES_PER_HOST: usize = 32;
/// A body seen longer ago than this no longer counts.
const WINDOW: Duration = Duration::from_secs(3600);
/// This many distinct URLs with one body make it an interstitial.
pub const SAME_BODY_URLS: usize = 3;

/// Whose page a remembered URL was: the feed and the entry.
pub type Owner = (String, String);

struct Seen {
    hash: u64,
    url: String,
    at: Instant,
    owner: Option<Owner>,
}

#[derive(Default)]
struct Memory {
    hosts: HashMap<String, (Instant, VecDeque<Seen>)>,
}

/// Recent bodies per host (see the module's doc); shared by a pipeline's polls.
#[derive(Default)]
pub struct Repeats(Mutex<Memory>);

/// What [`Repeats::see`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repeated {
    /// Distinct URLs of the host that served this body in the window, this one included.
    pub urls: usize,
    /// The owners of the other URLs (whose stored text may be this body).
    pub others: Vec<Owner>,
}

impl Repeated {
    /// Whether the body is served for so many URLs that it is no article.
    pub fn is_interstitial(&self) -> bool {
        self.urls >= SAME_BODY_URLS
    }
}

impl Repeats {
    /// Remembers that `url` served `body` (for `owner`) and says how many
    /// distinct URLs of its host served it recently.
    pub fn see(&self, url: &Url, body: &str, owner: Option<Owner>) -> Repeated {
        let Some(host) = url.host_str() else {
            return Repeated::default();
        };
        let hash = body_hash(body);
        let now = Instant::now();
        let mut memory = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !memory.hosts.contains_key(host) && memory.hosts.len() >= HOSTS {
            let oldest = memory
                .hosts
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(h, _)| h.clone());
            if let Some(oldest) = oldest {
                memory.hosts.remove(&oldest);
            }
        }
        let (last, bodies) = memory
            .hosts
            .entry(host.to_owned())
            .or_insert_with(|| (now, VecDeque::new()));
        *last = now;
        bodies.retain(|s| now.duration_since(s.at) < WINDOW);
        let fragmentless = url[..url::Position::AfterQuery].to_owned();
        if !bodies
            .iter()
            .any(|s| s.hash == hash && s.url == fragmentless)
        {
            if bodies.len() >= BODIES_PER_HOST {
                bodies.pop_front();
            }
            bodies.push_back(Seen {
                hash,
                url: fragmentless.clone(),
                at: now,
                owner: owner.clone(),
            });
        }
        let same: Vec<&Seen> = bodies.iter().filter(|s| s.hash == hash).collect();
        let mut urls: Vec<&str> = same.iter().map(|s| s.url.as_str()).collect();
        urls.sort_unstable();
        urls.dedup();
        Repeated {
            urls: urls.len(),
            others: same
                .iter()
                .filter(|s| s.url != fragmentless)
                .filter_map(|s| s.owner.clone())
                .collect(),
        }
    }
}

/// The hash of `body` lower-cased, each word followed by one space. The
/// hash lives only in this memory: written in one piece, not per character.
fn body_hash(body: &str) -> u64 {
    let mut words = String::with_capacity(body.len() + 1);
    for word in body.split_whitespace() {
        if word.is_ascii() {
            let from = words.len();
            words.push_str(word);
            words[from..].make_ascii_lowercase();
        } else {
            words.extend(word.chars().flat_map(char::to_lowercase));
        }
        words.push(' ');
    }
    let mut hasher = DefaultHasher::new();
    hasher.write(words.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &str) -> Url {
        Url::parse(&format!("https://news.example{path}")).unwrap()
    }

    #[test]
    fn one_body_on_three_urls_of_a_host_is_an_interstitial() {
        let repeats = Repeats::default();
        let wall = "We and our partners use cookies.";
        assert_eq!(repeats.see(&url("/a"), wall, None).urls, 1);
        // The same URL again is no repetition.
        assert_eq!(repeats.see(&url("/a#top"), wall, None).urls, 1);
        let second = repeats.see(&url("/b"), "We and our  PARTNERS use cookies.", None);
        assert!(!second.is_interstitial());
        // One template, other figures: another article.
        let figures = repeats.see(&url("/x"), "We and our partners use cookies. 9", None);
        assert_eq!(figures.urls, 1);
        let third = repeats.see(&url("/c"), wall, Some(("f".into(), "c".into())));
        assert!(third.is_interstitial(), "{third:?}");
        // Another host, another body: no repetition.
        let other = Url::parse("https://other.example/c").unwrap();
        assert_eq!(repeats.see(&other, wall, None).urls, 1);
        assert_eq!(repeats.see(&url("/d"), "A real story.", None).urls, 1);
    }

    #[test]
    fn the_memory_is_bounded() {
        let repeats = Repeats::default();
        for h in 0..HOSTS * 2 {
            for b in 0..BODIES_PER_HOST * 2 {
                let u = Url::parse(&format!("https://h{h}.example/{b}")).unwrap();
                repeats.see(&u, &format!("body {b}"), None);
            }
        }
        let memory = repeats.0.lock().unwrap();
        assert!(memory.hosts.len() <= HOSTS);
        assert!(
            memory
                .hosts
                .values()
                .all(|(_, b)| b.len() <= BODIES_PER_HOST)
        );
    }
}
