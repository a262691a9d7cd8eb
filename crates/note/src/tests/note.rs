//! Signed-note parsing, signing and verification.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use waxseal_crypto::SigningKey;

use super::{FixedSigner, ed25519_signer};
use crate::{Ed25519Signer, Ed25519Verifier, Error, Note, NoteSigner, NoteVerifier, sign};

// Known-answer vectors from golang.org/x/mod/sumdb/note (note.go package docs and
// note_test.go, TestSign / TestOpen / TestVerifierList), BSD-3-Clause.
const PETER_SKEY_DATA: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const ENOCH_SIG: &str = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

fn peter_signer() -> Ed25519Signer {
    let data = STANDARD.decode(PETER_SKEY_DATA).unwrap();
    assert_eq!(data[0], 0x01, "Go signer keys are 0x01 || 32-byte seed");
    let seed: [u8; 32] = data[1..].try_into().unwrap();
    Ed25519Signer::new(
        "PeterNeumann",
        SigningKey::from_ed25519_seed(&seed).unwrap(),
    )
    .unwrap()
}

fn peter() -> Ed25519Verifier {
    Ed25519Verifier::from_vkey(PETER_VKEY).unwrap()
}

fn enoch() -> Ed25519Verifier {
    Ed25519Verifier::from_vkey(ENOCH_VKEY).unwrap()
}

fn signed(signatures: &[&str]) -> String {
    format!("{TEXT}\n{}", signatures.concat())
}

