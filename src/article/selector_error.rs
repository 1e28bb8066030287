//! A CSS selector's parse error in words.
//!
//! scraper displays the errors its parser "is not supposed to" give (an
//! empty selector, an unknown pseudo-class…) as "Unexpected error
//! occurred. Please report this to the developer" and a debug dump on
//! several lines. Those are ordinary mistakes in a config: said here from
//! the error's own name, on one line.

use scraper::error::SelectorErrorKind;

/// What is wrong with the selector, on one line.
pub(super) fn described(error: &SelectorErrorKind) -> String {
    match error {
        SelectorErrorKind::UnexpectedSelectorParseError(kind) => {
            from_debug_name(&format!("{kind:?}"))
        }
        other => {
            let text = other.to_string();
            let mut chars = text.chars();
            match chars.next() {
                Some(first) => first.to_lowercase().chain(chars).collect(),
                None => text,
            }
        }
    }
}

/// `UnsupportedPseudoClassOrElement("foo")` as "unsupported pseudo class or
/// element \"foo\"": the variant's name in words, then its quoted argument
/// (other arguments are parser internals).
fn from_debug_name(debug: &str) -> String {
    let name: String = debug
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    let mut words = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    let quoted = debug
        .split_once('"')
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(inside, _)| inside);
    match quoted {
        Some(argument) => format!("{words} {argument:?}"),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_name_becomes_words() {
        assert_eq!(
            from_debug_name("UnsupportedPseudoClassOrElement(\n    \"foo\",\n)"),
            "unsupported pseudo class or element \"foo\""
        );
        assert_eq!(from_debug_name("EmptySelector"), "empty selector");
    }
}
