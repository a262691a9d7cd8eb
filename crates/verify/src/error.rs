//! Staged verification errors: which step failed, and with which values.

use std::fmt;
use std::time::SystemTime;

/// Why a bundle did not verify. Each variant is a stage of verification (STYLE.md error
/// rule 3) wrapping what exactly failed; [`Error::stage`] names the stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bundle is malformed or lacks what its version requires.
    #[error("{0}")]
    Bundle(#[from] BundleError),
    /// The signing certificate does not chain to a trusted CA, or breaks the Fulcio profile.
    #[error("{0}")]
    Certificate(#[from] CertificateError),
    /// A git signature failed a check of its CMS layout or its log evidence.
    #[error("{0}")]
    Git(#[from] crate::git::GitError),
    /// The signature verified, but it is not a signature of this image in cosign's formats
    /// (another digest, another predicate type, or a malformed layer or referrer).
    #[error("{0}")]
    Image(#[from] ImageError),
    /// The artifact or the caller's input is unusable.
    #[error("{0}")]
    Input(#[from] InputError),
    /// The certificate's identity or issuer is not the one the policy asks for.
    #[error("{0}")]
    Policy(#[from] PolicyError),
    /// The signature does not cover the artifact under the signer's key.
    #[error("{0}")]
    Signature(#[from] SignatureError),
    /// The RFC 3161 timestamps or the verified times are unusable.
    #[error("{0}")]
    Timestamp(#[from] TimeError),
    /// The transparency log entry does not verify or does not match the bundle.
    #[error("{0}")]
    Tlog(#[from] TlogError),
    /// The trusted root itself is unusable.
    #[error("{0}")]
    TrustedRoot(#[from] TrustedRootError),
}

impl Error {
    /// The stage that failed: `bundle`, `certificate`, `git`, `image`, `input`, `policy`,
    /// `signature`, `timestamp`, `tlog` or `trusted root`.
    pub fn stage(&self) -> &'static str {
        match self {
            Self::Bundle(_) => "bundle",
            Self::Certificate(_) => "certificate",
            Self::Git(_) => "git",
            Self::Image(_) => "image",
            Self::Input(_) => "input",
            Self::Policy(_) => "policy",
            Self::Signature(_) => "signature",
            Self::Timestamp(_) => "timestamp",
            Self::Tlog(_) => "tlog",
            Self::TrustedRoot(_) => "trusted root",
        }
    }
}

/// A malformed bundle, or one missing what verification needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// A DSSE envelope with other than one signature.
    #[error("DSSE envelope has {count} signatures; exactly 1 is supported")]
    DsseSignatureCount {
        /// Signatures found.
        count: usize,
    },
    /// Not JSON of the bundle's shape.
    #[error("bundle is not a valid Sigstore bundle: {reason}")]
    Invalid {
        /// The parser's message.
        reason: String,
    },
    /// A log entry lacks its inclusion proof, or the proof its checkpoint.
    #[error(
        "log entry {index} has no {missing}, which the transparency log requirement needs for \
         every bundle version"
    )]
    MissingInclusionProof {
        /// Position in `tlogEntries`.
        index: usize,
        /// `inclusion proof` or `checkpoint`.
        missing: &'static str,
    },
    /// A v0.1 bundle without a signed entry timestamp.
    #[error("bundle v0.1 log entry has no inclusion promise (SET), which v0.1 requires")]
    MissingInclusionPromise,
    /// The bundle names a key but the policy gives none, or carries a certificate where a key
    /// was expected.
    #[error("bundle carries {found}, but the policy expects {expected}")]
    MaterialMismatch {
        /// What the bundle carries.
        found: &'static str,
        /// What the policy needs.
        expected: &'static str,
    },
    /// A certificate chain with no certificate.
    #[error("bundle carries no signing certificate (its certificate chain is empty)")]
    NoCertificate,
    /// Not exactly one transparency log entry.
    #[error("bundle has {count} transparency log entries; exactly 1 is required")]
    TlogEntryCount {
        /// Entries found.
        count: usize,
    },
    /// More RFC 3161 timestamps than allowed.
    #[error("bundle has {count} RFC 3161 timestamps; at most {max} are accepted")]
    TooManyTimestamps {
        /// Timestamps found.
        count: usize,
        /// The limit (sigstore-python's `MAX_ALLOWED_TIMESTAMP`).
        max: usize,
    },
    /// The same RFC 3161 timestamp twice.
    #[error("bundle has the same RFC 3161 timestamp twice (entries {first} and {second})")]
    DuplicateTimestamp {
        /// First position.
        first: usize,
        /// Second position.
        second: usize,
    },
    /// A log entry kind/version verification does not support.
    #[error("log entry kind {kind:?} version {version:?} is not supported")]
    UnsupportedEntryKind {
        /// The kind.
        kind: String,
        /// The version.
        version: String,
    },
}

/// The signing certificate failed a check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// The leaf is a CA certificate.
    #[error("signing certificate is a CA certificate (BasicConstraints CA:true)")]
    CaLeaf,
    /// The leaf lacks ExtendedKeyUsage codeSigning.
    #[error("signing certificate lacks ExtendedKeyUsage codeSigning (has {actual:?})")]
    CodeSigningMissing {
        /// The EKU OIDs present.
        actual: Vec<String>,
    },
    /// The leaf lacks KeyUsage digitalSignature.
    #[error("signing certificate lacks KeyUsage digitalSignature")]
    DigitalSignatureMissing,
    /// The leaf is expired or not yet valid at a verified time.
    #[error(
        "signing certificate is valid {not_before} to {not_after}, not at the {time_source} time {time}"
    )]
    Expired {
        /// Where the time came from.
        time_source: TimeSource,
        /// The time.
        time: Time,
        /// notBefore.
        not_before: Time,
        /// notAfter.
        not_after: Time,
    },
    /// The leaf did not parse.
    #[error("signing certificate is malformed: {reason}")]
    Malformed {
        /// The parser's message.
        reason: String,
    },
    /// No trusted CA issued the leaf (at that time).
    #[error(
        "signing certificate (issuer {issuer}) does not chain to any certificate authority of \
         the trusted root valid at the {time_source} time {time}{detail}"
    )]
    Untrusted {
        /// The leaf's issuer name.
        issuer: String,
        /// Where the time came from.
        time_source: TimeSource,
        /// The time.
        time: Time,
        /// What the closest candidate said, `: …`, or empty.
        detail: String,
    },
    /// The leaf carries no SCT.
    #[error("signing certificate has no embedded SCT")]
    SctMissing,
    /// An SCT is from a CT log the root does not list.
    #[error("SCT log ID {log_id} is not a CT log of the trusted root")]
    SctLogUnknown {
        /// The SCT's log ID, hex.
        log_id: String,
    },
    /// An SCT did not verify.
    #[error("SCT from CT log {log_id} does not verify: {reason}")]
    SctInvalid {
        /// The SCT's log ID, hex.
        log_id: String,
        /// Why.
        reason: String,
    },
    /// A critical extension the verifier does not understand.
    #[error("signing certificate has an unknown critical extension {oid}")]
    UnknownCriticalExtension {
        /// Its OID.
        oid: String,
    },
}

