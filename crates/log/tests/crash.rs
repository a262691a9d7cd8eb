//! Crash safety: a child process appends in a loop and prints every acknowledgement; the test
//! kills it with SIGKILL at a random moment, reopens the store, and checks that every
//! acknowledged entry is at its acknowledged index with identical bytes and that every
//! checkpoint the child saw is consistent with the newest one.
//!
//! It runs over SQLite and over PostgreSQL (the child learns which from `WAXSEAL_CRASH_URL`),
//! and in cluster mode: two members on one database, the sequencer member SIGKILLed each
//! cycle and replaced, so the lock moves between processes while entries are queued.
//!
//! `WAXSEAL_CRASH_CYCLES` sets the number of kill/restart cycles (default 30; cluster mode
//! runs a third of them).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use waxseal_crypto::SigningKey;
use waxseal_log::{Config, Log, PgOptions, PgStore, Role, SqliteStore, Store, check_log};
use waxseal_merkle::verify_consistency;
use waxseal_note::{Checkpoint, Ed25519Signer, Ed25519Verifier, Note};

use waxseal_log::testing::PostgresServer;

use crate::harness::{Backend, ORIGIN, Stores};

const CHILD_ENV: &str = "WAXSEAL_CRASH_CHILD_DIR";
/// The child's PostgreSQL URL; without it the child uses SQLite in its directory.
const URL_ENV: &str = "WAXSEAL_CRASH_URL";
/// Set to open the log in cluster mode.
const CLUSTER_ENV: &str = "WAXSEAL_CRASH_CLUSTER";

/// A small xorshift generator: the kill schedule needs no more.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Self(nanos | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// The store: PostgreSQL log `crash` at `url`, or SQLite in `dir`.
fn store(dir: &Path, url: Option<&str>) -> Arc<dyn Store> {
    match url {
        Some(url) => PgStore::connect(&PgOptions::new(url, "crash")).unwrap(),
        None => Arc::new(SqliteStore::open(dir.join("log.db")).unwrap()),
    }
}

fn open(dir: &Path, url: Option<&str>, cluster: bool) -> Log {
    let key_pem = std::fs::read_to_string(dir.join("key.pem")).unwrap();
    let key = SigningKey::from_pkcs8_pem(&key_pem).unwrap();
    let signer = Arc::new(Ed25519Signer::new(ORIGIN, key).unwrap());
    let config = Config::new(ORIGIN).with_batch(512, Duration::from_millis(2));
    if cluster {
        let store = PgStore::connect(&PgOptions::new(url.unwrap(), "crash")).unwrap();
        Log::open_cluster(store, signer, config).unwrap()
    } else {
        Log::open(store(dir, url), signer, config).unwrap()
    }
}

