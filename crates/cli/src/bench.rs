//! `waxseal bench log`: the log engine's durable append throughput, proof generation rate and
//! memory, next to two baselines measured in the same run on the same disk: raw SHA-256
//! throughput and the store's durable-commit rate (one fsynced SQLite transaction).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_log::{Config, Log, SqliteStore};
use waxseal_note::Ed25519Signer;

/// Arguments of `waxseal bench log`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogArgs {
    /// Entries in the log used for the proof benchmark (and the largest append run).
    #[arg(long, default_value_t = 1_000_000)]
    entries: u64,
    /// Entries per run of the append matrix (entry size × batch size).
    #[arg(long, default_value_t = 200_000)]
    matrix_entries: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Where to create the temporary stores (default: the system temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct AppendRun {
    entry_bytes: usize,
    batch_max_entries: usize,
    entries: u64,
    seconds: f64,
    entries_per_sec: f64,
    /// Entries/s divided by the durable-commit baseline: entries made durable per fsync.
    per_durable_commit: f64,
    rss_mb_after: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    sha256_mb_per_sec: f64,
    durable_commits_per_sec: f64,
    append_entries_per_sec: f64,
    append_entries_per_sec_1k: f64,
    append: Vec<AppendRun>,
    proof_log_entries: u64,
    /// Append rate while filling the proof log (256 B entries, batches of up to 4,096).
    proof_log_append_entries_per_sec: f64,
    /// Resident memory after filling the proof log.
    proof_log_rss_mb: f64,
    inclusion_proofs_per_sec: f64,
    consistency_proofs_per_sec: f64,
    peak_rss_mb: f64,
}

const ORIGIN: &str = "bench.waxseal.test/log";

pub(crate) fn run_log(args: &LogArgs) -> Result<()> {
    let tmp = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("couldn't create a temporary directory")?;
    let say = |line: String| {
        if !args.json {
            eprintln!("{line}");
        }
    };

    let sha = sha256_mb_per_sec();
    say(format!("baseline  SHA-256: {sha:.0} MB/s"));
    let commits = durable_commits_per_sec(&tmp.path().join("commits.db"))?;
    say(format!(
        "baseline  durable commits (SQLite WAL, synchronous=FULL): {commits:.0}/s"
    ));

    let mut runs = Vec::new();
    let mut run_id = 0;
    for entry_bytes in [256usize, 1024] {
        for batch in [256usize, 1024, 4096] {
            run_id += 1;
            let path = tmp.path().join(format!("append{run_id}.db"));
            let (log, seconds) = append_run(&path, args.matrix_entries, entry_bytes, batch)?;
            drop(log);
            let rate = args.matrix_entries as f64 / seconds;
            let run = AppendRun {
                entry_bytes,
                batch_max_entries: batch,
                entries: args.matrix_entries,
                seconds,
                entries_per_sec: rate,
                per_durable_commit: rate / commits,
                rss_mb_after: rss_mb("VmRSS"),
            };
            say(format!(
                "append    {entry_bytes:>5} B entries, batches ≤ {batch:>4}: {rate:>9.0} entries/s \
                 ({:.1}× the durable-commit rate, {:.1}% of SHA-256 throughput), RSS {:.0} MB",
                run.per_durable_commit,
                100.0 * rate * entry_bytes as f64 / 1e6 / sha,
                run.rss_mb_after
            ));
            runs.push(run);
            std::fs::remove_file(&path).ok();
        }
    }

    let path = tmp.path().join("proofs.db");
    let (log, seconds) = append_run(&path, args.entries, 256, 4096)?;
    let large_rate = args.entries as f64 / seconds;
    let large_rss = rss_mb("VmRSS");
    say(format!(
        "append    {} entries of 256 B into one log: {large_rate:.0} entries/s, RSS {:.0} MB",
        args.entries,
        rss_mb("VmRSS")
    ));
    let (inclusion, consistency) = proofs_per_sec(&log)?;
    say(format!(
        "proofs    at {} entries: {inclusion:.0} inclusion/s, {consistency:.0} consistency/s",
        args.entries
    ));
    drop(log);

    let best = |bytes: usize| {
        runs.iter()
            .filter(|r| r.entry_bytes == bytes)
            .map(|r| r.entries_per_sec)
            .fold(0.0, f64::max)
    };
    let report = Report {
        sha256_mb_per_sec: sha,
        durable_commits_per_sec: commits,
        append_entries_per_sec: best(256),
        append_entries_per_sec_1k: best(1024),
        append: runs,
        proof_log_entries: args.entries,
        proof_log_append_entries_per_sec: large_rate,
        proof_log_rss_mb: large_rss,
        inclusion_proofs_per_sec: inclusion,
        consistency_proofs_per_sec: consistency,
        peak_rss_mb: rss_mb("VmHWM"),
    };
    say(format!("memory    peak RSS {:.0} MB", report.peak_rss_mb));
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("couldn't encode the report")?
        );
    }
    Ok(())
}

