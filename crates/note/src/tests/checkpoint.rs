//! Checkpoint text, signed checkpoints and origin checks.

use proptest::prelude::*;
use waxseal_merkle::{Hash, empty_root};

use super::ed25519_signer;
use crate::{Checkpoint, Error, NoteVerifier, SignedCheckpoint, sign};

/// The example of c2sp.org/tlog-checkpoint (CC-BY 4.0).
const SPEC_EXAMPLE: &str =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

#[test]
fn parses_spec_example() {
    let checkpoint = Checkpoint::parse(SPEC_EXAMPLE).unwrap();
    assert_eq!(checkpoint.origin(), "example.com/behind-the-sofa");
    assert_eq!(checkpoint.size(), 20_852_163);
    assert_eq!(
        checkpoint.root().to_hex(),
        "0ac5186a91863e8e1d90c808014aa89bf5da8e3ee1d9f07630f0378f68f1ab62"
    );
    assert!(checkpoint.extensions().is_empty());
    assert_eq!(checkpoint.to_text(), SPEC_EXAMPLE);
}

#[test]
fn round_trips_with_extensions() {
    let checkpoint = Checkpoint::new("o", u64::MAX, empty_root())
        .unwrap()
        .with_extensions(["Timestamp: 1689748607742585419", "x"])
        .unwrap();
    let text = checkpoint.to_text();
    assert_eq!(
        text,
        "o\n18446744073709551615\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\
         Timestamp: 1689748607742585419\nx\n"
    );
    assert_eq!(Checkpoint::parse(&text).unwrap(), checkpoint);
}

struct Case {
    name: &'static str,
    text: &'static str,
    want: fn(&Error) -> bool,
}

const ROOT: &str = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

const CASES: &[Case] = &[
    Case {
        name: "empty",
        text: "",
        want: |e| matches!(e, Error::TextNotNewlineTerminated),
    },
    Case {
        name: "no final newline",
        text: "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        want: |e| matches!(e, Error::TextNotNewlineTerminated),
    },
    Case {
        name: "two lines",
        text: "o\n1\n",
        want: |e| matches!(e, Error::TooFewLines { count: 2, min: 3 }),
    },
    Case {
        name: "empty origin",
        text: "\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::EmptyOrigin),
    },
    Case {
        name: "leading zero",
        text: "o\n01\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { value } if value == "01"),
    },
    Case {
        name: "double zero",
        text: "o\n00\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { .. }),
    },
    Case {
        name: "sign",
        text: "o\n+1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { .. }),
    },
    Case {
        name: "negative",
        text: "o\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { .. }),
    },
    Case {
        name: "overflow",
        text: "o\n18446744073709551616\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { .. }),
    },
    Case {
        name: "empty size",
        text: "o\n\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { .. }),
    },
    Case {
        name: "hex size",
        text: "o\n0x10\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::BadTreeSize { .. }),
    },
    Case {
        name: "root not base64",
        text: "o\n1\n47DEQpj8HBSa-_TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| matches!(e, Error::RootHashNotBase64 { .. }),
    },
    Case {
        name: "root unpadded",
        text: "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU\n",
        want: |e| matches!(e, Error::RootHashNotBase64 { .. }),
    },
    Case {
        name: "root 30 bytes",
        text: "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hS\n",
        want: |e| matches!(e, Error::BadRootHash { len: 30 }),
    },
    Case {
        name: "root 33 bytes",
        text: "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUA\n",
        want: |e| matches!(e, Error::BadRootHash { len: 33 }),
    },
    Case {
        name: "empty extension line",
        text: "o\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\next\n\n",
        want: |e| matches!(e, Error::EmptyExtensionLine { line: 5 }),
    },
    Case {
        name: "control character",
        text: "o\t\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
        want: |e| {
            matches!(
                e,
                Error::ControlCharacter {
                    offset: 1,
                    byte: b'\t'
                }
            )
        },
    },
];

#[test]
fn rejects_malformed_checkpoints() {
    assert!(Checkpoint::parse(&format!("o\n1\n{ROOT}\n")).is_ok());
    for case in CASES {
        match Checkpoint::parse(case.text) {
            Ok(c) => panic!("{}: accepted {c:?}", case.name),
            Err(e) => assert!((case.want)(&e), "{}: wrong error {e:?}", case.name),
        }
    }
}

