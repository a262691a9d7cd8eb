//! What runs: the images of a cluster's pods (the output of `kubectl get pods -A -o json`) or
//! of a plain list of references, each with the workload that runs it.
//!
//! Images are read from the fields FORMATS §3.3 lists for a Pod: `spec.initContainers`,
//! `spec.containers`, `spec.ephemeralContainers` (`[].image`) and `spec.volumes[].image
//! .reference`. The digest that actually runs comes from `status.*ContainerStatuses[].imageID`
//! when the runtime reports a `repo@sha256:…` there.
//!
//! This module does not talk to a cluster: the caller runs `kubectl` or the API and passes the
//! bytes.

use serde_json::Value;
use waxseal_oci::Reference;

/// The label the Deployment controller puts on the ReplicaSets and Pods it creates.
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Prefixes Docker-based runtimes put before `imageID`.
const IMAGE_ID_PREFIXES: &[&str] = &["docker-pullable://", "docker://"];

/// The controller running a pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workload {
    /// The namespace (`"default"` when the pod names none).
    pub namespace: String,
    /// The controller's kind (`Deployment` for a ReplicaSet a Deployment made), `Pod` for a
    /// pod without a controller, `List` for an entry of an image list.
    pub kind: String,
    /// The controller's name.
    pub name: String,
}

impl Workload {
    /// A workload from its three parts.
    pub fn new(
        namespace: impl Into<String>,
        kind: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }
}

impl std::fmt::Display for Workload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.kind, self.name)
    }
}

/// One image running in one container (or image volume) of one pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    /// The image as the spec writes it.
    pub image: String,
    /// `repo@sha256:…`: the runtime's `imageID` when it has that form, else the spec image
    /// when it already carries a digest, else `None` (a tag not yet pulled).
    pub digest_ref: Option<String>,
    /// The controller running it.
    pub workload: Workload,
    /// The pod's name (the file name for an image list).
    pub pod: String,
    /// The container's (or image volume's) name; empty for an image list.
    pub container: String,
    /// Where the image is written: `spec.containers[0].image`, or the list's `line 3`.
    pub field: String,
}

impl Running {
    /// The key an image is tracked by: its digest reference, or the spec image without one.
    pub fn key(&self) -> &str {
        self.digest_ref.as_deref().unwrap_or(&self.image)
    }
}

/// Why an inventory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    /// A field holds a value of the wrong type.
    #[error("item {item}: {field} must be {expected}")]
    InvalidField {
        /// The index in `items`.
        item: usize,
        /// The field's path in the item.
        field: String,
        /// The type it must have.
        expected: &'static str,
    },
    /// A line of an image list is not an image reference.
    #[error("{file}:{line}: {reference:?} is not an image reference: {reason}")]
    InvalidReference {
        /// The list's name.
        file: String,
        /// The line number, from 1.
        line: usize,
        /// The line's text.
        reference: String,
        /// The parser's message.
        reason: String,
    },
    /// The bytes are not JSON.
    #[error("pod list is not JSON: {message}")]
    Json {
        /// serde_json's message.
        message: String,
    },
    /// A required field is absent.
    #[error("item {item}: {field} is missing")]
    MissingField {
        /// The index in `items`.
        item: usize,
        /// The field's path in the item.
        field: String,
    },
    /// The document is not a `List`, `PodList` or `Pod`.
    #[error(
        "expected kind List or PodList (the output of `kubectl get pods -A -o json`), got {kind:?}"
    )]
    NotAList {
        /// The kind found (empty when absent).
        kind: String,
    },
}

