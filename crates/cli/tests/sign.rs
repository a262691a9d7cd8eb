//! `waxseal sign`, `generate-key-pair` and `conformance sign-bundle` against a real
//! `waxseal serve`, each bundle checked by parsing it and by `waxseal verify`.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::support::Server;

use waxseal_bundle::{Bundle, BundleContent, VerificationContent};

fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    for name in [
        "SIGSTORE_ID_TOKEN",
        "WAXSEAL_INSTANCE",
        "WAXSEAL_CLIENT_ID",
        "WAXSEAL_CLIENT_SECRET",
        "WAXSEAL_PASSWORD",
    ] {
        command.env_remove(name);
    }
    command
}

fn waxseal(args: &[&str]) -> Output {
    command().args(args).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_exit(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: stdout {} stderr {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
}

/// The command failed (exit 2) with a message containing `needle`.
fn assert_refused(out: &Output, needle: &str) {
    assert_exit(out, 2, needle);
    assert!(stderr(out).contains(needle), "{needle}: {}", stderr(out));
}

fn read_bundle(path: &Path) -> Bundle {
    Bundle::from_json(&std::fs::read(path).unwrap()).unwrap()
}

/// The bundle is v0.3 with the leaf alone, one entry of `kind`/`version`, one timestamp.
fn check_keyless_bundle(bundle: &Bundle, kind: &str, version: &str, email: &str) {
    assert_eq!(
        bundle.media_type,
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let VerificationContent::Certificate(certificate) = &bundle.verification_material.content
    else {
        panic!("keyless bundles carry the leaf certificate");
    };
    let leaf = waxseal_x509::parse_leaf(&certificate.raw_bytes).unwrap();
    assert_eq!(leaf.san[0].value(), email);
    let entries = &bundle.verification_material.tlog_entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (
            entries[0].kind_version.kind.as_str(),
            entries[0].kind_version.version.as_str()
        ),
        (kind, version)
    );
    assert!(entries[0].inclusion_proof.is_some());
    assert_eq!(entries[0].inclusion_promise.is_some(), version == "0.0.1");
    let timestamps = bundle
        .verification_material
        .timestamp_verification_data
        .as_ref()
        .expect("timestamp verification data");
    assert_eq!(timestamps.rfc3161_timestamps.len(), 1);
}

fn verify_keyless(server: &Server, artifact: &str, bundle: &Path, email: &str) -> Output {
    waxseal(&[
        "verify",
        artifact,
        "--bundle",
        bundle.to_str().unwrap(),
        "--certificate-identity",
        email,
        "--certificate-oidc-issuer",
        &server.url,
        "--trusted-root",
        &server.trust("trusted_root.json"),
    ])
}

#[test]
fn keyless_signing_on_rekor_v1_and_v2_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let email = "alice@example.com";
    let token = server.token("alice", email);
    let artifact = dir.path().join("release.tar.gz");
    std::fs::write(&artifact, b"release contents").unwrap();
    let artifact_arg = artifact.to_str().unwrap();

    for (name, source, version) in [
        (
            "rekor v1 via --instance",
            vec!["--instance", &server.url],
            "0.0.1",
        ),
        (
            "rekor v2 via --trust-config",
            vec![
                "--trust-config",
                &server.trust("client_trust_config.rekor-v2.json"),
            ],
            "0.0.2",
        ),
    ] {
        let bundle = dir.path().join(format!("{version}.sigstore.json"));
        let mut args = vec![
            "sign",
            artifact_arg,
            "--identity-token",
            &token,
            "--bundle",
            bundle.to_str().unwrap(),
        ];
        args.extend(&source);
        let out = waxseal(&args);
        assert_exit(&out, 0, name);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("log index") && stdout.contains(email),
            "{name}: {stdout}"
        );
        let parsed = read_bundle(&bundle);
        check_keyless_bundle(&parsed, "hashedrekord", version, email);
        assert!(matches!(parsed.content, BundleContent::MessageSignature(_)));
        assert_exit(
            &verify_keyless(&server, artifact_arg, &bundle, email),
            0,
            name,
        );
        assert_exit(
            &verify_keyless(&server, artifact_arg, &bundle, "mallory@example.com"),
            1,
            &format!("{name}: wrong identity"),
        );
    }

    // A digest signs as a prehash; the default bundle path is next to the input.
    let digest = format!(
        "sha256:{}",
        hex::encode(waxseal_crypto::sha256(b"release contents"))
    );
    let out = command()
        .current_dir(dir.path())
        .env("SIGSTORE_ID_TOKEN", &token)
        .args(["sign", &digest, "--instance", &server.url])
        .output()
        .unwrap();
    assert_exit(&out, 0, "digest");
    let bundle = dir
        .path()
        .join(format!("{}.sigstore.json", digest.replace(':', "-")));
    check_keyless_bundle(&read_bundle(&bundle), "hashedrekord", "0.0.1", email);
    assert_exit(
        &verify_keyless(&server, artifact_arg, &bundle, email),
        0,
        "digest",
    );
    std::fs::write(&artifact, b"tampered").unwrap();
    assert_exit(
        &verify_keyless(&server, artifact_arg, &bundle, email),
        1,
        "tampered artifact",
    );
}

