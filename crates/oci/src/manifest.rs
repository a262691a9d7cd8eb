//! OCI image manifests and indexes (opencontainers/image-spec `manifest.md`, `image-index.md`,
//! `descriptor.md`) and their Docker v2 schema 2 equivalents, read from bytes and written in
//! go-containerregistry's key order.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::gojson::{write_key, write_str, write_string_map};
use crate::media_type;
use crate::{Digest, Error};

/// The largest manifest or index body [`ManifestDocument::parse`] reads: 4 MiB, the limit the
/// distribution spec lets registries impose and the one distribution and ggcr use.
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;

/// A content descriptor (image-spec `descriptor.md`).
///
/// `urls` and `data` are not kept: cosign never writes them and nothing here reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Descriptor {
    /// `mediaType` of the referenced content.
    pub media_type: String,
    /// `digest` of the referenced content.
    pub digest: Digest,
    /// `size` in bytes of the referenced content.
    pub size: u64,
    /// `annotations`; written only when not empty.
    pub annotations: BTreeMap<String, String>,
    /// `artifactType`, set on referrers-index entries (and, a cosign quirk, on the config
    /// descriptor of cosign's referrer manifest).
    pub artifact_type: Option<String>,
    /// `platform`, set on index entries of multi-platform images.
    pub platform: Option<Platform>,
}

/// The `platform` of an index entry (image-spec `image-index.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Platform {
    /// `architecture`, as Go's `GOARCH`.
    pub architecture: String,
    /// `os`, as Go's `GOOS`.
    pub os: String,
    /// `os.version`.
    pub os_version: Option<String>,
    /// `os.features`.
    pub os_features: Vec<String>,
    /// `variant`, e.g. `v8`.
    pub variant: Option<String>,
}

/// An image manifest: OCI `application/vnd.oci.image.manifest.v1+json` or Docker
/// `application/vnd.docker.distribution.manifest.v2+json`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Manifest {
    /// The media type, from the body's `mediaType` or the header.
    pub media_type: String,
    /// `config`.
    pub config: Descriptor,
    /// `layers`, in order.
    pub layers: Vec<Descriptor>,
    /// `subject`, the manifest this one refers to (OCI 1.1).
    pub subject: Option<Descriptor>,
    /// `annotations`; written only when not empty.
    pub annotations: BTreeMap<String, String>,
    /// `artifactType` (OCI 1.1).
    pub artifact_type: Option<String>,
}

/// An image index: OCI `application/vnd.oci.image.index.v1+json` or a Docker manifest list.
/// The referrers API response and the referrers-tag fallback are OCI indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Index {
    /// The media type, from the body's `mediaType` or the header.
    pub media_type: String,
    /// `manifests`, in order.
    pub manifests: Vec<Descriptor>,
    /// `annotations`; written only when not empty.
    pub annotations: BTreeMap<String, String>,
    /// `subject` (OCI 1.1).
    pub subject: Option<Descriptor>,
    /// `artifactType` (OCI 1.1).
    pub artifact_type: Option<String>,
}

/// A manifest body of one of the four types this crate reads.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once per fetch and matched on directly; boxing would only add noise"
)]
pub enum ManifestDocument {
    /// An image index or manifest list.
    Index(Index),
    /// An image manifest.
    Manifest(Manifest),
}

/// The `sha256-<hex>` tag under which the referrers of `subject` are kept when the registry
/// has no referrers API (distribution-spec `spec.md` §Referrers Tag Schema).
#[must_use]
pub fn fallback_tag(subject: &Digest) -> String {
    format!("sha256-{}", subject.hex())
}

/// The empty config descriptor: `{}` (2 bytes) as `application/vnd.oci.empty.v1+json`
/// (image-spec `manifest.md` §Guidance for an Empty Descriptor).
#[must_use]
pub fn empty_config() -> Descriptor {
    Descriptor::new(media_type::OCI_EMPTY, Digest::of(EMPTY_CONFIG_BYTES), 2)
}

