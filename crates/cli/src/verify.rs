//! `waxseal verify` and `waxseal conformance verify-bundle`: offline bundle verification.
//!
//! Exit codes: 0 verified, 1 not verified (the bundle failed a check; the stage is printed), 2
//! usage or operational error (unreadable files, a bad trusted root).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use waxseal_bundle::ClientTrustConfig;
use waxseal_crypto::PublicKey;
use waxseal_verify::{Artifact, Error, Identity, Matcher, Policy, Verifier};

/// `waxseal verify`.
#[derive(Debug, clap::Args)]
pub(crate) struct VerifyArgs {
    /// The artifact: a file, `sha256:<64 hex digits>` (a digest that is not an existing
    /// path), or an image in a registry (`registry/repository[:tag][@sha256:...]`, without
    /// --bundle: its signatures are found in the registry).
    artifact: String,
    /// The Sigstore bundle (`*.sigstore.json`); required for files and digests.
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// For an IMAGE: `json` prints cosign's JSON array of verified payloads (the default),
    /// `text` the raw payloads.
    #[arg(long, short = 'o', value_enum)]
    output: Option<crate::policy::Output>,
    #[command(flatten)]
    signer: SignerArgs,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    image: crate::image_verify::ImageVerifyArgs,
}

/// Who must have signed: a certificate identity and issuer, or a managed key (shared by the
/// verify commands).
#[derive(Debug, clap::Args)]
pub(crate) struct SignerArgs {
    /// The expected certificate identity (SAN: email, URI or username), exactly.
    #[arg(long, conflicts_with = "certificate_identity_regexp")]
    certificate_identity: Option<String>,
    /// The expected certificate identity as a regular expression matching the whole SAN.
    #[arg(long)]
    certificate_identity_regexp: Option<String>,
    /// The expected OIDC issuer, exactly.
    #[arg(long, conflicts_with = "certificate_oidc_issuer_regexp")]
    certificate_oidc_issuer: Option<String>,
    /// The expected OIDC issuer as a regular expression matching the whole value.
    #[arg(long)]
    certificate_oidc_issuer_regexp: Option<String>,
    /// Verify a signature by this PEM public key instead of a certificate identity.
    #[arg(long, conflicts_with_all = [
        "certificate_identity", "certificate_identity_regexp",
        "certificate_oidc_issuer", "certificate_oidc_issuer_regexp",
    ])]
    key: Option<PathBuf>,
    /// The expected GitHub workflow trigger (certificate extension 1.3.6.1.4.1.57264.1.2),
    /// e.g. `push`.
    #[arg(long)]
    certificate_github_workflow_trigger: Option<String>,
    /// The expected GitHub workflow commit SHA (extension .1.3).
    #[arg(long)]
    certificate_github_workflow_sha: Option<String>,
    /// The expected GitHub workflow name (extension .1.4).
    #[arg(long)]
    certificate_github_workflow_name: Option<String>,
    /// The expected GitHub workflow repository, `owner/repo` (extension .1.5).
    #[arg(long)]
    certificate_github_workflow_repository: Option<String>,
    /// The expected GitHub workflow ref, e.g. `refs/heads/main` (extension .1.6).
    #[arg(long)]
    certificate_github_workflow_ref: Option<String>,
}

impl SignerArgs {
    /// cosign's `--certificate-github-workflow-*` checks on a verified signature: each given
    /// value must equal the certificate extension's. `Err` names the first mismatch.
    pub(crate) fn check_github_workflow(
        &self,
        verified: &waxseal_verify::VerifiedBundle,
    ) -> std::result::Result<(), String> {
        let wanted = [
            ("trigger", "2", &self.certificate_github_workflow_trigger),
            ("sha", "3", &self.certificate_github_workflow_sha),
            ("name", "4", &self.certificate_github_workflow_name),
            (
                "repository",
                "5",
                &self.certificate_github_workflow_repository,
            ),
            ("ref", "6", &self.certificate_github_workflow_ref),
        ];
        for (name, arc, expected) in wanted {
            let Some(expected) = expected else { continue };
            let oid = format!("1.3.6.1.4.1.57264.1.{arc}");
            let actual = verified.certificate_extensions().get(&oid);
            if actual != Some(expected) {
                return Err(format!(
                    "the certificate's GitHub workflow {name} ({oid}) is {}, expected {expected:?}",
                    actual.map_or_else(|| "absent".to_owned(), |a| format!("{a:?}"))
                ));
            }
        }
        Ok(())
    }

