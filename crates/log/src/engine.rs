//! The engine: a bounded pool, a sequencer thread, and read paths over the store.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use waxseal_merkle::{Hash, node_hash};
use waxseal_note::{Checkpoint, NoteSigner};
use waxseal_tiles::{HashTile, TILE_WIDTH, TileHashReader, TileReader};

use crate::edge::Edge;
use crate::error::{Error, StoreError};
use crate::format::{EntryFormat, Sealed, SplitBundle, Verbatim};
use crate::reply::{PendingAppend, Reply, channel};
use crate::store::{Integration, PublishedCheckpoint, Store};

/// The largest entry a tlog-tiles entry bundle can hold (a uint16 length prefix).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// How the engine batches and bounds its work.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The checkpoint origin line, e.g. `log.example.com/2026`.
    pub origin: String,
    /// The most entries waiting to be sequenced; beyond it [`Log::append`] pushes back.
    pub pool_entries: usize,
    /// The most entry bytes waiting to be sequenced; beyond it [`Log::append`] pushes back.
    pub pool_bytes: usize,
    /// The most entries sequenced in one batch (one durable commit).
    pub batch_max_entries: usize,
    /// How long the sequencer waits for a batch to fill once it holds an entry. Zero means
    /// "take what is queued and go": batches then grow by themselves under load, while the
    /// previous commit runs.
    pub batch_max_age: Duration,
    /// How submitted entries become bundle bytes and leaf hashes; [`Verbatim`] by default.
    pub format: Arc<dyn EntryFormat>,
}

impl Config {
    /// Defaults for `origin`: a pool of 65,536 entries or 64 MiB, batches of up to 4,096
    /// entries, and at most 10 ms of batching delay.
    pub fn new(origin: impl Into<String>) -> Self {
        Self {
            origin: origin.into(),
            pool_entries: 65_536,
            pool_bytes: 64 << 20,
            batch_max_entries: 4096,
            batch_max_age: Duration::from_millis(10),
            format: Arc::new(Verbatim),
        }
    }

    /// Sets [`Config::format`].
    #[must_use]
    pub fn with_format(mut self, format: Arc<dyn EntryFormat>) -> Self {
        self.format = format;
        self
    }

    /// Sets [`Config::pool_entries`] and [`Config::pool_bytes`].
    #[must_use]
    pub fn with_pool(mut self, entries: usize, bytes: usize) -> Self {
        self.pool_entries = entries.max(1);
        self.pool_bytes = bytes.max(MAX_ENTRY_SIZE);
        self
    }

    /// Sets [`Config::batch_max_entries`] and [`Config::batch_max_age`].
    #[must_use]
    pub fn with_batch(mut self, max_entries: usize, max_age: Duration) -> Self {
        self.batch_max_entries = max_entries.max(1);
        self.batch_max_age = max_age;
        self
    }
}

/// An acknowledged entry: durable, and covered by a published checkpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Appended {
    /// The entry's index in the log.
    pub index: u64,
    /// The same entry was already in the log (or earlier in the same batch); `index` is the
    /// first one.
    pub duplicate: bool,
    /// When the entry was sequenced (its first sequencing, for a duplicate), in milliseconds
    /// since the Unix epoch.
    pub time_ms: u64,
    /// A published checkpoint whose tree contains the entry.
    pub checkpoint: Arc<PublishedCheckpoint>,
}

pub(crate) struct Pending {
    pub(crate) entry: Vec<u8>,
    /// The entry's deduplication key, computed (and the entry validated) on submission.
    pub(crate) key: Hash,
    pub(crate) terms: Vec<Vec<u8>>,
    pub(crate) reply: Reply,
}

impl Pending {
    /// What the entry counts against [`Config::pool_bytes`].
    pub(crate) fn pool_bytes(&self) -> usize {
        self.entry.len() + self.terms.iter().map(Vec::len).sum::<usize>()
    }
}

/// Which part a process plays in a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Role {
    /// A cluster member that holds the sequencer lock: it sequences for every member.
    Sequencer,
    /// A cluster member that queues entries for another member's sequencer.
    Follower,
    /// A single-process log ([`Log::open`]): it sequences its own pool.
    Single,
}