/// The bytes of the empty config blob.
pub const EMPTY_CONFIG_BYTES: &[u8] = b"{}";

/// cosign's referrer manifest for a Sigstore bundle (sigstore/cosign `pkg/oci/remote/write.go`
/// `WriteAttestationNewBundleFormat` and `WriteReferrer`), byte for byte once written with
/// [`Manifest::to_json`].
///
/// `created` is `org.opencontainers.image.created`, RFC 3339 in whole seconds UTC
/// (`2025-01-02T03:04:05Z`); it is injected because this crate reads no clock. The subject
/// descriptor is kept only as `{mediaType, size, digest}`, as cosign builds it from a HEAD.
#[must_use]
pub fn referrer_manifest(
    bundle_digest: Digest,
    bundle_size: u64,
    subject: Descriptor,
    predicate_type: &str,
    created: &str,
) -> Manifest {
    let mut config = empty_config();
    config.artifact_type = Some(media_type::SIGSTORE_BUNDLE_V03.to_owned());
    let annotations = BTreeMap::from([
        (
            crate::annotation::BUNDLE_CONTENT.to_owned(),
            "dsse-envelope".to_owned(),
        ),
        (
            crate::annotation::BUNDLE_PREDICATE_TYPE.to_owned(),
            predicate_type.to_owned(),
        ),
        (crate::annotation::CREATED.to_owned(), created.to_owned()),
    ]);
    Manifest {
        media_type: media_type::OCI_MANIFEST.to_owned(),
        config,
        layers: vec![Descriptor::new(
            media_type::SIGSTORE_BUNDLE_V03,
            bundle_digest,
            bundle_size,
        )],
        subject: Some(Descriptor::new(
            subject.media_type,
            subject.digest,
            subject.size,
        )),
        annotations,
        artifact_type: Some(media_type::SIGSTORE_BUNDLE_V03.to_owned()),
    }
}

impl Descriptor {
    /// A descriptor with no annotations, artifact type or platform.
    #[must_use]
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Self {
        Self {
            media_type: media_type.into(),
            digest,
            size,
            annotations: BTreeMap::new(),
            artifact_type: None,
            platform: None,
        }
    }

    /// Checks that `content` is what this descriptor names: its length is `size` and its
    /// sha256 is `digest`.
    ///
    /// # Errors
    ///
    /// [`Error::SizeMismatch`] or [`Error::DigestMismatch`].
    pub fn check_content(&self, content: &[u8]) -> Result<(), Error> {
        let actual = content.len() as u64;
        if actual != self.size {
            return Err(Error::SizeMismatch {
                expected: self.size,
                actual,
            });
        }
        let actual = Digest::of(content);
        if actual != self.digest {
            return Err(Error::DigestMismatch {
                expected: self.digest,
                actual,
            });
        }
        Ok(())
    }

    /// Appends the descriptor in ggcr `v1.Descriptor` field order: mediaType, size, digest,
    /// annotations, platform, artifactType.
    fn write_json(&self, out: &mut String) {
        out.push('{');
        write_key(out, "mediaType");
        write_str(out, &self.media_type);
        out.push(',');
        write_key(out, "size");
        out.push_str(&self.size.to_string());
        out.push(',');
        write_key(out, "digest");
        write_str(out, &self.digest.to_string());
        if !self.annotations.is_empty() {
            out.push(',');
            write_key(out, "annotations");
            write_string_map(out, &self.annotations);
        }
        if let Some(platform) = &self.platform {
            out.push(',');
            write_key(out, "platform");
            platform.write_json(out);
        }
        if let Some(artifact_type) = &self.artifact_type {
            out.push(',');
            write_key(out, "artifactType");
            write_str(out, artifact_type);
        }
        out.push('}');
    }
}

