//! `waxseal verify IMAGE`, `waxseal verify-attestation IMAGE`, `waxseal policy check IMAGE`,
//! `waxseal tree IMAGE` and `waxseal download signature|attestation IMAGE`: what is attached to
//! an image in a registry, found, fetched and verified offline by `waxseal-verify` against the
//! image digest.
//!
//! Exit codes: 0 verified, 1 nothing verified (every candidate's failure is printed), 2 usage
//! or operational error (an unreachable registry, bad credentials: never a pass).

use std::process::ExitCode;

use anyhow::{Context as _, Result};
use serde_json::{Map, Value, json};
use waxseal_oci::{Digest, Kind, Reference};
use waxseal_verify::{
    Error, ImageSignature, ImageSignatureFormat, Policy, TlogRequirement, VerifiedImageSignature,
    Verifier, VerifyOptions,
};

use crate::evidence::COSIGN_SIGN_PREDICATE;
use crate::image::{self, Attached, LegacyLayer, Referrer, RegistryArgs};
use crate::policy::Output;
use crate::verify::SignerArgs;

/// The image options of the verify commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ImageVerifyArgs {
    /// For an IMAGE: accept signatures without a transparency log entry (cosign's
    /// `--insecure-ignore-tlog`; with a key, or keyless with an RFC 3161 timestamp).
    #[arg(long)]
    insecure_ignore_tlog: bool,
    /// For an IMAGE: annotations KEY=VALUE the signature must carry (cosign's `-a`);
    /// repeatable.
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    pub(crate) registry: RegistryArgs,
}

impl ImageVerifyArgs {
    /// The verifier options: cosign accepts a signed entry timestamp as log evidence.
    pub(crate) fn options(&self) -> VerifyOptions {
        VerifyOptions::default().with_tlog(if self.insecure_ignore_tlog {
            TlogRequirement::InsecureSkip
        } else {
            TlogRequirement::PromiseOrProof
        })
    }
}

/// What is fetched for an image.
pub(crate) struct Fetched {
    pub(crate) reference: Reference,
    pub(crate) digest: Digest,
    pub(crate) attached: Attached,
}

/// Resolves `reference` (a tag once; a digest costs nothing) and fetches what is attached.
pub(crate) fn fetch(
    reference: &Reference,
    registry: &RegistryArgs,
    kinds: &[Kind],
) -> Result<Fetched> {
    let runtime = image::runtime()?;
    let client = registry.client()?;
    runtime.block_on(async {
        let (digest, _) = image::resolve(&client, reference, None).await?;
        let repo = reference.with_digest(digest);
        let attached = image::fetch_attached(&client, &repo, &digest, kinds).await?;
        tracing::debug!(image = %repo, requests = client.requests(), "registry requests");
        Ok(Fetched {
            reference: repo,
            digest,
            attached,
        })
    })
}

/// One candidate and where it came from.
pub(crate) enum Candidate<'a> {
    Referrer(&'a Referrer),
    Legacy(&'a LegacyLayer),
}

impl Candidate<'_> {
    pub(crate) fn source(&self) -> String {
        match self {
            Self::Referrer(r) => format!("referrer {}", r.manifest),
            Self::Legacy(l) => format!(".{} layer {}", l.kind.suffix(), l.layer),
        }
    }

    pub(crate) fn verify(
        &self,
        verifier: &Verifier,
        image: &Digest,
        policy: &Policy,
        options: &VerifyOptions,
    ) -> std::result::Result<VerifiedImageSignature, Error> {
        let candidate = match self {
            Self::Referrer(r) => ImageSignature::Referrer {
                bundle_json: &r.bundle,
                annotations: &r.annotations,
            },
            Self::Legacy(l) => ImageSignature::Legacy(&l.signature),
        };
        verifier.verify_image_signature(image, candidate, policy, options)
    }
}

/// The signature candidates: referrers that are not attestations, and `.sig` layers.
fn signature_candidates(attached: &Attached) -> Vec<Candidate<'_>> {
    let referrers = attached
        .referrers
        .iter()
        .filter(|r| {
            r.predicate_type()
                .is_none_or(|t| t == COSIGN_SIGN_PREDICATE)
        })
        .map(Candidate::Referrer);
    let legacy = attached
        .legacy
        .iter()
        .filter(|l| l.kind == Kind::Signature)
        .map(Candidate::Legacy);
    referrers.chain(legacy).collect()
}

