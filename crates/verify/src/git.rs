//! git commit and tag signatures made by gitsign (or waxseal), verified offline: the CMS
//! checks gitsign makes (`internal/gitsign/gitsign.go`, `docs/verification.md`), then the
//! signature made into a bundle and verified as any bundle (chain, SCT, log entry, time,
//! identity policy).
//!
//! Trust notes. The signingTime attribute is the signer's clock and is never used as a
//! verified time: the log's integrated time (Rekor v1 SET) or an RFC 3161 timestamp is. In
//! online mode the log entry is a separate `hashedrekord` over the SHA-256 of the commit id
//! (its 40 or 64 hex digits), signed by the same certificate; it is bound to the signature by
//! the certificate and to the object by its id (gitsign `internal/rekor/rekor.go` `Get`
//! searches for exactly that digest and certificate).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use waxseal_bundle::rekor::{self, TransparencyLogEntry};
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, HashOutput, MessageSignature, Rfc3161SignedTimestamp,
    TimestampVerificationData, VerificationContent, VerificationMaterial, X509Certificate,
};
use waxseal_crypto::{pem, sha1, sha256};
use waxseal_git::{GitSignature, Mode};

use crate::error::Error;
use crate::options::VerifyOptions;
use crate::policy::{Artifact, Policy};
use crate::verified::VerifiedBundle;
use crate::verifier::Verifier;

/// id-data, the contentType gitsign signs (RFC 5652 §4).
const ID_DATA: &str = "1.2.840.113549.1.7.1";

/// A git signature that failed a git-specific check, before or around bundle verification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GitError {
    /// The signed contentType is not id-data.
    #[error("signed contentType is {actual}, expected id-data ({ID_DATA})")]
    ContentType {
        /// The dotted OID signed.
        actual: String,
    },
    /// A given log entry's body cannot be read.
    #[error("the log entry's body is not a hashedrekord body: {reason}")]
    EntryBody {
        /// What is wrong with it.
        reason: String,
    },
    /// A given log entry is neither over the signed attributes nor over the object id.
    #[error(
        "the log entry is not for this signature: its hashedrekord digest is {actual}, \
         expected sha256 of the signed attributes ({attributes}) or of the object id \
         ({object_id})"
    )]
    EntryMismatch {
        /// The entry's digest, hex.
        actual: String,
        /// SHA-256 of the signed attributes, hex.
        attributes: String,
        /// SHA-256 of the object id, hex.
        object_id: String,
    },
    /// The signature bytes do not parse (armor, DER, layout, embedded protobuf).
    #[error("{0}")]
    Format(#[from] waxseal_git::Error),
    /// The object id given is not 40 or 64 lowercase hex digits.
    #[error("{value:?} is not a git object id (40 or 64 lowercase hex digits)")]
    InvalidObjectId {
        /// The text given.
        value: String,
    },
    /// messageDigest is not the SHA-256 of the payload: the object changed after signing.
    #[error(
        "message digest mismatch: the signature's messageDigest is sha256 {signed}, but the \
         payload's sha256 is {payload}"
    )]
    MessageDigestMismatch {
        /// The signed messageDigest, hex.
        signed: String,
        /// SHA-256 of the payload, hex.
        payload: String,
    },
    /// gitsign's online mode: no entry is embedded, so only a log search can find it.
    #[error(
        "online-mode gitsign signature: it embeds no transparency log entry, so verifying it \
         needs an online transparency-log lookup (a Rekor search for the object id and the \
         certificate)"
    )]
    OnlineLookupRequired,
    /// The CMS signature does not verify under the signer certificate's key.
    #[error(
        "the CMS signature over the signed attributes does not verify under the signer certificate's {key} key"
    )]
    SignatureInvalid {
        /// The key's `PublicKeyDetails` name.
        key: &'static str,
    },
    /// The signer certificate's key cannot be read.
    #[error("the signer certificate is unusable: {reason}")]
    SignerCertificate {
        /// The parser's message.
        reason: String,
    },
    /// The embedded entry is of a kind gitsign does not log.
    #[error(
        "the embedded log entry is {kind} {version}; only hashedrekord 0.0.1 (Rekor v1) and \
         0.0.2 (Rekor v2) are supported"
    )]
    UnsupportedEntryKind {
        /// The kind.
        kind: String,
        /// The version.
        version: String,
    },
    /// The Jan-2023 pre-release per-field attribute layout.
    #[error(
        "unsupported pre-release gitsign format: the log entry is stored as per-field \
         attributes 1.3.6.1.4.1.57264.3.0-3.8 (gitsign before v0.6); re-sign with a current \
         gitsign or waxseal"
    )]
    UnsupportedLegacyFormat,
}

