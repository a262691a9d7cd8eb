//! Continuous verification state: per running image, the last result of every policy, the
//! workloads that ran it and when, drift as CloudEvents (FORMATS §3.4), the report and the
//! Prometheus metrics.
//!
//! The [`Tracker`] never reads the clock: every call takes the time. Images that stopped
//! running are kept, so the history answers "did image X ever run, where, when". It does not
//! schedule the re-checks, verify, or fetch: the caller lists what runs
//! ([`crate::inventory`]), checks each image (the registry and the verifier, through the
//! [`crate::cache::Cache`]) and feeds the decisions in.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value, json};
use waxseal_policy::Decision;

use crate::cache::CacheStats;
use crate::events::{CloudEvent, rfc3339};
use crate::inventory::{Running, Workload};

/// The synthetic policy a failure to check (registry error, timeout) is recorded under.
pub const VERIFICATION_POLICY: &str = "waxseal:verification";

/// The synthetic policy an image no policy matches is recorded under.
pub const NO_MATCH_POLICY: &str = "waxseal:no-match";

/// The last result of one policy for one image.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PolicyState {
    valid: bool,
    diagnostic: String,
    last_checked: SystemTime,
}

/// When something was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    first: SystemTime,
    last: SystemTime,
    /// Whether it was in the latest inventory.
    running: bool,
}

impl Seen {
    fn new(now: SystemTime) -> Self {
        Self {
            first: now,
            last: now,
            running: true,
        }
    }

    fn see(&mut self, now: SystemTime) {
        self.first = self.first.min(now);
        self.last = self.last.max(now);
        self.running = true;
    }
}

#[derive(Debug, Clone, Default)]
struct ImageState {
    seen: Option<Seen>,
    workloads: BTreeMap<Workload, Seen>,
    /// `None` until checked once.
    allowed: Option<bool>,
    policies: BTreeMap<String, PolicyState>,
}

/// The state of every image seen or checked in one cluster.
///
/// Nothing is ever forgotten (that is the history), so memory grows with the number of distinct
/// images and (image, workload) pairs the cluster ever ran; the caller owns the tracker and
/// locks it if tasks share it.
#[derive(Debug, Clone)]
pub struct Tracker {
    cluster: String,
    images: BTreeMap<String, ImageState>,
    checks: u64,
    check_errors: u64,
}

