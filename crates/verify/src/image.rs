//! Container-image signatures in cosign's formats (FORMATS.md §1): the v3 referrer bundle
//! (sigstore/cosign `pkg/cosign/verify.go` GetBundles and its checks) and the legacy `.sig` /
//! `.att` layers (`pkg/cosign/verify.go` verifyInternal, VerifyBundle, VerifyRFC3161Timestamp;
//! `pkg/oci/static/signature.go`), each made into a bundle and verified as any bundle, then
//! bound to the image.
//!
//! Fetching the referrers or layers is the registry client's job; parsing the layer is
//! `waxseal-oci`'s ([`waxseal_oci::LegacySignature`]).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use waxseal_bundle::dsse::Envelope;
use waxseal_bundle::rekor::{InclusionPromise, KindVersion, LogId, TransparencyLogEntry};
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, HashOutput, MessageSignature, PublicKeyIdentifier,
    Rfc3161SignedTimestamp, TimestampVerificationData, VerificationContent, VerificationMaterial,
    X509CertificateChain,
};
use waxseal_crypto::{pem, sha256};
use waxseal_oci::{
    Digest, LegacySignature, MAX_PAYLOAD_SIZE, SimpleSigning, annotation, media_type,
};

use crate::error::{BundleError, Error, ImageError, SignatureError};
use crate::options::VerifyOptions;
use crate::policy::{Artifact, Policy};
use crate::verified::VerifiedBundle;
use crate::verifier::Verifier;

/// One candidate signature of an image, as the registry gave it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum ImageSignature<'a> {
    /// A cosign v3 referrer: the bundle layer's bytes and the referrer manifest's annotations.
    Referrer {
        /// The `application/vnd.dev.sigstore.bundle.v0.3+json` layer's content.
        bundle_json: &'a [u8],
        /// The referrer manifest's annotations (`dev.sigstore.bundle.predicateType`, …).
        annotations: &'a BTreeMap<String, String>,
    },
    /// A legacy `.sig` (simple signing) or `.att` (DSSE) layer.
    Legacy(&'a LegacySignature),
}

/// Which of cosign's formats a verified image signature came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ImageSignatureFormat {
    /// A legacy `.att` layer: a DSSE envelope of an in-toto statement.
    LegacyAttestation,
    /// A legacy `.sig` layer: a simple signing payload.
    LegacySignature,
    /// A cosign v3 referrer: a bundle v0.3 with a DSSE envelope of an in-toto statement.
    Referrer,
}

/// An image signature that verified and is bound to the image.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedImageSignature {
    format: ImageSignatureFormat,
    bundle: VerifiedBundle,
    payload: Vec<u8>,
    simple_signing: Option<SimpleSigning>,
    predicate_type: Option<String>,
}

impl VerifiedImageSignature {
    /// The format it came in.
    pub fn format(&self) -> ImageSignatureFormat {
        self.format
    }

    /// What the underlying bundle's verification proved (signer, times, log entry).
    pub fn bundle(&self) -> &VerifiedBundle {
        &self.bundle
    }

    /// The signed payload: the simple signing bytes of a `.sig` layer, or the in-toto
    /// statement's bytes of an attestation or referrer.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The parsed simple signing payload (`.sig` layers only); its manifest digest is the
    /// image's.
    pub fn simple_signing(&self) -> Option<&SimpleSigning> {
        self.simple_signing.as_ref()
    }

    /// The statement's `predicateType` (attestations and referrers; cosign v3 signatures have
    /// `https://sigstore.dev/cosign/sign/v1`).
    pub fn predicate_type(&self) -> Option<&str> {
        self.predicate_type.as_deref()
    }
}

