//! The storage contract of the log engine.

use waxseal_merkle::Hash;

use crate::error::StoreError;

/// What a store holds about the tree when the engine opens it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredState {
    /// The number of integrated entries (tiles and bundles cover exactly this many).
    pub size: u64,
    /// The latest published checkpoint, a signed note, if any.
    pub checkpoint: Option<PublishedCheckpoint>,
}

impl StoredState {
    /// The state from a store's tree row: the tree size and the latest checkpoint's size, root
    /// and note, all present or all absent.
    pub(crate) fn from_columns(
        size: i64,
        cp_size: Option<i64>,
        cp_root: Option<Vec<u8>>,
        note: Option<Vec<u8>>,
    ) -> Result<Self, StoreError> {
        let checkpoint = match (cp_size, cp_root, note) {
            (Some(size), Some(root), Some(note)) => Some(PublishedCheckpoint {
                size: to_u64(size, "checkpoint size")?,
                root: Hash::from_slice(&root).map_err(|e| StoreError::Corrupt {
                    what: format!("checkpoint root: {e}"),
                })?,
                note,
            }),
            (None, None, None) => None,
            _ => {
                return Err(StoreError::Corrupt {
                    what: "partial checkpoint row".into(),
                });
            }
        };
        Ok(Self {
            size: to_u64(size, "tree size")?,
            checkpoint,
        })
    }
}

/// A stored (SQL `BIGINT`) count or index as `u64`; negative means a corrupt store.
pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        what: format!("negative {what} {value}"),
    })
}

/// A signed checkpoint as stored and served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedCheckpoint {
    /// The tree size it commits to.
    pub size: u64,
    /// The root hash it commits to.
    pub root: Hash,
    /// The signed note bytes (C2SP tlog-checkpoint).
    pub note: Vec<u8>,
}

/// One sequenced batch, to be made durable in a single atomic step.
#[derive(Debug, Clone, Default)]
pub struct Integration {
    /// The tree size before the batch; the store's current size.
    pub start: u64,
    /// The tree size after the batch.
    pub size: u64,
    /// Hash tiles that changed, as `(level, index, bytes)`; each replaces any earlier (narrower)
    /// version of the same tile.
    pub tiles: Vec<(u8, u64, Vec<u8>)>,
    /// Entry bundles that changed, as `(index, bytes)`; each replaces any earlier version.
    pub bundles: Vec<(u64, Vec<u8>)>,
    /// New deduplication keys (entry leaf hashes) and the index each was logged at.
    pub dedup: Vec<(Hash, u64)>,
    /// Search terms of the new entries (opaque keys chosen by the log's personality, such as
    /// an artifact digest or a signer identity) and the index each term points to.
    pub terms: Vec<(Vec<u8>, u64)>,
    /// When the batch was sequenced, in milliseconds since the Unix epoch.
    pub time_ms: u64,
}

/// Durable storage for one log.
///
/// The engine has a single writer (its sequencer) and many readers. Implementations MUST be safe
/// to call from several threads at once; readers MUST see either all or none of an
/// [`Integration`] or a publication.
///
/// Durability: when [`Store::integrate`] or [`Store::publish`] returns `Ok`, the change MUST
/// survive a crash of the process or of the machine (fsync or equivalent). When they return
/// `Err`, the change MAY or MAY NOT have been made; the engine then MUST NOT acknowledge the
/// entries involved and re-reads the state with [`Store::load`] before writing again.
///
/// Where the guarantees come from in the shipped stores:
///
/// - [`crate::SqliteStore`]: one transaction per write (`BEGIN IMMEDIATE`, the single write
///   lock) in WAL mode with `synchronous=FULL` (fsync on commit); readers see committed
///   snapshots.
/// - [`crate::PgStore`]: one transaction per write; atomic visibility from PostgreSQL's
///   transaction isolation (`READ COMMITTED`: a statement sees only committed transactions,
///   all of each); writers of a log serialised by `SELECT ... FOR UPDATE` on its tree row,
///   under which the size guard is checked; durability from `synchronous_commit = on`, set
///   on every session (commit returns once the WAL is flushed); in cluster mode, one
///   sequencer from a session-level advisory lock, with the size guard behind it.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The backend's name for status reports, such as `"sqlite"`, `"postgres"` or `"memory"`.
    fn backend(&self) -> &'static str {
        "other"
    }

    /// Reads the tree size and the latest checkpoint.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn load(&self) -> Result<StoredState, StoreError>;

    /// Looks up deduplication keys; returns the index each key was logged at, if any.
    ///
    /// The result MUST have one element per key, in order. It MUST reflect every successful
    /// [`Store::integrate`].
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError>;

    /// Makes a batch durable, atomically: tiles, bundles, deduplication keys, search terms, batch
    /// time and the new tree size all become visible together, or none do.
    ///
    /// It MUST fail with [`StoreError::SizeMismatch`], changing nothing, when `update.start` is
    /// not the stored size: that is the only guard against two sequencers.
    ///
    /// # Errors
    ///
    /// [`StoreError::SizeMismatch`] and backend failures.
    fn integrate(&self, update: &Integration) -> Result<(), StoreError>;

    /// Makes a checkpoint the latest published one, durably.
    ///
    /// It MUST fail, changing nothing, if the checkpoint's size is larger than the integrated
    /// size or smaller than the latest published size: published checkpoints never go back.
    ///
    /// # Errors
    ///
    /// [`StoreError::SizeMismatch`] and backend failures.
    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError>;

    /// Reads the latest version of hash tile `(level, index)`: the widest one written.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Reads the latest version of entry bundle `index`.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// The indexes of entries indexed under `term`, ascending, at most `limit` of them.
    ///
    /// It MUST reflect every successful [`Store::integrate`].
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError>;

    /// When the entry at `index` was sequenced (milliseconds since the epoch), if it exists.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError>;
}

/// Durable storage for the issuer certificates a CT log serves at `/issuer/<fingerprint>`
/// (C2SP static-ct-api "Issuers").
///
/// Every issuer a logged entry refers to MUST be retrievable, so the CT personality stores a
/// chain's issuers before it submits the entry: when [`IssuerStore::put_issuer`] returns `Ok`,
/// the certificate MUST survive a crash. Storing the same fingerprint again MUST succeed and
/// change nothing. Implementations MUST be safe to call from several threads at once.
pub trait IssuerStore: Send + Sync + std::fmt::Debug {
    /// Stores `der` under `fingerprint` (its SHA-256), durably.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn put_issuer(&self, fingerprint: &[u8; 32], der: &[u8]) -> Result<(), StoreError>;

    /// Reads the issuer stored under `fingerprint`.
    ///
    /// # Errors
    ///
    /// Backend failures.
    fn issuer(&self, fingerprint: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError>;
}

/// A shared store is a store: so wrappers such as [`crate::testing::FaultyStore`] can hold an
/// `Arc` (a [`crate::PgStore`] comes as one).
impl<S: Store + ?Sized> Store for std::sync::Arc<S> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }

    fn load(&self) -> Result<StoredState, StoreError> {
        (**self).load()
    }

    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        (**self).lookup(keys)
    }

    fn integrate(&self, update: &Integration) -> Result<(), StoreError> {
        (**self).integrate(update)
    }

    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError> {
        (**self).publish(checkpoint)
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).read_tile(level, index)
    }

    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        (**self).read_bundle(index)
    }

    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError> {
        (**self).search(term, limit)
    }

    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError> {
        (**self).entry_time(index)
    }
}
