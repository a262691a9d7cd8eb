//! Inventory parsing: `kubectl get pods -A -o json` fixtures and image lists.

use waxseal_enforce::inventory::{
    InventoryError, Running, Workload, parse_image_list, parse_pod_list,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/inventory/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn row(running: &[Running], pod: &str, container: &str) -> Running {
    running
        .iter()
        .find(|r| r.pod == pod && r.container == container)
        .unwrap_or_else(|| panic!("no {pod}/{container} in {running:#?}"))
        .clone()
}

const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

#[test]
fn reads_every_container_kind_and_image_volumes_in_order() {
    let running = parse_pod_list(&fixture("pods.json")).unwrap();
    let fields: Vec<(&str, &str, &str)> = running
        .iter()
        .map(|r| (r.pod.as_str(), r.container.as_str(), r.field.as_str()))
        .collect();
    assert_eq!(
        fields,
        [
            (
                "web-7d4b9c8f6d-x2k9p",
                "migrate",
                "spec.initContainers[0].image"
            ),
            ("web-7d4b9c8f6d-x2k9p", "web", "spec.containers[0].image"),
            ("web-7d4b9c8f6d-x2k9p", "proxy", "spec.containers[1].image"),
            (
                "web-7d4b9c8f6d-x2k9p",
                "assets",
                "spec.volumes[1].image.reference"
            ),
            ("db-0", "postgres", "spec.containers[0].image"),
            (
                "db-0",
                "debugger-abcde",
                "spec.ephemeralContainers[0].image"
            ),
            ("static-probe", "probe", "spec.containers[0].image"),
            ("orphan-rs-abc12-qq7w", "nginx", "spec.containers[0].image"),
        ]
    );
}

#[test]
fn reports_deployment_for_replicaset_owned_pods() {
    let running = parse_pod_list(&fixture("pods.json")).unwrap();
    let web = row(&running, "web-7d4b9c8f6d-x2k9p", "web");
    assert_eq!(web.workload, Workload::new("shop", "Deployment", "web"));
    let db = row(&running, "db-0", "postgres");
    assert_eq!(db.workload, Workload::new("shop", "StatefulSet", "db"));
    let probe = row(&running, "static-probe", "probe");
    assert_eq!(
        probe.workload,
        Workload::new("kube-system", "Pod", "static-probe")
    );
    // The controller owner is used, not the first; its name lacks the hash suffix, so it stays
    // a ReplicaSet.
    let orphan = row(&running, "orphan-rs-abc12-qq7w", "nginx");
    assert_eq!(
        orphan.workload,
        Workload::new("default", "ReplicaSet", "orphan-rs")
    );
}

#[test]
fn takes_digest_from_image_id_or_digest_pinned_spec() {
    let running = parse_pod_list(&fixture("pods.json")).unwrap();
    const CASES: &[(&str, &str, &str, Option<&str>)] = &[
        (
            "docker-pullable prefix stripped",
            "web-7d4b9c8f6d-x2k9p",
            "web",
            Some(
                "registry.local/shop/web@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ),
        ),
        (
            "containerd imageID as is",
            "web-7d4b9c8f6d-x2k9p",
            "migrate",
            Some(
                "docker.io/library/busybox@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            ),
        ),
        (
            "bare image id falls back to the pinned spec",
            "web-7d4b9c8f6d-x2k9p",
            "proxy",
            Some(
                "registry.local/shop/proxy@sha256:1111111111111111111111111111111111111111111111111111111111111111",
            ),
        ),
        (
            "image volume",
            "web-7d4b9c8f6d-x2k9p",
            "assets",
            Some(
                "registry.local/shop/assets@sha256:2222222222222222222222222222222222222222222222222222222222222222",
            ),
        ),
        ("empty imageID, tag in spec", "db-0", "postgres", None),
        ("no status", "db-0", "debugger-abcde", None),
        (
            "no status, pinned spec",
            "static-probe",
            "probe",
            Some(
                "registry.local/probe@sha256:3333333333333333333333333333333333333333333333333333333333333333",
            ),
        ),
    ];
    for (name, pod, container, want) in CASES {
        let r = row(&running, pod, container);
        assert_eq!(r.digest_ref.as_deref(), *want, "{name}");
    }
    let web = row(&running, "web-7d4b9c8f6d-x2k9p", "web");
    assert_eq!(web.image, "registry.local/shop/web:v1.4");
    assert_eq!(web.key(), format!("registry.local/shop/web@sha256:{A}"));
    let db = row(&running, "db-0", "postgres");
    assert_eq!(db.key(), "postgres:16");
}

#[test]
fn reads_podlist_and_single_pod() {
    let list = br#"{"kind":"PodList","apiVersion":"v1","items":[
        {"metadata":{"name":"p","namespace":"n"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}]}"#;
    let running = parse_pod_list(list).unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].workload, Workload::new("n", "Pod", "p"));
    let pod = br#"{"kind":"Pod","apiVersion":"v1",
        "metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#;
    let running = parse_pod_list(pod).unwrap();
    assert_eq!(running[0].workload, Workload::new("default", "Pod", "p"));
    let empty = br#"{"kind":"List","apiVersion":"v1","items":[]}"#;
    assert!(parse_pod_list(empty).unwrap().is_empty());
}

