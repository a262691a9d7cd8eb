//! Container-image signatures in cosign's formats (`Verifier::verify_image_signature`):
//!
//! - every case of shared/vectors/oci-legacy (containers/image's cosign `.sig` fixtures; sources
//!   and licence in its README) ends as cosign's verdict says, failures at their stage;
//! - legacy `.sig` and `.att` layers and v3 referrer bundles built here with in-test keys (a
//!   signer, a one-leaf Rekor v1 log with SET and checkpoint, a TSA), and their tamperings;
//! - keyless legacy material made of real Fulcio-signed bundles: the SLSA attestations of
//!   shared/vectors/attestations as `.att` layers verify in full; a real message signature as a
//!   `.sig` layer passes every bundle stage and is refused only because its payload is not a
//!   simple signing payload.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use waxseal_bundle::dsse::{Envelope, EnvelopeSignature};
use waxseal_bundle::rekor::{
    Checkpoint, InclusionPromise, InclusionProof, KindVersion, LogId, TransparencyLogEntry,
    set_payload,
};
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, CertificateAuthority, DistinguishedName, HashOutput,
    MessageSignature, PublicKey, PublicKeyIdentifier, TimeRange, Timestamp,
    TransparencyLogInstance, TrustedRoot, VerificationContent, VerificationMaterial,
    X509CertificateChain,
};
use waxseal_crypto::{Algorithm, SigningKey, pem, sha256};
use waxseal_oci::{Digest, LegacySignature, SimpleSigning, annotation, media_type};
use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa, TsaKeys};
use waxseal_verify::{
    BundleError, Error, Identity, ImageError, ImageSignature, ImageSignatureFormat, Matcher,
    Policy, SignatureError, TlogError, TlogRequirement, VerifiedImageSignature, Verifier,
    VerifyOptions,
};

const IN_TOTO: &str = "application/vnd.in-toto+json";
const COSIGN_SIGN: &str = "https://sigstore.dev/cosign/sign/v1";
const SLSA: &str = "https://slsa.dev/provenance/v1";
const INTEGRATED_TIME: i64 = 1_735_689_600;

fn options(tlog: TlogRequirement) -> VerifyOptions {
    VerifyOptions::default().with_tlog(tlog)
}

/// containers/image's `dir:` form of a layer, which `LegacySignature` reads.
fn layer(media_type: &str, payload: &[u8], annotations: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = waxseal_oci::CONTAINERS_IMAGE_PREFIX.to_vec();
    out.extend(
        json!({
            "mimeType": media_type,
            "payload": STANDARD.encode(payload),
            "annotations": annotations,
        })
        .to_string()
        .into_bytes(),
    );
    out
}

fn parse_layer(
    media_type: &str,
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
) -> LegacySignature {
    LegacySignature::from_containers_image_file(&layer(media_type, payload, annotations)).unwrap()
}

/// cosign's `dev.sigstore.cosign/bundle` annotation for a Rekor v1 entry.
fn rekor_annotation(
    body: &[u8],
    integrated_time: i64,
    log_index: i64,
    log_id: &[u8],
    set: &[u8],
) -> String {
    json!({
        "SignedEntryTimestamp": STANDARD.encode(set),
        "Payload": {
            "body": STANDARD.encode(body),
            "integratedTime": integrated_time,
            "logIndex": log_index,
            "logID": hex::encode(log_id),
        },
    })
    .to_string()
}

fn timestamp_annotation(token: &[u8]) -> String {
    json!({"SignedRFC3161Timestamp": STANDARD.encode(token)}).to_string()
}

// ---- shared/vectors/oci-legacy -----------------------------------------------------------

fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/oci-legacy"
    ))
    .join(relative)
}

