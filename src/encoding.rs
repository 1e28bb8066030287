//! Character sets: turning fetched bytes into correct UTF-8.
//!
//! The order of authority is the same for feeds and pages: a byte-order mark,
//! then the HTTP `Content-Type` charset, then what the document declares
//! about itself (the XML declaration, `<meta charset>` or `http-equiv`), then
//! UTF-8 when the bytes are valid UTF-8, then a statistical guess (chardetng,
//! the detector Firefox uses), and windows-1252 last (what browsers assume for
//! undeclared Western pages). XML documents are also sniffed for UTF-16 and
//! UTF-32 without a byte-order mark (`<?xml` in 16- or 32-bit units), which
//! `encoding_rs` does not decode by itself. The result is always valid UTF-8.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How many leading bytes are searched for an in-document declaration
/// (the HTML standard's prescan looks at 1024; XML declarations come first).
const PRESCAN_BYTES: usize = 1024;

/// The charset parameter of a `Content-Type` header value, if it names an
/// encoding `encoding_rs` knows.
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// How many bytes the charset detector looks at: enough for a confident
/// guess, bounded so that a large undeclared document stays cheap.
const DETECTOR_BYTES: usize = 64 * 1024;

/// Where the character set of a document came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetSource {
    /// A byte-order mark, or `<?xml` spelled in UTF-16/UTF-32 units.
    ByteOrder,
    /// The `charset` of the HTTP `Content-Type`.
    Header,
    /// The XML declaration or an HTML `<meta>`.
    Declaration,
    /// Nothing said; the bytes are valid UTF-8.
    Utf8,
    /// Nothing said; chardetng guessed from the bytes.
    Detected,
}

/// A document turned into UTF-8, and how its charset was chosen.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// Valid UTF-8; for XML, the declaration (if any) says `UTF-8`.
    pub text: String,
    /// The name of the charset the bytes were read as (`UTF-32LE`, `Big5`, …).
    pub charset: &'static str,
    /// Why that charset: [`CharsetSource::Detected`] means nothing declared one.
    pub source: CharsetSource,
}

/// Decodes an XML document (a feed) to UTF-8 and rewrites its XML declaration
/// to say so, so that a parser reading the result does not transcode it twice.
pub fn decode_xml(bytes: &[u8], content_type: Option<&str>) -> String {
    decode_xml_detailed(bytes, content_type).text
}

/// [`decode_xml`], also telling which charset was used and why.
pub fn decode_xml_detailed(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let mut decoded = match sniff_wide_xml(bytes) {
        Some(decoded) => decoded,
        None => decode_with(bytes, content_type, || xml_declared_encoding(bytes)),
    };
    decoded.text = rewrite_xml_declaration(decoded.text);
    decoded
}

/// Decodes an HTML page to UTF-8.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    decode_with(bytes, content_type, || html_declared_encoding(bytes)).text
}

fn decode_with(
    bytes: &[u8],
    content_type: Option<&str>,
    declared: impl FnOnce() -> Option<&'static Encoding>,
) -> Decoded {
    let done = |encoding: &'static Encoding, bytes: &[u8], source| Decoded {
        text: decode_as(encoding, bytes),
        charset: encoding.name(),
        source,
    };
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return done(encoding, &bytes[bom_len..], CharsetSource::ByteOrder);
    }
    if let Some(encoding) = content_type.and_then(charset_from_content_type) {
        return done(encoding, bytes, CharsetSource::Header);
    }
    // A document cannot really be UTF-16 if it declared so in ASCII; the WHATWG
    // rule is to read such a declaration as UTF-8.
    if let Some(encoding) = declared().map(Encoding::output_encoding) {
        return done(encoding, bytes, CharsetSource::Declaration);
    }
    if std::str::from_utf8(bytes).is_ok() {
        return done(UTF_8, bytes, CharsetSource::Utf8);
    }
    done(detect(bytes), bytes, CharsetSource::Detected)
}

/// chardetng's guess for undeclared, non-UTF-8 bytes; windows-1252 when the
/// guess cannot decode them cleanly.
pub fn detect(bytes: &[u8]) -> &'static Encoding {
    let sample = &bytes[..bytes.len().min(DETECTOR_BYTES)];
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    detector.feed(sample, sample.len() == bytes.len());
    let guess = detector.guess(None, Utf8Detection::Deny);
    let (_, had_errors) = guess.decode_without_bom_handling(sample);
    // A sample cut inside a multi-byte character is not an error of the guess.
    if had_errors && sample.len() == bytes.len() {
        WINDOWS_1252
    } else {
        guess
    }
}

