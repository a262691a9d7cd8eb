//! `waxseal bench cluster`: what the PostgreSQL backend costs and buys, measured in one run on
//! this machine:
//!
//! 1. engine: durable appends per second on PostgreSQL against SQLite, same entries (256 B),
//!    same batch limits, same producers (`waxseal bench log`'s driver);
//! 2. size: the database size of a log of realistic Rekor v1 entries (real hashedrekord
//!    canonical bodies with their two search terms), measured with `PgStore::sizes` at
//!    `--size-entries` and scaled linearly to a million entries (and SQLite's file for the
//!    same entries);
//! 3. HTTP: Rekor v1 writes per second (pre-signed hashedrekord requests, `--concurrency`
//!    connections) through 1, 2 and 3 `waxseal serve --database` front ends, and through the
//!    two followers only, with the CPU seconds each process used (front ends, PostgreSQL, the
//!    load generator): writes per server CPU-second, and the sequencer's own CPU per entry when
//!    it serves no HTTP, which bounds what one log can sequence;
//! 4. failover: SIGKILL of the sequencer under load until a survivor serves a newer checkpoint.
//!
//! The database is a throwaway PostgreSQL server in a temporary directory
//! (`waxseal_log::testing::PostgresServer`, which needs `initdb` and `postgres` on PATH)
//! unless `--database` names an empty database to fill.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Serialize;
use waxseal_crypto::{Algorithm, SigningKey, sha256};
use waxseal_log::testing::PostgresServer;
use waxseal_log::{Log, PgOptions, PgStore, SqliteStore, Store};
use waxseal_note::Ed25519Signer;

use crate::bench::{bench_config, drive_appends};

