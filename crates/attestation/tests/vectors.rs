//! shared/vectors/attestations: each case checked with its certificate and upstream flags.

use serde_json::{Value, json};
use waxseal_attestation::{
    Error, GITHUB_HOSTED_RUNNER, ProvenanceRequirements, Statement, check_provenance,
};

use crate::support::{self, facts};

#[test]
fn every_vector_passes_or_fails_as_slsa_verifier() {
    let manifest = support::manifest();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 3, "manifest case count changed");
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let statement = support::statement(case);
        assert_eq!(
            statement.predicate_type(),
            case["expected_predicate_type"],
            "{id}"
        );
        let subject = &case["statement"]["subjects"][0]["digest"]["sha256"];
        assert!(
            statement.has_subject_digest("sha256", subject.as_str().unwrap()),
            "{id}: subject digest"
        );
        let (san, issuer, ext) = (
            support::san(case),
            support::issuer(case),
            support::extensions(case),
        );
        let got = check_provenance(
            &statement,
            &facts(&san, &issuer, &ext),
            &support::upstream_requirements(case),
        );
        match case["expected_result"].as_str().unwrap() {
            "pass" => {
                let verified = got.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(verified.builder_id(), case["expected_builder_id"], "{id}");
                assert_eq!(
                    verified.source_uri(),
                    case["expected_source_repository"],
                    "{id}"
                );
                assert_eq!(
                    verified.build_type(),
                    case["statement"]["buildType"],
                    "{id}"
                );
                assert_eq!(
                    verified.source_ref(),
                    case["certificate"]["source_repository_ref"],
                    "{id}"
                );
            }
            "fail" => {
                let err = got.expect_err(id);
                assert!(
                    matches!(err, Error::BuilderMismatch { .. }),
                    "{id}: want a builder-binding error, got {err}"
                );
                assert!(
                    err.to_string().contains("malicious_attestation.yaml"),
                    "{id}: {err}"
                );
            }
            other => panic!("{id}: unknown expected_result {other}"),
        }
    }
}

fn check_generic(req: ProvenanceRequirements) -> Result<(), Error> {
    let case = support::case("gha-generic-v2.1.0-push-v13.0.30");
    let statement = support::statement(&case);
    let (san, issuer, ext) = (
        support::san(&case),
        support::issuer(&case),
        support::extensions(&case),
    );
    let base = support::upstream_requirements(&case);
    let req = ProvenanceRequirements {
        source_uri: base.source_uri,
        builder_id: base.builder_id,
        ..req
    };
    check_provenance(&statement, &facts(&san, &issuer, &ext), &req).map(|_| ())
}

/// slsa-verifier main_regression_test.go Test_runVerifyGHAArtifactPath, push-v13.0.30.
#[test]
fn gha_generic_tags_match_as_upstream_regression_tests() {
    for tag in ["v13.0.29", "v13.0", "v13"] {
        let got = check_generic(ProvenanceRequirements {
            source_tag: Some(tag.into()),
            ..Default::default()
        });
        assert_eq!(
            got,
            Err(Error::TagMismatch {
                expected: tag.into(),
                actual: Some("v13.0.30".into())
            }),
            "tag {tag}"
        );
    }
    assert_eq!(
        check_generic(ProvenanceRequirements {
            source_tag: Some("v13.0.30".into()),
            ..Default::default()
        }),
        Ok(()),
        "tag v13.0.30"
    );
    for versioned in ["v2", "v0", "v13.1", "v12.9", "v13.0.29", "v13.0.31"] {
        let got = check_generic(ProvenanceRequirements {
            source_versioned_tag: Some(versioned.into()),
            ..Default::default()
        });
        assert!(
            matches!(got, Err(Error::VersionedTagMismatch { .. })),
            "versioned {versioned}: {got:?}"
        );
    }
    for versioned in ["v13.0.30", "v13.0", "v13"] {
        let got = check_generic(ProvenanceRequirements {
            source_versioned_tag: Some(versioned.into()),
            ..Default::default()
        });
        assert_eq!(got, Ok(()), "versioned {versioned}");
    }
}

/// The bcr statement checked under its own certificate with `edit` applied.
fn check_bcr(
    edit_predicate: impl Fn(&mut Value),
    edit_ext: impl Fn(&mut std::collections::BTreeMap<String, String>),
    req: ProvenanceRequirements,
) -> Result<String, Error> {
    let case = support::case("bcr-module-bazel");
    let real = support::statement(&case);
    let mut predicate = real.predicate().clone();
    edit_predicate(&mut predicate);
    let statement =
        Statement::new(real.subjects().to_vec(), real.predicate_type(), predicate).unwrap();
    let mut ext = support::extensions(&case);
    edit_ext(&mut ext);
    let san = ext
        .get("1.3.6.1.4.1.57264.1.9")
        .cloned()
        .unwrap_or_else(|| support::san(&case));
    let issuer = support::issuer(&case);
    check_provenance(&statement, &facts(&san, &issuer, &ext), &req)
        .map(|v| v.builder_id().to_owned())
}

