//! The key material an entry is verified with: a public key, or an X.509 certificate and its key.

use waxseal_crypto::{Algorithm, PublicKey, pem, sha256};
use x509_cert::Certificate;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::Error;
use crate::rekor::SearchTerm;

/// A verifying key, and the certificate it came from if any.
#[derive(Debug, Clone)]
pub(crate) struct Verifier {
    key: PublicKey,
    certificate: Option<CertificateInfo>,
}

/// What an entry needs from a certificate.
#[derive(Debug, Clone)]
struct CertificateInfo {
    der: Vec<u8>,
    /// rfc822Name SANs, lowercased.
    emails: Vec<String>,
    /// uniformResourceIdentifier SANs.
    uris: Vec<String>,
}

impl Verifier {
    /// Reads the PEM text of Rekor v1's `publicKey.content` / `verifiers[]`: one `PUBLIC KEY`
    /// (SubjectPublicKeyInfo) or one `CERTIFICATE` block.
    pub(crate) fn from_pem(field: &str, bytes: &[u8]) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidPem {
            field: field.to_owned(),
            reason,
        };
        let text = std::str::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".to_owned()))?;
        match pem::decode_all(text, pem::CERTIFICATE) {
            Ok(mut blocks) => match (blocks.pop(), blocks.len()) {
                (Some(der), 0) => Self::from_certificate_der(field, &der),
                (None, _) => Err(invalid("no PEM block found".to_owned())),
                (Some(_), more) => Err(Error::CertificateChainUnsupported {
                    field: field.to_owned(),
                    count: more + 1,
                }),
            },
            Err(waxseal_crypto::Error::PemLabelMismatch { actual, .. })
                if actual == pem::PUBLIC_KEY =>
            {
                let der = pem::decode(text, pem::PUBLIC_KEY).map_err(|e| invalid(e.to_string()))?;
                Self::from_spki_der(field, &der)
            }
            Err(e) => Err(invalid(e.to_string())),
        }
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub(crate) fn from_spki_der(field: &str, der: &[u8]) -> Result<Self, Error> {
        let key = PublicKey::from_spki_der(der).map_err(|source| Error::InvalidPublicKey {
            field: field.to_owned(),
            source,
        })?;
        Ok(Self {
            key,
            certificate: None,
        })
    }

    /// Reads a DER X.509 certificate (RFC 5280 §4.1) and its key.
    pub(crate) fn from_certificate_der(field: &str, der: &[u8]) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidCertificate {
            field: field.to_owned(),
            reason,
        };
        let certificate = Certificate::from_der(der).map_err(|e| invalid(e.to_string()))?;
        let tbs = certificate.tbs_certificate();
        let spki = tbs
            .subject_public_key_info()
            .to_der()
            .map_err(|e| invalid(e.to_string()))?;
        let key = PublicKey::from_spki_der(&spki).map_err(|source| Error::InvalidPublicKey {
            field: field.to_owned(),
            source,
        })?;
        let mut emails = Vec::new();
        let mut uris = Vec::new();
        if let Some((_, names)) = tbs
            .get_extension::<SubjectAltName>()
            .map_err(|e| invalid(format!("subjectAltName: {e}")))?
        {
            for name in names.0 {
                match name {
                    GeneralName::Rfc822Name(email) => emails.push(email.to_string().to_lowercase()),
                    GeneralName::UniformResourceIdentifier(uri) => uris.push(uri.to_string()),
                    _ => {}
                }
            }
        }
        Ok(Self {
            key,
            certificate: Some(CertificateInfo {
                der: der.to_vec(),
                emails,
                uris,
            }),
        })
    }

    /// The verifying key.
    pub(crate) fn key(&self) -> &PublicKey {
        &self.key
    }

    /// Rekor's canonical form of this verifier (`pkg/pki/x509` `CanonicalValue`): the
    /// certificate or the key re-encoded as one PEM block in Go's layout.
    pub(crate) fn canonical_pem(&self) -> String {
        match &self.certificate {
            Some(certificate) => pem::encode(pem::CERTIFICATE, &certificate.der),
            None => self.key.to_pem(),
        }
    }

    /// `certificate` or `public key`, for error messages.
    pub(crate) fn holder(&self) -> &'static str {
        if self.certificate.is_some() {
            "certificate"
        } else {
            "public key"
        }
    }

    /// A short name of the key type for error messages.
    pub(crate) fn key_name(&self) -> &'static str {
        match (self.key.algorithm(), self.key.key_details()) {
            (Algorithm::Ed25519, _) => "Ed25519",
            (Algorithm::EcdsaP256Sha256, _) => "ECDSA P-256",
            (Algorithm::EcdsaP384Sha384, _) => "ECDSA P-384",
            (Algorithm::EcdsaP521Sha512, _) => "ECDSA P-521",
            (_, "PKIX_RSA_PKCS1V15_3072_SHA256") => "RSA-3072",
            (_, "PKIX_RSA_PKCS1V15_4096_SHA256") => "RSA-4096",
            (_, _) => "RSA",
        }
    }

    /// The signature error for this verifier.
    pub(crate) fn signature_invalid(&self, field: String) -> Error {
        Error::SignatureInvalid {
            field,
            holder: self.holder(),
            key: self.key_name(),
        }
    }

    /// What a search by this material matches: SHA-256 of the DER certificate, or of the DER
    /// SubjectPublicKeyInfo for a bare key.
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        match &self.certificate {
            Some(certificate) => sha256(&certificate.der),
            None => sha256(self.key.spki_der()),
        }
    }

    /// Adds this verifier's search terms: the key's SPKI fingerprint, and for a certificate its
    /// DER fingerprint and its e-mail and URI SANs.
    pub(crate) fn add_search_terms(&self, terms: &mut Vec<SearchTerm>) {
        push_unique(terms, SearchTerm::PublicKey(sha256(self.key.spki_der())));
        if let Some(certificate) = &self.certificate {
            push_unique(terms, SearchTerm::PublicKey(sha256(&certificate.der)));
            for email in &certificate.emails {
                push_unique(terms, SearchTerm::Email(email.clone()));
            }
            for uri in &certificate.uris {
                push_unique(terms, SearchTerm::Uri(uri.clone()));
            }
        }
    }
}

/// Appends `term` unless it is already there.
pub(crate) fn push_unique(terms: &mut Vec<SearchTerm>, term: SearchTerm) {
    if !terms.contains(&term) {
        terms.push(term);
    }
}