impl Role {
    pub(crate) fn to_u8(self) -> u8 {
        match self {
            Self::Single => 0,
            Self::Sequencer => 1,
            Self::Follower => 2,
        }
    }

    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Sequencer,
            2 => Self::Follower,
            _ => Self::Single,
        }
    }
}

/// A snapshot of a log's state for status pages and metrics ([`Log::status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogStatus {
    /// The store's backend: `"sqlite"`, `"postgres"` or `"memory"`.
    pub backend: &'static str,
    /// The part this process plays.
    pub role: Role,
    /// Cluster mode: who holds the sequencer lock (`application_name` and backend pid from
    /// `pg_stat_activity`, by default `waxseal-log <pid>@<host>`), as of the last poll.
    pub sequencer: Option<String>,
    /// Entries waiting to be sequenced: this process's pool, plus in cluster mode the shared
    /// queue of every member (as of the last poll).
    pub queued: u64,
    /// The published checkpoint's tree size, as this process serves it.
    pub checkpoint_size: u64,
    /// Milliseconds since this process last saw a new checkpoint published.
    pub checkpoint_age_ms: u64,
    /// Times this process took or lost the sequencer lock.
    pub lock_changes: u64,
    /// New entries in the last batch this process sequenced.
    pub last_batch_entries: u64,
    /// New entries this process has sequenced since it opened the log.
    pub integrated_entries: u64,
    /// Cluster mode: the connection pool.
    pub pool: Option<crate::postgres::PoolStatus>,
}

/// Counters behind [`LogStatus`]; written by the sequencer and cluster threads.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) role: AtomicU8,
    pub(crate) lock_changes: AtomicU64,
    pub(crate) last_batch: AtomicU64,
    pub(crate) integrated: AtomicU64,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn Store>,
    signer: Arc<dyn NoteSigner>,
    pub(crate) config: Config,
    published: RwLock<Published>,
    pending_entries: AtomicUsize,
    pending_bytes: AtomicUsize,
    pub(crate) stats: Stats,
    /// Cluster mode's shared state; `None` for a single-process log.
    pub(crate) cluster: Option<Arc<crate::cluster::ClusterState>>,
}

/// The latest published checkpoint with the right-edge tiles of its tree: the tiles most
/// inclusion proofs of recent entries need, served from memory with every complete subtree
/// inside them hashed once per publication instead of once per proof.
#[derive(Debug, Clone)]
struct Published {
    checkpoint: Arc<PublishedCheckpoint>,
    edge_tiles: Arc<Vec<EdgeTile>>,
    /// When this process first served it.
    at: Instant,
}

impl Published {
    fn new(checkpoint: PublishedCheckpoint, edge: &Edge) -> Self {
        Self {
            at: Instant::now(),
            checkpoint: Arc::new(checkpoint),
            edge_tiles: Arc::new(
                edge.tiles()
                    .into_iter()
                    .map(|(level, index, tile)| EdgeTile::new(level, index, tile))
                    .collect(),
            ),
        }
    }
}

/// A right-edge hash tile and its subtree pyramid: `pyramid[k][j]` is the hash of the complete
/// subtree over the tile's hashes `j * 2^k .. (j + 1) * 2^k` (`pyramid[0]` the tile itself).
#[derive(Debug)]
struct EdgeTile {
    level: u8,
    index: u64,
    tile: HashTile,
    pyramid: Vec<Vec<Hash>>,
}

impl EdgeTile {
    fn new(level: u8, index: u64, tile: HashTile) -> Self {
        let mut pyramid = vec![tile.hashes().to_vec()];
        while let Some(below) = pyramid.last().filter(|b| b.len() >= 2) {
            let above = below
                .chunks_exact(2)
                .map(|pair| node_hash(&pair[0], &pair[1]))
                .collect();
            pyramid.push(above);
        }
        Self {
            level,
            index,
            tile,
            pyramid,
        }
    }
}

