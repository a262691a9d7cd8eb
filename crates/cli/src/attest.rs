//! `waxseal attest`: an in-toto Statement v1 naming every FILE as a subject, with a checked
//! predicate (or SLSA v1 provenance built from the CI environment), signed as a DSSE bundle
//! v0.3 on an instance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256, Sha512};
use waxseal_attestation::{
    Ci, Statement, Subject, check_predicate, detect, github_provenance, gitlab_provenance,
    predicate_type_uri,
};
use waxseal_client::{Content, IdentityToken};

use crate::sign::{SigningArgs, github_actions_token_blocking, report, sign_content, write_bundle};

/// SLSA provenance v1's predicate type.
const SLSA_V1: &str = "https://slsa.dev/provenance/v1";

/// `waxseal attest`.
#[derive(Debug, clap::Args)]
pub(crate) struct AttestArgs {
    /// The artifacts the statement is about (its subjects: file name and digests), or one
    /// image in a registry (`registry/repository[:tag][@sha256:...]`: the attestation is
    /// attached to it there as a referrer).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The predicate: a JSON file (checked against its type before signing).
    #[arg(
        long,
        required_unless_present = "provenance",
        conflicts_with = "provenance"
    )]
    predicate: Option<PathBuf>,
    /// The predicate type: a URI or cosign's names (slsaprovenance, slsaprovenance02,
    /// slsaprovenance1, link, spdx, spdxjson, cyclonedx, vuln, openvex, custom).
    #[arg(
        long = "type",
        required_unless_present = "provenance",
        conflicts_with = "provenance"
    )]
    predicate_type: Option<String>,
    /// Build SLSA v1 provenance from the CI job instead (GitHub Actions: from the job's OIDC
    /// token and GITHUB_SERVER_URL; GitLab CI: from its CI_* variables).
    #[arg(long)]
    provenance: bool,
    /// Subject digests: sha256 (always), plus sha512 with `sha512`.
    #[arg(long, value_enum, default_value = "sha256")]
    digest_alg: DigestAlg,
    /// Where to write the bundle (default: FIRST_FILE.intoto.sigstore.json).
    #[arg(long)]
    bundle: Option<PathBuf>,
    #[command(flatten)]
    signing: SigningArgs,
    #[command(flatten)]
    registry: crate::image::RegistryArgs,
}

/// `--digest-alg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DigestAlg {
    /// SHA-256 only.
    Sha256,
    /// SHA-256 and SHA-512.
    Sha512,
}

/// Runs `waxseal attest`.
pub(crate) fn run(args: &AttestArgs) -> Result<()> {
    let image = match args.files.as_slice() {
        [one] if args.bundle.is_none() => one
            .to_str()
            .and_then(|arg| crate::image::image_argument(arg).map(|r| (arg, r))),
        _ => None,
    };
    let mut subjects = Vec::with_capacity(args.files.len());
    if image.is_none() {
        for file in &args.files {
            subjects.push(subject(file, args.digest_alg)?);
        }
    }
    let mut signing = args.signing.clone();
    let (predicate_type, predicate) = if args.provenance {
        (SLSA_V1.to_owned(), provenance(&mut signing)?)
    } else {
        let (Some(path), Some(name)) = (&args.predicate, &args.predicate_type) else {
            bail!("give --predicate FILE and --type TYPE, or --provenance");
        };
        let uri = predicate_type_uri(name).context("bad --type")?;
        let bytes = std::fs::read(path)
            .with_context(|| format!("couldn't read predicate {}", path.display()))?;
        let predicate: serde_json::Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("predicate {} is not JSON", path.display()))?;
        check_predicate(&uri, &predicate)
            .with_context(|| format!("predicate {} is not a valid {uri}", path.display()))?;
        (uri, predicate)
    };
    if let Some((arg, reference)) = image {
        return crate::image_sign::attest(
            arg,
            &reference,
            &signing,
            &args.registry,
            &predicate_type,
            &predicate,
        );
    }
    let statement = Statement::new(subjects, predicate_type, predicate)
        .context("couldn't build the statement")?;
    let content = Content::in_toto(statement.to_json()).context("the statement")?;
    let output = args.bundle.clone().unwrap_or_else(|| {
        let mut name = args.files[0].clone().into_os_string();
        name.push(".intoto.sigstore.json");
        PathBuf::from(name)
    });
    let signed = sign_content(&signing, &content)?;
    write_bundle(&output, &signed)?;
    report(&signed, &output);
    Ok(())
}

/// A file's subject: its file name and digests, read in chunks.
fn subject(path: &Path, alg: DigestAlg) -> Result<Subject> {
    use std::io::Read as _;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{} has no UTF-8 file name", path.display()))?
        .to_owned();
    let mut file = std::fs::File::open(path)
        .with_context(|| format!("couldn't open artifact {}", path.display()))?;
    let mut sha256 = Sha256::new();
    let mut sha512 = (alg == DigestAlg::Sha512).then(Sha512::new);
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buffer)
            .with_context(|| format!("couldn't read artifact {}", path.display()))?;
        if n == 0 {
            break;
        }
        sha256.update(&buffer[..n]);
        if let Some(h) = sha512.as_mut() {
            h.update(&buffer[..n]);
        }
    }
    let mut digest = BTreeMap::new();
    digest.insert("sha256".to_owned(), hex::encode(sha256.finalize()));
    if let Some(h) = sha512 {
        digest.insert("sha512".to_owned(), hex::encode(h.finalize()));
    }
    Ok(Subject { name, digest })
}

/// SLSA v1 provenance for the CI job this runs in. In GitHub Actions the job's OIDC token is
/// fetched once (unless given) and kept in `signing`, so the certificate and the provenance
/// come from the same token.
fn provenance(signing: &mut SigningArgs) -> Result<serde_json::Value> {
    let env: BTreeMap<String, String> = std::env::vars().collect();
    match detect(&env).context("--provenance")? {
        Ci::GitHubActions => {
            let token = match &signing.identity_token {
                Some(jwt) => IdentityToken::parse(jwt).context("the identity token")?,
                None => match github_actions_token_blocking()? {
                    Some(token) => {
                        signing.identity_token = Some(token.as_str().to_owned());
                        token
                    }
                    None => bail!(
                        "--provenance in GitHub Actions is built from the job's OIDC token: give \
                         the job `permissions: id-token: write` (ACTIONS_ID_TOKEN_REQUEST_URL is \
                         not set), or pass the token with --identity-token or SIGSTORE_ID_TOKEN"
                    ),
                },
            };
            github_provenance(token.claims(), &env).context("couldn't build GitHub provenance")
        }
        Ci::GitLabCi => gitlab_provenance(&env).context("couldn't build GitLab provenance"),
        other => bail!("--provenance: {other:?} is not supported"),
    }
}
