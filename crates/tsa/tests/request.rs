//! Request parsing: DER `TimeStampReq` and the timestamp-authority JSON form.

use waxseal_tsa::{Error, HashAlgorithm, TimeStampRequest};

use crate::common::{cat, tlv};

const SHA256_OID: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
];
const SHA512_OID: &[u8] = &[
    0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
];
const SHA1_OID: &[u8] = &[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a];
const MD5_OID: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x05];
const NULL: &[u8] = &[0x05, 0x00];

/// `TimeStampReq` with the given version, hash OID, digest and trailing fields.
fn req(version: u8, hash_oid: &[u8], digest: &[u8], rest: &[u8]) -> Vec<u8> {
    let imprint = tlv(
        0x30,
        &cat(&[&tlv(0x30, &cat(&[hash_oid, NULL])), &tlv(0x04, digest)]),
    );
    tlv(0x30, &cat(&[&[0x02, 0x01, version], &imprint, rest]))
}

#[test]
fn parses_der_requests() {
    struct Case {
        name: &'static str,
        der: Vec<u8>,
        hash: HashAlgorithm,
        nonce: Option<&'static [u8]>,
        cert_req: bool,
        policy: Option<&'static str>,
    }
    let policy_oid = [
        0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x02,
    ];
    let cases = [
        Case {
            name: "minimal sha256",
            der: req(1, SHA256_OID, &[7; 32], &[]),
            hash: HashAlgorithm::Sha256,
            nonce: None,
            cert_req: false,
            policy: None,
        },
        Case {
            name: "sha512 with policy, nonce and certReq",
            der: req(
                1,
                SHA512_OID,
                &[7; 64],
                &cat(&[&policy_oid, &[0x02, 0x02, 0x01, 0x02], &[0x01, 0x01, 0xff]]),
            ),
            hash: HashAlgorithm::Sha512,
            nonce: Some(&[0x01, 0x02]),
            cert_req: true,
            policy: Some("1.3.6.1.4.1.57264.2"),
        },
    ];
    for case in cases {
        let name = case.name;
        let parsed = TimeStampRequest::from_der(&case.der).expect(name);
        assert_eq!(parsed.hash_algorithm(), case.hash, "{name}");
        assert_eq!(parsed.nonce(), case.nonce, "{name}");
        assert_eq!(parsed.cert_req(), case.cert_req, "{name}");
        assert_eq!(parsed.policy().as_deref(), case.policy, "{name}");
        assert_eq!(parsed.to_der().unwrap(), case.der, "{name}: re-encoding");
    }
}

#[test]
fn rejects_bad_der_requests() {
    struct Case {
        name: &'static str,
        der: Vec<u8>,
        expect: fn(&Error) -> bool,
    }
    let extensions = tlv(
        0xa0,
        &tlv(
            0x30,
            &cat(&[&[0x06, 0x03, 0x55, 0x1d, 0x0e], &[0x04, 0x00]]),
        ),
    );
    let cases = [
        Case {
            name: "rejects_garbage",
            der: b"not der".to_vec(),
            expect: |e| matches!(e, Error::MalformedDer { .. }),
        },
        Case {
            name: "rejects_trailing_bytes",
            der: cat(&[&req(1, SHA256_OID, &[0; 32], &[]), &[0]]),
            expect: |e| matches!(e, Error::MalformedDer { .. }),
        },
        Case {
            name: "rejects_version_2",
            der: req(2, SHA256_OID, &[0; 32], &[]),
            expect: |e| matches!(e, Error::UnsupportedVersion { version: 2, .. }),
        },
        Case {
            name: "rejects_sha1_as_weak",
            der: req(1, SHA1_OID, &[0; 20], &[]),
            expect: |e| matches!(e, Error::WeakHashAlgorithm { .. }),
        },
        Case {
            name: "rejects_md5",
            der: req(1, MD5_OID, &[0; 16], &[]),
            expect: |e| matches!(e, Error::UnsupportedHashAlgorithm { .. }),
        },
        Case {
            name: "rejects_short_digest",
            der: req(1, SHA256_OID, &[0; 31], &[]),
            expect: |e| {
                matches!(
                    e,
                    Error::DigestLengthMismatch {
                        expected: 32,
                        actual: 31,
                        ..
                    }
                )
            },
        },
        Case {
            name: "rejects_sha512_oid_with_sha256_digest",
            der: req(1, SHA512_OID, &[0; 32], &[]),
            expect: |e| {
                matches!(
                    e,
                    Error::DigestLengthMismatch {
                        expected: 64,
                        actual: 32,
                        ..
                    }
                )
            },
        },
        Case {
            name: "rejects_extensions",
            der: req(1, SHA256_OID, &[0; 32], &extensions),
            expect: |e| matches!(e, Error::UnsupportedExtensions { count: 1 }),
        },
    ];
    for case in cases {
        let name = case.name;
        let err = TimeStampRequest::from_der(&case.der).expect_err(name);
        assert!((case.expect)(&err), "{name}: got {err:?}");
        assert!(err.is_bad_request(), "{name}: {err:?} must be a 400");
    }
}