/// Which evidence a verified git signature rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GitLogEvidence {
    /// The entry embedded in the signature (gitsign offline mode, waxseal).
    Embedded,
    /// An entry over the signed attributes, supplied by the caller.
    SuppliedOverAttributes,
    /// An entry over the object id, supplied by the caller (gitsign online mode).
    SuppliedOverObjectId,
}

/// A git signature that verified: the signer, its certificate, and the bundle facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedGitSignature {
    identity: String,
    issuer: String,
    certificate_der: Vec<u8>,
    signing_time: Option<i64>,
    evidence: GitLogEvidence,
    bundle: VerifiedBundle,
}

impl VerifiedGitSignature {
    /// The certificate SAN the identity policy matched.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The certificate's OIDC issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The signer certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// SHA-1 of the certificate: the fingerprint gpgsm and gitsign report to git (`GOODSIG`,
    /// `VALIDSIG`; git's `%GF`, `%GK`).
    pub fn certificate_sha1(&self) -> [u8; 20] {
        sha1(&self.certificate_der)
    }

    /// SHA-256 of the certificate.
    pub fn certificate_sha256(&self) -> [u8; 32] {
        sha256(&self.certificate_der)
    }

    /// The log entry's index.
    pub fn log_index(&self) -> i64 {
        self.bundle.log_index()
    }

    /// The Rekor v1 integrated time bound by a verified SET (`None` for Rekor v2 entries,
    /// whose time comes from an RFC 3161 timestamp: [`VerifiedBundle::signed_time`]).
    pub fn integrated_time(&self) -> Option<i64> {
        self.bundle.integrated_time()
    }

    /// The signingTime attribute: the signer's clock, unverified.
    pub fn signing_time(&self) -> Option<i64> {
        self.signing_time
    }

    /// The log evidence it rests on.
    pub fn evidence(&self) -> GitLogEvidence {
        self.evidence
    }

    /// Everything the bundle verification proved (times, log entry, certificate extensions).
    pub fn bundle(&self) -> &VerifiedBundle {
        &self.bundle
    }
}

/// Verifies a gitsign-style signature over `payload` (a commit or tag without its signature,
/// [`waxseal_git::SignedObject::payload`]); `signature` is armored or DER.
///
/// The checks, in gitsign's order: messageDigest = SHA-256(payload)
/// ([`GitError::MessageDigestMismatch`]), contentType id-data, the ECDSA signature over the
/// DER `SET` of signed attributes under the signer certificate (chosen by issuer and serial
/// number); then the log evidence: an offline signature's embedded entry gets its canonical
/// body rebuilt (`hashedrekord` 0.0.1: SHA-256 of the signed attributes, the signature, the
/// leaf PEM; 0.0.2: the same digest, signature and DER certificate), and a bundle v0.3 of the
/// signature, the leaf, that entry and the RFC 3161 token (over the signature) is verified
/// over the signed attributes with [`Verifier::verify_with`] and the default options: chain
/// and SCT, inclusion proof and checkpoint (and SET), the verified time inside the
/// certificate's validity, and `policy`.
///
/// # Errors
///
/// [`Error::Git`] with [`GitError::OnlineLookupRequired`] for online-mode signatures (see
/// [`verify_git_signature_with_entry`]), [`GitError::UnsupportedLegacyFormat`] for the
/// Jan-2023 layout, the other [`GitError`]s as above; then as [`Verifier::verify_with`].
pub fn verify_git_signature(
    verifier: &Verifier,
    payload: &[u8],
    signature: &[u8],
    policy: &Policy,
) -> Result<VerifiedGitSignature, Error> {
    let parsed = check_cms(payload, signature)?;
    let entry = match parsed.mode() {
        Mode::LegacyPerFieldOids => return Err(GitError::UnsupportedLegacyFormat.into()),
        Mode::Offline => parsed.log_entry().ok_or(GitError::OnlineLookupRequired)?,
        _ => return Err(GitError::OnlineLookupRequired.into()),
    };
    let mut entry = entry.clone();
    entry.canonicalized_body = rebuilt_body(&parsed, &entry)?;
    verify_over_attributes(verifier, &parsed, entry, policy, GitLogEvidence::Embedded)
}