/// Arguments of `waxseal bench cluster`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClusterArgs {
    /// An empty PostgreSQL database to fill (`postgres://...`); default: a throwaway server in
    /// a temporary directory.
    #[arg(long, env = "WAXSEAL_BENCH_DATABASE")]
    database: Option<String>,
    /// Entries per engine run (each batch limit, each backend).
    #[arg(long, default_value_t = 50_000)]
    engine_entries: u64,
    /// Entries in the log whose size is measured.
    #[arg(long, default_value_t = 100_000)]
    size_entries: u64,
    /// Seconds per HTTP run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent HTTP connections of the load generator.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// SIGKILLs of the sequencer to time.
    #[arg(long, default_value_t = 5)]
    failovers: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Where to create the temporary data (default: the system temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct EngineRun {
    batch_max_entries: usize,
    entries: u64,
    sqlite_entries_per_sec: f64,
    postgres_entries_per_sec: f64,
}

#[derive(Debug, Serialize)]
struct SizeReport {
    entries: u64,
    entry_bytes: usize,
    postgres_bytes: u64,
    postgres_bytes_per_million: f64,
    postgres_parts: BTreeMap<String, u64>,
    sqlite_bytes: u64,
    sqlite_bytes_per_million: f64,
    /// Durable appends per second while filling the PostgreSQL log.
    postgres_fill_entries_per_sec: f64,
}

#[derive(Debug, Serialize)]
struct HttpRun {
    /// `sequencer`, `sequencer+1`, `sequencer+2` or `followers`.
    targets: String,
    front_ends_loaded: usize,
    seconds: f64,
    created: u64,
    /// Answers other than 201.
    failed: u64,
    writes_per_sec: f64,
    /// CPU seconds per process kind over the run.
    cpu_front_ends: Vec<f64>,
    cpu_sequencer: f64,
    cpu_postgres: f64,
    cpu_load_generator: f64,
    /// Writes per CPU-second of the servers (front ends and PostgreSQL).
    writes_per_server_cpu_second: f64,
    /// The sequencer process's CPU per entry (meaningful alone in the `followers` run).
    sequencer_cpu_ms_per_entry: f64,
    postgres_cpu_ms_per_entry: f64,
}

#[derive(Debug, Serialize)]
struct FailoverReport {
    runs_ms: Vec<u64>,
    median_ms: u64,
    max_ms: u64,
}

#[derive(Debug, Serialize)]
struct Report {
    cores: usize,
    engine: Vec<EngineRun>,
    size: SizeReport,
    http: Vec<HttpRun>,
    /// Entries per second one core could sequence at the measured sequencer cost.
    sequencer_ceiling_entries_per_sec: f64,
    failover: FailoverReport,
}

const ORIGIN: &str = "bench.waxseal.test/cluster";
const PUBLIC_HOST: &str = "bench.waxseal.test";

/// Where the bench's databases come from.
enum Databases {
    Throwaway(PostgresServer),
    Given(String),
}

impl Databases {
    /// A database (or, for a given one, a unique log name in it) for `purpose`.
    fn log(&self, purpose: &str) -> Result<(String, String)> {
        match self {
            Self::Throwaway(server) => {
                let url = server
                    .create_database(purpose)
                    .map_err(|e| anyhow::anyhow!("couldn't create database {purpose}: {e}"))?;
                Ok((url, purpose.to_owned()))
            }
            Self::Given(url) => {
                let mut nonce = [0u8; 4];
                waxseal_crypto::random_bytes(&mut nonce).context("couldn't draw a log name")?;
                Ok((
                    url.clone(),
                    format!("bench-{purpose}-{}", hex::encode(nonce)),
                ))
            }
        }
    }

    /// The database the front ends serve from: `rekor-v1`, `rekor-v2` and `ct` must be empty.
    fn instance(&self) -> Result<String> {
        let url = match self {
            Self::Throwaway(server) => server
                .create_database("instance")
                .map_err(|e| anyhow::anyhow!("couldn't create the instance database: {e}"))?,
            Self::Given(url) => url.clone(),
        };
        let store = PgStore::connect(&PgOptions::new(&url, "rekor-v1"))
            .context("couldn't connect to the instance database")?;
        if store
            .load()
            .context("couldn't read the instance database")?
            .size
            > 0
        {
            bail!("the database already holds a rekor-v1 log: give the bench an empty database");
        }
        Ok(url)
    }
}

pub(crate) fn run(args: &ClusterArgs) -> Result<()> {
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
    let databases = match &args.database {
        Some(url) => Databases::Given(url.clone()),
        None => Databases::Throwaway(
            PostgresServer::start()
                .map_err(|e| anyhow::anyhow!("couldn't start a PostgreSQL server: {e}"))?,
        ),
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let mut engine = Vec::new();
    for batch in [256usize, 1024, 4096] {
        let sqlite = {
            let path = tmp.path().join(format!("engine-{batch}.db"));
            let store = Arc::new(SqliteStore::open(&path).context("couldn't open SQLite")?);
            let log = Log::open(store, bench_signer()?, bench_config(ORIGIN, batch))
                .context("couldn't open the SQLite log")?;
            let seconds = drive_appends(&log, args.engine_entries, fixed_entry)?;
            args.engine_entries as f64 / seconds
        };
        let postgres = {
            let (url, name) = databases.log(&format!("engine{batch}"))?;
            let store = PgStore::connect(&PgOptions::new(&url, &name))
                .context("couldn't connect to PostgreSQL")?;
            let log = Log::open_cluster(store, bench_signer()?, bench_config(ORIGIN, batch))
                .context("couldn't open the PostgreSQL log")?;
            let seconds = drive_appends(&log, args.engine_entries, fixed_entry)?;
            args.engine_entries as f64 / seconds
        };
        say(format!(
            "engine    batches ≤ {batch:>4}, 256 B entries: SQLite {sqlite:>8.0}/s, PostgreSQL \
             {postgres:>8.0}/s ({:.2}×)",
            postgres / sqlite
        ));
        engine.push(EngineRun {
            batch_max_entries: batch,
            entries: args.engine_entries,
            sqlite_entries_per_sec: sqlite,
            postgres_entries_per_sec: postgres,
        });
    }

    let size = measure_size(&databases, tmp.path(), args.size_entries)?;
    say(format!(
        "size      {} Rekor v1 entries ({} B bodies + 2 search terms): PostgreSQL {:.1} MB \
         ({:.0} MB per million, scaled linearly), SQLite {:.1} MB ({:.0} MB per million); \
         filled at {:.0}/s",
        size.entries,
        size.entry_bytes,
        size.postgres_bytes as f64 / 1e6,
        size.postgres_bytes_per_million / 1e6,
        size.sqlite_bytes as f64 / 1e6,
        size.sqlite_bytes_per_million / 1e6,
        size.postgres_fill_entries_per_sec,
    ));

    let database = databases.instance()?;
    let mut cluster = Cluster::start(&tmp.path().join("data"), &database)?;
    let mut http = Vec::new();
    let mut estimate = 2_000.0;
    for targets in ["sequencer", "sequencer+1", "sequencer+2", "followers"] {
        let run = cluster.http_run(targets, args, estimate)?;
        estimate = (run.writes_per_sec * 1.5).max(500.0);
        say(format!(
            "http      {targets:<12} ({} front ends): {:>6.0} writes/s, {} failed; CPU s: front \
             ends {:?}, PostgreSQL {:.1}, load generator {:.1}; {:.0} writes per server \
             CPU-second; sequencer {:.3} ms, PostgreSQL {:.3} ms CPU per entry",
            run.front_ends_loaded,
            run.writes_per_sec,
            run.failed,
            run.cpu_front_ends
                .iter()
                .map(|c| (c * 10.0).round() / 10.0)
                .collect::<Vec<_>>(),
            run.cpu_postgres,
            run.cpu_load_generator,
            run.writes_per_server_cpu_second,
            run.sequencer_cpu_ms_per_entry,
            run.postgres_cpu_ms_per_entry,
        ));
        http.push(run);
    }
    let sequencer_ms = http
        .iter()
        .find(|r| r.targets == "followers")
        .map_or(0.0, |r| r.sequencer_cpu_ms_per_entry);
    let ceiling = if sequencer_ms > 0.0 {
        1000.0 / sequencer_ms
    } else {
        0.0
    };
    say(format!(
        "ceiling   the sequencer's own cost bounds one log at ~{ceiling:.0} entries/s per core"
    ));

    let mut runs = Vec::new();
    for n in 0..args.failovers {
        let took = cluster.failover()?;
        say(format!("failover  {n}: {} ms", took.as_millis()));
        runs.push(u64::try_from(took.as_millis()).unwrap_or(u64::MAX));
    }
    let mut sorted = runs.clone();
    sorted.sort_unstable();
    let failover = FailoverReport {
        median_ms: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
        max_ms: sorted.last().copied().unwrap_or(0),
        runs_ms: runs,
    };
    say(format!(
        "failover  median {} ms, max {} ms over {} SIGKILLs of the sequencer",
        failover.median_ms, failover.max_ms, args.failovers
    ));
    drop(cluster);

    if args.json {
        let report = Report {
            cores,
            engine,
            size,
            http,
            sequencer_ceiling_entries_per_sec: ceiling,
            failover,
        };
        println!(
            "{}",
            serde_json::to_string(&report).context("couldn't encode the report")?
        );
    }
    Ok(())
}

fn bench_signer() -> Result<Arc<Ed25519Signer>> {
    let key = SigningKey::generate(Algorithm::Ed25519).context("couldn't generate a key")?;
    Ok(Arc::new(
        Ed25519Signer::new(ORIGIN, key).context("couldn't make a signer")?,
    ))
}

/// A distinct 256-byte entry without search terms.
fn fixed_entry(i: u64) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut entry = vec![0x20_u8; 256];
    entry[..8].copy_from_slice(&i.to_be_bytes());
    (entry, Vec::new())
}

/// A real Rekor v1 hashedrekord canonical body and its search terms; entry `i` replaces the
/// artifact digest (hex, in the body and in the digest term) with SHA-256 of `i`, so entries
/// are distinct and exactly as large as real ones.
struct RealisticEntries {
    body: String,
    digest_hex: String,
    key_term: Vec<u8>,
}

impl RealisticEntries {
    fn new() -> Result<Self> {
        let key =
            SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't generate a key")?;
        let artifact = b"waxseal bench cluster";
        let digest_hex = hex::encode(sha256(artifact));
        let request = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "signature": {
                    "content": BASE64.encode(key.sign(artifact).context("couldn't sign")?),
                    "publicKey": { "content": BASE64.encode(key.public_key().to_pem()) },
                },
                "data": { "hash": { "algorithm": "sha256", "value": digest_hex } },
            },
        });
        let entry = waxseal_bundle::rekor::validate_v1(request.to_string().as_bytes())
            .context("couldn't build a hashedrekord entry")?;
        let body = String::from_utf8(entry.canonical_body().to_vec())
            .context("the canonical body is not UTF-8")?;
        if !body.contains(&digest_hex) {
            bail!("the canonical body does not carry the digest in hex");
        }
        let key_term = entry
            .search_terms()
            .iter()
            .map(waxseal_bundle::rekor::SearchTerm::to_key)
            .find(|k| !k.ends_with(&sha256(artifact)))
            .context("the entry has no key search term")?;
        Ok(Self {
            body,
            digest_hex,
            key_term,
        })
    }

    fn entry(&self, i: u64) -> (Vec<u8>, Vec<Vec<u8>>) {
        let digest = sha256(&i.to_be_bytes());
        let body = self.body.replace(&self.digest_hex, &hex::encode(digest));
        let term = waxseal_bundle::rekor::SearchTerm::Sha256Artifact(digest).to_key();
        (body.into_bytes(), vec![term, self.key_term.clone()])
    }
}

