//! `waxseal enforce watch --inventory kubernetes` against a fake API server: `GET
//! /api/v1/pods` answered as the real one answers it (a `PodList` paged with `limit` and
//! `continue`; with `watch=true`, a stream of JSON lines from `resourceVersion` on, ending
//! after `timeoutSeconds`, with a bookmark when `allowWatchBookmarks` asks for them), behind a
//! kubeconfig with a token user.
//!
//! The policy matches none of the images and `--no-match-policy allow` decides them, so no
//! registry is involved: the events show what the watcher saw.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::support::Lines;

/// The fake API server's pods and watch history.
struct Cluster {
    /// Every pod, as a watch event carries it (with `apiVersion` and `kind`).
    pods: Vec<Value>,
    /// The resource version of the newest change.
    version: u64,
    /// Every change: its resource version and its watch event.
    history: Vec<(u64, Value)>,
}

/// What the handlers share and the test looks at.
struct Fake {
    cluster: Mutex<Cluster>,
    events: broadcast::Sender<(u64, Value)>,
    /// At most this many pods per page, whatever `limit` asks.
    page_size: usize,
    /// Every watch ends after this long at most, whatever `timeoutSeconds` asks.
    max_watch: Mutex<Duration>,
    /// Whether the next list with a `continue` token gets 410 Gone (the token expired).
    expire_next: std::sync::atomic::AtomicBool,
    /// Lists asked with a `continue` token.
    continued: AtomicUsize,
    /// Watches opened.
    watches: AtomicUsize,
    /// The `Authorization` headers seen.
    authorizations: Mutex<Vec<String>>,
}

impl Fake {
    fn new(page_size: usize, pods: Vec<Value>) -> Arc<Self> {
        let fake = Arc::new(Self {
            cluster: Mutex::new(Cluster {
                pods: Vec::new(),
                version: 100,
                history: Vec::new(),
            }),
            events: broadcast::channel(64).0,
            page_size,
            max_watch: Mutex::new(Duration::from_secs(1800)),
            expire_next: std::sync::atomic::AtomicBool::new(false),
            continued: AtomicUsize::new(0),
            watches: AtomicUsize::new(0),
            authorizations: Mutex::new(Vec::new()),
        });
        for pod in pods {
            fake.add(pod);
        }
        fake
    }

    /// Creates `pod`: a new resource version, an `ADDED` event to every watch.
    fn add(&self, mut pod: Value) {
        let mut cluster = self.cluster.lock().unwrap();
        cluster.version += 1;
        let version = cluster.version;
        pod["metadata"]["resourceVersion"] = json!(version.to_string());
        let event = json!({ "type": "ADDED", "object": pod });
        cluster.pods.push(pod);
        cluster.history.push((version, event.clone()));
        let _ = self.events.send((version, event));
    }
}

/// A pod `name` in `namespace` running `image` (a tag) as `repo@sha256:<hex>`.
fn pod(namespace: &str, name: &str, image: &str, hex: char) -> (Value, String) {
    let repo = image.split(':').next().unwrap();
    let digest_ref = format!("{repo}@sha256:{}", hex.to_string().repeat(64));
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": format!("uid-{namespace}-{name}"),
            "labels": { "app": name },
        },
        "spec": {
            "containers": [{ "name": "main", "image": image }],
        },
        "status": {
            "phase": "Running",
            "containerStatuses": [{
                "name": "main",
                "image": image,
                "imageID": digest_ref,
                "ready": true,
                "restartCount": 0,
                "started": true,
            }],
        },
    });
    (pod, digest_ref)
}

