//! Predicate check tables: a valid document per type, then the same document without each
//! required field, whose error must name the field.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};

use super::*;

struct Case {
    name: &'static str,
    predicate_type: &'static str,
    valid: fn() -> Value,
    /// JSON pointers (into the predicate) of required fields, each removed in turn, and the
    /// error message that must follow.
    required: &'static [(&'static str, &'static str)],
}

fn slsa_v1() -> Value {
    json!({
        "buildDefinition": {
            "buildType": GITHUB_WORKFLOW_BUILD_TYPE,
            "externalParameters": {
                "workflow": {"ref": "refs/tags/v1", "repository": "https://github.com/o/r", "path": ".github/workflows/r.yml"}
            },
            "internalParameters": {"github": {"event_name": "push"}},
            "resolvedDependencies": [{"uri": "git+https://github.com/o/r@refs/tags/v1", "digest": {"gitCommit": "ab"}}]
        },
        "runDetails": {
            "builder": {"id": "https://github.com/o/r/.github/workflows/r.yml@refs/tags/v1"},
            "metadata": {"invocationId": "https://github.com/o/r/actions/runs/1/attempts/1"}
        }
    })
}

fn slsa_v02() -> Value {
    json!({
        "builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v2.1.0"},
        "buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
        "invocation": {"configSource": {"uri": "git+https://github.com/o/r@refs/tags/v1", "digest": {"sha1": "ab"}, "entryPoint": "x"}},
        "materials": [{"uri": "git+https://github.com/o/r@refs/tags/v1", "digest": {"sha1": "ab"}}]
    })
}

fn cyclonedx(spec: &str) -> Value {
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {"timestamp": "2024-01-01T00:00:00Z"},
        "components": [{"type": "library", "name": "serde", "version": "1.0.0"}]
    })
}

fn spdx(version: &str) -> Value {
    json!({
        "spdxVersion": version,
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "app",
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.com/spdx/app-1.0",
        "creationInfo": {"created": "2024-01-01T00:00:00Z", "creators": ["Tool: waxseal"]},
        "packages": [{"SPDXID": "SPDXRef-app", "name": "app", "downloadLocation": "NOASSERTION"}]
    })
}

fn spdx3() -> Value {
    json!({
        "@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld",
        "@graph": [
            {"type": "CreationInfo", "@id": "_:c", "specVersion": "3.0.1", "created": "2024-01-01T00:00:00Z", "createdBy": ["urn:x"]},
            {"type": "SpdxDocument", "spdxId": "urn:doc", "creationInfo": "_:c", "rootElement": []}
        ]
    })
}

fn openvex() -> Value {
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "waxseal",
        "timestamp": "2024-01-01T00:00:00Z",
        "version": 1,
        "statements": [
            {"vulnerability": {"name": "CVE-2024-0001"}, "products": [{"@id": "pkg:cargo/app@1"}], "status": "not_affected", "justification": "vulnerable_code_not_present"},
            {"vulnerability": {"name": "CVE-2024-0002"}, "status": "affected", "action_statement": "upgrade"}
        ]
    })
}

fn cosign_vuln() -> Value {
    json!({
        "invocation": {"uri": "x", "event_id": "1", "builder.id": "b"},
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.50.0", "result": {}},
        "metadata": {"scanStartedOn": "2024-01-01T00:00:00Z", "scanFinishedOn": "2024-01-01T00:00:01Z"}
    })
}

fn in_toto_vulns() -> Value {
    json!({
        "scanner": {"uri": "pkg:github/aquasecurity/trivy", "result": [{"id": "CVE-2024-0001"}]},
        "metadata": {"scanStartedOn": "2024-01-01T00:00:00Z"}
    })
}

