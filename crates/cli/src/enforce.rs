//! `waxseal enforce serve|watch|manifests|report`: the admission webhook over HTTPS, continuous
//! verification of what runs, the manifests that install the webhook, and the report.
//!
//! The decisions are `waxseal-enforce`'s ([`Gate`], [`Tracker`]) over [`ImageChecker`], which
//! fetches from registries and verifies with `waxseal-verify`; this module serves HTTP, reads
//! the inventory and emits events.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use waxseal_enforce::admission::Request;
use waxseal_enforce::gate::{Gate, GateConfig};
use waxseal_enforce::inventory::{Running, parse_image_list, parse_pod_list};
use waxseal_enforce::watch::Tracker;

use crate::enforce_check::{CheckArgs, ImageChecker, reload_loop};
use crate::enforce_kube::KubeInventory;
use crate::policy::Output;

/// `waxseal enforce`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum EnforceCommand {
    /// Run the admission webhook over HTTPS: `POST /validate` (AdmissionReview v1: every image
    /// of pods and workloads verified against the policies), `POST /mutate` (tags pinned to
    /// digests), `/healthz`, `/metrics`, `/report`.
    Serve(Box<ServeArgs>),
    /// Re-verify every image that runs, on an interval and at once when policies, trusted
    /// roots or the inventory change; drift as CloudEvents (JSON Lines on stdout, and to
    /// --event-url).
    Watch(Box<WatchArgs>),
    /// Print the Kubernetes manifests that install the webhook (Namespace, TLS Secret,
    /// policies ConfigMap, Deployment, Service, the two webhook configurations).
    Manifests(Box<crate::enforce_manifests::ManifestsArgs>),
    /// Print a running watcher's report (`GET /report`) as a table.
    Report(ReportArgs),
}

/// Continuous verification options (shared by `serve --inventory` and `watch`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WatchOptions {
    /// What runs: `kubernetes` (the pods of the cluster's API server, listed at every pass
    /// and watched), a file in the shape of `kubectl get pods -A -o json` (re-read when it
    /// changes), or a file of image references, one per line (a file named `kubernetes`:
    /// `./kubernetes`).
    #[arg(long)]
    pub(crate) inventory: Option<PathBuf>,
    /// With `--inventory kubernetes`: this kubeconfig (default: the pod's service account in a
    /// cluster, else `$KUBECONFIG` or `~/.kube/config`).
    #[arg(long)]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// With `--inventory kubernetes`: this kubeconfig context instead of the current one.
    #[arg(long)]
    pub(crate) kube_context: Option<String>,
    /// How often everything is re-verified (also at once on a change of policies, roots or
    /// inventory).
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    pub(crate) interval: Duration,
    /// POST every drift event (CloudEvents structured JSON) to this URL too.
    #[arg(long)]
    pub(crate) event_url: Option<String>,
    /// The cluster name in the events' `source` (`k8s://<cluster>`).
    #[arg(long, default_value = "default")]
    pub(crate) cluster: String,
    /// Images verified at a time.
    #[arg(long, default_value_t = 16)]
    pub(crate) concurrency: usize,
}

/// `waxseal enforce serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    check: CheckArgs,
    /// The webhook's TLS certificate chain (PEM), valid for the Service's DNS name.
    #[arg(long)]
    tls_cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long)]
    tls_key: PathBuf,
    /// The address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// Every review is answered within this time; what cannot be decided by then is denied
    /// (below the API server's webhook timeout).
    #[arg(long, default_value = "8s", value_parser = humantime::parse_duration)]
    deadline: Duration,
    #[command(flatten)]
    watch: WatchOptions,
}

/// `waxseal enforce watch`.
#[derive(Debug, clap::Args)]
pub(crate) struct WatchArgs {
    #[command(flatten)]
    check: CheckArgs,
    #[command(flatten)]
    watch: WatchOptions,
    /// Serve `/report` and `/metrics` over plain HTTP on this address (e.g. 127.0.0.1:9090).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// One pass, then print the report and exit (0 every image passes, 1 some fail).
    #[arg(long)]
    once: bool,
}

/// `waxseal enforce report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// The watcher's report URL, e.g. `http://127.0.0.1:9090/report`, or a file holding a
    /// report.
    source: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: Output,
}

/// What the HTTP handlers share.
struct AppState {
    gate: Gate<ImageChecker>,
    checker: Arc<ImageChecker>,
    tracker: Arc<Mutex<Tracker>>,
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")
}

