//! cosign's legacy signature layout (cosign v1/v2, `--new-bundle-format=false`): the
//! `sha256-<hex>.sig|.att|.sbom` tags (sigstore/cosign `pkg/oci/remote/remote.go`) and the
//! annotations of one signature layer (`pkg/oci/static/signature.go`,
//! `pkg/cosign/bundle/rekor.go`), plus containers/image's on-disk form of such a layer.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::annotation;
use crate::gojson::{write_key, write_str};
use crate::{Descriptor, Digest, Error, Manifest, media_type};

/// Which legacy attachment a tag holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// `.att`: DSSE attestations.
    Attestation,
    /// `.sbom`: an attached SBOM.
    Sbom,
    /// `.sig`: simple signing signatures.
    Signature,
}

impl Kind {
    /// The tag suffix, without the dot.
    #[must_use]
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Attestation => "att",
            Self::Sbom => "sbom",
            Self::Signature => "sig",
        }
    }
}

/// The tag cosign stores `kind` attachments of `image` under: `sha256-<hex>.<suffix>` (the
/// digest's `:` replaced by `-`).
#[must_use]
pub fn legacy_tag(image: &Digest, kind: Kind) -> String {
    format!("sha256-{}.{}", image.hex(), kind.suffix())
}

/// The image cosign stores legacy attachments in (ggcr `mutate.Append` onto `empty.Image`,
/// as sigstore/cosign `pkg/oci/mutate/signatures.go` builds it): an OCI manifest with one layer
/// per signature, and an image config whose `rootfs.diff_ids` are the layer digests (one
/// empty `history` entry per layer). Returns the manifest and the config blob's bytes.
///
/// cosign reads only the layers and their annotations; the config is written the way ggcr
/// writes it so other readers see a well-formed image.
#[must_use]
pub fn legacy_manifest(layers: Vec<Descriptor>) -> (Manifest, Vec<u8>) {
    const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
    let mut config = String::from("{\"architecture\":\"\",\"created\":\"");
    config.push_str(ZERO_TIME);
    config.push_str("\",\"history\":[");
    for i in 0..layers.len() {
        if i > 0 {
            config.push(',');
        }
        config.push_str("{\"created\":\"");
        config.push_str(ZERO_TIME);
        config.push_str("\"}");
    }
    config.push_str("],\"os\":\"\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[");
    for (i, layer) in layers.iter().enumerate() {
        if i > 0 {
            config.push(',');
        }
        write_str(&mut config, &layer.digest.to_string());
    }
    config.push_str("]},\"config\":{}}");
    let config = config.into_bytes();
    let manifest = Manifest {
        media_type: media_type::OCI_MANIFEST.to_owned(),
        config: Descriptor::new(
            media_type::OCI_CONFIG,
            Digest::of(&config),
            config.len() as u64,
        ),
        layers,
        subject: None,
        annotations: BTreeMap::new(),
        artifact_type: None,
    };
    (manifest, config)
}

/// One legacy signature layer: its payload bytes and what its annotations carry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LegacySignature {
    /// The layer content exactly as stored: the signed bytes.
    pub payload: Vec<u8>,
    /// The layer media type (simple signing for `.sig`, DSSE for `.att`).
    pub media_type: String,
    /// `dev.cosignproject.cosign/signature`, base64-decoded (empty on `.att` layers, whose
    /// signatures are inside the envelope).
    pub signature: Vec<u8>,
    /// `dev.sigstore.cosign/certificate`: the leaf certificate PEM.
    pub certificate_pem: Option<String>,
    /// `dev.sigstore.cosign/chain`: the chain PEM (cosign may write it empty).
    pub chain_pem: Option<String>,
    /// `dev.sigstore.cosign/bundle`: the Rekor inclusion promise.
    pub rekor_bundle: Option<RekorBundle>,
    /// `dev.sigstore.cosign/rfc3161timestamp`: the DER `TimeStampResp`.
    pub rfc3161_timestamp: Option<Vec<u8>>,
    /// `predicateType` (on `.att` layers).
    pub predicate_type: Option<String>,
}

/// cosign's legacy Rekor bundle (`pkg/cosign/bundle/rekor.go` `RekorBundle`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RekorBundle {
    /// `SignedEntryTimestamp`, base64-decoded: the log's signature over the payload's RFC 8785
    /// form, `waxseal_bundle::rekor::set_payload(body, integratedTime, logID, logIndex)`.
    pub signed_entry_timestamp: Vec<u8>,
    /// `Payload`.
    pub payload: RekorPayload,
}

