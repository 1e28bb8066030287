//! Captions and credits that a page sets outside `<figure>`: a `<p
//! class="wp-caption-text">`, a `<div class="image-credit">`. Known by the
//! name the site's stylesheet gives them, which reads the same in every
//! language.

use scraper::node::Element;

/// The parts of a class or id word (split at '-' and '_') that name a
/// caption or a photo credit. A whole part, so that a utility class that
/// styles the captions inside it (`[&_figcaption]:mt-xs`) or a film's
/// credits section (`section_credits`) is not one.
const CAPTION_PARTS: &[&str] = &["caption", "captions", "credit"];

/// Whether `el`'s class or id names a caption or a photo credit.
pub(super) fn is_caption_name(el: &Element) -> bool {
    [el.attr("class"), el.attr("id")]
        .into_iter()
        .flatten()
        .flat_map(str::split_whitespace)
        .flat_map(|word| word.split(['-', '_']))
        .any(|part| {
            CAPTION_PARTS
                .iter()
                .any(|name| part.eq_ignore_ascii_case(name))
        })
}
