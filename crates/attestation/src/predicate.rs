//! Predicate types: cosign's short names, and the structural checks each known predicate must
//! pass before it is signed or trusted.

use serde_json::{Map, Value};

use crate::Error;

/// SLSA Provenance v1 (slsa-framework/slsa `docs/spec/v1.0/provenance.md`).
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// SLSA Provenance v0.2 (slsa-github-generator's format).
pub const SLSA_PROVENANCE_V02: &str = "https://slsa.dev/provenance/v0.2";
/// in-toto Link v1 (cosign `link`).
pub const IN_TOTO_LINK_V1: &str = "https://in-toto.io/Link/v1";
/// SPDX document, 2.x JSON or 3 JSON-LD (in-toto `spec/predicates/spdx.md`).
pub const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";
/// CycloneDX BOM (in-toto `spec/predicates/cyclonedx.md`).
pub const CYCLONEDX_BOM: &str = "https://cyclonedx.org/bom";
/// cosign's vulnerability scan predicate (cosign `vuln`).
pub const COSIGN_VULN_V1: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";
/// cosign's custom predicate (cosign `custom`, its default).
pub const COSIGN_CUSTOM_V1: &str = "https://cosign.sigstore.dev/attestation/v1";
/// in-toto vulns predicate v0.1 (in-toto `spec/predicates/vulns_01.md`).
pub const IN_TOTO_VULNS_V01: &str = "https://in-toto.io/attestation/vulns/v0.1";
/// in-toto vulns predicate v0.2.
pub const IN_TOTO_VULNS_V02: &str = "https://in-toto.io/attestation/vulns/v0.2";
/// OpenVEX (openvex/spec `OPENVEX-SPEC.md`).
pub const OPENVEX: &str = "https://openvex.dev/ns";

/// GitHub's build type, as actions/toolkit `packages/attest/src/provenance.ts` writes it.
pub const GITHUB_WORKFLOW_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// The same build type under slsa-framework/github-actions-buildtypes (2024 bundles).
pub const SLSA_GITHUB_WORKFLOW_BUILD_TYPE: &str =
    "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1";

/// cosign `--type` short names (sigstore/cosign `cmd/cosign/cli/options/predicate.go`).
const NAMES: &[(&str, &str)] = &[
    ("custom", COSIGN_CUSTOM_V1),
    ("cyclonedx", CYCLONEDX_BOM),
    ("cyclonedxxml", CYCLONEDX_BOM),
    ("link", IN_TOTO_LINK_V1),
    ("openvex", OPENVEX),
    ("slsaprovenance", SLSA_PROVENANCE_V02),
    ("slsaprovenance02", SLSA_PROVENANCE_V02),
    ("slsaprovenance1", SLSA_PROVENANCE_V1),
    ("spdx", SPDX_DOCUMENT),
    ("spdxjson", SPDX_DOCUMENT),
    ("vuln", COSIGN_VULN_V1),
];

/// Resolves a cosign predicate name (`slsaprovenance1`, `spdxjson`, ...) to its URI, or
/// returns an absolute URI unchanged (as cosign's `ParsePredicateType`).
///
/// # Errors
///
/// [`Error::InvalidPredicateType`] for anything else.
pub fn predicate_type_uri(name_or_uri: &str) -> Result<String, Error> {
    if let Some((_, uri)) = NAMES.iter().find(|(name, _)| *name == name_or_uri) {
        return Ok((*uri).to_owned());
    }
    if is_absolute_uri(name_or_uri) {
        return Ok(name_or_uri.to_owned());
    }
    Err(Error::InvalidPredicateType {
        value: name_or_uri.to_owned(),
    })
}

