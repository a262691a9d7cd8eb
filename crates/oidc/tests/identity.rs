//! Claims → certificate identity, against Fulcio's own test vectors where they exist.

use serde_json::{Value, json};
use waxseal_oidc::{
    IdentityError, IssuerConfig, IssuerType, OID_ISSUER, OID_ISSUER_V2, OID_TOKEN_SUBJECT,
    OidcConfig, SubjectAlternativeName, Verifier,
};

use crate::idp::*;

/// Claims and expected values from sigstore/fulcio `pkg/identity/ciprovider/principal_test.go`
/// (`TestEmbed`, "Github workflow challenge should have all Github workflow extensions and
/// issuer set"), Apache-2.0.
#[test]
fn github_actions_claims_map_to_fulcio_oids() {
    let idp = Idp::new(&[GITHUB_ISSUER]);
    let claims = json!({
        "iss": GITHUB_ISSUER, "aud": "sigstore", "iat": NOW, "exp": NOW + 300,
        "sub": "repo:repository:ref:ref",
        "event_name": "trigger", "sha": "sha", "workflow": "workflowname",
        "repository": "repository", "ref": "ref", "job_workflow_sha": "jobWorkflowSha",
        "job_workflow_ref": "jobWorkflowRef", "runner_environment": "runnerEnv",
        "repository_id": "repoID", "repository_owner": "repoOwner",
        "repository_owner_id": "repoOwnerID", "workflow_ref": "workflowRef",
        "workflow_sha": "workflowSHA", "run_id": "runID", "run_attempt": "runAttempt",
        "repository_visibility": "public",
    });
    let verified = Verifier::new(config())
        .verify(&idp.sign(&claims), NOW, &idp)
        .unwrap();
    assert_eq!(verified.challenge_subject(), "repo:repository:ref:ref");
    let identity = verified.identity().unwrap();
    assert_eq!(
        identity.san(),
        &SubjectAlternativeName::Uri("https://github.com/jobWorkflowRef".to_owned())
    );
    let want = [
        ("1.3.6.1.4.1.57264.1.1", GITHUB_ISSUER),
        ("1.3.6.1.4.1.57264.1.2", "trigger"),
        ("1.3.6.1.4.1.57264.1.3", "sha"),
        ("1.3.6.1.4.1.57264.1.4", "workflowname"),
        ("1.3.6.1.4.1.57264.1.5", "repository"),
        ("1.3.6.1.4.1.57264.1.6", "ref"),
        ("1.3.6.1.4.1.57264.1.8", GITHUB_ISSUER),
        ("1.3.6.1.4.1.57264.1.9", "https://github.com/jobWorkflowRef"),
        ("1.3.6.1.4.1.57264.1.10", "jobWorkflowSha"),
        ("1.3.6.1.4.1.57264.1.11", "runnerEnv"),
        ("1.3.6.1.4.1.57264.1.12", "https://github.com/repository"),
        ("1.3.6.1.4.1.57264.1.13", "sha"),
        ("1.3.6.1.4.1.57264.1.14", "ref"),
        ("1.3.6.1.4.1.57264.1.15", "repoID"),
        ("1.3.6.1.4.1.57264.1.16", "https://github.com/repoOwner"),
        ("1.3.6.1.4.1.57264.1.17", "repoOwnerID"),
        ("1.3.6.1.4.1.57264.1.18", "https://github.com/workflowRef"),
        ("1.3.6.1.4.1.57264.1.19", "workflowSHA"),
        ("1.3.6.1.4.1.57264.1.20", "trigger"),
        (
            "1.3.6.1.4.1.57264.1.21",
            "https://github.com/repository/actions/runs/runID/attempts/runAttempt",
        ),
        ("1.3.6.1.4.1.57264.1.22", "public"),
        // .23 (environment) is empty and left out, as Fulcio's Extensions.Render does.
        ("1.3.6.1.4.1.57264.1.24", "repo:repository:ref:ref"),
    ];
    let got: Vec<(&str, &str)> = identity
        .extensions()
        .iter()
        .map(|(o, v)| (o.as_str(), v.as_str()))
        .collect();
    assert_eq!(got, want);
}

