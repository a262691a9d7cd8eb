//! Key, signature and encoding tests across modules.

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::der::{self, element};
use crate::{Algorithm, Error, PublicKey, SigningKey, pem, sha256, sha384, sha512};

const SIGNING_ALGORITHMS: &[Algorithm] = &[
    Algorithm::Ed25519,
    Algorithm::EcdsaP256Sha256,
    Algorithm::EcdsaP384Sha384,
    Algorithm::EcdsaP521Sha512,
];

fn vectors(path: &str) -> String {
    let full = format!(
        "{}/../../../shared/vectors/sigstore/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {full}: {e}"))
}

#[test]
fn signs_and_verifies_with_every_signing_algorithm() {
    for &algorithm in SIGNING_ALGORITHMS {
        let key = SigningKey::generate(algorithm).unwrap();
        assert_eq!(key.algorithm(), algorithm);
        let public = key.public_key();
        assert_eq!(public.algorithm(), algorithm);
        let signature = key.sign(b"message").unwrap();
        if algorithm == Algorithm::Ed25519 {
            assert_eq!(signature.len(), 64);
        } else {
            assert_eq!(
                signature.first(),
                Some(&0x30),
                "{algorithm}: ECDSA signatures are DER"
            );
        }
        public.verify(b"message", &signature).unwrap();

        assert_eq!(
            public.verify(b"messagE", &signature),
            Err(Error::SignatureInvalid { algorithm }),
            "{algorithm}: tampered message"
        );
        let mut bad = signature.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 1;
        }
        assert!(
            public.verify(b"message", &bad).is_err(),
            "{algorithm}: tampered signature"
        );
        let other = SigningKey::generate(algorithm).unwrap().public_key();
        assert_eq!(
            other.verify(b"message", &signature),
            Err(Error::SignatureInvalid { algorithm }),
            "{algorithm}: wrong key"
        );
    }
}

#[test]
fn rsa_cannot_sign() {
    assert_eq!(
        SigningKey::generate(Algorithm::RsaPkcs1Sha256).unwrap_err(),
        Error::UnsupportedSigningAlgorithm {
            algorithm: Algorithm::RsaPkcs1Sha256
        }
    );
}

#[test]
fn spki_matches_backend_encoding_and_round_trips() {
    for &algorithm in SIGNING_ALGORITHMS {
        let key = SigningKey::generate(algorithm).unwrap();
        let public = key.public_key();
        let der = public.to_spki_der();
        // Our hand-built SubjectPublicKeyInfo is byte-identical to the backend's.
        let backend: Vec<u8> = match algorithm {
            Algorithm::Ed25519 => {
                let pair =
                    aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&key.to_pkcs8_der()).unwrap();
                let spki: PublicKeyX509Der<'_> = pair.public_key().as_der().unwrap();
                spki.as_ref().to_vec()
            }
            _ => {
                let alg = match algorithm {
                    Algorithm::EcdsaP256Sha256 => {
                        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING
                    }
                    Algorithm::EcdsaP384Sha384 => {
                        &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING
                    }
                    _ => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
                };
                let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, &key.to_pkcs8_der())
                    .unwrap();
                let spki: PublicKeyX509Der<'_> = pair.public_key().as_der().unwrap();
                spki.as_ref().to_vec()
            }
        };
        assert_eq!(der, backend, "{algorithm}");
        assert_eq!(
            PublicKey::from_spki_der(&der).unwrap(),
            public,
            "{algorithm}"
        );
        assert_eq!(
            PublicKey::from_pem(&public.to_pem()).unwrap(),
            public,
            "{algorithm}"
        );
    }
}

#[test]
fn pkcs8_round_trips_in_der_and_pem() {
    for &algorithm in SIGNING_ALGORITHMS {
        let key = SigningKey::generate(algorithm).unwrap();
        let from_der = SigningKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
        assert_eq!(from_der.public_key(), key.public_key(), "{algorithm}");
        assert_eq!(*from_der.to_pkcs8_der(), *key.to_pkcs8_der(), "{algorithm}");
        let pem_text = key.to_pkcs8_pem();
        assert!(
            pem_text.starts_with("-----BEGIN PRIVATE KEY-----\n"),
            "{algorithm}"
        );
        let from_pem = SigningKey::from_pkcs8_pem(&pem_text).unwrap();
        let signature = from_pem.sign(b"x").unwrap();
        key.public_key().verify(b"x", &signature).unwrap();
    }
}

