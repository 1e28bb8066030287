//! The tags of an HTML document as the HTML tokenizer sees them, found
//! without allocating a tree: enough of the tokenizer's states (comments,
//! quoted attribute values, the self-closing slash, raw text) that no tag is
//! hidden from [`super::nesting`]. Where this scanner and the real tokenizer
//! could differ, it ends a comment or raw text no later than the real one,
//! so that it sees at least every tag the parser will build.

use super::name::TagName;

/// One token; `at` is the byte offset of its `<` (or its first byte).
pub(super) enum Token<'a> {
    Start {
        at: usize,
        /// Lower-cased, as the tokenizer reports it.
        name: TagName,
        /// The raw bytes of the attributes (equal bytes, equal attributes).
        attributes: &'a [u8],
        self_closing: bool,
    },
    End {
        name: TagName,
    },
    /// Characters between tags; `blank` when they are all whitespace.
    Text {
        blank: bool,
    },
}

pub(super) struct Tokens<'a> {
    html: &'a [u8],
    at: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

/// Where `needle` (not empty) first starts in `haystack`: its first byte
/// looked for, the rest compared only there.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut from = 0;
    loop {
        let at = from + haystack.get(from..)?.iter().position(|&b| b == first)?;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
}

/// The length of a comment's `body` (what follows `<!`, from its `--`)
/// up to the end of its first `-->` or `--!>`; `None` when it has none.
/// One scan: looking for each ending through the whole rest of the
/// document made a page of many comments cost the square of its length.
fn comment_end(body: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let dashes = from + find(&body[from..], b"--")?;
        match &body[dashes + 2..] {
            [b'>', ..] => return Some(dashes + 3),
            [b'!', b'>', ..] => return Some(dashes + 4),
            _ => from = dashes + 1,
        }
    }
}

impl<'a> Tokens<'a> {
    pub(super) fn new(html: &'a [u8]) -> Self {
        Tokens { html, at: 0 }
    }

    /// The next token; `None` at the end of the document (or where the rest
    /// of it can hold no tag: an unterminated comment or tag).
    pub(super) fn next_token(&mut self) -> Option<Token<'a>> {
        let html = self.html;
        loop {
            let start = self.at;
            let first = *html.get(start)?;
            if first != b'<' {
                let end = html[start..]
                    .iter()
                    .position(|&b| b == b'<')
                    .map_or(html.len(), |n| start + n);
                self.at = end;
                let blank = html[start..end].iter().all(|&b| is_space(b));
                return Some(Token::Text { blank });
            }
            let rest = &html[start + 1..];
            match rest.first() {
                Some(b'!') if rest.starts_with(b"!--") => {
                    // `<!-->` and `<!--->` end at once; `--!>` ends one too.
                    self.at = start + 2 + comment_end(&rest[1..])?;
                }
                Some(b'!' | b'?') => self.skip_bogus(start)?,
                Some(b'/') => match rest.get(1) {
                    Some(c) if c.is_ascii_alphabetic() => {
                        let (name, _, _, end) = self.tag(start + 2)?;
                        self.at = end;
                        return Some(Token::End { name });
                    }
                    Some(b'>') => self.at = start + 3,
                    Some(_) => self.skip_bogus(start)?,
                    None => return None,
                },
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, attributes, self_closing, end) = self.tag(start + 1)?;
                    self.at = end;
                    return Some(Token::Start {
                        at: start,
                        name,
                        attributes,
                        self_closing,
                    });
                }
                _ => {
                    // A `<` that starts no tag is a character.
                    self.at = start + 1;
                    return Some(Token::Text { blank: false });
                }
            }
        }
    }

    /// A bogus comment (`<!…>`, `<?…>`, `</ …>`, and doctypes) ends at the
    /// first `>`.
    fn skip_bogus(&mut self, start: usize) -> Option<()> {
        let end = self.html[start..].iter().position(|&b| b == b'>')?;
        self.at = start + end + 1;
        Some(())
    }

    /// Skips the raw text of `name` (a `<script>`, `<style>`, `<textarea>` …):
    /// up to its end tag, which the next call reads. `None` when it never
    /// ends (the rest of the document is text).
    pub(super) fn skip_raw_text(&mut self, name: &[u8]) -> Option<()> {
        let html = self.html;
        let mut from = self.at;
        loop {
            let lt = from + find(&html[from..], b"</")?;
            let candidate = html.get(lt + 2..lt + 2 + name.len())?;
            let after = html.get(lt + 2 + name.len()).copied();
            if candidate.eq_ignore_ascii_case(name)
                && after.is_none_or(|b| is_space(b) || b == b'/' || b == b'>')
            {
                self.at = lt;
                return Some(());
            }
            from = lt + 2;
        }
    }

    /// Reads a tag from its name at `from` to its `>`: the lower-cased name,
    /// the attributes' bytes, whether it ends in a self-closing `/>`, and the
    /// offset after it. `None` when the document ends inside the tag (the
    /// tokenizer then drops it).
    fn tag(&self, from: usize) -> Option<(TagName, &'a [u8], bool, usize)> {
        let html = self.html;
        let name_end = html[from..]
            .iter()
            .position(|&b| is_space(b) || b == b'/' || b == b'>')
            .map_or(html.len(), |n| from + n);
        let name = TagName::lowercase(&html[from..name_end]);
        #[derive(Clone, Copy, PartialEq)]
        enum State {
            BeforeName,
            Name,
            AfterName,
            BeforeValue,
            Unquoted,
            AfterQuoted,
        }
        let mut state = State::BeforeName;
        let mut i = name_end;
        loop {
            let b = *html.get(i)?;
            match (state, b) {
                (State::BeforeName | State::AfterName | State::AfterQuoted, b'/') => {
                    if html.get(i + 1) == Some(&b'>') {
                        return Some((name, &html[name_end..i], true, i + 2));
                    }
                    state = State::BeforeName;
                }
                (_, b'>') => return Some((name, &html[name_end..i], false, i + 1)),
                (State::BeforeName | State::AfterQuoted, b) if is_space(b) => {
                    state = State::BeforeName
                }
                (State::BeforeName | State::AfterQuoted, _) => state = State::Name,
                (State::Name, b'/') => {
                    state = State::BeforeName;
                    continue; // reconsumed: `/` may start `/>`
                }
                (State::Name, b'=') | (State::AfterName, b'=') => state = State::BeforeValue,
                (State::Name, b) if is_space(b) => state = State::AfterName,
                (State::Name, _) => {}
                (State::AfterName, b) if is_space(b) => {}
                (State::AfterName, _) => state = State::Name,
                (State::BeforeValue, b) if is_space(b) => {}
                (State::BeforeValue, b'"' | b'\'') => {
                    let close = html[i + 1..].iter().position(|&c| c == b)?;
                    i += close + 2;
                    state = State::AfterQuoted;
                    continue;
                }
                (State::BeforeValue, _) => state = State::Unquoted,
                (State::Unquoted, b) if is_space(b) => state = State::BeforeName,
                (State::Unquoted, _) => {}
            }
            i += 1;
        }
    }
}