fn sha256_mb_per_sec() -> f64 {
    let buffer = vec![0x5a_u8; 1 << 20];
    let start = Instant::now();
    let mut n = 0u64;
    let mut sink = [0u8; 32];
    while start.elapsed() < Duration::from_secs(1) {
        let digest = Sha256::digest(&buffer);
        sink[0] ^= digest[0];
        n += 1;
    }
    std::hint::black_box(sink);
    n as f64 * buffer.len() as f64 / 1e6 / start.elapsed().as_secs_f64()
}

/// One-row transactions committed with the same settings the log store uses.
fn durable_commits_per_sec(path: &std::path::Path) -> Result<f64> {
    let conn = rusqlite::Connection::open(path).context("couldn't open the baseline database")?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .context("couldn't enable WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")
        .context("couldn't set synchronous")?;
    conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)")
        .context("couldn't create a table")?;
    let value = vec![0u8; 256];
    let start = Instant::now();
    let mut n = 0i64;
    while start.elapsed() < Duration::from_secs(1) {
        conn.execute(
            "INSERT INTO t (k, v) VALUES (?1, ?2)",
            rusqlite::params![n, value],
        )
        .context("couldn't insert")?;
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// Appends `count` distinct entries from two producer threads, each keeping up to 16,384
/// appends in flight, and returns the log and the time until the last acknowledgement.
fn append_run(
    path: &std::path::Path,
    count: u64,
    entry_bytes: usize,
    batch: usize,
) -> Result<(Log, f64)> {
    let store = Arc::new(SqliteStore::open(path).context("couldn't open the bench store")?);
    let key = SigningKey::generate(Algorithm::Ed25519).context("couldn't generate a key")?;
    let signer = Arc::new(Ed25519Signer::new(ORIGIN, key).context("couldn't make a signer")?);
    let log = Log::open(store, signer, bench_config(ORIGIN, batch))
        .context("couldn't open the bench log")?;
    let seconds = drive_appends(&log, count, |i| {
        let mut entry = vec![0x20_u8; entry_bytes];
        entry[..8].copy_from_slice(&i.to_be_bytes());
        (entry, Vec::new())
    })?;
    Ok((log, seconds))
}

/// The engine configuration of the append benchmarks: a large pool, batches of up to `batch`
/// entries, 5 ms batching delay.
pub(crate) fn bench_config(origin: &str, batch: usize) -> Config {
    Config::new(origin)
        .with_pool(65_536, 256 << 20)
        .with_batch(batch, Duration::from_millis(5))
}

/// Appends entries `0..count` made by `entry` (bytes and search terms) from two producer
/// threads, each keeping up to 16,384 appends in flight, and returns the seconds until the
/// last acknowledgement.
pub(crate) fn drive_appends(
    log: &Log,
    count: u64,
    entry: impl Fn(u64) -> (Vec<u8>, Vec<Vec<u8>>) + Sync,
) -> Result<f64> {
    let producers = 2u64;
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let log = log.clone();
                let entry = &entry;
                scope.spawn(move || -> Result<()> {
                    let mut in_flight = VecDeque::new();
                    let mut i = p;
                    while i < count {
                        let (bytes, terms) = entry(i);
                        match log.append_with_terms(bytes, terms) {
                            Ok(pending) => {
                                in_flight.push_back(pending);
                                i += producers;
                            }
                            Err(waxseal_log::Error::Pushback { .. }) => {
                                match in_flight.pop_front() {
                                    Some(oldest) => {
                                        oldest.wait().context("append failed")?;
                                    }
                                    None => std::thread::sleep(Duration::from_millis(1)),
                                }
                                continue;
                            }
                            Err(e) => return Err(e).context("append failed"),
                        }
                        if in_flight.len() >= 16_384
                            && let Some(oldest) = in_flight.pop_front()
                        {
                            oldest.wait().context("append failed")?;
                        }
                    }
                    for pending in in_flight {
                        pending.wait().context("append failed")?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("producer thread panicked"))??;
        }
        Ok(())
    })?;
    Ok(start.elapsed().as_secs_f64())
}

