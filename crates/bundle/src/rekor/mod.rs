//! Rekor entry kinds: validating what clients submit to a Rekor v1 or v2 log, the canonical
//! bodies the log stores, the signed entry timestamp's payload, search terms, and the entry
//! shapes of responses.

mod entry;
mod request;
mod search;
mod v1;
mod v2;
mod verifier;

use std::fmt;

use serde::Deserialize;
use waxseal_merkle::{Hash, leaf_hash};

pub use entry::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogEntry, LogEntryInclusionProof,
    LogEntryVerification, LogId, TransparencyLogEntry,
};
pub use search::{SearchIndex, SearchIndexPublicKey, SearchTerm};

use crate::Error;

/// A Rekor entry kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `dsse`: a DSSE envelope's payload hash and signatures.
    Dsse,
    /// `hashedrekord`: a signature over an artifact digest.
    Hashedrekord,
}

impl Kind {
    /// The kind's name on the wire.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::Dsse => "dsse",
            Self::Hashedrekord => "hashedrekord",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A submitted entry whose signatures verified, with the body to log and the terms to index it
/// under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedEntry {
    kind: Kind,
    api_version: &'static str,
    canonical_body: Vec<u8>,
    search_terms: Vec<SearchTerm>,
}

impl ValidatedEntry {
    fn new(
        kind: Kind,
        api_version: &'static str,
        canonical_body: Vec<u8>,
        search_terms: Vec<SearchTerm>,
    ) -> Self {
        Self {
            kind,
            api_version,
            canonical_body,
            search_terms,
        }
    }

    /// The entry's kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The entry's API version: `0.0.1` (Rekor v1) or `0.0.2` (Rekor v2).
    pub fn api_version(&self) -> &'static str {
        self.api_version
    }

    /// Kind and version as a response carries them.
    pub fn kind_version(&self) -> KindVersion {
        KindVersion::new(self.kind.as_str(), self.api_version)
    }

    /// The canonical body: the RFC 8785 JSON the log stores and hashes as its Merkle leaf.
    pub fn canonical_body(&self) -> &[u8] {
        &self.canonical_body
    }

    /// Takes the canonical body.
    pub fn into_canonical_body(self) -> Vec<u8> {
        self.canonical_body
    }

    /// The RFC 6962 leaf hash of the body; hex, it is the entry's Rekor v1 UUID.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.canonical_body)
    }

    /// The terms to index the entry under, without duplicates.
    pub fn search_terms(&self) -> &[SearchTerm] {
        &self.search_terms
    }
}

/// Validates the body of a Rekor v1 `POST /api/v1/log/entries` (a `ProposedEntry`
/// `{apiVersion, kind, spec}`) and builds the canonical body Rekor would store.
///
/// Accepted:
///
/// - `hashedrekord` 0.0.1: `spec.signature.content` (base64 signature over the digest),
///   `spec.signature.publicKey.content` (base64 of one PEM `PUBLIC KEY` or `CERTIFICATE`),
///   `spec.data.hash{algorithm: sha256|sha384|sha512, value: hex}`. The signature must verify
///   over the digest (ECDSA P-256/384/521 with any of the three hashes, RSA PKCS#1 v1.5 2048 to
///   4096 bits). Rekor also accepts Ed25519ph; this log refuses Ed25519 here.
/// - `dsse` 0.0.1: `spec.proposedContent{envelope: <DSSE JSON as a string>, verifiers: [base64
///   PEM]}`. Every envelope signature must verify over the PAE with one verifier and every
///   verifier must verify one signature (ECDSA over SHA-256 whatever the curve, RSA PKCS#1 v1.5
///   SHA-256, pure Ed25519, as Rekor loads them). The body keeps `envelopeHash` (SHA-256 of the
///   envelope string exactly as submitted), `payloadHash`, and `signatures[{signature,
///   verifier}]` sorted by signature text.
///
/// The key or certificate in the body is Rekor's canonical form: re-encoded as one PEM block
/// in Go's layout (`pkg/pki/x509` `CanonicalValue`), which equals what sigstore-python and
/// sigstore-js submit and what sigstore-python rebuilds when it compares bodies. The signature
/// is re-encoded as standard base64; the digest algorithm and hex are kept as submitted.
///
/// # Errors
///
/// [`Error::InvalidJson`] for bad JSON, [`Error::UnsupportedKind`] and
/// [`Error::UnsupportedApiVersion`], [`Error::MissingField`] / [`Error::WrongType`] naming the
/// field, [`Error::InvalidBase64`], [`Error::InvalidHex`], [`Error::DigestLength`],
/// [`Error::UnsupportedHashAlgorithm`], [`Error::InvalidPem`], [`Error::InvalidCertificate`],
/// [`Error::InvalidPublicKey`], [`Error::CertificateChainUnsupported`],
/// [`Error::Ed25519PrehashUnsupported`], [`Error::SignatureInvalid`]; for `dsse` also
/// [`Error::ConflictingFields`], [`Error::InvalidEnvelope`], [`Error::EmptyField`],
/// [`Error::DsseVerifierUnused`] and [`Error::DsseSignatureUnverified`].
pub fn validate_v1(request_json: &[u8]) -> Result<ValidatedEntry, Error> {
    v1::validate(request_json)
}

