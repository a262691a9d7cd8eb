//! `waxseal policy validate` and `waxseal policy check`: policy-controller ClusterImagePolicy
//! documents loaded by `waxseal-policy`, evaluated over bundles verified here.
//!
//! Exit codes: `validate` 0 valid, 1 invalid (every reason printed), 2 unreadable; `check` 0
//! allowed (warn-mode failures printed as warnings), 1 denied, 2 usage or operational error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context as _, Result, bail};
use waxseal_crypto::PublicKey;
use waxseal_policy::{Decision, Facts, NoMatch, Options, PolicySet, Source};
use waxseal_verify::{Artifact, Identity, Matcher, Policy, Verifier};

use crate::evidence::{self, Candidate};
use crate::verify::{ArtifactInput, TrustArgs, load_verifier};

/// `waxseal policy validate`.
#[derive(Debug, clap::Args)]
pub(crate) struct ValidateArgs {
    /// Policy files or directories (every `*.yaml`/`*.yml` in them, sorted by name).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
}

/// `waxseal policy check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// The policies: a file (multi-document YAML) or a directory; repeatable.
    #[arg(long, required = true)]
    policy: Vec<PathBuf>,
    /// The artifact: a file, `sha256:<64 hex digits>`, or an image in a registry
    /// (`registry/repository[:tag][@sha256:...]`, without --bundle: its signatures and
    /// attestations are found in the registry).
    artifact: String,
    /// Bundles of signatures and attestations over the artifact (bundle JSON, JSON Lines, or
    /// bare DSSE with --rekor-entry); repeatable; required for files and digests.
    #[arg(long)]
    bundle: Vec<PathBuf>,
    /// The Rekor v1 log entry of bare DSSE envelopes in the bundle files.
    #[arg(long)]
    rekor_entry: Option<PathBuf>,
    /// The image reference the policies' globs are matched against (default: the artifact's
    /// file name; required for a `sha256:` digest).
    #[arg(long)]
    image: Option<String>,
    #[command(flatten)]
    options: EvaluationArgs,
    #[command(flatten)]
    trust: TrustArgs,
    #[command(flatten)]
    image_args: crate::image_verify::ImageVerifyArgs,
}

/// How policies are evaluated (shared with `verify-attestation --policy`).
#[derive(Debug, clap::Args)]
pub(crate) struct EvaluationArgs {
    /// A named trusted root for `trustRootRef`: NAME=FILE (a trusted root JSON); repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub(crate) trust_root: Vec<String>,
    /// What happens to an image no policy matches (policy-controller's `no-match-policy`).
    #[arg(long, value_enum, default_value = "deny")]
    no_match_policy: NoMatchArg,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    output: Output,
}

/// `--no-match-policy`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum NoMatchArg {
    /// Deny images no policy covers (policy-controller's default).
    Deny,
    /// Allow them.
    Allow,
    /// Allow them with a warning.
    Warn,
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// For a person.
    Text,
    /// JSON on stdout.
    Json,
}

/// Reads policy sources from files and directories.
pub(crate) fn read_sources(paths: &[PathBuf]) -> Result<Vec<Source>> {
    let mut sources = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .with_context(|| format!("couldn't read policy {}", path.display()))?;
        let files = if meta.is_dir() {
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path)
                .with_context(|| format!("couldn't list policy directory {}", path.display()))?
            {
                let file = entry
                    .with_context(|| format!("couldn't list {}", path.display()))?
                    .path();
                if file.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                    files.push(file);
                }
            }
            files.sort();
            if files.is_empty() {
                bail!(
                    "policy directory {} holds no *.yaml or *.yml file",
                    path.display()
                );
            }
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("couldn't read policy {}", file.display()))?;
            sources.push(Source::new(file.display().to_string(), text));
        }
    }
    Ok(sources)
}

/// Loads the policies; load errors (every reason) are returned as one error.
pub(crate) fn load(paths: &[PathBuf]) -> Result<PolicySet> {
    let sources = read_sources(paths)?;
    PolicySet::load(&sources).map_err(|errors| anyhow::anyhow!("invalid policy:\n{errors}"))
}

