//! `waxseal verify-attestation`: a bundle verified as `waxseal verify` does, then its in-toto
//! statement: the subject digest is the artifact's, the predicate type is the one asked for,
//! and SLSA provenance passes the checks slsa-verifier makes (the builder the predicate claims
//! is the one the signing certificate names; source, ref/tag and builder flags). With
//! `--policy`, ClusterImagePolicy documents are evaluated over the verified attestations.
//!
//! Exit codes: 0 verified (and allowed), 1 not verified or denied, 2 usage or operational error.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use waxseal_attestation::{
    CertificateFacts, GITHUB_ACTIONS_ISSUER, ProvenanceRequirements, Statement, VerifiedProvenance,
    check_provenance, predicate_type_uri,
};
use waxseal_oci::Kind;
use waxseal_verify::{Error, Policy, VerifiedBundle, Verifier};

use crate::evidence;
use crate::image_verify::{self, ImageVerifyArgs};
use crate::policy::{self, EvaluationArgs, Output, Trust};
use crate::verify::{ArtifactInput, SignerArgs, TrustArgs};

/// `waxseal verify-attestation`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyAttestationArgs {
    /// The artifact: a file, `sha256:<64 hex digits>` (a digest that is not an existing
    /// path), or an image in a registry (`registry/repository[:tag][@sha256:...]`, without
    /// --bundle: its attestations are found in the registry).
    artifact: String,
    /// The attestation: a bundle, a JSON Lines file of bundles (`*.intoto.jsonl`), npm's
    /// attestations JSON, or a bare DSSE envelope with --rekor-entry. One verifying bundle is
    /// enough. Required for files and digests.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// The Rekor v1 log entry (JSON of `GET /api/v1/log/entries/{uuid}`) of a bare DSSE
    /// envelope.
    #[arg(long)]
    rekor_entry: Option<PathBuf>,
    /// The predicate type: a URI or cosign's names (slsaprovenance, slsaprovenance02,
    /// slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, custom). Default: any.
    #[arg(long = "type")]
    predicate_type: Option<String>,
    /// SLSA provenance: the source repository, e.g. `github.com/org/repo` (slsa-verifier's
    /// --source-uri).
    #[arg(long)]
    source_uri: Option<String>,
    /// SLSA provenance: the source ref the build ran on, e.g. `refs/heads/main`.
    #[arg(long, conflicts_with_all = ["source_tag", "source_versioned_tag"])]
    source_ref: Option<String>,
    /// SLSA provenance: the exact tag the build ran on.
    #[arg(long, conflicts_with = "source_versioned_tag")]
    source_tag: Option<String>,
    /// SLSA provenance: a semantic-version tag prefix (`v1.2` matches `v1.2.x`).
    #[arg(long)]
    source_versioned_tag: Option<String>,
    /// SLSA provenance: the trusted builder (with or without `@ref`).
    #[arg(long)]
    builder_id: Option<String>,
    /// ClusterImagePolicy documents (file or directory) to evaluate over the verified
    /// attestations instead of the identity, type and provenance flags: the policies say who
    /// must have signed what.
    #[arg(long, conflicts_with_all = [
        "certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer",
        "certificate_oidc_issuer_regexp", "key", "predicate_type", "source_uri", "source_ref",
        "source_tag", "source_versioned_tag", "builder_id",
    ])]
    policy: Vec<PathBuf>,
    /// With --policy: the image reference the globs are matched against (default: the
    /// artifact's file name).
    #[arg(long)]
    image: Option<String>,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    evaluation: EvaluationArgs,
    #[command(flatten)]
    image_args: ImageVerifyArgs,
}

/// One fully verified attestation.
struct Verified {
    source: String,
    bundle: VerifiedBundle,
    statement: Statement,
    provenance: Option<VerifiedProvenance>,
}

