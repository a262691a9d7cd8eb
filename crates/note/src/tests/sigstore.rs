//! ECDSA (type 0x02) and Rekor checkpoints: known answers and real Sigstore bundles.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use waxseal_crypto::{Algorithm, PublicKey, SigningKey};

use crate::{
    Checkpoint, EcdsaSigner, EcdsaVerifier, Ed25519Verifier, Error, Note, NoteSigner, NoteVerifier,
    RekorV1Signer, RekorV1Verifier, SignedCheckpoint, rekor_v1_log_id, rekor_v2_log_id, sign,
    verifier_from_vkey,
};

// Verifier keys and checkpoints from transparency-dev/formats `note/note_verifier_test.go`
// (TestECDSAVerifier), Apache-2.0: the public-good Rekor key and the Pixel 6 log key.
const REKOR_VKEY: &str = "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=";
const REKOR_NOTE: &str = "Rekor\n798034\nf+7CoKgXKE/tNys9TTXcr/ad6U/K3xvznmzew9y6SP0=\n\n— rekor.sigstore.dev wNI9ajBEAiARInWIWyCdyG27CO6LPnPekyw20qO0YJfoaPaowGp/XgIgc+qEHS3+GKVClgqq20uDLet7MCoTURUCRdxwWBHHufk=\n";
const PIXEL_VKEY: &str = "pixel6_transparency_log+91c16e30+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABN+4x0Jk1yTwvLFI9A4NDdGZcX0aiWVdWM5XJVy0M4VWD3AvyW5Q6Hs9A0mcDkpUoYgn+KKPNzFC0H3nN3q6JQ8=";
const PIXEL_NOTE: &str = "DEFAULT\n10\nbsWRucJU5xJPHb5eBdOm6+DM+VelCZBuvtI3sHERJ9Y=\n\n— pixel6_transparency_log kcFuMDBFAiEAhqMAP8P6qf6QxtUJhzMhbN+MbZ9dwfUHzGQJmffJHtoCIGD0cNe47dHWBoPwYdgBCepB06/+g5O1FmYjXl06owL4\n";

#[test]
fn verifies_transparency_dev_ecdsa_vectors() {
    for (vkey, note) in [(REKOR_VKEY, REKOR_NOTE), (PIXEL_VKEY, PIXEL_NOTE)] {
        let verifier = EcdsaVerifier::from_vkey(vkey).unwrap();
        assert_eq!(verifier.to_vkey(), vkey);
        let boxed = verifier_from_vkey(vkey).unwrap();
        let parsed = Note::parse(note.as_bytes()).unwrap();
        parsed.verify(&[&verifier]).unwrap();
        parsed.verify(&[&*boxed]).unwrap();
        // Rekor v1 verification of the same key gives the same key ID.
        let rekor = RekorV1Verifier::new(verifier.name(), verifier.public_key()).unwrap();
        assert_eq!(rekor.key_hint(), verifier.key_hint());
        parsed.verify(&[&rekor]).unwrap();
    }
    let forged = REKOR_NOTE.replace("798034", "798035");
    let verifier = EcdsaVerifier::from_vkey(REKOR_VKEY).unwrap();
    assert!(matches!(
        Note::parse(forged.as_bytes()).unwrap().verify(&[&verifier]),
        Err(Error::SignatureInvalid {
            key_hint: [0xc0, 0xd2, 0x3d, 0x6a],
            ..
        })
    ));
    assert!(matches!(
        EcdsaVerifier::from_vkey(&REKOR_VKEY.replace("c0d23d6a", "00000000")),
        Err(Error::KeyIdMismatch {
            computed: [0xc0, 0xd2, 0x3d, 0x6a],
            ..
        })
    ));
    assert!(matches!(
        verifier_from_vkey("rekor.sigstore.dev+12345678+AwEB"),
        Err(Error::UnknownSignatureType { byte: 3 })
    ));
}

#[test]
fn ecdsa_and_rekor_signers_round_trip() {
    let text = Checkpoint::new("rekor.example.test - 1", 2, waxseal_merkle::empty_root())
        .unwrap()
        .to_text();
    let p256 = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let ecdsa = EcdsaSigner::new("witness.example", p256()).unwrap();
    let rekor = RekorV1Signer::new("rekor.example.test", p256()).unwrap();
    let rekor_ed25519 = RekorV1Signer::new(
        "rekor2.example.test",
        SigningKey::generate(Algorithm::Ed25519).unwrap(),
    )
    .unwrap();
    let msg = sign(&text, &[&rekor, &ecdsa, &rekor_ed25519]).unwrap();
    let (v1, v2, v3) = (rekor.verifier(), ecdsa.verifier(), rekor_ed25519.verifier());
    let verified =
        SignedCheckpoint::parse_and_verify(msg.as_bytes(), &[&v1, &v2, &v3], None).unwrap();
    assert_eq!(verified.note().verified_signatures().len(), 3);
    let log_id = rekor_v1_log_id(v1.public_key().spki_der());
    assert_eq!(
        rekor.key_hint(),
        [log_id[0], log_id[1], log_id[2], log_id[3]]
    );
    let vkey = v2.to_vkey();
    assert_eq!(
        EcdsaVerifier::from_vkey(&vkey).unwrap().key_hint(),
        ecdsa.key_hint()
    );
}