/// The child: appends from several threads until killed, printing
/// `ack <cycle> <index> <hex entry>` and `cp <base64 note>` after each acknowledgement.
///
/// Not a test of its own: `crash_recovery_keeps_acknowledged_entries` runs it in a child
/// process (`--ignored --exact`), hence `#[ignore]`.
#[test]
#[ignore = "runs only as the child process of crash_recovery_keeps_acknowledged_entries"]
fn crash_child_appender() {
    let dir = std::env::var(CHILD_ENV).expect("run by crash_recovery_keeps_acknowledged_entries");
    let cycle: u64 = std::env::var("WAXSEAL_CRASH_CYCLE")
        .unwrap()
        .parse()
        .unwrap();
    let url = std::env::var(URL_ENV).ok();
    let cluster = std::env::var(CLUSTER_ENV).is_ok();
    let log = open(Path::new(&dir), url.as_deref(), cluster);
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let deadline = Instant::now() + Duration::from_secs(30);
    std::thread::scope(|scope| {
        if cluster {
            // Tell the parent when this member becomes the sequencer.
            let (log, stdout) = (log.clone(), Arc::clone(&stdout));
            scope.spawn(move || {
                while Instant::now() < deadline {
                    if log.status().role == Role::Sequencer {
                        let mut out = stdout.lock().unwrap();
                        writeln!(out, "sequencer").unwrap();
                        out.flush().unwrap();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
        for thread in 0..4u64 {
            let (log, stdout) = (log.clone(), Arc::clone(&stdout));
            scope.spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    // Sometimes resubmit an entry of an earlier cycle: it must keep its index.
                    let entry = if n % 50 == 49 && cycle > 0 {
                        format!("entry-{}-{thread}-{}", cycle - 1, n % 7)
                    } else {
                        format!("entry-{cycle}-{thread}-{n}")
                    };
                    n += 1;
                    // A batch of a few entries in flight per thread.
                    let Ok(pending) = log.append(entry.clone().into_bytes()) else {
                        continue;
                    };
                    let Ok(appended) = pending.wait() else {
                        continue;
                    };
                    let mut out = stdout.lock().unwrap();
                    writeln!(out, "ack {} {}", appended.index, hex::encode(&entry)).unwrap();
                    writeln!(out, "cp {}", BASE64.encode(&appended.checkpoint.note)).unwrap();
                    out.flush().unwrap();
                }
            });
        }
    });
}

#[test]
fn crash_recovery_keeps_acknowledged_entries_sqlite() {
    crash_recovery(Backend::Sqlite);
}

#[test]
fn crash_recovery_keeps_acknowledged_entries_postgres() {
    crash_recovery(Backend::Postgres);
}

#[test]
fn cluster_crash_recovery_keeps_acknowledged_entries() {
    cluster_crash_recovery();
}

fn cycles() -> u64 {
    std::env::var("WAXSEAL_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30)
}

/// A running child and the lines it has printed so far.
struct Child {
    process: std::process::Child,
    lines: Arc<std::sync::Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
}

impl Child {
    fn spawn(dir: &Path, url: Option<&str>, cluster: bool, cycle: u64) -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut command = Command::new(&exe);
        command
            .args([
                "--ignored",
                "--exact",
                "crash::crash_child_appender",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir)
            .env("WAXSEAL_CRASH_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(url) = url {
            command.env(URL_ENV, url);
        }
        if cluster {
            command.env(CLUSTER_ENV, "1");
        }
        let mut process = command.spawn().unwrap();
        let stdout = process.stdout.take().unwrap();
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => sink.lock().unwrap().push(line),
                    Err(_) => break,
                }
            }
        });
        Self {
            process,
            lines,
            reader,
        }
    }

    fn is_sequencer(&self) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| unprefixed(l) == "sequencer")
    }

    /// SIGKILLs the child and returns everything it printed, once its database sessions (if
    /// any) have ended: a transaction it sent may still commit until then.
    fn kill(mut self, server: Option<&PostgresServer>) -> Vec<String> {
        self.process.kill().unwrap(); // SIGKILL
        self.process.wait().unwrap();
        if let Some(server) = server {
            server
                .wait_for_sessions_to_end(self.process.id(), Duration::from_secs(20))
                .unwrap();
        }
        self.reader.join().unwrap();
        std::mem::take(&mut *self.lines.lock().unwrap())
    }
}

/// A child's line without the test harness's `test crash::crash_child_appender ... ` prefix,
/// which the first printed line carries.
fn unprefixed(line: &str) -> &str {
    line.split_once(" ... ").map_or(line, |(_, rest)| rest)
}

/// Everything the children acknowledged and every checkpoint they saw, checked as it comes.
struct Seen {
    verifier: Ed25519Verifier,
    acked: BTreeMap<u64, Vec<u8>>,
    checkpoints: BTreeMap<u64, String>,
    total_acks: usize,
}

impl Seen {
    fn record(&mut self, lines: &[String]) {
        for line in lines {
            let line = unprefixed(line);
            if let Some(rest) = line.strip_prefix("ack ") {
                let (index, entry) = rest.split_once(' ').unwrap();
                let index: u64 = index.parse().unwrap();
                let entry = hex::decode(entry).unwrap();
                if let Some(previous) = self.acked.insert(index, entry.clone()) {
                    assert_eq!(
                        previous, entry,
                        "index {index} acknowledged for two different entries"
                    );
                }
                self.total_acks += 1;
            } else if let Some(note) = line.strip_prefix("cp ") {
                let note = String::from_utf8(BASE64.decode(note).unwrap()).unwrap();
                let cp = Checkpoint::parse(
                    Note::parse(note.as_bytes())
                        .unwrap()
                        .verify(&[&self.verifier])
                        .unwrap()
                        .text(),
                )
                .unwrap();
                if let Some(previous) = self.checkpoints.insert(cp.size(), note.clone()) {
                    let old = Checkpoint::parse(Note::parse(previous.as_bytes()).unwrap().text())
                        .unwrap();
                    assert_eq!(
                        old.root(),
                        cp.root(),
                        "two checkpoints of size {} differ",
                        cp.size()
                    );
                }
            }
        }
    }

    /// Every acknowledged entry is at its index; every checkpoint seen is consistent with the
    /// log's latest.
    fn verify(&self, log: &Log, cycle: u64) {
        let latest = log.checkpoint();
        for (index, entry) in &self.acked {
            assert_eq!(
                &log.entry(*index).unwrap(),
                entry,
                "cycle {cycle}: entry {index} changed or vanished"
            );
        }
        for (size, note) in &self.checkpoints {
            let cp = Checkpoint::parse(Note::parse(note.as_bytes()).unwrap().text()).unwrap();
            let proof = log.prove_consistency(*size, latest.size).unwrap();
            verify_consistency(*size, latest.size, &cp.root(), &latest.root, &proof)
                .unwrap_or_else(|e| {
                    panic!(
                        "cycle {cycle}: checkpoint {size} inconsistent with {}: {e}",
                        latest.size
                    )
                });
        }
    }
}

