//! The crate's one error type.

/// Why git signature material could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The armored signature is not one `SIGNED MESSAGE` PEM block.
    #[error("signature armor is malformed: {reason}")]
    Armor {
        /// What is wrong with it.
        reason: String,
    },
    /// A DER structure is malformed (truncated, wrong tag, non-minimal length...).
    #[error("malformed CMS signature: {what}: {reason}")]
    Der {
        /// Which structure (`SignerInfo`, `signed attributes`...).
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An attribute that must appear once appears several times.
    #[error("{what} has attribute {oid} more than once")]
    DuplicateAttribute {
        /// `signed attributes` or `unsigned attributes`.
        what: &'static str,
        /// The attribute's OID, dotted.
        oid: String,
    },
    /// A git identity line (`Name <email> 1700000000 +0000`) is malformed.
    #[error("the {header} header {line:?} is malformed: {reason}")]
    MalformedIdent {
        /// The header name.
        header: &'static str,
        /// The header's value.
        line: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The bytes are not a git commit or tag object.
    #[error("not a git commit or tag object: {reason}")]
    MalformedObject {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A required signed attribute is absent.
    #[error("signed attributes lack {name} ({oid})")]
    MissingAttribute {
        /// The attribute's name.
        name: &'static str,
        /// The attribute's OID, dotted.
        oid: &'static str,
    },
    /// A git object header that must be present is absent.
    #[error("the object has no {header} header")]
    MissingHeader {
        /// The header name (`author`, `committer`, `tagger`).
        header: &'static str,
    },
    /// The signature is in another format than gitsign's X.509 CMS.
    #[error(
        "the object is signed with {format}, not an X.509 (CMS) signature; use the {format} \
         tools to verify it"
    )]
    NotX509 {
        /// `OpenPGP` or `SSH`.
        format: &'static str,
    },
    /// The embedded transparency log entry is not a valid protobuf `TransparencyLogEntry`.
    #[error("embedded TransparencyLogEntry protobuf is malformed at byte {offset}: {reason}")]
    Protobuf {
        /// Where in the message.
        offset: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// No certificate in the signature matches the SignerInfo's issuer and serial number.
    #[error(
        "no certificate in the signature matches the signer's issuer and serial number {serial} \
         ({count} certificates present)"
    )]
    SignerCertificateMissing {
        /// The signer's serial number, hex.
        serial: String,
        /// Certificates in the signature.
        count: usize,
    },
    /// A signing time that cannot be written as UTCTime or GeneralizedTime.
    #[error("signing time {unix} cannot be encoded (before 1970 or after 9999)")]
    SigningTime {
        /// Seconds since the Unix epoch.
        unix: i64,
    },
    /// The signature is larger than accepted.
    #[error("signature is {size} bytes; at most {limit} are accepted")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The signature is not gitsign's layout: several signers, an attached payload, another
    /// SignerInfo identifier.
    #[error("unsupported CMS signature: {reason}")]
    Unsupported {
        /// What is not supported.
        reason: String,
    },
    /// An algorithm other than the one gitsign uses.
    #[error("{field} is {oid}; only {supported} is supported")]
    UnsupportedAlgorithm {
        /// Which field.
        field: &'static str,
        /// The OID found, dotted.
        oid: String,
        /// What is supported.
        supported: &'static str,
    },
    /// The program's command line is not one git passes.
    #[error("unsupported gpg command line: {reason}")]
    Usage {
        /// What is wrong with it.
        reason: String,
    },
}
