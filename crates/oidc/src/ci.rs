//! Template-driven CI identities: Fulcio's `ci-issuer-metadata` (sigstore/fulcio
//! `config/identity/config.yaml`) and the claim → OID mapping of `docs/oid-info.md`.

use std::collections::BTreeMap;

use crate::error::ConfigError;
use crate::template::Template;

/// Fulcio extension names (`extension-templates` keys) and their OIDs, from
/// sigstore/fulcio `docs/oid-info.md` (1.3.6.1.4.1.57264.1.*) and `pkg/certificate/extensions.go`.
pub(crate) const EXTENSIONS: &[(&str, &str)] = &[
    ("github-workflow-trigger", "1.3.6.1.4.1.57264.1.2"),
    ("github-workflow-sha", "1.3.6.1.4.1.57264.1.3"),
    ("github-workflow-name", "1.3.6.1.4.1.57264.1.4"),
    ("github-workflow-repository", "1.3.6.1.4.1.57264.1.5"),
    ("github-workflow-ref", "1.3.6.1.4.1.57264.1.6"),
    ("build-signer-uri", "1.3.6.1.4.1.57264.1.9"),
    ("build-signer-digest", "1.3.6.1.4.1.57264.1.10"),
    ("runner-environment", "1.3.6.1.4.1.57264.1.11"),
    ("source-repository-uri", "1.3.6.1.4.1.57264.1.12"),
    ("source-repository-digest", "1.3.6.1.4.1.57264.1.13"),
    ("source-repository-ref", "1.3.6.1.4.1.57264.1.14"),
    ("source-repository-identifier", "1.3.6.1.4.1.57264.1.15"),
    ("source-repository-owner-uri", "1.3.6.1.4.1.57264.1.16"),
    (
        "source-repository-owner-identifier",
        "1.3.6.1.4.1.57264.1.17",
    ),
    ("build-config-uri", "1.3.6.1.4.1.57264.1.18"),
    ("build-config-digest", "1.3.6.1.4.1.57264.1.19"),
    ("build-trigger", "1.3.6.1.4.1.57264.1.20"),
    ("run-invocation-uri", "1.3.6.1.4.1.57264.1.21"),
    (
        "source-repository-visibility-at-signing",
        "1.3.6.1.4.1.57264.1.22",
    ),
    ("deployment-environment", "1.3.6.1.4.1.57264.1.23"),
];

/// Name of the built-in GitHub Actions provider (Fulcio's `github-workflow`).
pub(crate) const GITHUB_WORKFLOW: &str = "github-workflow";
/// Name of the built-in GitLab CI provider (Fulcio's `gitlab-pipeline`).
pub(crate) const GITLAB_PIPELINE: &str = "gitlab-pipeline";

