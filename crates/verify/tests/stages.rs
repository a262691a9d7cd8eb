//! Each failure is reported at its stage, with the values that failed: one manifest case per
//! stage (the cases are single, documented tamperings of real bundles).

use waxseal_verify::{
    Artifact, BundleError, CertificateError, Error, Identity, Matcher, Policy, PolicyError,
    SignatureError, TimeError, TlogError, Verifier,
};

use crate::support::{OwnedArtifact, case, policy, read};

fn verify(name: &str) -> Result<waxseal_verify::VerifiedBundle, Error> {
    let case = case(name);
    let verifier = Verifier::from_json(&read(case["trusted_root"].as_str().unwrap())).unwrap();
    let artifact = OwnedArtifact::of(&case);
    let bundle = read(case["files"]["bundle"].as_str().unwrap());
    verifier.verify_json(&bundle, artifact.artifact(), &policy(&case))
}

#[test]
fn each_failure_names_its_stage() {
    type Check = fn(&Error) -> bool;
    const CASES: &[(&str, &str, Check)] = &[
        ("upstream-no-log-entry", "bundle", |e| {
            matches!(e, Error::Bundle(BundleError::TlogEntryCount { count: 0 }))
        }),
        ("upstream-tsa-too-many-timestamps", "bundle", |e| {
            matches!(
                e,
                Error::Bundle(BundleError::TooManyTimestamps { count: 33, max: 32 })
            )
        }),
        (
            "staging-rekor2-msg-tsa--tsa-timestamp-bit-flip",
            "timestamp",
            |e| {
                matches!(
                    e,
                    Error::Timestamp(TimeError::NotEnoughVerifiedTimes { verified: 0, .. })
                )
            },
        ),
        (
            "staging-rekor1-msg-tsa--root-without-tsa",
            "timestamp",
            |e| matches!(e, Error::Timestamp(TimeError::NoTimestampAuthority)),
        ),
        (
            "staging-rekor1-msg-bundle03--production-root",
            "certificate",
            |e| matches!(e, Error::Certificate(CertificateError::Untrusted { .. })),
        ),
        ("upstream-tsa-late-timestamp", "certificate", |e| {
            matches!(e, Error::Certificate(CertificateError::Untrusted { .. }))
        }),
        (
            "staging-rekor1-msg-bundle03--wrong-identity",
            "policy",
            |e| matches!(e, Error::Policy(PolicyError::IdentityMismatch { .. })),
        ),
        ("staging-rekor1-msg-bundle03--wrong-issuer", "policy", |e| {
            matches!(e, Error::Policy(PolicyError::IssuerMismatch { .. }))
        }),
        (
            "staging-rekor1-msg-bundle03--inclusion-proof-hash-bit-flip",
            "tlog",
            |e| matches!(e, Error::Tlog(TlogError::InclusionRootMismatch { .. })),
        ),
        (
            "staging-rekor1-msg-bundle03--checkpoint-root-hash-bit-flip",
            "tlog",
            |e| matches!(e, Error::Tlog(TlogError::CheckpointSignatureInvalid { .. })),
        ),
        ("staging-rekor1-msg-bundle03--set-bit-flip", "tlog", |e| {
            matches!(e, Error::Tlog(TlogError::SetInvalid { .. }))
        }),
        ("staging-rekor2-msg-tsa--log-id-bit-flip", "tlog", |e| {
            matches!(e, Error::Tlog(TlogError::LogUnknown { .. }))
        }),
        ("upstream-cve-2022-36056-unrelated-log-entry", "tlog", |e| {
            matches!(e, Error::Tlog(TlogError::BodyMismatch { .. }))
        }),
        (
            "staging-rekor1-msg-bundle03--signature-bit-flip",
            "signature",
            |e| matches!(e, Error::Signature(SignatureError::Invalid { .. })),
        ),
        (
            "staging-rekor1-msg-bundle03--message-digest-bit-flip",
            "signature",
            |e| matches!(e, Error::Signature(SignatureError::DigestMismatch { .. })),
        ),
        (
            "staging-rekor2-dsse-tsa--artifact-not-subject",
            "signature",
            |e| matches!(e, Error::Signature(SignatureError::SubjectMismatch { .. })),
        ),
    ];
    for (name, stage, check) in CASES {
        let error = verify(name).expect_err(name);
        assert_eq!(error.stage(), *stage, "{name}: {error}");
        assert!(check(&error), "{name}: unexpected error {error:?}");
    }
}

#[test]
fn inclusion_errors_carry_the_roots() {
    let error =
        verify("staging-rekor1-msg-bundle03--inclusion-proof-root-hash-bit-flip").unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("computed root 8860281d") && text.contains("!= proof root 8960281d"),
        "{text}"
    );
}

#[test]
fn a_key_policy_refuses_a_certificate_bundle_and_vice_versa() {
    let case = case("staging-rekor1-msg-bundle03");
    let verifier = Verifier::from_json(&read(case["trusted_root"].as_str().unwrap())).unwrap();
    let bundle = read(case["files"]["bundle"].as_str().unwrap());
    let artifact = read(case["files"]["artifact"].as_str().unwrap());
    let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP256Sha256)
        .unwrap()
        .public_key();
    let error = verifier
        .verify_json(&bundle, Artifact::Bytes(&artifact), &Policy::PublicKey(key))
        .unwrap_err();
    assert!(
        matches!(error, Error::Bundle(BundleError::MaterialMismatch { .. })),
        "{error}"
    );

    // A regex identity verifies; an anchored regex that only matches a prefix does not.
    let issuer = Matcher::exact(case["expected_issuer"].as_str().unwrap());
    let good = Policy::Identity(Identity::new(
        Matcher::regex("identity", r".*@yossarian\.net").unwrap(),
        issuer.clone(),
    ));
    verifier
        .verify_json(&bundle, Artifact::Bytes(&artifact), &good)
        .unwrap();
    let prefix = Policy::Identity(Identity::new(
        Matcher::regex("identity", "william").unwrap(),
        issuer,
    ));
    let error = verifier
        .verify_json(&bundle, Artifact::Bytes(&artifact), &prefix)
        .unwrap_err();
    assert_eq!(error.stage(), "policy");
}

#[test]
fn garbage_bundles_fail_at_the_bundle_stage() {
    let verifier = Verifier::production().unwrap();
    let policy = Policy::Identity(Identity::new(Matcher::exact("a"), Matcher::exact("b")));
    for input in [
        &b""[..],
        b"{}",
        b"[]",
        b"null",
        b"{\"mediaType\":1}",
        &[0xff; 8],
    ] {
        let error = verifier
            .verify_json(input, Artifact::Bytes(b""), &policy)
            .unwrap_err();
        assert_eq!(error.stage(), "bundle", "{input:?}: {error}");
    }
}
