//! Closing boxes: the author's bio, the newsletter or membership pitch, the
//! "about us" note, the call to action that a page sets in a container of
//! its own under the article's text. Known by the container's class or id
//! (what the site's own stylesheet calls it), not by what it says, so the
//! rule reads the same in every language; the words are those that page
//! builders and CMS themes use, in the languages they are written in.

use std::sync::LazyLock;

use ego_tree::NodeId;
use regex::Regex;
use scraper::ElementRef;

/// class/id words of a closing box.
static CLOSING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)author|autor|auteur|(^|[-_])bio($|[-_]|box|graph)|about|",
        r"news-?letter|subscri|abonn|sign-?up|(^|[-_])cta($|[-_])|donat|membership"
    ))
    .expect("a valid pattern")
});

/// A class or id of more parts than this is a slug made from a heading
/// (`got-more-questions-about-electrified-vehicles`), not a style name.
const MAX_NAME_PARTS: usize = 4;

/// Whether one class or id word names a closing box.
fn is_closing_name(word: &str) -> bool {
    word.split(['-', '_']).filter(|p| !p.is_empty()).count() <= MAX_NAME_PARTS
        && CLOSING.is_match(word)
}

/// Whether `block`, or a container between it and the body's `root` (the
/// root itself aside: it is the article), is named like a closing box.
pub(super) fn in_closing_box(block: &ElementRef<'_>, root: NodeId) -> bool {
    std::iter::once(**block)
        .chain(block.ancestors())
        .take_while(|n| n.id() != root)
        .filter_map(|n| n.value().as_element())
        .any(|el| {
            [el.attr("class"), el.attr("id")]
                .into_iter()
                .flatten()
                .flat_map(str::split_whitespace)
                .any(is_closing_name)
        })
}
