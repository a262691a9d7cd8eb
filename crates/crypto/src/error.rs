//! The crate's error type.

use crate::Algorithm;

/// Everything that can go wrong reading keys, signing or verifying.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An encrypted private key did not open: the passphrase is wrong or the file was altered.
    #[error("couldn't decrypt the private key: wrong passphrase, or the file was altered")]
    DecryptionFailed,
    /// The backend failed to encrypt a private key.
    #[error("couldn't encrypt the private key")]
    EncryptionFailed,
    /// The backend could not generate a key pair.
    #[error("couldn't generate a {algorithm} key")]
    KeyGenerationFailed {
        /// The algorithm asked for.
        algorithm: Algorithm,
    },
    /// The backend rejected key material that parsed as DER (a point not on the curve, a bad
    /// private scalar, a PKCS#8 document that does not match its algorithm...).
    #[error("{algorithm} key rejected: {reason}")]
    KeyRejected {
        /// The algorithm the key claimed.
        algorithm: Algorithm,
        /// The backend's description of the problem.
        reason: String,
    },
    /// DER input broke the encoding rules or did not have the expected structure.
    #[error("malformed {structure} DER at byte {offset}: {reason}")]
    MalformedDer {
        /// The structure being read (`SubjectPublicKeyInfo`, `PrivateKeyInfo`...).
        structure: &'static str,
        /// Offset of the offending element in the input.
        offset: usize,
        /// The rule that was broken.
        reason: &'static str,
    },
    /// An encrypted private key's layout is not one this crate writes.
    #[error("malformed encrypted private key: {reason}")]
    MalformedEncryptedKey {
        /// What was wrong.
        reason: &'static str,
    },
    /// PEM text is not well-formed.
    #[error("malformed PEM at line {line}: {reason}")]
    MalformedPem {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// The body of a PEM block is not valid standard base64.
    #[error("PEM block {label:?} has invalid base64: {reason}")]
    PemBase64 {
        /// The block's label.
        label: String,
        /// The decoder's message.
        reason: String,
    },
    /// The text holds a different number of PEM blocks than required.
    #[error("expected {expected} PEM block(s), found {actual}")]
    PemBlockCount {
        /// Blocks required.
        expected: usize,
        /// Blocks found.
        actual: usize,
    },
    /// A PEM block has a different label than required.
    #[error("expected a PEM block labelled {expected:?}, found {actual:?}")]
    PemLabelMismatch {
        /// The label required.
        expected: String,
        /// The label found.
        actual: String,
    },
    /// Prehashed verification was asked of a key that signs messages, not digests (Ed25519).
    #[error("{algorithm} keys cannot verify a signature over a precomputed digest")]
    PrehashUnsupported {
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    RandomnessUnavailable,
    /// A signature did not verify under the key.
    #[error("{algorithm} signature did not verify")]
    SignatureInvalid {
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// The backend failed to produce a signature.
    #[error("couldn't sign with the {algorithm} key")]
    SigningFailed {
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// The key's AlgorithmIdentifier names an algorithm or curve this crate does not support.
    #[error("unsupported key algorithm {oid} (curve or parameters: {parameters})")]
    UnsupportedKeyAlgorithm {
        /// The algorithm OID, dotted.
        oid: String,
        /// The curve OID, dotted, or a description of the parameters.
        parameters: String,
    },
    /// A precomputed digest whose length names no supported hash (32, 48 or 64 bytes for
    /// SHA-256, SHA-384 or SHA-512).
    #[error("unsupported digest length of {len} bytes (expected 32, 48 or 64)")]
    UnsupportedDigestLength {
        /// The digest's length in bytes.
        len: usize,
    },
    /// A Sigstore `PublicKeyDetails` name that this crate does not support.
    #[error("unsupported PublicKeyDetails {name:?}")]
    UnsupportedKeyDetails {
        /// The name given.
        name: String,
    },
    /// An RSA modulus outside the supported 2048..=4096 bits.
    #[error("unsupported RSA modulus of {bits} bits (supported: {min}..={max})")]
    UnsupportedRsaKeySize {
        /// The modulus size.
        bits: usize,
        /// Smallest supported size.
        min: usize,
        /// Largest supported size.
        max: usize,
    },
    /// Signing keys of this algorithm are not supported (RSA keys are verify-only).
    #[error("signing with {algorithm} keys is not supported")]
    UnsupportedSigningAlgorithm {
        /// The algorithm asked for.
        algorithm: Algorithm,
    },
}
