//! ECDSA note signatures, signature type 0x02 (c2sp.org/signed-note, "Signature types"), as
//! github.com/transparency-dev/witness implements them (`formats/note/note_verifier.go`): the
//! key ID is the first four bytes of SHA-256 of the DER SubjectPublicKeyInfo, and the signature
//! is an ASN.1 DER ECDSA signature over SHA-256 of the note text.
//!
//! Only NIST P-256 is supported: transparency-dev hashes with SHA-256 on every curve, while
//! `waxseal-crypto` pairs P-384 and P-521 with SHA-384 and SHA-512.

use waxseal_crypto::{Algorithm, PublicKey, SigningKey};

use crate::key::{
    NamedKey, TYPE_ECDSA, VerifierKey, check_algorithm, first_four, format_vkey, named_key_methods,
};
use crate::{Error, KeyName, NoteSigner, NoteVerifier, rekor_v1_log_id};

const SIGNATURE_TYPE: &str = "ECDSA (0x02)";
const ALGORITHMS: &[Algorithm] = &[Algorithm::EcdsaP256Sha256];

/// Signs notes with an ECDSA P-256 key, type 0x02.
#[derive(Debug)]
pub struct EcdsaSigner {
    named: NamedKey<SigningKey>,
}

impl EcdsaSigner {
    /// Wraps a P-256 signing key.
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
    pub fn verifier(&self) -> EcdsaVerifier {
        EcdsaVerifier {
            named: self.named.verifying(),
        }
    }
}

impl NoteSigner for EcdsaSigner {
    named_key_methods!(named);

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, Error> {
        Ok(self.named.key.sign(text)?)
    }
}

/// Verifies type 0x02 ECDSA P-256 note signatures by one key.
#[derive(Debug, Clone)]
pub struct EcdsaVerifier {
    named: NamedKey<PublicKey>,
}

impl EcdsaVerifier {
    /// Builds a verifier for a P-256 `key` under `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for other keys.
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

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x02 || DER SPKI)>`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVerifierKey`], [`Error::InvalidKeyName`], [`Error::UnknownSignatureType`]
    /// for another type, [`Error::Crypto`] for a bad key, [`Error::UnsupportedKeyAlgorithm`],
    /// and [`Error::KeyIdMismatch`].
    pub fn from_vkey(vkey: &str) -> Result<Self, Error> {
        Self::from_verifier_key(&VerifierKey::parse(vkey)?)
    }

    pub(crate) fn from_verifier_key(vkey: &VerifierKey) -> Result<Self, Error> {
        vkey.expect_type(TYPE_ECDSA)?;
        let verifier = Self::new(vkey.name.as_str(), &PublicKey::from_spki_der(&vkey.key)?)?;
        vkey.check_key_hint(verifier.named.key_hint)?;
        Ok(verifier)
    }

    /// The verifier key string, as [`EcdsaVerifier::from_vkey`] reads it.
    pub fn to_vkey(&self) -> String {
        let named = &self.named;
        format_vkey(
            &named.name,
            named.key_hint,
            TYPE_ECDSA,
            named.key.spki_der(),
        )
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.named.key
    }
}

impl NoteVerifier for EcdsaVerifier {
    named_key_methods!(named);

    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.named.verify(text, signature)
    }
}

/// `SHA-256(DER SPKI)[:4]`, the key ID of type 0x02 and of Rekor v1 checkpoints.
pub(crate) fn spki_key_hint(key: &PublicKey) -> [u8; 4] {
    first_four(&rekor_v1_log_id(key.spki_der()))
}
