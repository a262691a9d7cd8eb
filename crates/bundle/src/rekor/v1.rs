//! Rekor v1 proposed entries (`POST /api/v1/log/entries`): `hashedrekord` 0.0.1 and `dsse`
//! 0.0.1, validated and canonicalised as sigstore/rekor's `pkg/types/hashedrekord/v0.0.1` and
//! `pkg/types/dsse/v0.0.1` do.
//!
//! Like Rekor, unknown fields in a proposed entry are ignored (Rekor decodes `spec` from a map
//! and reads only the fields it knows).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use waxseal_crypto::{Algorithm, sha256};

use crate::rekor::request::{self, Object, as_array, as_str};
use crate::rekor::verifier::{Verifier, push_unique};
use crate::rekor::{Kind, SearchTerm, ValidatedEntry, intoto_subject_terms};
use crate::{Error, dsse, protojson};

const KINDS: &str = "hashedrekord, dsse";
const VERSIONS: &str = "0.0.1";

/// Validates a proposed entry and builds its canonical body; see [`crate::rekor::validate_v1`].
pub(crate) fn validate(request_json: &[u8]) -> Result<ValidatedEntry, Error> {
    let value = request::parse(request_json)?;
    let root = Object::root(&value)?;
    let kind = root.string("kind")?;
    if !matches!(kind, "hashedrekord" | "dsse") {
        return Err(Error::UnsupportedKind {
            kind: kind.to_owned(),
            supported: KINDS,
        });
    }
    let version = root.string("apiVersion")?;
    if version != "0.0.1" {
        return Err(Error::UnsupportedApiVersion {
            kind: kind.to_owned(),
            version: version.to_owned(),
            supported: VERSIONS,
        });
    }
    let spec = root.object("spec")?;
    match kind {
        "hashedrekord" => hashedrekord(&spec),
        _ => dsse(&spec),
    }
}

/// The hash algorithms `hashedrekord` 0.0.1 accepts (its JSON schema's `enum`).
fn digest_length(algorithm: &str) -> Option<(usize, &'static str)> {
    match algorithm {
        "sha256" => Some((32, "SHA-256")),
        "sha384" => Some((48, "SHA-384")),
        "sha512" => Some((64, "SHA-512")),
        _ => None,
    }
}

/// The search term of an artifact digest.
pub(crate) fn artifact_term(digest: &[u8]) -> Option<SearchTerm> {
    match digest.len() {
        32 => digest.try_into().ok().map(SearchTerm::Sha256Artifact),
        48 => digest.try_into().ok().map(SearchTerm::Sha384Artifact),
        64 => digest.try_into().ok().map(SearchTerm::Sha512Artifact),
        _ => None,
    }
}

/// `hashedrekord` 0.0.1 (`V001Entry.validate` and `Canonicalize`).
fn hashedrekord(spec: &Object<'_>) -> Result<ValidatedEntry, Error> {
    let signature = spec.object("signature")?;
    let sig = signature.go_bytes("content")?;
    let public_key = signature.object("publicKey")?;
    let key_field = public_key.path_of("content");
    let verifier = Verifier::from_pem(&key_field, &public_key.go_bytes("content")?)?;

    let data = spec.object("data")?;
    let hash = data.object("hash")?;
    let algorithm = hash.string("algorithm")?;
    let value = hash.string("value")?;
    let value_field = hash.path_of("value");
    let (length, name) =
        digest_length(algorithm).ok_or_else(|| Error::UnsupportedHashAlgorithm {
            field: hash.path_of("algorithm"),
            algorithm: algorithm.to_owned(),
            supported: "sha256, sha384, sha512",
        })?;
    // Rekor checks the hex length before decoding it.
    if value.len() != 2 * length {
        return Err(Error::DigestLength {
            field: value_field,
            algorithm: name,
            expected: length,
            actual: value.len() / 2,
        });
    }
    let digest = hex::decode(value).map_err(|_| Error::InvalidHex {
        field: value_field.clone(),
    })?;

    if verifier.key().algorithm() == Algorithm::Ed25519 {
        return Err(Error::Ed25519PrehashUnsupported { field: key_field });
    }
    verifier
        .key()
        .verify_prehashed(&digest, &sig)
        .map_err(|_| verifier.signature_invalid(signature.path_of("content")))?;

    // The stored hash object is the submitted one; signature and key are re-encoded.
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": algorithm, "value": value}},
            "signature": {
                "content": protojson::encode_base64(&sig),
                "publicKey": {"content": protojson::encode_base64(verifier.canonical_pem().as_bytes())},
            },
        },
    });
    let mut terms = Vec::new();
    verifier.add_search_terms(&mut terms);
    if let Some(term) = artifact_term(&digest) {
        push_unique(&mut terms, term);
    }
    Ok(ValidatedEntry::new(
        Kind::Hashedrekord,
        "0.0.1",
        request::canonicalize(&body)?,
        terms,
    ))
}

/// The envelope inside `spec.proposedContent.envelope`, read as Go's `encoding/json` reads
/// go-securesystemslib's `dsse.Envelope`: unknown fields ignored, absent fields empty, base64
/// kept as text.
#[derive(Deserialize)]
struct GoEnvelope {
    #[serde(default, rename = "payloadType")]
    payload_type: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    signatures: Option<Vec<GoSignature>>,
}