/// Verifies a signature as [`verify_git_signature`] does, with a log entry the caller found
/// (for online-mode signatures, by a Rekor search for SHA-256 of `object_id` and the
/// certificate's key); `object_id` is the commit's or tag's id (`git rev-parse`, 40 or 64
/// lowercase hex digits).
///
/// The entry must be a `hashedrekord` either over the signed attributes with the CMS
/// signature (an offline-style entry; an empty body is rebuilt), or, as gitsign's online mode
/// logs it, over SHA-256 of the object id's hex text with a signature by the same
/// certificate. Either way the entry is verified as a bundle with the signer certificate
/// (inclusion proof, checkpoint, SET, time in the certificate's validity, `policy`), and its
/// body must name that certificate.
///
/// # Errors
///
/// [`GitError::InvalidObjectId`], [`GitError::EntryBody`], [`GitError::EntryMismatch`],
/// [`GitError::UnsupportedLegacyFormat`], then as [`verify_git_signature`].
pub fn verify_git_signature_with_entry(
    verifier: &Verifier,
    payload: &[u8],
    signature: &[u8],
    object_id: &str,
    entry: &TransparencyLogEntry,
    policy: &Policy,
) -> Result<VerifiedGitSignature, Error> {
    let valid_id = matches!(object_id.len(), 40 | 64)
        && object_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !valid_id {
        return Err(GitError::InvalidObjectId {
            value: object_id.to_owned(),
        }
        .into());
    }
    let parsed = check_cms(payload, signature)?;
    if parsed.mode() == Mode::LegacyPerFieldOids {
        return Err(GitError::UnsupportedLegacyFormat.into());
    }
    let mut entry = entry.clone();
    if entry.canonicalized_body.is_empty() {
        entry.canonicalized_body = rebuilt_body(&parsed, &entry)?;
    }
    let logged = logged_hashedrekord(&entry)?;
    let attributes_digest = sha256(parsed.signed_attributes());
    let object_digest = sha256(object_id.as_bytes());
    if logged.digest == attributes_digest {
        return verify_over_attributes(
            verifier,
            &parsed,
            entry,
            policy,
            GitLogEvidence::SuppliedOverAttributes,
        );
    }
    if logged.digest != object_digest {
        return Err(GitError::EntryMismatch {
            actual: hex::encode(&logged.digest),
            attributes: hex::encode(attributes_digest),
            object_id: hex::encode(object_digest),
        }
        .into());
    }
    // gitsign online mode: the entry's own signature over the object id, by the same leaf.
    let bundle = bundle_of(
        parsed.signer_certificate(),
        object_digest,
        logged.signature,
        entry,
        None,
    );
    let verified = verifier.verify_with(
        &bundle,
        Artifact::Bytes(object_id.as_bytes()),
        policy,
        &VerifyOptions::default(),
    )?;
    finish(&parsed, verified, GitLogEvidence::SuppliedOverObjectId)
}

