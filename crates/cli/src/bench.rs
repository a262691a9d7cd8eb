//! `waxseal bench log`: the log engine's durable append throughput, proof generation rate and
//! memory, next to two baselines measured in the same run on the same disk: raw SHA-256
//! throughput and the store's durable-commit rate (one fsynced SQLite transaction).

use std::collections::VecDeque;
use std::path::PathBuf;
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
    let config = Config::new(ORIGIN)
        .with_pool(65_536, 256 << 20)
        .with_batch(batch, Duration::from_millis(5));
    let log = Log::open(store, signer, config).context("couldn't open the bench log")?;
    let producers = 2u64;
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = (0..producers)
            .map(|p| {
                let log = log.clone();
                scope.spawn(move || -> Result<()> {
                    let mut in_flight = VecDeque::new();
                    let mut i = p;
                    while i < count {
                        let mut entry = vec![0x20_u8; entry_bytes];
                        entry[..8].copy_from_slice(&i.to_be_bytes());
                        match log.append(entry) {
                            Ok(pending) => {
                                in_flight.push_back(pending);
                                i += producers;
                            }
                            Err(waxseal_log::Error::Pushback { .. }) => {
                                if let Some(oldest) = in_flight.pop_front() {
                                    oldest.wait().context("append failed")?;
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
    Ok((log, start.elapsed().as_secs_f64()))
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
fn rss_mb(field: &str) -> f64 {
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
