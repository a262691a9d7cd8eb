//! `waxseal verify-attestation` on every case of shared/vectors/attestations (real GitHub-built
//! SLSA provenance; sources and licence in its README), and `waxseal attest` /
//! `verify-attestation` / `policy check` against a real `waxseal serve`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::Server;

fn vectors() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/attestations"
    ))
}

fn waxseal<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    for name in [
        "SIGSTORE_ID_TOKEN",
        "WAXSEAL_INSTANCE",
        "WAXSEAL_CLIENT_ID",
        "WAXSEAL_CLIENT_SECRET",
        "WAXSEAL_PASSWORD",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
    ] {
        command.env_remove(name);
    }
    command.args(args).output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[track_caller]
fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(out.status.code(), Some(code), "{what}: {}", text(out));
}

/// `verify-attestation sha256:DIGEST --bundle ... --certificate-identity ... --type ...` for
/// one manifest case, plus `extra` flags.
fn verify_case(case: &Value, extra: &[&str]) -> Output {
    let dir = vectors();
    let files = &case["files"];
    let digest = std::fs::read_to_string(dir.join(files["artifact_sha256"].as_str().unwrap()))
        .unwrap()
        .trim()
        .to_owned();
    let mut args: Vec<String> = vec![
        "verify-attestation".into(),
        format!("sha256:{digest}"),
        "--bundle".into(),
        dir.join(files["bundle"].as_str().unwrap())
            .display()
            .to_string(),
        "--certificate-identity".into(),
        case["expected_identity"].as_str().unwrap().into(),
        "--certificate-oidc-issuer".into(),
        case["expected_issuer"].as_str().unwrap().into(),
        "--trusted-root".into(),
        dir.join(case["trusted_root"].as_str().unwrap())
            .display()
            .to_string(),
        "--type".into(),
        case["expected_predicate_type"].as_str().unwrap().into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    waxseal(&args)
}

fn manifest_cases() -> Vec<Value> {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(vectors().join("manifest.json")).unwrap()).unwrap();
    manifest["cases"].as_array().unwrap().clone()
}

#[test]
fn every_attestation_vector_ends_as_its_manifest_says() {
    let cases = manifest_cases();
    assert_eq!(cases.len(), 3, "the manifest's cases");
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let expected = case["expected_result"].as_str().unwrap();
        // The identity alone, then with slsa-verifier's own flags from its tests.
        let flags = &case["upstream_flags"];
        let mut upstream = Vec::new();
        for flag in [
            "--source-uri",
            "--builder-id",
            "--source-versioned-tag",
            "--source-tag",
        ] {
            if let Some(value) = flags[flag].as_str() {
                upstream.push(flag);
                upstream.push(value);
            }
        }
        for extra in [&[][..], &upstream[..]] {
            let out = verify_case(case, extra);
            match expected {
                "pass" => {
                    assert_exit(&out, 0, id);
                    let stdout = String::from_utf8_lossy(&out.stdout);
                    assert!(stdout.contains("verified:"), "{id}: {stdout}");
                }
                _ => {
                    assert_exit(&out, 1, id);
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(
                        stderr.contains("builder"),
                        "{id} names the builder: {stderr}"
                    );
                }
            }
        }
    }
}

#[test]
fn provenance_flags_that_do_not_match_fail() {
    let cases = manifest_cases();
    let generic = cases
        .iter()
        .find(|c| c["id"] == "gha-generic-v2.1.0-push-v13.0.30")
        .unwrap();
    for (name, flags, code) in [
        (
            "the right versioned tag",
            vec!["--source-versioned-tag", "v13.0.30"],
            0,
        ),
        (
            "a shorter versioned tag",
            vec!["--source-versioned-tag", "v13.0"],
            0,
        ),
        (
            "another versioned tag",
            vec!["--source-versioned-tag", "v13.0.29"],
            1,
        ),
        ("a tag that is a prefix", vec!["--source-tag", "v13.0"], 1),
        ("the exact tag", vec!["--source-tag", "v13.0.30"], 0),
        (
            "another source",
            vec!["--source-uri", "github.com/slsa-framework/other"],
            1,
        ),
        (
            "another builder",
            vec![
                "--builder-id",
                "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml",
            ],
            1,
        ),
    ] {
        let out = verify_case(generic, &flags);
        assert_exit(&out, code, name);
    }
    // The wrong predicate type is refused even though everything else verifies.
    let mut case = generic.clone();
    case["expected_predicate_type"] = "https://slsa.dev/provenance/v1".into();
    assert_exit(&verify_case(&case, &[]), 1, "wrong --type");
    // A wrong identity is the verifier's refusal.
    let mut case = generic.clone();
    case["expected_identity"] =
        "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main".into();
    assert_exit(&verify_case(&case, &[]), 1, "wrong identity");
}

