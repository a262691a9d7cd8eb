//! The ClusterImagePolicy wire shape (policy-controller
//! `pkg/apis/policy/v1beta1/clusterimagepolicy_types.go`; v1alpha1 has the same fields), with
//! unknown fields refused as the apiserver's structural schema does.

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Document {
    #[allow(dead_code)]
    pub(crate) api_version: String,
    #[allow(dead_code)]
    pub(crate) kind: String,
    /// Kubernetes ObjectMeta: only `name` is read.
    pub(crate) metadata: Value,
    pub(crate) spec: Spec,
    #[allow(dead_code)]
    #[serde(default)]
    pub(crate) status: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Spec {
    #[serde(default)]
    pub(crate) images: Vec<ImagePattern>,
    #[serde(default)]
    pub(crate) authorities: Vec<Authority>,
    #[serde(default)]
    pub(crate) policy: Option<Policy>,
    #[serde(default)]
    pub(crate) mode: Option<String>,
    #[serde(default, rename = "match")]
    pub(crate) matches: Vec<MatchResource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImagePattern {
    #[serde(default)]
    pub(crate) glob: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Authority {
    #[serde(default)]
    pub(crate) name: Option<String>,
    #[serde(default)]
    pub(crate) key: Option<KeyRef>,
    #[serde(default)]
    pub(crate) keyless: Option<KeylessRef>,
    #[serde(default, rename = "static")]
    pub(crate) static_ref: Option<StaticRef>,
    #[serde(default)]
    pub(crate) source: Vec<Source>,
    #[serde(default)]
    pub(crate) ctlog: Option<TLog>,
    #[serde(default)]
    pub(crate) attestations: Vec<Attestation>,
    #[serde(default)]
    pub(crate) rfc3161timestamp: Option<Rfc3161Timestamp>,
    #[serde(default)]
    pub(crate) signature_format: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct KeyRef {
    #[serde(default)]
    pub(crate) secret_ref: Option<Value>,
    #[serde(default)]
    pub(crate) data: Option<String>,
    #[serde(default)]
    pub(crate) kms: Option<String>,
    #[serde(default)]
    pub(crate) hash_algorithm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct KeylessRef {
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) identities: Vec<Identity>,
    #[serde(default, rename = "ca-cert")]
    pub(crate) ca_cert: Option<KeyRef>,
    #[serde(default)]
    pub(crate) trust_root_ref: Option<String>,
    #[serde(default, rename = "insecureIgnoreSCT")]
    pub(crate) insecure_ignore_sct: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Identity {
    #[serde(default)]
    pub(crate) issuer: Option<String>,
    #[serde(default)]
    pub(crate) subject: Option<String>,
    #[serde(default, rename = "issuerRegExp")]
    pub(crate) issuer_reg_exp: Option<String>,
    #[serde(default, rename = "subjectRegExp")]
    pub(crate) subject_reg_exp: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StaticRef {
    #[serde(default)]
    pub(crate) action: String,
    #[serde(default)]
    pub(crate) message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Source {
    #[serde(default)]
    pub(crate) oci: String,
    #[allow(dead_code)]
    #[serde(default)]
    pub(crate) signature_pull_secrets: Vec<Value>,
    #[serde(default)]
    pub(crate) tag_prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TLog {
    #[serde(default)]
    pub(crate) url: Option<String>,
    #[serde(default)]
    pub(crate) trust_root_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Rfc3161Timestamp {
    #[serde(default)]
    pub(crate) trust_root_ref: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Attestation {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) predicate_type: String,
    #[serde(default)]
    pub(crate) policy: Option<Policy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct Policy {
    #[serde(default, rename = "type")]
    pub(crate) policy_type: String,
    #[serde(default)]
    pub(crate) data: Option<String>,
    #[serde(default)]
    pub(crate) remote: Option<Value>,
    #[serde(default)]
    pub(crate) config_map_ref: Option<Value>,
    #[serde(default)]
    pub(crate) fetch_config_file: Option<bool>,
    #[serde(default)]
    pub(crate) include_spec: Option<bool>,
    #[serde(default)]
    pub(crate) include_object_meta: Option<bool>,
    #[serde(default)]
    pub(crate) include_type_meta: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MatchResource {
    #[serde(default)]
    pub(crate) group: Option<String>,
    #[serde(default)]
    pub(crate) version: Option<String>,
    #[serde(default)]
    pub(crate) resource: Option<String>,
    #[serde(default)]
    pub(crate) selector: Option<Value>,
}
