//! Attestations for waxseal: in-toto statements, predicate types and their checks, SLSA v1
//! provenance generated from the CI job, and the provenance checks slsa-verifier makes.
//!
//! What it implements:
//!
//! - in-toto Statement v1, reading v0.1 too (in-toto/attestation `spec/v1/statement.md`,
//!   `resource_descriptor.md`): [`Statement`].
//! - Predicate types: cosign's `--type` names (sigstore/cosign
//!   `cmd/cosign/cli/options/predicate.go`) and structural checks for SLSA provenance v1
//!   (slsa-framework/slsa `docs/spec/v1.0/provenance.md`) and v0.2, CycloneDX JSON 1.2–1.6,
//!   SPDX 2.2/2.3 JSON and SPDX 3 JSON-LD, OpenVEX, cosign vuln and in-toto vulns:
//!   [`predicate_type_uri`], [`check_predicate`].
//! - SLSA v1 provenance from CI: GitHub Actions exactly as actions/toolkit
//!   `packages/attest/src/provenance.ts` builds it from the job's OIDC token claims, and
//!   GitLab CI as the runner writes it for `RUNNER_GENERATE_ARTIFACTS_METADATA`:
//!   [`detect`], [`github_provenance`], [`gitlab_provenance`].
//! - The checks slsa-verifier makes on GitHub-built provenance (slsa-framework/slsa-verifier
//!   `verifiers/internal/gha/{builder.go,provenance.go}`, `verifiers/utils/builder.go`):
//!   builder binding to the signing certificate, trusted builders, source repository, ref,
//!   tag and versioned tag: [`check_provenance`].
//!
//! What it does **not** do: verify signatures, DSSE envelopes, certificates or transparency
//! log entries (`waxseal-verify` does, and hands over the statement and the certificate's
//! Fulcio extensions), fetch or decode OIDC tokens (`waxseal-oidc`), sign (`waxseal-client`),
//! read the process environment unless asked to ([`ProcessEnvironment`]), validate SBOMs
//! against their full JSON schemas (only the fields the formats require), or verify
//! provenance from builders other than GitHub Actions (GitLab provenance is generated, not
//! verified).
//!
//! ```
//! use std::collections::BTreeMap;
//! use waxseal_attestation::{Statement, Subject, check_predicate, predicate_type_uri};
//!
//! let predicate_type = predicate_type_uri("cyclonedx")?;
//! let bom = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.5"});
//! check_predicate(&predicate_type, &bom)?;
//! let subject = Subject::new("app.tar.gz", "sha256", "ab".repeat(32));
//! let statement = Statement::new(vec![subject], predicate_type, bom)?;
//! let parsed = Statement::parse(&statement.to_json())?;
//! assert!(parsed.has_subject_digest("sha256", &"ab".repeat(32)));
//! # let _ = BTreeMap::<String, String>::new();
//! # Ok::<(), waxseal_attestation::Error>(())
//! ```

mod error;
mod predicate;
mod provenance;
mod semver;
mod slsa;
mod statement;

pub use error::Error;
pub use predicate::{
    COSIGN_CUSTOM_V1, COSIGN_VULN_V1, CYCLONEDX_BOM, GITHUB_WORKFLOW_BUILD_TYPE, IN_TOTO_LINK_V1,
    IN_TOTO_VULNS_V01, IN_TOTO_VULNS_V02, OPENVEX, SLSA_GITHUB_WORKFLOW_BUILD_TYPE,
    SLSA_PROVENANCE_V1, SLSA_PROVENANCE_V02, SPDX_DOCUMENT, check_predicate, predicate_type_uri,
};
pub use provenance::{
    Ci, Environment, ProcessEnvironment, detect, github_provenance, gitlab_provenance,
};
pub use slsa::{
    CertificateFacts, GITHUB_ACTIONS_ISSUER, GITHUB_HOSTED_RUNNER, ProvenanceRequirements,
    SELF_HOSTED_RUNNER, VerifiedProvenance, check_provenance,
};
pub use statement::{STATEMENT_V01, STATEMENT_V1, Statement, Subject};