impl Shared {
    fn published_state(&self) -> Published {
        self.published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn published(&self) -> Arc<PublishedCheckpoint> {
        self.published_state().checkpoint
    }

    /// Makes `checkpoint` (of the tree `edge` describes) the one readers see, unless readers
    /// already see a larger tree (a cluster member may learn of checkpoints out of order):
    /// the served checkpoint never goes back.
    pub(crate) fn set_published(
        &self,
        checkpoint: PublishedCheckpoint,
        edge: &Edge,
    ) -> Arc<PublishedCheckpoint> {
        let mut published = self
            .published
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if published.checkpoint.size > checkpoint.size
            || (published.checkpoint.size == checkpoint.size
                && published.checkpoint.root == checkpoint.root
                && published.checkpoint.note == checkpoint.note)
        {
            return Arc::clone(&published.checkpoint);
        }
        let state = Published::new(checkpoint, edge);
        let checkpoint = Arc::clone(&state.checkpoint);
        *published = state;
        checkpoint
    }

    /// Signs and durably publishes a checkpoint for the edge's (durable) tree.
    pub(crate) fn publish(&self, edge: &Edge) -> Result<Arc<PublishedCheckpoint>, Error> {
        let checkpoint = sign_and_store(
            self.store.as_ref(),
            self.signer.as_ref(),
            &self.config.origin,
            edge,
        )?;
        Ok(self.set_published(checkpoint, edge))
    }
}

/// Signs a checkpoint of the edge's tree, which must already be durable, and stores it
/// durably as the latest published one.
fn sign_and_store(
    store: &dyn Store,
    signer: &dyn NoteSigner,
    origin: &str,
    edge: &Edge,
) -> Result<PublishedCheckpoint, Error> {
    let root = edge.root()?;
    let text = Checkpoint::new(origin, edge.size(), root)
        .map_err(|e| Error::Sign(e.to_string()))?
        .to_text();
    let note = waxseal_note::sign(&text, &[signer]).map_err(|e| Error::Sign(e.to_string()))?;
    let checkpoint = PublishedCheckpoint {
        size: edge.size(),
        root,
        note: note.into_bytes(),
    };
    store.publish(&checkpoint)?;
    Ok(checkpoint)
}

/// Joins the sequencer when the last handle goes; declared after the sender so the channel is
/// closed first.
#[derive(Debug)]
struct Joiner(Option<JoinHandle<()>>);

impl Drop for Joiner {
    fn drop(&mut self) {
        if let Some(handle) = self.0.take()
            && handle.join().is_err()
        {
            tracing::error!("log sequencer thread panicked");
        }
    }
}

#[derive(Debug)]
struct Inner {
    sender: SyncSender<Pending>,
    shared: Arc<Shared>,
    _joiner: Joiner,
}

/// A transparency log: append entries, read entries, tiles, checkpoints and proofs.
///
/// Cloning is cheap and shares the log. The sequencer thread stops, after finishing the
/// entries already in the pool, when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct Log {
    inner: Arc<Inner>,
}

impl Log {
    /// Opens the log in `store`, recovering from any crash: a tree integrated but not yet
    /// covered by a checkpoint gets one now. A new log publishes a checkpoint of the empty tree.
    ///
    /// # Errors
    ///
    /// Store failures, a corrupt store (tiles that do not match the checkpoint), or a signing
    /// failure.
    pub fn open(
        store: Arc<dyn Store>,
        signer: Arc<dyn NoteSigner>,
        config: Config,
    ) -> Result<Self, Error> {
        let (shared, edge) = Shared::open(store, signer, config, None)?;
        let shared = Arc::new(shared);
        let (sender, receiver) = sync_channel(shared.config.pool_entries);
        let thread_shared = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("waxseal-sequencer".into())
            .spawn(move || {
                Sequencer {
                    shared: thread_shared,
                    edge: Some(edge),
                }
                .run(&receiver)
            })
            .map_err(|e| StoreError::Io {
                op: "start the sequencer thread",
                message: e.to_string(),
            })?;
        Ok(Self::from_parts(sender, shared, handle))
    }

    pub(crate) fn from_parts(
        sender: SyncSender<Pending>,
        shared: Arc<Shared>,
        handle: JoinHandle<()>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                sender,
                shared,
                _joiner: Joiner(Some(handle)),
            }),
        }
    }

    /// The state of the log: its role, queue, checkpoint and sequencing counters.
    pub fn status(&self) -> LogStatus {
        let shared = self.shared();
        let published = shared.published_state();
        let pending = shared.pending_entries.load(Ordering::Acquire) as u64;
        let (sequencer, queued, pool) = match &shared.cluster {
            Some(cluster) => (
                cluster.sequencer(),
                pending.saturating_sub(cluster.waiting()) + cluster.queued(),
                Some(cluster.store.pool_status()),
            ),
            None => (None, pending, None),
        };
        LogStatus {
            backend: shared.store.backend(),
            role: Role::from_u8(shared.stats.role.load(Ordering::Acquire)),
            sequencer,
            queued,
            checkpoint_size: published.checkpoint.size,
            checkpoint_age_ms: u64::try_from(published.at.elapsed().as_millis())
                .unwrap_or(u64::MAX),
            lock_changes: shared.stats.lock_changes.load(Ordering::Acquire),
            last_batch_entries: shared.stats.last_batch.load(Ordering::Acquire),
            integrated_entries: shared.stats.integrated.load(Ordering::Acquire),
            pool,
        }
    }
}