fn read_vector(relative: &str) -> Vec<u8> {
    let path = vector_path(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn pem_key(relative: &str) -> waxseal_crypto::PublicKey {
    waxseal_crypto::PublicKey::from_pem(&String::from_utf8(read_vector(relative)).unwrap()).unwrap()
}

/// A root whose transparency logs are these keys, each with log ID SHA-256(SPKI DER).
fn root_with_logs(keys: &[waxseal_crypto::PublicKey]) -> Verifier {
    let mut root = TrustedRoot::new();
    for key in keys {
        root.tlogs.push(TransparencyLogInstance::new(
            "https://rekor.example.test",
            PublicKey::new(key.spki_der(), key.key_details(), None),
            LogId::new(sha256(key.spki_der())),
        ));
    }
    Verifier::new(&root).unwrap()
}

/// The stage a case's `reason` names (`signature: …`, `SET: …`, `manifest digest …`).
fn expected_stage(reason: &str) -> &'static str {
    if reason.starts_with("signature") {
        "signature"
    } else if reason.starts_with("SET") {
        "tlog"
    } else if reason.starts_with("manifest digest") {
        "image"
    } else {
        panic!("no stage for reason {reason:?}")
    }
}

#[test]
fn every_oci_legacy_case_ends_as_cosign_says() {
    let manifest: Value = serde_json::from_slice(&read_vector("manifest.json")).unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10, "the README lists 10 cases");
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let trust = &case["trust"];
        let list = |name: &str| -> Vec<waxseal_crypto::PublicKey> {
            trust[name]
                .as_array()
                .map(|a| a.iter().map(|p| pem_key(p.as_str().unwrap())).collect())
                .unwrap_or_default()
        };
        let keys = list("public_keys");
        let rekor_keys = list("rekor_public_keys");
        let tlog = if rekor_keys.is_empty() {
            TlogRequirement::InsecureSkip
        } else {
            TlogRequirement::PromiseOrProof
        };
        let verifier = root_with_logs(&rekor_keys);
        let image = Digest::of(&read_vector(case["files"]["manifest"].as_str().unwrap()));
        // A signature verifies when one listed key verifies it; the case passes when all do.
        let mut outcome: Result<(), Error> = Ok(());
        for file in case["files"]["signatures"].as_array().unwrap() {
            let signature =
                LegacySignature::from_containers_image_file(&read_vector(file.as_str().unwrap()))
                    .unwrap_or_else(|e| panic!("{id}: {file}: {e}"));
            let mut last = None;
            for key in &keys {
                match verifier.verify_image_signature(
                    &image,
                    ImageSignature::Legacy(&signature),
                    &Policy::PublicKey(key.clone()),
                    &options(tlog),
                ) {
                    Ok(verified) => {
                        check_legacy_facts(id, &verified, &signature, &image, &rekor_keys);
                        last = None;
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(e) = last {
                outcome = Err(e);
                break;
            }
        }
        match (case["expected_result"].as_str().unwrap(), outcome) {
            ("pass", Ok(())) => passed += 1,
            ("fail", Err(e)) => {
                let reason = case["reason"].as_str().unwrap();
                assert_eq!(e.stage(), expected_stage(reason), "{id}: {e}");
                failed += 1;
            }
            (expected, outcome) => panic!("{id}: expected {expected}, got {outcome:?}"),
        }
    }
    assert_eq!(
        (passed, failed),
        (6, 4),
        "cosign's verdicts: 6 pass, 4 fail"
    );
}

fn check_legacy_facts(
    id: &str,
    verified: &VerifiedImageSignature,
    signature: &LegacySignature,
    image: &Digest,
    rekor_keys: &[waxseal_crypto::PublicKey],
) {
    assert_eq!(
        verified.format(),
        ImageSignatureFormat::LegacySignature,
        "{id}"
    );
    assert_eq!(verified.payload(), signature.payload, "{id}");
    assert_eq!(
        verified.simple_signing().unwrap().manifest_digest(),
        *image,
        "{id}"
    );
    assert_eq!(verified.predicate_type(), None, "{id}");
    assert_eq!(verified.bundle().signature(), signature.signature, "{id}");
    assert_eq!(
        verified.bundle().has_log_entry(),
        !rekor_keys.is_empty(),
        "{id}"
    );
    assert!(!verified.bundle().inclusion_proof_verified(), "{id}");
    if !rekor_keys.is_empty() {
        assert_eq!(
            verified.bundle().integrated_time(),
            Some(1_674_251_859),
            "{id}"
        );
        assert_eq!(
            verified.bundle().tlog_kind(),
            ("hashedrekord", "0.0.1"),
            "{id}"
        );
    }
}

#[test]
fn the_vectors_fail_with_the_errors_cosign_reports() {
    let signature =
        |path: &str| LegacySignature::from_containers_image_file(&read_vector(path)).unwrap();
    let valid = signature("dir-img-cosign-valid/signature-1");
    let skip = options(TlogRequirement::InsecureSkip);
    let no_logs = root_with_logs(&[]);
    let key = Policy::PublicKey(pem_key("trust/cosign.pub"));

    let modified = Digest::of(&read_vector(
        "dir-img-cosign-modified-manifest/manifest.json",
    ));
    let error = no_logs
        .verify_image_signature(&modified, ImageSignature::Legacy(&valid), &key, &skip)
        .unwrap_err();
    let signed: Digest = "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"
        .parse()
        .unwrap();
    assert!(
        matches!(&error, Error::Image(ImageError::DigestMismatch { claimed, image })
            if *claimed == signed && *image == modified),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&signed.to_string()) && message.contains(&modified.to_string()),
        "{message}"
    );

    let error = no_logs
        .verify_image_signature(
            &signed,
            ImageSignature::Legacy(&valid),
            &Policy::PublicKey(pem_key("trust/cosign2.pub")),
            &skip,
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::Signature(SignatureError::Invalid { .. })),
        "{error:?}"
    );

    // Without a Rekor bundle, only InsecureSkip accepts the layer.
    for tlog in [TlogRequirement::Proof, TlogRequirement::PromiseOrProof] {
        let error = no_logs
            .verify_image_signature(
                &signed,
                ImageSignature::Legacy(&valid),
                &key,
                &options(tlog),
            )
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Bundle(BundleError::TlogEntryCount { count: 0 })
            ),
            "{tlog:?}: {error:?}"
        );
    }

    // The real SET-only entry: refused under Proof, its SET checked under the others.
    let rekor = signature("dir-img-cosign-key-rekor-valid/signature-1");
    let image = Digest::of(&read_vector("dir-img-cosign-key-rekor-valid/manifest.json"));
    let key2 = Policy::PublicKey(pem_key("trust/cosign2.pub"));
    let verifier = root_with_logs(&[pem_key("trust/rekor.pub")]);
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&rekor),
            &key2,
            &VerifyOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Bundle(BundleError::MissingInclusionProof {
                index: 0,
                missing: "inclusion proof"
            })
        ),
        "{error:?}"
    );
    for tlog in [
        TlogRequirement::PromiseOrProof,
        TlogRequirement::InsecureSkip,
    ] {
        verifier
            .verify_image_signature(
                &image,
                ImageSignature::Legacy(&rekor),
                &key2,
                &options(tlog),
            )
            .unwrap_or_else(|e| panic!("{tlog:?}: {e}"));
    }
    // A present entry is verified even under InsecureSkip: an unknown log fails.
    let error = no_logs
        .verify_image_signature(&image, ImageSignature::Legacy(&rekor), &key2, &skip)
        .unwrap_err();
    assert!(
        matches!(error, Error::Tlog(TlogError::LogUnknown { .. })),
        "{error:?}"
    );
}

