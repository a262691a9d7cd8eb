//! Ed25519 note signatures, signature type 0x01 (c2sp.org/signed-note, "Ed25519 signatures").

use waxseal_crypto::{PublicKey, SigningKey};

use crate::key::{NamedKey, TYPE_ED25519, VerifierKey, format_vkey, key_id, named_key_methods};
use crate::{Error, KeyName, NoteSigner, NoteVerifier};

/// Signs notes with an Ed25519 key under a key name.
#[derive(Debug)]
pub struct Ed25519Signer {
    named: NamedKey<SigningKey>,
}

impl Ed25519Signer {
    /// Wraps an Ed25519 signing key.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for a non-Ed25519 key.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, Error> {
        let name = KeyName::new(name)?;
        let key_hint = key_id(&name, TYPE_ED25519, &ed25519_raw(&key.public_key())?);
        Ok(Self {
            named: NamedKey {
                name,
                key,
                key_hint,
            },
        })
    }

    /// The verifier for this signer's signatures.
    pub fn verifier(&self) -> Ed25519Verifier {
        Ed25519Verifier {
            named: self.named.verifying(),
        }
    }
}

impl NoteSigner for Ed25519Signer {
    named_key_methods!(named);

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.named.key.sign(text)?)
    }
}

/// Verifies Ed25519 note signatures by one key.
#[derive(Debug, Clone)]
pub struct Ed25519Verifier {
    named: NamedKey<PublicKey>,
}

impl Ed25519Verifier {
    /// Builds a verifier for `key` under `name`; the key ID is
    /// `SHA-256(name || 0x0A || 0x01 || key)[:4]`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for a non-Ed25519 key.
    pub fn new(name: &str, key: &PublicKey) -> Result<Self, Error> {
        let name = KeyName::new(name)?;
        let key_hint = key_id(&name, TYPE_ED25519, &ed25519_raw(key)?);
        Ok(Self {
            named: NamedKey {
                name,
                key: key.clone(),
                key_hint,
            },
        })
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x01 || 32-byte key)>`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVerifierKey`], [`Error::InvalidKeyName`], [`Error::UnknownSignatureType`]
    /// for another type, [`Error::KeyIdMismatch`], or [`Error::Crypto`] for a bad key.
    pub fn from_vkey(vkey: &str) -> Result<Self, Error> {
        Self::from_verifier_key(&VerifierKey::parse(vkey)?)
    }

    pub(crate) fn from_verifier_key(vkey: &VerifierKey) -> Result<Self, Error> {
        vkey.expect_type(TYPE_ED25519)?;
        let verifier = Self::new(vkey.name.as_str(), &ed25519_from_vkey(vkey)?)?;
        vkey.check_key_hint(verifier.named.key_hint)?;
        Ok(verifier)
    }

    /// The verifier key string, as [`Ed25519Verifier::from_vkey`] reads it.
    pub fn to_vkey(&self) -> String {
        let raw = self.named.key.raw_ed25519().unwrap_or_default();
        format_vkey(&self.named.name, self.named.key_hint, TYPE_ED25519, &raw)
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.named.key
    }
}

impl NoteVerifier for Ed25519Verifier {
    named_key_methods!(named);

    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.named.verify(text, signature)
    }
}

/// The Ed25519 key of a verifier key of type 0x01 or 0x04 (32 raw bytes).
///
/// # Errors
///
/// [`Error::InvalidVerifierKey`] for another length, [`Error::Crypto`] for a bad key.
pub(crate) fn ed25519_from_vkey(vkey: &VerifierKey) -> Result<PublicKey, Error> {
    let raw: [u8; 32] = vkey
        .key
        .as_slice()
        .try_into()
        .map_err(|_| Error::InvalidVerifierKey {
            vkey: format_vkey(&vkey.name, vkey.key_hint, vkey.signature_type, &vkey.key),
            reason: "Ed25519 keys are 32 bytes",
        })?;
    Ok(PublicKey::from_ed25519_raw(raw)?)
}

/// The raw key of an Ed25519 public key, or the error for any other algorithm.
pub(crate) fn ed25519_raw(key: &PublicKey) -> Result<[u8; 32], Error> {
    key.raw_ed25519().ok_or(Error::UnsupportedKeyAlgorithm {
        algorithm: key.algorithm(),
        signature_type: "Ed25519 (0x01, 0x04)",
    })
}
