//! Table tests of the public API.

use serde_json::{Map, Value, json};
use waxseal_oci::{
    Descriptor, Digest, Error, Index, Kind, MAX_MANIFEST_SIZE, ManifestDocument, SimpleSigning,
    docker_reference, fallback_tag, legacy_tag, media_type, referrer_manifest,
};

const EMPTY: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
const D3: &str = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

fn digest(s: &str) -> Digest {
    s.parse().expect("test digest parses")
}

enum Want {
    Index(usize),
    Manifest(usize),
    Reject(fn(&Error) -> bool),
}

struct ParseCase {
    name: &'static str,
    header: Option<&'static str>,
    body: String,
    want: Want,
}

fn parse_cases() -> Vec<ParseCase> {
    let oci_manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{EMPTY}","size":2}},"layers":[{{"mediaType":"a","digest":"{D1}","size":1}}],"futureField":{{"x":1}}}}"#,
        media_type::OCI_MANIFEST,
        media_type::OCI_EMPTY
    );
    let docker_manifest = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/oci-legacy/dir-img-cosign-valid/manifest.json"
    ))
    .expect("vector manifest");
    let index_body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{D1}","size":7,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}]}}"#,
        media_type::OCI_INDEX,
        media_type::OCI_MANIFEST
    );
    let docker_list = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","digest":"{D1}","size":7}},{{"mediaType":"{}","digest":"{D2}","size":8}}]}}"#,
        media_type::DOCKER_MANIFEST_LIST,
        media_type::DOCKER_MANIFEST,
        media_type::DOCKER_MANIFEST
    );
    let no_media_type = format!(
        r#"{{"schemaVersion":2,"config":{{"mediaType":"c","digest":"{EMPTY}","size":2}},"layers":[]}}"#
    );
    let mut oversize = oci_manifest.clone();
    oversize.push_str(&" ".repeat(MAX_MANIFEST_SIZE));
    vec![
        ParseCase {
            name: "oci manifest with unknown field",
            header: None,
            body: oci_manifest.clone(),
            want: Want::Manifest(1),
        },
        ParseCase {
            name: "oci manifest header agrees",
            header: Some(media_type::OCI_MANIFEST),
            body: oci_manifest.clone(),
            want: Want::Manifest(1),
        },
        ParseCase {
            name: "docker schema 2 manifest from the vectors",
            header: None,
            body: docker_manifest,
            want: Want::Manifest(1),
        },
        ParseCase {
            name: "oci index with platform",
            header: None,
            body: index_body,
            want: Want::Index(1),
        },
        ParseCase {
            name: "docker manifest list",
            header: Some(media_type::DOCKER_MANIFEST_LIST),
            body: docker_list,
            want: Want::Index(2),
        },
        ParseCase {
            name: "media type only from the header",
            header: Some(media_type::OCI_MANIFEST),
            body: no_media_type.clone(),
            want: Want::Manifest(0),
        },
        ParseCase {
            name: "no media type anywhere",
            header: None,
            body: no_media_type,
            want: Want::Reject(|e| matches!(e, Error::MissingMediaType)),
        },
        ParseCase {
            name: "header disagrees with body",
            header: Some(media_type::OCI_INDEX),
            body: oci_manifest.clone(),
            want: Want::Reject(|e| matches!(e, Error::MediaTypeMismatch { .. })),
        },
        ParseCase {
            name: "unknown media type",
            header: Some("application/vnd.docker.distribution.manifest.v1+prettyjws"),
            body: r#"{"schemaVersion":1}"#.to_owned(),
            want: Want::Reject(|e| matches!(e, Error::UnsupportedMediaType { .. })),
        },
        ParseCase {
            name: "wrong schema version",
            header: None,
            body: oci_manifest.replace("\"schemaVersion\":2", "\"schemaVersion\":3"),
            want: Want::Reject(|e| matches!(e, Error::UnsupportedSchemaVersion { found: 3 })),
        },
        ParseCase {
            name: "manifest without layers",
            header: Some(media_type::OCI_MANIFEST),
            body: format!(
                r#"{{"schemaVersion":2,"config":{{"mediaType":"c","digest":"{EMPTY}","size":2}}}}"#
            ),
            want: Want::Reject(|e| matches!(e, Error::MissingField { field: "layers" })),
        },
        ParseCase {
            name: "bad layer digest",
            header: None,
            body: oci_manifest.replace(D1, "sha256:ABC"),
            want: Want::Reject(|e| matches!(e, Error::InvalidDigest { .. })),
        },
        ParseCase {
            name: "negative size",
            header: None,
            body: oci_manifest.replace("\"size\":1", "\"size\":-1"),
            want: Want::Reject(|e| matches!(e, Error::Json { .. })),
        },
        ParseCase {
            name: "oversize",
            header: None,
            body: oversize,
            want: Want::Reject(|e| matches!(e, Error::TooLarge { .. })),
        },
        ParseCase {
            name: "not json",
            header: None,
            body: "nope".to_owned(),
            want: Want::Reject(|e| matches!(e, Error::Json { .. })),
        },
    ]
}

