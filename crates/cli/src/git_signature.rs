//! Signing a git payload in gitsign's offline layout and checking a signed object against an
//! identity policy: the glue between git, `waxseal-client`, `waxseal-git` and
//! `waxseal-verify` shared by the `gpg.x509.program` mode and `waxseal git verify`.
//!
//! Signing: signed attributes (contentType, signingTime, messageDigest = SHA-256 of the
//! payload) → the client's keyless sign flow over their DER `SET` (`Content::Artifact`: the
//! Rekor v1 `hashedrekord` is over SHA-256 of the attributes, the RFC 3161 timestamp over the
//! signature) → the CMS SignedData from the bundle's certificate, signature, log entry and
//! timestamp.
//!
//! Checking: the signature is verified offline with the certificate's own identity, and only
//! then is the identity compared with the policy, so that a valid signature by another signer
//! is reported as such (`TRUST_UNDEFINED`, `%G?` = `U`), not as a bad one.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use waxseal_bundle::rekor::TransparencyLogEntry;
use waxseal_bundle::{BundleContent, MessageSignature, VerificationContent};
use waxseal_client::{Client, Content, Credential, Instance};
use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_git::status::{self, ErrorCode};
use waxseal_git::{Ident, ObjectKind, SignedObject};
use waxseal_verify::{Error, GitError, Matcher, Policy, VerifiedGitSignature, Verifier};

use crate::git::GitConfig;
use crate::git_policy::{GitPolicy, Signer};

pub(crate) use waxseal_git::status::Trust;

/// A new signature: the armored block for stdout and the status lines for git.
#[derive(Debug)]
pub(crate) struct Signed {
    /// `-----BEGIN SIGNED MESSAGE-----` … (what git stores).
    pub(crate) armor: String,
    /// `BEGIN_SIGNING` and `SIG_CREATED`.
    pub(crate) status: String,
}

/// The outcome of checking one signed object.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The object carries a signature.
    pub(crate) signed: bool,
    /// The signature verified (digest, CMS signature, chain, log entry, time).
    pub(crate) valid: bool,
    /// Its log entry verified.
    pub(crate) logged: bool,
    /// The verified signer (certificate SAN).
    pub(crate) identity: Option<String>,
    /// The verified signer's OIDC issuer.
    pub(crate) issuer: Option<String>,
    /// The policy authority that allowed the signer.
    pub(crate) allowed_by: Option<String>,
    /// Why it does not pass.
    pub(crate) reason: Option<String>,
    /// The trust level reported to git.
    pub(crate) trust: Trust,
    /// The gpg status lines for git.
    pub(crate) status: String,
}

impl Checked {
    fn failed(signed: bool, reason: String, status: String) -> Self {
        Self {
            signed,
            valid: false,
            logged: false,
            identity: None,
            issuer: None,
            allowed_by: None,
            reason: Some(reason),
            trust: Trust::Never,
            status,
        }
    }

    /// Passes the gate: valid and allowed by the policy.
    pub(crate) fn pass(&self) -> bool {
        self.valid && self.trust == Trust::Fully
    }

    /// What git shows the user (`git verify-commit`, `log --show-signature`).
    pub(crate) fn human(&self) -> String {
        match (&self.identity, &self.issuer, self.valid) {
            (Some(identity), Some(issuer), true) => {
                let verdict = match (&self.allowed_by, &self.reason) {
                    (Some(rule), _) => format!("allowed by {rule}"),
                    (None, Some(reason)) => format!("NOT allowed: {reason}"),
                    (None, None) => "no identity policy is configured (waxseal.identity, \
                                     waxseal.issuer or waxseal.policy)"
                        .to_owned(),
                };
                format!("waxseal: Good signature from {identity} ({issuer})\nwaxseal: {verdict}\n")
            }
            _ => format!(
                "waxseal: BAD or unverifiable signature: {}\n",
                self.reason.as_deref().unwrap_or("unknown reason")
            ),
        }
    }
}

