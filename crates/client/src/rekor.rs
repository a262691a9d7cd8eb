//! Log entries: the Rekor v1 requests (`hashedrekord` and `dsse` 0.0.1, sigstore/rekor
//! `openapi.yaml`) and Rekor v2 requests (`hashedRekordRequestV002`, sigstore/rekor-tiles
//! `entry.proto`; DSSE as a hashedrekord over the PAE, as sigstore-python's `client_v2.py`
//! does), and the checks on the entry that comes back: the body is the canonical body of what
//! was sent, the inclusion proof leads to the checkpoint's root, the checkpoint is signed by
//! the trusted root's log key, and (v1) the SET verifies.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use waxseal_bundle::dsse::Envelope;
use waxseal_bundle::rekor::{
    self, Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogEntry, LogId,
    TransparencyLogEntry,
};
use waxseal_bundle::{Service, TransparencyLogInstance, TrustedRoot};
use waxseal_crypto::{Algorithm, PublicKey};
use waxseal_merkle::{Hash, leaf_hash, verify_inclusion};
use waxseal_note::{
    EcdsaVerifier, Ed25519Verifier, Note, NoteVerifier, RekorV1Verifier, SignedCheckpoint,
};

use crate::http::{Http, Post};
use crate::{Error, Stage};

/// Who signed: a Fulcio certificate (DER, and PEM as the CA returned it) or a public key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Signer<'a> {
    Certificate { der: &'a [u8], pem: &'a str },
    PublicKey(&'a PublicKey),
}

impl Signer<'_> {
    fn pem(&self) -> String {
        match self {
            Self::Certificate { pem, .. } => (*pem).to_owned(),
            Self::PublicKey(key) => key.to_pem(),
        }
    }

    /// The v2 `Verifier` message.
    fn v2_verifier(&self, key_details: &str) -> Value {
        match self {
            Self::Certificate { der, .. } => json!({
                "x509Certificate": {"rawBytes": STANDARD.encode(der)},
                "keyDetails": key_details,
            }),
            Self::PublicKey(key) => json!({
                "publicKey": {"rawBytes": STANDARD.encode(key.spki_der())},
                "keyDetails": key_details,
            }),
        }
    }
}

/// What was signed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Signed<'a> {
    /// A signature over an artifact with this SHA-256 digest.
    Artifact {
        digest: &'a [u8; 32],
        signature: &'a [u8],
    },
    /// A DSSE envelope with one signature.
    Dsse(&'a Envelope),
}

/// The Rekor v1 proposed entry.
pub(crate) fn v1_request(signer: Signer<'_>, signed: Signed<'_>) -> Value {
    let pem = STANDARD.encode(signer.pem());
    match signed {
        Signed::Artifact { digest, signature } => json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "signature": {
                    "content": STANDARD.encode(signature),
                    "publicKey": {"content": pem},
                },
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
            },
        }),
        Signed::Dsse(envelope) => json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "proposedContent": {
                    "envelope": String::from_utf8_lossy(&envelope.to_json()),
                    "verifiers": [pem],
                },
            },
        }),
    }
}

/// The Rekor v2 `CreateEntryRequest`; `key_details` names the signing key's algorithm.
pub(crate) fn v2_request(signer: Signer<'_>, signed: Signed<'_>, key_details: &str) -> Value {
    let (digest, signature) = match signed {
        Signed::Artifact { digest, signature } => (digest.to_vec(), signature.to_vec()),
        Signed::Dsse(envelope) => (
            waxseal_crypto::sha256(&envelope.pae()).to_vec(),
            envelope
                .signatures
                .first()
                .map(|s| s.sig.clone())
                .unwrap_or_default(),
        ),
    };
    json!({
        "hashedRekordRequestV002": {
            "digest": STANDARD.encode(digest),
            "signature": {
                "content": STANDARD.encode(signature),
                "verifier": signer.v2_verifier(key_details),
            },
        },
    })
}

