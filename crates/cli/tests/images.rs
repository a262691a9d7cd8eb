//! Container images against a real registry (Debian's `docker-registry`, distribution 2.8:
//! no referrers API, so the referrers-tag fallback is what runs) and a real `waxseal serve`:
//! `sign IMAGE` in both formats, `verify IMAGE`, `attest IMAGE`, `verify-attestation IMAGE`,
//! `policy check IMAGE`, `tree`, `download`, every case of shared/vectors/oci-legacy pushed
//! into the registry, and Basic auth with htpasswd. Test images are built here (random blobs
//! and a manifest), never pulled.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use waxseal_oci::{Descriptor, Digest, LegacySignature, Manifest, Reference, legacy_manifest};
use waxseal_registry::testing::{LocalRegistry, push_random_image, push_random_index};
use waxseal_registry::{Client, ClientConfig, Credentials};

use crate::support::{Server, assert_exit, delete_manifest, text, waxseal};

#[track_caller]
fn assert_stderr(out: &Output, needle: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(needle),
        "{what}: expected {needle:?} in {}",
        text(out)
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn client() -> Client {
    Client::new(ClientConfig::default()).unwrap()
}

/// A registry, an instance, a token, and helpers around them.
struct World {
    registry: LocalRegistry,
    server: Server,
    token: String,
    trust_config: String,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(&dir.path().join("data"), &[]);
        let token = server.token("alice", "alice@example.com");
        let trust_config = server.trust("client_trust_config.json");
        Self {
            registry: LocalRegistry::start().unwrap(),
            server,
            token,
            trust_config,
            rt: runtime(),
            _dir: dir,
        }
    }

    /// A new random image pushed as `repo:tag`; returns `host/repo@digest` and the digest.
    fn image(&self, repo: &str) -> (String, Digest) {
        let reference = self.registry.reference(&format!("{repo}:v1"));
        let fetched = self
            .rt
            .block_on(push_random_image(&client(), &reference))
            .unwrap();
        (
            format!("{}/{repo}@{}", self.registry.host(), fetched.digest),
            fetched.digest,
        )
    }

    fn sign(&self, image: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "sign",
            image,
            "--identity-token",
            &self.token,
            "--trust-config",
            &self.trust_config,
        ];
        args.extend_from_slice(extra);
        waxseal(&args)
    }

    fn identity(&self) -> Vec<String> {
        vec![
            "--certificate-identity".into(),
            "alice@example.com".into(),
            "--certificate-oidc-issuer".into(),
            self.server.url.clone(),
            "--trust-config".into(),
            self.trust_config.clone(),
        ]
    }

    fn verify(&self, image: &str, extra: &[&str]) -> Output {
        let mut args: Vec<String> = vec!["verify".into(), image.into()];
        args.extend(self.identity());
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        waxseal(&args)
    }

    fn get_manifest(&self, reference: &str) -> Option<Vec<u8>> {
        let reference = Reference::parse(reference).unwrap();
        self.rt
            .block_on(client().get_manifest(&reference))
            .unwrap()
            .map(|m| m.bytes)
    }

    fn put_manifest(&self, repo: &str, tag: &str, media_type: &str, bytes: &[u8]) {
        let reference = self.registry.reference(repo);
        self.rt
            .block_on(client().put_manifest(&reference, tag, media_type, bytes))
            .unwrap();
    }

    fn push_blob(&self, repo: &str, bytes: &[u8]) {
        let reference = self.registry.reference(repo);
        self.rt
            .block_on(client().push_blob(&reference, bytes))
            .unwrap();
    }
}