#[test]
fn parses_json_requests() {
    struct Case {
        name: &'static str,
        json: String,
        hash: HashAlgorithm,
        nonce: Option<&'static [u8]>,
        cert_req: bool,
        policy: Option<&'static str>,
    }
    let cases = [
        Case {
            name: "sigstore-js shape",
            json: format!(
                r#"{{"artifactHash":"{}","hashAlgorithm":"sha256"}}"#,
                b64(32)
            ),
            hash: HashAlgorithm::Sha256,
            nonce: None,
            cert_req: false,
            policy: None,
        },
        Case {
            name: "every field, upper-case algorithm, unknown key ignored",
            json: format!(
                r#"{{"artifactHash":"{}","hashAlgorithm":"SHA512","nonce":1234,"certificates":true,"tsaPolicyOID":"1.3.6.1.4.1.57264.2","extra":0}}"#,
                b64(64)
            ),
            hash: HashAlgorithm::Sha512,
            nonce: Some(&[0x04, 0xd2]),
            cert_req: true,
            policy: Some("1.3.6.1.4.1.57264.2"),
        },
        Case {
            name: "empty policy means the default",
            json: format!(
                r#"{{"artifactHash":"{}","hashAlgorithm":"sha384","tsaPolicyOID":""}}"#,
                b64(48)
            ),
            hash: HashAlgorithm::Sha384,
            nonce: None,
            cert_req: false,
            policy: None,
        },
    ];
    for case in cases {
        let name = case.name;
        let parsed = TimeStampRequest::from_json(case.json.as_bytes()).expect(name);
        assert_eq!(parsed.hash_algorithm(), case.hash, "{name}");
        assert_eq!(parsed.digest().len(), case.hash.output_len(), "{name}");
        assert_eq!(parsed.nonce(), case.nonce, "{name}");
        assert_eq!(parsed.cert_req(), case.cert_req, "{name}");
        assert_eq!(parsed.policy().as_deref(), case.policy, "{name}");
    }
}

#[test]
fn rejects_bad_json_requests() {
    struct Case {
        name: &'static str,
        json: &'static str,
        expect: fn(&Error) -> bool,
    }
    let cases = [
        Case {
            name: "rejects_non_json",
            json: "nope",
            expect: |e| matches!(e, Error::JsonInvalid { .. }),
        },
        Case {
            name: "rejects_missing_artifact_hash",
            json: r#"{"hashAlgorithm":"sha256"}"#,
            expect: |e| matches!(e, Error::JsonInvalid { .. }),
        },
        Case {
            name: "rejects_bad_base64",
            json: r#"{"artifactHash":"***","hashAlgorithm":"sha256"}"#,
            expect: |e| matches!(e, Error::JsonInvalid { .. }),
        },
        Case {
            name: "rejects_sha1_as_weak",
            json: r#"{"artifactHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashAlgorithm":"sha1"}"#,
            expect: |e| matches!(e, Error::WeakHashAlgorithm { .. }),
        },
        Case {
            name: "rejects_unknown_algorithm",
            json: r#"{"artifactHash":"AAAAAAAAAAAAAAAAAAAAAA==","hashAlgorithm":"md5"}"#,
            expect: |e| matches!(e, Error::UnsupportedHashAlgorithm { .. }),
        },
        Case {
            name: "rejects_wrong_digest_length",
            json: r#"{"artifactHash":"AAAA","hashAlgorithm":"sha256"}"#,
            expect: |e| matches!(e, Error::DigestLengthMismatch { actual: 3, .. }),
        },
        Case {
            name: "rejects_bad_policy_oid",
            json: r#"{"artifactHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashAlgorithm":"sha256","tsaPolicyOID":"x.y"}"#,
            expect: |e| matches!(e, Error::JsonInvalid { .. }),
        },
        Case {
            name: "rejects_fractional_nonce",
            json: r#"{"artifactHash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","hashAlgorithm":"sha256","nonce":1.5}"#,
            expect: |e| matches!(e, Error::JsonInvalid { .. }),
        },
    ];
    for case in cases {
        let name = case.name;
        let err = TimeStampRequest::from_json(case.json.as_bytes()).expect_err(name);
        assert!((case.expect)(&err), "{name}: got {err:?}");
        assert!(err.is_bad_request(), "{name}: {err:?} must be a 400");
    }
}

/// Base64 of `len` zero bytes.
fn b64(len: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(vec![0u8; len])
}
