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
    /// Run the waxseal instance: the transparency log and its tlog-tiles read API.
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
    /// The log's checkpoint origin (C2SP tlog-checkpoint), fixed at the first start.
    #[arg(long)]
    origin: Option<String>,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Durable append throughput, proof generation and memory of the log engine, against raw
    /// SHA-256 and the store's durable-commit rate measured in the same run.
    Log(bench::LogArgs),
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
        Command::Serve(args) => serve::run(&args.data_dir, args.listen, args.origin.as_deref()),
        Command::Bench(BenchCommand::Log(args)) => bench::run_log(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("waxseal: {e:#}");
            ExitCode::from(2)
        }
    }
}