#[test]
fn in_toto_statements_sign_as_dsse_on_both_logs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let email = "builder@example.com";
    let token = server.token("builder", email);
    let artifact = dir.path().join("app");
    std::fs::write(&artifact, b"app binary").unwrap();
    let statement = dir.path().join("statement.json");
    std::fs::write(
        &statement,
        serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app", "digest": {"sha256": hex::encode(waxseal_crypto::sha256(b"app binary"))}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {"buildDefinition": {"buildType": "https://example.com/build"}},
        })
        .to_string(),
    )
    .unwrap();
    for (config, kind, version) in [
        ("client_trust_config.rekor-v1.json", "dsse", "0.0.1"),
        ("client_trust_config.rekor-v2.json", "hashedrekord", "0.0.2"),
    ] {
        let bundle = dir.path().join(format!("{config}.sigstore.json"));
        let out = waxseal(&[
            "sign",
            statement.to_str().unwrap(),
            "--in-toto",
            "--identity-token",
            &token,
            "--trust-config",
            &server.trust(config),
            "--bundle",
            bundle.to_str().unwrap(),
        ]);
        assert_exit(&out, 0, config);
        let parsed = read_bundle(&bundle);
        check_keyless_bundle(&parsed, kind, version, email);
        let BundleContent::DsseEnvelope(envelope) = &parsed.content else {
            panic!("{config}: a DSSE envelope");
        };
        assert_eq!(envelope.payload_type, "application/vnd.in-toto+json");
        assert_eq!(envelope.payload, std::fs::read(&statement).unwrap());
        assert_exit(
            &verify_keyless(&server, artifact.to_str().unwrap(), &bundle, email),
            0,
            config,
        );
    }
    // Not a statement: refused before anything is sent.
    let out = waxseal(&[
        "sign",
        artifact.to_str().unwrap(),
        "--in-toto",
        "--identity-token",
        &token,
        "--instance",
        &server.url,
    ]);
    assert_refused(&out, "not an in-toto statement");
}

