//! The X.509 structures this crate encodes and signs itself (RFC 5280 §4.1), the OIDs of the
//! profile, and the helpers that turn a TBS into a signed certificate.
//!
//! x509-cert 0.3 keeps `TbsCertificate`'s fields `pub(crate)`, and precertificate issuance needs
//! to edit the extension list, so the TBS is mirrored here. The der crate decodes DER strictly,
//! so a decoded mirror re-encodes to the same bytes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{BitString, OctetString};
use der::{Decode, Encode, Sequence};
use spki::{AlgorithmIdentifierOwned, ObjectIdentifier, SubjectPublicKeyInfoOwned};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey};
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::Error;

/// ecdsa-with-SHA256 (RFC 5758 §3.2).
pub(crate) const ECDSA_WITH_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758 §3.2).
pub(crate) const ECDSA_WITH_SHA384: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758 §3.2).
pub(crate) const ECDSA_WITH_SHA512: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
/// sha256WithRSAEncryption (RFC 4055 §5).
pub(crate) const SHA256_WITH_RSA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// id-Ed25519 (RFC 8410 §3).
pub(crate) const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// id-ce-subjectKeyIdentifier.
pub(crate) const SUBJECT_KEY_IDENTIFIER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.14");
/// id-ce-keyUsage.
pub(crate) const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// id-ce-subjectAltName.
pub(crate) const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// id-ce-basicConstraints.
pub(crate) const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-ce-authorityKeyIdentifier.
pub(crate) const AUTHORITY_KEY_IDENTIFIER: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.5.29.35");
/// id-ce-extKeyUsage.
pub(crate) const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
/// id-kp-codeSigning (RFC 5280 §4.2.1.12).
pub(crate) const CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// RFC 6962 §3.1 precertificate poison.
pub(crate) const CT_POISON: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.3");
/// RFC 6962 §3.3 embedded SCT list.
pub(crate) const CT_SCT_LIST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");

/// RFC 5280 §4.1.2 `TBSCertificate`, with fields this crate can edit.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct TbsCertificate {
    #[asn1(context_specific = "0", default = "Default::default")]
    pub(crate) version: Version,
    pub(crate) serial_number: SerialNumber,
    pub(crate) signature: AlgorithmIdentifierOwned,
    pub(crate) issuer: Name,
    pub(crate) validity: Validity,
    pub(crate) subject: Name,
    pub(crate) subject_public_key_info: SubjectPublicKeyInfoOwned,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) issuer_unique_id: Option<BitString>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    pub(crate) subject_unique_id: Option<BitString>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) extensions: Option<Vec<Extension>>,
}

/// RFC 5280 §4.1 `Certificate`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub(crate) struct CertificateDer {
    pub(crate) tbs_certificate: TbsCertificate,
    pub(crate) signature_algorithm: AlgorithmIdentifierOwned,
    pub(crate) signature: BitString,
}

impl TbsCertificate {
    /// The extensions, or an empty slice.
    pub(crate) fn extensions(&self) -> &[Extension] {
        self.extensions.as_deref().unwrap_or_default()
    }

    /// The extension with `oid`, if present; an error if it is present more than once.
    pub(crate) fn extension(&self, oid: ObjectIdentifier) -> Result<Option<&Extension>, Error> {
        let mut found = self.extensions().iter().filter(|e| e.extn_id == oid);
        let first = found.next();
        if found.next().is_some() {
            return Err(Error::DuplicateExtension {
                oid: oid.to_string(),
            });
        }
        Ok(first)
    }

    /// A copy without the extensions whose OID is `oid`.
    pub(crate) fn without_extension(&self, oid: ObjectIdentifier) -> Self {
        let mut out = self.clone();
        out.extensions = Some(
            self.extensions()
                .iter()
                .filter(|e| e.extn_id != oid)
                .cloned()
                .collect(),
        );
        out
    }

    /// DER encoding.
    pub(crate) fn to_der_bytes(&self) -> Result<Vec<u8>, Error> {
        self.to_der()
            .map_err(|e| Error::encoding("TBSCertificate", e))
    }
}

impl CertificateDer {
    /// Parses DER, strictly.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, Error> {
        Self::from_der(der).map_err(|e| Error::MalformedCertificate {
            reason: e.to_string(),
        })
    }

    /// The subject public key, parsed.
    pub(crate) fn public_key(&self) -> Result<PublicKey, Error> {
        let spki = self
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| Error::encoding("SubjectPublicKeyInfo", e))?;
        PublicKey::from_spki_der(&spki).map_err(Error::from_key)
    }

    /// Verifies this certificate's signature under `issuer`, which must be a CA key of this
    /// profile (ECDSA P-256 or P-384) and match the signature algorithm.
    pub(crate) fn verify_signature(
        &self,
        issuer: &PublicKey,
        issuer_name: &'static str,
    ) -> Result<(), Error> {
        let expected = signature_algorithm(issuer.algorithm())?;
        if self.signature_algorithm != expected {
            return Err(Error::UnsupportedSignatureAlgorithm {
                oid: self.signature_algorithm.oid.to_string(),
            });
        }
        let tbs = self.tbs_certificate.to_der_bytes()?;
        let signature = self
            .signature
            .as_bytes()
            .ok_or(Error::MalformedCertificate {
                reason: "signature BIT STRING has unused bits".to_owned(),
            })?;
        issuer
            .verify(&tbs, signature)
            .map_err(|_| Error::CertificateSignatureInvalid {
                issuer: issuer_name,
            })
    }
}

