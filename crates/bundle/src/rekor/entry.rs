//! Log entries as responses carry them: protobuf-specs' `TransparencyLogEntry`
//! (`sigstore_rekor.proto`; the Rekor v2 response and a bundle's `tlogEntries[]` element) and
//! Rekor v1's `LogEntry` map value (`openapi.yaml`).

use serde::{Deserialize, Serialize};

use crate::{Error, protojson};

/// `dev.sigstore.rekor.v1.TransparencyLogEntry` in protobuf JSON.
///
/// Reading is strict (unknown fields are refused, as sigstore-python's models do); omitted
/// scalars read as zero. Writing always emits `logIndex` (a string, as every int64 here), even
/// when zero, since sigstore-python requires it, and omits the optional messages and
/// `integratedTime` when absent (Rekor v2 entries have none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TransparencyLogEntry {
    /// The entry's index in the log (for Rekor v1 shards, the global index).
    #[serde(default, alias = "log_index", with = "protojson::int64")]
    pub log_index: i64,
    /// The log's ID.
    #[serde(default, alias = "log_id")]
    pub log_id: LogId,
    /// The entry's kind and version.
    #[serde(default, alias = "kind_version")]
    pub kind_version: KindVersion,
    /// Seconds since the Unix epoch when the log integrated the entry (Rekor v1 only).
    #[serde(
        default,
        alias = "integrated_time",
        skip_serializing_if = "Option::is_none",
        with = "protojson::opt_int64"
    )]
    pub integrated_time: Option<i64>,
    /// The signed entry timestamp (Rekor v1 only).
    #[serde(
        default,
        alias = "inclusion_promise",
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_promise: Option<InclusionPromise>,
    /// The inclusion proof and the checkpoint it leads to.
    #[serde(
        default,
        alias = "inclusion_proof",
        skip_serializing_if = "Option::is_none"
    )]
    pub inclusion_proof: Option<InclusionProof>,
    /// The canonical body, the Merkle leaf.
    #[serde(default, alias = "canonicalized_body", with = "protojson::bytes")]
    pub canonicalized_body: Vec<u8>,
}

impl TransparencyLogEntry {
    /// An entry without time, promise or proof; set those fields as needed.
    pub fn new(
        log_index: i64,
        log_id: LogId,
        kind_version: KindVersion,
        canonicalized_body: Vec<u8>,
    ) -> Self {
        Self {
            log_index,
            log_id,
            kind_version,
            integrated_time: None,
            inclusion_promise: None,
            inclusion_proof: None,
            canonicalized_body,
        }
    }

    /// Parses the protobuf JSON of an entry.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] if it is not JSON of this shape.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }
}

/// `dev.sigstore.common.v1.LogId`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct LogId {
    /// The log's key ID (Rekor v1: SHA-256 of the DER SPKI; Rekor v2: the C2SP note key ID).
    #[serde(default, alias = "key_id", with = "protojson::bytes")]
    pub key_id: Vec<u8>,
}

impl LogId {
    /// A log ID of the given bytes.
    pub fn new(key_id: impl Into<Vec<u8>>) -> Self {
        Self {
            key_id: key_id.into(),
        }
    }
}

/// `dev.sigstore.rekor.v1.KindVersion`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KindVersion {
    /// `hashedrekord` or `dsse`.
    #[serde(default)]
    pub kind: String,
    /// `0.0.1` or `0.0.2`.
    #[serde(default)]
    pub version: String,
}

impl KindVersion {
    /// A kind and version.
    pub fn new(kind: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            version: version.into(),
        }
    }
}

/// `dev.sigstore.rekor.v1.InclusionPromise`: the signed entry timestamp.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct InclusionPromise {
    /// The log's signature over [`set_payload`](crate::rekor::set_payload).
    #[serde(default, alias = "signed_entry_timestamp", with = "protojson::bytes")]
    pub signed_entry_timestamp: Vec<u8>,
}

impl InclusionPromise {
    /// A promise carrying the given signature.
    pub fn new(signed_entry_timestamp: impl Into<Vec<u8>>) -> Self {
        Self {
            signed_entry_timestamp: signed_entry_timestamp.into(),
        }
    }
}