/// Runs a `waxseal enforce` command.
pub(crate) fn run(command: &EnforceCommand) -> Result<ExitCode> {
    match command {
        EnforceCommand::Serve(args) => serve(args).map(|()| ExitCode::SUCCESS),
        EnforceCommand::Watch(args) => watch(args),
        EnforceCommand::Manifests(args) => {
            crate::enforce_manifests::run(args).map(|()| ExitCode::SUCCESS)
        }
        EnforceCommand::Report(args) => report(args),
    }
}

fn serve(args: &ServeArgs) -> Result<()> {
    let tls = crate::enforce_tls::server_config(&args.tls_cert, &args.tls_key)?;
    let checker = Arc::new(ImageChecker::new(&args.check)?);
    let tracker = Arc::new(Mutex::new(Tracker::new(&args.watch.cluster)));
    let state = Arc::new(AppState {
        gate: Gate::new(
            checker.clone(),
            GateConfig::default().with_deadline(args.deadline),
        ),
        checker: checker.clone(),
        tracker: tracker.clone(),
    });
    let router = Router::new()
        .route("/validate", post(validate))
        .route("/mutate", post(mutate))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .route("/report", get(report_json))
        .layer(axum::extract::DefaultBodyLimit::max(8 << 20))
        .with_state(state);
    runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("couldn't listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!("waxseal enforce: admission webhook on https://{addr}");
        let (wake_tx, wake_rx) = tokio::sync::watch::channel(());
        tokio::spawn(reload_loop(checker.clone(), move || {
            let _ = wake_tx.send(());
        }));
        if let Some(inventory) = InventorySource::from_options(&args.watch).await? {
            let options = args.watch.clone();
            let (checker, tracker) = (checker.clone(), tracker.clone());
            tokio::spawn(async move {
                if let Err(e) =
                    watch_loop(checker, tracker, inventory, options, wake_rx, false).await
                {
                    tracing::error!("the watcher stopped: {e:#}");
                }
            });
        }
        crate::enforce_tls::serve(listener, tls, router).await
    })
}

/// `POST /validate`.
async fn validate(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    review(&state, &body, false).await
}

/// `POST /mutate`.
async fn mutate(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    review(&state, &body, true).await
}

async fn review(state: &AppState, body: &[u8], mutate: bool) -> Response {
    let request = match Request::parse(body) {
        Ok(request) => request,
        // Never an allow: the API server treats a non-200 as a webhook failure, and the
        // webhook configuration's failurePolicy is Fail.
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("bad AdmissionReview: {e}\n"),
            )
                .into_response();
        }
    };
    let response = if mutate {
        state.gate.mutate(&request).await
    } else {
        state.gate.validate(&request).await
    };
    if !mutate && !request.dry_run {
        tracing::info!(
            uid = request.uid,
            namespace = request.namespace.as_deref().unwrap_or(""),
            name = request.name.as_deref().unwrap_or(""),
            allowed = response.allowed,
            "admission"
        );
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        response.to_review_json(&request.api_version),
    )
        .into_response()
}

/// `GET /metrics`.
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    metrics_text(&state.checker, &state.tracker).into_response()
}

fn metrics_text(checker: &ImageChecker, tracker: &Mutex<Tracker>) -> String {
    let stats = checker.cache.stats();
    let tracker = tracker.lock().unwrap_or_else(|p| p.into_inner());
    waxseal_enforce::watch::render_prometheus(&tracker, &stats, &checker.latency)
}

/// `GET /report`.
async fn report_json(State(state): State<Arc<AppState>>) -> Response {
    report_response(&state.tracker)
}

/// The tracker's report as a JSON response.
fn report_response(tracker: &Mutex<Tracker>) -> Response {
    let report = tracker.lock().unwrap_or_else(|p| p.into_inner()).report();
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string_pretty(&report).unwrap_or_default(),
    )
        .into_response()
}

/// Where the inventory comes from (`--inventory`).
#[derive(Debug)]
enum InventorySource {
    /// A pod list or image list file.
    File(PathBuf),
    /// The cluster's API server.
    Kubernetes(Box<KubeInventory>),
}

impl InventorySource {
    /// The source `--inventory` names, connected; `None` without one.
    async fn from_options(options: &WatchOptions) -> Result<Option<Self>> {
        let Some(inventory) = &options.inventory else {
            return Ok(None);
        };
        if inventory.as_os_str() != "kubernetes" {
            return Ok(Some(Self::File(inventory.clone())));
        }
        let kube = KubeInventory::connect(
            options.kubeconfig.as_deref(),
            options.kube_context.as_deref(),
        )
        .await?;
        Ok(Some(Self::Kubernetes(Box::new(kube))))
    }
}