/// Validates the body of a Rekor v2 `POST /api/v2/log/entries` (protobuf JSON
/// `CreateEntryRequest`) and builds the canonical body rekor-tiles would store.
///
/// Accepted:
///
/// - `hashedRekordRequestV002{digest, signature{content, verifier}}`: the signature must verify
///   over the digest, whose length must match the hash of `verifier.keyDetails` (SHA-256 for
///   P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521); Ed25519 (Ed25519ph in rekor-tiles)
///   is refused. The body is `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":
///   {"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":…},"signature":{…}}}}` with
///   the signature as submitted (bytes re-encoded as standard base64), canonicalised: exactly
///   what sigstore-python rebuilds and compares.
/// - `dsseRequestV002{envelope, verifiers}` (at most 10 of each): each signature must verify
///   over the PAE under the hash of its verifier's `keyDetails` (Ed25519: pure). The body is
///   `dsse` 0.0.2: `payloadHash` (SHA-256) and `signatures[{content, verifier}]` sorted by
///   signature bytes.
///
/// A verifier is `{publicKey{rawBytes} | x509Certificate{rawBytes}, keyDetails}` (DER), and
/// `keyDetails` must be the key's exact `PublicKeyDetails` name.
///
/// # Errors
///
/// As [`validate_v1`], plus [`Error::UnknownField`], [`Error::OneofCount`],
/// [`Error::UnsupportedKeyDetails`], [`Error::KeyDetailsMismatch`] and [`Error::TooMany`].
pub fn validate_v2(request_json: &[u8]) -> Result<ValidatedEntry, Error> {
    v2::validate(request_json)
}

/// The payload a Rekor v1 signed entry timestamp signs (rekor `pkg/api/entries.go`
/// `signEntry`): the RFC 8785 JSON
/// `{"body":"<base64 body>","integratedTime":N,"logID":"<hex>","logIndex":N}`.
///
/// Numbers are written as RFC 8785 §3.2.2.3 requires (ECMAScript number serialisation), so
/// values beyond 2^53 come out as their nearest double, as in Rekor.
pub fn set_payload(
    body: &[u8],
    integrated_time: i64,
    log_id: &[u8; 32],
    log_index: u64,
) -> Vec<u8> {
    // Keys are already in RFC 8785 order, and base64 and hex need no escaping.
    format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        crate::protojson::encode_base64(body),
        jcs_number(integrated_time as f64),
        hex::encode(log_id),
        jcs_number(log_index as f64),
    )
    .into_bytes()
}

/// ECMAScript `Number.prototype.toString` of an integral double below 10^21, which is Rust's
/// shortest round-trip `Display` for such values.
fn jcs_number(value: f64) -> String {
    format!("{value}")
}

/// The SHA-2 subject digests of an in-toto statement payload (Rekor's `dsse` `IndexKeys`).
fn intoto_subject_terms(payload_type: &str, payload: &[u8]) -> Vec<SearchTerm> {
    #[derive(Deserialize)]
    struct Statement {
        #[serde(default)]
        subject: Vec<Subject>,
    }
    #[derive(Deserialize)]
    struct Subject {
        #[serde(default)]
        digest: std::collections::BTreeMap<String, String>,
    }
    if payload_type != "application/vnd.in-toto+json" {
        return Vec::new();
    }
    let Ok(statement) = serde_json::from_slice::<Statement>(payload) else {
        return Vec::new();
    };
    let mut terms = Vec::new();
    for subject in statement.subject {
        for (algorithm, digest) in subject.digest {
            let Ok(digest) = hex::decode(&digest) else {
                continue;
            };
            let term = match (algorithm.as_str(), digest.len()) {
                ("sha256", 32) | ("sha384", 48) | ("sha512", 64) => v1::artifact_term(&digest),
                _ => None,
            };
            if let Some(term) = term {
                verifier::push_unique(&mut terms, term);
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_payload_is_canonical_json() {
        let payload = set_payload(b"{}", 1_700_000_000, &[0xab; 32], 7);
        assert_eq!(
            String::from_utf8(payload).unwrap(),
            format!(
                r#"{{"body":"e30=","integratedTime":1700000000,"logID":"{}","logIndex":7}}"#,
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn set_numbers_follow_rfc8785_beyond_2_pow_53() {
        // RFC 8785 Appendix B / ECMAScript: 2^53 + 1 prints as 9007199254740992.
        assert_eq!(
            jcs_number(9_007_199_254_740_993_u64 as f64),
            "9007199254740992"
        );
        assert_eq!(jcs_number(u64::MAX as f64), "18446744073709552000");
        assert_eq!(jcs_number(0.0), "0");
        assert_eq!(jcs_number(-5.0), "-5");
    }

    #[test]
    fn reads_intoto_subjects() {
        let payload = format!(
            r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{{"sha256":"{}","sha512":"{}","gitCommit":"abc"}}}},{{"name":"b","digest":{{"sha256":"zz"}}}}]}}"#,
            "01".repeat(32),
            "02".repeat(64)
        );
        assert_eq!(
            intoto_subject_terms("application/vnd.in-toto+json", payload.as_bytes()),
            vec![
                SearchTerm::Sha256Artifact([1; 32]),
                SearchTerm::Sha512Artifact([2; 64]),
            ]
        );
        assert!(intoto_subject_terms("text/plain", payload.as_bytes()).is_empty());
        assert!(intoto_subject_terms("application/vnd.in-toto+json", b"[").is_empty());
    }
}
