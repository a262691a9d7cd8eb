//! `waxseal sign IMAGE` and `waxseal attest IMAGE`: sign an image digest and attach the result
//! in the registry, in cosign's formats.
//!
//! - Default (cosign v3): an in-toto statement about the image digest (predicate
//!   `https://sigstore.dev/cosign/sign/v1` for signatures, the given predicate for
//!   attestations), signed as a DSSE bundle v0.3 and stored as an OCI 1.1 referrer (plus the
//!   referrers-tag fallback when the registry keeps no referrers list).
//! - `--signature-format legacy` (cosign v1/v2): a simple signing payload signed as a
//!   message and appended as a layer of the `sha256-<hex>.sig` tag, with the signature,
//!   certificate, Rekor bundle (SET) and RFC 3161 annotations.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use serde_json::{Map, Value, json};
use waxseal_bundle::{BundleContent, VerificationContent};
use waxseal_client::{Content, SignedBundle};
use waxseal_oci::{
    Descriptor, Digest, Kind, LegacySignature, ManifestDocument, Reference, RekorBundle,
    SimpleSigning, media_type,
};
use waxseal_registry::Client as Registry;

use crate::evidence::COSIGN_SIGN_PREDICATE;
use crate::image::{self, RegistryArgs};
use crate::sign::{SigningArgs, sign_content};

/// `--signature-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum SignatureFormat {
    /// cosign v3: a Sigstore bundle stored as an OCI referrer of the image.
    #[default]
    Bundle,
    /// cosign v1/v2: a simple signing layer under the `sha256-<hex>.sig` tag (needs a Rekor
    /// v1 log: the layer carries its signed entry timestamp).
    Legacy,
}

/// The image options of `waxseal sign`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ImageSignArgs {
    /// For an IMAGE: the signature format.
    #[arg(long, value_enum, default_value = "bundle")]
    signature_format: SignatureFormat,
    /// For an IMAGE: an annotation KEY=VALUE to sign with the image (the statement subject's
    /// `annotations`, or the simple signing payload's `optional`); repeatable.
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// For an IMAGE that is an index: sign the index and every manifest it lists.
    #[arg(long)]
    recursive: bool,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

/// One manifest to sign: its descriptor (media type, digest, size).
fn targets(
    reference: &Reference,
    fetched: &waxseal_registry::FetchedManifest,
    recursive: bool,
) -> Result<Vec<Descriptor>> {
    let mut targets = vec![fetched.descriptor()];
    if recursive {
        match ManifestDocument::parse(Some(&fetched.media_type), &fetched.bytes)
            .with_context(|| format!("{reference} is not a manifest or index"))?
        {
            // The referrer's subject keeps only media type, digest and size of these.
            ManifestDocument::Index(index) => targets.extend(index.manifests),
            _ => bail!("--recursive: {reference} is a single manifest, not an index"),
        }
    }
    Ok(targets)
}

