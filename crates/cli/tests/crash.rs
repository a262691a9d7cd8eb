//! Crash safety through HTTP: the engine crash test (`crates/log/tests/crash.rs`) driven as a
//! client sees it. Four client threads POST Rekor v1 and v2 hashedrekord entries to a real
//! `waxseal serve`; the test SIGKILLs the server at a random moment, restarts it on the same
//! data directory and checks every 201 answered before the kill, in this cycle and all earlier
//! ones:
//!
//! - v1: `GET /api/v1/log/entries/{uuid}` serves the acknowledged `body`, `integratedTime`,
//!   `logID` and `logIndex` byte for byte. The SET and the inclusion proof legitimately differ
//!   (a fresh randomized ECDSA signature, a proof against the newer tree), so those are
//!   verified instead: the SET with the log key of `trust/trusted_root.json`, the proof against the
//!   signed checkpoint served with it;
//! - v2: the entry bundle holds the acknowledged canonical body at the acknowledged index, and
//!   the hash tiles prove that leaf into the newest signed checkpoint;
//! - every acknowledged checkpoint (v1 and v2) is consistent with the newest one;
//! - resubmitting an acknowledged request finds the first entry: v1 answers 409 pointing at the
//!   acknowledged UUID, v2 answers 201 with the acknowledged index.
//!
//! v1 submissions the kill cut off are looked up too: either outcome is correct, and the count
//! of those logged anyway shows kills landing between the commit and the answer.
//!
//! `WAXSEAL_HTTP_CRASH_CYCLES` sets the number of kill/restart cycles (default 10).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use waxseal_bundle::rekor::{LogEntry, TransparencyLogEntry, set_payload, validate_v1};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, sha256};
use waxseal_merkle::{
    Hash, leaf_hash, prove_consistency, prove_inclusion, verify_consistency, verify_inclusion,
};
use waxseal_note::{Checkpoint, Ed25519Verifier, Note, NoteVerifier, RekorV1Verifier};
use waxseal_tiles::{
    EntryBundle, HashTile, TILE_WIDTH, TileHashReader, TilePath, TileReader, bundle_width_at,
};

/// Bounds every socket operation and the wait for a server's address line.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const START_TIMEOUT: Duration = Duration::from_secs(60);
const CLIENT_THREADS: u64 = 4;
/// Every how many requests a client resubmits one it got a 201 for in an earlier cycle.
const RESUBMIT_EVERY: u64 = 8;

/// A small xorshift generator: the kill schedule and the choice of resubmissions need no more.
struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
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

/// A running `waxseal serve`, killed on drop. A thread drains its stdout.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_waxseal"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (lines, first) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Only the first line is awaited; the rest are drained so the server never
                // blocks on a full pipe.
                let _ = lines.send(line);
            }
        });
        let line = match first.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "waxseal serve printed no address within {START_TIMEOUT:?} ({e}): {status:?}"
                );
            }
        };
        let addr = line
            .strip_prefix("waxseal: serving at http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .trim_end_matches('/')
            .to_owned();
        Self { child, addr }
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// A GET the test expects to succeed.
    fn get(&self, path: &str) -> (u16, Vec<u8>) {
        let response = http(&self.addr, "GET", path, &[])
            .unwrap_or_else(|e| panic!("GET {path} on a live server failed: {e}"));
        (response.status, response.body)
    }

    fn get_ok(&self, path: &str) -> Vec<u8> {
        let (status, body) = self.get(path);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        body
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A complete HTTP response: the body is exactly as long as `Content-Length` says, so a
/// response cut short by the kill is an error, never a 201.
struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then_some(value.trim())
        })
    }
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
        "{method} {path} HTTP/1.1\r\nHost: waxseal\r\nConnection: close\r\n\
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
    let response = Response {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    };
    let length: usize = response
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| truncated("no Content-Length"))?;
    if response.body.len() != length {
        return Err(truncated(&format!(
            "body has {} of {length} bytes",
            response.body.len()
        )));
    }
    Ok(response)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Api {
    V1,
    V2,
}

