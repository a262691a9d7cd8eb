//! Rekor v2 (sigstore/rekor-tiles): `POST /api/v2/log/entries` answers with a
//! `TransparencyLogEntry` once the entry is under a published checkpoint. No SETs and no
//! integrated time: clients take time from an RFC 3161 timestamp.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use waxseal_bundle::rekor::{
    Checkpoint, InclusionProof, KindVersion, LogId, TransparencyLogEntry, validate_v2,
};

use super::{Rekor, read_body};
use crate::error::{ApiError, blocking};

/// `POST /api/v2/log/entries`.
pub(super) async fn create(
    State(rekor): State<Arc<Rekor>>,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(&rekor, body).await?;
    let entry = validate_v2(&bytes).map_err(|e| {
        rekor.metrics.entry("v2", "invalid", "rejected");
        ApiError::BadRequest(e.to_string())
    })?;
    let kind = entry.kind().to_string();
    let body = entry.canonical_body().to_vec();
    let pending = rekor.v2.log.append(body.clone()).inspect_err(|e| {
        if matches!(e, waxseal_log::Error::Pushback { .. }) {
            rekor.metrics.entry("v2", &kind, "pushback");
        }
    })?;
    let appended = pending.await?;
    rekor.metrics.entry(
        "v2",
        &kind,
        if appended.duplicate {
            "duplicate"
        } else {
            "created"
        },
    );
    let state = Arc::clone(&rekor);
    let version = entry.api_version();
    let tle = blocking(move || {
        let checkpoint = &appended.checkpoint;
        let proof = state
            .v2
            .log
            .prove_inclusion(appended.index, checkpoint.size)?;
        let note = String::from_utf8(checkpoint.note.clone())
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let index = i64::try_from(appended.index).map_err(|e| ApiError::Internal(e.to_string()))?;
        let size = i64::try_from(checkpoint.size).map_err(|e| ApiError::Internal(e.to_string()))?;
        let mut entry = TransparencyLogEntry::new(
            index,
            LogId::new(state.v2.log_id.to_vec()),
            KindVersion::new(kind, version),
            body,
        );
        entry.inclusion_proof = Some(InclusionProof::new(
            index,
            checkpoint.root.as_bytes().to_vec(),
            size,
            proof.iter().map(|h| h.as_bytes().to_vec()).collect(),
            Checkpoint::new(note),
        ));
        Ok(entry)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(tle)).into_response())
}
