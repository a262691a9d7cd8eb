//! The built-in Certificate Transparency log over HTTP, at the log prefix `/ct`: the RFC 6962
//! submission API (`POST /ct/ct/v1/add-chain`, `POST /ct/ct/v1/add-pre-chain`, `GET
//! /ct/ct/v1/get-roots`, §4.1, §4.2, §4.7) and the C2SP static-ct-api monitoring API
//! (`/ct/checkpoint`,
//! `/ct/tile/<L>/<N>[.p/<W>]`, `/ct/tile/data/<N>[.p/<W>]`, `/ct/issuer/<fingerprint>`).
//!
//! Tiles, data tiles and issuers are immutable, so they are served with a year-long immutable
//! cache lifetime; the checkpoint changes with every batch and is served uncached.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use waxseal_log::ct::{AddChainResponse, CtError, CtLog};
use waxseal_tiles::TilePath;

use crate::error::{ApiError, blocking};

/// The largest `add-[pre-]chain` body accepted: a chain of a few certificates in base64.
pub const MAX_CHAIN_REQUEST_BYTES: usize = 512 * 1024;

const OCTET_STREAM: &str = "application/octet-stream";
const PKIX_CERT: &str = "application/pkix-cert";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The CT log's routes under the log prefix `/ct`, as Sigstore's CT logs are served
/// (`https://ctfe.sigstore.dev/2022/ct/v1/...`): RFC 6962 submission at `/ct/ct/v1/...` and the
/// static-ct-api monitoring reads at `/ct/checkpoint`, `/ct/tile/...`, `/ct/issuer/...`. The
/// submission prefix without its scheme is the checkpoint origin (`host/ct`).
pub fn router(ct: Arc<CtLog>) -> Router {
    Router::new()
        .route("/ct/ct/v1/add-pre-chain", post(add_pre_chain))
        .route("/ct/ct/v1/add-chain", post(add_chain))
        .route("/ct/ct/v1/get-roots", get(get_roots))
        .route("/ct/checkpoint", get(checkpoint))
        .route("/ct/tile/{*path}", get(tile))
        .route("/ct/issuer/{fingerprint}", get(issuer))
        .layer(DefaultBodyLimit::disable())
        .with_state(ct)
}

/// RFC 6962 §4.1 request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddChainRequest {
    chain: Vec<String>,
}

/// RFC 6962 §4.1 response.
#[derive(Serialize)]
struct AddChainJson {
    sct_version: u8,
    id: String,
    timestamp: u64,
    extensions: String,
    signature: String,
}

impl From<&AddChainResponse> for AddChainJson {
    fn from(r: &AddChainResponse) -> Self {
        Self {
            sct_version: r.sct_version(),
            id: STANDARD.encode(r.id()),
            timestamp: r.timestamp(),
            extensions: STANDARD.encode(r.extensions()),
            signature: STANDARD.encode(r.signature()),
        }
    }
}

/// RFC 6962 §4.7 response.
#[derive(Serialize)]
struct GetRootsJson {
    certificates: Vec<String>,
}

async fn add_pre_chain(State(ct): State<Arc<CtLog>>, body: Body) -> Result<Response, ApiError> {
    let chain = read_chain(body).await?;
    let response = ct.add_pre_chain(chain).await?;
    Ok(Json(AddChainJson::from(&response)).into_response())
}

async fn add_chain(State(ct): State<Arc<CtLog>>, body: Body) -> Result<Response, ApiError> {
    let chain = read_chain(body).await?;
    let response = ct.add_chain(chain).await?;
    Ok(Json(AddChainJson::from(&response)).into_response())
}

/// Reads `{"chain": [base64 DER, ...]}`, non-empty.
async fn read_chain(body: Body) -> Result<Vec<Vec<u8>>, ApiError> {
    let bytes: Bytes = axum::body::to_bytes(body, MAX_CHAIN_REQUEST_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge {
            limit: MAX_CHAIN_REQUEST_BYTES,
        })?;
    let request: AddChainRequest = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "request body is not JSON {{\"chain\": [base64 DER, ...]}}: {e}"
        ))
    })?;
    if request.chain.is_empty() {
        return Err(ApiError::BadRequest("chain is empty".to_owned()));
    }
    request
        .chain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            STANDARD
                .decode(c)
                .map_err(|e| ApiError::BadRequest(format!("chain[{i}] is not base64: {e}")))
        })
        .collect()
}

async fn get_roots(State(ct): State<Arc<CtLog>>) -> Json<GetRootsJson> {
    Json(GetRootsJson {
        certificates: ct.roots().iter().map(|r| STANDARD.encode(r)).collect(),
    })
}

async fn checkpoint(State(ct): State<Arc<CtLog>>) -> Response {
    let note = ct.checkpoint().note.clone();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        note,
    )
        .into_response()
}

async fn tile(
    State(ct): State<Arc<CtLog>>,
    Path(path): Path<String>,
) -> Result<Response, ApiError> {
    // static-ct-api data tiles are tlog-tiles entry bundles under another name.
    let tlog_path = match path.strip_prefix("data/") {
        Some(rest) => format!("tile/entries/{rest}"),
        None if path.starts_with("entries/") => {
            return Err(ApiError::NotFound(format!(
                "no tile/{path}: static-ct-api serves entries at tile/data/"
            )));
        }
        None => format!("tile/{path}"),
    };
    let parsed = TilePath::parse(&tlog_path)
        .map_err(|e| ApiError::BadRequest(format!("malformed tile path: {e}")))?;
    let bytes = blocking(move || {
        let log = ct.log();
        let found = match parsed {
            // static-ct-api: levels 0 to 5.
            TilePath::Hash {
                level,
                index,
                width,
            } if level <= 5 => log.tile(level, index, Some(width))?,
            TilePath::Entries { index, width } => log.bundle(index, Some(width))?,
            _ => None,
        };
        found.ok_or_else(|| ApiError::NotFound(format!("tile/{path} is not in the published tree")))
    })
    .await?;
    Ok(immutable(OCTET_STREAM, bytes))
}

async fn issuer(
    State(ct): State<Arc<CtLog>>,
    Path(fingerprint): Path<String>,
) -> Result<Response, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "issuer fingerprint {fingerprint:?} is not 64 lowercase hex digits"
        ))
    };
    if fingerprint.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(bad());
    }
    let key: [u8; 32] = hex::decode(&fingerprint)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let der = blocking(move || {
        ct.issuer(&key)?
            .ok_or_else(|| ApiError::NotFound(format!("no issuer {fingerprint}")))
    })
    .await?;
    Ok(immutable(PKIX_CERT, der))
}

fn immutable(content_type: &'static str, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        bytes,
    )
        .into_response()
}

impl From<CtError> for ApiError {
    fn from(e: CtError) -> Self {
        match e {
            CtError::Chain(e) => Self::BadRequest(format!("chain rejected: {e}")),
            CtError::Log(e) => e.into(),
            other => Self::Internal(other.to_string()),
        }
    }
}
