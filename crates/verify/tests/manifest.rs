//! Every case of shared/vectors/sigstore/manifest.json, verified against its trusted root with
//! the case's identity and issuer, must pass or fail exactly as `expected_result` (what
//! sigstore-python 4.5.1 returned) says. There is no deliberate divergence: cases marked
//! `policy_dependent` also match sigstore-python, including
//! `staging-rekor1-msg-tsa-untrusted-tsa-ignored`, which passes because an RFC 3161 token that
//! verifies under no trusted TSA is skipped while the SET-bound integrated time suffices
//! (`VerifiedBundle::unverified_timestamps` reports the skipped tokens).

use std::collections::BTreeMap;

use waxseal_verify::Verifier;

use crate::support::{OwnedArtifact, case, cases, policy, read, vector_path};

#[test]
fn every_manifest_case_matches_sigstore_python() {
    let mut verifiers: BTreeMap<String, Verifier> = BTreeMap::new();
    let mut mismatches = Vec::new();
    let all = cases();
    for case in &all {
        let name = case["name"].as_str().unwrap();
        let root = case["trusted_root"].as_str().unwrap();
        let verifier = verifiers
            .entry(root.to_owned())
            .or_insert_with(|| Verifier::from_json(&read(root)).unwrap());
        let artifact = OwnedArtifact::of(case);
        let bundle = read(case["files"]["bundle"].as_str().unwrap());
        let result = verifier.verify_json(&bundle, artifact.artifact(), &policy(case));
        let expected_pass = case["expected_result"] == "pass";
        match (&result, expected_pass) {
            (Ok(_), true) | (Err(_), false) => {}
            (Ok(v), false) => mismatches.push(format!("{name}: verified ({v:?}), expected fail")),
            (Err(e), true) => mismatches.push(format!(
                "{name}: failed at {}: {e}, expected pass",
                e.stage()
            )),
        }
        if let Err(e) = &result {
            eprintln!("{name}: {}: {e}", e.stage());
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} cases differ:\n{}",
        mismatches.len(),
        all.len(),
        mismatches.join("\n")
    );
    assert_eq!(all.len(), 68);
}

#[test]
fn passing_cases_report_identity_issuer_and_times() {
    let case = case("staging-rekor1-msg-tsa-untrusted-tsa-ignored");
    let verifier = Verifier::from_json(&read(case["trusted_root"].as_str().unwrap())).unwrap();
    let artifact = OwnedArtifact::of(&case);
    let bundle = read(case["files"]["bundle"].as_str().unwrap());
    let verified = verifier
        .verify_json(&bundle, artifact.artifact(), &policy(&case))
        .unwrap();
    assert_eq!(verified.identity(), case["expected_identity"].as_str());
    assert_eq!(verified.issuer(), case["expected_issuer"].as_str());
    assert!(
        verified.unverified_timestamps() > 0,
        "the untrusted TSA's tokens were skipped"
    );
    assert_eq!(
        verified.times().len(),
        1,
        "only the integrated time verified"
    );
    assert!(verified.integrated_time().is_some());

    let case = crate::support::case("staging-rekor2-msg-tsa");
    let verifier = Verifier::from_json(&read(case["trusted_root"].as_str().unwrap())).unwrap();
    let artifact = OwnedArtifact::of(&case);
    let bundle = read(case["files"]["bundle"].as_str().unwrap());
    let verified = verifier
        .verify_json(&bundle, artifact.artifact(), &policy(&case))
        .unwrap();
    assert_eq!(
        verified.integrated_time(),
        None,
        "Rekor v2 has no integrated time"
    );
    assert_eq!(verified.unverified_timestamps(), 0);
    assert!(!verified.times().is_empty());
}

#[test]
fn embedded_production_root_is_the_shared_copy() {
    let shared = std::fs::read(vector_path("roots/production.trusted_root.json")).unwrap();
    assert!(
        Verifier::production_root_json() == shared.as_slice(),
        "embedded root differs from the shared copy"
    );
    Verifier::production().unwrap();
}
