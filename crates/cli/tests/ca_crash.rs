//! Crash safety of issuance, as a client sees it: threads request certificates from a real
//! `waxseal serve` (`POST /api/v2/signingCert`), the server is SIGKILLed at a random moment and
//! restarted on the same data directory, several times. Afterwards every certificate a client
//! got a 201 for must be in the CT log: its SCT verifies with the CT key of the trusted root,
//! its `leaf_index` is inside the newest signed checkpoint, and the data tile holds, at that
//! index, the precertificate entry the SCT was signed over (same timestamp, issuer key hash and
//! TBS).
//!
//! `WAXSEAL_CA_CRASH_CYCLES` sets the number of kill/restart cycles (default 5).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use waxseal_bundle::TrustedRoot;
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, pem, sha256};
use waxseal_log::ct::parse_data_tile;
use waxseal_note::{Checkpoint, Note, Rfc6962Verifier};
use waxseal_tiles::TilePath;
use waxseal_x509::{Certificate, CtSignedEntry, parse_leaf, verify_sct};

use crate::support::Server;

const EMAIL: &str = "robot@example.com";

fn request_body(token: &str) -> String {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": BASE64.encode(key.sign(EMAIL.as_bytes()).unwrap()),
        },
    })
    .to_string()
}

/// Requests certificates until a request fails (the server was killed); returns the leaves.
fn issue_until_killed(server: &Server, token: &str, stop: &AtomicBool, out: &Mutex<Vec<Vec<u8>>>) {
    while !stop.load(Ordering::Acquire) {
        let body = request_body(token);
        let Ok((status, reply)) = server.try_post_json("/api/v2/signingCert", &body) else {
            return;
        };
        if status != 201 {
            // A reply cut off by the kill, or the server going down: not acknowledged.
            continue;
        }
        let reply: serde_json::Value = serde_json::from_slice(&reply).unwrap();
        let leaf = reply["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
            .as_str()
            .unwrap();
        out.lock()
            .unwrap()
            .push(pem::decode(leaf, pem::CERTIFICATE).unwrap());
    }
}

#[test]
fn sigkill_during_issuance_keeps_every_issued_certificate_in_the_ct_log() {
    let cycles: u64 = std::env::var("WAXSEAL_CA_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let issued = Mutex::new(Vec::new());
    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    for _ in 0..cycles {
        let server = Server::start(&data, &[]);
        let token = server.token("robot", EMAIL);
        let stop = AtomicBool::new(false);
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let run_for = Duration::from_millis(100 + seed % 400);
        std::thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| issue_until_killed(&server, &token, &stop, &issued));
            }
            std::thread::sleep(run_for);
            server.kill();
            stop.store(true, Ordering::Release);
        });
    }
    let issued = issued.into_inner().unwrap();
    assert!(
        !issued.is_empty(),
        "no certificate was issued before any kill"
    );

    eprintln!(
        "{} certificates issued over {cycles} kill/restart cycles",
        issued.len()
    );
    let server = Server::start(&data, &[]);
    let root =
        TrustedRoot::from_json(&std::fs::read(data.join("trust/trusted_root.json")).unwrap())
            .unwrap();
    let ct_key = PublicKey::from_spki_der(&root.ctlogs[0].public_key.raw_bytes).unwrap();
    let intermediate = &root.certificate_authorities[0].cert_chain.certificates[0].raw_bytes;
    let issuer_key_hash = sha256(
        Certificate::from_der(intermediate.clone())
            .unwrap()
            .public_key()
            .unwrap()
            .spki_der(),
    );
    let origin = std::fs::read_to_string(data.join("ct-origin")).unwrap();
    let verifier = Rfc6962Verifier::new(origin.trim(), &ct_key).unwrap();
    let (status, note) = server.get("/ct/checkpoint");
    assert_eq!(status, 200);
    let note = Note::parse(&note).unwrap();
    note.verify(&[&verifier]).unwrap();
    let checkpoint = Checkpoint::parse(note.text()).unwrap();

    for leaf in &issued {
        let info = parse_leaf(leaf).unwrap();
        assert_eq!(info.scts.len(), 1);
        let sct = &info.scts[0];
        verify_sct(sct, &ct_key, &issuer_key_hash, &info.precert_tbs).unwrap();
        let index = sct.leaf_index().unwrap().expect("SCTs carry leaf_index");
        assert!(
            index < checkpoint.size(),
            "certificate logged at {index}, beyond the checkpoint's {} entries",
            checkpoint.size()
        );
        let tile = index / 256;
        let width = (checkpoint.size() - tile * 256).min(256) as u16;
        let path = TilePath::entry_bundle(tile, width)
            .unwrap()
            .to_string()
            .replace("tile/entries/", "tile/data/");
        let (status, bytes) = server.get(&format!("/ct/{path}"));
        assert_eq!(status, 200, "{path}");
        let entries = parse_data_tile(&bytes).unwrap();
        let entry = &entries[(index % 256) as usize];
        assert_eq!(entry.timestamp, sct.timestamp(), "entry {index}");
        assert_eq!(entry.leaf_index().unwrap(), Some(index));
        match &entry.entry {
            CtSignedEntry::Precert {
                issuer_key_hash: hash,
                tbs_certificate,
            } => {
                assert_eq!(hash, &issuer_key_hash);
                assert_eq!(tbs_certificate, &info.precert_tbs, "entry {index}");
            }
            other => panic!("entry {index} is not a precertificate: {other:?}"),
        }
    }
}