// ---- in-test keys -------------------------------------------------------------------------

struct Fixture {
    log: SigningKey,
    signer: SigningKey,
    other: SigningKey,
    tsa: Tsa,
    tsa_chain: Vec<Vec<u8>>,
    image: Digest,
}

impl Fixture {
    fn new() -> Self {
        let key = || SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let now = unix(INTEGRATED_TIME - 3600);
        let keys = TsaKeys::generate(now, Duration::from_secs(365 * 24 * 3600)).unwrap();
        let tsa_chain = keys.chain_der();
        Self {
            log: key(),
            signer: key(),
            other: key(),
            tsa: Tsa::new(keys),
            tsa_chain,
            image: Digest::of(
                br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
            ),
        }
    }

    fn log_id(&self) -> [u8; 32] {
        sha256(self.log.public_key().spki_der())
    }

    /// A root with this fixture's log (under `log_key`'s key, to test a SET by another key)
    /// and TSA.
    fn verifier_with_log_key(&self, log_key: &SigningKey) -> Verifier {
        let mut root = TrustedRoot::new();
        root.tlogs.push(TransparencyLogInstance::new(
            "https://log.example.test",
            PublicKey::new(
                log_key.public_key().spki_der(),
                "PKIX_ECDSA_P256_SHA_256",
                Some(TimeRange::new(Timestamp::from_unix(1_700_000_000, 0), None)),
            ),
            LogId::new(self.log_id()),
        ));
        root.timestamp_authorities.push(CertificateAuthority::new(
            DistinguishedName::new("test", "test tsa"),
            "https://tsa.example.test",
            X509CertificateChain::new(self.tsa_chain.clone()),
            TimeRange::new(Timestamp::from_unix(1_700_000_000, 0), None),
        ));
        Verifier::new(&root).unwrap()
    }

    fn verifier(&self) -> Verifier {
        self.verifier_with_log_key(&self.log)
    }

    fn policy(&self) -> Policy {
        Policy::PublicKey(self.signer.public_key())
    }

    fn set(&self, body: &[u8]) -> Vec<u8> {
        self.log
            .sign(&set_payload(body, INTEGRATED_TIME, &self.log_id(), 7))
            .unwrap()
    }

