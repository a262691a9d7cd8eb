//! The validated ClusterImagePolicy model and its loading: YAML stream → documents → the
//! checks policy-controller's admission webhook makes (`*_validation.go`), collecting every
//! problem.

use std::collections::BTreeSet;

use regex::Regex;
use serde::Serialize;
use waxseal_crypto::PublicKey;

use crate::document;
use crate::error::{LoadError, LoadErrorKind, Location};
use crate::glob::Glob;
use crate::rego::RegoPolicy;

const API_VERSIONS: &[&str] = &[
    "policy.sigstore.dev/v1alpha1",
    "policy.sigstore.dev/v1beta1",
];
const HASH_ALGORITHMS: &[&str] = &["sha224", "sha256", "sha384", "sha512"];
const RESOURCES: &[&str] = &[
    "cronjobs",
    "daemonsets",
    "deployments",
    "jobs",
    "pods",
    "replicasets",
    "statefulsets",
];

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
    name: String,
    api_version: String,
    location: Location,
    mode: Mode,
    images: Vec<Glob>,
    authorities: Vec<Authority>,
    policy: Option<CipPolicy>,
    matches: Vec<ResourceMatch>,
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
struct CipPolicy {
    rego: RegoPolicy,
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
    name: String,
    kind: AuthorityKind,
    ctlog: Option<TransparencyLog>,
    rfc3161timestamp: Option<TimestampAuthority>,
    attestations: Vec<Attestation>,
    sources: Vec<SignatureSource>,
    signature_format: Option<String>,
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
    name: String,
    predicate_type: String,
    predicate_type_uri: String,
    policy: Option<RegoPolicy>,
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

/// Collects problems for one document, with the field path prefix.
struct Checker<'a> {
    location: &'a Location,
    errors: Vec<LoadError>,
}

impl Checker<'_> {
    fn push(&mut self, field: impl Into<String>, kind: LoadErrorKind) {
        self.errors.push(LoadError {
            location: self.location.clone(),
            field: field.into(),
            kind,
        });
    }
}

/// Parses every document of `source`, appending policies and problems.
pub(crate) fn load_source(
    source: &Source,
    policies: &mut Vec<ClusterImagePolicy>,
    errors: &mut Vec<LoadError>,
) {
    let documents: Vec<serde_json::Value> = match serde_saphyr::from_multiple(&source.text) {
        Ok(documents) => documents,
        Err(e) => {
            errors.push(LoadError {
                location: Location {
                    source: source.name.clone(),
                    document: None,
                },
                field: "-".to_owned(),
                kind: LoadErrorKind::Yaml {
                    reason: e.to_string(),
                },
            });
            return;
        }
    };
    for (index, value) in documents.into_iter().enumerate() {
        if value.is_null() {
            continue; // an empty document, e.g. a trailing `---`
        }
        let location = Location {
            source: source.name.clone(),
            document: Some(index),
        };
        let mut checker = Checker {
            location: &location,
            errors: Vec::new(),
        };
        if let Some(policy) = load_document(value, &mut checker)
            && checker.errors.is_empty()
        {
            policies.push(policy);
        }
        errors.append(&mut checker.errors);
    }
}