/// A current-thread runtime for the client's async calls.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")
}

fn unix_now() -> Result<i64> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the clock is before 1970")?;
    i64::try_from(now.as_secs()).context("the clock is past 2262")
}

/// Signs `payload` (what git pipes to the program) on the configured instance.
pub(crate) fn sign(config: &GitConfig, payload: &[u8]) -> Result<Signed> {
    let instance = crate::git_program::instance(config)?;
    let now = unix_now()?;
    let attributes = waxseal_git::signed_attributes(payload, now)
        .context("couldn't make the signed attributes")?;
    let socket = crate::git_program::cache_socket(config);
    let signed = runtime()?.block_on(async {
        let client = Client::new()?;
        let credential = match &socket {
            Some(socket) => cached_credential(&client, &instance, config, socket).await?,
            None => Credential::IdentityToken(
                crate::git_token::token(&client, &instance, config).await?,
            ),
        };
        client
            .sign(
                &instance,
                &credential,
                &Content::Artifact(attributes.clone()),
            )
            .await
            .context("couldn't sign on the instance")
    })?;
    let bundle = signed.bundle;
    let material = &bundle.verification_material;
    let certificate = match &material.content {
        VerificationContent::Certificate(c) => c.raw_bytes.clone(),
        VerificationContent::X509CertificateChain(chain) => chain
            .certificates
            .first()
            .map(|c| c.raw_bytes.clone())
            .context("the bundle's certificate chain is empty")?,
        _ => bail!("the instance signed without a certificate"),
    };
    let BundleContent::MessageSignature(message) = &bundle.content else {
        bail!("the instance returned a DSSE bundle for a message signature");
    };
    let entry = material
        .tlog_entries
        .first()
        .context("the bundle has no log entry")?;
    let timestamp = material
        .timestamp_verification_data
        .as_ref()
        .and_then(|t| t.rfc3161_timestamps.first())
        .map(|t| t.signed_timestamp.as_slice());
    let der = waxseal_git::build(
        &certificate,
        &attributes,
        &message.signature,
        Some(entry),
        timestamp,
    )
    .context("couldn't build the CMS signature")?;
    let fingerprint = hex::encode(waxseal_crypto::sha1(&certificate));
    Ok(Signed {
        armor: waxseal_git::armor::armor(&der),
        status: status::sign_status(&fingerprint, now),
    })
}

/// The credential cache's key and certificate, or a new pair (handed to the cache) when it
/// holds none that is still usable.
async fn cached_credential(
    client: &Client,
    instance: &Instance,
    config: &GitConfig,
    socket: &std::path::Path,
) -> Result<Credential> {
    let cached = match crate::git_agent::fetch(socket) {
        Ok(cached) => cached,
        Err(e) => {
            // git shows this only when signing fails; sign without the cache.
            eprintln!("waxseal: warning: {e:#}; signing without the credential cache");
            let token = crate::git_token::token(client, instance, config).await?;
            return Ok(Credential::IdentityToken(token));
        }
    };
    if let Some(cached) = cached {
        let key = SigningKey::from_pkcs8_der(&cached.key_pkcs8)
            .context("the credential cache handed out an unusable key")?;
        let certificate_der = cached
            .chain
            .into_iter()
            .next()
            .context("the credential cache handed out no certificate")?;
        return Ok(Credential::Certified {
            key,
            certificate_der,
        });
    }
    let token = crate::git_token::token(client, instance, config).await?;
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't make a key")?;
    let leaf = client
        .certificate(instance, &token, &key)
        .await
        .context("couldn't get a signing certificate")?;
    let not_after = waxseal_x509::parse_leaf(&leaf)
        .context("the CA's certificate is unreadable")?
        .not_after
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let cached = crate::git_agent::Cached {
        key_pkcs8: key.to_pkcs8_der(),
        chain: vec![leaf.clone()],
        not_after,
    };
    if let Err(e) = crate::git_agent::store(socket, &cached) {
        eprintln!("waxseal: warning: {e:#}; the next signing asks for a new certificate");
    }
    Ok(Credential::Certified {
        key,
        certificate_der: leaf,
    })
}

