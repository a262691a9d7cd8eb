//! cosign's simple signing payload, the content of a legacy `.sig` layer
//! (sigstore/sigstore `pkg/signature/payload/payload.go`; containers/image
//! `docs/containers-signature.5.md` §JSON Data Format), and the docker reference cosign
//! writes into it.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::gojson::{write_key, write_str, write_value};
use crate::{Digest, Error};

/// The value of `critical.type` cosign writes and requires.
pub const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// The largest payload [`SimpleSigning::parse`] reads (1 MiB; cosign's are ~250 bytes).
pub const MAX_PAYLOAD_SIZE: usize = 1024 * 1024;

/// A simple signing payload: the image it names and cosign's `-a` annotations.
#[derive(Debug, Clone, PartialEq)]
pub struct SimpleSigning {
    docker_reference: String,
    manifest_digest: Digest,
    optional: Option<Map<String, Value>>,
}

impl SimpleSigning {
    /// A payload for `manifest_digest` as pushed to `docker_reference` (see
    /// [`docker_reference`] for the form cosign writes), with `optional` as the `optional`
    /// map (`None` writes `null`, as cosign does without `-a`).
    #[must_use]
    pub fn new(
        docker_reference: impl Into<String>,
        manifest_digest: Digest,
        optional: Option<Map<String, Value>>,
    ) -> Self {
        Self {
            docker_reference: docker_reference.into(),
            manifest_digest,
            optional,
        }
    }

    /// Reads a payload. The `critical` section is read strictly, as containers/image does:
    /// `identity`, `image` and `type` are required and no other key is allowed in it or its
    /// members; `type` must be [`COSIGN_SIGNATURE_TYPE`] and `docker-manifest-digest` a sha256
    /// digest. `optional` may be absent, `null` or an object. Other top-level keys are
    /// ignored, as Go's `json.Unmarshal` ignores them.
    ///
    /// Signatures are over the stored bytes: keep them and verify over them, never over
    /// [`SimpleSigning::to_bytes`].
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`], [`Error::Json`], [`Error::UnknownSignatureType`] or
    /// [`Error::InvalidDigest`].
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > MAX_PAYLOAD_SIZE {
            return Err(Error::TooLarge {
                what: "simple signing payload",
                size: bytes.len(),
                limit: MAX_PAYLOAD_SIZE,
            });
        }
        let raw: RawPayload =
            serde_json::from_slice(bytes).map_err(|e| Error::json("simple signing payload", &e))?;
        if raw.critical.kind != COSIGN_SIGNATURE_TYPE {
            return Err(Error::UnknownSignatureType {
                found: raw.critical.kind,
            });
        }
        Ok(Self {
            docker_reference: raw.critical.identity.docker_reference,
            manifest_digest: raw.critical.image.docker_manifest_digest.parse()?,
            optional: raw.optional,
        })
    }

    /// `critical.identity.docker-reference`.
    #[must_use]
    pub fn docker_reference(&self) -> &str {
        &self.docker_reference
    }

    /// `critical.image.docker-manifest-digest`: the image this payload signs.
    #[must_use]
    pub fn manifest_digest(&self) -> Digest {
        self.manifest_digest
    }

    /// `optional`, the annotations (`None` when `null` or absent).
    #[must_use]
    pub fn optional(&self) -> Option<&Map<String, Value>> {
        self.optional.as_ref()
    }

    /// The payload exactly as cosign writes it: Go `json.Marshal` of `SimpleContainerImage`,
    /// compact, fields in declaration order (`critical{identity, image, type}`, `optional`),
    /// `optional` keys sorted, `<`, `>`, `&` escaped as `\u003c` etc., numbers as `float64`.
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push('{');
        write_key(&mut out, "critical");
        out.push('{');
        write_key(&mut out, "identity");
        out.push('{');
        write_key(&mut out, "docker-reference");
        write_str(&mut out, &self.docker_reference);
        out.push_str("},");
        write_key(&mut out, "image");
        out.push('{');
        write_key(&mut out, "docker-manifest-digest");
        write_str(&mut out, &self.manifest_digest.to_string());
        out.push_str("},");
        write_key(&mut out, "type");
        write_str(&mut out, COSIGN_SIGNATURE_TYPE);
        out.push_str("},");
        write_key(&mut out, "optional");
        match &self.optional {
            Some(map) => write_value(&mut out, &Value::Object(map.clone())),
            None => out.push_str("null"),
        }
        out.push('}');
        out.into_bytes()
    }
}

#[derive(Deserialize)]
struct RawPayload {
    critical: RawCritical,
    #[serde(default)]
    optional: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCritical {
    identity: RawIdentity,
    image: RawImage,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIdentity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// The registry go-containerregistry assumes when a reference names none.
pub const DEFAULT_REGISTRY: &str = "index.docker.io";

/// The `docker-reference` cosign writes for `image_ref`: go-containerregistry's
/// `Repository.Name()`, the registry and repository with any tag or digest dropped. A first
/// path component containing `.` or `:`, or equal to `localhost`, is the registry; otherwise
/// the registry is Docker Hub, written `index.docker.io` (as is `docker.io`), and a Hub
/// repository without a `/` gains `library/`.
///
/// # Errors
///
/// [`Error::InvalidReference`] when the repository is empty or has characters outside
/// `[a-z0-9_./-]`, the tag is not `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`, or a digest is not
/// sha256 ([`Error::InvalidDigest`]).
pub fn docker_reference(image_ref: &str) -> Result<String, Error> {
    let invalid = |reason| Error::InvalidReference {
        reference: image_ref.to_owned(),
        reason,
    };
    // ggcr name.NewDigest / NewTag: `@` splits the digest, then the last `:` after the last
    // `/` splits the tag.
    let without_digest = match image_ref.split_once('@') {
        Some((base, digest)) => {
            digest.parse::<Digest>()?;
            base
        }
        None => image_ref,
    };
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    let repository_part = match without_digest[last_slash..].rfind(':') {
        Some(colon) => {
            let tag = &without_digest[last_slash + colon + 1..];
            if !valid_tag(tag) {
                return Err(invalid("tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"));
            }
            &without_digest[..last_slash + colon]
        }
        None => without_digest,
    };
    let (registry, repository) = match repository_part.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => (DEFAULT_REGISTRY, repository_part),
    };
    let registry = if registry == "docker.io" {
        DEFAULT_REGISTRY
    } else {
        registry
    };
    if registry.is_empty()
        || !registry
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return Err(invalid(
            "registry must be a host name or address, with an optional port",
        ));
    }
    if repository.is_empty()
        || !repository
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'/' | b'-'))
    {
        return Err(invalid("repository must be non-empty [a-z0-9_./-]"));
    }
    if registry == DEFAULT_REGISTRY && !repository.contains('/') {
        return Ok(format!("{registry}/library/{repository}"));
    }
    Ok(format!("{registry}/{repository}"))
}

fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    match bytes.split_first() {
        Some((first, rest)) => {
            (first.is_ascii_alphanumeric() || *first == b'_')
                && rest.len() <= 127
                && rest
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        }
        None => false,
    }
}
