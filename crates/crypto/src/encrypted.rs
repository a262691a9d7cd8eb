//! Private keys encrypted at rest: PKCS#8 DER sealed with AES-256-GCM ([NIST SP 800-38D]) under
//! a key derived from a passphrase with PBKDF2-HMAC-SHA256 ([RFC 8018 §5.2]).
//!
//! The PEM block `ENCRYPTED WAXSEAL PRIVATE KEY` holds, in order: a version byte (1), a KDF byte
//! (1 = PBKDF2-HMAC-SHA256), the iteration count (4 bytes, big-endian), a 16-byte salt, a 12-byte
//! nonce, then the ciphertext of the PKCS#8 DER followed by the 16-byte tag. The 34 header bytes
//! are the AEAD's associated data, so none of them can be changed without failing decryption.
//!
//! [NIST SP 800-38D]: https://csrc.nist.gov/pubs/sp/800/38/d/final
//! [RFC 8018 §5.2]: https://www.rfc-editor.org/rfc/rfc8018#section-5.2

use std::num::NonZeroU32;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::pbkdf2;
use zeroize::Zeroizing;

use crate::{Error, SigningKey, pem, random_bytes};

/// The PEM label of an encrypted waxseal private key.
pub const ENCRYPTED_PRIVATE_KEY: &str = "ENCRYPTED WAXSEAL PRIVATE KEY";

const VERSION: u8 = 1;
const KDF_PBKDF2_SHA256: u8 = 1;
/// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
const ITERATIONS: u32 = 600_000;
/// Fewer iterations than this are refused when reading (a downgraded file).
const MIN_ITERATIONS: u32 = 100_000;
/// More iterations than this are refused when reading (a file made to stall the reader).
const MAX_ITERATIONS: u32 = 10_000_000;
const SALT_LEN: usize = 16;
const HEADER_LEN: usize = 2 + 4 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;

impl SigningKey {
    /// The key's PKCS#8 encoding sealed under `passphrase`, as PEM (see the module docs for the
    /// layout). A fresh salt and nonce are drawn for every call.
    ///
    /// # Errors
    ///
    /// [`Error::RandomnessUnavailable`], or [`Error::EncryptionFailed`] if the backend fails.
    pub fn to_encrypted_pem(&self, passphrase: &[u8]) -> Result<String, Error> {
        let mut header = [0u8; HEADER_LEN];
        header[0] = VERSION;
        header[1] = KDF_PBKDF2_SHA256;
        header[2..6].copy_from_slice(&ITERATIONS.to_be_bytes());
        random_bytes(&mut header[6..])?;
        let key = sealing_key(passphrase, &header, ITERATIONS)?;
        let nonce = nonce(&header)?;
        let mut sealed = Zeroizing::new(self.to_pkcs8_der().to_vec());
        key.seal_in_place_append_tag(nonce, Aad::from(&header), &mut *sealed)
            .map_err(|_| Error::EncryptionFailed)?;
        let mut out = header.to_vec();
        out.extend_from_slice(&sealed);
        Ok(pem::encode(ENCRYPTED_PRIVATE_KEY, &out))
    }

    /// Opens a key that [`SigningKey::to_encrypted_pem`] sealed.
    ///
    /// # Errors
    ///
    /// The PEM errors, [`Error::MalformedEncryptedKey`] for a bad layout, version, KDF or
    /// iteration count, [`Error::DecryptionFailed`] for a wrong passphrase or altered bytes, and
    /// the errors of [`SigningKey::from_pkcs8_der`].
    pub fn from_encrypted_pem(text: &str, passphrase: &[u8]) -> Result<Self, Error> {
        let bytes = pem::decode(text, ENCRYPTED_PRIVATE_KEY)?;
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(Error::MalformedEncryptedKey {
                reason: "shorter than its header and tag",
            });
        }
        let (header, sealed) = bytes.split_at(HEADER_LEN);
        if header[0] != VERSION {
            return Err(Error::MalformedEncryptedKey {
                reason: "unknown version (expected 1)",
            });
        }
        if header[1] != KDF_PBKDF2_SHA256 {
            return Err(Error::MalformedEncryptedKey {
                reason: "unknown key derivation (expected 1, PBKDF2-HMAC-SHA256)",
            });
        }
        let iterations = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
        if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
            return Err(Error::MalformedEncryptedKey {
                reason: "PBKDF2 iteration count outside 100000..=10000000",
            });
        }
        let key = sealing_key(passphrase, header, iterations)?;
        let mut buffer = Zeroizing::new(sealed.to_vec());
        let plain = key
            .open_in_place(nonce(header)?, Aad::from(header), &mut buffer)
            .map_err(|_| Error::DecryptionFailed)?;
        Self::from_pkcs8_der(plain)
    }
}