/// Inclusion and consistency proofs at the latest size, for pseudo-random indexes, each run
/// for one second.
fn proofs_per_sec(log: &Log) -> Result<(f64, f64)> {
    let size = log.checkpoint().size;
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        let proof = log
            .prove_inclusion(next() % size, size)
            .context("inclusion proof failed")?;
        std::hint::black_box(proof);
        n += 1;
    }
    let inclusion = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(1) {
        let proof = log
            .prove_consistency(1 + next() % size, size)
            .context("consistency proof failed")?;
        std::hint::black_box(proof);
        n += 1;
    }
    Ok((inclusion, n as f64 / start.elapsed().as_secs_f64()))
}

/// A memory figure from /proc/self/status in MB (0 where unavailable).
pub(crate) fn rss_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                let rest = line.strip_prefix(field)?.strip_prefix(':')?;
                rest.trim()
                    .trim_end_matches(" kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Arguments of `waxseal bench p256`.
#[derive(Debug, clap::Args)]
pub(crate) struct P256Args {
    /// Seconds to measure each figure.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
}

#[derive(Debug, Serialize)]
struct P256Report {
    p256_verifies_per_sec_1core: f64,
    p256_verifies_per_sec_all_cores: f64,
    p256_signs_per_sec_1core: f64,
    p256_signs_per_sec_all_cores: f64,
    cores: usize,
}

/// The number of cores the benchmarks spread over.
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Runs `op` on `threads` threads for `seconds` and returns its rate per second; an `op` that
/// returns `false` is not counted.
fn rate_on_threads(threads: usize, seconds: f64, op: &(dyn Fn() -> bool + Sync)) -> f64 {
    let limit = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let total: u64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut n = 0u64;
                    while start.elapsed() < limit {
                        if op() {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

/// Verifies one P-256 signature over 32 bytes repeatedly on `threads` threads.
pub(crate) fn p256_verify_rate(threads: usize, seconds: f64) -> Result<f64> {
    let key =
        SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't generate a key")?;
    let message = [7u8; 32];
    let signature = key.sign(&message).context("couldn't sign")?;
    let public = key.public_key();
    Ok(rate_on_threads(threads, seconds, &|| {
        public.verify(&message, &signature).is_ok()
    }))
}

/// Signs 32 bytes with one P-256 key (SHA-256, randomized ECDSA) repeatedly on `threads`
/// threads.
pub(crate) fn p256_sign_rate(threads: usize, seconds: f64) -> Result<f64> {
    let key =
        SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't generate a key")?;
    let message = [7u8; 32];
    Ok(rate_on_threads(threads, seconds, &|| {
        std::hint::black_box(key.sign(&message)).is_ok()
    }))
}

/// Latency percentiles of a run, in milliseconds.
#[derive(Debug, Serialize)]
pub(crate) struct Latency {
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
}

impl Latency {
    /// The percentiles of `samples` (sorted here).
    pub(crate) fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let at = |q: f64| {
            let last = samples.len().saturating_sub(1);
            let index = ((last as f64) * q).round() as usize;
            samples
                .get(index.min(last))
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        Self {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }
}

pub(crate) fn run_p256(args: &P256Args) -> Result<()> {
    let cores = cores();
    let report = P256Report {
        p256_verifies_per_sec_1core: p256_verify_rate(1, args.seconds)?,
        p256_verifies_per_sec_all_cores: p256_verify_rate(cores, args.seconds)?,
        p256_signs_per_sec_1core: p256_sign_rate(1, args.seconds)?,
        p256_signs_per_sec_all_cores: p256_sign_rate(cores, args.seconds)?,
        cores,
    };
    println!(
        "{}",
        serde_json::to_string(&report).context("couldn't encode the report")?
    );
    Ok(())
}

/// Arguments of `waxseal bench verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The shared Sigstore vectors (their `manifest.json` names the bundle, artifact, root and
    /// identity of each case).
    #[arg(long, default_value = "../shared/vectors/sigstore")]
    vectors: PathBuf,
    /// The case to verify: a Rekor v1 bundle with SET (chain, SCT, signature, checkpoint and
    /// SET: four P-256 checks and one P-384 check).
    #[arg(long, default_value = "production-rekor1-msg-bundle02-github-actions")]
    case: String,
    /// Seconds to measure each figure.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct VerifyReport {
    case: String,
    bundle_verifies_per_sec: f64,
    bundle_verifies_per_sec_with_parse: f64,
    p256_verifies_per_sec: f64,
    p384_verifies_per_sec: f64,
    p256_checks_per_bundle: u32,
    p384_checks_per_bundle: u32,
    ceiling_bundles_per_sec: f64,
    ratio_to_ceiling: f64,
    ratio_to_ceiling_with_parse: f64,
}

/// Calls `f` on one thread for `seconds`; returns calls per second. `f` must succeed.
pub(crate) fn rate(seconds: f64, mut f: impl FnMut() -> bool) -> Result<f64> {
    let limit = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < limit {
        if !f() {
            anyhow::bail!("a measured operation failed");
        }
        n += 1;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn signature_rate(algorithm: Algorithm, seconds: f64) -> Result<f64> {
    let key = SigningKey::generate(algorithm).context("couldn't generate a key")?;
    let message = [7u8; 300];
    let signature = key.sign(&message).context("couldn't sign")?;
    let public = key.public_key();
    rate(seconds, || public.verify(&message, &signature).is_ok())
}

/// The case whose `key` member is `id` in the `manifest.json` of a shared vectors folder.
pub(crate) fn vector_case(dir: &Path, key: &str, id: &str) -> Result<serde_json::Value> {
    let path = dir.join("manifest.json");
    let bytes =
        std::fs::read(&path).with_context(|| format!("couldn't read {}", path.display()))?;
    let manifest: serde_json::Value =
        serde_json::from_slice(&bytes).context("couldn't parse the manifest")?;
    manifest["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|c| c[key] == id))
        .cloned()
        .with_context(|| format!("no case {id} in {}", path.display()))
}

pub(crate) fn run_verify(args: &VerifyArgs) -> Result<()> {
    use waxseal_verify::{Identity, Matcher, Policy, Verifier};

    let read = |relative: &str| {
        let path = args.vectors.join(relative);
        std::fs::read(&path).with_context(|| format!("couldn't read {}", path.display()))
    };
    let case = vector_case(&args.vectors, "name", &args.case)?;

    let field = |name: &str| {
        case[name]
            .as_str()
            .with_context(|| format!("case {} has no {name}", args.case))
    };
    if case["expected_result"] != "pass" || case["log_api"] != "rekor-v1" {
        anyhow::bail!("--case must be a passing Rekor v1 case (its check mix is counted as one)");
    }
    let verifier = Verifier::from_json(&read(field("trusted_root")?)?)
        .context("couldn't load the trusted root")?;
    let bundle_json = read(case["files"]["bundle"].as_str().context("no bundle")?)?;
    let artifact = read(
        case["files"]["artifact"]
            .as_str()
            .context("the case has no artifact file")?,
    )?;
    let artifact = waxseal_verify::Artifact::Bytes(&artifact);
    let policy = Policy::Identity(Identity::new(
        Matcher::exact(field("expected_identity")?),
        Matcher::exact(field("expected_issuer")?),
    ));
    let bundle = waxseal_bundle::Bundle::from_json(&bundle_json).context("couldn't parse")?;
    verifier
        .verify(&bundle, artifact, &policy)
        .context("the case does not verify")?;

    let bundle_rate = rate(args.seconds, || {
        verifier.verify(&bundle, artifact, &policy).is_ok()
    })?;
    let with_parse = rate(args.seconds, || {
        verifier
            .verify_json(&bundle_json, artifact, &policy)
            .is_ok()
    })?;
    let p256 = signature_rate(Algorithm::EcdsaP256Sha256, args.seconds)?;
    let p384 = signature_rate(Algorithm::EcdsaP384Sha384, args.seconds)?;
    // A Rekor v1 bundle from the public-good instance: the leaf under the P-384 Fulcio
    // intermediate, then P-256 for the SCT (CT log), the artifact signature (leaf key), the
    // checkpoint and the SET (Rekor key).
    let (n256, n384) = (4u32, 1u32);
    let ceiling = 1.0 / (f64::from(n256) / p256 + f64::from(n384) / p384);
    let report = VerifyReport {
        case: args.case.clone(),
        bundle_verifies_per_sec: bundle_rate,
        bundle_verifies_per_sec_with_parse: with_parse,
        p256_verifies_per_sec: p256,
        p384_verifies_per_sec: p384,
        p256_checks_per_bundle: n256,
        p384_checks_per_bundle: n384,
        ceiling_bundles_per_sec: ceiling,
        ratio_to_ceiling: bundle_rate / ceiling,
        ratio_to_ceiling_with_parse: with_parse / ceiling,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("couldn't encode the report")?
        );
    } else {
        println!("case {} (one core)", report.case);
        println!("  bundle verifications/s            {:>10.0}", bundle_rate);
        println!("  bundle verifications/s with parse {:>10.0}", with_parse);
        println!("  ECDSA P-256 verifies/s            {:>10.0}", p256);
        println!("  ECDSA P-384 verifies/s            {:>10.0}", p384);
        println!(
            "  ceiling ({n256} x P-256 + {n384} x P-384)      {:>10.0} bundles/s",
            ceiling
        );
        println!(
            "  ratio to ceiling                  {:>9.0}% ({:.0}% with parse)",
            100.0 * report.ratio_to_ceiling,
            100.0 * report.ratio_to_ceiling_with_parse
        );
    }
    Ok(())
}

/// Arguments of `waxseal bench sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct SignArgs {
    /// The instance to sign on (a running `waxseal serve`).
    #[arg(long, default_value = crate::sign::DEFAULT_INSTANCE)]
    instance: String,
    /// The instance's data directory, to mint the identity token with its built-in issuer
    /// (as `waxseal token` does); otherwise give --identity-token.
    #[arg(long, required_unless_present = "identity_token")]
    data_dir: Option<PathBuf>,
    /// An identity token to sign with (must stay valid for the whole run).
    #[arg(long, env = "SIGSTORE_ID_TOKEN", hide_env_values = true)]
    identity_token: Option<String>,
    /// Which log to sign with, with --data-dir: its `trust/client_trust_config.<log>.json`
    /// (without --data-dir, the instance's default trust config is fetched).
    #[arg(long, value_enum, default_value = "rekor-v1", requires = "data_dir")]
    log: crate::trust::SigningLog,
    /// Signings to time (after two warm-up signings).
    #[arg(long, default_value_t = 50)]
    runs: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct SignReport {
    instance: String,
    log: &'static str,
    runs: usize,
    median_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    mean_ms: f64,
}

/// `waxseal bench sign`: end-to-end keyless signing latency against a running instance, one
/// signing at a time, as `waxseal sign` does it after loading the trust config: certificate
/// (CSR, CA, CT log), signature, RFC 3161 timestamp, log entry, every reply checked, and the
/// bundle fully verified offline.
pub(crate) fn run_sign(args: &SignArgs) -> Result<()> {
    use waxseal_client::{Client, Content, Credential, IdentityToken, Instance};

    if args.runs == 0 {
        anyhow::bail!("--runs must be at least 1");
    }
    let token = match (&args.identity_token, &args.data_dir) {
        (Some(token), _) => token.clone(),
        (None, Some(dir)) => {
            let dir = crate::datadir::DataDir::open(dir)?;
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the clock is before 1970")?;
            let now = i64::try_from(now.as_secs()).context("the clock is past 2262")?;
            crate::serve::token_issuer(&dir, None)?
                .mint("bench", Some("bench@waxseal.test"), "sigstore", 3600, now)
                .context("couldn't mint a token")?
        }
        (None, None) => anyhow::bail!("give --data-dir or --identity-token"),
    };
    let (log_name, file) = match (args.log, &args.data_dir) {
        (_, None) => ("the instance's default", "client_trust_config.json"),
        (crate::trust::SigningLog::RekorV1, _) => ("rekor-v1", "client_trust_config.rekor-v1.json"),
        (crate::trust::SigningLog::RekorV2, _) => ("rekor-v2", "client_trust_config.rekor-v2.json"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;
    let samples = runtime.block_on(async {
        let client = Client::new()?;
        let trust = match &args.data_dir {
            Some(dir) => {
                let path = dir.join("trust").join(file);
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("couldn't read {}", path.display()))?;
                waxseal_bundle::ClientTrustConfig::from_json(&bytes)
                    .with_context(|| format!("{} is not a ClientTrustConfig", path.display()))?
            }
            None => client
                .fetch_trust_config(&args.instance)
                .await
                .context("couldn't load the instance")?,
        };
        let instance = Instance::new(trust, std::time::SystemTime::now())?;
        let credential = Credential::IdentityToken(IdentityToken::parse(&token)?);
        let mut samples = Vec::with_capacity(args.runs);
        for run in 0..args.runs + 2 {
            let content = Content::Artifact(format!("bench artifact {run}").into_bytes());
            let start = Instant::now();
            client
                .sign(&instance, &credential, &content)
                .await
                .with_context(|| format!("signing {run} failed"))?;
            if run >= 2 {
                samples.push(start.elapsed());
            }
        }
        anyhow::Ok(samples)
    })?;
    let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let index = ((ms.len() as f64 - 1.0) * q).round() as usize;
        ms.get(index.min(ms.len() - 1)).copied().unwrap_or_default()
    };
    let report = SignReport {
        instance: args.instance.clone(),
        log: log_name,
        runs: ms.len(),
        median_ms: at(0.5),
        p90_ms: at(0.9),
        p99_ms: at(0.99),
        max_ms: at(1.0),
        mean_ms: ms.iter().sum::<f64>() / ms.len() as f64,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("couldn't encode the report")?
        );
    } else {
        println!(
            "keyless signing on {} ({}), {} runs, one at a time",
            report.instance, report.log, report.runs
        );
        println!("  median {:>8.1} ms", report.median_ms);
        println!("  p90    {:>8.1} ms", report.p90_ms);
        println!("  p99    {:>8.1} ms", report.p99_ms);
        println!("  max    {:>8.1} ms", report.max_ms);
        println!("  mean   {:>8.1} ms", report.mean_ms);
    }
    Ok(())
}