fn decode_as(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// UTF-32 (with or without a byte-order mark) and BOM-less UTF-16 XML,
/// recognized by how `<?xml` or `<` is spelled in the first four bytes
/// (XML 1.0, appendix F).
fn sniff_wide_xml(bytes: &[u8]) -> Option<Decoded> {
    let utf32 = |big_endian: bool, skip: usize| Decoded {
        text: decode_utf32(&bytes[skip..], big_endian),
        charset: if big_endian { "UTF-32BE" } else { "UTF-32LE" },
        source: CharsetSource::ByteOrder,
    };
    let utf16 = |encoding: &'static Encoding| Decoded {
        text: decode_as(encoding, bytes),
        charset: encoding.name(),
        source: CharsetSource::ByteOrder,
    };
    match bytes.get(..4)? {
        [0x00, 0x00, 0xFE, 0xFF] => Some(utf32(true, 4)),
        [0xFF, 0xFE, 0x00, 0x00] => Some(utf32(false, 4)),
        [0x00, 0x00, 0x00, b'<'] => Some(utf32(true, 0)),
        [b'<', 0x00, 0x00, 0x00] => Some(utf32(false, 0)),
        [0x00, b'<', 0x00, b'?' | b'!' | b'a'..=b'z' | b'A'..=b'Z'] => Some(utf16(UTF_16BE)),
        [b'<', 0x00, b'?' | b'!' | b'a'..=b'z' | b'A'..=b'Z', 0x00] => Some(utf16(UTF_16LE)),
        _ => None,
    }
}

/// UTF-32 to UTF-8; invalid code points and a trailing partial unit become U+FFFD.
fn decode_utf32(bytes: &[u8], big_endian: bool) -> String {
    let mut out = String::with_capacity(bytes.len() / 4);
    let mut units = bytes.chunks_exact(4);
    for unit in &mut units {
        let array = [unit[0], unit[1], unit[2], unit[3]];
        let value = if big_endian {
            u32::from_be_bytes(array)
        } else {
            u32::from_le_bytes(array)
        };
        out.push(char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    if !units.remainder().is_empty() {
        out.push(char::REPLACEMENT_CHARACTER);
    }
    out
}

/// The `encoding="…"` of a leading `<?xml …?>` declaration.
fn xml_declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = &decl[..decl.find("?>")?];
    attribute_value(decl, "encoding").and_then(|v| Encoding::for_label(v.as_bytes()))
}

/// `<meta charset="…">` or `<meta http-equiv="Content-Type" content="…; charset=…">`
/// within the first bytes of an HTML page.
fn html_declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(PRESCAN_BYTES)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(start) = rest.find("<meta") {
        let tag = &rest[start..];
        let end = tag.find('>').unwrap_or(tag.len());
        let attributes = &tag[5..end];
        if let Some(label) = attribute_value(attributes, "charset")
            && let Some(encoding) = Encoding::for_label(label.as_bytes())
        {
            return Some(encoding);
        }
        if let Some(content) = attribute_value(attributes, "content")
            && let Some(encoding) = charset_from_content_type(&content)
        {
            return Some(encoding);
        }
        rest = &tag[end..];
    }
    None
}

/// The value of `name=` in a run of attributes, quoted or not.
fn attribute_value(attributes: &str, name: &str) -> Option<String> {
    let mut search = attributes;
    loop {
        let at = search.find(name)?;
        let preceded_ok = search[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == '"' || c == '\'' || c == ';');
        let after = search[at + name.len()..].trim_start();
        if preceded_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let value = match value.chars().next() {
                Some(q @ ('"' | '\'')) => value[1..].split(q).next().unwrap_or(""),
                _ => value
                    .split(|c: char| c.is_whitespace() || c == '>' || c == '/' || c == ';')
                    .next()
                    .unwrap_or(""),
            };
            return Some(value.trim().to_owned());
        }
        search = &search[at + name.len()..];
    }
}

