//! The prepared verifier: trusted root material parsed once, then bundles verified against it.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use waxseal_bundle::dsse::Envelope;
use waxseal_bundle::rekor::{InclusionPromise, TransparencyLogEntry};
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, MessageSignature, Rfc3161SignedTimestamp, TimeRange,
    TrustedRoot, VerificationContent,
};
use waxseal_crypto::{Algorithm, PublicKey, sha256};
use waxseal_x509::{LeafInfo, parse_leaf, verify_sct};

use crate::cert::Cert;
use crate::error::{
    BundleError, CertificateError, Error, InputError, PolicyError, SignatureError, Time, TimeError,
    TimeSource, TlogError, TrustedRootError,
};
use crate::options::{TlogRequirement, VerifyOptions};
use crate::policy::{Artifact, Policy};
use crate::tlog::{self, Expected, Signer};
use crate::verified::{VerifiedBundle, VerifiedTime};

/// sigstore-python's `MAX_ALLOWED_TIMESTAMP`: more RFC 3161 timestamps than this is refused.
pub const MAX_TIMESTAMPS: usize = 32;
/// sigstore-python's `VERIFIED_TIME_THRESHOLD`: verified times a bundle needs.
pub const VERIFIED_TIME_THRESHOLD: usize = 1;

/// The in-toto payload type DSSE bundles must carry.
const IN_TOTO: &str = "application/vnd.in-toto+json";
/// Fulcio's OIDC issuer extension (raw bytes), `oid-info.md`.
const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// Fulcio's OIDC issuer extension (DER UTF8String), `oid-info.md`.
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// `id-kp-codeSigning`.
const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";

/// The public-good production trusted root (see `data/README.md` for its provenance).
const PRODUCTION_ROOT: &[u8] = include_bytes!("../data/production_trusted_root.json");

/// A transparency log or CT log key.
#[derive(Debug)]
struct LogKey {
    log_id: Vec<u8>,
    key: PublicKey,
    valid_for: Option<TimeRange>,
}

/// A certificate authority's chain, parsed and internally verified.
#[derive(Debug)]
struct CaChain {
    certs: Vec<Cert>,
    /// Key of the first certificate (the one that issues leaves).
    issuer_key: PublicKey,
    /// SHA-256 of the first certificate's SPKI (RFC 6962 `issuer_key_hash`).
    issuer_key_hash: [u8; 32],
    valid_for: Option<TimeRange>,
    /// The root's `uri` for this CA (may be empty).
    uri: String,
}

impl CaChain {
    /// Whether every certificate of the chain, and the CA's `validFor`, cover `time`.
    fn valid_at(&self, time: SystemTime) -> bool {
        self.certs.iter().all(|c| c.valid_at(time))
            && self.valid_for.as_ref().is_none_or(|v| v.contains(time))
    }
}

/// A timestamp authority's chain (DER, TSA certificate first).
#[derive(Debug)]
struct TsaChain {
    der: Vec<Vec<u8>>,
    valid_for: Option<TimeRange>,
}

/// Verifies Sigstore bundles offline against one trusted root.
///
/// Construction parses and checks every key and certificate of the root once, so one
/// `Verifier` can verify many bundles cheaply (and from many threads: it is `Sync`).
#[derive(Debug)]
pub struct Verifier {
    tlogs: Vec<LogKey>,
    ctlogs: Vec<LogKey>,
    cas: Vec<CaChain>,
    tsas: Vec<TsaChain>,
}

impl Verifier {
    /// Prepares a verifier for `root`.
    ///
    /// # Errors
    ///
    /// [`Error::TrustedRoot`] if a CA chain does not parse, is not
    /// signed certificate by certificate up to a self-signed root, or has a non-CA
    /// certificate, or a TSA chain has fewer than 2 certificates.
    pub fn new(root: &TrustedRoot) -> Result<Self, Error> {
        // A key this verifier cannot use (the staging root still lists an RSA PKCS#1 CT key)
        // is left out, as sigstore-python leaves it out of its keyrings: nothing can verify
        // under it, so anything that needs it fails with an unknown log.
        let log_keys = |logs: &[waxseal_bundle::TransparencyLogInstance]| {
            logs.iter()
                .filter_map(|log| {
                    let key = PublicKey::from_spki_der(&log.public_key.raw_bytes).ok()?;
                    Some(LogKey {
                        log_id: log.log_id.key_id.clone(),
                        key,
                        valid_for: log.public_key.valid_for.clone(),
                    })
                })
                .collect::<Vec<_>>()
        };
        let tlogs = log_keys(&root.tlogs);
        let ctlogs = log_keys(&root.ctlogs);
        let mut cas = Vec::with_capacity(root.certificate_authorities.len());
        for (i, ca) in root.certificate_authorities.iter().enumerate() {
            cas.push(ca_chain(ca, i)?);
        }
        let tsas = root
            .timestamp_authorities
            .iter()
            .map(|tsa| TsaChain {
                der: tsa
                    .cert_chain
                    .certificates
                    .iter()
                    .map(|c| c.raw_bytes.clone())
                    .collect(),
                valid_for: tsa.valid_for.clone(),
            })
            .collect();
        Ok(Self {
            tlogs,
            ctlogs,
            cas,
            tsas,
        })
    }

