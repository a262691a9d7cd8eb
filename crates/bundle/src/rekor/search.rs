//! Search terms: what an entry is indexed under, and the Rekor v1 search query
//! (`POST /api/v1/index/retrieve`, `SearchIndex` in rekor's `openapi.yaml`) that finds it.

use serde::{Deserialize, Serialize};

use crate::rekor::verifier::Verifier;
use crate::{Error, protojson};

/// A key an entry can be found by, as Rekor's `IndexKeys()` derives them.
///
/// | entry | terms |
/// |---|---|
/// | `hashedrekord` | the artifact digest (by algorithm), the verifier's key, certificate and SANs |
/// | `dsse` 0.0.1 | SHA-256 of the payload, SHA-256 of the envelope as submitted, each verifier, and the SHA-2 subject digests of an in-toto statement payload |
/// | `dsse` 0.0.2 | as 0.0.1, without the envelope hash (rekor-tiles stores none) |
///
/// For the key, waxseal indexes fingerprints of DER, not Rekor's SHA-256 of the canonical PEM
/// text: [`SearchTerm::PublicKey`] holds SHA-256 of the DER SubjectPublicKeyInfo of the
/// verifying key, and, when a certificate was given, a second term holds SHA-256 of the DER
/// certificate. A search by key therefore finds entries made with that key directly or through
/// any certificate for it, and a search by certificate finds that certificate's entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SearchTerm {
    /// A SHA-256 digest of an artifact, payload, envelope or in-toto subject.
    Sha256Artifact([u8; 32]),
    /// A SHA-384 artifact or subject digest.
    Sha384Artifact([u8; 48]),
    /// A SHA-512 artifact or subject digest.
    Sha512Artifact([u8; 64]),
    /// SHA-256 of a DER SubjectPublicKeyInfo or of a DER certificate.
    PublicKey([u8; 32]),
    /// An e-mail address from a certificate's subjectAltName, lowercased.
    Email(String),
    /// A URI from a certificate's subjectAltName, as written.
    Uri(String),
}

impl SearchTerm {
    const TAG_SHA256: u8 = 0x01;
    const TAG_SHA384: u8 = 0x02;
    const TAG_SHA512: u8 = 0x03;
    const TAG_PUBLIC_KEY: u8 = 0x10;
    const TAG_EMAIL: u8 = 0x20;
    const TAG_URI: u8 = 0x21;

    /// A stable byte key for storage: a one-byte tag (0x01 SHA-256, 0x02 SHA-384, 0x03
    /// SHA-512, 0x10 public key, 0x20 e-mail, 0x21 URI) followed by the digest or the UTF-8
    /// text. Distinct terms have distinct keys; the encoding never changes.
    pub fn to_key(&self) -> Vec<u8> {
        let (tag, value): (u8, &[u8]) = match self {
            Self::Sha256Artifact(d) => (Self::TAG_SHA256, d),
            Self::Sha384Artifact(d) => (Self::TAG_SHA384, d),
            Self::Sha512Artifact(d) => (Self::TAG_SHA512, d),
            Self::PublicKey(d) => (Self::TAG_PUBLIC_KEY, d),
            Self::Email(e) => (Self::TAG_EMAIL, e.as_bytes()),
            Self::Uri(u) => (Self::TAG_URI, u.as_bytes()),
        };
        let mut key = Vec::with_capacity(1 + value.len());
        key.push(tag);
        key.extend_from_slice(value);
        key
    }

