//! Real Sigstore bundles (shared/vectors/sigstore, see its README for sources and licence):
//! for each, rebuild the request its signer sent to Rekor, validate it, and compare the
//! canonical body with the bundle's `canonicalizedBody` byte for byte; then check the SET over
//! the recomputed payload with the real Rekor key.

use serde_json::{Value, json};
use waxseal_bundle::Error;
use waxseal_bundle::dsse;
use waxseal_bundle::rekor::{self, ValidatedEntry};
use waxseal_crypto::{PublicKey, pem, sha256};

use crate::support::{b64, bytes, read_json, unb64, vector_path};

/// What happened to one case.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The body matched byte for byte; `set` says what the SET check gave.
    Reproduced { set: Set },
    /// The request validated but gave another body.
    BodyMismatch,
    /// The request was refused.
    Rejected(Error),
    /// The bundle has no log entry.
    NoEntry,
    /// The bundle has no signing certificate to rebuild the request from.
    NoCertificate,
}

#[derive(Debug, PartialEq)]
enum Set {
    Verified,
    Absent,
    Failed,
}

/// `rekor::validate_v1` or `rekor::validate_v2`.
type Validate = fn(&[u8]) -> Result<ValidatedEntry, Error>;

struct Case {
    name: String,
    bundle: Value,
    root: Value,
    digest: [u8; 32],
}

fn cases() -> Vec<Case> {
    let manifest = read_json(&vector_path("manifest.json"));
    let mut cases = Vec::new();
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap().to_owned();
        let files = &case["files"];
        let digest = match (
            files["artifact"].as_str(),
            files["artifact_sha256"].as_str(),
        ) {
            (Some(path), _) => sha256(&std::fs::read(vector_path(path)).unwrap()),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(vector_path(path)).unwrap();
                hex::decode(text.trim()).unwrap().try_into().unwrap()
            }
            (None, None) => panic!("{name}: no artifact"),
        };
        cases.push(Case {
            bundle: read_json(&vector_path(files["bundle"].as_str().unwrap())),
            root: read_json(&vector_path(case["trusted_root"].as_str().unwrap())),
            name,
            digest,
        });
    }
    cases
}

/// The DER of the bundle's signing certificate (v0.1/v0.2 chain or v0.3 certificate).
fn certificate(bundle: &Value) -> Option<Vec<u8>> {
    let material = &bundle["verificationMaterial"];
    let raw = material["certificate"]["rawBytes"]
        .as_str()
        .or_else(|| material["x509CertificateChain"]["certificates"][0]["rawBytes"].as_str())?;
    Some(unb64(raw))
}

/// The request sigstore-python would have sent for this bundle, and the validator to use.
fn request(case: &Case, entry: &Value, certificate: &[u8]) -> (Value, Validate) {
    let bundle = &case.bundle;
    let version = entry["kindVersion"]["version"].as_str().unwrap();
    // A message signature signs the artifact digest; sigstore-python logs a DSSE envelope on
    // Rekor v2 as a hashedrekord over SHA-256(PAE) (client_v2.py).
    let (signature, digest) = match bundle.get("dsseEnvelope") {
        Some(envelope) => {
            let envelope: dsse::Envelope = serde_json::from_value(envelope.clone()).unwrap();
            let signature = envelope.signatures[0].sig.clone();
            (signature, sha256(&envelope.pae()))
        }
        None => (
            unb64(bundle["messageSignature"]["signature"].as_str().unwrap()),
            case.digest,
        ),
    };
    match version {
        "0.0.1" => (
            json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "signature": {
                        "content": b64(&signature),
                        "publicKey": {"content": b64(pem::encode(pem::CERTIFICATE, certificate))},
                    },
                    "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                },
            }),
            rekor::validate_v1,
        ),
        _ => (
            json!({"hashedRekordRequestV002": {
                "digest": b64(digest),
                "signature": {
                    "content": b64(&signature),
                    "verifier": {
                        "x509Certificate": {"rawBytes": b64(certificate)},
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    },
                },
            }}),
            rekor::validate_v2,
        ),
    }
}

