//! Proof of possession: PKCS#10 certificate signing requests (RFC 2986) and the signed-subject
//! form of Fulcio's `publicKeyRequest`.

use der::asn1::{AnyRef, BitString, SetOfVec};
use der::{Decode, Encode, SliceReader};
use spki::AlgorithmIdentifierOwned;
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, pem};
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};

use crate::Error;
use crate::certificate::{
    BASIC_CONSTRAINTS, ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ECDSA_WITH_SHA512, ED25519,
    SHA256_WITH_RSA, extension, signature_algorithm, spki_from_der,
};

/// The PEM label of a PKCS#10 request (RFC 7468 §7).
const CSR_LABEL: &str = "CERTIFICATE REQUEST";

/// A certification request whose self-signature verified: the requester holds the private key.
///
/// The key is one Fulcio accepts for a leaf: ECDSA P-256, P-384 or P-521, RSA 2048 to 4096
/// bits, or Ed25519. The CSR's subject and attributes are ignored, as Fulcio ignores them.
#[derive(Debug, Clone)]
pub struct CertificationRequest {
    public_key: PublicKey,
}

impl CertificationRequest {
    /// Parses a PEM `CERTIFICATE REQUEST` and verifies it; see [`CertificationRequest::from_der`].
    ///
    /// # Errors
    ///
    /// [`Error::MalformedPem`], then those of [`CertificationRequest::from_der`].
    pub fn from_pem(text: &str) -> Result<Self, Error> {
        let der = pem::decode(text, CSR_LABEL).map_err(Error::MalformedPem)?;
        Self::from_der(&der)
    }

    /// Parses a DER PKCS#10 request, checks that its key is acceptable and that its signature
    /// verifies under that key.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedCsr`] for bad DER, [`Error::RsaKeyTooWeak`],
    /// [`Error::RsaKeyTooLarge`], [`Error::UnsupportedKeyAlgorithm`] and
    /// [`Error::MalformedPublicKey`] for the key, [`Error::UnsupportedSignatureAlgorithm`] and
    /// [`Error::CsrSignatureAlgorithmMismatch`] for the signature algorithm, and
    /// [`Error::CsrSignatureInvalid`] if the signature does not verify.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let malformed = |e: der::Error| Error::MalformedCsr {
            reason: e.to_string(),
        };
        let request = CertReq::from_der(der).map_err(malformed)?;
        // The signed bytes are the CertificationRequestInfo exactly as received.
        let info = raw_request_info(der).map_err(malformed)?;
        let spki = request
            .info
            .public_key
            .to_der()
            .map_err(|e| Error::encoding("SubjectPublicKeyInfo", e))?;
        let public_key = PublicKey::from_spki_der(&spki).map_err(Error::from_key)?;
        check_signature_algorithm(&request.algorithm, public_key.algorithm())?;
        let signature = request
            .signature
            .as_bytes()
            .ok_or(Error::CsrSignatureInvalid)?;
        public_key
            .verify(&info, signature)
            .map_err(|_| Error::CsrSignatureInvalid)?;
        Ok(Self { public_key })
    }

    /// Builds the DER PKCS#10 request sigstore-python sends Fulcio (`sign.py`): an empty
    /// subject, `key`'s SubjectPublicKeyInfo, an extensionRequest attribute with a critical
    /// BasicConstraints CA:false, self-signed with `key` (ECDSA P-256 with SHA-256 or P-384 with
    /// SHA-384). The signature is the proof of possession.
    ///
    /// # Errors
    ///
    /// [`Error::CaAlgorithmUnsupported`] for other keys, [`Error::Signing`] if signing fails,
    /// and the encoding errors.
    pub fn build(key: &SigningKey) -> Result<Vec<u8>, Error> {
        let algorithm = signature_algorithm(key.algorithm())?;
        let basic_constraints = extension(
            BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
            "BasicConstraints",
        )?;
        let attribute = Attribute::try_from(ExtensionReq(vec![basic_constraints]))
            .map_err(|e| Error::encoding("extensionRequest", e))?;
        let mut attributes = SetOfVec::new();
        attributes
            .insert(attribute)
            .map_err(|e| Error::encoding("attributes", e))?;
        let info = CertReqInfo {
            version: Version::V1,
            subject: Name::default(),
            public_key: spki_from_der(key.public_key().spki_der())?,
            attributes,
        };
        let info_der = info
            .to_der()
            .map_err(|e| Error::encoding("CertificationRequestInfo", e))?;
        let signature = key.sign(&info_der).map_err(Error::Signing)?;
        CertReq {
            info,
            algorithm,
            signature: BitString::from_bytes(&signature)
                .map_err(|e| Error::encoding("signature", e))?,
        }
        .to_der()
        .map_err(|e| Error::encoding("CertificationRequest", e))
    }

    /// [`CertificationRequest::build`] as PEM (`CERTIFICATE REQUEST`, RFC 7468 §7).
    ///
    /// # Errors
    ///
    /// As [`CertificationRequest::build`].
    pub fn build_pem(key: &SigningKey) -> Result<String, Error> {
        Ok(pem::encode(CSR_LABEL, &Self::build(key)?))
    }

    /// The requester's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The requester's public key, by value (for [`crate::LeafRequest::new`]).
    pub fn into_public_key(self) -> PublicKey {
        self.public_key
    }
}