/// Claims from sigstore/fulcio `pkg/identity/gitlabcom/principal_test.go`
/// (`TestJobPrincipalFromIDToken`, "Valid token authenticates with correct claims"); expected
/// values from the same file's `TestEmbed` and `config/identity/config.yaml`, Apache-2.0.
#[test]
fn gitlab_ci_claims_map_to_fulcio_oids() {
    let idp = Idp::new(&[GITLAB_ISSUER]);
    let claims = json!({
        "aud": "sigstore", "iat": NOW, "exp": NOW + 300, "iss": GITLAB_ISSUER,
        "sub": "project_path:cpanato/testing-cosign:ref_type:branch:ref:main",
        "project_id": "42831435", "project_path": "cpanato/testing-cosign",
        "namespace_path": "cpanato", "namespace_id": "1730270", "pipeline_id": "757451528",
        "pipeline_source": "push",
        "ci_config_ref_uri": "gitlab.com/cpanto/testing-cosign//.gitlab-ci.yml@refs/head/main",
        "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc", "job_id": "3659681386",
        "ref": "main", "ref_type": "branch", "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "runner_id": 1, "runner_environment": "gitlab-hosted", "project_visibility": "public",
    });
    let identity = Verifier::new(config())
        .verify(&idp.sign(&claims), NOW, &idp)
        .unwrap()
        .identity()
        .unwrap();
    let config_uri = "https://gitlab.com/cpanto/testing-cosign//.gitlab-ci.yml@refs/head/main";
    assert_eq!(
        identity.san(),
        &SubjectAlternativeName::Uri(config_uri.to_owned())
    );
    let want = [
        (OID_ISSUER_V2, GITLAB_ISSUER),
        ("1.3.6.1.4.1.57264.1.9", config_uri),
        (
            "1.3.6.1.4.1.57264.1.10",
            "714a629c0b401fdce83e847fc9589983fc6f46bc",
        ),
        ("1.3.6.1.4.1.57264.1.11", "gitlab-hosted"),
        (
            "1.3.6.1.4.1.57264.1.12",
            "https://gitlab.com/cpanato/testing-cosign",
        ),
        (
            "1.3.6.1.4.1.57264.1.13",
            "714a629c0b401fdce83e847fc9589983fc6f46bc",
        ),
        ("1.3.6.1.4.1.57264.1.14", "refs/heads/main"),
        ("1.3.6.1.4.1.57264.1.15", "42831435"),
        ("1.3.6.1.4.1.57264.1.16", "https://gitlab.com/cpanato"),
        ("1.3.6.1.4.1.57264.1.17", "1730270"),
        ("1.3.6.1.4.1.57264.1.18", config_uri),
        (
            "1.3.6.1.4.1.57264.1.19",
            "714a629c0b401fdce83e847fc9589983fc6f46bc",
        ),
        ("1.3.6.1.4.1.57264.1.20", "push"),
        (
            "1.3.6.1.4.1.57264.1.21",
            "https://gitlab.com/cpanato/testing-cosign/-/jobs/3659681386",
        ),
        ("1.3.6.1.4.1.57264.1.22", "public"),
    ];
    for (oid, value) in want {
        assert_eq!(extension(&identity, oid), Some(value), "{oid}");
    }
    assert_eq!(
        extension(&identity, "1.3.6.1.4.1.57264.1.2"),
        None,
        "no GitHub OIDs"
    );
    assert_eq!(
        extension(&identity, "1.3.6.1.4.1.57264.1.23"),
        None,
        "no environment"
    );

    // A tag ref takes the else branch of the template.
    let tag = with(
        with(claims.clone(), "ref_type", json!("tag")),
        "ref",
        json!("v1.0.0"),
    );
    let identity = Verifier::new(config())
        .verify(&idp.sign(&tag), NOW, &idp)
        .unwrap()
        .identity()
        .unwrap();
    assert_eq!(
        extension(&identity, "1.3.6.1.4.1.57264.1.14"),
        Some("refs/tags/v1.0.0")
    );

    // Fulcio: "Token missing pipeline_source claim should be rejected".
    let missing = without(claims, "pipeline_source");
    let err = Verifier::new(config())
        .verify(&idp.sign(&missing), NOW, &idp)
        .unwrap()
        .identity()
        .unwrap_err();
    assert!(
        matches!(&err, IdentityError::MissingClaim { claim, .. } if claim == "pipeline_source"),
        "{err:?}"
    );
}

struct TypeCase {
    name: &'static str,
    issuer_type: IssuerType,
    sub: &'static str,
    extra: Value,
    want: Result<SubjectAlternativeName, fn(&IdentityError) -> bool>,
}

