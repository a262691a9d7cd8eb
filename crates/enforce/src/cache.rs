//! The verification cache the webhook and the continuous verifier share: bounded (least
//! recently used entries go first), TTL'd (a shorter TTL for denials, so a fixed signature is
//! seen soon), single flight (concurrent callers for one key wait for one computation; kyverno
//! #16997), and keyed on every verdict input (image digest, policy set digest, trusted root
//! digest; kyverno #17173 is what a coarser key costs).
//!
//! Time is read through [`tokio::time::Instant`], so tests can pause and advance it.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::OnceCell;
use tokio::time::Instant;

/// What a cached verdict depends on, each as a digest of the input.
///
/// Any change of the policies or of the trusted roots is a new key, so a stale verdict can't
/// be served for new inputs even before the old entries are invalidated.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey {
    /// The image's manifest digest (`sha256:…`), or its full digest reference.
    pub image_digest: String,
    /// The digest of the policy set the verdict was evaluated with.
    pub policy_set: String,
    /// The digest of the trusted root the signatures were verified against.
    pub trusted_root: String,
}

impl CacheKey {
    /// A key from its three digests.
    pub fn new(
        image_digest: impl Into<String>,
        policy_set: impl Into<String>,
        trusted_root: impl Into<String>,
    ) -> Self {
        Self {
            image_digest: image_digest.into(),
            policy_set: policy_set.into(),
            trusted_root: trusted_root.into(),
        }
    }
}

/// How big the cache is and how long its entries live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheConfig {
    /// The most entries kept (at least 1); default 10 000. Entries still computing are never
    /// evicted, so the cache can exceed this by the number of computations in flight.
    pub capacity: usize,
    /// How long an allowing verdict is kept; default 5 minutes.
    pub allow_ttl: Duration,
    /// How long a denying verdict is kept; default 10 seconds.
    pub deny_ttl: Duration,
}

impl CacheConfig {
    /// This configuration with another capacity.
    #[must_use]
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// This configuration with another TTL for allowing verdicts.
    #[must_use]
    pub fn with_allow_ttl(mut self, ttl: Duration) -> Self {
        self.allow_ttl = ttl;
        self
    }

    /// This configuration with another TTL for denying verdicts.
    #[must_use]
    pub fn with_deny_ttl(mut self, ttl: Duration) -> Self {
        self.deny_ttl = ttl;
        self
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            allow_ttl: Duration::from_secs(5 * 60),
            deny_ttl: Duration::from_secs(10),
        }
    }
}

/// Counters of a [`Cache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Calls answered without running their own computation: a live entry, or another
    /// caller's computation they waited for.
    pub hits: u64,
    /// Computations started (one per call that computed, finished or cancelled).
    pub misses: u64,
    /// Entries held now, computing ones included.
    pub entries: u64,
    /// Entries dropped to stay within the capacity.
    pub evictions: u64,
}

/// A value with the instant it stops being served.
#[derive(Debug)]
struct Stored<V> {
    value: V,
    expires: Instant,
}

#[derive(Debug)]
struct Entry<V> {
    /// Set once by the one caller that computes; others wait on it. If that caller is
    /// cancelled the cell stays empty and the next waiter computes (tokio `OnceCell`).
    cell: Arc<OnceCell<Stored<V>>>,
    /// Position in [`Inner::order`].
    tick: u64,
}

#[derive(Debug)]
struct Inner<V> {
    entries: HashMap<CacheKey, Entry<V>>,
    /// Use order: the smallest tick is the least recently used key.
    order: BTreeMap<u64, CacheKey>,
    next_tick: u64,
    stats: CacheStats,
}

impl<V> Inner<V> {
    fn touch(&mut self, key: &CacheKey) {
        let tick = self.next_tick;
        if let Some(entry) = self.entries.get_mut(key) {
            self.order.remove(&entry.tick);
            entry.tick = tick;
            self.order.insert(tick, key.clone());
            self.next_tick += 1;
        }
    }

    fn remove(&mut self, key: &CacheKey) {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.tick);
        }
    }

    fn retain(&mut self, keep: impl Fn(&CacheKey) -> bool) {
        let gone: Vec<CacheKey> = self.entries.keys().filter(|k| !keep(k)).cloned().collect();
        for key in &gone {
            self.remove(key);
        }
    }
}