fn json_stdout(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn sign_verify_tree_download_in_cosign_v3_format() {
    let w = World::new();
    let (image, digest) = w.image("app");
    let out = w.sign(&image, &["-a", "team=payments"]);
    assert_exit(&out, 0, "sign");

    // The referrer is listed under the fallback tag, with cosign's layout.
    let index: Value = serde_json::from_slice(
        &w.get_manifest(&format!(
            "{}/app:{}",
            w.registry.host(),
            waxseal_oci::fallback_tag(&digest)
        ))
        .expect("the fallback tag exists"),
    )
    .unwrap();
    assert_eq!(index["schemaVersion"], 2);
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let referrer: Value = serde_json::from_slice(
        &w.get_manifest(&format!(
            "{}/app@{}",
            w.registry.host(),
            entry["digest"].as_str().unwrap()
        ))
        .unwrap(),
    )
    .unwrap();
    assert_eq!(referrer["subject"]["digest"], digest.to_string());
    assert_eq!(
        referrer["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(
        referrer["annotations"]["dev.sigstore.bundle.content"],
        "dsse-envelope"
    );

    let out = w.verify(&image, &[]);
    assert_exit(&out, 0, "verify");
    let payloads = json_stdout(&out);
    assert_eq!(payloads.as_array().unwrap().len(), 1);
    assert_eq!(
        payloads[0]["critical"]["image"]["docker-manifest-digest"],
        digest.to_string()
    );
    assert_eq!(
        payloads[0]["critical"]["type"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(payloads[0]["optional"]["Subject"], "alice@example.com");
    assert_eq!(payloads[0]["optional"]["team"], "payments");
    assert_stderr(&out, "The cosign claims were validated", "verify");

    // cosign's -a on verify: the signed annotation must be there.
    assert_exit(&w.verify(&image, &["-a", "team=payments"]), 0, "-a match");
    let out = w.verify(&image, &["-a", "team=billing"]);
    assert_exit(&out, 1, "-a mismatch");
    assert_stderr(&out, "team=billing", "-a mismatch");

    // A wrong identity is refused at the policy stage, naming it.
    let mut args: Vec<String> = vec!["verify".into(), image.clone()];
    args.extend([
        "--certificate-identity".into(),
        "mallory@example.com".into(),
        "--certificate-oidc-issuer".into(),
        w.server.url.clone(),
        "--trust-config".into(),
        w.trust_config.clone(),
    ]);
    let out = waxseal(&args);
    assert_exit(&out, 1, "wrong identity");
    assert_stderr(&out, "verification failed at policy", "wrong identity");

    // An unsigned image: exit 1, saying what was looked for.
    let (unsigned, _) = w.image("other");
    let out = w.verify(&unsigned, &[]);
    assert_exit(&out, 1, "unsigned");
    assert_stderr(&out, "no signatures found", "unsigned");

    // tree shows the referrer.
    let out = waxseal(&["tree", &image]);
    assert_exit(&out, 0, "tree");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("signature (sigstore bundle, https://sigstore.dev/cosign/sign/v1)"),
        "{stdout}"
    );

    // download + verify offline with verify --bundle over the image digest.
    let out = waxseal(&["download", "signature", &image]);
    assert_exit(&out, 0, "download");
    let bundle_path = w._dir.path().join("downloaded.sigstore.json");
    std::fs::write(&bundle_path, &out.stdout).unwrap();
    let mut args: Vec<String> = vec![
        "verify".into(),
        digest.to_string(),
        "--bundle".into(),
        bundle_path.display().to_string(),
    ];
    args.extend(w.identity());
    assert_exit(
        &waxseal(&args),
        0,
        "offline verify of the downloaded bundle",
    );
}

/// A managed key instead of a certificate, in both formats.
#[test]
fn sign_and_verify_an_image_with_a_managed_key() {
    let w = World::new();
    let prefix = w._dir.path().join("release");
    let prefix = prefix.to_str().unwrap();
    let mut keygen = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    keygen
        .args(["generate-key-pair", "--output-key-prefix", prefix])
        .env("WAXSEAL_PASSWORD", "pw");
    assert!(keygen.output().unwrap().status.success());
    let (image, _) = w.image("keyed");
    for format in ["bundle", "legacy"] {
        let mut sign = Command::new(env!("CARGO_BIN_EXE_waxseal"));
        sign.args(["sign", &image, "--key", &format!("{prefix}.key")])
            .args([
                "--signature-format",
                format,
                "--trust-config",
                &w.trust_config,
            ])
            .env("WAXSEAL_PASSWORD", "pw")
            .env_remove("SIGSTORE_ID_TOKEN");
        let out = sign.output().unwrap();
        assert_exit(&out, 0, format);
    }
    let verify = |key: &str| {
        waxseal(&[
            "verify",
            &image,
            "--key",
            key,
            "--trust-config",
            &w.trust_config,
            "-o",
            "text",
        ])
    };
    let out = verify(&format!("{prefix}.pub"));
    assert_exit(&out, 0, "verify --key");
    // Both signatures verified: the statement and the simple signing payload.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert_stderr(
        &out,
        "verified against the specified public key",
        "key checks",
    );
    let other = w._dir.path().join("other");
    let mut keygen = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    keygen
        .args([
            "generate-key-pair",
            "--output-key-prefix",
            other.to_str().unwrap(),
        ])
        .env("WAXSEAL_PASSWORD", "pw");
    assert!(keygen.output().unwrap().status.success());
    let out = verify(&format!("{}.pub", other.display()));
    assert_exit(&out, 1, "another key");
}

#[test]
fn sign_by_tag_warns_and_signs_the_digest_recursive_signs_an_index() {
    let w = World::new();
    let (_, digest) = w.image("tagged");
    let tagged = format!("{}/tagged:v1", w.registry.host());
    let out = w.sign(&tagged, &[]);
    assert_exit(&out, 0, "sign by tag");
    assert_stderr(&out, &digest.to_string(), "the warning names the digest");
    assert_exit(&w.verify(&tagged, &[]), 0, "verify by tag");

    let reference = w.registry.reference("multi:v1");
    let index =
        w.rt.block_on(push_random_index(&client(), &reference))
            .unwrap();
    let children = match waxseal_oci::ManifestDocument::parse(None, &index.bytes).unwrap() {
        waxseal_oci::ManifestDocument::Index(i) => i.manifests,
        _ => panic!("not an index"),
    };
    assert_eq!(children.len(), 2);
    let index_ref = format!("{}/multi@{}", w.registry.host(), index.digest);
    assert_exit(&w.sign(&index_ref, &["--recursive"]), 0, "sign --recursive");
    assert_exit(&w.verify(&index_ref, &[]), 0, "the index");
    for child in &children {
        let child_ref = format!("{}/multi@{}", w.registry.host(), child.digest);
        assert_exit(&w.verify(&child_ref, &[]), 0, "a platform manifest");
    }
}

/// Legacy `.sig` layers written by waxseal: verify, then the tampering cases.
#[test]
fn legacy_signatures_and_their_tampering() {
    let w = World::new();
    let (image, digest) = w.image("legacy");
    let out = w.sign(&image, &["--signature-format", "legacy"]);
    assert_exit(&out, 0, "sign legacy");
    let sig_tag = format!(
        "{}/legacy:{}",
        w.registry.host(),
        waxseal_oci::legacy_tag(&digest, waxseal_oci::Kind::Signature)
    );
    let sig_manifest = w.get_manifest(&sig_tag).expect("the .sig tag");
    let manifest = match waxseal_oci::ManifestDocument::parse(None, &sig_manifest).unwrap() {
        waxseal_oci::ManifestDocument::Manifest(m) => m,
        _ => panic!("not a manifest"),
    };
    let layer = &manifest.layers[0];
    assert_eq!(
        layer.media_type,
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    for key in [
        "dev.cosignproject.cosign/signature",
        "dev.sigstore.cosign/certificate",
        "dev.sigstore.cosign/bundle",
    ] {
        assert!(layer.annotations.contains_key(key), "{key}");
    }
    let out = w.verify(&image, &[]);
    assert_exit(&out, 0, "verify legacy");
    let payloads = json_stdout(&out);
    assert_eq!(
        payloads[0]["critical"]["type"],
        "cosign container image signature"
    );
    assert_eq!(payloads[0]["optional"]["Issuer"], w.server.url);
    assert!(payloads[0]["optional"]["Bundle"]["logIndex"].is_number());

    // A second legacy signature is appended to the same tag.
    assert_exit(
        &w.sign(&image, &["--signature-format", "legacy", "-a", "n=2"]),
        0,
        "second",
    );
    let again = w.get_manifest(&sig_tag).unwrap();
    let Ok(waxseal_oci::ManifestDocument::Manifest(two)) =
        waxseal_oci::ManifestDocument::parse(None, &again)
    else {
        panic!("not a manifest")
    };
    assert_eq!(two.layers.len(), 2);

    let payload =
        w.rt.block_on(client().get_blob(&w.registry.reference("legacy"), layer))
            .unwrap();
    let original = LegacySignature::from_layer(layer, payload.clone()).unwrap();

    // Tampered payload: a different payload under the same annotations.
    let (victim, victim_digest) = w.image("victim");
    let mut tampered = original.clone();
    tampered.payload = String::from_utf8(payload.clone())
        .unwrap()
        .replace(
            "cosign container image signature",
            "cosign container image signaturf",
        )
        .into_bytes();
    push_sig(
        &w,
        "victim",
        &victim_digest,
        &[tampered.to_descriptor()],
        &[&tampered],
    );
    let out = w.verify(&victim, &[]);
    assert_exit(&out, 1, "tampered payload");
    assert_stderr(&out, "verification failed at", "tampered payload");

    // The untouched signature of `legacy` copied to another image: the digest claim fails.
    let (other, other_digest) = w.image("copied");
    push_sig(
        &w,
        "copied",
        &other_digest,
        &[original.to_descriptor()],
        &[&original],
    );
    let out = w.verify(&other, &[]);
    assert_exit(&out, 1, "signature for another image");
    assert_stderr(&out, &digest.to_string(), "names the signed digest");
    assert_stderr(&out, &other_digest.to_string(), "names the image");

    // A stripped layer: the signature annotation removed.
    let (stripped, stripped_digest) = w.image("stripped");
    let mut descriptor = original.to_descriptor();
    descriptor
        .annotations
        .remove("dev.cosignproject.cosign/signature");
    push_sig(
        &w,
        "stripped",
        &stripped_digest,
        &[descriptor],
        &[&original],
    );
    let out = w.verify(&stripped, &[]);
    assert_exit(&out, 1, "stripped layer");
    assert_stderr(
        &out,
        "dev.cosignproject.cosign/signature",
        "names the annotation",
    );
}

/// Pushes a `.sig` manifest with `layers` (payload blobs from `signatures`) for `digest`.
fn push_sig(
    w: &World,
    repo: &str,
    digest: &Digest,
    layers: &[Descriptor],
    signatures: &[&LegacySignature],
) {
    for s in signatures {
        w.push_blob(repo, &s.payload);
    }
    let (manifest, config): (Manifest, Vec<u8>) = legacy_manifest(layers.to_vec());
    w.push_blob(repo, &config);
    w.put_manifest(
        repo,
        &waxseal_oci::legacy_tag(digest, waxseal_oci::Kind::Signature),
        "application/vnd.oci.image.manifest.v1+json",
        &manifest.to_json(),
    );
}

#[test]
fn attest_and_verify_attestation_and_policy_check_on_an_image() {
    let w = World::new();
    let (image, digest) = w.image("attested");
    let predicate = w._dir.path().join("predicate.json");
    std::fs::write(&predicate, r#"{"scanner":{"uri":"pkg:github/aquasecurity/trivy","version":"0.50.0","result":[]},"metadata":{"scanStartedOn":"2026-01-01T00:00:00Z","scanFinishedOn":"2026-01-01T00:01:00Z"}}"#).unwrap();
    let out = waxseal(&[
        "attest",
        &image,
        "--predicate",
        predicate.to_str().unwrap(),
        "--type",
        "vuln",
        "--identity-token",
        &w.token,
        "--trust-config",
        &w.trust_config,
    ]);
    assert_exit(&out, 0, "attest");
    assert_exit(&w.sign(&image, &[]), 0, "sign");

    let verify_att = |extra: &[&str]| {
        let mut args: Vec<String> = vec!["verify-attestation".into(), image.clone()];
        args.extend(w.identity());
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        waxseal(&args)
    };
    let out = verify_att(&["--type", "vuln", "-o", "json"]);
    assert_exit(&out, 0, "verify-attestation");
    let line: Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        line["predicateType"],
        "https://cosign.sigstore.dev/attestation/vuln/v1"
    );
    assert_eq!(
        line["statement"]["subject"][0]["digest"]["sha256"],
        digest.hex()
    );
    let out = verify_att(&["--type", "slsaprovenance1"]);
    assert_exit(&out, 1, "another type");
    assert_stderr(
        &out,
        "none of the attestations matched the predicate type",
        "type",
    );

    // A policy asking for the signature and the vuln attestation by this identity.
    let policy = w._dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            r#"apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: attested
spec:
  images:
  - glob: "{host}/**"
  authorities:
  - name: signed
    keyless:
      identities:
      - issuer: {issuer}
        subject: alice@example.com
  - name: scanned
    keyless:
      identities:
      - issuer: {issuer}
        subject: alice@example.com
    attestations:
    - name: has-vuln
      predicateType: vuln
"#,
            host = w.registry.host(),
            issuer = w.server.url
        ),
    )
    .unwrap();
    let check = |target: &str| {
        waxseal(&[
            "policy",
            "check",
            target,
            "--policy",
            policy.to_str().unwrap(),
            "--trust-config",
            &w.trust_config,
        ])
    };
    assert_exit(&check(&image), 0, "policy check IMAGE");
    let (bare, _) = w.image("bare");
    let out = check(&bare);
    assert_exit(&out, 1, "policy check of an unsigned image");
}

/// Every case of shared/vectors/oci-legacy, pushed into the registry under its image digest
/// (the fixtures hold the image manifest, not its layers: only the signature material and the
/// digest are needed), verified with `waxseal verify REPO@DIGEST --key`.
#[test]
fn oci_legacy_vectors_from_the_registry() {
    let w = World::new();
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/oci-legacy"
    ));
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for (i, case) in cases.iter().enumerate() {
        let id = case["id"].as_str().unwrap();
        let image_manifest =
            std::fs::read(dir.join(case["files"]["manifest"].as_str().unwrap())).unwrap();
        let digest = Digest::of(&image_manifest);
        let repo = format!("vectors/case{i}");
        let signatures: Vec<LegacySignature> = case["files"]["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                LegacySignature::from_containers_image_file(
                    &std::fs::read(dir.join(f.as_str().unwrap())).unwrap(),
                )
                .unwrap()
            })
            .collect();
        let layers: Vec<Descriptor> = signatures
            .iter()
            .map(LegacySignature::to_descriptor)
            .collect();
        push_sig(
            &w,
            &repo,
            &digest,
            &layers,
            &signatures.iter().collect::<Vec<_>>(),
        );

        let trust = &case["trust"];
        let rekor_keys: Vec<&str> = trust["rekor_public_keys"]
            .as_array()
            .map(|a| a.iter().map(|k| k.as_str().unwrap()).collect())
            .unwrap_or_default();
        let root = trusted_root_with_logs(w._dir.path(), &dir, &rekor_keys, i);
        let reference = format!("{}/{repo}@{digest}", w.registry.host());
        let mut passed = false;
        let mut outputs = Vec::new();
        for key in trust["public_keys"].as_array().unwrap() {
            let key = dir.join(key.as_str().unwrap());
            let mut args = vec![
                "verify".to_owned(),
                reference.clone(),
                "--key".to_owned(),
                key.display().to_string(),
                "--trusted-root".to_owned(),
                root.display().to_string(),
            ];
            if rekor_keys.is_empty() {
                args.push("--insecure-ignore-tlog".to_owned());
            }
            let out = waxseal(&args);
            assert!(
                matches!(out.status.code(), Some(0 | 1)),
                "{id}: {}",
                text(&out)
            );
            passed |= out.status.success();
            outputs.push(text(&out));
        }
        let expected = case["expected_result"].as_str().unwrap() == "pass";
        assert_eq!(passed, expected, "{id}: {}", outputs.join("\n"));
    }
}

