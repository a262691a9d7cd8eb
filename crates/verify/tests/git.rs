//! git signatures (`verify_git_signature`): every case of shared/vectors/git (real gitsign
//! commits and a tag, sources and licence in its README) ends as its manifest says, against the
//! production trusted root of the vectors; and real offline signatures tampered part by part
//! fail with the right typed error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use serde_json::Value;
use waxseal_bundle::rekor::TransparencyLogEntry;
use waxseal_git::{GitSignature, SignedObject, armor, build};
use waxseal_verify::{
    Error, GitError, GitLogEvidence, Identity, Matcher, Policy, PolicyError, TlogError, Verifier,
    verify_git_signature, verify_git_signature_with_entry,
};

fn vectors() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/git"
    ))
}

fn read(relative: &str) -> Vec<u8> {
    let path = vectors().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn manifest() -> Value {
    serde_json::from_slice(&read("manifest.json")).unwrap()
}

fn case(id: &str) -> Value {
    manifest()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .clone()
}

fn verifier(case: &Value) -> Verifier {
    Verifier::from_json(&read(case["trusted_root"].as_str().unwrap())).unwrap()
}

fn object(case: &Value) -> SignedObject {
    SignedObject::parse(&read(case["files"]["object"].as_str().unwrap()))
        .unwrap()
        .expect("signed object")
}

fn policy(identity: &str, issuer: &str) -> Policy {
    Policy::Identity(Identity::new(
        Matcher::exact(identity),
        Matcher::exact(issuer),
    ))
}

fn case_policy(case: &Value) -> Policy {
    policy(
        case["expected_identity"].as_str().unwrap(),
        case["expected_issuer"].as_str().unwrap(),
    )
}

const OFFLINE: &str = "gitsign-pr864-ac15fa730306";

#[test]
fn every_vector_ends_as_the_manifest_says() {
    let manifest = manifest();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 9, "the developer set has 9 cases");
    let mut passed = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let object = object(case);
        let result = verify_git_signature(
            &verifier(case),
            object.payload(),
            object.signature(),
            &case_policy(case),
        );
        let reason = case["reason"].as_str().unwrap();
        match case["expected_result"].as_str().unwrap() {
            "pass" => {
                let verified = result.unwrap_or_else(|e| panic!("{id}: {e}"));
                assert_eq!(verified.identity(), case["expected_identity"], "{id}");
                assert_eq!(verified.issuer(), case["expected_issuer"], "{id}");
                assert_eq!(
                    verified.log_index(),
                    case["rekor"]["log_index"].as_i64().unwrap(),
                    "{id}"
                );
                assert_eq!(
                    verified.integrated_time(),
                    case["rekor"]["integrated_time"].as_i64(),
                    "{id}"
                );
                assert_eq!(verified.evidence(), GitLogEvidence::Embedded, "{id}");
                assert!(verified.bundle().inclusion_proof_verified(), "{id}");
                assert_eq!(verified.bundle().tlog_kind(), ("hashedrekord", "0.0.1"));
                passed += 1;
            }
            "fail" => {
                let error = result.err().unwrap_or_else(|| panic!("{id} verified"));
                let expected = if reason.starts_with("needs an online Rekor lookup") {
                    matches!(error, Error::Git(GitError::OnlineLookupRequired))
                } else if reason.starts_with("unsupported pre-release format") {
                    matches!(error, Error::Git(GitError::UnsupportedLegacyFormat))
                } else if reason.starts_with("message digest mismatch") {
                    matches!(error, Error::Git(GitError::MessageDigestMismatch { .. }))
                        && error.to_string().starts_with("message digest mismatch")
                } else {
                    panic!("{id}: unknown reason {reason}")
                };
                assert!(expected, "{id}: {error} ({error:?})");
                assert_eq!(error.stage(), "git", "{id}");
            }
            other => panic!("{id}: expected_result {other}"),
        }
    }
    assert_eq!(passed, 5);
}