/// The first line of the object's message (for reports).
pub(crate) fn message_subject(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let body = text.split_once("\n\n").map_or("", |(_, body)| body);
    body.lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("-----BEGIN"))
        .unwrap_or("")
        .chars()
        .take(72)
        .collect()
}

/// Any certificate identity: the signature is checked first, the policy after.
fn any_identity() -> Result<Policy> {
    Ok(Policy::Identity(waxseal_verify::Identity::new(
        Matcher::regex("identity", ".*")?,
        Matcher::regex("issuer", ".*")?,
    )))
}

/// Checks a raw commit or tag (`git cat-file --batch` bytes) with object id `id`; `rekor`
/// looks up online-mode signatures.
pub(crate) fn check(
    verifier: &Verifier,
    kind: &str,
    id: &str,
    raw: &[u8],
    policy: &GitPolicy,
    rekor: Option<&str>,
) -> Checked {
    let parsed = match kind {
        "tag" => SignedObject::parse_tag(raw),
        _ => SignedObject::parse_commit(raw),
    };
    let object = match parsed {
        Ok(Some(object)) => object,
        Ok(None) => {
            return Checked::failed(false, format!("{kind} {id} is not signed"), String::new());
        }
        Err(e) => return Checked::failed(false, format!("{kind} {id}: {e}"), String::new()),
    };
    let author = author_email(object.kind(), object.payload());
    let mut checked = check_signed(
        verifier,
        object.payload(),
        object.signature(),
        Some(policy),
        author.as_deref(),
        Some((id, rekor)),
    );
    if let Some(reason) = &mut checked.reason {
        *reason = format!("{kind} {id}: {reason}");
    }
    checked
}

/// The author's (commit) or tagger's (tag) email.
fn author_email(kind: ObjectKind, payload: &[u8]) -> Option<String> {
    let ident = match kind {
        ObjectKind::Tag => Ident::tagger(payload),
        _ => Ident::author(payload),
    };
    ident.ok().map(|i| i.email)
}

/// Checks a payload and signature as git hands them to `--verify`.
pub(crate) fn check_payload(
    verifier: &Verifier,
    payload: &[u8],
    signature: &[u8],
    policy: Option<&GitPolicy>,
) -> Checked {
    let kind = if payload.starts_with(b"object ") {
        ObjectKind::Tag
    } else {
        ObjectKind::Commit
    };
    let author = author_email(kind, payload);
    check_signed(
        verifier,
        payload,
        signature,
        policy,
        author.as_deref(),
        None,
    )
}

fn check_signed(
    verifier: &Verifier,
    payload: &[u8],
    signature: &[u8],
    policy: Option<&GitPolicy>,
    author: Option<&str>,
    lookup: Option<(&str, Option<&str>)>,
) -> Checked {
    let any = match any_identity() {
        Ok(any) => any,
        Err(e) => return Checked::failed(true, format!("{e:#}"), String::new()),
    };
    let mut result = waxseal_verify::verify_git_signature(verifier, payload, signature, &any);
    if let (Err(Error::Git(GitError::OnlineLookupRequired)), Some((id, Some(rekor)))) =
        (&result, lookup)
    {
        result = match online_entries(rekor, id) {
            // The first entry that verifies; else the last entry's failure.
            Ok(entries) => entries
                .iter()
                .map(|entry| {
                    waxseal_verify::verify_git_signature_with_entry(
                        verifier, payload, signature, id, entry, &any,
                    )
                })
                .reduce(|found, next| found.or(next))
                .unwrap_or(result),
            Err(e) => {
                return Checked::failed(
                    true,
                    format!("online Rekor lookup at {rekor} failed: {e:#}"),
                    status::error_status(None, 0, ErrorCode::MissingKey),
                );
            }
        };
    }
    match result {
        Ok(verified) => allowed(&verified, policy, author),
        Err(e) => {
            let code = match &e {
                Error::Git(GitError::OnlineLookupRequired) => Some(ErrorCode::MissingKey),
                Error::Git(GitError::UnsupportedLegacyFormat) => {
                    Some(ErrorCode::UnsupportedAlgorithm)
                }
                _ => None,
            };
            let status = match code {
                Some(code) => status::error_status(None, 0, code),
                None => status::bad_status("-", "unverified"),
            };
            Checked::failed(true, format!("{e}"), status)
        }
    }
}