/// The attestation candidates: referrers that are not signatures, and `.att` layers.
pub(crate) fn attestation_candidates(attached: &Attached) -> Vec<Candidate<'_>> {
    let referrers = attached
        .referrers
        .iter()
        .filter(|r| r.predicate_type() != Some(COSIGN_SIGN_PREDICATE))
        .map(Candidate::Referrer);
    let legacy = attached
        .legacy
        .iter()
        .filter(|l| l.kind == Kind::Attestation)
        .map(Candidate::Legacy);
    referrers.chain(legacy).collect()
}

/// Every candidate, signatures and attestations (for policies).
pub(crate) fn all_candidates(attached: &Attached) -> Vec<Candidate<'_>> {
    attached
        .referrers
        .iter()
        .map(Candidate::Referrer)
        .chain(attached.legacy.iter().map(Candidate::Legacy))
        .collect()
}

/// The policy engine's facts from everything attached to `image`: every candidate verified
/// under every root and key of `trust`; what did not verify, and what could not be read, as
/// reasons.
pub(crate) fn image_facts(
    trust: &crate::policy::Trust,
    attached: &Attached,
    image: &Digest,
    options: &VerifyOptions,
) -> (waxseal_policy::Facts, Vec<String>) {
    let candidates = all_candidates(attached);
    let (facts, mut failures) =
        trust.facts_with(&candidates, Candidate::source, |verifier, c, policy| {
            c.verify(verifier, image, policy, options)
                .map(|v| v.bundle().clone())
        });
    failures.extend(attached.problems.iter().cloned());
    (facts, failures)
}

/// What was looked at, for a "nothing found" message.
pub(crate) fn nothing_found(fetched: &Fetched, what: &str, kinds: &[Kind]) -> String {
    let tags: Vec<String> = kinds
        .iter()
        .map(|k| waxseal_oci::legacy_tag(&fetched.digest, *k))
        .collect();
    let mut message = format!(
        "no {what} found for {}: no Sigstore bundle among its referrers (referrers API and tag \
         {}) and no {}",
        fetched.reference,
        waxseal_oci::fallback_tag(&fetched.digest),
        tags.join(" or ")
    );
    for problem in &fetched.attached.problems {
        message.push_str("\n  ");
        message.push_str(problem);
    }
    message
}