#[test]
fn json_output_carries_the_verified_statement() {
    let cases = manifest_cases();
    let case = cases
        .iter()
        .find(|c| c["id"] == "bcr-module-bazel")
        .unwrap();
    let out = verify_case(case, &["--output", "json"]);
    assert_exit(&out, 0, "json");
    let line = String::from_utf8_lossy(&out.stdout);
    let json: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(json["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(
        json["statement"]["subject"][0]["name"],
        case["statement"]["subjects"][0]["name"]
    );
    assert_eq!(
        json["statement"]["predicate"]["runDetails"]["builder"]["id"],
        case["statement"]["builder_id"]
    );
    assert_eq!(json["signer"]["identity"], case["expected_identity"]);
}

/// Writes `text` to `dir/name` and returns the path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const SBOM: &str = r#"{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "version": 1,
  "components": [
    {"type": "library", "name": "serde", "version": "1.0.0", "licenses": [{"license": {"id": "MIT"}}]},
    {"type": "library", "name": "left-pad", "version": "1.3.0", "licenses": [{"license": {"id": "WTFPL"}}]}
  ]
}"#;

fn policy(issuer: &str, forbidden: &str) -> String {
    format!(
        r#"apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: sbom-and-signer
spec:
  images:
  - glob: "**"
  authorities:
  - name: alice
    keyless:
      identities:
      - issuer: {issuer}
        subject: alice@example.com
    attestations:
    - name: sbom
      predicateType: https://cyclonedx.org/bom
      policy:
        type: rego
        data: |
          package sigstore
          default isCompliant = false
          isCompliant {{
            count([c | c := input.predicate.components[_]; c.name == "{forbidden}"]) == 0
          }}
"#
    )
}

