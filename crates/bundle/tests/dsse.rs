//! `dsse` 0.0.1 (Rekor v1) and 0.0.2 (Rekor v2): exact bodies, signature-to-verifier matching as
//! go-securesystemslib does it, and every rejection by name.

use serde_json::{Value, json};
use waxseal_bundle::Error;
use waxseal_bundle::dsse::{self, Envelope, EnvelopeSignature};
use waxseal_bundle::rekor::{self, Kind, SearchTerm};
use waxseal_crypto::{Algorithm, PublicKey, sha256};

use crate::support::{Signer, assert_same_text, b64, bytes, rsa_fixture};

const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

fn statement(subject_digest: &[u8; 32]) -> Vec<u8> {
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"a","digest":{{"sha256":"{}"}}}}],"predicateType":"https://example.com/p","predicate":{{}}}}"#,
        hex::encode(subject_digest)
    )
    .into_bytes()
}

/// The envelope JSON text a v1 client submits (signature strings as given).
fn envelope_text(payload: &[u8], sigs: &[String]) -> String {
    let signatures: Vec<Value> = sigs
        .iter()
        .map(|s| json!({"keyid": "", "sig": s}))
        .collect();
    serde_json::to_string(&json!({
        "payloadType": PAYLOAD_TYPE,
        "payload": b64(payload),
        "signatures": signatures,
    }))
    .unwrap()
}

fn v1_request(envelope: &str, verifiers: &[String]) -> Value {
    let verifiers: Vec<String> = verifiers.iter().map(b64).collect();
    json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {"proposedContent": {"envelope": envelope, "verifiers": verifiers}},
    })
}

fn v1_body(envelope: &str, payload: &[u8], signatures: &[(String, String)]) -> String {
    let signatures: Vec<String> = signatures
        .iter()
        .map(|(sig, pem)| format!(r#"{{"signature":"{sig}","verifier":"{}"}}"#, b64(pem)))
        .collect();
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"dsse","spec":{{"envelopeHash":{{"algorithm":"sha256","value":"{}"}},"payloadHash":{{"algorithm":"sha256","value":"{}"}},"signatures":[{}]}}}}"#,
        hex::encode(sha256(envelope.as_bytes())),
        hex::encode(sha256(payload)),
        signatures.join(",")
    )
}

#[test]
fn v1_accepts_ecdsa_p256_ed25519_and_rsa_with_the_exact_body() {
    let rsa = rsa_fixture();
    let p256 = Signer::certified(Algorithm::EcdsaP256Sha256);
    let ed25519 = Signer::key(Algorithm::Ed25519);
    let payload = statement(&[7; 32]);
    let pae = dsse::pae(PAYLOAD_TYPE, &payload);
    let cases: Vec<(&str, Vec<u8>, String, Vec<u8>)> = vec![
        (
            "P-256 certificate",
            payload.clone(),
            p256.pem(),
            p256.sign(&pae),
        ),
        (
            "Ed25519 key",
            payload.clone(),
            ed25519.pem(),
            ed25519.sign(&pae),
        ),
        (
            "RSA-2048 key",
            rsa.dsse_payload.clone(),
            rsa.pem.clone(),
            rsa.dsse_sig.clone(),
        ),
    ];
    for (name, payload, pem, sig) in cases {
        let envelope = envelope_text(&payload, &[b64(&sig)]);
        let entry = rekor::validate_v1(&bytes(&v1_request(&envelope, std::slice::from_ref(&pem))))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (entry.kind(), entry.api_version()),
            (Kind::Dsse, "0.0.1"),
            "{name}"
        );
        let want = v1_body(&envelope, &payload, &[(b64(&sig), pem)]);
        assert_same_text(name, entry.canonical_body(), want.as_bytes());
        let terms = entry.search_terms();
        assert!(
            terms.contains(&SearchTerm::Sha256Artifact(sha256(&payload))),
            "{name}"
        );
        assert!(
            terms.contains(&SearchTerm::Sha256Artifact(sha256(envelope.as_bytes()))),
            "{name}"
        );
    }
}

#[test]
fn v1_indexes_intoto_subjects() {
    let signer = Signer::key(Algorithm::EcdsaP256Sha256);
    let payload = statement(&[9; 32]);
    let envelope = envelope_text(
        &payload,
        &[b64(signer.sign(&dsse::pae(PAYLOAD_TYPE, &payload)))],
    );
    let entry = rekor::validate_v1(&bytes(&v1_request(&envelope, &[signer.pem()]))).unwrap();
    assert!(
        entry
            .search_terms()
            .contains(&SearchTerm::Sha256Artifact([9; 32]))
    );
}

