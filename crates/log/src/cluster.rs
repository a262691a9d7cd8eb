//! Cluster mode: several processes on one PostgreSQL database are one log.
//!
//! Every member runs three threads and one listener task:
//!
//! - the **forwarder** takes validated entries from the member's pool (each front end parses,
//!   validates and computes dedup keys itself, in [`Log::append`]) and queues them in
//!   `log_queue`, a batch per insert;
//! - the **sequencer** waits for the log's advisory lock (`pg_try_advisory_lock` on a dedicated
//!   session, retried every [`LOCK_RETRY`]); while it holds it, it integrates queued batches.
//!   Queue rows are removed, and their results (queue id → index, duplicate?, time) written,
//!   in the same transaction as the integration, so every queued entry is sequenced exactly
//!   once; then it signs and publishes a checkpoint. On taking the lock it reloads the state
//!   and publishes any tree a dead sequencer integrated but did not publish;
//! - the **watcher** wakes on a NOTIFY (or every [`POLL`] as a fallback), refreshes the
//!   served checkpoint and right-edge tiles, and answers the member's waiting clients from
//!   the results rows whose index the served checkpoint covers: so an append is acknowledged
//!   only once its entry is integrated and covered by a published checkpoint;
//! - the **listener** (on the store's runtime) holds a dedicated `LISTEN` session and wakes
//!   the other two.
//!
//! When a sequencer dies its session ends and the lock is released; another member takes it.
//! Two sequencers at once (a stale one still running) cannot fork the log: each integration
//! locks the tree row and checks the stored size, and the queue rows it dequeues must all
//! still be there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use waxseal_note::NoteSigner;

use crate::edge::Edge;
use crate::engine::{
    Appended, BatchEntry, Config, Log, Pending, Role, Shared, next_batch, plan_batch, recover,
};
use crate::error::{Error, StoreError};
use crate::postgres::{CHANGED, PgStore, QUEUED, QueueResult, Queued};
use crate::reply::Reply;
use crate::store::Store;

/// How often a member that does not hold the sequencer lock tries to take it.
pub(crate) const LOCK_RETRY: Duration = Duration::from_millis(300);
/// The polling fallback for missed notifications.
pub(crate) const POLL: Duration = Duration::from_millis(250);
/// How often the status fields that cost a query (queue length, lock holder) are refreshed.
const STATUS_EVERY: Duration = Duration::from_secs(1);
/// Results rows older than this belong to front ends that went away; the sequencer deletes
/// them.
const RESULTS_MAX_AGE: Duration = Duration::from_secs(600);
/// How long a closing member keeps serving its waiting clients.
const DRAIN: Duration = Duration::from_secs(30);

/// A wake-up signal: a counter bumped under a lock, waited on with a timeout.
#[derive(Debug, Default)]
struct Wake {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wake {
    fn bump(&self) {
        *lock(&self.generation) += 1;
        self.changed.notify_all();
    }

