//! `waxseal`: the command-line front end. Only argument parsing and exit codes live here; the
//! work is done by the library crates.
//!
//! Exit codes: 0 success, 1 a verification failed (verify commands), 2 usage or operational
//! error.

mod bench;
mod datadir;
mod serve;

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
    /// Run the waxseal instance: Rekor v1 and v2 transparency logs, their tiles, metrics.
    Serve(ServeArgs),
    /// Measure performance on this machine.
    #[command(subcommand)]
    Bench(BenchCommand),
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
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Durable append throughput, proof generation and memory of the log engine, against raw
    /// SHA-256 and the store's durable-commit rate measured in the same run.
    Log(bench::LogArgs),
    /// The machine's ECDSA P-256 verification rate (the Rekor write ceiling), on one core and
    /// on all cores.
    P256(bench::P256Args),
}

fn main() -> ExitCode {
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
        }),
        Command::Bench(BenchCommand::Log(args)) => bench::run_log(&args),
        Command::Bench(BenchCommand::P256(args)) => bench::run_p256(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("waxseal: {e:#}");
            ExitCode::from(2)
        }
    }
}
