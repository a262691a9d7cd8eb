//! The C2SP `tlog-tiles` read API: `GET /checkpoint`, `GET /tile/<L>/<N>[.p/<W>]` and
//! `GET /tile/entries/<N>[.p/<W>]`, relative to the log's prefix.
//!
//! Tiles and bundles are immutable once they exist (a partial tile of width W never changes),
//! so they are served with a year-long immutable cache lifetime; the checkpoint changes with
//! every batch and is served uncached.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use waxseal_log::Log;
use waxseal_tiles::TilePath;

use crate::error::{ApiError, blocking};

/// Content type of tiles and entry bundles.
const OCTET_STREAM: &str = "application/octet-stream";
/// Cache policy of immutable tiles.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The tlog-tiles read routes for `log`, to be nested under the log's prefix.
pub fn router(log: Log) -> Router {
    Router::new()
        .route("/checkpoint", get(checkpoint))
        .route("/tile/{*path}", get(tile))
        .with_state(log)
}

async fn checkpoint(State(log): State<Log>) -> Response {
    let note = log.checkpoint().note.clone();
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

async fn tile(State(log): State<Log>, Path(path): Path<String>) -> Result<Response, ApiError> {
    let parsed = TilePath::parse(&format!("tile/{path}"))
        .map_err(|e| ApiError::BadRequest(format!("malformed tile path: {e}")))?;
    let bytes = blocking(move || {
        let found = match parsed {
            TilePath::Hash {
                level,
                index,
                width,
            } => log.tile(level, index, Some(width))?,
            TilePath::Entries { index, width } => log.bundle(index, Some(width))?,
            _ => None,
        };
        found.ok_or_else(|| ApiError::NotFound(format!("{parsed} is not in the published tree")))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM)),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        bytes,
    )
        .into_response())
}