/// Parses `-a KEY=VALUE` flags.
fn annotations(flags: &[String]) -> Result<Option<Map<String, Value>>> {
    if flags.is_empty() {
        return Ok(None);
    }
    let mut map = Map::new();
    for flag in flags {
        let (key, value) = flag
            .split_once('=')
            .with_context(|| format!("-a {flag:?} is not KEY=VALUE"))?;
        map.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    Ok(Some(map))
}

/// cosign v3's signature statement: one subject with only the sha256 digest (and the `-a`
/// annotations), predicate `{}`.
pub(crate) fn sign_statement(digest: &Digest, annotations: Option<&Map<String, Value>>) -> Vec<u8> {
    let mut subject = json!({ "digest": { "sha256": digest.hex() } });
    if let Some(map) = annotations {
        subject["annotations"] = Value::Object(map.clone());
    }
    statement_json(&subject, COSIGN_SIGN_PREDICATE, &json!({}))
}

/// A statement in the spec's key order.
fn statement_json(subject: &Value, predicate_type: &str, predicate: &Value) -> Vec<u8> {
    format!(
        "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{subject}],\
         \"predicateType\":{},\"predicate\":{predicate}}}",
        Value::String(predicate_type.to_owned())
    )
    .into_bytes()
}

/// Runs `waxseal sign IMAGE`.
pub(crate) fn sign(
    arg: &str,
    reference: &Reference,
    signing: &SigningArgs,
    options: &ImageSignArgs,
) -> Result<()> {
    image::as_image(arg, reference, sign_inner(reference, signing, options))
}

fn sign_inner(reference: &Reference, signing: &SigningArgs, options: &ImageSignArgs) -> Result<()> {
    let annotations = annotations(&options.annotations)?;
    let runtime = image::runtime()?;
    let registry = options.registry.client()?;
    let fetched = runtime.block_on(resolve_for_signing(&registry, reference, "signing"))?;
    let targets = targets(reference, &fetched, options.recursive)?;
    for target in &targets {
        match options.signature_format {
            SignatureFormat::Bundle => {
                let statement = sign_statement(&target.digest, annotations.as_ref());
                let content = Content::in_toto(statement).context("the signature statement")?;
                let signed = sign_content(signing, &content)?;
                let bundle = signed.bundle.to_json();
                let pushed = runtime.block_on(image::push_referrer(
                    &registry,
                    reference,
                    target,
                    &bundle,
                    COSIGN_SIGN_PREDICATE,
                ))?;
                report(
                    &signed,
                    reference,
                    &target.digest,
                    &format!("referrer {pushed}"),
                );
            }
            SignatureFormat::Legacy => {
                let docker_reference = reference.name();
                let payload =
                    SimpleSigning::new(docker_reference, target.digest, annotations.clone())
                        .to_bytes();
                let signed = sign_content(signing, &Content::Artifact(payload.clone()))?;
                let layer = legacy_layer(&signed, payload)?;
                let tag = runtime.block_on(image::push_legacy(
                    &registry,
                    reference,
                    &target.digest,
                    Kind::Signature,
                    &layer,
                ))?;
                report(&signed, reference, &target.digest, &format!("tag {tag}"));
            }
        }
    }
    Ok(())
}

/// GETs the manifest to sign (by tag: resolved once, with a warning; by digest: checked
/// against it).
async fn resolve_for_signing(
    registry: &Registry,
    reference: &Reference,
    action: &str,
) -> Result<waxseal_registry::FetchedManifest> {
    if reference.digest().is_some() {
        return Ok(registry.resolve(reference).await?);
    }
    let (_, fetched) = image::resolve(registry, reference, Some(action)).await?;
    fetched.context("a tag resolves to a manifest")
}

fn report(signed: &SignedBundle, reference: &Reference, digest: &Digest, stored: &str) {
    let who = signed
        .identity
        .as_deref()
        .map_or_else(|| "with the key".to_owned(), |i| format!("as {i}"));
    println!(
        "waxseal: signed {}@{digest} {who}; log index {}; stored as {stored}",
        reference.name(),
        signed.log_index
    );
}

/// A message-signature bundle over a simple signing `payload` as cosign's legacy `.sig`
/// layer: the signature, the certificate, the Rekor bundle made of the entry's SET, and the
/// RFC 3161 timestamp.
fn legacy_layer(signed: &SignedBundle, payload: Vec<u8>) -> Result<LegacySignature> {
    let bundle = &signed.bundle;
    let BundleContent::MessageSignature(message) = &bundle.content else {
        bail!("the instance returned a bundle without a message signature");
    };
    let mut layer = LegacySignature::new(
        media_type::SIMPLE_SIGNING,
        payload,
        message.signature.clone(),
    );
    let material = &bundle.verification_material;
    match &material.content {
        VerificationContent::Certificate(cert) => {
            layer.certificate_pem =
                Some(waxseal_crypto::pem::encode("CERTIFICATE", &cert.raw_bytes));
            layer.chain_pem = Some(String::new());
        }
        VerificationContent::X509CertificateChain(chain) => {
            let mut certs = chain.certificates.iter();
            if let Some(leaf) = certs.next() {
                layer.certificate_pem =
                    Some(waxseal_crypto::pem::encode("CERTIFICATE", &leaf.raw_bytes));
            }
            layer.chain_pem = Some(
                certs
                    .map(|c| waxseal_crypto::pem::encode("CERTIFICATE", &c.raw_bytes))
                    .collect(),
            );
        }
        _ => {}
    }
    let Some(entry) = material.tlog_entries.first() else {
        bail!("the bundle has no transparency log entry");
    };
    let (Some(promise), Some(time)) = (&entry.inclusion_promise, entry.integrated_time) else {
        bail!(
            "--signature-format legacy needs a Rekor v1 log: cosign's legacy layer carries the \
             entry's signed entry timestamp, which Rekor v2 does not give (use the default \
             format, or sign on the instance's Rekor v1 trust config)"
        );
    };
    layer.rekor_bundle = Some(RekorBundle::new(
        promise.signed_entry_timestamp.clone(),
        &entry.canonicalized_body,
        time,
        entry.log_index,
        &entry.log_id.key_id,
    ));
    layer.rfc3161_timestamp = material
        .timestamp_verification_data
        .as_ref()
        .and_then(|t| t.rfc3161_timestamps.first())
        .map(|t| t.signed_timestamp.clone());
    Ok(layer)
}

/// Runs `waxseal attest IMAGE`: `statement_for` builds the statement for the image's
/// repository name and digest.
pub(crate) fn attest(
    arg: &str,
    reference: &Reference,
    signing: &SigningArgs,
    registry: &RegistryArgs,
    predicate_type: &str,
    predicate: &Value,
) -> Result<()> {
    image::as_image(
        arg,
        reference,
        attest_inner(reference, signing, registry, predicate_type, predicate),
    )
}

fn attest_inner(
    reference: &Reference,
    signing: &SigningArgs,
    registry_args: &RegistryArgs,
    predicate_type: &str,
    predicate: &Value,
) -> Result<()> {
    let runtime = image::runtime()?;
    let registry = registry_args.client()?;
    let fetched = runtime.block_on(resolve_for_signing(&registry, reference, "attesting"))?;
    let subject = fetched.descriptor();
    // cosign attest names the subject after the repository.
    let name = reference.name();
    let statement = statement_json(
        &json!({ "name": name, "digest": { "sha256": subject.digest.hex() } }),
        predicate_type,
        predicate,
    );
    let content = Content::in_toto(statement).context("the statement")?;
    let signed = sign_content(signing, &content)?;
    let bundle = signed.bundle.to_json();
    let pushed = runtime.block_on(image::push_referrer(
        &registry,
        reference,
        &subject,
        &bundle,
        predicate_type,
    ))?;
    report(
        &signed,
        reference,
        &subject.digest,
        &format!("referrer {pushed} ({predicate_type})"),
    );
    Ok(())
}

/// The map `-a` flags make (for checks on verify).
pub(crate) fn annotation_map(flags: &[String]) -> Result<BTreeMap<String, String>> {
    Ok(annotations(flags)?
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect())
}