impl Verifier {
    /// Verifies one signature of the image whose manifest digest is `image`, as cosign does,
    /// then binds it to the image:
    ///
    /// - [`ImageSignature::Referrer`]: the bundle (v0.3 or later, at most
    ///   [`MAX_PAYLOAD_SIZE`] bytes) must hold a DSSE envelope ([`ImageError::NotDsse`]); it is
    ///   verified with [`Verifier::verify_with`] over the image digest, so its in-toto
    ///   statement must have a subject with that sha256 ([`ImageError::SubjectMismatch`]);
    ///   the manifest annotation `dev.sigstore.bundle.predicateType`, when present, must be
    ///   the statement's `predicateType`.
    /// - A legacy `.sig` layer: a v0.1-style bundle is made of the layer — a message signature
    ///   over the payload, the leaf certificate (identity policies; key policies get a key
    ///   hint and the certificate annotation is not used), the Rekor bundle annotation as a log
    ///   entry with only an inclusion promise, the RFC 3161 annotation as a timestamp over the
    ///   signature bytes — and verified over the payload bytes; then the simple signing
    ///   payload must name `image` ([`ImageError::DigestMismatch`]).
    /// - A legacy `.att` layer: the same, with the DSSE envelope (the layer content) as the
    ///   bundle's content, the timestamp over the envelope's bytes (cosign timestamps the
    ///   payload when the signature annotation is empty), and the statement checked as for a
    ///   referrer against the layer's `predicateType` annotation.
    ///
    /// Legacy material has no inclusion proof: with the default [`VerifyOptions`] it fails
    /// with [`BundleError::MissingInclusionProof`]; cosign's rule is
    /// [`TlogRequirement::PromiseOrProof`](crate::TlogRequirement::PromiseOrProof). A layer
    /// without Rekor bundle verifies only under
    /// [`TlogRequirement::InsecureSkip`](crate::TlogRequirement::InsecureSkip).
    ///
    /// # Errors
    ///
    /// [`Error::Image`] for the image checks and malformed layers or referrers; otherwise as
    /// [`Verifier::verify_with`].
    pub fn verify_image_signature(
        &self,
        image: &Digest,
        candidate: ImageSignature<'_>,
        policy: &Policy,
        options: &VerifyOptions,
    ) -> Result<VerifiedImageSignature, Error> {
        match candidate {
            ImageSignature::Referrer {
                bundle_json,
                annotations,
            } => self.verify_referrer(image, bundle_json, annotations, policy, options),
            ImageSignature::Legacy(layer) => match layer.media_type.as_str() {
                media_type::SIMPLE_SIGNING => {
                    self.verify_legacy_signature(image, layer, policy, options)
                }
                media_type::DSSE_ENVELOPE => {
                    self.verify_legacy_attestation(image, layer, policy, options)
                }
                other => Err(ImageError::UnsupportedMediaType {
                    media_type: other.to_owned(),
                }
                .into()),
            },
        }
    }

    fn verify_referrer(
        &self,
        image: &Digest,
        bundle_json: &[u8],
        annotations: &BTreeMap<String, String>,
        policy: &Policy,
        options: &VerifyOptions,
    ) -> Result<VerifiedImageSignature, Error> {
        check_size("referrer bundle", bundle_json.len())?;
        let bundle = Bundle::from_json(bundle_json).map_err(|e| BundleError::Invalid {
            reason: e.to_string(),
        })?;
        if matches!(
            bundle.version(),
            Some(BundleVersion::V0_1 | BundleVersion::V0_2)
        ) {
            return Err(ImageError::BundleVersion {
                media_type: bundle.media_type.clone(),
            }
            .into());
        }
        if !matches!(bundle.content, BundleContent::DsseEnvelope(_)) {
            return Err(ImageError::NotDsse.into());
        }
        let verified = self
            .verify_inner(&bundle, image_artifact(image), policy, options, None)
            .map_err(|e| for_image(e, image))?;
        let (payload, predicate_type) = checked_statement(
            &verified,
            annotations
                .get(annotation::BUNDLE_PREDICATE_TYPE)
                .map(String::as_str),
        )?;
        Ok(VerifiedImageSignature {
            format: ImageSignatureFormat::Referrer,
            bundle: verified,
            payload,
            simple_signing: None,
            predicate_type: Some(predicate_type),
        })
    }

