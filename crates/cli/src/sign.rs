//! `waxseal sign`, `waxseal generate-key-pair` and `waxseal conformance sign-bundle`: argument
//! handling around `waxseal-client`.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use waxseal_bundle::{ClientTrustConfig, SigningConfig, TrustedRoot};
use waxseal_client::{Client, Content, Credential, IdentityToken, Instance, SignedBundle};
use waxseal_crypto::{Algorithm, SigningKey};

/// The instance `waxseal sign` uses when given none: a local `waxseal serve`.
pub(crate) const DEFAULT_INSTANCE: &str = "http://127.0.0.1:8700";

/// The environment variable holding the managed key's passphrase.
const PASSWORD_ENV: &str = "WAXSEAL_PASSWORD";

/// `waxseal sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct SignArgs {
    /// The artifact: a file, `sha256:<64 hex digits>` (a digest that is not an existing path;
    /// the signature is then over the digest), or an image in a registry
    /// (`registry/repository[:tag][@sha256:...]`: the signature is attached to it there).
    /// With --in-toto, an in-toto statement.
    file: String,
    /// Where to write the bundle (default: FILE.sigstore.json).
    #[arg(long)]
    bundle: Option<PathBuf>,
    /// FILE is an in-toto statement: sign it as a DSSE envelope.
    #[arg(long)]
    in_toto: bool,
    #[command(flatten)]
    signing: SigningArgs,
    #[command(flatten)]
    image: crate::image_sign::ImageSignArgs,
}

/// How to sign: the instance, and a keyless identity or a managed key (shared by `sign` and
/// `attest`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SigningArgs {
    /// The OIDC identity token (JWT).
    #[arg(long, env = "SIGSTORE_ID_TOKEN", hide_env_values = true)]
    pub(crate) identity_token: Option<String>,
    /// A ClientTrustConfig JSON file naming the instance.
    #[arg(long, conflicts_with = "instance")]
    trust_config: Option<PathBuf>,
    /// The instance's URL; its trust config is fetched from /trust/client_trust_config.json.
    #[arg(long, env = "WAXSEAL_INSTANCE", default_value = DEFAULT_INSTANCE)]
    instance: String,
    /// Sign with this managed key (from `waxseal generate-key-pair`; passphrase from
    /// WAXSEAL_PASSWORD or a prompt) instead of a keyless certificate (no identity token is
    /// then sent anywhere).
    #[arg(long, conflicts_with_all = ["client_id"])]
    pub(crate) key: Option<PathBuf>,
    /// A service account of the instance's OIDC issuer (client-credentials grant), used when
    /// no identity token is given.
    #[arg(long, env = "WAXSEAL_CLIENT_ID", requires = "client_secret")]
    client_id: Option<String>,
    /// The service account's secret.
    #[arg(long, env = "WAXSEAL_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
}

/// `waxseal generate-key-pair`.
#[derive(Debug, clap::Args)]
pub(crate) struct GenerateKeyPairArgs {
    /// Writes PREFIX.key (encrypted private key, 0600) and PREFIX.pub (PEM public key).
    #[arg(long, default_value = "waxseal")]
    output_key_prefix: String,
}

/// `waxseal conformance sign-bundle`, as sigstore-conformance `docs/cli_protocol.md` calls it.
#[derive(Debug, clap::Args)]
pub(crate) struct ConformanceSignArgs {
    /// Use Sigstore staging (not supported: give --trusted-root and --signing-config).
    #[arg(long)]
    staging: bool,
    /// The OIDC identity token.
    #[arg(long)]
    identity_token: String,
    /// Where to write the bundle.
    #[arg(long)]
    bundle: PathBuf,
    /// A trusted root JSON (with --signing-config).
    #[arg(long, requires = "signing_config")]
    trusted_root: Option<PathBuf>,
    /// A signing config v0.2 JSON (with --trusted-root).
    #[arg(long, requires = "trusted_root")]
    signing_config: Option<PathBuf>,
    /// FILE is an in-toto statement: sign it as a DSSE envelope.
    #[arg(long)]
    in_toto: bool,
    /// The artifact.
    file: PathBuf,
}

