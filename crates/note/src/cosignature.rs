//! Ed25519 witness cosignatures, `cosignature/v1`, signature type 0x04
//! (c2sp.org/tlog-cosignature, "Format" and "Ed25519 signed message").
//!
//! The signature bytes are a `timestamped_signature`: a big-endian `u64` POSIX timestamp then a
//! 64-byte Ed25519 signature over
//!
//! ```text
//! cosignature/v1
//! time <timestamp>
//! <the whole checkpoint text, extension lines included>
//! ```
//!
//! The key ID is `SHA-256(name || 0x0A || 0x04 || 32-byte key)[:4]`.

use waxseal_crypto::{PublicKey, SigningKey};

use crate::ed25519::{ed25519_from_vkey, ed25519_raw};
use crate::key::{
    NamedKey, TYPE_COSIGNATURE_V1, VerifierKey, format_vkey, key_id, named_key_methods,
};
use crate::{Error, KeyName, NoteSigner, NoteVerifier, Signature};

/// Largest timestamp the spec allows, 2^63 - 1.
const MAX_TIMESTAMP: u64 = i64::MAX as u64;
const TIMESTAMP_LEN: usize = 8;
const ED25519_SIGNATURE_LEN: usize = 64;

/// The message a cosigner signs for a checkpoint text at `timestamp`.
fn signed_message(timestamp: u64, text: &[u8]) -> Vec<u8> {
    let header = format!("cosignature/v1\ntime {timestamp}\n");
    let mut message = Vec::with_capacity(header.len() + text.len());
    message.extend_from_slice(header.as_bytes());
    message.extend_from_slice(text);
    message
}

/// Reads the timestamp of a cosignature/v1 signature (key ID already removed) without checking
/// the signature.
///
/// # Errors
///
/// [`Error::BadCosignatureLength`] if the signature is not 72 bytes,
/// [`Error::CosignatureTimestampOutOfRange`] above 2^63 - 1.
fn split<'a>(name: &str, signature: &'a [u8]) -> Result<(u64, &'a [u8]), Error> {
    if signature.len() != TIMESTAMP_LEN + ED25519_SIGNATURE_LEN {
        return Err(Error::BadCosignatureLength {
            name: name.to_owned(),
            len: signature.len(),
        });
    }
    let (time, ed25519) = signature.split_at(TIMESTAMP_LEN);
    let mut bytes = [0u8; TIMESTAMP_LEN];
    bytes.copy_from_slice(time);
    let timestamp = u64::from_be_bytes(bytes);
    if timestamp > MAX_TIMESTAMP {
        return Err(Error::CosignatureTimestampOutOfRange { timestamp });
    }
    Ok((timestamp, ed25519))
}

/// The timestamp a cosignature/v1 note signature claims, unverified. Verify the note first (see
/// [`CosignatureV1Verifier::verify_cosignature`] to do both at once).
///
/// # Errors
///
/// [`Error::BadCosignatureLength`] unless the signature is 8 + 64 bytes,
/// [`Error::CosignatureTimestampOutOfRange`] above 2^63 - 1.
pub fn cosignature_timestamp(signature: &Signature) -> Result<u64, Error> {
    split(signature.name(), signature.bytes()).map(|(timestamp, _)| timestamp)
}

/// A witness's cosigning key. Use [`CosignatureV1Signer::at`] to sign at a given time: this
/// crate never reads the clock.
#[derive(Debug)]
pub struct CosignatureV1Signer {
    named: NamedKey<SigningKey>,
}

impl CosignatureV1Signer {
    /// Wraps an Ed25519 signing key under the cosigner's name.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for a non-Ed25519 key.
    pub fn new(name: &str, key: SigningKey) -> Result<Self, Error> {
        let name = KeyName::new(name)?;
        let key_hint = key_id(&name, TYPE_COSIGNATURE_V1, &ed25519_raw(&key.public_key())?);
        Ok(Self {
            named: NamedKey {
                name,
                key,
                key_hint,
            },
        })
    }

