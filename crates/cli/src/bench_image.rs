//! `waxseal bench image`: verifying images in a registry, against verifying the same bundles
//! in process without it, measured in the same run.
//!
//! Setup: `--images` distinct images (a unique config blob each, one shared layer) are pushed
//! to the registry and signed keyless on the instance in cosign v3's format (referrer bundle
//! plus the fallback tag). Then:
//!
//! 1. registry: every image verified by digest as `waxseal verify IMAGE` does it (referrers
//!    API, fallback tag and `.sig` tag at once, the referrer manifest, the bundle, full
//!    verification), `--concurrency` images at a time, on one client; verifications per
//!    second and HTTP requests per image;
//! 2. baselines: the registry's own rate of plain manifest GETs at the same concurrency (the
//!    ceiling the request count implies), and the same bundles, already in memory, verified in process with the same
//!    verifier and policy (`verify_image_signature`), on as many threads as the machine has;
//! 3. cold process: `waxseal verify IMAGE` as a fresh process (`--cold-runs` times), wall time
//!    median and p90.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use waxseal_client::{Client, Content, Credential, IdentityToken, Instance};
use waxseal_oci::{Descriptor, Digest, Kind, Reference, media_type};
use waxseal_registry::Client as Registry;
use waxseal_verify::{Identity, ImageSignature, Matcher, Policy, Verifier, VerifyOptions};

use crate::image::{self, RegistryArgs};

/// Arguments of `waxseal bench image`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImageArgs {
    /// The registry to push the test images to, `host:port` (a scratch registry: the run
    /// pushes `--images` images to `bench/images`).
    #[arg(long)]
    registry: String,
    /// The instance's data directory (tokens are minted with its built-in issuer, the trust
    /// config read from `trust/client_trust_config.json`).
    #[arg(long)]
    data_dir: PathBuf,
    /// Distinct signed images.
    #[arg(long, default_value_t = 1000)]
    images: usize,
    /// Images verified at a time.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Cold `waxseal verify IMAGE` processes to time.
    #[arg(long, default_value_t = 20)]
    cold_runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    registry_args: RegistryArgs,
}

#[derive(Debug, Serialize)]
struct Report {
    images: usize,
    concurrency: usize,
    setup_seconds: f64,
    registry_verifications_per_sec: f64,
    requests_per_image: f64,
    registry_manifest_gets_per_sec: f64,
    in_process_verifications_per_sec: f64,
    registry_over_in_process: f64,
    single_image_requests: u64,
    cold_process_median_ms: f64,
    cold_process_p90_ms: f64,
}

