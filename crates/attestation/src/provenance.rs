//! SLSA v1 provenance generated from the CI job that runs `waxseal attest`: GitHub Actions
//! (from the job's OIDC token claims) and GitLab CI (from the runner's variables). Pure: the
//! environment is injected through [`Environment`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::Error;
use crate::predicate::GITHUB_WORKFLOW_BUILD_TYPE;

/// Where CI variables come from.
///
/// Implementations MUST return the variable's value exactly as the CI set it and `None` when
/// it is unset; they MUST NOT invent defaults. Implemented for `BTreeMap<String, String>`, for
/// any `Fn(&str) -> Option<String>`, and for the process environment ([`ProcessEnvironment`]).
pub trait Environment {
    /// The value of `name`, or `None` when unset.
    fn var(&self, name: &str) -> Option<String>;
}

impl Environment for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl<F: Fn(&str) -> Option<String>> Environment for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}

/// The current process's environment (`std::env::var`); non-UTF-8 values read as unset.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A CI system provenance can be generated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ci {
    /// GitHub Actions (`GITHUB_ACTIONS=true`).
    GitHubActions,
    /// GitLab CI (`GITLAB_CI=true`).
    GitLabCi,
}

/// Detects the CI from `GITHUB_ACTIONS` / `GITLAB_CI` (GitHub first).
///
/// # Errors
///
/// [`Error::NotInCi`] outside CI, saying which variables are not `true`, e.g. "not in GitHub
/// Actions (GITHUB_ACTIONS is not 'true') nor GitLab CI (GITLAB_CI is not 'true')".
pub fn detect(env: &dyn Environment) -> Result<Ci, Error> {
    let github_actions = env.var("GITHUB_ACTIONS");
    let gitlab_ci = env.var("GITLAB_CI");
    if github_actions.as_deref() == Some("true") {
        Ok(Ci::GitHubActions)
    } else if gitlab_ci.as_deref() == Some("true") {
        Ok(Ci::GitLabCi)
    } else {
        Err(Error::NotInCi {
            github_actions,
            gitlab_ci,
        })
    }
}

/// The claims of a GitHub Actions OIDC token that provenance is built from.
const GITHUB_CLAIMS: &[&str] = &[
    "workflow_ref",
    "repository",
    "event_name",
    "repository_id",
    "repository_owner_id",
    "runner_environment",
    "ref",
    "sha",
    "job_workflow_ref",
    "run_id",
    "run_attempt",
];

