//! AdmissionReview parsing, images per kind, responses and JSONPatch pinning.

use base64::Engine as _;
use serde_json::{Value, json};
use waxseal_enforce::admission::{
    AdmissionError, ImageUse, Operation, Request, Response, digest_patch, images,
};

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/admission/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn request(name: &str) -> Request {
    Request::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub(crate) const A: &str =
    "sha256:a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
pub(crate) const B: &str =
    "sha256:b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2";
pub(crate) const C: &str =
    "sha256:c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3";
pub(crate) const D: &str =
    "sha256:d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4";
pub(crate) const E: &str =
    "sha256:e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5";

/// (path, pointer, image) triples.
fn triples(uses: &[ImageUse]) -> Vec<(String, String, String)> {
    uses.iter()
        .map(|u| (u.path.clone(), u.pointer.clone(), u.image.clone()))
        .collect()
}

fn t(path: &str, pointer: &str, image: String) -> (String, String, String) {
    (path.to_owned(), pointer.to_owned(), image)
}

fn migrate() -> String {
    format!("registry.local/shop/migrate@{A}")
}

fn web() -> String {
    format!("registry.local/shop/web@{B}")
}

#[test]
fn parses_pod_create_review() {
    let r = request("pod-create.json");
    assert_eq!(r.api_version, "admission.k8s.io/v1");
    assert_eq!(r.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(r.kind.kind, "Pod");
    assert_eq!(r.kind.group, "");
    assert_eq!(r.resource.resource, "pods");
    assert_eq!(r.sub_resource, None);
    assert_eq!(
        r.request_kind.as_ref().map(|k| k.kind.as_str()),
        Some("Pod")
    );
    assert_eq!(r.name.as_deref(), Some("web"));
    assert_eq!(r.namespace.as_deref(), Some("shop"));
    assert_eq!(r.operation, Operation::Create);
    assert!(!r.dry_run);
    assert!(r.object.is_some());
    assert_eq!(r.old_object, None);
    assert_eq!(r.options.as_ref().unwrap()["kind"], "CreateOptions");
}

#[test]
fn pod_images_in_order_with_paths_and_pointers() {
    let uses = images(&request("pod-create.json")).unwrap();
    assert_eq!(
        triples(&uses),
        vec![
            t(
                "spec.initContainers[0].image",
                "/spec/initContainers/0/image",
                migrate()
            ),
            t(
                "spec.containers[0].image",
                "/spec/containers/0/image",
                web()
            ),
            t(
                "spec.containers[1].image",
                "/spec/containers/1/image",
                web()
            ),
            t(
                "spec.ephemeralContainers[0].image",
                "/spec/ephemeralContainers/0/image",
                format!("registry.local/tools/debug@{C}")
            ),
            t(
                "spec.volumes[2].image.reference",
                "/spec/volumes/2/image/reference",
                format!("registry.local/shop/assets@{D}")
            ),
        ]
    );
}

#[test]
fn workload_kinds_have_images_under_their_pod_template() {
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
        let uses = images(&request(name)).unwrap();
        let pointer = format!("/{}", prefix.replace('.', "/"));
        assert_eq!(
            triples(&uses),
            vec![
                (
                    format!("{prefix}.initContainers[0].image"),
                    format!("{pointer}/initContainers/0/image"),
                    migrate()
                ),
                (
                    format!("{prefix}.containers[0].image"),
                    format!("{pointer}/containers/0/image"),
                    web()
                ),
            ],
            "{name}"
        );
    }
}

#[test]
fn ephemeralcontainers_subresource_checks_only_ephemeral_containers() {
    let r = request("pod-ephemeralcontainers.json");
    assert_eq!(r.sub_resource.as_deref(), Some("ephemeralcontainers"));
    assert_eq!(r.operation, Operation::Update);
    assert!(r.old_object.is_some());
    assert_eq!(
        triples(&images(&r).unwrap()),
        vec![t(
            "spec.ephemeralContainers[0].image",
            "/spec/ephemeralContainers/0/image",
            "registry.local/tools/debug:latest".to_owned()
        )]
    );
}

#[test]
fn update_checks_the_new_object() {
    let r = request("deployment-update.json");
    assert_eq!(r.operation, Operation::Update);
    let uses = images(&r).unwrap();
    assert_eq!(uses[1].image, format!("registry.local/shop/web@{E}"));
    assert_eq!(uses[1].path, "spec.template.spec.containers[0].image");
}

#[test]
fn dry_run_is_exposed() {
    let r = request("pod-dry-run.json");
    assert!(r.dry_run);
    assert_eq!(images(&r).unwrap().len(), 5);
}

#[test]
fn v1beta1_is_accepted_and_kept_for_the_answer() {
    let r = request("pod-v1beta1.json");
    assert_eq!(r.api_version, "admission.k8s.io/v1beta1");
    let json: Value =
        serde_json::from_slice(&Response::allow(&r.uid).to_review_json(&r.api_version)).unwrap();
    assert_eq!(json["apiVersion"], "admission.k8s.io/v1beta1");
}

#[test]
fn delete_and_connect_name_no_images() {
    let r = request("pod-delete.json");
    assert_eq!(r.operation, Operation::Delete);
    assert_eq!(r.object, None);
    assert!(r.old_object.is_some());
    assert_eq!(images(&r).unwrap(), vec![]);

    let connect = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "c1", "kind": {"group": "", "version": "v1", "kind": "PodExecOptions"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "subResource": "exec", "operation": "CONNECT", "name": "web", "namespace": "shop",
            "object": {"kind": "PodExecOptions", "apiVersion": "v1", "command": ["sh"]}
        }
    });
    let r = Request::parse(connect.to_string().as_bytes()).unwrap();
    assert_eq!(r.operation, Operation::Connect);
    assert_eq!(images(&r).unwrap(), vec![]);
}

