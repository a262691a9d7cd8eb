//! The gate's validate and mutate over a fake checker (the real one lives in the CLI).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use waxseal_enforce::admission::{Request, images};
use waxseal_enforce::gate::{Checker, Gate, GateConfig};
use waxseal_policy::{Decision, Facts, NoMatch, Options, PolicySet, SignatureFact, Source};

use crate::admission::{A, B, C, D, E, apply_patch, request};

const RELEASE: &str = r#"
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: release}
spec:
  images: [{glob: "registry.local/shop/**"}]
  authorities:
  - keyless:
      url: https://fulcio.sigstore.dev
      identities: [{issuer: https://accounts.google.com, subject: release@example.com}]
---
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: audit}
spec:
  mode: warn
  images: [{glob: "registry.local/tools/**"}]
  authorities:
  - keyless:
      url: https://fulcio.sigstore.dev
      identities: [{issuer: https://accounts.google.com, subject: release@example.com}]
"#;

const FROZEN: &str = r#"
apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata: {name: frozen}
spec:
  images: [{glob: "registry.local/shop/migrate*"}]
  authorities:
  - static: {action: fail, message: migrations are frozen}
"#;

/// A checker over a policy set: images in `signed` carry the release signature, `failing`
/// images make `check`/`resolve` fail, `slow` ones sleep first.
struct Fake {
    policies: PolicySet,
    no_match: NoMatch,
    signed: HashSet<String>,
    failing: HashMap<String, String>,
    slow: HashMap<String, Duration>,
    resolved: HashMap<String, String>,
    calls: Mutex<Vec<String>>,
}

impl Fake {
    fn new(yaml: &[&str]) -> Self {
        let sources: Vec<Source> = yaml
            .iter()
            .enumerate()
            .map(|(i, y)| Source::new(format!("cip{i}.yaml"), *y))
            .collect();
        Self {
            policies: PolicySet::load(&sources).unwrap(),
            no_match: NoMatch::Deny,
            signed: HashSet::new(),
            failing: HashMap::new(),
            slow: HashMap::new(),
            resolved: HashMap::new(),
            calls: Mutex::new(Vec::new()),
        }
    }

    fn signed(mut self, images: &[String]) -> Self {
        self.signed.extend(images.iter().cloned());
        self
    }

    fn failing(mut self, image: &str, error: &str) -> Self {
        self.failing.insert(image.to_owned(), error.to_owned());
        self
    }

    fn slow(mut self, image: &str, delay: Duration) -> Self {
        self.slow.insert(image.to_owned(), delay);
        self
    }

    fn resolving(mut self, tag: &str, pinned: &str) -> Self {
        self.resolved.insert(tag.to_owned(), pinned.to_owned());
        self
    }

    fn calls(&self) -> Vec<String> {
        let mut calls = self.calls.lock().unwrap().clone();
        calls.sort();
        calls
    }

    async fn enter(&self, what: &str, image: &str) -> Result<(), String> {
        self.calls.lock().unwrap().push(format!("{what} {image}"));
        if self.failing.get(image).is_some_and(|e| e == "PANIC") {
            panic!("checker bug");
        }
        if let Some(delay) = self.slow.get(image) {
            tokio::time::sleep(*delay).await;
        }
        match self.failing.get(image) {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }
}

impl Checker for Fake {
    async fn resolve(&self, image: &str) -> Result<String, String> {
        self.enter("resolve", image).await?;
        self.resolved
            .get(image)
            .cloned()
            .ok_or_else(|| format!("no such tag {image}"))
    }

    async fn check(&self, image: &str) -> Result<Decision, String> {
        self.enter("check", image).await?;
        let signatures = if self.signed.contains(image) {
            vec![
                SignatureFact::keyless("sig", "release@example.com", "https://accounts.google.com")
                    .with_ca_uri("https://fulcio.sigstore.dev"),
            ]
        } else {
            vec![]
        };
        let options = Options::new(SystemTime::UNIX_EPOCH).with_no_match(self.no_match);
        Ok(self
            .policies
            .evaluate(image, &Facts::new(signatures, vec![]), &options))
    }
}

fn new_gate(fake: Fake) -> (Gate<Fake>, Arc<Fake>) {
    let fake = Arc::new(fake);
    (Gate::new(Arc::clone(&fake), GateConfig::default()), fake)
}

fn migrate() -> String {
    format!("registry.local/shop/migrate@{A}")
}
fn web() -> String {
    format!("registry.local/shop/web@{B}")
}
fn debug() -> String {
    format!("registry.local/tools/debug@{C}")
}
fn assets() -> String {
    format!("registry.local/shop/assets@{D}")
}
fn shop() -> Vec<String> {
    vec![migrate(), web(), assets()]
}

fn unsigned(image: &str) -> String {
    format!(
        "{image} signature keyless validation failed for authority authority-0 for {image}: no signatures found"
    )
}

fn message(response: &waxseal_enforce::admission::Response) -> &str {
    let status = response.status.as_ref().expect("a status");
    assert_eq!(status.code, 400);
    assert_eq!(status.reason.as_deref(), Some("BadRequest"));
    &status.message
}

fn single_container_pod(image: &str) -> Request {
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "one-container", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "operation": "CREATE", "namespace": "shop",
            "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "x"},
                       "spec": {"containers": [{"name": "x", "image": image}]}}
        }
    });
    Request::parse(review.to_string().as_bytes()).unwrap()
}

