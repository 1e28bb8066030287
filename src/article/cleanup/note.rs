//! Closing notes about someone: the author's or the company's one-paragraph
//! portrait that a page sets under its text ("Jeff Foust is the editor
//! and publisher of …", "Ascom is a global solutions provider …",
//! "Candice Sealey is the Founder …"). It reads like prose, so the
//! trailing-lines rule takes it for the article's last paragraph. It is
//! known by two things at once: where it stands (set apart from the text
//! above it: in a container of its own, after a rule, or wholly in
//! italics or small print) and how it opens (a name, then "is a" / "is
//! the" in one of several languages). A call to subscribe, follow or
//! support the site ("Follow @BGRDeals on Twitter…", "¿Ya sabías que
//! tenemos canal de Telegram? Únete…") is never the
//! article's last paragraph either, wherever it stands.

use ego_tree::NodeRef;
use scraper::{ElementRef, Node};

/// The most words a name before the copula has ("Dr. Shelby Loos").
const MAX_NAME_WORDS: usize = 5;

/// A copula and the articles that follow it when a sentence says what
/// someone is, by language: English, German, French, Spanish, Italian,
/// Portuguese and Dutch.
const IDENTITY: &[(&str, &[&str])] = &[
    ("is", &["a", "an", "the", "een", "de", "het"]),
    ("are", &["a", "an", "the"]),
    ("ist", &["ein", "eine", "der", "die", "das", "seit"]),
    ("sind", &["ein", "eine", "die"]),
    ("est", &["un", "une", "le", "la", "l'"]),
    ("es", &["un", "una", "el", "la"]),
    ("è", &["un", "una", "il", "la", "lo", "l'"]),
    ("é", &["um", "uma", "o", "a"]),
];

/// Capitalized words that open a sentence without naming anyone.
const NOT_NAMES: &[&str] = &[
    "this",
    "that",
    "it",
    "there",
    "here",
    "what",
    "which",
    "who",
    "he",
    "she",
    "they",
    "we",
    "i",
    "you",
    "one",
    "today",
    "now",
    "everything",
    "nothing",
    "everyone",
    "das",
    "dies",
    "dieses",
    "es",
    "er",
    "sie",
    "hier",
    "heute",
    "was",
    "wer",
    "der",
    "die",
    "ce",
    "cela",
    "ceci",
    "il",
    "elle",
    "voici",
    "on",
    "esto",
    "eso",
    "esta",
    "este",
    "ello",
    "ella",
    "él",
    "hoy",
    "aquí",
    "questo",
    "questa",
    "oggi",
    "isto",
    "isso",
    "hoje",
    "dit",
    "dat",
    "het",
    "er",
    "hij",
    "zij",
    "as",
    "so",
    "if",
    "when",
    "where",
    "how",
    "why",
    "but",
    "and",
    "because",
    "wie",
    "wenn",
    "wo",
    "aber",
    "und",
    "comme",
    "si",
    "mais",
    "como",
    "cuando",
    "pero",
    "come",
    "se",
    "quando",
    "ma",
];

