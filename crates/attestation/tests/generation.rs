//! Provenance generation against real material: the bcr-module-bazel GitHub predicate, and
//! GitLab's documented runner example.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use waxseal_attestation::{
    CertificateFacts, Ci, GITHUB_WORKFLOW_BUILD_TYPE, SLSA_PROVENANCE_V1, Statement,
    check_predicate, check_provenance, detect, github_provenance, gitlab_provenance,
};

use crate::support;

/// The OIDC token claims of the job that signed bcr-module-bazel, recovered from its
/// certificate: Fulcio copies `workflow_ref` into Build Config URI (.18), `job_workflow_ref`
/// into Build Signer URI (.9), `ref`/`sha` into .14/.13, `event_name` into .20,
/// `runner_environment` into .11, and `run_id`/`run_attempt` into Run Invocation URI (.21).
fn recorded_github_job(cert: &Value) -> (Map<String, Value>, BTreeMap<String, String>) {
    let field = |name: &str| cert[name].as_str().unwrap().to_owned();
    let strip = |uri: String| uri.strip_prefix("https://github.com/").unwrap().to_owned();
    let invocation = field("run_invocation_uri");
    let (run, attempt) = invocation
        .split_once("/actions/runs/")
        .unwrap()
        .1
        .split_once("/attempts/")
        .unwrap();
    let mut claims = Map::new();
    for (claim, value) in [
        ("repository", field("gh_workflow_repository_v1")),
        ("workflow_ref", strip(field("build_config_uri"))),
        ("job_workflow_ref", strip(field("build_signer_uri"))),
        ("ref", field("source_repository_ref")),
        ("sha", field("source_repository_digest")),
        ("event_name", field("build_trigger")),
        ("runner_environment", field("runner_environment")),
        ("run_id", run.to_owned()),
        ("run_attempt", attempt.to_owned()),
        // Source Repository Identifier (.15) and Owner Identifier (.17) are not in the
        // manifest's certificate block; these are the token's values for aspect-build/rules_lint.
        ("repository_id", "631710741".to_owned()),
        ("repository_owner_id", "60951090".to_owned()),
        // Claims the predicate does not use, present in every real token.
        ("repository_owner", "aspect-build".to_owned()),
        ("actor", "alexeagle".to_owned()),
    ] {
        claims.insert(claim.to_owned(), Value::String(value));
    }
    let env = BTreeMap::from([
        ("GITHUB_ACTIONS".to_owned(), "true".to_owned()),
        (
            "GITHUB_SERVER_URL".to_owned(),
            "https://github.com".to_owned(),
        ),
    ]);
    (claims, env)
}

#[test]
fn github_provenance_reproduces_the_bcr_predicate_field_by_field() {
    let case = support::case("bcr-module-bazel");
    let real = support::statement(&case);
    let (claims, env) = recorded_github_job(&case["certificate"]);
    assert_eq!(detect(&env), Ok(Ci::GitHubActions));
    let ours = github_provenance(&claims, &env).unwrap();
    let want = real.predicate();

    for pointer in [
        "/buildDefinition/buildType",
        "/buildDefinition/externalParameters/workflow/ref",
        "/buildDefinition/externalParameters/workflow/repository",
        "/buildDefinition/externalParameters/workflow/path",
        "/buildDefinition/internalParameters/github/event_name",
        "/buildDefinition/internalParameters/github/repository_id",
        "/buildDefinition/internalParameters/github/repository_owner_id",
        "/buildDefinition/internalParameters/github/runner_environment",
        "/buildDefinition/resolvedDependencies/0/uri",
        "/buildDefinition/resolvedDependencies/0/digest/gitCommit",
        "/runDetails/builder/id",
        "/runDetails/metadata/invocationId",
    ] {
        assert_eq!(ours.pointer(pointer), want.pointer(pointer), "{pointer}");
        assert!(ours.pointer(pointer).is_some(), "{pointer} generated");
    }
    assert_eq!(
        ours["buildDefinition"]["buildType"],
        GITHUB_WORKFLOW_BUILD_TYPE
    );
    // Nothing more and nothing less than the real predicate.
    assert_eq!(&ours, want);

    // And what we generate verifies as the real one does.
    check_predicate(SLSA_PROVENANCE_V1, &ours).unwrap();
    let statement = Statement::new(real.subjects().to_vec(), SLSA_PROVENANCE_V1, ours).unwrap();
    let (san, issuer, ext) = (
        support::san(&case),
        support::issuer(&case),
        support::extensions(&case),
    );
    let cert = CertificateFacts {
        san: &san,
        issuer: &issuer,
        extensions: &ext,
    };
    check_provenance(&statement, &cert, &support::upstream_requirements(&case)).unwrap();
}