#[test]
fn constructors_validate_lines() {
    let root = empty_root();
    assert_eq!(Checkpoint::new("", 0, root), Err(Error::EmptyOrigin));
    assert_eq!(
        Checkpoint::new("a\nb", 0, root),
        Err(Error::ControlCharacter {
            offset: 1,
            byte: b'\n'
        })
    );
    let base = Checkpoint::new("o", 0, root).unwrap();
    assert_eq!(
        base.clone().with_extensions(["a", ""]),
        Err(Error::EmptyExtensionLine { line: 5 })
    );
    assert!(matches!(
        base.with_extensions(["a\nb"]),
        Err(Error::ControlCharacter { byte: b'\n', .. })
    ));
}

#[test]
fn verifies_signed_checkpoint_and_origin() {
    let signer = ed25519_signer("example.com/log");
    let verifier = signer.verifier();
    let checkpoint = Checkpoint::new("example.com/log", 3, Hash::from_bytes([7; 32])).unwrap();
    let msg = sign(&checkpoint.to_text(), &[&signer]).unwrap();
    let verifiers: &[&dyn NoteVerifier] = &[&verifier];

    let verified =
        SignedCheckpoint::parse_and_verify(msg.as_bytes(), verifiers, Some("example.com/log"))
            .unwrap();
    assert_eq!(verified.checkpoint(), &checkpoint);
    assert_eq!(
        (verified.origin(), verified.size(), verified.root()),
        ("example.com/log", 3, checkpoint.root())
    );
    assert_eq!(verified.note().verified_signatures().len(), 1);

    assert!(SignedCheckpoint::parse_and_verify(msg.as_bytes(), verifiers, None).is_ok());
    assert_eq!(
        SignedCheckpoint::parse_and_verify(msg.as_bytes(), verifiers, Some("example.com/other")),
        Err(Error::WrongOrigin {
            expected: "example.com/other".to_owned(),
            actual: "example.com/log".to_owned()
        })
    );
    // A signature by another key under the same name is ignored, so nothing verifies.
    let stranger = ed25519_signer("example.com/log");
    let forged = sign(&checkpoint.to_text(), &[&stranger]).unwrap();
    assert_eq!(
        SignedCheckpoint::parse_and_verify(forged.as_bytes(), verifiers, None),
        Err(Error::NoVerifiedSignature { signatures: 1 })
    );
    // A signed note whose text is not a checkpoint.
    let not_checkpoint = sign("hello\n", &[&signer]).unwrap();
    assert_eq!(
        SignedCheckpoint::parse(not_checkpoint.as_bytes()),
        Err(Error::TooFewLines { count: 1, min: 3 })
    );
}

proptest! {
    #[test]
    fn parse_never_panics(text in "\\PC{0,80}") {
        let _ = Checkpoint::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_checkpoint_shaped_text(
        origin in "[a-z./ ]{0,12}",
        size in "[0-9+-]{0,22}",
        root in "[A-Za-z0-9+/=]{0,48}",
        extensions in proptest::collection::vec("[a-z ]{0,5}", 0..3),
    ) {
        let extensions: String = extensions.iter().map(|l| format!("{l}\n")).collect();
        let text = format!("{origin}\n{size}\n{root}\n{extensions}");
        if let Ok(checkpoint) = Checkpoint::parse(&text) {
            prop_assert_eq!(checkpoint.to_text(), text);
        }
    }

    #[test]
    fn to_text_parse_round_trips(
        origin in "[^\\x00-\\x1f]{1,40}",
        size in any::<u64>(),
        root in any::<[u8; 32]>(),
        extensions in proptest::collection::vec("[^\\x00-\\x1f]{1,20}", 0..3),
    ) {
        let checkpoint = Checkpoint::new(&origin, size, Hash::from_bytes(root))
            .unwrap()
            .with_extensions(extensions)
            .unwrap();
        prop_assert_eq!(Checkpoint::parse(&checkpoint.to_text()).unwrap(), checkpoint);
    }
}
