//! The operator's endpoints, for load balancers and `waxseal admin status`:
//!
//! - `GET /healthz`: 200 while the process answers HTTP (liveness);
//! - `GET /readyz`: 200 when every log's store answers a read within [`READY_TIMEOUT`] and
//!   holds a published checkpoint, else 503 naming the logs that are not ready (readiness: a
//!   load balancer stops sending writes to a front end that cannot reach the database);
//! - `GET /admin/status`: JSON ([`Status`]): the backend, and per log this front end's role,
//!   the sequencer holding the log's lock, the lag (queued entries, checkpoint age), the
//!   connection pool and the store's size.
//!
//! `/admin/status` names the database's sequencer host and table sizes, which an operator
//! may not want public: it answers only requests from a loopback address, or carrying
//! `Authorization: Bearer <token>` when the front end was given an admin token
//! ([`Operator::with_admin_token`]); others get 403. The health endpoints say nothing but
//! "ready" or which log is not, and are open (load balancers probe them from outside).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use waxseal_log::{Log, LogStatus, Role, Store, StoreError};

/// How long `/readyz` waits for a store to answer.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The size of a log's store, as its backend reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Sizes {
    /// The sum of `parts`, in bytes.
    pub total_bytes: u64,
    /// The parts (tables with their indexes, or files), in bytes.
    pub parts: BTreeMap<String, u64>,
    /// `log` when the parts hold this log only (SQLite files); `database` when they are shared
    /// by every log of the database (PostgreSQL's tables hold all logs, keyed by name).
    pub scope: &'static str,
}

impl Sizes {
    /// The size of one log made of `parts`.
    pub fn of_log(parts: BTreeMap<String, u64>) -> Self {
        Self {
            total_bytes: parts.values().sum(),
            parts,
            scope: "log",
        }
    }

    /// The size of tables `parts` that every log of the database shares.
    pub fn of_database(parts: BTreeMap<String, u64>) -> Self {
        Self {
            scope: "database",
            ..Self::of_log(parts)
        }
    }
}

/// Reports a store's size for `/admin/status`.
///
/// Implementations MAY query the backend (the call runs on a blocking thread) and MUST be
/// safe to call from several threads at once.
pub trait StoreSizes: Send + Sync + std::fmt::Debug {
    /// The store's current size.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn sizes(&self) -> Result<Sizes, StoreError>;
}

/// One log as the operator endpoints see it.
#[derive(Debug, Clone)]
pub struct OperatedLog {
    name: String,
    log: Log,
    store: Arc<dyn Store>,
    sizes: Arc<dyn StoreSizes>,
}

impl OperatedLog {
    /// `log`, named `name` in reports, over `store` (probed by `/readyz`) whose size `sizes`
    /// reports.
    pub fn new(name: &str, log: Log, store: Arc<dyn Store>, sizes: Arc<dyn StoreSizes>) -> Self {
        Self {
            name: name.to_owned(),
            log,
            store,
            sizes,
        }
    }

    /// The log's name in reports and metric labels.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The log.
    pub fn log(&self) -> &Log {
        &self.log
    }
}

/// The operator endpoints' state: the backend's name and every log of the front end.
#[derive(Debug)]
pub struct Operator {
    backend: String,
    logs: Vec<OperatedLog>,
    /// SHA-256 of the admin bearer token, if one was configured.
    admin_token: Option<[u8; 32]>,
}

impl Operator {
    /// The operator view of `logs`, stored in `backend` (`sqlite`, `postgres`).
    pub fn new(backend: &str, logs: Vec<OperatedLog>) -> Self {
        Self {
            backend: backend.to_owned(),
            logs,
            admin_token: None,
        }
    }

    /// Lets requests from any address read `/admin/status` with `Authorization: Bearer T`,
    /// where `token_sha256` is SHA-256 of `T`; `None` keeps it loopback-only.
    #[must_use]
    pub fn with_admin_token(mut self, token_sha256: Option<[u8; 32]>) -> Self {
        self.admin_token = token_sha256;
        self
    }

    /// The logs.
    pub fn logs(&self) -> &[OperatedLog] {
        &self.logs
    }

    /// Whether a request from `peer` (unknown: `None`) with `headers` may read
    /// `/admin/status`: from a loopback peer, or with the token.
    fn admits(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> bool {
        if peer.is_some_and(|peer| peer.ip().is_loopback()) {
            return true;
        }
        let Some(want) = self.admin_token else {
            return false;
        };
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        presented.is_some_and(|token| {
            let got = waxseal_crypto::sha256(token.trim().as_bytes());
            // Compare digests without an early exit.
            got.iter()
                .zip(want.iter())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
        })
    }

    /// The whole status report, querying each store's size.
    pub fn status(&self) -> Status {
        Status {
            backend: self.backend.clone(),
            logs: self
                .logs
                .iter()
                .map(|operated| {
                    let status = operated.log.status();
                    let (sizes, sizes_error) = match operated.sizes.sizes() {
                        Ok(sizes) => (Some(sizes), None),
                        Err(e) => {
                            tracing::warn!(log = %operated.name, error = %e, "couldn't read the store's size");
                            (None, Some(e.to_string()))
                        }
                    };
                    LogReport::new(&operated.name, &status, sizes, sizes_error)
                })
                .collect(),
        }
    }
}

/// What `/admin/status` answers.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Status {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Every log of the front end.
    pub logs: Vec<LogReport>,
}