    /// A signer that cosigns with `timestamp` (POSIX seconds).
    ///
    /// # Errors
    ///
    /// [`Error::CosignatureTimestampOutOfRange`] above 2^63 - 1.
    pub fn at(&self, timestamp: u64) -> Result<TimestampedCosigner<'_>, Error> {
        if timestamp > MAX_TIMESTAMP {
            return Err(Error::CosignatureTimestampOutOfRange { timestamp });
        }
        Ok(TimestampedCosigner {
            signer: self,
            timestamp,
        })
    }

    /// The verifier for this cosigner.
    pub fn verifier(&self) -> CosignatureV1Verifier {
        CosignatureV1Verifier {
            named: self.named.verifying(),
        }
    }
}

/// A [`CosignatureV1Signer`] bound to one timestamp, usable as a [`NoteSigner`].
#[derive(Debug, Clone, Copy)]
pub struct TimestampedCosigner<'a> {
    signer: &'a CosignatureV1Signer,
    timestamp: u64,
}

impl TimestampedCosigner<'_> {
    /// The timestamp this signer writes into its cosignatures.
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }
}

impl NoteSigner for TimestampedCosigner<'_> {
    named_key_methods!(signer.named);

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, Error> {
        let signature = self
            .signer
            .named
            .key
            .sign(&signed_message(self.timestamp, text))?;
        let mut out = Vec::with_capacity(TIMESTAMP_LEN + signature.len());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&signature);
        Ok(out)
    }
}

/// Verifies cosignature/v1 signatures by one witness.
#[derive(Debug, Clone)]
pub struct CosignatureV1Verifier {
    named: NamedKey<PublicKey>,
}

impl CosignatureV1Verifier {
    /// Builds a verifier for the witness key `key` under `name`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`], or [`Error::UnsupportedKeyAlgorithm`] for a non-Ed25519 key.
    pub fn new(name: &str, key: &PublicKey) -> Result<Self, Error> {
        let name = KeyName::new(name)?;
        let key_hint = key_id(&name, TYPE_COSIGNATURE_V1, &ed25519_raw(key)?);
        Ok(Self {
            named: NamedKey {
                name,
                key: key.clone(),
                key_hint,
            },
        })
    }

    /// Parses a verifier key `<name>+<hex key ID>+<base64(0x04 || 32-byte key)>`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidVerifierKey`], [`Error::InvalidKeyName`], [`Error::UnknownSignatureType`]
    /// for another type, [`Error::KeyIdMismatch`], or [`Error::Crypto`] for a bad key.
    pub fn from_vkey(vkey: &str) -> Result<Self, Error> {
        Self::from_verifier_key(&VerifierKey::parse(vkey)?)
    }

    pub(crate) fn from_verifier_key(vkey: &VerifierKey) -> Result<Self, Error> {
        vkey.expect_type(TYPE_COSIGNATURE_V1)?;
        let verifier = Self::new(vkey.name.as_str(), &ed25519_from_vkey(vkey)?)?;
        vkey.check_key_hint(verifier.named.key_hint)?;
        Ok(verifier)
    }

    /// The verifier key string, as [`CosignatureV1Verifier::from_vkey`] reads it.
    pub fn to_vkey(&self) -> String {
        let raw = self.named.key.raw_ed25519().unwrap_or_default();
        format_vkey(
            &self.named.name,
            self.named.key_hint,
            TYPE_COSIGNATURE_V1,
            &raw,
        )
    }

    /// Verifies a cosignature (key ID removed) over the checkpoint text and returns the time
    /// it was made. Verifiers may reject timestamps in the future; compare the result with
    /// your clock.
    ///
    /// # Errors
    ///
    /// [`Error::BadCosignatureLength`], [`Error::CosignatureTimestampOutOfRange`], or
    /// [`Error::SignatureInvalid`] if the signature does not verify.
    pub fn verify_cosignature(&self, text: &[u8], signature: &[u8]) -> Result<u64, Error> {
        let (timestamp, ed25519) = split(self.named.name.as_str(), signature)?;
        self.named
            .verify(&signed_message(timestamp, text), ed25519)?;
        Ok(timestamp)
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.named.key
    }
}

impl NoteVerifier for CosignatureV1Verifier {
    named_key_methods!(named);

    fn verify(&self, text: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.verify_cosignature(text, signature).map(|_| ())
    }
}
