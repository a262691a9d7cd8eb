//! Continuous verification state: drift events, history, report, metrics.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use waxseal_enforce::cache::{Cache, CacheConfig, CacheKey, CacheStats};
use waxseal_enforce::events::CloudEvent;
use waxseal_enforce::inventory::{Running, Workload};
use waxseal_enforce::watch::{Latency, Tracker, render_prometheus, report_table};
use waxseal_policy::{Decision, Facts, NoMatch, Options, PolicySet, Source};

const APP: &str =
    "registry.local/app@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DB: &str =
    "registry.local/db@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const OTHER: &str =
    "elsewhere.example/x@sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

/// 2026-12-02T00:00:00Z plus `secs`.
fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_796_169_600 + secs)
}

/// A static policy named `name` over `registry.local/**` that passes or fails.
fn cip(name: &str, pass: bool) -> String {
    let authority = if pass {
        "{action: pass}".to_owned()
    } else {
        format!("{{action: fail, message: '{name} says no'}}")
    };
    format!(
        "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata: {{name: {name}}}\n\
         spec:\n  images: [{{glob: 'registry.local/**'}}]\n  authorities:\n  - static: {authority}\n"
    )
}

/// The decision for `image` under the policies `(name, passes)`.
fn decide(image: &str, policies: &[(&str, bool)]) -> Decision {
    let texts: Vec<String> = policies.iter().map(|(n, p)| cip(n, *p)).collect();
    let sources: Vec<Source> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Source::new(format!("cip{i}.yaml"), t.clone()))
        .collect();
    let set = PolicySet::load(&sources).unwrap();
    set.evaluate(
        image,
        &Facts::new(vec![], vec![]),
        &Options::new(at(0)).with_no_match(NoMatch::Deny),
    )
}