impl Platform {
    /// A platform with only `os` and `architecture`.
    #[must_use]
    pub fn new(os: impl Into<String>, architecture: impl Into<String>) -> Self {
        Self {
            architecture: architecture.into(),
            os: os.into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
        }
    }

    /// ggcr `v1.Platform` field order: architecture, os, os.version, os.features, variant.
    fn write_json(&self, out: &mut String) {
        out.push('{');
        write_key(out, "architecture");
        write_str(out, &self.architecture);
        out.push(',');
        write_key(out, "os");
        write_str(out, &self.os);
        if let Some(version) = &self.os_version {
            out.push(',');
            write_key(out, "os.version");
            write_str(out, version);
        }
        if !self.os_features.is_empty() {
            out.push(',');
            write_key(out, "os.features");
            out.push('[');
            for (i, feature) in self.os_features.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, feature);
            }
            out.push(']');
        }
        if let Some(variant) = &self.variant {
            out.push(',');
            write_key(out, "variant");
            write_str(out, variant);
        }
        out.push('}');
    }
}

impl Manifest {
    /// A manifest of `media_type` with `config` and `layers`, and no subject, annotations or
    /// artifact type.
    #[must_use]
    pub fn new(media_type: impl Into<String>, config: Descriptor, layers: Vec<Descriptor>) -> Self {
        Self {
            media_type: media_type.into(),
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
            artifact_type: None,
        }
    }

    /// The manifest as JSON in the key order cosign's referrer manifest has (ggcr
    /// `v1.Manifest` plus cosign's trailing `artifactType`): schemaVersion, mediaType, config,
    /// layers, annotations, subject, artifactType; compact, Go escaping.
    ///
    /// The digest of a manifest is the digest of the bytes stored in the registry; re-writing a
    /// parsed manifest need not give those bytes back.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push('{');
        write_key(&mut out, "schemaVersion");
        out.push_str("2,");
        write_key(&mut out, "mediaType");
        write_str(&mut out, &self.media_type);
        out.push(',');
        write_key(&mut out, "config");
        self.config.write_json(&mut out);
        out.push(',');
        write_key(&mut out, "layers");
        write_descriptors(&mut out, &self.layers);
        write_tail(
            &mut out,
            &self.annotations,
            self.subject.as_ref(),
            self.artifact_type.as_deref(),
        );
        out.into_bytes()
    }

    /// The entry ggcr adds to a referrers index for this manifest stored as `bytes`
    /// (`{mediaType, size, digest, artifactType}`; artifactType is the manifest's, else the
    /// config's media type; no annotations).
    #[must_use]
    pub fn referrer_descriptor(&self, bytes: &[u8]) -> Descriptor {
        let mut descriptor = Descriptor::new(
            self.media_type.clone(),
            Digest::of(bytes),
            bytes.len() as u64,
        );
        descriptor.artifact_type = Some(
            self.artifact_type
                .clone()
                .unwrap_or_else(|| self.config.media_type.clone()),
        );
        descriptor
    }
}

impl Index {
    /// An empty OCI image index, the starting point of a referrers-tag fallback.
    #[must_use]
    pub fn new() -> Self {
        Self {
            media_type: media_type::OCI_INDEX.to_owned(),
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
            subject: None,
            artifact_type: None,
        }
    }