/// Signs `tbs` with `key`, whose signature algorithm must already be in `tbs.signature`.
pub(crate) fn sign_tbs(tbs: TbsCertificate, key: &SigningKey) -> Result<Vec<u8>, Error> {
    let signature_algorithm = signature_algorithm(key.algorithm())?;
    let message = tbs.to_der_bytes()?;
    let signature = key.sign(&message).map_err(Error::Signing)?;
    let certificate = CertificateDer {
        tbs_certificate: tbs,
        signature_algorithm,
        signature: BitString::from_bytes(&signature)
            .map_err(|e| Error::encoding("signature", e))?,
    };
    certificate
        .to_der()
        .map_err(|e| Error::encoding("Certificate", e))
}

/// The X.509 signature AlgorithmIdentifier a CA key of `algorithm` signs with.
pub(crate) fn signature_algorithm(algorithm: Algorithm) -> Result<AlgorithmIdentifierOwned, Error> {
    let oid = match algorithm {
        Algorithm::EcdsaP256Sha256 => ECDSA_WITH_SHA256,
        Algorithm::EcdsaP384Sha384 => ECDSA_WITH_SHA384,
        other => return Err(Error::CaAlgorithmUnsupported { algorithm: other }),
    };
    // RFC 5758 §3.2: the parameters field MUST be absent.
    Ok(AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    })
}

/// An extension holding the DER of `value`.
pub(crate) fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
    name: &'static str,
) -> Result<Extension, Error> {
    let der = value.to_der().map_err(|e| Error::encoding(name, e))?;
    raw_extension(oid, critical, der, name)
}

/// An extension whose extnValue contents are `contents`, verbatim.
pub(crate) fn raw_extension(
    oid: ObjectIdentifier,
    critical: bool,
    contents: Vec<u8>,
    name: &'static str,
) -> Result<Extension, Error> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(contents).map_err(|e| Error::encoding(name, e))?,
    })
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits.
pub(crate) fn key_identifier(spki: &SubjectPublicKeyInfoOwned) -> Vec<u8> {
    let digest = waxseal_crypto::sha256(spki.subject_public_key.raw_bytes());
    digest[..20].to_vec()
}

/// Parses DER SubjectPublicKeyInfo into the x509-cert form.
pub(crate) fn spki_from_der(der: &[u8]) -> Result<SubjectPublicKeyInfoOwned, Error> {
    SubjectPublicKeyInfoOwned::from_der(der).map_err(|e| {
        Error::MalformedPublicKey(waxseal_crypto::Error::MalformedDer {
            structure: "SubjectPublicKeyInfo",
            offset: 0,
            reason: if matches!(e.kind(), der::ErrorKind::TrailingData { .. }) {
                "trailing data"
            } else {
                "not a SubjectPublicKeyInfo"
            },
        })
    })
}

/// A random positive serial number of at most 20 octets (RFC 5280 §4.1.2.2).
pub(crate) fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 20];
    waxseal_crypto::random_bytes(&mut bytes).map_err(Error::Signing)?;
    // Clear the sign bit so the INTEGER encodes in 20 octets; keep the first octet non-zero.
    bytes[0] = (bytes[0] & 0x7f) | 0x01;
    SerialNumber::new(&bytes).map_err(|e| Error::encoding("serial number", e))
}

/// Converts a time to seconds since the Unix epoch, failing before 1970.
pub(crate) fn unix_seconds(time: SystemTime) -> Result<u64, Error> {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => Ok(d.as_secs()),
        Err(e) => Err(Error::TimeOutOfRange {
            unix_seconds: -i128::from(e.duration().as_secs()),
        }),
    }
}

/// The X.509 `Time` for `time`, truncated to whole seconds: UTCTime through 2049,
/// GeneralizedTime after (RFC 5280 §4.1.2.5).
pub(crate) fn x509_time(time: SystemTime) -> Result<Time, Error> {
    let secs = unix_seconds(time)?;
    let truncated = UNIX_EPOCH + Duration::from_secs(secs);
    Time::try_from(truncated).map_err(|_| Error::TimeOutOfRange {
        unix_seconds: i128::from(secs),
    })
}

/// A validity window; `not_after` must be after `not_before`.
pub(crate) fn validity(not_before: SystemTime, not_after: SystemTime) -> Result<Validity, Error> {
    let (nb, na) = (unix_seconds(not_before)?, unix_seconds(not_after)?);
    if na <= nb {
        return Err(Error::ValidityInverted {
            not_before: nb,
            not_after: na,
        });
    }
    Ok(Validity::new(x509_time(not_before)?, x509_time(not_after)?))
}
