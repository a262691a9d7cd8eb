//! The crate's error type.

/// Everything that can be wrong with a submitted entry, envelope or search query.
///
/// Messages are written for the submitter: an HTTP front end shows them in 400 responses as
/// they are. `field` values are JSON paths into the request as submitted
/// (`spec.signature.publicKey.content`, `dsseRequestV002.verifiers[1].keyDetails`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Canonicalising a body failed; does not happen for the bodies this crate builds.
    #[error("couldn't canonicalize the entry body: {reason}")]
    Canonicalize {
        /// The canonicalizer's message.
        reason: String,
    },
    /// A certificate chain was given where one certificate or key is supported.
    #[error("{field} holds {count} certificates; give only the signing certificate")]
    CertificateChainUnsupported {
        /// Where the chain was.
        field: String,
        /// Certificates found.
        count: usize,
    },
    /// Two fields were given that exclude each other.
    #[error("{field} cannot be combined with {other}")]
    ConflictingFields {
        /// The field that was expected alone.
        field: String,
        /// The field that conflicts with it.
        other: String,
    },
    /// A digest's length does not match its hash algorithm.
    #[error("{field} is {actual} bytes, but a {algorithm} digest is {expected} bytes")]
    DigestLength {
        /// Where the digest was.
        field: String,
        /// The hash algorithm's name.
        algorithm: &'static str,
        /// The algorithm's digest length.
        expected: usize,
        /// The length given.
        actual: usize,
    },
    /// An envelope signature verifies with none of the verifiers.
    #[error("{field} does not verify with any of the given verifiers (checked over the DSSE PAE)")]
    DsseSignatureUnverified {
        /// The signature's path.
        field: String,
    },
    /// A verifier verifies none of the envelope's signatures (Rekor requires each to verify
    /// one).
    #[error("{field} verifies none of the envelope's signatures")]
    DsseVerifierUnused {
        /// The verifier's path.
        field: String,
    },
    /// An Ed25519 key was given for a signature over a digest. `hashedrekord` verifies
    /// signatures over the artifact digest, which for Ed25519 means Ed25519ph, which this log
    /// does not support.
    #[error(
        "{field} is an Ed25519 key, but hashedrekord needs a signature over a digest \
         (Ed25519ph), which is not supported: sign with ECDSA or RSA, or log a DSSE envelope"
    )]
    Ed25519PrehashUnsupported {
        /// The key's path.
        field: String,
    },
    /// A field was empty where a value is required.
    #[error("{field} must not be empty")]
    EmptyField {
        /// The field's path.
        field: String,
    },
    /// No search criterion was given.
    #[error("a search needs at least one of hash, publicKey or email")]
    EmptySearch,
    /// Text that should be base64 is not (standard alphabet; URL-safe too where the format
    /// allows it).
    #[error("{field} is not valid base64")]
    InvalidBase64 {
        /// The field's path.
        field: String,
    },
    /// A certificate did not parse as DER X.509.
    #[error("{field} is not a valid X.509 certificate: {reason}")]
    InvalidCertificate {
        /// Where the certificate was.
        field: String,
        /// The parser's message.
        reason: String,
    },
    /// An e-mail address in a search query is malformed.
    #[error("email {value:?} is not an e-mail address")]
    InvalidEmail {
        /// The value given.
        value: String,
    },
    /// The `spec.proposedContent.envelope` string is not a DSSE envelope.
    #[error("{field} is not a DSSE envelope: {reason}")]
    InvalidEnvelope {
        /// Where the envelope was.
        field: String,
        /// What was wrong.
        reason: String,
    },
    /// Text that should be hexadecimal is not.
    #[error("{field} is not valid hex")]
    InvalidHex {
        /// The field's path.
        field: String,
    },
    /// The request body is not JSON, or not of the expected shape.
    #[error("request is not valid JSON: {reason}")]
    InvalidJson {
        /// The parser's message.
        reason: String,
    },
    /// Text that should be one PEM public key or certificate is not.
    #[error("{field} is not a PEM public key or certificate: {reason}")]
    InvalidPem {
        /// The field's path.
        field: String,
        /// What was wrong.
        reason: String,
    },
    /// A public key (or a certificate's key) is malformed or of an unsupported type.
    #[error("{field} holds an unsupported or malformed public key: {source}")]
    InvalidPublicKey {
        /// Where the key was.
        field: String,
        /// The key parser's error.
        source: waxseal_crypto::Error,
    },
    /// A search hash is neither `<algorithm>:<hex>` nor bare hex of a supported length.
    #[error(
        "hash {value:?} is not a digest: expected sha256:<64 hex>, sha384:<96 hex>, \
         sha512:<128 hex> or the bare hex"
    )]
    InvalidSearchHash {
        /// The value given.
        value: String,
    },
    /// `keyDetails` names another algorithm than the key's.
    #[error("{field} is {given:?}, but the key is {actual}")]
    KeyDetailsMismatch {
        /// The field's path.
        field: String,
        /// The name given.
        given: String,
        /// The key's `PublicKeyDetails` name.
        actual: &'static str,
    },
    /// A required field is absent (or null).
    #[error("{field} is required")]
    MissingField {
        /// The field's path.
        field: String,
    },
    /// A `oneof` group has no member set, or more than one.
    #[error("{field} must set exactly one of {options}, found {count}")]
    OneofCount {
        /// The message holding the group.
        field: String,
        /// The members, for the message.
        options: &'static str,
        /// How many were set.
        count: usize,
    },
    /// A signature does not verify with its key.
    #[error("{field} does not verify with the {holder}'s {key} key")]
    SignatureInvalid {
        /// The signature's path.
        field: String,
        /// `certificate` or `public key`.
        holder: &'static str,
        /// The key type (`ECDSA P-256`, `RSA-2048`...).
        key: &'static str,
    },
    /// A list is longer than allowed.
    #[error("{field} has {actual} items; at most {max} are allowed")]
    TooMany {
        /// The list's path.
        field: String,
        /// The limit.
        max: usize,
        /// The length given.
        actual: usize,
    },
    /// A field that this format does not define (protobuf JSON requests are parsed strictly).
    #[error("unknown field {field}")]
    UnknownField {
        /// The field's path.
        field: String,
    },
    /// An `apiVersion` this log does not accept for the kind.
    #[error("unsupported apiVersion {version:?} for kind {kind:?} (supported: {supported})")]
    UnsupportedApiVersion {
        /// The entry kind.
        kind: String,
        /// The version given.
        version: String,
        /// The versions accepted.
        supported: &'static str,
    },
    /// A hash algorithm name this log does not accept.
    #[error("{field} is {algorithm:?}; supported: {supported}")]
    UnsupportedHashAlgorithm {
        /// The field's path.
        field: String,
        /// The name given.
        algorithm: String,
        /// The names accepted.
        supported: &'static str,
    },
    /// A `PublicKeyDetails` name this log does not accept.
    #[error("{field} is {name:?}, which is not a supported PublicKeyDetails name")]
    UnsupportedKeyDetails {
        /// The field's path.
        field: String,
        /// The name given.
        name: String,
    },
    /// An entry kind this log does not accept.
    #[error("unsupported kind {kind:?} (supported: {supported})")]
    UnsupportedKind {
        /// The kind given.
        kind: String,
        /// The kinds accepted.
        supported: &'static str,
    },
    /// A search public-key format other than `x509`.
    #[error("unsupported publicKey format {format:?} (supported: x509)")]
    UnsupportedPublicKeyFormat {
        /// The format given.
        format: String,
    },
    /// A JSON document that is neither a bundle nor a DSSE envelope.
    #[error(
        "JSON document is neither a Sigstore bundle (mediaType, verificationMaterial) nor a DSSE \
         envelope (payloadType, payload, signatures); its members are {members:?}"
    )]
    UnknownDocument {
        /// The document's top-level member names.
        members: Vec<String>,
    },
    /// A JSON value of the wrong type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// The field's path.
        field: String,
        /// What it must be (`a string`, `an object`...).
        expected: &'static str,
    },
}

impl Error {
    /// Wraps a `serde_json` parse error.
    pub(crate) fn json(error: &serde_json::Error) -> Self {
        Self::InvalidJson {
            reason: error.to_string(),
        }
    }
}