#[test]
fn issuer_types_map_subjects_like_fulcio() {
    const ISSUER: &str = "https://issuer.example.com";
    let cases = [
        TypeCase {
            name: "spiffe in trust domain",
            issuer_type: IssuerType::Spiffe {
                trust_domain: "example.com".to_owned(),
            },
            sub: "spiffe://example.com/ns/app",
            extra: json!({}),
            want: Ok(SubjectAlternativeName::Uri(
                "spiffe://example.com/ns/app".to_owned(),
            )),
        },
        TypeCase {
            name: "spiffe outside trust domain",
            issuer_type: IssuerType::Spiffe {
                trust_domain: "example.com".to_owned(),
            },
            sub: "spiffe://example.com.evil/ns/app",
            extra: json!({}),
            want: Err(|e| matches!(e, IdentityError::SpiffeSubjectOutsideTrustDomain { .. })),
        },
        TypeCase {
            name: "uri under subject domain",
            issuer_type: IssuerType::Uri {
                subject_domain: "https://ci.example.com".to_owned(),
            },
            sub: "https://ci.example.com/jobs/7",
            extra: json!({}),
            want: Ok(SubjectAlternativeName::Uri(
                "https://ci.example.com/jobs/7".to_owned(),
            )),
        },
        TypeCase {
            name: "uri on another host",
            issuer_type: IssuerType::Uri {
                subject_domain: "https://ci.example.com".to_owned(),
            },
            sub: "https://ci.example.com@evil.com/jobs/7",
            extra: json!({}),
            want: Err(|e| matches!(e, IdentityError::UriSubjectOutsideDomain { .. })),
        },
        TypeCase {
            name: "username",
            issuer_type: IssuerType::Username {
                subject_domain: "example.com".to_owned(),
            },
            sub: "alice",
            extra: json!({}),
            want: Ok(SubjectAlternativeName::OtherName(
                "alice!example.com".to_owned(),
            )),
        },
        TypeCase {
            name: "username with separator",
            issuer_type: IssuerType::Username {
                subject_domain: "example.com".to_owned(),
            },
            sub: "alice!evil.com",
            extra: json!({}),
            want: Err(|e| matches!(e, IdentityError::UsernameContainsSeparator { .. })),
        },
        TypeCase {
            name: "kubernetes service account",
            issuer_type: IssuerType::Kubernetes,
            sub: "system:serviceaccount:default:builder",
            extra: json!({"kubernetes.io": {"namespace": "default", "serviceaccount": {"name": "builder"}}}),
            want: Ok(SubjectAlternativeName::Uri(
                "https://kubernetes.io/namespaces/default/serviceaccounts/builder".to_owned(),
            )),
        },
    ];
    for case in cases {
        let idp = Idp::new(&[ISSUER]);
        let config = OidcConfig::new(
            vec![IssuerConfig::new(ISSUER, case.issuer_type.clone())],
            vec![],
        )
        .unwrap();
        let mut claims =
            json!({"iss": ISSUER, "sub": case.sub, "aud": "sigstore", "iat": NOW, "exp": NOW + 60});
        if let (Value::Object(map), Value::Object(extra)) = (&mut claims, &case.extra) {
            map.extend(extra.clone());
        }
        let verified = Verifier::new(config)
            .verify(&idp.sign(&claims), NOW, &idp)
            .unwrap();
        assert_eq!(verified.challenge_subject(), case.sub, "{}", case.name);
        match (verified.identity(), case.want) {
            (Ok(identity), Ok(san)) => {
                assert_eq!(identity.san(), &san, "{}", case.name);
                assert_eq!(
                    extension(&identity, OID_ISSUER),
                    Some(ISSUER),
                    "{}",
                    case.name
                );
                assert_eq!(
                    extension(&identity, OID_TOKEN_SUBJECT),
                    Some(case.sub),
                    "{}",
                    case.name
                );
            }
            (Err(e), Err(want)) => assert!(want(&e), "{}: {e:?}", case.name),
            (got, _) => panic!("{}: unexpected {got:?}", case.name),
        }
    }
}

#[test]
fn custom_ci_provider_templates_are_applied() {
    let issuer = "https://agent.buildkite.com";
    let config = OidcConfig::from_toml(&format!(
        r#"
[[issuer]]
url = "{issuer}"
type = "ci-provider"
ci_provider = "buildkite-job"

[ci_provider.buildkite-job]
subject_alternative_name_template = "{{{{.url}}}}/{{{{.organization_slug}}}}/{{{{.pipeline_slug}}}}"
default_template_values = {{ url = "https://buildkite.com" }}
extension_templates = {{ source-repository-digest = "build_commit" }}
"#
    ))
    .unwrap();
    let idp = Idp::new(&[issuer]);
    let claims = json!({"iss": issuer, "sub": "organization:acme:pipeline:app", "aud": "sigstore",
        "iat": NOW, "exp": NOW + 60, "organization_slug": "acme", "pipeline_slug": "app",
        "build_commit": "abc123"});
    let identity = Verifier::new(config)
        .verify(&idp.sign(&claims), NOW, &idp)
        .unwrap()
        .identity()
        .unwrap();
    assert_eq!(identity.san().value(), "https://buildkite.com/acme/app");
    assert_eq!(
        extension(&identity, "1.3.6.1.4.1.57264.1.13"),
        Some("abc123")
    );
}

#[test]
fn rejects_ci_san_that_is_not_a_uri() {
    let issuer = "https://ci.example.com";
    let config = OidcConfig::from_toml(&format!(
        "[[issuer]]\nurl = \"{issuer}\"\ntype = \"ci-provider\"\nci_provider = \"x\"\n\
         [ci_provider.x]\nsubject_alternative_name_template = \"{{{{ .project }}}}\"\n"
    ))
    .unwrap();
    let idp = Idp::new(&[issuer]);
    let claims = json!({"iss": issuer, "sub": "s", "aud": "sigstore", "iat": NOW,
        "exp": NOW + 60, "project": "acme/app"});
    let err = Verifier::new(config)
        .verify(&idp.sign(&claims), NOW, &idp)
        .unwrap()
        .identity()
        .unwrap_err();
    assert!(
        matches!(&err, IdentityError::CiSanNotUri { san } if san == "acme/app"),
        "{err:?}"
    );
}
