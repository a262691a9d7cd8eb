//! `waxseal serve`: opens the instance in a data directory and serves it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use waxseal_crypto::Algorithm;
use waxseal_log::{Config, Log, SqliteStore};
use waxseal_note::Ed25519Signer;

use crate::datadir::DataDir;

/// The origin of a new log unless `--origin` says otherwise.
const DEFAULT_ORIGIN: &str = "localhost/waxseal";

pub(crate) fn run(data_dir: &Path, listen: SocketAddr, origin: Option<&str>) -> Result<()> {
    let dir = DataDir::open(data_dir)?;
    let origin = dir.fixed_setting("origin", origin, DEFAULT_ORIGIN)?;
    let key = dir.key("log-ed25519.pem", Algorithm::Ed25519)?;
    let signer =
        Arc::new(Ed25519Signer::new(&origin, key).context("couldn't make the checkpoint signer")?);
    let store =
        Arc::new(SqliteStore::open(dir.path("log.db")).context("couldn't open the log store")?);
    let log = Log::open(store, signer, Config::new(&origin)).context("couldn't open the log")?;
    let checkpoint = log.checkpoint();
    tracing::info!(origin = %origin, size = checkpoint.size, "log opened");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("couldn't listen on {listen}"))?;
        let local = listener
            .local_addr()
            .context("couldn't read the listening address")?;
        println!(
            "waxseal: log {origin:?} ({} entries) at http://{local}/",
            checkpoint.size
        );
        println!(
            "waxseal: checkpoint at http://{local}/checkpoint, tiles under http://{local}/tile/"
        );
        let app = waxseal_server::tlog::router(log);
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
}