/// Whether `text` opens by saying what a named person or company is.
pub(super) fn opens_with_identity(text: &str) -> bool {
    // What a parenthesis adds ("Jeff Foust (jeff@…) is") is no word of
    // the name.
    let mut plain = String::new();
    let mut depth = 0usize;
    for c in text.chars().take(300) {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = plain.split_whitespace().collect();
    let Some(copula) = words
        .iter()
        .take(MAX_NAME_WORDS + 1)
        .position(|w| IDENTITY.iter().any(|(c, _)| w.to_lowercase() == *c))
    else {
        return false;
    };
    if copula == 0 {
        return false;
    }
    let name = &words[..copula];
    let first = name[0]
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if NOT_NAMES.contains(&first.as_str()) {
        return false;
    }
    if !super::is_capitalized(name[0])
        || !name.iter().all(|w| super::is_name_word(w))
        || name.iter().any(|w| w.ends_with([',', ':', ';']))
    {
        return false;
    }
    let copula_word = words[copula].to_lowercase();
    let Some(next) = words.get(copula + 1) else {
        return false;
    };
    let next = next.to_lowercase();
    IDENTITY.iter().any(|(c, articles)| {
        *c == copula_word
            && articles
                .iter()
                .any(|a| next == *a || (a.ends_with('\'') && next.starts_with(a)))
    })
}

/// Phrases of a closing call: the site asking its reader to subscribe,
/// follow it, download its app or support it, in several languages. Not
/// a seller's call ("book a demo", "contact us", "get started"): pages
/// that sell close their own text with one, and the answers keep it.
const CALLS: &[&str] = &[
    "sign up for",
    "subscribe to",
    "subscribe now",
    "subscribe for",
    "our newsletter",
    "follow us",
    "follow @",
    "download the app",
    "download our app",
    "support us",
    "support our",
    "supporting our work",
    "become a member",
    "become a subscriber",
    "use the code",
    "we'd like to hear",
    "we’d like to hear",
    "abonnieren sie",
    "jetzt abonnieren",
    "folgen sie uns",
    "folge uns",
    "unterstützen sie uns",
    "unterstütze uns",
    "abonnez-vous",
    "inscrivez-vous",
    "suivez-nous",
    "soutenez-nous",
    "suscríbete",
    "síguenos",
    "únete",
    "hazte miembro",
    "hazte socio",
    "iscriviti",
    "seguici",
    "sostienici",
    "assine",
    "inscreva-se",
    "siga-nos",
    "volg ons",
    "schrijf je in",
    "zapraszamy",
    "subskrypc",
];

/// Whether `text` asks the reader to subscribe, follow or support the
/// site. Asked only of the blocks at the end of the body: such a call is
/// never the article's last paragraph.
pub(super) fn is_call(text: &str) -> bool {
    let lower = text.to_lowercase();
    CALLS.iter().any(|p| lower.contains(p))
}

/// Whether `block` stands apart from `previous` (the block before it):
/// in another container, after a horizontal rule, or wholly inside one
/// emphasis or small-print element.
pub(super) fn set_apart(block: ElementRef<'_>, previous: Option<ElementRef<'_>>) -> bool {
    let other_container =
        previous.is_some_and(|p| p.parent().map(|n| n.id()) != block.parent().map(|n| n.id()));
    other_container || after_rule(*block) || wholly_emphasized(block)
}

/// A `<hr>` right before the block or before the containers it opens.
fn after_rule(mut node: NodeRef<'_, Node>) -> bool {
    for _ in 0..4 {
        let previous = node.prev_siblings().find(|s| {
            s.value().is_element() || s.value().as_text().is_some_and(|t| !t.trim().is_empty())
        });
        match previous {
            Some(p) => return p.value().as_element().is_some_and(|e| e.name() == "hr"),
            None => match node.parent() {
                Some(parent) => node = parent,
                None => return false,
            },
        }
    }
    false
}

/// The block's text is all inside one `<em>`, `<i>`, `<small>` (or the
/// like) child.
fn wholly_emphasized(block: ElementRef<'_>) -> bool {
    let mut children = block.children().filter(|c| match c.value() {
        Node::Text(t) => !t.trim().is_empty(),
        Node::Element(e) => e.name() != "br",
        _ => false,
    });
    match (children.next(), children.next()) {
        (Some(only), None) => only
            .value()
            .as_element()
            .is_some_and(|e| matches!(e.name(), "em" | "i" | "small" | "cite")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_portrait_opens_with_a_name_and_what_it_is() {
        for text in [
            "Jeff Foust (jeff@thespacereview.com) is the editor and publisher of The Space Review.",
            "Ascom is a global solutions provider focused on healthcare ICT.",
            "Candice Sealey is the Founder & Principal Consultant at Ignite!",
            "Marie Dupont est une journaliste basée à Lyon.",
            "Hans Meier ist ein Fotograf aus Zürich.",
        ] {
            assert!(opens_with_identity(text), "{text}");
        }
    }

    #[test]
    fn a_sentence_about_a_thing_is_not_a_portrait() {
        for text in [
            "This is a good day for the town.",
            "It is the largest bridge in the region.",
            "The bridge is a good idea, said the mayor.",
            "Python is",
            "In 2019, the council is a different body.",
            "As is the case with all stocks, prices move.",
        ] {
            assert!(!opens_with_identity(text), "{text}");
        }
    }

    #[test]
    fn a_call_asks_the_reader_to_subscribe_follow_or_support() {
        for text in [
            "Follow @CoastNews on Twitter for the latest from the harbour.",
            "¿Ya sabías que tenemos canal de Telegram? Únete desde tu celular.",
            "Ihnen hat der Artikel gefallen? Dann abonnieren Sie unseren Newsletter!",
        ] {
            assert!(is_call(text), "{text}");
        }
        for text in [
            "Book a demo to see how the software schedules your crews.",
            "The board will follow the plan and support the fishermen.",
        ] {
            assert!(!is_call(text), "{text}");
        }
    }
}
