//! Private keys: generation, PKCS#8 (RFC 5208, RFC 5958) import and export, and signing.

use std::fmt;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
    EcdsaKeyPair, EcdsaSigningAlgorithm, Ed25519KeyPair, KeyPair,
};
use zeroize::Zeroizing;

use crate::der::{self, Reader};
use crate::public_key::read_algorithm_identifier;
use crate::{Algorithm, Error, PublicKey, pem};

/// A private key that can sign: Ed25519 or ECDSA P-256, P-384 or P-521.
///
/// `Debug` shows only the algorithm and public key. The PKCS#8 encoding this type keeps for
/// export is wiped on drop, and so are the buffers [`SigningKey::to_pkcs8_der`] and
/// [`SigningKey::to_pkcs8_pem`] return.
pub struct SigningKey {
    pair: Pair,
    public: PublicKey,
    /// PKCS#8 v1 PrivateKeyInfo, as the backend exports it.
    pkcs8: Zeroizing<Vec<u8>>,
}

enum Pair {
    Ed25519(Ed25519KeyPair),
    Ecdsa(EcdsaKeyPair),
}

impl SigningKey {
    /// Generates a fresh key with the system's secure random source.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedSigningAlgorithm`] for RSA, [`Error::KeyGenerationFailed`] if the
    /// backend fails.
    pub fn generate(algorithm: Algorithm) -> Result<Self, Error> {
        let failed = |_| Error::KeyGenerationFailed { algorithm };
        let pair = match algorithm {
            Algorithm::Ed25519 => Pair::Ed25519(Ed25519KeyPair::generate().map_err(failed)?),
            _ => Pair::Ecdsa(
                EcdsaKeyPair::generate(ecdsa_signing_algorithm(algorithm)?).map_err(failed)?,
            ),
        };
        Self::from_pair(algorithm, pair)
    }

    /// Builds an Ed25519 key from its 32-byte RFC 8032 seed (the private key proper).
    ///
    /// # Errors
    ///
    /// [`Error::KeyRejected`] if the backend rejects the seed.
    pub fn from_ed25519_seed(seed: &[u8; 32]) -> Result<Self, Error> {
        let algorithm = Algorithm::Ed25519;
        let pair = Ed25519KeyPair::from_seed_unchecked(seed).map_err(|e| Error::KeyRejected {
            algorithm,
            reason: e.to_string(),
        })?;
        Self::from_pair(algorithm, Pair::Ed25519(pair))
    }