#[test]
fn debug_does_not_print_the_private_key() {
    use aws_lc_rs::encoding::{AsBigEndian, EcPrivateKeyBin};
    for &algorithm in SIGNING_ALGORITHMS {
        let key = SigningKey::generate(algorithm).unwrap();
        let debug = format!("{key:?}");
        let pkcs8 = key.to_pkcs8_der();
        // The secret: the Ed25519 seed ends the PKCS#8 v1 document; the ECDSA scalar is read
        // back through the backend.
        let secret: Vec<u8> = match algorithm {
            Algorithm::Ed25519 => pkcs8[pkcs8.len() - 32..].to_vec(),
            _ => {
                let alg = match algorithm {
                    Algorithm::EcdsaP256Sha256 => {
                        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING
                    }
                    Algorithm::EcdsaP384Sha384 => {
                        &aws_lc_rs::signature::ECDSA_P384_SHA384_ASN1_SIGNING
                    }
                    _ => &aws_lc_rs::signature::ECDSA_P521_SHA512_ASN1_SIGNING,
                };
                let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(alg, &pkcs8).unwrap();
                let scalar: EcPrivateKeyBin<'_> = pair.private_key().as_be_bytes().unwrap();
                scalar.as_ref().to_vec()
            }
        };
        for window in secret.windows(8) {
            assert!(
                !debug.contains(&hex::encode(window)),
                "{algorithm}: {debug}"
            );
        }
        assert!(!debug.contains(&STANDARD.encode(&*pkcs8)), "{algorithm}");
        assert!(debug.starts_with("SigningKey {"), "{algorithm}");
    }
}

/// RFC 8032 §7.1 TEST 1 and TEST 2 (Ed25519).
const RFC8032_CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
];

#[test]
fn ed25519_matches_rfc8032_vectors() {
    for (name, seed, public, message, signature) in RFC8032_CASES {
        let seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
        let public: [u8; 32] = hex::decode(public).unwrap().try_into().unwrap();
        let message = hex::decode(message).unwrap();
        let signature = hex::decode(signature).unwrap();

        let key = SigningKey::from_ed25519_seed(&seed).unwrap();
        assert_eq!(key.public_key().raw_ed25519(), Some(public), "{name}");
        assert_eq!(key.sign(&message).unwrap(), signature, "{name}");

        let verifier = PublicKey::from_ed25519_raw(public).unwrap();
        assert_eq!(verifier, key.public_key(), "{name}");
        verifier.verify(&message, &signature).unwrap();
        let mut tampered = message.clone();
        tampered.push(0);
        assert!(verifier.verify(&tampered, &signature).is_err(), "{name}");
    }
}

#[test]
fn ed25519_public_key_has_fixed_pem() {
    // RFC 8032 TEST 1 public key; expected text from `openssl pkey -pubin` layout (RFC 8410 §4).
    let public: [u8; 32] = hex::decode(RFC8032_CASES[0].2).unwrap().try_into().unwrap();
    let key = PublicKey::from_ed25519_raw(public).unwrap();
    assert_eq!(
        key.to_pem(),
        "-----BEGIN PUBLIC KEY-----\n\
         MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n\
         -----END PUBLIC KEY-----\n"
    );
    assert_eq!(key.key_details(), "PKIX_ED25519");
}

/// The public-good Rekor key from the production trusted root, and a checkpoint it signed.
#[test]
fn verifies_real_rekor_checkpoint_signature() {
    let root: serde_json::Value =
        serde_json::from_str(&vectors("roots/production.trusted_root.json")).unwrap();
    let raw = root["tlogs"][0]["publicKey"]["rawBytes"].as_str().unwrap();
    let key = PublicKey::from_spki_der(&STANDARD.decode(raw).unwrap()).unwrap();
    assert_eq!(key.algorithm(), Algorithm::EcdsaP256Sha256);
    assert_eq!(
        key.key_details(),
        root["tlogs"][0]["publicKey"]["keyDetails"]
            .as_str()
            .unwrap()
    );
    // Log ID = SHA-256 of the SPKI DER (INTEROP.md §1).
    let log_id = root["tlogs"][0]["logId"]["keyId"].as_str().unwrap();
    assert_eq!(STANDARD.encode(sha256(&key.to_spki_der())), log_id);
    // 64-column PEM, as sigstore-python and Go print it.
    assert_eq!(
        key.to_pem(),
        "-----BEGIN PUBLIC KEY-----\n\
         MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr\n\
         kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==\n\
         -----END PUBLIC KEY-----\n"
    );

    let bundle: serde_json::Value = serde_json::from_str(&vectors(
        "production-rekor1-msg-bundle02-github-actions/bundle.sigstore.json",
    ))
    .unwrap();
    let envelope = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .unwrap();
    let (text, signatures) = envelope.split_once("\n\n").unwrap();
    let text = format!("{text}\n");
    let line = signatures.lines().next().unwrap();
    let b64 = line.rsplit(' ').next().unwrap();
    let signature = STANDARD.decode(b64).unwrap();
    key.verify(text.as_bytes(), &signature[4..]).unwrap();
    assert!(
        key.verify(format!("{text} ").as_bytes(), &signature[4..])
            .is_err()
    );
}

