//! The validated ClusterImagePolicy model (`pkg/apis/policy/v1beta1`); `load` builds it.

use regex::Regex;
use serde::Serialize;
use waxseal_crypto::PublicKey;

use crate::error::Location;
use crate::glob::Glob;
use crate::rego::RegoPolicy;

/// One policy source: a file's name (for messages) and its text (YAML, possibly several
/// `---`-separated documents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The name used in messages, e.g. the path the caller read.
    pub name: String,
    /// The YAML text.
    pub text: String,
}

impl Source {
    /// A source named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }
}

/// Whether a failing policy denies (`enforce`, the default) or only warns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// Failures deny.
    Enforce,
    /// Failures become warnings.
    Warn,
}

/// A validated ClusterImagePolicy.
#[derive(Debug, Clone)]
pub struct ClusterImagePolicy {
    pub(crate) name: String,
    pub(crate) api_version: String,
    pub(crate) location: Location,
    pub(crate) mode: Mode,
    pub(crate) images: Vec<Glob>,
    pub(crate) authorities: Vec<Authority>,
    pub(crate) policy: Option<CipPolicy>,
    pub(crate) matches: Vec<ResourceMatch>,
}

impl ClusterImagePolicy {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `apiVersion` as written.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The file and document it came from.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// `spec.mode`.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// `spec.images[].glob`, as written.
    pub fn images(&self) -> impl Iterator<Item = &str> {
        self.images.iter().map(Glob::as_str)
    }

    /// `spec.authorities`.
    pub fn authorities(&self) -> &[Authority] {
        &self.authorities
    }

    /// `spec.match`: recorded, not evaluated (resource matching belongs to admission).
    pub fn resource_matches(&self) -> &[ResourceMatch] {
        &self.matches
    }

    /// Whether `spec.policy` is set.
    pub fn has_policy(&self) -> bool {
        self.policy.is_some()
    }

    pub(crate) fn globs(&self) -> &[Glob] {
        &self.images
    }

    pub(crate) fn cip_policy(&self) -> Option<&RegoPolicy> {
        self.policy.as_ref().map(|p| &p.rego)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CipPolicy {
    pub(crate) rego: RegoPolicy,
}

/// One `spec.match[]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ResourceMatch {
    /// API group.
    pub group: Option<String>,
    /// API version.
    pub version: Option<String>,
    /// Resource (`pods`, `deployments`, …).
    pub resource: Option<String>,
    /// Label selector, as written.
    pub selector: Option<serde_json::Value>,
}

/// One `spec.authorities[]` entry.
#[derive(Debug, Clone)]
pub struct Authority {
    pub(crate) name: String,
    pub(crate) kind: AuthorityKind,
    pub(crate) ctlog: Option<TransparencyLog>,
    pub(crate) rfc3161timestamp: Option<TimestampAuthority>,
    pub(crate) attestations: Vec<Attestation>,
    pub(crate) sources: Vec<SignatureSource>,
    pub(crate) signature_format: Option<String>,
}

impl Authority {
    /// `name`, or `authority-<index>` when absent.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key, keyless or static.
    pub fn kind(&self) -> &AuthorityKind {
        &self.kind
    }

    /// `ctlog`, as written.
    pub fn ctlog(&self) -> Option<&TransparencyLog> {
        self.ctlog.as_ref()
    }

    /// `rfc3161timestamp`, as written.
    pub fn rfc3161timestamp(&self) -> Option<&TimestampAuthority> {
        self.rfc3161timestamp.as_ref()
    }

    /// `attestations`: when non-empty, the authority checks attestations instead of
    /// signatures.
    pub fn attestations(&self) -> &[Attestation] {
        &self.attestations
    }

    /// `source[]`: where the caller should look for signatures.
    pub fn sources(&self) -> &[SignatureSource] {
        &self.sources
    }

    /// `signatureFormat` (`legacy` or `bundle`).
    pub fn signature_format(&self) -> Option<&str> {
        self.signature_format.as_deref()
    }

    /// Whether a verified transparency log entry is required: yes unless `ctlog` is present
    /// with neither `url` nor `trustRootRef` (`ctlog: {}`), as policy-controller documents.
    pub fn requires_tlog(&self) -> bool {
        match &self.ctlog {
            None => !matches!(self.kind, AuthorityKind::Static(_)),
            Some(log) => log.url.is_some() || log.trust_root_ref.is_some(),
        }
    }

