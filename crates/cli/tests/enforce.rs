//! `waxseal enforce`: the admission webhook over real HTTPS with AdmissionReview bodies in the
//! shape the API server sends, images in a real registry (Debian's docker-registry) signed and
//! attested by a real `waxseal serve`; `enforce manifests`; and the drift test of `enforce
//! watch` (a signature deleted, the policy tightened, the trusted root replaced, a scan aged
//! out, each reported within one interval and back when restored).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use waxseal_oci::{Digest, Reference};
use waxseal_registry::testing::{LocalRegistry, push_random_image};
use waxseal_registry::{Client, ClientConfig};

use crate::support::{Lines, Server, delete_manifest, no_docker_config, text, waxseal};

/// A CA (`ca.crt`) and a server certificate it issued for 127.0.0.1 and localhost
/// (`tls.crt`, `tls.key`), made with openssl. Returns the certificate and key paths.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "1",
                "-subj",
                "/CN=waxseal test CA",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"][..],
            &ec,
            &[
                "-keyout",
                "tls.key",
                "-out",
                "tls.csr",
                "-subj",
                "/CN=waxseal-enforce",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "tls.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        "tls.crt",
        "-extfile",
        "leaf.ext",
    ]);
    (dir.join("tls.crt"), dir.join("tls.key"))
}

/// `waxseal ARGS...` as a long-running child, its stdout read line by line.
fn start(args: &[String]) -> Lines {
    let mut command = Command::new(env!("CARGO_BIN_EXE_waxseal"));
    command
        .args(args)
        .env("DOCKER_CONFIG", no_docker_config())
        .env("RUST_LOG", "warn");
    Lines::spawn(command)
}

struct World {
    registry: LocalRegistry,
    server: Server,
    token: String,
    trust_config: String,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
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
            rt: tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap(),
            dir,
        }
    }

    /// A new image `repo:v1`; returns (`host/repo:v1`, `host/repo@digest`, digest).
    fn image(&self, repo: &str) -> (String, String, Digest) {
        let reference = self.registry.reference(&format!("{repo}:v1"));
        let client = Client::new(ClientConfig::default()).unwrap();
        let fetched = self
            .rt
            .block_on(push_random_image(&client, &reference))
            .unwrap();
        let host = self.registry.host();
        (
            format!("{host}/{repo}:v1"),
            format!("{host}/{repo}@{}", fetched.digest),
            fetched.digest,
        )
    }

    fn sign(&self, image: &str) {
        let out = waxseal(&[
            "sign",
            image,
            "--identity-token",
            &self.token,
            "--trust-config",
            &self.trust_config,
        ]);
        assert!(out.status.success(), "sign: {}", text(&out));
    }

    fn attest_scan(&self, image: &str, finished: &str) {
        let predicate = self.dir.path().join("scan.json");
        std::fs::write(
            &predicate,
            json!({
                "scanner": { "uri": "pkg:github/aquasecurity/trivy", "version": "0.50.0", "result": [] },
                "metadata": { "scanStartedOn": finished, "scanFinishedOn": finished },
            })
            .to_string(),
        )
        .unwrap();
        let out = waxseal(&[
            "attest",
            image,
            "--predicate",
            predicate.to_str().unwrap(),
            "--type",
            "vuln",
            "--identity-token",
            &self.token,
            "--trust-config",
            &self.trust_config,
        ]);
        assert!(out.status.success(), "attest: {}", text(&out));
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A policy for every image of this registry signed by `subject`, in `mode`, plus
    /// `extra` YAML appended to the authorities list.
    fn policy(&self, subject: &str, mode: &str) -> String {
        format!(
            r#"apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: signed-by-alice
spec:
  mode: {mode}
  images:
  - glob: "{host}/**"
  authorities:
  - name: alice
    keyless:
      identities:
      - issuer: {issuer}
        subject: {subject}
"#,
            host = self.registry.host(),
            issuer = self.server.url,
        )
    }
}

/// An AdmissionReview as the API server sends it.
fn review(
    kind: (&str, &str, &str),
    resource: &str,
    object: Value,
    operation: &str,
    dry_run: bool,
) -> Value {
    let (group, version, kind) = kind;
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("{:x}", rand_u64()),
            "kind": { "group": group, "version": version, "kind": kind },
            "resource": { "group": group, "version": version, "resource": resource },
            "requestKind": { "group": group, "version": version, "kind": kind },
            "requestResource": { "group": group, "version": version, "resource": resource },
            "name": "web",
            "namespace": "prod",
            "operation": operation,
            "userInfo": { "username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"] },
            "object": object,
            "oldObject": if operation == "UPDATE" { object_clone(&object) } else { Value::Null },
            "dryRun": dry_run,
            "options": { "apiVersion": "meta.k8s.io/v1", "kind": if operation == "UPDATE" { "UpdateOptions" } else { "CreateOptions" } },
        }
    })
}

