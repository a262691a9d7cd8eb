//! Issue → verify round trips, issuing rejections and negative verification.

use std::time::Duration;

use waxseal_tsa::{
    Error, HashAlgorithm, TimeStampRequest, Tsa, TsaKeys, VerifyOptions, verify_timestamp,
    verify_timestamp_with,
};

use crate::common::{T0, at, keys};

const DATA: &[u8] = b"the signature bytes";

fn chain_of(keys: &TsaKeys) -> Vec<Vec<u8>> {
    keys.chain_der()
}

fn refs(chain: &[Vec<u8>]) -> Vec<&[u8]> {
    chain.iter().map(Vec::as_slice).collect()
}

fn sha256_request() -> TimeStampRequest {
    TimeStampRequest::new(HashAlgorithm::Sha256, &HashAlgorithm::Sha256.digest(DATA)).unwrap()
}

#[test]
fn round_trips() {
    struct Case {
        name: &'static str,
        request: TimeStampRequest,
        options: VerifyOptions,
    }
    let json = format!(
        r#"{{"artifactHash":"{}","hashAlgorithm":"sha384","certificates":true,"nonce":99}}"#,
        base64_encode(&HashAlgorithm::Sha384.digest(DATA))
    );
    let cases = [
        Case {
            name: "sha256, no nonce, no certReq",
            request: sha256_request(),
            options: VerifyOptions::default(),
        },
        Case {
            name: "sha256 with nonce and certReq",
            request: sha256_request().with_nonce(u64::MAX).with_cert_req(true),
            options: VerifyOptions::default()
                .with_nonce(u64::MAX)
                .with_policy("1.3.6.1.4.1.57264.2"),
        },
        Case {
            name: "sha512 DER round trip through from_der",
            request: TimeStampRequest::from_der(
                &TimeStampRequest::new(HashAlgorithm::Sha512, &HashAlgorithm::Sha512.digest(DATA))
                    .unwrap()
                    .with_nonce(5)
                    .to_der()
                    .unwrap(),
            )
            .unwrap(),
            options: VerifyOptions::default().with_nonce(5),
        },
        Case {
            name: "sha384 JSON with nonce and certificates",
            request: TimeStampRequest::from_json(json.as_bytes()).unwrap(),
            options: VerifyOptions::default().with_nonce(99),
        },
    ];
    let keys = keys();
    let chain = chain_of(&keys);
    let tsa = Tsa::new(keys);
    for (i, case) in cases.into_iter().enumerate() {
        let name = case.name;
        let gen_time = T0 + 3600 + i as u64;
        let serial = [0x80, i as u8, 0xff];
        let response = tsa
            .timestamp(&case.request, at(gen_time), &serial)
            .expect(name);
        let verified =
            verify_timestamp_with(&response, DATA, &refs(&chain), &case.options).expect(name);
        assert_eq!(verified.gen_time(), at(gen_time), "{name}");
        assert_eq!(verified.policy(), "1.3.6.1.4.1.57264.2", "{name}");
        assert_eq!(verified.serial(), [0x00, 0x80, i as u8, 0xff], "{name}");
        assert_eq!(
            verified.hash_algorithm(),
            case.request.hash_algorithm(),
            "{name}"
        );
    }
}

#[test]
fn pem_files_round_trip() {
    let keys = keys();
    let files = keys.to_pem_files();
    assert_eq!(files.chain, keys.chain_pem());
    assert_eq!(files.chain.matches("BEGIN CERTIFICATE").count(), 2);
    let reloaded = TsaKeys::from_pem(&files.key, &files.chain).unwrap();
    assert_eq!(reloaded.chain_der(), keys.chain_der());

    // A key that is not the leaf's is refused.
    let other = TsaKeys::generate(at(T0), Duration::from_secs(60)).unwrap();
    let err = TsaKeys::from_pem(&other.to_pem_files().key, &files.chain).unwrap_err();
    assert!(matches!(err, Error::KeyMismatch), "{err:?}");
    // A chain without its root is refused.
    let leaf_only = files
        .chain
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next()
        .unwrap();
    let err = TsaKeys::from_pem(&files.key, leaf_only).unwrap_err();
    assert!(
        matches!(err, Error::ChainTooShort { len: 1, .. }),
        "{err:?}"
    );
    // Reversed order is refused.
    let blocks: Vec<&str> = files
        .chain
        .split_inclusive("-----END CERTIFICATE-----\n")
        .collect();
    let reversed: String = blocks.iter().rev().copied().collect();
    assert!(TsaKeys::from_pem(&files.key, &reversed).is_err());
}

