//! What the caller expects: the artifact, and who must have signed it.

use std::fmt;

use regex::Regex;
use waxseal_crypto::{PublicKey, sha256};

use crate::error::InputError;

/// The artifact a bundle is verified against.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Artifact<'a> {
    /// The artifact's bytes.
    Bytes(&'a [u8]),
    /// Only its SHA-256 digest (`sha256:<hex>` on the command line).
    Sha256([u8; 32]),
}

impl<'a> Artifact<'a> {
    /// Parses `sha256:<64 hex digits>`.
    ///
    /// # Errors
    ///
    /// [`InputError::InvalidDigest`] for anything else.
    pub fn from_digest_str(text: &str) -> Result<Self, InputError> {
        let invalid = || InputError::InvalidDigest {
            value: text.to_owned(),
        };
        let hex_digest = text.strip_prefix("sha256:").ok_or_else(invalid)?;
        if hex_digest.len() != 64 {
            return Err(invalid());
        }
        let mut digest = [0u8; 32];
        hex::decode_to_slice(hex_digest, &mut digest).map_err(|_| invalid())?;
        Ok(Self::Sha256(digest))
    }

    /// The artifact's SHA-256.
    pub fn sha256(&self) -> [u8; 32] {
        match self {
            Self::Bytes(bytes) => sha256(bytes),
            Self::Sha256(digest) => *digest,
        }
    }

    /// The bytes, when given.
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self {
            Self::Bytes(bytes) => Some(bytes),
            Self::Sha256(_) => None,
        }
    }
}

/// How a certificate value must match: exactly, or by a regular expression that must match the
/// whole value (it is anchored: `^(?:…)$`, unlike cosign's unanchored `--…-regexp`).
#[derive(Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// Byte-for-byte equality.
    Exact(String),
    /// A whole-value regular expression (Rust `regex` syntax).
    Regex(Regex),
}

impl Matcher {
    /// An exact matcher.
    pub fn exact(value: impl Into<String>) -> Self {
        Self::Exact(value.into())
    }

    /// A whole-value regular expression matcher; `field` names it in errors.
    ///
    /// # Errors
    ///
    /// [`InputError::InvalidRegex`] if it does not compile.
    pub fn regex(field: &'static str, pattern: &str) -> Result<Self, InputError> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(Self::Regex)
            .map_err(|e| InputError::InvalidRegex {
                field,
                pattern: pattern.to_owned(),
                reason: e.to_string(),
            })
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(expected) => expected == value,
            Self::Regex(regex) => regex.is_match(value),
        }
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(value) => write!(f, "{value:?}"),
            Self::Regex(regex) => write!(f, "regex {:?}", regex.as_str()),
        }
    }
}

/// A signer identity: a Fulcio certificate's subject alternative name (email, URI or
/// `1.3.6.1.4.1.57264.1.7` username) and its OIDC issuer (extension `.8`, else `.1`).
#[derive(Debug, Clone)]
pub struct Identity {
    san: Matcher,
    issuer: Matcher,
}

impl Identity {
    /// An identity matching `san` and `issuer`.
    pub fn new(san: Matcher, issuer: Matcher) -> Self {
        Self { san, issuer }
    }

    /// The SAN matcher.
    pub fn san(&self) -> &Matcher {
        &self.san
    }

    /// The issuer matcher.
    pub fn issuer(&self) -> &Matcher {
        &self.issuer
    }
}

/// Who must have signed.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Policy {
    /// A keyless signature by a Fulcio certificate for this identity.
    Identity(Identity),
    /// A signature by this managed key (the bundle carries a `publicKey` hint, no certificate).
    PublicKey(PublicKey),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_matchers_are_anchored() {
        let m = Matcher::regex("identity", "a@.*\\.test").unwrap();
        assert!(m.matches("a@x.test"));
        assert!(!m.matches("a@x.test.evil"));
        assert!(!m.matches("xa@x.test"));
        assert!(Matcher::regex("identity", "(").is_err());
    }

    #[test]
    fn parses_digest_artifacts() {
        let hex = "ab".repeat(32);
        assert_eq!(
            Artifact::from_digest_str(&format!("sha256:{hex}"))
                .unwrap()
                .sha256(),
            [0xab; 32]
        );
        for bad in [
            "sha256:",
            "sha512:ab",
            &format!("sha256:{hex}0"),
            &hex.clone(),
        ] {
            assert!(Artifact::from_digest_str(bad).is_err(), "{bad}");
        }
        assert_eq!(Artifact::Bytes(b"").sha256(), sha256(b""));
    }
}