#[derive(Deserialize)]
struct GoSignature {
    #[serde(default)]
    sig: String,
}

/// `dsse` 0.0.1 (`V001Entry.Unmarshal` and `Canonicalize`).
fn dsse(spec: &Object<'_>) -> Result<ValidatedEntry, Error> {
    let Some(proposed) = spec.optional_object("proposedContent")? else {
        return Err(Error::MissingField {
            field: spec.path_of("proposedContent"),
        });
    };
    // The server computes these; a proposal must not carry them.
    for computed in ["envelopeHash", "payloadHash", "signatures"] {
        let present = match spec.get(computed) {
            Some(Value::Array(items)) => !items.is_empty(),
            Some(_) => true,
            None => false,
        };
        if present {
            return Err(Error::ConflictingFields {
                field: proposed.path().to_owned(),
                other: spec.path_of(computed),
            });
        }
    }
    let envelope_field = proposed.path_of("envelope");
    let envelope_text = proposed.string("envelope")?;
    let verifiers_field = proposed.path_of("verifiers");
    let verifier_values = match proposed.get("verifiers") {
        Some(value) => as_array(value, &verifiers_field)?,
        None => {
            return Err(Error::MissingField {
                field: verifiers_field,
            });
        }
    };
    if verifier_values.is_empty() {
        return Err(Error::EmptyField {
            field: verifiers_field,
        });
    }

    let envelope: GoEnvelope =
        serde_json::from_str(envelope_text).map_err(|e| Error::InvalidEnvelope {
            field: envelope_field.clone(),
            reason: e.to_string(),
        })?;
    let signatures = envelope.signatures.unwrap_or_default();
    if signatures.is_empty() {
        return Err(Error::EmptyField {
            field: format!("{envelope_field} signatures"),
        });
    }
    let payload =
        protojson::decode_dsse_base64(&envelope.payload).ok_or_else(|| Error::InvalidBase64 {
            field: format!("{envelope_field} payload"),
        })?;
    let sigs = signatures
        .iter()
        .enumerate()
        .map(|(i, s)| {
            protojson::decode_dsse_base64(&s.sig).ok_or_else(|| Error::InvalidBase64 {
                field: format!("{envelope_field} signatures[{i}].sig"),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let pae = dsse::pae(&envelope.payload_type, &payload);
    let pae_sha256 = sha256(&pae);

    // go-securesystemslib's EnvelopeVerifier with one key: the key accepts the first signature
    // (in envelope order) that it verifies, and must accept one. Rekor loads every key with
    // SHA-256 (`signature.LoadVerifier(key, crypto.SHA256)`), whatever its curve.
    let mut key_by_sig: BTreeMap<&str, usize> = BTreeMap::new();
    let mut verifiers = Vec::with_capacity(verifier_values.len());
    for (index, value) in verifier_values.iter().enumerate() {
        let field = format!("{verifiers_field}[{index}]");
        let pem = protojson::decode_go_base64(as_str(value, &field)?).ok_or_else(|| {
            Error::InvalidBase64 {
                field: field.clone(),
            }
        })?;
        let verifier = Verifier::from_pem(&field, &pem)?;
        let accepted = sigs.iter().position(|sig| {
            match verifier.key().algorithm() {
                Algorithm::Ed25519 => verifier.key().verify(&pae, sig),
                _ => verifier.key().verify_prehashed(&pae_sha256, sig),
            }
            .is_ok()
        });
        let Some(accepted) = accepted else {
            return Err(Error::DsseVerifierUnused { field });
        };
        if let Some(signature) = signatures.get(accepted) {
            key_by_sig.insert(signature.sig.as_str(), index);
        }
        verifiers.push(verifier);
    }
    if let Some(unverified) = signatures
        .iter()
        .position(|s| !key_by_sig.contains_key(s.sig.as_str()))
    {
        return Err(Error::DsseSignatureUnverified {
            field: format!("{envelope_field} signatures[{unverified}]"),
        });
    }

    // Signatures sorted by their base64 text (a BTreeMap's order), one per distinct text.
    let mut stored = Vec::with_capacity(key_by_sig.len());
    let mut terms = Vec::new();
    for (sig, &index) in &key_by_sig {
        let Some(verifier) = verifiers.get(index) else {
            continue;
        };
        stored.push(json!({
            "signature": sig,
            "verifier": protojson::encode_base64(verifier.canonical_pem().as_bytes()),
        }));
        verifier.add_search_terms(&mut terms);
    }
    let payload_hash = sha256(&payload);
    let envelope_hash = sha256(envelope_text.as_bytes());
    let body = json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(envelope_hash)},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(payload_hash)},
            "signatures": stored,
        },
    });
    push_unique(&mut terms, SearchTerm::Sha256Artifact(payload_hash));
    push_unique(&mut terms, SearchTerm::Sha256Artifact(envelope_hash));
    for term in intoto_subject_terms(&envelope.payload_type, &payload) {
        push_unique(&mut terms, term);
    }
    Ok(ValidatedEntry::new(
        Kind::Dsse,
        "0.0.1",
        request::canonicalize(&body)?,
        terms,
    ))
}