    /// The TrustRoot this authority verifies under (from `keyless.trustRootRef`,
    /// `ctlog.trustRootRef` or `rfc3161timestamp.trustRootRef`, which must agree); `None` for
    /// the caller's default.
    pub fn trust_root_ref(&self) -> Option<&str> {
        let keyless = match &self.kind {
            AuthorityKind::Keyless(k) => k.trust_root_ref.as_deref(),
            _ => None,
        };
        keyless
            .or(self
                .ctlog
                .as_ref()
                .and_then(|c| c.trust_root_ref.as_deref()))
            .or(self
                .rfc3161timestamp
                .as_ref()
                .and_then(|t| t.trust_root_ref.as_deref()))
    }
}

/// How an authority recognises a signer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuthorityKind {
    /// `key`: a public key.
    Key(KeyAuthority),
    /// `keyless`: Fulcio certificates with given identities.
    Keyless(KeylessAuthority),
    /// `static`: pass or fail without looking at signatures.
    Static(StaticAuthority),
}

/// A `key` authority.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyAuthority {
    /// The key from `data`.
    pub key: PublicKey,
    /// `hashAlgorithm`, if set.
    pub hash_algorithm: Option<String>,
}

/// A `keyless` authority.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeylessAuthority {
    /// `url` of the Fulcio instance.
    pub url: Option<String>,
    /// `identities`: a signer must match one.
    pub identities: Vec<Identity>,
    /// `trustRootRef`.
    pub trust_root_ref: Option<String>,
    /// `insecureIgnoreSCT`: recorded; SCT checks are the caller's verifier's.
    pub insecure_ignore_sct: bool,
}

/// One `keyless.identities[]` entry. Regular expressions are unanchored, as Go's
/// `regexp.MatchString` in cosign: write `^…$` to anchor.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Identity {
    /// How the OIDC issuer must match.
    pub issuer: Option<Matcher>,
    /// How the certificate SAN must match.
    pub subject: Option<Matcher>,
}

impl Identity {
    pub(crate) fn matches(&self, subject: &str, issuer: &str) -> bool {
        self.issuer.as_ref().is_none_or(|m| m.matches(issuer))
            && self.subject.as_ref().is_none_or(|m| m.matches(subject))
    }
}

/// An exact string or a regular expression.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// Equal to this string.
    Exact(String),
    /// Matching this (unanchored) expression.
    Regex(Regex),
}

impl Matcher {
    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Self::Exact(s) => s == value,
            Self::Regex(r) => r.is_match(value),
        }
    }
}

/// A `static` authority.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StaticAuthority {
    /// `action`.
    pub action: StaticAction,
    /// `message`, for `fail`.
    pub message: Option<String>,
}

/// `static.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StaticAction {
    /// Always fail.
    Fail,
    /// Always pass.
    Pass,
}

/// `ctlog`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransparencyLog {
    /// `url`.
    pub url: Option<String>,
    /// `trustRootRef`.
    pub trust_root_ref: Option<String>,
}

/// `rfc3161timestamp`: at least one verified timestamp is required.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimestampAuthority {
    /// `trustRootRef`.
    pub trust_root_ref: Option<String>,
}

/// `source[]`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureSource {
    /// `oci`: the repository holding signatures.
    pub oci: String,
    /// `tagPrefix`.
    pub tag_prefix: Option<String>,
}

/// One `attestations[]` entry.
#[derive(Debug, Clone)]
pub struct Attestation {
    pub(crate) name: String,
    pub(crate) predicate_type: String,
    pub(crate) predicate_type_uri: String,
    pub(crate) policy: Option<RegoPolicy>,
}

impl Attestation {
    /// `name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `predicateType` as written (a URI or a cosign short name).
    pub fn predicate_type(&self) -> &str {
        &self.predicate_type
    }

    /// The predicate type URI statements must carry.
    pub fn predicate_type_uri(&self) -> &str {
        &self.predicate_type_uri
    }

    /// Whether a Rego policy applies to each statement.
    pub fn has_policy(&self) -> bool {
        self.policy.is_some()
    }

    pub(crate) fn rego(&self) -> Option<&RegoPolicy> {
        self.policy.as_ref()
    }
}
