//! Reading the attestation vectors (never copied: read from ../shared/vectors).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::Value;
use waxseal_attestation::{CertificateFacts, ProvenanceRequirements, Statement};

pub(crate) const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/attestations"
);

pub(crate) fn manifest() -> Value {
    let text = std::fs::read(format!("{VECTORS}/manifest.json")).expect("manifest.json");
    serde_json::from_slice(&text).unwrap()
}

pub(crate) fn case(id: &str) -> Value {
    manifest()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .clone()
}

/// The statement: the base64 DSSE payload of the JSONL line's bundle.
pub(crate) fn statement(case: &Value) -> Statement {
    let path = format!("{VECTORS}/{}", case["files"]["bundle"].as_str().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text.lines().next().unwrap();
    let bundle: Value = serde_json::from_str(line).unwrap();
    let payload = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    let json = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .unwrap();
    Statement::parse(&json).unwrap()
}

/// Fulcio extensions from the manifest's `certificate` block (sigstore/fulcio oid-info.md).
pub(crate) fn extensions(case: &Value) -> BTreeMap<String, String> {
    const OIDS: &[(&str, &str)] = &[
        ("issuer_v1", "1.1"),
        ("gh_workflow_trigger_v1", "1.2"),
        ("gh_workflow_repository_v1", "1.5"),
        ("gh_workflow_ref_v1", "1.6"),
        ("issuer", "1.8"),
        ("build_signer_uri", "1.9"),
        ("build_signer_digest", "1.10"),
        ("runner_environment", "1.11"),
        ("source_repository_uri", "1.12"),
        ("source_repository_digest", "1.13"),
        ("source_repository_ref", "1.14"),
        ("source_repository_owner_uri", "1.16"),
        ("build_config_uri", "1.18"),
        ("build_trigger", "1.20"),
        ("run_invocation_uri", "1.21"),
    ];
    let cert = &case["certificate"];
    OIDS.iter()
        .filter_map(|(field, oid)| {
            cert[*field]
                .as_str()
                .map(|v| (format!("1.3.6.1.4.1.57264.{oid}"), v.to_owned()))
        })
        .collect()
}

pub(crate) fn san(case: &Value) -> String {
    case["certificate"]["san"][0].as_str().unwrap().to_owned()
}

pub(crate) fn issuer(case: &Value) -> String {
    case["certificate"]["issuer"].as_str().unwrap().to_owned()
}

pub(crate) fn facts<'a>(
    san: &'a str,
    issuer: &'a str,
    ext: &'a BTreeMap<String, String>,
) -> CertificateFacts<'a> {
    CertificateFacts {
        san,
        issuer,
        extensions: ext,
    }
}

/// The manifest's `upstream_flags` as requirements.
pub(crate) fn upstream_requirements(case: &Value) -> ProvenanceRequirements {
    let flag = |name: &str| case["upstream_flags"][name].as_str().map(str::to_owned);
    ProvenanceRequirements {
        source_uri: flag("--source-uri"),
        builder_id: flag("--builder-id"),
        source_versioned_tag: flag("--source-versioned-tag"),
        source_tag: flag("--source-tag"),
        ..ProvenanceRequirements::default()
    }
}