#[test]
fn message_digest_mismatch_names_both_digests() {
    let case = case("derived-pr864-ac15fa730306-message-byte-changed");
    let object = object(&case);
    let error = verify_git_signature(
        &verifier(&case),
        object.payload(),
        object.signature(),
        &case_policy(&case),
    )
    .unwrap_err();
    let original = self::object(&self::case(OFFLINE));
    let signed = hex::encode(waxseal_crypto::sha256(original.payload()));
    let actual = hex::encode(waxseal_crypto::sha256(object.payload()));
    let text = error.to_string();
    assert!(text.contains(&signed) && text.contains(&actual), "{text}");
}

#[test]
fn another_identity_or_issuer_is_refused_by_policy() {
    let case = case(OFFLINE);
    let object = object(&case);
    for (identity, issuer) in [
        ("mallory@chainguard.dev", "https://accounts.google.com"),
        ("billy@chainguard.dev", "https://github.com/login/oauth"),
    ] {
        let error = verify_git_signature(
            &verifier(&case),
            object.payload(),
            object.signature(),
            &policy(identity, issuer),
        )
        .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Policy(
                    PolicyError::IdentityMismatch { .. } | PolicyError::IssuerMismatch { .. }
                )
            ),
            "{identity} {issuer}: {error}"
        );
    }
}

/// The offline vector's signature rebuilt with one part changed.
fn rebuilt(
    parsed: &GitSignature,
    signature: Option<Vec<u8>>,
    entry: Option<TransparencyLogEntry>,
) -> String {
    let der = build(
        parsed.signer_certificate(),
        parsed.signed_attributes(),
        &signature.unwrap_or_else(|| parsed.signature().to_vec()),
        Some(&entry.unwrap_or_else(|| parsed.log_entry().unwrap().clone())),
        parsed.timestamp_token(),
    )
    .unwrap();
    armor::armor(&der)
}

#[test]
fn tampered_offline_signatures_fail_with_typed_errors() {
    let case = case(OFFLINE);
    let object = object(&case);
    let parsed = GitSignature::parse(object.signature()).unwrap();
    let verifier = verifier(&case);
    let policy = case_policy(&case);
    let run = |signature: &str| {
        verify_git_signature(&verifier, object.payload(), signature.as_bytes(), &policy)
    };

    // Unchanged, rebuilt: still verifies.
    run(&rebuilt(&parsed, None, None)).unwrap();

    // The ECDSA signature: one bit flipped in s.
    let mut signature = parsed.signature().to_vec();
    let last = signature.len() - 1;
    signature[last] ^= 1;
    let error = run(&rebuilt(&parsed, Some(signature), None)).unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::SignatureInvalid { .. })),
        "{error}"
    );

    // A signed attribute: another signingTime, same messageDigest.
    let attributes =
        waxseal_git::signed_attributes(object.payload(), parsed.signing_time().unwrap() + 1)
            .unwrap();
    let der = build(
        parsed.signer_certificate(),
        &attributes,
        parsed.signature(),
        parsed.log_entry(),
        None,
    )
    .unwrap();
    let error = run(&armor::armor(&der)).unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::SignatureInvalid { .. })),
        "{error}"
    );

    // The unsigned entry: another log index breaks the SET.
    let mut entry = parsed.log_entry().unwrap().clone();
    entry.log_index += 1;
    let error = run(&rebuilt(&parsed, None, Some(entry))).unwrap_err();
    assert!(matches!(error, Error::Tlog(_)), "{error}");

    // The inclusion proof: one hash changed.
    let mut entry = parsed.log_entry().unwrap().clone();
    entry.inclusion_proof.as_mut().unwrap().hashes[0][0] ^= 1;
    let error = run(&rebuilt(&parsed, None, Some(entry))).unwrap_err();
    assert!(
        matches!(error, Error::Tlog(TlogError::InclusionRootMismatch { .. })),
        "{error}"
    );

    // A signature that is not armor at all.
    let error = run("not a signature").unwrap_err();
    assert!(
        matches!(
            error,
            Error::Git(GitError::Format(waxseal_git::Error::Armor { .. }))
        ),
        "{error}"
    );
}

