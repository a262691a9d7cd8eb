//! Transparency log entry checks: the entry's body against the bundle (CVE-2022-36056), the
//! inclusion proof (RFC 9162 §2.1.3.2) against a checkpoint signed by the log key (C2SP
//! `signed-note`, `tlog-checkpoint`), and the Rekor v1 signed entry timestamp.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;
use waxseal_bundle::dsse::Envelope;
use waxseal_bundle::rekor::{TransparencyLogEntry, set_payload};
use waxseal_crypto::sha256;
use waxseal_crypto::{PublicKey, pem};
use waxseal_merkle::{Hash, leaf_hash, root_from_inclusion_proof};
use waxseal_note::{Checkpoint, Note};

use crate::error::TlogError;

/// What the entry's body must say.
pub(crate) struct Expected<'a> {
    /// The signer: the leaf certificate's DER, or the key's SPKI DER.
    pub(crate) signer: Signer<'a>,
    /// The signature bytes.
    pub(crate) signature: &'a [u8],
    /// For `hashedrekord`: the signed digest (artifact SHA-256, or SHA-256 of the DSSE PAE).
    pub(crate) hashedrekord_digest: [u8; 32],
    /// For `dsse`: SHA-256 of the envelope payload, when the bundle is DSSE.
    pub(crate) dsse_payload_hash: Option<[u8; 32]>,
    /// For `intoto`: the bundle's DSSE envelope.
    pub(crate) envelope: Option<&'a Envelope>,
}

/// The signer's verification material.
#[derive(Clone, Copy)]
pub(crate) enum Signer<'a> {
    /// A certificate, DER.
    Certificate(&'a [u8]),
    /// A public key.
    Key(&'a PublicKey),
}

impl Signer<'_> {
    fn matches_pem(&self, text: &str) -> bool {
        match self {
            Self::Certificate(der) => pem::decode(text, "CERTIFICATE").is_ok_and(|d| d == *der),
            Self::Key(key) => pem::decode(text, "PUBLIC KEY").is_ok_and(|d| d == key.spki_der()),
        }
    }

    fn matches_v2_verifier(&self, verifier: &Value, key_details: &str) -> bool {
        let raw = |member: &str| {
            verifier
                .get(member)
                .and_then(|m| m.get("rawBytes"))
                .and_then(Value::as_str)
                .and_then(|b| STANDARD.decode(b).ok())
        };
        let details_ok = verifier.get("keyDetails").and_then(Value::as_str) == Some(key_details);
        details_ok
            && match self {
                Self::Certificate(der) => raw("x509Certificate").is_some_and(|d| d == *der),
                Self::Key(key) => raw("publicKey").is_some_and(|d| d == key.spki_der()),
            }
    }
}

fn mismatch(field: &'static str, expected: impl Into<String>, actual: Option<&Value>) -> TlogError {
    TlogError::BodyMismatch {
        field,
        expected: expected.into(),
        actual: actual.map_or_else(|| "absent".to_owned(), Value::to_string),
    }
}

fn b64_eq(value: Option<&Value>, bytes: &[u8]) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(|s| STANDARD.decode(s).ok())
        .is_some_and(|d| d == bytes)
}

fn pem_b64_matches(value: Option<&Value>, signer: Signer<'_>) -> bool {
    value
        .and_then(Value::as_str)
        .and_then(|s| STANDARD.decode(s).ok())
        .and_then(|d| String::from_utf8(d).ok())
        .is_some_and(|text| signer.matches_pem(&text))
}

