//! A bounded property test standing in for the fuzzer where `cargo fuzz`
//! cannot run: small feeds in every dialect, mutated at random with a fixed
//! seed (byte flips, cuts, splices, markup and references dropped in), go
//! through [`parse`]; none may panic.

use std::time::{Duration, Instant};

use super::*;

const SEEDS: &[&str] = &[
    r#"<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><item><guid>1</guid><title>A &amp; B</title><link>/a</link><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate><dc:date>2024-01-02</dc:date><description><![CDATA[<p>x</p>]]></description></item></channel></rss>"#,
    r#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">&lt;b&gt;A&lt;/b&gt;</title><entry><id>1</id><title>t</title><link href="https://x.example/1"/><updated>2024-01-01T00:00:00Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">b</div></content></entry></feed>"#,
    r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><issued>2004-01-01T00:00:00Z</issued><content type="text/html" mode="escaped">&lt;p&gt;</content></entry></feed>"#,
    r#"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/"><channel><title>c</title></channel><item rdf:about="http://x.example/1"><title>i</title></item></rdf:RDF>"#,
    r#"<!-- cdf --><CHANNEL HREF="http://x.example/"><ITEM HREF="/1" LASTMOD="2004-04-06T23:05:43-05:00"><TITLE>t</TITLE></ITEM></CHANNEL>"#,
    r#"<html><body><p>&nbsp;</p><rss><item><title>Caf&eacute; & co</title></item></rss></body></html>"#,
    r#"{"version":"http://jsonfeed.org/version/1","items":[{"id":1,"tags":"a,b","date_published":"2020/1/10 14:33:00","content_html":"<p>x</p>"}]}"#,
];

/// Splice material: the characters and constructs the repairs look for.
const TOKENS: &[&str] = &[
    "&",
    "&nbsp;",
    "&#X41;",
    "&#0;",
    "<",
    ">",
    "</",
    "/>",
    "<![CDATA[",
    "]]>",
    "<!--",
    "-->",
    "<item>",
    "</item>",
    "<entry>",
    "<channel>",
    "</rss>",
    "\"",
    "'",
    "\u{0}",
    "\u{feff}",
    "é",
    "{",
    "}",
    "[",
    "]",
    "\\",
    "<?xml version='1.0' encoding='utf-16'?>",
    "<!DOCTYPE x [<!ENTITY a 'b'>]>",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(5) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
            1 => bytes.truncate(at),
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            3 if !bytes.is_empty() => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            _ => {
                let start = rng.below(bytes.len());
                let end = (start + rng.below(64)).min(bytes.len());
                let copy = bytes[start..end].to_vec();
                bytes.splice(at..at, copy);
            }
        }
    }
    bytes
}

#[test]
fn mutated_feeds_never_panic() {
    let base = Url::parse("https://fuzz.example/feed.xml").unwrap();
    let content_types = [
        None,
        Some("text/xml; charset=utf-16"),
        Some("application/feed+json"),
    ];
    let mut rng = Rng(0x5EED_FEED_0000_0001);
    let started = Instant::now();
    let mut runs = 0;
    while runs < 20_000 && started.elapsed() < Duration::from_secs(3) {
        let seed = SEEDS[rng.below(SEEDS.len())].as_bytes();
        let mutated = mutate(&mut rng, seed);
        let content_type = content_types[rng.below(content_types.len())];
        let _ = parse(&mutated, content_type, &base);
        let utf16: Vec<u8> = String::from_utf8_lossy(&mutated)
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let _ = parse(&utf16, None, &base);
        runs += 1;
    }
    assert!(runs > 100, "only {runs} mutations ran");
}
