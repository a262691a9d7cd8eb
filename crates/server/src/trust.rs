//! The instance's trust material over HTTP: `GET /trust/<file>` serves the files `waxseal serve`
//! writes into `DATA_DIR/trust/` (trusted root, signing configs, ClientTrustConfigs), so a
//! client on another machine can fetch `client_trust_config.json` (`waxseal sign --instance`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;

/// The trust files by name (e.g. `client_trust_config.json`), JSON bytes.
pub type TrustFiles = BTreeMap<String, Vec<u8>>;

/// The `/trust/<file>` route.
pub fn router(files: TrustFiles) -> Router {
    Router::new()
        .route("/trust/{name}", get(file))
        .with_state(Arc::new(files))
}

async fn file(
    State(files): State<Arc<TrustFiles>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let body = files.get(&name).cloned().ok_or_else(|| {
        let known: Vec<&str> = files.keys().map(String::as_str).collect();
        ApiError::NotFound(format!(
            "no trust file {name:?}; this instance serves {}",
            known.join(", ")
        ))
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
