//! Readers for shared/vectors/sigstore (sources and licence in its README).

use std::path::PathBuf;

use serde_json::Value;
use waxseal_verify::{Artifact, Identity, Matcher, Policy};

/// A path under shared/vectors/sigstore.
pub(crate) fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/sigstore"
    ))
    .join(relative)
}

/// Reads a file under shared/vectors/sigstore.
pub(crate) fn read(relative: &str) -> Vec<u8> {
    let path = vector_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// The manifest's cases.
pub(crate) fn cases() -> Vec<Value> {
    let manifest: Value = serde_json::from_slice(&read("manifest.json")).unwrap();
    manifest["cases"].as_array().unwrap().clone()
}

/// The case called `name`.
pub(crate) fn case(name: &str) -> Value {
    cases()
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// A case's artifact: its bytes, or `sha256:` of `artifact.sha256`.
pub(crate) enum OwnedArtifact {
    Bytes(Vec<u8>),
    Digest(String),
}

impl OwnedArtifact {
    pub(crate) fn of(case: &Value) -> Self {
        let files = &case["files"];
        if let Some(path) = files["artifact"].as_str() {
            Self::Bytes(read(path))
        } else {
            let path = files["artifact_sha256"]
                .as_str()
                .or_else(|| files["artifact.sha256"].as_str())
                .unwrap_or_else(|| panic!("{}: no artifact in {files}", case["name"]));
            let text = String::from_utf8(read(path)).unwrap();
            Self::Digest(format!("sha256:{}", text.trim()))
        }
    }

    pub(crate) fn artifact(&self) -> Artifact<'_> {
        match self {
            Self::Bytes(bytes) => Artifact::Bytes(bytes),
            Self::Digest(text) => Artifact::from_digest_str(text).unwrap(),
        }
    }
}

/// The identity policy of a case.
pub(crate) fn policy(case: &Value) -> Policy {
    Policy::Identity(Identity::new(
        Matcher::exact(case["expected_identity"].as_str().unwrap()),
        Matcher::exact(case["expected_issuer"].as_str().unwrap()),
    ))
}
