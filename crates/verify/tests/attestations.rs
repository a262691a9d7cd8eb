//! shared/vectors/attestations (real GitHub-built SLSA provenance bundles; sources and licence
//! in its README): every bundle verifies — crypto, log and identity — against the production
//! root, and the facts an attestation verifier needs come out. The wrong-signer case passes
//! here too: only the SLSA builder check (in `waxseal verify-attestation`) may refuse it.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use waxseal_bundle::rekor::TransparencyLogEntry;
use waxseal_bundle::{Bundle, BundleContent, Document, VerificationContent};
use waxseal_verify::{
    Artifact, BundleError, Error, Identity, Matcher, Policy, VerifiedBundle, Verifier,
};

/// A path under shared/vectors/attestations.
fn path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/attestations"
    ))
    .join(relative)
}

fn read(relative: &str) -> Vec<u8> {
    let path = path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn cases() -> Vec<Value> {
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).unwrap();
    manifest["cases"].as_array().unwrap().clone()
}

fn verifier() -> Verifier {
    Verifier::from_json(&read("roots/production.trusted_root.json")).unwrap()
}

fn artifact(case: &Value) -> Artifact<'static> {
    let text = String::from_utf8(read(case["files"]["artifact_sha256"].as_str().unwrap())).unwrap();
    Artifact::from_digest_str(&format!("sha256:{}", text.trim())).unwrap()
}

fn policy(case: &Value) -> Policy {
    Policy::Identity(Identity::new(
        Matcher::exact(case["expected_identity"].as_str().unwrap()),
        Matcher::exact(case["expected_issuer"].as_str().unwrap()),
    ))
}

/// The bundles of a case's `.intoto.jsonl` file, one a line.
fn bundles(case: &Value) -> Vec<Bundle> {
    let bytes = read(case["files"]["bundle"].as_str().unwrap());
    let lines: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        lines.len() as u64,
        case["bundle_format"]["bundles_in_file"].as_u64().unwrap(),
        "{}",
        case["id"]
    );
    lines
        .iter()
        .map(|line| match Document::from_json(line).unwrap() {
            Document::Bundle(bundle) => *bundle,
            other => panic!("{}: not a bundle: {other:?}", case["id"]),
        })
        .collect()
}

