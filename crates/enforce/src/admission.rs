//! Kubernetes `AdmissionReview` requests and responses (`admission.k8s.io/v1`, also `v1beta1`;
//! kubernetes `staging/src/k8s.io/api/admission/v1/types.go`), the images of every pod-bearing
//! kind with their field paths and JSON pointers, and JSONPatch digest pinning.
//!
//! Hand-written types: neither `k8s-openapi` nor `kube` is used (k8s-openapi has no admission
//! types, and kube-core writes patches as byte arrays).

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Why an `AdmissionReview` (or the object it carries) cannot be decided on. The server answers
/// 400 with its message; it is never an allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdmissionError {
    /// `apiVersion` is not `admission.k8s.io/v1` or `admission.k8s.io/v1beta1`.
    #[error("apiVersion is {found:?}, want admission.k8s.io/v1 or admission.k8s.io/v1beta1")]
    ApiVersion {
        /// The apiVersion sent (empty when missing).
        found: String,
    },
    /// A field of the request has the wrong type or value.
    #[error("{field}: {reason}")]
    InvalidField {
        /// The field (`request`, `request.operation`, `request.object`, …).
        field: &'static str,
        /// What is wrong (the JSON decoder's message where it found the problem).
        reason: String,
    },
    /// A value inside the admitted object is malformed (a container without an image, an image
    /// that is not a string, a container list that is not an array).
    #[error("object {path}: {reason}")]
    InvalidObject {
        /// The field path inside the object (`spec.containers[0].image`).
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// The body is not JSON, or not a JSON object.
    #[error("body is not an AdmissionReview JSON object: {0}")]
    Json(String),
    /// `kind` is not `AdmissionReview`.
    #[error("kind is {found:?}, want AdmissionReview")]
    Kind {
        /// The kind sent (empty when missing).
        found: String,
    },
    /// A CREATE or UPDATE request carries no object.
    #[error("request.object is missing for a {operation} request")]
    MissingObject {
        /// The request's operation.
        operation: &'static str,
    },
    /// The review has no `request`.
    #[error("AdmissionReview has no request")]
    MissingRequest,
    /// `request.uid` is missing or empty.
    #[error("request.uid is missing or empty")]
    MissingUid,
}

/// A group, version and kind (`request.kind`, `request.requestKind`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GroupVersionKind {
    /// API group, empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version (`v1`).
    #[serde(default)]
    pub version: String,
    /// Kind (`Pod`, `Deployment`).
    #[serde(default)]
    pub kind: String,
}

/// A group, version and resource (`request.resource`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GroupVersionResource {
    /// API group, empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version (`v1`).
    #[serde(default)]
    pub version: String,
    /// Resource (`pods`, `deployments`).
    #[serde(default)]
    pub resource: String,
}

/// The operation admitted (`request.operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Operation {
    /// `CONNECT` (exec, attach, port-forward).
    Connect,
    /// `CREATE`.
    Create,
    /// `DELETE`.
    Delete,
    /// `UPDATE`.
    Update,
}

impl Operation {
    /// The wire name (`CREATE`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Create => "CREATE",
            Self::Delete => "DELETE",
            Self::Update => "UPDATE",
        }
    }
}

/// An admission request, parsed from an `AdmissionReview`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Request {
    /// The review's `apiVersion`, echoed in the response.
    pub api_version: String,
    /// `request.uid`, echoed in the response.
    pub uid: String,
    /// The kind of the object.
    pub kind: GroupVersionKind,
    /// The resource requested.
    pub resource: GroupVersionResource,
    /// The subresource (`ephemeralcontainers`, `status`), if any.
    pub sub_resource: Option<String>,
    /// The kind originally requested, when the API server converted it.
    pub request_kind: Option<GroupVersionKind>,
    /// The object's name (empty on CREATE with `generateName`).
    pub name: Option<String>,
    /// The object's namespace.
    pub namespace: Option<String>,
    /// The operation.
    pub operation: Operation,
    /// The new object (CREATE, UPDATE; CONNECT's options object); always a JSON object if set.
    pub object: Option<Value>,
    /// The existing object (UPDATE, DELETE); always a JSON object if set.
    pub old_object: Option<Value>,
    /// Whether the request is a dry run: the caller MUST NOT record side effects for it.
    pub dry_run: bool,
    /// The operation's options (`CreateOptions`, …), if sent.
    pub options: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRequest {
    #[serde(default)]
    uid: String,
    #[serde(default)]
    kind: GroupVersionKind,
    #[serde(default)]
    resource: GroupVersionResource,
    #[serde(default)]
    sub_resource: Option<String>,
    #[serde(default)]
    request_kind: Option<GroupVersionKind>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    operation: Operation,
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    old_object: Option<Value>,
    #[serde(default)]
    dry_run: Option<bool>,
    #[serde(default)]
    options: Option<Value>,
}