#[test]
fn parses_manifests_and_indexes_table() {
    for case in parse_cases() {
        let got = ManifestDocument::parse(case.header, case.body.as_bytes());
        match (&case.want, got) {
            (Want::Manifest(layers), Ok(ManifestDocument::Manifest(m))) => {
                assert_eq!(m.layers.len(), *layers, "{}", case.name);
            }
            (Want::Index(entries), Ok(ManifestDocument::Index(i))) => {
                assert_eq!(i.manifests.len(), *entries, "{}", case.name);
            }
            (Want::Reject(check), Err(e)) => assert!(check(&e), "{}: wrong error {e:?}", case.name),
            (_, got) => panic!("{}: unexpected {got:?}", case.name),
        }
    }
}

fn entry(d: &str, artifact_type: &str) -> Descriptor {
    let mut descriptor = Descriptor::new(media_type::OCI_MANIFEST, digest(d), 100);
    descriptor.artifact_type = Some(artifact_type.to_owned());
    descriptor
}

struct AddCase {
    name: &'static str,
    existing: &'static [&'static str],
    add: &'static str,
    want: &'static [&'static str],
}

const ADD_CASES: &[AddCase] = &[
    AddCase {
        name: "into empty",
        existing: &[],
        add: D2,
        want: &[D2],
    },
    AddCase {
        name: "keeps others and sorts",
        existing: &[D3, D1],
        add: D2,
        want: &[D1, D2, D3],
    },
    AddCase {
        name: "dedupes by digest",
        existing: &[D1, D2],
        add: D1,
        want: &[D1, D2],
    },
];

#[test]
fn adds_referrers_table() {
    for case in ADD_CASES {
        let mut index = Index::new();
        // Build the existing index unsorted, as another writer (sigstore-js) leaves it.
        index.manifests = case.existing.iter().map(|d| entry(d, "x")).collect();
        index.add_referrer(entry(case.add, "y"));
        let got: Vec<String> = index
            .manifests
            .iter()
            .map(|m| m.digest.to_string())
            .collect();
        assert_eq!(got, case.want, "{}", case.name);

        // The written body is a referrers index and reads back to the same value.
        let bytes = index.to_json();
        let back = Index::parse_referrers(&bytes).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(back, index, "{}: round trip", case.name);
    }
}

#[test]
fn add_referrer_turns_a_docker_list_into_an_oci_index() {
    let body = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[]}}"#,
        media_type::DOCKER_MANIFEST_LIST
    );
    let Ok(ManifestDocument::Index(mut index)) = ManifestDocument::parse(None, body.as_bytes())
    else {
        panic!("docker list parses");
    };
    index.add_referrer(entry(D1, "y"));
    assert_eq!(index.media_type, media_type::OCI_INDEX);
    assert_eq!(
        String::from_utf8(index.to_json()).expect("utf-8"),
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":100,"digest":"{D1}","artifactType":"y"}}]}}"#
        )
    );
}

#[test]
fn referrers_index_must_carry_the_index_media_type() {
    let cases: &[(&str, &str, bool)] = &[
        (
            "good",
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            true,
        ),
        (
            "no media type",
            r#"{"schemaVersion":2,"manifests":[]}"#,
            false,
        ),
        (
            "schema 1",
            r#"{"schemaVersion":1,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            false,
        ),
        (
            "manifest type",
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","manifests":[]}"#,
            false,
        ),
    ];
    for (name, body, ok) in cases {
        let got = Index::parse_referrers(body.as_bytes());
        assert_eq!(got.is_ok(), *ok, "{name}: {got:?}");
        if !ok {
            assert!(
                matches!(got, Err(Error::NotReferrersIndex { .. })),
                "{name}"
            );
        }
    }
}