#[test]
fn v1_hashes_the_envelope_exactly_as_submitted_and_keeps_signature_text() {
    // Whitespace and key order are the client's; a URL-safe signature stays URL-safe.
    let signer = Signer::key(Algorithm::Ed25519);
    let payload = b"hello".to_vec();
    let sig = signer.sign(&dsse::pae("text/plain", &payload));
    let url_sig = b64(&sig).replace('+', "-").replace('/', "_");
    let envelope = format!(
        "{{ \"signatures\": [ {{\"sig\": \"{url_sig}\"}} ],\n  \"payload\": \"{}\", \"payloadType\": \"text/plain\" }}",
        b64(&payload)
    );
    let entry = rekor::validate_v1(&bytes(&v1_request(&envelope, &[signer.pem()]))).unwrap();
    let want = v1_body(&envelope, &payload, &[(url_sig, signer.pem())]);
    assert_same_text("exact envelope", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v1_matches_each_signature_to_its_verifier_and_sorts_them() {
    let a = Signer::key(Algorithm::EcdsaP256Sha256);
    let b = Signer::certified(Algorithm::EcdsaP256Sha256);
    let payload = statement(&[1; 32]);
    let pae = dsse::pae(PAYLOAD_TYPE, &payload);
    let (sig_a, sig_b) = (b64(a.sign(&pae)), b64(b.sign(&pae)));
    let envelope = envelope_text(&payload, &[sig_a.clone(), sig_b.clone()]);
    // Verifiers in the other order than the signatures.
    let entry = rekor::validate_v1(&bytes(&v1_request(&envelope, &[b.pem(), a.pem()]))).unwrap();
    let mut pairs = vec![(sig_a, a.pem()), (sig_b, b.pem())];
    pairs.sort();
    let want = v1_body(&envelope, &payload, &pairs);
    assert_same_text("two signers", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v1_checks_ecdsa_over_sha256_whatever_the_curve_as_rekor_does() {
    // Rekor loads every DSSE verifier with SHA-256 (`signature.LoadVerifier(key, SHA256)`), so
    // a P-384 signature over SHA-384(PAE) does not verify there, nor here.
    let signer = Signer::key(Algorithm::EcdsaP384Sha384);
    let payload = b"x".to_vec();
    let envelope = envelope_text(
        &payload,
        &[b64(signer.sign(&dsse::pae(PAYLOAD_TYPE, &payload)))],
    );
    assert_eq!(
        rekor::validate_v1(&bytes(&v1_request(&envelope, &[signer.pem()]))),
        Err(Error::DsseVerifierUnused {
            field: "spec.proposedContent.verifiers[0]".to_owned()
        })
    );
}

#[test]
fn v1_rejections_name_the_problem() {
    let a = Signer::key(Algorithm::EcdsaP256Sha256);
    let b = Signer::key(Algorithm::EcdsaP256Sha256);
    let payload = b"p".to_vec();
    let pae = dsse::pae(PAYLOAD_TYPE, &payload);
    let sig_a = b64(a.sign(&pae));
    let sig_b = b64(b.sign(&pae));
    let good = envelope_text(&payload, std::slice::from_ref(&sig_a));
    let f = |s: &str| s.to_owned();
    let env_field = "spec.proposedContent.envelope";
    let cases: Vec<(&str, Value, Error)> = vec![
        (
            "no proposedContent",
            json!({"apiVersion": "0.0.1", "kind": "dsse", "spec": {}}),
            Error::MissingField {
                field: f("spec.proposedContent"),
            },
        ),
        (
            "server-computed fields",
            {
                let mut r = v1_request(&good, &[a.pem()]);
                r["spec"]["payloadHash"] = json!({"algorithm": "sha256", "value": "00"});
                r
            },
            Error::ConflictingFields {
                field: f("spec.proposedContent"),
                other: f("spec.payloadHash"),
            },
        ),
        (
            "no verifiers",
            v1_request(&good, &[]),
            Error::EmptyField {
                field: f("spec.proposedContent.verifiers"),
            },
        ),
        (
            "verifier not base64",
            {
                let mut r = v1_request(&good, &[a.pem()]);
                r["spec"]["proposedContent"]["verifiers"][0] = json!("%%");
                r
            },
            Error::InvalidBase64 {
                field: f("spec.proposedContent.verifiers[0]"),
            },
        ),
        (
            "envelope not JSON",
            v1_request("{", &[a.pem()]),
            Error::InvalidEnvelope {
                field: f(env_field),
                reason: f("EOF while parsing an object at line 1 column 1"),
            },
        ),
        (
            "envelope without signatures",
            v1_request(&envelope_text(&payload, &[]), &[a.pem()]),
            Error::EmptyField {
                field: format!("{env_field} signatures"),
            },
        ),
        (
            "payload not base64",
            v1_request(
                &format!(
                    r#"{{"payloadType":"t","payload":"%%","signatures":[{{"sig":"{sig_a}"}}]}}"#
                ),
                &[a.pem()],
            ),
            Error::InvalidBase64 {
                field: format!("{env_field} payload"),
            },
        ),
        (
            "signature not base64",
            v1_request(
                &envelope_text(&payload, &[sig_a.clone(), f("%%")]),
                &[a.pem()],
            ),
            Error::InvalidBase64 {
                field: format!("{env_field} signatures[1].sig"),
            },
        ),
        (
            "verifier that verifies nothing",
            v1_request(&good, &[a.pem(), b.pem()]),
            Error::DsseVerifierUnused {
                field: f("spec.proposedContent.verifiers[1]"),
            },
        ),
        (
            "signature without a verifier",
            v1_request(
                &envelope_text(&payload, &[sig_a.clone(), sig_b.clone()]),
                &[a.pem()],
            ),
            Error::DsseSignatureUnverified {
                field: format!("{env_field} signatures[1]"),
            },
        ),
        (
            "one key for two signatures",
            // go-securesystemslib lets one key accept one signature.
            v1_request(
                &envelope_text(&payload, &[sig_a.clone(), b64(a.sign(&pae))]),
                &[a.pem()],
            ),
            Error::DsseSignatureUnverified {
                field: format!("{env_field} signatures[1]"),
            },
        ),
    ];
    for (name, request, want) in cases {
        assert_eq!(rekor::validate_v1(&bytes(&request)), Err(want), "{name}");
    }
}

fn v2_request(envelope: &Envelope, verifiers: Vec<Value>) -> Value {
    json!({"dsseRequestV002": {"envelope": envelope, "verifiers": verifiers}})
}

fn v2_body(payload: &[u8], signatures: &[(Vec<u8>, String)]) -> String {
    let signatures: Vec<String> = signatures
        .iter()
        .map(|(sig, verifier)| format!(r#"{{"content":"{}","verifier":{verifier}}}"#, b64(sig)))
        .collect();
    format!(
        r#"{{"apiVersion":"0.0.2","kind":"dsse","spec":{{"dsseV002":{{"payloadHash":{{"algorithm":"SHA2_256","digest":"{}"}},"signatures":[{}]}}}}}}"#,
        b64(sha256(payload)),
        signatures.join(",")
    )
}

#[test]
fn v2_accepts_each_key_type_with_the_exact_body() {
    // rekor-tiles verifies each signature under the hash of its verifier's keyDetails, so a
    // P-384 key signs SHA-384(PAE) here, unlike Rekor v1.
    let payload = statement(&[3; 32]);
    let pae = dsse::pae(PAYLOAD_TYPE, &payload);
    for (name, signer) in [
        (
            "P-256 certificate",
            Signer::certified(Algorithm::EcdsaP256Sha256),
        ),
        ("P-384 key", Signer::key(Algorithm::EcdsaP384Sha384)),
        (
            "P-521 certificate",
            Signer::certified(Algorithm::EcdsaP521Sha512),
        ),
        ("Ed25519 key", Signer::key(Algorithm::Ed25519)),
    ] {
        let sig = signer.sign(&pae);
        let envelope = Envelope::new(
            PAYLOAD_TYPE,
            payload.clone(),
            vec![EnvelopeSignature::new("", sig.clone())],
        );
        let entry = rekor::validate_v2(&bytes(&v2_request(&envelope, vec![signer.v2_verifier()])))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (entry.kind(), entry.api_version()),
            (Kind::Dsse, "0.0.2"),
            "{name}"
        );
        let want = v2_body(&payload, &[(sig, signer.v2_verifier_text())]);
        assert_same_text(name, entry.canonical_body(), want.as_bytes());
        assert!(
            entry
                .search_terms()
                .contains(&SearchTerm::Sha256Artifact([3; 32])),
            "{name}"
        );
    }
}

#[test]
fn v2_accepts_an_rsa_key() {
    let rsa = rsa_fixture();
    let key = PublicKey::from_pem(&rsa.pem).unwrap();
    let envelope = Envelope::new(
        PAYLOAD_TYPE,
        rsa.dsse_payload.clone(),
        vec![EnvelopeSignature::new("", rsa.dsse_sig.clone())],
    );
    let verifier = json!({"publicKey": {"rawBytes": b64(key.spki_der())}, "keyDetails": "PKIX_RSA_PKCS1V15_2048_SHA256"});
    let entry = rekor::validate_v2(&bytes(&v2_request(&envelope, vec![verifier]))).unwrap();
    let verifier_text = format!(
        r#"{{"keyDetails":"PKIX_RSA_PKCS1V15_2048_SHA256","publicKey":{{"rawBytes":"{}"}}}}"#,
        b64(key.spki_der())
    );
    let want = v2_body(&rsa.dsse_payload, &[(rsa.dsse_sig.clone(), verifier_text)]);
    assert_same_text("RSA-2048", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v2_sorts_signatures_by_their_bytes() {
    let a = Signer::key(Algorithm::EcdsaP256Sha256);
    let b = Signer::key(Algorithm::Ed25519);
    let payload = b"two".to_vec();
    let pae = dsse::pae(PAYLOAD_TYPE, &payload);
    let (sig_a, sig_b) = (a.sign(&pae), b.sign(&pae));
    let envelope = Envelope::new(
        PAYLOAD_TYPE,
        payload.clone(),
        vec![
            EnvelopeSignature::new("", sig_b.clone()),
            EnvelopeSignature::new("a", sig_a.clone()),
        ],
    );
    let entry = rekor::validate_v2(&bytes(&v2_request(
        &envelope,
        vec![a.v2_verifier(), b.v2_verifier()],
    )))
    .unwrap();
    let mut pairs = vec![(sig_a, a.v2_verifier_text()), (sig_b, b.v2_verifier_text())];
    pairs.sort();
    let want = v2_body(&payload, &pairs);
    assert_same_text("two signers", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v2_rejections_name_the_problem() {
    let a = Signer::key(Algorithm::EcdsaP256Sha256);
    let b = Signer::key(Algorithm::EcdsaP256Sha256);
    let payload = b"p".to_vec();
    let pae = dsse::pae(PAYLOAD_TYPE, &payload);
    let signed = |sigs: Vec<Vec<u8>>| {
        Envelope::new(
            PAYLOAD_TYPE,
            payload.clone(),
            sigs.into_iter()
                .map(|s| EnvelopeSignature::new("", s))
                .collect(),
        )
    };
    let good = signed(vec![a.sign(&pae)]);
    let at = |s: &str| format!("dsseRequestV002.{s}");
    let cases: Vec<(&str, Value, Error)> = vec![
        (
            "missing envelope",
            json!({"dsseRequestV002": {"verifiers": [a.v2_verifier()]}}),
            Error::MissingField { field: at("envelope") },
        ),
        (
            "unknown envelope field",
            json!({"dsseRequestV002": {"envelope": {"payload": "", "extra": 1}, "verifiers": [a.v2_verifier()]}}),
            Error::InvalidEnvelope {
                field: at("envelope"),
                reason: "unknown field `extra`, expected one of `payloadType`, `payload_type`, `payload`, `signatures`".to_owned(),
            },
        ),
        (
            "no verifiers",
            v2_request(&good, vec![]),
            Error::MissingField { field: at("verifiers") },
        ),
        (
            "eleven verifiers",
            v2_request(&good, vec![a.v2_verifier(); 11]),
            Error::TooMany { field: at("verifiers"), max: 10, actual: 11 },
        ),
        (
            "no signatures",
            v2_request(&signed(vec![]), vec![a.v2_verifier()]),
            Error::MissingField { field: at("envelope.signatures") },
        ),
        (
            "eleven signatures",
            v2_request(&signed(vec![a.sign(&pae); 11]), vec![a.v2_verifier()]),
            Error::TooMany { field: at("envelope.signatures"), max: 10, actual: 11 },
        ),
        (
            "empty signature",
            v2_request(&signed(vec![a.sign(&pae), vec![]]), vec![a.v2_verifier()]),
            Error::EmptyField { field: at("envelope.signatures[1].sig") },
        ),
        (
            "verifier that verifies nothing",
            v2_request(&good, vec![b.v2_verifier()]),
            Error::DsseVerifierUnused { field: at("verifiers[0]") },
        ),
        (
            "signature without a verifier",
            v2_request(&signed(vec![a.sign(&pae), b.sign(&pae)]), vec![a.v2_verifier()]),
            Error::DsseSignatureUnverified { field: at("envelope.signatures[1]") },
        ),
        (
            "keyDetails of another algorithm",
            v2_request(&good, vec![json!({"publicKey": {"rawBytes": b64(a.public_key().spki_der())}, "keyDetails": "PKIX_ED25519"})]),
            Error::KeyDetailsMismatch {
                field: at("verifiers[0].keyDetails"),
                given: "PKIX_ED25519".to_owned(),
                actual: "PKIX_ECDSA_P256_SHA_256",
            },
        ),
    ];
    for (name, request, want) in cases {
        assert_eq!(rekor::validate_v2(&bytes(&request)), Err(want), "{name}");
    }
}