#[test]
fn signs_golang_vector_byte_exactly() {
    let signer = peter_signer();
    assert_eq!(signer.key_hint(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(signer.verifier().to_vkey(), PETER_VKEY);
    assert_eq!(sign(TEXT, &[&signer]).unwrap(), signed(&[PETER_SIG]));
}

#[test]
fn opens_golang_vectors() {
    let (peter, enoch) = (peter(), enoch());
    let msg = signed(&[PETER_SIG, ENOCH_SIG]);
    let note = Note::parse(msg.as_bytes()).unwrap();
    assert_eq!(note.text(), TEXT);
    assert_eq!(note.encode(), msg, "byte-exact round trip");

    // One known key: the other signature is ignored.
    let verified = note.verify(&[&peter]).unwrap();
    assert_eq!(verified.text(), TEXT);
    let names: Vec<&str> = verified
        .verified_signatures()
        .iter()
        .map(|s| s.name())
        .collect();
    assert_eq!(names, ["PeterNeumann"]);
    assert_eq!(
        verified.verified_signatures()[0].key_hint(),
        [0xc7, 0x4f, 0x20, 0xa3]
    );

    // Both known.
    let verified = note.verify(&[&enoch, &peter]).unwrap();
    assert_eq!(verified.verified_signatures().len(), 2);

    // None known.
    assert_eq!(
        note.verify(&[]),
        Err(Error::NoVerifiedSignature { signatures: 2 })
    );
}

#[test]
fn adds_a_signature_to_an_existing_note() {
    let (peter, enoch) = (peter(), enoch());
    let mut note = Note::parse(signed(&[PETER_SIG]).as_bytes()).unwrap();
    let other = ed25519_signer("EnochRoot");
    note.add_signatures(&[&other]).unwrap();
    assert_eq!(note.signatures().len(), 2);
    assert!(note.encode().starts_with(&signed(&[PETER_SIG])));
    note.verify(&[&peter, &other.verifier()]).unwrap();
    // The real EnochRoot key does not match the new signature's key ID: ignored.
    assert_eq!(
        note.verify(&[&enoch]),
        Err(Error::NoVerifiedSignature { signatures: 2 })
    );

    // Re-signing with the same key replaces the old signature (Go's Sign does the same).
    note.add_signatures(&[&peter_signer()]).unwrap();
    assert_eq!(note.signatures().len(), 2);
    assert_eq!(note.signatures()[1].name(), "PeterNeumann");
    assert!(
        note.encode().ends_with(PETER_SIG),
        "Ed25519 is deterministic"
    );
}

struct VerifyCase {
    name: &'static str,
    msg: fn() -> String,
    verifiers: fn() -> Vec<Box<dyn NoteVerifier>>,
    want: fn(&Result<usize, Error>) -> bool,
}

const VERIFY_CASES: &[VerifyCase] = &[
    VerifyCase {
        name: "ambiguous verifiers",
        msg: || signed(&[ENOCH_SIG]),
        verifiers: || vec![Box::new(enoch()), Box::new(peter()), Box::new(enoch())],
        want: |r| matches!(r, Err(Error::AmbiguousVerifier { name, .. }) if name == "EnochRoot"),
    },
    VerifyCase {
        name: "unused ambiguous verifiers",
        msg: || signed(&[PETER_SIG]),
        verifiers: || vec![Box::new(enoch()), Box::new(peter()), Box::new(enoch())],
        want: |r| matches!(r, Ok(1)),
    },
    VerifyCase {
        name: "invalid signature from a known key",
        msg: || signed(&[&format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..])]),
        verifiers: || vec![Box::new(peter())],
        want: |r| {
            matches!(r, Err(Error::SignatureInvalid { name, key_hint: [0xc7, 0x4f, 0x20, 0xa3] })
                if name == "PeterNeumann")
        },
    },
    VerifyCase {
        name: "invalid known signature after a valid one",
        msg: || {
            signed(&[
                ENOCH_SIG,
                &format!("{}ABCD{}", &PETER_SIG[..60], &PETER_SIG[60..]),
            ])
        },
        verifiers: || vec![Box::new(peter()), Box::new(enoch())],
        want: |r| matches!(r, Err(Error::SignatureInvalid { .. })),
    },
    VerifyCase {
        name: "duplicate signature by a known key",
        msg: || signed(&[PETER_SIG, PETER_SIG]),
        verifiers: || vec![Box::new(peter())],
        want: |r| {
            let want = "PeterNeumann";
            matches!(r, Err(Error::DuplicateSignature { name, .. }) if name == want)
        },
    },
    VerifyCase {
        name: "duplicate signatures by an unknown key are ignored",
        msg: || signed(&[PETER_SIG, ENOCH_SIG, ENOCH_SIG]),
        verifiers: || vec![Box::new(peter())],
        want: |r| matches!(r, Ok(1)),
    },
    VerifyCase {
        name: "same name, other key ID is unknown",
        msg: || signed(&[&PETER_SIG.replace("x08g", "xxxx")]),
        verifiers: || vec![Box::new(peter())],
        want: |r| matches!(r, Err(Error::NoVerifiedSignature { signatures: 1 })),
    },
    VerifyCase {
        name: "same key ID, other name is unknown",
        msg: || signed(&[&PETER_SIG.replace("PeterNeumann", "CarmenSandiego")]),
        verifiers: || vec![Box::new(peter())],
        want: |r| matches!(r, Err(Error::NoVerifiedSignature { signatures: 1 })),
    },
];

