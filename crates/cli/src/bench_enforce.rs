//! `waxseal bench enforce`: the admission webhook's latency and throughput over HTTPS, cold
//! (every image new: registry, verification, policies) and warm (decisions cached), and one
//! continuous-verification pass over a large inventory, cold and again.
//!
//! Setup: `--images` distinct images pushed and signed keyless (as `bench image` does), a
//! ClusterImagePolicy requiring that signature, and `waxseal enforce serve` started as a child
//! process on loopback with the given TLS certificate. Then:
//!
//! 1. webhook, cold: each review is a Deployment with three images never seen before;
//! 2. webhook, warm: reviews of Deployments whose three images were decided already;
//! 3. watch: one pass over `--pods` pods running the `--images` images (in process, the code
//!    `enforce watch` runs), then a second pass: wall time and registry requests.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use serde_json::{Value, json};

use crate::bench_image::{BENCH_IDENTITY, sign_images};
use crate::enforce::{WatchOptions, pass};
use crate::enforce_check::{CheckArgs, ImageChecker};
use crate::image::{self, RegistryArgs};
use crate::policy::NoMatchArg;

/// Arguments of `waxseal bench enforce`.
#[derive(Debug, clap::Args)]
pub(crate) struct EnforceArgs {
    /// The scratch registry to push the images to, `host:port`.
    #[arg(long)]
    registry: String,
    /// The instance's data directory (tokens minted with its issuer, its trust config).
    #[arg(long)]
    data_dir: PathBuf,
    /// The webhook's TLS certificate (PEM, valid for 127.0.0.1).
    #[arg(long)]
    tls_cert: PathBuf,
    /// Its key.
    #[arg(long)]
    tls_key: PathBuf,
    /// The CA that issued it (what the client trusts).
    #[arg(long)]
    ca_cert: PathBuf,
    /// Distinct signed images.
    #[arg(long, default_value_t = 1000)]
    images: usize,
    /// Pods in the watch inventory.
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    /// Warm reviews to send.
    #[arg(long, default_value_t = 2000)]
    warm_reviews: usize,
    /// Reviews in flight at a time.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Latencies {
    reviews: usize,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    images: usize,
    cold: Latencies,
    warm: Latencies,
    watch_pods: usize,
    watch_images: usize,
    watch_cold_seconds: f64,
    watch_cold_requests: u64,
    watch_second_seconds: f64,
    watch_second_requests: u64,
}

fn deployment(images: &[String]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({ "name": format!("c{i}"), "image": image }))
        .collect();
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "bench",
            "kind": { "group": "apps", "version": "v1", "kind": "Deployment" },
            "resource": { "group": "apps", "version": "v1", "resource": "deployments" },
            "namespace": "bench",
            "name": "web",
            "operation": "CREATE",
            "userInfo": { "username": "bench" },
            "object": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": { "name": "web", "namespace": "bench" },
                "spec": {
                    "selector": { "matchLabels": { "app": "web" } },
                    "template": {
                        "metadata": { "labels": { "app": "web" } },
                        "spec": { "containers": containers },
                    },
                },
            },
            "dryRun": false,
        },
    })
}

/// Sends every review (`concurrency` at a time) and times each; every answer must be an
/// allow.
async fn send_all(
    client: &reqwest::Client,
    url: &str,
    reviews: Vec<Vec<u8>>,
    concurrency: usize,
) -> Result<Latencies> {
    let count = reviews.len();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for body in reviews {
        let permit = semaphore.clone().acquire_owned().await?;
        let (client, url) = (client.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let sent = Instant::now();
            let response = client
                .post(&url)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await?
                .error_for_status()?;
            let review: Value = response.json().await?;
            anyhow::ensure!(
                review["response"]["allowed"] == true,
                "a review was denied: {}",
                review["response"]["status"]["message"]
            );
            anyhow::Ok(sent.elapsed())
        }));
    }
    let mut times = Vec::with_capacity(count);
    for task in tasks {
        times.push(task.await.context("a review task panicked")??);
    }
    let total = start.elapsed().as_secs_f64();
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    Ok(Latencies {
        reviews: count,
        per_second: count as f64 / total,
        p50_ms: ms(times[count / 2]),
        p99_ms: ms(times[(count * 99 / 100).min(count - 1)]),
        max_ms: ms(times[count - 1]),
    })
}