/// RFC 3986 §3: `scheme ":" hier-part`, scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ),
/// and no whitespace or control characters anywhere.
fn is_absolute_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Checks that `predicate` is a well-formed document of `predicate_type`.
///
/// - SLSA v1: `buildDefinition{buildType, externalParameters}` and `runDetails.builder.id`;
///   optional fields, when present, have their types; for the two GitHub workflow build
///   types, `externalParameters.workflow{ref, repository, path}` and no unknown parameter.
/// - SLSA v0.2: `builder.id`, `buildType`; optional `invocation`, `metadata`, `materials`.
/// - CycloneDX (`https://cyclonedx.org/bom[/vX.Y]`): a CycloneDX JSON BOM 1.2–1.6.
/// - SPDX (`https://spdx.dev/Document[/vX.Y]`): SPDX 2.2/2.3 JSON, or SPDX 3 JSON-LD.
/// - OpenVEX, cosign vuln, in-toto vulns: their required fields.
/// - Any other type: a JSON object.
///
/// # Errors
///
/// The error names the field path, e.g. `predicate.buildDefinition.buildType: missing`.
pub fn check_predicate(predicate_type: &str, predicate: &Value) -> Result<(), Error> {
    let root = as_object(predicate, "predicate")?;
    if predicate_type == SLSA_PROVENANCE_V1 {
        check_slsa_v1(root)
    } else if predicate_type == SLSA_PROVENANCE_V02 {
        check_slsa_v02(root)
    } else if is_versioned(predicate_type, CYCLONEDX_BOM) {
        check_cyclonedx(root)
    } else if is_versioned(predicate_type, SPDX_DOCUMENT) {
        check_spdx(root)
    } else if is_versioned(predicate_type, OPENVEX) {
        check_openvex(root)
    } else if predicate_type == COSIGN_VULN_V1 {
        check_cosign_vuln(root)
    } else if predicate_type == IN_TOTO_VULNS_V01 || predicate_type == IN_TOTO_VULNS_V02 {
        check_in_toto_vulns(root)
    } else {
        Ok(())
    }
}

/// `base` itself, or `base/v...` (in-toto's versioned predicate URIs).
fn is_versioned(predicate_type: &str, base: &str) -> bool {
    predicate_type
        .strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("/v"))
}

// ---- SLSA ---------------------------------------------------------------------------------

fn check_slsa_v1(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let def = required_object(p, "buildDefinition", ROOT)?;
    let def_path = "predicate.buildDefinition";
    let build_type = required_str(def, "buildType", def_path)?;
    non_empty(build_type, &join(def_path, "buildType"))?;
    let external = required_object(def, "externalParameters", def_path)?;
    optional_object(def, "internalParameters", def_path)?;
    if let Some(deps) = optional_array(def, "resolvedDependencies", def_path)? {
        let path = join(def_path, "resolvedDependencies");
        for (i, dep) in deps.iter().enumerate() {
            check_resource_descriptor(dep, &format!("{path}[{i}]"))?;
        }
    }
    let run = required_object(p, "runDetails", ROOT)?;
    let run_path = "predicate.runDetails";
    let builder = required_object(run, "builder", run_path)?;
    let builder_path = "predicate.runDetails.builder";
    let id = required_str(builder, "id", builder_path)?;
    non_empty(id, &join(builder_path, "id"))?;
    if let Some(meta) = optional_object(run, "metadata", run_path)? {
        let meta_path = "predicate.runDetails.metadata";
        optional_str(meta, "invocationId", meta_path)?;
        optional_str(meta, "startedOn", meta_path)?;
        optional_str(meta, "finishedOn", meta_path)?;
    }
    if let Some(byproducts) = optional_array(run, "byproducts", run_path)? {
        for (i, b) in byproducts.iter().enumerate() {
            check_resource_descriptor(b, &format!("{run_path}.byproducts[{i}]"))?;
        }
    }
    if build_type == GITHUB_WORKFLOW_BUILD_TYPE || build_type == SLSA_GITHUB_WORKFLOW_BUILD_TYPE {
        check_github_workflow_parameters(external)?;
    }
    Ok(())
}

/// slsa-framework/github-actions-buildtypes `workflow/v1`: `workflow` is required,
/// `inputs` and `vars` optional, nothing else (FORMATS.md §5.2: reject unknown
/// externalParameters).
fn check_github_workflow_parameters(external: &Map<String, Value>) -> Result<(), Error> {
    let path = "predicate.buildDefinition.externalParameters";
    let workflow = required_object(external, "workflow", path)?;
    let wf_path = "predicate.buildDefinition.externalParameters.workflow";
    for key in ["ref", "repository", "path"] {
        non_empty(required_str(workflow, key, wf_path)?, &join(wf_path, key))?;
    }
    optional_object(external, "inputs", path)?;
    optional_object(external, "vars", path)?;
    if let Some(unknown) = external
        .keys()
        .find(|k| !matches!(k.as_str(), "workflow" | "inputs" | "vars"))
    {
        return Err(Error::InvalidValue {
            path: join(path, unknown),
            value: unknown.clone(),
            reason: "unknown external parameter for the GitHub workflow build type",
        });
    }
    Ok(())
}

/// in-toto `resource_descriptor.md`: at least one of `uri`, `digest`, `content`.
fn check_resource_descriptor(value: &Value, path: &str) -> Result<(), Error> {
    let obj = as_object(value, path)?;
    let uri = optional_str(obj, "uri", path)?;
    let digest = optional_object(obj, "digest", path)?;
    let content = optional_str(obj, "content", path)?;
    if let Some(digest) = digest {
        for (alg, v) in digest {
            if !v.is_string() {
                return Err(wrong_type(&format!("{path}.digest.{alg}"), "a string"));
            }
        }
    }
    if uri.is_none() && digest.is_none() && content.is_none() {
        return Err(Error::MissingField {
            path: format!("{path}.uri"),
        });
    }
    Ok(())
}

