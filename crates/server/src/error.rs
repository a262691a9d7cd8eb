//! The one place where service errors become HTTP responses.
//!
//! 4xx bodies name the problem; 5xx bodies are generic and the cause is logged. The body is the
//! Rekor/Fulcio error model `{"code": <status>, "message": "..."}` that sigstore clients parse.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A failed request.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// The request is malformed or its content does not verify.
    BadRequest(String),
    /// The entry already exists; `location` is its URL path.
    Conflict { message: String, location: String },
    /// The caller is authenticated but not allowed (an issuance rule refused it).
    Forbidden(String),
    /// The server failed; the cause is logged, not sent.
    Internal(String),
    /// No such resource.
    NotFound(String),
    /// The request body is over the limit.
    PayloadTooLarge { limit: usize },
    /// The log's pool is full.
    Pushback { retry_after: Duration },
    /// The request carries no acceptable credentials (a missing or rejected identity token).
    Unauthorized(String),
    /// The request's content type is not one the endpoint reads.
    UnsupportedMediaType(String),
}

#[derive(Serialize)]
struct Body<'a> {
    code: u16,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            Self::BadRequest(message) => (StatusCode::BAD_REQUEST, message.clone()),
            Self::Conflict { message, .. } => (StatusCode::CONFLICT, message.clone()),
            Self::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
            Self::NotFound(message) => (StatusCode::NOT_FOUND, message.clone()),
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, message.clone()),
            Self::Unauthorized(message) => (StatusCode::UNAUTHORIZED, message.clone()),
            Self::PayloadTooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body exceeds the limit of {limit} bytes"),
            ),
            Self::UnsupportedMediaType(message) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, message.clone())
            }
            Self::Pushback { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the log is overloaded; retry later".to_owned(),
            ),
        };
        let mut response = (
            status,
            Json(Body {
                code: status.as_u16(),
                message: &message,
            }),
        )
            .into_response();
        match self {
            Self::Conflict { location, .. } => {
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
            }
            Self::Pushback { retry_after } => {
                let seconds = retry_after.as_secs().max(1);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        response
    }
}

impl From<waxseal_log::Error> for ApiError {
    fn from(e: waxseal_log::Error) -> Self {
        match e {
            waxseal_log::Error::Pushback { retry_after, .. } => Self::Pushback { retry_after },
            waxseal_log::Error::EntryTooLarge { len, max } => Self::BadRequest(format!(
                "entry is {len} bytes; the log accepts at most {max}"
            )),
            waxseal_log::Error::IndexOutOfRange { index, size } => Self::NotFound(format!(
                "no entry at index {index}: the log has {size} entries"
            )),
            waxseal_log::Error::SizeNotPublished { size, published } => Self::BadRequest(format!(
                "tree size {size} is beyond the log's size {published}"
            )),
            waxseal_log::Error::SizeOrder { size1, size2 } => Self::BadRequest(format!(
                "first size {size1} is larger than last size {size2}"
            )),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The request's media type (the `Content-Type` before any parameters, lower-cased) and the raw
/// header for error messages; both empty when the header is absent.
pub(crate) fn media_type(headers: &axum::http::HeaderMap) -> (String, String) {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = raw.split(';').next().unwrap_or_default().trim();
    (media_type.to_ascii_lowercase(), raw.to_owned())
}

/// Runs blocking store work off the async workers.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}