/// Checks that the canonical body describes exactly this bundle's signature, signer and
/// artifact, as sigstore-python rebuilds and compares it.
pub(crate) fn check_body(
    entry: &TransparencyLogEntry,
    expected: &Expected<'_>,
    key_details: &str,
) -> Result<(), TlogError> {
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|e| mismatch("(body)", "JSON", Some(&Value::String(e.to_string()))))?;
    let kind = &entry.kind_version.kind;
    let version = &entry.kind_version.version;
    if body.get("kind").and_then(Value::as_str) != Some(kind) {
        return Err(mismatch("kind", kind.clone(), body.get("kind")));
    }
    if body.get("apiVersion").and_then(Value::as_str) != Some(version) {
        return Err(mismatch(
            "apiVersion",
            version.clone(),
            body.get("apiVersion"),
        ));
    }
    let spec = body.get("spec");
    let at = |path: &[&str]| path.iter().try_fold(spec?, |value, key| value.get(key));
    let digest_hex = hex::encode(expected.hashedrekord_digest);
    let sig_b64 = STANDARD.encode(expected.signature);
    match (kind.as_str(), version.as_str()) {
        ("hashedrekord", "0.0.1") => {
            let algorithm = at(&["data", "hash", "algorithm"]);
            if algorithm.and_then(Value::as_str) != Some("sha256") {
                return Err(mismatch("spec.data.hash.algorithm", "sha256", algorithm));
            }
            let value = at(&["data", "hash", "value"]);
            if value.and_then(Value::as_str) != Some(digest_hex.as_str()) {
                return Err(mismatch("spec.data.hash.value", digest_hex, value));
            }
            let content = at(&["signature", "content"]);
            if !b64_eq(content, expected.signature) {
                return Err(mismatch("spec.signature.content", sig_b64, content));
            }
            let key = at(&["signature", "publicKey", "content"]);
            if !pem_b64_matches(key, expected.signer) {
                return Err(mismatch(
                    "spec.signature.publicKey.content",
                    "the bundle's signer",
                    key,
                ));
            }
        }
        ("hashedrekord", "0.0.2") => {
            let algorithm = at(&["hashedRekordV002", "data", "algorithm"]);
            if algorithm.and_then(Value::as_str) != Some("SHA2_256") {
                return Err(mismatch(
                    "spec.hashedRekordV002.data.algorithm",
                    "SHA2_256",
                    algorithm,
                ));
            }
            let digest = at(&["hashedRekordV002", "data", "digest"]);
            if !b64_eq(digest, &expected.hashedrekord_digest) {
                return Err(mismatch(
                    "spec.hashedRekordV002.data.digest",
                    STANDARD.encode(expected.hashedrekord_digest),
                    digest,
                ));
            }
            let content = at(&["hashedRekordV002", "signature", "content"]);
            if !b64_eq(content, expected.signature) {
                return Err(mismatch(
                    "spec.hashedRekordV002.signature.content",
                    sig_b64,
                    content,
                ));
            }
            let verifier = at(&["hashedRekordV002", "signature", "verifier"]);
            if !verifier.is_some_and(|v| expected.signer.matches_v2_verifier(v, key_details)) {
                return Err(mismatch(
                    "spec.hashedRekordV002.signature.verifier",
                    format!("the bundle's signer ({key_details})"),
                    verifier,
                ));
            }
        }
        ("dsse", "0.0.1") => {
            let Some(payload_hash) = expected.dsse_payload_hash else {
                return Err(mismatch(
                    "kind",
                    "hashedrekord (the bundle has no DSSE envelope)",
                    body.get("kind"),
                ));
            };
            let algorithm = at(&["payloadHash", "algorithm"]);
            if algorithm.and_then(Value::as_str) != Some("sha256") {
                return Err(mismatch("spec.payloadHash.algorithm", "sha256", algorithm));
            }
            let value = at(&["payloadHash", "value"]);
            let want = hex::encode(payload_hash);
            if value.and_then(Value::as_str) != Some(want.as_str()) {
                return Err(mismatch("spec.payloadHash.value", want, value));
            }
            let signatures = at(&["signatures"]);
            let one = signatures.and_then(only_element);
            let ok = one.is_some_and(|s| {
                b64_eq(s.get("signature"), expected.signature)
                    && pem_b64_matches(s.get("verifier"), expected.signer)
            });
            if !ok {
                return Err(mismatch(
                    "spec.signatures",
                    "one signature by the bundle's signer",
                    signatures,
                ));
            }
        }
        ("dsse", "0.0.2") => {
            let Some(payload_hash) = expected.dsse_payload_hash else {
                return Err(mismatch(
                    "kind",
                    "hashedrekord (the bundle has no DSSE envelope)",
                    body.get("kind"),
                ));
            };
            let algorithm = at(&["dsseV002", "payloadHash", "algorithm"]);
            if algorithm.and_then(Value::as_str) != Some("SHA2_256") {
                return Err(mismatch(
                    "spec.dsseV002.payloadHash.algorithm",
                    "SHA2_256",
                    algorithm,
                ));
            }
            let digest = at(&["dsseV002", "payloadHash", "digest"]);
            if !b64_eq(digest, &payload_hash) {
                return Err(mismatch(
                    "spec.dsseV002.payloadHash.digest",
                    STANDARD.encode(payload_hash),
                    digest,
                ));
            }
            let signatures = at(&["dsseV002", "signatures"]);
            let one = signatures.and_then(only_element);
            let ok = one.is_some_and(|s| {
                b64_eq(s.get("content"), expected.signature)
                    && s.get("verifier")
                        .is_some_and(|v| expected.signer.matches_v2_verifier(v, key_details))
            });
            if !ok {
                return Err(mismatch(
                    "spec.dsseV002.signatures",
                    "one signature by the bundle's signer",
                    signatures,
                ));
            }
        }
        ("intoto", "0.0.2") => {
            let Some(envelope) = expected.envelope else {
                return Err(mismatch(
                    "kind",
                    "hashedrekord (the bundle has no DSSE envelope)",
                    body.get("kind"),
                ));
            };
            check_intoto_v002(|path| at(path), envelope, expected)?;
        }
        _ => {
            return Err(mismatch(
                "kind",
                "hashedrekord or dsse, 0.0.1 or 0.0.2, or intoto 0.0.2",
                body.get("kind"),
            ));
        }
    }
    Ok(())
}

