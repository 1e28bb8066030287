//! Character sets: turning fetched bytes into correct UTF-8.
//!
//! The order of authority is the same for feeds and pages: a byte-order mark,
//! then the HTTP `Content-Type` charset, then what the document declares
//! about itself (the XML declaration, `<meta charset>` or `http-equiv`), then
//! UTF-8 when the bytes are valid UTF-8, and windows-1252 last (what browsers
//! assume for undeclared Western pages). The result is always valid UTF-8.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};

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

/// Decodes an XML document (a feed) to UTF-8 and rewrites its XML declaration
/// to say so, so that a parser reading the result does not transcode it twice.
pub fn decode_xml(bytes: &[u8], content_type: Option<&str>) -> String {
    let declared = || xml_declared_encoding(bytes);
    let text = decode_with(bytes, content_type, declared);
    rewrite_xml_declaration(text)
}

/// Decodes an HTML page to UTF-8.
pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> String {
    decode_with(bytes, content_type, || html_declared_encoding(bytes))
}

fn decode_with(
    bytes: &[u8],
    content_type: Option<&str>,
    declared: impl FnOnce() -> Option<&'static Encoding>,
) -> String {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return decode_as(encoding, &bytes[bom_len..]);
    }
    // A document cannot really be UTF-16 if it declared so in ASCII; the WHATWG
    // rule is to read such a declaration as UTF-8.
    let declared = || declared().map(Encoding::output_encoding);
    let encoding = content_type
        .and_then(charset_from_content_type)
        .or_else(declared)
        .unwrap_or_else(|| {
            if std::str::from_utf8(bytes).is_ok() {
                UTF_8
            } else {
                WINDOWS_1252
            }
        });
    decode_as(encoding, bytes)
}

fn decode_as(encoding: &'static Encoding, bytes: &[u8]) -> String {
    encoding.decode_without_bom_handling(bytes).0.into_owned()
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
}