/// The SLSA v1 predicate GitHub's `actions/attest-build-provenance` writes, built as
/// actions/toolkit `packages/attest/src/provenance.ts` builds it: from the job's OIDC token
/// `claims` (decoded and verified by the caller) and `GITHUB_SERVER_URL`.
///
/// Build type [`GITHUB_WORKFLOW_BUILD_TYPE`]; `externalParameters.workflow{ref, repository,
/// path}` from `workflow_ref` (split after `<repository>/` at the first `@`, so tags holding
/// `@` survive), `internalParameters.github{event_name, repository_id, repository_owner_id,
/// runner_environment}`, `resolvedDependencies[{uri: git+<server>/<repository>@<ref>,
/// digest.gitCommit: <sha>}]`, `runDetails.builder.id` `<server>/<job_workflow_ref>` and
/// `metadata.invocationId` `<server>/<repository>/actions/runs/<run_id>/attempts/<run_attempt>`.
///
/// # Errors
///
/// [`Error::MissingClaim`] naming the first absent (or non-string) claim,
/// [`Error::MissingVariables`] without `GITHUB_SERVER_URL`, [`Error::InvalidValue`] when
/// `workflow_ref` is not `<repository>/<path>@<ref>`.
pub fn github_provenance(
    claims: &Map<String, Value>,
    env: &dyn Environment,
) -> Result<Value, Error> {
    let claim = |name: &'static str| -> Result<&str, Error> {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or(Error::MissingClaim { claim: name })
    };
    for name in GITHUB_CLAIMS {
        claim(name)?;
    }
    let server = env
        .var("GITHUB_SERVER_URL")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Error::MissingVariables {
            names: vec!["GITHUB_SERVER_URL"],
        })?;
    let server = server.trim_end_matches('/');
    let repository = claim("repository")?;
    let workflow_ref = claim("workflow_ref")?;
    let (workflow_path, workflow_git_ref) = workflow_ref
        .strip_prefix(repository)
        .and_then(|rest| rest.strip_prefix('/'))
        .and_then(|rest| rest.split_once('@'))
        .ok_or_else(|| Error::InvalidValue {
            path: "claims.workflow_ref".to_owned(),
            value: workflow_ref.to_owned(),
            reason: "not of the form <repository>/<path>@<ref>",
        })?;

    Ok(json!({
        "buildDefinition": {
            "buildType": GITHUB_WORKFLOW_BUILD_TYPE,
            "externalParameters": {
                "workflow": {
                    "ref": workflow_git_ref,
                    "repository": format!("{server}/{repository}"),
                    "path": workflow_path,
                }
            },
            "internalParameters": {
                "github": {
                    "event_name": claim("event_name")?,
                    "repository_id": claim("repository_id")?,
                    "repository_owner_id": claim("repository_owner_id")?,
                    "runner_environment": claim("runner_environment")?,
                }
            },
            "resolvedDependencies": [{
                "uri": format!("git+{server}/{repository}@{}", claim("ref")?),
                "digest": { "gitCommit": claim("sha")? },
            }],
        },
        "runDetails": {
            "builder": { "id": format!("{server}/{}", claim("job_workflow_ref")?) },
            "metadata": {
                "invocationId": format!(
                    "{server}/{repository}/actions/runs/{}/attempts/{}",
                    claim("run_id")?,
                    claim("run_attempt")?
                ),
            },
        },
    }))
}

/// Variables the GitLab predicate cannot do without, in the order they are reported.
const GITLAB_REQUIRED: &[&str] = &[
    "CI_PROJECT_URL",
    "CI_JOB_NAME",
    "CI_JOB_ID",
    "CI_COMMIT_SHA",
    "CI_RUNNER_ID",
    "CI_RUNNER_REVISION",
    "CI_RUNNER_DESCRIPTION",
    "CI_RUNNER_EXECUTABLE_ARCH",
];

/// Predefined variables recorded in `externalParameters.variables` when set (GitLab
/// `ci/variables/predefined_variables.md`), in this order.
const GITLAB_RECORDED: &[&str] = &[
    "CI",
    "CI_API_V4_URL",
    "CI_COMMIT_BEFORE_SHA",
    "CI_COMMIT_BRANCH",
    "CI_COMMIT_REF_NAME",
    "CI_COMMIT_REF_PROTECTED",
    "CI_COMMIT_REF_SLUG",
    "CI_COMMIT_SHA",
    "CI_COMMIT_SHORT_SHA",
    "CI_COMMIT_TAG",
    "CI_COMMIT_TIMESTAMP",
    "CI_CONFIG_PATH",
    "CI_DEFAULT_BRANCH",
    "CI_JOB_ID",
    "CI_JOB_IMAGE",
    "CI_JOB_NAME",
    "CI_JOB_STAGE",
    "CI_JOB_STARTED_AT",
    "CI_JOB_URL",
    "CI_PIPELINE_ID",
    "CI_PIPELINE_IID",
    "CI_PIPELINE_SOURCE",
    "CI_PIPELINE_URL",
    "CI_PROJECT_ID",
    "CI_PROJECT_NAME",
    "CI_PROJECT_NAMESPACE",
    "CI_PROJECT_PATH",
    "CI_PROJECT_URL",
    "CI_PROJECT_VISIBILITY",
    "CI_RUNNER_ID",
    "CI_RUNNER_REVISION",
    "CI_RUNNER_TAGS",
    "CI_RUNNER_VERSION",
    "CI_SERVER_HOST",
    "CI_SERVER_URL",
    "CI_SERVER_VERSION",
    "GITLAB_CI",
    "GITLAB_USER_ID",
    "GITLAB_USER_LOGIN",
];