/// Applies the policy to a verified signature.
fn allowed(
    verified: &VerifiedGitSignature,
    policy: Option<&GitPolicy>,
    author: Option<&str>,
) -> Checked {
    let sans = verified.bundle().sans().to_vec();
    let signer = Signer {
        identity: verified.identity(),
        issuer: verified.issuer(),
        sans: &sans,
        author_email: author,
    };
    let (allowed_by, reason) = match policy.map(|p| p.allow(&signer)) {
        Some(Ok(rule)) => (Some(rule.to_owned()), None),
        Some(Err(reason)) => (None, Some(reason)),
        None => (
            None,
            Some(
                "no identity policy is configured (waxseal.identity/issuer or waxseal.policy)"
                    .to_owned(),
            ),
        ),
    };
    let trust = if allowed_by.is_some() {
        Trust::Fully
    } else {
        Trust::Undefined
    };
    let fingerprint = hex::encode(verified.certificate_sha1());
    let created = verified
        .integrated_time()
        .or_else(|| verified.bundle().signed_time().map(|t| t.unix_seconds()))
        .unwrap_or(0);
    let status = status::good_status(&fingerprint, verified.identity(), created, trust);
    Checked {
        signed: true,
        valid: true,
        logged: true,
        identity: Some(verified.identity().to_owned()),
        issuer: Some(verified.issuer().to_owned()),
        allowed_by,
        reason,
        trust,
        status,
    }
}

/// gitsign's online mode: the Rekor v1 entries over SHA-256 of the object id's hex text
/// (`POST /api/v1/index/retrieve`, then `GET /api/v1/log/entries/{uuid}` for each).
fn online_entries(rekor: &str, id: &str) -> Result<Vec<TransparencyLogEntry>> {
    let base = rekor.trim_end_matches('/');
    let hash = hex::encode(waxseal_crypto::sha256(id.as_bytes()));
    runtime()?.block_on(async {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .context("couldn't set up the HTTP client")?;
        let url = format!("{base}/api/v1/index/retrieve");
        let uuids: Vec<String> = http
            .post(&url)
            .json(&serde_json::json!({ "hash": format!("sha256:{hash}") }))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("couldn't search {url}"))?
            .json()
            .await
            .with_context(|| format!("{url} answered no list of entry UUIDs"))?;
        let mut entries = Vec::new();
        let mut last = None;
        for uuid in uuids {
            let url = format!("{base}/api/v1/log/entries/{uuid}");
            let body = http
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .with_context(|| format!("couldn't fetch {url}"))?
                .bytes()
                .await
                .with_context(|| format!("couldn't read {url}"))?;
            let content = BundleContent::MessageSignature(MessageSignature::new(None, Vec::new()));
            match waxseal_bundle::Bundle::from_rekor_entry(content, Vec::new(), &body) {
                Ok(bundle) => entries.extend(bundle.verification_material.tlog_entries),
                Err(e) => last = Some(format!("{url}: {e}")),
            }
        }
        if !entries.is_empty() {
            return Ok(entries);
        }
        bail!(
            "no usable entry for sha256 {hash} of the object id{}",
            last.map(|l| format!(" ({l})")).unwrap_or_default()
        )
    })
}