    fn token(&self, message: &[u8]) -> Vec<u8> {
        let digest = HashAlgorithm::Sha256.digest(message);
        let request = TimeStampRequest::new(HashAlgorithm::Sha256, &digest).unwrap();
        self.tsa
            .timestamp(&request, unix(INTEGRATED_TIME - 60), &[9])
            .unwrap()
    }

    fn simple_signing(&self, image: Digest) -> Vec<u8> {
        SimpleSigning::new("registry.example.test/app", image, None).to_bytes()
    }

    /// A `.sig` layer of `payload` signed by `key`, with a SET (and optionally a TSA token over
    /// the signature).
    fn sig_layer(
        &self,
        payload: &[u8],
        key: &SigningKey,
        rekor: bool,
        tsa: bool,
    ) -> LegacySignature {
        let signature = key.sign(payload).unwrap();
        let mut annotations = BTreeMap::from([(
            annotation::SIGNATURE.to_owned(),
            STANDARD.encode(&signature),
        )]);
        if rekor {
            let body = serde_json::to_vec(&json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hex::encode(sha256(payload))}},
                    "signature": {
                        "content": STANDARD.encode(&signature),
                        "publicKey": {"content": STANDARD.encode(key.public_key().to_pem())},
                    },
                },
            }))
            .unwrap();
            annotations.insert(
                annotation::BUNDLE.to_owned(),
                rekor_annotation(&body, INTEGRATED_TIME, 7, &self.log_id(), &self.set(&body)),
            );
        }
        if tsa {
            annotations.insert(
                annotation::RFC3161_TIMESTAMP.to_owned(),
                timestamp_annotation(&self.token(&signature)),
            );
        }
        parse_layer(media_type::SIMPLE_SIGNING, payload, &annotations)
    }

    fn statement(subject: &Digest, predicate_type: &str) -> Vec<u8> {
        json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "registry.example.test/app", "digest": {"sha256": subject.hex()}}],
            "predicateType": predicate_type,
            "predicate": {},
        })
        .to_string()
        .into_bytes()
    }

    fn envelope(&self, statement: Vec<u8>) -> Envelope {
        let sig = self
            .signer
            .sign(&waxseal_bundle::dsse::pae(IN_TOTO, &statement))
            .unwrap();
        Envelope::new(IN_TOTO, statement, vec![EnvelopeSignature::new("", sig)])
    }

    /// Rekor's canonical `intoto` 0.0.2 body for `envelope` signed by the fixture's signer.
    fn intoto_body(&self, envelope: &Envelope) -> Vec<u8> {
        let sig_text = STANDARD.encode(&envelope.signatures[0].sig);
        serde_json::to_vec(&json!({
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {"content": {
                "envelope": {
                    "payloadType": envelope.payload_type,
                    "signatures": [{
                        "publicKey": STANDARD.encode(self.signer.public_key().to_pem()),
                        "sig": STANDARD.encode(sig_text),
                    }],
                },
                "hash": {"algorithm": "sha256", "value": hex::encode(sha256(&envelope.to_json()))},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha256(&envelope.payload))},
            }},
        }))
        .unwrap()
    }

    /// An `.att` layer: the envelope of a statement about `subject`, its SET, a TSA token over
    /// the envelope JSON, and the `predicateType` annotation.
    fn att_layer(
        &self,
        subject: &Digest,
        predicate_type: &str,
        annotation_type: &str,
    ) -> LegacySignature {
        let envelope = self.envelope(Self::statement(subject, predicate_type));
        let body = self.intoto_body(&envelope);
        let json = envelope.to_json();
        let annotations = BTreeMap::from([
            (annotation::SIGNATURE.to_owned(), String::new()),
            (
                annotation::BUNDLE.to_owned(),
                rekor_annotation(&body, INTEGRATED_TIME, 7, &self.log_id(), &self.set(&body)),
            ),
            (
                annotation::RFC3161_TIMESTAMP.to_owned(),
                timestamp_annotation(&self.token(&json)),
            ),
            (
                annotation::PREDICATE_TYPE.to_owned(),
                annotation_type.to_owned(),
            ),
        ]);
        parse_layer(media_type::DSSE_ENVELOPE, &json, &annotations)
    }

    /// A v0.3 referrer bundle of `content` logged as `body` in a one-leaf log, with proof,
    /// checkpoint and SET.
    fn referrer_bundle(&self, content: BundleContent, body: Vec<u8>, kind: KindVersion) -> Vec<u8> {
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
        let mut entry = TransparencyLogEntry::new(0, LogId::new(self.log_id()), kind, body);
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
        .to_json()
    }

    fn dsse_referrer(&self, subject: &Digest, predicate_type: &str) -> Vec<u8> {
        let envelope = self.envelope(Self::statement(subject, predicate_type));
        let body = self.intoto_body(&envelope);
        self.referrer_bundle(
            BundleContent::DsseEnvelope(envelope),
            body,
            KindVersion::new("intoto", "0.0.2"),
        )
    }
}