/// Predefined variables that hold credentials: recorded as `[MASKED]` when set, as GitLab
/// records masked variables.
const GITLAB_MASKED: &[&str] = &[
    "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_DEPLOY_PASSWORD",
    "CI_JOB_JWT",
    "CI_JOB_JWT_V2",
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "CI_REPOSITORY_URL",
];

/// The SLSA v1 predicate the GitLab runner writes for `RUNNER_GENERATE_ARTIFACTS_METADATA`,
/// field by field as GitLab documents it (`doc/ci/runners/configure_runners.md` "artifact
/// provenance metadata" and `doc/ci/pipeline_security/slsa/provenance_v1.md`):
///
/// - `buildDefinition.buildType`
///   `https://gitlab.com/gitlab-org/gitlab-runner/-/blob/<CI_RUNNER_REVISION>/PROVENANCE.md`
/// - `externalParameters{source: CI_PROJECT_URL, entryPoint: CI_JOB_NAME, variables}` with
///   the predefined variables that are set, credentials as `[MASKED]`
/// - `internalParameters{name: CI_RUNNER_DESCRIPTION, architecture: <arch of
///   CI_RUNNER_EXECUTABLE_ARCH>, job: CI_JOB_ID}` (+ `executor` from `CI_RUNNER_EXECUTOR`
///   when the runner's configuration exports it; GitLab predefines no such variable)
/// - `resolvedDependencies[{uri: CI_PROJECT_URL, digest.gitCommit: CI_COMMIT_SHA}]`
/// - `runDetails.builder{id: CI_PROJECT_URL/-/runners/CI_RUNNER_ID, version.gitlab-runner:
///   CI_RUNNER_REVISION}`, `metadata{invocationId: CI_JOB_ID, startedOn: CI_JOB_STARTED_AT}`
///
/// # Errors
///
/// [`Error::MissingVariables`] naming every required variable that is unset.
pub fn gitlab_provenance(env: &dyn Environment) -> Result<Value, Error> {
    let missing: Vec<&'static str> = GITLAB_REQUIRED
        .iter()
        .copied()
        .filter(|name| env.var(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingVariables { names: missing });
    }
    let var = |name: &str| env.var(name).unwrap_or_default();
    let project_url = var("CI_PROJECT_URL");
    let project_url = project_url.trim_end_matches('/');
    let revision = var("CI_RUNNER_REVISION");
    let job_id = var("CI_JOB_ID");
    let executable_arch = var("CI_RUNNER_EXECUTABLE_ARCH");
    // "linux/amd64" -> "amd64": the runner records its GOARCH.
    let architecture = executable_arch
        .rsplit_once('/')
        .map_or(executable_arch.as_str(), |(_, arch)| arch);

    let mut variables = Map::new();
    for name in GITLAB_RECORDED {
        if let Some(value) = env.var(name) {
            variables.insert((*name).to_owned(), Value::String(value));
        }
    }
    for name in GITLAB_MASKED {
        if env.var(name).is_some() {
            variables.insert((*name).to_owned(), Value::String("[MASKED]".to_owned()));
        }
    }

    let mut internal = Map::new();
    internal.insert(
        "architecture".to_owned(),
        Value::String(architecture.to_owned()),
    );
    if let Some(executor) = env.var("CI_RUNNER_EXECUTOR") {
        internal.insert("executor".to_owned(), Value::String(executor));
    }
    internal.insert("job".to_owned(), Value::String(job_id.clone()));
    internal.insert(
        "name".to_owned(),
        Value::String(var("CI_RUNNER_DESCRIPTION")),
    );

    let mut metadata = Map::new();
    metadata.insert("invocationId".to_owned(), Value::String(job_id));
    if let Some(started) = env.var("CI_JOB_STARTED_AT") {
        metadata.insert("startedOn".to_owned(), Value::String(started));
    }

    Ok(json!({
        "buildDefinition": {
            "buildType": format!(
                "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/{revision}/PROVENANCE.md"
            ),
            "externalParameters": {
                "source": project_url,
                "entryPoint": var("CI_JOB_NAME"),
                "variables": variables,
            },
            "internalParameters": internal,
            "resolvedDependencies": [{
                "uri": project_url,
                "digest": { "gitCommit": var("CI_COMMIT_SHA") },
            }],
        },
        "runDetails": {
            "builder": {
                "id": format!("{project_url}/-/runners/{}", var("CI_RUNNER_ID")),
                "version": { "gitlab-runner": revision },
            },
            "metadata": metadata,
        },
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn detect_outside_ci_names_what_is_missing() {
        let err = detect(&env(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not in GitHub Actions (GITHUB_ACTIONS is not 'true') nor GitLab CI (GITLAB_CI is \
             not 'true')"
        );
        let err = detect(&env(&[("GITHUB_ACTIONS", "false")])).unwrap_err();
        assert_eq!(
            err,
            Error::NotInCi {
                github_actions: Some("false".into()),
                gitlab_ci: None
            }
        );
        assert!(
            err.to_string()
                .contains("GITHUB_ACTIONS is \"false\", not 'true'")
        );
    }

    #[test]
    fn detect_finds_github_then_gitlab() {
        assert_eq!(
            detect(&env(&[("GITHUB_ACTIONS", "true")])),
            Ok(Ci::GitHubActions)
        );
        assert_eq!(detect(&env(&[("GITLAB_CI", "true")])), Ok(Ci::GitLabCi));
        let closure = |name: &str| (name == "GITLAB_CI").then(|| "true".to_owned());
        assert_eq!(detect(&closure), Ok(Ci::GitLabCi));
    }

    #[test]
    fn github_provenance_names_each_missing_claim() {
        let full: Map<String, Value> = GITHUB_CLAIMS
            .iter()
            .map(|c| ((*c).to_owned(), Value::String(format!("x/{c}"))))
            .collect();
        let server = env(&[("GITHUB_SERVER_URL", "https://github.com")]);
        for claim in GITHUB_CLAIMS {
            let mut claims = full.clone();
            claims.remove(*claim);
            assert_eq!(
                github_provenance(&claims, &server),
                Err(Error::MissingClaim { claim }),
                "{claim}"
            );
            claims.insert((*claim).to_owned(), json!(42));
            assert_eq!(
                github_provenance(&claims, &server),
                Err(Error::MissingClaim { claim }),
                "{claim} not a string"
            );
        }
        assert_eq!(
            github_provenance(&full, &env(&[])),
            Err(Error::MissingVariables {
                names: vec!["GITHUB_SERVER_URL"]
            })
        );
    }

    #[test]
    fn github_provenance_keeps_at_signs_in_the_workflow_ref() {
        let mut claims: Map<String, Value> = GITHUB_CLAIMS
            .iter()
            .map(|c| ((*c).to_owned(), Value::String("v".to_owned())))
            .collect();
        claims.insert("repository".into(), json!("o/r"));
        claims.insert(
            "workflow_ref".into(),
            json!("o/r/.github/workflows/release.yml@refs/tags/pkg@1.2.3"),
        );
        let p = github_provenance(
            &claims,
            &env(&[("GITHUB_SERVER_URL", "https://github.com")]),
        )
        .unwrap();
        let wf = &p["buildDefinition"]["externalParameters"]["workflow"];
        assert_eq!(wf["path"], ".github/workflows/release.yml");
        assert_eq!(wf["ref"], "refs/tags/pkg@1.2.3");

        claims.insert("workflow_ref".into(), json!("other/repo/x.yml@main"));
        assert!(matches!(
            github_provenance(
                &claims,
                &env(&[("GITHUB_SERVER_URL", "https://github.com")])
            ),
            Err(Error::InvalidValue { .. })
        ));
    }

    #[test]
    fn gitlab_provenance_names_every_missing_variable() {
        assert_eq!(
            gitlab_provenance(&env(&[("CI_JOB_NAME", "build"), ("CI_RUNNER_ID", "")])),
            Err(Error::MissingVariables {
                names: vec![
                    "CI_PROJECT_URL",
                    "CI_JOB_ID",
                    "CI_COMMIT_SHA",
                    "CI_RUNNER_ID",
                    "CI_RUNNER_REVISION",
                    "CI_RUNNER_DESCRIPTION",
                    "CI_RUNNER_EXECUTABLE_ARCH",
                ]
            })
        );
    }
}