impl Api {
    const fn path(self) -> &'static str {
        match self {
            Self::V1 => "/api/v1/log/entries",
            Self::V2 => "/api/v2/log/entries",
        }
    }
}

/// A 201 as the client received it.
struct Ack {
    api: Api,
    request: Vec<u8>,
    thread: u64,
    body: Vec<u8>,
}

/// What resubmitting an acknowledged request must answer.
#[derive(Clone)]
enum Expect {
    /// 409 with `Location: /api/v1/log/entries/<uuid>`.
    V1Conflict { uuid: String },
    /// 201 at the acknowledged index.
    V2Index { index: u64 },
}

#[derive(Clone)]
struct Resubmission {
    api: Api,
    request: Vec<u8>,
    expect: Expect,
}

/// What one client thread saw in one cycle.
#[derive(Default)]
struct ClientRun {
    acks: Vec<Ack>,
    resubmitted: usize,
    pushbacks: usize,
    /// The fresh v1 submission the kill cut off, if any: it may or may not have been logged.
    cut_off: Option<Vec<u8>>,
}

/// A hashedrekord request signed by `key` over a fresh artifact, for either API.
fn hashedrekord(api: Api, key: &SigningKey, artifact: &[u8]) -> Vec<u8> {
    let signature = BASE64.encode(key.sign(artifact).unwrap());
    let public = key.public_key();
    let request = match api {
        Api::V1 => json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "signature": {
                    "content": signature,
                    "publicKey": { "content": BASE64.encode(public.to_pem()) },
                },
                "data": {
                    "hash": { "algorithm": "sha256", "value": hex::encode(sha256(artifact)) },
                },
            },
        }),
        Api::V2 => json!({
            "hashedRekordRequestV002": {
                "digest": BASE64.encode(sha256(artifact)),
                "signature": {
                    "content": signature,
                    "verifier": {
                        "publicKey": { "rawBytes": BASE64.encode(public.spki_der()) },
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    },
                },
            },
        }),
    };
    serde_json::to_vec(&request).unwrap()
}

/// A client thread: submits until a request fails at the transport level, which must only
/// happen once `killed` is set. Answers other than 201, 503 (pushback) and the expected answer
/// to a resubmission are failures, returned as `Err`.
fn client(
    addr: &str,
    key: &SigningKey,
    thread: u64,
    cycle: u64,
    seed: u64,
    previous: &[Resubmission],
    killed: &AtomicBool,
) -> Result<ClientRun, String> {
    let mut run = ClientRun::default();
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    for n in 0.. {
        if Instant::now() > deadline {
            return Err(format!(
                "thread {thread}: the server was not killed within 30 s"
            ));
        }
        let resubmission = (n % RESUBMIT_EVERY == RESUBMIT_EVERY - 1 && !previous.is_empty())
            .then(|| &previous[rng.below(previous.len() as u64) as usize]);
        let (api, request) = match resubmission {
            Some(r) => (r.api, r.request.clone()),
            None => {
                let api = if rng.below(2) == 0 { Api::V1 } else { Api::V2 };
                let artifact = format!("http-crash {cycle} {thread} {n} {}", rng.next());
                (api, hashedrekord(api, key, artifact.as_bytes()))
            }
        };
        let response = match http(addr, "POST", api.path(), &request) {
            Ok(response) => response,
            Err(_) if killed.load(Ordering::SeqCst) => {
                run.cut_off = (api == Api::V1 && resubmission.is_none()).then_some(request);
                return Ok(run);
            }
            Err(e) => {
                return Err(format!(
                    "thread {thread}: live server failed a request: {e}"
                ));
            }
        };
        let text = || String::from_utf8_lossy(&response.body).into_owned();
        match (resubmission.map(|r| &r.expect), response.status) {
            (_, 503) => {
                run.pushbacks += 1;
                continue;
            }
            (None, 201) => {}
            (Some(Expect::V1Conflict { uuid }), 409) => {
                let want = format!("/api/v1/log/entries/{uuid}");
                if response.header("location") != Some(want.as_str()) {
                    return Err(format!(
                        "thread {thread}: resubmitted v1 entry answered 409 at {:?}, \
                         acknowledged as {want}",
                        response.header("location")
                    ));
                }
                run.resubmitted += 1;
                continue;
            }
            (Some(Expect::V2Index { index }), 201) => {
                let entry = TransparencyLogEntry::from_json(&response.body)
                    .map_err(|e| format!("thread {thread}: v2 answer {}: {e}", text()))?;
                if entry.log_index != *index as i64 {
                    return Err(format!(
                        "thread {thread}: resubmitted v2 entry answered index {}, \
                         acknowledged at {index}",
                        entry.log_index
                    ));
                }
                run.resubmitted += 1;
            }
            (expect, status) => {
                return Err(format!(
                    "thread {thread}: {api:?} {} answered {status}: {}",
                    if expect.is_some() {
                        "resubmission"
                    } else {
                        "submission"
                    },
                    text()
                ));
            }
        }
        run.acks.push(Ack {
            api,
            request,
            thread,
            body: response.body,
        });
    }
    unreachable!("the loop only ends by returning")
}

