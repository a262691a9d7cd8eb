//! `waxseal git …`: keyless commit signing through git's `gpg.x509.program` interface, the
//! credential cache and the pull-request gate.
//!
//! - `git configure` writes the git config that makes `git commit -S` and `git verify-commit`
//!   run waxseal ([`crate::git_program`]);
//! - `git credential-cache` serves one key and certificate to signing processes
//!   ([`crate::git_agent`]);
//! - `git verify` checks every commit of a range ([`crate::git_verify`]).
//!
//! git talks to waxseal only through the real `git` binary: `git config`, `git rev-list`,
//! `git cat-file --batch`.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context as _, Result, bail};

/// `waxseal git`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum GitCommand {
    /// Make waxseal git's signing program (`gpg.format=x509`, `gpg.x509.program`) with an
    /// instance and an identity policy, for this repository or (--global) for the user.
    Configure(ConfigureArgs),
    /// Keep one signing key and certificate in memory for their life and hand them to
    /// signing processes over a Unix socket (owner-only), so a series of commits needs one
    /// certificate.
    CredentialCache(crate::git_agent::CacheArgs),
    /// Verify every commit of a range offline: signed, valid, logged, and allowed by the
    /// policy (exit 0 all pass, 1 any fails, 2 usage or operational error).
    Verify(Box<crate::git_verify::VerifyArgs>),
}

/// Runs a `waxseal git` command.
pub(crate) fn run(command: &GitCommand) -> Result<ExitCode> {
    match command {
        GitCommand::Configure(args) => configure(args).map(|()| ExitCode::SUCCESS),
        GitCommand::CredentialCache(args) => crate::git_agent::serve(args),
        GitCommand::Verify(args) => crate::git_verify::run(args),
    }
}

/// `waxseal git configure`.
#[derive(Debug, clap::Args)]
pub(crate) struct ConfigureArgs {
    /// Write the user's global git config instead of this repository's.
    #[arg(long)]
    global: bool,
    /// The instance's URL (`waxseal.instance`).
    #[arg(long, conflicts_with = "trust_config")]
    instance: Option<String>,
    /// A ClientTrustConfig JSON file naming the instance (`waxseal.trustConfig`).
    #[arg(long)]
    trust_config: Option<PathBuf>,
    #[command(flatten)]
    identity: crate::git_policy::IdentityFlags,
    /// A policy file (`waxseal.policy`) instead of one identity.
    #[arg(long, conflicts_with_all = [
        "certificate_identity", "certificate_identity_regexp",
        "certificate_oidc_issuer", "certificate_oidc_issuer_regexp",
    ])]
    policy: Option<PathBuf>,
    /// A file holding the identity token (`waxseal.tokenFile`), read at each signing.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// The credential cache's socket (`waxseal.credentialCache`).
    #[arg(long)]
    credential_cache: Option<PathBuf>,
    /// Also sign every commit and tag (`commit.gpgsign=true`, `tag.gpgsign=true`).
    #[arg(long)]
    sign_all: bool,
}

/// Writes the git config for [`ConfigureArgs`].
fn configure(args: &ConfigureArgs) -> Result<()> {
    let program = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .context("couldn't find the waxseal binary's path")?;
    let program = program
        .to_str()
        .context("the waxseal binary's path is not UTF-8")?
        .to_owned();
    let absolute = |path: &PathBuf| -> Result<String> {
        let path = std::path::absolute(path)
            .with_context(|| format!("couldn't resolve {}", path.display()))?;
        path.to_str()
            .map(str::to_owned)
            .with_context(|| format!("{} is not UTF-8", path.display()))
    };
    // Both halves are needed; check them (and any regexp) the way verification will.
    args.identity.policy()?;
    let mut entries: Vec<(&str, String)> = vec![
        ("gpg.format", "x509".to_owned()),
        ("gpg.x509.program", program),
    ];
    if let Some(url) = &args.instance {
        entries.push(("waxseal.instance", url.clone()));
    }
    if let Some(path) = &args.trust_config {
        crate::verify::load_verifier(None, Some(path))?;
        entries.push(("waxseal.trustConfig", absolute(path)?));
    }
    entries.extend(args.identity.config_entries());
    if let Some(path) = &args.policy {
        crate::git_policy::GitPolicy::load(path)?;
        entries.push(("waxseal.policy", absolute(path)?));
    }
    if let Some(path) = &args.token_file {
        entries.push(("waxseal.tokenFile", absolute(path)?));
    }
    if let Some(path) = &args.credential_cache {
        entries.push(("waxseal.credentialCache", absolute(path)?));
    }
    if args.sign_all {
        entries.push(("commit.gpgsign", "true".to_owned()));
        entries.push(("tag.gpgsign", "true".to_owned()));
    }
    let scope = if args.global { "--global" } else { "--local" };
    for (key, value) in &entries {
        git_ok(&["config", scope, key, value])
            .with_context(|| format!("couldn't set git config {key}"))?;
    }
    let place = if args.global {
        "the global git config"
    } else {
        "this repository's git config"
    };
    eprintln!(
        "waxseal: {place} now signs with waxseal (gpg.format=x509); `git commit -S` signs, \
         `git verify-commit` verifies"
    );
    Ok(())
}