#[test]
fn filters_referrers_by_artifact_type() {
    let mut index = Index::new();
    index.add_referrer(entry(D1, media_type::SIGSTORE_BUNDLE_V03));
    index.add_referrer(entry(D2, "application/spdx+json"));
    index.add_referrer(entry(D3, media_type::SIGSTORE_BUNDLE_V03));
    let got: Vec<Digest> = index
        .referrers_of(media_type::SIGSTORE_BUNDLE_V03)
        .into_iter()
        .map(|d| d.digest)
        .collect();
    assert_eq!(got, [digest(D1), digest(D3)]);
    assert!(index.referrers_of("none").is_empty());
}

#[test]
fn referrer_manifest_has_cosigns_exact_layout() {
    let subject = Descriptor::new(media_type::OCI_MANIFEST, digest(D1), 5);
    let mut subject_with_extras = subject.clone();
    subject_with_extras
        .annotations
        .insert("dropped".to_owned(), "yes".to_owned());
    let manifest = referrer_manifest(
        digest(D2),
        6,
        subject_with_extras,
        "https://sigstore.dev/cosign/sign/v1",
        "2025-01-02T03:04:05Z",
    );
    let want = format!(
        concat!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
            r#""config":{{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"{empty}","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}},"#,
            r#""layers":[{{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":6,"digest":"{d2}"}}],"#,
            r#""annotations":{{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2025-01-02T03:04:05Z"}},"#,
            r#""subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":5,"digest":"{d1}"}},"#,
            r#""artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}}"#
        ),
        empty = EMPTY,
        d1 = D1,
        d2 = D2
    );
    let bytes = manifest.to_json();
    assert_eq!(String::from_utf8(bytes.clone()).expect("utf-8"), want);

    // It reads back, and its fallback-index entry names the bundle artifact type.
    let Ok(ManifestDocument::Manifest(back)) = ManifestDocument::parse(None, &bytes) else {
        panic!("referrer manifest parses");
    };
    assert_eq!(back, manifest);
    let referrer = manifest.referrer_descriptor(&bytes);
    assert_eq!(referrer.digest, Digest::of(&bytes));
    assert_eq!(
        referrer.artifact_type.as_deref(),
        Some(media_type::SIGSTORE_BUNDLE_V03)
    );
    assert!(referrer.annotations.is_empty());
}

#[test]
fn tags_table() {
    let d = digest(D1);
    let hex = "1111111111111111111111111111111111111111111111111111111111111111";
    let cases: &[(&str, String, String)] = &[
        ("fallback", fallback_tag(&d), format!("sha256-{hex}")),
        (
            "sig",
            legacy_tag(&d, Kind::Signature),
            format!("sha256-{hex}.sig"),
        ),
        (
            "att",
            legacy_tag(&d, Kind::Attestation),
            format!("sha256-{hex}.att"),
        ),
        (
            "sbom",
            legacy_tag(&d, Kind::Sbom),
            format!("sha256-{hex}.sbom"),
        ),
    ];
    for (name, got, want) in cases {
        assert_eq!(got, want, "{name}");
    }
}

struct SigningCase {
    name: &'static str,
    reference: &'static str,
    optional: Option<Value>,
    want: &'static str,
}

#[test]
fn simple_signing_bytes_table() {
    let cases = [
        SigningCase {
            name: "no annotations",
            reference: "index.docker.io/library/alpine",
            optional: None,
            want: r#"{"critical":{"identity":{"docker-reference":"index.docker.io/library/alpine"},"image":{"docker-manifest-digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"},"type":"cosign container image signature"},"optional":null}"#,
        },
        SigningCase {
            name: "annotations sorted by key",
            reference: "ghcr.io/o/r",
            optional: Some(json!({"zeta": "1", "alpha": "2", "mid": {"b": 1, "a": true}})),
            want: r#"{"critical":{"identity":{"docker-reference":"ghcr.io/o/r"},"image":{"docker-manifest-digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"},"type":"cosign container image signature"},"optional":{"alpha":"2","mid":{"a":true,"b":1},"zeta":"1"}}"#,
        },
        SigningCase {
            name: "html characters escaped as Go does",
            reference: "ghcr.io/o/r",
            optional: Some(json!({"note": "<a> & b"})),
            want: r#"{"critical":{"identity":{"docker-reference":"ghcr.io/o/r"},"image":{"docker-manifest-digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"},"type":"cosign container image signature"},"optional":{"note":"\u003ca\u003e \u0026 b"}}"#,
        },
        SigningCase {
            name: "empty annotations map",
            reference: "ghcr.io/o/r",
            optional: Some(json!({})),
            want: r#"{"critical":{"identity":{"docker-reference":"ghcr.io/o/r"},"image":{"docker-manifest-digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111"},"type":"cosign container image signature"},"optional":{}}"#,
        },
    ];
    for case in cases {
        let optional: Option<Map<String, Value>> = case.optional.map(|v| match v {
            Value::Object(map) => map,
            _ => unreachable!("test optional is an object"),
        });
        let payload = SimpleSigning::new(case.reference, digest(D1), optional);
        let bytes = payload.to_bytes();
        assert_eq!(
            String::from_utf8(bytes.clone()).expect("utf-8"),
            case.want,
            "{}",
            case.name
        );
        let back = SimpleSigning::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(back, payload, "{}: parse round trip", case.name);
    }
}