fn bcr_flags() -> ProvenanceRequirements {
    support::upstream_requirements(&support::case("bcr-module-bazel"))
}

const BCR_BUILDER: &str =
    "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml";

#[test]
fn builder_id_requirement_compares_as_slsa_verifier() {
    struct Case {
        name: &'static str,
        builder_id: Option<&'static str>,
        ok: bool,
    }
    let cases = [
        Case {
            name: "name only",
            builder_id: Some(BCR_BUILDER),
            ok: true,
        },
        Case {
            name: "short tag",
            builder_id: Some("@v0.0.1"),
            ok: true,
        },
        Case {
            name: "full ref",
            builder_id: Some("@refs/tags/v0.0.1"),
            ok: true,
        },
        Case {
            name: "other tag",
            builder_id: Some("@v0.0.2"),
            ok: false,
        },
        Case {
            name: "other workflow",
            builder_id: Some(
                "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/other.yaml",
            ),
            ok: false,
        },
        Case {
            name: "absent: not a default builder",
            builder_id: None,
            ok: false,
        },
    ];
    for case in cases {
        let builder_id = case.builder_id.map(|b| {
            if b.starts_with('@') {
                format!("{BCR_BUILDER}{b}")
            } else {
                b.to_owned()
            }
        });
        let req = ProvenanceRequirements {
            builder_id,
            ..bcr_flags()
        };
        let got = check_bcr(|_| {}, |_| {}, req);
        if case.ok {
            assert_eq!(
                got,
                Ok(format!("{BCR_BUILDER}@refs/tags/v0.0.1")),
                "{}",
                case.name
            );
        } else {
            assert!(
                matches!(got, Err(Error::UntrustedBuilder { .. })),
                "{}: {got:?}",
                case.name
            );
        }
    }
}