/// Runs `git ARGS` and returns its stdout; a failure names the command and git's stderr.
pub(crate) fn git_ok<S: AsRef<OsStr>>(args: &[S]) -> Result<Vec<u8>> {
    let out = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("couldn't run git (is it installed and on PATH?)")?;
    if !out.status.success() {
        let shown: Vec<_> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        bail!(
            "`git {}` failed: {}",
            shown.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// waxseal's git config (`waxseal.*`, keys lowercased as git prints them), read once with
/// `git config -z --get-regexp`. Outside a repository, the global and system config.
#[derive(Debug, Default)]
pub(crate) struct GitConfig {
    values: BTreeMap<String, String>,
}

impl GitConfig {
    /// Reads `waxseal.*` from git.
    pub(crate) fn read() -> Result<Self> {
        let out = Command::new("git")
            .args(["config", "-z", "--get-regexp", r"^waxseal\."])
            .stdin(Stdio::null())
            .output()
            .context("couldn't run git config (is git installed and on PATH?)")?;
        // Exit 1: no such key.
        if !out.status.success() && out.status.code() != Some(1) {
            bail!(
                "couldn't read the git config: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(Self::parse(&out.stdout))
    }

    /// Parses `git config -z` output: `key\nvalue\0` records (the last value wins).
    fn parse(bytes: &[u8]) -> Self {
        let mut values = BTreeMap::new();
        for record in bytes.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let text = String::from_utf8_lossy(record);
            let (key, value) = text.split_once('\n').unwrap_or((&text, ""));
            values.insert(key.to_ascii_lowercase(), value.to_owned());
        }
        Self { values }
    }

    /// The value of `waxseal.<name>` (case-insensitive, as in git).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(&format!("waxseal.{}", name.to_ascii_lowercase()))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The identity policy the config names: `waxseal.policy` (a file), else
    /// `waxseal.identity[Regexp]` with `waxseal.issuer[Regexp]`; `None` if neither is set.
    pub(crate) fn policy(&self) -> Result<Option<crate::git_policy::GitPolicy>> {
        if let Some(path) = self.get("policy") {
            return crate::git_policy::GitPolicy::load(std::path::Path::new(path)).map(Some);
        }
        let identity = self.get("identity").map(str::to_owned);
        let identity_regexp = self.get("identityRegexp").map(str::to_owned);
        let issuer = self.get("issuer").map(str::to_owned);
        let issuer_regexp = self.get("issuerRegexp").map(str::to_owned);
        if [&identity, &identity_regexp, &issuer, &issuer_regexp]
            .iter()
            .all(|v| v.is_none())
        {
            return Ok(None);
        }
        crate::git_policy::GitPolicy::from_values(
            "git config waxseal.identity/issuer",
            identity,
            identity_regexp,
            issuer,
            issuer_regexp,
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_null_separated_config() {
        let config = GitConfig::parse(
            b"waxseal.instance\nhttp://a\0waxseal.identityregexp\n.*@x\0waxseal.empty\n\0",
        );
        assert_eq!(config.get("instance"), Some("http://a"));
        assert_eq!(config.get("identityRegexp"), Some(".*@x"));
        assert_eq!(config.get("empty"), None);
        assert_eq!(config.get("issuer"), None);
    }
}