/// What to sign, from a path or a `sha256:` digest that is not a path.
fn content(file: &str, in_toto: bool) -> Result<Content> {
    let path = Path::new(file);
    if !in_toto && file.starts_with("sha256:") && !path.exists() {
        return Content::from_digest(file).context("couldn't read the artifact digest");
    }
    let bytes = std::fs::read(path).with_context(|| format!("couldn't read {file}"))?;
    if in_toto {
        Content::in_toto(bytes).with_context(|| format!("{file} is not an in-toto statement"))
    } else {
        Ok(Content::Artifact(bytes))
    }
}

fn read_json(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("couldn't read {}", path.display()))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")
}

/// Writes the bundle and reports it.
pub(crate) fn write_bundle(path: &Path, signed: &SignedBundle) -> Result<()> {
    std::fs::write(path, signed.bundle.to_json_pretty())
        .with_context(|| format!("couldn't write the bundle to {}", path.display()))
}

pub(crate) fn run(args: &SignArgs) -> Result<()> {
    if !args.in_toto
        && args.bundle.is_none()
        && let Some(reference) = crate::image::image_argument(&args.file)
    {
        return crate::image_sign::sign(&args.file, &reference, &args.signing, &args.image);
    }
    let content = content(&args.file, args.in_toto)?;
    let output = args.bundle.clone().unwrap_or_else(|| {
        let name = if args.file.starts_with("sha256:") && !Path::new(&args.file).exists() {
            args.file.replace(':', "-")
        } else {
            args.file.clone()
        };
        PathBuf::from(format!("{name}.sigstore.json"))
    });
    let signed = sign_content(&args.signing, &content)?;
    write_bundle(&output, &signed)?;
    report(&signed, &output);
    Ok(())
}

/// Prints who signed, where it was logged and where the bundle went.
pub(crate) fn report(signed: &SignedBundle, output: &Path) {
    match &signed.identity {
        Some(identity) => println!(
            "waxseal: signed as {identity}; log index {}; bundle written to {}",
            signed.log_index,
            output.display()
        ),
        None => println!(
            "waxseal: signed with the key; log index {}; bundle written to {}",
            signed.log_index,
            output.display()
        ),
    }
}

/// Signs `content` on the instance `args` names, keyless or with the managed key.
pub(crate) fn sign_content(args: &SigningArgs, content: &Content) -> Result<SignedBundle> {
    let key = match &args.key {
        Some(path) => Some(load_key(path)?),
        None => None,
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let client = Client::new()?;
        let trust = match &args.trust_config {
            Some(path) => ClientTrustConfig::from_json(&read_json(path)?)
                .with_context(|| format!("{} is not a ClientTrustConfig", path.display()))?,
            None => client
                .fetch_trust_config(&args.instance)
                .await
                .context("couldn't load the instance (is `waxseal serve` running? or pass --trust-config / --instance)")?,
        };
        let instance = Instance::new(trust, SystemTime::now())?;
        let credential = match key {
            Some(key) => Credential::Key(key),
            None => Credential::IdentityToken(identity_token(&client, &instance, args).await?),
        };
        anyhow::Ok(client.sign(&instance, &credential, content).await?)
    })
}

/// The token: given (flag or SIGSTORE_ID_TOKEN), else client credentials at the instance's
/// OIDC issuer.
async fn identity_token(
    client: &Client,
    instance: &Instance,
    args: &SigningArgs,
) -> Result<IdentityToken> {
    if let Some(token) = &args.identity_token {
        return Ok(IdentityToken::parse(token)?);
    }
    if let Some(token) = github_actions_token(client).await? {
        return Ok(token);
    }
    let (Some(id), Some(secret)) = (&args.client_id, &args.client_secret) else {
        bail!(
            "no identity token: pass --identity-token (or set SIGSTORE_ID_TOKEN), \
             --client-id and --client-secret for the instance's OIDC issuer, or --key \
             (in GitHub Actions, give the job `permissions: id-token: write`)"
        );
    };
    let issuer = instance
        .services()
        .oidc
        .as_ref()
        .context("the signing config lists no OIDC issuer for --client-id")?;
    Ok(client
        .client_credentials_token(&issuer.url, id, secret)
        .await?)
}