#[test]
fn rejects_provenance_that_disagrees_with_its_certificate() {
    type Edit = fn(&mut Value);
    type ExtEdit = fn(&mut std::collections::BTreeMap<String, String>);
    struct Case {
        name: &'static str,
        predicate: Edit,
        ext: ExtEdit,
        want: fn(&Error) -> bool,
    }
    let cases: &[Case] = &[
        Case {
            name: "predicate claims another builder",
            predicate: |p| {
                p["runDetails"]["builder"]["id"] = json!(format!("{BCR_BUILDER}@refs/tags/v9.9.9"))
            },
            ext: |_| {},
            want: |e| matches!(e, Error::BuilderMismatch { .. }),
        },
        Case {
            name: "source dependency from another repository",
            predicate: |p| {
                p["buildDefinition"]["resolvedDependencies"][0]["uri"] =
                    json!("git+https://github.com/evil/rules_lint@refs/heads/publish-to-bcr")
            },
            ext: |_| {},
            want: |e| matches!(e, Error::SourceMismatch { .. }),
        },
        Case {
            name: "workflow repository other than the certificate's",
            predicate: |p| {
                p["buildDefinition"]["externalParameters"]["workflow"]["repository"] =
                    json!("https://github.com/evil/rules_lint")
            },
            ext: |_| {},
            want: |e| matches!(e, Error::SourceMismatch { .. }),
        },
        Case {
            name: "ref other than the certificate's",
            predicate: |p| {
                p["buildDefinition"]["externalParameters"]["workflow"]["ref"] =
                    json!("refs/heads/main");
                p["buildDefinition"]["resolvedDependencies"][0]["uri"] =
                    json!("git+https://github.com/aspect-build/rules_lint@refs/heads/main");
            },
            ext: |_| {},
            want: |e| matches!(e, Error::SourceMismatch { .. }),
        },
        Case {
            name: "commit other than the certificate's",
            predicate: |p| {
                p["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] =
                    json!("0".repeat(40))
            },
            ext: |_| {},
            want: |e| matches!(e, Error::SourceMismatch { .. }),
        },
        Case {
            name: "builder missing",
            predicate: |p| p["runDetails"]["builder"] = json!({}),
            ext: |_| {},
            want: |e| e.to_string() == "predicate.runDetails.builder.id: missing",
        },
        Case {
            name: "Build Signer URI not a github.com workflow",
            predicate: |_| {},
            ext: |x| {
                x.insert(
                    "1.3.6.1.4.1.57264.1.9".into(),
                    "https://example.com/x@v1".into(),
                );
            },
            want: |e| matches!(e, Error::InvalidBuilderId { .. }),
        },
        Case {
            name: "builder used at a branch",
            predicate: |p| {
                p["runDetails"]["builder"]["id"] = json!(format!("{BCR_BUILDER}@refs/heads/main"))
            },
            ext: |x| {
                x.insert(
                    "1.3.6.1.4.1.57264.1.9".into(),
                    format!("{BCR_BUILDER}@refs/heads/main"),
                );
            },
            want: |e| matches!(e, Error::InvalidBuilderRef { .. }),
        },
        Case {
            name: "no Source Repository URI",
            predicate: |_| {},
            ext: |x| {
                x.remove("1.3.6.1.4.1.57264.1.12");
                x.remove("1.3.6.1.4.1.57264.1.5");
            },
            want: |e| matches!(e, Error::MissingExtension { .. }),
        },
    ];
    for case in cases {
        let got = check_bcr(case.predicate, case.ext, bcr_flags());
        let err = got.expect_err(case.name);
        assert!((case.want)(&err), "{}: {err}", case.name);
    }
}

#[test]
fn source_uri_and_ref_requirements() {
    let with = |source_uri: &str, source_ref: Option<&str>| {
        check_bcr(
            |_| {},
            |_| {},
            ProvenanceRequirements {
                source_uri: Some(source_uri.into()),
                source_ref: source_ref.map(str::to_owned),
                ..bcr_flags()
            },
        )
    };
    assert!(with("github.com/aspect-build/rules_lint", Some("publish-to-bcr")).is_ok());
    assert!(
        with(
            "git+https://github.com/aspect-build/rules_lint",
            Some("refs/heads/publish-to-bcr")
        )
        .is_ok()
    );
    assert!(matches!(
        with("github.com/aspect-build/rules_lint", Some("main")),
        Err(Error::RefMismatch { .. })
    ));
    assert!(matches!(
        with("github.com/loosebazooka/aa-test", None),
        Err(Error::SourceMismatch { .. })
    ));
    assert!(matches!(
        with("gitlab.com/aspect-build/rules_lint", None),
        Err(Error::InvalidValue { .. })
    ));
}

#[test]
fn rejects_certificate_from_another_issuer() {
    let case = support::case("bcr-module-bazel");
    let statement = support::statement(&case);
    let (san, ext) = (support::san(&case), support::extensions(&case));
    let got = check_provenance(
        &statement,
        &facts(&san, "https://accounts.google.com", &ext),
        &bcr_flags(),
    );
    assert!(matches!(got, Err(Error::IssuerMismatch { .. })), "{got:?}");

    let issuer = support::issuer(&case);
    let other_san = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.2";
    let got = check_provenance(&statement, &facts(other_san, &issuer, &ext), &bcr_flags());
    assert!(
        matches!(got, Err(Error::CertificateInconsistent { .. })),
        "{got:?}"
    );
}

/// GitHub artifact attestations claim GitHub's runner as builder; the binding is the
/// certificate's Runner Environment and Build Config URI.
#[test]
fn runner_builder_binds_through_the_certificate() {
    const CONFIG: &str = "https://github.com/aspect-build/rules_lint/.github/workflows/release.yml@refs/heads/publish-to-bcr";
    let as_runner = |p: &mut Value| p["runDetails"]["builder"]["id"] = json!(GITHUB_HOSTED_RUNNER);
    let own_workflow = |x: &mut std::collections::BTreeMap<String, String>| {
        x.insert("1.3.6.1.4.1.57264.1.9".into(), CONFIG.into());
    };
    let no_builder = ProvenanceRequirements {
        builder_id: None,
        ..bcr_flags()
    };
    assert_eq!(
        check_bcr(as_runner, own_workflow, no_builder.clone()),
        Ok(GITHUB_HOSTED_RUNNER.into())
    );
    let required = ProvenanceRequirements {
        builder_id: Some(GITHUB_HOSTED_RUNNER.into()),
        ..bcr_flags()
    };
    assert_eq!(
        check_bcr(as_runner, own_workflow, required),
        Ok(GITHUB_HOSTED_RUNNER.into())
    );

    let self_hosted = |x: &mut std::collections::BTreeMap<String, String>| {
        own_workflow(x);
        x.insert("1.3.6.1.4.1.57264.1.11".into(), "self-hosted".into());
    };
    assert!(matches!(
        check_bcr(as_runner, self_hosted, no_builder.clone()),
        Err(Error::BuilderMismatch { .. })
    ));
    let other_config = |x: &mut std::collections::BTreeMap<String, String>| {
        own_workflow(x);
        x.insert(
            "1.3.6.1.4.1.57264.1.18".into(),
            CONFIG.replace("release.yml", "evil.yml"),
        );
    };
    assert!(matches!(
        check_bcr(as_runner, other_config, no_builder),
        Err(Error::BuilderMismatch { .. })
    ));
}
