//! Publishes a waxseal log's read path to static hosting: every [C2SP tlog-tiles] hash tile,
//! entry bundle and checkpoint (and, for the CT log, [C2SP static-ct-api] data tiles and
//! issuers) as objects in exactly the layout `waxseal serve` answers on, so a plain web server
//! or CDN rooted at the target serves the same URLs.
//!
//! A [`Publisher`] writes what changed since the size already at the [`Target`]: write-once
//! tiles and bundles first, the checkpoint last, so no reader sees a checkpoint whose tiles
//! are missing. [`follow`] runs one per log, polling it for new checkpoints, retrying
//! failures, and counting them in [`Metrics`].
//!
//! This crate does not serve HTTP (`waxseal-server` does), does not sequence or sign (the
//! log engine `waxseal-log` does), and does not verify what a reader fetches (clients and
//! `waxseal-verify` do). Targets: a directory ([`object_store`]'s `LocalFileSystem`), S3
//! (`s3://bucket/prefix`), or memory.
//!
//! ```
//! use std::sync::Arc;
//! use waxseal_log::{Config, Log, SqliteStore};
//! use waxseal_publish::{Publisher, Target};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::Ed25519)?;
//! let signer = Arc::new(waxseal_note::Ed25519Signer::new("example.com/log", key)?);
//! let store = Arc::new(SqliteStore::open(dir.path().join("log.db"))?);
//! let log = Log::open(store, signer, Config::new("example.com/log"))?;
//! log.append(b"hello".to_vec())?.wait()?;
//!
//! let target = Target::directory(&dir.path().join("public"))?;
//! let mut publisher = Publisher::tlog(target.clone(), "", log.clone());
//! let publication = publisher.publish().await?;
//! assert_eq!(publication.size, 1);
//! assert_eq!(
//!     target.list().await?,
//!     ["checkpoint", "tile/0/000.p/1", "tile/entries/000.p/1"]
//! );
//! assert_eq!(target.read("checkpoint").await?.as_deref(), Some(&log.checkpoint().note[..]));
//! # Ok(()) }
//! ```
//!
//! [C2SP tlog-tiles]: https://c2sp.org/tlog-tiles
//! [C2SP static-ct-api]: https://c2sp.org/static-ct-api

mod error;
mod follow;
mod publisher;
mod target;

pub use error::Error;
pub use follow::{MAX_BACKOFF, Metrics, POLL_INTERVAL, follow};
pub use publisher::{Publication, Publisher};
pub use target::Target;

#[cfg(test)]
mod tests;