const CASES: &[Case] = &[
    Case {
        name: "SLSA v1",
        predicate_type: SLSA_PROVENANCE_V1,
        valid: slsa_v1,
        required: &[
            ("/buildDefinition", "predicate.buildDefinition: missing"),
            (
                "/buildDefinition/buildType",
                "predicate.buildDefinition.buildType: missing",
            ),
            (
                "/buildDefinition/externalParameters",
                "predicate.buildDefinition.externalParameters: missing",
            ),
            (
                "/buildDefinition/externalParameters/workflow",
                "predicate.buildDefinition.externalParameters.workflow: missing",
            ),
            (
                "/buildDefinition/externalParameters/workflow/ref",
                "predicate.buildDefinition.externalParameters.workflow.ref: missing",
            ),
            (
                "/buildDefinition/externalParameters/workflow/repository",
                "predicate.buildDefinition.externalParameters.workflow.repository: missing",
            ),
            (
                "/buildDefinition/externalParameters/workflow/path",
                "predicate.buildDefinition.externalParameters.workflow.path: missing",
            ),
            ("/runDetails", "predicate.runDetails: missing"),
            (
                "/runDetails/builder",
                "predicate.runDetails.builder: missing",
            ),
            (
                "/runDetails/builder/id",
                "predicate.runDetails.builder.id: missing",
            ),
        ],
    },
    Case {
        name: "SLSA v0.2",
        predicate_type: SLSA_PROVENANCE_V02,
        valid: slsa_v02,
        required: &[
            ("/builder", "predicate.builder: missing"),
            ("/builder/id", "predicate.builder.id: missing"),
            ("/buildType", "predicate.buildType: missing"),
        ],
    },
    Case {
        name: "CycloneDX 1.4",
        predicate_type: CYCLONEDX_BOM,
        valid: || cyclonedx("1.4"),
        required: &[
            ("/bomFormat", "predicate.bomFormat: missing"),
            ("/specVersion", "predicate.specVersion: missing"),
            (
                "/components/0/type",
                "predicate.components[0].type: missing",
            ),
            (
                "/components/0/name",
                "predicate.components[0].name: missing",
            ),
        ],
    },
    Case {
        name: "CycloneDX 1.5",
        predicate_type: CYCLONEDX_BOM,
        valid: || cyclonedx("1.5"),
        required: &[("/specVersion", "predicate.specVersion: missing")],
    },
    Case {
        name: "CycloneDX 1.6 under a versioned URI",
        predicate_type: "https://cyclonedx.org/bom/v1.6",
        valid: || cyclonedx("1.6"),
        required: &[("/bomFormat", "predicate.bomFormat: missing")],
    },
    Case {
        name: "SPDX 2.3",
        predicate_type: SPDX_DOCUMENT,
        valid: || spdx("SPDX-2.3"),
        required: &[
            ("/spdxVersion", "predicate.spdxVersion: missing"),
            ("/SPDXID", "predicate.SPDXID: missing"),
            ("/name", "predicate.name: missing"),
            ("/dataLicense", "predicate.dataLicense: missing"),
            ("/documentNamespace", "predicate.documentNamespace: missing"),
            ("/creationInfo", "predicate.creationInfo: missing"),
            (
                "/creationInfo/created",
                "predicate.creationInfo.created: missing",
            ),
            (
                "/creationInfo/creators",
                "predicate.creationInfo.creators: missing",
            ),
            (
                "/packages/0/downloadLocation",
                "predicate.packages[0].downloadLocation: missing",
            ),
        ],
    },
    Case {
        name: "SPDX 2.2",
        predicate_type: "https://spdx.dev/Document/v2.2",
        valid: || spdx("SPDX-2.2"),
        required: &[("/dataLicense", "predicate.dataLicense: missing")],
    },
    Case {
        name: "SPDX 3 JSON-LD",
        predicate_type: SPDX_DOCUMENT,
        valid: spdx3,
        required: &[
            ("/@context", "predicate.@context: missing"),
            ("/@graph/1", "predicate.@graph[type=SpdxDocument]: missing"),
            ("/@graph/0/type", "predicate.@graph[0].type: missing"),
        ],
    },
    Case {
        name: "OpenVEX",
        predicate_type: OPENVEX,
        valid: openvex,
        required: &[
            ("/@context", "predicate.@context: missing"),
            ("/@id", "predicate.@id: missing"),
            ("/author", "predicate.author: missing"),
            ("/timestamp", "predicate.timestamp: missing"),
            ("/version", "predicate.version: missing"),
            ("/statements", "predicate.statements: missing"),
            (
                "/statements/0/vulnerability",
                "predicate.statements[0].vulnerability: missing",
            ),
            (
                "/statements/0/status",
                "predicate.statements[0].status: missing",
            ),
            (
                "/statements/0/justification",
                "predicate.statements[0].justification: missing",
            ),
            (
                "/statements/1/action_statement",
                "predicate.statements[1].action_statement: missing",
            ),
        ],
    },
    Case {
        name: "cosign vuln",
        predicate_type: COSIGN_VULN_V1,
        valid: cosign_vuln,
        required: &[
            ("/scanner", "predicate.scanner: missing"),
            ("/scanner/uri", "predicate.scanner.uri: missing"),
            ("/scanner/result", "predicate.scanner.result: missing"),
        ],
    },
    Case {
        name: "in-toto vulns",
        predicate_type: IN_TOTO_VULNS_V02,
        valid: in_toto_vulns,
        required: &[
            ("/scanner", "predicate.scanner: missing"),
            ("/scanner/uri", "predicate.scanner.uri: missing"),
            (
                "/scanner/result/0/id",
                "predicate.scanner.result[0].id: missing",
            ),
        ],
    },
];

