//! git signatures (`verify_git_signature`): every case of shared/vectors/git (real gitsign
//! commits and a tag, sources and licence in its README) ends as its manifest says, against the
//! production trusted root of the vectors; and real offline signatures tampered part by part
//! fail with the right typed error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use waxseal_bundle::rekor::TransparencyLogEntry;
use waxseal_git::{GitSignature, SignedObject, armor, build};
use waxseal_verify::{
    Error, GitError, GitLogEvidence, Identity, Matcher, Policy, PolicyError, TlogError, Verifier,
    verify_git_signature, verify_git_signature_with_entry,
};

fn vectors() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/git"
    ))
}

fn read(relative: &str) -> Vec<u8> {
    let path = vectors().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn manifest() -> Value {
    serde_json::from_slice(&read("manifest.json")).unwrap()
}

fn case(id: &str) -> Value {
    manifest()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .clone()
}

fn verifier(case: &Value) -> Verifier {
    Verifier::from_json(&read(case["trusted_root"].as_str().unwrap())).unwrap()
}

fn object(case: &Value) -> SignedObject {
    SignedObject::parse(&read(case["files"]["object"].as_str().unwrap()))
        .unwrap()
        .expect("signed object")
}

fn policy(identity: &str, issuer: &str) -> Policy {
    Policy::Identity(Identity::new(
        Matcher::exact(identity),
        Matcher::exact(issuer),
    ))
}

fn case_policy(case: &Value) -> Policy {
    policy(
        case["expected_identity"].as_str().unwrap(),
        case["expected_issuer"].as_str().unwrap(),
    )
}

const OFFLINE: &str = "gitsign-pr864-ac15fa730306";

#[test]
fn every_vector_ends_as_the_manifest_says() {
    let manifest = manifest();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9, "the developer set has 9 cases");
    let mut passed = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let object = object(case);
        let result = verify_git_signature(
            &verifier(case),
            object.payload(),
            object.signature(),
            &case_policy(case),
        );
        let reason = case["reason"].as_str().unwrap();
        match case["expected_result"].as_str().unwrap() {
            "pass" => {
                let verified = result.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(verified.identity(), case["expected_identity"], "{id}");
                assert_eq!(verified.issuer(), case["expected_issuer"], "{id}");
                assert_eq!(
                    verified.log_index(),
                    case["rekor"]["log_index"].as_i64().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    verified.integrated_time(),
                    case["rekor"]["integrated_time"].as_i64(),
                    "{id}"
                );
                assert_eq!(verified.evidence(), GitLogEvidence::Embedded, "{id}");
                assert!(verified.bundle().inclusion_proof_verified(), "{id}");
                assert_eq!(verified.bundle().tlog_kind(), ("hashedrekord", "0.0.1"));
                passed += 1;
            }
            "fail" => {
                let error = result.err().unwrap_or_else(|| panic!("{id} verified"));
                let expected = if reason.starts_with("needs an online Rekor lookup") {
                    matches!(error, Error::Git(GitError::OnlineLookupRequired))
                } else if reason.starts_with("unsupported pre-release format") {
                    matches!(error, Error::Git(GitError::UnsupportedLegacyFormat))
                } else if reason.starts_with("message digest mismatch") {
                    matches!(error, Error::Git(GitError::MessageDigestMismatch { .. }))
                        && error.to_string().starts_with("message digest mismatch")
                } else {
                    panic!("{id}: unknown reason {reason}")
                };
                assert!(expected, "{id}: {error} ({error:?})");
                assert_eq!(error.stage(), "git", "{id}");
            }
            other => panic!("{id}: expected_result {other}"),
        }
    }
    assert_eq!(passed, 5);
}

#[test]
fn message_digest_mismatch_names_both_digests() {
    let case = case("derived-pr864-ac15fa730306-message-byte-changed");
    let object = object(&case);
    let error = verify_git_signature(
        &verifier(&case),
        object.payload(),
        object.signature(),
        &case_policy(&case),
    )
    .unwrap_err();
    let original = self::object(&self::case(OFFLINE));
    let signed = hex::encode(waxseal_crypto::sha256(original.payload()));
    let actual = hex::encode(waxseal_crypto::sha256(object.payload()));
    let text = error.to_string();
    assert!(text.contains(&signed) && text.contains(&actual), "{text}");
}

#[test]
fn another_identity_or_issuer_is_refused_by_policy() {
    let case = case(OFFLINE);
    let object = object(&case);
    for (identity, issuer) in [
        ("mallory@chainguard.dev", "https://accounts.google.com"),
        ("billy@chainguard.dev", "https://github.com/login/oauth"),
    ] {
        let error = verify_git_signature(
            &verifier(&case),
            object.payload(),
            object.signature(),
            &policy(identity, issuer),
        )
        .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Policy(
                    PolicyError::IdentityMismatch { .. } | PolicyError::IssuerMismatch { .. }
                )
            ),
            "{identity} {issuer}: {error}"
        );
    }
}

