//! The one error type of this crate.

use crate::Digest;

/// Why bytes could not be read as, or written from, an OCI or cosign type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A field that must be standard base64 is not.
    #[error("{field} is not valid standard base64: {reason}")]
    Base64 {
        /// The field or annotation that failed to decode.
        field: &'static str,
        /// The decoder's message.
        reason: String,
    },
    /// Bytes do not hash to the digest their descriptor names.
    #[error("content digest is {actual}, its descriptor says {expected}")]
    DigestMismatch {
        /// The digest the descriptor names.
        expected: Digest,
        /// The sha256 of the bytes.
        actual: Digest,
    },
    /// A `containers/image` signature file does not start with `"\x00sigstore-json\n"`.
    #[error(
        "not a containers/image sigstore signature file (missing \"\\x00sigstore-json\\n\" prefix)"
    )]
    InvalidContainersImagePrefix,
    /// A digest is not `sha256:` followed by 64 lowercase hex digits.
    #[error("invalid digest {value:?}: {reason}")]
    InvalidDigest {
        /// The offending text.
        value: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// An image reference cannot be parsed the way go-containerregistry parses it.
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidReference {
        /// The offending reference.
        reference: String,
        /// The rule it broke.
        reason: &'static str,
    },
    /// Bytes are not the JSON document expected.
    #[error("invalid {what} JSON: {reason}")]
    Json {
        /// The document being read.
        what: &'static str,
        /// serde_json's message.
        reason: String,
    },
    /// The `Content-Type` header and the body's `mediaType` disagree.
    #[error("media type header {header:?} disagrees with the body's mediaType {body:?}")]
    MediaTypeMismatch {
        /// The media type from the header.
        header: String,
        /// The `mediaType` field of the body.
        body: String,
    },
    /// A required layer annotation is absent.
    #[error("layer annotation {key:?} is missing")]
    MissingAnnotation {
        /// The annotation key.
        key: &'static str,
    },
    /// A field the document's media type requires is absent (`config`, `layers`,
    /// `manifests`).
    #[error("the manifest has no {field:?} field")]
    MissingField {
        /// The field name.
        field: &'static str,
    },
    /// Neither a header nor the body names the media type, so the document cannot be typed.
    #[error("the manifest has no media type in the header or the body")]
    MissingMediaType,
    /// A referrers index (from the `sha256-<hex>` tag) is not an OCI image index with
    /// `schemaVersion` 2 and the index `mediaType` in its body.
    #[error(
        "not a referrers index: body mediaType is {media_type:?}, schemaVersion {schema_version}"
    )]
    NotReferrersIndex {
        /// The body's `mediaType`, if any.
        media_type: Option<String>,
        /// The body's `schemaVersion`.
        schema_version: u64,
    },
    /// Content is larger than this crate reads.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The document being read.
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Bytes are shorter or longer than their descriptor's `size`.
    #[error("content is {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        /// The size the descriptor names.
        expected: u64,
        /// The length of the bytes.
        actual: u64,
    },
    /// A simple signing payload's `critical.type` is not `cosign container image signature`.
    #[error(
        "simple signing critical.type is {found:?}, expected \"cosign container image signature\""
    )]
    UnknownSignatureType {
        /// The type found.
        found: String,
    },
    /// A manifest media type this crate does not read (Docker schema 1 included).
    #[error("unsupported manifest media type {media_type:?}")]
    UnsupportedMediaType {
        /// The media type.
        media_type: String,
    },
    /// A manifest's `schemaVersion` is not 2.
    #[error("unsupported manifest schemaVersion {found} (only 2 is read)")]
    UnsupportedSchemaVersion {
        /// The version found.
        found: u64,
    },
}

impl Error {
    pub(crate) fn json(what: &'static str, err: &serde_json::Error) -> Self {
        Self::Json {
            what,
            reason: err.to_string(),
        }
    }

    pub(crate) fn base64(field: &'static str, err: &base64::DecodeError) -> Self {
        Self::Base64 {
            field,
            reason: err.to_string(),
        }
    }
}