/// Removes the value at `pointer` (RFC 6901, no escapes needed here).
fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = if parent.is_empty() {
        doc
    } else {
        doc.pointer_mut(parent).unwrap()
    };
    match parent {
        Value::Object(map) => {
            map.remove(key).unwrap();
        }
        Value::Array(items) => {
            items.remove(key.parse().unwrap());
        }
        _ => panic!("{pointer}: parent is not a container"),
    }
}

#[test]
fn each_predicate_type_requires_its_fields() {
    for case in CASES {
        let valid = (case.valid)();
        assert_eq!(
            check_predicate(case.predicate_type, &valid),
            Ok(()),
            "{}",
            case.name
        );
        for (pointer, message) in case.required {
            let mut doc = valid.clone();
            remove(&mut doc, pointer);
            let err = check_predicate(case.predicate_type, &doc)
                .expect_err(&format!("{}: without {pointer}", case.name));
            assert_eq!(
                err.to_string(),
                *message,
                "{}: without {pointer}",
                case.name
            );
        }
    }
}

#[test]
fn rejects_wrong_values_naming_the_field() {
    struct Bad {
        name: &'static str,
        predicate_type: &'static str,
        doc: Value,
        path: &'static str,
    }
    let mut slsa_unknown = slsa_v1();
    slsa_unknown["buildDefinition"]["externalParameters"]["evil"] = json!(1);
    let mut slsa_type = slsa_v1();
    slsa_type["buildDefinition"]["buildType"] = json!(7);
    let mut dep = slsa_v1();
    dep["buildDefinition"]["resolvedDependencies"] = json!([{"name": "x"}]);
    let mut cdx_format = cyclonedx("1.5");
    cdx_format["bomFormat"] = json!("SPDX");
    let mut cdx_serial = cyclonedx("1.5");
    cdx_serial["serialNumber"] = json!("1234");
    let mut spdx_id = spdx("SPDX-2.3");
    spdx_id["SPDXID"] = json!("SPDXRef-app");
    let mut spdx_license = spdx("SPDX-2.3");
    spdx_license["dataLicense"] = json!("MIT");
    let mut spdx_ns = spdx("SPDX-2.3");
    spdx_ns["documentNamespace"] = json!("https://example.com/x#frag");
    let mut vex_status = openvex();
    vex_status["statements"][0]["status"] = json!("maybe");
    let mut vex_just = openvex();
    vex_just["statements"][0]["justification"] = json!("trust_me");
    let bad = [
        Bad {
            name: "unknown GitHub external parameter",
            predicate_type: SLSA_PROVENANCE_V1,
            doc: slsa_unknown,
            path: "predicate.buildDefinition.externalParameters.evil",
        },
        Bad {
            name: "buildType not a string",
            predicate_type: SLSA_PROVENANCE_V1,
            doc: slsa_type,
            path: "predicate.buildDefinition.buildType",
        },
        Bad {
            name: "dependency without uri, digest or content",
            predicate_type: SLSA_PROVENANCE_V1,
            doc: dep,
            path: "predicate.buildDefinition.resolvedDependencies[0].uri",
        },
        Bad {
            name: "bomFormat not CycloneDX",
            predicate_type: CYCLONEDX_BOM,
            doc: cdx_format,
            path: "predicate.bomFormat",
        },
        Bad {
            name: "CycloneDX 2.0",
            predicate_type: CYCLONEDX_BOM,
            doc: cyclonedx("2.0"),
            path: "predicate.specVersion",
        },
        Bad {
            name: "CycloneDX XML-only 1.1",
            predicate_type: CYCLONEDX_BOM,
            doc: cyclonedx("1.1"),
            path: "predicate.specVersion",
        },
        Bad {
            name: "serialNumber not a urn:uuid",
            predicate_type: CYCLONEDX_BOM,
            doc: cdx_serial,
            path: "predicate.serialNumber",
        },
        Bad {
            name: "SPDX 2.1",
            predicate_type: SPDX_DOCUMENT,
            doc: spdx("SPDX-2.1"),
            path: "predicate.spdxVersion",
        },
        Bad {
            name: "SPDXID not the document",
            predicate_type: SPDX_DOCUMENT,
            doc: spdx_id,
            path: "predicate.SPDXID",
        },
        Bad {
            name: "dataLicense not CC0",
            predicate_type: SPDX_DOCUMENT,
            doc: spdx_license,
            path: "predicate.dataLicense",
        },
        Bad {
            name: "namespace with fragment",
            predicate_type: SPDX_DOCUMENT,
            doc: spdx_ns,
            path: "predicate.documentNamespace",
        },
        Bad {
            name: "CycloneDX BOM as SPDX",
            predicate_type: SPDX_DOCUMENT,
            doc: cyclonedx("1.5"),
            path: "predicate.spdxVersion",
        },
        Bad {
            name: "unknown VEX status",
            predicate_type: OPENVEX,
            doc: vex_status,
            path: "predicate.statements[0].status",
        },
        Bad {
            name: "unknown VEX justification",
            predicate_type: OPENVEX,
            doc: vex_just,
            path: "predicate.statements[0].justification",
        },
        Bad {
            name: "unknown type not an object",
            predicate_type: "https://example.com/custom",
            doc: json!([1]),
            path: "predicate",
        },
        Bad {
            name: "SLSA v1 not an object",
            predicate_type: SLSA_PROVENANCE_V1,
            doc: json!("x"),
            path: "predicate",
        },
    ];
    for b in bad {
        let err = check_predicate(b.predicate_type, &b.doc).expect_err(b.name);
        assert!(
            err.to_string().starts_with(&format!("{}:", b.path)),
            "{}: {err}",
            b.name
        );
    }
    assert_eq!(
        check_predicate("https://example.com/custom", &json!({})),
        Ok(())
    );
}