/// `dev.sigstore.rekor.v1.InclusionProof`. `hashes` are written even when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct InclusionProof {
    /// The index the proof is for (for Rekor v1 shards, the index within the shard).
    #[serde(default, alias = "log_index", with = "protojson::int64")]
    pub log_index: i64,
    /// The root the proof leads to.
    #[serde(default, alias = "root_hash", with = "protojson::bytes")]
    pub root_hash: Vec<u8>,
    /// The tree size of that root.
    #[serde(default, alias = "tree_size", with = "protojson::int64")]
    pub tree_size: i64,
    /// The audit path, leaf to root (RFC 6962 §2.1.1).
    #[serde(default, with = "protojson::bytes_list")]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint of `tree_size` and `root_hash` (required by clients, but
    /// optional in the message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
}

impl InclusionProof {
    /// A proof of `log_index` in the tree of `tree_size` with `root_hash`, under `checkpoint`.
    pub fn new(
        log_index: i64,
        root_hash: impl Into<Vec<u8>>,
        tree_size: i64,
        hashes: Vec<Vec<u8>>,
        checkpoint: Checkpoint,
    ) -> Self {
        Self {
            log_index,
            root_hash: root_hash.into(),
            tree_size,
            hashes,
            checkpoint: Some(checkpoint),
        }
    }
}

/// `dev.sigstore.rekor.v1.Checkpoint`: a signed note (C2SP `tlog-checkpoint`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The note text, signature lines included.
    #[serde(default)]
    pub envelope: String,
}

impl Checkpoint {
    /// A checkpoint of the given note text.
    pub fn new(envelope: impl Into<String>) -> Self {
        Self {
            envelope: envelope.into(),
        }
    }
}

/// A Rekor v1 `LogEntry` map value (`{"<uuid>": LogEntry}`), in Rekor's JSON: plain integers,
/// hex hashes, base64 body and SET.
///
/// Unknown fields (such as Rekor's `attestation`) are ignored when reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEntry {
    /// The canonical body.
    #[serde(with = "protojson::go_bytes")]
    pub body: Vec<u8>,
    /// Seconds since the Unix epoch when the log integrated the entry.
    pub integrated_time: i64,
    /// The log ID: SHA-256 of the log key's DER SPKI, hex.
    #[serde(rename = "logID", with = "protojson::hex_bytes")]
    pub log_id: Vec<u8>,
    /// The entry's (global) index.
    pub log_index: i64,
    /// The proof and SET.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<LogEntryVerification>,
}

impl LogEntry {
    /// An entry without verification material; set [`LogEntry::verification`] as needed.
    pub fn new(
        body: Vec<u8>,
        integrated_time: i64,
        log_id: impl Into<Vec<u8>>,
        log_index: i64,
    ) -> Self {
        Self {
            body,
            integrated_time,
            log_id: log_id.into(),
            log_index,
            verification: None,
        }
    }

    /// Parses the JSON of one entry (a map value).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] if it is not JSON of this shape.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }
}

/// The `verification` of a Rekor v1 [`LogEntry`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEntryVerification {
    /// The inclusion proof and checkpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inclusion_proof: Option<LogEntryInclusionProof>,
    /// The signed entry timestamp (base64 of the DER ECDSA signature); empty when absent.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "protojson::go_bytes"
    )]
    pub signed_entry_timestamp: Vec<u8>,
}

impl LogEntryVerification {
    /// Verification material of a proof and a SET.
    pub fn new(
        inclusion_proof: Option<LogEntryInclusionProof>,
        signed_entry_timestamp: Vec<u8>,
    ) -> Self {
        Self {
            inclusion_proof,
            signed_entry_timestamp,
        }
    }
}

/// The `inclusionProof` of a Rekor v1 [`LogEntry`]: integers, hex hashes, checkpoint text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LogEntryInclusionProof {
    /// The index the proof is for (within the shard).
    pub log_index: i64,
    /// The root hash, hex.
    #[serde(with = "protojson::hex_bytes")]
    pub root_hash: Vec<u8>,
    /// The tree size of that root.
    pub tree_size: i64,
    /// The audit path, leaf to root, hex.
    #[serde(with = "protojson::hex_list")]
    pub hashes: Vec<Vec<u8>>,
    /// The signed checkpoint note.
    #[serde(default)]
    pub checkpoint: String,
}

impl LogEntryInclusionProof {
    /// A proof of `log_index` in the tree of `tree_size` with `root_hash`, under `checkpoint`.
    pub fn new(
        log_index: i64,
        root_hash: impl Into<Vec<u8>>,
        tree_size: i64,
        hashes: Vec<Vec<u8>>,
        checkpoint: impl Into<String>,
    ) -> Self {
        Self {
            log_index,
            root_hash: root_hash.into(),
            tree_size,
            hashes,
            checkpoint: checkpoint.into(),
        }
    }
}
