//! cosign legacy image signatures from real material:
//!
//! - every case of shared/vectors/oci-legacy (containers/image's cosign `.sig` fixtures; sources
//!   and licence in its README) ends as cosign's verdict says, failures at their stage;
//! - keyless legacy layers made of real Fulcio-signed bundles: the SLSA attestations of
//!   shared/vectors/attestations as `.att` layers verify in full; a real message signature as a
//!   `.sig` layer passes every bundle stage and is refused only because its payload is not a
//!   simple signing payload.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use waxseal_bundle::rekor::{LogId, TransparencyLogEntry};
use waxseal_bundle::{
    Bundle, BundleContent, PublicKey, TransparencyLogInstance, TrustedRoot, VerificationContent,
};
use waxseal_crypto::{pem, sha256};
use waxseal_oci::{Digest, LegacySignature, annotation, media_type};
use waxseal_verify::{
    BundleError, Error, Identity, ImageError, ImageSignature, ImageSignatureFormat, Matcher,
    Policy, SignatureError, TlogError, TlogRequirement, VerifiedImageSignature, Verifier,
    VerifyOptions,
};

use crate::image::{options, parse_layer, rekor_annotation, timestamp_annotation};
// ---- shared/vectors/oci-legacy -----------------------------------------------------------

fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/oci-legacy"
    ))
    .join(relative)
}

fn read_vector(relative: &str) -> Vec<u8> {
    let path = vector_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn pem_key(relative: &str) -> waxseal_crypto::PublicKey {
    waxseal_crypto::PublicKey::from_pem(&String::from_utf8(read_vector(relative)).unwrap()).unwrap()
}

/// A root whose transparency logs are these keys, each with log ID SHA-256(SPKI DER).
fn root_with_logs(keys: &[waxseal_crypto::PublicKey]) -> Verifier {
    let mut root = TrustedRoot::new();
    for key in keys {
        root.tlogs.push(TransparencyLogInstance::new(
            "https://rekor.example.test",
            PublicKey::new(key.spki_der(), key.key_details(), None),
            LogId::new(sha256(key.spki_der())),
        ));
    }
    Verifier::new(&root).unwrap()
}

/// The stage a case's `reason` names (`signature: …`, `SET: …`, `manifest digest …`).
fn expected_stage(reason: &str) -> &'static str {
    if reason.starts_with("signature") {
        "signature"
    } else if reason.starts_with("SET") {
        "tlog"
    } else if reason.starts_with("manifest digest") {
        "image"
    } else {
        panic!("no stage for reason {reason:?}")
    }
}