impl Shared {
    /// Loads the log's state, recovering from any crash: a tree integrated but not yet covered
    /// by a checkpoint gets one now; a new log publishes a checkpoint of the empty tree.
    pub(crate) fn open(
        store: Arc<dyn Store>,
        signer: Arc<dyn NoteSigner>,
        config: Config,
        cluster: Option<Arc<crate::cluster::ClusterState>>,
    ) -> Result<(Self, Edge), Error> {
        let state = store.load()?;
        // A cluster member may open while the sequencer integrates more: wider tiles are cut.
        let edge = Edge::load_at(
            store.as_ref(),
            config.format.as_ref(),
            state.size,
            cluster.is_none(),
        )?;
        let checkpoint = match state.checkpoint {
            Some(cp) if cp.size == state.size => {
                let root = edge.root()?;
                if cp.root != root {
                    return Err(StoreError::Corrupt {
                        what: format!(
                            "checkpoint root {} differs from the tiles' root {root} at size {}",
                            cp.root, cp.size
                        ),
                    }
                    .into());
                }
                cp
            }
            // A new log, or a crash between integration and publication.
            _ => sign_and_store(store.as_ref(), signer.as_ref(), &config.origin, &edge)?,
        };
        let shared = Shared {
            store,
            signer,
            config,
            published: RwLock::new(Published::new(checkpoint, &edge)),
            pending_entries: AtomicUsize::new(0),
            pending_bytes: AtomicUsize::new(0),
            stats: Stats::default(),
            cluster,
        };
        Ok((shared, edge))
    }

    /// Takes pool counters off for a batch leaving the pool.
    pub(crate) fn take_pending(&self, batch: &[Pending]) {
        let bytes: usize = batch.iter().map(Pending::pool_bytes).sum();
        self.release_pending(batch.len(), bytes);
    }

    /// Takes `entries` entries of `bytes` bytes off the pool counters.
    pub(crate) fn release_pending(&self, entries: usize, bytes: usize) {
        self.pending_entries.fetch_sub(entries, Ordering::AcqRel);
        self.pending_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }
}

impl Log {
    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Queues an entry. The returned [`PendingAppend`] resolves once the entry is durable and a
    /// checkpoint covering it is published.
    ///
    /// # Errors
    ///
    /// [`Error::EntryTooLarge`] over 65,535 bytes; [`Error::InvalidEntry`] if the log's
    /// [`EntryFormat`] rejects it; [`Error::Pushback`] when the pool is full; [`Error::Closed`]
    /// after shutdown.
    pub fn append(&self, entry: Vec<u8>) -> Result<PendingAppend, Error> {
        self.append_with_terms(entry, Vec::new())
    }