    /// Waits until bumped past `seen` or `timeout` passes; updates `seen`.
    fn wait(&self, seen: &mut u64, timeout: Duration) {
        let generation = lock(&self.generation);
        let (generation, _) = self
            .changed
            .wait_timeout_while(generation, timeout, |g| *g == *seen)
            .unwrap_or_else(PoisonError::into_inner);
        *seen = *generation;
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A client waiting for its queued entry; it stays counted in the member's pool until
/// answered.
#[derive(Debug)]
struct Waiter {
    reply: Reply,
    since: Instant,
    bytes: usize,
}

/// What the member's threads share.
#[derive(Debug)]
pub(crate) struct ClusterState {
    pub(crate) store: Arc<PgStore>,
    /// Clients waiting for their queued entries, by queue id. Filled by the forwarder, emptied
    /// by the watcher.
    waiters: Mutex<HashMap<i64, Waiter>>,
    /// A checkpoint or results changed (NOTIFY on [`CHANGED`]).
    changed: Wake,
    /// Entries were queued (NOTIFY on [`QUEUED`]).
    queued_wake: Wake,
    /// The member is closing: the sequencer and the listener stop.
    stop: AtomicBool,
    /// The forwarder has drained the pool and exited.
    forwarder_done: AtomicBool,
    /// Status fields refreshed by the watcher.
    sequencer: Mutex<Option<String>>,
    queue_len: AtomicU64,
}

impl ClusterState {
    pub(crate) fn sequencer(&self) -> Option<String> {
        lock(&self.sequencer).clone()
    }

    pub(crate) fn queued(&self) -> u64 {
        self.queue_len.load(Ordering::Acquire)
    }

    /// This member's clients whose entries are queued and not yet answered.
    pub(crate) fn waiting(&self) -> u64 {
        lock(&self.waiters).len() as u64
    }
}

impl Log {
    /// Opens log `store` in cluster mode: this process becomes one member of the log that
    /// every process opening the same database and log name forms. Each member validates its
    /// own submissions and queues them in the database; whichever member holds the log's
    /// PostgreSQL advisory lock sequences them all and signs checkpoints with `signer` (every
    /// member must have the same key and `config`); every member serves every read.
    ///
    /// Appends resolve, as in single-process mode, once the entry is durable and covered by a
    /// published checkpoint; [`Log::status`] tells which role the member plays.
    ///
    /// # Errors
    ///
    /// Store failures while loading the log, a corrupt store, a signing failure, or a thread
    /// that cannot be started.
    pub fn open_cluster(
        store: Arc<PgStore>,
        signer: Arc<dyn NoteSigner>,
        config: Config,
    ) -> Result<Log, Error> {
        let cluster = Arc::new(ClusterState {
            store: Arc::clone(&store),
            waiters: Mutex::new(HashMap::new()),
            changed: Wake::default(),
            queued_wake: Wake::default(),
            stop: AtomicBool::new(false),
            forwarder_done: AtomicBool::new(false),
            sequencer: Mutex::new(None),
            queue_len: AtomicU64::new(0),
        });
        // Opening recovers like a single-process log would, including publishing a tree
        // integrated but not published: the size guard makes that safe beside a live
        // sequencer too.
        let (shared, _edge) = Shared::open(
            Arc::clone(&store) as Arc<dyn Store>,
            signer,
            config,
            Some(Arc::clone(&cluster)),
        )?;
        let shared = Arc::new(shared);
        shared
            .stats
            .role
            .store(Role::Follower.to_u8(), Ordering::Release);
        start_listener(&cluster);
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name.into())
                .spawn(f)
                .map_err(|e| StoreError::Io {
                    op: "start a cluster thread",
                    message: e.to_string(),
                })
        };
        let sequencer = {
            let shared = Arc::clone(&shared);
            spawn(
                "waxseal-cluster-sequencer",
                Box::new(move || run_sequencer(&shared)),
            )?
        };
        let watcher = {
            let shared = Arc::clone(&shared);
            spawn(
                "waxseal-cluster-watcher",
                Box::new(move || run_watcher(&shared)),
            )?
        };
        let (sender, receiver) = sync_channel(shared.config.pool_entries);
        let forwarder = {
            let shared = Arc::clone(&shared);
            spawn(
                "waxseal-cluster-forwarder",
                Box::new(move || {
                    run_forwarder(&shared, &receiver);
                    shutdown(&shared, watcher, sequencer);
                }),
            )?
        };
        Ok(Log::from_parts(sender, shared, forwarder))
    }
}

fn cluster(shared: &Shared) -> &ClusterState {
    // open_cluster always sets it; the cluster threads only run for such logs.
    shared
        .cluster
        .as_deref()
        .unwrap_or_else(|| unreachable!("cluster thread of a single-process log"))
}

/// After the pool closed: lets the watcher serve the waiting clients, then stops the sequencer
/// (releasing the lock) and the listener.
fn shutdown(shared: &Shared, watcher: JoinHandle<()>, sequencer: JoinHandle<()>) {
    let cluster = cluster(shared);
    cluster.forwarder_done.store(true, Ordering::Release);
    cluster.changed.bump();
    if watcher.join().is_err() {
        tracing::error!("cluster watcher thread panicked");
    }
    cluster.stop.store(true, Ordering::Release);
    cluster.queued_wake.bump();
    if sequencer.join().is_err() {
        tracing::error!("cluster sequencer thread panicked");
    }
}

/// Queues the pool's batches in the database.
fn run_forwarder(shared: &Shared, receiver: &Receiver<Pending>) {
    let cluster = cluster(shared);
    let max = shared.config.batch_max_entries;
    let max_age = shared.config.batch_max_age;
    while let Some(batch) = next_batch(receiver, max, max_age) {
        let mut entries = Vec::with_capacity(batch.len());
        let mut replies = Vec::with_capacity(batch.len());
        for pending in batch {
            let bytes = pending.pool_bytes();
            replies.push((pending.reply, bytes));
            entries.push((pending.entry, pending.key, pending.terms));
        }
        match cluster.store.enqueue(entries) {
            Ok(ids) => {
                let mut waiters = lock(&cluster.waiters);
                let now = Instant::now();
                for (id, (reply, bytes)) in ids.into_iter().zip(replies) {
                    waiters.insert(
                        id,
                        Waiter {
                            reply,
                            since: now,
                            bytes,
                        },
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "couldn't queue entries for the sequencer");
                let cause = Arc::new(Error::from(e));
                for (reply, bytes) in replies {
                    shared.release_pending(1, bytes);
                    reply.send(Err(Error::BatchFailed {
                        cause: Arc::clone(&cause),
                    }));
                }
            }
        }
        // Results may already be in: a poll finds them, a notification finds them sooner.
        cluster.changed.bump();
    }
}

/// Refreshes the served checkpoint and answers waiting clients.
fn run_watcher(shared: &Shared) {
    let cluster = cluster(shared);
    let mut seen = 0;
    let mut last_status: Option<Instant> = None;
    let mut drain_deadline: Option<Instant> = None;
    loop {
        if cluster.forwarder_done.load(Ordering::Acquire) {
            let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + DRAIN);
            if lock(&cluster.waiters).is_empty() || Instant::now() >= deadline {
                // Whoever is still waiting learns the log closed.
                for (_, waiter) in lock(&cluster.waiters).drain() {
                    shared.release_pending(1, waiter.bytes);
                }
                return;
            }
        }
        if let Err(e) = refresh(shared, cluster) {
            tracing::warn!(error = %e, "couldn't refresh the cluster's checkpoint");
        }
        if last_status.is_none_or(|t| t.elapsed() >= STATUS_EVERY) {
            last_status = Some(Instant::now());
            if let Ok(n) = cluster.store.queue_len() {
                cluster.queue_len.store(n, Ordering::Release);
            }
            if let Ok(holder) = cluster.store.lock_holder() {
                *lock(&cluster.sequencer) = holder;
            }
        }
        cluster.changed.wait(&mut seen, POLL);
    }
}

/// Serves the newest published checkpoint and answers the clients it covers.
fn refresh(shared: &Shared, cluster: &ClusterState) -> Result<(), Error> {
    let state = shared.store.load()?;
    if let Some(checkpoint) = state.checkpoint
        && checkpoint.size > shared.published().size
    {
        let edge = Edge::load_at(
            shared.store.as_ref(),
            shared.config.format.as_ref(),
            checkpoint.size,
            false,
        )?;
        let root = edge.root()?;
        if root != checkpoint.root {
            return Err(StoreError::Corrupt {
                what: format!(
                    "published checkpoint root {} differs from the tiles' root {root} at size {}",
                    checkpoint.root, checkpoint.size
                ),
            }
            .into());
        }
        shared.set_published(checkpoint, &edge);
    }
    let ids: Vec<i64> = lock(&cluster.waiters).keys().copied().collect();
    if ids.is_empty() {
        return Ok(());
    }
    let published = shared.published();
    let results = cluster.store.take_results(ids, published.size)?;
    let mut waiters = lock(&cluster.waiters);
    for result in results {
        if let Some(Waiter { reply, bytes, .. }) = waiters.remove(&result.id) {
            shared.release_pending(1, bytes);
            reply.send(Ok(Appended {
                index: result.index,
                duplicate: result.duplicate,
                time_ms: result.time_ms,
                checkpoint: Arc::clone(&published),
            }));
        }
    }
    // A result older than this is gone (collected); no sequencer answered in that time.
    let expired: Vec<i64> = waiters
        .iter()
        .filter(|(_, waiter)| waiter.since.elapsed() >= RESULTS_MAX_AGE)
        .map(|(id, _)| *id)
        .collect();
    for id in expired {
        if let Some(Waiter {
            reply,
            since,
            bytes,
        }) = waiters.remove(&id)
        {
            shared.release_pending(1, bytes);
            reply.send(Err(Error::BatchFailed {
                cause: Arc::new(Error::Store(StoreError::Postgres {
                    op: "wait for the sequencer",
                    message: format!(
                        "queued entry {id} got no result in {:?}; it may still be logged",
                        since.elapsed()
                    ),
                })),
            }));
        }
    }
    Ok(())
}

/// Takes the sequencer lock whenever it is free and sequences while holding it.
fn run_sequencer(shared: &Shared) {
    let cluster = cluster(shared);
    while !cluster.stop.load(Ordering::Acquire) {
        let held = match cluster.store.acquire_lock(&cluster.stop, LOCK_RETRY) {
            Ok(Some(held)) => held,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "couldn't try the sequencer lock");
                std::thread::sleep(LOCK_RETRY);
                continue;
            }
        };
        shared
            .stats
            .role
            .store(Role::Sequencer.to_u8(), Ordering::Release);
        shared.stats.lock_changes.fetch_add(1, Ordering::AcqRel);
        tracing::info!(log = cluster.store.log_name(), "took the sequencer lock");
        sequence_while_held(shared, cluster, &held);
        drop(held);
        shared
            .stats
            .role
            .store(Role::Follower.to_u8(), Ordering::Release);
        shared.stats.lock_changes.fetch_add(1, Ordering::AcqRel);
        tracing::info!(
            log = cluster.store.log_name(),
            "released the sequencer lock"
        );
    }
}