fn object_clone(v: &Value) -> Value {
    v.clone()
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

fn pod_spec(images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({ "name": format!("c{i}"), "image": image, "resources": {} }))
        .collect();
    json!({ "containers": containers, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst" })
}

fn pod(images: &[&str]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": "web", "namespace": "prod", "labels": { "app": "web" } },
        "spec": pod_spec(images),
    })
}

fn deployment(images: &[&str]) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": "web", "namespace": "prod" },
        "spec": {
            "replicas": 3,
            "selector": { "matchLabels": { "app": "web" } },
            "template": { "metadata": { "labels": { "app": "web" } }, "spec": pod_spec(images) },
        },
    })
}

fn cronjob(images: &[&str]) -> Value {
    json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": { "name": "web", "namespace": "prod" },
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": { "spec": { "template": { "spec": {
                "restartPolicy": "OnFailure",
                "containers": pod_spec(images)["containers"].clone(),
            } } } },
        },
    })
}

/// The webhook, started on a free port; `https://127.0.0.1:PORT`.
fn start_webhook(w: &World, policy: &Path, extra: &[&str]) -> (Lines, String) {
    let (cert, key) = certificate(w.dir.path());
    let mut args: Vec<String> = vec![
        "enforce".into(),
        "serve".into(),
        "--policy".into(),
        policy.display().to_string(),
        "--trust-config".into(),
        w.trust_config.clone(),
        "--tls-cert".into(),
        cert.display().to_string(),
        "--tls-key".into(),
        key.display().to_string(),
        "--listen".into(),
        "127.0.0.1:0".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let running = start(&args);
    let line = running
        .wait_for(Duration::from_secs(30), |l| l.contains("https://"))
        .expect("enforce serve prints its address");
    let url = format!("https://{}", line.split("https://").nth(1).unwrap().trim());
    (running, url)
}

fn https_client(w: &World) -> reqwest::Client {
    let cert = std::fs::read(w.dir.path().join("ca.crt")).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&cert).unwrap())
        .build()
        .unwrap()
}

