//! The crate's one error type: what failed, with the offending values.

/// Why a statement, a predicate, a CI environment or a provenance check was refused.
///
/// Field paths are written as JSON paths from the statement's point of view
/// (`predicate.buildDefinition.buildType`, `subject[0].digest`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The predicate's builder id is not the identity that signed it (slsa-verifier
    /// `verifyBuilderIDExactMatch`): a valid signature over a provenance that claims another
    /// builder.
    #[error(
        "builder binding: the predicate claims builder {predicate} but the signing certificate \
         belongs to {certificate}"
    )]
    BuilderMismatch {
        /// `runDetails.builder.id` (v1) or `builder.id` (v0.2).
        predicate: String,
        /// The signer from the certificate (Build Signer URI, else SAN).
        certificate: String,
    },
    /// The certificate extension and the SAN name different signers.
    #[error("certificate Build Signer URI {build_signer_uri} differs from its SAN {san}")]
    CertificateInconsistent {
        /// Extension 1.3.6.1.4.1.57264.1.9.
        build_signer_uri: String,
        /// The certificate SAN.
        san: String,
    },
    /// The certificate was not issued for GitHub Actions' OIDC issuer.
    #[error("certificate issuer is {actual}, expected {expected}")]
    IssuerMismatch {
        /// The issuer the check requires.
        expected: &'static str,
        /// The certificate's issuer.
        actual: String,
    },
    /// A builder id that is neither `name` nor `name@ref`.
    #[error("builder id {id:?} is not of the form <uri> or <uri>@<ref>")]
    InvalidBuilderId {
        /// The id as given.
        id: String,
    },
    /// A trusted builder referenced at something else than a `refs/tags/vX.Y.Z` tag.
    #[error("builder {builder} is referenced at {git_ref}, not at a refs/tags/vX.Y.Z release tag")]
    InvalidBuilderRef {
        /// The builder workflow.
        builder: String,
        /// The ref it was used at.
        git_ref: String,
    },
    /// Input that is not JSON, or not the JSON value expected.
    #[error("{what} is not valid JSON: {reason}")]
    InvalidJson {
        /// What was being parsed.
        what: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// A predicate type that is neither a known short name nor an absolute URI.
    #[error(
        "predicate type {value:?} is neither a known name (slsaprovenance, slsaprovenance02, \
         slsaprovenance1, link, spdx, spdxjson, cyclonedx, cyclonedxxml, vuln, openvex, custom) \
         nor an absolute URI"
    )]
    InvalidPredicateType {
        /// The name or URI as given.
        value: String,
    },
    /// A tag that is not a semantic version as Go's `golang.org/x/mod/semver` reads it.
    #[error("{value:?} is not a semantic version (vMAJOR[.MINOR[.PATCH[-PRE][+BUILD]]])")]
    InvalidSemver {
        /// The tag as given.
        value: String,
    },
    /// A field is present but has an unacceptable value.
    #[error("{path}: {reason} (got {value:?})")]
    InvalidValue {
        /// Where.
        path: String,
        /// What was found.
        value: String,
        /// The rule broken.
        reason: &'static str,
    },
    /// An OIDC token claim that provenance needs is missing or not a string.
    #[error("OIDC token claim {claim:?} is missing or not a string")]
    MissingClaim {
        /// The claim name.
        claim: &'static str,
    },
    /// A certificate extension the check needs is absent.
    #[error("certificate has no {name} extension ({oid})")]
    MissingExtension {
        /// Fulcio OID.
        oid: &'static str,
        /// Its name in Fulcio's `oid-info.md`.
        name: &'static str,
    },
    /// A required field is absent.
    #[error("{path}: missing")]
    MissingField {
        /// Where.
        path: String,
    },
    /// CI variables that provenance needs are unset.
    #[error("missing CI variables: {}", names.join(", "))]
    MissingVariables {
        /// Every missing variable, in the order they are read.
        names: Vec<&'static str>,
    },
    /// Not running in a supported CI.
    #[error(
        "not in GitHub Actions (GITHUB_ACTIONS is {}) nor GitLab CI (GITLAB_CI is {})",
        describe_flag(github_actions.as_deref()),
        describe_flag(gitlab_ci.as_deref())
    )]
    NotInCi {
        /// The value of `GITHUB_ACTIONS`, if set.
        github_actions: Option<String>,
        /// The value of `GITLAB_CI`, if set.
        gitlab_ci: Option<String>,
    },
    /// A statement without subjects.
    #[error("statement has no subject; at least one is required")]
    NoSubject,
    /// The ref in the provenance is not the one required.
    #[error("source ref is {actual:?}, expected {expected:?}")]
    RefMismatch {
        /// The ref required.
        expected: String,
        /// The provenance's ref.
        actual: String,
    },
    /// The source repository, ref or commit differs between the requirement, the certificate
    /// and the predicate.
    #[error("source mismatch at {location}: expected {expected:?}, got {actual:?}")]
    SourceMismatch {
        /// Which value disagrees (`certificate Source Repository URI`, `predicate source`, ...).
        location: &'static str,
        /// The value required.
        expected: String,
        /// The value found.
        actual: String,
    },
    /// A subject without any digest.
    #[error("subject[{index}] has no digest; at least one is required")]
    SubjectWithoutDigest {
        /// Position in `subject`.
        index: usize,
    },
    /// The provenance's tag is not the one required (`--source-tag`).
    #[error("source tag is {}, expected {expected:?}", describe_tag(actual.as_deref()))]
    TagMismatch {
        /// The tag required.
        expected: String,
        /// The provenance's tag, if it was built from one.
        actual: Option<String>,
    },
    /// A statement `_type` other than in-toto Statement v1 or v0.1.
    #[error(
        "_type {value:?} is not https://in-toto.io/Statement/v1 (or v0.1); not an in-toto statement"
    )]
    UnknownStatementType {
        /// The `_type` found.
        value: String,
    },
    /// A provenance whose build type this crate does not know how to check.
    #[error("unsupported build type {build_type:?} for {predicate_type}")]
    UnsupportedBuildType {
        /// The predicate type.
        predicate_type: String,
        /// `buildDefinition.buildType` or `buildType`.
        build_type: String,
    },
    /// A statement that is not SLSA provenance (v1 or v0.2).
    #[error("predicate type {predicate_type:?} is not SLSA provenance v1 or v0.2")]
    UnsupportedPredicateType {
        /// The statement's predicate type.
        predicate_type: String,
    },
    /// The signer is not the builder asked for (`--builder-id`), or, without `--builder-id`,
    /// not one of the default trusted builders.
    #[error("untrusted builder {certificate}: {reason}")]
    UntrustedBuilder {
        /// The builder from the certificate.
        certificate: String,
        /// Why it is not trusted.
        reason: String,
    },
    /// The provenance's tag does not match the required semantic version prefix
    /// (`--source-versioned-tag`).
    #[error("versioned tag mismatch: {part} version expected {expected:?}, got {actual:?}")]
    VersionedTagMismatch {
        /// `major`, `minor` or `patch`.
        part: &'static str,
        /// The part required.
        expected: String,
        /// The provenance tag's part.
        actual: String,
    },
    /// A field has the wrong JSON type.
    #[error("{path}: expected {expected}")]
    WrongType {
        /// Where.
        path: String,
        /// The JSON type required (`a string`, `an object`, ...).
        expected: &'static str,
    },
}

fn describe_flag(value: Option<&str>) -> String {
    match value {
        None => "not 'true'".to_owned(),
        Some(v) => format!("{v:?}, not 'true'"),
    }
}

fn describe_tag(value: Option<&str>) -> String {
    match value {
        None => "absent (not built from a tag)".to_owned(),
        Some(v) => format!("{v:?}"),
    }
}
