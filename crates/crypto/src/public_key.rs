//! Public keys: SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) parsing and encoding, and signature
//! verification.

use std::fmt;
use std::hash::{Hash, Hasher};

use aws_lc_rs::signature::{self as backend, ParsedPublicKey, VerificationAlgorithm};

use crate::der::{self, Reader};
use crate::{Algorithm, Error, pem};

/// Smallest supported RSA modulus, in bits.
const RSA_MIN_BITS: usize = 2048;
/// Largest supported RSA modulus, in bits (the largest Sigstore `PublicKeyDetails` name).
const RSA_MAX_BITS: usize = 4096;

/// A public key of a supported [`Algorithm`], held as its DER SubjectPublicKeyInfo.
///
/// Construction validates the encoding and the key (EC points on the curve, RSA size), so a
/// `PublicKey` is always usable for [`PublicKey::verify`]. Two keys are equal when their SPKI
/// bytes are.
#[derive(Clone)]
pub struct PublicKey {
    algorithm: Algorithm,
    /// Sigstore `PublicKeyDetails` name; size-specific for RSA.
    key_details: &'static str,
    /// Canonical DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
    parsed: ParsedPublicKey,
}

impl PublicKey {
    /// Parses a DER SubjectPublicKeyInfo, detecting the algorithm from its AlgorithmIdentifier:
    /// id-ecPublicKey with the P-256, P-384 or P-521 named curve and an uncompressed point,
    /// id-Ed25519 (1.3.101.112) without parameters, or rsaEncryption with NULL parameters and a
    /// 2048 to 4096-bit modulus.
    ///
    /// Only DER is accepted, so the input is also the canonical encoding that
    /// [`PublicKey::to_spki_der`] returns (and that log IDs hash).
    ///
    /// # Errors
    ///
    /// [`Error::MalformedDer`] for bad DER or structure, [`Error::UnsupportedKeyAlgorithm`] for
    /// other algorithms or curves, [`Error::UnsupportedRsaKeySize`], and
    /// [`Error::KeyRejected`] if the backend rejects the key itself.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        let mut outer = Reader::new(der, "SubjectPublicKeyInfo");
        let mut spki = outer.read(der::TAG_SEQUENCE)?;
        outer.finish()?;
        let algorithm = read_algorithm_identifier(&mut spki)?;
        let key_bits = spki.read_bit_string()?;
        spki.finish()?;
        let mut key_details = algorithm.key_details();
        match algorithm {
            Algorithm::Ed25519 => {
                if key_bits.len() != 32 {
                    return Err(malformed_key("Ed25519 public key must be 32 bytes"));
                }
            }
            Algorithm::EcdsaP256Sha256
            | Algorithm::EcdsaP384Sha384
            | Algorithm::EcdsaP521Sha512 => {
                let field = ec_field_len(algorithm);
                if key_bits.len() != 1 + 2 * field || key_bits.first() != Some(&0x04) {
                    return Err(malformed_key("EC public key must be an uncompressed point"));
                }
            }
            Algorithm::RsaPkcs1Sha256 => key_details = rsa_key_details(key_bits)?,
        }
        let parsed = ParsedPublicKey::new(verification_algorithm(algorithm), der).map_err(|e| {
            Error::KeyRejected {
                algorithm,
                reason: e.to_string(),
            }
        })?;
        Ok(Self {
            algorithm,
            key_details,
            spki: der.to_vec(),
            parsed,
        })
    }

    /// Parses a PEM `PUBLIC KEY` block holding a SubjectPublicKeyInfo.
    ///
    /// # Errors
    ///
    /// The PEM errors of [`pem::decode`], then those of [`PublicKey::from_spki_der`].
    pub fn from_pem(text: &str) -> Result<Self, Error> {
        Self::from_spki_der(&pem::decode(text, pem::PUBLIC_KEY)?)
    }

    /// Wraps a raw 32-byte Ed25519 public key (RFC 8032 §5.1.5 encoding).
    ///
    /// # Errors
    ///
    /// [`Error::KeyRejected`] if the bytes are not a valid Ed25519 public key.
    pub fn from_ed25519_raw(key: [u8; 32]) -> Result<Self, Error> {
        Self::from_spki_der(&encode_spki(Algorithm::Ed25519, &key))
    }

    /// Builds the key from the raw key bits a backend key pair reports (the uncompressed point
    /// for ECDSA, 32 bytes for Ed25519).
    pub(crate) fn from_key_bits(algorithm: Algorithm, bits: &[u8]) -> Result<Self, Error> {
        Self::from_spki_der(&encode_spki(algorithm, bits))
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The Sigstore `PublicKeyDetails` name for this key, including the RSA modulus size
    /// (`PKIX_RSA_PKCS1V15_3072_SHA256`...).
    pub fn key_details(&self) -> &'static str {
        self.key_details
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn to_spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// The DER SubjectPublicKeyInfo, borrowed.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// PEM `PUBLIC KEY`, laid out as Go's `pem.EncodeToMemory` does (see [`pem::encode`]).
    pub fn to_pem(&self) -> String {
        pem::encode(pem::PUBLIC_KEY, &self.spki)
    }

    /// The raw 32-byte key, for Ed25519 keys only.
    pub fn raw_ed25519(&self) -> Option<[u8; 32]> {
        match self.algorithm {
            Algorithm::Ed25519 => self
                .spki
                .get(self.spki.len().checked_sub(32)?..)?
                .try_into()
                .ok(),
            _ => None,
        }
    }

    /// Verifies `signature` over `message`: pure Ed25519, ECDSA (ASN.1 DER signature) with the
    /// algorithm's hash, or RSA PKCS#1 v1.5 with SHA-256.
    ///
    /// # Errors
    ///
    /// [`Error::SignatureInvalid`] if the signature is malformed or does not verify.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        self.parsed
            .verify_sig(message, signature)
            .map_err(|_| Error::SignatureInvalid {
                algorithm: self.algorithm,
            })
    }

    /// Verifies `signature` over a digest computed elsewhere (a "prehashed" signature): ECDSA
    /// (ASN.1 DER signature) on any of the three curves, or RSA PKCS#1 v1.5 (RFC 8017 §8.2.2,
    /// whose `DigestInfo` names the hash).
    ///
    /// The hash is identified by the digest's length: 32 bytes is SHA-256, 48 SHA-384 and 64
    /// SHA-512 (FIPS 180-4). Any of them is accepted with any curve, as Go's `ecdsa.VerifyASN1`
    /// does (a longer digest is truncated to the curve order, SEC 1 §4.1.4 step 3); this is how
    /// Rekor verifies `hashedrekord` signatures.
    ///
    /// # Errors
    ///
    /// [`Error::PrehashUnsupported`] for Ed25519 keys (pure Ed25519 signs the message itself,
    /// and Ed25519ph, RFC 8032 §5.1, is not supported), [`Error::UnsupportedDigestLength`] for
    /// other digest lengths, [`Error::SignatureInvalid`] if the signature is malformed or does not
    /// verify.
    pub fn verify_prehashed(&self, digest: &[u8], signature: &[u8]) -> Result<(), Error> {
        use aws_lc_rs::digest::{self as hash, Digest};

        let algorithm = self.algorithm;
        let (hash, verification): (&'static hash::Algorithm, &'static dyn VerificationAlgorithm) =
            match (algorithm, digest.len()) {
                (Algorithm::Ed25519, _) => return Err(Error::PrehashUnsupported { algorithm }),
                (Algorithm::EcdsaP256Sha256, 32) => {
                    (&hash::SHA256, &backend::ECDSA_P256_SHA256_ASN1)
                }
                (Algorithm::EcdsaP256Sha256, 48) => {
                    (&hash::SHA384, &backend::ECDSA_P256_SHA384_ASN1)
                }
                (Algorithm::EcdsaP256Sha256, 64) => {
                    (&hash::SHA512, &backend::ECDSA_P256_SHA512_ASN1)
                }
                (Algorithm::EcdsaP384Sha384, 32) => {
                    (&hash::SHA256, &backend::ECDSA_P384_SHA256_ASN1)
                }
                (Algorithm::EcdsaP384Sha384, 48) => {
                    (&hash::SHA384, &backend::ECDSA_P384_SHA384_ASN1)
                }
                (Algorithm::EcdsaP384Sha384, 64) => {
                    (&hash::SHA512, &backend::ECDSA_P384_SHA512_ASN1)
                }
                (Algorithm::EcdsaP521Sha512, 32) => {
                    (&hash::SHA256, &backend::ECDSA_P521_SHA256_ASN1)
                }
                (Algorithm::EcdsaP521Sha512, 48) => {
                    (&hash::SHA384, &backend::ECDSA_P521_SHA384_ASN1)
                }
                (Algorithm::EcdsaP521Sha512, 64) => {
                    (&hash::SHA512, &backend::ECDSA_P521_SHA512_ASN1)
                }
                (Algorithm::RsaPkcs1Sha256, 32) => {
                    (&hash::SHA256, &backend::RSA_PKCS1_2048_8192_SHA256)
                }
                (Algorithm::RsaPkcs1Sha256, 48) => {
                    (&hash::SHA384, &backend::RSA_PKCS1_2048_8192_SHA384)
                }
                (Algorithm::RsaPkcs1Sha256, 64) => {
                    (&hash::SHA512, &backend::RSA_PKCS1_2048_8192_SHA512)
                }
                (_, len) => return Err(Error::UnsupportedDigestLength { len }),
            };
        let len = digest.len();
        let digest = Digest::import_less_safe(digest, hash)
            .map_err(|_| Error::UnsupportedDigestLength { len })?;
        // The stored key was accepted by the backend for this key type at construction; only the
        // hash bound to the verification algorithm differs here.
        let parsed =
            ParsedPublicKey::new(verification, &self.spki).map_err(|e| Error::KeyRejected {
                algorithm,
                reason: e.to_string(),
            })?;
        parsed
            .verify_digest_sig(&digest, signature)
            .map_err(|_| Error::SignatureInvalid { algorithm })
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spki: String = self.spki.iter().map(|b| format!("{b:02x}")).collect();
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm)
            .field("spki", &spki)
            .finish()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.spki == other.spki
    }
}