fn unix(seconds: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
}

fn referrer_annotations(predicate_type: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            annotation::BUNDLE_CONTENT.to_owned(),
            "dsse-envelope".to_owned(),
        ),
        (
            annotation::BUNDLE_PREDICATE_TYPE.to_owned(),
            predicate_type.to_owned(),
        ),
    ])
}

#[test]
fn key_signed_legacy_signatures_verify_with_set_and_timestamp() {
    let f = Fixture::new();
    let payload = f.simple_signing(f.image);
    let layer = f.sig_layer(&payload, &f.signer, true, true);
    let verified = f
        .verifier()
        .verify_image_signature(
            &f.image,
            ImageSignature::Legacy(&layer),
            &f.policy(),
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap();
    assert_eq!(verified.format(), ImageSignatureFormat::LegacySignature);
    assert_eq!(verified.payload(), payload);
    assert_eq!(
        verified.simple_signing().unwrap().docker_reference(),
        "registry.example.test/app"
    );
    let bundle = verified.bundle();
    assert_eq!(
        bundle.rfc3161_timestamps(),
        1,
        "the token over the signature bytes verified"
    );
    assert_eq!(bundle.integrated_time(), Some(INTEGRATED_TIME));
    assert_eq!(bundle.log_index(), 7);
    assert!(bundle.has_log_entry() && !bundle.inclusion_proof_verified());
    assert_eq!(bundle.artifact_sha256(), sha256(&payload));

    // Without a log entry: a key policy needs no time under InsecureSkip.
    let bare = f.sig_layer(&payload, &f.signer, false, false);
    let verified = f
        .verifier()
        .verify_image_signature(
            &f.image,
            ImageSignature::Legacy(&bare),
            &f.policy(),
            &options(TlogRequirement::InsecureSkip),
        )
        .unwrap();
    assert!(!verified.bundle().has_log_entry());
    assert!(verified.bundle().times().is_empty());

    // Without a log entry but with a TSA token: its time is verified and reported.
    let stamped = f.sig_layer(&payload, &f.signer, false, true);
    let verified = f
        .verifier()
        .verify_image_signature(
            &f.image,
            ImageSignature::Legacy(&stamped),
            &f.policy(),
            &options(TlogRequirement::InsecureSkip),
        )
        .unwrap();
    assert_eq!(verified.bundle().rfc3161_timestamps(), 1);
    assert_eq!(
        verified.bundle().signed_time().map(|t| t.unix_seconds()),
        Some(INTEGRATED_TIME - 60)
    );
}

#[test]
fn legacy_signature_tamperings_fail_at_their_stage() {
    let f = Fixture::new();
    let promise = options(TlogRequirement::PromiseOrProof);
    let payload = f.simple_signing(f.image);
    let verify = |verifier: &Verifier, layer: &LegacySignature, opts: &VerifyOptions| {
        verifier
            .verify_image_signature(&f.image, ImageSignature::Legacy(layer), &f.policy(), opts)
            .unwrap_err()
    };

    // Tampered payload: the layer's signature no longer covers it.
    let good = f.sig_layer(&payload, &f.signer, false, false);
    let annotations = BTreeMap::from([(
        annotation::SIGNATURE.to_owned(),
        STANDARD.encode(&good.signature),
    )]);
    let tampered = parse_layer(
        media_type::SIMPLE_SIGNING,
        &f.simple_signing(Digest::of(b"x")),
        &annotations,
    );
    let error = verify(
        &f.verifier(),
        &tampered,
        &options(TlogRequirement::InsecureSkip),
    );
    assert!(
        matches!(error, Error::Signature(SignatureError::Invalid { .. })),
        "{error:?}"
    );
    assert_eq!(error.stage(), "signature");

    // A valid signature of a payload for another image.
    let other = Digest::of(b"another image");
    let layer = f.sig_layer(&f.simple_signing(other), &f.signer, true, false);
    let error = verify(&f.verifier(), &layer, &promise);
    assert!(
        matches!(&error, Error::Image(ImageError::DigestMismatch { claimed, image }) if *claimed == other && *image == f.image),
        "{error:?}"
    );
    assert_eq!(error.stage(), "image");
    assert!(error.to_string().contains("for another image"), "{error}");

    // The SET under the root's log ID but another key.
    let layer = f.sig_layer(&payload, &f.signer, true, false);
    let error = verify(&f.verifier_with_log_key(&f.other), &layer, &promise);
    assert!(
        matches!(error, Error::Tlog(TlogError::SetInvalid { log_index: 7 })),
        "{error:?}"
    );

    // SET-only entries under the default requirement.
    let error = verify(&f.verifier(), &layer, &VerifyOptions::default());
    assert!(
        matches!(
            error,
            Error::Bundle(BundleError::MissingInclusionProof {
                index: 0,
                missing: "inclusion proof"
            })
        ),
        "{error:?}"
    );

    // Signed by another key than the policy's: the signature, not the log, fails first.
    let layer = f.sig_layer(&payload, &f.other, true, false);
    let error = verify(&f.verifier(), &layer, &promise);
    assert!(
        matches!(error, Error::Signature(SignatureError::Invalid { .. })),
        "{error:?}"
    );

    // A payload that is not simple signing, validly signed.
    let layer = f.sig_layer(b"{\"hello\":1}", &f.signer, false, false);
    let error = verify(
        &f.verifier(),
        &layer,
        &options(TlogRequirement::InsecureSkip),
    );
    assert!(
        matches!(error, Error::Image(ImageError::MalformedPayload { .. })),
        "{error:?}"
    );

    // A payload over the limit.
    let big = vec![b' '; waxseal_oci::MAX_PAYLOAD_SIZE + 1];
    let layer = parse_layer(media_type::SIMPLE_SIGNING, &big, &annotations);
    let error = verify(&f.verifier(), &layer, &promise);
    assert!(
        matches!(error, Error::Image(ImageError::TooLarge { .. })),
        "{error:?}"
    );

    // An SBOM or other layer type.
    let layer = parse_layer("text/plain", &payload, &annotations);
    let error = verify(&f.verifier(), &layer, &promise);
    assert!(
        matches!(error, Error::Image(ImageError::UnsupportedMediaType { .. })),
        "{error:?}"
    );
}

#[test]
fn key_signed_legacy_attestations_verify_and_bind_the_image() {
    let f = Fixture::new();
    let promise = options(TlogRequirement::PromiseOrProof);
    let verify = |layer: &LegacySignature| {
        f.verifier().verify_image_signature(
            &f.image,
            ImageSignature::Legacy(layer),
            &f.policy(),
            &promise,
        )
    };
    let layer = f.att_layer(&f.image, SLSA, SLSA);
    let verified = verify(&layer).unwrap();
    assert_eq!(verified.format(), ImageSignatureFormat::LegacyAttestation);
    assert_eq!(verified.predicate_type(), Some(SLSA));
    assert_eq!(verified.payload(), Fixture::statement(&f.image, SLSA));
    assert_eq!(verified.bundle().tlog_kind(), ("intoto", "0.0.2"));
    assert_eq!(
        verified.bundle().rfc3161_timestamps(),
        1,
        "the token over the envelope JSON verified"
    );
    assert!(verified.simple_signing().is_none());

    let error = verify(&f.att_layer(&f.image, SLSA, "https://spdx.dev/Document")).unwrap_err();
    assert!(
        matches!(&error, Error::Image(ImageError::PredicateTypeMismatch { annotation, statement })
            if annotation == "https://spdx.dev/Document" && statement == SLSA),
        "{error:?}"
    );

    let other = Digest::of(b"another image");
    let error = verify(&f.att_layer(&other, SLSA, SLSA)).unwrap_err();
    assert!(
        matches!(&error, Error::Image(ImageError::SubjectMismatch { image, subjects })
            if *image == f.image && subjects == &[other.hex()]),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains(&other.hex()) && message.contains(&f.image.to_string()),
        "{message}"
    );

    let annotations = BTreeMap::from([(annotation::SIGNATURE.to_owned(), String::new())]);
    let error = verify(&parse_layer(
        media_type::DSSE_ENVELOPE,
        b"{\"not\":\"dsse\"}",
        &annotations,
    ))
    .unwrap_err();
    assert!(
        matches!(error, Error::Image(ImageError::MalformedPayload { .. })),
        "{error:?}"
    );
}

#[test]
fn referrer_bundles_verify_and_bind_the_image() {
    let f = Fixture::new();
    let opts = VerifyOptions::default();
    let verify = |bundle: &[u8], annotations: &BTreeMap<String, String>| {
        f.verifier().verify_image_signature(
            &f.image,
            ImageSignature::Referrer {
                bundle_json: bundle,
                annotations,
            },
            &f.policy(),
            &opts,
        )
    };
    let bundle = f.dsse_referrer(&f.image, COSIGN_SIGN);
    let verified = verify(&bundle, &referrer_annotations(COSIGN_SIGN)).unwrap();
    assert_eq!(verified.format(), ImageSignatureFormat::Referrer);
    assert_eq!(verified.predicate_type(), Some(COSIGN_SIGN));
    assert_eq!(
        verified.payload(),
        Fixture::statement(&f.image, COSIGN_SIGN)
    );
    assert!(verified.bundle().inclusion_proof_verified());
    // No predicate type annotation: nothing to compare.
    verify(&bundle, &BTreeMap::new()).unwrap();

    let error = verify(&bundle, &referrer_annotations(SLSA)).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Image(ImageError::PredicateTypeMismatch { .. })
        ),
        "{error:?}"
    );
    assert_eq!(error.stage(), "image");

    let other = Digest::of(b"another image");
    let error = verify(
        &f.dsse_referrer(&other, COSIGN_SIGN),
        &referrer_annotations(COSIGN_SIGN),
    )
    .unwrap_err();
    assert!(
        matches!(&error, Error::Image(ImageError::SubjectMismatch { image, subjects })
            if *image == f.image && subjects == &[other.hex()]),
        "{error:?}"
    );
    assert!(error.to_string().contains("for another image"), "{error}");

    // A message-signature bundle is not an image signature.
    let signature = f.signer.sign(f.image.to_string().as_bytes()).unwrap();
    let content = BundleContent::MessageSignature(MessageSignature::new(
        Some(HashOutput::new("SHA2_256", *f.image.as_bytes())),
        signature,
    ));
    let message = f.referrer_bundle(
        content,
        b"{}".to_vec(),
        KindVersion::new("hashedrekord", "0.0.1"),
    );
    let error = verify(&message, &referrer_annotations(COSIGN_SIGN)).unwrap_err();
    assert!(
        matches!(error, Error::Image(ImageError::NotDsse)),
        "{error:?}"
    );

    let error = verify(b"{}", &BTreeMap::new()).unwrap_err();
    assert_eq!(error.stage(), "bundle", "{error}");
}