#[test]
fn rejects_unissuable_requests() {
    struct Case {
        name: &'static str,
        request: TimeStampRequest,
        gen_time: u64,
        serial: &'static [u8],
        expect: fn(&Error) -> bool,
    }
    let other_policy = TimeStampRequest::from_json(
        format!(
            r#"{{"artifactHash":"{}","hashAlgorithm":"sha256","tsaPolicyOID":"1.2.3.4"}}"#,
            base64_encode(&[0; 32])
        )
        .as_bytes(),
    )
    .unwrap();
    let cases = [
        Case {
            name: "rejects_unknown_policy",
            request: other_policy,
            gen_time: T0 + 10,
            serial: &[1],
            expect: |e| matches!(e, Error::UnacceptedPolicy { .. }) && e.is_bad_request(),
        },
        Case {
            name: "rejects_empty_serial",
            request: sha256_request(),
            gen_time: T0 + 10,
            serial: &[],
            expect: |e| matches!(e, Error::SerialInvalid { len: 0 }),
        },
        Case {
            name: "rejects_zero_serial",
            request: sha256_request(),
            gen_time: T0 + 10,
            serial: &[0, 0],
            expect: |e| matches!(e, Error::SerialInvalid { len: 2 }),
        },
        Case {
            name: "rejects_serial_over_20_bytes",
            request: sha256_request(),
            gen_time: T0 + 10,
            serial: &[1; 21],
            expect: |e| matches!(e, Error::SerialInvalid { len: 21 }),
        },
        Case {
            name: "rejects_gen_time_after_leaf_expiry",
            request: sha256_request(),
            gen_time: T0 + 31 * 86_400,
            serial: &[1],
            expect: |e| matches!(e, Error::CertificateNotValidAt { index: 0, .. }),
        },
        Case {
            name: "rejects_gen_time_before_leaf_validity",
            request: sha256_request(),
            gen_time: T0 - 1,
            serial: &[1],
            expect: |e| matches!(e, Error::CertificateNotValidAt { index: 0, .. }),
        },
    ];
    let tsa = Tsa::new(keys());
    for case in cases {
        let name = case.name;
        let err = tsa
            .timestamp(&case.request, at(case.gen_time), case.serial)
            .expect_err(name);
        assert!((case.expect)(&err), "{name}: got {err:?}");
    }
}

/// Flips one bit of the first occurrence of `needle` in `haystack`.
fn flip_in(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let pos = haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("needle present");
    let mut out = haystack.to_vec();
    out[pos + needle.len() - 1] ^= 1;
    out
}