#[test]
fn other_kinds_name_no_images() {
    let review = json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "u1", "kind": {"group": "", "version": "v1", "kind": "ConfigMap"},
            "resource": {"group": "", "version": "v1", "resource": "configmaps"},
            "operation": "CREATE",
            "object": {"kind": "ConfigMap", "spec": {"containers": [{"name": "x"}]}}
        }
    });
    let r = Request::parse(review.to_string().as_bytes()).unwrap();
    assert_eq!(images(&r).unwrap(), vec![]);
}

fn review_with(request: Value) -> Vec<u8> {
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
        .to_string()
        .into_bytes()
}

fn pod_request(object: Value) -> Value {
    json!({
        "uid": "u1", "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "resource": {"group": "", "version": "v1", "resource": "pods"},
        "operation": "CREATE", "object": object
    })
}

#[test]
fn rejects_malformed_reviews() {
    struct Case {
        name: &'static str,
        body: Vec<u8>,
        want: &'static str,
    }
    let cases = [
        Case {
            name: "not json",
            body: b"<AdmissionReview/>".to_vec(),
            want: "body is not an AdmissionReview JSON object: expected value at line 1 column 1",
        },
        Case {
            name: "json array",
            body: b"[]".to_vec(),
            want: "body is not an AdmissionReview JSON object: not a JSON object",
        },
        Case {
            name: "wrong apiVersion",
            body: json!({"apiVersion": "admission.k8s.io/v2", "kind": "AdmissionReview", "request": pod_request(json!({}))})
                .to_string()
                .into_bytes(),
            want: "apiVersion is \"admission.k8s.io/v2\", want admission.k8s.io/v1 or admission.k8s.io/v1beta1",
        },
        Case {
            name: "wrong kind",
            body: json!({"apiVersion": "admission.k8s.io/v1", "kind": "Pod", "request": pod_request(json!({}))})
                .to_string()
                .into_bytes(),
            want: "kind is \"Pod\", want AdmissionReview",
        },
        Case {
            name: "missing request",
            body: json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"})
                .to_string()
                .into_bytes(),
            want: "AdmissionReview has no request",
        },
        Case {
            name: "request not an object",
            body: review_with(json!("x")),
            want: "request: not a JSON object",
        },
        Case {
            name: "missing uid",
            body: review_with(json!({"operation": "CREATE", "object": {}})),
            want: "request.uid is missing or empty",
        },
        Case {
            name: "empty uid",
            body: review_with(json!({"uid": "", "operation": "CREATE", "object": {}})),
            want: "request.uid is missing or empty",
        },
        Case {
            name: "missing operation",
            body: review_with(json!({"uid": "u1", "object": {}})),
            want: "request.operation: missing",
        },
        Case {
            name: "unknown operation",
            body: review_with(json!({"uid": "u1", "operation": "PATCH"})),
            want: "request: unknown variant `PATCH`, expected one of `CONNECT`, `CREATE`, `DELETE`, `UPDATE`",
        },
        Case {
            name: "object not an object",
            body: review_with(json!({"uid": "u1", "operation": "CREATE", "object": [1]})),
            want: "request.object: not a JSON object",
        },
        Case {
            name: "oldObject not an object",
            body: review_with(json!({"uid": "u1", "operation": "UPDATE", "object": {}, "oldObject": "x"})),
            want: "request.oldObject: not a JSON object",
        },
        Case {
            name: "dryRun not a bool",
            body: review_with(json!({"uid": "u1", "operation": "CREATE", "dryRun": "yes"})),
            want: "request: invalid type: string \"yes\", expected a boolean",
        },
    ];
    for case in cases {
        let err = Request::parse(&case.body).expect_err(case.name);
        assert_eq!(err.to_string(), case.want, "{}", case.name);
    }
}