#[test]
fn a_supplied_entry_over_the_attributes_verifies() {
    let case = case(OFFLINE);
    let object = object(&case);
    let parsed = GitSignature::parse(object.signature()).unwrap();
    let object_id = case["object_id"].as_str().unwrap();
    let verified = verify_git_signature_with_entry(
        &verifier(&case),
        object.payload(),
        object.signature(),
        object_id,
        parsed.log_entry().unwrap(),
        &case_policy(&case),
    )
    .unwrap();
    assert_eq!(verified.evidence(), GitLogEvidence::SuppliedOverAttributes);
    assert_eq!(verified.identity(), "billy@chainguard.dev");
    assert_eq!(
        hex::encode(verified.certificate_sha1()),
        hex::encode(waxseal_crypto::sha1(parsed.signer_certificate()))
    );
}

#[test]
fn a_supplied_entry_for_another_digest_or_a_bad_object_id_is_refused() {
    let case = case("gitsign-testdata-e2e-online");
    let object = object(&case);
    let verifier = verifier(&case);
    let policy = case_policy(&case);
    let object_id = case["object_id"].as_str().unwrap();
    let mut entry = GitSignature::parse(self::object(&self::case(OFFLINE)).signature())
        .unwrap()
        .log_entry()
        .unwrap()
        .clone();
    entry.canonicalized_body = serde_json::json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": "00".repeat(32)}},
            "signature": {"content": "AAAA", "publicKey": {"content": "AAAA"}},
        },
    })
    .to_string()
    .into_bytes();
    let error = verify_git_signature_with_entry(
        &verifier,
        object.payload(),
        object.signature(),
        object_id,
        &entry,
        &policy,
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::EntryMismatch { .. })),
        "{error}"
    );
    for bad in ["", "XYZ", &object_id.to_uppercase(), &object_id[1..]] {
        let error = verify_git_signature_with_entry(
            &verifier,
            object.payload(),
            object.signature(),
            bad,
            &entry,
            &policy,
        )
        .unwrap_err();
        assert!(
            matches!(error, Error::Git(GitError::InvalidObjectId { .. })),
            "{bad}: {error}"
        );
    }
}