#[tokio::test]
async fn allows_when_every_image_passes_and_checks_each_image_once() {
    let (gate, fake) = new_gate(Fake::new(&[RELEASE]).signed(&shop()).signed(&[debug()]));
    let r = request("pod-create.json");
    let response = gate.validate(&r).await;
    assert!(response.allowed, "{:?}", response.status);
    assert_eq!(response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(response.status, None);
    assert_eq!(response.patch, None);
    assert_eq!(response.warnings, Vec::<String>::new());
    // web is used by two containers: checked once.
    assert_eq!(
        fake.calls(),
        vec![
            format!("check {}", assets()),
            format!("check {}", migrate()),
            format!("check {}", web()),
            format!("check {}", debug()),
        ]
    );
}

#[tokio::test]
async fn denies_with_policy_controller_messages_grouped_by_failure() {
    let (gate, _) = new_gate(Fake::new(&[RELEASE, FROZEN]).signed(&[debug()]));
    let response = gate.validate(&request("pod-create.json")).await;
    assert!(!response.allowed);
    assert_eq!(response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    let want = [
        "validation failed: failed policy: frozen: spec.initContainers[0].image".to_owned(),
        format!(
            "{} disallowed by static policy: migrations are frozen",
            migrate()
        ),
        "failed policy: release: spec.volumes[2].image.reference".to_owned(),
        unsigned(&assets()),
        "failed policy: release: spec.initContainers[0].image".to_owned(),
        unsigned(&migrate()),
        "failed policy: release: spec.containers[0].image, spec.containers[1].image".to_owned(),
        unsigned(&web()),
    ]
    .join("\n");
    assert_eq!(message(&response), want);
}

#[tokio::test]
async fn every_workload_kind_is_gated() {
    const CASES: &[(&str, &str)] = &[
        ("deployment-create.json", "spec.template.spec"),
        ("replicaset-create.json", "spec.template.spec"),
        ("statefulset-create.json", "spec.template.spec"),
        ("daemonset-create.json", "spec.template.spec"),
        ("job-create.json", "spec.template.spec"),
        ("replicationcontroller-create.json", "spec.template.spec"),
        ("cronjob-create.json", "spec.jobTemplate.spec.template.spec"),
    ];
    for (name, prefix) in CASES {
        let r = request(name);
        let (gate, _) = new_gate(Fake::new(&[RELEASE]).signed(&[migrate()]));
        let response = gate.validate(&r).await;
        assert!(!response.allowed, "{name}");
        assert_eq!(response.uid, r.uid, "{name}");
        assert_eq!(
            message(&response),
            format!(
                "validation failed: failed policy: release: {prefix}.containers[0].image\n{}",
                unsigned(&web())
            ),
            "{name}"
        );
        let (gate, _) = new_gate(Fake::new(&[RELEASE]).signed(&shop()));
        assert!(gate.validate(&r).await.allowed, "{name}");
    }
}

#[tokio::test]
async fn update_checks_the_new_image() {
    let (gate, fake) = new_gate(Fake::new(&[RELEASE]).signed(&shop()));
    let response = gate.validate(&request("deployment-update.json")).await;
    let new = format!("registry.local/shop/web@{E}");
    assert_eq!(
        message(&response),
        format!(
            "validation failed: failed policy: release: spec.template.spec.containers[0].image\n{}",
            unsigned(&new)
        )
    );
    assert_eq!(
        fake.calls(),
        vec![format!("check {}", migrate()), format!("check {new}")]
    );
}

#[tokio::test]
async fn ephemeralcontainers_subresource_denies_a_debug_tag() {
    let (gate, fake) = new_gate(Fake::new(&[RELEASE]));
    let r = request("pod-ephemeralcontainers.json");
    let response = gate.validate(&r).await;
    assert_eq!(
        message(&response),
        "validation failed: invalid value: registry.local/tools/debug:latest must be an image digest: spec.ephemeralContainers[0].image"
    );
    assert_eq!(fake.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn denies_tags_with_must_be_an_image_digest() {
    let (gate, fake) = new_gate(Fake::new(&[RELEASE]).signed(&shop()));
    let response = gate.validate(&request("pod-tags.json")).await;
    assert!(!response.allowed);
    let want = [
        "validation failed: invalid value: registry.local/shop/assets:v2 must be an image digest: spec.volumes[2].image.reference",
        "invalid value: registry.local/shop/migrate:1.4 must be an image digest: spec.initContainers[0].image",
        "invalid value: registry.local/shop/web:1.4 must be an image digest: spec.containers[0].image, spec.containers[2].image",
    ]
    .join("\n");
    assert_eq!(message(&response), want);
    // The pinned images are still checked.
    assert_eq!(
        fake.calls(),
        vec![format!("check {}", web()), format!("check {}", debug())]
    );
}

#[tokio::test]
async fn warn_mode_failures_are_warnings_and_allow() {
    let (gate, _) = new_gate(Fake::new(&[RELEASE]).signed(&shop()));
    let response = gate.validate(&request("pod-create.json")).await;
    assert!(response.allowed, "{:?}", response.status);
    assert_eq!(response.status, None);
    assert_eq!(
        response.warnings,
        vec![format!(
            "failed policy: audit: spec.ephemeralContainers[0].image: {}",
            unsigned(&debug())
        )]
    );
    let json: Value =
        serde_json::from_slice(&response.to_review_json("admission.k8s.io/v1")).unwrap();
    let sent = json["response"]["warnings"][0].as_str().unwrap();
    assert_eq!(sent.chars().count(), 120);
    assert!(response.warnings[0].starts_with(sent));
}

#[tokio::test]
async fn no_matching_policy_denies_or_warns() {
    let nginx = format!("docker.io/library/nginx@{E}");
    let r = single_container_pod(&nginx);
    let (gate, _) = new_gate(Fake::new(&[RELEASE]));
    let response = gate.validate(&r).await;
    assert_eq!(response.uid, "one-container");
    assert_eq!(
        message(&response),
        format!("validation failed: no matching policies: spec.containers[0].image\n{nginx}")
    );

    let mut fake = Fake::new(&[RELEASE]);
    fake.no_match = NoMatch::Warn;
    let (gate, _) = new_gate(fake);
    let response = gate.validate(&r).await;
    assert!(response.allowed);
    assert_eq!(
        response.warnings,
        vec![format!(
            "no matching policies: spec.containers[0].image: {nginx}"
        )]
    );
}

#[tokio::test]
async fn checker_errors_deny() {
    let r = single_container_pod(&web());
    let (gate, _) = new_gate(
        Fake::new(&[RELEASE])
            .signed(&shop())
            .failing(&web(), "registry.local: connection refused"),
    );
    let response = gate.validate(&r).await;
    assert!(!response.allowed);
    assert_eq!(
        message(&response),
        format!(
            "validation failed: could not check image: spec.containers[0].image\n{} registry.local: connection refused",
            web()
        )
    );
}

#[tokio::test]
async fn a_panicking_checker_denies() {
    let r = single_container_pod(&web());
    let (gate, _) = new_gate(Fake::new(&[RELEASE]).failing(&web(), "PANIC"));
    let response = gate.validate(&r).await;
    assert!(!response.allowed);
    assert!(
        message(&response).starts_with(&format!(
            "validation failed: could not check image: spec.containers[0].image\n{} the task failed: task "
        , web())),
        "{}",
        message(&response)
    );
}

#[tokio::test]
async fn invalid_references_deny() {
    let r = single_container_pod("Registry.local/UPPER@sha256:00");
    let (gate, fake) = new_gate(Fake::new(&[RELEASE]));
    let response = gate.validate(&r).await;
    assert!(!response.allowed);
    assert!(
        message(&response).starts_with("validation failed: "),
        "{}",
        message(&response)
    );
    assert!(
        message(&response).ends_with(": spec.containers[0].image"),
        "{}",
        message(&response)
    );
    assert_eq!(fake.calls(), Vec::<String>::new());
}

#[tokio::test(start_paused = true)]
async fn checks_past_the_deadline_deny_naming_what_is_pending() {
    let (gate, _) = new_gate(
        Fake::new(&[RELEASE])
            .signed(&shop())
            .signed(&[debug()])
            .slow(&debug(), Duration::from_secs(30))
            .slow(&web(), Duration::from_secs(1)),
    );
    let start = tokio::time::Instant::now();
    let response = gate.validate(&request("pod-create.json")).await;
    assert_eq!(start.elapsed(), Duration::from_secs(8));
    assert!(!response.allowed);
    assert_eq!(
        message(&response),
        format!(
            "validation failed: no decision within the 8s deadline, checks still pending: spec.ephemeralContainers[0].image\n{}",
            debug()
        )
    );
}

#[tokio::test(start_paused = true)]
async fn deadline_is_configurable() {
    let fake = Arc::new(
        Fake::new(&[RELEASE])
            .signed(&[web()])
            .slow(&web(), Duration::from_millis(300)),
    );
    let gate = Gate::new(
        Arc::clone(&fake),
        GateConfig::default().with_deadline(Duration::from_millis(250)),
    );
    let response = gate.validate(&single_container_pod(&web())).await;
    assert_eq!(
        message(&response),
        format!(
            "validation failed: no decision within the 250ms deadline, checks still pending: spec.containers[0].image\n{}",
            web()
        )
    );
}

#[tokio::test]
async fn requests_without_images_are_allowed() {
    let (gate, fake) = new_gate(Fake::new(&[RELEASE]));
    let r = request("pod-delete.json");
    let response = gate.validate(&r).await;
    assert!(response.allowed);
    assert_eq!(response.uid, r.uid);
    let response = gate.mutate(&r).await;
    assert!(response.allowed);
    assert_eq!(response.patch, None);
    assert_eq!(fake.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn dry_run_is_decided_the_same_and_flagged() {
    let (gate, _) = new_gate(Fake::new(&[RELEASE]).signed(&shop()).signed(&[debug()]));
    let r = request("pod-dry-run.json");
    assert!(r.dry_run);
    let response = gate.validate(&r).await;
    assert!(response.allowed);
    assert_eq!(response.uid, "5d1e2f3a-4b5c-4d6e-8f70-a1b2c3d4e5f6");
}

#[tokio::test]
async fn malformed_objects_deny() {
    let (gate, _) = new_gate(Fake::new(&[RELEASE]));
    let r = request("pod-container-without-image.json");
    let response = gate.validate(&r).await;
    assert!(!response.allowed);
    assert_eq!(response.uid, r.uid);
    assert_eq!(
        message(&response),
        "validation failed: object spec.containers[1].image: is missing"
    );
    let response = gate.mutate(&r).await;
    assert_eq!(
        message(&response),
        "mutation failed: object spec.containers[1].image: is missing"
    );
}

fn tags_fake() -> Fake {
    Fake::new(&[RELEASE])
        .resolving(
            "registry.local/shop/migrate:1.4",
            &format!("registry.local/shop/migrate:1.4@{A}"),
        )
        .resolving(
            "registry.local/shop/web:1.4",
            &format!("registry.local/shop/web:1.4@{B}"),
        )
        .resolving(
            "registry.local/shop/assets:v2",
            &format!("registry.local/shop/assets:v2@{D}"),
        )
}

#[tokio::test]
async fn mutate_pins_tags_to_digests() {
    let (gate, fake) = new_gate(tags_fake());
    let r = request("pod-tags.json");
    let response = gate.mutate(&r).await;
    assert!(response.allowed, "{:?}", response.status);
    assert_eq!(response.uid, r.uid);
    let patch = response.patch.clone().expect("a patch");
    let object = r.object.clone().unwrap();
    let mut want = object.clone();
    want["spec"]["initContainers"][0]["image"] =
        json!(format!("registry.local/shop/migrate:1.4@{A}"));
    want["spec"]["containers"][0]["image"] = json!(format!("registry.local/shop/web:1.4@{B}"));
    want["spec"]["containers"][2]["image"] = json!(format!("registry.local/shop/web:1.4@{B}"));
    want["spec"]["volumes"][2]["image"]["reference"] =
        json!(format!("registry.local/shop/assets:v2@{D}"));
    assert_eq!(apply_patch(&object, &patch), want);
    // Only tags are resolved, each once; pinned images (web@B, debug@C) are left alone.
    assert_eq!(
        fake.calls(),
        vec![
            "resolve registry.local/shop/assets:v2",
            "resolve registry.local/shop/migrate:1.4",
            "resolve registry.local/shop/web:1.4",
        ]
    );
    // Four replacements, in pointer order.
    let ops: Vec<Value> = serde_json::from_slice(&patch).unwrap();
    let paths: Vec<&str> = ops.iter().map(|op| op["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        vec![
            "/spec/containers/0/image",
            "/spec/containers/2/image",
            "/spec/initContainers/0/image",
            "/spec/volumes/2/image/reference",
        ]
    );
    let json: Value = serde_json::from_slice(&response.to_review_json(&r.api_version)).unwrap();
    assert_eq!(json["response"]["patchType"], "JSONPatch");
    assert_eq!(json["response"]["uid"], r.uid.as_str());
    use base64::Engine as _;
    let sent = base64::engine::general_purpose::STANDARD
        .decode(json["response"]["patch"].as_str().unwrap())
        .unwrap();
    assert_eq!(sent, patch);
    // The pinned object passes the digest requirement.
    let pinned = apply_patch(&object, &patch);
    let mut review: Value =
        serde_json::from_slice(&crate::admission::fixture("pod-tags.json")).unwrap();
    review["request"]["object"] = pinned;
    let pinned = Request::parse(review.to_string().as_bytes()).unwrap();
    assert!(
        images(&pinned)
            .unwrap()
            .iter()
            .all(|u| u.image.contains("@sha256:"))
    );
}

#[tokio::test]
async fn mutate_without_tags_sends_no_patch() {
    let (gate, fake) = new_gate(tags_fake());
    let r = request("pod-create.json");
    let response = gate.mutate(&r).await;
    assert!(response.allowed);
    assert_eq!(response.patch, None);
    let json: Value = serde_json::from_slice(&response.to_review_json(&r.api_version)).unwrap();
    assert_eq!(
        json,
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "response": {"uid": r.uid, "allowed": true}})
    );
    assert_eq!(fake.calls(), Vec::<String>::new());
}

#[tokio::test]
async fn mutate_denies_when_a_tag_does_not_resolve() {
    let (gate, _) =
        new_gate(tags_fake().failing("registry.local/shop/assets:v2", "manifest unknown"));
    let response = gate.mutate(&request("pod-tags.json")).await;
    assert!(!response.allowed);
    assert_eq!(response.patch, None);
    assert_eq!(
        message(&response),
        "mutation failed: could not resolve image to a digest: spec.volumes[2].image.reference\nregistry.local/shop/assets:v2 manifest unknown"
    );
}

#[tokio::test]
async fn mutate_denies_a_resolution_that_is_not_a_digest() {
    let (gate, _) = new_gate(
        tags_fake().resolving("registry.local/shop/web:1.4", "registry.local/shop/web:1.4"),
    );
    let response = gate.mutate(&request("pod-tags.json")).await;
    assert_eq!(
        message(&response),
        "mutation failed: could not resolve image to a digest: spec.containers[0].image, spec.containers[2].image\nregistry.local/shop/web:1.4 resolved to \"registry.local/shop/web:1.4\", not a digest reference"
    );
}

#[tokio::test(start_paused = true)]
async fn mutate_past_the_deadline_denies() {
    let (gate, _) =
        new_gate(tags_fake().slow("registry.local/shop/migrate:1.4", Duration::from_secs(9)));
    let response = gate.mutate(&request("pod-tags.json")).await;
    assert_eq!(
        message(&response),
        "mutation failed: no decision within the 8s deadline, resolutions still pending: spec.initContainers[0].image\nregistry.local/shop/migrate:1.4"
    );
}
