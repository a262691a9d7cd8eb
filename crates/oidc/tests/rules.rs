//! Issuance rules: allow and refuse, naming the rule.

use serde_json::{Value, json};
use waxseal_oidc::{IssuanceRules, IssuerConfig, IssuerType, OidcConfig, Verifier};

use crate::idp::*;

#[test]
fn issuance_rules_allow_and_refuse() {
    let config = OidcConfig::from_toml(&format!(
        r#"
[[issuer]]
url = "{GITHUB_ISSUER}"
type = "github-workflow"
[issuer.rules]
san_regex = ['https://github\.com/acme/app/\.github/workflows/release\.yml@.*']
claims = {{ repository = "acme/app" }}
claims_regex = {{ ref = 'refs/(heads/main|tags/v.*)' }}
"#
    ))
    .unwrap();
    let base = json!({
        "iss": GITHUB_ISSUER, "aud": "sigstore", "iat": NOW, "exp": NOW + 300,
        "sub": "repo:acme/app:ref:refs/heads/main",
        "job_workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
        "repository": "acme/app", "ref": "refs/heads/main", "event_name": "push", "sha": "s",
        "workflow": "release", "job_workflow_sha": "j", "runner_environment": "github-hosted",
        "repository_id": "1", "repository_owner": "acme", "repository_owner_id": "2",
        "workflow_ref": "acme/app/.github/workflows/release.yml@refs/heads/main",
        "workflow_sha": "w", "run_id": "3", "run_attempt": "1", "repository_visibility": "public",
    });
    /// (name, claims, refused by (rule, actual) or allowed)
    type RuleCase = (&'static str, Value, Option<(&'static str, &'static str)>);
    let cases: &[RuleCase] = &[
        ("allowed", base.clone(), None),
        (
            "tag allowed",
            with(base.clone(), "ref", json!("refs/tags/v1.2.3")),
            None,
        ),
        (
            "other workflow refused",
            with(
                base.clone(),
                "job_workflow_ref",
                json!("acme/app/.github/workflows/ci.yml@refs/heads/main"),
            ),
            Some((
                "rules.san",
                "https://github.com/acme/app/.github/workflows/ci.yml@refs/heads/main",
            )),
        ),
        (
            "other repository refused",
            with(base.clone(), "repository", json!("acme/other")),
            Some(("rules.claims.repository", "acme/other")),
        ),
        (
            "feature branch refused",
            with(base.clone(), "ref", json!("refs/heads/feature")),
            Some(("rules.claims_regex.ref", "refs/heads/feature")),
        ),
        (
            "missing claim refused",
            without(base.clone(), "repository"),
            None, // identity mapping fails first: repository feeds OID .5
        ),
    ];
    let idp = Idp::new(&[GITHUB_ISSUER]);
    let verifier = Verifier::new(config);
    for (name, claims, want) in cases {
        let verified = verifier.verify(&idp.sign(claims), NOW, &idp).unwrap();
        let identity = match verified.identity() {
            Ok(identity) => identity,
            Err(e) => {
                assert_eq!(*name, "missing claim refused", "{name}: {e:?}");
                continue;
            }
        };
        match (identity.check_rules(), want) {
            (Ok(()), None) => {}
            (Err(refused), Some((rule, actual))) => {
                assert_eq!(refused.rule, *rule, "{name}");
                assert_eq!(refused.actual, *actual, "{name}");
            }
            (got, _) => panic!("{name}: unexpected {got:?}"),
        }
    }
}

#[test]
fn rules_built_in_code_check_exact_san() {
    let rules = IssuanceRules::new().allow_san("alice@example.com");
    let config = OidcConfig::new(
        vec![IssuerConfig::new(EMAIL_ISSUER, IssuerType::Email).with_rules(rules)],
        vec![],
    )
    .unwrap();
    let idp = Idp::new(&[EMAIL_ISSUER]);
    let verifier = Verifier::new(config);
    let ok = verifier
        .verify(&idp.sign(&email_claims()), NOW, &idp)
        .unwrap();
    ok.identity().unwrap().check_rules().unwrap();
    let bob = with(email_claims(), "email", json!("bob@example.com"));
    let refused = verifier
        .verify(&idp.sign(&bob), NOW, &idp)
        .unwrap()
        .identity()
        .unwrap()
        .check_rules()
        .unwrap_err();
    assert_eq!(refused.rule, "rules.san");
    assert_eq!(refused.actual, "bob@example.com");
}