/// A directory with the log's key, and the verifier of its checkpoints.
fn setup() -> (tempfile::TempDir, Seen) {
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(waxseal_crypto::Algorithm::Ed25519).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.to_pkcs8_pem().as_bytes()).unwrap();
    let verifier = Ed25519Verifier::new(ORIGIN, &key.public_key()).unwrap();
    let seen = Seen {
        verifier,
        acked: BTreeMap::new(),
        checkpoints: BTreeMap::new(),
        total_acks: 0,
    };
    (dir, seen)
}

fn crash_recovery(backend: Backend) {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let stores = Stores::new(backend);
    let url = (backend == Backend::Postgres).then(|| stores.url().to_string());
    let url = url.as_deref();
    let cycles = cycles();
    let (dir, mut seen) = setup();
    let mut rng = Rng::seeded();

    for cycle in 0..cycles {
        let child = Child::spawn(dir.path(), url, false, cycle);
        // Kill at a random moment: often mid-batch, sometimes while still opening.
        std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
        seen.record(&child.kill(url.map(|_| stores.server())));

        // Recover and verify everything acknowledged so far. A child killed while it still
        // opened the very first time left a log with no checkpoint and nothing in it.
        let crashed = store(dir.path(), url);
        let state = crashed.load().unwrap();
        let checked = match state.checkpoint {
            None => {
                assert_eq!(state.size, 0, "cycle {cycle}: entries but no checkpoint");
                assert_eq!(seen.total_acks, 0, "cycle {cycle}: acks but no checkpoint");
                0
            }
            Some(_) => {
                check_log(crashed.as_ref(), &Config::new(ORIGIN), &seen.verifier)
                    .expect("check_log after a crash")
                    .checkpoint_size
            }
        };
        drop(crashed);
        let log = open(dir.path(), url, false);
        assert!(log.checkpoint().size >= checked);
        seen.verify(&log, cycle);
    }
    eprintln!(
        "crash test ({backend:?}): {cycles} SIGKILL cycles, {} acknowledgements, {} entries, {} checkpoints checked",
        seen.total_acks,
        seen.acked.len(),
        seen.checkpoints.len()
    );
    assert!(
        seen.total_acks > 0,
        "the child acknowledged nothing: the test would prove nothing"
    );
}

fn cluster_crash_recovery() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let stores = Stores::new(Backend::Postgres);
    let url = stores.url().to_string();
    let cycles = (cycles() / 3).max(2);
    let (dir, mut seen) = setup();
    let mut rng = Rng::seeded();
    let mut members = vec![
        Child::spawn(dir.path(), Some(&url), true, 0),
        Child::spawn(dir.path(), Some(&url), true, 1),
    ];
    let mut kills = 0;
    for cycle in 2..cycles + 2 {
        // Wait for a sequencer, let it work a little, then kill it mid-stream.
        let deadline = Instant::now() + Duration::from_secs(20);
        let position = loop {
            if let Some(p) = members.iter().position(Child::is_sequencer) {
                break p;
            }
            assert!(
                Instant::now() < deadline,
                "cycle {cycle}: no member took the lock"
            );
            std::thread::sleep(Duration::from_millis(10));
        };
        std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
        seen.record(&members.swap_remove(position).kill(Some(stores.server())));
        kills += 1;
        members.push(Child::spawn(dir.path(), Some(&url), true, cycle));
    }
    for member in members {
        seen.record(&member.kill(Some(stores.server())));
    }

    // A last member drains whatever the dead ones queued, exactly once each: check_log fails
    // on an entry logged twice (its dedup key maps to the first copy only).
    let log = open(dir.path(), Some(&url), true);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "the queue did not drain");
        if log.status().role == Role::Sequencer {
            // The queue length is polled once a second: look twice, past one refresh.
            std::thread::sleep(Duration::from_millis(1500));
            if log.status().queued == 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(log);
    let store = store(dir.path(), Some(&url));
    let checked =
        check_log(store.as_ref(), &Config::new(ORIGIN), &seen.verifier).expect("check_log");
    let final_log = open(dir.path(), Some(&url), false);
    assert!(final_log.checkpoint().size >= checked.checkpoint_size);
    seen.verify(&final_log, cycles);
    eprintln!(
        "cluster crash test: {kills} sequencer SIGKILLs, {} acknowledgements, {} entries, {} checkpoints checked, {} integrated",
        seen.total_acks,
        seen.acked.len(),
        seen.checkpoints.len(),
        checked.size
    );
    assert!(
        kills >= 2 && seen.total_acks > 0,
        "the test would prove nothing"
    );
}