/// The `Payload` of a [`RekorBundle`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RekorPayload {
    /// `body`: the entry body, still base64 as the SET signs it (see
    /// [`RekorPayload::decoded_body`]).
    pub body: String,
    /// `integratedTime`, Unix seconds.
    pub integrated_time: i64,
    /// `logIndex`.
    pub log_index: i64,
    /// `logID`: hex of the log's key ID.
    pub log_id: String,
}

/// The prefix of a containers/image `signature-N` file holding a sigstore attachment.
pub const CONTAINERS_IMAGE_PREFIX: &[u8] = b"\x00sigstore-json\n";

impl LegacySignature {
    /// A layer of `media_type` with `payload` signed by `signature` (empty for `.att`) and no
    /// other annotations; set the certificate, chain, Rekor bundle and timestamp fields as
    /// needed.
    #[must_use]
    pub fn new(media_type: impl Into<String>, payload: Vec<u8>, signature: Vec<u8>) -> Self {
        Self {
            payload,
            media_type: media_type.into(),
            signature,
            certificate_pem: None,
            chain_pem: None,
            rekor_bundle: None,
            rfc3161_timestamp: None,
            predicate_type: None,
        }
    }

    /// Reads a signature layer from its descriptor (media type and annotations) and its
    /// content, which must match the descriptor's size and digest.
    ///
    /// # Errors
    ///
    /// [`Error::SizeMismatch`], [`Error::DigestMismatch`], [`Error::MissingAnnotation`]
    /// (the signature annotation is required, possibly empty), [`Error::Base64`] or
    /// [`Error::Json`] for a malformed annotation.
    pub fn from_layer(layer: &Descriptor, payload: Vec<u8>) -> Result<Self, Error> {
        layer.check_content(&payload)?;
        Self::from_parts(layer.media_type.clone(), &layer.annotations, payload)
    }

    /// Reads containers/image's on-disk form of a layer (`dir:` transport `signature-N`):
    /// `"\x00sigstore-json\n"` then JSON `{mimeType, payload (std base64), annotations}`.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] over [`crate::MAX_MANIFEST_SIZE`],
    /// [`Error::InvalidContainersImagePrefix`], [`Error::Json`], [`Error::Base64`], or as
    /// [`LegacySignature::from_layer`].
    pub fn from_containers_image_file(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.len() > crate::MAX_MANIFEST_SIZE {
            return Err(Error::TooLarge {
                what: "containers/image signature file",
                size: bytes.len(),
                limit: crate::MAX_MANIFEST_SIZE,
            });
        }
        let body = bytes
            .strip_prefix(CONTAINERS_IMAGE_PREFIX)
            .ok_or(Error::InvalidContainersImagePrefix)?;
        let raw: RawContainersImageFile = serde_json::from_slice(body)
            .map_err(|e| Error::json("containers/image signature file", &e))?;
        let payload = STANDARD
            .decode(raw.payload.as_bytes())
            .map_err(|e| Error::base64("payload", &e))?;
        Self::from_parts(raw.mime_type, &raw.annotations, payload)
    }

    fn from_parts(
        media_type: String,
        annotations: &BTreeMap<String, String>,
        payload: Vec<u8>,
    ) -> Result<Self, Error> {
        let signature = annotations
            .get(annotation::SIGNATURE)
            .ok_or(Error::MissingAnnotation {
                key: annotation::SIGNATURE,
            })?;
        let signature = STANDARD
            .decode(signature.as_bytes())
            .map_err(|e| Error::base64(annotation::SIGNATURE, &e))?;
        let rekor_bundle = annotations
            .get(annotation::BUNDLE)
            .map(|json| RekorBundle::parse(json.as_bytes()))
            .transpose()?;
        let rfc3161_timestamp = annotations
            .get(annotation::RFC3161_TIMESTAMP)
            .map(|json| {
                let raw: RawTimestamp = serde_json::from_str(json)
                    .map_err(|e| Error::json("rfc3161timestamp annotation", &e))?;
                STANDARD
                    .decode(raw.signed_rfc3161_timestamp.as_bytes())
                    .map_err(|e| Error::base64("SignedRFC3161Timestamp", &e))
            })
            .transpose()?;
        Ok(Self {
            payload,
            media_type,
            signature,
            certificate_pem: annotations.get(annotation::CERTIFICATE).cloned(),
            chain_pem: annotations.get(annotation::CHAIN).cloned(),
            rekor_bundle,
            rfc3161_timestamp,
            predicate_type: annotations.get(annotation::PREDICATE_TYPE).cloned(),
        })
    }

