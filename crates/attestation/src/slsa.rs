//! The checks slsa-verifier makes on a GitHub-built provenance statement whose signature was
//! already verified (slsa-framework/slsa-verifier `verifiers/internal/gha/{builder.go,
//! provenance.go,verifier.go}`, `verifiers/utils/builder.go`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::predicate::{
    GITHUB_WORKFLOW_BUILD_TYPE, SLSA_GITHUB_WORKFLOW_BUILD_TYPE, SLSA_PROVENANCE_V1,
    SLSA_PROVENANCE_V02, as_object, check_predicate, optional_object, optional_str, required_array,
    required_object, required_str,
};
use crate::semver::Version;
use crate::{Error, Statement};

/// The OIDC issuer of GitHub Actions' job tokens; slsa-verifier accepts no other.
pub const GITHUB_ACTIONS_ISSUER: &str = "https://token.actions.githubusercontent.com";
/// The builder id GitHub artifact attestations claim for GitHub-hosted runners.
pub const GITHUB_HOSTED_RUNNER: &str = "https://github.com/actions/runner/github-hosted";
/// The builder id GitHub artifact attestations claim for self-hosted runners.
pub const SELF_HOSTED_RUNNER: &str = "https://github.com/actions/runner/self-hosted";

/// Fulcio OIDs (sigstore/fulcio `docs/oid-info.md`).
const OID_WORKFLOW_REPOSITORY: &str = "1.3.6.1.4.1.57264.1.5";
const OID_BUILD_SIGNER_URI: &str = "1.3.6.1.4.1.57264.1.9";
const OID_RUNNER_ENVIRONMENT: &str = "1.3.6.1.4.1.57264.1.11";
const OID_SOURCE_REPOSITORY_URI: &str = "1.3.6.1.4.1.57264.1.12";
const OID_SOURCE_REPOSITORY_DIGEST: &str = "1.3.6.1.4.1.57264.1.13";
const OID_SOURCE_REPOSITORY_REF: &str = "1.3.6.1.4.1.57264.1.14";
const OID_BUILD_CONFIG_URI: &str = "1.3.6.1.4.1.57264.1.18";

const GITHUB: &str = "https://github.com/";

/// Reusable workflows trusted when no builder id is required (slsa-verifier
/// `defaultArtifactTrustedReusableWorkflows` and `defaultContainerTrustedReusableWorkflows`).
const DEFAULT_TRUSTED_BUILDERS: &[&str] = &[
    "slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml",
    "slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml",
    "slsa-framework/slsa-github-generator/.github/workflows/builder_docker-based_slsa3.yml",
    "slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml",
];

/// What the caller requires of the provenance, as slsa-verifier's flags. Every `None` is
/// "no requirement" except `builder_id`: without it, only slsa-github-generator's builders
/// (or GitHub's runners, for artifact attestations) are trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvenanceRequirements {
    /// `--source-uri`: `github.com/<owner>/<repo>` (a `git+https://` or `https://` prefix is
    /// accepted).
    pub source_uri: Option<String>,
    /// A git ref the build must come from: `refs/heads/main`, `refs/tags/v1`, or a bare
    /// branch name (read as `refs/heads/<name>`, as `--source-branch`).
    pub source_ref: Option<String>,
    /// `--source-tag`: the exact tag, without `refs/tags/`.
    pub source_tag: Option<String>,
    /// `--source-versioned-tag`: a semver prefix (`v1`, `v1.2`, `v1.2.3`) the tag must match.
    pub source_versioned_tag: Option<String>,
    /// `--builder-id`: `<uri>` or `<uri>@<ref>` (`@v1.2.3` matches `@refs/tags/v1.2.3`).
    pub builder_id: Option<String>,
}

/// What verification needs from the signing certificate, already verified by the caller.
#[derive(Debug, Clone, Copy)]
pub struct CertificateFacts<'a> {
    /// The SAN (for GitHub Actions, the workflow URI `https://github.com/...@ref`).
    pub san: &'a str,
    /// The OIDC issuer (extension .8, else .1).
    pub issuer: &'a str,
    /// Fulcio extensions, OID (`1.3.6.1.4.1.57264.1.N`) to value as a plain string.
    pub extensions: &'a BTreeMap<String, String>,
}

