//! Rekor `intoto` 0.0.2 entries (sigstore/rekor `pkg/types/intoto/v0.0.2`), as GitHub's
//! 2023–24 attestations and cosign's legacy attestations carry them, built here with in-test
//! keys: a key-signed DSSE envelope, its canonical body, a one-leaf log with a signed
//! checkpoint and SET. Representations Rekor allows verify; each tampering fails at its stage.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use waxseal_bundle::dsse::{Envelope, EnvelopeSignature};
use waxseal_bundle::rekor::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
    set_payload,
};
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, MessageSignature, PublicKey, PublicKeyIdentifier,
    TimeRange, Timestamp, TransparencyLogInstance, TrustedRoot, VerificationContent,
    VerificationMaterial,
};
use waxseal_crypto::{Algorithm, SigningKey, sha256};
use waxseal_verify::{
    Artifact, BundleError, Error, Policy, SignatureError, TlogError, VerifiedBundle, Verifier,
};

const ARTIFACT: &[u8] = b"release.tar.gz";
const IN_TOTO: &str = "application/vnd.in-toto+json";
const INTEGRATED_TIME: i64 = 1_735_689_600;

struct Fixture {
    log: SigningKey,
    signer: SigningKey,
    other: SigningKey,
}

impl Fixture {
    fn new() -> Self {
        let key = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        Self {
            log: key(),
            signer: key(),
            other: key(),
        }
    }

    fn log_id(&self) -> [u8; 32] {
        sha256(self.log.public_key().spki_der())
    }

    fn verifier(&self) -> Verifier {
        let mut root = TrustedRoot::new();
        root.tlogs.push(TransparencyLogInstance::new(
            "https://log.example.test",
            PublicKey::new(
                self.log.public_key().spki_der(),
                "PKIX_ECDSA_P256_SHA_256",
                Some(TimeRange::new(Timestamp::from_unix(1_700_000_000, 0), None)),
            ),
            LogId::new(self.log_id()),
        ));
        Verifier::new(&root).unwrap()
    }

    fn policy(&self) -> Policy {
        Policy::PublicKey(self.signer.public_key())
    }

    fn statement(digest: [u8; 32], name: &str) -> Vec<u8> {
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": name, "digest": {"sha256": hex::encode(digest)}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {},
        })
        .to_string()
        .into_bytes()
    }

    fn envelope(&self, key: &SigningKey, payload: Vec<u8>) -> Envelope {
        let pae = waxseal_bundle::dsse::pae(IN_TOTO, &payload);
        let sig = key.sign(&pae).unwrap();
        Envelope::new(IN_TOTO, payload, vec![EnvelopeSignature::new("", sig)])
    }

    /// The canonical body Rekor stores for `envelope` signed by `key`.
    fn body(envelope: &Envelope, key: &SigningKey) -> Value {
        let sig_text = STANDARD.encode(&envelope.signatures[0].sig);
        json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {
                    "payloadType": envelope.payload_type,
                    "signatures": [{
                        "publicKey": STANDARD.encode(key.public_key().to_pem()),
                        "sig": STANDARD.encode(sig_text),
                    }],
                },
                "hash": {"algorithm": "sha256", "value": hex::encode(sha256(&envelope.to_json()))},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha256(&envelope.payload))},
            }},
        })
    }

    /// A v0.3 bundle of `content` whose one-leaf log holds `body`, with a signed checkpoint
    /// and SET.
    fn bundle(&self, content: BundleContent, body: &Value, kind_version: KindVersion) -> Bundle {
        let body = serde_json::to_vec(body).unwrap();
        let root = waxseal_merkle::leaf_hash(&body);
        let text = format!(
            "log.example.test\n1\n{}\n",
            STANDARD.encode(root.as_bytes())
        );
        let mut hinted = self.log_id()[..4].to_vec();
        hinted.extend(self.log.sign(text.as_bytes()).unwrap());
        let note = format!(
            "{text}\n\u{2014} log.example.test {}\n",
            STANDARD.encode(hinted)
        );
        let set = self
            .log
            .sign(&set_payload(&body, INTEGRATED_TIME, &self.log_id(), 0))
            .unwrap();
        let mut entry = TransparencyLogEntry::new(0, LogId::new(self.log_id()), kind_version, body);
        entry.integrated_time = Some(INTEGRATED_TIME);
        entry.inclusion_promise = Some(InclusionPromise::new(set));
        entry.inclusion_proof = Some(InclusionProof::new(
            0,
            root.as_bytes().to_vec(),
            1,
            Vec::new(),
            Checkpoint::new(note),
        ));
        Bundle::new(
            BundleVersion::V0_3,
            VerificationMaterial::new(
                VerificationContent::PublicKey(PublicKeyIdentifier::new("")),
                vec![entry],
                None,
            ),
            content,
        )
    }

    fn good_envelope(&self) -> Envelope {
        self.envelope(
            &self.signer,
            Self::statement(sha256(ARTIFACT), "release.tar.gz"),
        )
    }

    /// The good bundle, with `mutate` applied to the body before the log signs it.
    fn intoto(&self, mutate: fn(&Fixture, &mut Value)) -> Bundle {
        let envelope = self.good_envelope();
        let mut body = Self::body(&envelope, &self.signer);
        mutate(self, &mut body);
        self.bundle(
            BundleContent::DsseEnvelope(envelope),
            &body,
            KindVersion::new("intoto", "0.0.2"),
        )
    }

    fn verify(&self, bundle: &Bundle) -> Result<VerifiedBundle, Error> {
        self.verifier()
            .verify(bundle, Artifact::Bytes(ARTIFACT), &self.policy())
    }
}

