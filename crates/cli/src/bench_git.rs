//! `waxseal bench git`: what keyless signing adds to `git commit`, and `waxseal git verify`'s
//! throughput, against a running instance, each next to its baseline measured in the same run.
//!
//! 1. `git commit` wall time in a scratch repository: plain, signed with a fresh certificate
//!    each time (cold: token → certificate → signature → timestamp → log entry), and signed
//!    with a warm credential cache (`waxseal git credential-cache`: no certificate request);
//! 2. `--range` commits signed through the cache, then `waxseal git verify` over all of them
//!    as one process (commits per second), against `Verifier::verify` on as many bundles signed
//!    in process with the same instance, on one thread (bundles per second).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};
use serde::Serialize;
use waxseal_client::{Client, Content, Credential, IdentityToken, Instance};
use waxseal_verify::{Artifact, Identity, Matcher, Policy, Verifier};

/// The identity the bench signs as.
const BENCH_IDENTITY: &str = "bench@waxseal.test";

/// Arguments of `waxseal bench git`.
#[derive(Debug, clap::Args)]
pub(crate) struct GitArgs {
    /// The instance's data directory (tokens are minted with its built-in issuer, the trust
    /// config read from `trust/client_trust_config.json`).
    #[arg(long)]
    data_dir: PathBuf,
    /// The instance's URL.
    #[arg(long, default_value = crate::sign::DEFAULT_INSTANCE)]
    instance: String,
    /// Timed commits per mode (plain, cold, cached).
    #[arg(long, default_value_t = 20)]
    commits: usize,
    /// Signed commits in the range `waxseal git verify` checks.
    #[arg(long, default_value_t = 1000)]
    range: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    commits_per_mode: usize,
    plain_commit_median_ms: f64,
    signed_cold_median_ms: f64,
    signed_cached_median_ms: f64,
    added_cold_ms: f64,
    added_cached_ms: f64,
    range_commits: usize,
    range_setup_seconds: f64,
    git_verify_seconds: f64,
    git_verify_commits_per_sec: f64,
    bundle_verifications_per_sec: f64,
    git_verify_over_bundle: f64,
}

fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A scratch repository driven through the real git binary.
struct Scratch {
    _dir: tempfile::TempDir,
    home: PathBuf,
    repo: PathBuf,
    token: String,
    cache: Option<PathBuf>,
    counter: usize,
}

impl Scratch {
    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(&self.repo)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Bench")
            .env("GIT_AUTHOR_EMAIL", BENCH_IDENTITY)
            .env("GIT_COMMITTER_NAME", "Bench")
            .env("GIT_COMMITTER_EMAIL", BENCH_IDENTITY)
            .env("SIGSTORE_ID_TOKEN", &self.token)
            .env_remove("WAXSEAL_CREDENTIAL_CACHE")
            .stdin(Stdio::null());
        if let Some(socket) = &self.cache {
            command.env(crate::git_agent::SOCKET_ENV, socket);
        }
        command
    }

    fn git(&self, args: &[&str]) -> Result<()> {
        let out = self
            .command(Path::new("git"))
            .args(args)
            .output()
            .context("couldn't run git")?;
        if !out.status.success() {
            bail!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// One commit (an empty one: the tree is not what is measured); its wall time.
    fn commit(&mut self, sign: bool) -> Result<Duration> {
        self.counter += 1;
        let message = format!("bench commit {}", self.counter);
        let mut args = vec!["commit", "--quiet", "--allow-empty", "-m", &message];
        if sign {
            args.push("-S");
        }
        let start = Instant::now();
        self.git(&args)?;
        Ok(start.elapsed())
    }
}

/// Runs `waxseal bench git`.
pub(crate) fn run(args: &GitArgs) -> Result<()> {
    if args.commits == 0 || args.range == 0 {
        bail!("--commits and --range must be at least 1");
    }
    let program = std::env::current_exe().context("couldn't find the waxseal binary")?;
    let (token, issuer, trust) = mint(&args.data_dir)?;
    let dir = tempfile::tempdir().context("couldn't make a scratch directory")?;
    let home = dir.path().join("home");
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&home).context("couldn't make a scratch home")?;
    std::fs::create_dir_all(&repo).context("couldn't make a scratch repository")?;
    let mut scratch = Scratch {
        _dir: dir,
        home,
        repo,
        token,
        cache: None,
        counter: 0,
    };
    scratch.git(&["init", "--quiet", "--initial-branch=main"])?;
    let program_str = program.to_str().context("the binary's path is not UTF-8")?;
    scratch.git(&["config", "gpg.format", "x509"])?;
    scratch.git(&["config", "gpg.x509.program", program_str])?;
    scratch.git(&["config", "waxseal.instance", &args.instance])?;
    scratch.git(&["config", "waxseal.identity", BENCH_IDENTITY])?;
    scratch.git(&["config", "waxseal.issuer", &issuer])?;
    scratch.commit(false)?;

    // 1. Plain, cold, cached, interleaved so drift hits each mode alike.
    let (mut plain, mut cold, mut cached) = (Vec::new(), Vec::new(), Vec::new());
    let socket = scratch._dir.path().join("run").join("cache.sock");
    let mut agent = Command::new(&program)
        .args(["git", "credential-cache", "--socket"])
        .arg(&socket)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("couldn't start the credential cache")?;
    let ready = agent
        .stdout
        .take()
        .map(|out| {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line).map(|_| line)
        })
        .transpose()
        .context("couldn't read from the credential cache")?;
    let result = (|| -> Result<Report> {
        if !ready.is_some_and(|l| l.contains("listening")) {
            bail!("the credential cache did not start");
        }
        // Warm the cache once.
        scratch.cache = Some(socket.clone());
        scratch.commit(true)?;
        for _ in 0..args.commits {
            scratch.cache = None;
            plain.push(scratch.commit(false)?);
            cold.push(scratch.commit(true)?);
            scratch.cache = Some(socket.clone());
            cached.push(scratch.commit(true)?);
        }

        // 2. A range of signed commits through the cache, then one `waxseal git verify`.
        scratch.git(&["branch", "base"])?;
        let setup = Instant::now();
        for _ in 0..args.range {
            scratch.commit(true)?;
        }
        let range_setup_seconds = setup.elapsed().as_secs_f64();
        let start = Instant::now();
        let out = scratch
            .command(&program)
            .args(["git", "verify", "base..HEAD", "--instance", &args.instance])
            .args(["--certificate-identity", BENCH_IDENTITY])
            .args(["--certificate-oidc-issuer", &issuer, "--output", "json"])
            .output()
            .context("couldn't run waxseal git verify")?;
        let git_verify_seconds = start.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!(
                "waxseal git verify failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let bundle_rate = bundle_rate(&trust, &scratch.token, &issuer, args.range)?;
        let plain_ms = median_ms(&mut plain);
        let cold_ms = median_ms(&mut cold);
        let cached_ms = median_ms(&mut cached);
        let git_rate = args.range as f64 / git_verify_seconds;
        Ok(Report {
            commits_per_mode: args.commits,
            plain_commit_median_ms: plain_ms,
            signed_cold_median_ms: cold_ms,
            signed_cached_median_ms: cached_ms,
            added_cold_ms: cold_ms - plain_ms,
            added_cached_ms: cached_ms - plain_ms,
            range_commits: args.range,
            range_setup_seconds,
            git_verify_seconds,
            git_verify_commits_per_sec: git_rate,
            bundle_verifications_per_sec: bundle_rate,
            git_verify_over_bundle: git_rate / bundle_rate,
        })
    })();
    let _ = agent.kill();
    let _ = agent.wait();
    let report = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        println!("git commit, median of {} each:", report.commits_per_mode);
        println!(
            "  plain                      {:>8.1} ms",
            report.plain_commit_median_ms
        );
        println!(
            "  signed, cold               {:>8.1} ms (+{:.1} ms)",
            report.signed_cold_median_ms, report.added_cold_ms
        );
        println!(
            "  signed, cache warm         {:>8.1} ms (+{:.1} ms)",
            report.signed_cached_median_ms, report.added_cached_ms
        );
        println!(
            "waxseal git verify, {} commits: {:.2} s, {:.0} commits/s",
            report.range_commits, report.git_verify_seconds, report.git_verify_commits_per_sec
        );
        println!(
            "bundle verification (Verifier::verify, one thread): {:.0} bundles/s (git verify at {:.2}x)",
            report.bundle_verifications_per_sec, report.git_verify_over_bundle
        );
    }
    Ok(())
}