impl CertificateFacts<'_> {
    fn extension(&self, oid: &str) -> Option<&str> {
        self.extensions
            .get(oid)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn required(&self, oid: &'static str, name: &'static str) -> Result<&str, Error> {
        self.extension(oid)
            .ok_or(Error::MissingExtension { oid, name })
    }
}

/// What [`check_provenance`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProvenance {
    builder_id: String,
    source_uri: String,
    source_ref: String,
    source_digest: Option<String>,
    build_type: String,
    predicate_type: String,
}

impl VerifiedProvenance {
    /// The verified builder: the signing workflow `https://github.com/<path>@<ref>`, or for
    /// GitHub artifact attestations the runner ([`GITHUB_HOSTED_RUNNER`]).
    pub fn builder_id(&self) -> &str {
        &self.builder_id
    }

    /// The source repository, `https://github.com/<owner>/<repo>`.
    pub fn source_uri(&self) -> &str {
        &self.source_uri
    }

    /// The git ref the build ran from (`refs/tags/v1.2.3`, `refs/heads/main`).
    pub fn source_ref(&self) -> &str {
        &self.source_ref
    }

    /// The source commit, when the provenance records it.
    pub fn source_digest(&self) -> Option<&str> {
        self.source_digest.as_deref()
    }

    /// The provenance's build type.
    pub fn build_type(&self) -> &str {
        &self.build_type
    }

    /// The statement's predicate type (SLSA v1 or v0.2).
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }
}

/// The provenance fields slsa-verifier reads, whatever the predicate version.
#[derive(Debug)]
struct Provenance<'a> {
    builder_id: &'a str,
    build_type: &'a str,
    /// Where the build was triggered: `git+<repo>@<ref>` (v1: the workflow parameters;
    /// v0.2: `invocation.configSource.uri`).
    trigger: String,
    /// The source material: `git+<repo>@<ref>` (v1: `resolvedDependencies[0]`; v0.2:
    /// `materials[0]`).
    source: &'a str,
    source_digest: Option<&'a str>,
    /// `refs/tags/...` when built from a tag.
    tag: Option<&'a str>,
    /// v1 GitHub workflow types: `<repository>/<path>@<ref>` of the calling workflow.
    workflow: Option<String>,
}

