//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.
//!
//! Besides request latency and entry outcomes, each log's engine state is sampled at every
//! scrape (labels `log`, and `role` where it matters), which is what to watch on a cluster:
//!
//! - `waxseal_log_queued_entries`: the queue depth (accepted, not yet integrated);
//! - `waxseal_log_checkpoint_age_seconds`: sequencer lag, the age of the newest checkpoint this
//!   front end knows (alert when it grows while entries are queued);
//! - `waxseal_log_last_batch_entries`: the integration batch size;
//! - `waxseal_log_lock_changes`: how often the sequencer lock changed holders (failovers)
//!   since this process started;
//! - `waxseal_log_sequencer`: 1 on the front end that sequences the log, 0 on the others;
//! - `waxseal_log_checkpoint_size` and `waxseal_log_integrated_entries`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use waxseal_log::Role;

use crate::operator::{OperatedLog, Operator};

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LogLabels {
    log: String,
}

type GaugeFamily = Family<LogLabels, Gauge>;
type SecondsFamily = Family<LogLabels, Gauge<f64, std::sync::atomic::AtomicU64>>;

/// The per-log gauges sampled at each scrape.
#[derive(Debug, Default)]
struct LogGauges {
    queued: GaugeFamily,
    checkpoint_age: SecondsFamily,
    checkpoint_size: GaugeFamily,
    last_batch: GaugeFamily,
    lock_changes: GaugeFamily,
    sequencer: GaugeFamily,
    integrated: GaugeFamily,
}

type HistogramFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    entries: Family<EntryLabels, Counter>,
    requests: HistogramFamily,
    logs: LogGauges,
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
        let logs = LogGauges::default();
        for (name, help, family) in [
            (
                "log_queued_entries",
                "Entries accepted and not yet integrated (queue depth)",
                &logs.queued,
            ),
            (
                "log_checkpoint_size",
                "Tree size of the newest checkpoint",
                &logs.checkpoint_size,
            ),
            (
                "log_last_batch_entries",
                "Entries in the last integrated batch",
                &logs.last_batch,
            ),
            (
                "log_lock_changes",
                "Sequencer lock holder changes seen since this process started",
                &logs.lock_changes,
            ),
            (
                "log_sequencer",
                "1 if this front end is the log's sequencer",
                &logs.sequencer,
            ),
            (
                "log_integrated_entries",
                "Entries this front end integrated as the sequencer",
                &logs.integrated,
            ),
        ] {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "log_checkpoint_age_seconds",
            "Age of the newest checkpoint this front end knows (sequencer lag)",
            logs.checkpoint_age.clone(),
        );
        Self {
            registry,
            entries,
            requests,
            logs,
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

    /// Samples each log's engine state into the per-log gauges.
    pub(crate) fn sample(&self, logs: &[OperatedLog]) {
        let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        for operated in logs {
            let status = operated.log().status();
            let labels = LogLabels {
                log: operated.name().to_owned(),
            };
            let gauges = &self.logs;
            gauges
                .queued
                .get_or_create(&labels)
                .set(clamp(status.queued));
            gauges
                .checkpoint_size
                .get_or_create(&labels)
                .set(clamp(status.checkpoint_size));
            gauges
                .last_batch
                .get_or_create(&labels)
                .set(clamp(status.last_batch_entries));
            gauges
                .lock_changes
                .get_or_create(&labels)
                .set(clamp(status.lock_changes));
            gauges
                .integrated
                .get_or_create(&labels)
                .set(clamp(status.integrated_entries));
            gauges
                .sequencer
                .get_or_create(&labels)
                .set(i64::from(matches!(
                    status.role,
                    Role::Sequencer | Role::Single
                )));
            gauges
                .checkpoint_age
                .get_or_create(&labels)
                .set(status.checkpoint_age_ms as f64 / 1000.0);
        }
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
pub(crate) async fn serve(
    State((metrics, operator)): State<(Arc<Metrics>, Arc<Operator>)>,
) -> Response {
    // Status reads are in-memory engine state, cheap enough for the async thread.
    metrics.sample(operator.logs());
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        metrics.encode(),
    )
        .into_response()
}
