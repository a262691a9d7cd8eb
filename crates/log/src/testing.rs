//! Test support: an in-memory [`Store`] whose operations can be made to fail on demand, in the
//! two ways a real backend fails: the write did not happen, or it happened but the caller was
//! told it failed (a timeout after the commit, a lost reply).
//!
//! [`FaultyStore`] wraps any store with the same failure injection, so that one fault table
//! runs over every backend, and [`PostgresServer`] runs a throwaway PostgreSQL server.
//!
//! Used by this crate's tests and by crates built on the engine; not for production.

mod postgres;

pub use postgres::PostgresServer;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use waxseal_merkle::Hash;

use crate::error::StoreError;
use crate::store::{Integration, IssuerStore, PublishedCheckpoint, Store, StoredState};

/// A store operation that can be made to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// [`Store::integrate`].
    Integrate,
    /// [`Store::load`].
    Load,
    /// [`Store::lookup`].
    Lookup,
    /// [`Store::publish`].
    Publish,
    /// [`Store::read_bundle`].
    ReadBundle,
    /// [`Store::read_tile`].
    ReadTile,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::Integrate => "integrate",
            Self::Load => "load",
            Self::Lookup => "lookup",
            Self::Publish => "publish",
            Self::ReadBundle => "read_bundle",
            Self::ReadTile => "read_tile",
        }
    }
}

/// How an injected failure behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Failure {
    /// The operation fails and changes nothing.
    NotPersisted,
    /// The operation takes effect, then reports failure.
    PersistedAnyway,
}

#[derive(Debug, Default)]
struct State {
    size: u64,
    checkpoint: Option<PublishedCheckpoint>,
    tiles: HashMap<(u8, u64), Vec<u8>>,
    bundles: HashMap<u64, Vec<u8>>,
    dedup: HashMap<Hash, u64>,
    terms: HashMap<Vec<u8>, Vec<u64>>,
    batches: BTreeMap<u64, (u64, u64)>,
    issuers: HashMap<[u8; 32], Vec<u8>>,
}

/// An in-memory [`Store`] with failure injection.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    faults: Mutex<VecDeque<(Operation, Failure)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next call of `operation` fail as `failure` says. Queued faults fire in order.
    pub fn fail_next(&self, operation: Operation, failure: Failure) {
        lock(&self.faults).push_back((operation, failure));
    }

    /// Faults queued but not yet fired.
    pub fn pending_faults(&self) -> usize {
        lock(&self.faults).len()
    }

    /// Takes the queued fault for `operation`, if it is next in line for that operation.
    fn fault(&self, operation: Operation) -> Option<Failure> {
        let mut faults = lock(&self.faults);
        let position = faults.iter().position(|(op, _)| *op == operation)?;
        faults.remove(position).map(|(_, failure)| failure)
    }

    fn inject<T>(
        &self,
        operation: Operation,
        apply: impl FnOnce(&mut State) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let fault = self.fault(operation);
        if fault == Some(Failure::NotPersisted) {
            return Err(StoreError::Injected {
                op: operation.name(),
            });
        }
        let result = apply(&mut lock(&self.state))?;
        match fault {
            Some(_) => Err(StoreError::Injected {
                op: operation.name(),
            }),
            None => Ok(result),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn load(&self) -> Result<StoredState, StoreError> {
        self.inject(Operation::Load, |s| {
            Ok(StoredState {
                size: s.size,
                checkpoint: s.checkpoint.clone(),
            })
        })
    }

    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        self.inject(Operation::Lookup, |s| {
            Ok(keys.iter().map(|k| s.dedup.get(k).copied()).collect())
        })
    }

    fn integrate(&self, update: &Integration) -> Result<(), StoreError> {
        self.inject(Operation::Integrate, |s| {
            if s.size != update.start {
                return Err(StoreError::SizeMismatch {
                    expected: update.start,
                    stored: s.size,
                });
            }
            for (level, index, data) in &update.tiles {
                s.tiles.insert((*level, *index), data.clone());
            }
            for (index, data) in &update.bundles {
                s.bundles.insert(*index, data.clone());
            }
            for (key, index) in &update.dedup {
                s.dedup.insert(*key, *index);
            }
            for (term, index) in &update.terms {
                let indexes = s.terms.entry(term.clone()).or_default();
                if !indexes.contains(index) {
                    indexes.push(*index);
                    indexes.sort_unstable();
                }
            }
            if update.size > update.start {
                s.batches
                    .insert(update.size, (update.start, update.time_ms));
            }
            s.size = update.size;
            Ok(())
        })
    }

    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError> {
        self.inject(Operation::Publish, |s| {
            let published = s.checkpoint.as_ref().map_or(0, |c| c.size);
            if checkpoint.size > s.size || checkpoint.size < published {
                return Err(StoreError::SizeMismatch {
                    expected: checkpoint.size,
                    stored: s.size,
                });
            }
            s.checkpoint = Some(checkpoint.clone());
            Ok(())
        })
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inject(Operation::ReadTile, |s| {
            Ok(s.tiles.get(&(level, index)).cloned())
        })
    }

    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inject(Operation::ReadBundle, |s| {
            Ok(s.bundles.get(&index).cloned())
        })
    }

    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError> {
        let s = lock(&self.state);
        Ok(s.terms
            .get(term)
            .map(|v| v.iter().take(limit).copied().collect())
            .unwrap_or_default())
    }

    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError> {
        let s = lock(&self.state);
        Ok(s.batches
            .range(index + 1..)
            .next()
            .filter(|(_, (start, _))| *start <= index)
            .map(|(_, (_, t))| *t))
    }
}