    fn verify_legacy_signature(
        &self,
        image: &Digest,
        layer: &LegacySignature,
        policy: &Policy,
        options: &VerifyOptions,
    ) -> Result<VerifiedImageSignature, Error> {
        check_size("simple signing payload", layer.payload.len())?;
        let content = BundleContent::MessageSignature(MessageSignature::new(
            Some(HashOutput::new("SHA2_256", sha256(&layer.payload))),
            layer.signature.clone(),
        ));
        let bundle = legacy_bundle(layer, content, policy)?;
        let verified = self.verify_inner(
            &bundle,
            Artifact::Bytes(&layer.payload),
            policy,
            options,
            None,
        )?;
        let simple_signing =
            SimpleSigning::parse(&layer.payload).map_err(|e| ImageError::MalformedPayload {
                reason: e.to_string(),
            })?;
        if simple_signing.manifest_digest() != *image {
            return Err(ImageError::DigestMismatch {
                claimed: simple_signing.manifest_digest(),
                image: *image,
            }
            .into());
        }
        Ok(VerifiedImageSignature {
            format: ImageSignatureFormat::LegacySignature,
            bundle: verified,
            payload: layer.payload.clone(),
            simple_signing: Some(simple_signing),
            predicate_type: None,
        })
    }

    fn verify_legacy_attestation(
        &self,
        image: &Digest,
        layer: &LegacySignature,
        policy: &Policy,
        options: &VerifyOptions,
    ) -> Result<VerifiedImageSignature, Error> {
        check_size("DSSE envelope", layer.payload.len())?;
        let envelope =
            Envelope::from_json(&layer.payload).map_err(|e| ImageError::MalformedPayload {
                reason: format!("not a DSSE envelope: {e}"),
            })?;
        let bundle = legacy_bundle(layer, BundleContent::DsseEnvelope(envelope), policy)?;
        // cosign `VerifyRFC3161Timestamp`: with an empty signature annotation (attestations)
        // the timestamp covers the payload, the envelope JSON as stored.
        let verified = self
            .verify_inner(
                &bundle,
                image_artifact(image),
                policy,
                options,
                Some(&layer.payload),
            )
            .map_err(|e| for_image(e, image))?;
        let (payload, predicate_type) =
            checked_statement(&verified, layer.predicate_type.as_deref())?;
        Ok(VerifiedImageSignature {
            format: ImageSignatureFormat::LegacyAttestation,
            bundle: verified,
            payload,
            simple_signing: None,
            predicate_type: Some(predicate_type),
        })
    }
}

fn check_size(what: &'static str, size: usize) -> Result<(), ImageError> {
    if size > MAX_PAYLOAD_SIZE {
        return Err(ImageError::TooLarge {
            what,
            size,
            limit: MAX_PAYLOAD_SIZE,
        });
    }
    Ok(())
}

fn image_artifact(image: &Digest) -> Artifact<'static> {
    Artifact::Sha256(*image.as_bytes())
}

/// A statement without the image among its subjects is a signature for another image: say so
/// in the image stage. (The verifier reports it only after the DSSE signature verified.)
fn for_image(error: Error, image: &Digest) -> Error {
    match error {
        Error::Signature(SignatureError::SubjectMismatch { subjects, .. }) => {
            ImageError::SubjectMismatch {
                image: *image,
                subjects,
            }
            .into()
        }
        other => other,
    }
}

/// The verified statement's bytes and predicate type, which must equal `annotation` when the
/// manifest or layer gives one.
fn checked_statement(
    verified: &VerifiedBundle,
    annotation: Option<&str>,
) -> Result<(Vec<u8>, String), ImageError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Statement {
        predicate_type: String,
    }
    let payload = verified
        .dsse_payload()
        .ok_or_else(|| ImageError::MalformedPayload {
            reason: "no DSSE payload".to_owned(),
        })?;
    let statement: Statement =
        serde_json::from_slice(payload).map_err(|e| ImageError::MalformedPayload {
            reason: format!("in-toto statement: {e}"),
        })?;
    if let Some(annotation) = annotation
        && annotation != statement.predicate_type
    {
        return Err(ImageError::PredicateTypeMismatch {
            annotation: annotation.to_owned(),
            statement: statement.predicate_type,
        });
    }
    Ok((payload.to_vec(), statement.predicate_type))
}

