//! The little DER (X.690 §10) this crate needs: reading and writing the SubjectPublicKeyInfo
//! (RFC 5280 §4.1.2.7) and PrivateKeyInfo (RFC 5208 §5) outer structures, and the object
//! identifiers that name key algorithms.
//!
//! The reader is strict: definite minimal lengths, one-byte tags, no trailing bytes. Anything
//! else is [`Error::MalformedDer`].

use std::fmt::Write as _;

use crate::Error;

/// Universal tags used here.
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
#[cfg(test)]
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_NULL: u8 = 0x05;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;

/// id-ecPublicKey, 1.2.840.10045.2.1 (RFC 5480 §2.1.1).
pub(crate) const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// secp256r1, 1.2.840.10045.3.1.7 (RFC 5480 §2.1.1.1).
pub(crate) const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// secp384r1, 1.3.132.0.34 (RFC 5480 §2.1.1.1).
pub(crate) const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// secp521r1, 1.3.132.0.35 (RFC 5480 §2.1.1.1).
pub(crate) const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
/// id-Ed25519, 1.3.101.112 (RFC 8410 §3).
pub(crate) const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// rsaEncryption, 1.2.840.113549.1.1.1 (RFC 3279 §2.3.1).
pub(crate) const OID_RSA_ENCRYPTION: &[u8] =
    &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/// A cursor over DER bytes. `what` names the structure being read, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data[0]` in the outermost input, so errors point into what the caller gave.
    base: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], what: &'static str) -> Self {
        Self {
            data,
            pos: 0,
            base: 0,
            what,
        }
    }

    fn error(&self, at: usize, reason: &'static str) -> Error {
        Error::MalformedDer {
            structure: self.what,
            offset: self.base + at,
            reason,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Fails unless every byte has been read.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.error(self.pos, "trailing bytes"))
        }
    }

    /// Tag of the next element, if any, without consuming it.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Reads one element with the given tag and returns a reader over its contents.
    pub(crate) fn read(&mut self, tag: u8) -> Result<Reader<'a>, Error> {
        let start = self.pos;
        let (found, content_start, content) = self.read_any()?;
        if found != tag {
            return Err(self.error(start, "unexpected tag"));
        }
        Ok(Reader {
            data: content,
            pos: 0,
            base: self.base + content_start,
            what: self.what,
        })
    }

    /// Reads one element with the given tag and returns its contents.
    pub(crate) fn read_bytes(&mut self, tag: u8) -> Result<&'a [u8], Error> {
        Ok(self.read(tag)?.data)
    }

    /// Reads one element of any tag: `(tag, offset of contents, contents)`.
    fn read_any(&mut self) -> Result<(u8, usize, &'a [u8]), Error> {
        let start = self.pos;
        let tag = *self
            .data
            .get(start)
            .ok_or_else(|| self.error(start, "truncated"))?;
        if tag & 0x1f == 0x1f {
            return Err(self.error(start, "high tag numbers are not supported"));
        }
        let first = *self
            .data
            .get(start + 1)
            .ok_or_else(|| self.error(start + 1, "truncated"))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 {
                return Err(self.error(start + 1, "indefinite length"));
            }
            if count > 4 {
                return Err(self.error(start + 1, "length too large"));
            }
            let bytes = self
                .data
                .get(start + 2..start + 2 + count)
                .ok_or_else(|| self.error(start + 2, "truncated"))?;
            if bytes.first() == Some(&0) {
                return Err(self.error(start + 2, "non-minimal length"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(self.error(start + 1, "non-minimal length"));
            }
            (len, 2 + count)
        };
        let content_start = start + header;
        let end = content_start
            .checked_add(len)
            .ok_or_else(|| self.error(start, "truncated"))?;
        let content = self
            .data
            .get(content_start..end)
            .ok_or_else(|| self.error(start, "truncated"))?;
        self.pos = end;
        Ok((tag, content_start, content))
    }

    /// Reads a BIT STRING with no unused bits and returns its bytes.
    pub(crate) fn read_bit_string(&mut self) -> Result<&'a [u8], Error> {
        let start = self.pos;
        let content = self.read_bytes(TAG_BIT_STRING)?;
        match content.split_first() {
            Some((0, bits)) => Ok(bits),
            _ => Err(self.error(start, "bit string with unused bits")),
        }
    }

    /// Reads a non-negative INTEGER and returns its magnitude without leading zeros.
    pub(crate) fn read_unsigned_integer(&mut self) -> Result<&'a [u8], Error> {
        let start = self.pos;
        let content = self.read_bytes(TAG_INTEGER)?;
        match content {
            [] => Err(self.error(start, "empty integer")),
            [first, ..] if first & 0x80 != 0 => Err(self.error(start, "negative integer")),
            [0, second, ..] if second & 0x80 == 0 => Err(self.error(start, "non-minimal integer")),
            [0, rest @ ..] => Ok(rest),
            _ => Ok(content),
        }
    }
}