/// The CMS checks before any log evidence: parse, messageDigest, contentType, signature.
fn check_cms(payload: &[u8], signature: &[u8]) -> Result<GitSignature, Error> {
    let parsed = GitSignature::parse(signature).map_err(GitError::from)?;
    let digest = sha256(payload);
    if parsed.message_digest() != digest {
        return Err(GitError::MessageDigestMismatch {
            signed: hex::encode(parsed.message_digest()),
            payload: hex::encode(digest),
        }
        .into());
    }
    if parsed.content_type() != ID_DATA {
        return Err(GitError::ContentType {
            actual: parsed.content_type().to_owned(),
        }
        .into());
    }
    let leaf = waxseal_x509::parse_leaf(parsed.signer_certificate()).map_err(|e| {
        GitError::SignerCertificate {
            reason: e.to_string(),
        }
    })?;
    let key = &leaf.public_key;
    key.verify_prehashed(&sha256(parsed.signed_attributes()), parsed.signature())
        .map_err(|_| GitError::SignatureInvalid {
            key: key.key_details(),
        })?;
    Ok(parsed)
}

/// Verifies the bundle of the CMS signature over its signed attributes with `entry`.
fn verify_over_attributes(
    verifier: &Verifier,
    parsed: &GitSignature,
    entry: TransparencyLogEntry,
    policy: &Policy,
    evidence: GitLogEvidence,
) -> Result<VerifiedGitSignature, Error> {
    let bundle = bundle_of(
        parsed.signer_certificate(),
        sha256(parsed.signed_attributes()),
        parsed.signature().to_vec(),
        entry,
        parsed.timestamp_token(),
    );
    let verified = verifier.verify_with(
        &bundle,
        Artifact::Bytes(parsed.signed_attributes()),
        policy,
        &VerifyOptions::default(),
    )?;
    finish(parsed, verified, evidence)
}

fn finish(
    parsed: &GitSignature,
    bundle: VerifiedBundle,
    evidence: GitLogEvidence,
) -> Result<VerifiedGitSignature, Error> {
    let (Some(identity), Some(issuer)) = (bundle.identity(), bundle.issuer()) else {
        // A key policy verified a certificate-carrying bundle: not a keyless git signature.
        return Err(crate::error::BundleError::MaterialMismatch {
            found: "a signing certificate",
            expected: "an identity policy",
        }
        .into());
    };
    Ok(VerifiedGitSignature {
        identity: identity.to_owned(),
        issuer: issuer.to_owned(),
        certificate_der: parsed.signer_certificate().to_vec(),
        signing_time: parsed.signing_time(),
        evidence,
        bundle,
    })
}

/// A bundle v0.3 of a message signature over `digest` by `leaf`, with `entry` and `token`.
fn bundle_of(
    leaf: &[u8],
    digest: [u8; 32],
    signature: Vec<u8>,
    entry: TransparencyLogEntry,
    token: Option<&[u8]>,
) -> Bundle {
    let timestamps = token
        .map(|t| TimestampVerificationData::new(vec![Rfc3161SignedTimestamp::new(t.to_vec())]));
    Bundle::new(
        BundleVersion::V0_3,
        VerificationMaterial::new(
            VerificationContent::Certificate(X509Certificate::new(leaf.to_vec())),
            vec![entry],
            timestamps,
        ),
        BundleContent::MessageSignature(MessageSignature::new(
            Some(HashOutput::new("SHA2_256", digest.to_vec())),
            signature,
        )),
    )
}

