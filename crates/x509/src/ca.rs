//! The certificate authority: a self-signed root and an issuing intermediate, their keys, and
//! their PEM persistence.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use der::asn1::OctetString;
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, pem};
use x509_cert::certificate::Version;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use zeroize::Zeroizing;

use crate::Error;
use crate::certificate::{
    AUTHORITY_KEY_IDENTIFIER, BASIC_CONSTRAINTS, CODE_SIGNING, CertificateDer, EXT_KEY_USAGE,
    KEY_USAGE, SUBJECT_KEY_IDENTIFIER, TbsCertificate, extension, key_identifier, random_serial,
    sign_tbs, signature_algorithm, spki_from_der, validity,
};

/// The distinguished names of a generated CA, as RFC 4514 strings (`"CN=waxseal,O=example"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaNames {
    root: String,
    intermediate: String,
}

impl CaNames {
    /// Names for the root and the intermediate. Both must be non-empty RFC 4514 strings; they are
    /// checked by [`CertificateAuthority::generate`].
    pub fn new(root: impl Into<String>, intermediate: impl Into<String>) -> Self {
        Self {
            root: root.into(),
            intermediate: intermediate.into(),
        }
    }
}

impl Default for CaNames {
    /// `CN=waxseal root,O=waxseal` and `CN=waxseal intermediate,O=waxseal`.
    fn default() -> Self {
        Self::new(
            "CN=waxseal root,O=waxseal",
            "CN=waxseal intermediate,O=waxseal",
        )
    }
}

/// An issuing CA: the intermediate's signing key and certificate, the root certificate, and
/// (after [`CertificateAuthority::generate`]) the root key.
///
/// Keys are ECDSA P-256 (the default, what Sigstore clients are tested with) or P-384; leaf
/// certificates are signed ECDSA-SHA256 or ECDSA-SHA384 accordingly.
pub struct CertificateAuthority {
    key: SigningKey,
    root_key: Option<SigningKey>,
    intermediate_der: Vec<u8>,
    root_der: Vec<u8>,
    intermediate: CertificateDer,
}

impl CertificateAuthority {
    /// Generates a root and an intermediate, both valid from `not_before` for `lifetime`.
    ///
    /// Root: BasicConstraints critical CA:true, KeyUsage critical keyCertSign|cRLSign, SKI.
    /// Intermediate: BasicConstraints critical CA:true pathLen 0, KeyUsage critical
    /// keyCertSign|cRLSign, EKU codeSigning (non-critical), AKI (the root's SKI), SKI.
    ///
    /// # Errors
    ///
    /// [`Error::CaAlgorithmUnsupported`] unless `algorithm` is ECDSA P-256 or P-384,
    /// [`Error::NameInvalid`], [`Error::TimeOutOfRange`], [`Error::ValidityInverted`] for a zero
    /// lifetime, and [`Error::Signing`] if key generation or signing fails.
    pub fn generate(
        algorithm: Algorithm,
        names: &CaNames,
        not_before: SystemTime,
        lifetime: Duration,
    ) -> Result<Self, Error> {
        signature_algorithm(algorithm)?;
        let root_name = parse_name(&names.root)?;
        let intermediate_name = parse_name(&names.intermediate)?;
        let not_after = not_before
            .checked_add(lifetime)
            .ok_or(Error::TimeOutOfRange {
                unix_seconds: i128::MAX,
            })?;
        let validity = validity(not_before, not_after)?;
        let root_key = SigningKey::generate(algorithm).map_err(Error::Signing)?;
        let key = SigningKey::generate(algorithm).map_err(Error::Signing)?;

        let root_spki = spki_from_der(root_key.public_key().spki_der())?;
        let root_ski = key_identifier(&root_spki);
        let root_tbs = TbsCertificate {
            version: Version::V3,
            serial_number: random_serial()?,
            signature: signature_algorithm(algorithm)?,
            issuer: root_name.clone(),
            validity,
            subject: root_name,
            subject_public_key_info: root_spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(vec![
                basic_constraints(None)?,
                ca_key_usage()?,
                subject_key_identifier(&root_ski)?,
            ]),
        };
        let root_der = sign_tbs(root_tbs, &root_key)?;
        let root = CertificateDer::parse(&root_der)?;

        let spki = spki_from_der(key.public_key().spki_der())?;
        let ski = key_identifier(&spki);
        let intermediate_tbs = TbsCertificate {
            version: Version::V3,
            serial_number: random_serial()?,
            signature: signature_algorithm(algorithm)?,
            issuer: root.tbs_certificate.subject.clone(),
            validity,
            subject: intermediate_name,
            subject_public_key_info: spki,
            issuer_unique_id: None,
            subject_unique_id: None,
            extensions: Some(vec![
                basic_constraints(Some(0))?,
                ca_key_usage()?,
                extension(
                    EXT_KEY_USAGE,
                    false,
                    &ExtendedKeyUsage(vec![CODE_SIGNING]),
                    "ExtendedKeyUsage",
                )?,
                authority_key_identifier(&root_ski)?,
                subject_key_identifier(&ski)?,
            ]),
        };
        let intermediate_der = sign_tbs(intermediate_tbs, &root_key)?;
        let intermediate = CertificateDer::parse(&intermediate_der)?;
        Ok(Self {
            key,
            root_key: Some(root_key),
            intermediate_der,
            root_der,
            intermediate,
        })
    }

