//! `waxseal bench policy`: what deciding costs next to verifying. A real SLSA provenance bundle
//! (shared/vectors/attestations `bcr-module-bazel`, GitHub-built) is verified, then a
//! ClusterImagePolicy with a keyless authority and two Rego attestation policies (the SLSA
//! builder, and the content of a CycloneDX SBOM) is evaluated over the facts, in process, on
//! one core.
//!
//! The SBOM attestation is a statement made here (no real SBOM bundle by the same signer
//! exists); its verification is counted as a second verification of the provenance bundle. The
//! policy step (facts from the two verified bundles, the two Rego policies, the CIP) is timed
//! alone and inside whole decisions (two verifications and the policy step).

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context as _, Result};
use serde::Serialize;
use serde_json::json;
use waxseal_policy::{AttestationFact, Facts, NoMatch, Options, PolicySet, Source};
use waxseal_verify::{Artifact, Identity, Matcher, Policy, VerifiedBundle, Verifier};

use crate::bench::{rate, vector_case};
use crate::evidence;

/// `waxseal bench policy`.
#[derive(Debug, clap::Args)]
pub(crate) struct PolicyArgs {
    /// The shared attestation vectors.
    #[arg(long, default_value = "../shared/vectors/attestations")]
    vectors: PathBuf,
    /// Components in the SBOM the content policy walks.
    #[arg(long, default_value_t = 200)]
    components: usize,
    /// Copies of the ClusterImagePolicy that all match the image (every one must pass; each
    /// statement is converted for Rego once and shared by all of them).
    #[arg(long, default_value_t = 1)]
    policies: usize,
    /// Seconds to measure each figure.
    #[arg(long, default_value_t = 2.0)]
    seconds: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct PolicyReport {
    bundle_verifies_per_sec: f64,
    decisions_per_sec: f64,
    evaluations_per_sec: f64,
    policy_share_of_verification: f64,
    sbom_components: usize,
    policies: usize,
}

const CASE: &str = "bcr-module-bazel";

/// The policy: one keyless authority with two attestations, each with a Rego condition.
fn policy_yaml(name: &str, identity: &str, issuer: &str, builder: &str) -> String {
    format!(
        r#"apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: {name}
spec:
  images:
  - glob: "**"
  authorities:
  - name: release-workflow
    keyless:
      identities:
      - issuer: {issuer}
        subject: {identity}
    attestations:
    - name: provenance
      predicateType: https://slsa.dev/provenance/v1
      policy:
        type: rego
        data: |
          package sigstore
          default isCompliant = false
          isCompliant {{
            input.predicate.runDetails.builder.id == "{builder}"
            input.predicate.buildDefinition.buildType == "https://actions.github.io/buildtypes/workflow/v1"
          }}
    - name: sbom
      predicateType: https://cyclonedx.org/bom
      policy:
        type: rego
        data: |
          package sigstore
          default isCompliant = false
          forbidden := {{"log4j-core", "event-stream"}}
          isCompliant {{
            count([c | c := input.predicate.components[_]; forbidden[c.name]]) == 0
            count([c | c := input.predicate.components[_]; not c.licenses]) == 0
          }}
"#
    )
}

/// Runs `waxseal bench policy`.
pub(crate) fn run(args: &PolicyArgs) -> Result<()> {
    let read = |relative: &str| {
        let path = args.vectors.join(relative);
        std::fs::read(&path).with_context(|| format!("couldn't read {}", path.display()))
    };
    let case = vector_case(&args.vectors, "id", CASE)?;
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned).context("a manifest field");
    let identity = text(&case["expected_identity"])?;
    let issuer = text(&case["expected_issuer"])?;
    let builder = text(&case["expected_builder_id"])?;
    let verifier = Verifier::from_json(&read(&text(&case["trusted_root"])?)?)
        .context("couldn't load the trusted root")?;
    let digest_hex = String::from_utf8(read(&text(&case["files"]["artifact_sha256"])?)?)
        .context("artifact.sha256 is not text")?;
    let artifact = Artifact::from_digest_str(&format!("sha256:{}", digest_hex.trim()))
        .context("artifact.sha256")?;
    let bundle_path = args.vectors.join(text(&case["files"]["bundle"])?);
    let bundle = evidence::read_bundles(&bundle_path, None)?
        .into_iter()
        .next()
        .context("the case has no bundle")?
        .bundle;
    let policy = Policy::Identity(Identity::new(
        Matcher::exact(&identity),
        Matcher::exact(&issuer),
    ));
    let documents: Vec<String> = (0..args.policies.max(1))
        .map(|i| {
            policy_yaml(
                &format!("provenance-and-sbom-{i}"),
                &identity,
                &issuer,
                &builder,
            )
        })
        .collect();
    let set = PolicySet::load(&[Source::new("bench.yaml", documents.join("---\n"))])
        .map_err(|e| anyhow::anyhow!("the bench policy does not load: {e}"))?;
    let components: Vec<_> = (0..args.components)
        .map(|i| {
            json!({"type": "library", "name": format!("component-{i}"), "version": "1.0.0",
                         "licenses": [{"license": {"id": "Apache-2.0"}}]})
        })
        .collect();
    let sbom = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "MODULE.bazel", "digest": {"sha256": digest_hex.trim()}}],
        "predicateType": "https://cyclonedx.org/bom",
        "predicate": {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                      "components": components},
    });
    let options = Options::new(SystemTime::now()).with_no_match(NoMatch::Deny);
    let image = "registry.example/app@sha256:".to_owned() + digest_hex.trim();

    // The policy step: facts from the two verified bundles, then the evaluation.
    let provenance = verifier.verify(&bundle, artifact, &policy)?;
    let second = verifier.verify(&bundle, artifact, &policy)?;
    let evaluate = |provenance: &VerifiedBundle, second: &VerifiedBundle| {
        let mut facts = Facts::default();
        evidence::add_fact(&mut facts, provenance, None);
        // The SBOM bundle's verification, by the same signer.
        facts.attestations.push(AttestationFact::new(
            evidence::signature_fact(second, None),
            "https://cyclonedx.org/bom",
            sbom.clone(),
        ));
        set.evaluate(&image, &facts, &options).allowed()
    };
    anyhow::ensure!(
        evaluate(&provenance, &second),
        "the bench policy denies the vector: check its Rego"
    );
    let decide = || -> Result<bool> {
        let provenance = verifier.verify(&bundle, artifact, &policy)?;
        let second = verifier.verify(&bundle, artifact, &policy)?;
        Ok(evaluate(&provenance, &second))
    };

    let verify_rate = rate(args.seconds, || {
        verifier.verify(&bundle, artifact, &policy).is_ok()
    })?;
    let evaluation_rate = rate(args.seconds, || evaluate(&provenance, &second))?;
    let decision_rate = rate(args.seconds, || decide().unwrap_or(false))?;
    let report = PolicyReport {
        bundle_verifies_per_sec: verify_rate,
        decisions_per_sec: decision_rate,
        evaluations_per_sec: evaluation_rate,
        // Per decision: two bundle verifications, then one policy step.
        policy_share_of_verification: (1.0 / evaluation_rate) / (2.0 / verify_rate),
        sbom_components: args.components,
        policies: args.policies.max(1),
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        println!(
            "case {CASE} (one core), {} matching policies, SBOM of {} components",
            report.policies, report.sbom_components
        );
        println!("  bundle verifications/s                   {verify_rate:>10.0}");
        println!(
            "  policy steps/s (facts + 2 Rego + CIP)    {:>10.0}",
            report.evaluations_per_sec
        );
        println!("  decisions/s (2 verifications + policy)   {decision_rate:>10.0}");
        println!(
            "  policy step / its 2 verifications        {:>10.1} %",
            report.policy_share_of_verification * 100.0
        );
    }
    Ok(())
}