/// Runs `waxseal verify-attestation`.
pub(crate) fn run(args: &VerifyAttestationArgs) -> Result<ExitCode> {
    let expected_type = args
        .predicate_type
        .as_deref()
        .map(predicate_type_uri)
        .transpose()
        .context("bad --type")?;
    let verifier = args.trust.verifier()?;
    let requirements = ProvenanceRequirements {
        source_uri: args.source_uri.clone(),
        source_ref: args.source_ref.clone(),
        source_tag: args.source_tag.clone(),
        source_versioned_tag: args.source_versioned_tag.clone(),
        builder_id: args.builder_id.clone(),
    };
    let Some(bundle_path) = &args.bundle else {
        let Some(reference) = crate::image::image_argument(&args.artifact) else {
            bail!(
                "give --bundle: {} is a file or digest, whose attestations are in a bundle \
                 file (an image reference would be looked up in its registry)",
                args.artifact
            );
        };
        // With policies, signatures count too.
        let kinds: &[Kind] = if args.policy.is_empty() {
            &[Kind::Attestation]
        } else {
            &[Kind::Signature, Kind::Attestation]
        };
        let fetched = crate::image::as_image(
            &args.artifact,
            &reference,
            image_verify::fetch(&reference, &args.image_args.registry, kinds),
        )?;
        let candidates = if args.policy.is_empty() {
            image_verify::attestation_candidates(&fetched.attached)
        } else {
            image_verify::all_candidates(&fetched.attached)
        };
        if candidates.is_empty() {
            eprintln!(
                "verification failed: {}",
                image_verify::nothing_found(&fetched, "attestations", &[Kind::Attestation])
            );
            return Ok(ExitCode::from(1));
        }
        let options = args.image_args.options();
        let image = &fetched.digest;
        let verify = |verifier: &Verifier, c: &image_verify::Candidate<'_>, policy: &Policy| {
            c.verify(verifier, image, policy, &options)
                .map(|v| v.bundle().clone())
        };
        if !args.policy.is_empty() {
            let set = policy::load(&args.policy)?;
            let trust = Trust::new(&set, verifier, &args.evaluation.trust_root)?;
            let (facts, failures) =
                image_verify::image_facts(&trust, &fetched.attached, image, &options);
            let name = args
                .image
                .clone()
                .unwrap_or_else(|| fetched.reference.to_string());
            let decision = set.evaluate(&name, &facts, &args.evaluation.options());
            return args.evaluation.report(&name, &decision, &failures);
        }
        let policy = args.signer.policy()?;
        return verify_and_print(
            args,
            &candidates,
            image_verify::Candidate::source,
            |c| verify(&verifier, c, &policy),
            expected_type.as_deref(),
            &requirements,
            &format!("{} attestations of {}", candidates.len(), fetched.reference),
        );
    };
    let artifact = ArtifactInput::read(&args.artifact)?;
    let candidates = evidence::read_bundles(bundle_path, args.rekor_entry.as_deref())?;
    if !args.policy.is_empty() {
        return run_policy(args, verifier, &artifact, &candidates);
    }
    let policy = args.signer.policy()?;
    verify_and_print(
        args,
        &candidates,
        |c| c.source.clone(),
        |c| verifier.verify(&c.bundle, artifact.artifact(), &policy),
        expected_type.as_deref(),
        &requirements,
        &format!("{} bundles in {}", candidates.len(), bundle_path.display()),
    )
}

