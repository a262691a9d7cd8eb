//! Real RFC 3161 timestamps from Sigstore staging, in sigstore-python's test bundles
//! (`../shared/vectors/sigstore`, Apache-2.0, see its README), verified against the TSA chains
//! of the trusted roots they belong to.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use waxseal_tsa::{Error, verify_timestamp};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/sigstore"
);

fn read_json(path: &str) -> Value {
    let text = std::fs::read(format!("{VECTORS}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_slice(&text).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// The bytes the timestamp's imprint covers: the message signature or the DSSE signature.
fn signature(bundle: &Value) -> Vec<u8> {
    if let Some(sig) = bundle.pointer("/messageSignature/signature") {
        b64(sig)
    } else {
        b64(&bundle["dsseEnvelope"]["signatures"][0]["sig"])
    }
}

fn tsa_chains(root: &Value) -> Vec<Vec<Vec<u8>>> {
    root["timestampAuthorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tsa| {
            tsa["certChain"]["certificates"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| b64(&c["rawBytes"]))
                .collect()
        })
        .collect()
}

fn timestamps(bundle: &Value) -> Vec<Vec<u8>> {
    bundle["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| b64(&t["signedTimestamp"]))
        .collect()
}

/// Tries every TSA of the root; returns the first success or the last error.
fn verify_any(response: &[u8], sig: &[u8], root: &Value) -> Result<u64, Error> {
    let mut last = Err(Error::ChainTooShort { len: 0, min: 2 });
    for chain in tsa_chains(root) {
        let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
        match verify_timestamp(response, sig, &chain) {
            Ok(v) => {
                let secs = v
                    .gen_time()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                return Ok(secs);
            }
            Err(e) => last = Err(e),
        }
    }
    last
}

enum Outcome {
    Verifies,
    Fails(fn(&Error) -> bool),
}
use Outcome::{Fails, Verifies};

fn signer_mismatch(e: &Error) -> bool {
    matches!(e, Error::SignerMismatch)
}

#[test]
fn verifies_real_sigstore_timestamps() {
    struct Case {
        name: &'static str,
        bundle: &'static str,
        root: &'static str,
        /// What each of the bundle's timestamps gives.
        outcomes: &'static [Outcome],
    }
    const CASES: &[Case] = &[
        Case {
            name: "staging rekor v2 message signature, staging TSA",
            bundle: "staging-rekor2-msg-tsa",
            root: "staging",
            outcomes: &[Verifies],
        },
        Case {
            name: "staging rekor v2 DSSE, staging TSA",
            bundle: "staging-rekor2-dsse-tsa",
            root: "staging",
            outcomes: &[Verifies],
        },
        Case {
            name: "sigstore-python test TSA (leaf, intermediate, root)",
            bundle: "staging-rekor1-msg-tsa",
            root: "staging-test-tsa",
            // The second timestamp's imprint is over other data (sigstore-python's fixture);
            // sigstore-python counts only the first.
            outcomes: &[
                Verifies,
                Fails(|e| matches!(e, Error::ImprintMismatch { .. })),
            ],
        },
        Case {
            name: "test TSA timestamps against the staging TSA",
            bundle: "staging-rekor1-msg-tsa-untrusted-tsa-ignored",
            root: "staging",
            outcomes: &[Fails(signer_mismatch), Fails(signer_mismatch)],
        },
        Case {
            name: "staging timestamps against the production TSA",
            bundle: "staging-rekor2-msg-tsa--production-root",
            root: "production",
            outcomes: &[Fails(signer_mismatch)],
        },
        Case {
            name: "tampered timestamp",
            bundle: "staging-rekor2-msg-tsa--tsa-timestamp-bit-flip",
            root: "staging",
            outcomes: &[Fails(|e| matches!(e, Error::SignatureInvalid))],
        },
        Case {
            name: "tampered DSSE timestamp",
            bundle: "staging-rekor2-dsse-tsa--tsa-timestamp-bit-flip",
            root: "staging",
            outcomes: &[Fails(|e| matches!(e, Error::SignatureInvalid))],
        },
        Case {
            name: "tampered signature (imprint no longer matches)",
            bundle: "staging-rekor2-msg-tsa--signature-bit-flip",
            root: "staging",
            outcomes: &[Fails(|e| matches!(e, Error::ImprintMismatch { .. }))],
        },
    ];
    for case in CASES {
        let name = case.name;
        let bundle = read_json(&format!("{}/bundle.sigstore.json", case.bundle));
        let root = read_json(&format!("roots/{}.trusted_root.json", case.root));
        let sig = signature(&bundle);
        let stamps = timestamps(&bundle);
        assert_eq!(stamps.len(), case.outcomes.len(), "{name}: timestamp count");
        for (i, (response, outcome)) in stamps.iter().zip(case.outcomes).enumerate() {
            let result = verify_any(response, &sig, &root);
            match (outcome, &result) {
                (Verifies, Ok(secs)) => assert!(*secs > 1_700_000_000, "{name} #{i}: {secs}"),
                (Fails(expect), Err(e)) => assert!(expect(e), "{name} #{i}: got {e:?}"),
                _ => panic!("{name} #{i}: got {result:?}"),
            }
        }
    }
}