/// POSTs `body` to `url` → (status, JSON or text).
fn post(w: &World, client: &reqwest::Client, url: &str, body: Vec<u8>) -> (u16, String) {
    w.rt.block_on(async {
        let response = client
            .post(url)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

fn response_of(body: &str) -> Value {
    let review: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(review["kind"], "AdmissionReview");
    review["response"].clone()
}

#[test]
fn the_webhook_admits_denies_warns_and_pins() {
    let w = World::new();
    let (signed_tag, signed, _) = w.image("app");
    w.sign(&signed);
    let (_, unsigned, _) = w.image("rogue");
    let policy = w.write("policy.yaml", &w.policy("alice@example.com", "enforce"));
    let (_webhook, url) = start_webhook(&w, &policy, &[]);
    let client = https_client(&w);
    let validate = format!("{url}/validate");

    // A Pod with a signed image, by digest: allowed, uid echoed.
    let request = review(("", "v1", "Pod"), "pods", pod(&[&signed]), "CREATE", false);
    let (status, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    assert_eq!(status, 200, "{body}");
    let response = response_of(&body);
    assert_eq!(response["uid"], request["request"]["uid"]);
    assert_eq!(response["allowed"], true, "{body}");
    assert!(response.get("patchType").is_none());

    // Every workload kind with the unsigned image: denied, naming image, field and policy.
    type Case<'a> = ((&'a str, &'a str, &'a str), &'a str, Value, &'a str);
    let kinds: [Case<'_>; 3] = [
        (
            ("apps", "v1", "Deployment"),
            "deployments",
            deployment(&[&signed, &unsigned]),
            "spec.template.spec.containers[1].image",
        ),
        (
            ("batch", "v1", "CronJob"),
            "cronjobs",
            cronjob(&[&unsigned]),
            "spec.jobTemplate.spec.template.spec.containers[0].image",
        ),
        (
            ("", "v1", "Pod"),
            "pods",
            pod(&[&unsigned]),
            "spec.containers[0].image",
        ),
    ];
    for (kind, resource, object, field) in kinds {
        for operation in ["CREATE", "UPDATE"] {
            let request = review(kind, resource, object.clone(), operation, false);
            let (status, body) = post(
                &w,
                &client,
                &validate,
                serde_json::to_vec(&request).unwrap(),
            );
            assert_eq!(status, 200, "{body}");
            let response = response_of(&body);
            assert_eq!(response["allowed"], false, "{kind:?} {operation}: {body}");
            let message = response["status"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("validation failed: failed policy: signed-by-alice: "),
                "{message}"
            );
            assert!(message.contains(field), "{field}: {message}");
            assert!(message.contains(&unsigned), "{message}");
            assert!(message.contains("alice"), "names the authority: {message}");
        }
    }

    // A tag reaching /validate is denied with policy-controller's message.
    let request = review(
        ("", "v1", "Pod"),
        "pods",
        pod(&[&signed_tag]),
        "CREATE",
        false,
    );
    let (_, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    let response = response_of(&body);
    assert_eq!(response["allowed"], false);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("must be an image digest"),
        "{body}"
    );

    // /mutate pins the tag; the patch applied gives the digest form, which /validate admits.
    let request = review(
        ("apps", "v1", "Deployment"),
        "deployments",
        deployment(&[&signed_tag]),
        "CREATE",
        false,
    );
    let (_, body) = post(
        &w,
        &client,
        &format!("{url}/mutate"),
        serde_json::to_vec(&request).unwrap(),
    );
    let response = response_of(&body);
    assert_eq!(response["allowed"], true, "{body}");
    assert_eq!(response["patchType"], "JSONPatch");
    use base64::Engine as _;
    let patch: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(response["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(patch[0]["op"], "replace");
    assert_eq!(patch[0]["path"], "/spec/template/spec/containers/0/image");
    let pinned = patch[0]["value"].as_str().unwrap();
    assert!(
        pinned.starts_with(&format!("{signed_tag}@sha256:")),
        "{pinned}"
    );
    assert_eq!(pinned.split('@').nth(1), signed.split('@').nth(1));
    let request = review(("", "v1", "Pod"), "pods", pod(&[pinned]), "CREATE", false);
    let (_, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    assert_eq!(response_of(&body)["allowed"], true, "{body}");

    // A dry-run is answered the same way.
    let request = review(("", "v1", "Pod"), "pods", pod(&[&unsigned]), "CREATE", true);
    let (_, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    assert_eq!(response_of(&body)["allowed"], false);

    // Malformed reviews: 400, never an allow.
    for bad in [
        b"not json".to_vec(),
        br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
    ] {
        let (status, body) = post(&w, &client, &validate, bad);
        assert_eq!(status, 400, "{body}");
    }

    // No matching policy: denied by default.
    let request = review(
        ("", "v1", "Pod"),
        "pods",
        pod(&[
            "docker.io/library/busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111",
        ]),
        "CREATE",
        false,
    );
    let (_, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    let response = response_of(&body);
    assert_eq!(response["allowed"], false);
    assert!(
        response["status"]["message"]
            .as_str()
            .unwrap()
            .contains("no matching policies"),
        "{body}"
    );
}

#[test]
fn warn_mode_allows_with_warnings_and_a_hanging_registry_is_denied_in_time() {
    let w = World::new();
    let (_, unsigned, _) = w.image("app");
    let policy = w.write("policy.yaml", &w.policy("alice@example.com", "warn"));
    // A "registry" that accepts connections and never answers.
    let hanging = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hanging_host = hanging.local_addr().unwrap().to_string();
    let _keep = std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hanging.incoming() {
            held.push(stream);
        }
    });
    let hanging_policy = format!(
        "{}---\napiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: hanging\nspec:\n  images:\n  - glob: \"{hanging_host}/**\"\n  authorities:\n  - keyless:\n      identities:\n      - issuer: \"https://issuer.example\"\n        subject: \"nobody@example.com\"\n",
        w.policy("alice@example.com", "warn")
    );
    std::fs::write(&policy, hanging_policy).unwrap();
    let (_webhook, url) = start_webhook(&w, &policy, &["--deadline", "2s"]);
    let client = https_client(&w);
    let validate = format!("{url}/validate");

    let request = review(
        ("", "v1", "Pod"),
        "pods",
        pod(&[&unsigned]),
        "CREATE",
        false,
    );
    let (_, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    let response = response_of(&body);
    assert_eq!(response["allowed"], true, "{body}");
    let warnings = response["warnings"].as_array().expect("warnings");
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("failed policy: signed-by-alice")),
        "{body}"
    );

    let stuck = format!("{hanging_host}/app@sha256:{}", "2".repeat(64));
    let request = review(("", "v1", "Pod"), "pods", pod(&[&stuck]), "CREATE", false);
    let start = Instant::now();
    let (_, body) = post(
        &w,
        &client,
        &validate,
        serde_json::to_vec(&request).unwrap(),
    );
    let elapsed = start.elapsed();
    let response = response_of(&body);
    assert_eq!(response["allowed"], false, "{body}");
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("2s") || message.contains("deadline"),
        "{message}"
    );
}

/// The manifests carry the policies, and those load in `enforce serve`.
#[test]
fn manifests_carry_loadable_policies() {
    let w = World::new();
    let policy = w.write("policy.yaml", &w.policy("alice@example.com", "enforce"));
    let (cert, key) = certificate(w.dir.path());
    let out = waxseal(&[
        "enforce",
        "manifests",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
        "--policy",
        policy.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let yaml = String::from_utf8(out.stdout).unwrap();
    for kind in [
        "Namespace",
        "Secret",
        "ConfigMap",
        "Deployment",
        "Service",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
    ] {
        assert!(
            yaml.contains(&format!("kind: {kind}")),
            "{kind} missing:\n{yaml}"
        );
    }
    assert!(yaml.contains("policy.sigstore.dev/include"), "{yaml}");
    assert!(yaml.contains("sideEffects: None"), "{yaml}");
    assert!(yaml.contains("failurePolicy: Fail"), "{yaml}");
    // The ConfigMap's policy, written out as the pod would see it, loads in `enforce serve`.
    let docs: Vec<Value> = serde_saphyr::from_multiple(&yaml).unwrap();
    let configmap = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "waxseal-enforce-policies")
        .expect("the policies ConfigMap");
    let mounted = w.dir.path().join("mounted");
    std::fs::create_dir(&mounted).unwrap();
    for (name, text) in configmap["data"].as_object().unwrap() {
        std::fs::write(mounted.join(name), text.as_str().unwrap()).unwrap();
    }
    let (_webhook, url) = start_webhook(&w, &mounted, &[]);
    assert!(url.starts_with("https://127.0.0.1:"));
}

/// Drift: an image passes; then, one at a time, its signature is deleted, the policy
/// tightened, its trusted root replaced, its scan ages out; each is reported within one
/// interval, and reported back when restored.
#[test]
fn watch_reports_drift_and_recovery() {
    let w = World::new();
    let (_, image, digest) = w.image("served");
    w.sign(&image);
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    w.attest_scan(&image, &now);
    // Two CIPs: the signature one and the fresh-scan one.
    let signature_policy = |subject: &str| w.policy(subject, "enforce");
    let scan_policy = |max_age: u64| {
        format!(
            r#"apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: fresh-scan
spec:
  images:
  - glob: "{host}/**"
  authorities:
  - name: scanned
    keyless:
      identities:
      - issuer: {issuer}
        subject: alice@example.com
    attestations:
    - name: scanned-recently
      predicateType: vuln
      policy:
        type: rego
        data: |
          package sigstore
          default isCompliant = false
          isCompliant {{
            finished := time.parse_rfc3339_ns(input.predicate.metadata.scanFinishedOn)
            time.now_ns() - finished < {max_age} * 1000000000
          }}
"#,
            host = w.registry.host(),
            issuer = w.server.url,
        )
    };
    let policies = w.dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("signed.yaml"),
        signature_policy("alice@example.com"),
    )
    .unwrap();
    std::fs::write(policies.join("scan.yaml"), scan_policy(3600)).unwrap();
    let inventory = w.write("images.txt", &format!("# what runs\n{image}\n"));
    let trust = w.dir.path().join("trust.json");
    std::fs::copy(&w.trust_config, &trust).unwrap();
    let interval = Duration::from_secs(3);
    let sink = EventSink::start();
    let report_port = free_port();
    let watcher = start(&[
        "enforce".into(),
        "watch".into(),
        "--policy".into(),
        policies.display().to_string(),
        "--trust-config".into(),
        trust.display().to_string(),
        "--inventory".into(),
        inventory.display().to_string(),
        "--interval".into(),
        "3s".into(),
        "--event-url".into(),
        sink.url.clone(),
        "--listen".into(),
        format!("127.0.0.1:{report_port}"),
    ]);
    let within = interval + Duration::from_secs(6);
    let event = |change: &str, policy: &str| {
        watcher
            .wait_for(within, |line| {
                let Ok(event) = serde_json::from_str::<Value>(line) else {
                    return false;
                };
                event["type"] == "dev.chainguard.policy.validation.changed.v1"
                    && event["data"]["policies"][policy]["change"] == change
            })
            .unwrap_or_else(|| panic!("no {change} event for {policy} within {within:?}"))
    };
    let first: Value = serde_json::from_str(&event("new", "signed-by-alice")).unwrap();
    assert_eq!(first["specversion"], "1.0");
    assert_eq!(first["source"], "k8s://default");
    assert!(
        first["subject"]
            .as_str()
            .unwrap()
            .ends_with(&digest.to_string())
    );
    assert_eq!(first["data"]["policies"]["signed-by-alice"]["valid"], true);
    assert_eq!(first["data"]["policies"]["fresh-scan"]["valid"], true);

    // 1. The signature deleted from the registry (its referrer manifest), then signed again.
    let fallback = Reference::parse(&format!(
        "{}/served:{}",
        w.registry.host(),
        waxseal_oci::fallback_tag(&digest)
    ))
    .unwrap();
    let client = Client::new(ClientConfig::default()).unwrap();
    let index: Value =
        serde_json::from_slice(&w.rt.block_on(client.resolve(&fallback)).unwrap().bytes).unwrap();
    for entry in index["manifests"].as_array().unwrap() {
        if entry["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json" {
            // Only the signature: keep the attestation.
            let manifest =
                w.rt.block_on(
                    client.resolve(
                        &Reference::parse(&format!(
                            "{}/served@{}",
                            w.registry.host(),
                            entry["digest"].as_str().unwrap()
                        ))
                        .unwrap(),
                    ),
                )
                .unwrap();
            let parsed: Value = serde_json::from_slice(&manifest.bytes).unwrap();
            if parsed["annotations"]["dev.sigstore.bundle.predicateType"]
                == "https://sigstore.dev/cosign/sign/v1"
            {
                delete_manifest(
                    w.registry.host(),
                    "served",
                    entry["digest"].as_str().unwrap(),
                );
            }
        }
    }
    event("degraded", "signed-by-alice");
    w.sign(&image);
    event("improved", "signed-by-alice");

    // 2. The policy tightened (another signer), then restored.
    std::fs::write(
        policies.join("signed.yaml"),
        signature_policy("bob@example.com"),
    )
    .unwrap();
    event("degraded", "signed-by-alice");
    std::fs::write(
        policies.join("signed.yaml"),
        signature_policy("alice@example.com"),
    )
    .unwrap();
    event("improved", "signed-by-alice");

    // 3. The trusted root replaced by another instance's, then restored.
    let other = Server::start(&w.dir.path().join("other-data"), &[]);
    std::fs::copy(other.trust("client_trust_config.json"), &trust).unwrap();
    event("degraded", "signed-by-alice");
    std::fs::copy(&w.trust_config, &trust).unwrap();
    event("improved", "signed-by-alice");

    // 4. The scan ages out: the policy allows 3 s; then a new scan restores it.
    std::fs::write(policies.join("scan.yaml"), scan_policy(3)).unwrap();
    event("degraded", "fresh-scan");
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    std::fs::write(policies.join("scan.yaml"), scan_policy(30)).unwrap();
    w.attest_scan(&image, &now);
    event("improved", "fresh-scan");

    // Every event printed was also posted to --event-url, as a structured CloudEvent.
    // (The last one is posted just after it is printed.)
    let end = Instant::now() + Duration::from_secs(10);
    while sink.bodies().len() < 9 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(50));
    }
    let posted = sink.bodies();
    assert!(posted.len() >= 9, "{} events posted", posted.len());
    for body in &posted {
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "dev.chainguard.policy.validation.changed.v1");
    }
    // The report, as JSON and as `enforce report`'s table, and the metrics.
    let report_url = format!("http://127.0.0.1:{report_port}/report");
    let out = waxseal(&["enforce", "report", &report_url, "-o", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["allowed"], true, "{report}");
    let out = waxseal(&["enforce", "report", &report_url]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("signed-by-alice"),
        "{}",
        text(&out)
    );
    let metrics = w.rt.block_on(async {
        reqwest::get(format!("http://127.0.0.1:{report_port}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(
        metrics.contains("waxseal_enforce_images{policy=\"signed-by-alice\",state=\"pass\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("waxseal_enforce_verification_seconds_count"),
        "{metrics}"
    );
}

/// A free loopback port (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An HTTP server keeping the body of every POST it gets (answering 202).
struct EventSink {
    url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl EventSink {
    fn start() -> Self {
        use std::io::{BufRead as _, Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let mut reader = std::io::BufReader::new(stream);
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_ok() {
                    kept.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&body).into_owned());
                }
                let _ = reader.get_mut().write_all(
                    b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Self { url, bodies }
    }

    fn bodies(&self) -> Vec<String> {
        self.bodies.lock().unwrap().clone()
    }
}
