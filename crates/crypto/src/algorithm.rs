//! The signature algorithms waxseal supports, named as Sigstore's `PublicKeyDetails`
//! (sigstore/protobuf-specs `protos/sigstore_common.proto`).

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// A public-key signature algorithm: key type, curve or size, and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// Ed25519 (RFC 8032), pure: the message is signed, not a digest.
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256; signatures are ASN.1 DER `Ecdsa-Sig-Value`.
    EcdsaP256Sha256,
    /// ECDSA over NIST P-384 with SHA-384; signatures are ASN.1 DER.
    EcdsaP384Sha384,
    /// ECDSA over NIST P-521 with SHA-512; signatures are ASN.1 DER.
    EcdsaP521Sha512,
    /// RSA PKCS#1 v1.5 with SHA-256, moduli of 2048 to 4096 bits. Verify only.
    ///
    /// One variant covers the three Sigstore names `PKIX_RSA_PKCS1V15_{2048,3072,4096}_SHA256`;
    /// [`PublicKey::key_details`](crate::PublicKey::key_details) gives the size-specific name.
    RsaPkcs1Sha256,
}

impl Algorithm {
    /// Every supported algorithm, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Ed25519,
        Self::EcdsaP256Sha256,
        Self::EcdsaP384Sha384,
        Self::EcdsaP521Sha512,
        Self::RsaPkcs1Sha256,
    ];

    /// The Sigstore `PublicKeyDetails` enum name. For [`Algorithm::RsaPkcs1Sha256`] this is the
    /// 2048-bit name; use [`PublicKey::key_details`](crate::PublicKey::key_details) for a key's
    /// exact name.
    pub const fn key_details(&self) -> &'static str {
        match self {
            Self::Ed25519 => "PKIX_ED25519",
            Self::EcdsaP256Sha256 => "PKIX_ECDSA_P256_SHA_256",
            Self::EcdsaP384Sha384 => "PKIX_ECDSA_P384_SHA_384",
            Self::EcdsaP521Sha512 => "PKIX_ECDSA_P521_SHA_512",
            Self::RsaPkcs1Sha256 => "PKIX_RSA_PKCS1V15_2048_SHA256",
        }
    }

    /// Parses a Sigstore `PublicKeyDetails` name. The 2048, 3072 and 4096-bit RSA PKCS#1 v1.5
    /// SHA-256 names all map to [`Algorithm::RsaPkcs1Sha256`].
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedKeyDetails`] for any other name, including deprecated and
    /// not-yet-supported ones (`PKCS1_RSA_PKCS1V5`, `PKIX_RSA_PSS_*`, `ML_DSA_*`...).
    pub fn from_key_details(name: &str) -> Result<Self, Error> {
        Ok(match name {
            "PKIX_ED25519" => Self::Ed25519,
            "PKIX_ECDSA_P256_SHA_256" => Self::EcdsaP256Sha256,
            "PKIX_ECDSA_P384_SHA_384" => Self::EcdsaP384Sha384,
            "PKIX_ECDSA_P521_SHA_512" => Self::EcdsaP521Sha512,
            "PKIX_RSA_PKCS1V15_2048_SHA256"
            | "PKIX_RSA_PKCS1V15_3072_SHA256"
            | "PKIX_RSA_PKCS1V15_4096_SHA256" => Self::RsaPkcs1Sha256,
            _ => {
                return Err(Error::UnsupportedKeyDetails {
                    name: name.to_owned(),
                });
            }
        })
    }

    /// Whether [`SigningKey`](crate::SigningKey)s of this algorithm can be generated and used.
    pub const fn can_sign(&self) -> bool {
        !matches!(self, Self::RsaPkcs1Sha256)
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key_details())
    }
}

impl FromStr for Algorithm {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_key_details(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_details_round_trip() {
        for algorithm in Algorithm::ALL {
            assert_eq!(
                Algorithm::from_key_details(algorithm.key_details()),
                Ok(algorithm)
            );
            assert_eq!(algorithm.to_string().parse::<Algorithm>(), Ok(algorithm));
        }
    }

    #[test]
    fn rsa_sizes_share_a_variant() {
        for name in [
            "PKIX_RSA_PKCS1V15_3072_SHA256",
            "PKIX_RSA_PKCS1V15_4096_SHA256",
        ] {
            assert_eq!(
                Algorithm::from_key_details(name),
                Ok(Algorithm::RsaPkcs1Sha256),
                "{name}"
            );
        }
    }

    #[test]
    fn rejects_unknown_key_details() {
        for name in [
            "",
            "PKCS1_RSA_PKCS1V5",
            "PKIX_RSA_PSS_2048_SHA256",
            "pkix_ed25519",
            "ML_DSA_65",
        ] {
            assert_eq!(
                Algorithm::from_key_details(name),
                Err(Error::UnsupportedKeyDetails {
                    name: name.to_owned()
                }),
                "{name}"
            );
        }
    }
}