#[test]
fn rejects_malformed_objects() {
    let cases: &[(&str, Value, &str)] = &[
        (
            "container without image",
            json!({"spec": {"containers": [{"name": "a", "image": "x@sha256:00"}, {"name": "b"}]}}),
            "object spec.containers[1].image: is missing",
        ),
        (
            "image not a string",
            json!({"spec": {"initContainers": [{"name": "a", "image": 7}]}}),
            "object spec.initContainers[0].image: must be a string",
        ),
        (
            "empty image",
            json!({"spec": {"containers": [{"name": "a", "image": ""}]}}),
            "object spec.containers[0].image: is empty",
        ),
        (
            "containers not an array",
            json!({"spec": {"containers": {"name": "a"}}}),
            "object spec.containers: must be an array",
        ),
        (
            "container not an object",
            json!({"spec": {"ephemeralContainers": ["nginx"]}}),
            "object spec.ephemeralContainers[0]: must be an object",
        ),
        (
            "spec not an object",
            json!({"spec": "x"}),
            "object spec: must be an object",
        ),
        (
            "image volume without reference",
            json!({"spec": {"containers": [], "volumes": [{"name": "v", "image": {}}]}}),
            "object spec.volumes[0].image.reference: is missing",
        ),
    ];
    for (name, object, want) in cases {
        let r = Request::parse(&review_with(pod_request(object.clone()))).unwrap();
        let err = images(&r).expect_err(name);
        assert!(
            matches!(err, AdmissionError::InvalidObject { .. }),
            "{name}"
        );
        assert_eq!(err.to_string(), *want, "{name}");
    }
    let r = request("pod-container-without-image.json");
    assert_eq!(
        images(&r).unwrap_err().to_string(),
        "object spec.containers[1].image: is missing"
    );
    let no_object = review_with(json!({
        "uid": "u1", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
        "operation": "UPDATE"
    }));
    assert_eq!(
        images(&Request::parse(&no_object).unwrap())
            .unwrap_err()
            .to_string(),
        "request.object is missing for a UPDATE request"
    );
}

#[test]
fn pod_without_spec_names_no_images() {
    let r = Request::parse(&review_with(pod_request(json!({"metadata": {}})))).unwrap();
    assert_eq!(images(&r).unwrap(), vec![]);
}

