//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of logged-entry counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct EntryLabels {
    /// `v1` or `v2`.
    pub(crate) api: String,
    /// The entry kind, e.g. `hashedrekord`.
    pub(crate) kind: String,
    /// `created`, `duplicate`, `rejected` or `pushback`.
    pub(crate) outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    code: String,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    entries: Family<EntryLabels, Counter>,
    requests: HistogramFamily,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms .. ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    /// A fresh registry with every waxseal metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("waxseal");
        let entries = Family::<EntryLabels, Counter>::default();
        registry.register(
            "log_entries",
            "Entries submitted to the transparency logs, by outcome",
            entries.clone(),
        );
        let requests: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route and status",
            requests.clone(),
        );
        Self {
            registry,
            entries,
            requests,
        }
    }

    /// Counts one submitted entry.
    pub(crate) fn entry(&self, api: &str, kind: &str, outcome: &str) {
        self.entries
            .get_or_create(&EntryLabels {
                api: api.into(),
                kind: kind.into(),
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The text exposition.
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Middleware recording each request's latency under its route pattern.
pub(crate) async fn track(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let start = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        code: response.status().as_u16().to_string(),
    };
    metrics
        .requests
        .get_or_create(&labels)
        .observe(start.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`.
pub(crate) async fn serve(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        metrics.encode(),
    )
        .into_response()
}