impl IssuerStore for MemoryStore {
    fn put_issuer(&self, fingerprint: &[u8; 32], der: &[u8]) -> Result<(), StoreError> {
        lock(&self.state)
            .issuers
            .entry(*fingerprint)
            .or_insert_with(|| der.to_vec());
        Ok(())
    }

    fn issuer(&self, fingerprint: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.state).issuers.get(fingerprint).cloned())
    }
}

/// Any [`Store`] with the failure injection of [`MemoryStore`]: each queued fault makes the
/// next call of its operation fail, before (`NotPersisted`) or after (`PersistedAnyway`) the
/// inner store ran it.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    faults: Mutex<VecDeque<(Operation, Failure)>>,
}

impl<S: Store> FaultyStore<S> {
    /// Wraps `inner`, with no faults queued.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            faults: Mutex::new(VecDeque::new()),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Makes the next call of `operation` fail as `failure` says. Queued faults fire in order.
    pub fn fail_next(&self, operation: Operation, failure: Failure) {
        lock(&self.faults).push_back((operation, failure));
    }

    /// Faults queued but not yet fired.
    pub fn pending_faults(&self) -> usize {
        lock(&self.faults).len()
    }

    fn inject<T>(
        &self,
        operation: Operation,
        call: impl FnOnce(&S) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let fault = {
            let mut faults = lock(&self.faults);
            faults
                .iter()
                .position(|(op, _)| *op == operation)
                .and_then(|p| faults.remove(p))
                .map(|(_, failure)| failure)
        };
        match fault {
            None => call(&self.inner),
            Some(Failure::NotPersisted) => Err(StoreError::Injected {
                op: operation.name(),
            }),
            Some(Failure::PersistedAnyway) => {
                call(&self.inner)?;
                Err(StoreError::Injected {
                    op: operation.name(),
                })
            }
        }
    }
}

impl<S: Store> Store for FaultyStore<S> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    fn load(&self) -> Result<StoredState, StoreError> {
        self.inject(Operation::Load, |s| s.load())
    }

    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        self.inject(Operation::Lookup, |s| s.lookup(keys))
    }

    fn integrate(&self, update: &Integration) -> Result<(), StoreError> {
        self.inject(Operation::Integrate, |s| s.integrate(update))
    }

    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError> {
        self.inject(Operation::Publish, |s| s.publish(checkpoint))
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inject(Operation::ReadTile, |s| s.read_tile(level, index))
    }

    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inject(Operation::ReadBundle, |s| s.read_bundle(index))
    }

    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError> {
        self.inner.search(term, limit)
    }

    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError> {
        self.inner.entry_time(index)
    }
}