/// Runs `waxseal bench enforce`.
pub(crate) fn run(args: &EnforceArgs) -> Result<()> {
    if args.images < 6 || args.pods == 0 {
        bail!("--images must be at least 6 and --pods at least 1");
    }
    let registry_args = RegistryArgs::default();
    let registry = registry_args.client()?;
    let runtime = image::runtime()?;
    let signed = sign_images(
        &runtime,
        &registry,
        &args.data_dir,
        &args.registry,
        "bench/enforce",
        args.images,
        16,
    )?;
    let refs: Vec<String> = signed
        .images
        .iter()
        .map(|(digest, _)| format!("{}@{digest}", signed.repo))
        .collect();
    let work = tempfile::tempdir().context("couldn't make a temporary directory")?;
    let policy = work.path().join("policy.yaml");
    std::fs::write(
        &policy,
        format!(
            "apiVersion: policy.sigstore.dev/v1beta1\nkind: ClusterImagePolicy\nmetadata:\n  name: bench\n\
             spec:\n  images:\n  - glob: \"{}/**\"\n  authorities:\n  - name: bench\n    keyless:\n      \
             identities:\n      - issuer: \"{}\"\n        subject: \"{BENCH_IDENTITY}\"\n",
            args.registry, signed.issuer
        ),
    )
    .context("couldn't write the policy")?;

    // The webhook, as a child process.
    let exe = std::env::current_exe().context("couldn't find the waxseal binary")?;
    let mut child = std::process::Command::new(exe)
        .args(["enforce", "serve", "--listen", "127.0.0.1:0", "--policy"])
        .arg(&policy)
        .arg("--trust-config")
        .arg(&signed.trust_path)
        .arg("--tls-cert")
        .arg(&args.tls_cert)
        .arg("--tls-key")
        .arg(&args.tls_key)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("couldn't start waxseal enforce serve")?;
    let webhook = {
        use std::io::BufRead as _;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .context("enforce serve printed nothing")?;
        line.split("https://")
            .nth(1)
            .map(|a| format!("https://{}/validate", a.trim()))
            .with_context(|| format!("enforce serve printed {line:?}"))?
    };
    let result = runtime.block_on(async {
        let ca = std::fs::read(&args.ca_cert)
            .with_context(|| format!("couldn't read {}", args.ca_cert.display()))?;
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
            .build()?;
        // Cold: three new images per Deployment; half the images.
        let cold_images = &refs[..refs.len() / 2];
        let cold: Vec<Vec<u8>> = cold_images
            .chunks_exact(3)
            .map(|three| serde_json::to_vec(&deployment(three)))
            .collect::<Result<_, _>>()?;
        let cold = send_all(&client, &webhook, cold, args.concurrency).await?;
        // Warm: the same Deployments again, round robin.
        let decided: Vec<&[String]> = cold_images.chunks_exact(3).collect();
        let warm: Vec<Vec<u8>> = (0..args.warm_reviews)
            .map(|i| serde_json::to_vec(&deployment(decided[i % decided.len()])))
            .collect::<Result<_, _>>()?;
        let warm = send_all(&client, &webhook, warm, args.concurrency).await?;
        anyhow::Ok((cold, warm))
    });
    let _ = child.kill();
    let _ = child.wait();
    let (cold, warm) = result?;

    // Watch: one pass over the pods, then another, in process.
    let check = CheckArgs {
        policy: vec![policy.clone()],
        trusted_root: None,
        trust_config: Some(signed.trust_path.clone()),
        trust_root: Vec::new(),
        no_match_policy: NoMatchArg::Deny,
        cache_allow_ttl: Duration::from_secs(300),
        cache_deny_ttl: Duration::from_secs(10),
        cache_capacity: 10_000,
        insecure_ignore_tlog: false,
        registry: registry_args,
    };
    let checker = Arc::new(ImageChecker::new(&check)?);
    let items: Vec<Value> = (0..args.pods)
        .map(|i| {
            let image = &refs[i % refs.len()];
            json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": { "name": format!("pod-{i}"), "namespace": "bench" },
                "spec": { "containers": [{ "name": "app", "image": image }] },
                "status": { "containerStatuses": [{ "name": "app", "image": image, "imageID": image }] },
            })
        })
        .collect();
    let list = serde_json::to_vec(&json!({ "apiVersion": "v1", "kind": "List", "items": items }))?;
    let running = waxseal_enforce::inventory::parse_pod_list(&list)?;
    let options = WatchOptions {
        inventory: None,
        kubeconfig: None,
        kube_context: None,
        interval: Duration::from_secs(3600),
        event_url: None,
        cluster: "bench".to_owned(),
        concurrency: 16,
    };
    let tracker = Arc::new(Mutex::new(waxseal_enforce::watch::Tracker::new("bench")));
    let http = reqwest::Client::new();
    let (watch_cold_seconds, watch_cold_requests, watch_second_seconds, watch_second_requests) =
        runtime.block_on(async {
            let before = checker.registry_requests();
            let start = Instant::now();
            pass(&checker, &tracker, &running, &options, &http, false).await;
            let cold = (
                start.elapsed().as_secs_f64(),
                checker.registry_requests() - before,
            );
            let before = checker.registry_requests();
            let start = Instant::now();
            pass(&checker, &tracker, &running, &options, &http, false).await;
            let second = (
                start.elapsed().as_secs_f64(),
                checker.registry_requests() - before,
            );
            (cold.0, cold.1, second.0, second.1)
        });
    let report_value = tracker.lock().unwrap_or_else(|p| p.into_inner()).report();
    let failing = report_value["images"].as_array().map_or(0, |images| {
        images.iter().filter(|i| i["allowed"] != true).count()
    });
    if failing > 0 {
        bail!("{failing} images failed the policy in the watch pass");
    }
    let report = Report {
        images: args.images,
        cold,
        warm,
        watch_pods: args.pods,
        watch_images: refs.len(),
        watch_cold_seconds,
        watch_cold_requests,
        watch_second_seconds,
        watch_second_requests,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for (name, l) in [("cold", &report.cold), ("warm", &report.warm)] {
            println!(
                "webhook {name}: {} reviews (Deployment, 3 images), {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                l.reviews, l.per_second, l.p50_ms, l.p99_ms, l.max_ms
            );
        }
        println!(
            "watch: {} pods, {} images: first pass {:.2} s ({} registry requests), second pass {:.2} s ({} requests)",
            report.watch_pods,
            report.watch_images,
            report.watch_cold_seconds,
            report.watch_cold_requests,
            report.watch_second_seconds,
            report.watch_second_requests
        );
    }
    Ok(())
}