const API_VERSIONS: [&str; 2] = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

impl Request {
    /// Parses an `AdmissionReview` body.
    ///
    /// # Errors
    ///
    /// [`AdmissionError`] naming the problem: not JSON, a wrong `apiVersion` or `kind`, no
    /// `request`, no `uid`, a field of the wrong type, an object or oldObject that is not a JSON
    /// object.
    pub fn parse(body: &[u8]) -> Result<Self, AdmissionError> {
        let review: Value =
            serde_json::from_slice(body).map_err(|e| AdmissionError::Json(e.to_string()))?;
        let Value::Object(mut review) = review else {
            return Err(AdmissionError::Json("not a JSON object".to_owned()));
        };
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        let api_version = text(review.get("apiVersion"));
        if !API_VERSIONS.contains(&api_version.as_str()) {
            return Err(AdmissionError::ApiVersion { found: api_version });
        }
        let kind = text(review.get("kind"));
        if kind != "AdmissionReview" {
            return Err(AdmissionError::Kind { found: kind });
        }
        let request = match review.remove("request") {
            None | Some(Value::Null) => return Err(AdmissionError::MissingRequest),
            Some(request @ Value::Object(_)) => request,
            Some(_) => {
                return Err(AdmissionError::InvalidField {
                    field: "request",
                    reason: "not a JSON object".to_owned(),
                });
            }
        };
        if request
            .get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(AdmissionError::MissingUid);
        }
        if request.get("operation").is_none_or(Value::is_null) {
            return Err(AdmissionError::InvalidField {
                field: "request.operation",
                reason: "missing".to_owned(),
            });
        }
        let raw: RawRequest =
            serde_json::from_value(request).map_err(|e| AdmissionError::InvalidField {
                field: "request",
                reason: e.to_string(),
            })?;
        let object = object_or_none(raw.object, "request.object")?;
        let old_object = object_or_none(raw.old_object, "request.oldObject")?;
        Ok(Self {
            api_version,
            uid: raw.uid,
            kind: raw.kind,
            resource: raw.resource,
            sub_resource: raw.sub_resource.filter(|s| !s.is_empty()),
            request_kind: raw.request_kind,
            name: raw.name,
            namespace: raw.namespace,
            operation: raw.operation,
            object,
            old_object,
            dry_run: raw.dry_run.unwrap_or(false),
            options: raw.options,
        })
    }
}

fn object_or_none(
    value: Option<Value>,
    field: &'static str,
) -> Result<Option<Value>, AdmissionError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(object @ Value::Object(_)) => Ok(Some(object)),
        Some(_) => Err(AdmissionError::InvalidField {
            field,
            reason: "not a JSON object".to_owned(),
        }),
    }
}

/// One image named by the admitted object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ImageUse {
    /// policy-controller's field path (`spec.template.spec.containers[0].image`).
    pub path: String,
    /// The RFC 6901 JSON pointer of the same string (`/spec/template/spec/containers/0/image`).
    pub pointer: String,
    /// The image as written.
    pub image: String,
}

/// Where the pod spec of a kind lives, as object keys.
fn pod_spec_keys(kind: &GroupVersionKind) -> Option<&'static [&'static str]> {
    const TEMPLATE: &[&str] = &["spec", "template", "spec"];
    match (kind.group.as_str(), kind.kind.as_str()) {
        ("", "Pod") => Some(&["spec"]),
        ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet")
        | ("batch", "Job")
        | ("", "ReplicationController") => Some(TEMPLATE),
        ("batch", "CronJob") => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        _ => None,
    }
}