/// The log keys and names, from `trust/trusted_root.json` and the first start's address.
struct Trust {
    v1_key: PublicKey,
    v1_log_id: [u8; 32],
    /// The v1 checkpoint verifier: the key named after the first start's public host, which
    /// the data directory keeps across restarts (the port changes at every restart here).
    v1_verifier: RekorV1Verifier,
    v2_verifier: Ed25519Verifier,
    v2_log_id: Vec<u8>,
}

impl Trust {
    fn read(data_dir: &Path, first_host: &str) -> Self {
        let root: Value = serde_json::from_slice(
            &std::fs::read(data_dir.join("trust/trusted_root.json")).unwrap(),
        )
        .unwrap();
        let tlogs = &root["tlogs"];
        let key = |i: usize| {
            PublicKey::from_spki_der(
                &BASE64
                    .decode(tlogs[i]["publicKey"]["rawBytes"].as_str().unwrap())
                    .unwrap(),
            )
            .unwrap()
        };
        let log_id = |i: usize| {
            BASE64
                .decode(tlogs[i]["logId"]["keyId"].as_str().unwrap())
                .unwrap()
        };
        let v1_key = key(0);
        let v1_log_id = sha256(v1_key.spki_der());
        assert_eq!(log_id(0), v1_log_id, "v1 log ID is SHA-256 of the key");
        // The v2 origin (its checkpoint key name) is the public host at first start.
        let v2_key = key(1);
        let v2_log_id = log_id(1);
        assert_eq!(
            v2_log_id,
            waxseal_note::rekor_v2_log_id(first_host, &v2_key.raw_ed25519().unwrap()),
            "v2 log ID is the C2SP key ID of origin {first_host}"
        );
        let v1_verifier = RekorV1Verifier::new(first_host, &v1_key).unwrap();
        Self {
            v2_verifier: Ed25519Verifier::new(first_host, &v2_key).unwrap(),
            v1_key,
            v1_log_id,
            v1_verifier,
            v2_log_id,
        }
    }

    fn v1_checkpoint(&self, note: &str) -> Checkpoint {
        verified_checkpoint(note, &[&self.v1_verifier])
    }

    fn v2_checkpoint(&self, note: &str) -> Checkpoint {
        verified_checkpoint(note, &[&self.v2_verifier])
    }
}

fn verified_checkpoint(note: &str, verifiers: &[&dyn NoteVerifier]) -> Checkpoint {
    let note = Note::parse(note.as_bytes()).unwrap();
    let verified = note
        .verify(verifiers)
        .unwrap_or_else(|e| panic!("checkpoint signature: {e}\n{}", note.encode()));
    Checkpoint::parse(verified.text()).unwrap()
}

fn hashes(list: &[Vec<u8>]) -> Vec<Hash> {
    list.iter().map(|h| Hash::from_slice(h).unwrap()).collect()
}

/// Records a checkpoint a client was shown; two of the same size must have the same root.
fn record_checkpoint(seen: &mut BTreeMap<u64, Hash>, checkpoint: &Checkpoint, api: Api) {
    if let Some(root) = seen.insert(checkpoint.size(), checkpoint.root()) {
        assert_eq!(
            root,
            checkpoint.root(),
            "two {api:?} checkpoints of size {} differ",
            checkpoint.size()
        );
    }
}