/// The v0.1-style bundle a legacy layer amounts to (as sigstore-go's and cosign's legacy
/// paths read it): `content`, the signer material `policy` needs, the Rekor bundle as a log
/// entry with only an inclusion promise, the RFC 3161 token.
fn legacy_bundle(
    layer: &LegacySignature,
    content: BundleContent,
    policy: &Policy,
) -> Result<Bundle, Error> {
    let signer = match policy {
        Policy::PublicKey(_) => VerificationContent::PublicKey(PublicKeyIdentifier::default()),
        Policy::Identity(_) => {
            let Some(leaf_pem) = layer.certificate_pem.as_deref() else {
                return Err(BundleError::MaterialMismatch {
                    found: "no certificate annotation",
                    expected: "a signing certificate",
                }
                .into());
            };
            let mut chain = pem::decode_all(leaf_pem, "CERTIFICATE").map_err(|e| {
                ImageError::MalformedAnnotation {
                    key: annotation::CERTIFICATE,
                    reason: e.to_string(),
                }
            })?;
            if chain.len() != 1 {
                return Err(ImageError::MalformedAnnotation {
                    key: annotation::CERTIFICATE,
                    reason: format!("{} certificates, expected 1", chain.len()),
                }
                .into());
            }
            // The chain annotation is informational: the trusted root's CAs are the anchors.
            if let Some(rest) = layer.chain_pem.as_deref().filter(|p| !p.trim().is_empty()) {
                chain.extend(pem::decode_all(rest, "CERTIFICATE").map_err(|e| {
                    ImageError::MalformedAnnotation {
                        key: annotation::CHAIN,
                        reason: e.to_string(),
                    }
                })?);
            }
            VerificationContent::X509CertificateChain(X509CertificateChain::new(chain))
        }
    };
    let entries = match &layer.rekor_bundle {
        Some(rekor) => vec![legacy_entry(rekor)?],
        None => Vec::new(),
    };
    let timestamps = layer.rfc3161_timestamp.as_ref().map(|token| {
        TimestampVerificationData::new(vec![Rfc3161SignedTimestamp::new(token.clone())])
    });
    Ok(Bundle::new(
        BundleVersion::V0_1,
        VerificationMaterial::new(signer, entries, timestamps),
        content,
    ))
}

/// cosign's Rekor bundle annotation as a log entry: the body, its kind, the integrated time
/// and the SET (which signs exactly these values, `waxseal_bundle::rekor::set_payload`).
fn legacy_entry(rekor: &waxseal_oci::RekorBundle) -> Result<TransparencyLogEntry, ImageError> {
    let malformed = |reason: String| ImageError::MalformedAnnotation {
        key: annotation::BUNDLE,
        reason,
    };
    let payload = &rekor.payload;
    let log_id = hex::decode(&payload.log_id).map_err(|e| malformed(format!("logID: {e}")))?;
    let body = payload
        .decoded_body()
        .map_err(|e| malformed(e.to_string()))?;
    let value: Value =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("body: {e}")))?;
    let text = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| malformed(format!("body has no {name}")))
    };
    let kind_version = KindVersion::new(text("kind")?, text("apiVersion")?);
    let mut entry =
        TransparencyLogEntry::new(payload.log_index, LogId::new(log_id), kind_version, body);
    entry.integrated_time = Some(payload.integrated_time);
    entry.inclusion_promise = Some(InclusionPromise::new(rekor.signed_entry_timestamp.clone()));
    Ok(entry)
}