fn load_document(value: serde_json::Value, c: &mut Checker<'_>) -> Option<ClusterImagePolicy> {
    let text =
        |v: &serde_json::Value, key: &str| v.get(key).and_then(|s| s.as_str()).map(str::to_owned);
    let api_version = text(&value, "apiVersion").unwrap_or_default();
    let kind = text(&value, "kind").unwrap_or_default();
    let mut shape_ok = true;
    if !API_VERSIONS.contains(&api_version.as_str()) {
        c.push(
            "apiVersion",
            LoadErrorKind::ApiVersionUnsupported {
                api_version: api_version.clone(),
            },
        );
        shape_ok = false;
    }
    if kind != "ClusterImagePolicy" {
        c.push("kind", LoadErrorKind::KindUnsupported { kind });
        shape_ok = false;
    }
    if !shape_ok {
        return None;
    }
    let document: document::Document = match serde_path_to_error::deserialize(value) {
        Ok(d) => d,
        Err(e) => {
            let path = e.path().to_string();
            c.push(
                if path == "." { "-".to_owned() } else { path },
                LoadErrorKind::Schema {
                    reason: e.into_inner().to_string(),
                },
            );
            return None;
        }
    };
    let name = match document.metadata.get("name").and_then(|n| n.as_str()) {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => {
            c.push("metadata.name", LoadErrorKind::FieldMissing);
            String::new()
        }
    };
    let spec = document.spec;

    if spec.images.is_empty() {
        c.push("spec.images", LoadErrorKind::FieldMissing);
    }
    let mut images = Vec::new();
    for (i, image) in spec.images.iter().enumerate() {
        let field = format!("spec.images[{i}].glob");
        if image.glob.is_empty() {
            c.push(field, LoadErrorKind::FieldMissing);
        } else if let Some(glob) = Glob::new(&image.glob) {
            images.push(glob);
        } else {
            c.push(
                field,
                LoadErrorKind::GlobInvalid {
                    glob: image.glob.clone(),
                },
            );
        }
    }

    // policy-controller's default `fail-on-empty-authorities: true`.
    if spec.authorities.is_empty() {
        c.push("spec.authorities", LoadErrorKind::FieldMissing);
    }
    let mut authorities = Vec::new();
    let mut names = BTreeSet::new();
    for (i, authority) in spec.authorities.into_iter().enumerate() {
        let field = format!("spec.authorities[{i}]");
        if let Some(a) = load_authority(authority, i, &field, c) {
            if !names.insert(a.name.clone()) {
                c.push(
                    format!("{field}.name"),
                    LoadErrorKind::AuthorityNameDuplicate {
                        name: a.name.clone(),
                    },
                );
            }
            authorities.push(a);
        }
    }

    let mode = match spec.mode.as_deref() {
        None | Some("") | Some("enforce") => Mode::Enforce,
        Some("warn") => Mode::Warn,
        Some(other) => {
            c.push(
                "spec.mode",
                LoadErrorKind::FieldInvalid {
                    value: other.to_owned(),
                    reason: "unsupported mode".to_owned(),
                },
            );
            Mode::Enforce
        }
    };

    let mut matches = Vec::new();
    for (i, m) in spec.matches.into_iter().enumerate() {
        let field = format!("spec.match[{i}]");
        if let Some(resource) = m.resource.as_deref()
            && !resource.is_empty()
            && !RESOURCES.contains(&resource)
        {
            c.push(
                format!("{field}.resource"),
                LoadErrorKind::FieldInvalid {
                    value: resource.to_owned(),
                    reason: "unsupported resource name".to_owned(),
                },
            );
        }
        let blank = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
        if m.selector.is_some() && blank(&m.resource) && blank(&m.version) && blank(&m.group) {
            c.push(
                format!("{field}.selector"),
                LoadErrorKind::FieldInvalid {
                    value: String::new(),
                    reason: "selector requires a resource type to match the labels".to_owned(),
                },
            );
        }
        matches.push(ResourceMatch {
            group: m.group,
            version: m.version,
            resource: m.resource,
            selector: m.selector,
        });
    }

    let policy = spec
        .policy
        .and_then(|p| load_policy(p, "spec.policy", "ClusterImagePolicy", true, c))
        .map(|rego| CipPolicy { rego });

    Some(ClusterImagePolicy {
        name,
        api_version,
        location: c.location.clone(),
        mode,
        images,
        authorities,
        policy,
        matches,
    })
}

