//! Evaluation options and the decision, shaped for `--output json` and for
//! policy-controller-style messages.

use std::time::SystemTime;

use serde::Serialize;

use crate::policy::Mode;
use crate::rego::RegoLimits;

/// What to do with an image no policy matches (policy-controller `no-match-policy`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum NoMatch {
    /// Admit it.
    Allow,
    /// Refuse it: `no matching policies: <image>` (the default).
    #[default]
    Deny,
    /// Admit it with that message as a warning.
    Warn,
}

/// How to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// What an image no policy matches gets.
    pub no_match: NoMatch,
    /// The evaluation time: `time.now_ns()` and `data.waxseal.now_ns` in Rego.
    pub now: SystemTime,
    /// Limits on each Rego evaluation.
    pub rego_limits: RegoLimits,
}

impl Options {
    /// Options evaluating at `now`, denying unmatched images, with default Rego limits.
    pub fn new(now: SystemTime) -> Self {
        Self {
            no_match: NoMatch::Deny,
            now,
            rego_limits: RegoLimits::DEFAULT,
        }
    }

    /// These options with another no-match policy.
    #[must_use]
    pub fn with_no_match(mut self, no_match: NoMatch) -> Self {
        self.no_match = no_match;
        self
    }

    /// These options with other Rego limits.
    #[must_use]
    pub fn with_rego_limits(mut self, limits: RegoLimits) -> Self {
        self.rego_limits = limits;
        self
    }
}

/// The outcome of [`PolicySet::evaluate`](crate::PolicySet::evaluate).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    pub(crate) image: String,
    pub(crate) allowed: bool,
    pub(crate) errors: Vec<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) policies: Vec<PolicyResult>,
}

impl Decision {
    /// The image evaluated, as given.
    pub fn image(&self) -> &str {
        &self.image
    }

    /// Whether the image is admitted: no enforcing policy failed and the no-match policy did
    /// not deny.
    pub fn allowed(&self) -> bool {
        self.allowed
    }

    /// Denial reasons, policy-controller wording (`failed policy: <cip>: …`).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Warnings: warn-mode failures, Rego warnings, a `warn` no-match.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// One result per loaded policy, matched or not.
    pub fn policies(&self) -> &[PolicyResult] {
        &self.policies
    }

    /// The admission-style message: empty when allowed, else `validation failed: ` and the
    /// errors one per line.
    pub fn message(&self) -> String {
        if self.errors.is_empty() {
            String::new()
        } else {
            format!("validation failed: {}", self.errors.join("\n"))
        }
    }
}

/// How one ClusterImagePolicy fared.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PolicyResult {
    /// `metadata.name`.
    pub name: String,
    /// Whether its globs match the image (if not, nothing else was evaluated).
    pub matched: bool,
    /// Whether it passed (false when unmatched).
    pub passed: bool,
    /// `spec.mode`.
    pub mode: Mode,
    /// Per authority, in document order.
    pub authorities: Vec<AuthorityResult>,
    /// The CIP-level policy's failure, if it ran and failed.
    pub policy_error: Option<String>,
}

/// How one authority fared.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuthorityResult {
    /// The authority's name.
    pub name: String,
    /// Whether it was satisfied.
    pub passed: bool,
    /// Why not, in policy-controller wording.
    pub reason: Option<String>,
    /// Ids of the signatures that satisfied it (signature authorities).
    pub signatures: Vec<String>,
    /// Per listed attestation (attestation authorities).
    pub attestations: Vec<AttestationResult>,
}

/// How one listed attestation fared.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AttestationResult {
    /// The attestation's name.
    pub name: String,
    /// Its predicate type URI.
    pub predicate_type: String,
    /// Whether at least one statement of that type was signed by the authority and every such
    /// statement passed the policy.
    pub passed: bool,
    /// Why not.
    pub reason: Option<String>,
}