fn sealing_key(passphrase: &[u8], header: &[u8], iterations: u32) -> Result<LessSafeKey, Error> {
    let iterations = NonZeroU32::new(iterations).ok_or(Error::MalformedEncryptedKey {
        reason: "zero PBKDF2 iterations",
    })?;
    let salt = &header[6..6 + SALT_LEN];
    let mut secret = Zeroizing::new([0u8; 32]);
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        iterations,
        salt,
        passphrase,
        &mut *secret,
    );
    let key = UnboundKey::new(&AES_256_GCM, &*secret).map_err(|_| Error::EncryptionFailed)?;
    Ok(LessSafeKey::new(key))
}

fn nonce(header: &[u8]) -> Result<Nonce, Error> {
    Nonce::try_assume_unique_for_key(&header[6 + SALT_LEN..HEADER_LEN]).map_err(|_| {
        Error::MalformedEncryptedKey {
            reason: "bad nonce length",
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Algorithm;

    #[test]
    fn encrypted_keys_open_only_with_their_passphrase() {
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let pem = key.to_encrypted_pem(b"correct horse").unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED WAXSEAL PRIVATE KEY-----\n"));
        let opened = SigningKey::from_encrypted_pem(&pem, b"correct horse").unwrap();
        assert_eq!(opened.public_key(), key.public_key());
        assert_eq!(
            SigningKey::from_encrypted_pem(&pem, b"wrong horse").unwrap_err(),
            Error::DecryptionFailed
        );
        // Two encryptions of one key differ (fresh salt and nonce).
        assert_ne!(key.to_encrypted_pem(b"correct horse").unwrap(), pem);
    }

    #[test]
    fn rejects_altered_encrypted_keys() {
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let der =
            pem::decode(&key.to_encrypted_pem(b"pw").unwrap(), ENCRYPTED_PRIVATE_KEY).unwrap();
        let cases: &[(&str, usize, u8, &str)] = &[
            ("version", 0, 2, "malformed"),
            ("kdf", 1, 9, "malformed"),
            ("iterations downgraded", 3, 0, "malformed"),
            ("salt", 10, 1, "decrypt"),
            ("nonce", 25, 1, "decrypt"),
            ("ciphertext", HEADER_LEN + 3, 1, "decrypt"),
        ];
        for (name, at, xor, want) in cases {
            let mut bad = der.clone();
            if *name == "iterations downgraded" {
                bad[2..6].copy_from_slice(&1000u32.to_be_bytes());
            } else {
                bad[*at] ^= xor;
            }
            let text = pem::encode(ENCRYPTED_PRIVATE_KEY, &bad);
            let error = SigningKey::from_encrypted_pem(&text, b"pw").unwrap_err();
            let got = match error {
                Error::MalformedEncryptedKey { .. } => "malformed",
                Error::DecryptionFailed => "decrypt",
                _ => "other",
            };
            assert_eq!(got, *want, "{name}: {error}");
        }
        let short = pem::encode(ENCRYPTED_PRIVATE_KEY, &der[..HEADER_LEN]);
        assert!(matches!(
            SigningKey::from_encrypted_pem(&short, b"pw"),
            Err(Error::MalformedEncryptedKey { .. })
        ));
    }
}