    /// Parses an unencrypted DER PKCS#8 PrivateKeyInfo (v1, or v2 for Ed25519), detecting the
    /// algorithm from its AlgorithmIdentifier.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedDer`] if the outer structure is not DER PrivateKeyInfo,
    /// [`Error::UnsupportedKeyAlgorithm`] for unknown algorithms or curves,
    /// [`Error::UnsupportedSigningAlgorithm`] for RSA, [`Error::KeyRejected`] if the backend
    /// rejects the key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        let mut outer = Reader::new(der, "PrivateKeyInfo");
        let mut info = outer.read(der::TAG_SEQUENCE)?;
        outer.finish()?;
        let _version = info.read_unsigned_integer()?;
        let algorithm = read_algorithm_identifier(&mut info)?;
        let rejected = |e: aws_lc_rs::error::KeyRejected| Error::KeyRejected {
            algorithm,
            reason: e.to_string(),
        };
        let pair = match algorithm {
            Algorithm::Ed25519 => Pair::Ed25519(Ed25519KeyPair::from_pkcs8(der).map_err(rejected)?),
            _ => Pair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(ecdsa_signing_algorithm(algorithm)?, der)
                    .map_err(rejected)?,
            ),
        };
        Self::from_pair(algorithm, pair)
    }

    /// Parses a PEM `PRIVATE KEY` block (unencrypted PKCS#8).
    ///
    /// # Errors
    ///
    /// The PEM errors of [`pem::decode`], then those of [`SigningKey::from_pkcs8_der`].
    pub fn from_pkcs8_pem(text: &str) -> Result<Self, Error> {
        let der = Zeroizing::new(pem::decode(text, pem::PRIVATE_KEY)?);
        Self::from_pkcs8_der(&der)
    }

    fn from_pair(algorithm: Algorithm, pair: Pair) -> Result<Self, Error> {
        let failed = |_| Error::KeyGenerationFailed { algorithm };
        let (bits, document) = match &pair {
            Pair::Ed25519(p) => (
                p.public_key().as_ref().to_vec(),
                p.to_pkcs8v1().map_err(failed)?,
            ),
            Pair::Ecdsa(p) => (
                p.public_key().as_ref().to_vec(),
                p.to_pkcs8v1().map_err(failed)?,
            ),
        };
        let public = PublicKey::from_key_bits(algorithm, &bits)?;
        Ok(Self {
            pair,
            public,
            pkcs8: Zeroizing::new(document.as_ref().to_vec()),
        })
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.public.algorithm()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// DER PKCS#8 v1 PrivateKeyInfo (RFC 5208; for Ed25519 RFC 8410 §7, without the public key).
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        self.pkcs8.clone()
    }

    /// PEM `PRIVATE KEY`, 64-column lines as [`pem::encode`].
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        pem::encode_zeroizing(pem::PRIVATE_KEY, &self.pkcs8)
    }

    /// Signs `message`: a 64-byte Ed25519 signature, or an ASN.1 DER `Ecdsa-Sig-Value` over the
    /// algorithm's hash of `message` (randomized nonce).
    ///
    /// # Errors
    ///
    /// [`Error::SigningFailed`] if the backend fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let failed = |_| Error::SigningFailed {
            algorithm: self.algorithm(),
        };
        let signature = match &self.pair {
            Pair::Ed25519(p) => p.try_sign(message).map_err(failed)?,
            Pair::Ecdsa(p) => p.sign(&SystemRandom::new(), message).map_err(failed)?,
        };
        Ok(signature.as_ref().to_vec())
    }

    /// Signs a precomputed digest: an ASN.1 DER `Ecdsa-Sig-Value` over `digest`, which must be
    /// the key's own hash (SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521) of the
    /// message. The signature verifies with [`PublicKey::verify`] over the message and with
    /// [`PublicKey::verify_prehashed`] over `digest`.
    ///
    /// # Errors
    ///
    /// [`Error::PrehashUnsupported`] for Ed25519, [`Error::UnsupportedDigestLength`] if
    /// `digest` is not as long as the key's hash, [`Error::SigningFailed`] if the backend fails.
    pub fn sign_prehashed(&self, digest: &[u8]) -> Result<Vec<u8>, Error> {
        let algorithm = self.algorithm();
        let Pair::Ecdsa(pair) = &self.pair else {
            return Err(Error::PrehashUnsupported { algorithm });
        };
        let hash = match algorithm {
            Algorithm::EcdsaP256Sha256 => &aws_lc_rs::digest::SHA256,
            Algorithm::EcdsaP384Sha384 => &aws_lc_rs::digest::SHA384,
            _ => &aws_lc_rs::digest::SHA512,
        };
        if digest.len() != hash.output_len() {
            return Err(Error::UnsupportedDigestLength { len: digest.len() });
        }
        let digest = aws_lc_rs::digest::Digest::import_less_safe(digest, hash)
            .map_err(|_| Error::UnsupportedDigestLength { len: digest.len() })?;
        let signature = pair
            .sign_digest(&digest)
            .map_err(|_| Error::SigningFailed { algorithm })?;
        Ok(signature.as_ref().to_vec())
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("public_key", &self.public)
            .finish_non_exhaustive()
    }
}

fn ecdsa_signing_algorithm(algorithm: Algorithm) -> Result<&'static EcdsaSigningAlgorithm, Error> {
    match algorithm {
        Algorithm::EcdsaP256Sha256 => Ok(&ECDSA_P256_SHA256_ASN1_SIGNING),
        Algorithm::EcdsaP384Sha384 => Ok(&ECDSA_P384_SHA384_ASN1_SIGNING),
        Algorithm::EcdsaP521Sha512 => Ok(&ECDSA_P521_SHA512_ASN1_SIGNING),
        _ => Err(Error::UnsupportedSigningAlgorithm { algorithm }),
    }
}