#[test]
fn verify_cases() {
    for case in VERIFY_CASES {
        let msg = (case.msg)();
        let verifiers = (case.verifiers)();
        let refs: Vec<&dyn NoteVerifier> = verifiers.iter().map(|v| &**v).collect();
        let note = Note::parse(msg.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let result = note.verify(&refs).map(|v| v.verified_signatures().len());
        assert!((case.want)(&result), "{}: got {result:?}", case.name);
    }
}

struct ParseCase {
    name: &'static str,
    msg: fn() -> Vec<u8>,
    want: fn(&Error) -> bool,
}

const PARSE_CASES: &[ParseCase] = &[
    ParseCase {
        name: "text only",
        msg: || TEXT.into(),
        want: |e| matches!(e, Error::MissingBlankLine),
    },
    ParseCase {
        name: "blank line, no signatures",
        msg: || format!("{TEXT}\n").into(),
        want: |e| matches!(e, Error::NoSignatures),
    },
    ParseCase {
        name: "unterminated signature line",
        msg: || signed(&[&PETER_SIG[..PETER_SIG.len() - 1]]).into(),
        want: |e| matches!(e, Error::BadSignatureLine { .. }),
    },
    ParseCase {
        name: "control character",
        msg: || format!("\x01{}", signed(&[PETER_SIG])).into(),
        want: |e| matches!(e, Error::ControlCharacter { offset: 0, byte: 1 }),
    },
    ParseCase {
        name: "carriage return",
        msg: || signed(&[PETER_SIG]).replace('\n', "\r\n").into(),
        want: |e| matches!(e, Error::ControlCharacter { byte: b'\r', .. }),
    },
    ParseCase {
        name: "invalid UTF-8",
        msg: || [b"\xff".as_slice(), signed(&[PETER_SIG]).as_bytes()].concat(),
        want: |e| matches!(e, Error::InvalidUtf8 { offset: 0 }),
    },
    ParseCase {
        name: "name with a space",
        msg: || {
            signed(&["— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"]).into()
        },
        want: |e| matches!(e, Error::BadSignatureLine { .. }),
    },
    ParseCase {
        name: "unexpected line after signatures",
        msg: || format!("{}Unexpected line.\n", signed(&[PETER_SIG])).into(),
        want: |e| matches!(e, Error::BadSignatureLine { line, .. } if line == "Unexpected line."),
    },
    ParseCase {
        name: "hyphen instead of em dash",
        msg: || signed(&[&PETER_SIG.replacen('—', "-", 1)]).into(),
        want: |e| matches!(e, Error::BadSignatureLine { .. }),
    },
    ParseCase {
        name: "no space after the name",
        msg: || signed(&["— PeterNeumann\n"]).into(),
        want: |e| matches!(e, Error::BadSignatureLine { .. }),
    },
    ParseCase {
        name: "empty signature",
        msg: || signed(&["— PeterNeumann \n"]).into(),
        want: |e| {
            matches!(
                e,
                Error::BadSignatureLine {
                    reason: "empty signature",
                    ..
                }
            )
        },
    },
    ParseCase {
        name: "empty name",
        msg: || signed(&["—  AAAAAAA=\n"]).into(),
        want: |e| matches!(e, Error::InvalidKeyName { name, .. } if name.is_empty()),
    },
    ParseCase {
        name: "plus in name",
        msg: || signed(&["— a+b AAAAAAA=\n"]).into(),
        want: |e| matches!(e, Error::InvalidKeyName { name, .. } if name == "a+b"),
    },
    ParseCase {
        name: "key ID only",
        msg: || signed(&["— a AAAAAA==\n"]).into(),
        want: |e| matches!(e, Error::SignatureTooShort { len: 4, .. }),
    },
    ParseCase {
        name: "unpadded base64",
        msg: || signed(&["— a AAAAAAA\n"]).into(),
        want: |e| matches!(e, Error::BadSignatureLine { .. }),
    },
    ParseCase {
        name: "non-canonical base64",
        msg: || signed(&["— a AAAAAAB=\n"]).into(),
        want: |e| matches!(e, Error::BadSignatureLine { .. }),
    },
    ParseCase {
        name: "too many signatures",
        msg: || signed(&[PETER_SIG; 101]).into(),
        want: |e| {
            matches!(
                e,
                Error::TooManySignatures {
                    count: 101,
                    max: 100
                }
            )
        },
    },
    ParseCase {
        name: "too large",
        msg: || format!("{}\n{PETER_SIG}", "a".repeat(Note::MAX_SIZE)).into(),
        want: |e| {
            matches!(
                e,
                Error::NoteTooLarge {
                    max: Note::MAX_SIZE,
                    ..
                }
            )
        },
    },
];

#[test]
fn rejects_malformed_notes() {
    for case in PARSE_CASES {
        match Note::parse(&(case.msg)()) {
            Ok(note) => panic!("{}: accepted {note:?}", case.name),
            Err(e) => assert!((case.want)(&e), "{}: wrong error {e:?}", case.name),
        }
    }
}

#[test]
fn accepts_limits_and_unusual_but_valid_notes() {
    let cases: &[(&str, String, &str)] = &[
        ("100 signatures", signed(&[ENOCH_SIG; 100]), TEXT),
        (
            "blank lines in text",
            format!("a\n\nb\n\n{PETER_SIG}"),
            "a\n\nb\n",
        ),
        (
            "text ending in a blank line",
            format!("a\n\n\n{PETER_SIG}"),
            "a\n\n",
        ),
        ("text of one empty line", format!("\n\n{PETER_SIG}"), "\n"),
        (
            "unicode name",
            "t\n\n— quasimodo.example/salvatore-è AAAAAAA=\n".to_owned(),
            "t\n",
        ),
        (
            "DEL is not a control character here",
            format!("\x7f\n\n{PETER_SIG}"),
            "\x7f\n",
        ),
    ];
    for (name, msg, text) in cases {
        let note = Note::parse(msg.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(note.text(), *text, "{name}");
        assert_eq!(note.encode(), *msg, "{name}");
    }
}

#[test]
fn sign_rejects_bad_inputs() {
    let good = ed25519_signer("good");
    let bad_name = FixedSigner {
        name: "bad name",
        key_hint: [0; 4],
        signature: vec![1],
    };
    let empty = FixedSigner {
        name: "empty",
        key_hint: [0; 4],
        signature: vec![],
    };
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<&'a dyn NoteSigner>,
        fn(&Error) -> bool,
    );
    let cases: &[Case<'_>] = &[
        ("no newline", "abc", vec![&good], |e| {
            matches!(e, Error::TextNotNewlineTerminated)
        }),
        ("empty text", "", vec![&good], |e| {
            matches!(e, Error::TextNotNewlineTerminated)
        }),
        ("control", "a\tb\n", vec![&good], |e| {
            matches!(e, Error::ControlCharacter { .. })
        }),
        ("no signers", "a\n", vec![], |e| {
            matches!(e, Error::NoSignatures)
        }),
        ("bad name", "a\n", vec![&bad_name], |e| {
            matches!(e, Error::InvalidKeyName { .. })
        }),
        ("empty signature", "a\n", vec![&empty], |e| {
            matches!(e, Error::SignatureTooShort { .. })
        }),
        (
            "same key twice",
            "a\n",
            vec![&good, &good],
            |e| matches!(e, Error::DuplicateSignature { name, .. } if name == "good"),
        ),
    ];
    for (name, text, signers, want) in cases {
        match sign(text, signers) {
            Ok(note) => panic!("{name}: signed {note:?}"),
            Err(e) => assert!(want(&e), "{name}: wrong error {e:?}"),
        }
    }
    let many: Vec<FixedSigner> = (0..=100u32)
        .map(|i| FixedSigner {
            name: "many",
            key_hint: i.to_be_bytes(),
            signature: vec![1],
        })
        .collect();
    let refs: Vec<&dyn NoteSigner> = many.iter().map(|s| s as &dyn NoteSigner).collect();
    assert_eq!(
        sign("a\n", &refs),
        Err(Error::TooManySignatures {
            count: 101,
            max: 100
        })
    );
    assert_eq!(
        sign("a\n", &refs[..100]).map(|n| n.lines().count()),
        Ok(102)
    );
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Note::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_note_shaped_text(
        text in "[a-z\n ]{0,40}",
        lines in proptest::collection::vec("(— )?[a-zA-Z+ ]{0,6} ?[A-Za-z0-9+/=]{0,16}\n?", 0..4),
    ) {
        let msg = format!("{text}\n\n{}", lines.concat());
        if let Ok(note) = Note::parse(msg.as_bytes()) {
            prop_assert_eq!(note.encode(), msg);
        }
    }

    #[test]
    fn sign_parse_verify_round_trips(
        lines in proptest::collection::vec("[^\\x00-\\x1f]{0,30}", 1..5),
        signers in 1usize..4,
    ) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let keys: Vec<Ed25519Signer> =
            (0..signers).map(|i| ed25519_signer(&format!("k{i}"))).collect();
        let refs: Vec<&dyn NoteSigner> = keys.iter().map(|k| k as &dyn NoteSigner).collect();
        let msg = sign(&text, &refs).unwrap();
        let note = Note::parse(msg.as_bytes()).unwrap();
        prop_assert_eq!(note.text(), text.as_str());
        prop_assert_eq!(note.encode(), msg);
        let verifiers: Vec<Ed25519Verifier> = keys.iter().map(Ed25519Signer::verifier).collect();
        let vrefs: Vec<&dyn NoteVerifier> =
            verifiers.iter().map(|v| v as &dyn NoteVerifier).collect();
        prop_assert_eq!(note.verify(&vrefs).unwrap().verified_signatures().len(), signers);
    }
}