/// Logs the signature in `tlog` (Rekor v1 or v2 by its `majorApiVersion`) and checks the
/// entry against `root`. Returns the entry as a bundle carries it.
pub(crate) async fn log(
    http: &Http,
    tlog: &Service,
    signer: Signer<'_>,
    signed: Signed<'_>,
    key_details: &str,
    root: &TrustedRoot,
    now: SystemTime,
) -> Result<TransparencyLogEntry, Error> {
    let stage = Stage::LogEntry;
    let base = tlog.url.trim_end_matches('/');
    let (url, request) = match tlog.major_api_version {
        1 => (
            format!("{base}/api/v1/log/entries"),
            v1_request(signer, signed),
        ),
        2 => (
            format!("{base}/api/v2/log/entries"),
            v2_request(signer, signed, key_details),
        ),
        _ => {
            return Err(Error::NoService {
                kind: "transparency log",
                supported: "Rekor v1 or v2",
            });
        }
    };
    let request = request.to_string().into_bytes();
    // The body the log must store: the canonical body of exactly this request.
    let expected = if tlog.major_api_version == 1 {
        rekor::validate_v1(&request)
    } else {
        rekor::validate_v2(&request)
    }
    .map_err(|e| Error::InvalidInput {
        what: "the log entry request".to_owned(),
        reason: e.to_string(),
    })?;
    let reply = http
        .post(
            stage,
            &url,
            Post {
                content_type: "application/json",
                accept: Some("application/json"),
                bearer: None,
                body: request,
            },
        )
        .await?;
    let malformed = |reason: String| Error::MalformedReply {
        stage,
        url: url.clone(),
        reason,
    };
    let entry = if tlog.major_api_version == 1 {
        from_v1_reply(&reply).map_err(malformed)?
    } else {
        TransparencyLogEntry::from_json(&reply).map_err(|e| malformed(e.to_string()))?
    };
    check_entry(&entry, expected.canonical_body(), tlog, root, now).map_err(|e| match e {
        Check::NotTrusted(what) => Error::NotInTrustedRoot { stage, what },
        Check::Failed(reason) => Error::Unverified {
            stage,
            url: url.clone(),
            reason,
        },
    })?;
    Ok(entry)
}

/// A Rekor v1 reply `{"<uuid>": LogEntry}` as a bundle's `TransparencyLogEntry`.
fn from_v1_reply(reply: &[u8]) -> Result<TransparencyLogEntry, String> {
    let map: serde_json::Map<String, Value> =
        serde_json::from_slice(reply).map_err(|e| e.to_string())?;
    let mut values = map.into_iter();
    let (Some((_, value)), None) = (values.next(), values.next()) else {
        return Err("expected exactly one entry in the reply object".to_owned());
    };
    let entry = LogEntry::from_json(value.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let kind_version = body_kind_version(&entry.body)?;
    let verification = entry
        .verification
        .ok_or("the entry has no verification (SET and inclusion proof)")?;
    let proof = verification
        .inclusion_proof
        .ok_or("the entry has no inclusion proof")?;
    if verification.signed_entry_timestamp.is_empty() {
        return Err("the entry has no signed entry timestamp".to_owned());
    }
    let mut out = TransparencyLogEntry::new(
        entry.log_index,
        LogId::new(entry.log_id),
        kind_version,
        entry.body,
    );
    out.integrated_time = Some(entry.integrated_time);
    out.inclusion_promise = Some(InclusionPromise::new(verification.signed_entry_timestamp));
    out.inclusion_proof = Some(InclusionProof::new(
        proof.log_index,
        proof.root_hash,
        proof.tree_size,
        proof.hashes,
        Checkpoint::new(proof.checkpoint),
    ));
    Ok(out)
}

/// `kind` and `apiVersion` of a canonical body.
fn body_kind_version(body: &[u8]) -> Result<KindVersion, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        api_version: String,
        kind: String,
    }
    let head: Head = serde_json::from_slice(body).map_err(|e| format!("the entry body: {e}"))?;
    Ok(KindVersion::new(head.kind, head.api_version))
}

#[derive(Debug)]
enum Check {
    NotTrusted(String),
    Failed(String),
}

fn failed(reason: impl Into<String>) -> Check {
    Check::Failed(reason.into())
}