/// The images of every pod in `json`, the output of `kubectl get pods -A -o json` (`kind`
/// `List` or `PodList` with `items`; a single `Pod` is read as a list of one).
///
/// Each pod yields its init, regular and ephemeral containers and its image volumes, in that
/// order.
///
/// # Errors
///
/// [`InventoryError::Json`] when the bytes aren't JSON, [`InventoryError::NotAList`] for another
/// kind, [`InventoryError::MissingField`] or [`InventoryError::InvalidField`] naming the item
/// and field when a pod lacks `metadata.name` or a container its `name` or `image`, or a field
/// has the wrong type.
pub fn parse_pod_list(json: &[u8]) -> Result<Vec<Running>, InventoryError> {
    let doc: Value = serde_json::from_slice(json).map_err(|e| InventoryError::Json {
        message: e.to_string(),
    })?;
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    let single;
    let items: &[Value] = match kind {
        "List" | "PodList" => match doc.get("items") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => &[],
            Some(_) => {
                return Err(InventoryError::NotAList {
                    kind: format!("{kind} with non-array items"),
                });
            }
        },
        "Pod" => {
            single = [doc.clone()];
            &single
        }
        other => {
            return Err(InventoryError::NotAList {
                kind: other.to_owned(),
            });
        }
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        parse_pod(index, item, &mut out)?;
    }
    Ok(out)
}

/// The images of a plain list: one reference per line; blank lines and `#` comments (whole
/// lines or trailing) ignored. Each gets the workload `List` named `file` in no namespace.
///
/// # Errors
///
/// [`InventoryError::InvalidReference`] naming the file and line of the first line that isn't
/// an image reference.
pub fn parse_image_list(text: &str, file: &str) -> Result<Vec<Running>, InventoryError> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let image = line.split('#').next().unwrap_or_default().trim();
        if image.is_empty() {
            continue;
        }
        let parsed = Reference::parse(image).map_err(|e| InventoryError::InvalidReference {
            file: file.to_owned(),
            line: index + 1,
            reference: image.to_owned(),
            reason: e.to_string(),
        })?;
        out.push(Running {
            image: image.to_owned(),
            digest_ref: parsed.digest().map(|_| image.to_owned()),
            workload: Workload::new("", "List", file),
            pod: file.to_owned(),
            container: String::new(),
            field: format!("line {}", index + 1),
        });
    }
    Ok(out)
}

/// A string field, `None` when absent or null.
fn string<'a>(
    item: usize,
    value: &'a Value,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, InventoryError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(InventoryError::InvalidField {
            item,
            field: format!("{path}.{key}"),
            expected: "a string",
        }),
    }
}

/// An array field, empty when absent or null.
fn array<'a>(
    item: usize,
    value: &'a Value,
    key: &str,
    path: &str,
) -> Result<&'a [Value], InventoryError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(InventoryError::InvalidField {
            item,
            field: format!("{path}.{key}"),
            expected: "an array",
        }),
    }
}

/// An object field, `None` when absent or null.
fn object<'a>(
    item: usize,
    value: &'a Value,
    key: &str,
    path: &str,
) -> Result<Option<&'a Value>, InventoryError> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v @ Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(InventoryError::InvalidField {
            item,
            field: format!("{path}.{key}"),
            expected: "an object",
        }),
    }
}