/// A trusted root whose transparency logs are `keys` (PEM files under `vectors`), and no CA.
fn trusted_root_with_logs(out: &Path, vectors: &Path, keys: &[&str], n: usize) -> PathBuf {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let tlogs: Vec<Value> = keys
        .iter()
        .map(|k| {
            let pem = std::fs::read_to_string(vectors.join(k)).unwrap();
            let key = waxseal_crypto::PublicKey::from_pem(&pem).unwrap();
            let der = key.spki_der();
            serde_json::json!({
                "baseUrl": "https://rekor.example",
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64.encode(der),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": { "start": "2020-01-01T00:00:00Z" }
                },
                "logId": { "keyId": b64.encode(waxseal_crypto::sha256(der)) }
            })
        })
        .collect();
    let root = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": tlogs,
        "certificateAuthorities": [],
        "ctlogs": [],
        "timestampAuthorities": []
    });
    let path = out.join(format!("vector-root-{n}.json"));
    std::fs::write(&path, serde_json::to_vec(&root).unwrap()).unwrap();
    path
}

#[test]
fn basic_auth_with_htpasswd() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let token = server.token("alice", "alice@example.com");
    let trust_config = server.trust("client_trust_config.json");
    let registry = LocalRegistry::start_with_htpasswd("ci", "s3cret").unwrap();
    let rt = runtime();
    let authed = Client::new(ClientConfig {
        credentials: Some(Credentials {
            username: "ci".into(),
            password: "s3cret".into(),
        }),
        ..ClientConfig::default()
    })
    .unwrap();
    let fetched = rt
        .block_on(push_random_image(
            &authed,
            &registry.reference("private:v1"),
        ))
        .unwrap();
    let image = format!("{}/private@{}", registry.host(), fetched.digest);
    let sign = |extra: &[&str]| {
        let mut args = vec![
            "sign",
            &image,
            "--identity-token",
            &token,
            "--trust-config",
            &trust_config,
        ];
        args.extend_from_slice(extra);
        waxseal(&args)
    };
    let out = sign(&[]);
    assert_exit(&out, 2, "no credentials");
    assert_stderr(&out, "registry-username", "says how to give credentials");
    let creds = ["--registry-username", "ci", "--registry-password", "s3cret"];
    assert_exit(&sign(&creds), 0, "with credentials");
    let mut args = vec![
        "verify",
        &image,
        "--certificate-identity",
        "alice@example.com",
        "--certificate-oidc-issuer",
        &server.url,
        "--trust-config",
        &trust_config,
    ];
    args.extend_from_slice(&creds);
    assert_exit(&waxseal(&args), 0, "verify with credentials");
    let out = waxseal(&args[..args.len() - 4]);
    assert_exit(
        &out,
        2,
        "verify without credentials is an error, never a pass",
    );
}

