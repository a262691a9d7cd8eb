//! `waxseal`: the command-line front end. Only argument parsing and exit codes live here; the
//! work is done by the library crates.
//!
//! Exit codes: 0 success, 1 a verification failed (verify commands), 2 usage or operational
//! error.

mod admin;
mod attest;
mod bench;
mod bench_cluster;
mod bench_enforce;
mod bench_git;
mod bench_image;
mod bench_issue;
mod bench_policy;
mod datadir;
mod enforce;
mod enforce_check;
mod enforce_kube;
mod enforce_manifests;
mod enforce_tls;
mod evidence;
mod git;
mod git_agent;
mod git_policy;
mod git_program;
mod git_signature;
mod git_token;
mod git_verify;
mod image;
mod image_sign;
mod image_verify;
mod policy;
mod serve;
mod sign;
mod trust;
mod verify;
mod verify_attestation;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A self-hostable, Sigstore-compatible transparency log and signing system.
#[derive(Debug, Parser)]
#[command(name = "waxseal", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the waxseal instance: CA and CT log, Rekor v1 and v2, timestamp authority, OIDC
    /// issuer, trust files, metrics.
    Serve(ServeArgs),
    /// Mint an identity token from the instance's built-in OIDC issuer (an admin and test
    /// command: whoever can read the data directory can mint tokens).
    Token(TokenArgs),
    /// The instance's client trust material.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Sign a file, a digest or an in-toto statement on an instance: keyless with an identity
    /// token, or with a managed key; writes a Sigstore bundle (exit 0 signed, 2 error).
    Sign(sign::SignArgs),
    /// Make a managed signing key: PREFIX.key (P-256, encrypted with a passphrase) and
    /// PREFIX.pub.
    GenerateKeyPair(sign::GenerateKeyPairArgs),
    /// Verify a Sigstore bundle offline (exit 0 verified, 1 not verified, 2 usage or
    /// operational error).
    Verify(verify::VerifyArgs),
    /// Attest to files: an in-toto statement with a checked predicate (SLSA provenance, SBOM,
    /// vulnerability scan, VEX, ...) or SLSA provenance built from the CI job, signed as a DSSE
    /// bundle (exit 0 signed, 2 error).
    Attest(Box<attest::AttestArgs>),
    /// Verify an attestation offline: the bundle, then its statement (subject, predicate type,
    /// SLSA provenance checks), or policies over it (exit 0 verified, 1 not verified or
    /// denied, 2 usage or operational error).
    VerifyAttestation(Box<verify_attestation::VerifyAttestationArgs>),
    /// What is attached to an image in a registry: referrer bundles and legacy `.sig`/`.att`/
    /// `.sbom` layers, by kind and format (nothing is verified).
    Tree(image_verify::TreeArgs),
    /// Print an image's signatures or attestations as stored (one JSON document per line),
    /// for verifying offline later.
    Download(image_verify::DownloadArgs),
    /// ClusterImagePolicy documents (sigstore policy-controller's format, Rego conditions).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Enforcement for Kubernetes: the admission webhook, continuous verification of what
    /// runs, the install manifests and the report.
    #[command(subcommand)]
    Enforce(enforce::EnforceCommand),
    /// Keyless git commit and tag signing (`gpg.x509.program`), the credential cache and the
    /// pull-request gate.
    #[command(subcommand)]
    Git(git::GitCommand),
    /// Entry points for the sigstore-conformance test suite (`docs/cli_protocol.md`).
    #[command(subcommand)]
    Conformance(ConformanceCommand),
    /// Measure performance on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Operate a running instance.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Load and check policies without evaluating them (exit 0 valid, 1 invalid with every
    /// reason, 2 unreadable).
    Validate(policy::ValidateArgs),
    /// Evaluate policies over an artifact's verified signatures and attestations (exit 0
    /// allowed, 1 denied, 2 usage or operational error).
    Check(Box<policy::CheckArgs>),
}

