//! Fuzzes signed-note parsing and verification: `Note::parse` must never panic, must reproduce
//! its input byte for byte, and verification against fixed known keys must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_note::{Note, NoteVerifier, verifier_from_vkey};

// golang.org/x/mod/sumdb/note docs (Ed25519) and transparency-dev/formats tests (ECDSA, the
// public-good Rekor key): inputs that carry these names and key IDs reach the verifiers.
const VKEYS: &[&str] = &[
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "rekor.sigstore.dev+c0d23d6a+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNhtmPtrWm3U1eQXBogSMdGvXwBcK5AW5i0hrZLOC96l+smGNM7nwZ4QvFK/4sueRoVj//QP22Ni4Qt9DPfkWLc=",
    "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
];

fuzz_target!(|data: &[u8]| {
    let verifiers: Vec<Box<dyn NoteVerifier>> = VKEYS
        .iter()
        .map(|vkey| verifier_from_vkey(vkey).expect("fixed vkeys parse"))
        .collect();
    let refs: Vec<&dyn NoteVerifier> = verifiers.iter().map(|v| &**v).collect();
    if let Ok(note) = Note::parse(data) {
        assert_eq!(
            note.encode().as_bytes(),
            data,
            "parse/encode must round-trip"
        );
        let _ = note.verify(&refs);
    }
});