    /// Like [`Log::append`], and indexes the entry under search `terms` (opaque keys the caller
    /// defines, such as an artifact digest or a signer's identity) in the same durable commit.
    /// Terms of a duplicate are not added again.
    ///
    /// # Errors
    ///
    /// As [`Log::append`].
    pub fn append_with_terms(
        &self,
        entry: Vec<u8>,
        terms: Vec<Vec<u8>>,
    ) -> Result<PendingAppend, Error> {
        if entry.len() > MAX_ENTRY_SIZE {
            return Err(Error::EntryTooLarge {
                len: entry.len(),
                max: MAX_ENTRY_SIZE,
            });
        }
        let shared = self.shared();
        let key = shared
            .config
            .format
            .key(&entry)
            .map_err(Error::InvalidEntry)?;
        let len = entry.len() + terms.iter().map(Vec::len).sum::<usize>();
        let bytes = shared.pending_bytes.fetch_add(len, Ordering::AcqRel) + len;
        if bytes > shared.config.pool_bytes {
            shared.pending_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(self.pushback());
        }
        let (reply, receiver) = channel();
        // In cluster mode entries stay counted until answered, so the pool bounds the
        // member's waiting clients and its share of the queue, not only the channel.
        if shared.pending_entries.fetch_add(1, Ordering::AcqRel) >= shared.config.pool_entries {
            shared.pending_entries.fetch_sub(1, Ordering::AcqRel);
            shared.pending_bytes.fetch_sub(len, Ordering::AcqRel);
            return Err(self.pushback());
        }
        match self.inner.sender.try_send(Pending {
            entry,
            key,
            terms,
            reply,
        }) {
            Ok(()) => Ok(receiver),
            Err(e) => {
                shared.pending_entries.fetch_sub(1, Ordering::AcqRel);
                shared.pending_bytes.fetch_sub(len, Ordering::AcqRel);
                Err(match e {
                    TrySendError::Full(_) => self.pushback(),
                    TrySendError::Disconnected(_) => Error::Closed,
                })
            }
        }
    }

    fn pushback(&self) -> Error {
        let shared = self.shared();
        let pending = shared.pending_entries.load(Ordering::Acquire);
        // Roughly the time to drain the pool at one batch per commit, at least a second:
        // Retry-After has whole-second resolution.
        Error::Pushback {
            pending,
            retry_after: Duration::from_secs(1),
        }
    }