/// The canonical body gitsign left out, rebuilt as the log canonicalized it: `hashedrekord`
/// 0.0.1 (Rekor v1 `types.CanonicalizeEntry`: the digest hex, the signature and the leaf PEM
/// base64 — 64-column lines, final newline, as Go's `pem.Encode`) or 0.0.2 (rekor-tiles:
/// the digest and signature base64, the DER certificate with its `keyDetails`).
fn rebuilt_body(parsed: &GitSignature, entry: &TransparencyLogEntry) -> Result<Vec<u8>, Error> {
    let kind = &entry.kind_version;
    let digest = sha256(parsed.signed_attributes());
    let signature = STANDARD.encode(parsed.signature());
    let leaf = parsed.signer_certificate();
    let (request, v2) = match (kind.kind.as_str(), kind.version.as_str()) {
        ("hashedrekord", "0.0.1") => (
            serde_json::json!({
                "apiVersion": "0.0.1",
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                    "signature": {
                        "content": signature,
                        "publicKey": {
                            "content": STANDARD.encode(pem::encode(pem::CERTIFICATE, leaf)),
                        },
                    },
                },
            }),
            false,
        ),
        ("hashedrekord", "0.0.2") => {
            let key = waxseal_x509::parse_leaf(leaf).map_err(|e| GitError::SignerCertificate {
                reason: e.to_string(),
            })?;
            (
                serde_json::json!({
                    "hashedRekordRequestV002": {
                        "digest": STANDARD.encode(digest),
                        "signature": {
                            "content": signature,
                            "verifier": {
                                "keyDetails": key.public_key.key_details(),
                                "x509Certificate": {"rawBytes": STANDARD.encode(leaf)},
                            },
                        },
                    },
                }),
                true,
            )
        }
        (kind, version) => {
            return Err(GitError::UnsupportedEntryKind {
                kind: kind.to_owned(),
                version: version.to_owned(),
            }
            .into());
        }
    };
    let request = request.to_string();
    let validated = if v2 {
        rekor::validate_v2(request.as_bytes())
    } else {
        rekor::validate_v1(request.as_bytes())
    };
    // The signature was checked already, so validation fails only on an unusable key.
    validated
        .map(rekor::ValidatedEntry::into_canonical_body)
        .map_err(|e| {
            GitError::SignerCertificate {
                reason: e.to_string(),
            }
            .into()
        })
}

/// The digest and signature a `hashedrekord` body logs.
struct Logged {
    digest: Vec<u8>,
    signature: Vec<u8>,
}

fn logged_hashedrekord(entry: &TransparencyLogEntry) -> Result<Logged, Error> {
    let bad = |reason: &str| -> Error {
        GitError::EntryBody {
            reason: reason.to_owned(),
        }
        .into()
    };
    let body: Value = serde_json::from_slice(&entry.canonicalized_body)
        .map_err(|e| bad(&format!("not JSON: {e}")))?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let b64 = |v: Option<String>, what: &str| {
        v.and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| bad(&format!("{what} is absent or not base64")))
    };
    match (
        body.get("kind").and_then(Value::as_str),
        body.get("apiVersion").and_then(Value::as_str),
    ) {
        (Some("hashedrekord"), Some("0.0.1")) => {
            let spec = body.get("spec");
            let value = text(
                spec.and_then(|s| s.pointer("/data/hash/value"))
                    .filter(|_| {
                        spec.and_then(|s| s.pointer("/data/hash/algorithm"))
                            .and_then(Value::as_str)
                            == Some("sha256")
                    }),
            )
            .ok_or_else(|| bad("spec.data.hash is not a sha256 value"))?;
            Ok(Logged {
                digest: hex::decode(value).map_err(|_| bad("spec.data.hash.value is not hex"))?,
                signature: b64(
                    text(spec.and_then(|s| s.pointer("/signature/content"))),
                    "spec.signature.content",
                )?,
            })
        }
        (Some("hashedrekord"), Some("0.0.2")) => {
            let spec = body.pointer("/spec/hashedRekordV002");
            Ok(Logged {
                digest: b64(
                    text(spec.and_then(|s| s.pointer("/data/digest"))),
                    "spec.hashedRekordV002.data.digest",
                )?,
                signature: b64(
                    text(spec.and_then(|s| s.pointer("/signature/content"))),
                    "spec.hashedRekordV002.signature.content",
                )?,
            })
        }
        _ => Err(bad("kind/apiVersion is not hashedrekord 0.0.1 or 0.0.2")),
    }
}
