//! Rekor v1 (sigstore/rekor `openapi.yaml`): entries with signed entry timestamps (SETs),
//! inclusion proofs and checkpoints in the same response; search by artifact, key and identity.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use waxseal_bundle::rekor::{
    LogEntry, LogEntryInclusionProof, LogEntryVerification, SearchTerm, set_payload, validate_v1,
};
use waxseal_log::PublishedCheckpoint;
use waxseal_merkle::{Hash, leaf_hash};

use super::{Rekor, read_body};
use crate::error::{ApiError, blocking};

/// Rekor caps each list of `POST /api/v1/log/entries/retrieve` at 10 items.
const MAX_RETRIEVE: usize = 10;
/// The most UUIDs one search returns.
const MAX_SEARCH_RESULTS: usize = 1000;

fn to_i64(value: u64, what: &str) -> Result<i64, ApiError> {
    i64::try_from(value).map_err(|_| ApiError::Internal(format!("{what} {value} exceeds int64")))
}

impl Rekor {
    /// The entry UUID Rekor shows: the 16-hex-digit tree ID and the entry's leaf hash.
    fn entry_uuid(&self, leaf: &Hash) -> String {
        format!("{:016x}{}", self.v1.tree_id, leaf.to_hex())
    }

    /// Builds the full v1 entry for `index`, proving inclusion in `checkpoint`'s tree and
    /// signing a fresh SET. Blocking (store reads).
    fn v1_entry(
        &self,
        index: u64,
        body: &[u8],
        time_ms: u64,
        checkpoint: &PublishedCheckpoint,
    ) -> Result<(String, LogEntry), ApiError> {
        let proof = self.v1.log.prove_inclusion(index, checkpoint.size)?;
        let integrated = to_i64(time_ms / 1000, "integrated time")?;
        let set = self
            .v1
            .key
            .sign(&set_payload(body, integrated, &self.v1_log_id, index))
            .map_err(|e| ApiError::Internal(format!("couldn't sign the SET: {e}")))?;
        let note = String::from_utf8(checkpoint.note.clone())
            .map_err(|e| ApiError::Internal(format!("checkpoint is not UTF-8: {e}")))?;
        let index_i64 = to_i64(index, "log index")?;
        let proof = LogEntryInclusionProof::new(
            index_i64,
            checkpoint.root.as_bytes().to_vec(),
            to_i64(checkpoint.size, "tree size")?,
            proof.iter().map(|h| h.as_bytes().to_vec()).collect(),
            note,
        );
        let mut entry = LogEntry::new(
            body.to_vec(),
            integrated,
            self.v1_log_id.to_vec(),
            index_i64,
        );
        entry.verification = Some(LogEntryVerification::new(Some(proof), set));
        Ok((self.entry_uuid(&leaf_hash(body)), entry))
    }

    /// The stored entry at `index`, proven against the latest checkpoint. Blocking.
    fn v1_entry_at(&self, index: u64) -> Result<(String, LogEntry), ApiError> {
        let checkpoint = self.v1.log.checkpoint();
        let body = self.v1.log.entry(index)?;
        let time_ms = self.v1.log.entry_time(index)?;
        self.v1_entry(index, &body, time_ms, &checkpoint)
    }

    /// Finds an entry by UUID: 64 hex digits (leaf hash) or 80 (tree ID + leaf hash).
    fn index_of_uuid(&self, uuid: &str) -> Result<Option<u64>, ApiError> {
        let leaf = match uuid.len() {
            64 => uuid,
            80 => {
                let (tree, leaf) = uuid.split_at(16);
                if !tree.eq_ignore_ascii_case(&format!("{:016x}", self.v1.tree_id)) {
                    return Ok(None);
                }
                leaf
            }
            len => {
                return Err(ApiError::BadRequest(format!(
                    "entry UUID must be 64 or 80 hex digits, got {len} characters"
                )));
            }
        };
        let leaf = Hash::from_hex(leaf)
            .map_err(|e| ApiError::BadRequest(format!("entry UUID {uuid:?} is not hex: {e}")))?;
        Ok(self.v1.log.find_leaf(&leaf)?)
    }
}