#[test]
fn rejects_malformed_pod_lists_naming_item_and_field() {
    let containers = |c: &str| {
        format!(
            r#"{{"kind":"List","items":[{{"metadata":{{"name":"ok"}},"spec":{{}}}},{{"metadata":{{"name":"p"}},"spec":{{"containers":{c}}}}}]}}"#
        )
    };
    let cases: Vec<(&str, String, InventoryError)> = vec![
        (
            "not json",
            "{".to_owned(),
            InventoryError::Json {
                message: "EOF while parsing an object at line 1 column 1".to_owned(),
            },
        ),
        (
            "wrong kind",
            r#"{"kind":"DeploymentList","items":[]}"#.to_owned(),
            InventoryError::NotAList {
                kind: "DeploymentList".to_owned(),
            },
        ),
        (
            "no kind",
            r#"{"items":[]}"#.to_owned(),
            InventoryError::NotAList {
                kind: String::new(),
            },
        ),
        (
            "no metadata.name",
            r#"{"kind":"List","items":[{"metadata":{},"spec":{}}]}"#.to_owned(),
            InventoryError::MissingField {
                item: 0,
                field: "metadata.name".to_owned(),
            },
        ),
        (
            "no spec",
            r#"{"kind":"List","items":[{"metadata":{"name":"p"}}]}"#.to_owned(),
            InventoryError::MissingField {
                item: 0,
                field: "spec".to_owned(),
            },
        ),
        (
            "containers not an array",
            containers(r#"{"name":"c"}"#),
            InventoryError::InvalidField {
                item: 1,
                field: "spec.containers".to_owned(),
                expected: "an array",
            },
        ),
        (
            "container without image",
            containers(r#"[{"name":"c"}]"#),
            InventoryError::MissingField {
                item: 1,
                field: "spec.containers[0].image".to_owned(),
            },
        ),
        (
            "image not a string",
            containers(r#"[{"name":"c","image":7}]"#),
            InventoryError::InvalidField {
                item: 1,
                field: "spec.containers[0].image".to_owned(),
                expected: "a string",
            },
        ),
        (
            "item not an object",
            r#"{"kind":"List","items":[3]}"#.to_owned(),
            InventoryError::InvalidField {
                item: 0,
                field: String::new(),
                expected: "an object (a Pod)",
            },
        ),
    ];
    for (name, input, want) in cases {
        let got = parse_pod_list(input.as_bytes()).expect_err(name);
        assert_eq!(got, want, "{name}");
    }
    let err = parse_pod_list(containers(r#"[{"name":"c"}]"#).as_bytes()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "item 1: spec.containers[0].image is missing"
    );
}

#[test]
fn reads_image_lists_skipping_comments_and_blank_lines() {
    let text = String::from_utf8(fixture("images.txt")).unwrap();
    let running = parse_image_list(&text, "images.txt").unwrap();
    let rows: Vec<(&str, Option<&str>, &str)> = running
        .iter()
        .map(|r| (r.image.as_str(), r.digest_ref.as_deref(), r.field.as_str()))
        .collect();
    let web = format!("registry.local/shop/web@sha256:{A}");
    let probe = "registry.local/probe@sha256:3333333333333333333333333333333333333333333333333333333333333333";
    assert_eq!(
        rows,
        [
            (web.as_str(), Some(web.as_str()), "line 2"),
            ("busybox:1.36", None, "line 4"),
            (probe, Some(probe), "line 6"),
        ]
    );
    assert!(
        running
            .iter()
            .all(|r| r.workload == Workload::new("", "List", "images.txt"))
    );
}

#[test]
fn rejects_image_list_lines_that_are_not_references() {
    let err = parse_image_list("nginx\n\nUPPER/Case:tag\n", "list.txt").unwrap_err();
    match &err {
        InventoryError::InvalidReference {
            file,
            line,
            reference,
            ..
        } => {
            assert_eq!(
                (file.as_str(), *line, reference.as_str()),
                ("list.txt", 3, "UPPER/Case:tag")
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        err.to_string()
            .starts_with("list.txt:3: \"UPPER/Case:tag\" is not an image reference"),
        "{err}"
    );
}