/// The checks slsa-verifier makes on a provenance statement whose signature (and the
/// certificate chain and log entry) were already verified:
///
/// 1. the statement is SLSA provenance v1 (GitHub workflow build types
///    [`GITHUB_WORKFLOW_BUILD_TYPE`], [`SLSA_GITHUB_WORKFLOW_BUILD_TYPE`]) or v0.2
///    (slsa-github-generator), and passes [`check_predicate`];
/// 2. the certificate was issued to GitHub Actions;
/// 3. **builder binding**: the predicate's builder id is the signer (Build Signer URI, else
///    SAN), exactly (`verifyBuilderIDExactMatch`); for artifact attestations claiming
///    GitHub's runner, the runner environment and build config in the certificate are the
///    predicate's. A valid signature over a provenance claiming another builder fails;
/// 4. the signer is trusted: it matches `builder_id` (`MatchesLoose` with refs allowed), or
///    without it is a default slsa-github-generator builder; reusable-workflow builders are
///    used at a `refs/tags/vX.Y.Z` tag;
/// 5. the predicate's trigger and source are the certificate's Source Repository URI, ref and
///    digest, and trigger and source agree; `source_uri` is that repository;
/// 6. `source_ref`, `source_tag` (exact) and `source_versioned_tag` (semver prefix).
///
/// Subject digests are the caller's to match ([`Statement::has_subject_digest`]).
///
/// # Errors
///
/// The first check that fails; [`Error::BuilderMismatch`] for a broken builder binding.
pub fn check_provenance(
    statement: &Statement,
    cert: &CertificateFacts<'_>,
    req: &ProvenanceRequirements,
) -> Result<VerifiedProvenance, Error> {
    let predicate_type = statement.predicate_type();
    let predicate = statement.predicate();
    check_predicate(predicate_type, predicate)?;
    let root = as_object(predicate, "predicate")?;
    let prov = match predicate_type {
        SLSA_PROVENANCE_V1 => read_v1(root)?,
        SLSA_PROVENANCE_V02 => read_v02(root)?,
        other => {
            return Err(Error::UnsupportedPredicateType {
                predicate_type: other.to_owned(),
            });
        }
    };

    if cert.issuer != GITHUB_ACTIONS_ISSUER {
        return Err(Error::IssuerMismatch {
            expected: GITHUB_ACTIONS_ISSUER,
            actual: cert.issuer.to_owned(),
        });
    }
    let signer = match cert.extension(OID_BUILD_SIGNER_URI) {
        Some(bsu) if bsu != cert.san => {
            return Err(Error::CertificateInconsistent {
                build_signer_uri: bsu.to_owned(),
                san: cert.san.to_owned(),
            });
        }
        Some(bsu) => bsu,
        None => cert.san,
    };

    let builder_id =
        if prov.builder_id == GITHUB_HOSTED_RUNNER || prov.builder_id == SELF_HOSTED_RUNNER {
            check_runner_builder(&prov, cert, req)?
        } else {
            check_workflow_builder(&prov, signer, req)?
        };

    let source_uri = check_source(&prov, cert, req)?;
    let (_, trigger_ref) = split_git_uri(&prov.trigger, "predicate trigger")?;

    if let Some(expected) = &req.source_ref {
        let expected = if expected.starts_with("refs/") {
            expected.clone()
        } else {
            format!("refs/heads/{expected}")
        };
        if trigger_ref != expected {
            return Err(Error::RefMismatch {
                expected,
                actual: trigger_ref.to_owned(),
            });
        }
    }
    let tag = prov.tag.and_then(|t| t.strip_prefix("refs/tags/"));
    if let Some(expected) = &req.source_tag
        && tag != Some(expected.as_str())
    {
        return Err(Error::TagMismatch {
            expected: expected.clone(),
            actual: tag.map(str::to_owned),
        });
    }
    if let Some(expected) = &req.source_versioned_tag {
        let Some(tag) = tag else {
            return Err(Error::TagMismatch {
                expected: expected.clone(),
                actual: None,
            });
        };
        verify_versioned_tag(tag, expected)?;
    }

    Ok(VerifiedProvenance {
        builder_id,
        source_uri,
        source_ref: trigger_ref.to_owned(),
        source_digest: prov.source_digest.map(str::to_owned),
        build_type: prov.build_type.to_owned(),
        predicate_type: predicate_type.to_owned(),
    })
}

/// Builder binding and trust for a reusable-workflow builder (slsa-github-generator,
/// publish-to-bcr, ...): the predicate names the signing workflow itself.
fn check_workflow_builder(
    prov: &Provenance<'_>,
    signer: &str,
    req: &ProvenanceRequirements,
) -> Result<String, Error> {
    let (signer_path, signer_ref) = signer
        .strip_prefix(GITHUB)
        .and_then(|rest| rest.split_once('@'))
        .filter(|(path, git_ref)| !path.is_empty() && !git_ref.is_empty())
        .ok_or_else(|| Error::InvalidBuilderId {
            id: signer.to_owned(),
        })?;
    let signer_path = signer_path.trim_matches('/');
    let cert_name = format!("{GITHUB}{signer_path}");
    let cert_builder = format!("{cert_name}@{signer_ref}");

    // slsa-verifier verifyBuilderIDExactMatch: MatchesFull(cert builder, allowRef = true).
    let (prov_name, prov_version) = parse_builder_id(prov.builder_id)?;
    let binds = prov_name == cert_name
        && (prov_version == signer_ref || prov_version == format!("refs/tags/{signer_ref}"));
    if !binds {
        return Err(Error::BuilderMismatch {
            predicate: prov.builder_id.to_owned(),
            certificate: cert_builder,
        });
    }

    // slsa-verifier verifyTrustedBuilderID.
    match &req.builder_id {
        Some(expected) => {
            let (name, version) = parse_builder_id(expected)?;
            let trusted = name == cert_name
                && (version.is_empty()
                    || version == signer_ref
                    || format!("refs/tags/{version}") == signer_ref);
            if !trusted {
                return Err(Error::UntrustedBuilder {
                    certificate: cert_builder,
                    reason: format!("the required builder is {expected}"),
                });
            }
        }
        None if DEFAULT_TRUSTED_BUILDERS.contains(&signer_path) => {}
        None => {
            return Err(Error::UntrustedBuilder {
                certificate: cert_builder,
                reason: "not a default trusted builder (slsa-github-generator); require it \
                         with a builder id to trust it"
                    .to_owned(),
            });
        }
    }

    // slsa-verifier verifyTrustedBuilderRef: a release tag vX.Y.Z, nothing else.
    let is_release = signer_ref.strip_prefix("refs/tags/").is_some_and(|pin| {
        Version::parse(pin).is_some_and(|v| {
            v.prerelease().is_empty() && v.build().is_empty() && pin.split('.').count() == 3
        })
    });
    if !is_release {
        return Err(Error::InvalidBuilderRef {
            builder: cert_name,
            git_ref: signer_ref.to_owned(),
        });
    }
    Ok(cert_builder)
}

