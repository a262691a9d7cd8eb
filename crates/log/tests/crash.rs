//! Crash safety: a child process appends in a loop and prints every acknowledgement; the test
//! kills it with SIGKILL at a random moment, reopens the store, and checks that every
//! acknowledged entry is at its acknowledged index with identical bytes and that every
//! checkpoint the child saw is consistent with the newest one.
//!
//! `WAXSEAL_CRASH_CYCLES` sets the number of kill/restart cycles (default 30).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use waxseal_crypto::SigningKey;
use waxseal_log::{Config, Log, SqliteStore, check_log};
use waxseal_merkle::verify_consistency;
use waxseal_note::{Checkpoint, Ed25519Signer, Ed25519Verifier, Note};

use crate::harness::ORIGIN;

const CHILD_ENV: &str = "WAXSEAL_CRASH_CHILD_DIR";

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

fn open(dir: &Path) -> Log {
    let key_pem = std::fs::read_to_string(dir.join("key.pem")).unwrap();
    let key = SigningKey::from_pkcs8_pem(&key_pem).unwrap();
    let signer = Arc::new(Ed25519Signer::new(ORIGIN, key).unwrap());
    let store = Arc::new(SqliteStore::open(dir.join("log.db")).unwrap());
    Log::open(
        store,
        signer,
        Config::new(ORIGIN).with_batch(512, Duration::from_millis(2)),
    )
    .unwrap()
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
    let log = open(Path::new(&dir));
    let stdout = Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let deadline = Instant::now() + Duration::from_secs(30);
    std::thread::scope(|scope| {
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
fn crash_recovery_keeps_acknowledged_entries() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let cycles: u64 = std::env::var("WAXSEAL_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().unwrap();
    let key = SigningKey::generate(waxseal_crypto::Algorithm::Ed25519).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.to_pkcs8_pem().as_bytes()).unwrap();
    let verifier = Ed25519Verifier::new(ORIGIN, &key.public_key()).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = Rng::seeded();
    let mut acked: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut checkpoints: BTreeMap<u64, String> = BTreeMap::new();
    let mut total_acks = 0usize;

    for cycle in 0..cycles {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash::crash_child_appender",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .env("WAXSEAL_CRASH_CYCLE", cycle.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(line) => lines.push(line),
                    Err(_) => break,
                }
            }
            lines
        });
        // Kill at a random moment: often mid-batch, sometimes while still opening.
        std::thread::sleep(Duration::from_millis(20 + rng.below(250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();

        for line in &lines {
            if let Some(rest) = line.strip_prefix("ack ") {
                let (index, entry) = rest.split_once(' ').unwrap();
                let index: u64 = index.parse().unwrap();
                let entry = hex::decode(entry).unwrap();
                if let Some(previous) = acked.insert(index, entry.clone()) {
                    assert_eq!(
                        previous, entry,
                        "index {index} acknowledged for two different entries"
                    );
                }
                total_acks += 1;
            } else if let Some(note) = line.strip_prefix("cp ") {
                let note = String::from_utf8(BASE64.decode(note).unwrap()).unwrap();
                let cp = Checkpoint::parse(
                    Note::parse(note.as_bytes())
                        .unwrap()
                        .verify(&[&verifier])
                        .unwrap()
                        .text(),
                )
                .unwrap();
                if let Some(previous) = checkpoints.insert(cp.size(), note.clone()) {
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

        // Recover and verify everything acknowledged so far.
        let store = SqliteStore::open(dir.path().join("log.db")).unwrap();
        let checked =
            check_log(&store, &Config::new(ORIGIN), &verifier).expect("check_log after a crash");
        let log = open(dir.path());
        let latest = log.checkpoint();
        assert!(latest.size >= checked.checkpoint_size);
        for (index, entry) in &acked {
            assert_eq!(
                &log.entry(*index).unwrap(),
                entry,
                "cycle {cycle}: entry {index} changed or vanished"
            );
        }
        for (size, note) in &checkpoints {
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
    eprintln!(
        "crash test: {cycles} SIGKILL cycles, {total_acks} acknowledgements, {} entries, {} checkpoints checked",
        acked.len(),
        checkpoints.len()
    );
    assert!(
        total_acks > 0,
        "the child acknowledged nothing: the test would prove nothing"
    );
}
