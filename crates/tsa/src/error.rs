//! The crate's error type.

use crate::HashAlgorithm;

/// Everything that can go wrong parsing a request, issuing a timestamp, loading key material or
/// verifying a timestamp. Verification fails closed: every failed check is an `Err`.
///
/// For an HTTP front end: the request errors ([`Error::is_bad_request`]) are the client's fault
/// and map to `400 Bad Request` with a JSON body naming the problem, as
/// sigstore/timestamp-authority does; everything else raised by [`Tsa::timestamp`](crate::Tsa)
/// is a server fault (`500`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The certificate chain has fewer certificates than required (a TSA leaf and a root).
    #[error("certificate chain has {len} certificate(s), need at least {min}")]
    ChainTooShort {
        /// Certificates given.
        len: usize,
        /// Certificates required.
        min: usize,
    },
    /// A certificate's signature does not verify under its issuer's key.
    #[error("certificate {index} in the chain is not signed by certificate {issuer_index}")]
    CertificateSignatureInvalid {
        /// Position of the certificate in the chain (0 = TSA leaf).
        index: usize,
        /// Position of the issuer.
        issuer_index: usize,
    },
    /// A certificate is not valid at the timestamp's time.
    #[error(
        "certificate {index} is valid from {not_before} to {not_after} (unix seconds), not at {time}"
    )]
    CertificateNotValidAt {
        /// Position in the chain (0 = TSA leaf).
        index: usize,
        /// The time checked, unix seconds.
        time: u64,
        /// notBefore, unix seconds.
        not_before: u64,
        /// notAfter, unix seconds.
        not_after: u64,
    },
    /// The signed attributes' content type is not `id-ct-TSTInfo`, or the encapsulated content
    /// type differs from it.
    #[error("content type {actual} where {expected} is required")]
    ContentTypeMismatch {
        /// The OID required, dotted.
        expected: String,
        /// The OID found, dotted.
        actual: String,
    },
    /// A key or signature operation failed in `waxseal-crypto` (also wraps PEM and key errors).
    #[error(transparent)]
    Crypto(#[from] waxseal_crypto::Error),
    /// The digest's length does not match its hash algorithm (RFC 3161 §2.4.1).
    #[error("{algorithm} digest must be {expected} bytes, got {actual}")]
    DigestLengthMismatch {
        /// The hash named in the imprint.
        algorithm: HashAlgorithm,
        /// Its output length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// The ESS signing-certificate attribute does not name the TSA certificate (RFC 5816 §2.2.1).
    #[error("the ESS signingCertificateV2 hash does not match the TSA certificate")]
    EssCertHashMismatch,
    /// A certificate's extended key usage is wrong for its place in the chain (RFC 3161 §2.3: the
    /// TSA certificate MUST have exactly one, critical, EKU of `id-kp-timeStamping`).
    #[error("certificate {index}: {reason}")]
    ExtendedKeyUsageInvalid {
        /// Position in the chain.
        index: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// The timestamp's message imprint is not the hash of the data given to the verifier.
    #[error("message imprint {actual} does not match the expected {expected} (hex)")]
    ImprintMismatch {
        /// Hex of the digest computed from the data.
        expected: String,
        /// Hex of the digest in the timestamp.
        actual: String,
    },
    /// A certificate's issuer name is not its successor's subject name.
    #[error("certificate {index}'s issuer is not the subject of certificate {index} + 1")]
    IssuerMismatch {
        /// Position in the chain.
        index: usize,
    },
    /// A certificate that issues another is not a CA (basicConstraints / keyUsage).
    #[error("certificate {index} is not a CA certificate: {reason}")]
    IssuerNotCa {
        /// Position in the chain.
        index: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// Encoding a structure failed. This is a bug in this crate, never the requester's fault.
    #[error("couldn't encode {structure}: {reason}")]
    Encode {
        /// The structure being written.
        structure: &'static str,
        /// The encoder's message.
        reason: String,
    },
    /// The JSON request is not the timestamp-authority JSON shape.
    #[error("malformed JSON timestamp request: {reason}")]
    JsonInvalid {
        /// The decoder's message.
        reason: String,
    },
    /// The signing key does not belong to the TSA certificate.
    #[error("the TSA signing key does not match the TSA certificate's public key")]
    KeyMismatch,
    /// The TSA or issuing certificate's keyUsage forbids its use.
    #[error("certificate {index}: keyUsage lacks {required}")]
    KeyUsageInvalid {
        /// Position in the chain.
        index: usize,
        /// The usage required.
        required: &'static str,
    },
    /// DER input broke the encoding rules or did not have the expected structure.
    #[error("malformed {structure}: {reason}")]
    MalformedDer {
        /// The structure being read (`TimeStampReq`, `TSTInfo`, `Certificate`...).
        structure: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// The messageDigest attribute is not the hash of the TSTInfo (RFC 5652 §5.4).
    #[error("the messageDigest attribute does not match the TSTInfo")]
    MessageDigestMismatch,
    /// A required signed attribute is absent, or present with other than one value.
    #[error("signed attribute {name} is missing or has more than one value")]
    MissingSignedAttribute {
        /// The attribute's name.
        name: &'static str,
    },
    /// The TSTInfo nonce is not the one the caller asked for.
    #[error("the timestamp's nonce does not match the request's")]
    NonceMismatch,
    /// The response status is not `granted` (0) or carries no token (RFC 3161 §2.4.2).
    #[error("timestamp response status {status} (0 = granted), token present: {has_token}")]
    NotGranted {
        /// PKIStatus.
        status: u32,
        /// Whether a token came with it.
        has_token: bool,
    },
    /// The timestamp's policy is not the one required.
    #[error("timestamp policy {actual} where {expected} is required")]
    PolicyMismatch {
        /// Required policy, dotted.
        expected: String,
        /// Policy found, dotted.
        actual: String,
    },
    /// The last certificate of the chain is not a self-signed root.
    #[error("the last certificate of the chain is not self-signed")]
    RootNotSelfSigned,
    /// A serial number given to the TSA is empty, zero or longer than 20 bytes (RFC 3161 §2.4.2).
    #[error("invalid TSTInfo serial number of {len} bytes (1..=20, not zero)")]
    SerialInvalid {
        /// Length in bytes.
        len: usize,
    },
    /// The SignerInfo signature does not verify with the TSA certificate's key.
    #[error("the timestamp signature does not verify with the TSA certificate")]
    SignatureInvalid,
    /// The token has other than exactly one SignerInfo.
    #[error("the timestamp token has {count} SignerInfos, exactly 1 is required")]
    SignerCount {
        /// SignerInfos found.
        count: usize,
    },
    /// The SignerInfo's sid does not name the TSA certificate by issuer and serial number.
    #[error("the SignerInfo does not identify the TSA certificate by issuer and serial number")]
    SignerMismatch,
    /// A time outside what GeneralizedTime / UTCTime can encode, or before 1970.
    #[error("time {unix_seconds} (unix seconds) cannot be encoded")]
    TimeOutOfRange {
        /// The time, unix seconds (0 if before the epoch).
        unix_seconds: u64,
    },
    /// The request asks for a policy this TSA does not issue under (RFC 3161 §2.4.2
    /// `unacceptedPolicy`).
    #[error("requested policy {requested} is not accepted; this TSA issues under {accepted}")]
    UnacceptedPolicy {
        /// Requested policy, dotted.
        requested: String,
        /// The TSA's policy, dotted.
        accepted: String,
    },
    /// An algorithm OID this crate does not support in that position.
    #[error("unsupported {role} algorithm {oid}")]
    UnsupportedAlgorithm {
        /// What the algorithm is used for.
        role: &'static str,
        /// Dotted OID.
        oid: String,
    },
    /// A certificate marks as critical an extension this crate does not process (RFC 5280 §4.2).
    #[error("certificate {index} has unsupported critical extension {oid}")]
    UnsupportedCriticalExtension {
        /// Position in the chain.
        index: usize,
        /// Dotted OID.
        oid: String,
    },
    /// The request carries extensions, which this TSA does not support (RFC 3161 §2.4.2
    /// `unacceptedExtension`).
    #[error("the request carries {count} extension(s); none are supported")]
    UnsupportedExtensions {
        /// Extensions present.
        count: usize,
    },
    /// A hash algorithm name or OID that is unknown or not accepted.
    #[error("unsupported hash algorithm {name}; use sha256, sha384 or sha512")]
    UnsupportedHashAlgorithm {
        /// The name or dotted OID given.
        name: String,
    },
    /// A version field other than the one the spec defines.
    #[error("{structure} version {version} is not supported (expected {expected})")]
    UnsupportedVersion {
        /// The structure.
        structure: &'static str,
        /// The version found.
        version: u64,
        /// The version required.
        expected: u64,
    },
    /// SHA-1, which RFC 3161 permits but sigstore/timestamp-authority rejects as weak.
    #[error("weak hash algorithm {name}: must be SHA-256, SHA-384 or SHA-512")]
    WeakHashAlgorithm {
        /// The name or dotted OID given.
        name: String,
    },
}

impl Error {
    /// Whether this error is the requester's fault (a malformed or unacceptable request), which
    /// an HTTP front end answers with `400 Bad Request`.
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            Self::DigestLengthMismatch { .. }
                | Self::JsonInvalid { .. }
                | Self::MalformedDer { .. }
                | Self::UnacceptedPolicy { .. }
                | Self::UnsupportedExtensions { .. }
                | Self::UnsupportedHashAlgorithm { .. }
                | Self::UnsupportedVersion { .. }
                | Self::WeakHashAlgorithm { .. }
        )
    }

    pub(crate) fn encode(structure: &'static str) -> impl Fn(der::Error) -> Self {
        move |e| Self::Encode {
            structure,
            reason: e.to_string(),
        }
    }

    pub(crate) fn der(structure: &'static str) -> impl Fn(der::Error) -> Self {
        move |e| Self::MalformedDer {
            structure,
            reason: e.to_string(),
        }
    }
}