/// The value of the attribute `wanted` (lower case) in a tag's attribute
/// bytes, read as the tokenizer reads them.
pub(super) fn attribute<'a>(attributes: &'a [u8], wanted: &[u8]) -> Option<&'a [u8]> {
    let mut i = 0;
    let at = |i: usize| attributes.get(i).copied();
    loop {
        while at(i).is_some_and(|b| is_space(b) || b == b'/') {
            i += 1;
        }
        let name_start = i;
        at(i)?;
        i += 1; // a name's first character may be `=`
        while at(i).is_some_and(|b| !is_space(b) && b != b'/' && b != b'=') {
            i += 1;
        }
        let name = &attributes[name_start..i];
        while at(i).is_some_and(is_space) {
            i += 1;
        }
        let mut value: &[u8] = b"";
        if at(i) == Some(b'=') {
            i += 1;
            while at(i).is_some_and(is_space) {
                i += 1;
            }
            match at(i) {
                Some(quote @ (b'"' | b'\'')) => {
                    let len = attributes[i + 1..].iter().position(|&b| b == quote)?;
                    value = &attributes[i + 1..i + 1 + len];
                    i += len + 2;
                }
                _ => {
                    let start = i;
                    while at(i).is_some_and(|b| !is_space(b)) {
                        i += 1;
                    }
                    value = &attributes[start..i];
                }
            }
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ending as the two separate searches found it.
    fn two_searches(body: &[u8]) -> Option<usize> {
        let search = |needle: &[u8]| body.windows(needle.len()).position(|w| w == needle);
        [
            search(b"-->").map(|n| n + 3),
            search(b"--!>").map(|n| n + 4),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    #[test]
    fn a_comment_ends_at_its_first_ending_of_either_kind() {
        let bodies: &[&[u8]] = &[
            b"-->",
            b"--->",
            b"--!>",
            b"-- x --!> y -->",
            b"-- x --> y --!>",
            b"-- - -- ->-!>--",
            b"-- a - b -- c ---!>",
            b"-- never ends -- !> - ->",
            b"--",
            b"-",
            b"",
        ];
        for body in bodies {
            assert_eq!(
                comment_end(body),
                two_searches(body),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Every string of these bytes up to length 7, against the two searches.
        let alphabet = [b'-', b'!', b'>', b'x'];
        for len in 0..=7u32 {
            for n in 0..4usize.pow(len) {
                let body: Vec<u8> = (0..len).map(|i| alphabet[n / 4usize.pow(i) % 4]).collect();
                assert_eq!(comment_end(&body), two_searches(&body), "{body:?}");
            }
        }
    }

    #[test]
    fn find_agrees_with_a_window_search() {
        let haystack = b"<p>a</p><!-- x --></scr</script>";
        for needle in [&b"</"[..], b"-->", b"</script", b"<", b"zz", b"t>"] {
            assert_eq!(
                find(haystack, needle),
                haystack.windows(needle.len()).position(|w| w == needle)
            );
        }
    }
}
