//! A cluster on PostgreSQL, as its clients see it: a real PostgreSQL server in a temporary
//! directory (`waxseal_log::testing::PostgresServer`), three `waxseal serve --database` front
//! ends started at once on one fresh data directory, and Rekor v1 hashedrekord writes (fresh
//! P-256 keys) spread over all three. At a random moment of every cycle the test SIGKILLs the
//! front end holding the Rekor v1 sequencer lock, measures the time until a surviving front end
//! serves a newer checkpoint (the failover), restarts the killed one, and checks:
//!
//! - the three front ends agree on the keys created in the race: one trusted root, served by
//!   each, and one key file of each kind;
//! - through the entry API (`GET /api/v1/log/entries/{uuid}` on any live front end): every 201
//!   is served with the acknowledged `body`, `integratedTime`, `logID` and `logIndex`, its SET
//!   verifies with the trusted root's key and its inclusion proof against its checkpoint;
//! - through the stored tiles and bundles (read from the database with `PgStore`):
//!   `check_log` recomputes the whole tree and verifies the checkpoint signature, and every
//!   acknowledged body is in the log exactly once, at its acknowledged index;
//! - every checkpoint any client was shown is consistent with the newest one (a consistency
//!   proof from `/api/v1/log/proof`, and one built from the stored tiles, both verified); two
//!   checkpoints of one size have one root;
//! - failover stays under [`FAILOVER_BOUND`] (the README states the measured figure);
//! - Rekor v2 and CT (a certificate from the CA, whose precertificate the CT log sequences)
//!   accept writes through a front end that is not that log's sequencer;
//! - `/healthz`, `/readyz`, `/metrics` and `waxseal admin status` describe the cluster, and
//!   `/readyz` turns 503 once the database is gone.
//!
//! `WAXSEAL_CLUSTER_CYCLES` sets the number of kill/restart cycles (default 20).

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use waxseal_bundle::TrustedRoot;
use waxseal_bundle::rekor::{LogEntry, TransparencyLogEntry, set_payload};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, pem, sha256};
use waxseal_log::testing::PostgresServer;
use waxseal_log::{Config, PgOptions, PgStore, Store};
use waxseal_merkle::{Hash, leaf_hash, prove_consistency, verify_consistency, verify_inclusion};
use waxseal_note::{Checkpoint, Ed25519Verifier, Note, NoteVerifier, RekorV1Verifier};
use waxseal_tiles::{EntryBundle, HashTile, TILE_WIDTH, TileHashReader, TileReader};

use crate::support::{text, waxseal};

/// The public URL every front end is started with (what a load balancer would be reached at).
const PUBLIC_HOST: &str = "cluster.waxseal.test";
const FRONT_ENDS: usize = 3;
/// Client threads; thread `t` writes through front end `t % FRONT_ENDS`.
const CLIENT_THREADS: usize = 6;
const IO_TIMEOUT: Duration = Duration::from_secs(30);
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The failover bound this test enforces: from SIGKILL of the sequencer to a newer checkpoint
/// served by a survivor. The kernel closes the dead sequencer's session, PostgreSQL drops its
/// advisory lock, a survivor takes it at its next try (every 300 ms), reloads the tree and
/// publishes the queued batch: a few hundred milliseconds (the README gives the measured
/// figures); the bound leaves room for a loaded 2-core CI machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(5);