impl Eq for PublicKey {}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.spki.hash(state);
    }
}

/// Reads an AlgorithmIdentifier (RFC 5280 §4.1.1.2) naming a key type, shared by
/// SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo.
pub(crate) fn read_algorithm_identifier(reader: &mut Reader<'_>) -> Result<Algorithm, Error> {
    let mut id = reader.read(der::TAG_SEQUENCE)?;
    let oid = id.read_bytes(der::TAG_OID)?;
    let algorithm = match oid {
        der::OID_EC_PUBLIC_KEY => {
            let curve = match id.peek_tag() {
                Some(der::TAG_OID) => id.read_bytes(der::TAG_OID)?,
                _ => {
                    return Err(Error::UnsupportedKeyAlgorithm {
                        oid: der::oid_to_string(oid),
                        parameters: "not a named curve".to_owned(),
                    });
                }
            };
            match curve {
                der::OID_P256 => Algorithm::EcdsaP256Sha256,
                der::OID_P384 => Algorithm::EcdsaP384Sha384,
                der::OID_P521 => Algorithm::EcdsaP521Sha512,
                _ => {
                    return Err(Error::UnsupportedKeyAlgorithm {
                        oid: der::oid_to_string(oid),
                        parameters: der::oid_to_string(curve),
                    });
                }
            }
        }
        // RFC 8410 §3: the parameters MUST be absent.
        der::OID_ED25519 => Algorithm::Ed25519,
        // RFC 3279 §2.3.1: the parameters MUST be NULL.
        der::OID_RSA_ENCRYPTION => {
            if !id.read_bytes(der::TAG_NULL)?.is_empty() {
                return Err(malformed_key("NULL parameters must be empty"));
            }
            Algorithm::RsaPkcs1Sha256
        }
        _ => {
            return Err(Error::UnsupportedKeyAlgorithm {
                oid: der::oid_to_string(oid),
                parameters: "-".to_owned(),
            });
        }
    };
    id.finish()?;
    Ok(algorithm)
}

