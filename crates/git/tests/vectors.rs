//! Every object of shared/vectors/git (real gitsign signatures; sources and licence in its
//! README): the payload rule, the CMS parts, the mode, and byte-exact rebuilding.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use waxseal_git::{
    GitSignature, Mode, ObjectKind, SignedObject, armor, build, entry, signed_attributes,
};

fn read(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/git"
    ))
    .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn cases() -> Vec<Value> {
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).unwrap();
    manifest["cases"].as_array().unwrap().clone()
}

fn parts(case: &Value) -> (SignedObject, GitSignature) {
    let object = SignedObject::parse(&read(case["files"]["object"].as_str().unwrap()))
        .unwrap()
        .expect("signed");
    let signature = GitSignature::parse(object.x509_signature().unwrap()).unwrap();
    (object, signature)
}

#[test]
fn payloads_and_parts_match_the_manifest() {
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let (object, signature) = parts(&case);
        let kind = match case["object_type"].as_str().unwrap() {
            "commit" => ObjectKind::Commit,
            "tag" => ObjectKind::Tag,
            other => panic!("{id}: {other}"),
        };
        assert_eq!(object.kind(), kind, "{id}");
        let payload_sha256 = hex::encode(waxseal_crypto::sha256(object.payload()));
        assert_eq!(payload_sha256, case["signed_payload_sha256"], "{id}");
        let mode = match case["signature_mode"].as_str().unwrap() {
            "offline" => Mode::Offline,
            "online" => Mode::Online,
            "legacy-per-field-oids" => Mode::LegacyPerFieldOids,
            other => panic!("{id}: {other}"),
        };
        assert_eq!(signature.mode(), mode, "{id}");
        let certificate = &case["certificate"];
        assert_eq!(
            signature.certificates().len() as u64,
            certificate["cms_cert_count"].as_u64().unwrap(),
            "{id}"
        );
        assert_eq!(
            signature.signer_certificate(),
            signature.certificates()[certificate["signer_cert_index"].as_u64().unwrap() as usize]
                .as_slice(),
            "{id}"
        );
        assert_eq!(
            signature.timestamp_token().is_some(),
            case["rfc3161_timestamp"].as_bool().unwrap(),
            "{id}"
        );
        if !id.starts_with("derived-") {
            assert_eq!(
                signature.message_digest(),
                waxseal_crypto::sha256(object.payload()),
                "{id}"
            );
        }
        if mode == Mode::Offline {
            let rekor = &case["rekor"];
            let entry = signature.log_entry().unwrap();
            assert_eq!(
                entry.log_index,
                rekor["log_index"].as_i64().unwrap(),
                "{id}"
            );
            assert_eq!(
                entry.integrated_time,
                rekor["integrated_time"].as_i64(),
                "{id}"
            );
            assert_eq!(hex::encode(&entry.log_id.key_id), rekor["log_id"], "{id}");
            assert!(entry.canonicalized_body.is_empty(), "{id}");
            let proof = entry.inclusion_proof.as_ref().unwrap();
            assert_eq!(proof.log_index, rekor["proof_log_index"].as_i64().unwrap());
            assert_eq!(proof.tree_size, rekor["proof_tree_size"].as_i64().unwrap());
            let origin = rekor["checkpoint_origin"].as_str().unwrap();
            assert!(
                proof
                    .checkpoint
                    .as_ref()
                    .unwrap()
                    .envelope
                    .starts_with(origin),
                "{id}"
            );
        } else {
            assert!(signature.log_entry().is_none(), "{id}");
        }
    }
}

/// gitsign's signatures (online and offline) rebuild byte for byte from their parts, and the
/// embedded protobuf re-encodes to the same bytes. The Jan-2023 per-field layout has other
/// unsigned attributes, which `build` does not write.
#[test]
fn signatures_rebuild_byte_for_byte() {
    let mut rebuilt = 0;
    for case in cases() {
        let id = case["id"].as_str().unwrap();
        let (object, signature) = parts(&case);
        if signature.mode() == Mode::LegacyPerFieldOids {
            continue;
        }
        let der = build(
            signature.signer_certificate(),
            signature.signed_attributes(),
            signature.signature(),
            signature.log_entry(),
            signature.timestamp_token(),
        )
        .unwrap();
        assert!(der == signature.to_der(), "{id}: rebuilt DER differs");
        let armored = armor::armor(&der);
        assert_eq!(
            armored.as_bytes(),
            object.signature(),
            "{id}: armor differs"
        );
        if let Some(logged) = signature.log_entry() {
            let bytes = entry::encode(logged);
            assert_eq!(entry::decode(&bytes).unwrap(), *logged, "{id}");
        }
        if let Some(time) = signature.signing_time()
            && !id.starts_with("derived-")
        {
            assert_eq!(
                signed_attributes(object.payload(), time).unwrap(),
                signature.signed_attributes(),
                "{id}: signed attributes differ"
            );
        }
        rebuilt += 1;
    }
    assert_eq!(rebuilt, 8);
}