fn parse_pod(index: usize, pod: &Value, out: &mut Vec<Running>) -> Result<(), InventoryError> {
    if !pod.is_object() {
        return Err(InventoryError::InvalidField {
            item: index,
            field: String::new(),
            expected: "an object (a Pod)",
        });
    }
    let metadata = object(index, pod, "metadata", "")?.ok_or(InventoryError::MissingField {
        item: index,
        field: "metadata".to_owned(),
    })?;
    let name =
        string(index, metadata, "name", "metadata")?.ok_or(InventoryError::MissingField {
            item: index,
            field: "metadata.name".to_owned(),
        })?;
    let namespace = string(index, metadata, "namespace", "metadata")?.unwrap_or("default");
    let workload = workload(index, metadata, namespace, name)?;
    let spec = object(index, pod, "spec", "")?.ok_or(InventoryError::MissingField {
        item: index,
        field: "spec".to_owned(),
    })?;
    let status = object(index, pod, "status", "")?;
    const LISTS: &[(&str, &str)] = &[
        ("initContainers", "initContainerStatuses"),
        ("containers", "containerStatuses"),
        ("ephemeralContainers", "ephemeralContainerStatuses"),
    ];
    for (list, statuses) in LISTS {
        let statuses = match status {
            Some(status) => array(index, status, statuses, "status")?,
            None => &[],
        };
        for (i, container) in array(index, spec, list, "spec")?.iter().enumerate() {
            let path = format!("spec.{list}[{i}]");
            let container_name = string(index, container, "name", &path)?.ok_or_else(|| {
                InventoryError::MissingField {
                    item: index,
                    field: format!("{path}.name"),
                }
            })?;
            let image = string(index, container, "image", &path)?.ok_or_else(|| {
                InventoryError::MissingField {
                    item: index,
                    field: format!("{path}.image"),
                }
            })?;
            let image_id = statuses
                .iter()
                .find(|s| s.get("name").and_then(Value::as_str) == Some(container_name))
                .and_then(|s| s.get("imageID"))
                .and_then(Value::as_str);
            let digest_ref = image_id
                .and_then(digest_ref_of_image_id)
                .or_else(|| digest_ref_of_spec(image));
            out.push(Running {
                image: image.to_owned(),
                digest_ref,
                workload: workload.clone(),
                pod: name.to_owned(),
                container: container_name.to_owned(),
                field: format!("{path}.image"),
            });
        }
    }
    for (i, volume) in array(index, spec, "volumes", "spec")?.iter().enumerate() {
        let path = format!("spec.volumes[{i}]");
        let Some(source) = object(index, volume, "image", &path)? else {
            continue;
        };
        let image_path = format!("{path}.image");
        let Some(reference) = string(index, source, "reference", &image_path)? else {
            continue;
        };
        let volume_name = string(index, volume, "name", &path)?.unwrap_or_default();
        out.push(Running {
            image: reference.to_owned(),
            digest_ref: digest_ref_of_spec(reference),
            workload: workload.clone(),
            pod: name.to_owned(),
            container: volume_name.to_owned(),
            field: format!("{image_path}.reference"),
        });
    }
    Ok(())
}

/// The pod's controller from `metadata.ownerReferences` (the one with `controller: true`).
fn workload(
    index: usize,
    metadata: &Value,
    namespace: &str,
    pod: &str,
) -> Result<Workload, InventoryError> {
    let owners = array(index, metadata, "ownerReferences", "metadata")?;
    let controller = owners
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true));
    let Some(owner) = controller else {
        return Ok(Workload::new(namespace, "Pod", pod));
    };
    let path = "metadata.ownerReferences[]";
    let kind = string(index, owner, "kind", path)?.ok_or(InventoryError::MissingField {
        item: index,
        field: format!("{path}.kind"),
    })?;
    let name = string(index, owner, "name", path)?.ok_or(InventoryError::MissingField {
        item: index,
        field: format!("{path}.name"),
    })?;
    let hash = object(index, metadata, "labels", "metadata")?
        .and_then(|labels| labels.get(POD_TEMPLATE_HASH))
        .and_then(Value::as_str);
    if kind == "ReplicaSet"
        && let Some(hash) = hash
        && let Some(deployment) = name
            .strip_suffix(hash)
            .and_then(|rest| rest.strip_suffix('-'))
        && !deployment.is_empty()
    {
        return Ok(Workload::new(namespace, "Deployment", deployment));
    }
    Ok(Workload::new(namespace, kind, name))
}

/// `repo@sha256:…` from a container status `imageID`, when it has that form.
fn digest_ref_of_image_id(image_id: &str) -> Option<String> {
    let stripped = IMAGE_ID_PREFIXES
        .iter()
        .find_map(|p| image_id.strip_prefix(p))
        .unwrap_or(image_id);
    digest_ref_of_spec(stripped)
}

/// The reference itself when it parses and carries a digest.
fn digest_ref_of_spec(image: &str) -> Option<String> {
    if !image.contains('@') {
        return None;
    }
    let parsed = Reference::parse(image).ok()?;
    parsed.digest().map(|_| image.to_owned())
}