    /// Entries waiting to be sequenced.
    pub fn pending(&self) -> usize {
        self.shared().pending_entries.load(Ordering::Acquire)
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Arc<PublishedCheckpoint> {
        self.shared().published()
    }

    /// The log's configuration.
    pub fn config(&self) -> &Config {
        &self.shared().config
    }

    fn check_published(&self, size: u64) -> Result<(), Error> {
        let published = self.checkpoint().size;
        if size > published {
            return Err(Error::SizeNotPublished { size, published });
        }
        Ok(())
    }

    /// The entry at `index` of the published tree.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] beyond the published tree; store failures.
    pub fn entry(&self, index: u64) -> Result<Vec<u8>, Error> {
        let size = self.checkpoint().size;
        if index >= size {
            return Err(Error::IndexOutOfRange { index, size });
        }
        let bundle = self.read_bundle(index / TILE_WIDTH)?;
        let position = (index % TILE_WIDTH) as usize;
        bundle.entry(position).map(<[u8]>::to_vec).ok_or_else(|| {
            StoreError::Corrupt {
                what: format!("entry bundle {} lacks entry {index}", index / TILE_WIDTH),
            }
            .into()
        })
    }

    /// When the entry at `index` was sequenced, in milliseconds since the Unix epoch.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] beyond the published tree; store failures.
    pub fn entry_time(&self, index: u64) -> Result<u64, Error> {
        let size = self.checkpoint().size;
        if index >= size {
            return Err(Error::IndexOutOfRange { index, size });
        }
        self.shared().store.entry_time(index)?.ok_or_else(|| {
            StoreError::Corrupt {
                what: format!("no batch records entry {index}"),
            }
            .into()
        })
    }

    fn read_bundle(&self, index: u64) -> Result<SplitBundle, Error> {
        let bytes = self
            .shared()
            .store
            .read_bundle(index)?
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("entry bundle {index} is missing"),
            })?;
        let format = self.shared().config.format.as_ref();
        Ok(
            SplitBundle::new(format, bytes).map_err(|e| StoreError::Corrupt {
                what: format!("entry bundle {index}: {e}"),
            })?,
        )
    }

    /// The bytes of hash tile `level/index` as of the published tree, `width` hashes wide
    /// (`None` = as wide as the published tree has it). `Ok(None)` if the published tree has no
    /// such tile or not that wide a version of it.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn tile(
        &self,
        level: u8,
        index: u64,
        width: Option<u16>,
    ) -> Result<Option<Vec<u8>>, Error> {
        let size = self.checkpoint().size;
        let Some(available) = waxseal_tiles::tile_width_at(level, index, size) else {
            return Ok(None);
        };
        let width = width.unwrap_or(available);
        if width > available {
            return Ok(None);
        }
        let tile = self.read_tile(level, index)?;
        let tile = tile.truncated(width).map_err(|e| StoreError::Corrupt {
            what: format!("tile {level}/{index}: {e}"),
        })?;
        Ok(Some(tile.to_bytes()))
    }

    /// The bytes of entry bundle `index` as of the published tree, `width` entries wide
    /// (`None` = as wide as the published tree has it). `Ok(None)` if there is no such bundle.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn bundle(&self, index: u64, width: Option<u16>) -> Result<Option<Vec<u8>>, Error> {
        let size = self.checkpoint().size;
        let Some(available) = waxseal_tiles::bundle_width_at(index, size) else {
            return Ok(None);
        };
        let width = width.unwrap_or(available);
        if width > available {
            return Ok(None);
        }
        let bundle = self.read_bundle(index)?;
        let bytes = bundle
            .truncated(usize::from(width))
            .ok_or_else(|| StoreError::Corrupt {
                what: format!(
                    "entry bundle {index} has {} entries, the published tree needs {width}",
                    bundle.len()
                ),
            })?;
        Ok(Some(bytes.to_vec()))
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<HashTile, StoreError> {
        let bytes = self
            .shared()
            .store
            .read_tile(level, index)?
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("tile {level}/{index} is missing"),
            })?;
        HashTile::parse(&bytes).map_err(|e| StoreError::Corrupt {
            what: format!("tile {level}/{index}: {e}"),
        })
    }

    fn hash_reader(&self, size: u64) -> TileHashReader<StoreTiles<'_>> {
        let edge_tiles = self.shared().published_state().edge_tiles;
        TileHashReader::new(
            size,
            StoreTiles {
                log: self,
                edge_tiles,
            },
        )
    }

    /// The root hash of the tree at `size` (at most the published size).
    ///
    /// # Errors
    ///
    /// [`Error::SizeNotPublished`]; store failures.
    pub fn root(&self, size: u64) -> Result<Hash, Error> {
        self.check_published(size)?;
        waxseal_merkle::tree_root(size, &self.hash_reader(size)).map_err(proof_error)
    }

    /// The inclusion proof of the entry at `index` in the tree at `size`.
    ///
    /// # Errors
    ///
    /// [`Error::SizeNotPublished`], [`Error::IndexOutOfRange`]; store failures.
    pub fn prove_inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, Error> {
        self.check_published(size)?;
        if index >= size {
            return Err(Error::IndexOutOfRange { index, size });
        }
        waxseal_merkle::prove_inclusion(index, size, &self.hash_reader(size)).map_err(proof_error)
    }

    /// The consistency proof from the tree at `size1` to the tree at `size2`.
    ///
    /// # Errors
    ///
    /// [`Error::SizeNotPublished`], [`Error::SizeOrder`]; store failures.
    pub fn prove_consistency(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, Error> {
        self.check_published(size2)?;
        if size1 > size2 {
            return Err(Error::SizeOrder { size1, size2 });
        }
        waxseal_merkle::prove_consistency(size1, size2, &self.hash_reader(size2))
            .map_err(proof_error)
    }

    /// Entries of the published log indexed under `term`, ascending, at most `limit`.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, Error> {
        let size = self.checkpoint().size;
        let mut found = self.shared().store.search(term, limit)?;
        found.retain(|&index| index < size);
        Ok(found)
    }

    /// The index of an entry of the published log, by its deduplication key: for the default
    /// [`Verbatim`] format that is its leaf hash (RFC 6962 `SHA-256(0x00 || entry)`); other
    /// formats define it with [`EntryFormat::key`].
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn find_leaf(&self, leaf: &Hash) -> Result<Option<u64>, Error> {
        let size = self.checkpoint().size;
        let found = self.shared().store.lookup(std::slice::from_ref(leaf))?;
        Ok(found
            .into_iter()
            .next()
            .flatten()
            .filter(|&index| index < size))
    }

    /// The index of an entry already in the published log, by its contents as submitted.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidEntry`] if the log's format rejects it; store failures.
    pub fn find(&self, entry: &[u8]) -> Result<Option<u64>, Error> {
        let size = self.checkpoint().size;
        let key = self
            .shared()
            .config
            .format
            .key(entry)
            .map_err(Error::InvalidEntry)?;
        let found = self.shared().store.lookup(&[key])?;
        Ok(found
            .into_iter()
            .next()
            .flatten()
            .filter(|&index| index < size))
    }
}