/// Encodes a SubjectPublicKeyInfo from raw key bits (RFC 5480 §2, RFC 8410 §4).
fn encode_spki(algorithm: Algorithm, key_bits: &[u8]) -> Vec<u8> {
    let mut id = Vec::new();
    match algorithm {
        Algorithm::Ed25519 => der::write(der::TAG_OID, der::OID_ED25519, &mut id),
        Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384 | Algorithm::EcdsaP521Sha512 => {
            let curve = match algorithm {
                Algorithm::EcdsaP256Sha256 => der::OID_P256,
                Algorithm::EcdsaP384Sha384 => der::OID_P384,
                _ => der::OID_P521,
            };
            der::write(der::TAG_OID, der::OID_EC_PUBLIC_KEY, &mut id);
            der::write(der::TAG_OID, curve, &mut id);
        }
        Algorithm::RsaPkcs1Sha256 => {
            der::write(der::TAG_OID, der::OID_RSA_ENCRYPTION, &mut id);
            der::write(der::TAG_NULL, &[], &mut id);
        }
    }
    let mut bits = Vec::with_capacity(key_bits.len() + 1);
    bits.push(0);
    bits.extend_from_slice(key_bits);
    let mut content = der::element(der::TAG_SEQUENCE, &id);
    der::write(der::TAG_BIT_STRING, &bits, &mut content);
    der::element(der::TAG_SEQUENCE, &content)
}

