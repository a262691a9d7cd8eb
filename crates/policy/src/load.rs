//! Loading ClusterImagePolicy documents: YAML stream → documents → the checks policy-controller's
//! admission webhook makes (`*_validation.go`), collecting every problem with its file, document
//! index and field path.

use std::collections::BTreeSet;

use regex::Regex;
use waxseal_crypto::PublicKey;

use crate::document;
use crate::error::{LoadError, LoadErrorKind, Location};
use crate::glob::Glob;
use crate::policy::{
    Attestation, Authority, AuthorityKind, CipPolicy, ClusterImagePolicy, Identity, KeyAuthority,
    KeylessAuthority, Matcher, Mode, ResourceMatch, SignatureSource, Source, StaticAction,
    StaticAuthority, TimestampAuthority, TransparencyLog,
};
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