#[test]
fn attest_then_verify_and_evaluate_policies_on_a_real_instance() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let token = server.token("alice", "alice@example.com");
    let root = server.trust("trusted_root.json");
    let d = dir.path();
    let artifact = write(d, "app.tar", "the application");
    let other = write(d, "lib.tar", "a library");
    let sbom = write(d, "sbom.json", SBOM);
    let bundle = d.join("app.att.json").display().to_string();

    // Two subjects, sha512 too.
    let out = waxseal(&[
        "attest",
        &artifact,
        &other,
        "--predicate",
        &sbom,
        "--type",
        "cyclonedx",
        "--digest-alg",
        "sha512",
        "--bundle",
        &bundle,
        "--identity-token",
        &token,
        "--instance",
        &server.url,
    ]);
    assert_exit(&out, 0, "attest");
    let bundle_json: Value = serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    assert_eq!(
        bundle_json["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let payload = bundle_json["dsseEnvelope"]["payload"].as_str().unwrap();
    use base64::Engine as _;
    let statement: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://cyclonedx.org/bom");
    assert_eq!(statement["subject"][0]["name"], "app.tar");
    assert_eq!(statement["subject"][1]["name"], "lib.tar");
    assert_eq!(
        statement["subject"][0]["digest"]["sha512"]
            .as_str()
            .unwrap()
            .len(),
        128
    );

    let verify = |file: &str, extra: &[&str]| {
        let mut args = vec![
            "verify-attestation",
            file,
            "--bundle",
            &bundle,
            "--trusted-root",
            &root,
        ];
        args.extend_from_slice(extra);
        waxseal(&args)
    };
    let identity = [
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &server.url,
    ];
    for file in [&artifact, &other] {
        let out = verify(file, &[&identity[..], &["--type", "cyclonedx"]].concat());
        assert_exit(&out, 0, file);
    }
    let tampered = write(d, "app-tampered.tar", "the application!");
    assert_exit(&verify(&tampered, &identity), 1, "another file");
    assert_exit(
        &verify(
            &artifact,
            &[&identity[..], &["--type", "spdxjson"]].concat(),
        ),
        1,
        "another type",
    );

    // Policies: the SBOM has no "log4j" (allowed) but has "left-pad" (denied).
    let allow = write(d, "allow.yaml", &policy(&server.url, "log4j"));
    let deny = write(d, "deny.yaml", &policy(&server.url, "left-pad"));
    let check = |policy: &str, extra: &[&str]| {
        let mut args = vec![
            "policy",
            "check",
            "--policy",
            policy,
            &artifact,
            "--bundle",
            &bundle,
            "--trusted-root",
            &root,
        ];
        args.extend_from_slice(extra);
        waxseal(&args)
    };
    assert_exit(&check(&allow, &[]), 0, "allowed policy");
    let denied = check(&deny, &[]);
    assert_exit(&denied, 1, "denying policy");
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("sbom-and-signer"),
        "the message names the policy: {}",
        text(&denied)
    );
    let json = check(&deny, &["--output", "json"]);
    assert_exit(&json, 1, "json");
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["allowed"], false);
    // The same through verify-attestation --policy.
    assert_exit(
        &verify(&artifact, &["--policy", &allow]),
        0,
        "verify --policy",
    );
    assert_exit(
        &verify(&artifact, &["--policy", &deny]),
        1,
        "verify --policy deny",
    );
    // Validation.
    assert_exit(
        &waxseal(&["policy", "validate", &allow, &deny]),
        0,
        "validate",
    );
    let bad = write(
        d,
        "bad.yaml",
        &policy(&server.url, "x").replace("isCompliant {", "isCompliant {{ ]"),
    );
    let out = waxseal(&["policy", "validate", &bad]);
    assert_exit(&out, 1, "invalid rego");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.yaml"),
        "{}",
        text(&out)
    );
}

#[test]
fn attest_refuses_invalid_predicates_before_signing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let artifact = write(d, "app.tar", "the application");
    for (name, kind, predicate, needle) in [
        (
            "a CycloneDX BOM without bomFormat",
            "cyclonedx",
            r#"{"specVersion":"1.5"}"#,
            "bomFormat",
        ),
        (
            "SLSA v1 without buildDefinition",
            "slsaprovenance1",
            r#"{"runDetails":{"builder":{"id":"https://example.com/builder"}}}"#,
            "buildDefinition",
        ),
        (
            "SPDX without spdxVersion",
            "spdxjson",
            r#"{"SPDXID":"SPDXRef-DOCUMENT"}"#,
            "spdxVersion",
        ),
        ("not JSON", "custom", "{", "JSON"),
        ("an unknown type name", "sbom", "{}", "sbom"),
    ] {
        let predicate = write(d, "predicate.json", predicate);
        // No instance runs at this URL: a refusal before signing never contacts it.
        let out = waxseal(&[
            "attest",
            &artifact,
            "--predicate",
            &predicate,
            "--type",
            kind,
            "--identity-token",
            "a.b.c",
            "--instance",
            "http://127.0.0.1:9",
        ]);
        assert_exit(&out, 2, name);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(needle),
            "{name}: {}",
            text(&out)
        );
    }
    let out = waxseal(&["attest", &artifact, "--provenance", "--key", "x.key"]);
    assert_exit(&out, 2, "outside CI");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GITHUB_ACTIONS") && stderr.contains("GITLAB_CI"),
        "{stderr}"
    );
}

/// A managed key pair `dir/name.key` (passphrase `pw`) and `.pub`; returns the prefix.
fn key_pair(dir: &Path, name: &str) -> String {
    let prefix = dir.join(name).display().to_string();
    let keygen = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args(["generate-key-pair", "--output-key-prefix", &prefix])
        .env("WAXSEAL_PASSWORD", "pw")
        .output()
        .unwrap();
    assert_exit(&keygen, 0, "generate-key-pair");
    prefix
}

