//! Container-image signatures in cosign's formats (`Verifier::verify_image_signature`), built
//! here with in-test keys (a signer, a one-leaf Rekor v1 log with SET and checkpoint, a TSA):
//! legacy `.sig` and `.att` layers and v3 referrer bundles verify and bind the image, and each
//! tampering fails at its stage. Real material is in `oci_legacy`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
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
use waxseal_crypto::{Algorithm, SigningKey, sha256};
use waxseal_oci::{Digest, LegacySignature, SimpleSigning, annotation, media_type};
use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa, TsaKeys};
use waxseal_verify::{
    BundleError, Error, ImageError, ImageSignature, ImageSignatureFormat, Policy, SignatureError,
    TlogError, TlogRequirement, Verifier, VerifyOptions,
};

const IN_TOTO: &str = "application/vnd.in-toto+json";
const COSIGN_SIGN: &str = "https://sigstore.dev/cosign/sign/v1";
const SLSA: &str = "https://slsa.dev/provenance/v1";
const INTEGRATED_TIME: i64 = 1_735_689_600;

pub(crate) fn options(tlog: TlogRequirement) -> VerifyOptions {
    VerifyOptions::default().with_tlog(tlog)
}

/// containers/image's `dir:` form of a layer, which `LegacySignature` reads.
pub(crate) fn layer(
    media_type: &str,
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
) -> Vec<u8> {
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

pub(crate) fn parse_layer(
    media_type: &str,
    payload: &[u8],
    annotations: &BTreeMap<String, String>,
) -> LegacySignature {
    LegacySignature::from_containers_image_file(&layer(media_type, payload, annotations)).unwrap()
}

/// cosign's `dev.sigstore.cosign/bundle` annotation for a Rekor v1 entry.
pub(crate) fn rekor_annotation(
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

pub(crate) fn timestamp_annotation(token: &[u8]) -> String {
    json!({"SignedRFC3161Timestamp": STANDARD.encode(token)}).to_string()
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