/// A v1 201, checked as a client would on receipt.
struct V1Ack {
    /// The map value, as answered.
    entry: Value,
    index: u64,
}

/// A v2 201, checked as a client would on receipt.
struct V2Ack {
    body: Vec<u8>,
}

/// Verifies a v1 entry's SET, inclusion proof and checkpoint; returns its index and checkpoint.
fn check_v1_entry(trust: &Trust, uuid: &str, entry: &Value) -> (u64, Checkpoint) {
    let parsed = LogEntry::from_json(&serde_json::to_vec(entry).unwrap()).unwrap();
    let index = u64::try_from(parsed.log_index).unwrap();
    assert_eq!(parsed.log_id, trust.v1_log_id, "entry {uuid}: log ID");
    assert_eq!(
        &uuid[16..],
        leaf_hash(&parsed.body).to_hex(),
        "entry {uuid}: the UUID ends with the leaf hash"
    );
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
    let checkpoint = trust.v1_checkpoint(&proof.checkpoint);
    assert_eq!(
        (
            checkpoint.size(),
            checkpoint.root().as_bytes().to_vec(),
            proof.log_index
        ),
        (
            u64::try_from(proof.tree_size).unwrap(),
            proof.root_hash.clone(),
            parsed.log_index
        ),
        "entry {uuid}: the proof is against its checkpoint"
    );
    verify_inclusion(
        &leaf_hash(&parsed.body),
        index,
        checkpoint.size(),
        &hashes(&proof.hashes),
        &checkpoint.root(),
    )
    .unwrap_or_else(|e| panic!("entry {uuid}: inclusion proof: {e}"));
    (index, checkpoint)
}

/// Verifies a v2 entry's inclusion proof and checkpoint; returns its checkpoint.
fn check_v2_entry(trust: &Trust, entry: &TransparencyLogEntry) -> Checkpoint {
    let index = u64::try_from(entry.log_index).unwrap();
    assert_eq!(
        entry.log_id.key_id, trust.v2_log_id,
        "v2 entry {index}: log ID"
    );
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let checkpoint = trust.v2_checkpoint(&proof.checkpoint.as_ref().unwrap().envelope);
    assert_eq!(
        (checkpoint.size(), checkpoint.root().as_bytes().to_vec()),
        (
            u64::try_from(proof.tree_size).unwrap(),
            proof.root_hash.clone()
        ),
        "v2 entry {index}: the proof is against its checkpoint"
    );
    verify_inclusion(
        &leaf_hash(&entry.canonicalized_body),
        index,
        checkpoint.size(),
        &hashes(&proof.hashes),
        &checkpoint.root(),
    )
    .unwrap_or_else(|e| panic!("v2 entry {index}: inclusion proof: {e}"));
    checkpoint
}

/// The v2 log's hash tiles over HTTP, each fetched once per verification pass.
///
/// Nothing read here is trusted: every proof built from these hashes is verified against a
/// signed checkpoint.
struct HttpTiles<'a> {
    server: &'a Server,
    cache: RefCell<BTreeMap<(u8, u64, u16), HashTile>>,
}

impl TileReader for HttpTiles<'_> {
    type Error = String;

    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<HashTile, String> {
        if let Some(tile) = self.cache.borrow().get(&(level, index, width)) {
            return Ok(tile.clone());
        }
        let path = TilePath::hash_tile(level, index, width).map_err(|e| e.to_string())?;
        let (status, bytes) = self.server.get(&format!("/api/v2/{path}"));
        if status != 200 {
            return Err(format!("{path}: {status}"));
        }
        let tile = HashTile::parse_with_width(&bytes, width).map_err(|e| e.to_string())?;
        self.cache
            .borrow_mut()
            .insert((level, index, width), tile.clone());
        Ok(tile)
    }
}

/// What one verification pass checked.
#[derive(Default)]
struct Checked {
    v1_entries: usize,
    v2_entries: usize,
    checkpoints: usize,
}

