//! A minimal strict-DER reader and writer (X.690 §8, §10) for the CMS structures gitsign
//! writes, keeping the raw bytes of every element: the signed attributes must be hashed exactly
//! as they were signed, and re-encoding through a typed model could reorder them.

use crate::Error;

/// Universal tags used here (X.690 §8.1.2).
pub(crate) mod tag {
    pub(crate) const INTEGER: u8 = 0x02;
    pub(crate) const OCTET_STRING: u8 = 0x04;
    pub(crate) const NULL: u8 = 0x05;
    pub(crate) const OID: u8 = 0x06;
    pub(crate) const SEQUENCE: u8 = 0x30;
    pub(crate) const SET: u8 = 0x31;
    pub(crate) const UTC_TIME: u8 = 0x17;
    pub(crate) const GENERALIZED_TIME: u8 = 0x18;
    /// `[0]` constructed (IMPLICIT or EXPLICIT).
    pub(crate) const CONTEXT_0: u8 = 0xa0;
    /// `[1]` constructed.
    pub(crate) const CONTEXT_1: u8 = 0xa1;
}

/// One element: its tag, its content, and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) raw: &'a [u8],
}

/// Reads consecutive elements of one structure; `what` names it in errors.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    input: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8], what: &'static str) -> Self {
        Self { input, what }
    }

    pub(crate) fn error(&self, reason: impl Into<String>) -> Error {
        Error::Der {
            what: self.what,
            reason: reason.into(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// The tag of the next element, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// The next element, in DER: low tag numbers, definite and minimal lengths.
    pub(crate) fn next(&mut self) -> Result<Tlv<'a>, Error> {
        let input = self.input;
        let (&tag, rest) = input
            .split_first()
            .ok_or_else(|| self.error("truncated: expected another element"))?;
        if tag & 0x1f == 0x1f {
            return Err(self.error(format!("high tag number form (tag byte {tag:#04x})")));
        }
        let (&first, rest) = rest
            .split_first()
            .ok_or_else(|| self.error("truncated length"))?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else if first == 0x80 {
            return Err(self.error("indefinite length (BER, not DER)"));
        } else {
            let count = usize::from(first & 0x7f);
            if count > 4 {
                return Err(self.error(format!("{count}-byte length")));
            }
            let bytes = rest
                .get(..count)
                .ok_or_else(|| self.error("truncated length"))?;
            if bytes[0] == 0 {
                return Err(self.error("non-minimal length"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(self.error("non-minimal length"));
            }
            (len, &rest[count..])
        };
        if rest.len() < len {
            return Err(self.error(format!(
                "truncated: element of {len} bytes, {} left",
                rest.len()
            )));
        }
        let header = input.len() - rest.len();
        let (value, tail) = rest.split_at(len);
        self.input = tail;
        Ok(Tlv {
            tag,
            value,
            raw: &input[..header + len],
        })
    }

    /// The next element, which must have `tag`; `field` names it in errors.
    pub(crate) fn expect(&mut self, tag: u8, field: &str) -> Result<Tlv<'a>, Error> {
        let tlv = self.next().map_err(|e| match e {
            Error::Der { what, reason } => Error::Der {
                what,
                reason: format!("{field}: {reason}"),
            },
            other => other,
        })?;
        if tlv.tag != tag {
            return Err(self.error(format!(
                "{field}: expected tag {tag:#04x}, found {:#04x}",
                tlv.tag
            )));
        }
        Ok(tlv)
    }

    /// The next element if it has `tag`.
    pub(crate) fn optional(&mut self, tag: u8, field: &str) -> Result<Option<Tlv<'a>>, Error> {
        if self.peek() == Some(tag) {
            self.expect(tag, field).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails unless every element was read.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(self.error(format!("{} trailing bytes", self.input.len())))
        }
    }
}

/// Reads the single element that must make up all of `input`.
pub(crate) fn single<'a>(input: &'a [u8], tag: u8, what: &'static str) -> Result<Tlv<'a>, Error> {
    let mut reader = Reader::new(input, what);
    let tlv = reader.expect(tag, what)?;
    reader.finish()?;
    Ok(tlv)
}

/// The DER encoding of an element of `tag` with `content`.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        // Checked: below 0x80.
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = &bytes[skip..];
        // At most size_of::<usize>() bytes, far below 0x7f.
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
    out
}

/// The encoding of an element of `tag` whose content is the concatenation of `parts`.
pub(crate) fn encode_all(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    encode(tag, &parts.concat())
}

/// `SET OF` content: the encodings sorted as X.690 §11.6 requires (as octet strings, the
/// shorter padded with trailing zeros).
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    fn padded(v: &[u8], len: usize) -> impl Iterator<Item = u8> + '_ {
        v.iter().copied().chain(std::iter::repeat(0)).take(len)
    }
    elements.sort_by(|a, b| {
        let len = a.len().max(b.len());
        padded(a, len)
            .cmp(padded(b, len))
            .then(a.len().cmp(&b.len()))
    });
    encode(tag::SET, &elements.concat())
}

/// Dotted text of an OID's DER content, or its hex when malformed.
pub(crate) fn oid_text(content: &[u8]) -> String {
    der::asn1::ObjectIdentifier::from_bytes(content)
        .map(|oid| oid.to_string())
        .unwrap_or_else(|_| format!("(malformed OID {})", hex_text(content)))
}

pub(crate) fn hex_text(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes() {
        for len in [0usize, 1, 127, 128, 255, 256, 70_000] {
            let content = vec![7u8; len];
            let der = encode(tag::OCTET_STRING, &content);
            let tlv = single(&der, tag::OCTET_STRING, "test").unwrap();
            assert_eq!(tlv.value, content.as_slice(), "len {len}");
            assert_eq!(tlv.raw, der.as_slice(), "len {len}");
        }
    }

    #[test]
    fn refuses_non_der() {
        const CASES: &[(&str, &[u8])] = &[
            ("empty", b""),
            ("no length", &[0x04]),
            ("indefinite", &[0x30, 0x80, 0, 0]),
            ("non-minimal long form", &[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]),
            ("leading zero length", &[0x04, 0x82, 0x00, 0x80]),
            ("truncated", &[0x04, 0x05, 1, 2]),
            ("high tag", &[0x1f, 0x01, 0x00]),
            ("trailing", &[0x04, 0x00, 0x00]),
            ("huge length", &[0x04, 0x85, 1, 1, 1, 1, 1]),
        ];
        for (name, input) in CASES {
            assert!(single(input, tag::OCTET_STRING, "test").is_err(), "{name}");
        }
    }

    #[test]
    fn sorts_set_of_as_der() {
        let set = set_of(vec![vec![0x02, 0x01, 0x05], vec![0x02, 0x01, 0x01]]);
        assert_eq!(set, [0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x05]);
    }
}