/// A private instance made here: a CA (root, intermediate) with a CT log, a Rekor v1 log
/// (SET, checkpoint), a Rekor v2 log (checkpoint only) and a TSA; and a leaf for a signer.
mod instance {
    use std::time::{Duration, SystemTime};

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use waxseal_bundle::rekor::{
        Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
        set_payload, validate_v1, validate_v2,
    };
    use waxseal_bundle::{
        CertificateAuthority as RootCa, DistinguishedName, PublicKey, TimeRange, Timestamp,
        TransparencyLogInstance, TrustedRoot, X509CertificateChain,
    };
    use waxseal_crypto::{Algorithm, SigningKey, pem, sha256};
    use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa, TsaKeys};
    use waxseal_verify::Verifier;
    use waxseal_x509::{CaNames, CertificateAuthority, LeafRequest, San, sign_sct};

    pub(crate) const T0: i64 = 1_735_689_600;
    pub(crate) const EMAIL: &str = "alice@example.test";
    pub(crate) const ISSUER: &str = "https://issuer.example.test";
    const V2_LOG_ID: [u8; 32] = [0x42; 32];

    pub(crate) fn unix(seconds: i64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    }

    pub(crate) struct Instance {
        ca: CertificateAuthority,
        ct: SigningKey,
        rekor: SigningKey,
        rekor_v2: SigningKey,
        tsa: Tsa,
        tsa_chain: Vec<Vec<u8>>,
        pub(crate) signer: SigningKey,
        pub(crate) leaf: Vec<u8>,
    }

    impl Instance {
        pub(crate) fn new() -> Self {
            let key = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
            let ca = CertificateAuthority::generate(
                Algorithm::EcdsaP256Sha256,
                &CaNames::default(),
                unix(T0 - 86_400),
                Duration::from_secs(10 * 86_400),
            )
            .unwrap();
            let ct = key();
            let signer = key();
            let request = LeafRequest::new(
                signer.public_key(),
                San::Email(EMAIL.to_owned()),
                ISSUER,
                unix(T0 - 60),
                unix(T0 + 540),
            )
            .unwrap();
            let precert = ca.issue_precertificate(&request).unwrap();
            let sct = sign_sct(
                &ct,
                (T0 as u64 - 60) * 1000,
                None,
                precert.issuer_key_hash(),
                precert.precert_tbs(),
            )
            .unwrap();
            let leaf = ca.finish(&precert, &[sct]).unwrap().der().to_vec();
            let keys = TsaKeys::generate(unix(T0 - 3600), Duration::from_secs(86_400)).unwrap();
            Self {
                ca,
                ct,
                rekor: key(),
                rekor_v2: key(),
                tsa_chain: keys.chain_der(),
                tsa: Tsa::new(keys),
                signer,
                leaf,
            }
        }

        fn rekor_log_id(&self) -> [u8; 32] {
            sha256(self.rekor.public_key().spki_der())
        }

        pub(crate) fn verifier(&self) -> Verifier {
            let since = || Some(TimeRange::new(Timestamp::from_unix(T0 - 86_400, 0), None));
            let key = |k: &SigningKey| {
                PublicKey::new(
                    k.public_key().spki_der(),
                    "PKIX_ECDSA_P256_SHA_256",
                    since(),
                )
            };
            let mut root = TrustedRoot::new();
            root.certificate_authorities.push(RootCa::new(
                DistinguishedName::new("waxseal", "test ca"),
                "https://ca.example.test",
                X509CertificateChain::new(self.ca.chain_der()),
                TimeRange::new(Timestamp::from_unix(T0 - 86_400, 0), None),
            ));
            root.ctlogs.push(TransparencyLogInstance::new(
                "https://ct.example.test",
                key(&self.ct),
                LogId::new(sha256(self.ct.public_key().spki_der())),
            ));
            root.tlogs.push(TransparencyLogInstance::new(
                "https://rekor.example.test",
                key(&self.rekor),
                LogId::new(self.rekor_log_id()),
            ));
            root.tlogs.push(TransparencyLogInstance::new(
                "https://rekor-v2.example.test",
                key(&self.rekor_v2),
                LogId::new(V2_LOG_ID),
            ));
            root.timestamp_authorities.push(RootCa::new(
                DistinguishedName::new("waxseal", "test tsa"),
                "https://tsa.example.test",
                X509CertificateChain::new(self.tsa_chain.clone()),
                TimeRange::new(Timestamp::from_unix(T0 - 86_400, 0), None),
            ));
            Verifier::new(&root).unwrap()
        }

        /// A one-leaf log's proof of `body`, with a checkpoint signed by `key` (hint `log_id`).
        fn proof(key: &SigningKey, log_id: &[u8], origin: &str, body: &[u8]) -> InclusionProof {
            let root = waxseal_merkle::leaf_hash(body);
            let text = format!("{origin}\n1\n{}\n", STANDARD.encode(root.as_bytes()));
            let mut hinted = log_id[..4].to_vec();
            hinted.extend(key.sign(text.as_bytes()).unwrap());
            let name = origin.split(' ').next().unwrap_or(origin);
            let note = format!("{text}\n\u{2014} {name} {}\n", STANDARD.encode(hinted));
            InclusionProof::new(
                0,
                root.as_bytes().to_vec(),
                1,
                Vec::new(),
                Checkpoint::new(note),
            )
        }

        /// A Rekor v1 `hashedrekord` entry of `signature` over `digest`, integrated at `time`.
        pub(crate) fn v1_entry(
            &self,
            digest: [u8; 32],
            signature: &[u8],
            time: i64,
        ) -> TransparencyLogEntry {
            let request = serde_json::json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                    "signature": {
                        "content": STANDARD.encode(signature),
                        "publicKey": {"content": STANDARD.encode(
                            pem::encode(pem::CERTIFICATE, &self.leaf))},
                    },
                },
            });
            let body = validate_v1(request.to_string().as_bytes())
                .unwrap()
                .into_canonical_body();
            let log_id = self.rekor_log_id();
            let set = self
                .rekor
                .sign(&set_payload(&body, time, &log_id, 0))
                .unwrap();
            let proof = Self::proof(&self.rekor, &log_id, "rekor.example.test - 1", &body);
            let mut entry = TransparencyLogEntry::new(
                0,
                LogId::new(log_id),
                KindVersion::new("hashedrekord", "0.0.1"),
                body,
            );
            entry.integrated_time = Some(time);
            entry.inclusion_promise = Some(InclusionPromise::new(set));
            entry.inclusion_proof = Some(proof);
            entry
        }

        /// A Rekor v2 `hashedrekord` 0.0.2 entry (no integrated time, no SET).
        pub(crate) fn v2_entry(&self, digest: [u8; 32], signature: &[u8]) -> TransparencyLogEntry {
            let request = serde_json::json!({"hashedRekordRequestV002": {
                "digest": STANDARD.encode(digest),
                "signature": {
                    "content": STANDARD.encode(signature),
                    "verifier": {
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                        "x509Certificate": {"rawBytes": STANDARD.encode(&self.leaf)},
                    },
                },
            }});
            let body = validate_v2(request.to_string().as_bytes())
                .unwrap()
                .into_canonical_body();
            let proof = Self::proof(&self.rekor_v2, &V2_LOG_ID, "rekor-v2.example.test", &body);
            let mut entry = TransparencyLogEntry::new(
                0,
                LogId::new(V2_LOG_ID),
                KindVersion::new("hashedrekord", "0.0.2"),
                body,
            );
            entry.inclusion_proof = Some(proof);
            entry
        }

        /// An RFC 3161 token over `signature`, at `time`.
        pub(crate) fn token(&self, signature: &[u8], time: i64) -> Vec<u8> {
            let digest = HashAlgorithm::Sha256.digest(signature);
            let request = TimeStampRequest::new(HashAlgorithm::Sha256, &digest).unwrap();
            self.tsa.timestamp(&request, unix(time), &[7]).unwrap()
        }
    }
}