/// The newest checkpoints a verification pass saw: the anchors of the next pass.
struct Latest {
    v1: Checkpoint,
    v2: Checkpoint,
}

/// Checks everything acknowledged so far against the restarted server, and that each of
/// `v1_checkpoints` and `v2_checkpoints` is consistent with the newest tree.
///
/// Entries are all checked again at every pass. Checkpoints need not be: consistency is
/// transitive, so the caller passes only those acknowledged since the last pass plus the newest
/// checkpoint that pass verified, which every earlier checkpoint was proven consistent with.
fn verify_all(
    server: &Server,
    trust: &Trust,
    v1: &BTreeMap<String, V1Ack>,
    v2: &BTreeMap<u64, V2Ack>,
    v1_checkpoints: &BTreeMap<u64, Hash>,
    v2_checkpoints: &BTreeMap<u64, Hash>,
    cycle: u64,
) -> (Checked, Latest) {
    let mut checked = Checked::default();

    // Rekor v1: the newest signed tree head.
    let info: Value = serde_json::from_slice(&server.get_ok("/api/v1/log")).unwrap();
    let latest = trust.v1_checkpoint(info["signedTreeHead"].as_str().unwrap());
    for (uuid, ack) in v1 {
        let answer: Value =
            serde_json::from_slice(&server.get_ok(&format!("/api/v1/log/entries/{uuid}"))).unwrap();
        let (served_uuid, entry) = answer.as_object().unwrap().iter().next().unwrap();
        assert_eq!(
            served_uuid, uuid,
            "cycle {cycle}: entry {uuid} served under another UUID"
        );
        for field in ["body", "integratedTime", "logID", "logIndex"] {
            assert_eq!(
                serde_json::to_string(&entry[field]).unwrap(),
                serde_json::to_string(&ack.entry[field]).unwrap(),
                "cycle {cycle}: v1 entry {uuid} (index {}): {field} changed after the crash",
                ack.index
            );
        }
        let (_, checkpoint) = check_v1_entry(trust, uuid, entry);
        assert!(
            checkpoint.size() >= latest.size(),
            "cycle {cycle}: entry {uuid} proven against an older tree than /api/v1/log"
        );
        checked.v1_entries += 1;
    }
    for (&size, root) in v1_checkpoints {
        let proof: Value = serde_json::from_slice(&server.get_ok(&format!(
            "/api/v1/log/proof?firstSize={size}&lastSize={}",
            latest.size()
        )))
        .unwrap();
        assert_eq!(
            proof["rootHash"].as_str().unwrap(),
            latest.root().to_hex(),
            "cycle {cycle}: consistency proof to the newest v1 tree"
        );
        let path: Vec<Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        verify_consistency(size, latest.size(), root, &latest.root(), &path).unwrap_or_else(|e| {
            panic!(
                "cycle {cycle}: acknowledged v1 checkpoint {size} is inconsistent with {}: {e}",
                latest.size()
            )
        });
        checked.checkpoints += 1;
    }
    let v1_latest = latest;

    // Rekor v2 has no per-entry read API: clients read the tlog-tiles API. Each acknowledged
    // body must sit in its entry bundle at its index, and the hash tiles must prove that leaf
    // into the newest signed checkpoint. Consistency is checked as a witness would: build the
    // consistency proof from the tiles of the newest tree, and verify it against the
    // acknowledged root and the newest signed root. The tiles are untrusted input, so a pass
    // means the newest signed tree extends every acknowledged one.
    let latest =
        trust.v2_checkpoint(std::str::from_utf8(&server.get_ok("/api/v2/checkpoint")).unwrap());
    let tiles = TileHashReader::new(
        latest.size(),
        HttpTiles {
            server,
            cache: RefCell::new(BTreeMap::new()),
        },
    );
    let mut bundles: BTreeMap<u64, EntryBundle> = BTreeMap::new();
    for (&index, ack) in v2 {
        assert!(
            index < latest.size(),
            "cycle {cycle}: v2 entry {index} is beyond the newest tree ({})",
            latest.size()
        );
        let bundle_index = index / TILE_WIDTH;
        let bundle = bundles.entry(bundle_index).or_insert_with(|| {
            let width = bundle_width_at(bundle_index, latest.size()).unwrap();
            let path = TilePath::entry_bundle(bundle_index, width).unwrap();
            EntryBundle::parse(&server.get_ok(&format!("/api/v2/{path}"))).unwrap()
        });
        let stored = &bundle.entries()[(index % TILE_WIDTH) as usize];
        assert!(
            *stored == ack.body,
            "cycle {cycle}: v2 entry {index} changed after the crash:\n\
             acknowledged {}\n\
             stored       {}",
            String::from_utf8_lossy(&ack.body),
            String::from_utf8_lossy(stored)
        );
        let proof = prove_inclusion(index, latest.size(), &tiles).unwrap();
        verify_inclusion(
            &leaf_hash(&ack.body),
            index,
            latest.size(),
            &proof,
            &latest.root(),
        )
        .unwrap_or_else(|e| panic!("cycle {cycle}: v2 entry {index} not in the newest tree: {e}"));
        checked.v2_entries += 1;
    }
    for (&size, root) in v2_checkpoints {
        let proof = prove_consistency(size, latest.size(), &tiles).unwrap();
        verify_consistency(size, latest.size(), root, &latest.root(), &proof).unwrap_or_else(|e| {
            panic!(
                "cycle {cycle}: acknowledged v2 checkpoint {size} is inconsistent with {}: {e}",
                latest.size()
            )
        });
        checked.checkpoints += 1;
    }
    (
        checked,
        Latest {
            v1: v1_latest,
            v2: latest,
        },
    )
}