/// The SLSA v1 predicate of a key-signed provenance bundle, as `verify-attestation --output
/// json` prints it once verified.
fn provenance_predicate(server: &Server, artifact: &str, bundle: &str, prefix: &str) -> Value {
    let out = waxseal(&[
        "verify-attestation",
        artifact,
        "--bundle",
        bundle,
        "--key",
        &format!("{prefix}.pub"),
        "--type",
        "slsaprovenance1",
        "--trusted-root",
        &server.trust("trusted_root.json"),
        "--output",
        "json",
    ]);
    assert_exit(&out, 0, "verify-attestation --key");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    json["statement"]["predicate"].clone()
}

/// A one-request HTTP server answering GitHub Actions' OIDC token endpoint: checks the bearer
/// token and the `audience` query, then answers `{"value": JWT}`. Returns its URL.
fn actions_token_endpoint(jwt: String) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead as _, BufReader, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/_apis/token?api-version=2.0",
        listener.local_addr().unwrap()
    );
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let body = format!("{{\"value\":\"{jwt}\",\"count\":1}}");
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        head
    });
    (url, handle)
}

#[test]
fn provenance_from_a_recorded_github_actions_job_matches_github_s_own() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(&d.join("data"), &[]);
    // The job of the real bcr-module-bazel provenance (its certificate and predicate give the
    // claims GitHub put in the job's token).
    let claims = serde_json::json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:aspect-build/rules_lint:ref:refs/heads/publish-to-bcr",
        "aud": "sigstore",
        "ref": "refs/heads/publish-to-bcr",
        "sha": "8f70009fde0c94ade6ce2a054b94718c819126ec",
        "repository": "aspect-build/rules_lint",
        "repository_owner": "aspect-build",
        "repository_id": "631710741",
        "repository_owner_id": "60951090",
        "run_id": "14095611671",
        "run_attempt": "1",
        "event_name": "workflow_dispatch",
        "workflow_ref": "aspect-build/rules_lint/.github/workflows/release.yml@refs/heads/publish-to-bcr",
        "job_workflow_ref": "bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1",
        "runner_environment": "github-hosted",
        "exp": 4_000_000_000u64,
    });
    let jwt = format!(
        "{}.{}.c2ln",
        b64.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    );
    let (url, endpoint) = actions_token_endpoint(jwt);
    let artifact = write(d, "MODULE.bazel", "module(name = \"rules_lint\")\n");
    let prefix = key_pair(d, "release");
    let bundle = d.join("provenance.json").display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args([
            "attest",
            &artifact,
            "--provenance",
            "--key",
            &format!("{prefix}.key"),
            "--bundle",
            &bundle,
            "--instance",
            &server.url,
        ])
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("GITLAB_CI")
        .env("WAXSEAL_PASSWORD", "pw")
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &url)
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "job-request-token")
        .output()
        .unwrap();
    assert_exit(&out, 0, "attest --provenance");
    let request = endpoint.join().unwrap();
    assert!(
        request.starts_with("GET /_apis/token?api-version=2.0&audience=sigstore "),
        "{request}"
    );
    assert!(
        request
            .to_ascii_lowercase()
            .contains("authorization: bearer job-request-token"),
        "{request}"
    );

    let ours = provenance_predicate(&server, &artifact, &bundle, &prefix);
    // GitHub's own statement for the same job, from the vector.
    let line =
        std::fs::read_to_string(vectors().join("bcr-module-bazel/MODULE.bazel.intoto.jsonl"))
            .unwrap();
    let real: Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(real["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let real: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(ours, real["predicate"], "field by field");
}

#[test]
fn bare_dsse_with_its_rekor_entry_and_json_lines_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(&d.join("data"), &[]);
    let token = server.token("alice", "alice@example.com");
    let root = server.trust("trusted_root.json");
    let artifact = write(d, "app.tar", "the application");
    let other = write(d, "other.tar", "another artifact");
    let sbom = write(d, "sbom.json", SBOM);
    let attest = |file: &str, bundle: &str| {
        let out = waxseal(&[
            "attest",
            file,
            "--predicate",
            &sbom,
            "--type",
            "cyclonedx",
            "--bundle",
            bundle,
            "--identity-token",
            &token,
            "--instance",
            &server.url,
        ]);
        assert_exit(&out, 0, "attest");
        serde_json::from_slice::<Value>(&std::fs::read(bundle).unwrap()).unwrap()
    };
    let bundle = attest(&artifact, &d.join("app.json").display().to_string());
    let other_bundle = attest(&other, &d.join("other.json").display().to_string());
    let identity = [
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &server.url,
        "--trusted-root",
        &root,
    ];

    // A bare envelope, as pre-bundle producers wrote it, and its entry from the log.
    let envelope = write(d, "app.dsse.json", &bundle["dsseEnvelope"].to_string());
    let index = bundle["verificationMaterial"]["tlogEntries"][0]["logIndex"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, entry) = server.get(&format!("/api/v1/log/entries?logIndex={index}"));
    assert_eq!(status, 200);
    let entry_path = d.join("entry.json");
    std::fs::write(&entry_path, &entry).unwrap();
    let entry_path = entry_path.display().to_string();
    let out = waxseal(
        &[
            &["verify-attestation", &artifact, "--bundle", &envelope][..],
            &["--rekor-entry", &entry_path],
            &identity,
        ]
        .concat(),
    );
    assert_exit(&out, 0, "bare DSSE + Rekor entry");
    let out = waxseal(
        &[
            &["verify-attestation", &artifact, "--bundle", &envelope][..],
            &identity,
        ]
        .concat(),
    );
    assert_exit(&out, 2, "bare DSSE without its entry");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--rekor-entry"),
        "{}",
        text(&out)
    );
    // The entry of another envelope does not make this one verify.
    let mut forged = bundle["dsseEnvelope"].clone();
    forged["payload"] = other_bundle["dsseEnvelope"]["payload"].clone();
    let forged = write(d, "forged.dsse.json", &forged.to_string());
    let out = waxseal(
        &[
            &["verify-attestation", &artifact, "--bundle", &forged][..],
            &["--rekor-entry", &entry_path],
            &identity,
        ]
        .concat(),
    );
    assert_exit(&out, 1, "another payload under this entry");

    // JSON Lines: one bundle per line; the one for this artifact verifies, the other is
    // reported.
    let lines = format!("{}\n{}\n", other_bundle, bundle);
    let jsonl = write(d, "all.intoto.jsonl", &lines);
    let out = waxseal(
        &[
            &["verify-attestation", &artifact, "--bundle", &jsonl][..],
            &identity,
        ]
        .concat(),
    );
    assert_exit(&out, 0, "JSON Lines");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("all.intoto.jsonl:1"),
        "the other line is reported: {stderr}"
    );
    // npm's attestations document.
    let npm = serde_json::json!({"attestations": [
        {"predicateType": "https://cyclonedx.org/bom", "bundle": bundle},
    ]});
    let npm = write(d, "npm.json", &npm.to_string());
    let out = waxseal(
        &[
            &["verify-attestation", &other, "--bundle", &npm][..],
            &identity,
        ]
        .concat(),
    );
    assert_exit(&out, 1, "npm document for another artifact");
    let out = waxseal(
        &[
            &["verify-attestation", &artifact, "--bundle", &npm][..],
            &identity,
        ]
        .concat(),
    );
    assert_exit(&out, 0, "npm document");
    let _ = base64::engine::general_purpose::STANDARD;
}

