//! X.509 as verification needs it (RFC 5280 §4.1): certificates split into their signed TBS,
//! signature algorithm and signature; names compared as DER; signatures checked under the
//! issuer's key. Fulcio's profile fields are read by `waxseal_x509::parse_leaf`.

use std::time::SystemTime;

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierRef;
use waxseal_crypto::{Algorithm, PublicKey, sha256, sha384, sha512};
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::time::Validity;

/// ecdsa-with-SHA256 (RFC 5758 §3.2).
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384.
const ECDSA_WITH_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512.
const ECDSA_WITH_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
/// sha256WithRSAEncryption (RFC 4055 §5).
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
/// id-ce-keyUsage.
const KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
/// id-ce-subjectAltName.
const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
/// id-ce-basicConstraints.
const BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
/// id-ce-extKeyUsage.
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

/// The critical extensions a leaf may carry: the ones this verifier processes.
const KNOWN_CRITICAL: [ObjectIdentifier; 4] = [
    KEY_USAGE,
    SUBJECT_ALT_NAME,
    BASIC_CONSTRAINTS,
    EXT_KEY_USAGE,
];

/// RFC 5280 §4.1 `Certificate`, borrowing the input.
#[derive(Sequence)]
struct CertificateRef<'a> {
    tbs_certificate: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierRef<'a>,
    signature: BitStringRef<'a>,
}

/// RFC 5280 §4.1.2 `TBSCertificate`, borrowing what verification compares.
#[derive(Sequence)]
struct TbsRef<'a> {
    #[asn1(context_specific = "0", default = "Default::default")]
    version: Version,
    serial_number: AnyRef<'a>,
    signature: AnyRef<'a>,
    issuer: AnyRef<'a>,
    validity: Validity,
    subject: AnyRef<'a>,
    subject_public_key_info: AnyRef<'a>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    issuer_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT", optional = "true")]
    subject_unique_id: Option<BitStringRef<'a>>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    extensions: Option<Vec<Extension>>,
}

/// A certificate split for verification.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    /// The DER TBSCertificate, the signed bytes.
    tbs: Vec<u8>,
    signature_algorithm: ObjectIdentifier,
    signature: Vec<u8>,
    /// DER of the issuer Name.
    issuer: Vec<u8>,
    /// DER of the subject Name.
    subject: Vec<u8>,
    /// DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    /// BasicConstraints cA.
    pub(crate) is_ca: bool,
    /// KeyUsage keyCertSign, or no KeyUsage at all.
    pub(crate) may_sign_certificates: bool,
    /// OIDs of critical extensions this verifier does not process.
    pub(crate) unknown_critical: Vec<String>,
}

impl Cert {
    /// Splits a DER certificate.
    pub(crate) fn parse(der: &[u8]) -> Result<Self, String> {
        let cert = CertificateRef::from_der(der).map_err(|e| e.to_string())?;
        let tbs_der = cert.tbs_certificate.to_der().map_err(|e| e.to_string())?;
        let tbs = TbsRef::from_der(&tbs_der).map_err(|e| format!("TBSCertificate: {e}"))?;
        // RFC 5280 §4.1.1.2: the outer algorithm MUST equal the TBS one.
        let outer = cert
            .signature_algorithm
            .to_der()
            .map_err(|e| e.to_string())?;
        if tbs.signature.to_der().map_err(|e| e.to_string())? != outer {
            return Err("TBSCertificate signature algorithm differs from the outer one".to_owned());
        }
        let signature = cert
            .signature
            .as_bytes()
            .ok_or("signature BIT STRING has unused bits")?
            .to_vec();
        let mut is_ca = false;
        let mut may_sign_certificates = true;
        let mut unknown_critical = Vec::new();
        for e in tbs.extensions.as_deref().unwrap_or_default() {
            if e.extn_id == BASIC_CONSTRAINTS {
                is_ca = BasicConstraints::from_der(e.extn_value.as_bytes())
                    .map_err(|err| format!("BasicConstraints: {err}"))?
                    .ca;
            } else if e.extn_id == KEY_USAGE {
                may_sign_certificates = KeyUsage::from_der(e.extn_value.as_bytes())
                    .map_err(|err| format!("KeyUsage: {err}"))?
                    .key_cert_sign();
            }
            if e.critical && !KNOWN_CRITICAL.contains(&e.extn_id) {
                unknown_critical.push(e.extn_id.to_string());
            }
        }
        Ok(Self {
            signature_algorithm: cert.signature_algorithm.oid,
            signature,
            issuer: tbs.issuer.to_der().map_err(|e| e.to_string())?,
            subject: tbs.subject.to_der().map_err(|e| e.to_string())?,
            spki: tbs
                .subject_public_key_info
                .to_der()
                .map_err(|e| e.to_string())?,
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            is_ca,
            may_sign_certificates,
            unknown_critical,
            tbs: tbs_der,
        })
    }

    /// DER of the subject public key info.
    pub(crate) fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// Whether this certificate names `issuer` as its issuer.
    pub(crate) fn issued_by_name(&self, issuer: &Cert) -> bool {
        self.issuer == issuer.subject
    }

    /// Whether it is self-issued.
    pub(crate) fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// The issuer Name, for messages (RFC 4514-ish, from x509-cert).
    pub(crate) fn issuer_text(&self) -> String {
        x509_cert::name::Name::from_der(&self.issuer)
            .map(|n| n.to_string())
            .unwrap_or_else(|_| hex::encode(&self.issuer))
    }

    /// Whether `time` is within notBefore..=notAfter.
    pub(crate) fn valid_at(&self, time: SystemTime) -> bool {
        self.not_before <= time && time <= self.not_after
    }

    /// Verifies the signature under `issuer`'s key: ECDSA with SHA-256/384/512, or RSA PKCS#1
    /// v1.5 SHA-256.
    pub(crate) fn verify_signed_by(&self, issuer: &PublicKey) -> Result<(), String> {
        let ecdsa = matches!(
            issuer.algorithm(),
            Algorithm::EcdsaP256Sha256 | Algorithm::EcdsaP384Sha384 | Algorithm::EcdsaP521Sha512
        );
        let result = match self.signature_algorithm {
            ECDSA_WITH_SHA256 if ecdsa => {
                issuer.verify_prehashed(&sha256(&self.tbs), &self.signature)
            }
            ECDSA_WITH_SHA384 if ecdsa => {
                issuer.verify_prehashed(&sha384(&self.tbs), &self.signature)
            }
            ECDSA_WITH_SHA512 if ecdsa => {
                issuer.verify_prehashed(&sha512(&self.tbs), &self.signature)
            }
            SHA256_WITH_RSA if issuer.algorithm() == Algorithm::RsaPkcs1Sha256 => {
                issuer.verify(&self.tbs, &self.signature)
            }
            other => {
                return Err(format!(
                    "signature algorithm {other} is not supported with a {} issuer key",
                    issuer.key_details()
                ));
            }
        };
        result.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_without_panicking() {
        for input in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x00",
            &[0x30, 0x82, 0xff, 0xff],
        ] {
            assert!(Cert::parse(input).is_err());
        }
    }
}
