//! The Fulcio v2 signing-certificate request (sigstore/fulcio `fulcio.proto`, REST mapping), in
//! the CSR form sigstore-python sends (`sigstore/_internal/fulcio/client.py`), and the checks
//! on the certificate that comes back.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use waxseal_bundle::TrustedRoot;
use waxseal_crypto::{PublicKey, SigningKey, pem};
use waxseal_x509::{Certificate, CertificationRequest, parse_leaf, verify_sct};

use crate::http::{Http, Post, origin};
use crate::{Error, IdentityToken, Stage};

/// A leaf certificate the CA issued for our key, checked.
#[derive(Debug, Clone)]
pub(crate) struct IssuedCertificate {
    pub(crate) der: Vec<u8>,
    /// The PEM exactly as the CA returned it (Rekor v1 bodies carry it verbatim).
    pub(crate) pem: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reply {
    signed_certificate_embedded_sct: Embedded,
}

#[derive(Deserialize)]
struct Embedded {
    chain: Chain,
}

#[derive(Deserialize)]
struct Chain {
    certificates: Vec<String>,
}

/// The JSON body of a CSR request.
pub(crate) fn request_body(key: &SigningKey) -> Result<Vec<u8>, Error> {
    let csr = CertificationRequest::build_pem(key).map_err(|e| Error::InvalidInput {
        what: "the certificate signing request".to_owned(),
        reason: e.to_string(),
    })?;
    Ok(
        serde_json::json!({ "certificateSigningRequest": STANDARD.encode(csr) })
            .to_string()
            .into_bytes(),
    )
}

/// Asks the CA at `ca_url` for a certificate for `key` with `token`, then checks that it names
/// `key`, was issued by a CA of `root`, and carries an SCT from a CT log of `root`.
pub(crate) async fn signing_certificate(
    http: &Http,
    ca_url: &str,
    token: &IdentityToken,
    key: &SigningKey,
    root: &TrustedRoot,
    now: SystemTime,
) -> Result<IssuedCertificate, Error> {
    let stage = Stage::Certificate;
    let url = format!("{}/api/v2/signingCert", origin(ca_url));
    let reply = http
        .post(
            stage,
            &url,
            Post {
                content_type: "application/json",
                accept: Some("application/pem-certificate-chain"),
                bearer: Some(token.as_str()),
                body: request_body(key)?,
            },
        )
        .await?;
    let malformed = |reason: String| Error::MalformedReply {
        stage,
        url: url.clone(),
        reason,
    };
    let reply: Reply = serde_json::from_slice(&reply).map_err(|e| malformed(e.to_string()))?;
    let pem = reply
        .signed_certificate_embedded_sct
        .chain
        .certificates
        .into_iter()
        .next()
        .ok_or_else(|| malformed("the certificate chain is empty".to_owned()))?;
    let der = pem::decode(&pem, pem::CERTIFICATE)
        .map_err(|e| malformed(format!("the leaf certificate PEM: {e}")))?;
    check_leaf(&der, &key.public_key(), root, now).map_err(|e| match e {
        Check::KeyMismatch => Error::CertificateKeyMismatch {
            stage,
            url: url.clone(),
        },
        Check::NotTrusted(what) => Error::NotInTrustedRoot { stage, what },
        Check::Failed(reason) => Error::Unverified {
            stage,
            url: url.clone(),
            reason,
        },
    })?;
    Ok(IssuedCertificate { der, pem })
}

/// Why a leaf failed [`check_leaf`].
#[derive(Debug)]
enum Check {
    KeyMismatch,
    NotTrusted(String),
    Failed(String),
}

/// The leaf names `ours`, a trusted-root CA valid at `now` signed it, and each embedded SCT
/// verifies under a trusted-root CT log key valid at `now`.
fn check_leaf(
    der: &[u8],
    ours: &PublicKey,
    root: &TrustedRoot,
    now: SystemTime,
) -> Result<(), Check> {
    let leaf = parse_leaf(der).map_err(|e| Check::Failed(format!("the leaf: {e}")))?;
    if leaf.public_key != *ours {
        return Err(Check::KeyMismatch);
    }
    let certificate =
        Certificate::from_der(der.to_vec()).map_err(|e| Check::Failed(e.to_string()))?;
    let issuer = root
        .certificate_authorities
        .iter()
        .filter(|ca| ca.valid_for.as_ref().is_none_or(|v| v.contains(now)))
        .filter_map(|ca| ca.cert_chain.certificates.first())
        .filter_map(|c| {
            Certificate::from_der(c.raw_bytes.clone())
                .ok()?
                .public_key()
                .ok()
        })
        .find(|issuer| certificate.verify_issued_by(issuer).is_ok())
        .ok_or_else(|| {
            Check::NotTrusted("certificate authority that issued the leaf".to_owned())
        })?;
    let issuer_key_hash = waxseal_crypto::sha256(issuer.spki_der());
    if leaf.scts.is_empty() {
        return Err(Check::Failed("the leaf has no embedded SCT".to_owned()));
    }
    for sct in &leaf.scts {
        let log = root
            .ctlogs
            .iter()
            .filter(|log| {
                log.public_key
                    .valid_for
                    .as_ref()
                    .is_none_or(|v| v.contains(now))
            })
            .filter_map(|log| PublicKey::from_spki_der(&log.public_key.raw_bytes).ok())
            .find(|key| waxseal_crypto::sha256(key.spki_der()) == *sct.log_id())
            .ok_or_else(|| {
                Check::NotTrusted(format!(
                    "CT log with log ID {} valid now",
                    hex::encode(sct.log_id())
                ))
            })?;
        verify_sct(sct, &log, &issuer_key_hash, &leaf.precert_tbs)
            .map_err(|e| Check::Failed(format!("the embedded SCT: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use waxseal_crypto::Algorithm;

    #[test]
    fn request_carries_a_verifiable_csr_as_base64_pem() {
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let body: serde_json::Value = serde_json::from_slice(&request_body(&key).unwrap()).unwrap();
        let csr = STANDARD
            .decode(body["certificateSigningRequest"].as_str().unwrap())
            .unwrap();
        let csr = String::from_utf8(csr).unwrap();
        assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
        let parsed = CertificationRequest::from_pem(&csr).unwrap();
        assert_eq!(parsed.public_key(), &key.public_key());
        assert_eq!(body.as_object().unwrap().len(), 1);
    }
}