    /// The terms a Rekor v1 search query asks for, one per criterion given (`hash`,
    /// `publicKey`, `email`); whether they combine with AND or OR is
    /// [`SearchIndex::operator`]'s business.
    ///
    /// # Errors
    ///
    /// [`Error::EmptySearch`] if no criterion is given, [`Error::MissingField`] for a
    /// `publicKey` without `content`, and the errors of [`SearchTerm::from_hash_query`],
    /// [`SearchTerm::from_public_key_query`] and [`SearchTerm::from_email`].
    pub fn from_query(query: &SearchIndex) -> Result<Vec<Self>, Error> {
        let mut terms = Vec::new();
        if let Some(hash) = query.hash.as_deref().filter(|h| !h.is_empty()) {
            terms.push(Self::from_hash_query(hash)?);
        }
        if let Some(key) = &query.public_key {
            let content = key.content.as_deref().ok_or_else(|| Error::MissingField {
                field: "publicKey.content".to_owned(),
            })?;
            terms.push(Self::from_public_key_query(&key.format, content)?);
        }
        if let Some(email) = query.email.as_deref().filter(|e| !e.is_empty()) {
            terms.push(Self::from_email(email)?);
        }
        if terms.is_empty() {
            return Err(Error::EmptySearch);
        }
        Ok(terms)
    }

    /// Reads a search `hash`: `sha256:<hex>`, `sha384:<hex>`, `sha512:<hex>`, or bare hex whose
    /// length names the algorithm (64, 96 or 128 digits), in either case.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSearchHash`] for anything else (including `sha1:`).
    pub fn from_hash_query(value: &str) -> Result<Self, Error> {
        let invalid = || Error::InvalidSearchHash {
            value: value.to_owned(),
        };
        let (algorithm, digits) = match value.split_once(':') {
            Some((algorithm, digits)) => (Some(algorithm.to_ascii_lowercase()), digits),
            None => (None, value),
        };
        let digest = hex::decode(digits).map_err(|_| invalid())?;
        match (algorithm.as_deref(), digest.len()) {
            (None | Some("sha256"), 32) => digest.try_into().map(Self::Sha256Artifact),
            (None | Some("sha384"), 48) => digest.try_into().map(Self::Sha384Artifact),
            (None | Some("sha512"), 64) => digest.try_into().map(Self::Sha512Artifact),
            _ => return Err(invalid()),
        }
        .map_err(|_| invalid())
    }

    /// Reads a search `publicKey` of format `x509` (the only format this log accepts) from its
    /// `content`, base64 of a PEM or DER certificate (giving the certificate's fingerprint) or
    /// SubjectPublicKeyInfo (giving the key's); see [`SearchTerm`] for how entries are indexed.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedPublicKeyFormat`] for other formats (`pgp`, `minisign`, `ssh`,
    /// `tuf`), [`Error::InvalidBase64`], and [`Error::InvalidPem`],
    /// [`Error::InvalidCertificate`] or [`Error::InvalidPublicKey`] for content that is neither a
    /// key nor a certificate.
    pub fn from_public_key_query(format: &str, content: &str) -> Result<Self, Error> {
        const FIELD: &str = "publicKey.content";
        if format != "x509" {
            return Err(Error::UnsupportedPublicKeyFormat {
                format: format.to_owned(),
            });
        }
        let content = protojson::decode_go_base64(content).ok_or_else(|| Error::InvalidBase64 {
            field: FIELD.to_owned(),
        })?;
        let content = content.as_slice();
        let is_pem = std::str::from_utf8(content).is_ok_and(|text| text.contains("-----BEGIN "));
        let verifier = if is_pem {
            Verifier::from_pem(FIELD, content)?
        } else {
            // DER: a certificate's first element is itself a SEQUENCE (TBSCertificate), a
            // SubjectPublicKeyInfo's first element is the AlgorithmIdentifier SEQUENCE; try the
            // certificate first and fall back to the key.
            Verifier::from_certificate_der(FIELD, content)
                .or_else(|_| Verifier::from_spki_der(FIELD, content))?
        };
        Ok(Self::PublicKey(verifier.fingerprint()))
    }

    /// Reads a search `email`: lowercased, as entries are indexed.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEmail`] unless the value has one `@` with text on both sides and no
    /// whitespace.
    pub fn from_email(value: &str) -> Result<Self, Error> {
        match value.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !value.contains(char::is_whitespace) =>
            {
                Ok(Self::Email(value.to_lowercase()))
            }
            _ => Err(Error::InvalidEmail {
                value: value.to_owned(),
            }),
        }
    }
}

