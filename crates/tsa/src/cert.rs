//! X.509 certificates: issuing the TSA's root and leaf (RFC 5280 §4.1), and checking a TSA chain
//! (signatures, names, CA flags, the RFC 3161 §2.3 EKU rule, validity at a time).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::asn1::{BitString, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey};
use x509_cert::Certificate;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::name::Name;

use crate::asn1::{CertificateOut, RawCertificate, TbsCertificate, Validity};
use crate::{Error, HashAlgorithm, oid};

/// A certificate with its original DER, the TBS bytes as received and its subject key.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    tbs_der: Vec<u8>,
    signature_algorithm: ObjectIdentifier,
    signature: Vec<u8>,
    pub(crate) parsed: Certificate,
    pub(crate) key: PublicKey,
}

impl Cert {
    pub(crate) fn parse(der: &[u8]) -> Result<Self, Error> {
        let raw = RawCertificate::from_der(der).map_err(Error::der("Certificate"))?;
        let parsed = Certificate::from_der(der).map_err(Error::der("Certificate"))?;
        let tbs_der = raw
            .tbs_certificate
            .to_der()
            .map_err(Error::der("TBSCertificate"))?;
        let spki = parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(Error::der("SubjectPublicKeyInfo"))?;
        let signature = raw
            .signature
            .as_bytes()
            .ok_or_else(|| Error::MalformedDer {
                structure: "Certificate",
                reason: "signature BIT STRING has unused bits".to_owned(),
            })?
            .to_vec();
        Ok(Self {
            der: der.to_vec(),
            tbs_der,
            signature_algorithm: raw.signature_algorithm.oid,
            signature,
            key: PublicKey::from_spki_der(&spki)?,
            parsed,
        })
    }

    pub(crate) fn subject(&self) -> &Name {
        self.parsed.tbs_certificate().subject()
    }

    pub(crate) fn issuer(&self) -> &Name {
        self.parsed.tbs_certificate().issuer()
    }

    pub(crate) fn serial(&self) -> &[u8] {
        self.parsed.tbs_certificate().serial_number().as_bytes()
    }

    /// (notBefore, notAfter) in unix seconds.
    pub(crate) fn validity(&self) -> (u64, u64) {
        let v = self.parsed.tbs_certificate().validity();
        (
            v.not_before.to_unix_duration().as_secs(),
            v.not_after.to_unix_duration().as_secs(),
        )
    }

    pub(crate) fn check_valid_at(&self, index: usize, time: u64) -> Result<(), Error> {
        let (not_before, not_after) = self.validity();
        if not_before <= time && time <= not_after {
            Ok(())
        } else {
            Err(Error::CertificateNotValidAt {
                index,
                time,
                not_before,
                not_after,
            })
        }
    }

    fn is_signed_by(&self, issuer: &PublicKey) -> bool {
        verify_signature(
            issuer,
            &self.signature_algorithm,
            &self.tbs_der,
            &self.signature,
        )
        .is_ok()
    }

    fn extension<'a, T: Decode<'a> + const_oid::AssociatedOid>(
        &'a self,
        index: usize,
    ) -> Result<Option<(bool, T)>, Error> {
        self.parsed
            .tbs_certificate()
            .get_extension::<T>()
            .map_err(|e| Error::MalformedDer {
                structure: "certificate extension",
                reason: format!("certificate {index}: {e}"),
            })
    }
}

/// Verifies a signature whose algorithm OID names the hash (ECDSA with SHA-2).
pub(crate) fn verify_signature(
    key: &PublicKey,
    algorithm: &ObjectIdentifier,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let hash = match *algorithm {
        oid::ECDSA_WITH_SHA256 => HashAlgorithm::Sha256,
        oid::ECDSA_WITH_SHA384 => HashAlgorithm::Sha384,
        oid::ECDSA_WITH_SHA512 => HashAlgorithm::Sha512,
        _ => {
            return Err(Error::UnsupportedAlgorithm {
                role: "signature",
                oid: algorithm.to_string(),
            });
        }
    };
    if !matches!(
        key.algorithm(),
        Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384 | Algorithm::EcdsaP521Sha512
    ) {
        return Err(Error::UnsupportedAlgorithm {
            role: "ECDSA signature key",
            oid: key.key_details().to_owned(),
        });
    }
    key.verify_prehashed(&hash.digest(message), signature)?;
    Ok(())
}

/// Which checks [`check_chain`] makes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChainCheck {
    /// Check every certificate's validity at this time (unix seconds).
    pub(crate) at: Option<u64>,
}