/// In GitHub Actions with `id-token: write`, the job's OIDC token for the `sigstore` audience
/// (`ACTIONS_ID_TOKEN_REQUEST_URL` and `ACTIONS_ID_TOKEN_REQUEST_TOKEN`); `None` elsewhere.
pub(crate) async fn github_actions_token(client: &Client) -> Result<Option<IdentityToken>> {
    let (Ok(url), Ok(bearer)) = (
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL"),
        std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
    ) else {
        return Ok(None);
    };
    let token = client
        .github_actions_token(&url, &bearer, "sigstore")
        .await
        .context("couldn't get the GitHub Actions job's OIDC token")?;
    Ok(Some(token))
}

/// [`github_actions_token`] outside an async context.
pub(crate) fn github_actions_token_blocking() -> Result<Option<IdentityToken>> {
    runtime()?.block_on(async {
        let client = Client::new()?;
        github_actions_token(&client).await
    })
}

pub(crate) fn run_conformance(args: &ConformanceSignArgs) -> Result<()> {
    if args.staging {
        bail!("--staging is not supported: pass --trusted-root and --signing-config");
    }
    let file = args
        .file
        .to_str()
        .context("the artifact path is not UTF-8")?;
    let content = content(file, args.in_toto)?;
    let token = IdentityToken::parse(&args.identity_token)?;
    let runtime = runtime()?;
    let signed = runtime.block_on(async {
        let client = Client::new()?;
        let trust = match (&args.trusted_root, &args.signing_config) {
            (Some(root), Some(config)) => ClientTrustConfig::new(
                TrustedRoot::from_json(&read_json(root)?)
                    .with_context(|| format!("{} is not a trusted root", root.display()))?,
                SigningConfig::from_json(&read_json(config)?)
                    .with_context(|| format!("{} is not a signing config", config.display()))?,
            ),
            _ => client.fetch_trust_config(DEFAULT_INSTANCE).await.context(
                "couldn't load the local instance (pass --trusted-root and --signing-config)",
            )?,
        };
        let instance = Instance::new(trust, SystemTime::now())?;
        anyhow::Ok(
            client
                .sign(&instance, &Credential::IdentityToken(token), &content)
                .await?,
        )
    })?;
    write_bundle(&args.bundle, &signed)
}

pub(crate) fn generate_key_pair(args: &GenerateKeyPairArgs) -> Result<()> {
    let key_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let pub_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    for path in [&key_path, &pub_path] {
        if path.exists() {
            bail!("{} exists: refusing to overwrite it", path.display());
        }
    }
    let passphrase = new_passphrase()?;
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't make a key")?;
    let sealed = key
        .to_encrypted_pem(passphrase.as_bytes())
        .context("couldn't encrypt the key")?;
    write_new(&key_path, sealed.as_bytes(), 0o600)?;
    write_new(&pub_path, key.public_key().to_pem().as_bytes(), 0o644)?;
    println!(
        "waxseal: private key written to {} (encrypted), public key to {}",
        key_path.display(),
        pub_path.display()
    );
    Ok(())
}

/// Creates `path` with `mode`, failing if it exists.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("couldn't create {}", path.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("couldn't write {}", path.display()))
}

fn load_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("couldn't read the key {}", path.display()))?;
    let passphrase = passphrase("Passphrase for the key: ")?;
    SigningKey::from_encrypted_pem(&text, passphrase.as_bytes())
        .with_context(|| format!("couldn't open the key {}", path.display()))
}

/// A passphrase for a new key: WAXSEAL_PASSWORD, else asked twice.
fn new_passphrase() -> Result<String> {
    if let Ok(value) = std::env::var(PASSWORD_ENV) {
        return Ok(value);
    }
    let first = passphrase("Passphrase for the new key: ")?;
    let second = passphrase("Again: ")?;
    if first != second {
        bail!("the passphrases differ");
    }
    Ok(first)
}

/// WAXSEAL_PASSWORD, else a line from the terminal (echo turned off with `stty`).
fn passphrase(prompt: &str) -> Result<String> {
    if let Ok(value) = std::env::var(PASSWORD_ENV) {
        return Ok(value);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("no passphrase: set {PASSWORD_ENV} (stdin is not a terminal to ask on)");
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .stdin(std::process::Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty")
            .arg("echo")
            .stdin(std::process::Stdio::inherit())
            .status();
        eprintln!();
    }
    read.context("couldn't read the passphrase")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
