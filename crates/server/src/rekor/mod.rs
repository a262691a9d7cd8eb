//! The Rekor APIs over waxseal logs: Rekor v1 (`/api/v1/...`, sigstore/rekor `openapi.yaml`)
//! and Rekor v2 (`/api/v2/...`, sigstore/rekor-tiles), each on its own log.
//!
//! Every submission is validated by `waxseal-bundle` (kind, canonical body, signature) before
//! it reaches the log; nothing is stored for a rejected request.

mod v1;
mod v2;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use waxseal_crypto::SigningKey;
use waxseal_log::Log;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// The largest request body accepted by the write endpoints: 64 MiB. A DSSE submission carries
/// its whole envelope, and an attested SBOM can be tens of MB; the log stores only digests.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 64 << 20;

/// The log behind the Rekor v1 API.
#[derive(Debug)]
pub struct V1Log {
    /// The log (its checkpoints carry a Rekor-flavoured ECDSA signature).
    pub log: Log,
    /// The log key that signs signed entry timestamps (SETs); ECDSA P-256.
    pub key: SigningKey,
    /// The tree ID shown in `GET /api/v1/log` and in entry UUIDs.
    pub tree_id: u64,
}

/// The log behind the Rekor v2 API.
#[derive(Debug)]
pub struct V2Log {
    /// The log (its checkpoints carry a C2SP Ed25519 signature).
    pub log: Log,
    /// The C2SP key ID of the checkpoint key: the log ID clients look up.
    pub log_id: [u8; 32],
}

/// Both Rekor APIs.
#[derive(Debug)]
pub struct Rekor {
    v1: V1Log,
    v1_log_id: [u8; 32],
    v1_public_key_pem: String,
    v2: V2Log,
    metrics: Arc<Metrics>,
    max_request_bytes: usize,
}

impl Rekor {
    /// The Rekor service over two logs.
    pub fn new(v1: V1Log, v2: V2Log, metrics: Arc<Metrics>) -> Self {
        let public = v1.key.public_key();
        let v1_log_id = waxseal_note::rekor_v1_log_id(public.spki_der());
        Self {
            v1_public_key_pem: public.to_pem(),
            v1,
            v1_log_id,
            v2,
            metrics,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
        }
    }

    /// Sets the request-body limit of the write endpoints.
    #[must_use]
    pub fn with_max_request_bytes(mut self, limit: usize) -> Self {
        self.max_request_bytes = limit;
        self
    }

    /// The log behind the v2 API.
    pub fn v2_log(&self) -> &waxseal_log::Log {
        &self.v2.log
    }

    /// The v1 log ID: SHA-256 of the log key's DER SubjectPublicKeyInfo.
    pub fn v1_log_id(&self) -> [u8; 32] {
        self.v1_log_id
    }
}

/// The Rekor v1 and v2 routes, plus each log's tlog-tiles read API: the v1 log's under
/// `/api/v1` (`/api/v1/checkpoint`, `/api/v1/tile/...`), the v2 log's under `/api/v2`.
pub fn router(rekor: Arc<Rekor>) -> Router {
    let v1_tiles = crate::tlog::router(rekor.v1.log.clone());
    let v2_tiles = crate::tlog::router(rekor.v2.log.clone());
    Router::new()
        .route("/api/v1/log/entries", post(v1::create).get(v1::by_index))
        .route("/api/v1/log/entries/retrieve", post(v1::retrieve))
        .route("/api/v1/log/entries/{uuid}", get(v1::by_uuid))
        .route("/api/v1/log", get(v1::log_info))
        .route("/api/v1/log/proof", get(v1::consistency))
        .route("/api/v1/log/publicKey", get(v1::public_key))
        .route("/api/v1/index/retrieve", post(v1::search))
        .route("/api/v2/log/entries", post(v2::create))
        .layer(DefaultBodyLimit::disable())
        .with_state(rekor)
        .nest("/api/v1", v1_tiles)
        .nest("/api/v2", v2_tiles)
}

/// Reads a request body up to the service's limit.
async fn read_body(rekor: &Rekor, body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, rekor.max_request_bytes)
        .await
        .map_err(|e| {
            let cause = e.into_inner();
            if cause.is::<http_body_util::LengthLimitError>() {
                ApiError::PayloadTooLarge {
                    limit: rekor.max_request_bytes,
                }
            } else {
                ApiError::BadRequest(format!("couldn't read the request body: {cause}"))
            }
        })
}