fn signature(body: &mut Value) -> &mut Value {
    &mut body["spec"]["content"]["envelope"]["signatures"][0]
}

/// The DSSE signature's base64 text as the body stores it.
fn inner_sig(body: &Value) -> Vec<u8> {
    let outer = body["spec"]["content"]["envelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap();
    STANDARD.decode(outer).unwrap()
}

#[test]
fn intoto_v002_entries_verify_and_report_their_kind() {
    let f = Fixture::new();
    let bundle = f.intoto(|_, _| {});
    let verified = f.verify(&bundle).unwrap();
    assert_eq!(verified.tlog_kind(), ("intoto", "0.0.2"));
    assert_eq!(verified.integrated_time(), Some(INTEGRATED_TIME));
    assert_eq!(
        verified.dsse_payload(),
        Some(Fixture::statement(sha256(ARTIFACT), "release.tar.gz").as_slice())
    );
    assert_eq!(verified.dsse_payload_type(), Some(IN_TOTO));
    assert_eq!(verified.signer_spki_der(), f.signer.public_key().spki_der());
    assert_eq!(verified.signature(), bundle.content_signature());
    assert!(verified.sans().is_empty());
    assert!(verified.certificate_extensions().is_empty());
    assert_eq!(verified.certificate_der(), None);
    assert_eq!(verified.certificate_authority_uri(), None);
    assert_eq!(verified.rfc3161_timestamps(), 0);
}

trait ContentSignature {
    fn content_signature(&self) -> Vec<u8>;
}

impl ContentSignature for Bundle {
    fn content_signature(&self) -> Vec<u8> {
        match &self.content {
            BundleContent::DsseEnvelope(e) => e.signatures[0].sig.clone(),
            BundleContent::MessageSignature(m) => m.signature.clone(),
            _ => Vec::new(),
        }
    }
}

type Mutation = fn(&Fixture, &mut Value);

#[test]
fn equivalent_body_representations_verify() {
    const CASES: &[(&str, Mutation)] = &[
        ("keyid hint", |_, b| {
            signature(b)["keyid"] = "any hint".into();
        }),
        ("url-safe unpadded inner signature", |_, b| {
            let raw = STANDARD.decode(inner_sig(b)).unwrap();
            signature(b)["sig"] = STANDARD.encode(URL_SAFE_NO_PAD.encode(raw)).into();
        }),
        ("CRLF PEM", |f, b| {
            let pem = f.signer.public_key().to_pem().replace('\n', "\r\n");
            signature(b)["publicKey"] = STANDARD.encode(pem).into();
        }),
        ("payload present (base64 of base64)", |f, b| {
            let payload = STANDARD.encode(&f.good_envelope().payload);
            b["spec"]["content"]["envelope"]["payload"] = STANDARD.encode(payload).into();
        }),
        ("envelope hash of another serialisation", |_, b| {
            b["spec"]["content"]["hash"]["value"] = "00".repeat(32).into();
        }),
    ];
    let f = Fixture::new();
    for (name, mutate) in CASES {
        f.verify(&f.intoto(*mutate))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn tampered_intoto_bodies_fail_body_consistency() {
    const CASES: &[(&str, &str, Mutation)] = &[
        ("payload hash", "spec.content.payloadHash.value", |_, b| {
            b["spec"]["content"]["payloadHash"]["value"] = "00".repeat(32).into();
        }),
        (
            "payload hash algorithm",
            "spec.content.payloadHash.algorithm",
            |_, b| {
                b["spec"]["content"]["payloadHash"]["algorithm"] = "sha512".into();
            },
        ),
        ("no envelope hash", "spec.content.hash.algorithm", |_, b| {
            b["spec"]["content"].as_object_mut().unwrap().remove("hash");
        }),
        (
            "malformed envelope hash",
            "spec.content.hash.value",
            |_, b| {
                b["spec"]["content"]["hash"]["value"] = "not a digest".into();
            },
        ),
        (
            "payload type",
            "spec.content.envelope.payloadType",
            |_, b| {
                b["spec"]["content"]["envelope"]["payloadType"] = "application/json".into();
            },
        ),
        (
            "another payload",
            "spec.content.envelope.payload",
            |_, b| {
                let other = STANDARD.encode(b"another payload");
                b["spec"]["content"]["envelope"]["payload"] = STANDARD.encode(other).into();
            },
        ),
        (
            "payload base64 once",
            "spec.content.envelope.payload",
            |f, b| {
                b["spec"]["content"]["envelope"]["payload"] =
                    STANDARD.encode(&f.good_envelope().payload).into();
            },
        ),
        (
            "another signature",
            "spec.content.envelope.signatures",
            |f, b| {
                let other = f.envelope(&f.signer, b"other".to_vec());
                signature(b)["sig"] = STANDARD
                    .encode(STANDARD.encode(&other.signatures[0].sig))
                    .into();
            },
        ),
        (
            "signature base64 once",
            "spec.content.envelope.signatures",
            |_, b| {
                let once = String::from_utf8(inner_sig(b)).unwrap();
                signature(b)["sig"] = once.into();
            },
        ),
        (
            "another signer",
            "spec.content.envelope.signatures",
            |f, b| {
                signature(b)["publicKey"] = STANDARD.encode(f.other.public_key().to_pem()).into();
            },
        ),
        (
            "two keys in the PEM",
            "spec.content.envelope.signatures",
            |f, b| {
                let both = f.signer.public_key().to_pem() + &f.other.public_key().to_pem();
                signature(b)["publicKey"] = STANDARD.encode(both).into();
            },
        ),
        (
            "no signatures",
            "spec.content.envelope.signatures",
            |_, b| {
                b["spec"]["content"]["envelope"]["signatures"] = json!([]);
            },
        ),
        (
            "an extra signature",
            "spec.content.envelope.signatures",
            |_, b| {
                let one = signature(b).clone();
                b["spec"]["content"]["envelope"]["signatures"]
                    .as_array_mut()
                    .unwrap()
                    .push(one);
            },
        ),
        ("body apiVersion", "apiVersion", |_, b| {
            b["apiVersion"] = "0.0.1".into();
        }),
        ("body kind", "kind", |_, b| {
            b["kind"] = "dsse".into();
        }),
    ];
    let f = Fixture::new();
    for (name, field, mutate) in CASES {
        let error = f.verify(&f.intoto(*mutate)).unwrap_err();
        assert!(
            matches!(&error, Error::Tlog(TlogError::BodyMismatch { field: f, .. }) if f == field),
            "{name}: {error:?}"
        );
    }
}

#[test]
fn tampered_intoto_bundles_fail_at_their_stage() {
    let f = Fixture::new();
    let good = f.intoto(|_, _| {});

    // The bundle's payload changed after signing: the signature no longer covers it.
    let mut bundle = good.clone();
    if let BundleContent::DsseEnvelope(e) = &mut bundle.content {
        e.payload = Fixture::statement(sha256(ARTIFACT), "evil.tar.gz");
    }
    let error = f.verify(&bundle).unwrap_err();
    assert!(
        matches!(error, Error::Signature(SignatureError::Invalid { .. })),
        "{error:?}"
    );

    // Another statement about the artifact, validly signed by the same key, swapped in for the
    // logged one (CVE-2022-36056): only the body can tell.
    let mut bundle = good.clone();
    bundle.content = BundleContent::DsseEnvelope(
        f.envelope(&f.signer, Fixture::statement(sha256(ARTIFACT), "other")),
    );
    let error = f.verify(&bundle).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Tlog(TlogError::BodyMismatch {
                field: "spec.content.payloadHash.value",
                ..
            })
        ),
        "{error:?}"
    );

    // A message signature cannot be explained by an intoto entry.
    let signature = f.signer.sign(ARTIFACT).unwrap();
    let body = Fixture::body(&f.good_envelope(), &f.signer);
    let bundle = f.bundle(
        BundleContent::MessageSignature(MessageSignature::new(None, signature)),
        &body,
        KindVersion::new("intoto", "0.0.2"),
    );
    let error = f.verify(&bundle).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Tlog(TlogError::BodyMismatch { field: "kind", .. })
        ),
        "{error:?}"
    );

    // intoto 0.0.1 is not supported.
    let envelope = f.good_envelope();
    let bundle = f.bundle(
        BundleContent::DsseEnvelope(envelope.clone()),
        &Fixture::body(&envelope, &f.signer),
        KindVersion::new("intoto", "0.0.1"),
    );
    let error = f.verify(&bundle).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Bundle(BundleError::UnsupportedEntryKind { .. })
        ),
        "{error:?}"
    );

    // The log's SET over another body.
    let mut bundle = good.clone();
    bundle.verification_material.tlog_entries[0]
        .inclusion_promise
        .as_mut()
        .unwrap()
        .signed_entry_timestamp = f.log.sign(b"something else").unwrap();
    let error = f.verify(&bundle).unwrap_err();
    assert!(
        matches!(error, Error::Tlog(TlogError::SetInvalid { .. })),
        "{error:?}"
    );

    // Another key policy.
    let error = f
        .verifier()
        .verify(
            &good,
            Artifact::Bytes(ARTIFACT),
            &Policy::PublicKey(f.other.public_key()),
        )
        .unwrap_err();
    assert_eq!(error.stage(), "signature", "{error}");
}