/// How long the watcher waits after the cluster's pods changed before its pass, so that a
/// rollout of many pods makes one pass.
const POD_CHANGE_DEBOUNCE: Duration = Duration::from_secs(1);

/// How long the watcher waits for its watch of the cluster's pods to sync before the first
/// pass.
const KUBE_SYNC_WAIT: Duration = Duration::from_secs(10);

/// Waits for the next change `changes` reports; never returns without a watch.
async fn pods_changed(changes: &mut Option<tokio::sync::watch::Receiver<u64>>) {
    if let Some(changes) = changes
        && changes.changed().await.is_ok()
    {
        return;
    }
    std::future::pending().await
}

/// Reads the inventory file.
fn read_inventory(path: &Path) -> Result<Vec<Running>> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("couldn't read inventory {}", path.display()))?;
    let looks_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    if looks_json {
        return parse_pod_list(&bytes)
            .with_context(|| format!("inventory {} is not a pod list", path.display()));
    }
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("inventory {} is not UTF-8", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("inventory");
    parse_image_list(text, name).with_context(|| {
        format!(
            "inventory {} is not a list of image references",
            path.display()
        )
    })
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// One verification pass over the inventory: every distinct image (pinned by the digest the
/// node reports, else resolved now) verified afresh; drift events printed (with `print`) and
/// posted.
pub(crate) async fn pass(
    checker: &Arc<ImageChecker>,
    tracker: &Arc<Mutex<Tracker>>,
    running: &[Running],
    options: &WatchOptions,
    http: &reqwest::Client,
    print: bool,
) {
    let now = SystemTime::now();
    tracker
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .observe_inventory(running, now);
    let mut images: Vec<(String, Option<String>)> = running
        .iter()
        .map(|r| (r.image.clone(), r.digest_ref.clone()))
        .collect();
    images.sort();
    images.dedup();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(options.concurrency.max(1)));
    let mut tasks = Vec::with_capacity(images.len());
    for (image, digest_ref) in images {
        let (checker, semaphore) = (checker.clone(), semaphore.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let pinned = match digest_ref {
                Some(pinned) => Ok(pinned),
                None => checker.pin(&image).await.map_err(|e| format!("{e:#}")),
            };
            let result = match &pinned {
                Ok(pinned) => checker.decide(pinned).await,
                Err(e) => Err(e.clone()),
            };
            (pinned.unwrap_or(image), result)
        }));
    }
    let mut events = Vec::new();
    for task in tasks {
        let Ok((image, result)) = task.await else {
            continue;
        };
        let now = SystemTime::now();
        let mut tracker = tracker.lock().unwrap_or_else(|p| p.into_inner());
        let event = match &result {
            Ok(decision) => tracker.record(&image, decision, now),
            Err(e) => tracker.record_error(&image, e, now),
        };
        events.extend(event);
    }
    for event in events {
        let line = event.to_json_line();
        if print {
            println!("{line}");
        }
        if let Some(url) = &options.event_url {
            let sent = http
                .post(url)
                .header(header::CONTENT_TYPE, "application/cloudevents+json")
                .body(line)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status);
            if let Err(e) = sent {
                tracing::warn!("couldn't post the event to {url}: {e}");
            }
        }
    }
}