/// Encodes one element: tag, minimal definite length, contents.
pub(crate) fn write(tag: u8, content: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = &bytes[skip..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
    out.extend_from_slice(content);
}

/// Encodes one element and returns it.
pub(crate) fn element(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    write(tag, content, &mut out);
    out
}

/// Dotted-decimal form of an OID's contents, for error messages. Arcs too large for `u64` and
/// truncated encodings are shown as `?`.
pub(crate) fn oid_to_string(content: &[u8]) -> String {
    let mut out = String::new();
    let mut arcs = Vec::new();
    let mut value: Option<u64> = Some(0);
    let mut pending = false;
    for byte in content {
        value = value
            .and_then(|v| v.checked_mul(128))
            .map(|v| v | u64::from(byte & 0x7f));
        pending = true;
        if byte & 0x80 == 0 {
            arcs.push(value);
            value = Some(0);
            pending = false;
        }
    }
    if pending {
        arcs.push(None);
    }
    for (i, arc) in arcs.iter().enumerate() {
        let text = match (i, arc) {
            (0, Some(first)) => {
                let (a, b) = match first {
                    0..40 => (0, *first),
                    40..80 => (1, first - 40),
                    _ => (2, first - 80),
                };
                format!("{a}.{b}")
            }
            (_, Some(arc)) => arc.to_string(),
            (_, None) => "?".to_owned(),
        };
        if i > 0 {
            out.push('.');
        }
        let _ = write!(out, "{text}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Case {
        name: &'static str,
        input: &'static [u8],
        reason: Option<&'static str>,
    }

    const CASES: &[Case] = &[
        Case {
            name: "short form",
            input: &[0x04, 0x01, 0xaa],
            reason: None,
        },
        Case {
            name: "truncated header",
            input: &[0x04],
            reason: Some("truncated"),
        },
        Case {
            name: "truncated contents",
            input: &[0x04, 0x02, 0xaa],
            reason: Some("truncated"),
        },
        Case {
            name: "indefinite",
            input: &[0x04, 0x80, 0x00, 0x00],
            reason: Some("indefinite length"),
        },
        Case {
            name: "long form for short",
            input: &[0x04, 0x81, 0x01, 0xaa],
            reason: Some("non-minimal length"),
        },
        Case {
            name: "leading zero length",
            input: &[0x04, 0x82, 0x00, 0x81],
            reason: Some("non-minimal length"),
        },
        Case {
            name: "huge length",
            input: &[0x04, 0x85, 1, 0, 0, 0, 0],
            reason: Some("length too large"),
        },
        Case {
            name: "high tag",
            input: &[0x1f, 0x01, 0x00],
            reason: Some("high tag numbers are not supported"),
        },
        Case {
            name: "wrong tag",
            input: &[0x02, 0x01, 0x00],
            reason: Some("unexpected tag"),
        },
        Case {
            name: "trailing",
            input: &[0x04, 0x00, 0x00],
            reason: Some("trailing bytes"),
        },
    ];

    #[test]
    fn reader_enforces_der_length_rules() {
        for case in CASES {
            let mut reader = Reader::new(case.input, "test");
            let result = reader.read(TAG_OCTET_STRING).and_then(|_| reader.finish());
            match (result, case.reason) {
                (Ok(()), None) => {}
                (Err(Error::MalformedDer { reason, .. }), Some(want)) => {
                    assert_eq!(reason, want, "{}", case.name);
                }
                (other, want) => panic!("{}: got {other:?}, want {want:?}", case.name),
            }
        }
    }

    #[test]
    fn writer_uses_minimal_lengths() {
        assert_eq!(element(0x04, &[]), vec![0x04, 0x00]);
        assert_eq!(element(0x04, &[0; 0x7f])[..2], [0x04, 0x7f]);
        assert_eq!(element(0x04, &[0; 0x80])[..3], [0x04, 0x81, 0x80]);
        assert_eq!(element(0x04, &[0; 0x100])[..4], [0x04, 0x82, 0x01, 0x00]);
        let long = element(0x04, &[7; 300]);
        let mut reader = Reader::new(&long, "test");
        assert_eq!(reader.read_bytes(0x04).unwrap(), &[7; 300][..]);
    }

    #[test]
    fn integers_must_be_minimal_and_non_negative() {
        let ok: &[(&[u8], &[u8])] = &[
            (&[0x02, 0x01, 0x05], &[0x05]),
            (&[0x02, 0x02, 0x00, 0x80], &[0x80]),
        ];
        for (input, want) in ok {
            assert_eq!(
                Reader::new(input, "t").read_unsigned_integer().unwrap(),
                *want
            );
        }
        for bad in [
            &[0x02, 0x00][..],
            &[0x02, 0x01, 0x80],
            &[0x02, 0x02, 0x00, 0x01],
        ] {
            assert!(
                Reader::new(bad, "t").read_unsigned_integer().is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn oids_print_dotted() {
        assert_eq!(oid_to_string(OID_EC_PUBLIC_KEY), "1.2.840.10045.2.1");
        assert_eq!(oid_to_string(OID_P521), "1.3.132.0.35");
        assert_eq!(oid_to_string(OID_ED25519), "1.3.101.112");
        assert_eq!(oid_to_string(OID_RSA_ENCRYPTION), "1.2.840.113549.1.1.1");
        assert_eq!(oid_to_string(&[0x2b, 0x81]), "1.3.?");
        assert_eq!(oid_to_string(&[0xff; 20]), "?");
    }
}