/// The offline vector's signature rebuilt with one part changed.
fn rebuilt(
    parsed: &GitSignature,
    signature: Option<Vec<u8>>,
    entry: Option<TransparencyLogEntry>,
) -> String {
    let der = build(
        parsed.signer_certificate(),
        parsed.signed_attributes(),
        &signature.unwrap_or_else(|| parsed.signature().to_vec()),
        Some(&entry.unwrap_or_else(|| parsed.log_entry().unwrap().clone())),
        parsed.timestamp_token(),
    )
    .unwrap();
    armor::armor(&der)
}

#[test]
fn tampered_offline_signatures_fail_with_typed_errors() {
    let case = case(OFFLINE);
    let object = object(&case);
    let parsed = GitSignature::parse(object.signature()).unwrap();
    let verifier = verifier(&case);
    let policy = case_policy(&case);
    let run = |signature: &str| {
        verify_git_signature(&verifier, object.payload(), signature.as_bytes(), &policy)
    };

    // Unchanged, rebuilt: still verifies.
    run(&rebuilt(&parsed, None, None)).unwrap();

    // The ECDSA signature: one bit flipped in s.
    let mut signature = parsed.signature().to_vec();
    let last = signature.len() - 1;
    signature[last] ^= 1;
    let error = run(&rebuilt(&parsed, Some(signature), None)).unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::SignatureInvalid { .. })),
        "{error}"
    );

    // The unsigned entry: another log index breaks the SET.
    let mut entry = parsed.log_entry().unwrap().clone();
    entry.log_index += 1;
    let error = run(&rebuilt(&parsed, None, Some(entry))).unwrap_err();
    assert!(matches!(error, Error::Tlog(_)), "{error}");

    // The inclusion proof: one hash changed.
    let mut entry = parsed.log_entry().unwrap().clone();
    entry.inclusion_proof.as_mut().unwrap().hashes[0][0] ^= 1;
    let error = run(&rebuilt(&parsed, None, Some(entry))).unwrap_err();
    assert!(
        matches!(error, Error::Tlog(TlogError::InclusionRootMismatch { .. })),
        "{error}"
    );

    // A signature that is not armor at all.
    let error = run("not a signature").unwrap_err();
    assert!(
        matches!(
            error,
            Error::Git(GitError::Format(waxseal_git::Error::Armor { .. }))
        ),
        "{error}"
    );
}

#[test]
fn a_supplied_entry_over_the_attributes_verifies() {
    let case = case(OFFLINE);
    let object = object(&case);
    let parsed = GitSignature::parse(object.signature()).unwrap();
    let object_id = case["object_id"].as_str().unwrap();
    let verified = verify_git_signature_with_entry(
        &verifier(&case),
        object.payload(),
        object.signature(),
        object_id,
        parsed.log_entry().unwrap(),
        &case_policy(&case),
    )
    .unwrap();
    assert_eq!(verified.evidence(), GitLogEvidence::SuppliedOverAttributes);
    assert_eq!(verified.identity(), "billy@chainguard.dev");
    assert_eq!(
        hex::encode(verified.certificate_sha1()),
        hex::encode(waxseal_crypto::sha1(parsed.signer_certificate()))
    );
}

#[test]
fn a_supplied_entry_for_another_digest_or_a_bad_object_id_is_refused() {
    let case = case("gitsign-testdata-e2e-online");
    let object = object(&case);
    let verifier = verifier(&case);
    let policy = case_policy(&case);
    let object_id = case["object_id"].as_str().unwrap();
    let mut entry = GitSignature::parse(self::object(&self::case(OFFLINE)).signature())
        .unwrap()
        .log_entry()
        .unwrap()
        .clone();
    entry.canonicalized_body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
            "signature": {"content": "AAAA", "publicKey": {"content": "AAAA"}},
        },
    })
    .to_string()
    .into_bytes();
    let error = verify_git_signature_with_entry(
        &verifier,
        object.payload(),
        object.signature(),
        object_id,
        &entry,
        &policy,
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::EntryMismatch { .. })),
        "{error}"
    );
    for bad in ["", "XYZ", &object_id.to_uppercase(), &object_id[1..]] {
        let error = verify_git_signature_with_entry(
            &verifier,
            object.payload(),
            object.signature(),
            bad,
            &entry,
            &policy,
        )
        .unwrap_err();
        assert!(
            matches!(error, Error::Git(GitError::InvalidObjectId { .. })),
            "{bad}: {error}"
        );
    }
}
