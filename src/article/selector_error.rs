//! A CSS selector's parse error in words.
//!
//! scraper displays the errors its parser "is not supposed to" give (an
//! empty selector, an unknown pseudo-class…) as "Unexpected error
//! occurred. Please report this to the developer" and a debug dump on
//! several lines. Those are ordinary mistakes in a config: said here from
//! the error's own name, on one line.

use scraper::error::SelectorErrorKind;

/// What is wrong with the selector `source`, on one line.
pub(super) fn described(error: &SelectorErrorKind, source: &str) -> String {
    match error {
        SelectorErrorKind::UnexpectedSelectorParseError(kind) => {
            let words = from_debug_name(&format!("{kind:?}"));
            // The parser's error no longer carries the pseudo-class's name:
            // the first one that does not compile on its own is it.
            match unsupported_pseudo(source) {
                Some(name) if words.starts_with("unsupported pseudo") && !words.contains('"') => {
                    format!("{words} {name:?}")
                }
                _ => words,
            }
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

/// The first `:name` or `::name` of `source` that does not compile on its
/// own (`*:name`).
fn unsupported_pseudo(source: &str) -> Option<&str> {
    let mut rest = source;
    while let Some(at) = rest.find(':') {
        let after = rest[at..].trim_start_matches(':');
        let len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        let compiles = [
            format!("*:{name}"),
            format!("*::{name}"),
            format!("*:{name}(1)"),
        ]
        .iter()
        .any(|probe| scraper::Selector::parse(probe).is_ok());
        if !name.is_empty() && !compiles {
            return Some(name);
        }
        rest = &after[len..];
    }
    None
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