/// Checks what an attestation verifier reads from `verified` against the manifest.
fn check_facts(case: &Value, verified: &VerifiedBundle) {
    let id = case["id"].as_str().unwrap();
    let cert = &case["certificate"];
    let sans: Vec<&str> = cert["san"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(verified.sans(), sans.as_slice(), "{id}");
    assert_eq!(
        verified.identity(),
        case["expected_identity"].as_str(),
        "{id}"
    );
    let extensions = verified.certificate_extensions();
    for (oid, field) in [
        ("1.3.6.1.4.1.57264.1.1", "issuer_v1"),
        ("1.3.6.1.4.1.57264.1.8", "issuer"),
        ("1.3.6.1.4.1.57264.1.9", "build_signer_uri"),
        ("1.3.6.1.4.1.57264.1.10", "build_signer_digest"),
        ("1.3.6.1.4.1.57264.1.11", "runner_environment"),
        ("1.3.6.1.4.1.57264.1.12", "source_repository_uri"),
        ("1.3.6.1.4.1.57264.1.13", "source_repository_digest"),
        ("1.3.6.1.4.1.57264.1.14", "source_repository_ref"),
        ("1.3.6.1.4.1.57264.1.16", "source_repository_owner_uri"),
        ("1.3.6.1.4.1.57264.1.18", "build_config_uri"),
        ("1.3.6.1.4.1.57264.1.20", "build_trigger"),
        ("1.3.6.1.4.1.57264.1.21", "run_invocation_uri"),
        ("1.3.6.1.4.1.57264.1.5", "gh_workflow_repository_v1"),
        ("1.3.6.1.4.1.57264.1.6", "gh_workflow_ref_v1"),
        ("1.3.6.1.4.1.57264.1.2", "gh_workflow_trigger_v1"),
    ] {
        assert_eq!(
            extensions.get(oid).map(String::as_str),
            cert[field].as_str(),
            "{id}: {oid} ({field})"
        );
    }
    assert!(
        extensions
            .keys()
            .all(|oid| oid.starts_with("1.3.6.1.4.1.57264.1.")),
        "{id}: {extensions:?}"
    );
    assert_eq!(
        verified.certificate_authority_uri(),
        Some("https://fulcio.sigstore.dev"),
        "{id}"
    );
    assert_eq!(verified.tlog_kind(), ("dsse", "0.0.1"), "{id}");
    assert_eq!(verified.rfc3161_timestamps(), 0, "{id}");
    assert_eq!(
        verified.integrated_time().map(|t| t.to_string()).as_deref(),
        case["bundle_format"]["tlog_entries"][0]["integratedTime"].as_str(),
        "{id}"
    );
    assert_eq!(
        verified.dsse_payload_type(),
        Some("application/vnd.in-toto+json"),
        "{id}"
    );
    let statement: Value = serde_json::from_slice(verified.dsse_payload().unwrap()).unwrap();
    assert_eq!(
        statement["_type"], case["bundle_format"]["statement_type"],
        "{id}"
    );
    assert_eq!(
        statement["predicateType"], case["expected_predicate_type"],
        "{id}"
    );
    assert_eq!(
        statement["subject"], case["statement"]["subjects"],
        "{id}: subjects"
    );
    let builder = statement["predicate"]["runDetails"]["builder"]["id"]
        .as_str()
        .or(statement["predicate"]["builder"]["id"].as_str());
    assert_eq!(builder, case["statement"]["builder_id"].as_str(), "{id}");
    assert!(!verified.signature().is_empty(), "{id}");
    assert!(verified.certificate_der().is_some(), "{id}");
    assert!(!verified.signer_spki_der().is_empty(), "{id}");
}

#[test]
fn every_attestation_bundle_verifies_and_reports_its_facts() {
    let verifier = verifier();
    let all = cases();
    assert_eq!(all.len(), 3);
    for case in &all {
        let id = case["id"].as_str().unwrap();
        for bundle in bundles(case) {
            let verified = verifier
                .verify(&bundle, artifact(case), &policy(case))
                .unwrap_or_else(|e| panic!("{id}: {} stage: {e}", e.stage()));
            check_facts(case, &verified);
            let BundleContent::DsseEnvelope(envelope) = &bundle.content else {
                panic!("{id}: not DSSE");
            };
            assert_eq!(verified.signature(), envelope.signatures[0].sig, "{id}");
        }
    }
}

#[test]
fn the_wrong_signer_case_differs_only_in_its_signer() {
    // The predicate claims the publish-to-bcr builder; the certificate says otherwise. Crypto
    // passes: the builder check, not this crate, must refuse it.
    let case = cases()
        .into_iter()
        .find(|c| c["id"] == "bcr-module-bazel-wrong-signer")
        .unwrap();
    let verified = verifier()
        .verify(&bundles(&case)[0], artifact(&case), &policy(&case))
        .unwrap();
    let statement: Value = serde_json::from_slice(verified.dsse_payload().unwrap()).unwrap();
    let claimed = statement["predicate"]["runDetails"]["builder"]["id"].as_str();
    let signer = verified
        .certificate_extensions()
        .get("1.3.6.1.4.1.57264.1.9")
        .map(String::as_str);
    assert_ne!(claimed, signer);
    assert_eq!(claimed, case["expected_builder_id"].as_str());
}

#[test]
fn attestations_fail_for_another_artifact() {
    let case = &cases()[0];
    let error = verifier()
        .verify(&bundles(case)[0], Artifact::Sha256([0; 32]), &policy(case))
        .unwrap_err();
    assert_eq!(error.stage(), "signature", "{error}");
}

/// The Rekor v1 `GET /api/v1/log/entries/{uuid}` answer that `entry` came from.
fn rekor_v1_answer(entry: &TransparencyLogEntry, with_proof: bool) -> Value {
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let mut verification = json!({
        "signedEntryTimestamp":
            STANDARD.encode(&entry.inclusion_promise.as_ref().unwrap().signed_entry_timestamp),
    });
    if with_proof {
        verification["inclusionProof"] = json!({
            "checkpoint": proof.checkpoint.as_ref().unwrap().envelope,
            "hashes": proof.hashes.iter().map(hex::encode).collect::<Vec<_>>(),
            "logIndex": proof.log_index,
            "rootHash": hex::encode(&proof.root_hash),
            "treeSize": proof.tree_size,
        });
    }
    json!({
        "24296fb24b8ad77a0000000000000000000000000000000000000000000000000000000000000000": {
            "attestation": {"data": "e30="},
            "body": STANDARD.encode(&entry.canonicalized_body),
            "integratedTime": entry.integrated_time.unwrap(),
            "logID": hex::encode(&entry.log_id.key_id),
            "logIndex": entry.log_index,
            "verification": verification,
        }
    })
}

#[test]
fn a_bare_envelope_and_its_rekor_entry_make_a_bundle_that_verifies() {
    let verifier = verifier();
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let original = bundles(&case).remove(0);
        let BundleContent::DsseEnvelope(envelope) = &original.content else {
            panic!("{id}: not DSSE");
        };
        let VerificationContent::Certificate(leaf) = &original.verification_material.content else {
            panic!("{id}: not a leaf certificate");
        };
        let entry = &original.verification_material.tlog_entries[0];

        // The envelope as slsa-github-generator wrote it, with the certificate beside the
        // signature, read as one `.intoto.jsonl` line.
        let mut line: Value = serde_json::from_slice(&envelope.to_json()).unwrap();
        line["signatures"][0]["cert"] =
            waxseal_crypto::pem::encode("CERTIFICATE", &leaf.raw_bytes).into();
        let Document::Envelope(legacy) = Document::from_json(line.to_string().as_bytes()).unwrap()
        else {
            panic!("{id}: not read as an envelope");
        };
        assert_eq!(&legacy.envelope, envelope, "{id}");
        assert_eq!(legacy.certificates, vec![leaf.raw_bytes.clone()], "{id}");

        let answer = rekor_v1_answer(entry, true).to_string();
        // Once with the envelope's certificate, once with the body's verifier PEM.
        for certificates in [legacy.certificates.clone(), Vec::new()] {
            let bundle = Bundle::from_rekor_entry(
                BundleContent::DsseEnvelope(legacy.envelope.clone()),
                certificates,
                answer.as_bytes(),
            )
            .unwrap();
            // The same bundle as the real one, which only adds an empty
            // `timestampVerificationData`.
            let mut expected = original.clone();
            expected.verification_material.timestamp_verification_data = None;
            assert!(bundle == expected, "{id}: not the real bundle");
            let verified = verifier
                .verify(&bundle, artifact(&case), &policy(&case))
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            check_facts(&case, &verified);
        }

        // Without the proof only the SET remains: a v0.1 bundle, refused as sigstore-python
        // 4.5 refuses it.
        let answer = rekor_v1_answer(entry, false).to_string();
        let bundle = Bundle::from_rekor_entry(
            BundleContent::DsseEnvelope(legacy.envelope.clone()),
            Vec::new(),
            answer.as_bytes(),
        )
        .unwrap();
        assert_eq!(
            bundle.media_type,
            "application/vnd.dev.sigstore.bundle+json;version=0.1"
        );
        assert!(
            matches!(
                bundle.verification_material.content,
                VerificationContent::X509CertificateChain(_)
            ),
            "{id}"
        );
        let error = verifier
            .verify(&bundle, artifact(&case), &policy(&case))
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Bundle(BundleError::MissingInclusionProof {
                    missing: "inclusion proof",
                    ..
                })
            ),
            "{id}: {error}"
        );
    }
}