#[test]
fn verifies_rsa_pkcs1_sha256() {
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    for (size, details) in [
        (KeySize::Rsa2048, "PKIX_RSA_PKCS1V15_2048_SHA256"),
        (KeySize::Rsa3072, "PKIX_RSA_PKCS1V15_3072_SHA256"),
    ] {
        let pair = KeyPair::generate(size).unwrap();
        let spki: PublicKeyX509Der<'_> = pair.public_key().as_der().unwrap();
        let key = PublicKey::from_spki_der(spki.as_ref()).unwrap();
        assert_eq!(key.algorithm(), Algorithm::RsaPkcs1Sha256);
        assert_eq!(key.key_details(), details);
        let mut signature = vec![0; pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &rng,
            b"m",
            &mut signature,
        )
        .unwrap();
        key.verify(b"m", &signature).unwrap();
        assert_eq!(
            key.verify(b"n", &signature),
            Err(Error::SignatureInvalid {
                algorithm: Algorithm::RsaPkcs1Sha256
            })
        );
        assert_eq!(PublicKey::from_pem(&key.to_pem()).unwrap(), key);
    }
}

/// An rsaEncryption SPKI around a modulus of `bits` bits (not a real key).
fn rsa_spki(bits: usize, with_null: bool) -> Vec<u8> {
    let mut modulus = vec![0u8; bits / 8 + 1];
    modulus[1] = 0x80;
    let mut rsa_key = element(der::TAG_INTEGER, &modulus);
    der::write(der::TAG_INTEGER, &[1, 0, 1], &mut rsa_key);
    let mut bits_content = vec![0];
    bits_content.extend(element(der::TAG_SEQUENCE, &rsa_key));
    let mut id = element(der::TAG_OID, der::OID_RSA_ENCRYPTION);
    if with_null {
        der::write(der::TAG_NULL, &[], &mut id);
    }
    let mut spki = element(der::TAG_SEQUENCE, &id);
    der::write(der::TAG_BIT_STRING, &bits_content, &mut spki);
    element(der::TAG_SEQUENCE, &spki)
}

fn p256_spki() -> Vec<u8> {
    SigningKey::generate(Algorithm::EcdsaP256Sha256)
        .unwrap()
        .public_key()
        .to_spki_der()
}

fn ed25519_spki_with(id_extra: &[u8], key_len: usize) -> Vec<u8> {
    let mut id = element(der::TAG_OID, der::OID_ED25519);
    id.extend_from_slice(id_extra);
    let mut spki = element(der::TAG_SEQUENCE, &id);
    der::write(der::TAG_BIT_STRING, &vec![0; key_len + 1], &mut spki);
    element(der::TAG_SEQUENCE, &spki)
}

fn ec_spki_with_curve(curve: &[u8]) -> Vec<u8> {
    let mut id = element(der::TAG_OID, der::OID_EC_PUBLIC_KEY);
    der::write(der::TAG_OID, curve, &mut id);
    let mut spki = element(der::TAG_SEQUENCE, &id);
    der::write(der::TAG_BIT_STRING, &[0, 4, 1, 2], &mut spki);
    element(der::TAG_SEQUENCE, &spki)
}

struct SpkiCase {
    name: &'static str,
    der: fn() -> Vec<u8>,
    check: fn(&Error) -> bool,
}