/// A container-image signature (cosign's referrer bundle, or a legacy `.sig`/`.att` layer) that
/// is not a signature of the image being verified, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// A referrer bundle of a version cosign does not read as a referrer (before v0.3).
    #[error("referrer bundle has media type {media_type:?}; cosign reads bundle v0.3 or later")]
    BundleVersion {
        /// The bundle's media type.
        media_type: String,
    },
    /// The simple signing payload names another image.
    #[error(
        "the signature is for another image: its payload claims docker-manifest-digest \
         {claimed}, but the image is {image}"
    )]
    DigestMismatch {
        /// `critical.image.docker-manifest-digest`.
        claimed: waxseal_oci::Digest,
        /// The digest of the image being verified.
        image: waxseal_oci::Digest,
    },
    /// A layer annotation that does not parse.
    #[error("layer annotation {key} is malformed: {reason}")]
    MalformedAnnotation {
        /// The annotation key.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The signed payload (simple signing JSON, DSSE envelope or in-toto statement) does not
    /// parse.
    #[error("the signed payload is malformed: {reason}")]
    MalformedPayload {
        /// The parser's message.
        reason: String,
    },
    /// A referrer bundle that signs a message instead of a DSSE envelope.
    #[error(
        "referrer bundle holds a message signature; cosign image signatures are DSSE envelopes \
         of an in-toto statement about the image"
    )]
    NotDsse,
    /// A layer or bundle larger than accepted.
    #[error("{what} is {size} bytes; at most {limit} are accepted")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit ([`waxseal_oci::MAX_PAYLOAD_SIZE`]).
        limit: usize,
    },
    /// The annotation's predicate type is not the statement's.
    #[error(
        "predicate type annotation {annotation:?} does not match the statement's predicateType \
         {statement:?}"
    )]
    PredicateTypeMismatch {
        /// The annotation's value.
        annotation: String,
        /// The statement's `predicateType`.
        statement: String,
    },
    /// No subject of the in-toto statement is the image.
    #[error(
        "the signature is for another image: its statement's subjects have sha256 {subjects:?}, \
         but the image is {image}"
    )]
    SubjectMismatch {
        /// The digest of the image being verified.
        image: waxseal_oci::Digest,
        /// The subjects' sha256 values, hex.
        subjects: Vec<String>,
    },
    /// A legacy layer of a media type that is neither a signature nor an attestation.
    #[error(
        "legacy layer media type {media_type:?} is neither a simple signing payload nor a DSSE \
         envelope"
    )]
    UnsupportedMediaType {
        /// The layer's media type.
        media_type: String,
    },
}

