//! The Fulcio v2 `CreateSigningCertificateRequest` (sigstore/fulcio `fulcio.proto`) in its
//! protobuf-JSON form, as sigstore-python and sigstore-js send it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use waxseal_crypto::PublicKey;
use waxseal_x509::CertificationRequest;

use crate::CaError;

/// How the caller proves it holds the private key the certificate will name.
#[derive(Debug, Clone)]
pub enum Proof {
    /// A PKCS#10 request; its self-signature is the proof (sigstore-python).
    Csr(CertificationRequest),
    /// A public key and its signature over the token's `email` claim, else its `sub`
    /// (sigstore-js, cosign).
    SignedSubject {
        /// The key to certify.
        public_key: PublicKey,
        /// The signature over the challenge subject.
        signature: Vec<u8>,
    },
}

/// A parsed signing-certificate request: the identity token and the proof of possession.
#[derive(Debug, Clone)]
pub struct SigningRequest {
    /// The OIDC identity token (JWT compact serialization).
    pub token: String,
    /// The key and its proof.
    pub proof: Proof,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wire {
    credentials: Option<Credentials>,
    public_key_request: Option<PublicKeyRequest>,
    certificate_signing_request: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Credentials {
    oidc_identity_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PublicKeyRequest {
    public_key: Option<WirePublicKey>,
    proof_of_possession: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WirePublicKey {
    #[serde(default)]
    #[allow(dead_code)] // Informational: the key's own encoding says what it is.
    algorithm: Option<String>,
    content: Option<String>,
}

impl SigningRequest {
    /// Parses the JSON body. The token comes from `credentials.oidcIdentityToken`, else from the
    /// `Authorization: Bearer` header value passed as `bearer`.
    ///
    /// # Errors
    ///
    /// [`CaError::InvalidRequest`] naming the malformed field, [`CaError::MissingToken`] when
    /// there is no token, and the key and CSR errors of `waxseal-x509` as
    /// [`CaError::InvalidKey`].
    pub fn from_json(body: &[u8], bearer: Option<&str>) -> Result<Self, CaError> {
        let wire: Wire = serde_json::from_slice(body).map_err(|e| CaError::InvalidRequest {
            reason: format!("request body is not a CreateSigningCertificateRequest: {e}"),
        })?;
        let token = wire
            .credentials
            .and_then(|c| c.oidc_identity_token)
            .filter(|t| !t.is_empty())
            .or_else(|| bearer.map(str::to_owned).filter(|t| !t.is_empty()))
            .ok_or(CaError::MissingToken)?;
        let proof = match (wire.public_key_request, wire.certificate_signing_request) {
            (Some(_), Some(_)) => {
                return Err(CaError::InvalidRequest {
                    reason: "send either publicKeyRequest or certificateSigningRequest, not both"
                        .into(),
                });
            }
            (None, None) => {
                return Err(CaError::InvalidRequest {
                    reason: "one of publicKeyRequest or certificateSigningRequest is required"
                        .into(),
                });
            }
            (None, Some(csr)) => Proof::Csr(parse_csr(&csr)?),
            (Some(request), None) => parse_public_key_request(request)?,
        };
        Ok(Self { token, proof })
    }
}

fn decode_base64(field: &str, value: &str) -> Result<Vec<u8>, CaError> {
    STANDARD
        .decode(value.trim())
        .map_err(|e| CaError::InvalidRequest {
            reason: format!("{field} is not standard base64: {e}"),
        })
}

/// `certificateSigningRequest` is protobuf `bytes`: base64 of a PEM (what the clients send) or
/// of DER.
fn parse_csr(value: &str) -> Result<CertificationRequest, CaError> {
    let bytes = decode_base64("certificateSigningRequest", value)?;
    let parsed = if bytes.starts_with(b"-----BEGIN") {
        let text = std::str::from_utf8(&bytes).map_err(|_| CaError::InvalidRequest {
            reason: "certificateSigningRequest PEM is not UTF-8".into(),
        })?;
        CertificationRequest::from_pem(text)
    } else {
        CertificationRequest::from_der(&bytes)
    };
    parsed.map_err(|source| CaError::InvalidKey { source })
}

fn parse_public_key_request(request: PublicKeyRequest) -> Result<Proof, CaError> {
    let content = request
        .public_key
        .and_then(|k| k.content)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| CaError::InvalidRequest {
            reason: "publicKeyRequest.publicKey.content is required".into(),
        })?;
    let public_key = if content.trim_start().starts_with("-----BEGIN") {
        PublicKey::from_pem(&content)
    } else {
        PublicKey::from_spki_der(&decode_base64(
            "publicKeyRequest.publicKey.content",
            &content,
        )?)
    }
    .map_err(|e| CaError::InvalidRequest {
        reason: format!("publicKeyRequest.publicKey.content is not a supported public key: {e}"),
    })?;
    let proof = request
        .proof_of_possession
        .filter(|p| !p.is_empty())
        .ok_or_else(|| CaError::InvalidRequest {
            reason: "publicKeyRequest.proofOfPossession is required".into(),
        })?;
    Ok(Proof::SignedSubject {
        public_key,
        signature: decode_base64("publicKeyRequest.proofOfPossession", &proof)?,
    })
}