const SPKI_CASES: &[SpkiCase] = &[
    SpkiCase {
        name: "empty",
        der: Vec::new,
        check: |e| matches!(e, Error::MalformedDer { .. }),
    },
    SpkiCase {
        name: "truncated",
        der: || {
            let mut d = p256_spki();
            d.pop();
            d
        },
        check: |e| {
            matches!(
                e,
                Error::MalformedDer {
                    reason: "truncated",
                    ..
                }
            )
        },
    },
    SpkiCase {
        name: "trailing byte",
        der: || {
            let mut d = p256_spki();
            d.push(0);
            d
        },
        check: |e| {
            matches!(
                e,
                Error::MalformedDer {
                    reason: "trailing bytes",
                    ..
                }
            )
        },
    },
    SpkiCase {
        name: "compressed point",
        der: || {
            let d = p256_spki();
            let mut point = d[d.len() - 65..d.len() - 32].to_vec();
            point[0] = 0x02;
            let mut id = element(der::TAG_OID, der::OID_EC_PUBLIC_KEY);
            der::write(der::TAG_OID, der::OID_P256, &mut id);
            let mut bits = vec![0];
            bits.extend(point);
            let mut spki = element(der::TAG_SEQUENCE, &id);
            der::write(der::TAG_BIT_STRING, &bits, &mut spki);
            element(der::TAG_SEQUENCE, &spki)
        },
        check: |e| {
            let want = "uncompressed";
            matches!(e, Error::MalformedDer { reason, .. } if reason.contains(want))
        },
    },
    SpkiCase {
        name: "point not on curve",
        der: || {
            let mut d = p256_spki();
            let last = d.len() - 1;
            d[last] ^= 1;
            d
        },
        check: |e| {
            matches!(
                e,
                Error::KeyRejected {
                    algorithm: Algorithm::EcdsaP256Sha256,
                    ..
                }
            )
        },
    },
    SpkiCase {
        name: "secp256k1",
        der: || ec_spki_with_curve(&[0x2b, 0x81, 0x04, 0x00, 0x0a]),
        check: |e| {
            let want = "1.3.132.0.10";
            matches!(e, Error::UnsupportedKeyAlgorithm { parameters, .. } if parameters == want)
        },
    },
    SpkiCase {
        name: "DSA",
        der: || {
            let id = element(der::TAG_OID, &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01]);
            let mut spki = element(der::TAG_SEQUENCE, &id);
            der::write(der::TAG_BIT_STRING, &[0, 0], &mut spki);
            element(der::TAG_SEQUENCE, &spki)
        },
        check: |e| {
            let want = "1.2.840.10040.4.1";
            matches!(e, Error::UnsupportedKeyAlgorithm { oid, .. } if oid == want)
        },
    },
    SpkiCase {
        name: "Ed25519 with parameters",
        der: || ed25519_spki_with(&[0x05, 0x00], 32),
        check: |e| {
            matches!(
                e,
                Error::MalformedDer {
                    reason: "trailing bytes",
                    ..
                }
            )
        },
    },
    SpkiCase {
        name: "Ed25519 wrong length",
        der: || ed25519_spki_with(&[], 31),
        check: |e| matches!(e, Error::MalformedDer { reason, .. } if reason.contains("32 bytes")),
    },
    SpkiCase {
        name: "RSA 1024",
        der: || rsa_spki(1024, true),
        check: |e| {
            matches!(
                e,
                Error::UnsupportedRsaKeySize {
                    bits: 1024,
                    min: 2048,
                    max: 4096
                }
            )
        },
    },
    SpkiCase {
        name: "RSA 8192",
        der: || rsa_spki(8192, true),
        check: |e| matches!(e, Error::UnsupportedRsaKeySize { bits: 8192, .. }),
    },
    SpkiCase {
        name: "RSA without NULL",
        der: || rsa_spki(2048, false),
        check: |e| {
            matches!(
                e,
                Error::MalformedDer {
                    reason: "truncated",
                    ..
                }
            )
        },
    },
];

#[test]
fn rejects_malformed_spki_with_typed_errors() {
    for case in SPKI_CASES {
        let der = (case.der)();
        match PublicKey::from_spki_der(&der) {
            Ok(key) => panic!("{}: accepted as {key:?}", case.name),
            Err(e) => assert!((case.check)(&e), "{}: wrong error {e:?}", case.name),
        }
    }
}

