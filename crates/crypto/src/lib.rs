//! Keys, signatures and hashes for waxseal, and the only crate that names a crypto backend
//! ([aws-lc-rs](https://docs.rs/aws-lc-rs)).
//!
//! What it implements:
//!
//! - The algorithm registry of Sigstore's `PublicKeyDetails`
//!   ([`sigstore_common.proto`][common]): [`Algorithm`].
//! - Public keys as DER SubjectPublicKeyInfo ([RFC 5280 §4.1.2.7]; EC keys per [RFC 5480 §2],
//!   Ed25519 per [RFC 8410 §4], RSA per [RFC 3279 §2.3.1]) and PEM ([RFC 7468 §13]):
//!   [`PublicKey`], with verification of Ed25519 ([RFC 8032]), ECDSA with ASN.1 DER signatures
//!   and RSA PKCS#1 v1.5 SHA-256 ([RFC 8017 §8.2]); and verification of ECDSA and RSA PKCS#1 v1.5
//!   signatures over a precomputed SHA-256, SHA-384 or SHA-512 digest
//!   ([`PublicKey::verify_prehashed`]).
//! - Private keys as unencrypted PKCS#8 ([RFC 5208], [RFC 5958]) DER and PEM, generation and
//!   signing: [`SigningKey`] (Ed25519 and ECDSA only).
//! - Private keys encrypted at rest with PBKDF2-HMAC-SHA256 ([RFC 8018 §5.2]) and AES-256-GCM:
//!   [`SigningKey::to_encrypted_pem`], [`SigningKey::from_encrypted_pem`]; and ECDSA signing of a
//!   precomputed digest: [`SigningKey::sign_prehashed`].
//! - PEM text encoding with Go's exact layout: [`pem`].
//! - SHA-256: [`sha256`], [`Sha256`]; SHA-384 and SHA-512 ([FIPS 180-4]): [`sha384`], [`sha512`].
//!
//! What it does **not** do: X.509 certificates and chains (`waxseal-x509`), signed notes, key IDs
//! and log IDs (`waxseal-note`), JWTs (`waxseal-oidc`), encrypted PKCS#8 (RFC 5958 §3), RSA
//! signing, RSA-PSS, and Ed25519ph (RFC 8032 §5.1) verification.
//!
//! [common]: https://github.com/sigstore/protobuf-specs/blob/main/protos/sigstore_common.proto
//! [RFC 5280 §4.1.2.7]: https://www.rfc-editor.org/rfc/rfc5280#section-4.1.2.7
//! [RFC 5480 §2]: https://www.rfc-editor.org/rfc/rfc5480#section-2
//! [RFC 8410 §4]: https://www.rfc-editor.org/rfc/rfc8410#section-4
//! [RFC 3279 §2.3.1]: https://www.rfc-editor.org/rfc/rfc3279#section-2.3.1
//! [RFC 7468 §13]: https://www.rfc-editor.org/rfc/rfc7468#section-13
//! [RFC 8032]: https://www.rfc-editor.org/rfc/rfc8032
//! [RFC 8017 §8.2]: https://www.rfc-editor.org/rfc/rfc8017#section-8.2
//! [RFC 8018 §5.2]: https://www.rfc-editor.org/rfc/rfc8018#section-5.2
//! [RFC 5208]: https://www.rfc-editor.org/rfc/rfc5208
//! [RFC 5958]: https://www.rfc-editor.org/rfc/rfc5958
//! [FIPS 180-4]: https://nvlpubs.nist.gov/nistpubs/FIPS/NIST.FIPS.180-4.pdf
//!
//! ```
//! use waxseal_crypto::{Algorithm, PublicKey, SigningKey};
//!
//! let key = SigningKey::generate(Algorithm::EcdsaP256Sha256)?;
//! let signature = key.sign(b"hello")?;
//!
//! // Publish the public key as PEM; a verifier reads it back and checks the signature.
//! let pem = key.public_key().to_pem();
//! let public = PublicKey::from_pem(&pem)?;
//! assert_eq!(public.algorithm(), Algorithm::EcdsaP256Sha256);
//! public.verify(b"hello", &signature)?;
//! assert!(public.verify(b"hellO", &signature).is_err());
//! # Ok::<(), waxseal_crypto::Error>(())
//! ```

mod algorithm;
mod der;
mod digest;
mod encrypted;
mod error;
pub mod pem;
mod public_key;
mod random;
mod signing_key;

pub use algorithm::Algorithm;
pub use digest::{Sha256, sha1, sha256, sha384, sha512};
pub use encrypted::ENCRYPTED_PRIVATE_KEY;
pub use error::Error;
pub use public_key::PublicKey;
pub use random::random_bytes;
pub use signing_key::SigningKey;

#[cfg(test)]
mod tests;