/// Runs `waxseal policy validate`.
pub(crate) fn validate(args: &ValidateArgs) -> Result<ExitCode> {
    let sources = read_sources(&args.paths)?;
    match PolicySet::load(&sources) {
        Ok(set) => {
            println!(
                "valid: {} ClusterImagePolicy documents in {} files",
                set.policies().len(),
                sources.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("invalid:\n{errors}");
            Ok(ExitCode::from(1))
        }
    }
}

/// The verifiers a policy set needs: the default trusted root, the named ones, and the keys of
/// its key authorities.
pub(crate) struct Trust {
    default: Verifier,
    named: Vec<(String, Verifier)>,
    keys: Vec<PublicKey>,
}

impl Trust {
    /// Loads what `set` refers to; a `trustRootRef` without a `--trust-root` is an error.
    pub(crate) fn new(set: &PolicySet, default: Verifier, named: &[String]) -> Result<Self> {
        let mut roots = Vec::new();
        for spec in named {
            let (name, path) = spec
                .split_once('=')
                .with_context(|| format!("--trust-root {spec:?} is not NAME=FILE"))?;
            roots.push((name.to_owned(), load_verifier(Some(Path::new(path)), None)?));
        }
        for wanted in set.trust_root_refs() {
            if !roots.iter().any(|(name, _)| *name == wanted) {
                bail!(
                    "a policy names trustRootRef {wanted:?}: give it with --trust-root {wanted}=FILE"
                );
            }
        }
        Ok(Self {
            default,
            named: roots,
            keys: set.keys(),
        })
    }

    /// Verifies every candidate under every root and key, collecting the facts; a candidate
    /// that verifies under none is reported in the returned reasons.
    pub(crate) fn facts(
        &self,
        candidates: &[Candidate],
        artifact: Artifact<'_>,
    ) -> (Facts, Vec<String>) {
        self.facts_with(
            candidates,
            |c| c.source.clone(),
            |verifier, c, policy| verifier.verify(&c.bundle, artifact, policy),
        )
    }

    /// As [`Trust::facts`], for any kind of candidate `verify` knows how to verify.
    pub(crate) fn facts_with<T>(
        &self,
        candidates: &[T],
        source: impl Fn(&T) -> String,
        verify: impl Fn(
            &Verifier,
            &T,
            &Policy,
        ) -> Result<waxseal_verify::VerifiedBundle, waxseal_verify::Error>,
    ) -> (Facts, Vec<String>) {
        let any = any_identity();
        let mut facts = Facts::default();
        let mut failures = Vec::new();
        for candidate in candidates {
            let mut verified_once = false;
            let mut last_error = None;
            let roots = std::iter::once((None, &self.default))
                .chain(self.named.iter().map(|(n, v)| (Some(n.as_str()), v)));
            for (name, verifier) in roots {
                match verify(verifier, candidate, &any) {
                    Ok(verified) => {
                        evidence::add_fact(&mut facts, &verified, name);
                        verified_once = true;
                    }
                    Err(e) => last_error = Some(e),
                }
            }
            for key in &self.keys {
                let policy = Policy::PublicKey(key.clone());
                match verify(&self.default, candidate, &policy) {
                    Ok(verified) => {
                        evidence::add_fact(&mut facts, &verified, None);
                        verified_once = true;
                    }
                    Err(e) => last_error = Some(e),
                }
            }
            if !verified_once && let Some(e) = last_error {
                failures.push(format!(
                    "{}: verification failed at {}: {e}",
                    source(candidate),
                    e.stage()
                ));
            }
        }
        (facts, failures)
    }
}

/// A keyless policy any certificate identity passes: the policy documents decide who may
/// sign, after the bundle verified.
fn any_identity() -> Policy {
    #[allow(clippy::expect_used)]
    let any = || Matcher::regex("any", ".*").expect("`.*` compiles");
    Policy::Identity(Identity::new(any(), any()))
}

impl EvaluationArgs {
    /// `--output`.
    pub(crate) fn output_format(&self) -> Output {
        self.output
    }

    /// The engine's options, evaluated now.
    pub(crate) fn options(&self) -> Options {
        let no_match = match self.no_match_policy {
            NoMatchArg::Deny => NoMatch::Deny,
            NoMatchArg::Allow => NoMatch::Allow,
            NoMatchArg::Warn => NoMatch::Warn,
        };
        Options::new(SystemTime::now()).with_no_match(no_match)
    }

    /// Prints the decision and maps it to an exit code.
    pub(crate) fn report(
        &self,
        image: &str,
        decision: &Decision,
        failures: &[String],
    ) -> Result<ExitCode> {
        if self.output == Output::Json {
            let json = serde_json::json!({
                "image": image,
                "allowed": decision.allowed(),
                "decision": decision,
                "unverified": failures,
            });
            println!("{}", serde_json::to_string_pretty(&json)?);
        } else {
            for failure in failures {
                eprintln!("skipped: {failure}");
            }
            for warning in decision.warnings() {
                eprintln!("warning: {warning}");
            }
            if decision.allowed() {
                println!("allowed: {image}");
            } else {
                eprintln!("denied: {image}: {}", decision.message());
            }
        }
        Ok(if decision.allowed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}

/// The image reference an artifact stands for: `--image`, else the file's name.
pub(crate) fn image_name(explicit: Option<&str>, artifact: &str) -> Result<String> {
    if let Some(image) = explicit {
        return Ok(image.to_owned());
    }
    let path = Path::new(artifact);
    match path.file_name().and_then(|n| n.to_str()) {
        Some(name) if path.exists() => Ok(name.to_owned()),
        _ => bail!(
            "give --image REFERENCE: the artifact {artifact} is not a file whose name the \
             policies' image globs could match"
        ),
    }
}

/// Runs `waxseal policy check`.
pub(crate) fn check(args: &CheckArgs) -> Result<ExitCode> {
    let set = load(&args.policy)?;
    let trust = Trust::new(&set, args.trust.verifier()?, &args.options.trust_root)?;
    if args.bundle.is_empty() {
        let Some(reference) = crate::image::image_argument(&args.artifact) else {
            bail!(
                "give --bundle: {} is a file or digest, whose signatures are in bundle files \
                 (an image reference would be looked up in its registry)",
                args.artifact
            );
        };
        let kinds = [waxseal_oci::Kind::Signature, waxseal_oci::Kind::Attestation];
        let fetched = crate::image::as_image(
            &args.artifact,
            &reference,
            crate::image_verify::fetch(&reference, &args.image_args.registry, &kinds),
        )?;
        let (facts, failures) = crate::image_verify::image_facts(
            &trust,
            &fetched.attached,
            &fetched.digest,
            &args.image_args.options(),
        );
        let image = args
            .image
            .clone()
            .unwrap_or_else(|| fetched.reference.to_string());
        let decision = set.evaluate(&image, &facts, &args.options.options());
        return args.options.report(&image, &decision, &failures);
    }
    let artifact = ArtifactInput::read(&args.artifact)?;
    let mut candidates = Vec::new();
    for path in &args.bundle {
        candidates.extend(evidence::read_bundles(path, args.rekor_entry.as_deref())?);
    }
    let (facts, failures) = trust.facts(&candidates, artifact.artifact());
    let image = image_name(args.image.as_deref(), &args.artifact)?;
    let decision = set.evaluate(&image, &facts, &args.options.options());
    args.options.report(&image, &decision, &failures)
}
