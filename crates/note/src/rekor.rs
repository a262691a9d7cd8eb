//! The Rekor v1 checkpoint flavour of signed notes, and Sigstore log IDs.
//!
//! Rekor v1 (sigstore/rekor `pkg/util/signed_note.go`) signs its checkpoints with the log key
//! under the log's host name. The key ID is the first four bytes of SHA-256 of the key's DER
//! SubjectPublicKeyInfo, which is also the first four bytes of the log ID that Sigstore trusted
//! roots and entries carry (waxseal INTEROP.md §1 and §4). For ECDSA P-256 keys the signature is
//! an ASN.1 DER ECDSA signature over SHA-256 of the note text, exactly as type 0x02.
//!
//! Keys: ECDSA P-256 (what every Rekor v1 deployment uses) and Ed25519 (pure Ed25519 over the
//! text, as `signed_note.go` verifies). Rekor also signs P-384 keys with SHA-256 and RSA keys
//! with PSS; those are refused here rather than verified with the wrong hash or padding.

use waxseal_crypto::{Algorithm, PublicKey, SigningKey, sha256};

use crate::ecdsa::spki_key_hint;
use crate::key::{NamedKey, TYPE_ED25519, check_algorithm, named_key_methods};
use crate::{Error, KeyName, NoteSigner, NoteVerifier};

const SIGNATURE_TYPE: &str = "Rekor v1 checkpoint";
const ALGORITHMS: &[Algorithm] = &[Algorithm::EcdsaP256Sha256, Algorithm::Ed25519];

/// The Rekor v1 log ID: SHA-256 of the log key's DER SubjectPublicKeyInfo.
pub fn rekor_v1_log_id(spki_der: &[u8]) -> [u8; 32] {
    sha256(spki_der)
}

/// The Rekor v2 (rekor-tiles) log ID: the full C2SP Ed25519 key ID hash,
/// `SHA-256(origin || 0x0A || 0x01 || 32-byte Ed25519 key)`. Its first four bytes are the key ID
/// of the log's checkpoint signatures, whose key name is the origin.
pub fn rekor_v2_log_id(origin: &str, ed25519_key: &[u8; 32]) -> [u8; 32] {
    let mut input = Vec::with_capacity(origin.len() + 2 + ed25519_key.len());
    input.extend_from_slice(origin.as_bytes());
    input.push(b'\n');
    input.push(TYPE_ED25519);
    input.extend_from_slice(ed25519_key);
    sha256(&input)
}

/// Signs checkpoints as a Rekor v1 log does.
#[derive(Debug)]
pub struct RekorV1Signer {
    named: NamedKey<SigningKey>,
}

impl RekorV1Signer {
    /// Wraps the log's P-256 or Ed25519 key; `name` is the log's host name
    /// (`rekor.example.test`), which sigstore-js matches against the log's base URL.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for other keys.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, Error> {
        let public = key.public_key();
        check_algorithm(&public, ALGORITHMS, SIGNATURE_TYPE)?;
        Ok(Self {
            named: NamedKey {
                name: KeyName::new(name)?,
                key_hint: spki_key_hint(&public),
                key,
            },
        })
    }

    /// The verifier for this signer's signatures.
    pub fn verifier(&self) -> RekorV1Verifier {
        RekorV1Verifier {
            named: self.named.verifying(),
        }
    }
}

impl NoteSigner for RekorV1Signer {
    named_key_methods!(named);

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.named.key.sign(text)?)
    }
}

/// Verifies Rekor v1 checkpoint signatures by one log key.
#[derive(Debug, Clone)]
pub struct RekorV1Verifier {
    named: NamedKey<PublicKey>,
}

impl RekorV1Verifier {
    /// Builds a verifier for the log key `key` (from the trusted root's `tlogs[].publicKey`)
    /// under the log's key name (`rekor.sigstore.dev`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for keys other than
    /// P-256 and Ed25519.
    pub fn new(name: &str, key: &PublicKey) -> Result<Self, Error> {
        check_algorithm(key, ALGORITHMS, SIGNATURE_TYPE)?;
        Ok(Self {
            named: NamedKey {
                name: KeyName::new(name)?,
                key: key.clone(),
                key_hint: spki_key_hint(key),
            },
        })
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.named.key
    }
}

impl NoteVerifier for RekorV1Verifier {
    named_key_methods!(named);

    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.named.verify(text, signature)
    }
}
