//! XPath 1.0 text into tokens, with the spec's rules for telling `*`,
//! `and`, `div` … operators from names by what precedes them.

use super::XPathError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Dot,
    DotDot,
    At,
    Comma,
    ColonColon,
    Slash,
    SlashSlash,
    Pipe,
    Plus,
    Minus,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `*` as a name test.
    Star,
    /// `*` as multiplication.
    Multiply,
    /// `and`, `or`, `div`, `mod` in operator position.
    Operator(&'static str),
    Literal(String),
    Number(f64),
    /// A name test, function name, axis name or node type; a namespace
    /// prefix is dropped (HTML has none).
    Name(String),
    Variable(String),
}

pub(super) fn tokenize(source: &str) -> Result<Vec<Token>, XPathError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // The spec's disambiguation: after these, `*` and operator names are
        // operators; elsewhere they are names.
        let operator_position = matches!(
            tokens.last(),
            Some(
                Token::RParen
                    | Token::RBracket
                    | Token::Dot
                    | Token::DotDot
                    | Token::Literal(_)
                    | Token::Number(_)
                    | Token::Name(_)
                    | Token::Star
                    | Token::Variable(_)
            )
        );
        let next = chars.get(i + 1).copied();
        let token = match c {
            ' ' | '\t' | '\n' | '\r' => {
                i += 1;
                continue;
            }
            '(' => Token::LParen,
            ')' => Token::RParen,
            '[' => Token::LBracket,
            ']' => Token::RBracket,
            '@' => Token::At,
            ',' => Token::Comma,
            '|' => Token::Pipe,
            '+' => Token::Plus,
            '-' => Token::Minus,
            '=' => Token::Eq,
            '!' if next == Some('=') => {
                i += 1;
                Token::Ne
            }
            '<' if next == Some('=') => {
                i += 1;
                Token::Le
            }
            '<' => Token::Lt,
            '>' if next == Some('=') => {
                i += 1;
                Token::Ge
            }
            '>' => Token::Gt,
            ':' if next == Some(':') => {
                i += 1;
                Token::ColonColon
            }
            '/' if next == Some('/') => {
                i += 1;
                Token::SlashSlash
            }
            '/' => Token::Slash,
            '*' if operator_position => Token::Multiply,
            '*' => Token::Star,
            '.' if next == Some('.') => {
                i += 1;
                Token::DotDot
            }
            '.' if !next.is_some_and(|n| n.is_ascii_digit()) => Token::Dot,
            '"' | '\'' => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|&q| q == c)
                    .ok_or_else(|| XPathError::new(i, "string literal is not closed"))?;
                let text: String = chars[i + 1..i + 1 + end].iter().collect();
                i += end + 1;
                Token::Literal(text)
            }
            '0'..='9' | '.' => {
                let start = i;
                while chars
                    .get(i + 1)
                    .is_some_and(|d| d.is_ascii_digit() || *d == '.')
                {
                    i += 1;
                }
                let text: String = chars[start..=i].iter().collect();
                Token::Number(
                    text.parse()
                        .map_err(|_| XPathError::new(start, format!("bad number {text:?}")))?,
                )
            }
            '$' => {
                let start = i + 1;
                while chars.get(i + 1).copied().is_some_and(is_name_char) {
                    i += 1;
                }
                Token::Variable(chars[start..=i].iter().collect())
            }
            c if is_name_start(c) => {
                let start = i;
                while chars.get(i + 1).copied().is_some_and(is_name_char) {
                    i += 1;
                }
                // `prefix:local` (but not `axis::`).
                if chars.get(i + 1) == Some(&':')
                    && chars.get(i + 2).copied().is_some_and(is_name_start)
                {
                    i += 2;
                    while chars.get(i + 1).copied().is_some_and(is_name_char) {
                        i += 1;
                    }
                }
                let name: String = chars[start..=i].iter().collect();
                match name.as_str() {
                    "and" | "or" | "div" | "mod" if operator_position => {
                        Token::Operator(match name.as_str() {
                            "and" => "and",
                            "or" => "or",
                            "div" => "div",
                            _ => "mod",
                        })
                    }
                    _ => Token::Name(name),
                }
            }
            // `prefix:*`.
            ':' if next == Some('*') && matches!(tokens.last(), Some(Token::Name(_))) => {
                i += 2;
                tokens.pop();
                tokens.push(Token::Star);
                continue;
            }
            other => {
                return Err(XPathError::new(
                    i,
                    format!("unexpected character {other:?}"),
                ));
            }
        };
        tokens.push(token);
        i += 1;
    }
    Ok(tokens)
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}