fn check_slsa_v02(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let builder = required_object(p, "builder", ROOT)?;
    non_empty(
        required_str(builder, "id", "predicate.builder")?,
        "predicate.builder.id",
    )?;
    non_empty(required_str(p, "buildType", ROOT)?, "predicate.buildType")?;
    if let Some(inv) = optional_object(p, "invocation", ROOT)? {
        let inv_path = "predicate.invocation";
        if let Some(cs) = optional_object(inv, "configSource", inv_path)? {
            let cs_path = "predicate.invocation.configSource";
            optional_str(cs, "uri", cs_path)?;
            optional_object(cs, "digest", cs_path)?;
            optional_str(cs, "entryPoint", cs_path)?;
        }
        optional_object(inv, "environment", inv_path)?;
    }
    if let Some(meta) = optional_object(p, "metadata", ROOT)? {
        let meta_path = "predicate.metadata";
        optional_str(meta, "buildInvocationId", meta_path)?;
        optional_str(meta, "buildStartedOn", meta_path)?;
        optional_str(meta, "buildFinishedOn", meta_path)?;
    }
    if let Some(materials) = optional_array(p, "materials", ROOT)? {
        for (i, m) in materials.iter().enumerate() {
            let path = format!("predicate.materials[{i}]");
            let m = as_object(m, &path)?;
            optional_str(m, "uri", &path)?;
            optional_object(m, "digest", &path)?;
        }
    }
    Ok(())
}

// ---- SBOMs ------------------------------------------------------------------------------

/// CycloneDX JSON schema (`bom-1.x.schema.json`): `bomFormat` = `CycloneDX` and `specVersion`
/// are required; `serialNumber`, `version`, `components` have fixed shapes.
fn check_cyclonedx(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let format = required_str(p, "bomFormat", ROOT)?;
    if format != "CycloneDX" {
        return Err(Error::InvalidValue {
            path: "predicate.bomFormat".to_owned(),
            value: format.to_owned(),
            reason: "must be \"CycloneDX\" (a CycloneDX JSON BOM)",
        });
    }
    let spec = required_str(p, "specVersion", ROOT)?;
    if !matches!(spec, "1.2" | "1.3" | "1.4" | "1.5" | "1.6") {
        return Err(Error::InvalidValue {
            path: "predicate.specVersion".to_owned(),
            value: spec.to_owned(),
            reason: "unsupported CycloneDX JSON version (1.2 to 1.6)",
        });
    }
    if let Some(serial) = optional_str(p, "serialNumber", ROOT)?
        && !is_urn_uuid(serial)
    {
        return Err(Error::InvalidValue {
            path: "predicate.serialNumber".to_owned(),
            value: serial.to_owned(),
            reason: "must be an RFC 4122 urn:uuid",
        });
    }
    if let Some(version) = p.get("version")
        && version.as_u64().is_none_or(|v| v < 1)
    {
        return Err(wrong_type("predicate.version", "an integer >= 1"));
    }
    optional_object(p, "metadata", ROOT)?;
    if let Some(components) = optional_array(p, "components", ROOT)? {
        for (i, c) in components.iter().enumerate() {
            let path = format!("predicate.components[{i}]");
            let c = as_object(c, &path)?;
            required_str(c, "type", &path)?;
            required_str(c, "name", &path)?;
        }
    }
    Ok(())
}