#[test]
fn managed_keys_sign_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let prefix = dir.path().join("release");
    let prefix = prefix.to_str().unwrap();
    let generate = || {
        command()
            .env("WAXSEAL_PASSWORD", "hunter2 hunter2")
            .args(["generate-key-pair", "--output-key-prefix", prefix])
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    assert_exit(&generate(), 0, "generate-key-pair");
    let key = format!("{prefix}.key");
    let public = format!("{prefix}.pub");
    let key_text = std::fs::read_to_string(&key).unwrap();
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED WAXSEAL PRIVATE KEY-----"));
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = generate();
    assert_refused(&again, "refusing to overwrite");

    let artifact = dir.path().join("file.txt");
    std::fs::write(&artifact, b"signed with a key").unwrap();
    let artifact = artifact.to_str().unwrap();
    for config in [
        "client_trust_config.rekor-v1.json",
        "client_trust_config.rekor-v2.json",
    ] {
        let bundle = dir.path().join(format!("{config}.sigstore.json"));
        let out = command()
            .env("WAXSEAL_PASSWORD", "hunter2 hunter2")
            .args([
                "sign",
                artifact,
                "--key",
                &key,
                "--trust-config",
                &server.trust(config),
                "--bundle",
                bundle.to_str().unwrap(),
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_exit(&out, 0, config);
        let parsed = read_bundle(&bundle);
        assert!(
            matches!(
                parsed.verification_material.content,
                VerificationContent::PublicKey(_)
            ),
            "{config}"
        );
        assert_eq!(parsed.verification_material.tlog_entries.len(), 1);
        let verify = waxseal(&[
            "verify",
            artifact,
            "--bundle",
            bundle.to_str().unwrap(),
            "--key",
            &public,
            "--trusted-root",
            &server.trust("trusted_root.json"),
        ]);
        assert_exit(&verify, 0, config);
    }
    let wrong = command()
        .env("WAXSEAL_PASSWORD", "wrong")
        .args(["sign", artifact, "--key", &key, "--instance", &server.url])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_refused(&wrong, "wrong passphrase");
}

#[test]
fn conformance_sign_bundle_takes_a_trusted_root_and_signing_config() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let email = "conformance@example.com";
    let token = server.token("conformance", email);
    let artifact = dir.path().join("a.txt");
    std::fs::write(&artifact, b"conformance").unwrap();
    let bundle = dir.path().join("a.sigstore.json");
    let out = waxseal(&[
        "conformance",
        "sign-bundle",
        "--identity-token",
        &token,
        "--bundle",
        bundle.to_str().unwrap(),
        "--trusted-root",
        &server.trust("trusted_root.json"),
        "--signing-config",
        &server.trust("signing_config.rekor-v2.json"),
        artifact.to_str().unwrap(),
    ]);
    assert_exit(&out, 0, "sign-bundle");
    check_keyless_bundle(&read_bundle(&bundle), "hashedrekord", "0.0.2", email);
    let verify = waxseal(&[
        "conformance",
        "verify-bundle",
        "--bundle",
        bundle.to_str().unwrap(),
        "--certificate-identity",
        email,
        "--certificate-oidc-issuer",
        &server.url,
        "--trusted-root",
        &server.trust("trusted_root.json"),
        artifact.to_str().unwrap(),
    ]);
    assert_exit(&verify, 0, "verify-bundle");
}

#[test]
fn client_credentials_and_errors_name_the_stage() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("oidc-clients.json"),
        serde_json::json!([{
            "client_id": "ci",
            "secret_sha256": hex::encode(waxseal_crypto::sha256(b"s3cret&=")),
            "subject": "ci-robot",
            "email": "ci@example.com",
        }])
        .to_string(),
    )
    .unwrap();
    let server = Server::start(&data, &[]);
    let artifact = dir.path().join("b.txt");
    std::fs::write(&artifact, b"by a service account").unwrap();
    let artifact = artifact.to_str().unwrap();
    let bundle = dir.path().join("b.sigstore.json");
    let out = command()
        .env("WAXSEAL_CLIENT_SECRET", "s3cret&=")
        .args([
            "sign",
            artifact,
            "--client-id",
            "ci",
            "--instance",
            &server.url,
            "--bundle",
            bundle.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_exit(&out, 0, "client credentials");
    check_keyless_bundle(
        &read_bundle(&bundle),
        "hashedrekord",
        "0.0.1",
        "ci@example.com",
    );

    let cases: &[(&str, Vec<&str>, &str)] = &[
        (
            "wrong secret",
            vec![
                "--client-id",
                "ci",
                "--client-secret",
                "nope",
                "--instance",
                &server.url,
            ],
            "getting an identity token",
        ),
        (
            "no token",
            vec!["--instance", &server.url],
            "no identity token",
        ),
        (
            "no instance",
            vec![
                "--identity-token",
                "a.b.c",
                "--instance",
                "http://127.0.0.1:9",
            ],
            "fetching the trust config",
        ),
        (
            "token the CA refuses",
            vec![
                "--identity-token",
                "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2V2aWwiLCJzdWIiOiJ4In0.c2ln",
                "--instance",
                &server.url,
            ],
            "getting a signing certificate",
        ),
    ];
    for (name, extra, want) in cases {
        let mut args = vec!["sign", artifact];
        args.extend(extra);
        let out = waxseal(&args);
        assert_exit(&out, 2, name);
        assert!(stderr(&out).contains(want), "{name}: {}", stderr(&out));
    }
}