fn load_authority(
    a: document::Authority,
    index: usize,
    field: &str,
    c: &mut Checker<'_>,
) -> Option<Authority> {
    let name = match a.name {
        Some(name) if !name.is_empty() => name,
        _ => format!("authority-{index}"),
    };
    let count = usize::from(a.key.is_some())
        + usize::from(a.keyless.is_some())
        + usize::from(a.static_ref.is_some());
    let one_of = vec!["key", "keyless", "static"];
    match count {
        0 => {
            c.push(field, LoadErrorKind::FieldsMissingOneOf { fields: one_of });
            return None;
        }
        1 => {}
        _ => {
            c.push(field, LoadErrorKind::FieldsConflict { fields: one_of });
            return None;
        }
    }
    let kind = if let Some(key) = a.key {
        load_key(key, &format!("{field}.key"), c).map(AuthorityKind::Key)
    } else if let Some(keyless) = a.keyless {
        load_keyless(keyless, &format!("{field}.keyless"), c).map(AuthorityKind::Keyless)
    } else if let Some(s) = a.static_ref {
        let action = match s.action.as_str() {
            "pass" => Some(StaticAction::Pass),
            "fail" => Some(StaticAction::Fail),
            "" => {
                c.push(
                    format!("{field}.static.action"),
                    LoadErrorKind::FieldMissing,
                );
                None
            }
            other => {
                c.push(
                    format!("{field}.static.action"),
                    LoadErrorKind::FieldInvalid {
                        value: other.to_owned(),
                        reason: "unsupported action".to_owned(),
                    },
                );
                None
            }
        };
        // Attestations, sources or a ctlog do not make sense with a static policy.
        if !a.attestations.is_empty() {
            c.push(
                field,
                LoadErrorKind::FieldsConflict {
                    fields: vec!["static", "attestations"],
                },
            );
        }
        if !a.source.is_empty() {
            c.push(
                field,
                LoadErrorKind::FieldsConflict {
                    fields: vec!["static", "source"],
                },
            );
        }
        if a.ctlog.is_some() {
            c.push(
                field,
                LoadErrorKind::FieldsConflict {
                    fields: vec!["static", "ctlog"],
                },
            );
        }
        action.map(|action| {
            AuthorityKind::Static(StaticAuthority {
                action,
                message: s.message,
            })
        })
    } else {
        None
    };

    let mut sources = Vec::new();
    for (i, s) in a.source.into_iter().enumerate() {
        if s.oci.is_empty() {
            c.push(
                format!("{field}.source[{i}].oci"),
                LoadErrorKind::FieldMissing,
            );
        }
        sources.push(SignatureSource {
            oci: s.oci,
            tag_prefix: s.tag_prefix,
        });
    }

    let mut attestations = Vec::new();
    let mut att_names = BTreeSet::new();
    for (i, att) in a.attestations.into_iter().enumerate() {
        let af = format!("{field}.attestations[{i}]");
        if att.name.is_empty() {
            c.push(format!("{af}.name"), LoadErrorKind::FieldMissing);
        } else if !att_names.insert(att.name.clone()) {
            c.push(
                format!("{af}.name"),
                LoadErrorKind::AttestationNameDuplicate {
                    name: att.name.clone(),
                },
            );
        }
        let uri = if att.predicate_type.is_empty() {
            c.push(format!("{af}.predicateType"), LoadErrorKind::FieldMissing);
            None
        } else if let Some(uri) = crate::predicate::resolve(&att.predicate_type) {
            Some(uri.to_owned())
        } else {
            c.push(
                format!("{af}.predicateType"),
                LoadErrorKind::PredicateTypeUnsupported {
                    predicate_type: att.predicate_type.clone(),
                },
            );
            None
        };
        let policy = att
            .policy
            .and_then(|p| load_policy(p, &format!("{af}.policy"), &att.name, false, c));
        if let Some(uri) = uri {
            attestations.push(Attestation {
                name: att.name,
                predicate_type: att.predicate_type,
                predicate_type_uri: uri,
                policy,
            });
        }
    }

    let ctlog = a.ctlog.map(|t| TransparencyLog {
        url: nonempty(t.url),
        trust_root_ref: nonempty(t.trust_root_ref),
    });
    let rfc3161timestamp = a.rfc3161timestamp.map(|t| TimestampAuthority {
        trust_root_ref: nonempty(t.trust_root_ref),
    });
    let signature_format = nonempty(a.signature_format);
    if let Some(format) = signature_format.as_deref()
        && format != "legacy"
        && format != "bundle"
    {
        c.push(
            format!("{field}.signatureFormat"),
            LoadErrorKind::FieldInvalid {
                value: format.to_owned(),
                reason: "want legacy or bundle".to_owned(),
            },
        );
    }

    let authority = Authority {
        name,
        kind: kind?,
        ctlog,
        rfc3161timestamp,
        attestations,
        sources,
        signature_format,
    };
    let mut refs = BTreeSet::new();
    if let AuthorityKind::Keyless(k) = &authority.kind {
        refs.extend(k.trust_root_ref.clone());
    }
    refs.extend(
        authority
            .ctlog
            .as_ref()
            .and_then(|l| l.trust_root_ref.clone()),
    );
    refs.extend(
        authority
            .rfc3161timestamp
            .as_ref()
            .and_then(|t| t.trust_root_ref.clone()),
    );
    if refs.len() > 1 {
        c.push(
            field,
            LoadErrorKind::TrustRootRefsDiffer {
                refs: refs.into_iter().collect(),
            },
        );
    }
    Some(authority)
}