/// Replaces the `encoding` of a leading XML declaration with UTF-8.
fn rewrite_xml_declaration(text: String) -> String {
    let trimmed = text.trim_start();
    if !trimmed.starts_with("<?xml") {
        return text;
    }
    let Some(end) = trimmed.find("?>") else {
        return text;
    };
    let offset = text.len() - trimmed.len();
    let decl = &trimmed[..end];
    let Some(at) = decl.find("encoding") else {
        return text;
    };
    let after = &decl[at..];
    let Some(open) = after.find(['"', '\'']) else {
        return text;
    };
    let quote = after.as_bytes()[open] as char;
    let Some(close) = after[open + 1..].find(quote) else {
        return text;
    };
    let value_start = offset + at + open + 1;
    let value_end = value_start + close;
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..value_start]);
    out.push_str("UTF-8");
    out.push_str(&text[value_end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_charset_is_read_case_insensitively() {
        let enc = charset_from_content_type("text/xml; Charset=\"ISO-8859-1\"").unwrap();
        assert_eq!(enc, WINDOWS_1252);
        assert!(charset_from_content_type("text/xml").is_none());
        assert!(charset_from_content_type("text/xml; charset=bogus").is_none());
    }

    #[test]
    fn xml_declaration_is_honoured_and_rewritten() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><t>caf\xe9</t></rss>";
        let text = decode_xml(bytes, Some("application/rss+xml"));
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss><t>caf\u{e9}</t></rss>"
        );
    }

    #[test]
    fn header_charset_wins_over_declaration() {
        let bytes = "<?xml version='1.0' encoding='windows-1252'?><a>\u{e9}</a>".as_bytes();
        let text = decode_xml(bytes, Some("text/xml; charset=utf-8"));
        assert_eq!(text, "<?xml version='1.0' encoding='UTF-8'?><a>\u{e9}</a>");
    }

    #[test]
    fn bom_wins_over_everything() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "<a>\u{e9}</a>".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(
            decode_xml(&bytes, Some("text/xml; charset=iso-8859-1")),
            "<a>\u{e9}</a>"
        );
    }

    #[test]
    fn html_meta_charset_and_http_equiv() {
        let page = b"<html><head><meta charset=windows-1252><title>\x93q\x94</title>";
        assert_eq!(
            decode_html(page, None),
            "<html><head><meta charset=windows-1252><title>\u{201c}q\u{201d}</title>"
        );
        let page =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\">\xe9";
        assert!(decode_html(page, Some("text/html")).ends_with('\u{e9}'));
    }

    #[test]
    fn undeclared_bytes_fall_back_to_utf8_then_windows_1252() {
        assert_eq!(decode_html("caf\u{e9}".as_bytes(), None), "caf\u{e9}");
        assert_eq!(decode_html(b"caf\xe9", None), "caf\u{e9}");
    }

    #[test]
    fn undeclared_legacy_charsets_are_detected() {
        // "Привет, мир! Это тест." in KOI8-R, long enough for a confident guess.
        let russian = "Привет, мир! Это проверка определения кодировки текста. ".repeat(4);
        let (bytes, _, _) = encoding_rs::KOI8_R.encode(&russian);
        assert_eq!(decode_html(&bytes, None), russian);
        let xml = [b"<?xml version=\"1.0\"?><t>".as_slice(), &bytes, b"</t>"].concat();
        let decoded = decode_xml_detailed(&xml, None);
        assert_eq!(decoded.source, CharsetSource::Detected);
        assert!(decoded.text.contains(&russian));
    }

    #[test]
    fn utf32_and_bomless_utf16_xml_are_sniffed() {
        let doc = "<?xml version=\"1.0\" encoding=\"utf-32\"?><a>\u{e9}\u{1F600}</a>";
        let expected = doc.replace("utf-32", "UTF-8");
        let be: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_be_bytes()).collect();
        let le: Vec<u8> = doc.chars().flat_map(|c| (c as u32).to_le_bytes()).collect();
        assert_eq!(decode_xml(&be, None), expected);
        assert_eq!(decode_xml(&le, None), expected);
        let with_bom = [[0xFF, 0xFE, 0, 0].as_slice(), &le].concat();
        assert_eq!(decode_xml(&with_bom, None), expected);

        let doc = "<?xml version=\"1.0\" encoding=\"utf-16\"?><a>\u{e9}</a>";
        let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let decoded = decode_xml_detailed(&be, Some("text/xml; charset=iso-8859-1"));
        assert_eq!(decoded.text, doc.replace("utf-16", "UTF-8"));
        assert_eq!(decoded.charset, "UTF-16BE");
    }
}
