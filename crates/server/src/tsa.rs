//! The RFC 3161 timestamp authority routes, as sigstore/timestamp-authority serves them:
//! `POST /api/v1/timestamp` and `GET /api/v1/timestamp/certchain`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use waxseal_tsa::{TimeStampRequest, Tsa};

use crate::error::{ApiError, media_type};

/// The largest timestamp request accepted (a request is a digest and a few fields).
const MAX_REQUEST_BYTES: usize = 16 * 1024;

/// The TSA routes. Clients are configured with the full `…/api/v1/timestamp` URL.
pub fn router(tsa: Arc<Tsa>) -> Router {
    Router::new()
        .route("/api/v1/timestamp", post(timestamp))
        .route("/api/v1/timestamp/certchain", get(cert_chain))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(tsa)
}

/// `application/timestamp-query` (DER, sigstore-python) or `application/json` (sigstore-js);
/// answers 200 with `application/timestamp-reply`; request errors are 400 JSON, as upstream.
async fn timestamp(
    State(tsa): State<Arc<Tsa>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (media_type, content_type) = media_type(&headers);
    let request = match media_type.as_str() {
        "application/timestamp-query" => TimeStampRequest::from_der(&body)?,
        "application/json" => TimeStampRequest::from_json(&body)?,
        _ => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "unsupported content type {content_type:?}: send application/timestamp-query or application/json"
            )));
        }
    };
    let mut serial = [0u8; 16];
    waxseal_crypto::random_bytes(&mut serial).map_err(|e| ApiError::Internal(e.to_string()))?;
    // RFC 3161 §2.4.2: a positive, non-zero serial number.
    serial[0] = (serial[0] & 0x7f).max(1);
    let response = tsa.timestamp(&request, SystemTime::now(), &serial)?;
    Ok((
        [(header::CONTENT_TYPE, "application/timestamp-reply")],
        response,
    )
        .into_response())
}

/// The PEM chain, TSA certificate first, root last.
async fn cert_chain(State(tsa): State<Arc<Tsa>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        tsa.keys().chain_pem(),
    )
        .into_response()
}

impl From<waxseal_tsa::Error> for ApiError {
    fn from(e: waxseal_tsa::Error) -> Self {
        if e.is_bad_request() {
            Self::BadRequest(e.to_string())
        } else {
            Self::Internal(e.to_string())
        }
    }
}