/// One log in [`Status`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LogReport {
    /// The log's name (`rekor-v1`, `rekor-v2`, `ct`).
    pub name: String,
    /// The store's backend as the engine reports it.
    pub backend: String,
    /// This front end's role: `single` (embedded store), `sequencer` or `follower`.
    pub role: String,
    /// The front end holding the log's sequencer lock, if known.
    pub sequencer: Option<String>,
    /// Entries accepted and not yet integrated (the sequencer's backlog).
    pub queued: u64,
    /// The newest checkpoint's tree size.
    pub checkpoint_size: u64,
    /// How long ago the newest checkpoint this front end knows was signed, in milliseconds.
    pub checkpoint_age_ms: u64,
    /// How many times the sequencer lock changed holders while this process watched.
    pub lock_changes: u64,
    /// Entries in the last integrated batch.
    pub last_batch_entries: u64,
    /// Entries this front end integrated as the sequencer.
    pub integrated_entries: u64,
    /// The database connection pool, if the store has one.
    pub pool: Option<PoolReport>,
    /// The store's size, if it could be read.
    pub sizes: Option<Sizes>,
    /// Why the size could not be read.
    pub sizes_error: Option<String>,
}

/// A connection pool in [`LogReport`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PoolReport {
    /// Open connections.
    pub connections: u64,
    /// Open connections not in use.
    pub idle: u64,
    /// The most connections the pool opens.
    pub max: u64,
    /// Callers waiting for a connection.
    pub waiting: u64,
}

impl LogReport {
    fn new(
        name: &str,
        status: &LogStatus,
        sizes: Option<Sizes>,
        sizes_error: Option<String>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            backend: status.backend.to_owned(),
            role: role_name(status.role).to_owned(),
            sequencer: status.sequencer.clone(),
            queued: status.queued,
            checkpoint_size: status.checkpoint_size,
            checkpoint_age_ms: status.checkpoint_age_ms,
            lock_changes: status.lock_changes,
            last_batch_entries: status.last_batch_entries,
            integrated_entries: status.integrated_entries,
            pool: status.pool.as_ref().map(|pool| PoolReport {
                connections: pool.size as u64,
                idle: pool.available as u64,
                max: pool.max_size as u64,
                waiting: pool.waiting as u64,
            }),
            sizes,
            sizes_error,
        }
    }
}

/// A role's name in reports and metrics.
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::Sequencer => "sequencer",
        Role::Single => "single",
        _ => "unknown",
    }
}

/// `/healthz`, `/readyz` and `/admin/status`.
pub fn router(operator: Arc<Operator>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/admin/status", get(status))
        .with_state(operator)
}

async fn healthz() -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "status": "alive" })),
    )
        .into_response()
}

/// Why one log is not ready.
async fn log_readiness(operated: OperatedLog) -> Result<(), &'static str> {
    let store = Arc::clone(&operated.store);
    let probe = tokio::task::spawn_blocking(move || store.load());
    match tokio::time::timeout(READY_TIMEOUT, probe).await {
        Err(_) => {
            tracing::warn!(log = %operated.name, "readiness: the store did not answer in time");
            Err("store did not answer in time")
        }
        Ok(Err(e)) => {
            tracing::warn!(log = %operated.name, error = %e, "readiness: probe task failed");
            Err("store probe failed")
        }
        Ok(Ok(Err(e))) => {
            tracing::warn!(log = %operated.name, error = %e, "readiness: the store is unreachable");
            Err("store unreachable")
        }
        Ok(Ok(Ok(state))) if state.checkpoint.is_none() => Err("no checkpoint published yet"),
        Ok(Ok(Ok(_))) => Ok(()),
    }
}

async fn readyz(State(operator): State<Arc<Operator>>) -> Response {
    let probes: Vec<_> = operator
        .logs
        .iter()
        .map(|operated| {
            let operated = operated.clone();
            tokio::spawn(async move {
                let name = operated.name.clone();
                (name, log_readiness(operated).await)
            })
        })
        .collect();
    let mut logs = BTreeMap::new();
    let mut ready = true;
    for probe in probes {
        let (name, outcome) = match probe.await {
            Ok(done) => done,
            Err(_) => ("unknown".to_owned(), Err("probe task failed")),
        };
        ready &= outcome.is_ok();
        logs.insert(name, outcome.err().unwrap_or("ready"));
    }
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        code,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "ready": ready, "logs": logs })),
    )
        .into_response()
}

async fn status(
    State(operator): State<Arc<Operator>>,
    peer: Result<ConnectInfo<SocketAddr>, ExtensionRejection>,
    headers: HeaderMap,
) -> Response {
    // Without connection info (a router served without it) the peer is unknown: not loopback.
    let peer = peer.ok().map(|ConnectInfo(peer)| peer);
    if !operator.admits(peer, &headers) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({
                "code": 403,
                "message": "/admin/status answers loopback clients, or requests with \
                            `Authorization: Bearer <token>` when the server has \
                            --admin-token-file",
            })),
        )
            .into_response();
    }
    let report = {
        let operator = Arc::clone(&operator);
        tokio::task::spawn_blocking(move || operator.status()).await
    };
    match report {
        Ok(report) => ([(header::CACHE_CONTROL, "no-store")], axum::Json(report)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "the status task failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({ "code": 500, "message": "internal error" })),
            )
                .into_response()
        }
    }
}