    /// The layer annotations as cosign writes them; JSON-valued annotations (bundle,
    /// timestamp) in Go `json.Marshal` layout.
    #[must_use]
    pub fn to_annotations(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        out.insert(
            annotation::SIGNATURE.to_owned(),
            STANDARD.encode(&self.signature),
        );
        if let Some(pem) = &self.certificate_pem {
            out.insert(annotation::CERTIFICATE.to_owned(), pem.clone());
        }
        if let Some(pem) = &self.chain_pem {
            out.insert(annotation::CHAIN.to_owned(), pem.clone());
        }
        if let Some(bundle) = &self.rekor_bundle {
            out.insert(annotation::BUNDLE.to_owned(), bundle.to_json());
        }
        if let Some(timestamp) = &self.rfc3161_timestamp {
            let mut json = String::from("{");
            write_key(&mut json, "SignedRFC3161Timestamp");
            write_str(&mut json, &STANDARD.encode(timestamp));
            json.push('}');
            out.insert(annotation::RFC3161_TIMESTAMP.to_owned(), json);
        }
        if let Some(predicate_type) = &self.predicate_type {
            out.insert(
                annotation::PREDICATE_TYPE.to_owned(),
                predicate_type.clone(),
            );
        }
        out
    }

    /// The layer descriptor for this signature: media type, the payload's digest and size,
    /// and [`LegacySignature::to_annotations`].
    #[must_use]
    pub fn to_descriptor(&self) -> Descriptor {
        let mut descriptor = Descriptor::new(
            self.media_type.clone(),
            Digest::of(&self.payload),
            self.payload.len() as u64,
        );
        descriptor.annotations = self.to_annotations();
        descriptor
    }
}

impl RekorBundle {
    /// The bundle of a Rekor v1 entry: its SET, its canonical `body` (raw bytes, base64-encoded
    /// here), integrated time, index and log ID (raw bytes, hex-encoded here).
    #[must_use]
    pub fn new(
        signed_entry_timestamp: Vec<u8>,
        body: &[u8],
        integrated_time: i64,
        log_index: i64,
        log_id: &[u8],
    ) -> Self {
        Self {
            signed_entry_timestamp,
            payload: RekorPayload {
                body: STANDARD.encode(body),
                integrated_time,
                log_index,
                log_id: hex::encode(log_id),
            },
        }
    }

    /// Reads the `dev.sigstore.cosign/bundle` annotation value.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] or [`Error::Base64`] (for `SignedEntryTimestamp` or `body`).
    pub fn parse(json: &[u8]) -> Result<Self, Error> {
        let raw: RawRekorBundle = serde_json::from_slice(json)
            .map_err(|e| Error::json("cosign bundle annotation", &e))?;
        let signed_entry_timestamp = STANDARD
            .decode(raw.signed_entry_timestamp.as_bytes())
            .map_err(|e| Error::base64("SignedEntryTimestamp", &e))?;
        let payload = RekorPayload {
            body: raw.payload.body,
            integrated_time: raw.payload.integrated_time,
            log_index: raw.payload.log_index,
            log_id: raw.payload.log_id,
        };
        payload.decoded_body()?;
        Ok(Self {
            signed_entry_timestamp,
            payload,
        })
    }

    /// The annotation value as cosign writes it (Go `json.Marshal` of `RekorBundle`):
    /// `{"SignedEntryTimestamp":…,"Payload":{"body":…,"integratedTime":…,"logIndex":…,
    /// "logID":…}}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        write_key(&mut out, "SignedEntryTimestamp");
        write_str(&mut out, &STANDARD.encode(&self.signed_entry_timestamp));
        out.push(',');
        write_key(&mut out, "Payload");
        out.push('{');
        write_key(&mut out, "body");
        write_str(&mut out, &self.payload.body);
        out.push(',');
        write_key(&mut out, "integratedTime");
        out.push_str(&self.payload.integrated_time.to_string());
        out.push(',');
        write_key(&mut out, "logIndex");
        out.push_str(&self.payload.log_index.to_string());
        out.push(',');
        write_key(&mut out, "logID");
        write_str(&mut out, &self.payload.log_id);
        out.push_str("}}");
        out
    }
}

impl RekorPayload {
    /// The entry body, base64-decoded.
    ///
    /// # Errors
    ///
    /// [`Error::Base64`].
    pub fn decoded_body(&self) -> Result<Vec<u8>, Error> {
        STANDARD
            .decode(self.body.as_bytes())
            .map_err(|e| Error::base64("body", &e))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawContainersImageFile {
    mime_type: String,
    payload: String,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawTimestamp {
    #[serde(rename = "SignedRFC3161Timestamp")]
    signed_rfc3161_timestamp: String,
}

#[derive(Deserialize)]
struct RawRekorBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: RawRekorPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRekorPayload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}