impl Tracker {
    /// An empty tracker for the cluster named `cluster` (events' source is `k8s://<cluster>`).
    pub fn new(cluster: impl Into<String>) -> Self {
        Self {
            cluster: cluster.into(),
            images: BTreeMap::new(),
            checks: 0,
            check_errors: 0,
        }
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Records what runs at `now`: each image (by [`Running::key`]) and each (image, workload)
    /// pair in `running` is seen now; anything absent keeps its last sighting and is marked no
    /// longer running.
    pub fn observe_inventory(&mut self, running: &[Running], now: SystemTime) {
        for state in self.images.values_mut() {
            if let Some(seen) = &mut state.seen {
                seen.running = false;
            }
            for seen in state.workloads.values_mut() {
                seen.running = false;
            }
        }
        for r in running {
            let state = self.images.entry(r.key().to_owned()).or_default();
            match &mut state.seen {
                Some(seen) => seen.see(now),
                None => state.seen = Some(Seen::new(now)),
            }
            state
                .workloads
                .entry(r.workload.clone())
                .and_modify(|s| s.see(now))
                .or_insert_with(|| Seen::new(now));
        }
    }

    /// Records `decision` for `image` checked at `now`, and returns the drift event when
    /// anything changed. `image` is the tracking key, as [`Running::key`] gives it (the digest
    /// reference), so results and sightings meet.
    ///
    /// Per matched policy: `valid` is whether it passed, `diagnostic` the decision's error or
    /// warning lines for it. When no policy matched, the result is recorded under
    /// [`NO_MATCH_POLICY`] with the decision's messages (`no matching policies: …`). Each
    /// policy's `change` is `new` the first time, `degraded` valid → invalid, `improved`
    /// invalid → valid, else `""`. A [`VERIFICATION_POLICY`] entry left by
    /// [`Tracker::record_error`] becomes valid again. There is no event when no policy changed,
    /// none disappeared and the overall verdict stayed.
    pub fn record(
        &mut self,
        image: &str,
        decision: &Decision,
        now: SystemTime,
    ) -> Option<CloudEvent> {
        self.checks += 1;
        let mut current: BTreeMap<String, (bool, String)> = BTreeMap::new();
        for policy in decision.policies().iter().filter(|p| p.matched) {
            current.insert(
                policy.name.clone(),
                (policy.passed, diagnostic(decision, policy)),
            );
        }
        if current.is_empty() {
            let lines: Vec<&str> = decision
                .errors()
                .iter()
                .chain(decision.warnings())
                .map(String::as_str)
                .collect();
            current.insert(
                NO_MATCH_POLICY.to_owned(),
                (decision.allowed(), lines.join("\n")),
            );
        }
        let state = self.images.entry(image.to_owned()).or_default();
        if state.policies.contains_key(VERIFICATION_POLICY) {
            current.insert(VERIFICATION_POLICY.to_owned(), (true, String::new()));
        }
        let removed = state.policies.keys().any(|k| !current.contains_key(k));
        let previous = std::mem::take(&mut state.policies);
        let mut changes = Map::new();
        let mut changed = removed;
        for (name, (valid, diagnostic)) in current {
            let change = change(previous.get(&name).map(|p| p.valid), valid);
            changed |= !change.is_empty();
            let policy = PolicyState {
                valid,
                diagnostic,
                last_checked: now,
            };
            changes.insert(name.clone(), policy_json(&policy, change));
            state.policies.insert(name, policy);
        }
        let allowed = Some(decision.allowed());
        changed |= state.allowed != allowed;
        state.allowed = allowed;
        let last_seen = state.seen.map(|s| s.last);
        changed
            .then(|| CloudEvent::validation_changed(&self.cluster, image, last_seen, changes, now))
    }

    /// Records that `image` could not be checked at `now` (registry error, timeout): invalid
    /// under [`VERIFICATION_POLICY`] with `message` as the diagnostic, and the image not
    /// allowed. The other policies keep their last results and times. Returns the drift event
    /// when this changed anything.
    pub fn record_error(
        &mut self,
        image: &str,
        message: &str,
        now: SystemTime,
    ) -> Option<CloudEvent> {
        self.checks += 1;
        self.check_errors += 1;
        let state = self.images.entry(image.to_owned()).or_default();
        let before = state
            .policies
            .get(VERIFICATION_POLICY)
            .map(|p| (p.valid, p.diagnostic.clone()));
        let verification = PolicyState {
            valid: false,
            diagnostic: message.to_owned(),
            last_checked: now,
        };
        let mut changed = state.allowed != Some(false);
        state.allowed = Some(false);
        let mut changes = Map::new();
        for (name, policy) in &state.policies {
            if name != VERIFICATION_POLICY {
                changes.insert(name.clone(), policy_json(policy, ""));
            }
        }
        let change = change(before.as_ref().map(|b| b.0), false);
        changed |= !change.is_empty();
        changes.insert(
            VERIFICATION_POLICY.to_owned(),
            policy_json(&verification, change),
        );
        state
            .policies
            .insert(VERIFICATION_POLICY.to_owned(), verification);
        let last_seen = state.seen.map(|s| s.last);
        changed
            .then(|| CloudEvent::validation_changed(&self.cluster, image, last_seen, changes, now))
    }

    /// Checks recorded so far (results and errors).
    pub fn checks(&self) -> u64 {
        self.checks
    }

    /// Checks that failed to run ([`Tracker::record_error`]).
    pub fn check_errors(&self) -> u64 {
        self.check_errors
    }

    /// The images in the latest inventory, and those checked but never in an inventory.
    pub fn current_images(&self) -> impl Iterator<Item = &str> {
        self.images
            .iter()
            .filter(|(_, s)| s.seen.is_none_or(|seen| seen.running))
            .map(|(image, _)| image.as_str())
    }

    /// Every image ever seen or checked, failing first (not allowed, then unchecked, then
    /// allowed; by name within each):
    ///
    /// ```json
    /// {"cluster": "…", "images": [{"image": "repo@sha256:…", "allowed": false,
    ///   "running": true, "first_seen": "…", "last_seen": "…",
    ///   "policies": [{"name": "…", "valid": false, "diagnostic": "…", "last_checked": "…"}],
    ///   "workloads": [{"namespace": "…", "kind": "…", "name": "…", "running": true,
    ///     "first_seen": "…", "last_seen": "…"}]}]}
    /// ```
    ///
    /// Within an image, invalid policies come first. Times are RFC 3339 UTC, `null` when the
    /// image never was in an inventory; `allowed` is `null` for an image never checked.
    pub fn report(&self) -> Value {
        let mut images: Vec<(&String, &ImageState)> = self.images.iter().collect();
        images.sort_by_key(|(image, state)| (rank(state.allowed), image.as_str()));
        let images: Vec<Value> = images
            .into_iter()
            .map(|(image, state)| {
                let mut policies: Vec<(&String, &PolicyState)> = state.policies.iter().collect();
                policies.sort_by_key(|(name, p)| (p.valid, name.as_str()));
                let policies: Vec<Value> = policies
                    .into_iter()
                    .map(|(name, p)| {
                        json!({
                            "name": name,
                            "valid": p.valid,
                            "diagnostic": p.diagnostic,
                            "last_checked": rfc3339(p.last_checked),
                        })
                    })
                    .collect();
                let workloads: Vec<Value> = state
                    .workloads
                    .iter()
                    .map(|(w, seen)| {
                        json!({
                            "namespace": w.namespace,
                            "kind": w.kind,
                            "name": w.name,
                            "running": seen.running,
                            "first_seen": rfc3339(seen.first),
                            "last_seen": rfc3339(seen.last),
                        })
                    })
                    .collect();
                json!({
                    "image": image,
                    "allowed": state.allowed,
                    "running": state.seen.is_some_and(|s| s.running),
                    "first_seen": state.seen.map(|s| rfc3339(s.first)),
                    "last_seen": state.seen.map(|s| rfc3339(s.last)),
                    "policies": policies,
                    "workloads": workloads,
                })
            })
            .collect();
        json!({ "cluster": self.cluster, "images": images })
    }
}

/// Sort rank of an overall verdict: failing, unchecked, passing.
fn rank(allowed: Option<bool>) -> u8 {
    match allowed {
        Some(false) => 0,
        None => 1,
        Some(true) => 2,
    }
}

/// The change of one policy from `before` to `valid` (FORMATS §3.4).
fn change(before: Option<bool>, valid: bool) -> &'static str {
    match (before, valid) {
        (None, _) => "new",
        (Some(true), false) => "degraded",
        (Some(false), true) => "improved",
        _ => "",
    }
}