#[derive(Debug, Subcommand)]
enum ConformanceCommand {
    /// `sign-bundle [--staging] --identity-token T --bundle FILE [--trusted-root R
    /// --signing-config S] [--in-toto] FILE`.
    SignBundle(sign::ConformanceSignArgs),
    /// `verify-bundle [--staging] --bundle FILE (--certificate-identity I
    /// --certificate-oidc-issuer O | --key K) [--trusted-root F] FILE_OR_DIGEST`.
    VerifyBundle(verify::ConformanceVerifyArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Where the instance keeps its keys and its log. Created on first start.
    #[arg(long, env = "WAXSEAL_DATA_DIR", default_value_os_t = datadir::default_dir())]
    data_dir: PathBuf,
    /// The address to listen on.
    #[arg(long, env = "WAXSEAL_LISTEN", default_value = "127.0.0.1:8700")]
    listen: SocketAddr,
    /// The URL clients reach this instance at (default: http://<listen address>). Its host
    /// names the logs' checkpoint signatures.
    #[arg(long, env = "WAXSEAL_PUBLIC_URL")]
    public_url: Option<String>,
    /// The Rekor v2 log's checkpoint origin (C2SP tlog-checkpoint), fixed at the first start
    /// (default: the public URL's host).
    #[arg(long)]
    origin: Option<String>,
    /// The OIDC issuers the CA accepts and their issuance rules, TOML (default:
    /// DATA_DIR/oidc.toml if it exists). The built-in issuer is always accepted.
    #[arg(long, env = "WAXSEAL_OIDC_CONFIG")]
    oidc_config: Option<PathBuf>,
    /// The CA's key type, chosen at the first start.
    #[arg(long, value_enum)]
    ca_key_type: Option<serve::CaKeyType>,
    /// The transparency log named by the default signing config (`trust/signing_config.json`
    /// and `client_trust_config.json`); both variants are always written as
    /// `*.rekor-v1.json` and `*.rekor-v2.json`.
    #[arg(long, value_enum, default_value = "rekor-v1")]
    signing_log: trust::SigningLog,
    /// Also publish every log's tiles, entry bundles and checkpoints to this directory, in
    /// the layout serve answers on, for any static web server to serve.
    #[arg(long, env = "WAXSEAL_PUBLISH_DIR", conflicts_with = "publish_url")]
    publish_dir: Option<PathBuf>,
    /// Like --publish-dir, to a URL: file:///DIR or s3://BUCKET[/PREFIX] (AWS_* variables
    /// configure S3; AWS_ENDPOINT_URL and AWS_ALLOW_HTTP=true for a local server).
    #[arg(long, env = "WAXSEAL_PUBLISH_URL")]
    publish_url: Option<String>,
    /// Keep the logs in this PostgreSQL database (`postgres://user:password@host/db`) instead
    /// of SQLite in the data directory. Several front ends may then serve one instance: each
    /// runs `waxseal serve --database` on the same data directory (shared keys) and database.
    #[arg(long, env = "WAXSEAL_DATABASE_URL")]
    database: Option<String>,
    /// A file whose first line is a bearer token letting non-loopback clients read
    /// `/admin/status` (by default it answers loopback clients only).
    #[arg(long, env = "WAXSEAL_ADMIN_TOKEN_FILE")]
    admin_token_file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TokenArgs {
    /// The instance's data directory (`waxseal serve` must have run on it once).
    #[arg(long, env = "WAXSEAL_DATA_DIR", default_value_os_t = datadir::default_dir())]
    data_dir: PathBuf,
    /// The token's subject (`sub`).
    #[arg(long)]
    subject: String,
    /// The token's email (sets `email_verified: true`).
    #[arg(long)]
    email: Option<String>,
    /// The audience (`aud`).
    #[arg(long, default_value = "sigstore")]
    audience: String,
    /// How long the token is valid, e.g. `10m`.
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    ttl: std::time::Duration,
}

#[derive(Debug, Subcommand)]
enum TrustCommand {
    /// Print the instance's ClientTrustConfig (`DATA_DIR/trust/client_trust_config.json`, the
    /// file `sigstore --trust-config` and `waxseal sign --trust-config` take), for clients on
    /// other machines.
    Export(TrustExportArgs),
}

#[derive(Debug, clap::Args)]
struct TrustExportArgs {
    /// The instance's data directory (`waxseal serve` must have run on it once).
    #[arg(long, env = "WAXSEAL_DATA_DIR", default_value_os_t = datadir::default_dir())]
    data_dir: PathBuf,
    /// Export the variant that signs with this log instead of the instance's default.
    #[arg(long, value_enum)]
    signing_log: Option<trust::SigningLog>,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Durable append throughput, proof generation and memory of the log engine, against raw
    /// SHA-256 and the store's durable-commit rate measured in the same run.
    Log(bench::LogArgs),
    /// The machine's ECDSA P-256 verification and signing rates (the Rekor write ceiling), on
    /// one core and on all cores.
    P256(bench::P256Args),
    /// In-process bundle verifications per second on real bundles, against the signature
    /// verification ceiling for the same mix of checks measured in the same run.
    Verify(bench::VerifyArgs),
    /// End-to-end keyless signing latency (median, p90, p99) against a running instance.
    Sign(bench::SignArgs),
    /// Certificate issuance in process (token, proof of possession, precertificate, SCT from
    /// the durable CT log, certificate), against the P-256 sign/verify ceiling measured in the
    /// same run.
    Ca(bench_issue::CaArgs),
    /// RFC 3161 timestamps in process, against the P-256 sign rate measured in the same run.
    Tsa(bench_issue::TsaArgs),
    /// Verify a real SLSA provenance bundle and evaluate a ClusterImagePolicy with two Rego
    /// attestation policies over it, against plain bundle verification in the same run.
    Policy(bench_policy::PolicyArgs),
    /// Verify signed images through a registry (verifications per second with concurrency,
    /// HTTP requests per image, cold-process latency), against verifying the same bundles in
    /// process in the same run.
    Image(bench_image::ImageArgs),
    /// The admission webhook's latency and throughput over HTTPS (cold and warm) and one
    /// continuous-verification pass over a large inventory, through a registry.
    Enforce(Box<bench_enforce::EnforceArgs>),
    /// Time added to `git commit` by signing (cold and with the credential cache) against a
    /// running instance, and `waxseal git verify` over a range, next to bundle verification.
    Git(bench_git::GitArgs),
    /// The PostgreSQL backend: durable appends against SQLite, Rekor v1 writes through 1-3
    /// front ends, failover time after SIGKILL of the sequencer, database size per entry.
    Cluster(bench_cluster::ClusterArgs),
}

fn token(args: &TokenArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let dir = datadir::DataDir::open(&args.data_dir)?;
    let minter = serve::token_issuer(&dir, None)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("the clock is before 1970")?;
    let ttl = i64::try_from(args.ttl.as_secs()).context("--ttl is too long")?;
    let now = i64::try_from(now.as_secs()).context("the clock is past 2262")?;
    let token = minter
        .mint(
            &args.subject,
            args.email.as_deref(),
            &args.audience,
            ttl,
            now,
        )
        .context("couldn't mint a token")?;
    println!("{token}");
    Ok(())
}

fn trust_export(args: &TrustExportArgs) -> anyhow::Result<()> {
    use anyhow::Context as _;
    let name = match args.signing_log {
        None => "client_trust_config.json",
        Some(trust::SigningLog::RekorV1) => "client_trust_config.rekor-v1.json",
        Some(trust::SigningLog::RekorV2) => "client_trust_config.rekor-v2.json",
    };
    let path = args.data_dir.join("trust").join(name);
    let text = std::fs::read(&path).with_context(|| {
        format!(
            "couldn't read {}: start `waxseal serve --data-dir {}` once to create it",
            path.display(),
            args.data_dir.display()
        )
    })?;
    waxseal_bundle::ClientTrustConfig::from_json(&text)
        .with_context(|| format!("{} is not a valid ClientTrustConfig", path.display()))?;
    use std::io::Write as _;
    std::io::stdout()
        .write_all(&text)
        .context("couldn't write to stdout")
}

fn main() -> ExitCode {
    // git runs `gpg.x509.program` with gpg's arguments: handle those before clap.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some(code) = git_program::dispatch(&args) {
        return code;
    }
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve::run(&serve::Options {
            data_dir: &args.data_dir,
            listen: args.listen,
            public_url: args.public_url.as_deref(),
            origin: args.origin.as_deref(),
            oidc_config: args.oidc_config.as_deref(),
            ca_key_type: args.ca_key_type,
            signing_log: args.signing_log,
            publish_dir: args.publish_dir.as_deref(),
            publish_url: args.publish_url.as_deref(),
            backend: match args.database.as_deref() {
                Some(url) => serve::Backend::Postgres { url },
                None => serve::Backend::Sqlite,
            },
            admin_token_file: args.admin_token_file.as_deref(),
        })
        .map(|()| ExitCode::SUCCESS),
        Command::Token(args) => token(&args).map(|()| ExitCode::SUCCESS),
        Command::Trust(TrustCommand::Export(args)) => {
            trust_export(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Sign(args) => sign::run(&args).map(|()| ExitCode::SUCCESS),
        Command::GenerateKeyPair(args) => {
            sign::generate_key_pair(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Conformance(ConformanceCommand::SignBundle(args)) => {
            sign::run_conformance(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Verify(args) => verify::run(&args),
        Command::Attest(args) => attest::run(&args).map(|()| ExitCode::SUCCESS),
        Command::VerifyAttestation(args) => verify_attestation::run(&args),
        Command::Tree(args) => image_verify::tree(&args),
        Command::Enforce(command) => enforce::run(&command),
        Command::Git(command) => git::run(&command),
        Command::Download(args) => image_verify::download(&args),
        Command::Policy(PolicyCommand::Validate(args)) => policy::validate(&args),
        Command::Policy(PolicyCommand::Check(args)) => policy::check(&args),
        Command::Conformance(ConformanceCommand::VerifyBundle(args)) => {
            verify::run_conformance(&args)
        }
        Command::Bench(BenchCommand::Log(args)) => {
            bench::run_log(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::P256(args)) => {
            bench::run_p256(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Sign(args)) => {
            bench::run_sign(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Verify(args)) => {
            bench::run_verify(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Ca(args)) => {
            bench_issue::run_ca(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Tsa(args)) => {
            bench_issue::run_tsa(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Enforce(args)) => {
            bench_enforce::run(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Image(args)) => {
            bench_image::run(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Git(args)) => {
            bench_git::run(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Policy(args)) => {
            bench_policy::run(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Bench(BenchCommand::Cluster(args)) => {
            bench_cluster::run(&args).map(|()| ExitCode::SUCCESS)
        }
        Command::Admin(command) => admin::run(&command),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("waxseal: {e:#}");
            ExitCode::from(2)
        }
    }
}