fn sequence_while_held(shared: &Shared, cluster: &ClusterState, held: &crate::postgres::HeldLock) {
    let mut edge: Option<Edge> = None;
    let mut seen = 0;
    let mut last_gc: Option<Instant> = None;
    while !cluster.stop.load(Ordering::Acquire) && held.is_held() {
        if edge.is_none() {
            match recover(shared) {
                Ok(recovered) => edge = Some(recovered),
                Err(e) => {
                    tracing::warn!(error = %e, "sequencer couldn't load the log");
                    cluster.queued_wake.wait(&mut seen, POLL);
                    continue;
                }
            }
        }
        if last_gc.is_none_or(|t| t.elapsed() >= RESULTS_MAX_AGE / 10) {
            last_gc = Some(Instant::now());
            if let Err(e) = cluster.store.collect_results(RESULTS_MAX_AGE) {
                tracing::warn!(error = %e, "couldn't collect old results");
            }
        }
        let batch = match cluster.store.queued(shared.config.batch_max_entries) {
            Ok(batch) => batch,
            Err(e) => {
                tracing::warn!(error = %e, "sequencer couldn't read the queue");
                cluster.queued_wake.wait(&mut seen, POLL);
                continue;
            }
        };
        if batch.is_empty() {
            cluster.queued_wake.wait(&mut seen, POLL);
            continue;
        }
        let Some(current) = edge.as_mut() else {
            continue;
        };
        if let Err(e) = sequence_queued(shared, cluster, current, &batch) {
            tracing::warn!(error = %e, entries = batch.len(), "cluster batch failed");
            edge = None;
            cluster.queued_wake.wait(&mut seen, POLL);
        }
    }
}