fn measure_size(databases: &Databases, tmp: &Path, entries: u64) -> Result<SizeReport> {
    let realistic = RealisticEntries::new()?;
    let entry_bytes = realistic.entry(0).0.len();
    let (url, name) = databases.log("sizes")?;
    let store =
        PgStore::connect(&PgOptions::new(&url, &name)).context("couldn't connect to PostgreSQL")?;
    let log = Log::open_cluster(
        Arc::clone(&store),
        bench_signer()?,
        bench_config(ORIGIN, 4096),
    )
    .context("couldn't open the PostgreSQL log")?;
    let seconds = drive_appends(&log, entries, |i| realistic.entry(i))?;
    drop(log);
    let sizes = crate::serve::pg_sizes(&store.sizes().context("couldn't read the sizes")?);
    let path = tmp.join("sizes.db");
    {
        let store = Arc::new(SqliteStore::open(&path).context("couldn't open SQLite")?);
        let log = Log::open(store, bench_signer()?, bench_config(ORIGIN, 4096))
            .context("couldn't open the SQLite log")?;
        drive_appends(&log, entries, |i| realistic.entry(i))?;
    }
    let sqlite_bytes = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum::<u64>();
    let scale = 1e6 / entries as f64;
    Ok(SizeReport {
        entries,
        entry_bytes,
        postgres_bytes: sizes.total_bytes,
        postgres_bytes_per_million: sizes.total_bytes as f64 * scale,
        postgres_parts: sizes.parts,
        sqlite_bytes,
        sqlite_bytes_per_million: sqlite_bytes as f64 * scale,
        postgres_fill_entries_per_sec: entries as f64 / seconds,
    })
}