#[test]
fn every_oci_legacy_case_ends_as_cosign_says() {
    let manifest: Value = serde_json::from_slice(&read_vector("manifest.json")).unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10, "the README lists 10 cases");
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let trust = &case["trust"];
        let list = |name: &str| -> Vec<waxseal_crypto::PublicKey> {
            trust[name]
                .as_array()
                .map(|a| a.iter().map(|p| pem_key(p.as_str().unwrap())).collect())
                .unwrap_or_default()
        };
        let keys = list("public_keys");
        let rekor_keys = list("rekor_public_keys");
        let tlog = if rekor_keys.is_empty() {
            TlogRequirement::InsecureSkip
        } else {
            TlogRequirement::PromiseOrProof
        };
        let verifier = root_with_logs(&rekor_keys);
        let image = Digest::of(&read_vector(case["files"]["manifest"].as_str().unwrap()));
        // A signature verifies when one listed key verifies it; the case passes when all do.
        let mut outcome: Result<(), Error> = Ok(());
        for file in case["files"]["signatures"].as_array().unwrap() {
            let signature =
                LegacySignature::from_containers_image_file(&read_vector(file.as_str().unwrap()))
                    .unwrap_or_else(|e| panic!("{id}: {file}: {e}"));
            let mut last = None;
            for key in &keys {
                match verifier.verify_image_signature(
                    &image,
                    ImageSignature::Legacy(&signature),
                    &Policy::PublicKey(key.clone()),
                    &options(tlog),
                ) {
                    Ok(verified) => {
                        check_legacy_facts(id, &verified, &signature, &image, &rekor_keys);
                        last = None;
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(e) = last {
                outcome = Err(e);
                break;
            }
        }
        match (case["expected_result"].as_str().unwrap(), outcome) {
            ("pass", Ok(())) => passed += 1,
            ("fail", Err(e)) => {
                let reason = case["reason"].as_str().unwrap();
                assert_eq!(e.stage(), expected_stage(reason), "{id}: {e}");
                failed += 1;
            }
            (expected, outcome) => panic!("{id}: expected {expected}, got {outcome:?}"),
        }
    }
    assert_eq!(
        (passed, failed),
        (6, 4),
        "cosign's verdicts: 6 pass, 4 fail"
    );
}

fn check_legacy_facts(
    id: &str,
    verified: &VerifiedImageSignature,
    signature: &LegacySignature,
    image: &Digest,
    rekor_keys: &[waxseal_crypto::PublicKey],
) {
    assert_eq!(
        verified.format(),
        ImageSignatureFormat::LegacySignature,
        "{id}"
    );
    assert_eq!(verified.payload(), signature.payload, "{id}");
    assert_eq!(
        verified.simple_signing().unwrap().manifest_digest(),
        *image,
        "{id}"
    );
    assert_eq!(verified.predicate_type(), None, "{id}");
    assert_eq!(verified.bundle().signature(), signature.signature, "{id}");
    assert_eq!(
        verified.bundle().has_log_entry(),
        !rekor_keys.is_empty(),
        "{id}"
    );
    assert!(!verified.bundle().inclusion_proof_verified(), "{id}");
    if !rekor_keys.is_empty() {
        assert_eq!(
            verified.bundle().integrated_time(),
            Some(1_674_251_859),
            "{id}"
        );
        assert_eq!(
            verified.bundle().tlog_kind(),
            ("hashedrekord", "0.0.1"),
            "{id}"
        );
    }
}

#[test]
fn the_vectors_fail_with_the_errors_cosign_reports() {
    let signature =
        |path: &str| LegacySignature::from_containers_image_file(&read_vector(path)).unwrap();
    let valid = signature("dir-img-cosign-valid/signature-1");
    let skip = options(TlogRequirement::InsecureSkip);
    let no_logs = root_with_logs(&[]);
    let key = Policy::PublicKey(pem_key("trust/cosign.pub"));

    let modified = Digest::of(&read_vector(
        "dir-img-cosign-modified-manifest/manifest.json",
    ));
    let error = no_logs
        .verify_image_signature(&modified, ImageSignature::Legacy(&valid), &key, &skip)
        .unwrap_err();
    let signed: Digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
        .parse()
        .unwrap();
    assert!(
        matches!(&error, Error::Image(ImageError::DigestMismatch { claimed, image })
            if *claimed == signed && *image == modified),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&signed.to_string()) && message.contains(&modified.to_string()),
        "{message}"
    );

    let error = no_logs
        .verify_image_signature(
            &signed,
            ImageSignature::Legacy(&valid),
            &Policy::PublicKey(pem_key("trust/cosign2.pub")),
            &skip,
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::Signature(SignatureError::Invalid { .. })),
        "{error:?}"
    );

    // Without a Rekor bundle, only InsecureSkip accepts the layer.
    for tlog in [TlogRequirement::Proof, TlogRequirement::PromiseOrProof] {
        let error = no_logs
            .verify_image_signature(
                &signed,
                ImageSignature::Legacy(&valid),
                &key,
                &options(tlog),
            )
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Bundle(BundleError::TlogEntryCount { count: 0 })
            ),
            "{tlog:?}: {error:?}"
        );
    }

    // The real SET-only entry: refused under Proof, its SET checked under the others.
    let rekor = signature("dir-img-cosign-key-rekor-valid/signature-1");
    let image = Digest::of(&read_vector("dir-img-cosign-key-rekor-valid/manifest.json"));
    let key2 = Policy::PublicKey(pem_key("trust/cosign2.pub"));
    let verifier = root_with_logs(&[pem_key("trust/rekor.pub")]);
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&rekor),
            &key2,
            &VerifyOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Bundle(BundleError::MissingInclusionProof {
                index: 0,
                missing: "inclusion proof"
            })
        ),
        "{error:?}"
    );
    for tlog in [
        TlogRequirement::PromiseOrProof,
        TlogRequirement::InsecureSkip,
    ] {
        verifier
            .verify_image_signature(
                &image,
                ImageSignature::Legacy(&rekor),
                &key2,
                &options(tlog),
            )
            .unwrap_or_else(|e| panic!("{tlog:?}: {e}"));
    }
    // A present entry is verified even under InsecureSkip: an unknown log fails.
    let error = no_logs
        .verify_image_signature(&image, ImageSignature::Legacy(&rekor), &key2, &skip)
        .unwrap_err();
    assert!(
        matches!(error, Error::Tlog(TlogError::LogUnknown { .. })),
        "{error:?}"
    );
}