#[test]
fn verify_fails_closed() {
    let keys = keys();
    let chain = chain_of(&keys);
    let tsa = Tsa::new(keys);
    let request = sha256_request().with_nonce(42).with_cert_req(true);
    let response = tsa.timestamp(&request, at(T0 + 100), &[9]).unwrap();
    let imprint = HashAlgorithm::Sha256.digest(DATA);

    let other_keys = TsaKeys::generate(at(T0), Duration::from_secs(86_400)).unwrap();
    let other_chain = other_keys.chain_der();
    let other_response = Tsa::new(other_keys)
        .timestamp(&request, at(T0 + 100), &[9])
        .unwrap();
    // The other TSA's leaf, presented under our root: wrong key for our signer.
    let mixed_chain = vec![other_chain[0].clone(), chain[1].clone()];

    let mut truncated = response.clone();
    truncated.truncate(response.len() - 1);
    let mut bad_signature = response.clone();
    let last = bad_signature.len() - 1;
    bad_signature[last] ^= 1;

    struct Case {
        name: &'static str,
        response: Vec<u8>,
        data: &'static [u8],
        chain: Vec<Vec<u8>>,
        options: VerifyOptions,
        expect: fn(&Error) -> bool,
    }
    let cases = [
        Case {
            name: "rejects_tampered_tst_info",
            response: flip_in(&response, &imprint),
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::MessageDigestMismatch),
        },
        Case {
            name: "rejects_wrong_imprint",
            response: response.clone(),
            data: b"some other signature",
            chain: chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::ImprintMismatch { .. }),
        },
        Case {
            name: "rejects_wrong_tsa_chain",
            response: response.clone(),
            data: DATA,
            chain: other_chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::SignerMismatch),
        },
        Case {
            name: "rejects_token_from_another_tsa",
            response: other_response,
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::SignerMismatch),
        },
        Case {
            name: "rejects_leaf_not_issued_by_root",
            response: Tsa::new(TsaKeys::generate(at(T0), Duration::from_secs(86_400)).unwrap())
                .timestamp(&request, at(T0 + 100), &[9])
                .unwrap(),
            data: DATA,
            chain: mixed_chain,
            options: VerifyOptions::default(),
            expect: |e| {
                matches!(
                    e,
                    Error::SignerMismatch
                        | Error::IssuerMismatch { .. }
                        | Error::CertificateSignatureInvalid { .. }
                )
            },
        },
        Case {
            name: "rejects_bad_signature",
            response: bad_signature,
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::SignatureInvalid),
        },
        Case {
            name: "rejects_truncated_response",
            response: truncated,
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::MalformedDer { .. }),
        },
        Case {
            name: "rejects_leaf_only_chain",
            response: response.clone(),
            data: DATA,
            chain: chain[..1].to_vec(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::ChainTooShort { len: 1, min: 2 }),
        },
        Case {
            name: "rejects_empty_chain",
            response: response.clone(),
            data: DATA,
            chain: Vec::new(),
            options: VerifyOptions::default(),
            expect: |e| matches!(e, Error::ChainTooShort { len: 0, .. }),
        },
        Case {
            name: "rejects_wrong_nonce",
            response: response.clone(),
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default().with_nonce(43),
            expect: |e| matches!(e, Error::NonceMismatch),
        },
        Case {
            name: "rejects_wrong_policy",
            response: response.clone(),
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default().with_policy("1.2.3"),
            expect: |e| matches!(e, Error::PolicyMismatch { .. }),
        },
        Case {
            name: "rejects_rejection_status",
            // TimeStampResp { status { rejection(2) } }
            response: vec![0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02],
            data: DATA,
            chain: chain.clone(),
            options: VerifyOptions::default(),
            expect: |e| {
                matches!(
                    e,
                    Error::NotGranted {
                        status: 2,
                        has_token: false
                    }
                )
            },
        },
    ];
    // Sanity: the untampered response verifies.
    verify_timestamp(&response, DATA, &refs(&chain)).unwrap();
    for case in cases {
        let name = case.name;
        let err =
            verify_timestamp_with(&case.response, case.data, &refs(&case.chain), &case.options)
                .expect_err(name);
        assert!((case.expect)(&err), "{name}: got {err:?}");
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// No single-bit change anywhere in a response makes it attest something else: each either fails
/// or verifies to the same facts (the unsigned parts of CMS, such as the embedded certificate,
/// may change without effect).
#[test]
fn bit_flips_never_change_what_verifies() {
    let keys = keys();
    let chain = chain_of(&keys);
    let tsa = Tsa::new(keys);
    for cert_req in [false, true] {
        let request = sha256_request().with_nonce(1).with_cert_req(cert_req);
        let response = tsa.timestamp(&request, at(T0 + 5), &[3, 4]).unwrap();
        let original = verify_timestamp(&response, DATA, &refs(&chain)).unwrap();
        let mut accepted = 0;
        for i in 0..response.len() {
            for bit in [0x01, 0x80] {
                let mut mutated = response.clone();
                mutated[i] ^= bit;
                if let Ok(v) = verify_timestamp(&mutated, DATA, &refs(&chain)) {
                    assert_eq!(v, original, "certReq={cert_req}: byte {i} bit {bit:#x}");
                    accepted += 1;
                }
            }
        }
        // Without certReq only the unsigned digestAlgorithms SET (13 bytes) can change.
        if !cert_req {
            assert!(accepted <= 2 * 13, "{accepted} mutations accepted");
        }
    }
}