/// CPU seconds (user + system) a process has used, from `/proc/PID/stat`, in clock ticks of
/// 1/100 s (Linux's `USER_HZ`).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name may hold spaces: fields count from after its closing parenthesis.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name: state is field 0, utime 11, stime 12.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// CPU seconds of every `postgres` process on the machine (the bench's server and its
/// backends).
fn postgres_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

/// One `waxseal serve --database` child.
struct FrontEnd {
    child: Child,
    addr: String,
}

impl FrontEnd {
    fn start(data: &Path, database: &str) -> Result<Self> {
        let exe = std::env::current_exe().context("couldn't find the waxseal binary")?;
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(["--database", database])
            .args(["--public-url", &format!("http://{PUBLIC_HOST}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("couldn't start waxseal serve")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix("waxseal: listening on ") {
                    let _ = tx.send(addr.trim().to_owned());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => Ok(Self { child, addr }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("waxseal serve --database did not start within 60 s")
            }
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for FrontEnd {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Three front ends on one data directory and database, and a client.
struct Cluster {
    front_ends: Vec<FrontEnd>,
    data: PathBuf,
    database: String,
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    keys: Vec<SigningKey>,
    signed: AtomicU64,
}

impl Cluster {
    fn start(data: &Path, database: &str) -> Result<Self> {
        let first = FrontEnd::start(data, database)?;
        let mut front_ends = vec![first];
        for _ in 1..3 {
            front_ends.push(FrontEnd::start(data, database)?);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("couldn't start the async runtime")?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(1024)
            .build()
            .context("couldn't build the HTTP client")?;
        let keys = (0..8)
            .map(|_| SigningKey::generate(Algorithm::EcdsaP256Sha256))
            .collect::<Result<Vec<_>, _>>()
            .context("couldn't generate keys")?;
        let cluster = Self {
            front_ends,
            data: data.to_owned(),
            database: database.to_owned(),
            runtime,
            client,
            keys,
            signed: AtomicU64::new(0),
        };
        for n in 0..cluster.front_ends.len() {
            cluster.wait_ready(n)?;
        }
        Ok(cluster)
    }

    fn get(&self, addr: &str, path: &str) -> Result<(u16, Vec<u8>)> {
        self.runtime.block_on(async {
            let response = self
                .client
                .get(format!("http://{addr}{path}"))
                .send()
                .await?;
            let status = response.status().as_u16();
            Ok((status, response.bytes().await?.to_vec()))
        })
    }

    fn wait_ready(&self, n: usize) -> Result<()> {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            if let Ok((200, _)) = self.get(&self.front_ends[n].addr, "/readyz") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "front end {} was not ready within 60 s",
            self.front_ends[n].addr
        )
    }

    /// The index of the front end sequencing the Rekor v1 log.
    fn sequencer(&self) -> Result<usize> {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            for (n, front_end) in self.front_ends.iter().enumerate() {
                let Ok((200, body)) = self.get(&front_end.addr, "/admin/status") else {
                    continue;
                };
                let status: serde_json::Value =
                    serde_json::from_slice(&body).context("malformed /admin/status")?;
                let is_sequencer = status["logs"].as_array().is_some_and(|logs| {
                    logs.iter()
                        .any(|l| l["name"] == "rekor-v1" && l["role"] == "sequencer")
                });
                if is_sequencer {
                    return Ok(n);
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!("no front end took the rekor-v1 sequencer lock within 60 s")
    }

    fn tree_size(&self, addr: &str) -> Option<u64> {
        let (status, body) = self.get(addr, "/api/v1/log").ok()?;
        if status != 200 {
            return None;
        }
        serde_json::from_slice::<serde_json::Value>(&body).ok()?["treeSize"].as_u64()
    }

    /// `count` fresh hashedrekord requests, signed on every core.
    fn sign_requests(&self, count: usize) -> Result<Vec<Vec<u8>>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let base = self.signed.fetch_add(count as u64, Ordering::SeqCst);
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let key = &self.keys[t % self.keys.len()];
                    scope.spawn(move || -> Result<Vec<Vec<u8>>> {
                        (0..count)
                            .filter(|i| i % threads == t)
                            .map(|i| {
                                let artifact = format!("bench cluster {}", base + i as u64);
                                let request = serde_json::json!({
                                    "apiVersion": "0.0.1",
                                    "kind": "hashedrekord",
                                    "spec": {
                                        "signature": {
                                            "content": BASE64.encode(key.sign(artifact.as_bytes())?),
                                            "publicKey": { "content": BASE64.encode(key.public_key().to_pem()) },
                                        },
                                        "data": { "hash": {
                                            "algorithm": "sha256",
                                            "value": hex::encode(sha256(artifact.as_bytes())),
                                        } },
                                    },
                                });
                                Ok(request.to_string().into_bytes())
                            })
                            .collect()
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(count);
            for handle in handles {
                all.extend(
                    handle
                        .join()
                        .map_err(|_| anyhow::anyhow!("a signing thread panicked"))??,
                );
            }
            Ok(all)
        })
    }

    /// Posts `requests` to `targets` (round robin) over `concurrency` connections for at most
    /// `seconds`; returns (201s, other answers, elapsed seconds).
    fn blast(
        &self,
        targets: &[String],
        requests: Vec<Vec<u8>>,
        concurrency: usize,
        seconds: Duration,
    ) -> (u64, u64, f64) {
        let requests = Arc::new(requests);
        let next = Arc::new(AtomicUsize::new(0));
        let created = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let end = start + seconds;
        self.runtime.block_on(async {
            let tasks: Vec<_> = (0..concurrency)
                .map(|_| {
                    let (requests, next) = (Arc::clone(&requests), Arc::clone(&next));
                    let (created, failed) = (Arc::clone(&created), Arc::clone(&failed));
                    let client = self.client.clone();
                    let targets = targets.to_vec();
                    tokio::spawn(async move {
                        while Instant::now() < end {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(body) = requests.get(i) else { break };
                            let url =
                                format!("http://{}/api/v1/log/entries", targets[i % targets.len()]);
                            let answer = client
                                .post(url)
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send()
                                .await;
                            match answer {
                                Ok(r) if r.status().as_u16() == 201 => {
                                    let _ = r.bytes().await;
                                    created.fetch_add(1, Ordering::Relaxed);
                                }
                                _ => {
                                    failed.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                let _ = task.await;
            }
        });
        (
            created.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed),
            start.elapsed().as_secs_f64(),
        )
    }

    fn http_run(&self, targets: &str, args: &ClusterArgs, estimate: f64) -> Result<HttpRun> {
        let sequencer = self.sequencer()?;
        let followers: Vec<usize> = (0..self.front_ends.len())
            .filter(|&n| n != sequencer)
            .collect();
        let loaded: Vec<usize> = match targets {
            "sequencer" => vec![sequencer],
            "sequencer+1" => vec![sequencer, followers[0]],
            "sequencer+2" => vec![sequencer, followers[0], followers[1]],
            _ => followers.clone(),
        };
        let addrs: Vec<String> = loaded
            .iter()
            .map(|&n| self.front_ends[n].addr.clone())
            .collect();
        let count = (estimate * args.seconds as f64) as usize + args.concurrency;
        let requests = self.sign_requests(count)?;
        let pids: Vec<u32> = self.front_ends.iter().map(|f| f.child.id()).collect();
        let cpu_before: Vec<f64> = pids.iter().map(|&p| cpu_seconds(p)).collect();
        let (pg_before, self_before) = (postgres_cpu_seconds(), cpu_seconds(std::process::id()));
        let (created, failed, seconds) = self.blast(
            &addrs,
            requests,
            args.concurrency,
            Duration::from_secs(args.seconds),
        );
        let cpu: Vec<f64> = pids
            .iter()
            .zip(&cpu_before)
            .map(|(&p, before)| cpu_seconds(p) - before)
            .collect();
        let cpu_postgres = postgres_cpu_seconds() - pg_before;
        let cpu_load_generator = cpu_seconds(std::process::id()) - self_before;
        let server_cpu: f64 = cpu.iter().sum::<f64>() + cpu_postgres;
        let per_entry = |cpu: f64| {
            if created > 0 {
                1000.0 * cpu / created as f64
            } else {
                0.0
            }
        };
        Ok(HttpRun {
            targets: targets.to_owned(),
            front_ends_loaded: loaded.len(),
            seconds,
            created,
            failed,
            writes_per_sec: created as f64 / seconds,
            cpu_sequencer: cpu[sequencer],
            sequencer_cpu_ms_per_entry: per_entry(cpu[sequencer]),
            postgres_cpu_ms_per_entry: per_entry(cpu_postgres),
            cpu_front_ends: cpu,
            cpu_postgres,
            cpu_load_generator,
            writes_per_server_cpu_second: if server_cpu > 0.0 {
                created as f64 / server_cpu
            } else {
                0.0
            },
        })
    }

    /// SIGKILLs the sequencer under light load to the followers; returns the time until a
    /// survivor serves a tree larger than the sequencer served just before, then restarts it.
    fn failover(&mut self) -> Result<Duration> {
        let victim = self.sequencer()?;
        let survivors: Vec<String> = (0..self.front_ends.len())
            .filter(|&n| n != victim)
            .map(|n| self.front_ends[n].addr.clone())
            .collect();
        let requests = self.sign_requests(2_000)?;
        let load = {
            let client = self.client.clone();
            let survivors = survivors.clone();
            self.runtime.spawn(async move {
                for (i, body) in requests.into_iter().enumerate() {
                    let url = format!(
                        "http://{}/api/v1/log/entries",
                        survivors[i % survivors.len()]
                    );
                    let _ = client
                        .post(url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        std::thread::sleep(Duration::from_millis(500));
        let before = self
            .tree_size(&self.front_ends[victim].addr)
            .context("the sequencer did not answer before the kill")?;
        self.front_ends[victim].kill();
        let killed = Instant::now();
        let took = loop {
            if survivors
                .iter()
                .any(|addr| self.tree_size(addr).is_some_and(|s| s > before))
            {
                break killed.elapsed();
            }
            if killed.elapsed() > Duration::from_secs(120) {
                bail!("no survivor published a new checkpoint within 120 s of the kill");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        load.abort();
        self.front_ends[victim] = FrontEnd::start(&self.data, &self.database)?;
        self.wait_ready(victim)?;
        Ok(took)
    }
}