/// Builder binding for GitHub artifact attestations, whose builder is GitHub's runner: the
/// certificate's Runner Environment and Build Config URI must be the predicate's.
fn check_runner_builder(
    prov: &Provenance<'_>,
    cert: &CertificateFacts<'_>,
    req: &ProvenanceRequirements,
) -> Result<String, Error> {
    let runner = cert.required(OID_RUNNER_ENVIRONMENT, "Runner Environment")?;
    let cert_builder = format!("https://github.com/actions/runner/{runner}");
    if cert_builder != prov.builder_id {
        return Err(Error::BuilderMismatch {
            predicate: prov.builder_id.to_owned(),
            certificate: cert_builder,
        });
    }
    let config = cert.required(OID_BUILD_CONFIG_URI, "Build Config URI")?;
    let workflow = prov.workflow.as_deref().unwrap_or_default();
    if config != workflow {
        return Err(Error::BuilderMismatch {
            predicate: workflow.to_owned(),
            certificate: config.to_owned(),
        });
    }
    if let Some(expected) = &req.builder_id {
        let (name, version) = parse_builder_id(expected)?;
        if name != prov.builder_id || !version.is_empty() {
            return Err(Error::UntrustedBuilder {
                certificate: cert_builder,
                reason: format!("the required builder is {expected}"),
            });
        }
    }
    Ok(cert_builder)
}