/// Checks the entry's SET against the trusted root's log key for its log ID.
fn check_set(case: &Case, entry: &Value, body: &[u8]) -> Set {
    let Some(set) = entry["inclusionPromise"]["signedEntryTimestamp"].as_str() else {
        return Set::Absent;
    };
    let log_id = entry["logId"]["keyId"].as_str().unwrap();
    let Some(tlog) = case.root["tlogs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["logId"]["keyId"] == log_id)
    else {
        return Set::Failed;
    };
    let key =
        PublicKey::from_spki_der(&unb64(tlog["publicKey"]["rawBytes"].as_str().unwrap())).unwrap();
    let payload = rekor::set_payload(
        body,
        entry["integratedTime"].as_str().unwrap().parse().unwrap(),
        &unb64(log_id).try_into().unwrap(),
        entry["logIndex"].as_str().unwrap().parse().unwrap(),
    );
    match key.verify(&payload, &unb64(set)) {
        Ok(()) => Set::Verified,
        Err(_) => Set::Failed,
    }
}

fn outcome(case: &Case) -> Outcome {
    let Some(entry) = case.bundle["verificationMaterial"]["tlogEntries"]
        .as_array()
        .and_then(|entries| entries.first())
    else {
        return Outcome::NoEntry;
    };
    let Some(certificate) = certificate(&case.bundle) else {
        return Outcome::NoCertificate;
    };
    let (request, validate) = request(case, entry, &certificate);
    let validated = match validate(&bytes(&request)) {
        Ok(validated) => validated,
        Err(error) => return Outcome::Rejected(error),
    };
    let logged = unb64(entry["canonicalizedBody"].as_str().unwrap());
    if validated.canonical_body() != logged.as_slice() {
        return Outcome::BodyMismatch;
    }
    Outcome::Reproduced {
        set: check_set(case, entry, &logged),
    }
}

#[test]
fn real_bundles_reproduce_byte_for_byte() {
    let mut reproduced = Vec::new();
    let mut report = String::new();
    for case in cases() {
        let outcome = outcome(&case);
        report.push_str(&format!("{}: {outcome:?}\n", case.name));
        let name = case.name.as_str();
        // Every real (untampered) bundle reproduces, and its SET verifies when it has one.
        if !name.contains("--") {
            match (&outcome, name) {
                (Outcome::NoEntry, "upstream-no-log-entry") => {}
                (Outcome::NoCertificate, "upstream-no-certificate-v01") => {}
                // The entry logs another artifact's signature (CVE-2022-36056's test bundle).
                (Outcome::BodyMismatch, "upstream-cve-2022-36056-unrelated-log-entry") => {}
                (Outcome::Reproduced { set: Set::Absent }, _) => {
                    let kind =
                        &case.bundle["verificationMaterial"]["tlogEntries"][0]["kindVersion"];
                    assert!(
                        kind["version"] == "0.0.2" || name == "upstream-no-signed-time-v03",
                        "{name}: a v1 entry without SET"
                    );
                }
                (Outcome::Reproduced { set: Set::Verified }, _) => {}
                _ => panic!("{name}: {outcome:?}"),
            }
        }
        // Tampered copies fail exactly where they were tampered with.
        let expected = if name.ends_with("--signature-bit-flip") {
            Some(matches!(
                outcome,
                Outcome::Rejected(Error::SignatureInvalid { .. })
            ))
        } else if name.ends_with("--set-bit-flip")
            || name.ends_with("--integrated-time-plus-one")
            || name.ends_with("--entry-log-index-plus-one")
        {
            Some(matches!(outcome, Outcome::Reproduced { set: Set::Failed }))
        } else if name.ends_with("--canonicalized-body-digest-changed")
            || name.ends_with("--certificate-swapped-same-identity")
        {
            Some(!matches!(outcome, Outcome::Reproduced { .. }))
        } else if name.ends_with("--drop-tlog-entry") {
            Some(outcome == Outcome::NoEntry)
        } else {
            None
        };
        assert_ne!(expected, Some(false), "{name}: {outcome:?}");
        if matches!(outcome, Outcome::Reproduced { .. }) {
            reproduced.push(case.name.clone());
        }
    }
    eprintln!("{report}");
    assert!(
        reproduced.len() >= 17,
        "only {} reproduced:\n{report}",
        reproduced.len()
    );
}