/// The images a CREATE or UPDATE request's object names, in order: init containers,
/// containers, ephemeral containers, image volumes (kubernetes `core/v1` `PodSpec`). For
/// `pods/ephemeralcontainers` only the ephemeral containers. Other kinds, DELETE and CONNECT
/// name none.
///
/// # Errors
///
/// [`AdmissionError::MissingObject`] when a CREATE or UPDATE of a pod-bearing kind carries no
/// object; [`AdmissionError::InvalidObject`] when a container has no image, an image is not a
/// string, or a list or spec on the way has the wrong type.
pub fn images(request: &Request) -> Result<Vec<ImageUse>, AdmissionError> {
    if !matches!(request.operation, Operation::Create | Operation::Update) {
        return Ok(Vec::new());
    }
    let Some(keys) = pod_spec_keys(&request.kind) else {
        return Ok(Vec::new());
    };
    let Some(object) = &request.object else {
        return Err(AdmissionError::MissingObject {
            operation: request.operation.as_str(),
        });
    };
    let mut spec = object;
    let mut path = String::new();
    let mut pointer = String::new();
    for key in keys {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
        pointer.push('/');
        pointer.push_str(key);
        match spec.get(key) {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(next @ Value::Object(_)) => spec = next,
            Some(_) => {
                return Err(AdmissionError::InvalidObject {
                    path,
                    reason: "must be an object",
                });
            }
        }
    }
    let ephemeral_only = request.kind.kind == "Pod"
        && request.sub_resource.as_deref() == Some("ephemeralcontainers");
    let lists: &[&str] = if ephemeral_only {
        &["ephemeralContainers"]
    } else {
        &["initContainers", "containers", "ephemeralContainers"]
    };
    let mut uses = Vec::new();
    for list in lists {
        for (i, container) in elements(spec, list, &path)?.iter().enumerate() {
            let at = format!("{path}.{list}[{i}]");
            let Value::Object(container) = container else {
                return Err(AdmissionError::InvalidObject {
                    path: at,
                    reason: "must be an object",
                });
            };
            uses.push(image_at(
                container,
                "image",
                format!("{at}.image"),
                format!("{pointer}/{list}/{i}/image"),
            )?);
        }
    }
    if !ephemeral_only {
        for (i, volume) in elements(spec, "volumes", &path)?.iter().enumerate() {
            let at = format!("{path}.volumes[{i}]");
            let image = match volume {
                Value::Object(volume) => volume.get("image"),
                _ => {
                    return Err(AdmissionError::InvalidObject {
                        path: at,
                        reason: "must be an object",
                    });
                }
            };
            match image {
                None | Some(Value::Null) => {}
                Some(Value::Object(image)) => uses.push(image_at(
                    image,
                    "reference",
                    format!("{at}.image.reference"),
                    format!("{pointer}/volumes/{i}/image/reference"),
                )?),
                Some(_) => {
                    return Err(AdmissionError::InvalidObject {
                        path: format!("{at}.image"),
                        reason: "must be an object",
                    });
                }
            }
        }
    }
    Ok(uses)
}

/// The array at `spec[key]`, empty when absent or null.
fn elements<'a>(spec: &'a Value, key: &str, path: &str) -> Result<&'a [Value], AdmissionError> {
    match spec.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(AdmissionError::InvalidObject {
            path: format!("{path}.{key}"),
            reason: "must be an array",
        }),
    }
}

fn image_at(
    holder: &Map<String, Value>,
    key: &str,
    path: String,
    pointer: String,
) -> Result<ImageUse, AdmissionError> {
    match holder.get(key) {
        Some(Value::String(image)) if !image.is_empty() => Ok(ImageUse {
            path,
            pointer,
            image: image.clone(),
        }),
        Some(Value::String(_)) => Err(AdmissionError::InvalidObject {
            path,
            reason: "is empty",
        }),
        None | Some(Value::Null) => Err(AdmissionError::InvalidObject {
            path,
            reason: "is missing",
        }),
        Some(_) => Err(AdmissionError::InvalidObject {
            path,
            reason: "must be a string",
        }),
    }
}

