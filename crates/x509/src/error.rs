//! The crate's error type. Messages name the problem; a CA turns them into HTTP 400 bodies.

use waxseal_crypto::Algorithm;

/// Everything that can go wrong building, issuing or reading Fulcio-profile certificates.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The CA key algorithm is not allowed: CA keys must be ECDSA P-256 or P-384 (Ed25519 CA
    /// certificates are rejected by sigstore-python's chain validation).
    #[error("CA keys must be ECDSA P-256 or P-384, not {algorithm}")]
    CaAlgorithmUnsupported {
        /// The algorithm of the key offered.
        algorithm: Algorithm,
    },
    /// A CA chain does not have the expected shape.
    #[error("CA chain must be [intermediate, root]; found {certificates} certificate(s)")]
    CaChainLength {
        /// Certificates found.
        certificates: usize,
    },
    /// The CA signing key does not belong to the intermediate certificate.
    #[error("the CA key does not match the intermediate certificate's public key")]
    CaKeyMismatch,
    /// A certificate's signature does not verify under its issuer's key.
    #[error("certificate signature does not verify under the {issuer} key")]
    CertificateSignatureInvalid {
        /// Which issuer was tried (`root`, `intermediate`, `issuer`).
        issuer: &'static str,
    },
    /// A CT submission's chain has no certificate.
    #[error("the certificate chain is empty")]
    ChainEmpty,
    /// `chain[index]`'s issuer name is not `chain[index + 1]`'s subject.
    #[error("chain[{index}] was not issued by chain[{}]: issuer and subject names differ", index + 1)]
    ChainIssuerMismatch {
        /// The position of the certificate whose issuer is wrong.
        index: usize,
    },
    /// The chain neither ends at nor is issued by a root the CT log accepts.
    #[error("the chain does not lead to a root this log accepts (see get-roots)")]
    ChainNotToAcceptedRoot,
    /// `chain[index]`'s signature does not verify under the next certificate's key.
    #[error("chain[{index}]'s signature does not verify under its issuer's key: {reason}")]
    ChainSignatureInvalid {
        /// The position of the certificate whose signature fails.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The CSR is signed with an algorithm that does not belong to its key.
    #[error("CSR signature algorithm {signature_algorithm} does not match its {key_algorithm} key")]
    CsrSignatureAlgorithmMismatch {
        /// The signature AlgorithmIdentifier OID, dotted.
        signature_algorithm: String,
        /// The key's algorithm.
        key_algorithm: Algorithm,
    },
    /// The CSR's self-signature (its proof of possession) does not verify.
    #[error("CSR signature does not verify")]
    CsrSignatureInvalid,
    /// An extension appears twice in one request or certificate.
    #[error("extension {oid} appears more than once")]
    DuplicateExtension {
        /// The extension OID, dotted.
        oid: String,
    },
    /// Encoding a structure failed; this is a bug or an out-of-range value.
    #[error("couldn't encode {structure}: {reason}")]
    Encoding {
        /// The structure being encoded.
        structure: &'static str,
        /// The encoder's message.
        reason: String,
    },
    /// An extension OID is not one this profile lets a caller add.
    #[error(
        "extension {oid} is not allowed: only Sigstore OIDs 1.3.6.1.4.1.57264.1.{{2-6,9-24}} can be added"
    )]
    ExtensionNotAllowed {
        /// The OID, dotted (or the text given, if it is not an OID).
        oid: String,
    },
    /// A leaf index does not fit the static-ct-api `uint40`.
    #[error("leaf index {index} does not fit in 40 bits")]
    LeafIndexOutOfRange {
        /// The index given.
        index: u64,
    },
    /// A certificate could not be parsed.
    #[error("malformed certificate: {reason}")]
    MalformedCertificate {
        /// The parser's message.
        reason: String,
    },
    /// A CSR could not be parsed.
    #[error("malformed CSR: {reason}")]
    MalformedCsr {
        /// The parser's message.
        reason: String,
    },
    /// An extension's value is not the encoding its OID requires.
    #[error("malformed {name} extension ({oid}): {reason}")]
    MalformedExtension {
        /// The extension's name.
        name: &'static str,
        /// The OID, dotted.
        oid: String,
        /// What was wrong.
        reason: String,
    },
    /// PEM text could not be read.
    #[error("malformed PEM: {0}")]
    MalformedPem(#[source] waxseal_crypto::Error),
    /// A public key could not be parsed.
    #[error("malformed public key: {0}")]
    MalformedPublicKey(#[source] waxseal_crypto::Error),
    /// A signed certificate timestamp (or list) is not a valid RFC 6962 §3.3 encoding.
    #[error("malformed SCT: {reason}")]
    MalformedSct {
        /// What was wrong.
        reason: &'static str,
    },
    /// A certificate lacks an extension the Fulcio profile requires.
    #[error("certificate has no {name} extension ({oid})")]
    MissingExtension {
        /// The extension's name.
        name: &'static str,
        /// The OID, dotted.
        oid: String,
    },
    /// A CA distinguished name is not a non-empty RFC 4514 string.
    #[error("invalid CA name {name:?}: {reason}")]
    NameInvalid {
        /// The name given.
        name: String,
        /// The parser's message, or the rule broken.
        reason: String,
    },
    /// The OIDC issuer for the leaf's issuer extensions is empty.
    #[error("OIDC issuer is empty")]
    OidcIssuerEmpty,
    /// A certificate offered as a precertificate does not carry a valid RFC 6962 §3.1 poison.
    #[error("not a precertificate: {reason}")]
    PoisonInvalid {
        /// What was wrong with the poison extension.
        reason: &'static str,
    },
    /// A final certificate submitted with `add-chain` carries the precertificate poison: it
    /// must go to `add-pre-chain`.
    #[error(
        "certificate carries the precertificate poison extension; submit it with add-pre-chain"
    )]
    PoisonUnexpected,
    /// The proof of possession does not verify over the identity's subject.
    #[error("proof of possession does not verify for subject {subject:?}")]
    ProofOfPossessionInvalid {
        /// The subject (email or `sub`) the signature should cover.
        subject: String,
    },
    /// An RSA key is larger than the profile allows.
    #[error("RSA-{bits} keys are too large: at most {max} bits")]
    RsaKeyTooLarge {
        /// The key's modulus size.
        bits: usize,
        /// The largest size accepted.
        max: usize,
    },
    /// An RSA key is smaller than the profile allows.
    #[error("RSA-{bits} keys are too weak: at least {min} bits")]
    RsaKeyTooWeak {
        /// The key's modulus size.
        bits: usize,
        /// The smallest size accepted.
        min: usize,
    },
    /// A subject alternative name is empty or not of the kind it claims to be.
    #[error("invalid subject alternative name {value:?}: {reason}")]
    SanInvalid {
        /// The value given.
        value: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// The SCT uses a hash or signature algorithm this profile does not accept.
    #[error(
        "SCT uses hash algorithm {hash} / signature algorithm {signature}; expected {expected}"
    )]
    SctAlgorithmUnsupported {
        /// The TLS `HashAlgorithm` code.
        hash: u8,
        /// The TLS `SignatureAlgorithm` code.
        signature: u8,
        /// What the key requires.
        expected: &'static str,
    },
    /// The number of SCTs to embed is not the one the profile allows.
    #[error("exactly {expected} SCT must be embedded, got {actual}")]
    SctCount {
        /// SCTs required.
        expected: usize,
        /// SCTs given.
        actual: usize,
    },
    /// The CT log key cannot sign SCTs (only ECDSA P-256 and P-384 keys can).
    #[error("CT log keys must be ECDSA P-256 or P-384, not {algorithm}")]
    SctKeyUnsupported {
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// The SCT's log ID is not the SHA-256 of the given CT log key.
    #[error("SCT log ID {actual} is not the CT log key's ID {expected}")]
    SctLogIdMismatch {
        /// The key's log ID, hex.
        expected: String,
        /// The SCT's log ID, hex.
        actual: String,
    },
    /// The SCT's signature does not verify over the precertificate signing input.
    #[error("SCT signature does not verify")]
    SctSignatureInvalid,
    /// The SCT version is not v1.
    #[error("SCT version {version} is not supported (only v1 = 0)")]
    SctVersionUnsupported {
        /// The version byte.
        version: u8,
    },
    /// Signing (or key generation, or the system RNG) failed in the crypto backend.
    #[error("couldn't sign: {0}")]
    Signing(#[source] waxseal_crypto::Error),
    /// The subject for the proof of possession is empty.
    #[error("proof-of-possession subject is empty")]
    SubjectEmpty,
    /// A time cannot be encoded in a certificate (before 1970 or after 9999).
    #[error("time {unix_seconds}s since the Unix epoch cannot be encoded in a certificate")]
    TimeOutOfRange {
        /// The time, as seconds since the Unix epoch (negative before it).
        unix_seconds: i128,
    },
    /// The key algorithm is not accepted for a certificate.
    #[error("unsupported key algorithm {oid} (parameters: {parameters})")]
    UnsupportedKeyAlgorithm {
        /// The algorithm OID, dotted.
        oid: String,
        /// The curve OID, dotted, or a description of the parameters.
        parameters: String,
    },
    /// A signature AlgorithmIdentifier that this profile does not accept.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm {
        /// The OID, dotted.
        oid: String,
    },
    /// The validity window is empty or inverted.
    #[error("validity window is empty: not_after {not_after} is not after not_before {not_before}")]
    ValidityInverted {
        /// notBefore, seconds since the Unix epoch.
        not_before: u64,
        /// notAfter, seconds since the Unix epoch.
        not_after: u64,
    },
}

impl Error {
    /// Wraps a DER encoding failure.
    pub(crate) fn encoding(structure: &'static str, e: der::Error) -> Self {
        Self::Encoding {
            structure,
            reason: e.to_string(),
        }
    }

    /// Maps a `waxseal-crypto` SPKI parse error to the profile's key errors.
    pub(crate) fn from_key(e: waxseal_crypto::Error) -> Self {
        use waxseal_crypto::Error as C;
        match e {
            C::UnsupportedRsaKeySize { bits, min, .. } if bits < min => {
                Self::RsaKeyTooWeak { bits, min }
            }
            C::UnsupportedRsaKeySize { bits, max, .. } => Self::RsaKeyTooLarge { bits, max },
            C::UnsupportedKeyAlgorithm { oid, parameters } => {
                Self::UnsupportedKeyAlgorithm { oid, parameters }
            }
            other => Self::MalformedPublicKey(other),
        }
    }
}