    /// Reads the body of a referrers-tag fallback (or a referrers API response): it MUST have
    /// `schemaVersion` 2 and the OCI index `mediaType` in the body (distribution-spec
    /// §Referrers Tag Schema; ggcr refuses anything else).
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`], [`Error::Json`], or [`Error::NotReferrersIndex`].
    pub fn parse_referrers(bytes: &[u8]) -> Result<Self, Error> {
        check_size(bytes)?;
        let raw: RawDocument =
            serde_json::from_slice(bytes).map_err(|e| Error::json("referrers index", &e))?;
        if raw.schema_version != 2 || raw.media_type.as_deref() != Some(media_type::OCI_INDEX) {
            return Err(Error::NotReferrersIndex {
                media_type: raw.media_type,
                schema_version: raw.schema_version,
            });
        }
        raw.into_index(media_type::OCI_INDEX.to_owned())
    }

    /// Adds a referrer as ggcr does on a manifest PUT with a subject (`pkg/v1/remote/write.go`):
    /// other entries are kept, an entry whose digest is already listed is not added twice,
    /// entries are sorted by digest, and the index becomes an OCI index (written with
    /// `schemaVersion` 2 and the OCI index `mediaType`).
    pub fn add_referrer(&mut self, referrer: Descriptor) {
        if !self.manifests.iter().any(|m| m.digest == referrer.digest) {
            self.manifests.push(referrer);
        }
        // ggcr sorts by `Digest.String()`; for sha256 digests the byte order is the same as the
        // order of their lowercase hex. Stable, so equal digests (none, after the dedupe) keep
        // their order.
        self.manifests.sort_by_key(|m| m.digest);
        media_type::OCI_INDEX.clone_into(&mut self.media_type);
    }

    /// The entries whose `artifactType` is `artifact_type` (the referrers API `artifactType`
    /// filter, applied client-side as ggcr does for the fallback tag).
    #[must_use]
    pub fn referrers_of(&self, artifact_type: &str) -> Vec<&Descriptor> {
        self.manifests
            .iter()
            .filter(|m| m.artifact_type.as_deref() == Some(artifact_type))
            .collect()
    }

    /// The index as JSON in ggcr `v1.IndexManifest` order: schemaVersion, mediaType,
    /// manifests, annotations, subject, then artifactType; compact, Go escaping.
    #[must_use]
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push('{');
        write_key(&mut out, "schemaVersion");
        out.push_str("2,");
        write_key(&mut out, "mediaType");
        write_str(&mut out, &self.media_type);
        out.push(',');
        write_key(&mut out, "manifests");
        write_descriptors(&mut out, &self.manifests);
        write_tail(
            &mut out,
            &self.annotations,
            self.subject.as_ref(),
            self.artifact_type.as_deref(),
        );
        out.into_bytes()
    }
}

impl Default for Index {
    fn default() -> Self {
        Self::new()
    }
}

impl ManifestDocument {
    /// Reads a manifest or index body. The media type is `media_type` (the `Content-Type`
    /// header) when given, else the body's `mediaType`; when both are present they must
    /// agree. Unknown fields are ignored, as image-spec requires of readers.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] over [`MAX_MANIFEST_SIZE`], [`Error::Json`],
    /// [`Error::MediaTypeMismatch`], [`Error::MissingMediaType`],
    /// [`Error::UnsupportedMediaType`] (Docker schema 1 included),
    /// [`Error::UnsupportedSchemaVersion`], or [`Error::InvalidDigest`] in a descriptor.
    pub fn parse(media_type: Option<&str>, bytes: &[u8]) -> Result<Self, Error> {
        check_size(bytes)?;
        let raw: RawDocument =
            serde_json::from_slice(bytes).map_err(|e| Error::json("manifest", &e))?;
        let resolved = match (media_type, raw.media_type.as_deref()) {
            (Some(header), Some(body)) if header != body => {
                return Err(Error::MediaTypeMismatch {
                    header: header.to_owned(),
                    body: body.to_owned(),
                });
            }
            (Some(header), _) => header.to_owned(),
            (None, Some(body)) => body.to_owned(),
            (None, None) => return Err(Error::MissingMediaType),
        };
        let is_manifest = matches!(
            resolved.as_str(),
            media_type::OCI_MANIFEST | media_type::DOCKER_MANIFEST
        );
        let is_index = matches!(
            resolved.as_str(),
            media_type::OCI_INDEX | media_type::DOCKER_MANIFEST_LIST
        );
        if !is_manifest && !is_index {
            return Err(Error::UnsupportedMediaType {
                media_type: resolved,
            });
        }
        if raw.schema_version != 2 {
            return Err(Error::UnsupportedSchemaVersion {
                found: raw.schema_version,
            });
        }
        if is_manifest {
            raw.into_manifest(resolved).map(Self::Manifest)
        } else {
            raw.into_index(resolved).map(Self::Index)
        }
    }

    /// The media type the document was read as.
    #[must_use]
    pub fn media_type(&self) -> &str {
        match self {
            Self::Index(index) => &index.media_type,
            Self::Manifest(manifest) => &manifest.media_type,
        }
    }
}

fn check_size(bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() > MAX_MANIFEST_SIZE {
        return Err(Error::TooLarge {
            what: "manifest",
            size: bytes.len(),
            limit: MAX_MANIFEST_SIZE,
        });
    }
    Ok(())
}

fn write_descriptors(out: &mut String, descriptors: &[Descriptor]) {
    out.push('[');
    for (i, descriptor) in descriptors.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        descriptor.write_json(out);
    }
    out.push(']');
}

/// The union of manifest and index fields; which ones are required depends on the type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDocument {
    schema_version: u64,
    media_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    artifact_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    artifact_type: Option<String>,
    platform: Option<RawPlatform>,
}

#[derive(Deserialize)]
struct RawPlatform {
    architecture: String,
    os: String,
    #[serde(rename = "os.version")]
    os_version: Option<String>,
    #[serde(rename = "os.features", default)]
    os_features: Vec<String>,
    variant: Option<String>,
}

impl RawDocument {
    fn into_manifest(self, media_type: String) -> Result<Manifest, Error> {
        let config = self.config.ok_or_else(|| missing_field("config"))?;
        Ok(Manifest {
            media_type,
            config: config.into_descriptor()?,
            layers: self
                .layers
                .ok_or_else(|| missing_field("layers"))?
                .into_iter()
                .map(RawDescriptor::into_descriptor)
                .collect::<Result<_, _>>()?,
            subject: self
                .subject
                .map(RawDescriptor::into_descriptor)
                .transpose()?,
            annotations: self.annotations,
            artifact_type: self.artifact_type,
        })
    }

    fn into_index(self, media_type: String) -> Result<Index, Error> {
        Ok(Index {
            media_type,
            manifests: self
                .manifests
                .ok_or_else(|| missing_field("manifests"))?
                .into_iter()
                .map(RawDescriptor::into_descriptor)
                .collect::<Result<_, _>>()?,
            annotations: self.annotations,
            subject: self
                .subject
                .map(RawDescriptor::into_descriptor)
                .transpose()?,
            artifact_type: self.artifact_type,
        })
    }
}

fn missing_field(field: &'static str) -> Error {
    Error::MissingField { field }
}

impl RawDescriptor {
    fn into_descriptor(self) -> Result<Descriptor, Error> {
        Ok(Descriptor {
            media_type: self.media_type,
            digest: self.digest.parse()?,
            size: self.size,
            annotations: self.annotations,
            artifact_type: self.artifact_type,
            platform: self.platform.map(|p| Platform {
                architecture: p.architecture,
                os: p.os,
                os_version: p.os_version,
                os_features: p.os_features,
                variant: p.variant,
            }),
        })
    }
}

/// The members a manifest and an index end with, in cosign's order: `annotations` (when any),
/// `subject`, `artifactType`, then the closing brace.
fn write_tail(
    out: &mut String,
    annotations: &BTreeMap<String, String>,
    subject: Option<&Descriptor>,
    artifact_type: Option<&str>,
) {
    if !annotations.is_empty() {
        out.push(',');
        write_key(out, "annotations");
        write_string_map(out, annotations);
    }
    if let Some(subject) = subject {
        out.push(',');
        write_key(out, "subject");
        subject.write_json(out);
    }
    if let Some(artifact_type) = artifact_type {
        out.push(',');
        write_key(out, "artifactType");
        write_str(out, artifact_type);
    }
    out.push('}');
}