#[test]
fn predicate_names_resolve_as_cosign() {
    let cases = [
        ("slsaprovenance", SLSA_PROVENANCE_V02),
        ("slsaprovenance02", SLSA_PROVENANCE_V02),
        ("slsaprovenance1", SLSA_PROVENANCE_V1),
        ("link", IN_TOTO_LINK_V1),
        ("spdx", SPDX_DOCUMENT),
        ("spdxjson", SPDX_DOCUMENT),
        ("cyclonedx", CYCLONEDX_BOM),
        ("cyclonedxxml", CYCLONEDX_BOM),
        ("vuln", COSIGN_VULN_V1),
        ("openvex", OPENVEX),
        ("custom", COSIGN_CUSTOM_V1),
        ("https://example.com/p/v1", "https://example.com/p/v1"),
        ("urn:example:p", "urn:example:p"),
    ];
    for (name, uri) in cases {
        assert_eq!(predicate_type_uri(name), Ok(uri.to_owned()), "{name}");
    }
    for bad in [
        "",
        "slsa",
        "SPDX",
        "relative/path",
        "has space:x",
        "1http://x",
        "http:",
    ] {
        assert_eq!(
            predicate_type_uri(bad),
            Err(Error::InvalidPredicateType { value: bad.into() }),
            "{bad:?}"
        );
    }
}