/// Verifies every candidate, then its statement; prints the verified ones.
fn verify_and_print<T>(
    args: &VerifyAttestationArgs,
    candidates: &[T],
    source: impl Fn(&T) -> String,
    verify: impl Fn(&T) -> std::result::Result<VerifiedBundle, Error>,
    expected_type: Option<&str>,
    requirements: &ProvenanceRequirements,
    what: &str,
) -> Result<ExitCode> {
    let mut verified = Vec::new();
    let mut failures = Vec::new();
    let mut found_types = Vec::new();
    for candidate in candidates {
        let bundle = match verify(candidate) {
            Ok(bundle) => bundle,
            Err(e @ (Error::Input(_) | Error::TrustedRoot(_))) => return Err(e.into()),
            Err(e) => {
                failures.push(format!(
                    "{}: verification failed at {}: {e}",
                    source(candidate),
                    e.stage()
                ));
                continue;
            }
        };
        if let Err(reason) = args.signer.check_github_workflow(&bundle) {
            failures.push(format!("{}: {reason}", source(candidate)));
            continue;
        }
        if let Some(t) = evidence::statement(&bundle).and_then(|s| {
            s.get("predicateType")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        }) {
            found_types.push(t);
        }
        match check_statement(&bundle, expected_type, requirements) {
            Ok((statement, provenance)) => verified.push(Verified {
                source: source(candidate),
                bundle,
                statement,
                provenance,
            }),
            Err(reason) => failures.push(format!("{}: {reason:#}", source(candidate))),
        }
    }
    for failure in &failures {
        eprintln!("not verified: {failure}");
    }
    if verified.is_empty() {
        if let Some(expected) = expected_type
            && !found_types.is_empty()
            && !found_types.iter().any(|t| t == expected)
        {
            found_types.sort();
            found_types.dedup();
            eprintln!(
                "verification failed: none of the attestations matched the predicate type: \
                 {expected}, found: {}",
                found_types.join(", ")
            );
        } else {
            eprintln!("verification failed: none of the {what} verified");
        }
        return Ok(ExitCode::from(1));
    }
    for v in &verified {
        print_verified(v, args.evaluation.output_format())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The statement checks after the bundle verified.
fn check_statement(
    bundle: &VerifiedBundle,
    expected_type: Option<&str>,
    requirements: &ProvenanceRequirements,
) -> Result<(Statement, Option<VerifiedProvenance>)> {
    let payload = bundle
        .dsse_payload()
        .context("not an attestation: the bundle holds a message signature, not a DSSE envelope")?;
    let statement = Statement::parse(payload).context("the DSSE payload")?;
    if let Some(expected) = expected_type
        && statement.predicate_type() != expected
    {
        anyhow::bail!(
            "predicate type is {:?}, expected {expected:?}",
            statement.predicate_type()
        );
    }
    let is_provenance = statement
        .predicate_type()
        .starts_with("https://slsa.dev/provenance/");
    let asks_provenance = requirements.source_uri.is_some()
        || requirements.builder_id.is_some()
        || requirements.source_ref.is_some()
        || requirements.source_tag.is_some()
        || requirements.source_versioned_tag.is_some();
    if !is_provenance {
        if asks_provenance {
            anyhow::bail!(
                "--source-uri, --source-ref/--source-tag and --builder-id check SLSA provenance; \
                 this statement's predicate type is {:?}",
                statement.predicate_type()
            );
        }
        return Ok((statement, None));
    }
    let provenance = match (bundle.identity(), bundle.issuer()) {
        // slsa-verifier's checks bind the predicate to the builder a GitHub Actions certificate
        // names; other certificates (an email, a private instance's service account) name no
        // builder, so they are only checked when asked, and then refused if they cannot be.
        (Some(_), Some(issuer)) if issuer != GITHUB_ACTIONS_ISSUER && !asks_provenance => None,
        (Some(san), Some(issuer)) => {
            let facts = CertificateFacts {
                san,
                issuer,
                extensions: bundle.certificate_extensions(),
            };
            // Without --builder-id, the trusted builder is the signer the identity flags
            // trusted: the predicate must still name the certificate's builder.
            let mut requirements = requirements.clone();
            if requirements.builder_id.is_none() {
                requirements.builder_id = Some(san.to_owned());
            }
            Some(check_provenance(&statement, &facts, &requirements).context("SLSA provenance")?)
        }
        // A managed key names no builder: there is nothing to bind the predicate to.
        _ if asks_provenance => anyhow::bail!(
            "SLSA provenance checks need a keyless signature: the signing certificate names the \
             builder, a key does not"
        ),
        _ => None,
    };
    Ok((statement, provenance))
}

fn print_verified(v: &Verified, output: Output) -> Result<()> {
    let statement: Value =
        serde_json::from_slice(&v.statement.to_json()).context("couldn't re-read the statement")?;
    match output {
        Output::Json => {
            let json = json!({
                "source": v.source,
                "predicateType": v.statement.predicate_type(),
                "statement": statement,
                "signer": {
                    "identity": v.bundle.identity(),
                    "issuer": v.bundle.issuer(),
                    "extensions": v.bundle.certificate_extensions(),
                },
                "tlog": {
                    "logIndex": v.bundle.log_index(),
                    "integratedTime": v.bundle.integrated_time(),
                },
                "signedTime": v.bundle.signed_time().map(|t| t.to_string()),
                "provenance": v.provenance.as_ref().map(provenance_json),
            });
            println!("{}", serde_json::to_string(&json)?);
        }
        Output::Text => {
            let who = match (v.bundle.identity(), v.bundle.issuer()) {
                (Some(identity), Some(issuer)) => format!("identity {identity} issuer {issuer}"),
                _ => "the given key".to_owned(),
            };
            println!(
                "verified: {} ({}): predicate type {}, {who}, log index {}",
                v.source,
                v.statement
                    .subjects()
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                v.statement.predicate_type(),
                v.bundle.log_index()
            );
            if let Some(p) = &v.provenance {
                println!(
                    "provenance: builder {}, source {} at {} ({}), build type {}",
                    p.builder_id(),
                    p.source_uri(),
                    p.source_ref(),
                    p.source_digest().unwrap_or("-"),
                    p.build_type()
                );
            }
        }
    }
    Ok(())
}

fn provenance_json(p: &VerifiedProvenance) -> Value {
    json!({
        "builderId": p.builder_id(),
        "buildType": p.build_type(),
        "sourceUri": p.source_uri(),
        "sourceRef": p.source_ref(),
        "sourceDigest": p.source_digest(),
    })
}

/// `--policy`: the verified facts of every bundle, evaluated.
fn run_policy(
    args: &VerifyAttestationArgs,
    verifier: waxseal_verify::Verifier,
    artifact: &ArtifactInput,
    candidates: &[evidence::Candidate],
) -> Result<ExitCode> {
    let set = policy::load(&args.policy)?;
    let trust = Trust::new(&set, verifier, &args.evaluation.trust_root)?;
    let (facts, failures) = trust.facts(candidates, artifact.artifact());
    let image = policy::image_name(args.image.as_deref(), &args.artifact)?;
    let decision = set.evaluate(&image, &facts, &args.evaluation.options());
    args.evaluation.report(&image, &decision, &failures)
}