/// Checks a TSA chain `[leaf, intermediates..., root]`: each certificate is signed by the next,
/// names chain, issuers are CAs, the root is self-signed, no unknown critical extensions, and
/// the leaf has the RFC 3161 §2.3 profile. Optionally checks validity at a time.
pub(crate) fn check_chain(chain: &[Cert], check: ChainCheck) -> Result<(), Error> {
    const MIN: usize = 2;
    let (Some(leaf), Some(root)) = (chain.first(), chain.last()) else {
        return Err(Error::ChainTooShort { len: 0, min: MIN });
    };
    if chain.len() < MIN {
        return Err(Error::ChainTooShort {
            len: chain.len(),
            min: MIN,
        });
    }
    for (index, cert) in chain.iter().enumerate() {
        check_critical_extensions(cert, index)?;
        if let Some(time) = check.at {
            cert.check_valid_at(index, time)?;
        }
    }
    for (index, pair) in chain.windows(2).enumerate() {
        let [cert, issuer] = pair else { continue };
        if cert.issuer() != issuer.subject() {
            return Err(Error::IssuerMismatch { index });
        }
        check_is_ca(issuer, index + 1)?;
        if !cert.is_signed_by(&issuer.key) {
            return Err(Error::CertificateSignatureInvalid {
                index,
                issuer_index: index + 1,
            });
        }
    }
    if root.issuer() != root.subject() || !root.is_signed_by(&root.key) {
        return Err(Error::RootNotSelfSigned);
    }
    check_tsa_leaf(leaf)
}

fn check_critical_extensions(cert: &Cert, index: usize) -> Result<(), Error> {
    const UNDERSTOOD: [ObjectIdentifier; 7] = [
        oid::AUTHORITY_KEY_IDENTIFIER,
        oid::BASIC_CONSTRAINTS,
        oid::CERTIFICATE_POLICIES,
        oid::EXT_KEY_USAGE,
        oid::KEY_USAGE,
        oid::SUBJECT_ALT_NAME,
        oid::SUBJECT_KEY_IDENTIFIER,
    ];
    let extensions = cert.parsed.tbs_certificate().extensions();
    for ext in extensions.into_iter().flatten() {
        if ext.critical && !UNDERSTOOD.contains(&ext.extn_id) {
            return Err(Error::UnsupportedCriticalExtension {
                index,
                oid: ext.extn_id.to_string(),
            });
        }
    }
    Ok(())
}

fn check_is_ca(cert: &Cert, index: usize) -> Result<(), Error> {
    match cert.extension::<BasicConstraints>(index)? {
        Some((_, bc)) if bc.ca => {}
        Some(_) => {
            return Err(Error::IssuerNotCa {
                index,
                reason: "basicConstraints cA is false",
            });
        }
        None => {
            return Err(Error::IssuerNotCa {
                index,
                reason: "no basicConstraints extension",
            });
        }
    }
    if let Some((_, ku)) = cert.extension::<KeyUsage>(index)?
        && !ku.key_cert_sign()
    {
        return Err(Error::KeyUsageInvalid {
            index,
            required: "keyCertSign",
        });
    }
    Ok(())
}

/// RFC 3161 §2.3: "The corresponding certificate MUST contain only one instance of the extended
/// key usage field extension ... with KeyPurposeID having value id-kp-timeStamping. This
/// extension MUST be critical."
fn check_tsa_leaf(leaf: &Cert) -> Result<(), Error> {
    let invalid = |reason| Error::ExtendedKeyUsageInvalid { index: 0, reason };
    let extensions = leaf.parsed.tbs_certificate().extensions();
    let eku_count = extensions
        .into_iter()
        .flatten()
        .filter(|e| e.extn_id == oid::EXT_KEY_USAGE)
        .count();
    if eku_count > 1 {
        return Err(invalid("more than one extendedKeyUsage extension"));
    }
    match leaf.extension::<ExtendedKeyUsage>(0)? {
        None => return Err(invalid("no extendedKeyUsage extension")),
        Some((false, _)) => return Err(invalid("extendedKeyUsage is not critical")),
        Some((true, eku)) if eku.0 != [oid::KP_TIME_STAMPING] => {
            return Err(invalid(
                "extendedKeyUsage is not exactly id-kp-timeStamping",
            ));
        }
        Some(_) => {}
    }
    if let Some((_, ku)) = leaf.extension::<KeyUsage>(0)?
        && !ku.digital_signature()
        && !ku.non_repudiation()
    {
        return Err(Error::KeyUsageInvalid {
            index: 0,
            required: "digitalSignature or nonRepudiation",
        });
    }
    Ok(())
}

/// What to put in an issued certificate.
pub(crate) struct Issue<'a> {
    pub(crate) issuer: &'a Name,
    pub(crate) issuer_key: &'a SigningKey,
    pub(crate) subject: &'a Name,
    pub(crate) subject_key: &'a PublicKey,
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    pub(crate) ca: bool,
    /// For a leaf: the EKU id-kp-timeStamping extension's criticality, or `None` to omit it
    /// (only tests omit it or make it non-critical).
    pub(crate) eku_critical: Option<bool>,
}