#[test]
fn rejects_malformed_pkcs8_and_pem() {
    let public_pem = SigningKey::generate(Algorithm::Ed25519)
        .unwrap()
        .public_key()
        .to_pem();
    assert!(matches!(
        SigningKey::from_pkcs8_pem(&public_pem),
        Err(Error::PemLabelMismatch { actual, .. }) if actual == "PUBLIC KEY"
    ));
    assert!(matches!(
        PublicKey::from_pem("junk"),
        Err(Error::PemBlockCount { actual: 0, .. })
    ));
    assert!(matches!(
        PublicKey::from_pem(&pem::encode(pem::PUBLIC_KEY, b"\x30\x00")),
        Err(Error::MalformedDer {
            structure: "SubjectPublicKeyInfo",
            ..
        })
    ));
    assert!(matches!(
        SigningKey::from_pkcs8_der(&[]),
        Err(Error::MalformedDer { .. })
    ));

    // A P-256 PKCS#8 document whose private key is corrupted.
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let mut der = key.to_pkcs8_der().to_vec();
    let last = der.len() - 40;
    der[last] ^= 0xff;
    assert!(matches!(
        SigningKey::from_pkcs8_der(&der),
        Err(Error::KeyRejected { .. } | Error::MalformedDer { .. })
    ));

    // RSA private keys parse as far as the algorithm and are then refused.
    let mut info = element(der::TAG_INTEGER, &[0]);
    let mut id = element(der::TAG_OID, der::OID_RSA_ENCRYPTION);
    der::write(der::TAG_NULL, &[], &mut id);
    der::write(der::TAG_SEQUENCE, &id, &mut info);
    der::write(der::TAG_OCTET_STRING, &[0x30, 0x00], &mut info);
    assert_eq!(
        SigningKey::from_pkcs8_der(&element(der::TAG_SEQUENCE, &info)).unwrap_err(),
        Error::UnsupportedSigningAlgorithm {
            algorithm: Algorithm::RsaPkcs1Sha256
        }
    );
}