fn changes(event: &CloudEvent) -> Vec<(String, String, bool)> {
    event.data()["policies"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                p["change"].as_str().unwrap().to_owned(),
                p["valid"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn c(name: &str, change: &str, valid: bool) -> (String, String, bool) {
    (name.to_owned(), change.to_owned(), valid)
}

fn running(image: &str, workload: &Workload) -> Running {
    Running {
        image: image.to_owned(),
        digest_ref: Some(image.to_owned()),
        workload: workload.clone(),
        pod: format!("{}-pod", workload.name),
        container: "main".to_owned(),
        field: "spec.containers[0].image".to_owned(),
    }
}

#[test]
fn drift_sequence_emits_new_degraded_improved_then_nothing() {
    let mut tracker = Tracker::new("prod");
    let steps: &[(&str, bool, Option<&str>)] = &[
        ("first check", true, Some("new")),
        ("starts failing", false, Some("degraded")),
        ("passes again", true, Some("improved")),
        ("unchanged", true, None),
    ];
    for (i, (name, pass, want)) in steps.iter().enumerate() {
        let secs = u64::try_from(i).unwrap() * 10;
        let event = tracker.record(APP, &decide(APP, &[("release", *pass)]), at(secs));
        match (want, event) {
            (None, None) => {}
            (Some(change), Some(event)) => {
                assert_eq!(changes(&event), [c("release", change, *pass)], "{name}");
                let diagnostic = event.data()["policies"]["release"]["diagnostic"]
                    .as_str()
                    .unwrap();
                if *pass {
                    assert_eq!(diagnostic, "", "{name}");
                } else {
                    assert_eq!(
                        diagnostic,
                        "failed policy: release: disallowed by static policy: release says no",
                        "{name}"
                    );
                }
                assert_eq!(event.time(), events_time(secs), "{name}");
            }
            (want, got) => panic!("{name}: want {want:?}, got {got:?}"),
        }
    }
    assert_eq!(tracker.checks(), 4);
}

fn events_time(secs: u64) -> String {
    format!("2026-12-02T00:00:{secs:02}Z")
}

#[test]
fn a_new_policy_is_new_and_the_others_unchanged() {
    let mut tracker = Tracker::new("prod");
    tracker
        .record(APP, &decide(APP, &[("a", true)]), at(0))
        .unwrap();
    let event = tracker
        .record(APP, &decide(APP, &[("a", true), ("b", false)]), at(10))
        .expect("b is new");
    assert_eq!(changes(&event), [c("a", "", true), c("b", "new", false)]);
    // Dropping b changes the verdict back: an event, a unchanged.
    let event = tracker
        .record(APP, &decide(APP, &[("a", true)]), at(20))
        .unwrap();
    assert_eq!(changes(&event), [c("a", "", true)]);
}

#[test]
fn unmatched_images_are_recorded_under_no_match() {
    let mut tracker = Tracker::new("prod");
    let event = tracker
        .record(OTHER, &decide(OTHER, &[("a", true)]), at(0))
        .unwrap();
    assert_eq!(changes(&event), [c("waxseal:no-match", "new", false)]);
    assert_eq!(
        event.data()["policies"]["waxseal:no-match"]["diagnostic"],
        format!("no matching policies: {OTHER}")
    );
}

#[test]
fn check_errors_are_invalid_under_verification_and_recover() {
    let mut tracker = Tracker::new("prod");
    tracker
        .record(APP, &decide(APP, &[("a", true)]), at(0))
        .unwrap();
    let event = tracker
        .record_error(APP, "registry.local: 503 Service Unavailable", at(10))
        .expect("failing to check is a change");
    assert_eq!(
        changes(&event),
        [c("a", "", true), c("waxseal:verification", "new", false)]
    );
    assert_eq!(
        event.data()["policies"]["waxseal:verification"]["diagnostic"],
        "registry.local: 503 Service Unavailable"
    );
    assert_eq!(
        event.data()["policies"]["a"]["last_checked"],
        "2026-12-02T00:00:00Z",
        "the last real check's time is kept"
    );
    assert!(
        tracker
            .record_error(APP, "registry.local: 503 Service Unavailable", at(20))
            .is_none()
    );
    let event = tracker
        .record(APP, &decide(APP, &[("a", true)]), at(30))
        .unwrap();
    assert_eq!(
        changes(&event),
        [
            c("a", "", true),
            c("waxseal:verification", "improved", true)
        ]
    );
    assert_eq!((tracker.checks(), tracker.check_errors()), (4, 2));
}

#[test]
fn event_json_has_the_cloudevents_and_chainguard_keys() {
    let mut tracker = Tracker::new("prod-eu");
    let web = Workload::new("shop", "Deployment", "web");
    tracker.observe_inventory(&[running(APP, &web)], at(5));
    let event = tracker
        .record(APP, &decide(APP, &[("a", false)]), at(7))
        .unwrap();
    let line = event.to_json_line();
    assert!(!line.contains('\n'));
    let mut value: Value = serde_json::from_str(&line).unwrap();
    let id = value["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    value["id"] = json!("ID");
    assert_eq!(
        value,
        json!({
            "specversion": "1.0",
            "id": "ID",
            "source": "k8s://prod-eu",
            "type": "dev.chainguard.policy.validation.changed.v1",
            "subject": APP,
            "time": "2026-12-02T00:00:07Z",
            "datacontenttype": "application/json",
            "data": {
                "cluster_id": "prod-eu",
                "image_id": APP,
                "last_seen": "2026-12-02T00:00:05Z",
                "policies": {
                    "a": {
                        "change": "new",
                        "diagnostic": "failed policy: a: disallowed by static policy: a says no",
                        "last_checked": "2026-12-02T00:00:07Z",
                        "valid": false,
                    }
                }
            }
        })
    );
    let again = tracker
        .record(APP, &decide(APP, &[("a", true)]), at(7))
        .unwrap();
    assert_ne!(again.id(), id, "ids are unique even at the same instant");
}

#[test]
fn admission_event_shape() {
    let web = Workload::new("shop", "Deployment", "web");
    let event = CloudEvent::admission("prod", APP, &web, false, "validation failed: x", at(1));
    let mut value = event.to_json();
    value["id"] = json!("ID");
    assert_eq!(
        value,
        json!({
            "specversion": "1.0",
            "id": "ID",
            "source": "k8s://prod",
            "type": "dev.chainguard.admission.v1",
            "subject": APP,
            "time": "2026-12-02T00:00:01Z",
            "datacontenttype": "application/json",
            "data": {
                "image": APP,
                "namespace": "shop",
                "workload": "Deployment/web",
                "allowed": false,
                "message": "validation failed: x",
            }
        })
    );
}

#[test]
fn keeps_history_of_images_that_stopped_running() {
    let mut tracker = Tracker::new("prod");
    let web = Workload::new("shop", "Deployment", "web");
    let db = Workload::new("shop", "StatefulSet", "db");
    tracker.observe_inventory(&[running(APP, &web), running(DB, &db)], at(0));
    tracker.observe_inventory(&[running(APP, &web), running(DB, &db)], at(10));
    tracker.observe_inventory(&[running(APP, &web)], at(20));
    let report = tracker.report();
    let db_row = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == DB)
        .expect("db is kept after it stopped");
    assert_eq!(
        *db_row,
        json!({
            "image": DB,
            "allowed": null,
            "running": false,
            "first_seen": "2026-12-02T00:00:00Z",
            "last_seen": "2026-12-02T00:00:10Z",
            "policies": [],
            "workloads": [{
                "namespace": "shop", "kind": "StatefulSet", "name": "db", "running": false,
                "first_seen": "2026-12-02T00:00:00Z", "last_seen": "2026-12-02T00:00:10Z",
            }],
        })
    );
    let app_row = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["image"] == APP)
        .unwrap();
    assert_eq!(app_row["last_seen"], "2026-12-02T00:00:20Z");
    assert_eq!(app_row["running"], true);
    assert_eq!(tracker.current_images().collect::<Vec<_>>(), [APP]);
}

#[test]
fn report_lists_failing_first_then_unchecked_then_passing() {
    let mut tracker = Tracker::new("prod");
    let web = Workload::new("shop", "Deployment", "web");
    tracker.observe_inventory(
        &[running(APP, &web), running(DB, &web), running(OTHER, &web)],
        at(0),
    );
    tracker.record(APP, &decide(APP, &[("a", true), ("b", true)]), at(1));
    tracker.record(DB, &decide(DB, &[("a", true), ("b", false)]), at(2));
    let report = tracker.report();
    let order: Vec<(&str, &Value)> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["image"].as_str().unwrap(), &i["allowed"]))
        .collect();
    assert_eq!(
        order,
        [
            (DB, &json!(false)),
            (OTHER, &Value::Null),
            (APP, &json!(true))
        ]
    );
    let db_policies: Vec<&str> = report["images"][0]["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(db_policies, ["b", "a"], "invalid policies first");

    let table = report_table(&report);
    let want = format!(
        "IMAGE{p1}  STATE      POLICY  LAST CHECKED          WORKLOADS            DIAGNOSTIC\n\
         {DB}  fail       b       2026-12-02T00:00:02Z  shop/Deployment/web  failed policy: b: disallowed by static policy: b says no\n\
         {OTHER}  unchecked  -       -                     shop/Deployment/web\n\
         {APP}  pass       a       2026-12-02T00:00:01Z  shop/Deployment/web\n\
         {APP}  pass       b       2026-12-02T00:00:01Z  shop/Deployment/web\n\
         {DB}  pass       a       2026-12-02T00:00:02Z  shop/Deployment/web\n",
        p1 = " ".repeat(OTHER.len() - 5),
    );
    let want = want.replace(
        &format!("{DB}  "),
        &format!("{DB}{}  ", " ".repeat(OTHER.len() - DB.len())),
    );
    let want = want.replace(
        &format!("{APP}  "),
        &format!("{APP}{}  ", " ".repeat(OTHER.len() - APP.len())),
    );
    assert_eq!(table, want, "\n{table}");
}

/// Counters of a cache of capacity 1 after a miss, a hit, and a miss evicting the first.
async fn cache_stats() -> CacheStats {
    let cache = Cache::<u32>::new(CacheConfig::default().with_capacity(1));
    for image in ["a", "a", "b"] {
        cache
            .get_or_insert_with(CacheKey::new(image, "p", "r"), || async { (1, true) })
            .await;
    }
    cache.stats()
}

#[tokio::test]
async fn renders_prometheus_exposition() {
    let mut tracker = Tracker::new("prod");
    let web = Workload::new("shop", "Deployment", "web");
    let db = Workload::new("shop", "StatefulSet", "db");
    tracker.observe_inventory(&[running(APP, &web), running(DB, &db)], at(0));
    tracker.record(APP, &decide(APP, &[("a", true), ("b", false)]), at(1));
    tracker.record(DB, &decide(DB, &[("a", true), ("b", true)]), at(1));
    tracker.record_error(DB, "timeout", at(2));
    // An image no longer running doesn't count in the gauge.
    tracker.record(OTHER, &decide(OTHER, &[("a", true)]), at(1));
    tracker.observe_inventory(
        &[running(APP, &web), running(DB, &db), running(OTHER, &db)],
        at(3),
    );
    tracker.observe_inventory(&[running(APP, &web), running(DB, &db)], at(4));
    let latency = Latency::new();
    for ms in [3, 40, 40, 700, 45_000] {
        latency.record(Duration::from_millis(ms));
    }
    let stats = cache_stats().await;
    let got = render_prometheus(&tracker, &stats, &latency);
    let want = r#"# HELP waxseal_enforce_images Running images by policy and state.
# TYPE waxseal_enforce_images gauge
waxseal_enforce_images{policy="a",state="pass"} 2
waxseal_enforce_images{policy="b",state="fail"} 1
waxseal_enforce_images{policy="b",state="pass"} 1
waxseal_enforce_images{policy="waxseal:verification",state="fail"} 1
# HELP waxseal_enforce_checks_total Image checks recorded.
# TYPE waxseal_enforce_checks_total counter
waxseal_enforce_checks_total 4
# HELP waxseal_enforce_check_errors_total Image checks that failed to run.
# TYPE waxseal_enforce_check_errors_total counter
waxseal_enforce_check_errors_total 1
# HELP waxseal_enforce_verification_seconds Time to verify an image.
# TYPE waxseal_enforce_verification_seconds histogram
waxseal_enforce_verification_seconds_bucket{le="0.005"} 1
waxseal_enforce_verification_seconds_bucket{le="0.01"} 1
waxseal_enforce_verification_seconds_bucket{le="0.025"} 1
waxseal_enforce_verification_seconds_bucket{le="0.05"} 3
waxseal_enforce_verification_seconds_bucket{le="0.1"} 3
waxseal_enforce_verification_seconds_bucket{le="0.25"} 3
waxseal_enforce_verification_seconds_bucket{le="0.5"} 3
waxseal_enforce_verification_seconds_bucket{le="1"} 4
waxseal_enforce_verification_seconds_bucket{le="2.5"} 4
waxseal_enforce_verification_seconds_bucket{le="5"} 4
waxseal_enforce_verification_seconds_bucket{le="10"} 4
waxseal_enforce_verification_seconds_bucket{le="30"} 4
waxseal_enforce_verification_seconds_bucket{le="+Inf"} 5
waxseal_enforce_verification_seconds_sum 45.783
waxseal_enforce_verification_seconds_count 5
# HELP waxseal_enforce_cache_hits_total Cache lookups answered without computing.
# TYPE waxseal_enforce_cache_hits_total counter
waxseal_enforce_cache_hits_total 1
# HELP waxseal_enforce_cache_misses_total Cache lookups that computed.
# TYPE waxseal_enforce_cache_misses_total counter
waxseal_enforce_cache_misses_total 2
# HELP waxseal_enforce_cache_evictions_total Cache entries evicted to stay within capacity.
# TYPE waxseal_enforce_cache_evictions_total counter
waxseal_enforce_cache_evictions_total 1
# HELP waxseal_enforce_cache_entries Cache entries held.
# TYPE waxseal_enforce_cache_entries gauge
waxseal_enforce_cache_entries 1
"#;
    assert_eq!(got, want, "\n{got}");
}