/// Re-verifies on the interval, and at once when `wake` fires (a reload), the inventory file
/// changes or the cluster's pods do. With `once`, one pass.
async fn watch_loop(
    checker: Arc<ImageChecker>,
    tracker: Arc<Mutex<Tracker>>,
    inventory: InventorySource,
    options: WatchOptions,
    mut wake: tokio::sync::watch::Receiver<()>,
    once: bool,
) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .context("couldn't set up the event client")?;
    let mut last_stamp = None;
    let mut running = Vec::new();
    let mut pod_changes = match &inventory {
        InventorySource::Kubernetes(kube) if !once => Some(kube.changes()),
        _ => None,
    };
    if let Some(changes) = &mut pod_changes {
        // Let the watch sync first: a pod created after it listed is then an event, and its
        // first listing is not a change.
        let _ = tokio::time::timeout(KUBE_SYNC_WAIT, changes.changed()).await;
    }
    loop {
        match &inventory {
            InventorySource::File(path) => {
                let stamp = file_stamp(path);
                if stamp != last_stamp || running.is_empty() {
                    match read_inventory(path) {
                        Ok(read) => running = read,
                        Err(e) if once => return Err(e),
                        Err(e) => tracing::error!("{e:#}"),
                    }
                    last_stamp = stamp;
                }
            }
            InventorySource::Kubernetes(kube) => {
                if let Some(changes) = &mut pod_changes {
                    changes.borrow_and_update();
                }
                match kube.list().await {
                    Ok(listed) => running = listed,
                    Err(e) if once => return Err(e),
                    Err(e) => tracing::error!("{e:#}"),
                }
            }
        }
        pass(&checker, &tracker, &running, &options, &http, true).await;
        if once {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + options.interval;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => break,
                changed = wake.changed() => {
                    if changed.is_err() {
                        // The reload loop is gone: keep to the interval.
                        tokio::time::sleep_until(deadline).await;
                    }
                    break;
                }
                () = tokio::time::sleep(Duration::from_millis(500)) => {
                    if let InventorySource::File(path) = &inventory
                        && file_stamp(path) != last_stamp
                    {
                        break;
                    }
                }
                () = pods_changed(&mut pod_changes) => {
                    tokio::time::sleep(POD_CHANGE_DEBOUNCE).await;
                    break;
                }
            }
        }
    }
}

fn watch(args: &WatchArgs) -> Result<ExitCode> {
    if args.watch.inventory.is_none() {
        bail!(
            "give --inventory kubernetes or --inventory FILE: a `kubectl get pods -A -o json` \
             file or a list of images"
        );
    }
    let checker = Arc::new(ImageChecker::new(&args.check)?);
    let tracker = Arc::new(Mutex::new(Tracker::new(&args.watch.cluster)));
    runtime()?.block_on(async {
        let Some(inventory) = InventorySource::from_options(&args.watch).await? else {
            bail!("no --inventory");
        };
        let (wake_tx, wake_rx) = tokio::sync::watch::channel(());
        if args.once {
            watch_loop(
                checker.clone(),
                tracker.clone(),
                inventory,
                args.watch.clone(),
                wake_rx,
                true,
            )
            .await?;
            let report = tracker.lock().unwrap_or_else(|p| p.into_inner()).report();
            eprint!("{}", waxseal_enforce::watch::report_table(&report));
            let failing = report["images"]
                .as_array()
                .is_some_and(|images| images.iter().any(|i| i["allowed"] == false));
            return Ok(if failing {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        tokio::spawn(reload_loop(checker.clone(), move || {
            let _ = wake_tx.send(());
        }));
        if let Some(listen) = args.listen {
            let state = Arc::new(ReportState {
                checker: checker.clone(),
                tracker: tracker.clone(),
            });
            let router =
                Router::new()
                    .route(
                        "/report",
                        get(|State(s): State<Arc<ReportState>>| async move {
                            report_response(&s.tracker)
                        }),
                    )
                    .route(
                        "/metrics",
                        get(|State(s): State<Arc<ReportState>>| async move {
                            metrics_text(&s.checker, &s.tracker)
                        }),
                    )
                    .with_state(state);
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("couldn't listen on {listen}"))?;
            eprintln!(
                "waxseal enforce watch: report on http://{}/report",
                listener.local_addr()?
            );
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!("the report server stopped: {e}");
                }
            });
        }
        watch_loop(
            checker,
            tracker,
            inventory,
            args.watch.clone(),
            wake_rx,
            false,
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

struct ReportState {
    checker: Arc<ImageChecker>,
    tracker: Arc<Mutex<Tracker>>,
}

fn report(args: &ReportArgs) -> Result<ExitCode> {
    let text = if args.source.starts_with("http://") || args.source.starts_with("https://") {
        runtime()?.block_on(async {
            let response = reqwest::get(&args.source)
                .await
                .and_then(reqwest::Response::error_for_status)
                .with_context(|| format!("couldn't GET {}", args.source))?;
            response.text().await.context("couldn't read the report")
        })?
    } else {
        std::fs::read_to_string(&args.source)
            .with_context(|| format!("couldn't read {}", args.source))?
    };
    let report: serde_json::Value =
        serde_json::from_str(&text).context("the report is not JSON")?;
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        Output::Text => print!("{}", waxseal_enforce::watch::report_table(&report)),
    }
    Ok(ExitCode::SUCCESS)
}