/// Checks Fulcio's `publicKeyRequest` proof of possession: `signature` is the key's signature
/// (ECDSA with the curve's hash, DER; Ed25519; RSA PKCS#1 v1.5 SHA-256) over the UTF-8 bytes of
/// `subject`, the token's `email` claim if present, else its `sub`.
///
/// Returns the parsed key, which passed the same key checks as a CSR's.
///
/// # Errors
///
/// [`Error::SubjectEmpty`], the key errors of [`CertificationRequest::from_der`], and
/// [`Error::ProofOfPossessionInvalid`] if the signature does not verify.
pub fn verify_proof_of_possession(
    public_key_spki_der: &[u8],
    signature: &[u8],
    subject: &str,
) -> Result<PublicKey, Error> {
    if subject.is_empty() {
        return Err(Error::SubjectEmpty);
    }
    let public_key = PublicKey::from_spki_der(public_key_spki_der).map_err(Error::from_key)?;
    public_key
        .verify(subject.as_bytes(), signature)
        .map_err(|_| Error::ProofOfPossessionInvalid {
            subject: subject.to_owned(),
        })?;
    Ok(public_key)
}

/// The DER TLV of the CertificationRequestInfo, the first element of the outer SEQUENCE.
fn raw_request_info(der: &[u8]) -> der::Result<Vec<u8>> {
    let mut reader = SliceReader::new(der)?;
    let header = der::Header::decode(&mut reader)?;
    header.tag().assert_eq(der::Tag::Sequence)?;
    AnyRef::decode(&mut reader)?.to_der()
}

/// The signature algorithm must be the one the key's algorithm verifies with.
fn check_signature_algorithm(
    algorithm: &AlgorithmIdentifierOwned,
    key: Algorithm,
) -> Result<(), Error> {
    let oid = algorithm.oid;
    let expected = match oid {
        o if o == ECDSA_WITH_SHA256 => Algorithm::EcdsaP256Sha256,
        o if o == ECDSA_WITH_SHA384 => Algorithm::EcdsaP384Sha384,
        o if o == ECDSA_WITH_SHA512 => Algorithm::EcdsaP521Sha512,
        o if o == SHA256_WITH_RSA => Algorithm::RsaPkcs1Sha256,
        o if o == ED25519 => Algorithm::Ed25519,
        other => {
            return Err(Error::UnsupportedSignatureAlgorithm {
                oid: other.to_string(),
            });
        }
    };
    if expected != key {
        return Err(Error::CsrSignatureAlgorithmMismatch {
            signature_algorithm: oid.to_string(),
            key_algorithm: key,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_requests_verify_and_name_the_key() {
        for algorithm in [Algorithm::EcdsaP256Sha256, Algorithm::EcdsaP384Sha384] {
            let key = SigningKey::generate(algorithm).unwrap();
            let pem = CertificationRequest::build_pem(&key).unwrap();
            let request = CertificationRequest::from_pem(&pem).unwrap();
            assert_eq!(request.public_key(), &key.public_key(), "{algorithm}");
            let parsed = CertReq::from_der(&CertificationRequest::build(&key).unwrap()).unwrap();
            assert!(parsed.info.subject.is_empty(), "{algorithm}: empty subject");
            assert_eq!(parsed.info.attributes.len(), 1, "{algorithm}");
        }
        let ed = SigningKey::generate(Algorithm::Ed25519).unwrap();
        assert!(matches!(
            CertificationRequest::build(&ed),
            Err(Error::CaAlgorithmUnsupported { .. })
        ));
    }
}
