//! `waxseal verify` and `waxseal conformance verify-bundle` on shared/vectors/sigstore cases
//! (sources and licence in its README): exit 0 verified, 1 not verified, 2 usage or
//! operational error.

use std::path::PathBuf;
use std::process::{Command, Output};

fn vectors(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/sigstore"
    ))
    .join(relative)
}

fn waxseal(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args(args)
        .output()
        .unwrap()
}

const GITHUB: &str = "production-rekor1-msg-bundle02-github-actions";
const GITHUB_IDENTITY: &str =
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn verify_github(artifact: PathBuf, bundle: PathBuf, identity: &str) -> Output {
    waxseal(&[
        "verify".as_ref(),
        artifact.as_os_str(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--certificate-identity".as_ref(),
        identity.as_ref(),
        "--certificate-oidc-issuer".as_ref(),
        GITHUB_ISSUER.as_ref(),
    ])
}

#[test]
fn verify_passes_with_the_embedded_production_root() {
    let out = verify_github(
        vectors(&format!("{GITHUB}/artifact")),
        vectors(&format!("{GITHUB}/bundle.sigstore.json")),
        GITHUB_IDENTITY,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(GITHUB_IDENTITY) && stdout.contains("log index 79605083"),
        "{stdout}"
    );
}

#[test]
fn verify_rejects_a_tampered_artifact_with_exit_1() {
    let out = verify_github(
        vectors(&format!("{GITHUB}--artifact-bit-flip/artifact")),
        vectors(&format!("{GITHUB}--artifact-bit-flip/bundle.sigstore.json")),
        GITHUB_IDENTITY,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("verification failed at signature: "),
        "{stderr}"
    );
}

#[test]
fn verify_rejects_a_wrong_identity_with_exit_1() {
    let out = verify_github(
        vectors(&format!("{GITHUB}/artifact")),
        vectors(&format!("{GITHUB}/bundle.sigstore.json")),
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v9",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("verification failed at policy: "),
        "{stderr}"
    );
}

#[test]
fn verify_exits_2_for_a_missing_bundle_or_bad_usage() {
    let missing = verify_github(
        vectors(&format!("{GITHUB}/artifact")),
        vectors("no-such-case/bundle.sigstore.json"),
        GITHUB_IDENTITY,
    );
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("couldn't read bundle"), "{stderr}");

    let no_issuer = waxseal(&[
        "verify".as_ref(),
        "x".as_ref(),
        "--bundle".as_ref(),
        "b".as_ref(),
        "--certificate-identity".as_ref(),
        "a".as_ref(),
    ]);
    assert_eq!(no_issuer.status.code(), Some(2));
    let both = waxseal(&[
        "verify".as_ref(),
        "x".as_ref(),
        "--bundle".as_ref(),
        "b".as_ref(),
        "--key".as_ref(),
        "k.pem".as_ref(),
        "--certificate-identity".as_ref(),
        "a".as_ref(),
    ]);
    assert_eq!(both.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn conformance_verify_bundle_takes_a_digest_and_a_trusted_root() {
    let case = "staging-rekor2-dsse-tsa";
    let digest = std::fs::read_to_string(vectors(&format!("{case}/artifact.sha256"))).unwrap();
    let run = |identity: &str| {
        waxseal(&[
            "conformance".as_ref(),
            "verify-bundle".as_ref(),
            "--bundle".as_ref(),
            vectors(&format!("{case}/bundle.sigstore.json")).as_os_str(),
            "--certificate-identity".as_ref(),
            identity.as_ref(),
            "--certificate-oidc-issuer".as_ref(),
            GITHUB_ISSUER.as_ref(),
            "--trusted-root".as_ref(),
            vectors("roots/staging.trusted_root.json").as_os_str(),
            format!("sha256:{}", digest.trim()).as_ref(),
        ])
    };
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let ok = run(identity);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let bad = run(&format!("{identity}x"));
    assert_eq!(
        bad.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn bench_verify_reports_the_ratio_to_the_signature_ceiling() {
    let out = waxseal(&[
        "bench".as_ref(),
        "verify".as_ref(),
        "--vectors".as_ref(),
        vectors("").as_os_str(),
        "--seconds".as_ref(),
        "0.05".as_ref(),
        "--json".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "bundle_verifies_per_sec",
        "ceiling_bundles_per_sec",
        "ratio_to_ceiling",
    ] {
        let value = report[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} in {report}"));
        assert!(value > 0.0, "{key} = {value}");
    }
}