// ---- keyless, from real Fulcio-signed bundles ---------------------------------------------

fn shared(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors"
    ))
    .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn entry_annotation(entry: &TransparencyLogEntry) -> String {
    rekor_annotation(
        &entry.canonicalized_body,
        entry.integrated_time.unwrap(),
        entry.log_index,
        &entry.log_id.key_id,
        &entry
            .inclusion_promise
            .as_ref()
            .unwrap()
            .signed_entry_timestamp,
    )
}

fn leaf_pem(bundle: &Bundle) -> String {
    let der = match &bundle.verification_material.content {
        VerificationContent::Certificate(c) => c.raw_bytes.clone(),
        VerificationContent::X509CertificateChain(chain) => chain.certificates[0].raw_bytes.clone(),
        other => panic!("no certificate: {other:?}"),
    };
    pem::encode("CERTIFICATE", &der)
}

#[test]
fn keyless_legacy_attestations_verify_in_full() {
    // The SLSA bundles of shared/vectors/attestations, rewritten as cosign `.att` layers: the
    // envelope as layer content, the Fulcio leaf, the Rekor entry as a SET-only annotation.
    let verifier =
        Verifier::from_json(&shared("attestations/roots/production.trusted_root.json")).unwrap();
    let manifest: Value = serde_json::from_slice(&shared("attestations/manifest.json")).unwrap();
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let digest = String::from_utf8(shared(&format!(
            "attestations/{}",
            case["files"]["artifact_sha256"].as_str().unwrap()
        )))
        .unwrap();
        let image: Digest = format!("sha256:{}", digest.trim()).parse().unwrap();
        let policy = Policy::Identity(Identity::new(
            Matcher::exact(case["expected_identity"].as_str().unwrap()),
            Matcher::exact(case["expected_issuer"].as_str().unwrap()),
        ));
        let file = shared(&format!(
            "attestations/{}",
            case["files"]["bundle"].as_str().unwrap()
        ));
        let line = file.split(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap();
        let bundle = Bundle::from_json(line).unwrap();
        let BundleContent::DsseEnvelope(envelope) = &bundle.content else {
            panic!("{id}: not DSSE");
        };
        let entry = &bundle.verification_material.tlog_entries[0];
        let annotations = BTreeMap::from([
            (annotation::SIGNATURE.to_owned(), String::new()),
            (annotation::CERTIFICATE.to_owned(), leaf_pem(&bundle)),
            (annotation::CHAIN.to_owned(), String::new()),
            (annotation::BUNDLE.to_owned(), entry_annotation(entry)),
            (
                annotation::PREDICATE_TYPE.to_owned(),
                case["expected_predicate_type"].as_str().unwrap().to_owned(),
            ),
        ]);
        let layer = parse_layer(media_type::DSSE_ENVELOPE, &envelope.to_json(), &annotations);
        let verified = verifier
            .verify_image_signature(
                &image,
                ImageSignature::Legacy(&layer),
                &policy,
                &options(TlogRequirement::PromiseOrProof),
            )
            .unwrap_or_else(|e| panic!("{id}: {} stage: {e}", e.stage()));
        assert_eq!(
            verified.bundle().identity(),
            case["expected_identity"].as_str(),
            "{id}"
        );
        assert_eq!(
            verified.bundle().integrated_time(),
            entry.integrated_time,
            "{id}"
        );
        assert_eq!(
            verified.predicate_type(),
            case["expected_predicate_type"].as_str(),
            "{id}"
        );
        assert!(!verified.bundle().inclusion_proof_verified(), "{id}");

        // The same layer under the default requirement: a SET is not a proof.
        let error = verifier
            .verify_image_signature(
                &image,
                ImageSignature::Legacy(&layer),
                &policy,
                &VerifyOptions::default(),
            )
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Bundle(BundleError::MissingInclusionProof { .. })
            ),
            "{id}: {error:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn keyless_legacy_signatures_pass_every_bundle_stage() {
    // A real Fulcio-signed message signature with SET and TSA token (over the signature, as
    // cosign's legacy `.sig` timestamps are), as a `.sig` layer: certificate, SCT, identity,
    // SET, TSA time, signature and body all verify; only the payload, which is not a simple
    // signing payload, is refused, at the image stage.
    let case = "sigstore/staging-rekor1-msg-tsa";
    let verifier =
        Verifier::from_json(&shared("sigstore/roots/staging-test-tsa.trusted_root.json")).unwrap();
    let bundle = Bundle::from_json(&shared(&format!("{case}/bundle.sigstore.json"))).unwrap();
    let artifact = shared(&format!("{case}/artifact"));
    let BundleContent::MessageSignature(message) = &bundle.content else {
        panic!("not a message signature");
    };
    let material = &bundle.verification_material;
    let token = &material
        .timestamp_verification_data
        .as_ref()
        .unwrap()
        .rfc3161_timestamps[0];
    let annotations = BTreeMap::from([
        (
            annotation::SIGNATURE.to_owned(),
            STANDARD.encode(&message.signature),
        ),
        (annotation::CERTIFICATE.to_owned(), leaf_pem(&bundle)),
        (
            annotation::BUNDLE.to_owned(),
            entry_annotation(&material.tlog_entries[0]),
        ),
        (
            annotation::RFC3161_TIMESTAMP.to_owned(),
            timestamp_annotation(&token.signed_timestamp),
        ),
    ]);
    let layer = parse_layer(media_type::SIMPLE_SIGNING, &artifact, &annotations);
    let policy = Policy::Identity(Identity::new(
        Matcher::exact("alexis.challande@trailofbits.com"),
        Matcher::exact("https://accounts.google.com"),
    ));
    let image = Digest::of(b"any image");
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&layer),
            &policy,
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::Image(ImageError::MalformedPayload { .. })),
        "{} stage: {error}",
        error.stage()
    );

    // The bundle stages do see the material: another identity fails the policy, and no
    // certificate annotation is a bundle error.
    let other = Policy::Identity(Identity::new(
        Matcher::exact("someone@example.com"),
        Matcher::exact("https://accounts.google.com"),
    ));
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&layer),
            &other,
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap_err();
    assert_eq!(error.stage(), "policy", "{error}");
    let mut no_cert = annotations.clone();
    no_cert.remove(annotation::CERTIFICATE);
    let layer = parse_layer(media_type::SIMPLE_SIGNING, &artifact, &no_cert);
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&layer),
            &policy,
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::Bundle(BundleError::MaterialMismatch { .. })),
        "{error:?}"
    );
}
