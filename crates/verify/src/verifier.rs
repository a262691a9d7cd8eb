//! The prepared verifier: trusted root material parsed once, then bundles verified against it.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, TimeRange, TrustedRoot, VerificationContent,
};
use waxseal_crypto::{Algorithm, PublicKey, sha256};
use waxseal_x509::{LeafInfo, parse_leaf, verify_sct};

use crate::cert::Cert;
use crate::error::{
    BundleError, CertificateError, Error, InputError, PolicyError, SignatureError, Time, TimeError,
    TimeSource, TlogError, TrustedRootError,
};
use crate::policy::{Artifact, Policy};
use crate::tlog::{self, Expected, Signer};

/// sigstore-python's `MAX_ALLOWED_TIMESTAMP`: more RFC 3161 timestamps than this is refused.
pub const MAX_TIMESTAMPS: usize = 32;
/// sigstore-python's `VERIFIED_TIME_THRESHOLD`: verified times a bundle needs.
pub const VERIFIED_TIME_THRESHOLD: usize = 1;

/// The in-toto payload type DSSE bundles must carry.
const IN_TOTO: &str = "application/vnd.in-toto+json";
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
    /// sigstore-python 4.5 (`Verifier.verify_artifact` / `verify_dsse`), in this order:
    ///
    /// 1. Bundle shape: exactly one log entry of a supported kind, with an inclusion proof and
    ///    checkpoint; an inclusion promise for v0.1; at most 32 distinct RFC 3161 timestamps;
    ///    signer material of the policy's kind.
    /// 2. Verified times: each RFC 3161 timestamp that verifies under a trusted TSA (chain and
    ///    `validFor` at its genTime) — tokens that verify under no TSA are skipped, as in
    ///    sigstore-python, and counted in [`VerifiedBundle::unverified_timestamps`] — and the
    ///    integrated time of a Rekor v1 entry with an inclusion promise (the SET is checked in
    ///    step 5). At least [`VERIFIED_TIME_THRESHOLD`] is required. A bundle with timestamps
    ///    and a root without TSAs is refused.
    /// 3. Certificate (identity policies): the leaf chains to a trusted CA valid at every
    ///    verified time; every embedded SCT (at least one) verifies under a CT log key of the
    ///    root valid at the SCT time; no unknown critical extension; not a CA; KeyUsage
    ///    digitalSignature; ExtendedKeyUsage codeSigning.
    /// 4. Policy: a SAN (email, URI or username) and the OIDC issuer (`.8`, else `.1`) match.
    /// 5. Log entry: its log is in the root; the inclusion proof leads to the proof's root,
    ///    which the checkpoint signed by the log key states for the same size; the SET, when
    ///    present, verifies under the log key (valid at the integrated time).
    /// 6. Every verified time is inside the leaf's validity.
    /// 7. The signature: over the artifact digest (`messageDigest` must match it), or over the
    ///    DSSE PAE with an in-toto payload whose subjects include the artifact's SHA-256.
    /// 8. The entry body names exactly this signature, signer and digest (CVE-2022-36056).
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
        // 1. Shape.
        let version = bundle.version().ok_or_else(|| BundleError::Invalid {
            reason: format!("unsupported media type {:?}", bundle.media_type),
        })?;
        let material = &bundle.verification_material;
        let entry = match material.tlog_entries.as_slice() {
            [entry] => entry,
            entries => {
                return Err(BundleError::TlogEntryCount {
                    count: entries.len(),
                }
                .into());
            }
        };
        let kind = entry.kind_version.kind.as_str();
        let kind_version = entry.kind_version.version.as_str();
        if !matches!(kind, "hashedrekord" | "dsse") || !matches!(kind_version, "0.0.1" | "0.0.2") {
            return Err(BundleError::UnsupportedEntryKind {
                kind: kind.to_owned(),
                version: kind_version.to_owned(),
            }
            .into());
        }
        match &entry.inclusion_proof {
            None => {
                return Err(BundleError::MissingInclusionProof {
                    index: 0,
                    missing: "inclusion proof",
                }
                .into());
            }
            Some(proof)
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
            Some(_) => {}
        }
        if version == BundleVersion::V0_1 && entry.inclusion_promise.is_none() {
            return Err(BundleError::MissingInclusionPromise.into());
        }
        let signature: &[u8] = match &bundle.content {
            BundleContent::MessageSignature(m) => &m.signature,
            BundleContent::DsseEnvelope(envelope) => match envelope.signatures.as_slice() {
                [one] => &one.sig,
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
        let tokens: &[waxseal_bundle::Rfc3161SignedTimestamp] = material
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

        // 2. Verified times.
        if !tokens.is_empty() && self.tsas.is_empty() {
            return Err(TimeError::NoTimestampAuthority.into());
        }
        let mut times = Vec::with_capacity(tokens.len() + 1);
        let mut last_tsa_error = String::new();
        for token in tokens {
            match self.verify_token(&token.signed_timestamp, signature) {
                Ok(time) => times.push(VerifiedTime {
                    source: TimeSource::TimestampAuthority,
                    time: Time(time),
                }),
                Err(reason) => last_tsa_error = reason,
            }
        }
        let unverified_timestamps = tokens.len() - times.len();
        let integrated = match (entry.integrated_time, &entry.inclusion_promise) {
            (Some(t), Some(promise)) if t != 0 => {
                if kind_version != "0.0.1" {
                    return Err(TimeError::IntegratedTimeUnsupported {
                        kind: kind.to_owned(),
                        version: kind_version.to_owned(),
                    }
                    .into());
                }
                let time = unix_time(t);
                times.push(VerifiedTime {
                    source: TimeSource::TransparencyLog,
                    time: Time(time),
                });
                Some((t, promise))
            }
            _ => None,
        };
        if times.len() < VERIFIED_TIME_THRESHOLD {
            return Err(TimeError::NotEnoughVerifiedTimes {
                verified: times.len(),
                required: VERIFIED_TIME_THRESHOLD,
                tokens: tokens.len(),
                detail: if last_tsa_error.is_empty() {
                    String::new()
                } else {
                    format!(": {last_tsa_error}")
                },
            }
            .into());
        }

        // 3. Certificate, and 4. policy.
        let (signer_key, leaf_facts) = match (policy, leaf_der) {
            (Policy::Identity(identity), Some(der)) => {
                let (leaf, validity) = self.check_certificate(der, &times)?;
                let (san, issuer) = check_identity(&leaf, identity)?;
                (leaf.public_key.clone(), Some((san, issuer, validity, der)))
            }
            (Policy::PublicKey(key), _) => (key.clone(), None),
            (Policy::Identity(_), None) => return Err(BundleError::NoCertificate.into()),
        };

        // 5. Log entry.
        let log = self
            .tlogs
            .iter()
            .find(|l| l.log_id == entry.log_id.key_id)
            .ok_or_else(|| TlogError::LogUnknown {
                log_id: hex::encode(&entry.log_id.key_id),
            })?;
        tlog::check_inclusion(entry, &log.log_id, &log.key)?;
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

        // 6. Times inside the leaf's validity.
        if let Some((_, _, (not_before, not_after), _)) = &leaf_facts {
            for t in &times {
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
        }

        // 7. Signature.
        let digest = artifact.sha256();
        let (hashedrekord_digest, dsse_payload_hash) = match &bundle.content {
            BundleContent::MessageSignature(m) => {
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
                let result = match (signer_key.algorithm(), artifact.bytes()) {
                    (Algorithm::Ed25519, Some(bytes)) => signer_key.verify(bytes, signature),
                    (Algorithm::Ed25519, None) => {
                        return Err(InputError::NeedsArtifactBytes {
                            what: "Ed25519 signature",
                        }
                        .into());
                    }
                    _ => signer_key.verify_prehashed(&digest, signature),
                };
                result.map_err(|_| SignatureError::Invalid {
                    what: "message signature",
                    key: signer_key.key_details(),
                    digest: hex::encode(digest),
                })?;
                (digest, None)
            }
            BundleContent::DsseEnvelope(envelope) => {
                if envelope.payload_type != IN_TOTO {
                    return Err(SignatureError::PayloadType {
                        actual: envelope.payload_type.clone(),
                    }
                    .into());
                }
                let pae = envelope.pae();
                signer_key
                    .verify(&pae, signature)
                    .map_err(|_| SignatureError::Invalid {
                        what: "DSSE signature",
                        key: signer_key.key_details(),
                        digest: hex::encode(digest),
                    })?;
                check_subject(&envelope.payload, &digest)?;
                (sha256(&pae), Some(sha256(&envelope.payload)))
            }
            _ => {
                return Err(BundleError::Invalid {
                    reason: "unsupported bundle content".to_owned(),
                }
                .into());
            }
        };

        // 8. Body consistency.
        let signer = match &leaf_facts {
            Some((_, _, _, der)) => Signer::Certificate(der),
            None => Signer::Key(&signer_key),
        };
        tlog::check_body(
            entry,
            &Expected {
                signer,
                signature,
                hashedrekord_digest,
                dsse_payload_hash,
            },
            signer_key.key_details(),
        )?;

        let (identity, issuer, validity) = match leaf_facts {
            Some((san, issuer, validity, _)) => (Some(san), Some(issuer), Some(validity)),
            None => (None, None, None),
        };
        Ok(VerifiedBundle {
            identity,
            issuer,
            certificate_validity: validity.map(|(a, b)| (Time(a), Time(b))),
            times,
            unverified_timestamps,
            log_index: entry.log_index,
            log_id: entry.log_id.key_id.clone(),
            integrated_time: integrated.map(|(t, _)| t),
            artifact_sha256: digest,
        })
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

    /// Step 3: chain, SCTs, profile. Returns the parsed leaf and its validity.
    fn check_certificate(
        &self,
        der: &[u8],
        times: &[VerifiedTime],
    ) -> Result<(LeafInfo, (SystemTime, SystemTime)), Error> {
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
        let validity = (cert.not_before, cert.not_after);
        Ok((leaf, validity))
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
    })
}

/// Step 4.
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
        digest: std::collections::BTreeMap<String, String>,
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

/// A verified time and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedTime {
    source: TimeSource,
    time: Time,
}