#[test]
fn refuses_keys_the_signature_type_cannot_use() {
    let p384 = SigningKey::generate(Algorithm::EcdsaP384Sha384).unwrap();
    let ed25519 = SigningKey::generate(Algorithm::Ed25519).unwrap();
    assert!(matches!(
        RekorV1Verifier::new("r", &p384.public_key()),
        Err(Error::UnsupportedKeyAlgorithm {
            algorithm: Algorithm::EcdsaP384Sha384,
            ..
        })
    ));
    assert!(matches!(
        EcdsaVerifier::new("r", &ed25519.public_key()),
        Err(Error::UnsupportedKeyAlgorithm {
            algorithm: Algorithm::Ed25519,
            ..
        })
    ));
    assert!(matches!(
        Ed25519Verifier::new("r", &p384.public_key()),
        Err(Error::UnsupportedKeyAlgorithm { .. })
    ));
    assert!(matches!(
        EcdsaSigner::new("r", p384),
        Err(Error::UnsupportedKeyAlgorithm { .. })
    ));
    assert!(matches!(
        RekorV1Signer::new("bad name", ed25519),
        Err(Error::InvalidKeyName { .. })
    ));
}

fn vectors_dir() -> String {
    format!(
        "{}/../../../shared/vectors/sigstore",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn read_json(path: &str) -> Value {
    let full = format!("{}/{path}", vectors_dir());
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {full}: {e}"))
}

/// `https://host[:port][/path]` → `host[:port]`, the key name Sigstore logs sign under.
fn host(base_url: &str) -> &str {
    let rest = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest)
}

/// Verifies the checkpoint of every bundle in the Sigstore vectors (README.md there gives
/// sources and licences) against its case's trusted root: Rekor v1 checkpoints with the log's
/// ECDSA key (key ID = SHA-256(SPKI)[:4]), Rekor v2 checkpoints with the log's Ed25519 key
/// (key ID and log ID = C2SP key ID hash). Cases whose checkpoint was tampered with must fail;
/// cases without a checkpoint or a matching log are skipped and reported.
#[test]
fn verifies_real_sigstore_checkpoints() {
    let manifest = read_json("manifest.json");
    let mut skipped = Vec::new();
    let (mut v1, mut v2, mut rejected) = (0, 0, 0);
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let bundle = read_json(case["files"]["bundle"].as_str().unwrap());
        let root = read_json(case["trusted_root"].as_str().unwrap());
        let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
        let Some(envelope) = entry["inclusionProof"]["checkpoint"]["envelope"].as_str() else {
            skipped.push(format!("{name}: no checkpoint"));
            continue;
        };
        let log_id = entry["logId"]["keyId"].as_str().unwrap_or_default();
        let Some(tlog) = root["tlogs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["logId"]["keyId"].as_str() == Some(log_id))
        else {
            skipped.push(format!("{name}: log {log_id} not in its trusted root"));
            continue;
        };
        let spki = STANDARD
            .decode(tlog["publicKey"]["rawBytes"].as_str().unwrap())
            .unwrap();
        let key = PublicKey::from_spki_der(&spki).unwrap();
        let key_name = host(tlog["baseUrl"].as_str().unwrap());
        let log_id = STANDARD.decode(log_id).unwrap();

        let (verifier, origin): (Box<dyn NoteVerifier>, Option<&str>) = match key.algorithm() {
            Algorithm::Ed25519 => {
                let raw = key.raw_ed25519().unwrap();
                assert_eq!(
                    rekor_v2_log_id(key_name, &raw).to_vec(),
                    log_id,
                    "{name}: v2 log ID"
                );
                (
                    Box::new(Ed25519Verifier::new(key_name, &key).unwrap()),
                    Some(key_name),
                )
            }
            _ => {
                assert_eq!(rekor_v1_log_id(&spki).to_vec(), log_id, "{name}: v1 log ID");
                (
                    Box::new(RekorV1Verifier::new(key_name, &key).unwrap()),
                    None,
                )
            }
        };
        assert_eq!(
            verifier.key_hint(),
            log_id[..4],
            "{name}: key ID is the log ID prefix"
        );

        let result = SignedCheckpoint::parse_and_verify(envelope.as_bytes(), &[&*verifier], origin);
        if name.contains("checkpoint-root-hash-bit-flip") {
            assert!(
                matches!(result, Err(Error::SignatureInvalid { .. })),
                "{name}: tampered checkpoint gave {result:?}"
            );
            rejected += 1;
            continue;
        }
        let verified = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        // The checkpoint commits to the inclusion proof's tree (tampered cases may not).
        let proof = &entry["inclusionProof"];
        if !name.contains("--") {
            assert_eq!(
                verified.size().to_string(),
                proof["treeSize"].as_str().unwrap(),
                "{name}"
            );
            let root = STANDARD.encode(verified.root());
            assert_eq!(root, proof["rootHash"].as_str().unwrap(), "{name}");
        }
        assert_eq!(
            Note::parse(envelope.as_bytes()).unwrap().encode(),
            envelope,
            "{name}"
        );
        if origin.is_some() { v2 += 1 } else { v1 += 1 }
    }
    eprintln!("checkpoints verified: {v1} Rekor v1, {v2} Rekor v2; tampered rejected: {rejected}");
    eprintln!("skipped {}:\n  {}", skipped.len(), skipped.join("\n  "));
    assert!(
        v1 >= 5 && v2 >= 5 && rejected >= 3,
        "too few vectors ran: {v1} {v2} {rejected}"
    );
}