fn nonempty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

fn load_key(key: document::KeyRef, field: &str, c: &mut Checker<'_>) -> Option<KeyAuthority> {
    let data = nonempty(key.data);
    let kms = nonempty(key.kms);
    let set = usize::from(data.is_some())
        + usize::from(kms.is_some())
        + usize::from(key.secret_ref.is_some());
    if set == 0 {
        c.push(
            field,
            LoadErrorKind::FieldsMissingOneOf {
                fields: vec!["data", "kms", "secretref"],
            },
        );
        return None;
    }
    if set > 1 {
        c.push(
            field,
            LoadErrorKind::FieldsConflict {
                fields: vec!["data", "kms", "secretref"],
            },
        );
        return None;
    }
    let hash_algorithm = nonempty(key.hash_algorithm);
    if let Some(h) = hash_algorithm.as_deref()
        && !HASH_ALGORITHMS.contains(&h)
    {
        c.push(
            format!("{field}.hashAlgorithm"),
            LoadErrorKind::FieldInvalid {
                value: h.to_owned(),
                reason: format!("want one of {}", HASH_ALGORITHMS.join(", ")),
            },
        );
    }
    if kms.is_some() {
        c.push(
            format!("{field}.kms"),
            LoadErrorKind::OfflineUnsupported {
                what: "key.kms",
                advice: "export the public key and put its PEM in key.data",
            },
        );
        return None;
    }
    if key.secret_ref.is_some() {
        c.push(
            format!("{field}.secretRef"),
            LoadErrorKind::OfflineUnsupported {
                what: "key.secretRef",
                advice: "put the public key PEM in key.data",
            },
        );
        return None;
    }
    let data = data?;
    match PublicKey::from_pem(&data) {
        Ok(key) => Some(KeyAuthority {
            key,
            hash_algorithm,
        }),
        Err(e) => {
            c.push(
                format!("{field}.data"),
                LoadErrorKind::KeyInvalid {
                    reason: e.to_string(),
                },
            );
            None
        }
    }
}

fn load_keyless(
    k: document::KeylessRef,
    field: &str,
    c: &mut Checker<'_>,
) -> Option<KeylessAuthority> {
    let url = nonempty(k.url);
    let mut ok = true;
    // Neither: policy-controller's defaulting webhook fills in the public-good Fulcio, whose
    // CAs are its default trust; here the default is the caller's default trusted root, so an
    // absent `url` means "a CA of that root" and a given one must be the CA's `uri`.
    match (&url, &k.ca_cert) {
        (None, None) | (Some(_), None) => {}
        (Some(_), Some(_)) => {
            c.push(
                field,
                LoadErrorKind::FieldsConflict {
                    fields: vec!["url", "ca-cert"],
                },
            );
            ok = false;
        }
        (None, Some(_)) => {
            c.push(format!("{field}.ca-cert"), LoadErrorKind::CaCertUnsupported);
            ok = false;
        }
    }
    // policy-controller only warns on empty identities; waxseal refuses, since a keyless
    // authority without identities would accept any certificate the CA issued.
    if k.identities.is_empty() {
        c.push(format!("{field}.identities"), LoadErrorKind::FieldMissing);
        ok = false;
    }
    let mut identities = Vec::new();
    for (i, id) in k.identities.into_iter().enumerate() {
        let idf = format!("{field}.identities[{i}]");
        let issuer = matcher(
            nonempty(id.issuer),
            nonempty(id.issuer_reg_exp),
            "issuer",
            "issuerRegExp",
            &idf,
            c,
        );
        let subject = matcher(
            nonempty(id.subject),
            nonempty(id.subject_reg_exp),
            "subject",
            "subjectRegExp",
            &idf,
            c,
        );
        match (issuer, subject) {
            (Ok(None), Ok(None)) => {
                // v1alpha1 refuses this; v1beta1 warns. Either way it matches every signer.
                c.push(
                    idf,
                    LoadErrorKind::FieldsMissingOneOf {
                        fields: vec!["issuer", "subject", "issuerRegExp", "subjectRegExp"],
                    },
                );
                ok = false;
            }
            (Ok(issuer), Ok(subject)) => identities.push(Identity { issuer, subject }),
            _ => ok = false,
        }
    }
    ok.then(|| KeylessAuthority {
        url,
        identities,
        trust_root_ref: nonempty(k.trust_root_ref),
        insecure_ignore_sct: k.insecure_ignore_sct.unwrap_or(false),
    })
}

