//! cosignature/v1: key IDs, signing at a given time, verification and the witness flow.

use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_merkle::Hash;

use super::ed25519_signer;
use crate::{
    Checkpoint, CosignatureV1Signer, CosignatureV1Verifier, Ed25519Verifier, Error, Note,
    NoteSigner, NoteVerifier, SignedCheckpoint, cosignature_timestamp, sign, verifier_from_vkey,
};

fn cosigner(name: &str) -> CosignatureV1Signer {
    CosignatureV1Signer::new(name, SigningKey::generate(Algorithm::Ed25519).unwrap()).unwrap()
}

fn checkpoint_text() -> String {
    Checkpoint::new("example.com/log", 5, Hash::from_bytes([1; 32]))
        .unwrap()
        .with_extensions(["ext"])
        .unwrap()
        .to_text()
}

/// Verifier keys from transparency-dev/formats `note/note_cosigv1_test.go`
/// (TestCoSigV1NewVerifier), Apache-2.0: a native 0x04 key and a 0x01 key.
#[test]
fn parses_transparency_dev_vkeys() {
    let vkey = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    let verifier = CosignatureV1Verifier::from_vkey(vkey).unwrap();
    assert_eq!(verifier.key_hint(), [0xda, 0x77, 0xad, 0xe7]);
    assert_eq!(verifier.to_vkey(), vkey);
    assert_eq!(
        verifier_from_vkey(vkey).unwrap().key_hint(),
        [0xda, 0x77, 0xad, 0xe7]
    );

    let ed25519 = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6";
    assert_eq!(
        Ed25519Verifier::from_vkey(ed25519).unwrap().to_vkey(),
        ed25519
    );
    // The same key as a cosigner has another key ID: the type byte is hashed in.
    let key = Ed25519Verifier::from_vkey(ed25519)
        .unwrap()
        .public_key()
        .clone();
    let as_cosigner = CosignatureV1Verifier::new("TEST", &key).unwrap();
    assert_ne!(as_cosigner.key_hint(), [0x79, 0x97, 0x40, 0x5c]);
    assert!(matches!(
        CosignatureV1Verifier::from_vkey(ed25519),
        Err(Error::UnknownSignatureType { byte: 0x01 })
    ));
}

/// A cosignature from transparency-dev/formats `TestCoSigV1Timestamp`, Apache-2.0.
#[test]
fn reads_timestamp_of_transparency_dev_cosignature() {
    let line = "— w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==\n";
    let note = Note::parse(format!("x\n\n{line}").as_bytes()).unwrap();
    assert_eq!(
        cosignature_timestamp(&note.signatures()[0]),
        Ok(1_727_964_367)
    );

    let ed25519 = "— w eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY=\n";
    let note = Note::parse(format!("x\n\n{ed25519}").as_bytes()).unwrap();
    assert_eq!(
        cosignature_timestamp(&note.signatures()[0]),
        Err(Error::BadCosignatureLength {
            name: "w".to_owned(),
            len: 64
        })
    );
}

#[test]
fn cosigns_and_verifies_with_timestamp() {
    let witness = cosigner("witness.example/w1");
    let verifier = witness.verifier();
    let text = checkpoint_text();
    let at = witness.at(1_679_315_147).unwrap();
    assert_eq!(at.timestamp(), 1_679_315_147);
    let signature = at.sign(text.as_bytes()).unwrap();
    assert_eq!(signature.len(), 72);
    assert_eq!(signature[..8], 1_679_315_147u64.to_be_bytes());
    assert_eq!(
        verifier.verify_cosignature(text.as_bytes(), &signature),
        Ok(1_679_315_147)
    );
    assert_eq!(
        CosignatureV1Verifier::from_vkey(&verifier.to_vkey())
            .unwrap()
            .key_hint(),
        verifier.key_hint()
    );

    // The signature covers the timestamp and every line, extension lines included.
    let mut later = signature.clone();
    later[7] ^= 1;
    assert!(matches!(
        verifier.verify_cosignature(text.as_bytes(), &later),
        Err(Error::SignatureInvalid { .. })
    ));
    let tampered = text.replace("ext", "exT");
    assert!(verifier.verify(tampered.as_bytes(), &signature).is_err());
    assert!(matches!(
        verifier.verify(text.as_bytes(), &signature[..71]),
        Err(Error::BadCosignatureLength { len: 71, .. })
    ));
    let mut future = signature.clone();
    future[0] = 0x80;
    assert_eq!(
        verifier.verify_cosignature(text.as_bytes(), &future),
        Err(Error::CosignatureTimestampOutOfRange {
            timestamp: u64::from_be_bytes(future[..8].try_into().unwrap())
        })
    );
}

#[test]
fn rejects_out_of_range_timestamps_and_wrong_keys() {
    let witness = cosigner("w");
    assert!(witness.at(i64::MAX as u64).is_ok());
    assert!(matches!(
        witness.at(i64::MAX as u64 + 1),
        Err(Error::CosignatureTimestampOutOfRange { .. })
    ));
    let p256 = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    assert!(matches!(
        CosignatureV1Signer::new("w", p256),
        Err(Error::UnsupportedKeyAlgorithm {
            algorithm: Algorithm::EcdsaP256Sha256,
            ..
        })
    ));
}

/// The tlog-witness flow: a log signs, a witness adds its cosignature, a client requires both.
#[test]
fn witness_cosigns_a_log_checkpoint() {
    let log = ed25519_signer("example.com/log");
    let witness = cosigner("witness.example/w1");
    let signed = sign(&checkpoint_text(), &[&log]).unwrap();

    let mut note = Note::parse(signed.as_bytes()).unwrap();
    note.verify(&[&log.verifier()]).unwrap();
    note.add_signatures(&[&witness.at(1_700_000_000).unwrap()])
        .unwrap();
    let cosigned = note.encode();
    assert!(cosigned.starts_with(&signed));

    let (log_verifier, witness_verifier) = (log.verifier(), witness.verifier());
    let verifiers: &[&dyn NoteVerifier] = &[&log_verifier, &witness_verifier];
    let verified =
        SignedCheckpoint::parse_and_verify(cosigned.as_bytes(), verifiers, Some("example.com/log"))
            .unwrap();
    let signatures = verified.note().verified_signatures();
    assert_eq!(signatures.len(), 2);
    assert_eq!(signatures[1].name(), "witness.example/w1");
    assert_eq!(cosignature_timestamp(&signatures[1]), Ok(1_700_000_000));

    // Clients that only know the log ignore the cosignature.
    assert_eq!(
        SignedCheckpoint::parse_and_verify(cosigned.as_bytes(), &[&log_verifier], None)
            .unwrap()
            .note()
            .verified_signatures()
            .len(),
        1
    );
}