const PAYLOAD: &[u8] = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author Alice <alice@example.test> 1735689600 +0000\n\
committer Alice <alice@example.test> 1735689600 +0000\n\nsigned by waxseal\n";

fn instance_policy() -> Policy {
    policy(instance::EMAIL, instance::ISSUER)
}

/// Signs `PAYLOAD` as waxseal's git signer does: attributes, signature, entry, build, armor.
fn waxseal_signature(
    instance: &instance::Instance,
    entry: impl FnOnce(&instance::Instance, [u8; 32], &[u8]) -> Option<TransparencyLogEntry>,
    token_time: Option<i64>,
) -> String {
    let attributes = waxseal_git::signed_attributes(PAYLOAD, instance::T0).unwrap();
    let signature = instance.signer.sign(&attributes).unwrap();
    let entry = entry(instance, waxseal_crypto::sha256(&attributes), &signature);
    let token = token_time.map(|t| instance.token(&signature, t));
    armor::armor(
        &build(
            &instance.leaf,
            &attributes,
            &signature,
            entry.as_ref(),
            token.as_deref(),
        )
        .unwrap(),
    )
}

#[test]
fn waxseal_offline_signatures_verify_with_rekor_v1_and_v2_entries() {
    let instance = instance::Instance::new();
    let verifier = instance.verifier();

    let v1 = waxseal_signature(
        &instance,
        |i, digest, sig| Some(i.v1_entry(digest, sig, instance::T0 + 1)),
        None,
    );
    let verified =
        verify_git_signature(&verifier, PAYLOAD, v1.as_bytes(), &instance_policy()).unwrap();
    assert_eq!(verified.identity(), instance::EMAIL);
    assert_eq!(verified.issuer(), instance::ISSUER);
    assert_eq!(verified.integrated_time(), Some(instance::T0 + 1));
    assert_eq!(verified.signing_time(), Some(instance::T0));
    assert_eq!(verified.bundle().tlog_kind(), ("hashedrekord", "0.0.1"));
    assert_eq!(verified.certificate_der(), instance.leaf.as_slice());

    // Rekor v2: no integrated time, so the RFC 3161 token gives the verified time.
    let v2 = waxseal_signature(
        &instance,
        |i, digest, sig| Some(i.v2_entry(digest, sig)),
        Some(instance::T0 + 2),
    );
    let verified =
        verify_git_signature(&verifier, PAYLOAD, v2.as_bytes(), &instance_policy()).unwrap();
    assert_eq!(verified.bundle().tlog_kind(), ("hashedrekord", "0.0.2"));
    assert_eq!(verified.integrated_time(), None);
    assert_eq!(verified.bundle().rfc3161_timestamps(), 1);

    // Rekor v2 without a timestamp has no verified time.
    let untimed = waxseal_signature(&instance, |i, d, s| Some(i.v2_entry(d, s)), None);
    let error = verify_git_signature(&verifier, PAYLOAD, untimed.as_bytes(), &instance_policy())
        .unwrap_err();
    assert!(matches!(error, Error::Timestamp(_)), "{error}");

    // Logged after the 10-minute certificate expired.
    let late = waxseal_signature(
        &instance,
        |i, digest, sig| Some(i.v1_entry(digest, sig, instance::T0 + 3600)),
        None,
    );
    let error =
        verify_git_signature(&verifier, PAYLOAD, late.as_bytes(), &instance_policy()).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Certificate(
                waxseal_verify::CertificateError::Untrusted { .. }
                    | waxseal_verify::CertificateError::Expired { .. }
            )
        ),
        "{error}"
    );

    // An entry for other attributes (another payload) does not prove this signature.
    let other = waxseal_signature(
        &instance,
        |i, _, _| {
            let attributes = waxseal_git::signed_attributes(b"other", instance::T0).unwrap();
            let signature = i.signer.sign(&attributes).unwrap();
            let digest = waxseal_crypto::sha256(&attributes);
            Some(i.v1_entry(digest, &signature, instance::T0 + 1))
        },
        None,
    );
    let error =
        verify_git_signature(&verifier, PAYLOAD, other.as_bytes(), &instance_policy()).unwrap_err();
    assert!(matches!(error, Error::Tlog(_)), "{error}");
}