/// A job recorded as GitLab documents it (`doc/ci/runners/configure_runners.md`, "artifact
/// provenance metadata" example: runner 2147fb44, job 10340684631).
fn recorded_gitlab_job() -> BTreeMap<String, String> {
    [
        ("GITLAB_CI", "true"),
        ("CI", "true"),
        (
            "CI_PROJECT_URL",
            "https://gitlab.com/my-group/my-project/test-runner-generated-slsa-statement",
        ),
        (
            "CI_PROJECT_PATH",
            "my-group/my-project/test-runner-generated-slsa-statement",
        ),
        ("CI_SERVER_URL", "https://gitlab.com"),
        ("CI_JOB_NAME", "build-job"),
        ("CI_JOB_ID", "10340684631"),
        ("CI_JOB_STARTED_AT", "2025-06-13T07:25:13Z"),
        ("CI_COMMIT_SHA", "bdd2ecda9ef57b129c88617a0215afc9fb223521"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_RUNNER_ID", "12270857"),
        ("CI_RUNNER_REVISION", "2147fb44"),
        ("CI_RUNNER_VERSION", "18.1.0"),
        (
            "CI_RUNNER_DESCRIPTION",
            "green-4.saas-linux-small-amd64.runners-manager.gitlab.com/default",
        ),
        ("CI_RUNNER_EXECUTABLE_ARCH", "linux/amd64"),
        ("CI_RUNNER_EXECUTOR", "docker+machine"),
        ("CI_JOB_TOKEN", "glcbt-64_secret"),
        (
            "CI_REPOSITORY_URL",
            "https://gitlab-ci-token:glcbt-64_secret@gitlab.com/x.git",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[test]
fn gitlab_provenance_follows_the_documented_example() {
    let env = recorded_gitlab_job();
    assert_eq!(detect(&env), Ok(Ci::GitLabCi));
    let ours = gitlab_provenance(&env).unwrap();
    // GitLab's documented statement, field by field (values of that example).
    let documented = json!({
        "buildDefinition": {
            "buildType": "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/2147fb44/PROVENANCE.md",
            "externalParameters": {
                "entryPoint": "build-job",
                "source": "https://gitlab.com/my-group/my-project/test-runner-generated-slsa-statement"
            },
            "internalParameters": {
                "architecture": "amd64",
                "executor": "docker+machine",
                "job": "10340684631",
                "name": "green-4.saas-linux-small-amd64.runners-manager.gitlab.com/default"
            },
            "resolvedDependencies": [{
                "uri": "https://gitlab.com/my-group/my-project/test-runner-generated-slsa-statement"
            }]
        },
        "runDetails": {
            "builder": {
                "id": "https://gitlab.com/my-group/my-project/test-runner-generated-slsa-statement/-/runners/12270857",
                "version": { "gitlab-runner": "2147fb44" }
            },
            "metadata": {
                "invocationId": "10340684631",
                "startedOn": "2025-06-13T07:25:13Z"
            }
        }
    });
    for pointer in [
        "/buildDefinition/buildType",
        "/buildDefinition/externalParameters/entryPoint",
        "/buildDefinition/externalParameters/source",
        "/buildDefinition/internalParameters",
        "/buildDefinition/resolvedDependencies/0/uri",
        "/runDetails/builder",
        "/runDetails/metadata",
    ] {
        assert_eq!(
            ours.pointer(pointer),
            documented.pointer(pointer),
            "{pointer}"
        );
    }
    assert_eq!(
        ours.pointer("/buildDefinition/resolvedDependencies/0/digest/gitCommit"),
        Some(&json!("bdd2ecda9ef57b129c88617a0215afc9fb223521"))
    );
    let variables = &ours["buildDefinition"]["externalParameters"]["variables"];
    assert_eq!(variables["CI_JOB_NAME"], "build-job");
    assert_eq!(variables["CI_COMMIT_BRANCH"], "main");
    assert_eq!(variables["CI_JOB_TOKEN"], "[MASKED]");
    assert_eq!(variables["CI_REPOSITORY_URL"], "[MASKED]");
    assert!(
        !ours.to_string().contains("glcbt-64_secret"),
        "a credential leaked into the provenance"
    );
    check_predicate(SLSA_PROVENANCE_V1, &ours).unwrap();
}