/// Source checks (slsa-verifier `VerifyCertficateSourceRepository`, `verifySourceURI`),
/// binding the predicate to the certificate's Source Repository extensions as well.
fn check_source(
    prov: &Provenance<'_>,
    cert: &CertificateFacts<'_>,
    req: &ProvenanceRequirements,
) -> Result<String, Error> {
    let cert_repo = match cert.extension(OID_SOURCE_REPOSITORY_URI) {
        Some(uri) => uri.to_owned(),
        None => match cert.extension(OID_WORKFLOW_REPOSITORY) {
            Some(repo) => format!("{GITHUB}{repo}"),
            None => {
                return Err(Error::MissingExtension {
                    oid: OID_SOURCE_REPOSITORY_URI,
                    name: "Source Repository URI",
                });
            }
        },
    };
    if let Some(expected) = &req.source_uri {
        let expected_repo = normalize_source_uri(expected)?;
        if expected_repo != cert_repo {
            return Err(Error::SourceMismatch {
                location: "certificate Source Repository URI",
                expected: expected_repo,
                actual: cert_repo,
            });
        }
    }
    let (trigger_repo, trigger_ref) = split_git_uri(&prov.trigger, "predicate trigger")?;
    if trigger_repo != cert_repo {
        return Err(Error::SourceMismatch {
            location: "predicate trigger repository",
            expected: cert_repo,
            actual: trigger_repo.to_owned(),
        });
    }
    let (source_repo, _) = split_git_uri(prov.source, "predicate source")?;
    if source_repo != cert_repo {
        return Err(Error::SourceMismatch {
            location: "predicate source repository",
            expected: cert_repo,
            actual: source_repo.to_owned(),
        });
    }
    if prov.trigger != prov.source {
        return Err(Error::SourceMismatch {
            location: "predicate source (must equal the trigger)",
            expected: prov.trigger.clone(),
            actual: prov.source.to_owned(),
        });
    }
    if let Some(cert_ref) = cert.extension(OID_SOURCE_REPOSITORY_REF)
        && cert_ref != trigger_ref
    {
        return Err(Error::SourceMismatch {
            location: "predicate ref vs certificate Source Repository Ref",
            expected: cert_ref.to_owned(),
            actual: trigger_ref.to_owned(),
        });
    }
    if let Some(cert_digest) = cert.extension(OID_SOURCE_REPOSITORY_DIGEST) {
        let Some(digest) = prov.source_digest else {
            return Err(Error::MissingField {
                path: "predicate source digest (gitCommit or sha1)".to_owned(),
            });
        };
        if !digest.eq_ignore_ascii_case(cert_digest) {
            return Err(Error::SourceMismatch {
                location: "predicate commit vs certificate Source Repository Digest",
                expected: cert_digest.to_owned(),
                actual: digest.to_owned(),
            });
        }
    }
    Ok(cert_repo)
}

/// `github.com/o/r`, `https://github.com/o/r`, `git+https://github.com/o/r` ->
/// `https://github.com/o/r`; slsa-verifier accepts github.com sources only.
fn normalize_source_uri(uri: &str) -> Result<String, Error> {
    let bare = uri.strip_prefix("git+").unwrap_or(uri);
    let bare = bare.strip_prefix("https://").unwrap_or(bare);
    let bare = bare.trim_end_matches('/');
    match bare.strip_prefix("github.com/") {
        Some(repo) if repo.split('/').count() == 2 && !repo.contains("//") => {
            Ok(format!("{GITHUB}{repo}"))
        }
        _ => Err(Error::InvalidValue {
            path: "source_uri".to_owned(),
            value: uri.to_owned(),
            reason: "expected a github.com/<owner>/<repo> source",
        }),
    }
}

/// `git+https://github.com/o/r@refs/tags/v1` -> (`https://github.com/o/r`, `refs/tags/v1`);
/// both parts must be present.
fn split_git_uri<'a>(uri: &'a str, what: &'static str) -> Result<(&'a str, &'a str), Error> {
    uri.strip_prefix("git+")
        .and_then(|rest| rest.split_once('@'))
        .filter(|(repo, git_ref)| !repo.is_empty() && !git_ref.is_empty())
        .ok_or_else(|| Error::InvalidValue {
            path: what.to_owned(),
            value: uri.to_owned(),
            reason: "not of the form git+<repository>@<ref>",
        })
}

/// slsa-verifier `ParseBuilderID(id, needVersion = false)`: `name` or `name@version`.
fn parse_builder_id(id: &str) -> Result<(&str, &str), Error> {
    let mut parts = id.split('@');
    let name = parts.next().unwrap_or_default();
    let version = parts.next().unwrap_or_default();
    let invalid =
        name.is_empty() || parts.next().is_some() || (id.contains('@') && version.is_empty());
    if invalid {
        return Err(Error::InvalidBuilderId { id: id.to_owned() });
    }
    Ok((name, version))
}

