//! The crate's error type.

use waxseal_crypto::Algorithm;

/// Everything that can go wrong parsing, signing or verifying notes and checkpoints.
///
/// Key hints (C2SP key IDs) print as 8 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Two verifiers share a key name and key ID, so a signature cannot be attributed.
    #[error("two verifiers match key {name}+{}", hex::encode(key_hint))]
    AmbiguousVerifier {
        /// The shared key name.
        name: String,
        /// The shared key ID.
        key_hint: [u8; 4],
    },
    /// A cosignature/v1 signature is not an 8-byte timestamp and a 64-byte Ed25519 signature.
    #[error("cosignature/v1 signature by {name} is {len} bytes; it must be 72")]
    BadCosignatureLength {
        /// The key name.
        name: String,
        /// Bytes found, key ID excluded.
        len: usize,
    },
    /// A checkpoint's root hash decoded to the wrong number of bytes.
    #[error("checkpoint root hash must be 32 bytes, got {len}")]
    BadRootHash {
        /// Bytes decoded.
        len: usize,
    },
    /// A signature line is not `— <name> <base64>`.
    #[error("malformed signature line {line:?}: {reason}")]
    BadSignatureLine {
        /// The line, without its newline.
        line: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A checkpoint's tree size is not a canonical decimal `u64`.
    #[error("checkpoint tree size {value:?} is not a decimal u64 without leading zeros")]
    BadTreeSize {
        /// The size line.
        value: String,
    },
    /// The note or checkpoint contains an ASCII control character other than newline.
    #[error("control character {byte:#04x} at byte {offset}")]
    ControlCharacter {
        /// Offset in the input.
        offset: usize,
        /// The character.
        byte: u8,
    },
    /// A cosignature timestamp above 2^63 - 1 (c2sp.org/tlog-cosignature).
    #[error("cosignature timestamp {timestamp} exceeds 2^63 - 1")]
    CosignatureTimestampOutOfRange {
        /// The timestamp found or asked for.
        timestamp: u64,
    },
    /// A key operation in `waxseal-crypto` failed.
    #[error(transparent)]
    Crypto(#[from] waxseal_crypto::Error),
    /// The same known key signed the note more than once, or two signers share a key.
    #[error("more than one signature by key {name}+{}", hex::encode(key_hint))]
    DuplicateSignature {
        /// The key name.
        name: String,
        /// The key ID.
        key_hint: [u8; 4],
    },
    /// A checkpoint extension line is empty.
    #[error("checkpoint line {line} is an empty extension line")]
    EmptyExtensionLine {
        /// 1-based line number in the checkpoint text.
        line: usize,
    },
    /// A checkpoint's origin line is empty.
    #[error("checkpoint origin is empty")]
    EmptyOrigin,
    /// A key name breaks c2sp.org/signed-note's rules.
    #[error("invalid key name {name:?}: {reason}")]
    InvalidKeyName {
        /// The name.
        name: String,
        /// The rule broken.
        reason: &'static str,
    },
    /// The input is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Length of the valid prefix.
        offset: usize,
    },
    /// A verifier key string is not `<name>+<8 hex digits>+<base64>`.
    #[error("malformed verifier key {vkey:?}: {reason}")]
    InvalidVerifierKey {
        /// The verifier key.
        vkey: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A verifier key's key ID does not match its name and key.
    #[error(
        "verifier key for {name} claims key ID {} but the key's ID is {}",
        hex::encode(claimed),
        hex::encode(computed)
    )]
    KeyIdMismatch {
        /// The key name.
        name: String,
        /// The key ID written in the verifier key.
        claimed: [u8; 4],
        /// The key ID computed from the name and key.
        computed: [u8; 4],
    },
    /// A signed note has no blank line separating text from signatures.
    #[error("signed note has no blank line before its signatures")]
    MissingBlankLine,
    /// A signed note has no signature lines, or no signers were given.
    #[error("signed note has no signatures")]
    NoSignatures,
    /// No signature from a known key verified (c2sp.org/signed-note: the note MUST be rejected).
    #[error("none of the note's {signatures} signature(s) is by a known key")]
    NoVerifiedSignature {
        /// Signatures on the note.
        signatures: usize,
    },
    /// The note is larger than this implementation accepts.
    #[error("note is {size} bytes; the limit is {max}")]
    NoteTooLarge {
        /// The note's size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A checkpoint's root hash is not standard padded base64.
    #[error("checkpoint root hash {value:?} is not base64")]
    RootHashNotBase64 {
        /// The root hash line.
        value: String,
    },
    /// A signature from a known key failed to verify (the whole note is rejected).
    #[error("signature by {name}+{} did not verify", hex::encode(key_hint))]
    SignatureInvalid {
        /// The key name.
        name: String,
        /// The key ID.
        key_hint: [u8; 4],
    },
    /// A signature decodes to fewer than the 4-byte key ID plus one byte.
    #[error("signature by {name} is {len} bytes; at least 5 are needed")]
    SignatureTooShort {
        /// The key name.
        name: String,
        /// Decoded length, key ID included.
        len: usize,
    },
    /// Note text (or a checkpoint) does not end in a newline.
    #[error("text does not end in a newline")]
    TextNotNewlineTerminated,
    /// A checkpoint has fewer than its three mandatory lines.
    #[error("checkpoint has {count} line(s); at least {min} are needed")]
    TooFewLines {
        /// Lines found.
        count: usize,
        /// Lines required.
        min: usize,
    },
    /// The note carries more signatures than this implementation accepts.
    #[error("note has {count} signatures; the limit is {max}")]
    TooManySignatures {
        /// Signatures found or asked for.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A verifier key has a signature type this crate does not implement.
    #[error("unsupported signature type {byte:#04x}")]
    UnknownSignatureType {
        /// The type byte.
        byte: u8,
    },
    /// The key's algorithm cannot be used with this note signature type.
    #[error("{algorithm} keys cannot make {signature_type} note signatures")]
    UnsupportedKeyAlgorithm {
        /// The key's algorithm.
        algorithm: Algorithm,
        /// The note signature type.
        signature_type: &'static str,
    },
    /// An RFC 6962 (type 0x05) note signature does not have the `RFC6962NoteSignature`
    /// shape.
    #[error("RFC 6962 note signature by {name} is malformed: {reason}")]
    MalformedRfc6962Signature {
        /// The key name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// RFC 6962 (type 0x05) signatures cover only size and root, so static-ct-api forbids
    /// extension lines in the checkpoints they sign.
    #[error(
        "a checkpoint signed with an RFC 6962 key must have no extension lines, it has {count}"
    )]
    Rfc6962CheckpointExtensions {
        /// The number of extension lines.
        count: usize,
    },
    /// The checkpoint's origin is not the one expected.
    #[error("checkpoint origin is {actual:?}, expected {expected:?}")]
    WrongOrigin {
        /// The origin required.
        expected: String,
        /// The origin found.
        actual: String,
    },
}
