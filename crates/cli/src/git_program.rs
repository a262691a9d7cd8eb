//! waxseal as git's `gpg.x509.program` (git `gpg-interface.c`): git runs the program by path,
//! without a shell, with gpg's arguments, so `main` sends such argument lists here before
//! clap sees them.
//!
//! - Sign: `--status-fd=2 -bsau KEY`, the payload on stdin, the armored `SIGNED MESSAGE` on
//!   stdout, `BEGIN_SIGNING` and `SIG_CREATED` on the status fd.
//! - Verify: `--status-fd=1 --verify SIGFILE -`, the payload on stdin, `NEWSIG`, `GOODSIG` or
//!   `BADSIG`, `VALIDSIG` and `TRUST_FULLY` (the signer matches the configured policy) or
//!   `TRUST_UNDEFINED` (it does not, or no policy is configured) on the status fd, and a
//!   human-readable account on stderr.
//!
//! Settings come from git config (`waxseal.*`, see `waxseal git configure`) and the
//! environment (`SIGSTORE_ID_TOKEN`, `WAXSEAL_INSTANCE`, `WAXSEAL_CREDENTIAL_CACHE`,
//! `WAXSEAL_CLIENT_ID`/`WAXSEAL_CLIENT_SECRET`).

use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context as _, Result, bail};
use waxseal_bundle::ClientTrustConfig;
use waxseal_client::{Client, Instance};
use waxseal_git::status::Invocation;
use waxseal_verify::Verifier;

use crate::git::GitConfig;

/// If `args` (without the program name) is a gpg-style invocation, runs it and returns the exit
/// code; `None` leaves them to clap.
pub(crate) fn dispatch(args: &[OsString]) -> Option<ExitCode> {
    let first = args.first()?.to_str()?;
    let gpg_like = first.starts_with("--status-fd")
        || first == "--verify"
        || (first.starts_with("-b") && first.len() > 2)
        || first == "--sign"
        || first == "--detach-sign";
    if !gpg_like {
        return None;
    }
    Some(match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("waxseal: {e:#}");
            ExitCode::from(2)
        }
    })
}