/// The entry is ours, included under a checkpoint the trusted log key signed, with a valid SET
/// for v1.
fn check_entry(
    entry: &TransparencyLogEntry,
    expected_body: &[u8],
    tlog: &Service,
    root: &TrustedRoot,
    now: SystemTime,
) -> Result<(), Check> {
    if entry.canonicalized_body != expected_body {
        return Err(failed(
            "the logged body is not the canonical body of the request",
        ));
    }
    let instance = root
        .tlogs
        .iter()
        .find(|t| t.log_id.key_id == entry.log_id.key_id)
        .ok_or_else(|| {
            Check::NotTrusted(format!(
                "transparency log with log ID {}",
                hex::encode(&entry.log_id.key_id)
            ))
        })?;
    if !instance
        .public_key
        .valid_for
        .as_ref()
        .is_none_or(|v| v.contains(now))
    {
        return Err(Check::NotTrusted(format!(
            "transparency log key valid now for log ID {}",
            hex::encode(&entry.log_id.key_id)
        )));
    }
    let key = PublicKey::from_spki_der(&instance.public_key.raw_bytes)
        .map_err(|e| failed(format!("the trusted root's log key: {e}")))?;

    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or_else(|| failed("the entry has no inclusion proof"))?;
    let index = u64::try_from(proof.log_index).map_err(|_| failed("negative proof index"))?;
    let size = u64::try_from(proof.tree_size).map_err(|_| failed("negative tree size"))?;
    let root_hash = Hash::from_slice(&proof.root_hash)
        .map_err(|e| failed(format!("the proof's root hash: {e}")))?;
    let hashes = proof
        .hashes
        .iter()
        .map(|h| Hash::from_slice(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(format!("the proof's hashes: {e}")))?;
    verify_inclusion(
        &leaf_hash(&entry.canonicalized_body),
        index,
        size,
        &hashes,
        &root_hash,
    )
    .map_err(|e| failed(format!("the inclusion proof: {e}")))?;

    let checkpoint = proof
        .checkpoint
        .as_ref()
        .ok_or_else(|| failed("the inclusion proof has no checkpoint"))?;
    let verified = verify_checkpoint(&checkpoint.envelope, instance, &key, tlog)?;
    if verified.0 != size || verified.1 != root_hash {
        return Err(failed(format!(
            "the checkpoint (size {}) is not the tree the proof is for (size {size})",
            verified.0
        )));
    }

    if tlog.major_api_version == 1 {
        let promise = entry
            .inclusion_promise
            .as_ref()
            .ok_or_else(|| failed("the entry has no signed entry timestamp"))?;
        let integrated = entry
            .integrated_time
            .ok_or_else(|| failed("the entry has no integrated time"))?;
        let log_id: [u8; 32] = entry
            .log_id
            .key_id
            .as_slice()
            .try_into()
            .map_err(|_| failed("the log ID is not 32 bytes"))?;
        let log_index = u64::try_from(entry.log_index).map_err(|_| failed("negative log index"))?;
        let payload = rekor::set_payload(&entry.canonicalized_body, integrated, &log_id, log_index);
        key.verify(&payload, &promise.signed_entry_timestamp)
            .map_err(|e| failed(format!("the signed entry timestamp: {e}")))?;
    }
    Ok(())
}

/// Verifies a checkpoint note with the log key; returns its size and root.
fn verify_checkpoint(
    text: &str,
    instance: &TransparencyLogInstance,
    key: &PublicKey,
    tlog: &Service,
) -> Result<(u64, Hash), Check> {
    let note = Note::parse(text.as_bytes()).map_err(|e| failed(format!("the checkpoint: {e}")))?;
    // Key names are not trusted material: the key is. Build a verifier for each name signed.
    let mut verifiers: Vec<Box<dyn NoteVerifier>> = Vec::new();
    for signature in note.signatures() {
        let name = signature.name();
        let verifier: Result<Box<dyn NoteVerifier>, _> = match key.algorithm() {
            Algorithm::Ed25519 => Ed25519Verifier::new(name, key).map(|v| Box::new(v) as _),
            _ if tlog.major_api_version == 1 => {
                RekorV1Verifier::new(name, key).map(|v| Box::new(v) as _)
            }
            _ => EcdsaVerifier::new(name, key).map(|v| Box::new(v) as _),
        };
        if let Ok(verifier) = verifier {
            verifiers.push(verifier);
        }
    }
    let refs: Vec<&dyn NoteVerifier> = verifiers.iter().map(AsRef::as_ref).collect();
    let verified = SignedCheckpoint::parse(text.as_bytes())
        .and_then(|c| c.verify(&refs, None))
        .map_err(|e| failed(format!("the checkpoint signature: {e}")))?;
    // A C2SP log's ID is bound to its origin: the checkpoint must be this log's.
    if let Some(raw) = key.raw_ed25519() {
        let id = waxseal_note::rekor_v2_log_id(verified.origin(), &raw);
        if id.as_slice() != instance.log_id.key_id.as_slice() {
            return Err(failed(format!(
                "the checkpoint origin {:?} is not the trusted log's",
                verified.origin()
            )));
        }
    }
    Ok((verified.size(), verified.root()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use waxseal_bundle::dsse::EnvelopeSignature;
    use waxseal_crypto::SigningKey;

    #[test]
    fn requests_validate_as_the_log_validates_them() {
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let public = key.public_key();
        let digest = waxseal_crypto::sha256(b"artifact");
        let signature = key.sign(b"artifact").unwrap();
        let artifact = Signed::Artifact {
            digest: &digest,
            signature: &signature,
        };
        let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#;
        let pae = waxseal_bundle::dsse::pae("application/vnd.in-toto+json", payload);
        let envelope = Envelope::new(
            "application/vnd.in-toto+json",
            payload.to_vec(),
            vec![EnvelopeSignature::new("", key.sign(&pae).unwrap())],
        );
        let dsse = Signed::Dsse(&envelope);
        let signer = Signer::PublicKey(&public);
        for (name, signed) in [("hashedrekord", artifact), ("dsse", dsse)] {
            let v1 = v1_request(signer, signed).to_string();
            let entry = rekor::validate_v1(v1.as_bytes()).unwrap();
            assert_eq!(entry.kind().to_string(), name, "v1 {name}");
            let v2 = v2_request(signer, signed, public.key_details()).to_string();
            let entry = rekor::validate_v2(v2.as_bytes()).unwrap();
            assert_eq!(entry.kind().to_string(), "hashedrekord", "v2 {name}");
        }
        // A signature over other bytes is refused by the log's own validation.
        let other = key.sign(b"other").unwrap();
        let bad = v1_request(
            signer,
            Signed::Artifact {
                digest: &digest,
                signature: &other,
            },
        );
        assert!(rekor::validate_v1(bad.to_string().as_bytes()).is_err());
    }

    #[test]
    fn v1_reply_converts_to_a_bundle_entry() {
        let body = br#"{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{}}"#;
        let reply = json!({
            "abc": {
                "body": STANDARD.encode(body),
                "integratedTime": 1_700_000_000,
                "logID": "ab".repeat(32),
                "logIndex": 7,
                "verification": {
                    "inclusionProof": {
                        "logIndex": 7, "rootHash": "cd".repeat(32), "treeSize": 8,
                        "hashes": ["ef".repeat(32)], "checkpoint": "cp\n",
                    },
                    "signedEntryTimestamp": STANDARD.encode(b"set"),
                },
            },
        });
        let entry = from_v1_reply(reply.to_string().as_bytes()).unwrap();
        assert_eq!(entry.log_index, 7);
        assert_eq!(
            entry.kind_version,
            KindVersion::new("hashedrekord", "0.0.1")
        );
        assert_eq!(entry.integrated_time, Some(1_700_000_000));
        assert_eq!(entry.inclusion_proof.unwrap().tree_size, 8);
        let two = json!({"a": reply["abc"], "b": reply["abc"]});
        assert!(from_v1_reply(two.to_string().as_bytes()).is_err());
    }
}