// ---- keyless, from real Fulcio-signed bundles ---------------------------------------------

fn shared(relative: &str) -> Vec<u8> {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors"
    ))
    .join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn entry_annotation(entry: &TransparencyLogEntry) -> String {
    rekor_annotation(
        &entry.canonicalized_body,
        entry.integrated_time.unwrap(),
        entry.log_index,
        &entry.log_id.key_id,
        &entry
            .inclusion_promise
            .as_ref()
            .unwrap()
            .signed_entry_timestamp,
    )
}

fn leaf_pem(bundle: &Bundle) -> String {
    let der = match &bundle.verification_material.content {
        VerificationContent::Certificate(c) => c.raw_bytes.clone(),
        VerificationContent::X509CertificateChain(chain) => chain.certificates[0].raw_bytes.clone(),
        other => panic!("no certificate: {other:?}"),
    };
    pem::encode("CERTIFICATE", &der)
}

#[test]
fn keyless_legacy_attestations_verify_in_full() {
    // The SLSA bundles of shared/vectors/attestations, rewritten as cosign `.att` layers: the
    // envelope as layer content, the Fulcio leaf, the Rekor entry as a SET-only annotation.
    let verifier =
        Verifier::from_json(&shared("attestations/roots/production.trusted_root.json")).unwrap();
    let manifest: Value = serde_json::from_slice(&shared("attestations/manifest.json")).unwrap();
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let digest = String::from_utf8(shared(&format!(
            "attestations/{}",
            case["files"]["artifact_sha256"].as_str().unwrap()
        )))
        .unwrap();
        let image: Digest = format!("sha256:{}", digest.trim()).parse().unwrap();
        let policy = Policy::Identity(Identity::new(
            Matcher::exact(case["expected_identity"].as_str().unwrap()),
            Matcher::exact(case["expected_issuer"].as_str().unwrap()),
        ));
        let file = shared(&format!(
            "attestations/{}",
            case["files"]["bundle"].as_str().unwrap()
        ));
        let line = file.split(|b| *b == b'\n').find(|l| !l.is_empty()).unwrap();
        let bundle = Bundle::from_json(line).unwrap();
        let BundleContent::DsseEnvelope(envelope) = &bundle.content else {
            panic!("{id}: not DSSE");
        };
        let entry = &bundle.verification_material.tlog_entries[0];
        let annotations = BTreeMap::from([
            (annotation::SIGNATURE.to_owned(), String::new()),
            (annotation::CERTIFICATE.to_owned(), leaf_pem(&bundle)),
            (annotation::CHAIN.to_owned(), String::new()),
            (annotation::BUNDLE.to_owned(), entry_annotation(entry)),
            (
                annotation::PREDICATE_TYPE.to_owned(),
                case["expected_predicate_type"].as_str().unwrap().to_owned(),
            ),
        ]);
        let layer = parse_layer(media_type::DSSE_ENVELOPE, &envelope.to_json(), &annotations);
        let verified = verifier
            .verify_image_signature(
                &image,
                ImageSignature::Legacy(&layer),
                &policy,
                &options(TlogRequirement::PromiseOrProof),
            )
            .unwrap_or_else(|e| panic!("{id}: {} stage: {e}", e.stage()));
        assert_eq!(
            verified.bundle().identity(),
            case["expected_identity"].as_str(),
            "{id}"
        );
        assert_eq!(
            verified.bundle().integrated_time(),
            entry.integrated_time,
            "{id}"
        );
        assert_eq!(
            verified.predicate_type(),
            case["expected_predicate_type"].as_str(),
            "{id}"
        );
        assert!(!verified.bundle().inclusion_proof_verified(), "{id}");

        // The same layer under the default requirement: a SET is not a proof.
        let error = verifier
            .verify_image_signature(
                &image,
                ImageSignature::Legacy(&layer),
                &policy,
                &VerifyOptions::default(),
            )
            .unwrap_err();
        assert!(
            matches!(
                error,
                Error::Bundle(BundleError::MissingInclusionProof { .. })
            ),
            "{id}: {error:?}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn keyless_legacy_signatures_pass_every_bundle_stage() {
    // A real Fulcio-signed message signature with SET and TSA token (over the signature, as
    // cosign's legacy `.sig` timestamps are), as a `.sig` layer: certificate, SCT, identity,
    // SET, TSA time, signature and body all verify; only the payload, which is not a simple
    // signing payload, is refused, at the image stage.
    let case = "sigstore/staging-rekor1-msg-tsa";
    let verifier =
        Verifier::from_json(&shared("sigstore/roots/staging-test-tsa.trusted_root.json")).unwrap();
    let bundle = Bundle::from_json(&shared(&format!("{case}/bundle.sigstore.json"))).unwrap();
    let artifact = shared(&format!("{case}/artifact"));
    let BundleContent::MessageSignature(message) = &bundle.content else {
        panic!("not a message signature");
    };
    let material = &bundle.verification_material;
    let token = &material
        .timestamp_verification_data
        .as_ref()
        .unwrap()
        .rfc3161_timestamps[0];
    let annotations = BTreeMap::from([
        (
            annotation::SIGNATURE.to_owned(),
            STANDARD.encode(&message.signature),
        ),
        (annotation::CERTIFICATE.to_owned(), leaf_pem(&bundle)),
        (
            annotation::BUNDLE.to_owned(),
            entry_annotation(&material.tlog_entries[0]),
        ),
        (
            annotation::RFC3161_TIMESTAMP.to_owned(),
            timestamp_annotation(&token.signed_timestamp),
        ),
    ]);
    let layer = parse_layer(media_type::SIMPLE_SIGNING, &artifact, &annotations);
    let policy = Policy::Identity(Identity::new(
        Matcher::exact("alexis.challande@trailofbits.com"),
        Matcher::exact("https://accounts.google.com"),
    ));
    let image = Digest::of(b"any image");
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&layer),
            &policy,
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::Image(ImageError::MalformedPayload { .. })),
        "{} stage: {error}",
        error.stage()
    );

    // The bundle stages do see the material: another identity fails the policy, and no
    // certificate annotation is a bundle error.
    let other = Policy::Identity(Identity::new(
        Matcher::exact("someone@example.com"),
        Matcher::exact("https://accounts.google.com"),
    ));
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&layer),
            &other,
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap_err();
    assert_eq!(error.stage(), "policy", "{error}");
    let mut no_cert = annotations.clone();
    no_cert.remove(annotation::CERTIFICATE);
    let layer = parse_layer(media_type::SIMPLE_SIGNING, &artifact, &no_cert);
    let error = verifier
        .verify_image_signature(
            &image,
            ImageSignature::Legacy(&layer),
            &policy,
            &options(TlogRequirement::PromiseOrProof),
        )
        .unwrap_err();
    assert!(
        matches!(error, Error::Bundle(BundleError::MaterialMismatch { .. })),
        "{error:?}"
    );
}