/// A referrers index listing a manifest the registry no longer has (deleted after it was
/// listed: docker-registry refuses to store an index whose entries are missing): reported by
/// digest, never a pass by itself; the next writer drops the entry that refers to nothing
/// (the registry would refuse the index otherwise) and adds its own.
#[test]
fn a_referrers_index_pointing_at_missing_manifests() {
    let w = World::new();
    let (image, digest) = w.image("dangling");
    assert_exit(&w.sign(&image, &[]), 0, "sign");
    let fallback = format!(
        "{}/dangling:{}",
        w.registry.host(),
        waxseal_oci::fallback_tag(&digest)
    );
    let listed: Value = serde_json::from_slice(&w.get_manifest(&fallback).unwrap()).unwrap();
    let missing = listed["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_owned();
    delete_manifest(w.registry.host(), "dangling", &missing);

    let out = w.verify(&image, &[]);
    assert_exit(&out, 1, "only a dangling referrer");
    assert_stderr(&out, &missing, "names the missing referrer");
    assert_stderr(
        &out,
        "listed but the registry does not have it",
        "says what is wrong",
    );

    // Signing again replaces the dangling entry with its own; verify then passes.
    assert_exit(&w.sign(&image, &[]), 0, "sign again");
    let listed: Value = serde_json::from_slice(&w.get_manifest(&fallback).unwrap()).unwrap();
    let entries = listed["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_ne!(entries[0]["digest"], missing.as_str());
    assert_exit(&w.verify(&image, &[]), 0, "verify after signing again");
}