/// The caller's input is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// A `sha256:` digest that is not 64 hex digits.
    #[error("{value:?} is not a digest: expected sha256:<64 hex digits>")]
    InvalidDigest {
        /// The text given.
        value: String,
    },
    /// An identity regular expression that does not compile.
    #[error("{field} regular expression {pattern:?} is invalid: {reason}")]
    InvalidRegex {
        /// Which matcher.
        field: &'static str,
        /// The pattern.
        pattern: String,
        /// The compiler's message.
        reason: String,
    },
    /// Pure Ed25519 signs the message, so a digest alone cannot be checked.
    #[error("the artifact was given as a digest, but the {what} needs the artifact's bytes")]
    NeedsArtifactBytes {
        /// What needs them.
        what: &'static str,
    },
}

/// The certificate's identity is not the expected one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The certificate names no OIDC issuer.
    #[error("signing certificate has no OIDC issuer extension (1.3.6.1.4.1.57264.1.8 or .1)")]
    IssuerMissing,
    /// The OIDC issuer does not match.
    #[error("OIDC issuer {actual:?} does not match {expected}")]
    IssuerMismatch {
        /// The policy's matcher.
        expected: String,
        /// The certificate's issuer.
        actual: String,
    },
    /// No subject alternative name matches.
    #[error("certificate identity {actual:?} does not match {expected}")]
    IdentityMismatch {
        /// The policy's matcher.
        expected: String,
        /// The certificate's SAN values.
        actual: Vec<String>,
    },
}

/// The artifact signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The bundle's `messageDigest` is not the artifact's.
    #[error("bundle messageDigest {declared} ({algorithm}) is not the artifact's sha256 {actual}")]
    DigestMismatch {
        /// The algorithm named.
        algorithm: String,
        /// The declared digest, hex.
        declared: String,
        /// The artifact's digest, hex.
        actual: String,
    },
    /// The signature does not verify.
    #[error("{what} does not verify under the signer's {key} key (artifact sha256 {digest})")]
    Invalid {
        /// `message signature` or `DSSE signature`.
        what: &'static str,
        /// The key's `PublicKeyDetails` name.
        key: &'static str,
        /// The artifact's digest, hex.
        digest: String,
    },
    /// The DSSE payload is not an in-toto statement.
    #[error("DSSE payloadType is {actual:?}; expected application/vnd.in-toto+json")]
    PayloadType {
        /// The type given.
        actual: String,
    },
    /// The in-toto statement does not parse.
    #[error("DSSE payload is not an in-toto statement: {reason}")]
    Statement {
        /// The parser's message.
        reason: String,
    },
    /// No subject of the statement has the artifact's digest.
    #[error("no in-toto subject has sha256 {digest} (subjects: {subjects:?})")]
    SubjectMismatch {
        /// The artifact's digest, hex.
        digest: String,
        /// The subjects' sha256 values.
        subjects: Vec<String>,
    },
}

/// Timestamps and verified times.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TimeError {
    /// Not enough verified times (no SET-bound integrated time, no verifiable TSA token).
    #[error(
        "{verified} verified time sources, {required} required: the log entry has no \
         inclusion promise and {tokens} RFC 3161 timestamps, of which none verified{detail}"
    )]
    NotEnoughVerifiedTimes {
        /// Verified times found.
        verified: usize,
        /// Times required.
        required: usize,
        /// Tokens in the bundle.
        tokens: usize,
        /// Why the last token failed, `: …`, or empty.
        detail: String,
    },
    /// The bundle has RFC 3161 timestamps but the root lists no TSA.
    #[error("bundle has RFC 3161 timestamps, but the trusted root has no timestamp authority")]
    NoTimestampAuthority,
    /// An integrated time on a kind that cannot carry one.
    #[error(
        "integrated time is only supported for Rekor v1 entries (0.0.1 kinds, intoto 0.0.2), not {kind} {version}"
    )]
    IntegratedTimeUnsupported {
        /// The kind.
        kind: String,
        /// The version.
        version: String,
    },
}

