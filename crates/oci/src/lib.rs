//! The OCI and cosign formats waxseal signs and verifies container images with: bytes in,
//! types out.
//!
//! What it implements:
//!
//! - Digests, descriptors, image manifests and indexes, OCI and Docker v2 schema 2
//!   (opencontainers/image-spec `descriptor.md`, `manifest.md`, `image-index.md`):
//!   [`Digest`], [`Descriptor`], [`Manifest`], [`Index`], [`ManifestDocument::parse`], written
//!   in go-containerregistry's key order by `to_json`.
//! - The referrers-tag fallback (opencontainers/distribution-spec `spec.md` §Referrers Tag
//!   Schema; google/go-containerregistry `pkg/v1/remote/write.go`): [`fallback_tag`],
//!   [`Index::parse_referrers`], [`Index::add_referrer`], [`Index::referrers_of`].
//! - cosign v3's referrer manifest for a Sigstore bundle (sigstore/cosign
//!   `pkg/oci/remote/write.go`): [`referrer_manifest`].
//! - cosign's legacy `.sig`/`.att`/`.sbom` layout (sigstore/cosign `pkg/oci/remote/remote.go`,
//!   `pkg/oci/static/signature.go`, `specs/SIGNATURE_SPEC.md`; sigstore/sigstore
//!   `pkg/signature/payload/payload.go`): [`legacy_tag`], [`SimpleSigning`] byte for byte,
//!   [`docker_reference`], [`LegacySignature`] and its [`RekorBundle`], and containers/image's
//!   `dir:` on-disk form of a signature layer.
//!
//! What it does **not** do: talk to a registry, follow tags, authenticate or pick Accept
//! headers (the registry client built on this crate does); verify signatures, certificates,
//! SETs, timestamps or bundles (`waxseal-verify`; `waxseal_bundle::rekor::set_payload` gives
//! the bytes a SET signs); parse Sigstore bundles or DSSE envelopes inside layers
//! (`waxseal-bundle`); read a clock (the `created` time is injected); read Docker schema 1
//! manifests or non-sha256 digests (both are refused).
//!
//! ```
//! use waxseal_oci::{Descriptor, Digest, Index, SimpleSigning, docker_reference, fallback_tag, media_type};
//!
//! let image = Digest::of(b"{\"schemaVersion\":2}");
//! let payload = SimpleSigning::new(docker_reference("alpine:3.20")?, image, None);
//! assert!(payload.to_bytes().starts_with(
//!     b"{\"critical\":{\"identity\":{\"docker-reference\":\"index.docker.io/library/alpine\"}"
//! ));
//!
//! let mut referrers = Index::new();
//! referrers.add_referrer(Descriptor::new(media_type::OCI_MANIFEST, Digest::of(b"sig"), 3));
//! assert_eq!(fallback_tag(&image), format!("sha256-{}", image.hex()));
//! # Ok::<(), waxseal_oci::Error>(())
//! ```

mod digest;
mod error;
mod gojson;
mod legacy;
mod manifest;
mod reference;
mod simplesigning;

pub use digest::Digest;
pub use error::Error;
pub use legacy::{
    CONTAINERS_IMAGE_PREFIX, Kind, LegacySignature, RekorBundle, RekorPayload, legacy_manifest,
    legacy_tag,
};
pub use manifest::{
    Descriptor, EMPTY_CONFIG_BYTES, Index, MAX_MANIFEST_SIZE, Manifest, ManifestDocument, Platform,
    empty_config, fallback_tag, referrer_manifest,
};
pub use reference::{DOCKER_HUB_API_HOST, Reference};
pub use simplesigning::{
    COSIGN_SIGNATURE_TYPE, DEFAULT_REGISTRY, MAX_PAYLOAD_SIZE, SimpleSigning, docker_reference,
};

/// Media types (image-spec `media-types.md`, Docker's schema 2, Sigstore and cosign).
pub mod media_type {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index; also the referrers API response and fallback tag body.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// OCI image config (the config of cosign's legacy signature manifests).
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// OCI image layer, uncompressed tar.
    pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    /// OCI empty descriptor (`{}`), the config of artifact manifests.
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
    /// Docker v2 schema 2 manifest.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker v2 schema 2 manifest list.
    pub const DOCKER_MANIFEST_LIST: &str =
        "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Sigstore bundle v0.3, cosign v3's referrer layer and artifact type.
    pub const SIGSTORE_BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
    /// cosign simple signing payload, the legacy `.sig` layer.
    pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    /// DSSE envelope, the legacy `.att` layer.
    pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
}

/// Annotation keys cosign reads and writes.
pub mod annotation {
    /// Legacy layer: base64 signature over the payload.
    pub const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
    /// Legacy layer: leaf certificate PEM.
    pub const CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
    /// Legacy layer: certificate chain PEM.
    pub const CHAIN: &str = "dev.sigstore.cosign/chain";
    /// Legacy layer: Rekor bundle JSON.
    pub const BUNDLE: &str = "dev.sigstore.cosign/bundle";
    /// Legacy layer: RFC 3161 timestamp JSON.
    pub const RFC3161_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
    /// Legacy `.att` layer: the statement's predicate type.
    pub const PREDICATE_TYPE: &str = "predicateType";
    /// Referrer manifest: what the bundle holds (`dsse-envelope`).
    pub const BUNDLE_CONTENT: &str = "dev.sigstore.bundle.content";
    /// Referrer manifest: the statement's predicate type.
    pub const BUNDLE_PREDICATE_TYPE: &str = "dev.sigstore.bundle.predicateType";
    /// Referrer manifest: creation time, RFC 3339.
    pub const CREATED: &str = "org.opencontainers.image.created";
}