/// Holds a cluster log's sequencer lock from the test, so that no member sequences until it is
/// dropped: a way to observe queued entries, pushback and take-over deterministically.
#[derive(Debug)]
pub struct SequencerLock {
    /// The session holding the lock; dropping it ends the session and frees the lock.
    _session: crate::postgres::HeldLock,
}

impl SequencerLock {
    /// Waits until the lock of `store`'s log is free and takes it.
    ///
    /// # Errors
    ///
    /// Database failures.
    pub fn take(store: &crate::PgStore) -> Result<Self, StoreError> {
        let never = std::sync::atomic::AtomicBool::new(false);
        store
            .acquire_lock(&never, std::time::Duration::from_millis(50))?
            .map(|session| Self { _session: session })
            .ok_or(StoreError::Postgres {
                op: "take the sequencer lock",
                message: "stopped".into(),
            })
    }
}

/// A [`MemoryStore`] whose integrations wait while the test holds its gate closed: a way to
/// fill the pool deterministically and observe pushback.
#[derive(Debug, Default)]
pub struct GatedStore {
    inner: MemoryStore,
    closed: Mutex<bool>,
    changed: Condvar,
    waiting: std::sync::atomic::AtomicUsize,
}

impl GatedStore {
    /// A store with the gate open.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes integrations wait.
    pub fn close(&self) {
        *lock(&self.closed) = true;
    }

    /// Integrations currently held at the gate.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Lets waiting and future integrations through.
    pub fn open(&self) {
        *lock(&self.closed) = false;
        self.changed.notify_all();
    }
}

impl Store for GatedStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn load(&self) -> Result<StoredState, StoreError> {
        self.inner.load()
    }

    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        self.inner.lookup(keys)
    }

    fn integrate(&self, update: &Integration) -> Result<(), StoreError> {
        let mut closed = lock(&self.closed);
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        while *closed {
            closed = self
                .changed
                .wait(closed)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.waiting
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        drop(closed);
        self.inner.integrate(update)
    }

    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError> {
        self.inner.publish(checkpoint)
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_tile(level, index)
    }

    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.read_bundle(index)
    }

    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError> {
        self.inner.search(term, limit)
    }

    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError> {
        self.inner.entry_time(index)
    }
}

impl IssuerStore for GatedStore {
    fn put_issuer(&self, fingerprint: &[u8; 32], der: &[u8]) -> Result<(), StoreError> {
        self.inner.put_issuer(fingerprint, der)
    }

    fn issuer(&self, fingerprint: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.issuer(fingerprint)
    }
}

/// Durable appends per second: appends `total` distinct entries of `entry_len` bytes to `log`,
/// keeping `in_flight` outstanding, and counts only acknowledged ones (durable and covered by a
/// published checkpoint). Returns `(acknowledged, appends per second)`. For engine-only
/// comparisons of backends and batch sizes.
///
/// # Errors
///
/// The first append that fails.
pub fn durable_appends_per_second(
    log: &crate::Log,
    total: usize,
    in_flight: usize,
    entry_len: usize,
) -> Result<(usize, f64), crate::Error> {
    let start = std::time::Instant::now();
    let nonce = start.elapsed().as_nanos() ^ u128::from(std::process::id());
    let mut window = VecDeque::with_capacity(in_flight.max(1));
    let mut acknowledged = 0;
    for i in 0..total {
        let mut entry = format!("bench-{nonce}-{i}-").into_bytes();
        entry.resize(entry_len.max(entry.len()), b'.');
        window.push_back(log.append(entry)?);
        if window.len() >= in_flight.max(1)
            && let Some(pending) = window.pop_front()
        {
            pending.wait()?;
            acknowledged += 1;
        }
    }
    for pending in window {
        pending.wait()?;
        acknowledged += 1;
    }
    let seconds = start.elapsed().as_secs_f64().max(f64::EPSILON);
    Ok((acknowledged, acknowledged as f64 / seconds))
}