impl VerifiedTime {
    /// Where it came from.
    pub fn source(&self) -> TimeSource {
        self.source
    }

    /// The time.
    pub fn time(&self) -> Time {
        self.time
    }
}

/// What a verified bundle proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBundle {
    identity: Option<String>,
    issuer: Option<String>,
    certificate_validity: Option<(Time, Time)>,
    times: Vec<VerifiedTime>,
    unverified_timestamps: usize,
    log_index: i64,
    log_id: Vec<u8>,
    integrated_time: Option<i64>,
    artifact_sha256: [u8; 32],
}

impl VerifiedBundle {
    /// The certificate SAN the policy matched (`None` for key policies).
    pub fn identity(&self) -> Option<&str> {
        self.identity.as_deref()
    }

    /// The certificate's OIDC issuer (`None` for key policies).
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The leaf's notBefore and notAfter.
    pub fn certificate_validity(&self) -> Option<(Time, Time)> {
        self.certificate_validity
    }

    /// The verified times, TSA times first.
    pub fn times(&self) -> &[VerifiedTime] {
        &self.times
    }

    /// The earliest verified time: when the signature existed at the latest.
    pub fn signed_time(&self) -> Option<Time> {
        self.times.iter().map(|t| t.time).min()
    }

    /// RFC 3161 timestamps that verified under no trusted TSA and were skipped (as
    /// sigstore-python skips them); 0 when all verified.
    pub fn unverified_timestamps(&self) -> usize {
        self.unverified_timestamps
    }

    /// The log entry's index.
    pub fn log_index(&self) -> i64 {
        self.log_index
    }

    /// The log's ID.
    pub fn log_id(&self) -> &[u8] {
        &self.log_id
    }

    /// The Rekor v1 integrated time, when a verified SET binds it.
    pub fn integrated_time(&self) -> Option<i64> {
        self.integrated_time
    }

    /// The SHA-256 of the verified artifact.
    pub fn artifact_sha256(&self) -> [u8; 32] {
        self.artifact_sha256
    }
}