    /// The verification policy these flags describe.
    pub(crate) fn policy(&self) -> Result<Policy> {
        if let Some(path) = &self.key {
            return Ok(Policy::PublicKey(read_key(path)?));
        }
        let san = match (
            &self.certificate_identity,
            &self.certificate_identity_regexp,
        ) {
            (Some(exact), None) => Matcher::exact(exact),
            (None, Some(pattern)) => Matcher::regex("--certificate-identity-regexp", pattern)?,
            _ => bail!("give --certificate-identity or --certificate-identity-regexp (or --key)"),
        };
        let issuer = match (
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
        ) {
            (Some(exact), None) => Matcher::exact(exact),
            (None, Some(pattern)) => Matcher::regex("--certificate-oidc-issuer-regexp", pattern)?,
            _ => bail!(
                "give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp (or --key)"
            ),
        };
        Ok(Policy::Identity(Identity::new(san, issuer)))
    }
}

/// The trust material to verify against (shared by the verify commands).
#[derive(Debug, clap::Args)]
pub(crate) struct TrustArgs {
    /// A trusted root JSON (default: the embedded Sigstore public-good root).
    #[arg(long, conflicts_with = "trust_config")]
    trusted_root: Option<PathBuf>,
    /// A ClientTrustConfig JSON, whose trusted root is used.
    #[arg(long)]
    trust_config: Option<PathBuf>,
}

impl TrustArgs {
    /// The verifier for these flags.
    pub(crate) fn verifier(&self) -> Result<Verifier> {
        load_verifier(self.trusted_root.as_deref(), self.trust_config.as_deref())
    }
}

/// `waxseal conformance verify-bundle`, as sigstore-conformance `docs/cli_protocol.md` calls
/// it.
#[derive(Debug, clap::Args)]
pub(crate) struct ConformanceVerifyArgs {
    /// Use Sigstore staging (only with --trusted-root or --trust-config: no staging root is
    /// embedded).
    #[arg(long)]
    staging: bool,
    /// The bundle.
    #[arg(long)]
    bundle: PathBuf,
    /// The expected SAN.
    #[arg(long)]
    certificate_identity: Option<String>,
    /// The expected OIDC issuer.
    #[arg(long)]
    certificate_oidc_issuer: Option<String>,
    /// A PEM public key to verify with instead of an identity.
    #[arg(long)]
    key: Option<PathBuf>,
    /// A trusted root JSON.
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// A ClientTrustConfig JSON.
    #[arg(long)]
    trust_config: Option<PathBuf>,
    /// The artifact path, or `sha256:<hex>`.
    artifact: String,
}

/// Runs `waxseal verify`.
pub(crate) fn run(args: &VerifyArgs) -> Result<ExitCode> {
    let Some(bundle) = &args.bundle else {
        let Some(reference) = crate::image::image_argument(&args.artifact) else {
            bail!(
                "give --bundle: {} is a file or digest, whose signature is in a bundle file \
                 (an image reference would be looked up in its registry)",
                args.artifact
            );
        };
        let verifier = args.trust.verifier()?;
        return crate::image_verify::verify(
            &args.artifact,
            &reference,
            &args.signer,
            &verifier,
            &args.image,
            args.output.unwrap_or(crate::policy::Output::Json),
        );
    };
    let policy = args.signer.policy()?;
    let verifier = args.trust.verifier()?;
    verify_and_report(
        &verifier,
        bundle,
        &args.artifact,
        &policy,
        Some(&args.signer),
    )
}

