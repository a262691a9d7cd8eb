//! What a verified bundle proves.

use std::collections::BTreeMap;

use crate::error::{Time, TimeSource};

/// A verified time and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTime {
    pub(crate) source: TimeSource,
    pub(crate) time: Time,
}

impl VerifiedTime {
    /// Where it came from.
    pub fn source(&self) -> TimeSource {
        self.source
    }

    /// The time.
    pub fn time(&self) -> Time {
        self.time
    }
}

/// What a verified bundle proves: the facts a caller (an attestation verifier, a policy
/// engine) may rely on, all from checked material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    pub(crate) identity: Option<String>,
    pub(crate) issuer: Option<String>,
    pub(crate) sans: Vec<String>,
    pub(crate) certificate_extensions: BTreeMap<String, String>,
    pub(crate) certificate_der: Option<Vec<u8>>,
    pub(crate) certificate_authority_uri: Option<String>,
    pub(crate) certificate_validity: Option<(Time, Time)>,
    pub(crate) signer_spki_der: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    pub(crate) dsse: Option<(String, Vec<u8>)>,
    pub(crate) times: Vec<VerifiedTime>,
    pub(crate) rfc3161_timestamps: usize,
    pub(crate) unverified_timestamps: usize,
    pub(crate) log_entry: bool,
    pub(crate) inclusion_proof: bool,
    pub(crate) log_index: i64,
    pub(crate) log_id: Vec<u8>,
    pub(crate) tlog_kind: (String, String),
    pub(crate) integrated_time: Option<i64>,
    pub(crate) artifact_sha256: [u8; 32],
}

impl VerifiedBundle {
    /// The certificate SAN the policy matched (`None` for key policies).
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The certificate's OIDC issuer (`None` for key policies).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Every SubjectAltName value of the leaf (email, URI, `1.3.6.1.4.1.57264.1.7` username),
    /// in certificate order; empty for key policies.
    pub fn sans(&self) -> &[String] {
        &self.sans
    }

    /// The leaf's Fulcio extensions `1.3.6.1.4.1.57264.1.*` (sigstore/fulcio `oid-info.md`):
    /// dotted OID → value. `.1`–`.6` are their raw bytes as text, the others decoded DER
    /// UTF8Strings (`.8` issuer, `.9` Build Signer URI, `.12` Source Repository URI, …);
    /// extensions of unknown numbers that are not UTF8Strings are left out. Empty for key
    /// policies.
    pub fn certificate_extensions(&self) -> &BTreeMap<String, String> {
        &self.certificate_extensions
    }

    /// The leaf certificate, DER (`None` for key policies).
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate_der.as_deref()
    }

    /// The trusted root's `certificateAuthorities[].uri` of the CA that issued the leaf (`None`
    /// for key policies, or when that CA has no URI).
    pub fn certificate_authority_uri(&self) -> Option<&str> {
        self.certificate_authority_uri.as_deref()
    }

    /// The leaf's notBefore and notAfter.
    pub fn certificate_validity(&self) -> Option<(Time, Time)> {
        self.certificate_validity
    }

    /// The public key the signature verified under, DER SubjectPublicKeyInfo: the leaf's key,
    /// or the policy's.
    pub fn signer_spki_der(&self) -> &[u8] {
        &self.signer_spki_der
    }

    /// The verified signature bytes: the message signature, or the DSSE envelope's signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The verified DSSE payload (the in-toto statement's bytes, whose subjects include the
    /// artifact); `None` for message-signature bundles.
    pub fn dsse_payload(&self) -> Option<&[u8]> {
        self.dsse.as_ref().map(|(_, payload)| payload.as_slice())
    }

    /// The verified DSSE payload type (`application/vnd.in-toto+json`); `None` for
    /// message-signature bundles.
    pub fn dsse_payload_type(&self) -> Option<&str> {
        self.dsse
            .as_ref()
            .map(|(payload_type, _)| payload_type.as_str())
    }

    /// The verified times, TSA times first.
    pub fn times(&self) -> &[VerifiedTime] {
        &self.times
    }

    /// The earliest verified time: when the signature existed at the latest.
    pub fn signed_time(&self) -> Option<Time> {
        self.times.iter().map(|t| t.time).min()
    }

    /// RFC 3161 timestamps that verified under a trusted TSA (each is one of [`Self::times`]).
    pub fn rfc3161_timestamps(&self) -> usize {
        self.rfc3161_timestamps
    }

    /// RFC 3161 timestamps that verified under no trusted TSA and were skipped (as
    /// sigstore-python skips them); 0 when all verified.
    pub fn unverified_timestamps(&self) -> usize {
        self.unverified_timestamps
    }

    /// Whether the bundle had a transparency log entry, which was verified. Always `true`
    /// except under [`TlogRequirement::InsecureSkip`](crate::TlogRequirement::InsecureSkip),
    /// which accepts a bundle without one; then [`Self::log_index`] is 0, [`Self::log_id`]
    /// and both parts of [`Self::tlog_kind`] are empty.
    pub fn has_log_entry(&self) -> bool {
        self.log_entry
    }

    /// Whether the entry's inclusion proof and checkpoint were verified (`false` when only its
    /// inclusion promise was, as
    /// [`TlogRequirement::PromiseOrProof`](crate::TlogRequirement::PromiseOrProof) allows, or
    /// when there is no entry).
    pub fn inclusion_proof_verified(&self) -> bool {
        self.inclusion_proof
    }

    /// The log entry's index.
    pub fn log_index(&self) -> i64 {
        self.log_index
    }

    /// The log's ID.
    pub fn log_id(&self) -> &[u8] {
        &self.log_id
    }

    /// The verified log entry's kind and version (`("dsse", "0.0.1")`, `("intoto", "0.0.2")`).
    pub fn tlog_kind(&self) -> (&str, &str) {
        (&self.tlog_kind.0, &self.tlog_kind.1)
    }

    /// The Rekor v1 integrated time, when a verified SET binds it.
    pub fn integrated_time(&self) -> Option<i64> {
        self.integrated_time
    }

    /// The SHA-256 of the verified artifact.
    pub fn artifact_sha256(&self) -> [u8; 32] {
        self.artifact_sha256
    }
}