    /// Prepares a verifier from a trusted root's protobuf JSON.
    ///
    /// # Errors
    ///
    /// [`Error::TrustedRoot`] if it does not parse, then as [`Verifier::new`].
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let root = TrustedRoot::from_json(json).map_err(|e| TrustedRootError::Invalid {
            reason: e.to_string(),
        })?;
        Self::new(&root)
    }

    /// A verifier for the Sigstore public-good instance, from the production trusted root
    /// embedded in this crate (sigstore/root-signing `targets/trusted_root.json`; see
    /// `data/README.md`). It does not update itself: newer keys need a newer waxseal or an
    /// explicit root.
    ///
    /// # Errors
    ///
    /// As [`Verifier::from_json`]; the embedded root is tested to load.
    pub fn production() -> Result<Self, Error> {
        Self::from_json(PRODUCTION_ROOT)
    }

    /// The embedded production trusted root's JSON.
    pub fn production_root_json() -> &'static [u8] {
        PRODUCTION_ROOT
    }

    /// Parses `bundle_json` and verifies it; see [`Verifier::verify`].
    ///
    /// # Errors
    ///
    /// [`Error::Bundle`] if the bundle does not parse, then as [`Verifier::verify`].
    pub fn verify_json(
        &self,
        bundle_json: &[u8],
        artifact: Artifact<'_>,
        policy: &Policy,
    ) -> Result<VerifiedBundle, Error> {
        let bundle = Bundle::from_json(bundle_json).map_err(|e| BundleError::Invalid {
            reason: e.to_string(),
        })?;
        self.verify(&bundle, artifact, policy)
    }

    /// Verifies `bundle` over `artifact` for `policy`, failing closed, with the checks of
    /// sigstore-python 4.5 (`Verifier.verify_artifact` / `verify_dsse`), one stage per step, in
    /// this order (with the default [`VerifyOptions`]; see [`Verifier::verify_with`] for
    /// cosign's weaker log requirements):
    ///
    /// 1. Bundle shape ([`BundleError`]): exactly one log entry of a supported kind
    ///    (`hashedrekord` 0.0.1/0.0.2, `dsse` 0.0.1/0.0.2, `intoto` 0.0.2), with an inclusion
    ///    proof and checkpoint — for every bundle version, v0.1 included: like sigstore-python
    ///    4.5, a v0.1 bundle with only an inclusion promise (SET) and no inclusion proof is
    ///    refused ([`BundleError::MissingInclusionProof`]; sigstore-python's `plumbing
    ///    fix-bundle` fetches the proof) —; an inclusion promise for v0.1; at most 32 distinct
    ///    RFC 3161 timestamps; signer material of the policy's kind.
    /// 2. Verified times ([`TimeError`]): each RFC 3161 timestamp that verifies under a trusted
    ///    TSA (chain and `validFor` at its genTime) — tokens that verify under no TSA are
    ///    skipped, as in sigstore-python, and counted in
    ///    [`VerifiedBundle::unverified_timestamps`] — and the integrated time of a Rekor v1
    ///    entry (0.0.1 kinds, `intoto` 0.0.2) with an inclusion promise (the SET is checked in
    ///    step 5). At least [`VERIFIED_TIME_THRESHOLD`] is required. A bundle with timestamps
    ///    and a root without TSAs is refused.
    /// 3. Certificate (identity policies, [`CertificateError`]): the leaf chains to a trusted
    ///    CA valid at every verified time; every embedded SCT (at least one) verifies under a
    ///    CT log key of the root valid at the SCT time; no unknown critical extension; not a CA;
    ///    KeyUsage digitalSignature; ExtendedKeyUsage codeSigning.
    /// 4. Identity policy ([`PolicyError`]): a SAN (email, URI or username) and the OIDC issuer
    ///    (`.8`, else `.1`) match.
    /// 5. Log entry ([`TlogError`]): its log is in the root; the inclusion proof leads to the
    ///    proof's root, which the checkpoint signed by the log key states for the same size;
    ///    the SET, when present, verifies under the log key (valid at the integrated time).
    /// 6. Validity ([`CertificateError::Expired`]): every verified time is inside the leaf's
    ///    validity.
    /// 7. The signature ([`SignatureError`]): over the artifact digest (`messageDigest` must
    ///    match it), or over the DSSE PAE with an in-toto payload whose subjects include the
    ///    artifact's SHA-256.
    /// 8. Body consistency ([`TlogError::BodyMismatch`]): the entry body names exactly this
    ///    signature, signer and digest (CVE-2022-36056).
    ///
    /// # Errors
    ///
    /// The first failing check, as the [`Error`] variant of its stage.
    pub fn verify(
        &self,
        bundle: &Bundle,
        artifact: Artifact<'_>,
        policy: &Policy,
    ) -> Result<VerifiedBundle, Error> {
        self.verify_with(bundle, artifact, policy, &VerifyOptions::default())
    }

    /// Verifies `bundle` as [`Verifier::verify`] does, with `options`. Only stage 1 (what the
    /// log entry must carry) and stage 2 (whether a verified time is needed) depend on them:
    ///
    /// - [`TlogRequirement::Proof`] (the default) is [`Verifier::verify`].
    /// - [`TlogRequirement::PromiseOrProof`]: an entry without an inclusion proof is accepted
    ///   when it has an inclusion promise (SET) and an integrated time; the SET must then verify
    ///   in stage 5. An entry with a proof is checked as under `Proof`, SET included.
    /// - [`TlogRequirement::InsecureSkip`]: the bundle may have no log entry (stages 5 and 8 are
    ///   then skipped); an entry present is checked as under `PromiseOrProof`. With a key
    ///   policy, no entry and no RFC 3161 timestamps, no verified time is required.
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`].
    pub fn verify_with(
        &self,
        bundle: &Bundle,
        artifact: Artifact<'_>,
        policy: &Policy,
        options: &VerifyOptions,
    ) -> Result<VerifiedBundle, Error> {
        self.verify_inner(bundle, artifact, policy, options, None)
    }

    /// The verification itself. `timestamped` is what RFC 3161 tokens must cover when it is
    /// not the signature (cosign's legacy `.att` layers timestamp the envelope JSON).
    pub(crate) fn verify_inner(
        &self,
        bundle: &Bundle,
        artifact: Artifact<'_>,
        policy: &Policy,
        options: &VerifyOptions,
        timestamped: Option<&[u8]>,
    ) -> Result<VerifiedBundle, Error> {
        let mut shape = check_shape(bundle, policy, options)?;
        if let Some(bytes) = timestamped {
            shape.timestamped = bytes;
        }
        let times = self.verified_times(&shape, policy)?;
        let leaf = match shape.leaf_der {
            Some(der) => Some(self.check_certificate(der, &times.times)?),
            None => None,
        };
        let signer = check_policy(policy, leaf.as_ref())?;
        if let Some(entry) = shape.entry {
            self.check_log_entry(entry, times.integrated)?;
        }
        check_validity(leaf.as_ref(), &times.times)?;
        let signed = check_signature(&shape, &signer.key, artifact)?;
        check_body_consistency(&shape, leaf.as_ref(), &signer.key, &signed)?;
        Ok(VerifiedBundle::new(shape, times, leaf, signer, signed))
    }

    /// Stage 2: the RFC 3161 times that verify, and the integrated time a SET will bind.
    fn verified_times<'a>(&self, shape: &Shape<'a>, policy: &Policy) -> Result<Times<'a>, Error> {
        let tokens = shape.tokens;
        if !tokens.is_empty() && self.tsas.is_empty() {
            return Err(TimeError::NoTimestampAuthority.into());
        }
        let mut times = Vec::with_capacity(tokens.len() + 1);
        let mut last_tsa_error = String::new();
        for token in tokens {
            match self.verify_token(&token.signed_timestamp, shape.timestamped) {
                Ok(time) => times.push(VerifiedTime {
                    source: TimeSource::TimestampAuthority,
                    time: Time(time),
                }),
                Err(reason) => last_tsa_error = reason,
            }
        }
        let verified_timestamps = times.len();
        let integrated = match shape
            .entry
            .map(|entry| (entry, entry.integrated_time, &entry.inclusion_promise))
        {
            Some((entry, Some(t), Some(promise))) if t != 0 => {
                let kind = &entry.kind_version;
                if !is_rekor_v1_kind(&kind.kind, &kind.version) {
                    return Err(TimeError::IntegratedTimeUnsupported {
                        kind: kind.kind.clone(),
                        version: kind.version.clone(),
                    }
                    .into());
                }
                times.push(VerifiedTime {
                    source: TimeSource::TransparencyLog,
                    time: Time(unix_time(t)),
                });
                Some((t, promise))
            }
            _ => None,
        };
        // Keys have no validity period: a key-signed bundle without log entry (InsecureSkip)
        // and without timestamps needs no time.
        let required =
            if shape.entry.is_none() && tokens.is_empty() && matches!(policy, Policy::PublicKey(_))
            {
                0
            } else {
                VERIFIED_TIME_THRESHOLD
            };
        if times.len() < required {
            return Err(TimeError::NotEnoughVerifiedTimes {
                verified: times.len(),
                required,
                tokens: tokens.len(),
                detail: if last_tsa_error.is_empty() {
                    String::new()
                } else {
                    format!(": {last_tsa_error}")
                },
            }
            .into());
        }
        Ok(Times {
            times,
            verified_timestamps,
            unverified_timestamps: tokens.len() - verified_timestamps,
            integrated,
        })
    }

    /// Stage 5: the entry's log, its inclusion proof and checkpoint (when it has one: stage 1
    /// let an entry without one through only with a promise, under `PromiseOrProof`), and the
    /// SET.
    fn check_log_entry(
        &self,
        entry: &TransparencyLogEntry,
        integrated: Option<(i64, &InclusionPromise)>,
    ) -> Result<(), Error> {
        let log = self
            .tlogs
            .iter()
            .find(|l| l.log_id == entry.log_id.key_id)
            .ok_or_else(|| TlogError::LogUnknown {
                log_id: hex::encode(&entry.log_id.key_id),
            })?;
        match (&entry.inclusion_proof, integrated) {
            (Some(_), _) => tlog::check_inclusion(entry, &log.log_id, &log.key)?,
            (None, Some(_)) => {}
            (None, None) => {
                return Err(BundleError::MissingInclusionProof {
                    index: 0,
                    missing: "inclusion proof or inclusion promise",
                }
                .into());
            }
        }
        if let Some((t, promise)) = integrated {
            let time = unix_time(t);
            if log.valid_for.as_ref().is_some_and(|v| !v.contains(time)) {
                return Err(TlogError::LogKeyExpired {
                    log_id: hex::encode(&log.log_id),
                    time: Time(time),
                }
                .into());
            }
            let log_id: [u8; 32] =
                log.log_id
                    .as_slice()
                    .try_into()
                    .map_err(|_| TlogError::LogUnknown {
                        log_id: hex::encode(&log.log_id),
                    })?;
            tlog::check_set(entry, &log_id, t, &promise.signed_entry_timestamp, &log.key)?;
        }
        Ok(())
    }

    /// Verifies one RFC 3161 token over `signature` under any trusted TSA, returning genTime.
    fn verify_token(&self, token: &[u8], signature: &[u8]) -> Result<SystemTime, String> {
        let mut reason = String::from("no timestamp authority verified it");
        for tsa in &self.tsas {
            if tsa.der.len() < 2 {
                reason = "TSA chain has fewer than 2 certificates".to_owned();
                continue;
            }
            let chain: Vec<&[u8]> = tsa.der.iter().map(Vec::as_slice).collect();
            match waxseal_tsa::verify_timestamp(token, signature, &chain) {
                Ok(verified) => {
                    let time = verified.gen_time();
                    if tsa.valid_for.as_ref().is_none_or(|v| v.contains(time)) {
                        return Ok(time);
                    }
                    reason = format!("genTime {} is outside the TSA's validFor", Time(time));
                }
                Err(e) => reason = e.to_string(),
            }
        }
        Err(reason)
    }

    /// Stage 3: chain, SCTs, profile. Returns the parsed leaf, its validity and its CA.
    fn check_certificate<'a>(
        &self,
        der: &'a [u8],
        times: &[VerifiedTime],
    ) -> Result<CheckedLeaf<'a>, Error> {
        let malformed = |reason: String| CertificateError::Malformed { reason };
        let cert = Cert::parse(der).map_err(malformed)?;
        let leaf = parse_leaf(der).map_err(|e| malformed(e.to_string()))?;
        if let Some(oid) = cert.unknown_critical.first() {
            return Err(CertificateError::UnknownCriticalExtension { oid: oid.clone() }.into());
        }
        if leaf.is_ca || cert.is_ca {
            return Err(CertificateError::CaLeaf.into());
        }
        // The issuing CAs whose first certificate signed this leaf (time-independent).
        let mut signature_error = String::new();
        let issuers: Vec<&CaChain> = self
            .cas
            .iter()
            .filter(|ca| cert.issued_by_name(&ca.certs[0]))
            .filter(|ca| match cert.verify_signed_by(&ca.issuer_key) {
                Ok(()) => true,
                Err(e) => {
                    signature_error = format!(": signature under the CA key: {e}");
                    false
                }
            })
            .collect();
        let mut detail = if issuers.is_empty() {
            signature_error
        } else {
            String::new()
        };
        let mut issuer = None;
        for t in times {
            let found = issuers.iter().find(|ca| ca.valid_at(t.time.0));
            match found {
                Some(ca) if cert.valid_at(t.time.0) => issuer = Some(*ca),
                _ => {
                    if !issuers.is_empty() && detail.is_empty() {
                        detail = ": the leaf or its CA is not valid at that time".to_owned();
                    }
                    return Err(CertificateError::Untrusted {
                        issuer: cert.issuer_text(),
                        time_source: t.source,
                        time: t.time,
                        detail,
                    }
                    .into());
                }
            }
        }
        let Some(issuer) = issuer else {
            return Err(CertificateError::Untrusted {
                issuer: cert.issuer_text(),
                time_source: TimeSource::TransparencyLog,
                time: Time(SystemTime::UNIX_EPOCH),
                detail: ": no verified time".to_owned(),
            }
            .into());
        };
        if leaf.scts.is_empty() {
            return Err(CertificateError::SctMissing.into());
        }
        for sct in &leaf.scts {
            let log_id = hex::encode(sct.log_id());
            let ct = self
                .ctlogs
                .iter()
                .find(|l| l.log_id == sct.log_id())
                .ok_or_else(|| CertificateError::SctLogUnknown {
                    log_id: log_id.clone(),
                })?;
            let sct_time = SystemTime::UNIX_EPOCH + Duration::from_millis(sct.timestamp());
            if ct.valid_for.as_ref().is_some_and(|v| !v.contains(sct_time)) {
                return Err(CertificateError::SctInvalid {
                    log_id,
                    reason: format!(
                        "the CT log key is not valid at the SCT time {}",
                        Time(sct_time)
                    ),
                }
                .into());
            }
            verify_sct(sct, &ct.key, &issuer.issuer_key_hash, &leaf.precert_tbs).map_err(|e| {
                CertificateError::SctInvalid {
                    log_id,
                    reason: e.to_string(),
                }
            })?;
        }
        if !leaf.digital_signature {
            return Err(CertificateError::DigitalSignatureMissing.into());
        }
        if !leaf.extended_key_usage.iter().any(|e| e == CODE_SIGNING) {
            return Err(CertificateError::CodeSigningMissing {
                actual: leaf.extended_key_usage.clone(),
            }
            .into());
        }
        Ok(CheckedLeaf {
            info: leaf,
            der,
            validity: (cert.not_before, cert.not_after),
            ca_uri: Some(issuer.uri.clone()).filter(|u| !u.is_empty()),
        })
    }
}

/// Parses a CA's chain and checks it: each certificate a CA signed by the next, the last
/// self-signed.
fn ca_chain(ca: &waxseal_bundle::CertificateAuthority, i: usize) -> Result<CaChain, Error> {
    let field = |j: usize| format!("certificateAuthorities[{i}].certChain.certificates[{j}]");
    let bad = |j: usize, reason: String| TrustedRootError::Certificate {
        field: field(j),
        reason,
    };
    let certs = ca
        .cert_chain
        .certificates
        .iter()
        .enumerate()
        .map(|(j, c)| Cert::parse(&c.raw_bytes).map_err(|e| bad(j, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = certs.first() else {
        return Err(bad(0, "the chain is empty".to_owned()).into());
    };
    let mut keys = Vec::with_capacity(certs.len());
    for (j, c) in certs.iter().enumerate() {
        if !c.is_ca || !c.may_sign_certificates {
            return Err(bad(
                j,
                "not a CA certificate (BasicConstraints cA, keyCertSign)".to_owned(),
            )
            .into());
        }
        keys.push(PublicKey::from_spki_der(c.spki()).map_err(|e| bad(j, e.to_string()))?);
    }
    for j in 0..certs.len() {
        let (issuer, key) = match certs.get(j + 1) {
            Some(next) => (next, &keys[j + 1]),
            None => (&certs[j], &keys[j]),
        };
        if !certs[j].issued_by_name(issuer) {
            return Err(bad(
                j,
                "its issuer is not the next certificate's subject".to_owned(),
            )
            .into());
        }
        if j + 1 == certs.len() && !certs[j].is_self_issued() {
            return Err(bad(j, "the last certificate is not self-signed".to_owned()).into());
        }
        certs[j]
            .verify_signed_by(key)
            .map_err(|e| bad(j, format!("signature: {e}")))?;
    }
    Ok(CaChain {
        issuer_key_hash: sha256(first.spki()),
        issuer_key: keys.swap_remove(0),
        certs,
        valid_for: ca.valid_for.clone(),
        uri: ca.uri.clone(),
    })
}

/// Stage 1's result: the bundle's parts in the shapes later stages need.
struct Shape<'a> {
    /// The one log entry (`None` only under `InsecureSkip`).
    entry: Option<&'a TransparencyLogEntry>,
    /// The message signature, or the DSSE envelope's one signature.
    signature: &'a [u8],
    /// What RFC 3161 tokens cover: the signature, unless the caller says otherwise.
    timestamped: &'a [u8],
    content: Content<'a>,
    tokens: &'a [Rfc3161SignedTimestamp],
    /// The leaf certificate, DER (identity policies only).
    leaf_der: Option<&'a [u8]>,
}

/// What was signed.
enum Content<'a> {
    Message(&'a MessageSignature),
    Dsse(&'a Envelope),
}

/// Stage 2's result.
struct Times<'a> {
    times: Vec<VerifiedTime>,
    verified_timestamps: usize,
    unverified_timestamps: usize,
    /// The integrated time and the promise (SET) that must bind it in stage 5.
    integrated: Option<(i64, &'a InclusionPromise)>,
}

/// Stage 3's result: a leaf that chains to a trusted CA.
struct CheckedLeaf<'a> {
    info: LeafInfo,
    der: &'a [u8],
    validity: (SystemTime, SystemTime),
    /// The `uri` of the CA that issued it (`None` when the root gives none).
    ca_uri: Option<String>,
}

/// Stage 4's result: the key that must have signed, and the identity that matched.
struct CheckedSigner {
    key: PublicKey,
    /// The matched SAN and the issuer (identity policies only).
    identity: Option<(String, String)>,
}

/// Stage 7's result: the digests the log entry body must name.
struct CheckedSignature {
    artifact_sha256: [u8; 32],
    /// The digest a `hashedrekord` entry signs: the artifact's, or the DSSE PAE's.
    hashedrekord_digest: [u8; 32],
    /// SHA-256 of the DSSE payload.
    dsse_payload_hash: Option<[u8; 32]>,
}

/// The log entry kinds verification supports.
fn is_supported_kind(kind: &str, version: &str) -> bool {
    matches!(
        (kind, version),
        ("hashedrekord" | "dsse", "0.0.1" | "0.0.2") | ("intoto", "0.0.2")
    )
}

/// Kinds that Rekor v1 logs (which have integrated times): the 0.0.1 kinds and `intoto` 0.0.2.
fn is_rekor_v1_kind(kind: &str, version: &str) -> bool {
    version == "0.0.1" || (kind == "intoto" && version == "0.0.2")
}

/// Stage 1: the bundle has what verification needs, and the signer material the policy's kind
/// needs.
fn check_shape<'a>(
    bundle: &'a Bundle,
    policy: &Policy,
    options: &VerifyOptions,
) -> Result<Shape<'a>, Error> {
    let version = bundle.version().ok_or_else(|| BundleError::Invalid {
        reason: format!("unsupported media type {:?}", bundle.media_type),
    })?;
    let material = &bundle.verification_material;
    let entry = match (material.tlog_entries.as_slice(), options.tlog) {
        ([entry], _) => Some(entry),
        ([], TlogRequirement::InsecureSkip) => None,
        (entries, _) => {
            return Err(BundleError::TlogEntryCount {
                count: entries.len(),
            }
            .into());
        }
    };
    if let Some(entry) = entry {
        check_entry_shape(entry, version, options.tlog)?;
    }
    let (signature, content): (&[u8], _) = match &bundle.content {
        BundleContent::MessageSignature(m) => (&m.signature, Content::Message(m)),
        BundleContent::DsseEnvelope(envelope) => match envelope.signatures.as_slice() {
            [one] => (&one.sig, Content::Dsse(envelope)),
            other => {
                return Err(BundleError::DsseSignatureCount { count: other.len() }.into());
            }
        },
        _ => {
            return Err(BundleError::Invalid {
                reason: "unsupported bundle content".to_owned(),
            }
            .into());
        }
    };
    let tokens: &[Rfc3161SignedTimestamp] = material
        .timestamp_verification_data
        .as_ref()
        .map(|t| t.rfc3161_timestamps.as_slice())
        .unwrap_or_default();
    if tokens.len() > MAX_TIMESTAMPS {
        return Err(BundleError::TooManyTimestamps {
            count: tokens.len(),
            max: MAX_TIMESTAMPS,
        }
        .into());
    }
    for (second, token) in tokens.iter().enumerate() {
        if let Some(first) = tokens[..second].iter().position(|t| t == token) {
            return Err(BundleError::DuplicateTimestamp { first, second }.into());
        }
    }
    let leaf_der: Option<&[u8]> = match (policy, &material.content) {
        (Policy::Identity(_), VerificationContent::Certificate(c)) => Some(&c.raw_bytes),
        (Policy::Identity(_), VerificationContent::X509CertificateChain(chain)) => {
            match chain.certificates.first() {
                Some(c) => Some(&c.raw_bytes),
                None => return Err(BundleError::NoCertificate.into()),
            }
        }
        (Policy::Identity(_), _) => {
            return Err(BundleError::MaterialMismatch {
                found: "a public key hint",
                expected: "a signing certificate",
            }
            .into());
        }
        (Policy::PublicKey(_), VerificationContent::PublicKey(_)) => None,
        (Policy::PublicKey(_), _) => {
            return Err(BundleError::MaterialMismatch {
                found: "a certificate",
                expected: "a public key hint (the policy names a key)",
            }
            .into());
        }
    };
    Ok(Shape {
        entry,
        signature,
        timestamped: signature,
        content,
        tokens,
        leaf_der,
    })
}

/// Stage 1 for the log entry: a supported kind, and the proof (or, as `tlog` allows, promise)
/// it must carry.
fn check_entry_shape(
    entry: &TransparencyLogEntry,
    version: BundleVersion,
    tlog: TlogRequirement,
) -> Result<(), Error> {
    let kind = entry.kind_version.kind.as_str();
    let kind_version = entry.kind_version.version.as_str();
    if !is_supported_kind(kind, kind_version) {
        return Err(BundleError::UnsupportedEntryKind {
            kind: kind.to_owned(),
            version: kind_version.to_owned(),
        }
        .into());
    }
    // sigstore-python 4.5 (`TransparencyLogEntry._validate`) requires the proof and its
    // checkpoint for every bundle version, v0.1 included: a SET alone is not enough. cosign
    // (`PromiseOrProof`) accepts a SET with the integrated time it signs.
    match (&entry.inclusion_proof, tlog) {
        (Some(proof), _)
            if proof
                .checkpoint
                .as_ref()
                .is_none_or(|c| c.envelope.is_empty()) =>
        {
            return Err(BundleError::MissingInclusionProof {
                index: 0,
                missing: "checkpoint",
            }
            .into());
        }
        (Some(_), _) => {}
        (None, TlogRequirement::Proof) => {
            return Err(BundleError::MissingInclusionProof {
                index: 0,
                missing: "inclusion proof",
            }
            .into());
        }
        (None, TlogRequirement::PromiseOrProof | TlogRequirement::InsecureSkip) => {
            let promised =
                entry.inclusion_promise.is_some() && entry.integrated_time.is_some_and(|t| t != 0);
            if !promised {
                return Err(BundleError::MissingInclusionProof {
                    index: 0,
                    missing: "inclusion proof or inclusion promise (SET) with an integrated time",
                }
                .into());
            }
        }
    }
    if version == BundleVersion::V0_1 && entry.inclusion_promise.is_none() {
        return Err(BundleError::MissingInclusionPromise.into());
    }
    Ok(())
}

/// Stage 4: the identity policy against the checked leaf, or the policy's key.
fn check_policy(policy: &Policy, leaf: Option<&CheckedLeaf<'_>>) -> Result<CheckedSigner, Error> {
    match (policy, leaf) {
        (Policy::Identity(identity), Some(leaf)) => Ok(CheckedSigner {
            key: leaf.info.public_key.clone(),
            identity: Some(check_identity(&leaf.info, identity)?),
        }),
        (Policy::PublicKey(key), _) => Ok(CheckedSigner {
            key: key.clone(),
            identity: None,
        }),
        (Policy::Identity(_), None) => Err(BundleError::NoCertificate.into()),
    }
}

/// Stage 6: every verified time inside the leaf's validity (inclusive, RFC 5280 §4.1.2.5).
fn check_validity(leaf: Option<&CheckedLeaf<'_>>, times: &[VerifiedTime]) -> Result<(), Error> {
    let Some(CheckedLeaf {
        validity: (not_before, not_after),
        ..
    }) = leaf
    else {
        return Ok(());
    };
    for t in times {
        if !(*not_before <= t.time.0 && t.time.0 <= *not_after) {
            return Err(CertificateError::Expired {
                time_source: t.source,
                time: t.time,
                not_before: Time(*not_before),
                not_after: Time(*not_after),
            }
            .into());
        }
    }
    Ok(())
}

/// Stage 7: the signature over the artifact, or over the DSSE PAE of an in-toto statement
/// about the artifact.
fn check_signature(
    shape: &Shape<'_>,
    key: &PublicKey,
    artifact: Artifact<'_>,
) -> Result<CheckedSignature, Error> {
    let digest = artifact.sha256();
    let signature = shape.signature;
    match shape.content {
        Content::Message(m) => {
            if let Some(declared) = &m.message_digest
                && (declared.algorithm != "SHA2_256" || declared.digest != digest)
            {
                return Err(SignatureError::DigestMismatch {
                    algorithm: declared.algorithm.clone(),
                    declared: hex::encode(&declared.digest),
                    actual: hex::encode(digest),
                }
                .into());
            }
            let result = match (key.algorithm(), artifact.bytes()) {
                (Algorithm::Ed25519, Some(bytes)) => key.verify(bytes, signature),
                (Algorithm::Ed25519, None) => {
                    return Err(InputError::NeedsArtifactBytes {
                        what: "Ed25519 signature",
                    }
                    .into());
                }
                _ => key.verify_prehashed(&digest, signature),
            };
            result.map_err(|_| SignatureError::Invalid {
                what: "message signature",
                key: key.key_details(),
                digest: hex::encode(digest),
            })?;
            Ok(CheckedSignature {
                artifact_sha256: digest,
                hashedrekord_digest: digest,
                dsse_payload_hash: None,
            })
        }
        Content::Dsse(envelope) => {
            if envelope.payload_type != IN_TOTO {
                return Err(SignatureError::PayloadType {
                    actual: envelope.payload_type.clone(),
                }
                .into());
            }
            let pae = envelope.pae();
            key.verify(&pae, signature)
                .map_err(|_| SignatureError::Invalid {
                    what: "DSSE signature",
                    key: key.key_details(),
                    digest: hex::encode(digest),
                })?;
            check_subject(&envelope.payload, &digest)?;
            Ok(CheckedSignature {
                artifact_sha256: digest,
                hashedrekord_digest: sha256(&pae),
                dsse_payload_hash: Some(sha256(&envelope.payload)),
            })
        }
    }
}

/// Stage 8: the entry body names this signature, signer and digest (CVE-2022-36056).
fn check_body_consistency(
    shape: &Shape<'_>,
    leaf: Option<&CheckedLeaf<'_>>,
    key: &PublicKey,
    signed: &CheckedSignature,
) -> Result<(), Error> {
    let signer = match leaf {
        Some(leaf) => Signer::Certificate(leaf.der),
        None => Signer::Key(key),
    };
    let envelope = match shape.content {
        Content::Dsse(envelope) => Some(envelope),
        Content::Message(_) => None,
    };
    let Some(entry) = shape.entry else {
        return Ok(());
    };
    tlog::check_body(
        entry,
        &Expected {
            signer,
            signature: shape.signature,
            hashedrekord_digest: signed.hashedrekord_digest,
            dsse_payload_hash: signed.dsse_payload_hash,
            envelope,
        },
        key.key_details(),
    )?;
    Ok(())
}

/// The leaf's `1.3.6.1.4.1.57264.1.*` extensions, issuer ones (`.1`, `.8`) included.
fn fulcio_extensions(leaf: &LeafInfo) -> BTreeMap<String, String> {
    let mut extensions = leaf.sigstore_extensions.clone();
    if let Some(issuer) = &leaf.issuer_v1 {
        extensions.insert(OID_ISSUER_V1.to_owned(), issuer.clone());
    }
    if let Some(issuer) = &leaf.issuer_v2 {
        extensions.insert(OID_ISSUER_V2.to_owned(), issuer.clone());
    }
    extensions
}

/// Stage 4's identity check: the OIDC issuer, then a SAN.
fn check_identity(
    leaf: &LeafInfo,
    identity: &crate::Identity,
) -> Result<(String, String), PolicyError> {
    let issuer = leaf.oidc_issuer().ok_or(PolicyError::IssuerMissing)?;
    if !identity.issuer().matches(issuer) {
        return Err(PolicyError::IssuerMismatch {
            expected: identity.issuer().to_string(),
            actual: issuer.to_owned(),
        });
    }
    let san = leaf
        .san
        .iter()
        .map(|s| s.value())
        .find(|v| identity.san().matches(v))
        .ok_or_else(|| PolicyError::IdentityMismatch {
            expected: identity.san().to_string(),
            actual: leaf.san.iter().map(|s| s.value().to_owned()).collect(),
        })?;
    Ok((san.to_owned(), issuer.to_owned()))
}

/// The in-toto statement must have a subject with the artifact's SHA-256.
fn check_subject(payload: &[u8], digest: &[u8; 32]) -> Result<(), SignatureError> {
    #[derive(Deserialize)]
    struct Statement {
        #[serde(default)]
        subject: Vec<Subject>,
    }
    #[derive(Deserialize)]
    struct Subject {
        #[serde(default)]
        digest: BTreeMap<String, String>,
    }
    let statement: Statement =
        serde_json::from_slice(payload).map_err(|e| SignatureError::Statement {
            reason: e.to_string(),
        })?;
    let want = hex::encode(digest);
    let subjects: Vec<String> = statement
        .subject
        .iter()
        .filter_map(|s| s.digest.get("sha256").map(|d| d.to_ascii_lowercase()))
        .collect();
    if subjects.contains(&want) {
        Ok(())
    } else {
        Err(SignatureError::SubjectMismatch {
            digest: want,
            subjects,
        })
    }
}

fn unix_time(seconds: i64) -> SystemTime {
    if seconds >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
    }
}

impl VerifiedBundle {
    fn new(
        shape: Shape<'_>,
        times: Times<'_>,
        leaf: Option<CheckedLeaf<'_>>,
        signer: CheckedSigner,
        signed: CheckedSignature,
    ) -> Self {
        let (identity, issuer) = signer.identity.unzip();
        let dsse = match shape.content {
            Content::Dsse(envelope) => {
                Some((envelope.payload_type.clone(), envelope.payload.clone()))
            }
            Content::Message(_) => None,
        };
        let entry = shape.entry;
        Self {
            identity,
            issuer,
            sans: leaf.as_ref().map_or_else(Vec::new, |l| {
                l.info.san.iter().map(|s| s.value().to_owned()).collect()
            }),
            certificate_extensions: leaf
                .as_ref()
                .map_or_else(BTreeMap::new, |l| fulcio_extensions(&l.info)),
            certificate_der: leaf.as_ref().map(|l| l.der.to_vec()),
            certificate_validity: leaf
                .as_ref()
                .map(|l| (Time(l.validity.0), Time(l.validity.1))),
            certificate_authority_uri: leaf.and_then(|l| l.ca_uri),
            signer_spki_der: signer.key.spki_der().to_vec(),
            signature: shape.signature.to_vec(),
            dsse,
            times: times.times,
            rfc3161_timestamps: times.verified_timestamps,
            unverified_timestamps: times.unverified_timestamps,
            log_entry: entry.is_some(),
            inclusion_proof: entry.is_some_and(|e| e.inclusion_proof.is_some()),
            log_index: entry.map_or(0, |e| e.log_index),
            log_id: entry.map(|e| e.log_id.key_id.clone()).unwrap_or_default(),
            tlog_kind: entry.map_or_else(Default::default, |e| {
                (e.kind_version.kind.clone(), e.kind_version.version.clone())
            }),
            integrated_time: times.integrated.map(|(t, _)| t),
            artifact_sha256: signed.artifact_sha256,
        }
    }
}