/// Runs `waxseal conformance verify-bundle`.
pub(crate) fn run_conformance(args: &ConformanceVerifyArgs) -> Result<ExitCode> {
    let policy = match (
        &args.key,
        &args.certificate_identity,
        &args.certificate_oidc_issuer,
    ) {
        (Some(path), None, None) => Policy::PublicKey(read_key(path)?),
        (None, Some(identity), Some(issuer)) => Policy::Identity(Identity::new(
            Matcher::exact(identity),
            Matcher::exact(issuer),
        )),
        _ => bail!("give --certificate-identity and --certificate-oidc-issuer, or --key"),
    };
    if args.staging && args.trusted_root.is_none() && args.trust_config.is_none() {
        bail!("--staging needs --trusted-root or --trust-config: no staging root is embedded");
    }
    let verifier = load_verifier(args.trusted_root.as_deref(), args.trust_config.as_deref())?;
    verify_and_report(&verifier, &args.bundle, &args.artifact, &policy, None)
}

pub(crate) fn read_key(path: &Path) -> Result<PublicKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("couldn't read key {}", path.display()))?;
    PublicKey::from_pem(&text).with_context(|| format!("couldn't parse key {}", path.display()))
}

/// The verifier for `--trusted-root`, `--trust-config`, or the embedded production root.
pub(crate) fn load_verifier(
    trusted_root: Option<&Path>,
    trust_config: Option<&Path>,
) -> Result<Verifier> {
    match (trusted_root, trust_config) {
        (Some(path), _) => {
            let json = std::fs::read(path)
                .with_context(|| format!("couldn't read trusted root {}", path.display()))?;
            Verifier::from_json(&json)
                .with_context(|| format!("couldn't load trusted root {}", path.display()))
        }
        (None, Some(path)) => {
            let json = std::fs::read(path)
                .with_context(|| format!("couldn't read trust config {}", path.display()))?;
            let config = ClientTrustConfig::from_json(&json)
                .with_context(|| format!("couldn't parse trust config {}", path.display()))?;
            Verifier::new(&config.trusted_root)
                .with_context(|| format!("couldn't load the trusted root of {}", path.display()))
        }
        (None, None) => Verifier::production().context("couldn't load the embedded trusted root"),
    }
}

/// The artifact argument: a `sha256:` digest of the right length that is not a path on disk,
/// else a file (sigstore-conformance's rule).
pub(crate) enum ArtifactInput {
    Bytes(Vec<u8>),
    Digest([u8; 32]),
}

impl ArtifactInput {
    pub(crate) fn read(text: &str) -> Result<Self> {
        if text.starts_with("sha256:")
            && !Path::new(text).exists()
            && let Ok(Artifact::Sha256(digest)) = Artifact::from_digest_str(text)
        {
            return Ok(Self::Digest(digest));
        }
        let bytes =
            std::fs::read(text).with_context(|| format!("couldn't read artifact {text}"))?;
        Ok(Self::Bytes(bytes))
    }

    pub(crate) fn artifact(&self) -> Artifact<'_> {
        match self {
            Self::Bytes(bytes) => Artifact::Bytes(bytes),
            Self::Digest(digest) => Artifact::Sha256(*digest),
        }
    }
}

fn verify_and_report(
    verifier: &Verifier,
    bundle: &Path,
    artifact: &str,
    policy: &Policy,
    signer: Option<&SignerArgs>,
) -> Result<ExitCode> {
    let bundle_json = std::fs::read(bundle)
        .with_context(|| format!("couldn't read bundle {}", bundle.display()))?;
    let artifact = ArtifactInput::read(artifact)?;
    match verifier.verify_json(&bundle_json, artifact.artifact(), policy) {
        Ok(verified) => {
            if let Some(Err(reason)) = signer.map(|s| s.check_github_workflow(&verified)) {
                eprintln!("verification failed at policy: {reason}");
                return Ok(ExitCode::from(1));
            }
            let who = match (verified.identity(), verified.issuer()) {
                (Some(identity), Some(issuer)) => {
                    format!("identity {identity} issuer {issuer}")
                }
                _ => "the given key".to_owned(),
            };
            let time = verified
                .signed_time()
                .map_or_else(|| "-".to_owned(), |t| t.to_string());
            println!(
                "verified: {who}, log index {}, signed at {time}",
                verified.log_index()
            );
            Ok(ExitCode::SUCCESS)
        }
        // The caller's input or trust material is at fault, not the bundle: exit 2.
        Err(e @ (Error::Input(_) | Error::TrustedRoot(_))) => Err(e.into()),
        Err(e) => {
            eprintln!("verification failed at {}: {e}", e.stage());
            Ok(ExitCode::from(1))
        }
    }
}
