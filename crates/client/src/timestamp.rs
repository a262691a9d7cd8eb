//! RFC 3161 timestamps over a signature, requested as sigstore-python does
//! (`sigstore/_internal/timestamp.py`): a DER `TimeStampReq` with a SHA-256 imprint of the
//! signature bytes, a random nonce and `certReq`, posted as `application/timestamp-query`.

use waxseal_bundle::TrustedRoot;
use waxseal_tsa::{HashAlgorithm, TimeStampRequest, VerifyOptions, verify_timestamp_with};

use crate::http::{Http, Post};
use crate::{Error, Stage};

/// The DER request for `signature` with `nonce`.
pub(crate) fn request(signature: &[u8], nonce: u64) -> Result<Vec<u8>, Error> {
    let digest = HashAlgorithm::Sha256.digest(signature);
    TimeStampRequest::new(HashAlgorithm::Sha256, &digest)
        .and_then(|r| r.with_nonce(nonce).with_cert_req(true).to_der())
        .map_err(|e| Error::InvalidInput {
            what: "the timestamp request".to_owned(),
            reason: e.to_string(),
        })
}

/// Gets a timestamp over `signature` from the TSA at `url` (the full endpoint URL) and checks
/// it against the trusted root's timestamp authorities, nonce included. Returns the DER
/// `TimeStampResp`.
pub(crate) async fn timestamp(
    http: &Http,
    url: &str,
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<Vec<u8>, Error> {
    let stage = Stage::Timestamp;
    let mut bytes = [0u8; 8];
    waxseal_crypto::random_bytes(&mut bytes).map_err(Error::Signing)?;
    // A positive 63-bit nonce.
    let nonce = u64::from_be_bytes(bytes) >> 1;
    let reply = http
        .post(
            stage,
            url,
            Post {
                content_type: "application/timestamp-query",
                accept: Some("application/timestamp-reply"),
                bearer: None,
                body: request(signature, nonce)?,
            },
        )
        .await?;
    if root.timestamp_authorities.is_empty() {
        return Err(Error::NotInTrustedRoot {
            stage,
            what: "timestamp authority".to_owned(),
        });
    }
    let options = VerifyOptions::default().with_nonce(nonce);
    let mut failures = Vec::new();
    for authority in &root.timestamp_authorities {
        let chain: Vec<&[u8]> = authority
            .cert_chain
            .certificates
            .iter()
            .map(|c| c.raw_bytes.as_slice())
            .collect();
        match verify_timestamp_with(&reply, signature, &chain, &options) {
            Ok(_) => return Ok(reply),
            Err(e) => failures.push(e.to_string()),
        }
    }
    Err(Error::Unverified {
        stage,
        url: url.to_owned(),
        reason: failures.join("; "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_hashes_the_signature_and_carries_the_nonce() {
        let der = request(b"signature", 42).unwrap();
        let parsed = TimeStampRequest::from_der(&der).unwrap();
        assert_eq!(parsed.hash_algorithm(), HashAlgorithm::Sha256);
        assert_eq!(parsed.digest(), waxseal_crypto::sha256(b"signature"));
        assert_eq!(parsed.nonce(), Some(&[42u8][..]));
        assert!(parsed.cert_req());
    }
}