fn run(args: &[OsString]) -> Result<ExitCode> {
    let strings: Vec<String> = args
        .iter()
        .map(|a| a.to_str().map(str::to_owned))
        .collect::<Option<_>>()
        .context("the arguments are not UTF-8")?;
    let invocation = Invocation::parse(&strings).context("couldn't read git's gpg arguments")?;
    match invocation {
        Invocation::Sign { status_fd, .. } => {
            let status = StatusFd::open(status_fd)?;
            let mut payload = Vec::new();
            std::io::stdin()
                .read_to_end(&mut payload)
                .context("couldn't read the payload from stdin")?;
            let config = GitConfig::read()?;
            let signed = crate::git_signature::sign(&config, &payload)?;
            let mut out = std::io::stdout().lock();
            out.write_all(signed.armor.as_bytes())
                .and_then(|()| out.flush())
                .context("couldn't write the signature")?;
            status.write(&signed.status)?;
            Ok(ExitCode::SUCCESS)
        }
        Invocation::Verify {
            status_fd,
            signature_file,
            data_file,
        } => {
            let status = StatusFd::open(status_fd)?;
            let signature = std::fs::read(&signature_file)
                .with_context(|| format!("couldn't read the signature {signature_file}"))?;
            let payload = if data_file == "-" {
                let mut payload = Vec::new();
                std::io::stdin()
                    .read_to_end(&mut payload)
                    .context("couldn't read the payload from stdin")?;
                payload
            } else {
                std::fs::read(&data_file)
                    .with_context(|| format!("couldn't read the signed data {data_file}"))?
            };
            let config = GitConfig::read()?;
            let verifier = verifier(None, None, &config)?;
            let policy = config.policy()?;
            let checked = crate::git_signature::check_payload(
                &verifier,
                &payload,
                &signature,
                policy.as_ref(),
            );
            status.write(&checked.status)?;
            eprint!("{}", checked.human());
            Ok(if checked.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Invocation::Version => {
            println!("waxseal {} (gpg.x509.program)", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        _ => bail!("unsupported gpg invocation: {}", strings.join(" ")),
    }
}

/// The status fd git names: 1 and 2 are stdout and stderr, others `/dev/fd/N`.
struct StatusFd(Box<dyn std::io::Write>);

impl StatusFd {
    fn open(fd: Option<u32>) -> Result<Self> {
        Ok(Self(match fd {
            None => Box::new(std::io::sink()),
            Some(1) => Box::new(std::io::stdout()),
            Some(2) => Box::new(std::io::stderr()),
            Some(n) => Box::new(
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(format!("/dev/fd/{n}"))
                    .with_context(|| format!("couldn't open status fd {n}"))?,
            ),
        }))
    }

    fn write(mut self, text: &str) -> Result<()> {
        self.0
            .write_all(text.as_bytes())
            .and_then(|()| self.0.flush())
            .context("couldn't write the status lines")
    }
}

/// The trust material for verification: `trusted_root` or `instance` when given, else git
/// config `waxseal.trustedRoot`, `waxseal.trustConfig` or `waxseal.instance`, else the
/// embedded Sigstore public-good root.
pub(crate) fn verifier(
    trusted_root: Option<&Path>,
    instance: Option<&str>,
    config: &GitConfig,
) -> Result<Verifier> {
    if let Some(path) = trusted_root {
        return crate::verify::load_verifier(Some(path), None);
    }
    if let Some(url) = instance {
        let trust = fetch_trust_config(url)?;
        return Verifier::new(&trust.trusted_root).context("couldn't load the instance's root");
    }
    if let Some(path) = config.get("trustedRoot") {
        return crate::verify::load_verifier(Some(Path::new(path)), None);
    }
    if let Some(path) = config.get("trustConfig") {
        return crate::verify::load_verifier(None, Some(Path::new(path)));
    }
    if let Some(url) = config.get("instance") {
        let trust = fetch_trust_config(url)?;
        return Verifier::new(&trust.trusted_root).context("couldn't load the instance's root");
    }
    Verifier::production().context("couldn't load the embedded trusted root")
}

/// The signing instance: git config `waxseal.trustConfig`, else `waxseal.instance`, else
/// `WAXSEAL_INSTANCE`, else the local default.
pub(crate) fn instance(config: &GitConfig) -> Result<Instance> {
    let trust = if let Some(path) = config.get("trustConfig") {
        let json = std::fs::read(path).with_context(|| format!("couldn't read {path}"))?;
        ClientTrustConfig::from_json(&json)
            .with_context(|| format!("{path} is not a ClientTrustConfig"))?
    } else {
        let url = config
            .get("instance")
            .map(str::to_owned)
            .or_else(|| std::env::var("WAXSEAL_INSTANCE").ok())
            .unwrap_or_else(|| crate::sign::DEFAULT_INSTANCE.to_owned());
        fetch_trust_config(&url)?
    };
    Instance::new(trust, SystemTime::now()).context("couldn't use the instance's signing config")
}

fn fetch_trust_config(url: &str) -> Result<ClientTrustConfig> {
    crate::git_signature::runtime()?.block_on(async {
        let client = Client::new()?;
        client.fetch_trust_config(url).await.with_context(|| {
            format!("couldn't load the instance {url} (is it running? see `waxseal git configure`)")
        })
    })
}

/// The credential cache's socket: `WAXSEAL_CREDENTIAL_CACHE`, else git config
/// `waxseal.credentialCache`.
pub(crate) fn cache_socket(config: &GitConfig) -> Option<PathBuf> {
    std::env::var_os(crate::git_agent::SOCKET_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| config.get("credentialCache").map(PathBuf::from))
}