#[test]
fn gitlab_ci_provenance_follows_the_runner_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(&d.join("data"), &[]);
    let artifact = write(d, "app.tar", "the application");
    let prefix = key_pair(d, "ci");
    let bundle = d.join("provenance.json").display().to_string();
    let mut command = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    command
        .args([
            "attest",
            &artifact,
            "--provenance",
            "--key",
            &format!("{prefix}.key"),
            "--bundle",
            &bundle,
            "--instance",
            &server.url,
        ])
        .env_remove("GITHUB_ACTIONS")
        .env("WAXSEAL_PASSWORD", "pw");
    for (name, value) in [
        ("GITLAB_CI", "true"),
        ("CI_SERVER_URL", "https://gitlab.com"),
        ("CI_PROJECT_PATH", "acme/app"),
        ("CI_PROJECT_URL", "https://gitlab.com/acme/app"),
        ("CI_PROJECT_ID", "42"),
        ("CI_COMMIT_SHA", "8f70009fde0c94ade6ce2a054b94718c819126ec"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_CONFIG_PATH", ".gitlab-ci.yml"),
        ("CI_JOB_ID", "7001"),
        ("CI_JOB_NAME", "build"),
        ("CI_JOB_URL", "https://gitlab.com/acme/app/-/jobs/7001"),
        ("CI_PIPELINE_ID", "900"),
        (
            "CI_PIPELINE_URL",
            "https://gitlab.com/acme/app/-/pipelines/900",
        ),
        ("CI_RUNNER_ID", "12270837"),
        ("CI_RUNNER_VERSION", "17.5.0"),
        ("CI_RUNNER_REVISION", "66a723c3"),
        ("CI_RUNNER_DESCRIPTION", "shared-runner"),
        ("CI_RUNNER_EXECUTABLE_ARCH", "linux/amd64"),
        ("CI_JOB_STARTED_AT", "2026-11-30T10:00:00Z"),
        ("CI_JOB_TOKEN", "glcbt-secret"),
        ("GITLAB_USER_LOGIN", "alice"),
    ] {
        command.env(name, value);
    }
    let out = command.output().unwrap();
    assert_exit(&out, 0, "attest --provenance in GitLab CI");
    let predicate = &provenance_predicate(&server, &artifact, &bundle, &prefix);
    let build_type = predicate["buildDefinition"]["buildType"].as_str().unwrap();
    assert!(
        build_type.starts_with("https://gitlab.com/gitlab-org/gitlab-runner/-/blob/")
            && build_type.ends_with("/PROVENANCE.md"),
        "{build_type}"
    );
    assert_eq!(
        predicate["runDetails"]["builder"]["id"],
        "https://gitlab.com/acme/app/-/runners/12270837"
    );
    let text = predicate.to_string();
    assert!(
        !text.contains("glcbt-secret"),
        "the job token is masked: {text}"
    );
}