/// A token for [`BENCH_IDENTITY`] from the instance's built-in issuer, its issuer, and the
/// instance's trust config.
fn mint(data_dir: &Path) -> Result<(String, String, waxseal_bundle::ClientTrustConfig)> {
    let trust_path = data_dir.join("trust").join("client_trust_config.json");
    let trust_bytes = std::fs::read(&trust_path)
        .with_context(|| format!("couldn't read {}", trust_path.display()))?;
    let trust = waxseal_bundle::ClientTrustConfig::from_json(&trust_bytes)
        .with_context(|| format!("{} is not a ClientTrustConfig", trust_path.display()))?;
    let dir = crate::datadir::DataDir::open(data_dir)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let now = i64::try_from(now.as_secs()).context("the clock is past 2262")?;
    let token = crate::serve::token_issuer(&dir, None)?
        .mint("bench", Some(BENCH_IDENTITY), "sigstore", 3600, now)
        .context("couldn't mint a token")?;
    let issuer = IdentityToken::parse(&token)?.issuer().to_owned();
    Ok((token, issuer, trust))
}

/// `Verifier::verify` per second on one thread over `count` verifications of bundles signed in
/// process on the same instance (message signatures over commit-sized payloads).
fn bundle_rate(
    trust: &waxseal_bundle::ClientTrustConfig,
    token: &str,
    issuer: &str,
    count: usize,
) -> Result<f64> {
    const DISTINCT: usize = 50;
    let runtime = crate::git_signature::runtime()?;
    let signed = runtime.block_on(async {
        let client = Client::new()?;
        let instance = Instance::new(trust.clone(), SystemTime::now())?;
        let credential = Credential::IdentityToken(IdentityToken::parse(token)?);
        let mut out = Vec::with_capacity(DISTINCT);
        for i in 0..DISTINCT.min(count) {
            let payload =
                format!("tree {i:040}\nauthor Bench <{BENCH_IDENTITY}> 0 +0000\n\nbench {i}\n")
                    .into_bytes();
            let bundle = client
                .sign(&instance, &credential, &Content::Artifact(payload.clone()))
                .await?;
            out.push((payload, bundle.bundle));
        }
        anyhow::Ok(out)
    })?;
    let verifier = Verifier::new(&trust.trusted_root)?;
    let policy = Policy::Identity(Identity::new(
        Matcher::exact(BENCH_IDENTITY),
        Matcher::exact(issuer),
    ));
    let start = Instant::now();
    for i in 0..count {
        let (payload, bundle) = &signed[i % signed.len()];
        verifier.verify(bundle, Artifact::Bytes(payload), &policy)?;
    }
    Ok(count as f64 / start.elapsed().as_secs_f64())
}