/// Runs `waxseal bench image`.
pub(crate) fn run(args: &ImageArgs) -> Result<()> {
    if args.images == 0 || args.concurrency == 0 {
        bail!("--images and --concurrency must be at least 1");
    }
    let registry = args.registry_args.client()?;
    let runtime = image::runtime()?;
    let setup = Instant::now();
    let signed = sign_images(
        &runtime,
        &registry,
        &args.data_dir,
        &args.registry,
        "bench/images",
        args.images,
        args.concurrency,
    )?;
    let setup_seconds = setup.elapsed().as_secs_f64();
    let Signed {
        trust_path,
        trust,
        issuer,
        repo,
        images,
    } = signed;
    let verifier = Arc::new(Verifier::new(&trust.trusted_root)?);
    let policy = Arc::new(Policy::Identity(Identity::new(
        Matcher::exact(BENCH_IDENTITY),
        Matcher::exact(issuer.clone()),
    )));

    // 1. Through the registry.
    let options =
        VerifyOptions::default().with_tlog(waxseal_verify::TlogRequirement::PromiseOrProof);
    let before = registry.requests();
    let start = Instant::now();
    runtime.block_on(async {
        let mut handles = Vec::new();
        let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
        for (digest, _) in &images {
            let permit = semaphore.clone().acquire_owned().await?;
            let (registry, repo, verifier, policy) = (
                registry.clone(),
                repo.clone(),
                verifier.clone(),
                policy.clone(),
            );
            let digest = *digest;
            handles.push(tokio::spawn(async move {
                let _permit = permit;
                verify_one(&registry, &repo, &digest, &verifier, &policy, &options).await
            }));
        }
        for handle in handles {
            handle.await.context("a verification task panicked")??;
        }
        anyhow::Ok(())
    })?;
    let registry_seconds = start.elapsed().as_secs_f64();
    let requests_per_image = (registry.requests() - before) as f64 / images.len() as f64;

    // The registry's own ceiling: plain manifest GETs (the fallback tag of each image, as many
    // requests as the verifications made), same client and concurrency.
    let raw_requests = (requests_per_image.round() as usize).max(1) * images.len();
    let start = Instant::now();
    runtime.block_on(async {
        let semaphore = Arc::new(tokio::sync::Semaphore::new(args.concurrency));
        let mut handles = Vec::with_capacity(raw_requests);
        for i in 0..raw_requests {
            let permit = semaphore.clone().acquire_owned().await?;
            let tag = repo.with_tag(&waxseal_oci::fallback_tag(&images[i % images.len()].0))?;
            let registry = registry.clone();
            handles.push(tokio::spawn(async move {
                let _permit = permit;
                registry.get_manifest(&tag).await
            }));
        }
        for handle in handles {
            handle.await.context("a request task panicked")??;
        }
        anyhow::Ok(())
    })?;
    let raw_requests_per_sec = raw_requests as f64 / start.elapsed().as_secs_f64();

    // One image alone, on a fresh client: its request count.
    let single = args.registry_args.client()?;
    runtime.block_on(verify_one(
        &single,
        &repo,
        &images[0].0,
        &verifier,
        &policy,
        &options,
    ))?;
    let single_image_requests = single.requests();

    // 2. In process: the same bundles, no registry.
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let start = Instant::now();
    std::thread::scope(|scope| {
        let chunk = images.len().div_ceil(threads);
        let workers: Vec<_> = images
            .chunks(chunk)
            .map(|part| {
                let (verifier, policy) = (&verifier, &policy);
                scope.spawn(move || -> Result<()> {
                    let annotations = std::collections::BTreeMap::new();
                    for (digest, bundle) in part {
                        let candidate = ImageSignature::Referrer {
                            bundle_json: bundle,
                            annotations: &annotations,
                        };
                        verifier.verify_image_signature(digest, candidate, policy, &options)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a verification thread panicked"))??;
        }
        anyhow::Ok(())
    })?;
    let in_process_seconds = start.elapsed().as_secs_f64();

    // 3. Cold processes.
    let exe = std::env::current_exe().context("couldn't find the waxseal binary")?;
    let image_ref = format!("{}/bench/images@{}", args.registry, images[0].0);
    let mut cold = Vec::with_capacity(args.cold_runs);
    for _ in 0..args.cold_runs.max(1) {
        let start = Instant::now();
        let out = std::process::Command::new(&exe)
            .args([
                "verify",
                &image_ref,
                "--certificate-identity",
                "bench@waxseal.test",
            ])
            .arg("--certificate-oidc-issuer")
            .arg(&issuer)
            .arg("--trust-config")
            .arg(&trust_path)
            .output()
            .context("couldn't run waxseal verify")?;
        let elapsed = start.elapsed();
        if !out.status.success() {
            bail!(
                "waxseal verify {image_ref} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        cold.push(elapsed);
    }
    cold.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let registry_rate = images.len() as f64 / registry_seconds;
    let in_process_rate = images.len() as f64 / in_process_seconds;
    let report = Report {
        images: images.len(),
        concurrency: args.concurrency,
        setup_seconds,
        registry_verifications_per_sec: registry_rate,
        requests_per_image,
        registry_manifest_gets_per_sec: raw_requests_per_sec,
        in_process_verifications_per_sec: in_process_rate,
        registry_over_in_process: registry_rate / in_process_rate,
        single_image_requests,
        cold_process_median_ms: ms(cold[cold.len() / 2]),
        cold_process_p90_ms: ms(cold[(cold.len() * 9 / 10).min(cold.len() - 1)]),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "images: {} signed in {:.1} s (setup)",
            report.images, report.setup_seconds
        );
        println!(
            "through the registry: {:.0} verifications/s at concurrency {} ({:.2} HTTP requests per image)",
            report.registry_verifications_per_sec, report.concurrency, report.requests_per_image
        );
        println!(
            "the registry's ceiling: {:.0} plain manifest GETs/s at the same concurrency \
             ({:.0} verifications/s at {:.2} requests each)",
            report.registry_manifest_gets_per_sec,
            report.registry_manifest_gets_per_sec / report.requests_per_image,
            report.requests_per_image
        );
        println!(
            "in process, same bundles: {:.0} verifications/s on {threads} threads",
            report.in_process_verifications_per_sec
        );
        println!(
            "registry / in process: {:.2}",
            report.registry_over_in_process
        );
        println!(
            "one digest-pinned image with one signature: {} HTTP requests",
            report.single_image_requests
        );
        println!(
            "cold `waxseal verify IMAGE`: median {:.1} ms, p90 {:.1} ms",
            report.cold_process_median_ms, report.cold_process_p90_ms
        );
    }
    Ok(())
}

/// The identity the benchmark images are signed as.
pub(crate) const BENCH_IDENTITY: &str = "bench@waxseal.test";

/// Signed benchmark images and what verifies them.
pub(crate) struct Signed {
    /// The instance's `trust/client_trust_config.json`.
    pub(crate) trust_path: PathBuf,
    /// Its contents.
    pub(crate) trust: waxseal_bundle::ClientTrustConfig,
    /// The OIDC issuer of the signing identity ([`BENCH_IDENTITY`]).
    pub(crate) issuer: String,
    /// The repository the images are in.
    pub(crate) repo: Reference,
    /// Each image's digest and bundle.
    pub(crate) images: Vec<(Digest, Vec<u8>)>,
}

/// Pushes `count` distinct images to `registry_host/repo_name` and signs each keyless on the
/// instance of `data_dir` as [`BENCH_IDENTITY`], `concurrency` at a time.
pub(crate) fn sign_images(
    runtime: &tokio::runtime::Runtime,
    registry: &Registry,
    data_dir: &std::path::Path,
    registry_host: &str,
    repo_name: &str,
    count: usize,
    concurrency: usize,
) -> Result<Signed> {
    let trust_path = data_dir.join("trust").join("client_trust_config.json");
    let trust_bytes = std::fs::read(&trust_path)
        .with_context(|| format!("couldn't read {}", trust_path.display()))?;
    let trust = waxseal_bundle::ClientTrustConfig::from_json(&trust_bytes)
        .with_context(|| format!("{} is not a ClientTrustConfig", trust_path.display()))?;
    let token = {
        let dir = crate::datadir::DataDir::open(data_dir)?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .context("the clock is before 1970")?;
        let now = i64::try_from(now.as_secs()).context("the clock is past 2262")?;
        crate::serve::token_issuer(&dir, None)?
            .mint("bench", Some(BENCH_IDENTITY), "sigstore", 3600, now)
            .context("couldn't mint a token")?
    };
    let issuer = IdentityToken::parse(&token)?.issuer().to_owned();
    let repo =
        Reference::parse(&format!("{registry_host}/{repo_name}")).context("bad --registry")?;
    let images = runtime.block_on(async {
        let client = Client::new()?;
        let instance = Instance::new(trust.clone(), SystemTime::now())?;
        let credential = Credential::IdentityToken(IdentityToken::parse(&token)?);
        let layer = b"waxseal bench layer".to_vec();
        let layer_digest = registry.push_blob(&repo, &layer).await?;
        registry
            .push_blob(&repo, waxseal_oci::EMPTY_CONFIG_BYTES)
            .await?;
        let mut out = Vec::with_capacity(count);
        let mut pending = Vec::new();
        for i in 0..count {
            pending.push(push_and_sign(
                registry,
                &client,
                &instance,
                &credential,
                &repo,
                i,
                Descriptor::new(media_type::OCI_LAYER, layer_digest, layer.len() as u64),
            ));
            if pending.len() == concurrency.max(1) || i + 1 == count {
                for result in futures_util::future::join_all(std::mem::take(&mut pending)).await {
                    out.push(result?);
                }
            }
        }
        anyhow::Ok(out)
    })?;
    Ok(Signed {
        trust_path,
        trust,
        issuer,
        repo,
        images,
    })
}

/// Pushes image `i` (a unique config, the shared layer) and signs it as `waxseal sign IMAGE`
/// does. Returns its digest and bundle.
pub(crate) async fn push_and_sign(
    registry: &Registry,
    client: &Client,
    instance: &Instance,
    credential: &Credential,
    repo: &Reference,
    i: usize,
    layer: Descriptor,
) -> Result<(Digest, Vec<u8>)> {
    let config = format!("{{\"architecture\":\"amd64\",\"os\":\"linux\",\"bench\":{i}}}");
    let config_digest = registry.push_blob(repo, config.as_bytes()).await?;
    let manifest = waxseal_oci::Manifest::new(
        media_type::OCI_MANIFEST,
        Descriptor::new(media_type::OCI_CONFIG, config_digest, config.len() as u64),
        vec![layer],
    );
    let bytes = manifest.to_json();
    let put = registry
        .put_manifest(repo, &format!("v{i}"), media_type::OCI_MANIFEST, &bytes)
        .await?;
    let subject = Descriptor::new(media_type::OCI_MANIFEST, put.digest, bytes.len() as u64);
    let statement = crate::image_sign::sign_statement(&put.digest, None);
    let signed = client
        .sign(instance, credential, &Content::in_toto(statement)?)
        .await?;
    let bundle = signed.bundle.to_json();
    image::push_referrer(
        registry,
        repo,
        &subject,
        &bundle,
        crate::evidence::COSIGN_SIGN_PREDICATE,
    )
    .await?;
    Ok((put.digest, bundle))
}

/// Verifies one image as `waxseal verify IMAGE` does.
async fn verify_one(
    registry: &Registry,
    repo: &Reference,
    digest: &Digest,
    verifier: &Verifier,
    policy: &Policy,
    options: &VerifyOptions,
) -> Result<()> {
    let pinned = repo.with_digest(*digest);
    let attached = image::fetch_attached(registry, &pinned, digest, &[Kind::Signature]).await?;
    let referrer = attached
        .referrers
        .first()
        .with_context(|| format!("no referrer found for {digest}"))?;
    let candidate = ImageSignature::Referrer {
        bundle_json: &referrer.bundle,
        annotations: &referrer.annotations,
    };
    verifier
        .verify_image_signature(digest, candidate, policy, options)
        .with_context(|| format!("{digest} did not verify"))?;
    Ok(())
}