#[test]
fn a_key_signed_intoto_entry_from_rekor_makes_a_bundle_that_verifies() {
    let f = Fixture::new();
    let good = f.intoto(|_, _| {});
    let entry = &good.verification_material.tlog_entries[0];
    let proof = entry.inclusion_proof.as_ref().unwrap();
    let answer = json!({"uuid": {
        "body": STANDARD.encode(&entry.canonicalized_body),
        "integratedTime": INTEGRATED_TIME,
        "logID": hex::encode(f.log_id()),
        "logIndex": 0,
        "verification": {
            "inclusionProof": {
                "checkpoint": proof.checkpoint.as_ref().unwrap().envelope,
                "hashes": [],
                "logIndex": 0,
                "rootHash": hex::encode(&proof.root_hash),
                "treeSize": 1,
            },
            "signedEntryTimestamp": STANDARD.encode(
                &entry.inclusion_promise.as_ref().unwrap().signed_entry_timestamp),
        },
    }});
    let bundle = Bundle::from_rekor_entry(
        good.content.clone(),
        Vec::new(),
        answer.to_string().as_bytes(),
    )
    .unwrap();
    assert_eq!(
        bundle, good,
        "a public key in the body gives a key hint, v0.3"
    );
    f.verify(&bundle).unwrap();
}
