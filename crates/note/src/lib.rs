//! Signed notes, transparency log checkpoints and witness cosignatures, as C2SP specifies them:
//!
//! - [c2sp.org/signed-note](https://c2sp.org/signed-note) ("Format", "Signatures", "Signature
//!   types"): [`Note`], [`sign`], key names ([`KeyName`]), key IDs, verifier keys
//!   ([`verifier_from_vkey`]), and the [`NoteSigner`] / [`NoteVerifier`] contracts, with
//!   Ed25519 (type 0x01, [`Ed25519Signer`], [`Ed25519Verifier`]) and ECDSA P-256 (type 0x02,
//!   [`EcdsaSigner`], [`EcdsaVerifier`]) signatures.
//! - [c2sp.org/tlog-checkpoint](https://c2sp.org/tlog-checkpoint) ("Note text", "Signatures"):
//!   [`Checkpoint`], and [`SignedCheckpoint`] → [`VerifiedCheckpoint`].
//! - [c2sp.org/tlog-cosignature](https://c2sp.org/tlog-cosignature) ("Format", "Ed25519 signed
//!   message"): timestamped Ed25519 `cosignature/v1` (type 0x04), [`CosignatureV1Signer`] and
//!   [`CosignatureV1Verifier`].
//! - [c2sp.org/static-ct-api](https://c2sp.org/static-ct-api) ("Checkpoints"): RFC 6962 tree
//!   head signatures, type 0x05, for CT log checkpoints ([`Rfc6962Signer`],
//!   [`Rfc6962Verifier`]).
//! - The Sigstore flavours: Rekor v1 checkpoints signed by the log key with a key ID taken from
//!   SHA-256 of its SubjectPublicKeyInfo ([`RekorV1Signer`], [`RekorV1Verifier`]), and the log
//!   IDs of Rekor v1 and v2 ([`rekor_v1_log_id`], [`rekor_v2_log_id`]).
//!
//! What it does **not** do: Merkle proofs against a checkpoint's root (`waxseal-merkle`), tiles
//! (`waxseal-tiles`), fetching checkpoints or talking to witnesses (`waxseal-client`), choosing
//! which keys to trust (the caller's trusted root), ML-DSA-44 cosignatures, verifier keys (vkeys) of
//! type 0x05, and the Go `PRIVATE+KEY+...` signer key format. It never reads the
//! clock: cosigners are given their timestamp.
//!
//! ```
//! use waxseal_crypto::{Algorithm, SigningKey};
//! use waxseal_merkle::empty_root;
//! use waxseal_note::{Checkpoint, Ed25519Signer, NoteVerifier, SignedCheckpoint, sign};
//!
//! // A log signs its checkpoint under its origin...
//! let signer = Ed25519Signer::new("example.com/log", SigningKey::generate(Algorithm::Ed25519)?)?;
//! let checkpoint = Checkpoint::new("example.com/log", 0, empty_root())?;
//! let signed = sign(&checkpoint.to_text(), &[&signer])?;
//!
//! // ...and a client that trusts the log's verifier key checks it.
//! let verifier = waxseal_note::Ed25519Verifier::from_vkey(&signer.verifier().to_vkey())?;
//! let origin = Some("example.com/log");
//! let verified = SignedCheckpoint::parse_and_verify(signed.as_bytes(), &[&verifier], origin)?;
//! assert_eq!(verified.size(), 0);
//! assert_eq!(verified.note().verified_signatures()[0].name(), verifier.name());
//! # Ok::<(), waxseal_note::Error>(())
//! ```

mod checkpoint;
mod cosignature;
mod ecdsa;
mod ed25519;
mod error;
mod key;
mod note;
mod rekor;
mod rfc6962;

pub use checkpoint::{Checkpoint, SignedCheckpoint, VerifiedCheckpoint};
pub use cosignature::{
    CosignatureV1Signer, CosignatureV1Verifier, TimestampedCosigner, cosignature_timestamp,
};
pub use ecdsa::{EcdsaSigner, EcdsaVerifier};
pub use ed25519::{Ed25519Signer, Ed25519Verifier};
pub use error::Error;
pub use key::{KeyName, NoteSigner, NoteVerifier, verifier_from_vkey};
pub use note::{Note, Signature, VerifiedNote, sign};
pub use rekor::{RekorV1Signer, RekorV1Verifier, rekor_v1_log_id, rekor_v2_log_id};
pub use rfc6962::{Rfc6962Signer, Rfc6962Verifier, TimestampedRfc6962Signer};

#[cfg(test)]
mod tests;
