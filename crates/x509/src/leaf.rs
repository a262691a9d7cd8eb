//! Leaf issuance in the Fulcio profile (sigstore/fulcio `docs/certificate-specification.md`):
//! precertificate, then the final certificate with the embedded SCT list (RFC 6962 §3.1, §3.3),
//! and reading a leaf back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use der::asn1::{Ia5String, Utf8StringRef};
use der::{Any, Decode};
use spki::ObjectIdentifier;
use waxseal_crypto::{PublicKey, pem};
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::name::{GeneralName, OtherName};
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName,
};
use x509_cert::name::Name;

use crate::Error;
use crate::ca::{CertificateAuthority, authority_key_identifier, subject_key_identifier};
use crate::certificate::{
    BASIC_CONSTRAINTS, CODE_SIGNING, CT_POISON, CT_SCT_LIST, CertificateDer, EXT_KEY_USAGE,
    KEY_USAGE, SUBJECT_ALT_NAME, TbsCertificate, extension, key_identifier, random_serial,
    raw_extension, sign_tbs, signature_algorithm, spki_from_der, validity,
};
use crate::sct::{SignedCertificateTimestamp, encode_sct_list, parse_sct_list};

/// The Sigstore OID arc for Fulcio extensions (`docs/oid-info.md`).
const SIGSTORE_ARC: &str = "1.3.6.1.4.1.57264.1";
/// OIDC issuer, deprecated form: raw ASCII bytes as the extnValue contents.
const ISSUER_V1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// OIDC issuer, DER UTF8String.
const ISSUER_V2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// The otherName type of a username SAN.
const OTHER_NAME_SAN: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.7");
/// Last Sigstore extension number this crate knows to be a DER UTF8String.
const LAST_SIGSTORE_EXTENSION: u32 = 24;

/// The identity a leaf certifies: its one, critical SubjectAltName.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum San {
    /// `rfc822Name`: an email address (token `email` claim).
    Email(String),
    /// otherName `1.3.6.1.4.1.57264.1.7` with a UTF8String username.
    OtherName(String),
    /// `uniformResourceIdentifier` (CI workflow identities, SPIFFE IDs, `sub` URIs).
    Uri(String),
}

impl San {
    /// The value, whatever the kind.
    pub fn value(&self) -> &str {
        match self {
            Self::Email(v) | Self::OtherName(v) | Self::Uri(v) => v,
        }
    }

    fn to_general_name(&self) -> Result<GeneralName, Error> {
        let invalid = |reason| Error::SanInvalid {
            value: self.value().to_owned(),
            reason,
        };
        match self {
            Self::Email(v) => {
                let (local, domain) = v.split_once('@').ok_or(invalid("an email needs an @"))?;
                if local.is_empty() || domain.is_empty() {
                    return Err(invalid("an email needs a local part and a domain"));
                }
                let name = Ia5String::new(v).map_err(|_| invalid("an email must be ASCII"))?;
                Ok(GeneralName::Rfc822Name(name))
            }
            Self::Uri(v) => {
                let (scheme, rest) = v.split_once(':').ok_or(invalid("a URI needs a scheme"))?;
                if scheme.is_empty() || rest.is_empty() {
                    return Err(invalid("a URI needs a scheme and a body"));
                }
                let name = Ia5String::new(v).map_err(|_| invalid("a URI must be ASCII"))?;
                Ok(GeneralName::UniformResourceIdentifier(name))
            }
            Self::OtherName(v) => {
                if v.is_empty() {
                    return Err(invalid("a username must not be empty"));
                }
                let utf8 = Utf8StringRef::new(v).map_err(|_| invalid("not a UTF8String"))?;
                let value = Any::encode_from(&utf8).map_err(|_| invalid("not a UTF8String"))?;
                Ok(GeneralName::OtherName(OtherName {
                    type_id: OTHER_NAME_SAN,
                    value,
                }))
            }
        }
    }