/// A small xorshift generator for the kill schedule.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        eprintln!("cluster test seed {nanos}");
        Self(nanos | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A complete HTTP response (the body is as long as `Content-Length` says).
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// One HTTP/1.1 request on its own connection, every step bounded by [`IO_TIMEOUT`].
fn http(addr: &str, method: &str, path: &str, body: &[u8]) -> io::Result<Response> {
    let socket: SocketAddr = addr
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{addr}: {e}")))?;
    let mut stream = TcpStream::connect_timeout(&socket, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {PUBLIC_HOST}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    stream.write_all(&request)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let truncated = |what: &str| io::Error::new(io::ErrorKind::UnexpectedEof, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| truncated("no complete response head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| truncated("no status code"))?;
    let length: usize = head
        .lines()
        .skip(1)
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .ok_or_else(|| truncated("no Content-Length"))?;
    let body = raw[split + 4..].to_vec();
    if body.len() != length {
        return Err(truncated(&format!(
            "body has {} of {length} bytes",
            body.len()
        )));
    }
    Ok(Response { status, body })
}

/// A running `waxseal serve --database`, killed on drop.
struct FrontEnd {
    child: Child,
    /// `127.0.0.1:port` it listens on.
    addr: String,
}

impl FrontEnd {
    /// Spawns a front end; [`FrontEnd::wait_started`] waits for its address.
    fn spawn(data: &Path, database: &str) -> (Child, mpsc::Receiver<String>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_waxseal"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(["--database", database])
            .args(["--public-url", &format!("http://{PUBLIC_HOST}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        (child, rx)
    }

    fn wait_started(mut child: Child, lines: &mpsc::Receiver<String>) -> Self {
        let end = Instant::now() + START_TIMEOUT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = line.strip_prefix("waxseal: listening on ") {
                        return Self {
                            child,
                            addr: addr.trim().to_owned(),
                        };
                    }
                }
                Err(e) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!(
                        "waxseal serve printed no address within {START_TIMEOUT:?} ({e}): {status:?}"
                    );
                }
            }
        }
    }

    fn start(data: &Path, database: &str) -> Self {
        let (child, lines) = Self::spawn(data, database);
        let front_end = Self::wait_started(child, &lines);
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || while lines.recv().is_ok() {});
        front_end
    }

    fn get(&self, path: &str) -> Response {
        http(&self.addr, "GET", path, &[])
            .unwrap_or_else(|e| panic!("GET {path} on live front end {}: {e}", self.addr))
    }

    fn get_ok(&self, path: &str) -> Vec<u8> {
        let response = self.get(path);
        assert_eq!(
            response.status,
            200,
            "GET {path} on {}: {}",
            self.addr,
            String::from_utf8_lossy(&response.body)
        );
        response.body
    }

    fn status(&self) -> Value {
        serde_json::from_slice(&self.get_ok("/admin/status")).unwrap()
    }

    /// This front end's role for `log` in `/admin/status`.
    fn role(&self, log: &str) -> String {
        let status = self.status();
        status["logs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["name"] == log)
            .unwrap_or_else(|| panic!("no {log} in {status}"))["role"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits until `/readyz` answers 200.
    fn wait_ready(&self) {
        let end = Instant::now() + START_TIMEOUT;
        loop {
            let response = self.get("/readyz");
            if response.status == 200 {
                return;
            }
            assert!(
                Instant::now() < end,
                "{} not ready within {START_TIMEOUT:?}: {}",
                self.addr,
                String::from_utf8_lossy(&response.body)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for FrontEnd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Rekor v1 hashedrekord request signed by `key` over `artifact`.
fn hashedrekord_v1(key: &SigningKey, artifact: &[u8]) -> Vec<u8> {
    let request = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "signature": {
                "content": BASE64.encode(key.sign(artifact).unwrap()),
                "publicKey": { "content": BASE64.encode(key.public_key().to_pem()) },
            },
            "data": { "hash": { "algorithm": "sha256", "value": hex::encode(sha256(artifact)) } },
        },
    });
    serde_json::to_vec(&request).unwrap()
}

/// A Rekor v2 hashedrekord 0.0.2 request signed by `key` over `artifact`.
fn hashedrekord_v2(key: &SigningKey, artifact: &[u8]) -> Vec<u8> {
    let request = json!({
        "hashedRekordRequestV002": {
            "digest": BASE64.encode(sha256(artifact)),
            "signature": {
                "content": BASE64.encode(key.sign(artifact).unwrap()),
                "verifier": {
                    "publicKey": { "rawBytes": BASE64.encode(key.public_key().spki_der()) },
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                },
            },
        },
    });
    serde_json::to_vec(&request).unwrap()
}

/// The instance's Rekor v1 key and checkpoint verifier.
struct Trust {
    v1_key: PublicKey,
    v1_log_id: [u8; 32],
    v1_verifier: RekorV1Verifier,
    v1_origin: String,
    v2_verifier: Ed25519Verifier,
    root: TrustedRoot,
}

impl Trust {
    fn read(data: &Path) -> Self {
        let bytes = std::fs::read(data.join("trust/trusted_root.json")).unwrap();
        let root = TrustedRoot::from_json(&bytes).unwrap();
        let v1_key = PublicKey::from_spki_der(&root.tlogs[0].public_key.raw_bytes).unwrap();
        let v2_key = PublicKey::from_spki_der(&root.tlogs[1].public_key.raw_bytes).unwrap();
        let setting = |name: &str| {
            std::fs::read_to_string(data.join(name))
                .unwrap()
                .trim()
                .to_owned()
        };
        Self {
            v1_log_id: sha256(v1_key.spki_der()),
            v1_verifier: RekorV1Verifier::new(&setting("rekor-v1-name"), &v1_key).unwrap(),
            v1_origin: setting("rekor-v1-origin"),
            v2_verifier: Ed25519Verifier::new(&setting("rekor-v2-origin"), &v2_key).unwrap(),
            v1_key,
            root,
        }
    }

    fn v1_checkpoint(&self, note: &[u8]) -> Checkpoint {
        verified_checkpoint(note, &self.v1_verifier)
    }
}

fn verified_checkpoint(note: &[u8], verifier: &dyn NoteVerifier) -> Checkpoint {
    let note = Note::parse(note).unwrap();
    let verified = note
        .verify(&[verifier])
        .unwrap_or_else(|e| panic!("checkpoint signature: {e}\n{}", note.encode()));
    Checkpoint::parse(verified.text()).unwrap()
}

fn hashes(list: &[Vec<u8>]) -> Vec<Hash> {
    list.iter().map(|h| Hash::from_slice(h).unwrap()).collect()
}

/// A v1 201 as the client received it, verified on receipt.
struct V1Ack {
    uuid: String,
    /// The entry object as answered.
    entry: Value,
    body: Vec<u8>,
    index: u64,
    checkpoint: Checkpoint,
}

/// Verifies a v1 answer's SET, inclusion proof and checkpoint signature.
fn check_v1_answer(trust: &Trust, answer: &[u8]) -> V1Ack {
    let answer: Value = serde_json::from_slice(answer).unwrap();
    let (uuid, entry) = answer.as_object().unwrap().iter().next().unwrap();
    let parsed = LogEntry::from_json(&serde_json::to_vec(entry).unwrap()).unwrap();
    let index = u64::try_from(parsed.log_index).unwrap();
    assert_eq!(parsed.log_id, trust.v1_log_id, "entry {uuid}: log ID");
    assert_eq!(&uuid[uuid.len() - 64..], leaf_hash(&parsed.body).to_hex());
    let verification = parsed.verification.as_ref().unwrap();
    let payload = set_payload(
        &parsed.body,
        parsed.integrated_time,
        &trust.v1_log_id,
        index,
    );
    trust
        .v1_key
        .verify(&payload, &verification.signed_entry_timestamp)
        .unwrap_or_else(|e| panic!("entry {uuid}: SET: {e}"));
    let proof = verification.inclusion_proof.as_ref().unwrap();
    let checkpoint = trust.v1_checkpoint(proof.checkpoint.as_bytes());
    assert_eq!(checkpoint.size(), u64::try_from(proof.tree_size).unwrap());
    verify_inclusion(
        &leaf_hash(&parsed.body),
        index,
        checkpoint.size(),
        &hashes(&proof.hashes),
        &checkpoint.root(),
    )
    .unwrap_or_else(|e| panic!("entry {uuid}: inclusion proof: {e}"));
    V1Ack {
        uuid: uuid.clone(),
        entry: entry.clone(),
        body: parsed.body,
        index,
        checkpoint,
    }
}

/// What the client threads saw in one cycle.
#[derive(Default)]
struct Load {
    /// 201 answers (raw bodies).
    acks: Vec<Vec<u8>>,
    /// 503 answers (pushback, or the sequencer unreachable for too long).
    unavailable: usize,
    /// Requests cut off by the kill (transport errors on the killed front end).
    cut_off: usize,
}

/// A client thread: posts fresh v1 entries to `addr` until `stop`, or until the front end
/// disappears after `killed` was set. Any other failure, and any answer other than 201 or
/// 503, fails the test.
#[allow(clippy::too_many_arguments)]
fn client(
    addr: &str,
    key: &SigningKey,
    label: &str,
    stop: &AtomicBool,
    killed: &AtomicBool,
    is_victim: bool,
    load: &Mutex<Load>,
    sent: &AtomicUsize,
) -> Result<(), String> {
    for n in 0u64.. {
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let artifact = format!(
            "cluster {label} {n} {}",
            sent.fetch_add(1, Ordering::SeqCst)
        );
        let request = hashedrekord_v1(key, artifact.as_bytes());
        match http(addr, "POST", "/api/v1/log/entries", &request) {
            Ok(response) if response.status == 201 => {
                load.lock().unwrap().acks.push(response.body);
            }
            Ok(response) if response.status == 503 => {
                load.lock().unwrap().unavailable += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(response) => {
                return Err(format!(
                    "{label}: {addr} answered {}: {}",
                    response.status,
                    String::from_utf8_lossy(&response.body)
                ));
            }
            Err(_) if is_victim && killed.load(Ordering::SeqCst) => {
                load.lock().unwrap().cut_off += 1;
                return Ok(());
            }
            Err(e) => return Err(format!("{label}: live front end {addr} failed: {e}")),
        }
    }
    unreachable!("the loop only ends by returning")
}

/// Hash tiles read straight from the database. Untrusted like any tile source: every proof
/// built from them is verified against a signed checkpoint.
struct StoreTiles<'a>(&'a PgStore);

impl TileReader for StoreTiles<'_> {
    type Error = String;

    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<HashTile, String> {
        let bytes = self
            .0
            .read_tile(level, index)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("tile {level}/{index} is not stored"))?;
        let tile = HashTile::parse(&bytes).map_err(|e| e.to_string())?;
        tile.truncated(width).map_err(|e| e.to_string())
    }
}

/// The stored log: `check_log` over the whole tree, then each acknowledged body exactly once
/// at its index. Returns the stored checkpoint.
fn check_store(store: &PgStore, trust: &Trust, acks: &BTreeMap<u64, V1Ack>) -> Checkpoint {
    let checked = waxseal_log::check_log(
        store,
        &Config::new(trust.v1_origin.clone()),
        &trust.v1_verifier,
    )
    .unwrap_or_else(|e| panic!("check_log of the stored rekor-v1 log: {e}"));
    let state = store.load().unwrap();
    let stored = trust.v1_checkpoint(&state.checkpoint.unwrap().note);
    assert_eq!(stored.size(), checked.checkpoint_size);
    let mut positions: BTreeMap<Hash, Vec<u64>> = BTreeMap::new();
    for bundle_index in 0..checked.size.div_ceil(TILE_WIDTH) {
        let bytes = store.read_bundle(bundle_index).unwrap().unwrap();
        let bundle = EntryBundle::parse(&bytes).unwrap();
        for (offset, entry) in bundle.entries().iter().enumerate() {
            positions
                .entry(leaf_hash(entry))
                .or_default()
                .push(bundle_index * TILE_WIDTH + offset as u64);
        }
    }
    for (index, ack) in acks {
        let at = positions.get(&leaf_hash(&ack.body)).map(Vec::as_slice);
        assert_eq!(
            at,
            Some(&[*index][..]),
            "acknowledged entry {} (index {index}) must be stored exactly once, at its index",
            ack.uuid
        );
    }
    stored
}

/// Everything acknowledged so far, through the entry API of the live front ends, and every
/// checkpoint seen, by a consistency proof to the newest one from the API and from the tiles.
fn check_api(
    front_ends: &[FrontEnd],
    trust: &Trust,
    store: &PgStore,
    acks: &BTreeMap<u64, V1Ack>,
    from: u64,
    checkpoints: &BTreeMap<u64, Hash>,
    cycle: usize,
) -> (usize, Checkpoint) {
    let info: Value = serde_json::from_slice(&front_ends[0].get_ok("/api/v1/log")).unwrap();
    let latest = trust.v1_checkpoint(info["signedTreeHead"].as_str().unwrap().as_bytes());
    let mut checked = 0;
    for (n, (index, ack)) in acks.range(from..).enumerate() {
        checked += 1;
        let front_end = &front_ends[n % front_ends.len()];
        let answer = front_end.get_ok(&format!("/api/v1/log/entries/{}", ack.uuid));
        let served: Value = serde_json::from_slice(&answer).unwrap();
        let entry = served
            .as_object()
            .unwrap()
            .get(&ack.uuid)
            .unwrap_or_else(|| panic!("cycle {cycle}: {} served another UUID: {served}", ack.uuid));
        for field in ["body", "integratedTime", "logID", "logIndex"] {
            assert_eq!(
                entry[field], ack.entry[field],
                "cycle {cycle}: entry {} (index {index}): {field} differs on {}",
                ack.uuid, front_end.addr
            );
        }
        let again = check_v1_answer(trust, &answer);
        assert_eq!(again.index, *index);
    }
    let tiles = TileHashReader::new(latest.size(), StoreTiles(store));
    for (&size, root) in checkpoints {
        if size > latest.size() {
            continue; // Proven at the next pass (a front end may lag the newest by a batch).
        }
        let proof: Value = serde_json::from_slice(
            &front_ends[size as usize % front_ends.len()].get_ok(&format!(
                "/api/v1/log/proof?firstSize={size}&lastSize={}",
                latest.size()
            )),
        )
        .unwrap();
        let path: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        verify_consistency(size, latest.size(), root, &latest.root(), &path).unwrap_or_else(|e| {
            panic!(
                "cycle {cycle}: checkpoint {size} is inconsistent with {}: {e}",
                latest.size()
            )
        });
        let from_tiles = prove_consistency(size, latest.size(), &tiles).unwrap();
        verify_consistency(size, latest.size(), root, &latest.root(), &from_tiles)
            .unwrap_or_else(|e| panic!("cycle {cycle}: tiles: checkpoint {size}: {e}"));
    }
    (checked, latest)
}

/// Records a checkpoint a client was shown; two of one size must have one root.
fn record(checkpoints: &mut BTreeMap<u64, Hash>, checkpoint: &Checkpoint) {
    if let Some(root) = checkpoints.insert(checkpoint.size(), checkpoint.root()) {
        assert_eq!(
            root,
            checkpoint.root(),
            "two checkpoints of size {} differ",
            checkpoint.size()
        );
    }
}

/// The newest v1 tree size `front_end` serves, or `None` if it does not answer.
fn served_size(addr: &str) -> Option<u64> {
    let response = http(addr, "GET", "/api/v1/log", &[]).ok()?;
    let info: Value = serde_json::from_slice(&response.body).ok()?;
    info["treeSize"].as_u64()
}

/// The index of the front end that sequences `log`, waiting for one to hold the lock.
fn sequencer_of(front_ends: &[FrontEnd], log: &str) -> usize {
    let end = Instant::now() + START_TIMEOUT;
    loop {
        let roles: Vec<String> = front_ends.iter().map(|f| f.role(log)).collect();
        let holders: Vec<usize> = (0..roles.len())
            .filter(|&i| roles[i] == "sequencer")
            .collect();
        assert!(holders.len() <= 1, "two sequencers of {log}: {roles:?}");
        if let [one] = holders[..] {
            return one;
        }
        assert!(
            Instant::now() < end,
            "no front end sequences {log}: {roles:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Rekor v2 write through a front end that does not sequence the v2 log, checked against the
/// tiles that front end serves.
fn write_v2_through_follower(front_ends: &[FrontEnd], trust: &Trust) {
    let sequencer = sequencer_of(front_ends, "rekor-v2");
    let follower = &front_ends[(sequencer + 1) % front_ends.len()];
    assert_eq!(follower.role("rekor-v2"), "follower");
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let request = hashedrekord_v2(&key, b"cluster v2 artifact");
    let response = http(&follower.addr, "POST", "/api/v2/log/entries", &request).unwrap();
    assert_eq!(
        response.status,
        201,
        "v2 write through a follower: {}",
        String::from_utf8_lossy(&response.body)
    );
    let entry = TransparencyLogEntry::from_json(&response.body).unwrap();
    let index = u64::try_from(entry.log_index).unwrap();
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let checkpoint = verified_checkpoint(
        proof.checkpoint.as_ref().unwrap().envelope.as_bytes(),
        &trust.v2_verifier,
    );
    verify_inclusion(
        &leaf_hash(&entry.canonicalized_body),
        index,
        checkpoint.size(),
        &hashes(&proof.hashes),
        &checkpoint.root(),
    )
    .unwrap();
    let served = verified_checkpoint(&follower.get_ok("/api/v2/checkpoint"), &trust.v2_verifier);
    assert!(
        served.size() > index,
        "the follower serves a tree with the entry"
    );
}

/// A certificate from the CA of a front end that does not sequence the CT log: its embedded
/// SCT's `leaf_index` is inside the CT checkpoint that front end serves.
fn issue_through_ct_follower(front_ends: &[FrontEnd], trust: &Trust, data: &Path) {
    const EMAIL: &str = "robot@example.com";
    let sequencer = sequencer_of(front_ends, "ct");
    let follower = &front_ends[(sequencer + 1) % front_ends.len()];
    assert_eq!(follower.role("ct"), "follower");
    let out = waxseal(&[
        "token",
        "--subject",
        "robot",
        "--email",
        EMAIL,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": BASE64.encode(key.sign(EMAIL.as_bytes()).unwrap()),
        },
    })
    .to_string();
    let response = http(
        &follower.addr,
        "POST",
        "/api/v2/signingCert",
        body.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        response.status,
        201,
        "certificate through a CT follower: {}",
        String::from_utf8_lossy(&response.body)
    );
    let reply: Value = serde_json::from_slice(&response.body).unwrap();
    let leaf = reply["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap();
    let leaf = pem::decode(leaf, pem::CERTIFICATE).unwrap();
    let info = waxseal_x509::parse_leaf(&leaf).unwrap();
    let ct_key = PublicKey::from_spki_der(&trust.root.ctlogs[0].public_key.raw_bytes).unwrap();
    let intermediate = &trust.root.certificate_authorities[0]
        .cert_chain
        .certificates[0]
        .raw_bytes;
    let issuer_key_hash = sha256(
        waxseal_x509::Certificate::from_der(intermediate.clone())
            .unwrap()
            .public_key()
            .unwrap()
            .spki_der(),
    );
    let sct = &info.scts[0];
    waxseal_x509::verify_sct(sct, &ct_key, &issuer_key_hash, &info.precert_tbs).unwrap();
    let index = sct.leaf_index().unwrap().unwrap();
    let origin = std::fs::read_to_string(data.join("ct-origin")).unwrap();
    let verifier = waxseal_note::Rfc6962Verifier::new(origin.trim(), &ct_key).unwrap();
    let checkpoint = verified_checkpoint(&follower.get_ok("/ct/checkpoint"), &verifier);
    assert!(
        index < checkpoint.size(),
        "the SCT's leaf index is in the CT tree"
    );
}

/// The operator's view: health, readiness, metrics and `waxseal admin status`.
fn check_operator_view(front_ends: &[FrontEnd], sequencer: usize) {
    for front_end in front_ends {
        assert_eq!(front_end.get("/healthz").status, 200);
        front_end.wait_ready();
    }
    let metrics = String::from_utf8(front_ends[sequencer].get_ok("/metrics")).unwrap();
    for want in [
        "waxseal_log_sequencer{log=\"rekor-v1\"} 1",
        "waxseal_log_queued_entries{log=\"rekor-v1\"}",
        "waxseal_log_checkpoint_age_seconds{log=\"rekor-v1\"}",
        "waxseal_log_last_batch_entries{log=\"rekor-v1\"}",
        "waxseal_log_lock_changes{log=\"rekor-v1\"}",
    ] {
        assert!(metrics.contains(want), "/metrics lacks {want}:\n{metrics}");
    }
    let follower = (sequencer + 1) % front_ends.len();
    let out = waxseal(&[
        "admin",
        "status",
        "--url",
        &front_ends[follower].addr,
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["backend"], "postgres");
    let v1 = status["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "rekor-v1")
        .unwrap();
    assert_eq!(v1["role"], "follower", "{status}");
    assert!(
        v1["sequencer"].is_string(),
        "the follower names the sequencer: {status}"
    );
    assert!(v1["sizes"]["total_bytes"].as_u64().unwrap() > 0, "{status}");
    let out = waxseal(&["admin", "status", "--url", &front_ends[sequencer].addr]);
    assert!(out.status.success(), "{}", text(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("rekor-v1") && l.contains("sequencer")),
        "{table}"
    );
}

/// Starts the three front ends at once on the fresh data directory.
fn start_cluster(data: &Path, database: &str) -> Vec<FrontEnd> {
    let spawned: Vec<_> = (0..FRONT_ENDS)
        .map(|_| FrontEnd::spawn(data, database))
        .collect();
    spawned
        .into_iter()
        .map(|(child, lines)| {
            let front_end = FrontEnd::wait_started(child, &lines);
            std::thread::spawn(move || while lines.recv().is_ok() {});
            front_end
        })
        .collect()
}

/// The key race on first start left one key of each kind, and every front end serves the
/// trusted root on disk.
fn check_one_instance(front_ends: &[FrontEnd], data: &PathBuf) {
    let on_disk = std::fs::read(data.join("trust/trusted_root.json")).unwrap();
    for front_end in front_ends {
        assert_eq!(
            front_end.get_ok("/trust/trusted_root.json"),
            on_disk,
            "{} serves another trusted root than the data directory's",
            front_end.addr
        );
    }
    let names: Vec<String> = std::fs::read_dir(data)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "temporary files left: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.ends_with(".db")),
        "no SQLite store: {names:?}"
    );
}

#[test]
fn sigkill_of_the_sequencer_keeps_every_acknowledged_entry() {
    let started = Instant::now();
    let cycles: usize = std::env::var("WAXSEAL_CLUSTER_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let postgres = PostgresServer::start().unwrap_or_else(|e| panic!("PostgreSQL: {e}"));
    let database = postgres.create_database("waxseal").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut rng = Rng::seeded();
    let keys: Vec<SigningKey> = (0..CLIENT_THREADS)
        .map(|_| SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap())
        .collect();

    let mut front_ends = start_cluster(&data, &database);
    for front_end in &front_ends {
        front_end.wait_ready();
    }
    check_one_instance(&front_ends, &data);
    let trust = Trust::read(&data);
    let store = PgStore::connect(&PgOptions::new(&database, "rekor-v1")).unwrap();

    let mut acks: BTreeMap<u64, V1Ack> = BTreeMap::new();
    let mut checkpoints: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut failovers: Vec<Duration> = Vec::new();
    let (mut unavailable, mut cut_off, mut entry_checks) = (0usize, 0usize, 0usize);
    let sent = AtomicUsize::new(0);

    for cycle in 0..cycles {
        let victim = sequencer_of(&front_ends, "rekor-v1");
        let addrs: Vec<String> = front_ends.iter().map(|f| f.addr.clone()).collect();
        let stop = AtomicBool::new(false);
        let killed = AtomicBool::new(false);
        let load = Mutex::new(Load::default());
        let delay = Duration::from_millis(200 + rng.below(1000));
        let failover = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..CLIENT_THREADS)
                .map(|t| {
                    let slot = t % FRONT_ENDS;
                    let (addr, key) = (&addrs[slot], &keys[t]);
                    let (stop, killed, load, sent) = (&stop, &killed, &load, &sent);
                    let label = format!("cycle {cycle} thread {t}");
                    scope.spawn(move || {
                        client(addr, key, &label, stop, killed, slot == victim, load, sent)
                    })
                })
                .collect();
            std::thread::sleep(delay);
            // The newest tree before the kill, as the sequencer serves it (it may sign one more
            // batch before the signal lands, which makes the figure slightly optimistic).
            let before = served_size(&addrs[victim]).unwrap_or(0);
            killed.store(true, Ordering::SeqCst);
            front_ends[victim].kill();
            let kill_time = Instant::now();
            let survivors: Vec<&String> = (0..FRONT_ENDS)
                .filter(|&i| i != victim)
                .map(|i| &addrs[i])
                .collect();
            let failover = loop {
                if survivors
                    .iter()
                    .any(|addr| served_size(addr).is_some_and(|s| s > before))
                {
                    break kill_time.elapsed();
                }
                assert!(
                    kill_time.elapsed() < FAILOVER_BOUND * 3,
                    "cycle {cycle}: no survivor published past {before} in {:?}",
                    FAILOVER_BOUND * 3
                );
                std::thread::sleep(Duration::from_millis(10));
            };
            // Some more load on the new sequencer, then stop.
            std::thread::sleep(Duration::from_millis(100 + rng.below(300)));
            stop.store(true, Ordering::SeqCst);
            for handle in handles {
                handle
                    .join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
            }
            failover
        });
        failovers.push(failover);
        front_ends[victim] = FrontEnd::start(&data, &database);
        front_ends[victim].wait_ready();

        let load = load.into_inner().unwrap();
        let first_new = acks.keys().next_back().map_or(0, |last| last + 1);
        unavailable += load.unavailable;
        cut_off += load.cut_off;
        for answer in &load.acks {
            let ack = check_v1_answer(&trust, answer);
            record(&mut checkpoints, &ack.checkpoint);
            if let Some(other) = acks.get(&ack.index) {
                panic!(
                    "cycle {cycle}: index {} acknowledged for {} and {}",
                    ack.index, other.uuid, ack.uuid
                );
            }
            acks.insert(ack.index, ack);
        }
        let stored = check_store(&store, &trust, &acks);
        record(&mut checkpoints, &stored);
        // The entry API: this cycle's acknowledgements, and every one so far each fifth cycle
        // and at the end (the stored log is checked whole every cycle).
        let from = if cycle % 5 == 4 || cycle + 1 == cycles {
            0
        } else {
            first_new
        };
        let (checked, latest) = check_api(
            &front_ends,
            &trust,
            &store,
            &acks,
            from,
            &checkpoints,
            cycle,
        );
        entry_checks += checked;
        // Consistency is transitive: every checkpoint up to `latest` is proven consistent with
        // it, so it anchors the next pass; larger ones are proven then.
        record(&mut checkpoints, &latest);
        checkpoints.retain(|&size, _| size >= latest.size());
    }

    let sequencer = sequencer_of(&front_ends, "rekor-v1");
    check_operator_view(&front_ends, sequencer);
    write_v2_through_follower(&front_ends, &trust);
    issue_through_ct_follower(&front_ends, &trust, &data);

    failovers.sort();
    let median = failovers[failovers.len() / 2];
    let worst = *failovers.last().unwrap();
    eprintln!(
        "cluster test: {cycles} SIGKILLs of the sequencer in {:.1?}; {} entries acknowledged and \
         checked {entry_checks} times; {unavailable} answers 503, {cut_off} requests cut off; \
         failover median {median:.2?}, worst {worst:.2?}",
        started.elapsed(),
        acks.len(),
    );
    assert!(
        worst < FAILOVER_BOUND,
        "failover took {worst:?}, over the {FAILOVER_BOUND:?} bound: {failovers:?}"
    );
    assert!(
        acks.len() >= 5 * cycles,
        "too few acknowledgements to prove anything: {} in {cycles} cycles",
        acks.len()
    );

    // Without the database, no front end is ready.
    drop(store);
    drop(postgres);
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let response = front_ends[0].get("/readyz");
        if response.status == 503 {
            let body: Value = serde_json::from_slice(&response.body).unwrap();
            assert_eq!(body["ready"], false, "{body}");
            break;
        }
        assert!(
            Instant::now() < end,
            "/readyz still {} without the database",
            response.status
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `waxseal bench cluster --json` on a throwaway PostgreSQL server, with tiny runs: every figure
/// the README quotes is in the report, and each run did real work.
#[test]
fn bench_cluster_reports_every_figure() {
    let out = waxseal(&[
        "bench",
        "cluster",
        "--engine-entries",
        "600",
        "--size-entries",
        "1000",
        "--seconds",
        "1",
        "--concurrency",
        "4",
        "--failovers",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let engine = report["engine"].as_array().unwrap();
    assert_eq!(engine.len(), 3, "{report}");
    for run in engine {
        assert!(
            run["sqlite_entries_per_sec"].as_f64().unwrap() > 0.0,
            "{run}"
        );
        assert!(
            run["postgres_entries_per_sec"].as_f64().unwrap() > 0.0,
            "{run}"
        );
    }
    let size = &report["size"];
    assert_eq!(size["entries"], 1000);
    assert!(size["postgres_bytes"].as_u64().unwrap() > 0, "{size}");
    assert!(size["sqlite_bytes"].as_u64().unwrap() > 0, "{size}");
    let http = report["http"].as_array().unwrap();
    let targets: Vec<&str> = http
        .iter()
        .map(|r| r["targets"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        ["sequencer", "sequencer+1", "sequencer+2", "followers"]
    );
    for run in http {
        assert!(run["created"].as_u64().unwrap() > 0, "{run}");
        assert_eq!(run["failed"], 0, "{run}");
    }
    assert_eq!(report["failover"]["runs_ms"].as_array().unwrap().len(), 1);
    assert!(
        report["sequencer_ceiling_entries_per_sec"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}