/// DSSE's base64 as go-securesystemslib decodes envelope fields: either alphabet, padding
/// optional (DSSE `envelope.md`).
const DSSE_STD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const DSSE_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a Rekor `intoto` 0.0.2 "base64 of base64" field: standard base64 (Go
/// `strfmt.Base64`) of the envelope's own base64 text, which DSSE lets be either alphabet.
fn double_b64(value: Option<&Value>) -> Option<Vec<u8>> {
    let text = STANDARD.decode(value?.as_str()?).ok()?;
    DSSE_STD
        .decode(&text)
        .or_else(|_| DSSE_URL.decode(&text))
        .ok()
}

/// Rekor `intoto` 0.0.2 (sigstore/rekor `pkg/types/intoto/v0.0.2/entry.go`, `Canonicalize`):
///
/// ```json
/// {"apiVersion":"0.0.2","kind":"intoto","spec":{"content":{
///   "envelope":{"payloadType":T,"signatures":[{"keyid":K,"publicKey":b64(PEM),"sig":b64(b64 sig)}]},
///   "hash":{"algorithm":"sha256","value":hex},"payloadHash":{"algorithm":"sha256","value":hex}}}}
/// ```
///
/// `payloadHash` is SHA-256 of the payload and must match. `hash` is SHA-256 of the envelope
/// JSON *as the client uploaded it*, which no verifier can rebuild (the bundle's envelope is
/// re-serialised), so it must only be present and well-formed; the parts it would bind are
/// each checked instead: the payload type, the one signature (the DSSE signature's base64 text,
/// base64-encoded again, as Rekor stores `strfmt.Base64([]byte(sig.Sig))`) and its signer's
/// PEM (exactly one certificate or key, the bundle's). The canonical body omits the payload;
/// if a body has one (`b64(b64 payload)`), it must be the bundle's. `keyid` is an unsigned hint
/// and is ignored.
fn check_intoto_v002<'v>(
    at: impl Fn(&[&str]) -> Option<&'v Value>,
    envelope: &Envelope,
    expected: &Expected<'_>,
) -> Result<(), TlogError> {
    let field = |path: &[&str]| at(&[&["content"], path].concat());
    let algorithm = field(&["payloadHash", "algorithm"]);
    if algorithm.and_then(Value::as_str) != Some("sha256") {
        return Err(mismatch(
            "spec.content.payloadHash.algorithm",
            "sha256",
            algorithm,
        ));
    }
    let value = field(&["payloadHash", "value"]);
    let want = hex::encode(sha256(&envelope.payload));
    if value.and_then(Value::as_str) != Some(want.as_str()) {
        return Err(mismatch("spec.content.payloadHash.value", want, value));
    }
    let algorithm = field(&["hash", "algorithm"]);
    if algorithm.and_then(Value::as_str) != Some("sha256") {
        return Err(mismatch("spec.content.hash.algorithm", "sha256", algorithm));
    }
    let value = field(&["hash", "value"]);
    let well_formed = value
        .and_then(Value::as_str)
        .is_some_and(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(mismatch(
            "spec.content.hash.value",
            "a SHA-256 digest of the envelope, 64 hex digits",
            value,
        ));
    }
    let payload_type = field(&["envelope", "payloadType"]);
    if payload_type.and_then(Value::as_str) != Some(envelope.payload_type.as_str()) {
        return Err(mismatch(
            "spec.content.envelope.payloadType",
            envelope.payload_type.clone(),
            payload_type,
        ));
    }
    if let Some(payload) = field(&["envelope", "payload"])
        && double_b64(Some(payload)).as_deref() != Some(envelope.payload.as_slice())
    {
        return Err(mismatch(
            "spec.content.envelope.payload",
            "absent, or the bundle's payload (base64 of its base64)",
            Some(payload),
        ));
    }
    let signatures = field(&["envelope", "signatures"]);
    let one = signatures.and_then(only_element);
    let ok = one.is_some_and(|s| {
        double_b64(s.get("sig")).as_deref() == Some(expected.signature)
            && pem_b64_matches(s.get("publicKey"), expected.signer)
    });
    if !ok {
        return Err(mismatch(
            "spec.content.envelope.signatures",
            "one signature by the bundle's signer",
            signatures,
        ));
    }
    Ok(())
}