/// Size of a field element of the algorithm's curve, in bytes.
fn ec_field_len(algorithm: Algorithm) -> usize {
    match algorithm {
        Algorithm::EcdsaP384Sha384 => 48,
        Algorithm::EcdsaP521Sha512 => 66,
        _ => 32,
    }
}

/// Reads the PKCS#1 RSAPublicKey (RFC 8017 §A.1.1) in an SPKI's BIT STRING and names its size.
fn rsa_key_details(key_bits: &[u8]) -> Result<&'static str, Error> {
    let mut outer = Reader::new(key_bits, "RSAPublicKey");
    let mut key = outer.read(der::TAG_SEQUENCE)?;
    outer.finish()?;
    let modulus = key.read_unsigned_integer()?;
    let _exponent = key.read_unsigned_integer()?;
    key.finish()?;
    let bits = match modulus.first() {
        Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
        return Err(Error::UnsupportedRsaKeySize {
            bits,
            min: RSA_MIN_BITS,
            max: RSA_MAX_BITS,
        });
    }
    Ok(match bits {
        3072 => "PKIX_RSA_PKCS1V15_3072_SHA256",
        4096 => "PKIX_RSA_PKCS1V15_4096_SHA256",
        // 2048, and sizes Sigstore has no name for.
        _ => "PKIX_RSA_PKCS1V15_2048_SHA256",
    })
}

fn verification_algorithm(algorithm: Algorithm) -> &'static dyn VerificationAlgorithm {
    match algorithm {
        Algorithm::Ed25519 => &backend::ED25519,
        Algorithm::EcdsaP256Sha256 => &backend::ECDSA_P256_SHA256_ASN1,
        Algorithm::EcdsaP384Sha384 => &backend::ECDSA_P384_SHA384_ASN1,
        Algorithm::EcdsaP521Sha512 => &backend::ECDSA_P521_SHA512_ASN1,
        Algorithm::RsaPkcs1Sha256 => &backend::RSA_PKCS1_2048_8192_SHA256,
    }
}

fn malformed_key(reason: &'static str) -> Error {
    Error::MalformedDer {
        structure: "SubjectPublicKeyInfo",
        offset: 0,
        reason,
    }
}