/// slsa-verifier `utils.VerifyVersionedTag`: the expected tag is a semver prefix; major must
/// match, minor and patch when given (patch compared with pre-release, build dropped).
fn verify_versioned_tag(provenance_tag: &str, expected: &str) -> Result<(), Error> {
    let Some(expected_version) = Version::parse(expected) else {
        return Err(Error::InvalidSemver {
            value: expected.to_owned(),
        });
    };
    let canonical = Version::parse(provenance_tag)
        .map(|v| v.canonical())
        .ok_or_else(|| Error::InvalidSemver {
            value: provenance_tag.to_owned(),
        })?;
    let major = Version::parse(&canonical)
        .map(|v| v.major())
        .unwrap_or_default();
    let expected_major = expected_version.major();
    if major != expected_major {
        return Err(Error::VersionedTagMismatch {
            part: "major",
            expected: expected_major,
            actual: major,
        });
    }
    // As Go: the dot-separated parts of the text, so "v1.2.3-rc.1" has patch "3-rc".
    let part = |v: &str, i: usize| v.split('.').nth(i).map(str::to_owned);
    if let Some(expected_minor) = part(expected, 1) {
        let minor = part(&canonical, 1).unwrap_or_default();
        if minor != expected_minor {
            return Err(Error::VersionedTagMismatch {
                part: "minor",
                expected: expected_minor,
                actual: minor,
            });
        }
    }
    if let Some(expected_patch) = part(expected, 2) {
        let expected_patch = expected_patch
            .strip_suffix(expected_version.build())
            .unwrap_or(&expected_patch)
            .to_owned();
        let patch = part(&canonical, 2).unwrap_or_default();
        if patch != expected_patch {
            return Err(Error::VersionedTagMismatch {
                part: "patch",
                expected: expected_patch,
                actual: patch,
            });
        }
    }
    Ok(())
}

fn read_v1(p: &Map<String, Value>) -> Result<Provenance<'_>, Error> {
    let def = required_object(p, "buildDefinition", "predicate")?;
    let build_type = required_str(def, "buildType", "predicate.buildDefinition")?;
    if build_type != GITHUB_WORKFLOW_BUILD_TYPE && build_type != SLSA_GITHUB_WORKFLOW_BUILD_TYPE {
        return Err(Error::UnsupportedBuildType {
            predicate_type: SLSA_PROVENANCE_V1.to_owned(),
            build_type: build_type.to_owned(),
        });
    }
    let external = required_object(def, "externalParameters", "predicate.buildDefinition")?;
    let wf_parent = "predicate.buildDefinition.externalParameters";
    let workflow = required_object(external, "workflow", wf_parent)?;
    let wf_path = "predicate.buildDefinition.externalParameters.workflow";
    let repository = required_str(workflow, "repository", wf_path)?;
    let git_ref = required_str(workflow, "ref", wf_path)?;
    let path = required_str(workflow, "path", wf_path)?;
    let deps_parent = "predicate.buildDefinition";
    let deps = required_array(def, "resolvedDependencies", deps_parent)?;
    let dep_path = "predicate.buildDefinition.resolvedDependencies[0]";
    let dep = deps
        .first()
        .ok_or_else(|| Error::MissingField {
            path: dep_path.to_owned(),
        })
        .and_then(|d| as_object(d, dep_path))?;
    let source = required_str(dep, "uri", dep_path)?;
    let digest = optional_object(dep, "digest", dep_path)?;
    let source_digest = match digest {
        Some(d) => match optional_str(d, "gitCommit", "")? {
            Some(commit) => Some(commit),
            None => optional_str(d, "sha1", "")?,
        },
        None => None,
    };
    let builder = required_object(
        required_object(p, "runDetails", "predicate")?,
        "builder",
        "predicate.runDetails",
    )?;
    Ok(Provenance {
        builder_id: required_str(builder, "id", "predicate.runDetails.builder")?,
        build_type,
        trigger: format!("git+{repository}@{git_ref}"),
        source,
        source_digest,
        tag: git_ref.starts_with("refs/tags/").then_some(git_ref),
        workflow: Some(format!("{repository}/{path}@{git_ref}")),
    })
}

