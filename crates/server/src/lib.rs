//! waxseal's HTTP services: one axum router per service, each built by a `router` function
//! that tests drive without a socket, and [`app`] that puts them together.
//!
//! - [`ct`]: the built-in Certificate Transparency log (RFC 6962 submission, C2SP
//!   static-ct-api reads) over a [`waxseal_log::ct::CtLog`];
//! - [`tlog`]: the C2SP `tlog-tiles` read API (checkpoint, hash tiles, entry bundles) over a
//!   [`waxseal_log::Log`];
//! - [`rekor`]: the Rekor v1 and v2 APIs;
//! - [`tsa`]: the RFC 3161 timestamp authority;
//! - [`fulcio`]: the Fulcio-compatible certificate authority;
//! - [`oidc`]: the built-in OIDC issuer (discovery, JWKS, client-credentials tokens);
//! - [`trust`]: the instance's trusted root and signing configs under `/trust/`;
//! - [`operator`]: `/healthz`, `/readyz` and `/admin/status` for load balancers and operators;
//! - `/metrics`: Prometheus metrics ([`Metrics`]), with each log's engine state.
//!
//! Formats live in their own crates (`waxseal-bundle`, `waxseal-tiles`, `waxseal-note`); this
//! crate maps HTTP to them, and maps every error to a response in one place.

pub mod ct;
mod error;
mod fetch;
pub mod fulcio;
mod metrics;
pub mod oidc;
pub mod operator;
pub mod rekor;
pub mod tlog;
pub mod trust;
pub mod tsa;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
pub use fetch::HttpFetcher;
pub use metrics::Metrics;
use tower_http::trace::TraceLayer;

/// The services of one instance, for [`app`].
#[derive(Debug)]
pub struct Services {
    /// Rekor v1 and v2.
    pub rekor: Arc<rekor::Rekor>,
    /// The timestamp authority.
    pub tsa: Arc<waxseal_tsa::Tsa>,
    /// The built-in OIDC issuer.
    pub issuer: Arc<oidc::BuiltinIssuer>,
    /// The certificate authority.
    pub fulcio: Arc<fulcio::Fulcio>,
    /// Extra routes mounted as they are (the CT log's).
    pub extra: Router,
    /// The files served under `/trust/`.
    pub trust: trust::TrustFiles,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// The logs as the operator endpoints and the per-log metrics see them.
    pub operator: Arc<operator::Operator>,
}

/// The whole instance: Rekor v1/v2, the v2 log's tiles at the root as well as under
/// `/api/v2`, the CA, the timestamp authority, the built-in OIDC issuer, the trust files,
/// the extra routes, the operator endpoints, and `/metrics`, with request tracing and latency metrics.
pub fn app(services: Services) -> Router {
    let Services {
        rekor,
        tsa,
        issuer,
        fulcio,
        extra,
        trust,
        metrics,
        operator,
    } = services;
    let tiles = tlog::router(rekor.v2_log().clone());
    Router::new()
        .merge(rekor::router(rekor))
        .merge(tiles)
        .merge(fulcio::router(fulcio))
        .merge(tsa::router(tsa))
        .merge(oidc::router(issuer))
        .merge(trust::router(trust))
        .merge(extra)
        .merge(operator::router(Arc::clone(&operator)))
        .route(
            "/metrics",
            get(metrics::serve).with_state((Arc::clone(&metrics), operator)),
        )
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(TraceLayer::new_for_http())
}