proptest::proptest! {
    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
        let _ = PublicKey::from_spki_der(&bytes);
        let _ = SigningKey::from_pkcs8_der(&bytes);
        let _ = PublicKey::from_pem(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn mutated_spki_never_panics(index in 0usize..91, value in proptest::num::u8::ANY) {
        let mut der = p256_spki();
        der[index] = value;
        if let Ok(key) = PublicKey::from_spki_der(&der) {
            proptest::prop_assert_eq!(key.to_spki_der(), der);
        }
    }
}

/// The digest of `message` under the hash each signing algorithm binds.
fn native_digest(algorithm: Algorithm, message: &[u8]) -> Vec<u8> {
    match algorithm {
        Algorithm::EcdsaP384Sha384 => crate::sha384(message).to_vec(),
        Algorithm::EcdsaP521Sha512 => crate::sha512(message).to_vec(),
        _ => sha256(message).to_vec(),
    }
}

#[test]
fn verifies_prehashed_ecdsa_with_each_curve() {
    for algorithm in [
        Algorithm::EcdsaP256Sha256,
        Algorithm::EcdsaP384Sha384,
        Algorithm::EcdsaP521Sha512,
    ] {
        let key = SigningKey::generate(algorithm).unwrap();
        let signature = key.sign(b"artifact").unwrap();
        let public = key.public_key();
        let digest = native_digest(algorithm, b"artifact");
        public.verify_prehashed(&digest, &signature).unwrap();
        let mut wrong = digest.clone();
        wrong[0] ^= 1;
        assert_eq!(
            public.verify_prehashed(&wrong, &signature),
            Err(Error::SignatureInvalid { algorithm }),
            "{algorithm}: tampered digest"
        );
        let other = SigningKey::generate(algorithm).unwrap().public_key();
        assert_eq!(
            other.verify_prehashed(&digest, &signature),
            Err(Error::SignatureInvalid { algorithm }),
            "{algorithm}: wrong key"
        );
    }
}

#[test]
fn verifies_prehashed_ecdsa_with_a_hash_other_than_the_curves() {
    use aws_lc_rs::digest::{self as hash, Digest};
    use aws_lc_rs::signature::{self as backend, EcdsaKeyPair};
    // P-521 with SHA-256 and SHA-384 digests: Rekor accepts any SHA-2 digest with any curve.
    for (signing, digest) in [
        (
            &backend::ECDSA_P521_SHA256_ASN1_SIGNING,
            Digest::import_less_safe(&sha256(b"m"), &hash::SHA256).unwrap(),
        ),
        (
            &backend::ECDSA_P521_SHA384_ASN1_SIGNING,
            Digest::import_less_safe(&crate::sha384(b"m"), &hash::SHA384).unwrap(),
        ),
    ] {
        let pair = EcdsaKeyPair::generate(signing).unwrap();
        let signature = pair.sign_digest(&digest).unwrap();
        let public =
            PublicKey::from_key_bits(Algorithm::EcdsaP521Sha512, pair.public_key().as_ref())
                .unwrap();
        public
            .verify_prehashed(digest.as_ref(), signature.as_ref())
            .unwrap();
    }
}

#[test]
fn prehashed_ecdsa_truncates_a_longer_digest_to_the_curve_order() {
    // SEC 1 §4.1.4 step 3, as Go's ecdsa.VerifyASN1: a 64-byte digest verifies on P-256 by its
    // leftmost 32 bytes.
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let signature = key.sign(b"m").unwrap();
    let mut long = sha256(b"m").to_vec();
    long.extend_from_slice(&[0xa5; 32]);
    key.public_key()
        .verify_prehashed(&long, &signature)
        .unwrap();
}

#[test]
fn verifies_prehashed_rsa_pkcs1_with_each_hash() {
    use aws_lc_rs::rsa::{KeyPair, KeySize};
    use aws_lc_rs::signature as backend;
    let pair = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let spki: PublicKeyX509Der<'_> = pair.public_key().as_der().unwrap();
    let key = PublicKey::from_spki_der(spki.as_ref()).unwrap();
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let cases: [(
        &str,
        &'static dyn aws_lc_rs::signature::RsaEncoding,
        Vec<u8>,
    ); 3] = [
        ("SHA-256", &backend::RSA_PKCS1_SHA256, sha256(b"m").to_vec()),
        (
            "SHA-384",
            &backend::RSA_PKCS1_SHA384,
            crate::sha384(b"m").to_vec(),
        ),
        (
            "SHA-512",
            &backend::RSA_PKCS1_SHA512,
            crate::sha512(b"m").to_vec(),
        ),
    ];
    for (name, encoding, digest) in cases {
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(encoding, &rng, b"m", &mut signature).unwrap();
        key.verify_prehashed(&digest, &signature).unwrap();
        let mut wrong = digest.clone();
        wrong[1] ^= 1;
        assert_eq!(
            key.verify_prehashed(&wrong, &signature),
            Err(Error::SignatureInvalid {
                algorithm: Algorithm::RsaPkcs1Sha256
            }),
            "{name}"
        );
    }
    // The DigestInfo names the hash: a SHA-256 signature does not verify as SHA-512 over a
    // digest that merely starts with the same bytes.
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(&backend::RSA_PKCS1_SHA256, &rng, b"m", &mut signature)
        .unwrap();
    let mut long = sha256(b"m").to_vec();
    long.extend_from_slice(&[0; 32]);
    assert!(key.verify_prehashed(&long, &signature).is_err());
}

#[test]
fn rejects_prehashed_ed25519_and_odd_digest_lengths() {
    let ed25519 = SigningKey::generate(Algorithm::Ed25519)
        .unwrap()
        .public_key();
    assert_eq!(
        ed25519.verify_prehashed(&[0; 64], &[0; 64]),
        Err(Error::PrehashUnsupported {
            algorithm: Algorithm::Ed25519
        })
    );
    let p256 = SigningKey::generate(Algorithm::EcdsaP256Sha256)
        .unwrap()
        .public_key();
    for len in [0, 20, 28, 33, 65] {
        assert_eq!(
            p256.verify_prehashed(&vec![0; len], &[0x30, 0]),
            Err(Error::UnsupportedDigestLength { len }),
            "{len}"
        );
    }
}

#[test]
fn prehashed_signatures_verify_over_the_message() {
    for algorithm in [
        Algorithm::EcdsaP256Sha256,
        Algorithm::EcdsaP384Sha384,
        Algorithm::EcdsaP521Sha512,
    ] {
        let key = SigningKey::generate(algorithm).unwrap();
        let digest = match algorithm {
            Algorithm::EcdsaP256Sha256 => sha256(b"artifact").to_vec(),
            Algorithm::EcdsaP384Sha384 => sha384(b"artifact").to_vec(),
            _ => sha512(b"artifact").to_vec(),
        };
        let signature = key.sign_prehashed(&digest).unwrap();
        key.public_key().verify(b"artifact", &signature).unwrap();
        key.public_key()
            .verify_prehashed(&digest, &signature)
            .unwrap();
        assert_eq!(
            key.sign_prehashed(&digest[1..]).unwrap_err(),
            Error::UnsupportedDigestLength {
                len: digest.len() - 1
            },
            "{algorithm}"
        );
    }
    let ed = SigningKey::generate(Algorithm::Ed25519).unwrap();
    assert_eq!(
        ed.sign_prehashed(&[0; 32]).unwrap_err(),
        Error::PrehashUnsupported {
            algorithm: Algorithm::Ed25519
        }
    );
}