    /// Loads a CA from its intermediate key (PKCS#8 PEM) and its chain PEM (intermediate, then
    /// root), as written by [`CertificateAuthority::key_pem`] and
    /// [`CertificateAuthority::chain_pem`]. The root key is not needed to issue.
    ///
    /// The chain is checked: two certificates, the root self-signed, the intermediate signed by
    /// the root, and the key matching the intermediate.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedPem`], [`Error::CaChainLength`], [`Error::MalformedCertificate`],
    /// [`Error::CertificateSignatureInvalid`], [`Error::CaKeyMismatch`] and
    /// [`Error::CaAlgorithmUnsupported`].
    pub fn from_pem(key_pem: &str, chain_pem: &str) -> Result<Self, Error> {
        let key = SigningKey::from_pkcs8_pem(key_pem).map_err(Error::MalformedPem)?;
        signature_algorithm(key.algorithm())?;
        let chain = pem::decode_all(chain_pem, pem::CERTIFICATE).map_err(Error::MalformedPem)?;
        let [intermediate_der, root_der]: [Vec<u8>; 2] =
            chain
                .try_into()
                .map_err(|chain: Vec<Vec<u8>>| Error::CaChainLength {
                    certificates: chain.len(),
                })?;
        let intermediate = CertificateDer::parse(&intermediate_der)?;
        let root = CertificateDer::parse(&root_der)?;
        let root_key = root.public_key()?;
        root.verify_signature(&root_key, "root")?;
        intermediate.verify_signature(&root_key, "root")?;
        if intermediate.public_key()? != key.public_key() {
            return Err(Error::CaKeyMismatch);
        }
        Ok(Self {
            key,
            root_key: None,
            intermediate_der,
            root_der,
            intermediate,
        })
    }

    /// The algorithm of the issuing key.
    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    /// The issuing (intermediate) public key.
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The RFC 6962 `issuer_key_hash`: SHA-256 of the issuing CA's DER SubjectPublicKeyInfo.
    pub fn issuer_key_hash(&self) -> [u8; 32] {
        waxseal_crypto::sha256(self.key.public_key().spki_der())
    }

    /// The intermediate certificate, DER.
    pub fn intermediate_der(&self) -> &[u8] {
        &self.intermediate_der
    }

    /// The root certificate, DER.
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// The chain above a leaf, DER: `[intermediate, root]` (trusted-root `certChain` order).
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        vec![self.intermediate_der.clone(), self.root_der.clone()]
    }

    /// The chain as PEM, intermediate first, in Go's layout.
    pub fn chain_pem(&self) -> String {
        let mut out = pem::encode(pem::CERTIFICATE, &self.intermediate_der);
        out.push_str(&pem::encode(pem::CERTIFICATE, &self.root_der));
        out
    }

    /// The intermediate's private key, PKCS#8 PEM. Store it with 0600 permissions.
    pub fn key_pem(&self) -> Zeroizing<String> {
        self.key.to_pkcs8_pem()
    }

    /// The root's private key, PKCS#8 PEM, when this CA was generated (not loaded). Keep it
    /// offline: issuing does not need it.
    pub fn root_key_pem(&self) -> Option<Zeroizing<String>> {
        self.root_key.as_ref().map(SigningKey::to_pkcs8_pem)
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    pub(crate) fn intermediate(&self) -> &CertificateDer {
        &self.intermediate
    }
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("algorithm", &self.algorithm())
            .field(
                "subject",
                &self.intermediate.tbs_certificate.subject.to_string(),
            )
            .field("has_root_key", &self.root_key.is_some())
            .finish_non_exhaustive()
    }
}

fn parse_name(name: &str) -> Result<Name, Error> {
    let parsed = Name::from_str(name).map_err(|e| Error::NameInvalid {
        name: name.to_owned(),
        reason: e.to_string(),
    })?;
    if parsed.is_empty() {
        return Err(Error::NameInvalid {
            name: name.to_owned(),
            reason: "a CA name must not be empty".to_owned(),
        });
    }
    Ok(parsed)
}

fn basic_constraints(path_len: Option<u8>) -> Result<Extension, Error> {
    extension(
        BASIC_CONSTRAINTS,
        true,
        &BasicConstraints {
            ca: true,
            path_len_constraint: path_len,
        },
        "BasicConstraints",
    )
}

fn ca_key_usage() -> Result<Extension, Error> {
    extension(
        KEY_USAGE,
        true,
        &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        "KeyUsage",
    )
}

pub(crate) fn subject_key_identifier(id: &[u8]) -> Result<Extension, Error> {
    let id = OctetString::new(id).map_err(|e| Error::encoding("SubjectKeyIdentifier", e))?;
    extension(
        SUBJECT_KEY_IDENTIFIER,
        false,
        &SubjectKeyIdentifier(id),
        "SubjectKeyIdentifier",
    )
}

pub(crate) fn authority_key_identifier(id: &[u8]) -> Result<Extension, Error> {
    let id = OctetString::new(id).map_err(|e| Error::encoding("AuthorityKeyIdentifier", e))?;
    extension(
        AUTHORITY_KEY_IDENTIFIER,
        false,
        &AuthorityKeyIdentifier {
            key_identifier: Some(id),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        },
        "AuthorityKeyIdentifier",
    )
}
