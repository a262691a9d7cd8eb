//! Unit tests that need to issue from chains `TsaKeys::new` refuses: a leaf used outside its
//! validity, a leaf without the critical timeStamping EKU.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use waxseal_crypto::{Algorithm, SigningKey};
use x509_cert::name::Name;

use crate::cert::Issue;
use crate::keys::{LEAF_SUBJECT, ROOT_SUBJECT};
use crate::request::int_from;
use crate::{Error, HashAlgorithm, TimeStampRequest, Tsa, TsaKeys, verify_timestamp};

const T0: u64 = 1_800_000_000;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

struct Case {
    name: &'static str,
    /// Leaf validity, unix seconds.
    leaf_valid: (u64, u64),
    eku_critical: Option<bool>,
    gen_time: u64,
    /// Whether `TsaKeys::new` accepts the chain (it does not check validity).
    keys_accepted: bool,
    expect: fn(&Error) -> bool,
}

const CASES: &[Case] = &[
    Case {
        name: "rejects_expired_leaf",
        leaf_valid: (T0, T0 + 100),
        eku_critical: Some(true),
        gen_time: T0 + 200,
        keys_accepted: true,
        expect: |e| matches!(e, Error::CertificateNotValidAt { index: 0, time, .. } if *time == T0 + 200),
    },
    Case {
        name: "rejects_not_yet_valid_leaf",
        leaf_valid: (T0, T0 + 100),
        eku_critical: Some(true),
        gen_time: T0 - 50,
        keys_accepted: true,
        expect: |e| matches!(e, Error::CertificateNotValidAt { index: 0, .. }),
    },
    Case {
        name: "rejects_leaf_without_eku",
        leaf_valid: (T0, T0 + 100),
        eku_critical: None,
        gen_time: T0 + 10,
        keys_accepted: false,
        expect: |e| matches!(e, Error::ExtendedKeyUsageInvalid { index: 0, .. }),
    },
    Case {
        name: "rejects_leaf_with_non_critical_eku",
        leaf_valid: (T0, T0 + 100),
        eku_critical: Some(false),
        gen_time: T0 + 10,
        keys_accepted: false,
        expect: |e| matches!(e, Error::ExtendedKeyUsageInvalid { index: 0, .. }),
    },
];

#[test]
fn verify_fails_closed_on_bad_tsa_certificates() {
    let root_name = Name::from_str(ROOT_SUBJECT).unwrap();
    let leaf_name = Name::from_str(LEAF_SUBJECT).unwrap();
    for case in CASES {
        let name = case.name;
        let root_key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let leaf_key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let root = Issue {
            issuer: &root_name,
            issuer_key: &root_key,
            subject: &root_name,
            subject_key: &root_key.public_key(),
            not_before: at(T0 - 1000),
            not_after: at(T0 + 1000),
            ca: true,
            eku_critical: None,
        }
        .sign()
        .unwrap();
        let leaf = Issue {
            issuer: &root_name,
            issuer_key: &root_key,
            subject: &leaf_name,
            subject_key: &leaf_key.public_key(),
            not_before: at(case.leaf_valid.0),
            not_after: at(case.leaf_valid.1),
            ca: false,
            eku_critical: case.eku_critical,
        }
        .sign()
        .unwrap();
        let chain: [&[u8]; 2] = [&leaf, &root];

        let checked = TsaKeys::new(
            SigningKey::from_pkcs8_der(&leaf_key.to_pkcs8_der()).unwrap(),
            &chain,
        );
        match (&checked, case.keys_accepted) {
            (Ok(_), true) => {}
            (Err(e), false) => assert!((case.expect)(e), "{name}: TsaKeys::new gave {e:?}"),
            (other, _) => panic!("{name}: TsaKeys::new gave {other:?}"),
        }
        if let Ok(keys) = checked {
            let issued = Tsa::new(keys).timestamp(&request(), at(case.gen_time), &[1]);
            let err = issued.expect_err(name);
            assert!((case.expect)(&err), "{name}: Tsa::timestamp gave {err:?}");
        }

        // Issue anyway, bypassing every check, and make sure the verifier refuses.
        let tsa = Tsa::new(TsaKeys::unchecked(leaf_key, &chain).unwrap());
        let response = tsa
            .issue(&request(), case.gen_time, int_from(&1u8).unwrap())
            .unwrap();
        let err = verify_timestamp(&response, DATA, &chain).expect_err(name);
        assert!((case.expect)(&err), "{name}: verify gave {err:?}");
    }
}

const DATA: &[u8] = b"signature";

fn request() -> TimeStampRequest {
    TimeStampRequest::new(HashAlgorithm::Sha256, &HashAlgorithm::Sha256.digest(DATA)).unwrap()
}