impl Issue<'_> {
    /// Builds and signs the certificate (ECDSA P-256 with SHA-256).
    pub(crate) fn sign(&self) -> Result<Vec<u8>, Error> {
        let der_err = Error::encode("TBSCertificate");
        let spki = SubjectPublicKeyInfoOwned::from_der(self.subject_key.spki_der())
            .map_err(Error::encode("SubjectPublicKeyInfo"))?;
        let ski = key_identifier(self.subject_key);
        let aki = key_identifier(&self.issuer_key.public_key());
        let mut serial = [0u8; 16];
        waxseal_crypto::random_bytes(&mut serial)?;
        // Positive, minimal, non-zero (RFC 5280 §4.1.2.2).
        serial[0] = (serial[0] & 0x7f) | 0x40;
        let ext = |extn_id, critical, value: Vec<u8>| -> Result<Extension, Error> {
            Ok(Extension {
                extn_id,
                critical,
                extn_value: OctetString::new(value).map_err(Error::encode("Extension"))?,
            })
        };
        let mut extensions = Vec::new();
        if self.ca {
            let bc = BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            };
            extensions.push(ext(
                oid::BASIC_CONSTRAINTS,
                true,
                bc.to_der().map_err(&der_err)?,
            )?);
            // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, one unused bit.
            let ku = BitString::new(1, [0x06]).map_err(&der_err)?;
            extensions.push(ext(oid::KEY_USAGE, true, ku.to_der().map_err(&der_err)?)?);
        } else {
            // digitalSignature (bit 0): 0b1000_0000, seven unused bits.
            let ku = BitString::new(7, [0x80]).map_err(&der_err)?;
            extensions.push(ext(oid::KEY_USAGE, true, ku.to_der().map_err(&der_err)?)?);
            if let Some(critical) = self.eku_critical {
                let eku = ExtendedKeyUsage(vec![oid::KP_TIME_STAMPING]);
                let value = eku.to_der().map_err(&der_err)?;
                extensions.push(ext(oid::EXT_KEY_USAGE, critical, value)?);
            }
        }
        let ski_value = OctetString::new(ski.to_vec()).map_err(&der_err)?;
        extensions.push(ext(
            oid::SUBJECT_KEY_IDENTIFIER,
            false,
            ski_value.to_der().map_err(&der_err)?,
        )?);
        if !self.ca || self.issuer != self.subject {
            let aki = AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(aki.to_vec()).map_err(&der_err)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            };
            extensions.push(ext(
                oid::AUTHORITY_KEY_IDENTIFIER,
                false,
                aki.to_der().map_err(&der_err)?,
            )?);
        }
        let algorithm = AlgorithmIdentifierOwned {
            oid: oid::ECDSA_WITH_SHA256,
            parameters: None,
        };
        let tbs = TbsCertificate {
            version: 2,
            serial_number: Int::new(&serial).map_err(&der_err)?,
            signature: algorithm.clone(),
            issuer: self.issuer.clone(),
            validity: Validity {
                not_before: x509_time(self.not_before)?,
                not_after: x509_time(self.not_after)?,
            },
            subject: self.subject.clone(),
            subject_public_key_info: spki,
            extensions,
        };
        let tbs_der = tbs.to_der().map_err(&der_err)?;
        let signature = self.issuer_key.sign(&tbs_der)?;
        CertificateOut {
            tbs_certificate: tbs,
            signature_algorithm: algorithm,
            signature: BitString::from_bytes(&signature).map_err(&der_err)?,
        }
        .to_der()
        .map_err(Error::encode("Certificate"))
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of the SHA-256 of the subjectPublicKey bits.
fn key_identifier(key: &PublicKey) -> [u8; 20] {
    let bits = SubjectPublicKeyInfoOwned::from_der(key.spki_der())
        .ok()
        .and_then(|spki| spki.subject_public_key.as_bytes().map(<[u8]>::to_vec))
        .unwrap_or_else(|| key.spki_der().to_vec());
    let digest = waxseal_crypto::sha256(&bits);
    let mut out = [0u8; 20];
    out.copy_from_slice(&digest[..20]);
    out
}

/// Whole seconds since the epoch.
pub(crate) fn unix_seconds(time: SystemTime) -> Result<u64, Error> {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| Error::TimeOutOfRange { unix_seconds: 0 })
}

/// An RFC 5280 §4.1.2.5 Time (UTCTime through 2049, GeneralizedTime after), whole seconds.
pub(crate) fn x509_time(time: SystemTime) -> Result<x509_cert::time::Time, Error> {
    let secs = unix_seconds(time)?;
    x509_cert::time::Time::try_from(UNIX_EPOCH + Duration::from_secs(secs))
        .map_err(|_| Error::TimeOutOfRange { unix_seconds: secs })
}