/// Rekor v1's `SearchIndex` query body (`POST /api/v1/index/retrieve`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SearchIndex {
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A public key or certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<SearchIndexPublicKey>,
    /// An artifact digest, `sha256:<hex>` or bare hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// `and` or `or`: how several criteria combine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

impl SearchIndex {
    /// Parses a query body.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] if it is not JSON of this shape (unknown fields are refused).
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        serde_json::from_slice(json).map_err(|e| Error::json(&e))
    }
}

/// The `publicKey` of a [`SearchIndex`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SearchIndexPublicKey {
    /// `x509` (Rekor also names `pgp`, `minisign`, `ssh` and `tuf`, which this log refuses).
    pub format: String,
    /// Base64 of the PEM (or DER) key or certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// A URL to fetch the key from; not supported (no I/O here), given for completeness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_tagged_and_distinct() {
        let terms = [
            SearchTerm::Sha256Artifact([1; 32]),
            SearchTerm::PublicKey([1; 32]),
            SearchTerm::Email("a@b".to_owned()),
            SearchTerm::Uri("a@b".to_owned()),
        ];
        let keys: Vec<Vec<u8>> = terms.iter().map(SearchTerm::to_key).collect();
        assert_eq!(keys[0][0], 0x01);
        assert_eq!(keys[1][0], 0x10);
        assert_eq!(keys[2], b"\x20a@b");
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn reads_search_hashes() {
        let hex64 = "AB".repeat(32);
        let cases: Vec<(&str, String, Result<SearchTerm, ()>)> = vec![
            (
                "bare sha256",
                hex64.clone(),
                Ok(SearchTerm::Sha256Artifact([0xab; 32])),
            ),
            (
                "prefixed sha256",
                format!("sha256:{hex64}"),
                Ok(SearchTerm::Sha256Artifact([0xab; 32])),
            ),
            (
                "upper-case prefix",
                format!("SHA256:{hex64}"),
                Ok(SearchTerm::Sha256Artifact([0xab; 32])),
            ),
            (
                "sha384",
                format!("sha384:{}", "cd".repeat(48)),
                Ok(SearchTerm::Sha384Artifact([0xcd; 48])),
            ),
            (
                "bare sha512",
                "ef".repeat(64),
                Ok(SearchTerm::Sha512Artifact([0xef; 64])),
            ),
            (
                "wrong length",
                format!("sha256:{}", "ab".repeat(31)),
                Err(()),
            ),
            ("sha1", format!("sha1:{}", "ab".repeat(20)), Err(())),
            ("not hex", "zz".repeat(32), Err(())),
        ];
        for (name, value, want) in cases {
            let got = SearchTerm::from_hash_query(&value);
            match want {
                Ok(term) => assert_eq!(got, Ok(term), "{name}"),
                Err(()) => assert_eq!(
                    got,
                    Err(Error::InvalidSearchHash {
                        value: value.clone()
                    }),
                    "{name}"
                ),
            }
        }
    }

    #[test]
    fn reads_search_emails() {
        assert_eq!(
            SearchTerm::from_email("Jane@Example.COM"),
            Ok(SearchTerm::Email("jane@example.com".to_owned()))
        );
        for bad in ["", "jane", "@example.com", "jane@", "a@b@c", "ja ne@x"] {
            assert_eq!(
                SearchTerm::from_email(bad),
                Err(Error::InvalidEmail {
                    value: bad.to_owned()
                }),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn refuses_other_key_formats_and_empty_queries() {
        assert_eq!(
            SearchTerm::from_public_key_query("minisign", "eA=="),
            Err(Error::UnsupportedPublicKeyFormat {
                format: "minisign".to_owned()
            })
        );
        assert_eq!(
            SearchTerm::from_query(&SearchIndex::default()),
            Err(Error::EmptySearch)
        );
        assert!(matches!(
            SearchIndex::from_json(br#"{"sha":"x"}"#),
            Err(Error::InvalidJson { .. })
        ));
    }
}