#[test]
fn sigkill_under_load_keeps_every_acknowledged_entry() {
    let started = Instant::now();
    let cycles: u64 = std::env::var("WAXSEAL_HTTP_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut rng = Rng::seeded();
    let keys: Vec<SigningKey> = (0..CLIENT_THREADS)
        .map(|_| SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap())
        .collect();

    let mut server = Server::start(&data);
    let trust = Trust::read(&data, &server.addr);
    let mut v1: BTreeMap<String, V1Ack> = BTreeMap::new();
    let mut v1_indexes: BTreeMap<u64, String> = BTreeMap::new();
    let mut v2: BTreeMap<u64, V2Ack> = BTreeMap::new();
    // Every checkpoint seen, by size (two of one size must agree), and those still to prove
    // consistent with the newest tree.
    let mut v1_checkpoints: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut v2_checkpoints: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut v1_unproven: BTreeMap<u64, Hash> = BTreeMap::new();
    let mut v2_unproven: BTreeMap<u64, Hash> = BTreeMap::new();
    // Per client thread: requests acknowledged in earlier cycles, to resubmit.
    let mut previous: Vec<Vec<Resubmission>> = vec![Vec::new(); CLIENT_THREADS as usize];
    let (mut acks, mut resubmitted, mut pushbacks, mut checks) = (0usize, 0, 0, Checked::default());
    let (mut cut_off, mut cut_off_logged) = (0, 0);

    for cycle in 0..cycles {
        // Load, then SIGKILL at a random moment with requests in flight.
        let killed = AtomicBool::new(false);
        let delay = Duration::from_millis(100 + rng.below(500));
        let seeds: Vec<u64> = (0..CLIENT_THREADS).map(|_| rng.next()).collect();
        let addr = server.addr.clone();
        let runs: Vec<Result<ClientRun, String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..CLIENT_THREADS)
                .map(|thread| {
                    let (addr, key, killed) = (&addr, &keys[thread as usize], &killed);
                    let (seed, previous) = (seeds[thread as usize], &previous[thread as usize]);
                    scope.spawn(move || client(addr, key, thread, cycle, seed, previous, killed))
                })
                .collect();
            std::thread::sleep(delay);
            killed.store(true, Ordering::SeqCst);
            server.kill();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        server = Server::start(&data);

        // Record and check every 201 as the client got it.
        for run in runs {
            let run = run.unwrap_or_else(|e| panic!("cycle {cycle}: {e}"));
            resubmitted += run.resubmitted;
            pushbacks += run.pushbacks;
            if let Some(request) = &run.cut_off {
                // Not acknowledged, so either outcome is correct; counted to show that kills
                // land mid-request, some after the commit and before the answer.
                let body = validate_v1(request).unwrap().into_canonical_body();
                let (status, _) = server.get(&format!(
                    "/api/v1/log/entries/{}",
                    leaf_hash(&body).to_hex()
                ));
                assert!(
                    status == 200 || status == 404,
                    "cut-off entry lookup: {status}"
                );
                cut_off += 1;
                cut_off_logged += usize::from(status == 200);
            }
            for ack in run.acks {
                acks += 1;
                let resubmission = match ack.api {
                    Api::V1 => {
                        let answer: Value = serde_json::from_slice(&ack.body).unwrap();
                        let (uuid, entry) = answer.as_object().unwrap().iter().next().unwrap();
                        let (index, checkpoint) = check_v1_entry(&trust, uuid, entry);
                        record_checkpoint(&mut v1_checkpoints, &checkpoint, Api::V1);
                        v1_unproven.insert(checkpoint.size(), checkpoint.root());
                        if let Some(other) = v1_indexes.insert(index, uuid.clone()) {
                            assert_eq!(&other, uuid, "v1 index {index} acknowledged twice");
                        }
                        let fresh = v1.insert(
                            uuid.clone(),
                            V1Ack {
                                entry: entry.clone(),
                                index,
                            },
                        );
                        assert!(fresh.is_none(), "v1 entry {uuid} acknowledged twice");
                        Expect::V1Conflict { uuid: uuid.clone() }
                    }
                    Api::V2 => {
                        let entry = TransparencyLogEntry::from_json(&ack.body).unwrap();
                        let checkpoint = check_v2_entry(&trust, &entry);
                        record_checkpoint(&mut v2_checkpoints, &checkpoint, Api::V2);
                        v2_unproven.insert(checkpoint.size(), checkpoint.root());
                        let index = u64::try_from(entry.log_index).unwrap();
                        if let Some(other) = v2.insert(
                            index,
                            V2Ack {
                                body: entry.canonicalized_body.clone(),
                            },
                        ) {
                            assert!(
                                other.body == entry.canonicalized_body,
                                "v2 index {index} acknowledged for two different bodies"
                            );
                        }
                        Expect::V2Index { index }
                    }
                };
                previous[ack.thread as usize].push(Resubmission {
                    api: ack.api,
                    request: ack.request,
                    expect: resubmission,
                });
            }
        }

        // Everything acknowledged in this and every earlier cycle survives the crash.
        let (checked, latest) =
            verify_all(&server, &trust, &v1, &v2, &v1_unproven, &v2_unproven, cycle);
        record_checkpoint(&mut v1_checkpoints, &latest.v1, Api::V1);
        record_checkpoint(&mut v2_checkpoints, &latest.v2, Api::V2);
        v1_unproven = BTreeMap::from([(latest.v1.size(), latest.v1.root())]);
        v2_unproven = BTreeMap::from([(latest.v2.size(), latest.v2.root())]);
        checks.v1_entries += checked.v1_entries;
        checks.v2_entries += checked.v2_entries;
        checks.checkpoints += checked.checkpoints;
    }
    drop(server);
    eprintln!(
        "http crash test: {cycles} SIGKILL cycles in {:.1?}, {acks} 201s ({} v1, {} v2 entries, \
         {resubmitted} resubmissions, {pushbacks} pushbacks), {} entry and {} checkpoint checks; \
         {cut_off} v1 submissions cut off by a kill, {cut_off_logged} of them logged anyway",
        started.elapsed(),
        v1.len(),
        v2.len(),
        checks.v1_entries + checks.v2_entries,
        checks.checkpoints,
    );
    assert!(
        v1.len() as u64 >= 5 * cycles && v2.len() as u64 >= 5 * cycles,
        "too few acknowledgements to prove anything: {} v1, {} v2 in {cycles} cycles",
        v1.len(),
        v2.len()
    );
}