#[test]
fn policy_check_of_a_digest_needs_an_image_reference() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let policy = write(d, "p.yaml", &policy("https://issuer.example", "x"));
    let bundle = vectors().join("bcr-module-bazel/MODULE.bazel.intoto.jsonl");
    let digest =
        std::fs::read_to_string(vectors().join("bcr-module-bazel/artifact.sha256")).unwrap();
    let out = waxseal(&[
        "policy",
        "check",
        "--policy",
        &policy,
        &format!("sha256:{}", digest.trim()),
        "--bundle",
        bundle.to_str().unwrap(),
        "--trusted-root",
        vectors()
            .join("roots/production.trusted_root.json")
            .to_str()
            .unwrap(),
    ]);
    assert_exit(&out, 2, "no --image");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--image"),
        "{}",
        text(&out)
    );
    // With one, the real GitHub-signed provenance is evaluated: this policy's identity is not
    // its signer, so it is denied with policy-controller's message.
    let out = waxseal(&[
        "policy",
        "check",
        "--policy",
        &policy,
        &format!("sha256:{}", digest.trim()),
        "--image",
        "registry.example/bazel@sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b",
        "--bundle",
        bundle.to_str().unwrap(),
        "--trusted-root",
        vectors()
            .join("roots/production.trusted_root.json")
            .to_str()
            .unwrap(),
    ]);
    assert_exit(&out, 1, "another signer");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed policy: sbom-and-signer") && stderr.contains("authority alice"),
        "{stderr}"
    );
}

#[test]
fn the_readme_policy_example_is_valid() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut found = 0;
    for block in readme.split("```yaml\n").skip(1) {
        let yaml = block.split("\n```").next().unwrap();
        if !yaml.contains("kind: ClusterImagePolicy") {
            continue;
        }
        found += 1;
        let path = write(dir.path(), &format!("readme-{found}.yaml"), yaml);
        assert_exit(&waxseal(&["policy", "validate", &path]), 0, &path);
    }
    assert!(found > 0, "the README shows a ClusterImagePolicy");
}