fn policy_json(policy: &PolicyState, change: &str) -> Value {
    json!({
        "change": change,
        "diagnostic": policy.diagnostic,
        "last_checked": rfc3339(policy.last_checked),
        "valid": policy.valid,
    })
}

/// The decision's error and warning lines for `policy` (`failed policy: <name>: …`), or, when
/// it failed without one, its authorities' reasons and its policy error.
fn diagnostic(decision: &Decision, policy: &waxseal_policy::PolicyResult) -> String {
    let prefix = format!("failed policy: {}: ", policy.name);
    let lines: Vec<&str> = decision
        .errors()
        .iter()
        .chain(decision.warnings())
        .filter(|l| l.starts_with(&prefix))
        .map(String::as_str)
        .collect();
    if !lines.is_empty() || policy.passed {
        return lines.join("\n");
    }
    let reasons: Vec<&str> = policy
        .authorities
        .iter()
        .filter_map(|a| a.reason.as_deref())
        .chain(policy.policy_error.as_deref())
        .collect();
    reasons.join("\n")
}

/// A human table of a [`Tracker::report`]: one row per image and policy, columns IMAGE, STATE
/// (`pass`/`fail`, `unchecked` for an image never checked), POLICY, LAST CHECKED, WORKLOADS
/// (`namespace/Kind/name`, comma-separated) and DIAGNOSTIC (lines joined with `; `), failing
/// rows first, then by image and policy.
pub fn report_table(report: &Value) -> String {
    let empty = Vec::new();
    let images = report
        .get("images")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut rows: Vec<(u8, [String; 6])> = Vec::new();
    for image in images {
        let name = text(image, "image");
        let workloads: Vec<String> = image
            .get("workloads")
            .and_then(Value::as_array)
            .unwrap_or(&empty)
            .iter()
            .map(|w| {
                format!(
                    "{}/{}/{}",
                    text(w, "namespace"),
                    text(w, "kind"),
                    text(w, "name")
                )
            })
            .collect();
        let workloads = if workloads.is_empty() {
            "-".to_owned()
        } else {
            workloads.join(",")
        };
        let policies = image
            .get("policies")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        if policies.is_empty() {
            rows.push((
                1,
                [
                    name.clone(),
                    "unchecked".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    workloads.clone(),
                    String::new(),
                ],
            ));
        }
        for policy in policies {
            let valid = policy.get("valid").and_then(Value::as_bool) == Some(true);
            rows.push((
                if valid { 2 } else { 0 },
                [
                    name.clone(),
                    if valid { "pass" } else { "fail" }.to_owned(),
                    text(policy, "name"),
                    text(policy, "last_checked"),
                    workloads.clone(),
                    text(policy, "diagnostic").replace('\n', "; "),
                ],
            ));
        }
    }
    rows.sort_by(|a, b| (a.0, &a.1[0], &a.1[2]).cmp(&(b.0, &b.1[0], &b.1[2])));
    let header = [
        "IMAGE",
        "STATE",
        "POLICY",
        "LAST CHECKED",
        "WORKLOADS",
        "DIAGNOSTIC",
    ]
    .map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for (_, row) in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows.iter().map(|(_, r)| r)) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Upper bounds (seconds) of the verification latency histogram's buckets; the last finite