/// A transparency log entry failed a check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlogError {
    /// The entry body does not describe this bundle.
    #[error(
        "log entry body is inconsistent with the bundle: {field} is {actual}, expected {expected}"
    )]
    BodyMismatch {
        /// The body field (JSON path).
        field: &'static str,
        /// What the bundle implies.
        expected: String,
        /// What the body says.
        actual: String,
    },
    /// The checkpoint does not parse.
    #[error("checkpoint is malformed: {reason}")]
    CheckpointMalformed {
        /// The parser's message.
        reason: String,
    },
    /// The checkpoint has no signature by the log's key.
    #[error("checkpoint has no signature with key hint {key_hint} (the log's key)")]
    CheckpointUnsigned {
        /// The expected hint, hex.
        key_hint: String,
    },
    /// A log-key signature on the checkpoint does not verify.
    #[error("checkpoint signature by {name} does not verify under the log key")]
    CheckpointSignatureInvalid {
        /// The signature line's key name.
        name: String,
    },
    /// The checkpoint's tree differs from the proof's.
    #[error(
        "checkpoint is for size {checkpoint_size} root {checkpoint_root}, proof for size {proof_size} root {proof_root}"
    )]
    CheckpointMismatch {
        /// The checkpoint's size.
        checkpoint_size: u64,
        /// The checkpoint's root, hex.
        checkpoint_root: String,
        /// The proof's size.
        proof_size: i64,
        /// The proof's root, hex.
        proof_root: String,
    },
    /// The inclusion proof leads to another root.
    #[error(
        "inclusion proof of index {index} in size {size}: computed root {computed} != proof root {expected}"
    )]
    InclusionRootMismatch {
        /// The leaf index.
        index: i64,
        /// The tree size.
        size: i64,
        /// The recomputed root, hex.
        computed: String,
        /// The proof's root, hex.
        expected: String,
    },
    /// The inclusion proof is malformed.
    #[error("inclusion proof of index {index} in size {size} is invalid: {reason}")]
    InclusionProofInvalid {
        /// The leaf index.
        index: i64,
        /// The tree size.
        size: i64,
        /// Why.
        reason: String,
    },
    /// The entry's log is not in the trusted root.
    #[error("log ID {log_id} is not a transparency log of the trusted root")]
    LogUnknown {
        /// The entry's log ID, hex.
        log_id: String,
    },
    /// The log key was not valid at the entry's time.
    #[error("log {log_id}'s key is not valid at the integrated time {time}")]
    LogKeyExpired {
        /// The log ID, hex.
        log_id: String,
        /// The time.
        time: Time,
    },
    /// The SET does not verify.
    #[error(
        "signed entry timestamp (SET) of log index {log_index} does not verify under the log key"
    )]
    SetInvalid {
        /// The entry's log index.
        log_index: i64,
    },
}

/// The trusted root cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedRootError {
    /// Not a trusted root.
    #[error("trusted root is invalid: {reason}")]
    Invalid {
        /// The parser's message.
        reason: String,
    },
    /// A key in the root does not parse.
    #[error("trusted root {field} has an unusable key: {reason}")]
    Key {
        /// Where (`tlogs[2]`).
        field: String,
        /// Why.
        reason: String,
    },
    /// A certificate in the root does not parse.
    #[error("trusted root {field} has an unusable certificate: {reason}")]
    Certificate {
        /// Where (`certificateAuthorities[0].certChain.certificates[1]`).
        field: String,
        /// Why.
        reason: String,
    },
}

/// Where a verified time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeSource {
    /// An RFC 3161 timestamp from a trusted TSA.
    TimestampAuthority,
    /// A Rekor v1 integrated time bound by a verified SET.
    TransparencyLog,
}

impl fmt::Display for TimeSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TimestampAuthority => "timestamp authority",
            Self::TransparencyLog => "transparency log integrated",
        })
    }
}

/// A point in time, displayed as seconds since the Unix epoch and RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(pub(crate) SystemTime);

impl Time {
    /// The time.
    pub fn system_time(&self) -> SystemTime {
        self.0
    }

    /// Seconds since the Unix epoch (negative before it).
    pub fn unix_seconds(&self) -> i64 {
        match self.0.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ts = waxseal_bundle::Timestamp::from_system_time(self.0);
        f.write_str(ts.as_str())
    }
}
