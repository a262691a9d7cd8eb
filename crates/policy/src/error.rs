//! Load errors: every problem found in the policy sources, each naming its file, document and
//! field.

use std::fmt;

/// Where a load problem is: the source's name and, when the YAML stream parsed, the 0-based
/// document index (`cip.yaml[2]`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// The [`Source`](crate::Source) name, as the caller gave it.
    pub source: String,
    /// The 0-based document index in a multi-document stream; `None` when the stream as a
    /// whole did not parse.
    pub document: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.document {
            Some(index) => write!(f, "{}[{index}]", self.source),
            None => f.write_str(&self.source),
        }
    }
}

/// One problem in one policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {field}: {kind}")]
#[non_exhaustive]
pub struct LoadError {
    /// The file and document.
    pub location: Location,
    /// The field path inside the document, as policy-controller spells it
    /// (`spec.authorities[0].keyless.identities[1].subjectRegExp`); `-` for the whole document.
    pub field: String,
    /// What is wrong.
    pub kind: LoadErrorKind,
}

/// What is wrong with a policy document. Messages follow policy-controller's admission
/// validation (`pkg/apis/policy/v1beta1/clusterimagepolicy_validation.go`) where it has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// `apiVersion` is not `policy.sigstore.dev/v1alpha1` or `policy.sigstore.dev/v1beta1`.
    #[error(
        "unsupported apiVersion {api_version:?}: want policy.sigstore.dev/v1alpha1 or policy.sigstore.dev/v1beta1"
    )]
    ApiVersionUnsupported {
        /// The value found.
        api_version: String,
    },
    /// Two attestations of one authority share a name.
    #[error("duplicate attestation name {name:?}")]
    AttestationNameDuplicate {
        /// The repeated name.
        name: String,
    },
    /// Two authorities of one policy share a name (given or defaulted).
    #[error("duplicate authority name {name:?}")]
    AuthorityNameDuplicate {
        /// The repeated name.
        name: String,
    },
    /// `keyless.ca-cert` names a CA that the facts cannot express.
    #[error(
        "keyless ca-cert is not supported: put the CA in a TrustRoot and use keyless.trustRootRef"
    )]
    CaCertUnsupported,
    /// A `type: cue` policy.
    #[error(
        "CUE policies are not supported: no CUE engine exists for Rust (policy {policy:?}); rewrite it in Rego"
    )]
    CueUnsupported {
        /// The attestation name, or `ClusterImagePolicy` for the CIP-level policy.
        policy: String,
    },
    /// A field that is not allowed here.
    #[error("must not set the field(s)")]
    FieldDisallowed,
    /// A field's value is not acceptable.
    #[error("invalid value: {value}: {reason}")]
    FieldInvalid {
        /// The value found.
        value: String,
        /// Why it is refused.
        reason: String,
    },
    /// A required field is absent or empty.
    #[error("missing field(s)")]
    FieldMissing,
    /// Several of a set of mutually exclusive fields are set.
    #[error("expected exactly one, got both: {}", fields.join(", "))]
    FieldsConflict {
        /// The mutually exclusive fields.
        fields: Vec<&'static str>,
    },
    /// None of a set of alternative fields is set.
    #[error("expected exactly one, got neither: {}", fields.join(", "))]
    FieldsMissingOneOf {
        /// The alternatives.
        fields: Vec<&'static str>,
    },
    /// An image glob with characters outside `[A-Za-z0-9-_:/*.@]`.
    #[error("invalid value: {glob}: glob is invalid: invalid glob {glob:?}")]
    GlobInvalid {
        /// The glob.
        glob: String,
    },
    /// `key.data` is not a PEM public key waxseal can use.
    #[error("invalid value: key data is not a usable PEM public key: {reason}")]
    KeyInvalid {
        /// The parser's complaint.
        reason: String,
    },
    /// `kind` is not `ClusterImagePolicy`.
    #[error("unsupported kind {kind:?}: want ClusterImagePolicy")]
    KindUnsupported {
        /// The value found.
        kind: String,
    },
    /// A feature that needs a cluster, a registry or a network (`secretRef`, `kms`,
    /// `remote`, `configMapRef`, `fetchConfigFile`).
    #[error("{what} is not supported offline: {advice}")]
    OfflineUnsupported {
        /// The feature.
        what: &'static str,
        /// What to do instead.
        advice: &'static str,
    },
    /// An attestation `predicateType` that is neither a URI nor a cosign short name.
    #[error("invalid value: {predicate_type}: unsupported predicate type (use a URI or one of {})", crate::predicate::SHORT_NAMES.join(", "))]
    PredicateTypeUnsupported {
        /// The value found.
        predicate_type: String,
    },
    /// An identity regexp that does not compile.
    #[error("invalid value: {regex}: regex is invalid: {reason}")]
    RegexInvalid {
        /// The expression.
        regex: String,
        /// The compiler's complaint.
        reason: String,
    },
    /// A Rego policy that does not parse or compile.
    #[error("rego policy does not compile: {reason}")]
    RegoInvalid {
        /// The compiler's complaint.
        reason: String,
    },
    /// A Rego policy whose package is not `sigstore`, so `data.sigstore.isCompliant` could
    /// never be defined.
    #[error(
        "rego policy declares {package}: it must declare `package sigstore` and define isCompliant"
    )]
    RegoPackage {
        /// The package found.
        package: String,
    },
    /// The document does not have the ClusterImagePolicy shape (unknown field, wrong type).
    #[error("{reason}")]
    Schema {
        /// The deserializer's complaint.
        reason: String,
    },
    /// An authority whose keyless, ctlog and rfc3161timestamp name different TrustRoots.
    #[error("one authority names several trustRootRefs ({}): use one TrustRoot per authority", refs.join(", "))]
    TrustRootRefsDiffer {
        /// The names.
        refs: Vec<String>,
    },
    /// The YAML stream itself does not parse.
    #[error("YAML does not parse: {reason}")]
    Yaml {
        /// The parser's complaint.
        reason: String,
    },
}

/// Every problem found by [`PolicySet::load`](crate::PolicySet::load). `Display` lists them
/// one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadErrors {
    errors: Vec<LoadError>,
}

impl LoadErrors {
    pub(crate) fn new(errors: Vec<LoadError>) -> Self {
        Self { errors }
    }

    /// The problems, in source and document order.
    pub fn errors(&self) -> &[LoadError] {
        &self.errors
    }

    /// An iterator over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, LoadError> {
        self.errors.iter()
    }

    /// How many problems there are (at least one).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always false: a `LoadErrors` holds at least one problem.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

impl<'a> IntoIterator for &'a LoadErrors {
    type Item = &'a LoadError;
    type IntoIter = std::slice::Iter<'a, LoadError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl IntoIterator for LoadErrors {
    type Item = LoadError;
    type IntoIter = std::vec::IntoIter<LoadError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}