fn proof_error(
    e: waxseal_merkle::ProveError<waxseal_tiles::TileHashReaderError<StoreError>>,
) -> Error {
    match e {
        waxseal_merkle::ProveError::IndexOutOfRange { index, size } => {
            Error::IndexOutOfRange { index, size }
        }
        waxseal_merkle::ProveError::SizeOrder { size1, size2 } => Error::SizeOrder { size1, size2 },
        other => StoreError::Corrupt {
            what: format!("couldn't build a proof: {other}"),
        }
        .into(),
    }
}

/// Tiles for proofs: the published tree's right edge from memory, the rest from the store.
/// Both are at least as wide as any published tree size needs (tiles only grow).
#[derive(Debug)]
struct StoreTiles<'a> {
    log: &'a Log,
    edge_tiles: Arc<Vec<EdgeTile>>,
}

impl StoreTiles<'_> {
    fn edge_tile(&self, level: u8, index: u64) -> Option<&EdgeTile> {
        self.edge_tiles
            .iter()
            .find(|t| (t.level, t.index) == (level, index))
    }
}

impl TileReader for StoreTiles<'_> {
    type Error = StoreError;

    fn read_tile(&self, level: u8, index: u64, _width: u16) -> Result<HashTile, StoreError> {
        match self.edge_tile(level, index) {
            Some(edge) => Ok(edge.tile.clone()),
            None => self.log.read_tile(level, index),
        }
    }

    fn subtree_hash(&self, level: u8, index: u64, start: usize, count: usize) -> Option<Hash> {
        if !count.is_power_of_two() || !start.is_multiple_of(count) {
            return None;
        }
        let edge = self.edge_tile(level, index)?;
        edge.pyramid
            .get(count.trailing_zeros() as usize)?
            .get(start / count)
            .copied()
    }
}