/// Runs `waxseal verify IMAGE`.
pub(crate) fn verify(
    arg: &str,
    reference: &Reference,
    signer: &SignerArgs,
    verifier: &Verifier,
    args: &ImageVerifyArgs,
    output: Output,
) -> Result<ExitCode> {
    let policy = signer.policy()?;
    let required = crate::image_sign::annotation_map(&args.annotations)?;
    let fetched = image::as_image(
        arg,
        reference,
        fetch(reference, &args.registry, &[Kind::Signature]),
    )?;
    let candidates = signature_candidates(&fetched.attached);
    if candidates.is_empty() {
        eprintln!(
            "verification failed: {}",
            nothing_found(&fetched, "signatures", &[Kind::Signature])
        );
        return Ok(ExitCode::from(1));
    }
    let options = args.options();
    let mut verified = Vec::new();
    let mut failures: Vec<String> = fetched.attached.problems.clone();
    for candidate in &candidates {
        let result = candidate
            .verify(verifier, &fetched.digest, &policy, &options)
            .map_err(|e| match e {
                e @ (Error::Input(_) | Error::TrustedRoot(_)) => Err(e),
                e => Ok(format!("verification failed at {}: {e}", e.stage())),
            });
        let signature = match result {
            Ok(signature) => signature,
            Err(Err(e)) => return Err(e.into()),
            Err(Ok(reason)) => {
                failures.push(format!("{}: {reason}", candidate.source()));
                continue;
            }
        };
        if let Err(reason) = signer.check_github_workflow(signature.bundle()) {
            failures.push(format!("{}: {reason}", candidate.source()));
            continue;
        }
        let annotations = signed_annotations(&signature);
        if let Some((key, value)) = required
            .iter()
            .find(|(k, v)| annotations.get(*k).and_then(Value::as_str) != Some(v.as_str()))
        {
            failures.push(format!(
                "{}: the signature does not carry the annotation {key}={value}",
                candidate.source()
            ));
            continue;
        }
        verified.push(signature);
    }
    if verified.is_empty() {
        for failure in &failures {
            eprintln!("not verified: {failure}");
        }
        eprintln!(
            "verification failed: none of the {} signatures of {} verified",
            candidates.len(),
            fetched.reference
        );
        return Ok(ExitCode::from(1));
    }
    eprintln!("\nVerification for {} --", fetched.reference);
    eprintln!("The following checks were performed on each of these signatures:");
    eprintln!("  - The cosign claims were validated");
    if !matches!(options.tlog, TlogRequirement::InsecureSkip) {
        eprintln!("  - Existence of the claims in the transparency log was verified offline");
    }
    match policy {
        Policy::PublicKey(_) => {
            eprintln!("  - The signatures were verified against the specified public key");
        }
        _ => eprintln!(
            "  - The code-signing certificate was verified using trusted certificate authority \
             certificates"
        ),
    }
    match output {
        Output::Json => {
            let payloads: Vec<Value> = verified
                .iter()
                .map(|s| cosign_payload(s, &fetched))
                .collect();
            println!("{}", serde_json::to_string(&payloads)?);
        }
        Output::Text => {
            for signature in &verified {
                println!("{}", String::from_utf8_lossy(signature.payload()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The annotations a verified signature signed: the statement subject's, or the simple
/// signing payload's `optional`.
fn signed_annotations(signature: &VerifiedImageSignature) -> Map<String, Value> {
    if let Some(simple) = signature.simple_signing() {
        return simple.optional().cloned().unwrap_or_default();
    }
    let statement: Value = serde_json::from_slice(signature.payload()).unwrap_or_default();
    statement
        .get("subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|s| s.get("annotations").and_then(Value::as_object).cloned())
        .unwrap_or_default()
}

/// What cosign prints for one verified signature (`cmd/cosign/cli/verify/common.go`): the
/// simple signing payload, its `optional` gaining the certificate's identity fields and the
/// Rekor bundle; for a bundle, the same shape with the predicate type as `type` and the
/// subject's annotations as `optional`.
fn cosign_payload(signature: &VerifiedImageSignature, fetched: &Fetched) -> Value {
    let bundle = signature.bundle();
    let mut payload = match signature.format() {
        ImageSignatureFormat::Referrer => json!({
            "critical": {
                "identity": { "docker-reference": fetched.reference.name() },
                "image": { "docker-manifest-digest": fetched.digest.to_string() },
                "type": signature.predicate_type().unwrap_or(COSIGN_SIGN_PREDICATE),
            },
            "optional": {},
        }),
        _ => serde_json::from_slice(signature.payload()).unwrap_or_else(|_| json!({})),
    };
    let mut optional = match payload.get("optional") {
        Some(Value::Object(map)) => map.clone(),
        _ => Map::new(),
    };
    if signature.format() == ImageSignatureFormat::Referrer {
        optional = signed_annotations(signature);
    }
    if let (Some(subject), Some(issuer)) = (bundle.identity(), bundle.issuer()) {
        optional.insert("Subject".to_owned(), json!(subject));
        optional.insert("Issuer".to_owned(), json!(issuer));
        for (oid, value) in bundle.certificate_extensions() {
            optional.insert(oid.clone(), json!(value));
        }
    }
    if let Some(time) = bundle.integrated_time() {
        optional.insert(
            "Bundle".to_owned(),
            json!({
                "logIndex": bundle.log_index(),
                "integratedTime": time,
                "logID": hex::encode(bundle.log_id()),
            }),
        );
    }
    payload["optional"] = if optional.is_empty() {
        Value::Null
    } else {
        Value::Object(optional)
    };
    payload
}

/// `waxseal tree IMAGE`.
#[derive(Debug, clap::Args)]
pub(crate) struct TreeArgs {
    /// The image: `registry/repository[:tag][@sha256:...]`.
    image: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: Output,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// Runs `waxseal tree IMAGE`: what is attached, by kind and format (nothing is verified).
pub(crate) fn tree(args: &TreeArgs) -> Result<ExitCode> {
    let reference = Reference::parse(&args.image)
        .with_context(|| format!("{} is not an image reference", args.image))?;
    let kinds = [Kind::Signature, Kind::Attestation, Kind::Sbom];
    let fetched = fetch(&reference, &args.registry, &kinds)?;
    let attached = &fetched.attached;
    let kind_of = |r: &Referrer| match r.predicate_type() {
        Some(COSIGN_SIGN_PREDICATE) => "signature",
        _ => "attestation",
    };
    if args.output == Output::Json {
        let referrers: Vec<Value> = attached
            .referrers
            .iter()
            .map(|r| {
                json!({
                    "digest": r.manifest.to_string(),
                    "kind": kind_of(r),
                    "format": "sigstore-bundle",
                    "predicateType": r.predicate_type(),
                    "annotations": r.annotations,
                })
            })
            .collect();
        let others: Vec<Value> = attached
            .other_referrers
            .iter()
            .map(|d| json!({ "digest": d.digest.to_string(), "artifactType": d.artifact_type, "mediaType": d.media_type }))
            .collect();
        let legacy: Vec<Value> = attached
            .legacy
            .iter()
            .map(|l| {
                json!({
                    "tag": waxseal_oci::legacy_tag(&fetched.digest, l.kind),
                    "layer": l.layer.to_string(),
                    "mediaType": l.signature.media_type,
                    "predicateType": l.signature.predicate_type,
                    "certificate": l.signature.certificate_pem.is_some(),
                    "rekorBundle": l.signature.rekor_bundle.is_some(),
                    "rfc3161Timestamp": l.signature.rfc3161_timestamp.is_some(),
                })
            })
            .collect();
        let json = json!({
            "image": fetched.reference.to_string(),
            "referrers": referrers,
            "otherReferrers": others,
            "legacy": legacy,
            "problems": attached.problems,
        });
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", fetched.reference);
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    if !attached.referrers.is_empty() || !attached.other_referrers.is_empty() {
        let mut lines: Vec<String> = attached
            .referrers
            .iter()
            .map(|r| {
                format!(
                    "{} {} (sigstore bundle, {})",
                    r.manifest,
                    kind_of(r),
                    r.predicate_type().unwrap_or("no predicate type annotation")
                )
            })
            .collect();
        lines.extend(attached.other_referrers.iter().map(|d| {
            format!(
                "{} {}",
                d.digest,
                d.artifact_type.as_deref().unwrap_or(&d.media_type)
            )
        }));
        sections.push((
            format!(
                "referrers (OCI 1.1; fallback tag {})",
                waxseal_oci::fallback_tag(&fetched.digest)
            ),
            lines,
        ));
    }
    for kind in kinds {
        let lines: Vec<String> = attached
            .legacy
            .iter()
            .filter(|l| l.kind == kind)
            .map(|l| {
                let mut parts = vec![l.signature.media_type.clone()];
                if let Some(t) = &l.signature.predicate_type {
                    parts.push(t.clone());
                }
                if l.signature.certificate_pem.is_some() {
                    parts.push("certificate".to_owned());
                }
                if l.signature.rekor_bundle.is_some() {
                    parts.push("rekor bundle".to_owned());
                }
                if l.signature.rfc3161_timestamp.is_some() {
                    parts.push("rfc3161 timestamp".to_owned());
                }
                format!("{} ({})", l.layer, parts.join(", "))
            })
            .collect();
        if !lines.is_empty() {
            sections.push((
                format!(
                    "legacy {} (tag {})",
                    match kind {
                        Kind::Signature => "signatures",
                        Kind::Attestation => "attestations",
                        _ => "SBOMs",
                    },
                    waxseal_oci::legacy_tag(&fetched.digest, kind)
                ),
                lines,
            ));
        }
    }
    if !attached.problems.is_empty() {
        sections.push(("unreadable".to_owned(), attached.problems.clone()));
    }
    if sections.is_empty() {
        println!("└── nothing attached");
    }
    let count = sections.len();
    for (i, (title, lines)) in sections.iter().enumerate() {
        let last = i + 1 == count;
        println!("{} {title}", if last { "└──" } else { "├──" });
        let indent = if last { "    " } else { "│   " };
        for (j, line) in lines.iter().enumerate() {
            let branch = if j + 1 == lines.len() {
                "└──"
            } else {
                "├──"
            };
            println!("{indent}{branch} {line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `waxseal download signature|attestation`.
#[derive(Debug, clap::Args)]
pub(crate) struct DownloadArgs {
    /// What to download.
    #[arg(value_enum)]
    what: DownloadWhat,
    /// The image: `registry/repository[:tag][@sha256:...]`.
    image: String,
    /// With `attestation`: only this predicate type (URI or cosign's names).
    #[arg(long = "predicate-type")]
    predicate_type: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

/// `waxseal download` kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DownloadWhat {
    /// Signatures: referrer bundles and legacy `.sig` layers.
    Signature,
    /// Attestations: referrer bundles and legacy `.att` layers.
    Attestation,
}

/// Runs `waxseal download`: one JSON document per line on stdout. Referrer bundles are
/// printed as the bundle (verify them later with `waxseal verify --bundle FILE
/// sha256:<image digest>` or `verify-attestation --bundle FILE.jsonl`); legacy layers as
/// cosign's `download signature` line (`Base64Signature`, `Payload`, `Cert`, `Chain`,
/// `Bundle`, `RFC3161Timestamp`).
pub(crate) fn download(args: &DownloadArgs) -> Result<ExitCode> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    let reference = Reference::parse(&args.image)
        .with_context(|| format!("{} is not an image reference", args.image))?;
    let kind = match args.what {
        DownloadWhat::Signature => Kind::Signature,
        DownloadWhat::Attestation => Kind::Attestation,
    };
    let wanted_type = args
        .predicate_type
        .as_deref()
        .map(waxseal_attestation::predicate_type_uri)
        .transpose()
        .context("bad --predicate-type")?;
    let fetched = fetch(&reference, &args.registry, &[kind])?;
    let candidates = match args.what {
        DownloadWhat::Signature => signature_candidates(&fetched.attached),
        DownloadWhat::Attestation => attestation_candidates(&fetched.attached),
    };
    let mut printed = 0;
    for candidate in candidates {
        match candidate {
            Candidate::Referrer(r) => {
                if wanted_type
                    .as_deref()
                    .is_some_and(|t| r.predicate_type() != Some(t))
                {
                    continue;
                }
                let value: Value = serde_json::from_slice(&r.bundle)
                    .with_context(|| format!("referrer {} holds no JSON bundle", r.manifest))?;
                println!("{}", serde_json::to_string(&value)?);
            }
            Candidate::Legacy(l) => {
                let s = &l.signature;
                if wanted_type.is_some() && s.predicate_type != wanted_type {
                    continue;
                }
                let bundle = s.rekor_bundle.as_ref().map(|b| {
                    json!({
                        "SignedEntryTimestamp": STANDARD.encode(&b.signed_entry_timestamp),
                        "Payload": {
                            "body": b.payload.body,
                            "integratedTime": b.payload.integrated_time,
                            "logIndex": b.payload.log_index,
                            "logID": b.payload.log_id,
                        },
                    })
                });
                let line = json!({
                    "Base64Signature": STANDARD.encode(&s.signature),
                    "Payload": STANDARD.encode(&s.payload),
                    "Cert": s.certificate_pem,
                    "Chain": s.chain_pem,
                    "Bundle": bundle,
                    "RFC3161Timestamp": s.rfc3161_timestamp.as_ref().map(|t| json!({ "SignedRFC3161Timestamp": STANDARD.encode(t) })),
                });
                println!("{}", serde_json::to_string(&line)?);
            }
        }
        printed += 1;
    }
    if printed == 0 {
        eprintln!(
            "{}",
            nothing_found(
                &fetched,
                match args.what {
                    DownloadWhat::Signature => "signatures",
                    DownloadWhat::Attestation => "attestations",
                },
                &[kind]
            )
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