/// A test-only RFC 6902 applier for `replace` operations over RFC 6901 pointers.
pub(crate) fn apply_patch(object: &Value, patch: &[u8]) -> Value {
    let mut object = object.clone();
    let ops: Vec<Value> = serde_json::from_slice(patch).unwrap();
    for op in ops {
        assert_eq!(op["op"], "replace", "{op}");
        let pointer = op["path"].as_str().unwrap();
        let mut at = &mut object;
        for token in pointer.split('/').skip(1) {
            let token = token.replace("~1", "/").replace("~0", "~");
            at = match at {
                Value::Object(map) => map.get_mut(&token).unwrap(),
                Value::Array(items) => items.get_mut(token.parse::<usize>().unwrap()).unwrap(),
                _ => panic!("{pointer}: not a container"),
            };
        }
        assert!(at.is_string(), "{pointer}: replace of a non-image");
        *at = op["value"].clone();
    }
    object
}

#[test]
fn digest_patch_replaces_only_changed_images() {
    let r = request("pod-create.json");
    let uses = images(&r).unwrap();
    let pinned = format!("registry.local/shop/migrate:1.4@{A}");
    let pins = vec![
        (uses[0].clone(), pinned.clone()),
        (uses[1].clone(), uses[1].image.clone()),
    ];
    let patch = digest_patch(&pins);
    assert_eq!(
        String::from_utf8(patch.clone()).unwrap(),
        format!(r#"[{{"op":"replace","path":"/spec/initContainers/0/image","value":"{pinned}"}}]"#)
    );
    let object = r.object.unwrap();
    let mut want = object.clone();
    want["spec"]["initContainers"][0]["image"] = json!(pinned);
    assert_eq!(apply_patch(&object, &patch), want);
    assert_eq!(digest_patch(&[]), b"[]");
}

#[test]
fn review_json_shapes() {
    let allow = Response::allow("u1");
    assert_eq!(
        serde_json::from_slice::<Value>(&allow.to_review_json("admission.k8s.io/v1")).unwrap(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "response": {"uid": "u1", "allowed": true}})
    );
    let deny = Response::deny("u2", "validation failed: no");
    assert_eq!(
        serde_json::from_slice::<Value>(&deny.to_review_json("admission.k8s.io/v1")).unwrap(),
        json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
               "response": {"uid": "u2", "allowed": false,
                            "status": {"code": 400, "message": "validation failed: no", "reason": "BadRequest"}}})
    );
    // Bytes whose base64 differs between STANDARD and URL_SAFE (`+`, `/`) and needs padding.
    let patch = vec![0xfb, 0xff, 0xbf, 0x3e];
    let patched = Response::allow("u3").with_patch(patch.clone());
    let json: Value =
        serde_json::from_slice(&patched.to_review_json("admission.k8s.io/v1")).unwrap();
    assert_eq!(json["response"]["patch"], "+/+/Pg==");
    assert_eq!(json["response"]["patchType"], "JSONPatch");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(json["response"]["patch"].as_str().unwrap())
            .unwrap(),
        patch
    );
    assert!(json["response"].get("warnings").is_none());
}

#[test]
fn warnings_are_capped_at_120_chars_and_printable() {
    let long = format!("{}é{}", "w".repeat(118), "x".repeat(50));
    let response = Response::allow("u1").with_warnings(vec![
        long,
        "line one\nline two".to_owned(),
        "short".to_owned(),
    ]);
    let json: Value =
        serde_json::from_slice(&response.to_review_json("admission.k8s.io/v1")).unwrap();
    let warnings = json["response"]["warnings"].as_array().unwrap();
    let first = warnings[0].as_str().unwrap();
    assert_eq!(first.chars().count(), 120);
    assert_eq!(first, format!("{}éx", "w".repeat(118)));
    assert_eq!(warnings[1], "line one line two");
    assert_eq!(warnings[2], "short");
}