/// One CI provider's templates, validated.
#[derive(Debug, Clone)]
pub(crate) struct CiProvider {
    pub(crate) defaults: BTreeMap<String, String>,
    /// `(oid, template)`, in [`EXTENSIONS`] order.
    pub(crate) extensions: Vec<(&'static str, Template)>,
    pub(crate) san: Template,
}

impl CiProvider {
    /// Validates the templates of provider `name`.
    pub(crate) fn new(
        name: &str,
        defaults: BTreeMap<String, String>,
        extension_templates: &BTreeMap<String, String>,
        san_template: &str,
    ) -> Result<Self, ConfigError> {
        let invalid = |field: &str, reason: String| ConfigError::InvalidTemplate {
            provider: name.to_owned(),
            name: field.to_owned(),
            reason,
        };
        for key in extension_templates.keys() {
            if !EXTENSIONS.iter().any(|(n, _)| n == key) {
                return Err(ConfigError::UnknownExtension {
                    provider: name.to_owned(),
                    name: key.clone(),
                });
            }
        }
        let mut extensions = Vec::new();
        for (ext_name, oid) in EXTENSIONS {
            if let Some(source) = extension_templates.get(*ext_name) {
                if source.trim().is_empty() {
                    continue;
                }
                let template = Template::parse(source).map_err(|e| invalid(ext_name, e))?;
                extensions.push((*oid, template));
            }
        }
        if san_template.trim().is_empty() {
            return Err(invalid(
                "subject-alternative-name-template",
                "must not be empty".to_owned(),
            ));
        }
        let san = Template::parse(san_template)
            .map_err(|e| invalid("subject-alternative-name-template", e))?;
        Ok(Self {
            defaults,
            extensions,
            san,
        })
    }
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The built-in providers, copied from sigstore/fulcio `config/identity/config.yaml`
/// (`ci-issuer-metadata`, Apache-2.0).
pub(crate) fn builtin() -> Result<BTreeMap<String, CiProvider>, ConfigError> {
    let github = CiProvider::new(
        GITHUB_WORKFLOW,
        map(&[("url", "https://github.com"), ("environment", "")]),
        &map(&[
            ("github-workflow-trigger", "event_name"),
            ("github-workflow-sha", "sha"),
            ("github-workflow-name", "workflow"),
            ("github-workflow-repository", "repository"),
            ("github-workflow-ref", "ref"),
            ("build-signer-uri", "{{ .url }}/{{ .job_workflow_ref }}"),
            ("build-signer-digest", "job_workflow_sha"),
            ("runner-environment", "runner_environment"),
            ("source-repository-uri", "{{ .url }}/{{ .repository }}"),
            ("source-repository-digest", "sha"),
            ("source-repository-ref", "ref"),
            ("source-repository-identifier", "repository_id"),
            (
                "source-repository-owner-uri",
                "{{ .url }}/{{ .repository_owner }}",
            ),
            ("source-repository-owner-identifier", "repository_owner_id"),
            ("build-config-uri", "{{ .url }}/{{ .workflow_ref }}"),
            ("build-config-digest", "workflow_sha"),
            ("build-trigger", "event_name"),
            (
                "run-invocation-uri",
                "{{ .url }}/{{ .repository }}/actions/runs/{{ .run_id }}/attempts/{{ .run_attempt }}",
            ),
            (
                "source-repository-visibility-at-signing",
                "repository_visibility",
            ),
            ("deployment-environment", "environment"),
        ]),
        "{{ .url }}/{{ .job_workflow_ref }}",
    )?;
    let gitlab = CiProvider::new(
        GITLAB_PIPELINE,
        map(&[("url", "https://gitlab.com"), ("environment", "")]),
        &map(&[
            ("build-signer-uri", "https://{{ .ci_config_ref_uri }}"),
            ("build-signer-digest", "ci_config_sha"),
            ("runner-environment", "runner_environment"),
            ("source-repository-uri", "{{ .url }}/{{ .project_path }}"),
            ("source-repository-digest", "sha"),
            (
                "source-repository-ref",
                r#"refs/{{if eq .ref_type "branch"}}heads/{{ else }}tags/{{end}}{{ .ref }}"#,
            ),
            ("source-repository-identifier", "project_id"),
            (
                "source-repository-owner-uri",
                "{{ .url }}/{{ .namespace_path }}",
            ),
            ("source-repository-owner-identifier", "namespace_id"),
            ("build-config-uri", "https://{{ .ci_config_ref_uri }}"),
            ("build-config-digest", "ci_config_sha"),
            ("build-trigger", "pipeline_source"),
            (
                "run-invocation-uri",
                "{{ .url }}/{{ .project_path }}/-/jobs/{{ .job_id }}",
            ),
            (
                "source-repository-visibility-at-signing",
                "project_visibility",
            ),
            ("deployment-environment", "environment"),
        ]),
        "https://{{ .ci_config_ref_uri }}",
    )?;
    Ok(BTreeMap::from([
        (GITHUB_WORKFLOW.to_owned(), github),
        (GITLAB_PIPELINE.to_owned(), gitlab),
    ]))
}