/// Verifies the inclusion proof of `entry` and the checkpoint it leads to under `key`, whose
/// checkpoint signatures carry the key hint `log_id[..4]`.
pub(crate) fn check_inclusion(
    entry: &TransparencyLogEntry,
    log_id: &[u8],
    key: &PublicKey,
) -> Result<(), TlogError> {
    let Some(proof) = entry.inclusion_proof.as_ref() else {
        return Err(TlogError::InclusionProofInvalid {
            index: entry.log_index,
            size: 0,
            reason: "absent".to_owned(),
        });
    };
    let (index, size) = (proof.log_index, proof.tree_size);
    let invalid = |reason: String| TlogError::InclusionProofInvalid {
        index,
        size,
        reason,
    };
    let (Ok(index_u), Ok(size_u)) = (u64::try_from(index), u64::try_from(size)) else {
        return Err(invalid("negative index or size".to_owned()));
    };
    let expected_root =
        Hash::from_slice(&proof.root_hash).map_err(|e| invalid(format!("root hash: {e}")))?;
    let hashes = proof
        .hashes
        .iter()
        .map(|h| Hash::from_slice(h))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("audit path: {e}")))?;
    let leaf = leaf_hash(&entry.canonicalized_body);
    let computed = root_from_inclusion_proof(&leaf, index_u, size_u, &hashes)
        .map_err(|e| invalid(e.to_string()))?;
    if computed != expected_root {
        return Err(TlogError::InclusionRootMismatch {
            index,
            size,
            computed: computed.to_hex(),
            expected: expected_root.to_hex(),
        });
    }

    let envelope = proof
        .checkpoint
        .as_ref()
        .map(|c| c.envelope.as_str())
        .unwrap_or_default();
    let malformed = |reason: String| TlogError::CheckpointMalformed { reason };
    let note = Note::parse(envelope.as_bytes()).map_err(|e| malformed(e.to_string()))?;
    let checkpoint = Checkpoint::parse(note.text()).map_err(|e| malformed(e.to_string()))?;
    let hint: [u8; 4] = log_id
        .get(..4)
        .and_then(|h| h.try_into().ok())
        .ok_or_else(|| malformed("log ID is shorter than a key hint".to_owned()))?;
    let mut verified = false;
    // C2SP signed-note: signatures by unknown keys (witnesses) are ignored; a signature by the
    // log's key must verify.
    for signature in note.signatures().iter().filter(|s| s.key_hint() == hint) {
        key.verify(note.text().as_bytes(), signature.bytes())
            .map_err(|_| TlogError::CheckpointSignatureInvalid {
                name: signature.name().to_owned(),
            })?;
        verified = true;
    }
    if !verified {
        return Err(TlogError::CheckpointUnsigned {
            key_hint: hex::encode(hint),
        });
    }
    if checkpoint.size() != size_u || checkpoint.root() != expected_root {
        return Err(TlogError::CheckpointMismatch {
            checkpoint_size: checkpoint.size(),
            checkpoint_root: checkpoint.root().to_hex(),
            proof_size: size,
            proof_root: expected_root.to_hex(),
        });
    }
    Ok(())
}

/// Verifies a Rekor v1 signed entry timestamp under `key`.
pub(crate) fn check_set(
    entry: &TransparencyLogEntry,
    log_id: &[u8; 32],
    integrated_time: i64,
    set: &[u8],
    key: &PublicKey,
) -> Result<(), TlogError> {
    let invalid = || TlogError::SetInvalid {
        log_index: entry.log_index,
    };
    let log_index = u64::try_from(entry.log_index).map_err(|_| invalid())?;
    let payload = set_payload(
        &entry.canonicalized_body,
        integrated_time,
        log_id,
        log_index,
    );
    key.verify(&payload, set).map_err(|_| invalid())
}

/// The one element of a JSON array (`None` for anything else, or another count).
fn only_element(value: &Value) -> Option<&Value> {
    match value.as_array()?.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}