/// `GET /api/v1/pods`: a list, or a watch with `watch=true`.
async fn pods(
    State(fake): State<Arc<Fake>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let auth = auth.to_str().unwrap_or_default().to_owned();
        fake.authorizations.lock().unwrap().push(auth);
    }
    let flag = |name: &str| query.get(name).is_some_and(|v| v == "true" || v == "1");
    if flag("watch") {
        return watch(&fake, &query, flag("allowWatchBookmarks"));
    }
    let cluster = fake.cluster.lock().unwrap();
    let start = match query.get("continue") {
        Some(token) => {
            fake.continued.fetch_add(1, Ordering::SeqCst);
            if fake.expire_next.swap(false, Ordering::SeqCst) {
                let status = json!({
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Failure",
                    "message": "The provided continue parameter is too old to display a consistent list result.",
                    "reason": "Expired",
                    "code": 410,
                });
                return (StatusCode::GONE, axum::Json(status)).into_response();
            }
            match token.parse::<usize>() {
                Ok(start) => start,
                Err(_) => return (StatusCode::BAD_REQUEST, "bad continue token").into_response(),
            }
        }
        None => 0,
    };
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|&l| l > 0)
        .unwrap_or(usize::MAX)
        .min(fake.page_size);
    let end = start.saturating_add(limit).min(cluster.pods.len());
    // List items carry neither apiVersion nor kind.
    let items: Vec<Value> = cluster.pods[start.min(end)..end]
        .iter()
        .map(|p| {
            let mut p = p.clone();
            let object = p.as_object_mut().unwrap();
            object.remove("apiVersion");
            object.remove("kind");
            p
        })
        .collect();
    let mut metadata = json!({ "resourceVersion": cluster.version.to_string() });
    if end < cluster.pods.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(cluster.pods.len() - end);
    }
    axum::Json(json!({
        "apiVersion": "v1",
        "kind": "PodList",
        "metadata": metadata,
        "items": items,
    }))
    .into_response()
}

/// A watch: the changes after `resourceVersion` (every pod as `ADDED` when it is absent or
/// `0`), then each new one, one JSON object a line, until `timeoutSeconds`.
fn watch(fake: &Arc<Fake>, query: &HashMap<String, String>, bookmarks: bool) -> Response {
    fake.watches.fetch_add(1, Ordering::SeqCst);
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let timeout = Duration::from_secs(timeout).min(*fake.max_watch.lock().unwrap());
    let deadline = tokio::time::Instant::now() + timeout;
    let since = query
        .get("resourceVersion")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let cluster = fake.cluster.lock().unwrap();
    let mut backlog: VecDeque<Value> = if since == 0 {
        cluster
            .pods
            .iter()
            .map(|p| json!({ "type": "ADDED", "object": p }))
            .collect()
    } else {
        cluster
            .history
            .iter()
            .filter(|(v, _)| *v > since)
            .map(|(_, e)| e.clone())
            .collect()
    };
    if bookmarks {
        backlog.push_back(json!({
            "type": "BOOKMARK",
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": { "resourceVersion": cluster.version.to_string() },
            },
        }));
    }
    let receiver = fake.events.subscribe();
    let last = cluster.version;
    drop(cluster);
    let stream = futures_util::stream::unfold(
        (receiver, backlog, last),
        move |(mut receiver, mut backlog, last)| async move {
            loop {
                if let Some(event) = backlog.pop_front() {
                    let line = Bytes::from(format!("{event}\n"));
                    return Some((Ok::<_, std::io::Error>(line), (receiver, backlog, last)));
                }
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => return None,
                    received = receiver.recv() => match received {
                        Ok((version, event)) if version > last => backlog.push_back(event),
                        Ok(_) => {}
                        Err(_) => return None,
                    },
                }
            }
        },
    );
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

/// The fake API server on a port of 127.0.0.1, a kubeconfig for it and a policy matching
/// nothing, in a temporary directory.
struct World {
    fake: Arc<Fake>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    policy: PathBuf,
    _rt: tokio::runtime::Runtime,
}