/// The single writer: takes batches from the pool, makes them durable, publishes checkpoints.
struct Sequencer {
    shared: Arc<Shared>,
    /// `None` after a failed write: the in-memory edge may be ahead of the store, so it is
    /// reloaded before the next batch.
    edge: Option<Edge>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Takes the next batch from the pool: waits for one entry, then takes what is queued and
/// waits up to `max_age` for more, up to `max` entries. `None` once the pool is closed and empty.
pub(crate) fn next_batch(
    receiver: &Receiver<Pending>,
    max: usize,
    max_age: Duration,
) -> Option<Vec<Pending>> {
    let first = receiver.recv().ok()?;
    let mut batch = vec![first];
    while batch.len() < max {
        match receiver.try_recv() {
            Ok(p) => batch.push(p),
            Err(_) => break,
        }
    }
    let deadline = Instant::now() + max_age;
    while batch.len() < max {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match receiver.recv_timeout(left) {
            Ok(p) => batch.push(p),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(batch)
}

/// An entry of a batch being sequenced.
pub(crate) struct BatchEntry<'a> {
    pub(crate) entry: &'a [u8],
    pub(crate) key: Hash,
    pub(crate) terms: &'a [Vec<u8>],
}

/// A sequenced batch, ready to be made durable.
pub(crate) struct Planned {
    pub(crate) update: Integration,
    /// Per entry of the batch: its index, whether it was a duplicate, its sequencing time.
    pub(crate) assigned: Vec<(u64, bool, u64)>,
    /// New entries in the batch.
    pub(crate) fresh: usize,
}

/// Assigns indexes to a batch (duplicates get their first index back), seals the new entries
/// and appends them to `edge`, recording every changed tile and bundle. The store is not
/// written; on a failure after this returns, `edge` is ahead of the store and must be reloaded.
pub(crate) fn plan_batch(
    shared: &Shared,
    edge: &mut Edge,
    batch: &[BatchEntry<'_>],
) -> Result<Planned, Error> {
    let keys: Vec<Hash> = batch.iter().map(|p| p.key).collect();
    let found = shared.store.lookup(&keys)?;
    let start = edge.size();
    let mut update = Integration {
        start,
        size: start,
        time_ms: now_ms(),
        ..Integration::default()
    };
    let mut in_batch: HashMap<Hash, u64> = HashMap::new();
    let mut assigned = Vec::with_capacity(batch.len());
    let mut fresh = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        if let Some(index) = found.get(i).copied().flatten() {
            let time = shared.store.entry_time(index)?.unwrap_or(0);
            assigned.push((index, true, time));
        } else if let Some(&index) = in_batch.get(key) {
            assigned.push((index, true, update.time_ms));
        } else {
            let index = start + fresh.len() as u64;
            in_batch.insert(*key, index);
            update.dedup.push((*key, index));
            update
                .terms
                .extend(batch[i].terms.iter().map(|t| (t.clone(), index)));
            fresh.push(i);
            assigned.push((index, false, update.time_ms));
        }
    }
    if !fresh.is_empty() {
        let format = shared.config.format.as_ref();
        let sealed = fresh
            .iter()
            .enumerate()
            .map(|(k, &i)| format.seal(batch[i].entry, start + k as u64, update.time_ms))
            .collect::<Result<Vec<Sealed>, _>>()
            .map_err(Error::Seal)?;
        edge.append(sealed, &mut update);
    }
    Ok(Planned {
        update,
        assigned,
        fresh: fresh.len(),
    })
}

/// Reads the store's tree edge and makes sure its tree is published: after a crash or a
/// failed write, or when a new sequencer takes over.
pub(crate) fn recover(shared: &Shared) -> Result<Edge, Error> {
    let state = shared.store.load()?;
    let edge = Edge::load(
        shared.store.as_ref(),
        shared.config.format.as_ref(),
        state.size,
    )?;
    match state.checkpoint {
        Some(cp) if cp.size == edge.size() => {
            shared.set_published(cp, &edge);
        }
        _ => {
            shared.publish(&edge)?;
        }
    }
    Ok(edge)
}

impl Sequencer {
    fn run(mut self, receiver: &Receiver<Pending>) {
        let max = self.shared.config.batch_max_entries;
        let max_age = self.shared.config.batch_max_age;
        while let Some(batch) = next_batch(receiver, max, max_age) {
            self.shared.take_pending(&batch);
            self.sequence(batch);
        }
    }

    fn sequence(&mut self, batch: Vec<Pending>) {
        match self.try_sequence(&batch) {
            Ok(results) => {
                for (pending, result) in batch.into_iter().zip(results) {
                    pending.reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, entries = batch.len(), "log batch failed");
                let cause = Arc::new(e);
                for pending in batch {
                    pending.reply.send(Err(Error::BatchFailed {
                        cause: Arc::clone(&cause),
                    }));
                }
            }
        }
    }

    fn reload(&mut self) -> Result<&mut Edge, Error> {
        if self.edge.is_none() {
            self.edge = Some(recover(&self.shared)?);
        }
        // Just set above when it was None.
        self.edge.as_mut().ok_or(Error::Closed)
    }

    fn try_sequence(&mut self, batch: &[Pending]) -> Result<Vec<Appended>, Error> {
        let shared = Arc::clone(&self.shared);
        let entries: Vec<BatchEntry<'_>> = batch
            .iter()
            .map(|p| BatchEntry {
                entry: &p.entry,
                key: p.key,
                terms: &p.terms,
            })
            .collect();
        let edge = self.reload()?;
        let start = edge.size();
        let planned = plan_batch(&shared, edge, &entries);
        let planned = match planned {
            Ok(planned) => planned,
            Err(e) => {
                // A failure after sealing would leave the edge ahead; plan_batch appends last,
                // so only a failed append could, and it cannot fail. Reload to be safe anyway.
                if self.edge.as_ref().is_some_and(|e| e.size() != start) {
                    self.edge = None;
                }
                return Err(e);
            }
        };
        let checkpoint = if planned.fresh == 0 && shared.published().size == start {
            shared.published()
        } else {
            if planned.fresh > 0 {
                if let Err(e) = shared.store.integrate(&planned.update) {
                    self.edge = None;
                    return Err(e.into());
                }
                shared
                    .stats
                    .last_batch
                    .store(planned.fresh as u64, Ordering::Release);
                shared
                    .stats
                    .integrated
                    .fetch_add(planned.fresh as u64, Ordering::AcqRel);
            }
            let edge = self.edge.as_ref().ok_or(Error::Closed)?;
            shared.publish(edge)?
        };
        Ok(planned
            .assigned
            .into_iter()
            .map(|(index, duplicate, time_ms)| Appended {
                index,
                duplicate,
                time_ms,
                checkpoint: Arc::clone(&checkpoint),
            })
            .collect())
    }
}