    fn from_general_name(name: &GeneralName) -> Option<Self> {
        match name {
            GeneralName::Rfc822Name(v) => Some(Self::Email(v.to_string())),
            GeneralName::UniformResourceIdentifier(v) => Some(Self::Uri(v.to_string())),
            GeneralName::OtherName(o) if o.type_id == OTHER_NAME_SAN => {
                Utf8StringRef::try_from(&o.value)
                    .ok()
                    .map(|s| Self::OtherName(s.as_str().to_owned()))
            }
            _ => None,
        }
    }
}

/// What a leaf certificate will say: key, identity, OIDC issuer, Sigstore extensions, validity.
///
/// Build it with [`LeafRequest::new`], add extensions with [`LeafRequest::with_extension`].
#[derive(Debug, Clone)]
pub struct LeafRequest {
    public_key: PublicKey,
    san: San,
    issuer: String,
    extensions: Vec<(u32, String)>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl LeafRequest {
    /// A request for `public_key` with identity `san`, token issuer `oidc_issuer` (written to
    /// both `1.3.6.1.4.1.57264.1.1` and `.8`), valid from `not_before` to `not_after` (Fulcio:
    /// 10 minutes). Times are truncated to whole seconds.
    ///
    /// # Errors
    ///
    /// [`Error::SanInvalid`] if the SAN is not well-formed for its kind,
    /// [`Error::OidcIssuerEmpty`], [`Error::ValidityInverted`] if `not_after` is not after `not_before`, and
    /// [`Error::TimeOutOfRange`].
    pub fn new(
        public_key: PublicKey,
        san: San,
        oidc_issuer: impl Into<String>,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<Self, Error> {
        san.to_general_name()?;
        validity(not_before, not_after)?;
        let issuer = oidc_issuer.into();
        if issuer.is_empty() {
            return Err(Error::OidcIssuerEmpty);
        }
        Ok(Self {
            public_key,
            san,
            issuer,
            extensions: Vec::new(),
            not_before,
            not_after,
        })
    }

    /// Adds a Sigstore extension by dotted OID: `1.3.6.1.4.1.57264.1.2`–`.6` (deprecated GitHub
    /// claims, raw bytes) or `.9`–`.24` (DER UTF8String), per `docs/oid-info.md`. The issuer
    /// OIDs `.1` and `.8` come from [`LeafRequest::new`] and `.7` is a SAN type, not an
    /// extension.
    ///
    /// # Errors
    ///
    /// [`Error::ExtensionNotAllowed`] for other OIDs, [`Error::DuplicateExtension`] if it was
    /// already added.
    pub fn with_extension(mut self, oid: &str, value: impl Into<String>) -> Result<Self, Error> {
        let not_allowed = || Error::ExtensionNotAllowed {
            oid: oid.to_owned(),
        };
        let number = sigstore_number(oid).ok_or_else(not_allowed)?;
        if !matches!(number, 2..=6 | 9..=LAST_SIGSTORE_EXTENSION) {
            return Err(not_allowed());
        }
        if self.extensions.iter().any(|(n, _)| *n == number) {
            return Err(Error::DuplicateExtension {
                oid: oid.to_owned(),
            });
        }
        self.extensions.push((number, value.into()));
        Ok(self)
    }

    /// The subject public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The identity.
    pub fn san(&self) -> &San {
        &self.san
    }

    /// The OIDC issuer.
    pub fn oidc_issuer(&self) -> &str {
        &self.issuer
    }
}

/// A signed precertificate (RFC 6962 §3.1): the leaf TBS plus the critical poison extension.
/// Submit [`Precertificate::der`] to the CT log, then pass the SCT to
/// [`CertificateAuthority::finish`].
#[derive(Debug, Clone)]
pub struct Precertificate {
    der: Vec<u8>,
    tbs: TbsCertificate,
    precert_tbs: Vec<u8>,
    issuer_key_hash: [u8; 32],
}

impl Precertificate {
    /// Reads a precertificate received by a CT log (a static-ct-api `add-pre-chain`), checks
    /// that it carries exactly one critical poison extension whose value is ASN.1 NULL and that
    /// its signature verifies under `issuer` (the issuing CA's key, ECDSA P-256 or P-384), and
    /// derives the RFC 6962 precertificate TBS and issuer key hash for the SCT.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedCertificate`], [`Error::DuplicateExtension`], [`Error::PoisonInvalid`],
    /// [`Error::CaAlgorithmUnsupported`], [`Error::UnsupportedSignatureAlgorithm`] and
    /// [`Error::CertificateSignatureInvalid`].
    pub fn from_der(der: &[u8], issuer: &PublicKey) -> Result<Self, Error> {
        let cert = CertificateDer::parse(der)?;
        let poison = cert
            .tbs_certificate
            .extension(CT_POISON)?
            .ok_or(Error::PoisonInvalid {
                reason: "no poison extension",
            })?;
        if !poison.critical {
            return Err(Error::PoisonInvalid {
                reason: "the poison extension is not critical",
            });
        }
        if poison.extn_value.as_bytes() != [0x05, 0x00] {
            return Err(Error::PoisonInvalid {
                reason: "the poison extension's value is not NULL",
            });
        }
        cert.verify_signature(issuer, "issuer")?;
        let precert_tbs = cert
            .tbs_certificate
            .without_extension(CT_POISON)
            .to_der_bytes()?;
        Ok(Self {
            der: der.to_vec(),
            tbs: cert.tbs_certificate,
            precert_tbs,
            issuer_key_hash: waxseal_crypto::sha256(issuer.spki_der()),
        })
    }

    /// The signed precertificate, DER (what a static-ct-api `add-pre-chain` carries).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The RFC 6962 §3.2 `tbs_certificate` of a `PreCert`: the TBS without the poison
    /// extension. It is also exactly the final certificate's TBS without its SCT list.
    pub fn precert_tbs(&self) -> &[u8] {
        &self.precert_tbs
    }

    /// The RFC 6962 `issuer_key_hash`: SHA-256 of the issuing CA's DER SubjectPublicKeyInfo.
    pub fn issuer_key_hash(&self) -> &[u8; 32] {
        &self.issuer_key_hash
    }

    /// The full RFC 6962 §3.2 `digitally-signed` input for an SCT with this timestamp (ms) and
    /// these `CtExtensions`.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedSct`] if `extensions` exceed 65535 bytes.
    pub fn sct_signing_input(&self, timestamp: u64, extensions: &[u8]) -> Result<Vec<u8>, Error> {
        crate::sct::sct_signing_input(
            timestamp,
            &self.issuer_key_hash,
            &self.precert_tbs,
            extensions,
        )
    }
}

/// A certificate's DER encoding, as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl Certificate {
    /// Wraps DER bytes after checking that they parse as a certificate.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedCertificate`].
    pub fn from_der(der: Vec<u8>) -> Result<Self, Error> {
        CertificateDer::parse(&der)?;
        Ok(Self { der })
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject public key (for a CA certificate, what SCTs' `issuer_key_hash` hashes).
    ///
    /// # Errors
    ///
    /// [`Error::MalformedPublicKey`] or an unsupported-key error if the key does not parse.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        CertificateDer::parse(&self.der)?.public_key()
    }

    /// Verifies that `issuer` signed this certificate (ECDSA P-256 or P-384 issuer keys).
    ///
    /// # Errors
    ///
    /// [`Error::CertificateSignatureInvalid`] if it did not, and the algorithm errors.
    pub fn verify_issued_by(&self, issuer: &PublicKey) -> Result<(), Error> {
        CertificateDer::parse(&self.der)?.verify_signature(issuer, "the issuer")
    }

    /// PEM in Go's layout (64-column lines, `\n`, trailing `\n`), which Sigstore clients copy
    /// into log entries and compare byte for byte.
    pub fn to_pem(&self) -> String {
        pem::encode(pem::CERTIFICATE, &self.der)
    }
}

impl CertificateAuthority {
    /// Issues the precertificate for `request`: X.509 v3, a random positive 20-byte serial, the
    /// intermediate as issuer, empty subject, and extensions in this order: KeyUsage
    /// digitalSignature (critical), EKU codeSigning, SKI, AKI, SAN (critical), OIDC issuer
    /// `.1` (raw) and `.8` (UTF8String), the other Sigstore extensions in OID order, then the
    /// critical CT poison.
    ///
    /// # Errors
    ///
    /// [`Error::SanInvalid`], [`Error::Encoding`], [`Error::TimeOutOfRange`] and
    /// [`Error::Signing`].
    pub fn issue_precertificate(&self, request: &LeafRequest) -> Result<Precertificate, Error> {
        let spki = spki_from_der(request.public_key.spki_der())?;
        let ski = key_identifier(&spki);
        let issuer_tbs = &self.intermediate().tbs_certificate;
        let authority_id = key_identifier(&issuer_tbs.subject_public_key_info);
        let issuer_value =
            Utf8StringRef::new(&request.issuer).map_err(|e| Error::encoding("OIDC issuer", e))?;
        let mut extensions = vec![
            extension(
                KEY_USAGE,
                true,
                &KeyUsage(KeyUsages::DigitalSignature.into()),
                "KeyUsage",
            )?,
            extension(
                EXT_KEY_USAGE,
                false,
                &ExtendedKeyUsage(vec![CODE_SIGNING]),
                "ExtendedKeyUsage",
            )?,
            subject_key_identifier(&ski)?,
            authority_key_identifier(&authority_id)?,
            extension(
                SUBJECT_ALT_NAME,
                true,
                &SubjectAltName(vec![request.san.to_general_name()?]),
                "SubjectAltName",
            )?,
            raw_extension(
                ISSUER_V1,
                false,
                request.issuer.as_bytes().to_vec(),
                "OIDC issuer",
            )?,
            extension(ISSUER_V2, false, &issuer_value, "OIDC issuer (v2)")?,
        ];
        let mut sigstore = request.extensions.clone();
        sigstore.sort();
        for (number, value) in &sigstore {
            let oid = ObjectIdentifier::new(&format!("{SIGSTORE_ARC}.{number}"))
                .map_err(|e| Error::encoding("extension OID", e.into()))?;
            // oid-info.md: .1-.6 are raw strings; .8 and later are DER UTF8Strings.
            let ext = if *number <= 6 {
                raw_extension(oid, false, value.as_bytes().to_vec(), "Sigstore extension")?
            } else {
                let value = Utf8StringRef::new(value)
                    .map_err(|e| Error::encoding("Sigstore extension", e))?;
                extension(oid, false, &value, "Sigstore extension")?
            };
            extensions.push(ext);
        }
        let mut tbs = TbsCertificate {
            version: Version::V3,
            serial_number: random_serial()?,
            signature: signature_algorithm(self.algorithm())?,
            issuer: issuer_tbs.subject.clone(),
            validity: validity(request.not_before, request.not_after)?,
            subject: Name::default(),
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(extensions),
        };
        let precert_tbs = tbs.to_der_bytes()?;
        // RFC 6962 §3.1: the poison is critical and its value is ASN.1 NULL.
        tbs.extensions
            .get_or_insert_with(Vec::new)
            .push(raw_extension(
                CT_POISON,
                true,
                vec![0x05, 0x00],
                "CT poison",
            )?);
        let der = sign_tbs(tbs.clone(), self.signing_key())?;
        Ok(Precertificate {
            der,
            tbs,
            precert_tbs,
            issuer_key_hash: self.issuer_key_hash(),
        })
    }

    /// Issues the final certificate: the precertificate's TBS with the poison replaced by the
    /// SCT list extension (non-critical, last), so that removing the SCT list reproduces
    /// [`Precertificate::precert_tbs`] byte for byte. Serial, validity and every other extension
    /// are the precertificate's.
    ///
    /// Exactly one SCT is accepted: sigstore-python requires exactly one embedded SCT. The SCT
    /// is not verified here; check it with [`crate::verify_sct`] first.
    ///
    /// # Errors
    ///
    /// [`Error::SctCount`], [`Error::CertificateSignatureInvalid`] if the precertificate was not
    /// issued by this CA, [`Error::MalformedSct`], [`Error::Encoding`] and [`Error::Signing`].
    pub fn finish(
        &self,
        precert: &Precertificate,
        scts: &[SignedCertificateTimestamp],
    ) -> Result<Certificate, Error> {
        if scts.len() != 1 {
            return Err(Error::SctCount {
                expected: 1,
                actual: scts.len(),
            });
        }
        // A `Precertificate` is only ever made by signing (`issue_precertificate`) or after its
        // signature verified (`Precertificate::from_der`), in both cases under the key whose
        // SPKI hash it carries: equal hashes prove this CA's key signed it, without verifying
        // the signature a second time.
        if precert.issuer_key_hash != self.issuer_key_hash() {
            return Err(Error::CertificateSignatureInvalid {
                issuer: "intermediate",
            });
        }
        let mut tbs = precert.tbs.without_extension(CT_POISON);
        tbs.extensions
            .get_or_insert_with(Vec::new)
            .push(raw_extension(
                CT_SCT_LIST,
                false,
                encode_sct_list(scts)?,
                "SCT list",
            )?);
        let der = sign_tbs(tbs, self.signing_key())?;
        Ok(Certificate { der })
    }
}

/// What a Fulcio-profile leaf says, read back from DER.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LeafInfo {
    /// Serial number, big-endian, leading zeros stripped.
    pub serial: Vec<u8>,
    /// The SubjectAltName entries of known kinds, in order.
    pub san: Vec<San>,
    /// Whether the SubjectAltName extension is critical.
    pub san_critical: bool,
    /// `1.3.6.1.4.1.57264.1.1` (raw bytes as text).
    pub issuer_v1: Option<String>,
    /// `1.3.6.1.4.1.57264.1.8` (DER UTF8String).
    pub issuer_v2: Option<String>,
    /// Every other `1.3.6.1.4.1.57264.1.*` extension: dotted OID → value (raw for `.2`–`.6`,
    /// UTF8String decoded otherwise; unknown numbers that are not UTF8Strings are skipped).
    pub sigstore_extensions: BTreeMap<String, String>,
    /// KeyUsage digitalSignature is set.
    pub digital_signature: bool,
    /// Whether the KeyUsage extension is critical.
    pub key_usage_critical: bool,
    /// ExtendedKeyUsage purposes, dotted OIDs.
    pub extended_key_usage: Vec<String>,
    /// Whether the ExtendedKeyUsage extension is critical.
    pub extended_key_usage_critical: bool,
    /// BasicConstraints CA:true.
    pub is_ca: bool,
    /// notBefore.
    pub not_before: SystemTime,
    /// notAfter.
    pub not_after: SystemTime,
    /// The embedded SCTs.
    pub scts: Vec<SignedCertificateTimestamp>,
    /// The TBS with the SCT list extension removed: the RFC 6962 precertificate TBS the SCTs
    /// sign. Empty when there is no SCT list.
    pub precert_tbs: Vec<u8>,
    /// Whether the certificate carries the CT poison (it is a precertificate).
    pub is_precertificate: bool,
    /// The subject public key.
    pub public_key: PublicKey,
}

impl LeafInfo {
    /// The OIDC issuer as sigstore-js reads it: `.8`, else `.1`.
    pub fn oidc_issuer(&self) -> Option<&str> {
        self.issuer_v2.as_deref().or(self.issuer_v1.as_deref())
    }
}

/// Reads a leaf certificate (or precertificate). This parses and decodes; it checks no
/// signature, chain or policy (that is `waxseal-verify`'s job), only that the extensions it
/// reads are well-formed and not duplicated.
///
/// # Errors
///
/// [`Error::MalformedCertificate`], [`Error::DuplicateExtension`],
/// [`Error::MalformedExtension`], [`Error::MissingExtension`] (SubjectAltName), the key errors,
/// and the SCT list errors of [`crate::parse_sct_list`].
pub fn parse_leaf(der: &[u8]) -> Result<LeafInfo, Error> {
    let cert = CertificateDer::parse(der)?;
    let tbs = &cert.tbs_certificate;
    let mut seen = BTreeSet::new();
    for e in tbs.extensions() {
        if !seen.insert(e.extn_id) {
            return Err(Error::DuplicateExtension {
                oid: e.extn_id.to_string(),
            });
        }
    }
    let san_ext = tbs
        .extension(SUBJECT_ALT_NAME)?
        .ok_or_else(|| Error::MissingExtension {
            name: "SubjectAltName",
            oid: SUBJECT_ALT_NAME.to_string(),
        })?;
    let san: SubjectAltName = decode_extension(san_ext, "SubjectAltName")?;
    let (digital_signature, key_usage_critical) = match tbs.extension(KEY_USAGE)? {
        Some(e) => (
            decode_extension::<KeyUsage>(e, "KeyUsage")?.digital_signature(),
            e.critical,
        ),
        None => (false, false),
    };
    let (extended_key_usage, extended_key_usage_critical) = match tbs.extension(EXT_KEY_USAGE)? {
        Some(e) => (
            decode_extension::<ExtendedKeyUsage>(e, "ExtendedKeyUsage")?
                .0
                .iter()
                .map(ToString::to_string)
                .collect(),
            e.critical,
        ),
        None => (Vec::new(), false),
    };
    let is_ca = match tbs.extension(BASIC_CONSTRAINTS)? {
        Some(e) => decode_extension::<BasicConstraints>(e, "BasicConstraints")?.ca,
        None => false,
    };
    let mut issuer_v1 = None;
    let mut issuer_v2 = None;
    let mut sigstore_extensions = BTreeMap::new();
    for e in tbs.extensions() {
        let oid = e.extn_id.to_string();
        let Some(number) = sigstore_number(&oid) else {
            continue;
        };
        let known = matches!(number, 1..=6 | 8..=LAST_SIGSTORE_EXTENSION);
        let value = if number <= 6 {
            String::from_utf8(e.extn_value.as_bytes().to_vec()).map_err(|_| {
                Error::MalformedExtension {
                    name: "Sigstore",
                    oid: oid.clone(),
                    reason: "value is not UTF-8".to_owned(),
                }
            })?
        } else {
            match Utf8StringRef::from_der(e.extn_value.as_bytes()) {
                Ok(v) => v.as_str().to_owned(),
                // An extension this crate does not know may use another encoding: skip it.
                Err(_) if !known => continue,
                Err(err) => {
                    return Err(Error::MalformedExtension {
                        name: "Sigstore",
                        oid,
                        reason: err.to_string(),
                    });
                }
            }
        };
        match number {
            1 => issuer_v1 = Some(value),
            8 => issuer_v2 = Some(value),
            _ => {
                sigstore_extensions.insert(oid, value);
            }
        }
    }
    let (scts, precert_tbs) = match tbs.extension(CT_SCT_LIST)? {
        Some(e) => (
            parse_sct_list(e.extn_value.as_bytes())?,
            tbs.without_extension(CT_SCT_LIST).to_der_bytes()?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(LeafInfo {
        serial: tbs.serial_number.as_bytes().to_vec(),
        san: san.0.iter().filter_map(San::from_general_name).collect(),
        san_critical: san_ext.critical,
        issuer_v1,
        issuer_v2,
        sigstore_extensions,
        digital_signature,
        key_usage_critical,
        extended_key_usage,
        extended_key_usage_critical,
        is_ca,
        not_before: tbs.validity.not_before.to_system_time(),
        not_after: tbs.validity.not_after.to_system_time(),
        scts,
        precert_tbs,
        is_precertificate: tbs.extension(CT_POISON)?.is_some(),
        public_key: cert.public_key()?,
    })
}

/// The `N` of a canonical dotted `1.3.6.1.4.1.57264.1.N`.
fn sigstore_number(oid: &str) -> Option<u32> {
    let digits = oid.strip_prefix(SIGSTORE_ARC)?.strip_prefix('.')?;
    let number: u32 = digits.parse().ok()?;
    // Reject "+9", "09" and the like: only the canonical spelling names the OID.
    (number.to_string() == digits).then_some(number)
}

fn decode_extension<'a, T: Decode<'a>>(e: &'a Extension, name: &'static str) -> Result<T, Error> {
    T::from_der(e.extn_value.as_bytes()).map_err(|err| Error::MalformedExtension {
        name,
        oid: e.extn_id.to_string(),
        reason: err.to_string(),
    })
}
