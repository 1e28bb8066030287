//! A tag's name as the depth guard keeps it: lower-cased, and inline when
//! it is short, as every HTML, SVG and MathML element's name is, so that
//! reading a tag allocates nothing. Only a longer name (a custom element's)
//! goes on the heap.

use std::ops::Deref;

/// The longest name kept inline.
const INLINE: usize = 22;

/// A lower-cased tag name; it reads as its bytes.
#[derive(Clone, PartialEq, Eq)]
pub(super) enum TagName {
    /// The first `len` bytes of `bytes`; the rest are zero, so that equal
    /// names are equal values.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Long(Vec<u8>),
}

impl TagName {
    /// `raw` lower-cased (ASCII only, as the HTML tokenizer does).
    pub(super) fn lowercase(raw: &[u8]) -> TagName {
        if raw.len() > INLINE {
            return TagName::Long(raw.to_ascii_lowercase());
        }
        let mut bytes = [0u8; INLINE];
        for (to, from) in bytes.iter_mut().zip(raw) {
            *to = from.to_ascii_lowercase();
        }
        TagName::Inline {
            len: raw.len() as u8,
            bytes,
        }
    }
}

impl Deref for TagName {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            TagName::Inline { len, bytes } => &bytes[..usize::from(*len)],
            TagName::Long(bytes) => bytes,
        }
    }
}

impl PartialEq<[u8]> for TagName {
    fn eq(&self, other: &[u8]) -> bool {
        **self == *other
    }
}

impl PartialEq<&[u8]> for TagName {
    fn eq(&self, other: &&[u8]) -> bool {
        **self == **other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for TagName {
    fn eq(&self, other: &&[u8; N]) -> bool {
        **self == other[..]
    }
}

impl std::fmt::Debug for TagName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_read_back_lower_cased() {
        for raw in [
            &b"DIV"[..],
            b"",
            b"annotation-xml html",
            b"My-Very-Long-Custom-Element-Name",
        ] {
            let name = TagName::lowercase(raw);
            assert_eq!(&*name, &raw.to_ascii_lowercase()[..]);
            assert_eq!(name, TagName::lowercase(&raw.to_ascii_lowercase()));
        }
        assert!(matches!(
            TagName::lowercase(b"blockquote"),
            TagName::Inline { .. }
        ));
    }
}
