//! Bundles and trusted roots of shared/vectors/sigstore (see its README for sources and
//! licence): each parses, and writes back to the same JSON value.
//!
//! The only bundle that may not parse is `upstream-invalid-media-type`, whose media type is
//! deliberately wrong.

use serde_json::Value;
use waxseal_bundle::{Bundle, BundleContent, BundleVersion, TrustedRoot, VerificationContent};

use crate::support::{read_json, vector_path};

fn manifest_cases() -> Vec<Value> {
    let manifest = read_json(&vector_path("manifest.json"));
    manifest["cases"].as_array().unwrap().clone()
}

#[test]
fn every_vector_bundle_round_trips() {
    let mut parsed = 0;
    for case in manifest_cases() {
        let name = case["name"].as_str().unwrap();
        let path = vector_path(case["files"]["bundle"].as_str().unwrap());
        let bytes = std::fs::read(&path).unwrap();
        let result = Bundle::from_json(&bytes);
        if name == "upstream-invalid-media-type" {
            let error = result.unwrap_err().to_string();
            assert!(
                error.contains("unsupported bundle mediaType"),
                "{name}: {error}"
            );
            continue;
        }
        let bundle = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let written: Value = serde_json::from_slice(&bundle.to_json()).unwrap();
        assert_eq!(written, original, "{name}: written JSON differs");
        assert_eq!(
            Bundle::from_json(&bundle.to_json_pretty()).unwrap(),
            bundle,
            "{name}"
        );

        let media_type = case["bundle_media_type"].as_str().unwrap();
        assert_eq!(
            bundle.version(),
            BundleVersion::from_media_type(media_type),
            "{name}"
        );
        let dsse = matches!(bundle.content, BundleContent::DsseEnvelope(_));
        assert_eq!(dsse, case["kind"] == "dsse", "{name}");
        let has_tsa = bundle
            .verification_material
            .timestamp_verification_data
            .as_ref()
            .is_some_and(|t| !t.rfc3161_timestamps.is_empty());
        assert_eq!(has_tsa, case["has_tsa_timestamp"] == true, "{name}");
        if name == "upstream-no-certificate-v01" {
            assert!(
                matches!(
                    &bundle.verification_material.content,
                    VerificationContent::X509CertificateChain(chain) if chain.certificates.is_empty()
                ),
                "{name}: an empty chain"
            );
        }
        parsed += 1;
    }
    assert_eq!(parsed, 67, "bundles parsed");
}

#[test]
fn every_vector_trusted_root_round_trips() {
    let manifest = read_json(&vector_path("manifest.json"));
    let roots = manifest["roots"].as_object().unwrap();
    assert_eq!(roots.len(), 4);
    for (name, root) in roots {
        let bytes = std::fs::read(vector_path(root["file"].as_str().unwrap())).unwrap();
        let parsed = TrustedRoot::from_json(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let original: Value = serde_json::from_slice(&bytes).unwrap();
        let written: Value = serde_json::from_slice(&parsed.to_json_pretty()).unwrap();
        assert_eq!(written, original, "{name}: written JSON differs");
        assert!(!parsed.tlogs.is_empty(), "{name}");
        assert!(!parsed.certificate_authorities.is_empty(), "{name}");
        assert!(!parsed.ctlogs.is_empty(), "{name}");
    }
}

#[test]
fn trusted_root_refuses_unknown_fields_and_media_types() {
    let bytes = std::fs::read(vector_path("roots/staging.trusted_root.json")).unwrap();
    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    value["tlogs"][0]["extra"] = Value::Bool(true);
    let error = TrustedRoot::from_json(value.to_string().as_bytes()).unwrap_err();
    assert!(
        error.to_string().contains("unknown field `extra`"),
        "{error}"
    );

    let mut value: Value = serde_json::from_slice(&bytes).unwrap();
    value["mediaType"] = "application/vnd.dev.sigstore.trustedroot+json;version=0.9".into();
    let error = TrustedRoot::from_json(value.to_string().as_bytes()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("unsupported trusted root mediaType"),
        "{error}"
    );
}
