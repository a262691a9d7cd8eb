//! CloudEvents 1.0 (JSON event format, cloudevents/spec `cloudevents/formats/json-format.md`)
//! in the shapes Chainguard Enforce emits (FORMATS §3.4): `dev.chainguard.policy.validation
//! .changed.v1` when a running image's verdict changes, and `dev.chainguard.admission.v1` for
//! an admission decision.
//!
//! This module builds events; it does not send them. The caller writes
//! [`CloudEvent::to_json_line`] to a file or posts it to a sink.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{Map, Value, json};
use waxseal_oci::Digest;

use crate::inventory::Workload;

/// `type` of the event sent when a running image's policy results change.
pub const POLICY_VALIDATION_CHANGED: &str = "dev.chainguard.policy.validation.changed.v1";

/// `type` of the event sent for an admission decision.
pub const ADMISSION: &str = "dev.chainguard.admission.v1";

/// Distinguishes events made in one process at the same instant for the same subject.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// One CloudEvent, JSON format, `datacontenttype` `application/json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloudEvent {
    specversion: &'static str,
    id: String,
    source: String,
    #[serde(rename = "type")]
    kind: &'static str,
    subject: String,
    time: String,
    datacontenttype: &'static str,
    data: Value,
}

impl CloudEvent {
    /// An event of type `kind` from cluster `cluster` about `subject`, made at `now`.
    ///
    /// The id is the hex SHA-256 of the type, subject, time in nanoseconds and a process-wide
    /// counter, so two events of one process never share it.
    fn new(kind: &'static str, cluster: &str, subject: &str, now: SystemTime, data: Value) -> Self {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let id = Digest::of(format!("{kind}\n{subject}\n{nanos}\n{count}").as_bytes()).hex();
        Self {
            specversion: "1.0",
            id,
            source: format!("k8s://{cluster}"),
            kind,
            subject: subject.to_owned(),
            time: rfc3339(now),
            datacontenttype: "application/json",
            data,
        }
    }

    /// A `dev.chainguard.policy.validation.changed.v1` event; `data` is
    /// `{cluster_id, image_id, last_seen, policies}`.
    pub(crate) fn validation_changed(
        cluster: &str,
        image: &str,
        last_seen: Option<SystemTime>,
        policies: Map<String, Value>,
        now: SystemTime,
    ) -> Self {
        let data = json!({
            "cluster_id": cluster,
            "image_id": image,
            "last_seen": last_seen.map(rfc3339),
            "policies": policies,
        });
        Self::new(POLICY_VALIDATION_CHANGED, cluster, image, now, data)
    }

    /// A `dev.chainguard.admission.v1` event for the webhook's decision on `image` in
    /// `workload`; `data` is `{image, namespace, workload: "<Kind>/<name>", allowed, message}`
    /// and the subject is the image.
    pub fn admission(
        cluster: &str,
        image: &str,
        workload: &Workload,
        allowed: bool,
        message: &str,
        now: SystemTime,
    ) -> Self {
        let data = json!({
            "image": image,
            "namespace": workload.namespace,
            "workload": format!("{}/{}", workload.kind, workload.name),
            "allowed": allowed,
            "message": message,
        });
        Self::new(ADMISSION, cluster, image, now, data)
    }

    /// The event's unique id (hex).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `k8s://<cluster>`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The event type ([`POLICY_VALIDATION_CHANGED`] or [`ADMISSION`]).
    pub fn kind(&self) -> &str {
        self.kind
    }

    /// The image the event is about.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// When the event was made, RFC 3339 UTC.
    pub fn time(&self) -> &str {
        &self.time
    }

    /// The event's `data`.
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// The event as a JSON value.
    pub fn to_json(&self) -> Value {
        // Serializing plain strings, bools and a `Value` can't fail; fall back to null all the
        // same rather than panic.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The event as one line of JSON (no trailing newline), for JSON Lines output.
    pub fn to_json_line(&self) -> String {
        self.to_json().to_string()
    }
}

/// `time` as RFC 3339 UTC to the second (`2026-12-02T00:13:47Z`); times before 1970 are
/// written as the epoch.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant, `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_rfc3339() {
        const CASES: &[(&str, u64, &str)] = &[
            ("epoch", 0, "1970-01-01T00:00:00Z"),
            ("leap day", 951_782_400, "2000-02-29T00:00:00Z"),
            ("end of 1999", 946_684_799, "1999-12-31T23:59:59Z"),
            ("2026", 1_796_170_427, "2026-12-02T00:13:47Z"),
        ];
        for (name, secs, want) in CASES {
            let got = rfc3339(UNIX_EPOCH + Duration::from_secs(*secs));
            assert_eq!(got, *want, "{name}");
        }
    }
}