/// one is the 30 s admission budget (FORMATS §3.5).
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram of verification latencies, shared by reference: recording takes `&self`.
#[derive(Debug, Default)]
pub struct Latency {
    /// Non-cumulative counts per bucket of [`LATENCY_BUCKETS`], then one beyond the last.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl Latency {
    /// An empty histogram.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one verification that took `elapsed`.
    pub fn record(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let index = LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(bucket) = self.buckets.get(index) {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// How many verifications were recorded.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Writes a metric's `# HELP` and `# TYPE` lines (writing to a `String` can't fail).
fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a Prometheus label value (`\`, `"` and newline).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Prometheus text exposition (format 0.0.4) of the tracker's state, the cache's counters and
/// the latency histogram:
///
/// - `waxseal_enforce_images{policy,state="pass|fail"}` (gauge): current images (see
///   [`Tracker::current_images`]) by policy and state;
/// - `waxseal_enforce_checks_total`, `waxseal_enforce_check_errors_total` (counters);
/// - `waxseal_enforce_verification_seconds` (histogram);
/// - `waxseal_enforce_cache_hits_total`, `waxseal_enforce_cache_misses_total`,
///   `waxseal_enforce_cache_evictions_total` (counters), `waxseal_enforce_cache_entries`
///   (gauge).
pub fn render_prometheus(tracker: &Tracker, cache: &CacheStats, latency: &Latency) -> String {
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for image in tracker.current_images() {
        if let Some(state) = tracker.images.get(image) {
            for (name, policy) in &state.policies {
                let state = if policy.valid { "pass" } else { "fail" };
                *counts.entry((name.as_str(), state)).or_default() += 1;
            }
        }
    }
    let mut out = String::new();
    header(
        &mut out,
        "waxseal_enforce_images",
        "gauge",
        "Running images by policy and state.",
    );
    for ((policy, state), n) in &counts {
        let _ = writeln!(
            out,
            "waxseal_enforce_images{{policy=\"{}\",state=\"{state}\"}} {n}",
            label(policy)
        );
    }
    let counter = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
        header(out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    };
    counter(
        &mut out,
        "waxseal_enforce_checks_total",
        "counter",
        "Image checks recorded.",
        tracker.checks,
    );
    counter(
        &mut out,
        "waxseal_enforce_check_errors_total",
        "counter",
        "Image checks that failed to run.",
        tracker.check_errors,
    );
    let name = "waxseal_enforce_verification_seconds";
    header(&mut out, name, "histogram", "Time to verify an image.");
    let mut cumulative = 0;
    for (le, bucket) in LATENCY_BUCKETS.iter().zip(&latency.buckets) {
        cumulative += bucket.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
    }
    if let Some(last) = latency.buckets.last() {
        cumulative += last.load(Ordering::Relaxed);
    }
    let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
    let sum = Duration::from_nanos(latency.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
    let _ = writeln!(out, "{name}_sum {sum}");
    let _ = writeln!(out, "{name}_count {}", latency.count());
    counter(
        &mut out,
        "waxseal_enforce_cache_hits_total",
        "counter",
        "Cache lookups answered without computing.",
        cache.hits,
    );
    counter(
        &mut out,
        "waxseal_enforce_cache_misses_total",
        "counter",
        "Cache lookups that computed.",
        cache.misses,
    );
    counter(
        &mut out,
        "waxseal_enforce_cache_evictions_total",
        "counter",
        "Cache entries evicted to stay within capacity.",
        cache.evictions,
    );
    counter(
        &mut out,
        "waxseal_enforce_cache_entries",
        "gauge",
        "Cache entries held.",
        cache.entries,
    );
    out
}