/// A JSONPatch (RFC 6902) replacing each pinned image whose new value differs from the old:
/// `[{"op":"replace","path":<pointer>,"value":<new>}]`, as JSON bytes (`[]` when none changes).
pub fn digest_patch(pins: &[(ImageUse, String)]) -> Vec<u8> {
    let ops: Vec<Value> = pins
        .iter()
        .filter(|(image, new)| image.image != *new)
        .map(|(image, new)| json!({"op": "replace", "path": image.pointer, "value": new}))
        .collect();
    Value::Array(ops).to_string().into_bytes()
}

/// Kubernetes' cap on one warning, in characters (`admission/v1` `AdmissionResponse.Warnings`).
pub const MAX_WARNING_CHARS: usize = 120;

/// The `status` of a response (a `metav1.Status` subset).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// HTTP-style code (400 for a denial, as policy-controller).
    pub code: u16,
    /// The message the user sees, after the API server's `admission webhook … denied the
    /// request: ` prefix.
    pub message: String,
    /// The machine-readable reason (`BadRequest`).
    pub reason: Option<String>,
}

impl Status {
    /// A status with that code, message and reason.
    pub fn new(code: u16, message: impl Into<String>, reason: Option<String>) -> Self {
        Self {
            code,
            message: message.into(),
            reason,
        }
    }
}

/// An admission response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The request's uid.
    pub uid: String,
    /// Whether the request is admitted.
    pub allowed: bool,
    /// Why not (or extra detail).
    pub status: Option<Status>,
    /// A JSONPatch as JSON bytes; sent base64 with `patchType: JSONPatch`.
    pub patch: Option<Vec<u8>>,
    /// Warnings shown to the client (each capped at [`MAX_WARNING_CHARS`] when sent).
    pub warnings: Vec<String>,
}

impl Response {
    /// Admits the request with that uid.
    pub fn allow(uid: impl Into<String>) -> Self {
        Self {
            uid: uid.into(),
            allowed: true,
            status: None,
            patch: None,
            warnings: Vec::new(),
        }
    }

    /// Refuses the request with that uid: code 400, reason `BadRequest`, as policy-controller
    /// (knative's `MakeErrorStatus`).
    pub fn deny(uid: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            uid: uid.into(),
            allowed: false,
            status: Some(Status::new(400, message, Some("BadRequest".to_owned()))),
            patch: None,
            warnings: Vec::new(),
        }
    }

    /// This response with that patch (JSONPatch JSON bytes).
    #[must_use]
    pub fn with_patch(mut self, patch: Vec<u8>) -> Self {
        self.patch = Some(patch);
        self
    }

    /// This response with those warnings.
    #[must_use]
    pub fn with_warnings(mut self, warnings: Vec<String>) -> Self {
        self.warnings = warnings;
        self
    }

    /// The `AdmissionReview` JSON answering a review of `api_version`. The patch is standard
    /// base64 (not base64url) with `patchType: JSONPatch`, both only when there is a patch;
    /// each warning has non-printable characters replaced by spaces (Kubernetes drops such
    /// warnings) and is cut to its first [`MAX_WARNING_CHARS`] characters.
    pub fn to_review_json(&self, api_version: &str) -> Vec<u8> {
        let mut response = Map::new();
        response.insert("uid".to_owned(), json!(self.uid));
        response.insert("allowed".to_owned(), json!(self.allowed));
        if let Some(status) = &self.status {
            let mut s = Map::new();
            s.insert("code".to_owned(), json!(status.code));
            s.insert("message".to_owned(), json!(status.message));
            if let Some(reason) = &status.reason {
                s.insert("reason".to_owned(), json!(reason));
            }
            response.insert("status".to_owned(), Value::Object(s));
        }
        if let Some(patch) = &self.patch {
            let encoded = base64::engine::general_purpose::STANDARD.encode(patch);
            response.insert("patch".to_owned(), json!(encoded));
            response.insert("patchType".to_owned(), json!("JSONPatch"));
        }
        if !self.warnings.is_empty() {
            let warnings: Vec<String> = self.warnings.iter().map(|w| cap_warning(w)).collect();
            response.insert("warnings".to_owned(), json!(warnings));
        }
        json!({
            "apiVersion": api_version,
            "kind": "AdmissionReview",
            "response": response,
        })
        .to_string()
        .into_bytes()
    }
}

/// `warning` made printable and cut to [`MAX_WARNING_CHARS`] characters.
fn cap_warning(warning: &str) -> String {
    warning
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_WARNING_CHARS)
        .collect()
}