fn created(uuid: &str, entry: LogEntry) -> Response {
    let location = format!("/api/v1/log/entries/{uuid}");
    let mut response = (
        StatusCode::CREATED,
        Json(std::collections::BTreeMap::from([(uuid.to_owned(), entry)])),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&format!("\"{uuid}\"")) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// `POST /api/v1/log/entries`.
pub(super) async fn create(
    State(rekor): State<Arc<Rekor>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&rekor, body).await?;
    let entry = validate_v1(&bytes).map_err(|e| {
        rekor.metrics.entry("v1", "invalid", "rejected");
        ApiError::BadRequest(e.to_string())
    })?;
    let kind = entry.kind().to_string();
    let body = entry.canonical_body().to_vec();
    let terms = entry
        .search_terms()
        .iter()
        .map(SearchTerm::to_key)
        .collect();
    let pending = rekor
        .v1
        .log
        .append_with_terms(body.clone(), terms)
        .inspect_err(|e| {
            if matches!(e, waxseal_log::Error::Pushback { .. }) {
                rekor.metrics.entry("v1", &kind, "pushback");
            }
        })?;
    let appended = pending.await?;
    if appended.duplicate {
        rekor.metrics.entry("v1", &kind, "duplicate");
        let uuid = rekor.entry_uuid(&leaf_hash(&body));
        return Err(ApiError::Conflict {
            message: format!(
                "an equivalent entry already exists in the transparency log with UUID {uuid}"
            ),
            location: format!("/api/v1/log/entries/{uuid}"),
        });
    }
    rekor.metrics.entry("v1", &kind, "created");
    let state = Arc::clone(&rekor);
    let (uuid, entry) = blocking(move || {
        state.v1_entry(
            appended.index,
            &body,
            appended.time_ms,
            &appended.checkpoint,
        )
    })
    .await?;
    Ok(created(&uuid, entry))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct IndexQuery {
    log_index: u64,
}

/// `GET /api/v1/log/entries?logIndex=N`.
pub(super) async fn by_index(
    State(rekor): State<Arc<Rekor>>,
    Query(query): Query<IndexQuery>,
) -> Result<Response, ApiError> {
    let (uuid, entry) = blocking(move || rekor.v1_entry_at(query.log_index)).await?;
    Ok(Json(std::collections::BTreeMap::from([(uuid, entry)])).into_response())
}

/// `GET /api/v1/log/entries/{uuid}`.
pub(super) async fn by_uuid(
    State(rekor): State<Arc<Rekor>>,
    Path(uuid): Path<String>,
) -> Result<Response, ApiError> {
    let (uuid, entry) = blocking(move || {
        let index = rekor
            .index_of_uuid(&uuid)?
            .ok_or_else(|| ApiError::NotFound(format!("no entry with UUID {uuid}")))?;
        rekor.v1_entry_at(index)
    })
    .await?;
    Ok(Json(std::collections::BTreeMap::from([(uuid, entry)])).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct RetrieveRequest {
    #[serde(default, rename = "entryUUIDs")]
    entry_uuids: Vec<String>,
    #[serde(default)]
    log_indexes: Vec<u64>,
    #[serde(default)]
    entries: Vec<serde_json::Value>,
}

/// `POST /api/v1/log/entries/retrieve`: entries by UUID, by index, or by content.
pub(super) async fn retrieve(
    State(rekor): State<Arc<Rekor>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&rekor, body).await?;
    let request: RetrieveRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed retrieve request: {e}")))?;
    for (name, len) in [
        ("entryUUIDs", request.entry_uuids.len()),
        ("logIndexes", request.log_indexes.len()),
        ("entries", request.entries.len()),
    ] {
        if len > MAX_RETRIEVE {
            return Err(ApiError::BadRequest(format!(
                "{name} has {len} items; at most {MAX_RETRIEVE} are allowed"
            )));
        }
    }
    let mut bodies = Vec::new();
    for proposed in &request.entries {
        let raw = serde_json::to_vec(proposed).map_err(|e| ApiError::Internal(e.to_string()))?;
        let entry = validate_v1(&raw).map_err(|e| ApiError::BadRequest(e.to_string()))?;
        bodies.push(leaf_hash(entry.canonical_body()));
    }
    let results = blocking(move || {
        let mut indexes = BTreeSet::new();
        for uuid in &request.entry_uuids {
            if let Some(index) = rekor.index_of_uuid(uuid)? {
                indexes.insert(index);
            }
        }
        let size = rekor.v1.log.checkpoint().size;
        indexes.extend(request.log_indexes.iter().copied().filter(|&i| i < size));
        for leaf in &bodies {
            if let Some(index) = rekor.v1.log.find_leaf(leaf)? {
                indexes.insert(index);
            }
        }
        indexes
            .into_iter()
            .map(|index| {
                rekor
                    .v1_entry_at(index)
                    .map(|(uuid, entry)| std::collections::BTreeMap::from([(uuid, entry)]))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    Ok(Json(results).into_response())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct LogInfo {
    root_hash: String,
    tree_size: u64,
    signed_tree_head: String,
    #[serde(rename = "treeID")]
    tree_id: String,
    inactive_shards: Vec<()>,
}

/// `GET /api/v1/log`.
pub(super) async fn log_info(State(rekor): State<Arc<Rekor>>) -> Result<Response, ApiError> {
    let checkpoint = rekor.v1.log.checkpoint();
    Ok(Json(LogInfo {
        root_hash: checkpoint.root.to_hex(),
        tree_size: checkpoint.size,
        signed_tree_head: String::from_utf8(checkpoint.note.clone())
            .map_err(|e| ApiError::Internal(e.to_string()))?,
        tree_id: rekor.v1.tree_id.to_string(),
        inactive_shards: Vec::new(),
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProofQuery {
    first_size: Option<u64>,
    last_size: Option<u64>,
    #[serde(rename = "treeID")]
    tree_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyProof {
    root_hash: String,
    hashes: Vec<String>,
}

/// `GET /api/v1/log/proof?firstSize=&lastSize=`.
pub(super) async fn consistency(
    State(rekor): State<Arc<Rekor>>,
    Query(query): Query<ProofQuery>,
) -> Result<Response, ApiError> {
    if let Some(tree) = &query.tree_id
        && *tree != rekor.v1.tree_id.to_string()
    {
        return Err(ApiError::NotFound(format!("no tree with ID {tree}")));
    }
    let first = query.first_size.unwrap_or(1);
    let last = query
        .last_size
        .unwrap_or_else(|| rekor.v1.log.checkpoint().size);
    if first == 0 {
        return Err(ApiError::BadRequest("firstSize must be at least 1".into()));
    }
    let proof = blocking(move || {
        let hashes = rekor.v1.log.prove_consistency(first, last)?;
        let root = rekor.v1.log.root(last)?;
        Ok(ConsistencyProof {
            root_hash: root.to_hex(),
            hashes: hashes.iter().map(Hash::to_hex).collect(),
        })
    })
    .await?;
    Ok(Json(proof).into_response())
}

/// `GET /api/v1/log/publicKey`: the log key as PEM.
pub(super) async fn public_key(State(rekor): State<Arc<Rekor>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-pem-file"),
        )],
        rekor.v1_public_key_pem.clone(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SearchRequest {
    email: Option<String>,
    public_key: Option<SearchPublicKey>,
    hash: Option<String>,
    operator: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct SearchPublicKey {
    format: String,
    content: Option<String>,
    url: Option<String>,
}

/// `POST /api/v1/index/retrieve`: entry UUIDs by artifact hash, public key or certificate, and
/// signer email or URI.
pub(super) async fn search(
    State(rekor): State<Arc<Rekor>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&rekor, body).await?;
    let request: SearchRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("malformed search request: {e}")))?;
    let mut terms: Vec<Vec<SearchTerm>> = Vec::new();
    if let Some(email) = &request.email {
        terms.push(vec![
            SearchTerm::from_email(email).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ]);
    }
    if let Some(hash) = &request.hash {
        terms.push(vec![
            SearchTerm::from_hash_query(hash).map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ]);
    }
    if let Some(key) = &request.public_key {
        if key.url.is_some() {
            return Err(ApiError::BadRequest(
                "publicKey.url is not supported; send publicKey.content".into(),
            ));
        }
        let content = key
            .content
            .as_deref()
            .ok_or_else(|| ApiError::BadRequest("publicKey.content is required".into()))?;
        terms.push(vec![
            SearchTerm::from_public_key_query(&key.format, content)
                .map_err(|e| ApiError::BadRequest(e.to_string()))?,
        ]);
    }
    if terms.is_empty() {
        return Err(ApiError::BadRequest(
            "search needs at least one of email, hash or publicKey".into(),
        ));
    }
    let and = match request.operator.as_deref() {
        None | Some("or") => false,
        Some("and") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "operator must be \"and\" or \"or\", got {other:?}"
            )));
        }
    };
    let uuids = blocking(move || {
        let mut result: Option<BTreeSet<u64>> = None;
        for alternatives in &terms {
            // One query field may map to several stored terms (a key and its certificate).
            let mut found = BTreeSet::new();
            for term in alternatives {
                found.extend(rekor.v1.log.search(&term.to_key(), MAX_SEARCH_RESULTS)?);
            }
            result = Some(match result {
                None => found,
                Some(acc) if and => acc.intersection(&found).copied().collect(),
                Some(acc) => acc.union(&found).copied().collect(),
            });
        }
        result
            .unwrap_or_default()
            .into_iter()
            .take(MAX_SEARCH_RESULTS)
            .map(|index| Ok(rekor.entry_uuid(&leaf_hash(&rekor.v1.log.entry(index)?))))
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await?;
    Ok(Json(uuids).into_response())
}