impl World {
    fn new(fake: Arc<Fake>) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/api/v1/pods", get(pods))
            .with_state(fake.clone());
        rt.spawn(async move { axum::serve(listener, router).await });
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: http://{addr}
contexts:
- name: fake
  context:
    cluster: fake
    user: tester
    namespace: default
current-context: fake
users:
- name: tester
  user:
    token: fake-token
"
            ),
        )
        .unwrap();
        let policy = dir.path().join("policy.yaml");
        std::fs::write(
            &policy,
            "apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: nothing
spec:
  images:
  - glob: \"nothing.invalid/**\"
  authorities:
  - static:
      action: pass
",
        )
        .unwrap();
        Self {
            fake,
            dir,
            kubeconfig,
            policy,
            _rt: rt,
        }
    }

    /// `waxseal enforce watch --inventory kubernetes` on the fake, plus `extra`.
    fn args(&self, extra: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = [
            "enforce",
            "watch",
            "--inventory",
            "kubernetes",
            "--kubeconfig",
            path(&self.kubeconfig),
            "--policy",
            path(&self.policy),
            "--no-match-policy",
            "allow",
            "--cluster",
            "fake",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args
    }

    fn command(&self, args: &[String]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_waxseal"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("KUBECONFIG")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("DOCKER_CONFIG", self.dir.path().join("no-docker-config"))
            .env("RUST_LOG", "warn");
        command
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The subject of `line` when it is a drift event in which some policy is `new`.
fn new_subject(line: &str) -> Option<String> {
    let event: Value = serde_json::from_str(line).ok()?;
    if event["type"] != "dev.chainguard.policy.validation.changed.v1" {
        return None;
    }
    let policies = event["data"]["policies"].as_object()?;
    if !policies.values().any(|p| p["change"] == "new") {
        return None;
    }
    assert_eq!(event["source"], "k8s://fake");
    event["subject"].as_str().map(str::to_owned)
}

/// Waits up to `timeout` until a `new` event has been seen for every one of `subjects`.
fn wait_new(watcher: &Lines, timeout: Duration, subjects: &[&str]) {
    let end = Instant::now() + timeout;
    let mut missing: Vec<&str> = subjects.to_vec();
    while !missing.is_empty() {
        let Some(line) = watcher.next_before(end) else {
            break;
        };
        if let Some(subject) = new_subject(&line) {
            missing.retain(|s| *s != subject);
        }
    }
    assert!(
        missing.is_empty(),
        "no new event within {timeout:?} for {missing:?}"
    );
}

/// The first pass reports every listed pod's image; a pod added later is reported through
/// the watch within seconds, not at the hour's interval.
#[test]
fn watch_lists_the_cluster_and_follows_its_pods() {
    let (web, web_ref) = pod("shop", "web-1", "registry.example/shop/web:v1", 'a');
    let (db, db_ref) = pod("shop", "db-0", "registry.example/shop/db:v2", 'b');
    let w = World::new(Fake::new(500, vec![web, db]));
    let watcher = Lines::spawn(w.command(&w.args(&["--interval", "1h"])));
    wait_new(&watcher, Duration::from_secs(60), &[&web_ref, &db_ref]);

    // Wait for the watch to be open and the pass its first listing may cause to be over, so
    // the new pod comes only through an ADDED event.
    let end = Instant::now() + Duration::from_secs(30);
    while w.fake.watches.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < end, "the watcher never opened a watch");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(3));
    let (cache, cache_ref) = pod("infra", "cache-7", "registry.example/infra/cache:7", 'c');
    let added = Instant::now();
    w.fake.add(cache);
    wait_new(&watcher, Duration::from_secs(20), &[&cache_ref]);
    eprintln!("the added pod was reported after {:?}", added.elapsed());
    let authorizations = w.fake.authorizations.lock().unwrap();
    assert!(!authorizations.is_empty());
    assert!(authorizations.iter().all(|a| a == "Bearer fake-token"));
}

