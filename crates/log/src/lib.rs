//! The waxseal transparency-log engine.
//!
//! Entries enter a bounded pool ([`Log::append`]), a single sequencer thread takes them in
//! batches (bounded by [`Config::batch_max_entries`] and [`Config::batch_max_age`]), assigns
//! indexes (an entry already logged gets its first index back), writes the changed C2SP
//! tlog-tiles hash tiles and entry bundles, and makes the batch durable in one [`Store`]
//! transaction. Only then does it sign a C2SP checkpoint over the durable tree, publish it
//! durably, and acknowledge the batch. So:
//!
//! - an acknowledged entry survives a crash (the store fsyncs before the acknowledgement);
//! - every signed checkpoint commits to a tree that is already durable, and the tree only
//!   grows, so no two checkpoints the engine signs are inconsistent, across crashes too;
//! - a failed write is never acknowledged; the engine reloads the store before writing again.
//!
//! When the pool is full, [`Log::append`] fails with [`Error::Pushback`] instead of queueing
//! without bound, so memory is bounded by the pool, not by the log.
//!
//! Two stores ship: [`SqliteStore`] (embedded, one file) and [`PgStore`] (PostgreSQL, several
//! logs per database, TLS by `sslmode`). On PostgreSQL, several processes can also be one log
//! ([`Log::open_cluster`]): each validates its own submissions and queues them in the database,
//! the process holding the log's advisory lock sequences them all, and every process serves
//! reads; see the `cluster` notes on [`Log::open_cluster`] and the contract notes on [`PgStore`].
//! [`Log::status`] reports the role, queue and counters of either mode.
//!
//! Entries are logged verbatim by default ([`Verbatim`]: tlog-tiles entry bundles). A
//! personality whose stored entries depend on their index and sequencing time, such as
//! static-ct-api's `TileLeaf`, gives the engine an [`EntryFormat`] ([`Config::with_format`]):
//! the sequencer *seals* each new entry at its index and batch time, and reads bundles back
//! through the format.
//!
//! Specs: RFC 9162 §2.1 (via `waxseal-merkle`), C2SP `tlog-tiles` (via `waxseal-tiles`),
//! C2SP `tlog-checkpoint` and `signed-note` (via `waxseal-note`). This crate does not speak
//! HTTP (`waxseal-server` does) and does not know entry formats such as Rekor bodies.
//!
//! ```
//! use std::sync::Arc;
//! use waxseal_log::{Config, Log, SqliteStore};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::Ed25519)?;
//! let signer = Arc::new(waxseal_note::Ed25519Signer::new("example.com/log", key)?);
//! let store = Arc::new(SqliteStore::open(dir.path().join("log.db"))?);
//! let log = Log::open(store, signer, Config::new("example.com/log"))?;
//! let appended = log.append(b"hello".to_vec())?.wait()?;
//! assert_eq!(appended.index, 0);
//! assert!(appended.checkpoint.size >= 1);
//! # Ok(()) }
//! ```

mod check;
mod cluster;
pub mod ct;
mod edge;
mod engine;
mod error;
mod format;
pub mod postgres;
mod reply;
mod sqlite;
mod store;
pub mod testing;

pub use check::{CheckedLog, check_log};
pub use engine::{Appended, Config, Log, LogStatus, MAX_ENTRY_SIZE, Role};
pub use error::{Error, StoreError};
pub use format::{EntryFormat, FormatError, Sealed, Unsealed, Verbatim};
pub use postgres::{PgOptions, PgSizes, PgStore, PoolStatus};
pub use reply::PendingAppend;
pub use sqlite::SqliteStore;
pub use store::{Integration, IssuerStore, PublishedCheckpoint, Store, StoredState};