fn read_v02(p: &Map<String, Value>) -> Result<Provenance<'_>, Error> {
    let builder = required_object(p, "builder", "predicate")?;
    let build_type = required_str(p, "buildType", "predicate")?;
    if !build_type.starts_with("https://github.com/slsa-framework/slsa-github-generator") {
        return Err(Error::UnsupportedBuildType {
            predicate_type: SLSA_PROVENANCE_V02.to_owned(),
            build_type: build_type.to_owned(),
        });
    }
    let invocation = required_object(p, "invocation", "predicate")?;
    let config = required_object(invocation, "configSource", "predicate.invocation")?;
    let trigger = required_str(config, "uri", "predicate.invocation.configSource")?;
    let materials = required_array(p, "materials", "predicate")?;
    let m_path = "predicate.materials[0]";
    let material = materials
        .first()
        .ok_or_else(|| Error::MissingField {
            path: m_path.to_owned(),
        })
        .and_then(|m| as_object(m, m_path))?;
    let source = required_str(material, "uri", m_path)?;
    let source_digest = match optional_object(material, "digest", m_path)? {
        Some(d) => optional_str(d, "sha1", "")?,
        None => None,
    };
    let env = optional_object(invocation, "environment", "predicate.invocation")?;
    let tag = match env {
        Some(env) => {
            let ref_type = optional_str(env, "github_ref_type", "")?;
            let git_ref = optional_str(env, "github_ref", "")?;
            match ref_type {
                Some("tag") => git_ref,
                Some(_) => None,
                None => git_ref.filter(|r| r.starts_with("refs/tags/")),
            }
        }
        None => None,
    };
    Ok(Provenance {
        builder_id: required_str(builder, "id", "predicate.builder")?,
        build_type,
        trigger: trigger.to_owned(),
        source,
        source_digest,
        tag,
        workflow: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn versioned_tag_matches_as_slsa_verifier() {
        struct Case {
            tag: &'static str,
            expected: &'static str,
            ok: bool,
        }
        let cases = [
            Case {
                tag: "v13.0.30",
                expected: "v13",
                ok: true,
            },
            Case {
                tag: "v13.0.30",
                expected: "v13.0",
                ok: true,
            },
            Case {
                tag: "v13.0.30",
                expected: "v13.0.30",
                ok: true,
            },
            Case {
                tag: "v13.0.30+b",
                expected: "v13.0.30+other",
                ok: true,
            },
            Case {
                tag: "v13.0.30",
                expected: "v13.0.31",
                ok: false,
            },
            Case {
                tag: "v13.0.30",
                expected: "v13.1",
                ok: false,
            },
            Case {
                tag: "v13.0.30",
                expected: "v12",
                ok: false,
            },
            Case {
                tag: "v1.2.3-alpha",
                expected: "v1.2.3",
                ok: false,
            },
            Case {
                tag: "v1.2.3-alpha",
                expected: "v1.2.3-alpha",
                ok: true,
            },
            Case {
                tag: "v1.2",
                expected: "v1.2.0",
                ok: true,
            },
        ];
        for case in cases {
            let got = verify_versioned_tag(case.tag, case.expected);
            assert_eq!(
                got.is_ok(),
                case.ok,
                "{} vs {}: {got:?}",
                case.tag,
                case.expected
            );
        }
        assert_eq!(
            verify_versioned_tag("v1.0.0", "13"),
            Err(Error::InvalidSemver { value: "13".into() })
        );
        assert_eq!(
            verify_versioned_tag("release-1", "v1"),
            Err(Error::InvalidSemver {
                value: "release-1".into()
            })
        );
    }

    #[test]
    fn builder_id_parses_as_slsa_verifier() {
        assert_eq!(parse_builder_id("https://x/y"), Ok(("https://x/y", "")));
        assert_eq!(
            parse_builder_id("https://x/y@v1"),
            Ok(("https://x/y", "v1"))
        );
        for bad in ["https://x/y@", "a@b@c", "", "@v1"] {
            assert!(parse_builder_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn source_uri_normalizes_github_forms() {
        for uri in [
            "github.com/o/r",
            "https://github.com/o/r",
            "git+https://github.com/o/r",
            "github.com/o/r/",
        ] {
            assert_eq!(
                normalize_source_uri(uri).unwrap(),
                "https://github.com/o/r",
                "{uri}"
            );
        }
        for uri in ["gitlab.com/o/r", "github.com/o", "github.com/o/r/x"] {
            assert!(normalize_source_uri(uri).is_err(), "{uri}");
        }
    }
}