/// The API server ends every watch after two seconds: the watcher watches again from where
/// it was, and a pod added after a few such ends is still reported within seconds.
#[test]
fn the_watch_resumes_when_the_server_ends_it() {
    let (web, web_ref) = pod("shop", "web-1", "registry.example/shop/web:v1", 'a');
    let fake = Fake::new(500, vec![web]);
    *fake.max_watch.lock().unwrap() = Duration::from_secs(2);
    let w = World::new(fake);
    let watcher = Lines::spawn(w.command(&w.args(&["--interval", "1h"])));
    wait_new(&watcher, Duration::from_secs(60), &[&web_ref]);
    let end = Instant::now() + Duration::from_secs(60);
    while w.fake.watches.load(Ordering::SeqCst) < 3 {
        assert!(Instant::now() < end, "the watcher did not watch again");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (job, job_ref) = pod("batch", "job-1", "registry.example/batch/job:3", 'e');
    w.fake.add(job);
    wait_new(&watcher, Duration::from_secs(20), &[&job_ref]);
}

/// `list` follows `continue` tokens to the last page: with one pod a page, `--once` still
/// reports all three.
#[test]
fn list_follows_continue_tokens() {
    let pods: Vec<(Value, String)> = [('d', "a"), ('e', "b"), ('f', "c")]
        .iter()
        .map(|(hex, name)| {
            pod(
                "paged",
                name,
                &format!("registry.example/paged/{name}:1"),
                *hex,
            )
        })
        .collect();
    let refs: Vec<String> = pods.iter().map(|(_, r)| r.clone()).collect();
    let w = World::new(Fake::new(1, pods.into_iter().map(|(p, _)| p).collect()));
    let out = w.command(&w.args(&["--once"])).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut subjects: Vec<String> = stdout.lines().filter_map(new_subject).collect();
    subjects.sort();
    assert_eq!(subjects, refs);
    assert_eq!(w.fake.continued.load(Ordering::SeqCst), 2);
    assert_eq!(w.fake.watches.load(Ordering::SeqCst), 0);
}

/// An expired `continue` token (410 Gone) makes `list` start over: still every pod, once.
#[test]
fn an_expired_continue_token_lists_again() {
    let pods: Vec<(Value, String)> = [('d', "a"), ('e', "b")]
        .iter()
        .map(|(hex, name)| {
            pod(
                "paged",
                name,
                &format!("registry.example/paged/{name}:1"),
                *hex,
            )
        })
        .collect();
    let refs: Vec<String> = pods.iter().map(|(_, r)| r.clone()).collect();
    let w = World::new(Fake::new(1, pods.into_iter().map(|(p, _)| p).collect()));
    w.fake.expire_next.store(true, Ordering::SeqCst);
    let out = w.command(&w.args(&["--once"])).output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut subjects: Vec<String> = stdout.lines().filter_map(new_subject).collect();
    subjects.sort();
    assert_eq!(subjects, refs);
    // The expired one, then the second page again.
    assert_eq!(w.fake.continued.load(Ordering::SeqCst), 2);
}

/// A kubeconfig naming an unreachable server fails `--once` with the server in the message.
#[test]
fn an_unreachable_api_server_is_an_error() {
    let w = World::new(Fake::new(500, Vec::new()));
    let kubeconfig = w.dir.path().join("unreachable");
    let text = std::fs::read_to_string(&w.kubeconfig).unwrap();
    let text = text
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("server:") {
                "    server: http://127.0.0.1:9".to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&kubeconfig, text).unwrap();
    let mut args = w.args(&["--once"]);
    let at = args.iter().position(|a| a == "--kubeconfig").unwrap();
    args[at + 1] = path(&kubeconfig).to_owned();
    let out = w.command(&args).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("127.0.0.1:9"), "stderr: {stderr}");
}

/// `--kube-context` picks a context of the kubeconfig; one it lacks is an error.
#[test]
fn kube_context_selects_a_context() {
    let (web, web_ref) = pod("shop", "web-1", "registry.example/shop/web:v1", 'a');
    let w = World::new(Fake::new(500, vec![web]));
    let out = w
        .command(&w.args(&["--once", "--kube-context", "fake"]))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let subjects: Vec<String> = stdout.lines().filter_map(new_subject).collect();
    assert_eq!(subjects, [web_ref]);
    let out = w
        .command(&w.args(&["--once", "--kube-context", "elsewhere"]))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("kubeconfig"), "stderr: {stderr}");
}
