//! Content digests (OCI image-spec `descriptor.md` §Digests), sha256 only.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::Error;

/// A validated `sha256:<64 lowercase hex>` content digest.
///
/// Only sha256 is accepted: it is the only algorithm cosign, the referrers-tag scheme and the
/// registries waxseal targets use. Other registered algorithms (`sha512`) are refused rather
/// than carried unchecked.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    bytes: [u8; 32],
}

impl Digest {
    /// The algorithm prefix, colon included.
    pub const PREFIX: &'static str = "sha256:";

    /// The sha256 digest of `bytes`.
    #[must_use]
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            bytes: Sha256::digest(bytes).into(),
        }
    }

    /// A digest from its 32 raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self { bytes }
    }

    /// The 64 lowercase hex digits, without the `sha256:` prefix.
    #[must_use]
    pub fn hex(&self) -> String {
        hex::encode(self.bytes)
    }

    /// The 32 raw bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

impl FromStr for Digest {
    type Err = Error;

    /// Parses `sha256:<64 lowercase hex>`.
    fn from_str(value: &str) -> Result<Self, Error> {
        let invalid = |reason| Error::InvalidDigest {
            value: value.to_owned(),
            reason,
        };
        let hex_part = value
            .strip_prefix(Self::PREFIX)
            .ok_or_else(|| invalid("algorithm is not sha256"))?;
        if hex_part.len() != 64 {
            return Err(invalid("sha256 hex must be 64 characters"));
        }
        // descriptor.md: the encoded portion of sha256 MUST match /[a-f0-9]{64}/.
        if !hex_part
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(invalid("sha256 hex must be lowercase [0-9a-f]"));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut bytes)
            .map_err(|_| invalid("sha256 hex must be lowercase [0-9a-f]"))?;
        Ok(Self { bytes })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;

    struct Case {
        name: &'static str,
        input: &'static str,
        ok: bool,
    }

    const CASES: &[Case] = &[
        Case {
            name: "empty config digest",
            input: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            ok: true,
        },
        Case {
            name: "uppercase hex",
            input: "sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A",
            ok: false,
        },
        Case {
            name: "short hex",
            input: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8",
            ok: false,
        },
        Case {
            name: "long hex",
            input: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a0",
            ok: false,
        },
        Case {
            name: "sha512",
            input: "sha512:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            ok: false,
        },
        Case {
            name: "no algorithm",
            input: "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            ok: false,
        },
        Case {
            name: "non hex",
            input: "sha256:g4136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            ok: false,
        },
        Case {
            name: "fallback tag form",
            input: "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            ok: false,
        },
        Case {
            name: "empty",
            input: "",
            ok: false,
        },
    ];

    #[test]
    fn parses_digests_table() {
        for case in CASES {
            let parsed = case.input.parse::<Digest>();
            assert_eq!(parsed.is_ok(), case.ok, "{}: {parsed:?}", case.name);
            if let Ok(digest) = parsed {
                assert_eq!(digest.to_string(), case.input, "{}", case.name);
            }
        }
    }

    #[test]
    fn digest_of_empty_json_object_is_the_empty_config_digest() {
        assert_eq!(
            Digest::of(b"{}").to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        assert_eq!(
            Digest::of(b"{}").hex(),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