fn matcher(
    exact: Option<String>,
    regex: Option<String>,
    exact_name: &'static str,
    regex_name: &'static str,
    field: &str,
    c: &mut Checker<'_>,
) -> Result<Option<Matcher>, ()> {
    match (exact, regex) {
        (Some(_), Some(_)) => {
            c.push(
                field,
                LoadErrorKind::FieldsConflict {
                    fields: vec![exact_name, regex_name],
                },
            );
            Err(())
        }
        (Some(s), None) => Ok(Some(Matcher::Exact(s))),
        (None, Some(r)) => match Regex::new(&r) {
            Ok(re) => Ok(Some(Matcher::Regex(re))),
            Err(e) => {
                c.push(
                    format!("{field}.{regex_name}"),
                    LoadErrorKind::RegexInvalid {
                        regex: r,
                        reason: e.to_string(),
                    },
                );
                Err(())
            }
        },
        (None, None) => Ok(None),
    }
}

fn load_policy(
    p: document::Policy,
    field: &str,
    policy_name: &str,
    cip_level: bool,
    c: &mut Checker<'_>,
) -> Option<RegoPolicy> {
    let mut ok = true;
    if !cip_level {
        let extras = [
            ("fetchConfigFile", p.fetch_config_file.is_some()),
            ("includeSpec", p.include_spec.is_some()),
            ("includeObjectMeta", p.include_object_meta.is_some()),
            ("includeTypeMeta", p.include_type_meta.is_some()),
        ];
        for (name, set) in extras {
            if set {
                c.push(format!("{field}.{name}"), LoadErrorKind::FieldDisallowed);
                ok = false;
            }
        }
    } else if p.fetch_config_file == Some(true) {
        c.push(
            format!("{field}.fetchConfigFile"),
            LoadErrorKind::OfflineUnsupported {
                what: "policy.fetchConfigFile",
                advice: "the image config is not fetched; drop the field and check config in an attestation",
            },
        );
        ok = false;
    }
    if p.remote.is_some() {
        c.push(
            format!("{field}.remote"),
            LoadErrorKind::OfflineUnsupported {
                what: "policy.remote",
                advice: "inline the policy in policy.data",
            },
        );
        ok = false;
    }
    if p.config_map_ref.is_some() {
        c.push(
            format!("{field}.configMapRef"),
            LoadErrorKind::OfflineUnsupported {
                what: "policy.configMapRef",
                advice: "inline the policy in policy.data",
            },
        );
        ok = false;
    }
    match p.policy_type.as_str() {
        "rego" => {}
        "cue" => {
            c.push(
                format!("{field}.type"),
                LoadErrorKind::CueUnsupported {
                    policy: policy_name.to_owned(),
                },
            );
            return None;
        }
        "" => {
            c.push(format!("{field}.type"), LoadErrorKind::FieldMissing);
            return None;
        }
        other => {
            c.push(
                format!("{field}.type"),
                LoadErrorKind::FieldInvalid {
                    value: other.to_owned(),
                    reason: "want rego or cue".to_owned(),
                },
            );
            return None;
        }
    }
    let data = match nonempty(p.data) {
        Some(data) => data,
        None => {
            if p.remote.is_none() && p.config_map_ref.is_none() {
                c.push(format!("{field}.data"), LoadErrorKind::FieldMissing);
            }
            return None;
        }
    };
    match RegoPolicy::compile(&data) {
        Ok(rego) => ok.then_some(rego),
        Err(kind) => {
            c.push(format!("{field}.data"), kind);
            None
        }
    }
}