#[test]
fn online_mode_signatures_verify_with_the_entry_over_the_object_id() {
    let instance = instance::Instance::new();
    let verifier = instance.verifier();
    let object_id = "0123456789abcdef0123456789abcdef01234567";
    let signature = waxseal_signature(&instance, |_, _, _| None, None);

    let error = verify_git_signature(&verifier, PAYLOAD, signature.as_bytes(), &instance_policy())
        .unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::OnlineLookupRequired)),
        "{error}"
    );

    // gitsign online mode: the signer also signs the object id, logged as a hashedrekord.
    let id_signature = instance.signer.sign(object_id.as_bytes()).unwrap();
    let digest = waxseal_crypto::sha256(object_id.as_bytes());
    let entry = instance.v1_entry(digest, &id_signature, instance::T0 + 1);
    let verified = verify_git_signature_with_entry(
        &verifier,
        PAYLOAD,
        signature.as_bytes(),
        object_id,
        &entry,
        &instance_policy(),
    )
    .unwrap();
    assert_eq!(verified.evidence(), GitLogEvidence::SuppliedOverObjectId);
    assert_eq!(verified.identity(), instance::EMAIL);
    assert_eq!(verified.integrated_time(), Some(instance::T0 + 1));

    // The same entry for another object is refused.
    let error = verify_git_signature_with_entry(
        &verifier,
        PAYLOAD,
        signature.as_bytes(),
        "1123456789abcdef0123456789abcdef01234567",
        &entry,
        &instance_policy(),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::EntryMismatch { .. })),
        "{error}"
    );

    // A payload changed after signing fails before any entry is looked at.
    let error = verify_git_signature_with_entry(
        &verifier,
        b"tree 0\n",
        signature.as_bytes(),
        object_id,
        &entry,
        &instance_policy(),
    )
    .unwrap_err();
    assert!(
        matches!(error, Error::Git(GitError::MessageDigestMismatch { .. })),
        "{error}"
    );
}
