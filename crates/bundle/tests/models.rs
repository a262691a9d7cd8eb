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

/// Sets `path` (object keys) in `value` to JSON `null`.
fn set_null(value: &mut Value, path: &[&str]) {
    let mut at = value;
    for key in &path[..path.len() - 1] {
        at = &mut at[*key];
    }
    at[*path.last().unwrap()] = Value::Null;
}

#[test]
fn null_members_read_as_absent() {
    // protojson: `null` is the field's default value (absent message, empty list, zero scalar).
    let bundle_path = vector_path(
        manifest_cases()
            .iter()
            .find(|c| c["name"] == "staging-rekor1-msg-bundle03")
            .unwrap()["files"]["bundle"]
            .as_str()
            .unwrap(),
    );
    let bundle_json = read_json(&bundle_path);
    let original = Bundle::from_json(bundle_json.to_string().as_bytes()).unwrap();
    type Check = fn(&Bundle, &Bundle) -> bool;
    const BUNDLE_CASES: &[(&str, &[&str], Check)] = &[
        (
            "timestampVerificationData",
            &["verificationMaterial", "timestampVerificationData"],
            |b, _| {
                b.verification_material
                    .timestamp_verification_data
                    .is_none()
            },
        ),
        (
            "inclusionPromise",
            &[
                "verificationMaterial",
                "tlogEntries",
                "0",
                "inclusionPromise",
            ],
            |b, _| {
                b.verification_material.tlog_entries[0]
                    .inclusion_promise
                    .is_none()
            },
        ),
        (
            "integratedTime",
            &["verificationMaterial", "tlogEntries", "0", "integratedTime"],
            |b, _| {
                b.verification_material.tlog_entries[0]
                    .integrated_time
                    .is_none()
            },
        ),
        (
            "inclusionProof.checkpoint",
            &[
                "verificationMaterial",
                "tlogEntries",
                "0",
                "inclusionProof",
                "checkpoint",
            ],
            |b, _| {
                b.verification_material.tlog_entries[0]
                    .inclusion_proof
                    .as_ref()
                    .is_some_and(|p| p.checkpoint.is_none())
            },
        ),
        (
            "inclusionProof.hashes (repeated)",
            &[
                "verificationMaterial",
                "tlogEntries",
                "0",
                "inclusionProof",
                "hashes",
            ],
            |b, _| {
                b.verification_material.tlog_entries[0]
                    .inclusion_proof
                    .as_ref()
                    .is_some_and(|p| p.hashes.is_empty())
            },
        ),
        (
            "messageSignature.messageDigest",
            &["messageSignature", "messageDigest"],
            |b, _| matches!(&b.content, BundleContent::MessageSignature(m) if m.message_digest.is_none()),
        ),
        (
            "logIndex (int64 scalar)",
            &["verificationMaterial", "tlogEntries", "0", "logIndex"],
            |b, _| b.verification_material.tlog_entries[0].log_index == 0,
        ),
        (
            "an unrelated oneof member",
            &["verificationMaterial", "publicKey"],
            |b, o| b == o,
        ),
        (
            "dsseEnvelope beside messageSignature",
            &["dsseEnvelope"],
            |b, o| b == o,
        ),
    ];
    for (name, path, check) in BUNDLE_CASES {
        let mut value = bundle_json.clone();
        // Array positions are written as keys here; index them.
        let mut at = &mut value;
        for key in &path[..path.len() - 1] {
            at = match key.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*key],
            };
        }
        at[*path.last().unwrap()] = Value::Null;
        let bundle = Bundle::from_json(value.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(check(&bundle, &original), "{name}: {bundle:?}");
    }

    // A null that leaves a required member missing still fails, and so does a null list element.
    let mut value = bundle_json.clone();
    set_null(&mut value, &["verificationMaterial"]);
    let error = Bundle::from_json(value.to_string().as_bytes()).unwrap_err();
    assert!(
        error.to_string().contains("verificationMaterial"),
        "{error}"
    );
    let mut value = bundle_json.clone();
    value["verificationMaterial"]["tlogEntries"] = serde_json::json!([null]);
    assert!(Bundle::from_json(value.to_string().as_bytes()).is_err());

    // Trusted roots: an open-ended validFor, null lists and optional strings.
    let bytes = std::fs::read(vector_path("roots/staging.trusted_root.json")).unwrap();
    let root_json: Value = serde_json::from_slice(&bytes).unwrap();
    let mut value = root_json.clone();
    value["tlogs"][0]["publicKey"]["validFor"]["end"] = Value::Null;
    value["certificateAuthorities"][0]["uri"] = Value::Null;
    value["timestampAuthorities"] = Value::Null;
    value["tlogs"][0]["checkpointKeyId"] = Value::Null;
    let root = TrustedRoot::from_json(value.to_string().as_bytes()).unwrap();
    assert!(
        root.tlogs[0]
            .public_key
            .valid_for
            .as_ref()
            .unwrap()
            .end
            .is_none(),
        "validFor.end: null is open-ended"
    );
    assert!(root.certificate_authorities[0].uri.is_empty());
    assert!(root.timestamp_authorities.is_empty());
    assert!(root.tlogs[0].checkpoint_key_id.is_none());
    let mut value = root_json.clone();
    value["tlogs"][0]["publicKey"]["validFor"]["start"] = Value::Null;
    assert!(
        TrustedRoot::from_json(value.to_string().as_bytes()).is_err(),
        "validFor.start is required"
    );
}

#[test]
fn null_members_read_as_absent_in_signing_and_client_trust_configs() {
    use waxseal_bundle::{ClientTrustConfig, SigningConfig};
    let signing = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [{"url": "https://ca.test", "majorApiVersion": 1,
                    "validFor": {"start": "2024-01-01T00:00:00Z", "end": null},
                    "operator": "me"}],
        "oidcUrls": null,
        "rekorTlogUrls": [],
        "rekorTlogConfig": {"selector": "ANY", "count": null},
        "tsaUrls": null,
        "tsaConfig": null,
    });
    let parsed = SigningConfig::from_json(signing.to_string().as_bytes()).unwrap();
    assert!(parsed.oidc_urls.is_empty() && parsed.tsa_urls.is_empty());
    assert!(parsed.tsa_config.is_none());
    assert_eq!(parsed.rekor_tlog_config.unwrap().count, 0);
    assert!(parsed.ca_urls[0].valid_for.as_ref().unwrap().end.is_none());
    let config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": {
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": null, "ctlogs": null,
        },
        "signingConfig": signing,
    });
    let parsed = ClientTrustConfig::from_json(config.to_string().as_bytes()).unwrap();
    assert!(parsed.trusted_root.tlogs.is_empty());
}

#[test]
fn duplicate_members_are_refused() {
    const MT: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
    let json = format!(
        r#"{{"mediaType":"{MT}","mediaType":"{MT}","verificationMaterial":{{"publicKey":{{}}}},"messageSignature":{{}}}}"#
    );
    let error = Bundle::from_json(json.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("duplicate field"), "{error}");
    // Even a duplicate whose first value is null.
    let json = format!(
        r#"{{"mediaType":"{MT}","verificationMaterial":{{"publicKey":null,"publicKey":{{}}}},"messageSignature":{{}}}}"#
    );
    assert!(Bundle::from_json(json.as_bytes()).is_err());
}