fn is_urn_uuid(s: &str) -> bool {
    let Some(uuid) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    let groups: Vec<&str> = uuid.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// SPDX 2.2/2.3 JSON (spdx-spec `schemas/spdx-schema.json`), or SPDX 3 JSON-LD
/// (`@context` + `@graph` holding an `SpdxDocument`).
fn check_spdx(p: &Map<String, Value>) -> Result<(), Error> {
    if p.contains_key("@graph") || p.contains_key("@context") {
        return check_spdx3(p);
    }
    const ROOT: &str = "predicate";
    let version = required_str(p, "spdxVersion", ROOT)?;
    if !matches!(version, "SPDX-2.2" | "SPDX-2.3") {
        return Err(Error::InvalidValue {
            path: "predicate.spdxVersion".to_owned(),
            value: version.to_owned(),
            reason: "unsupported SPDX version (SPDX-2.2, SPDX-2.3, or SPDX 3 JSON-LD)",
        });
    }
    let id = required_str(p, "SPDXID", ROOT)?;
    if id != "SPDXRef-DOCUMENT" {
        return Err(Error::InvalidValue {
            path: "predicate.SPDXID".to_owned(),
            value: id.to_owned(),
            reason: "must be \"SPDXRef-DOCUMENT\"",
        });
    }
    non_empty(required_str(p, "name", ROOT)?, "predicate.name")?;
    let license = required_str(p, "dataLicense", ROOT)?;
    if license != "CC0-1.0" {
        return Err(Error::InvalidValue {
            path: "predicate.dataLicense".to_owned(),
            value: license.to_owned(),
            reason: "must be \"CC0-1.0\"",
        });
    }
    let namespace = required_str(p, "documentNamespace", ROOT)?;
    if !is_absolute_uri(namespace) || namespace.contains('#') {
        return Err(Error::InvalidValue {
            path: "predicate.documentNamespace".to_owned(),
            value: namespace.to_owned(),
            reason: "must be an absolute URI without '#'",
        });
    }
    let creation = required_object(p, "creationInfo", ROOT)?;
    let ci_path = "predicate.creationInfo";
    non_empty(
        required_str(creation, "created", ci_path)?,
        "predicate.creationInfo.created",
    )?;
    let creators = required_array(creation, "creators", ci_path)?;
    if creators.is_empty() {
        return Err(Error::MissingField {
            path: "predicate.creationInfo.creators[0]".to_owned(),
        });
    }
    for (i, c) in creators.iter().enumerate() {
        if !c.is_string() {
            return Err(wrong_type(
                &format!("predicate.creationInfo.creators[{i}]"),
                "a string",
            ));
        }
    }
    if let Some(packages) = optional_array(p, "packages", ROOT)? {
        for (i, pkg) in packages.iter().enumerate() {
            let path = format!("predicate.packages[{i}]");
            let pkg = as_object(pkg, &path)?;
            required_str(pkg, "SPDXID", &path)?;
            required_str(pkg, "name", &path)?;
            required_str(pkg, "downloadLocation", &path)?;
        }
    }
    Ok(())
}

fn check_spdx3(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let context = required_str(p, "@context", ROOT)?;
    if !context.contains("spdx.org/rdf/3.") {
        return Err(Error::InvalidValue {
            path: "predicate.@context".to_owned(),
            value: context.to_owned(),
            reason: "must be an SPDX 3 JSON-LD context (https://spdx.org/rdf/3.x/...)",
        });
    }
    let graph = required_array(p, "@graph", ROOT)?;
    let mut has_document = false;
    for (i, element) in graph.iter().enumerate() {
        let path = format!("predicate.@graph[{i}]");
        let element = as_object(element, &path)?;
        let kind = required_str(element, "type", &path)?;
        has_document |= kind == "SpdxDocument";
    }
    if !has_document {
        return Err(Error::MissingField {
            path: "predicate.@graph[type=SpdxDocument]".to_owned(),
        });
    }
    Ok(())
}

// ---- VEX and vulnerability scans ------------------------------------------------------------

const VEX_STATUSES: &[&str] = &["not_affected", "affected", "fixed", "under_investigation"];
const VEX_JUSTIFICATIONS: &[&str] = &[
    "component_not_present",
    "vulnerable_code_not_present",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "inline_mitigations_already_exist",
];

/// OpenVEX spec: `@context`, `@id`, `author`, `timestamp`, `version`, `statements`; each
/// statement a `vulnerability` and a `status`, with a justification or impact statement when
/// `not_affected` and an action statement when `affected`.
fn check_openvex(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let context = required_str(p, "@context", ROOT)?;
    if !context.starts_with(OPENVEX) {
        return Err(Error::InvalidValue {
            path: "predicate.@context".to_owned(),
            value: context.to_owned(),
            reason: "must be an OpenVEX context (https://openvex.dev/ns/...)",
        });
    }
    non_empty(required_str(p, "@id", ROOT)?, "predicate.@id")?;
    non_empty(required_str(p, "author", ROOT)?, "predicate.author")?;
    non_empty(required_str(p, "timestamp", ROOT)?, "predicate.timestamp")?;
    match p.get("version") {
        None => return Err(missing("predicate.version")),
        Some(v) if v.as_u64().is_some() => {}
        Some(_) => return Err(wrong_type("predicate.version", "an integer")),
    }
    let statements = required_array(p, "statements", ROOT)?;
    for (i, st) in statements.iter().enumerate() {
        let path = format!("predicate.statements[{i}]");
        let st = as_object(st, &path)?;
        match st.get("vulnerability") {
            None => return Err(missing(&join(&path, "vulnerability"))),
            Some(Value::String(_)) => {}
            Some(Value::Object(v)) => {
                required_str(v, "name", &join(&path, "vulnerability"))?;
            }
            Some(_) => {
                return Err(wrong_type(
                    &join(&path, "vulnerability"),
                    "an object (or a string)",
                ));
            }
        }
        let status = required_str(st, "status", &path)?;
        if !VEX_STATUSES.contains(&status) {
            return Err(Error::InvalidValue {
                path: join(&path, "status"),
                value: status.to_owned(),
                reason: "not an OpenVEX status",
            });
        }
        let justification = optional_str(st, "justification", &path)?;
        if let Some(j) = justification
            && !VEX_JUSTIFICATIONS.contains(&j)
        {
            return Err(Error::InvalidValue {
                path: join(&path, "justification"),
                value: j.to_owned(),
                reason: "not an OpenVEX justification",
            });
        }
        let impact = optional_str(st, "impact_statement", &path)?;
        if status == "not_affected" && justification.is_none() && impact.is_none() {
            return Err(missing(&join(&path, "justification")));
        }
        let action = optional_str(st, "action_statement", &path)?;
        if status == "affected" && action.is_none() {
            return Err(missing(&join(&path, "action_statement")));
        }
        optional_array(st, "products", &path)?;
    }
    Ok(())
}

/// cosign `pkg/cosign/attestation` `CosignVulnPredicate`: `scanner{uri, version, result}`
/// and `metadata{scanStartedOn, scanFinishedOn}`.
fn check_cosign_vuln(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let scanner = required_object(p, "scanner", ROOT)?;
    non_empty(
        required_str(scanner, "uri", "predicate.scanner")?,
        "predicate.scanner.uri",
    )?;
    optional_str(scanner, "version", "predicate.scanner")?;
    if !scanner.contains_key("result") {
        return Err(missing("predicate.scanner.result"));
    }
    if let Some(meta) = optional_object(p, "metadata", ROOT)? {
        optional_str(meta, "scanStartedOn", "predicate.metadata")?;
        optional_str(meta, "scanFinishedOn", "predicate.metadata")?;
    }
    Ok(())
}

/// in-toto `spec/predicates/vulns_02.md`: `scanner.uri` required; `scanner.result` a list of
/// `{id, ...}`.
fn check_in_toto_vulns(p: &Map<String, Value>) -> Result<(), Error> {
    const ROOT: &str = "predicate";
    let scanner = required_object(p, "scanner", ROOT)?;
    non_empty(
        required_str(scanner, "uri", "predicate.scanner")?,
        "predicate.scanner.uri",
    )?;
    if let Some(results) = optional_array(scanner, "result", "predicate.scanner")? {
        for (i, r) in results.iter().enumerate() {
            let path = format!("predicate.scanner.result[{i}]");
            let r = as_object(r, &path)?;
            required_str(r, "id", &path)?;
        }
    }
    optional_object(p, "metadata", ROOT)?;
    Ok(())
}

// ---- field access, naming the path --------------------------------------------------------

pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

fn missing(path: &str) -> Error {
    Error::MissingField {
        path: path.to_owned(),
    }
}

fn wrong_type(path: &str, expected: &'static str) -> Error {
    Error::WrongType {
        path: path.to_owned(),
        expected,
    }
}

fn non_empty(value: &str, path: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::InvalidValue {
            path: path.to_owned(),
            value: String::new(),
            reason: "must not be empty",
        });
    }
    Ok(())
}

pub(crate) fn as_object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Error> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(path, "an object"))
}

pub(crate) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<&'a str, Error> {
    match obj.get(key) {
        None => Err(missing(&join(parent, key))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(wrong_type(&join(parent, key), "a string")),
    }
}

pub(crate) fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<Option<&'a str>, Error> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(&join(parent, key), "a string")),
    }
}

pub(crate) fn required_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<&'a Map<String, Value>, Error> {
    match obj.get(key) {
        None => Err(missing(&join(parent, key))),
        Some(v) => as_object(v, &join(parent, key)),
    }
}

pub(crate) fn optional_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<Option<&'a Map<String, Value>>, Error> {
    obj.get(key)
        .map(|v| as_object(v, &join(parent, key)))
        .transpose()
}

pub(crate) fn required_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<&'a [Value], Error> {
    optional_array(obj, key, parent)?.ok_or_else(|| missing(&join(parent, key)))
}

pub(crate) fn optional_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    parent: &str,
) -> Result<Option<&'a [Value]>, Error> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(wrong_type(&join(parent, key), "an array")),
    }
}

#[cfg(test)]
mod tests;