/// A bounded, TTL'd, single-flight cache of verification verdicts.
///
/// Concurrency: one mutex guards the map and the use order; it is never held across an
/// `.await`. Computations run outside it, each key's on one caller at a time.
#[derive(Debug)]
pub struct Cache<V: Clone + Send + Sync + 'static> {
    config: CacheConfig,
    inner: Mutex<Inner<V>>,
}

impl<V: Clone + Send + Sync + 'static> Cache<V> {
    /// An empty cache.
    pub fn new(config: CacheConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                order: BTreeMap::new(),
                next_tick: 0,
                stats: CacheStats::default(),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Inner<V>> {
        // The guarded data stays consistent between statements, so a panic elsewhere while
        // holding the lock leaves nothing half-done.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached value for `key`, or the one `compute` returns, kept for the allow TTL when
    /// its flag is `true` and for the deny TTL otherwise.
    ///
    /// Concurrent callers for one key run one computation; the others wait for it. If the
    /// computing caller is dropped (cancelled, timed out), one waiter runs its own `compute`
    /// instead, so nobody waits forever on a computation that no longer runs. An entry
    /// invalidated while computing still answers its waiters but isn't kept.
    pub async fn get_or_insert_with<F, Fut>(&self, key: CacheKey, compute: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = (V, bool)>,
    {
        let cell = {
            let mut inner = self.lock();
            let now = Instant::now();
            let live = inner
                .entries
                .get(&key)
                .and_then(|entry| match entry.cell.get() {
                    Some(stored) if stored.expires <= now => None,
                    _ => Some(Arc::clone(&entry.cell)),
                });
            let cell = match live {
                Some(cell) => cell,
                None => {
                    inner.remove(&key);
                    let cell = Arc::new(OnceCell::new());
                    let tick = inner.next_tick;
                    inner.next_tick += 1;
                    inner.order.insert(tick, key.clone());
                    inner.entries.insert(
                        key.clone(),
                        Entry {
                            cell: Arc::clone(&cell),
                            tick,
                        },
                    );
                    self.evict(&mut inner);
                    cell
                }
            };
            inner.touch(&key);
            cell
        };
        let ran = AtomicBool::new(false);
        let (allow_ttl, deny_ttl) = (self.config.allow_ttl, self.config.deny_ttl);
        let stored = cell
            .get_or_init(|| async {
                ran.store(true, Ordering::Relaxed);
                self.lock().stats.misses += 1;
                let (value, allowed) = compute().await;
                let ttl = if allowed { allow_ttl } else { deny_ttl };
                Stored {
                    value,
                    expires: Instant::now() + ttl,
                }
            })
            .await;
        if !ran.load(Ordering::Relaxed) {
            self.lock().stats.hits += 1;
        }
        stored.value.clone()
    }

    /// Drops least recently used entries beyond the capacity. Entries still computing are
    /// skipped: evicting one would let a new caller start a second computation for its key.
    fn evict(&self, inner: &mut Inner<V>) {
        let capacity = self.config.capacity.max(1);
        while inner.entries.len() > capacity {
            let victim = inner
                .order
                .iter()
                .find(|(_, key)| {
                    inner
                        .entries
                        .get(*key)
                        .is_some_and(|e| e.cell.initialized())
                })
                .map(|(_, key)| key.clone());
            let Some(key) = victim else {
                break;
            };
            inner.remove(&key);
            inner.stats.evictions += 1;
        }
    }

    /// Drops every entry evaluated with the policy set of digest `digest`.
    pub fn invalidate_policy_set(&self, digest: &str) {
        self.lock().retain(|key| key.policy_set != digest);
    }

    /// Drops every entry verified against the trusted root of digest `digest`.
    pub fn invalidate_trusted_root(&self, digest: &str) {
        self.lock().retain(|key| key.trusted_root != digest);
    }

    /// Drops every entry (the counters stay).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.entries.clear();
        inner.order.clear();
    }

    /// The counters now.
    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            entries: u64::try_from(inner.entries.len()).unwrap_or(u64::MAX),
            ..inner.stats
        }
    }
}

impl<V: Clone + Send + Sync + 'static> Default for Cache<V> {
    fn default() -> Self {
        Self::new(CacheConfig::default())
    }
}
