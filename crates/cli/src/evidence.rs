//! Reading signature material from files, and turning verified bundles into the facts the
//! attestation checks and the policy engine work on.
//!
//! A bundle file may hold one Sigstore bundle (v0.1–v0.3), a JSON Lines file of bundles (as
//! slsa-github-generator and GitHub write `*.intoto.jsonl`), npm's `{"attestations": [{
//! "predicateType", "bundle"}]}`, or bare DSSE envelopes, which become bundles with the Rekor
//! entry given beside them (`--rekor-entry`, the JSON `GET /api/v1/log/entries/{uuid}`
//! answers: legacy cosign attestations are logged as `intoto` 0.0.2 entries).

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;
use waxseal_bundle::{Bundle, BundleContent, Document};
use waxseal_crypto::sha256;
use waxseal_policy::{AttestationFact, SignatureFact};
use waxseal_verify::VerifiedBundle;

/// One bundle read from a file, with where it came from (for messages).
#[derive(Debug)]
pub(crate) struct Candidate {
    /// `FILE` or `FILE:LINE`.
    pub(crate) source: String,
    /// The bundle.
    pub(crate) bundle: Bundle,
}

/// Reads every bundle in `path`; bare DSSE envelopes need `rekor_entry` (one Rekor v1 log
/// entry JSON, used for every envelope of the file).
pub(crate) fn read_bundles(path: &Path, rekor_entry: Option<&Path>) -> Result<Vec<Candidate>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("couldn't read bundle {}", path.display()))?;
    let entry = match rekor_entry {
        Some(p) => Some(
            std::fs::read(p)
                .with_context(|| format!("couldn't read the Rekor entry {}", p.display()))?,
        ),
        None => None,
    };
    let name = path.display().to_string();
    // One JSON document, or JSON Lines.
    let documents: Vec<(String, Value)> = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => vec![(name.clone(), value)],
        Err(whole) => {
            let text = std::str::from_utf8(&bytes)
                .with_context(|| format!("{name} is neither JSON nor JSON Lines (not UTF-8)"))?;
            let mut documents = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value = serde_json::from_str(line).with_context(|| {
                    format!(
                        "{name} is neither one JSON document ({whole}) nor JSON Lines: line {}",
                        i + 1
                    )
                })?;
                documents.push((format!("{name}:{}", i + 1), value));
            }
            documents
        }
    };
    let mut candidates = Vec::new();
    for (source, value) in documents {
        collect(&source, value, entry.as_deref(), &mut candidates)?;
    }
    if candidates.is_empty() {
        bail!("{name} holds no bundle");
    }
    Ok(candidates)
}

/// Adds the bundles of one JSON document.
fn collect(
    source: &str,
    value: Value,
    entry: Option<&[u8]>,
    out: &mut Vec<Candidate>,
) -> Result<()> {
    if let Some(list) = value.get("attestations").and_then(Value::as_array) {
        // npm's attestations document.
        for (i, item) in list.iter().enumerate() {
            let bundle = item
                .get("bundle")
                .with_context(|| format!("{source}: attestations[{i}] has no bundle"))?;
            collect(&format!("{source}#{i}"), bundle.clone(), entry, out)?;
        }
        return Ok(());
    }
    let json = serde_json::to_vec(&value).context("couldn't re-encode a JSON document")?;
    let document = Document::from_json(&json)
        .with_context(|| format!("{source} is neither a Sigstore bundle nor a DSSE envelope"))?;
    let bundle = match document {
        Document::Bundle(bundle) => *bundle,
        Document::Envelope(legacy) => {
            let Some(entry) = entry else {
                bail!(
                    "{source} is a bare DSSE envelope: give its Rekor entry with --rekor-entry \
                     (the JSON of GET /api/v1/log/entries/<uuid>), which makes it verifiable \
                     offline"
                );
            };
            Bundle::from_rekor_entry(
                BundleContent::DsseEnvelope(legacy.envelope),
                legacy.certificates,
                entry,
            )
            .with_context(|| format!("couldn't make a bundle of {source} and its Rekor entry"))?
        }
        _ => bail!("{source} is neither a Sigstore bundle nor a DSSE envelope"),
    };
    out.push(Candidate {
        source: source.to_owned(),
        bundle,
    });
    Ok(())
}

/// The policy engine's view of a verified signature.
pub(crate) fn signature_fact(verified: &VerifiedBundle, trust_root: Option<&str>) -> SignatureFact {
    let id = signature_id(verified);
    let mut fact = match (verified.identity(), verified.issuer()) {
        (Some(subject), Some(issuer)) => {
            let mut fact = SignatureFact::keyless(id, subject, issuer);
            for (oid, value) in verified.certificate_extensions() {
                fact = fact.with_extension(oid, value);
            }
            match verified.certificate_authority_uri() {
                Some(uri) => fact.with_ca_uri(uri),
                None => fact,
            }
        }
        _ => SignatureFact::key(id, verified.signer_spki_der()),
    };
    fact = fact.with_rfc3161_timestamps(verified.rfc3161_timestamps());
    match trust_root {
        Some(name) => fact.with_trust_root(name),
        None => fact,
    }
}

/// policy-controller's signature ID: SHA-256 over the signature and the certificate's PEM.
fn signature_id(verified: &VerifiedBundle) -> String {
    let mut input = verified.signature().to_vec();
    if let Some(der) = verified.certificate_der() {
        input.extend_from_slice(waxseal_crypto::pem::encode("CERTIFICATE", der).as_bytes());
    }
    hex::encode(sha256(&input))
}

/// The verified in-toto statement of a DSSE bundle, when it is one.
pub(crate) fn statement(verified: &VerifiedBundle) -> Option<Value> {
    serde_json::from_slice(verified.dsse_payload()?).ok()
}

/// cosign v3's image signature predicate: a DSSE bundle with it is a signature, not an
/// attestation.
pub(crate) const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

/// Files a verified bundle as a signature or an attestation.
pub(crate) fn add_fact(
    facts: &mut waxseal_policy::Facts,
    verified: &VerifiedBundle,
    trust_root: Option<&str>,
) {
    let signature = signature_fact(verified, trust_root);
    match statement(verified) {
        Some(statement) => {
            let predicate_type = statement
                .get("predicateType")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if predicate_type == COSIGN_SIGN_PREDICATE {
                facts.signatures.push(signature);
            } else {
                facts
                    .attestations
                    .push(AttestationFact::new(signature, predicate_type, statement));
            }
        }
        None => facts.signatures.push(signature),
    }
}