/// Sequences one queued batch: integration, dequeueing and results in one transaction, then
/// the checkpoint.
fn sequence_queued(
    shared: &Shared,
    cluster: &ClusterState,
    edge: &mut Edge,
    batch: &[Queued],
) -> Result<(), Error> {
    let entries: Vec<BatchEntry<'_>> = batch
        .iter()
        .map(|q| BatchEntry {
            entry: &q.entry,
            key: q.key,
            terms: &q.terms,
        })
        .collect();
    let planned = plan_batch(shared, edge, &entries)?;
    let results: Vec<QueueResult> = batch
        .iter()
        .zip(&planned.assigned)
        .map(|(q, &(index, duplicate, time_ms))| QueueResult {
            id: q.id,
            index,
            duplicate,
            time_ms,
        })
        .collect();
    cluster.store.integrate_queued(&planned.update, &results)?;
    shared
        .stats
        .last_batch
        .store(planned.fresh as u64, Ordering::Release);
    shared
        .stats
        .integrated
        .fetch_add(planned.fresh as u64, Ordering::AcqRel);
    if shared.published().size < edge.size() {
        shared.publish(edge)?;
    }
    Ok(())
}

/// Holds a dedicated `LISTEN` session on the store's runtime, reconnecting when it drops, and
/// wakes the watcher and the sequencer on notifications for this log.
fn start_listener(cluster: &Arc<ClusterState>) {
    let state = Arc::clone(cluster);
    let connect = {
        let store = Arc::clone(&cluster.store);
        move |tx| store.dedicated(Some(tx))
    };
    cluster.store.spawn(async move {
        let log = state.store.log_name().to_string();
        while !state.stop.load(Ordering::Acquire) {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let client = match connect(tx).await {
                Ok(client) => client,
                Err(e) => {
                    tracing::debug!(error = %e, "couldn't open the LISTEN session");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let listen = format!("LISTEN {CHANGED}; LISTEN {QUEUED}");
            if let Err(e) = client.batch_execute(&listen).await {
                tracing::debug!(error = %e, "couldn't LISTEN");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            while !state.stop.load(Ordering::Acquire) && !client.is_closed() {
                match tokio::time::timeout(POLL, rx.recv()).await {
                    Ok(Some(payload)) if payload == log => {
                        state.changed.bump();
                        state.queued_wake.bump();
                    }
                    Ok(Some(_)) | Err(_) => {}
                    Ok(None) => break,
                }
            }
        }
    });
}
