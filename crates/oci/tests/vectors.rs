//! The containers/image cosign fixtures in `shared/vectors/oci-legacy`, read in place.

use std::path::PathBuf;

use waxseal_oci::{Digest, LegacySignature, SimpleSigning, media_type};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/oci-legacy"
);

fn read(path: &str) -> Vec<u8> {
    let full = PathBuf::from(VECTORS).join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("read {}: {e}", full.display()))
}

fn text<'a>(value: &'a serde_json::Value, key: &str, case: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{case}: {key} is not a string"))
}

#[test]
fn legacy_signatures_round_trip_and_digest_claims_match_the_manifest_record() {
    let manifest: serde_json::Value =
        serde_json::from_slice(&read("manifest.json")).expect("vector manifest is JSON");
    let cases = manifest["cases"].as_array().expect("cases array");
    assert_eq!(cases.len(), 10, "case count");
    let mut signatures_checked = 0;
    for case in cases {
        let id = text(case, "id", "?");
        let image_manifest = read(text(&case["files"], "manifest", id));
        let image_digest = Digest::of(&image_manifest);
        assert_eq!(
            image_digest.to_string(),
            text(case, "manifest_sha256", id),
            "{id}: manifest_sha256"
        );
        let details = case["signatures_detail"].as_array().expect("details");
        assert!(!details.is_empty(), "{id}: no signatures");
        for detail in details {
            let file = text(detail, "file", id);
            let name = format!("{id} {file}");
            let raw = read(file);
            let sig = LegacySignature::from_containers_image_file(&raw)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(sig.media_type, text(detail, "mimeType", &name), "{name}");
            assert_eq!(sig.media_type, media_type::SIMPLE_SIGNING, "{name}");
            assert_eq!(
                hex::encode(sha256(&sig.payload)),
                text(detail, "payload_sha256", &name),
                "{name}: payload bytes"
            );
            assert!(!sig.signature.is_empty(), "{name}: signature");

            // The annotations the record lists are exactly the ones present, and cosign's
            // writer gives them back byte for byte.
            let listed: Vec<&str> = detail["annotations"]
                .as_array()
                .expect("annotations")
                .iter()
                .map(|a| a.as_str().expect("annotation key"))
                .collect();
            let written = sig.to_annotations();
            assert_eq!(
                written.keys().map(String::as_str).collect::<Vec<_>>(),
                listed,
                "{name}: annotation keys"
            );
            let file_json: serde_json::Value =
                serde_json::from_slice(&raw[waxseal_oci::CONTAINERS_IMAGE_PREFIX.len()..])
                    .expect("signature file JSON");
            for (key, value) in &written {
                assert_eq!(
                    Some(value.as_str()),
                    file_json["annotations"][key].as_str(),
                    "{name}: annotation {key} round trip"
                );
            }
            assert_eq!(
                sig.rekor_bundle.is_some(),
                detail.get("rekor").is_some(),
                "{name}: rekor bundle presence"
            );
            if let (Some(bundle), Some(rekor)) = (&sig.rekor_bundle, detail.get("rekor")) {
                assert_eq!(
                    Some(bundle.payload.log_index),
                    rekor["logIndex"].as_i64(),
                    "{name}"
                );
                assert_eq!(
                    Some(bundle.payload.integrated_time),
                    rekor["integratedTime"].as_i64(),
                    "{name}"
                );
                assert_eq!(bundle.payload.log_id, text(rekor, "logID", &name), "{name}");
                let body = bundle.payload.decoded_body().expect("body decodes");
                let body: serde_json::Value = serde_json::from_slice(&body).expect("body JSON");
                assert_eq!(
                    body["spec"]["data"]["hash"]["value"].as_str(),
                    Some(text(detail, "payload_sha256", &name)),
                    "{name}: hashedrekord binds the payload"
                );
            }

            // The payload parses, and cosign's serialisation of it is the stored bytes.
            let payload =
                SimpleSigning::parse(&sig.payload).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                payload.to_bytes(),
                sig.payload,
                "{name}: to_bytes must reproduce the signed bytes"
            );
            assert_eq!(
                payload.docker_reference(),
                text(detail, "docker_reference", &name),
                "{name}"
            );
            assert_eq!(
                payload.manifest_digest().to_string(),
                text(detail, "docker_manifest_digest", &name),
                "{name}"
            );
            assert_eq!(
                payload.optional().cloned().map(serde_json::Value::Object),
                match &detail["optional"] {
                    serde_json::Value::Null => None,
                    other => Some(other.clone()),
                },
                "{name}: optional"
            );
            let matches = detail["digest_claim_matches_manifest"]
                .as_bool()
                .expect("digest_claim_matches_manifest");
            assert_eq!(
                payload.manifest_digest() == image_digest,
                matches,
                "{name}: digest claim vs sha256(manifest.json)"
            );
            signatures_checked += 1;
        }
    }
    assert_eq!(signatures_checked, 11, "signatures checked");
}

#[test]
fn digest_mismatch_cases_are_the_failing_digest_cases() {
    let manifest: serde_json::Value =
        serde_json::from_slice(&read("manifest.json")).expect("vector manifest is JSON");
    let mut mismatched: Vec<&str> = Vec::new();
    for case in manifest["cases"].as_array().expect("cases") {
        let id = text(case, "id", "?");
        let image_digest = Digest::of(&read(text(&case["files"], "manifest", id)));
        for detail in case["signatures_detail"].as_array().expect("details") {
            let sig = LegacySignature::from_containers_image_file(&read(text(detail, "file", id)))
                .expect("signature parses");
            let payload = SimpleSigning::parse(&sig.payload).expect("payload parses");
            if payload.manifest_digest() != image_digest {
                assert_eq!(text(case, "expected_result", id), "fail", "{id}");
                mismatched.push(id);
            }
        }
    }
    assert_eq!(
        mismatched,
        ["cosign-manifest-digest-error", "cosign-modified-manifest"]
    );
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    *Digest::of(bytes).as_bytes()
}

#[test]
fn from_layer_reads_the_descriptor_form_and_checks_the_content() {
    let file = read("dir-img-cosign-key-rekor-valid/signature-1");
    let sig = LegacySignature::from_containers_image_file(&file).expect("vector parses");
    let layer = sig.to_descriptor();
    let back = LegacySignature::from_layer(&layer, sig.payload.clone()).expect("layer parses");
    assert_eq!(back, sig);

    let mut tampered = sig.payload.clone();
    tampered[0] ^= 1;
    assert!(matches!(
        LegacySignature::from_layer(&layer, tampered),
        Err(waxseal_oci::Error::DigestMismatch { .. })
    ));
    assert!(matches!(
        LegacySignature::from_layer(&layer, sig.payload[1..].to_vec()),
        Err(waxseal_oci::Error::SizeMismatch { .. })
    ));
    assert!(matches!(
        LegacySignature::from_containers_image_file(&file[1..]),
        Err(waxseal_oci::Error::InvalidContainersImagePrefix)
    ));
}