#[test]
fn simple_signing_parse_is_strict_about_critical_table() {
    let good_digest = D1;
    type Case = (&'static str, String, fn(&Error) -> bool);
    let cases: &[Case] = &[
        (
            "wrong type",
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{good_digest}"}},"type":"atomic container signature"}},"optional":null}}"#
            ),
            |e| matches!(e, Error::UnknownSignatureType { .. }),
        ),
        (
            "missing type",
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{good_digest}"}}}}}}"#
            ),
            |e| matches!(e, Error::Json { .. }),
        ),
        (
            "bad digest",
            r#"{"critical":{"identity":{"docker-reference":"r"},"image":{"docker-manifest-digest":"sha256:abc"},"type":"cosign container image signature"}}"#.to_owned(),
            |e| matches!(e, Error::InvalidDigest { .. }),
        ),
        (
            "unknown critical field",
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{good_digest}"}},"type":"cosign container image signature","extra":1}}}}"#
            ),
            |e| matches!(e, Error::Json { .. }),
        ),
        (
            "type not a string",
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{good_digest}"}},"type":7}}}}"#
            ),
            |e| matches!(e, Error::Json { .. }),
        ),
        (
            "optional not an object",
            format!(
                r#"{{"critical":{{"identity":{{"docker-reference":"r"}},"image":{{"docker-manifest-digest":"{good_digest}"}},"type":"cosign container image signature"}},"optional":"x"}}"#
            ),
            |e| matches!(e, Error::Json { .. }),
        ),
    ];
    for (name, body, check) in cases {
        match SimpleSigning::parse(body.as_bytes()) {
            Err(e) => assert!(check(&e), "{name}: wrong error {e:?}"),
            Ok(p) => panic!("{name}: accepted {p:?}"),
        }
    }
}

#[test]
fn docker_reference_table() {
    let cases: &[(&str, Option<&str>)] = &[
        ("alpine", Some("index.docker.io/library/alpine")),
        ("alpine:3.20", Some("index.docker.io/library/alpine")),
        (
            "docker.io/library/alpine:latest",
            Some("index.docker.io/library/alpine"),
        ),
        ("docker.io/alpine", Some("index.docker.io/library/alpine")),
        ("index.docker.io/user/app", Some("index.docker.io/user/app")),
        ("user/app:v1", Some("index.docker.io/user/app")),
        ("ghcr.io/o/r:tag", Some("ghcr.io/o/r")),
        (
            "192.168.64.2:5000/cosign-signed-single-sample",
            Some("192.168.64.2:5000/cosign-signed-single-sample"),
        ),
        ("localhost/app", Some("localhost/app")),
        ("localhost:5000/a/b:t", Some("localhost:5000/a/b")),
        (
            "ghcr.io/o/r@sha256:1111111111111111111111111111111111111111111111111111111111111111",
            Some("ghcr.io/o/r"),
        ),
        (
            "ghcr.io/o/r:t@sha256:1111111111111111111111111111111111111111111111111111111111111111",
            Some("ghcr.io/o/r"),
        ),
        ("ghcr.io/O/r", None),
        ("ghcr.io/o/r:", None),
        ("ghcr.io/o/r@sha256:abc", None),
        ("", None),
        ("ghcr.io/", None),
    ];
    for (input, want) in cases {
        let got = docker_reference(input);
        assert_eq!(got.as_deref().ok(), *want, "{input:?}: {got:?}");
    }
}
