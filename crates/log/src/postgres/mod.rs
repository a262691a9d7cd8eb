//! The scale-out store: PostgreSQL, through a connection pool, several logs in one database.
//!
//! [`PgStore`] implements the same [`Store`] contract as [`crate::SqliteStore`], for the tables
//! of one log (rows keyed by the log's name, such as `rekor`, `rekor-v2` or `ct`). It also
//! carries what cluster mode needs ([`crate::Log::open_cluster`]): the queue of entries
//! validated by front ends, the results the sequencer writes back, the sequencer's advisory
//! lock and change notifications.
//!
//! # Threads and runtimes
//!
//! The [`Store`] trait is synchronous and is called from the sequencer thread and from async
//! HTTP handlers. A `PgStore` owns a small dedicated tokio runtime (two worker threads) that
//! drives every connection; each call submits a future to it and waits on a std channel. So it
//! can be called from any thread, including a worker of another tokio runtime, without
//! `block_on` on the caller's runtime (which would panic) and without deadlocking: the caller
//! only blocks its own thread, as a SQLite call does. Every call is bounded by
//! [`PgOptions::with_operation_timeout`].

mod schema;
mod tls;

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::SslMode;
use waxseal_merkle::Hash;

use crate::error::StoreError;
use crate::store::{Integration, IssuerStore, PublishedCheckpoint, Store, StoredState, to_u64};
use tls::RustlsConnect;

/// How to reach the database and which log's rows to use.
#[derive(Clone)]
#[non_exhaustive]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database?sslmode=...&sslrootcert=...`.
    ///
    /// `sslmode` is `disable` (the default when absent), `require` (encrypted, the server
    /// unverified) or `verify-full` (chain and host name verified against `sslrootcert` or the
    /// system's roots); others are refused. Other parameters go to `tokio-postgres`.
    pub url: String,
    /// The log's name; every row of the log is keyed by it.
    pub log: String,
    /// The most pooled connections (besides the two dedicated ones of cluster mode).
    pub pool_size: usize,
    /// How long to wait for a connection, from the pool or new.
    pub connect_timeout: Duration,
    /// The longest a single store call may take before it fails.
    pub operation_timeout: Duration,
    /// A PEM CA file for `sslmode=verify-full`; overrides the URL's `sslrootcert`.
    pub ca_file: Option<PathBuf>,
}

impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password.
        f.debug_struct("PgOptions")
            .field("url", &redact(&self.url))
            .field("log", &self.log)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("ca_file", &self.ca_file)
            .finish()
    }
}

impl PgOptions {
    /// Options for log `log` in the database at `url`: a pool of 8 connections, a 10 s connect
    /// timeout and a 30 s operation timeout.
    pub fn new(url: &str, log: &str) -> Self {
        Self {
            url: url.to_string(),
            log: log.to_string(),
            pool_size: 8,
            connect_timeout: Duration::from_secs(10),
            operation_timeout: Duration::from_secs(30),
            ca_file: None,
        }
    }

    /// Sets [`PgOptions::pool_size`] (at least 1).
    #[must_use]
    pub fn with_pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// Sets [`PgOptions::connect_timeout`].
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`PgOptions::operation_timeout`].
    #[must_use]
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// Sets [`PgOptions::ca_file`].
    #[must_use]
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }
}

/// The URL with any password replaced.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<not a URL>".into();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

/// How sizeable the log's tables and the database are.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PgSizes {
    /// Each log table's bytes on disk (all logs of the database), with indexes and TOAST.
    pub tables: Vec<(String, u64)>,
    /// The whole database's bytes on disk.
    pub database_bytes: u64,
    /// Entries integrated into this log.
    pub entries: u64,
}

/// The connection pool's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The most connections it opens.
    pub max_size: usize,
    /// Connections open.
    pub size: usize,
    /// Connections open and idle.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// The connection settings shared by the pool and the dedicated connections.
#[derive(Clone)]
struct Connector {
    config: tokio_postgres::Config,
    tls: RustlsConnect,
}

impl Connector {
    /// A dedicated connection (not pooled), driven on the store's runtime; its session ends
    /// when the returned client is dropped. Notifications go to `messages`, if given.
    async fn connect(
        &self,
        messages: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, mut connection) = self.config.connect(self.tls.clone()).await?;
        tokio::spawn(async move {
            loop {
                let message = std::future::poll_fn(|cx| connection.poll_message(cx)).await;
                match message {
                    Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                        if let Some(tx) = &messages {
                            let _ = tx.send(n.payload().to_string());
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "dedicated database connection ended");
                        break;
                    }
                    None => break,
                }
            }
        });
        Ok(client)
    }
}

/// A log store in PostgreSQL.
///
/// How each [`Store`] guarantee is met:
///
/// - **Atomicity and isolation.** [`Store::integrate`] and [`Store::publish`] are each one
///   transaction (`READ COMMITTED`); readers see all of one or none. Each write first locks the
///   log's `log_tree` row (`SELECT ... FOR UPDATE`), so writers of one log are serialised and
///   the size guard (`start` = stored size) is checked against the committed state: that guard
///   stays the last line of defence against two sequencers.
/// - **Durability.** Every session sets `synchronous_commit = on`: `COMMIT` returns only once
///   the transaction's WAL is flushed to disk (and to any synchronous standby), so an `Ok`
///   means the change survives a crash, provided the server runs with `fsync = on`, its
///   default. An `Err` may follow a commit that happened (a lost reply): the engine reloads.
/// - **One sequencer** (cluster mode) is whichever session holds the log's session-level
///   advisory lock (`pg_try_advisory_lock`); the lock is released when that session ends, so a
///   killed sequencer frees it.
/// - **Concurrency.** Calls may come from any thread at once; each takes a pooled connection.
pub struct PgStore {
    log: String,
    options: PgOptions,
    pool: Pool,
    connector: Connector,
    /// `Some` until dropped; shut down in the background so that dropping the store inside an
    /// async context does not panic.
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("log", &self.log)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn pg(op: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |e| StoreError::Postgres {
        op,
        message: match e.as_db_error() {
            Some(db) => format!("{}: {}", db.code().code(), db.message()),
            None => e.to_string(),
        },
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Postgres {
        op: "get a connection",
        message: e.to_string(),
    }
}

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt {
        what: format!("{what} {value} overflows"),
    })
}

fn bad_url(message: impl Into<String>) -> StoreError {
    StoreError::Postgres {
        op: "parse the database URL",
        message: message.into(),
    }
}

/// The `sslmode` values accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tls {
    Disable,
    Require,
    VerifyFull,
}

/// Decodes `%XX` escapes of a URL query value.
fn percent_decode(value: &str) -> Result<String, StoreError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = value
                .get(i + 1..i + 3)
                .ok_or_else(|| bad_url(format!("truncated escape in {value:?}")))?;
            out.push(
                u8::from_str_radix(hex, 16)
                    .map_err(|_| bad_url(format!("bad escape %{hex} in {value:?}")))?,
            );
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad_url(format!("{value:?} is not UTF-8")))
}

/// Splits our TLS parameters (`sslmode`, `sslrootcert`) off the URL; tokio-postgres parses the
/// rest.
fn split_url(url: &str) -> Result<(String, Tls, Option<PathBuf>), StoreError> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(bad_url(format!(
            "{} does not start with postgres:// or postgresql://",
            redact(url)
        )));
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut tls = Tls::Disable;
    let mut ca = None;
    let mut rest = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => {
                tls = match value {
                    "disable" => Tls::Disable,
                    "require" => Tls::Require,
                    "verify-full" => Tls::VerifyFull,
                    other => {
                        return Err(bad_url(format!(
                            "sslmode={other} is not supported; use disable, require or \
                             verify-full"
                        )));
                    }
                }
            }
            "sslrootcert" => ca = Some(PathBuf::from(percent_decode(value)?)),
            _ => rest.push(pair),
        }
    }
    let base = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((base, tls, ca))
}

/// `waxseal-log <pid>@<host>`: who a session belongs to, as `pg_stat_activity` shows it.
fn application_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!("waxseal-log {}@{host}", std::process::id())
}

/// Encodes search terms as one `bytea`: each as a 4-byte big-endian length and the term.
fn encode_terms(terms: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for term in terms {
        out.extend_from_slice(&(term.len() as u32).to_be_bytes());
        out.extend_from_slice(term);
    }
    out
}

fn decode_terms(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut terms = Vec::new();
    while !bytes.is_empty() {
        let (len, rest) = bytes
            .split_first_chunk::<4>()
            .ok_or_else(|| StoreError::Corrupt {
                what: "truncated search-term length in the queue".into(),
            })?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(StoreError::Corrupt {
                what: "truncated search term in the queue".into(),
            });
        }
        terms.push(rest[..len].to_vec());
        bytes = &rest[len..];
    }
    Ok(terms)
}

/// An entry waiting in the cluster queue.
#[derive(Debug)]
pub(crate) struct Queued {
    pub(crate) id: i64,
    pub(crate) entry: Vec<u8>,
    pub(crate) key: Hash,
    pub(crate) terms: Vec<Vec<u8>>,
}

/// What became of a queued entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueResult {
    pub(crate) id: i64,
    pub(crate) index: u64,
    pub(crate) duplicate: bool,
    pub(crate) time_ms: u64,
}

/// The NOTIFY channel of every log's changes; the payload is the log's name.
pub(crate) const CHANGED: &str = "waxseal_log_changed";
/// The NOTIFY channel of new queue rows; the payload is the log's name.
pub(crate) const QUEUED: &str = "waxseal_log_queued";

impl PgStore {
    /// Connects to the database `options.url` names, applies any pending schema migrations,
    /// and creates log `options.log` if it is new.
    ///
    /// # Errors
    ///
    /// [`StoreError::Postgres`] for a bad URL or `sslmode`, an unreadable CA file, a database
    /// that cannot be reached within the connect timeout, or a failed migration; a schema
    /// newer than this build knows is refused.
    pub fn connect(options: &PgOptions) -> Result<Arc<PgStore>, StoreError> {
        if options.log.is_empty() {
            return Err(bad_url("the log name is empty"));
        }
        let (url, mode, url_ca) = split_url(&options.url)?;
        let mut config = tokio_postgres::Config::from_str(&url)
            .map_err(|e| bad_url(format!("{}: {e}", redact(&options.url))))?;
        config.connect_timeout(options.connect_timeout);
        if config.get_application_name().is_none() {
            config.application_name(application_name());
        }
        let session = "-c synchronous_commit=on";
        let options_line = match config.get_options() {
            Some(existing) => format!("{existing} {session}"),
            None => session.to_string(),
        };
        config.options(options_line);
        let ca = options.ca_file.clone().or(url_ca);
        // With sslmode=disable the connector is never called; it still has to exist.
        let tls = match mode {
            Tls::Disable => {
                config.ssl_mode(SslMode::Disable);
                RustlsConnect::insecure_unverified()
            }
            Tls::Require => {
                config.ssl_mode(SslMode::Require);
                RustlsConnect::insecure_unverified()
            }
            Tls::VerifyFull => {
                config.ssl_mode(SslMode::Require);
                RustlsConnect::verify_full(ca.as_deref())
            }
        }
        .map_err(|message| StoreError::Postgres {
            op: "set up TLS",
            message,
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("waxseal-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io {
                op: "start the database runtime",
                message: e.to_string(),
            })?;
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            // The pool's timers need the runtime's context while it is built.
            let _guard = runtime.enter();
            Pool::builder(manager)
                .max_size(options.pool_size)
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(options.connect_timeout))
                .create_timeout(Some(options.connect_timeout))
                .recycle_timeout(Some(options.connect_timeout))
                .build()
                .map_err(|e| StoreError::Postgres {
                    op: "build the connection pool",
                    message: e.to_string(),
                })?
        };
        let store = Self {
            log: options.log.clone(),
            options: options.clone(),
            pool,
            connector: Connector { config, tls },
            runtime: Some(runtime),
        };
        let log = store.log.clone();
        let pool = store.pool.clone();
        store.call(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let version = schema::migrate(&mut client)
                .await
                .map_err(pg("apply schema migrations"))?;
            if version > schema::latest() {
                return Err(StoreError::Postgres {
                    op: "check the schema version",
                    message: format!(
                        "the database has schema version {version}, this build knows up to {}",
                        schema::latest()
                    ),
                });
            }
            client
                .execute(
                    "INSERT INTO log_tree (log, size) VALUES ($1, 0) ON CONFLICT (log) DO NOTHING",
                    &[&log],
                )
                .await
                .map_err(pg("create the log"))?;
            Ok(())
        })?;
        Ok(Arc::new(store))
    }

    /// The log's name.
    pub fn log_name(&self) -> &str {
        &self.log
    }

    /// The sizes of the log tables, of the database, and the log's entry count.
    ///
    /// # Errors
    ///
    /// [`StoreError::Postgres`].
    pub fn sizes(&self) -> Result<PgSizes, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let rows = client
                .query(
                    "SELECT c.relname::text, pg_total_relation_size(c.oid) FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind = 'r' AND c.relname LIKE 'log\\_%' \
                     AND n.nspname = current_schema() ORDER BY c.relname",
                    &[],
                )
                .await
                .map_err(pg("read the table sizes"))?;
            let tables = rows
                .iter()
                .map(|r| Ok((r.get(0), to_u64(r.get(1), "table size")?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            let database: i64 = client
                .query_one("SELECT pg_database_size(current_database())", &[])
                .await
                .map_err(pg("read the database size"))?
                .get(0);
            let size: i64 = client
                .query_one("SELECT size FROM log_tree WHERE log = $1", &[&log])
                .await
                .map_err(pg("read the tree size"))?
                .get(0);
            Ok(PgSizes {
                tables,
                database_bytes: to_u64(database, "database size")?,
                entries: to_u64(size, "tree size")?,
            })
        })
    }

    /// The connection pool's state.
    pub fn pool_status(&self) -> PoolStatus {
        let s = self.pool.status();
        PoolStatus {
            max_size: s.max_size,
            size: s.size,
            available: s.available,
            waiting: s.waiting,
        }
    }

    /// Runs `future` on the store's runtime and waits for it, bounded by the operation timeout.
    fn call<T, F>(&self, future: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        let runtime = self.runtime.as_ref().ok_or(StoreError::Postgres {
            op: "run a query",
            message: "the store is shut down".into(),
        })?;
        let timeout = self.options.operation_timeout;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let outcome = match tokio::time::timeout(timeout, future).await {
                Ok(outcome) => outcome,
                Err(_) => Err(StoreError::Postgres {
                    op: "run a query",
                    message: format!("no answer within {timeout:?}"),
                }),
            };
            let _ = tx.send(outcome);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(StoreError::Postgres {
                op: "run a query",
                message: "the database runtime stopped".into(),
            })
        })
    }

    /// Spawns `future` on the store's runtime without waiting.
    pub(crate) fn spawn<F>(&self, future: F) -> Option<tokio::task::JoinHandle<()>>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.runtime.as_ref().map(|r| r.spawn(future))
    }

    /// A new dedicated connection's future; see [`Connector::connect`].
    pub(crate) fn dedicated(
        &self,
        messages: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    ) -> impl Future<Output = Result<tokio_postgres::Client, tokio_postgres::Error>> + Send + use<>
    {
        let connector = self.connector.clone();
        async move { connector.connect(messages).await }
    }

    /// The advisory-lock key of this log's sequencer: the first 8 bytes of
    /// SHA-256(0x00 || "waxseal-log sequencer\0" || log).
    pub(crate) fn lock_key(&self) -> i64 {
        let hash = waxseal_merkle::leaf_hash(
            &[b"waxseal-log sequencer\0".as_slice(), self.log.as_bytes()].concat(),
        );
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash.as_bytes()[..8]);
        i64::from_be_bytes(first)
    }

    /// Queues validated entries for the sequencer; returns their queue ids, in order.
    pub(crate) fn enqueue(
        &self,
        entries: Vec<(Vec<u8>, Hash, Vec<Vec<u8>>)>,
    ) -> Result<Vec<i64>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        self.call(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client
                .transaction()
                .await
                .map_err(pg("begin a queue insert"))?;
            let count = entries.len() as i64;
            let ids: Vec<i64> = tx
                .query(
                    "SELECT nextval('log_queue_ids') FROM generate_series(1, $1::int8)",
                    &[&count],
                )
                .await
                .map_err(pg("allocate queue ids"))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut bodies = Vec::with_capacity(entries.len());
            let mut keys = Vec::with_capacity(entries.len());
            let mut terms = Vec::with_capacity(entries.len());
            for (entry, key, entry_terms) in entries {
                bodies.push(entry);
                keys.push(key.as_bytes().to_vec());
                terms.push(encode_terms(&entry_terms));
            }
            tx.execute(
                "INSERT INTO log_queue (log, id, entry, key, terms) \
                 SELECT $1, * FROM unnest($2::int8[], $3::bytea[], $4::bytea[], $5::bytea[])",
                &[&log, &ids, &bodies, &keys, &terms],
            )
            .await
            .map_err(pg("queue entries"))?;
            tx.execute("SELECT pg_notify($1, $2)", &[&QUEUED, &log])
                .await
                .map_err(pg("notify the sequencer"))?;
            tx.commit().await.map_err(pg("commit a queue insert"))?;
            Ok(ids)
        })
    }

    /// The oldest queued entries, at most `limit`.
    pub(crate) fn queued(&self, limit: usize) -> Result<Vec<Queued>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let rows = client
                .query(
                    "SELECT id, entry, key, terms FROM log_queue WHERE log = $1 \
                     ORDER BY id LIMIT $2",
                    &[&log, &limit],
                )
                .await
                .map_err(pg("read the queue"))?;
            rows.iter()
                .map(|r| {
                    let key: Vec<u8> = r.get(2);
                    let terms: Vec<u8> = r.get(3);
                    Ok(Queued {
                        id: r.get(0),
                        entry: r.get(1),
                        key: Hash::from_slice(&key).map_err(|e| StoreError::Corrupt {
                            what: format!("queued key: {e}"),
                        })?,
                        terms: decode_terms(&terms)?,
                    })
                })
                .collect()
        })
    }

    /// Entries waiting in the queue.
    pub(crate) fn queue_len(&self) -> Result<u64, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let n: i64 = client
                .query_one("SELECT count(*) FROM log_queue WHERE log = $1", &[&log])
                .await
                .map_err(pg("count the queue"))?
                .get(0);
            to_u64(n, "queue length")
        })
    }

    /// Like [`Store::integrate`], and in the same transaction removes the queued entries
    /// `results` answers and records the results; so every queued entry is sequenced exactly
    /// once. Fails, changing nothing, if any of them is no longer queued.
    pub(crate) fn integrate_queued(
        &self,
        update: &Integration,
        results: &[QueueResult],
    ) -> Result<(), StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let update = update.clone();
        let results = results.to_vec();
        self.call(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client
                .transaction()
                .await
                .map_err(pg("begin an integration"))?;
            integrate_in(&tx, &log, &update).await?;
            let ids: Vec<i64> = results.iter().map(|r| r.id).collect();
            let removed = tx
                .execute(
                    "DELETE FROM log_queue WHERE log = $1 AND id = ANY($2)",
                    &[&log, &ids],
                )
                .await
                .map_err(pg("dequeue entries"))?;
            if removed != ids.len() as u64 {
                return Err(StoreError::QueueMismatch {
                    expected: ids.len() as u64,
                    removed,
                });
            }
            let mut indexes = Vec::with_capacity(results.len());
            let mut duplicates = Vec::with_capacity(results.len());
            let mut times = Vec::with_capacity(results.len());
            for r in &results {
                indexes.push(to_i64(r.index, "entry index")?);
                duplicates.push(r.duplicate);
                times.push(to_i64(r.time_ms, "batch time")?);
            }
            tx.execute(
                "INSERT INTO log_results (log, id, idx, duplicate, time_ms) \
                 SELECT $1, * FROM unnest($2::int8[], $3::int8[], $4::bool[], $5::int8[])",
                &[&log, &ids, &indexes, &duplicates, &times],
            )
            .await
            .map_err(pg("record results"))?;
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANGED, &log])
                .await
                .map_err(pg("notify the front ends"))?;
            tx.commit().await.map_err(pg("commit an integration"))
        })
    }

    /// Takes the results of queued entries `ids` whose index is below `size` (covered by a
    /// checkpoint of that size): returns and deletes them.
    pub(crate) fn take_results(
        &self,
        ids: Vec<i64>,
        size: u64,
    ) -> Result<Vec<QueueResult>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let size = to_i64(size, "tree size")?;
        self.call(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client
                .transaction()
                .await
                .map_err(pg("begin taking results"))?;
            // A delete lost in a server crash only leaves rows for the collector: no need to
            // wait for the disk.
            tx.batch_execute("SET LOCAL synchronous_commit = off")
                .await
                .map_err(pg("relax the commit"))?;
            let rows = tx
                .query(
                    "DELETE FROM log_results WHERE log = $1 AND id = ANY($2) AND idx < $3 \
                     RETURNING id, idx, duplicate, time_ms",
                    &[&log, &ids, &size],
                )
                .await
                .map_err(pg("take results"))?;
            tx.commit().await.map_err(pg("commit taking results"))?;
            rows.iter()
                .map(|r| {
                    Ok(QueueResult {
                        id: r.get(0),
                        index: to_u64(r.get(1), "entry index")?,
                        duplicate: r.get(2),
                        time_ms: to_u64(r.get(3), "batch time")?,
                    })
                })
                .collect()
        })
    }

    /// Deletes results older than `age`: those of front ends that went away.
    pub(crate) fn collect_results(&self, age: Duration) -> Result<u64, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let seconds = age.as_secs_f64();
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            client
                .execute(
                    "DELETE FROM log_results WHERE log = $1 \
                     AND done_at < now() - make_interval(secs => $2)",
                    &[&log, &seconds],
                )
                .await
                .map_err(pg("collect old results"))
        })
    }

    /// Who holds the sequencer lock: the holder's `application_name` and backend pid.
    pub(crate) fn lock_holder(&self) -> Result<Option<String>, StoreError> {
        let pool = self.pool.clone();
        let key = self.lock_key();
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_opt(
                    "SELECT a.application_name, a.pid FROM pg_locks l \
                     JOIN pg_stat_activity a ON a.pid = l.pid \
                     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
                     AND l.database = (SELECT oid FROM pg_database \
                                       WHERE datname = current_database()) \
                     AND l.classid = (($1::bigint >> 32) & 4294967295)::oid \
                     AND l.objid = ($1::bigint & 4294967295)::oid",
                    &[&key],
                )
                .await
                .map_err(pg("find the sequencer"))?;
            Ok(row.map(|r| {
                let name: Option<String> = r.get(0);
                let pid: i32 = r.get(1);
                match name.filter(|n| !n.is_empty()) {
                    Some(name) => format!("{name} (backend {pid})"),
                    None => format!("backend {pid}"),
                }
            }))
        })
    }
}

/// The sequencer lock of a log, held by a dedicated session. Dropping it ends the session,
/// which releases the lock.
pub(crate) struct HeldLock {
    client: Arc<tokio_postgres::Client>,
}

impl fmt::Debug for HeldLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldLock")
            .field("held", &self.is_held())
            .finish()
    }
}

impl HeldLock {
    /// The session holding the lock is still open.
    pub(crate) fn is_held(&self) -> bool {
        !self.client.is_closed()
    }
}

impl PgStore {
    /// Waits for this log's sequencer lock (a session-level `pg_try_advisory_lock`, tried every
    /// `retry`) on a dedicated session. `Ok(None)` once `stop` is set.
    pub(crate) fn acquire_lock(
        &self,
        stop: &std::sync::atomic::AtomicBool,
        retry: Duration,
    ) -> Result<Option<HeldLock>, StoreError> {
        let key = self.lock_key();
        let connect = self.dedicated(None);
        let client =
            Arc::new(self.call(async move { connect.await.map_err(pg("open the lock session")) })?);
        loop {
            if stop.load(std::sync::atomic::Ordering::Acquire) {
                return Ok(None);
            }
            if client.is_closed() {
                return Err(StoreError::Postgres {
                    op: "hold the lock session",
                    message: "the session ended".into(),
                });
            }
            let session = Arc::clone(&client);
            let taken = self.call(async move {
                let row = session
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
                    .await
                    .map_err(pg("try the sequencer lock"))?;
                Ok(row.get::<_, bool>(0))
            })?;
            if taken {
                return Ok(Some(HeldLock { client }));
            }
            std::thread::sleep(retry);
        }
    }
}

/// The body of an integration, inside transaction `tx`.
async fn integrate_in(
    tx: &deadpool_postgres::Transaction<'_>,
    log: &str,
    update: &Integration,
) -> Result<(), StoreError> {
    let stored: i64 = tx
        .query_one(
            "SELECT size FROM log_tree WHERE log = $1 FOR UPDATE",
            &[&log],
        )
        .await
        .map_err(pg("read the tree size"))?
        .get(0);
    let stored = to_u64(stored, "tree size")?;
    if stored != update.start {
        return Err(StoreError::SizeMismatch {
            expected: update.start,
            stored,
        });
    }
    if !update.tiles.is_empty() {
        let mut levels = Vec::with_capacity(update.tiles.len());
        let mut indexes = Vec::with_capacity(update.tiles.len());
        let mut data = Vec::with_capacity(update.tiles.len());
        for (level, index, bytes) in &update.tiles {
            levels.push(i16::from(*level));
            indexes.push(to_i64(*index, "tile index")?);
            data.push(bytes.as_slice());
        }
        tx.execute(
            "INSERT INTO log_tiles (log, level, idx, data) \
             SELECT $1, * FROM unnest($2::int2[], $3::int8[], $4::bytea[]) \
             ON CONFLICT (log, level, idx) DO UPDATE SET data = EXCLUDED.data",
            &[&log, &levels, &indexes, &data],
        )
        .await
        .map_err(pg("write tiles"))?;
    }
    if !update.bundles.is_empty() {
        let mut indexes = Vec::with_capacity(update.bundles.len());
        let mut data = Vec::with_capacity(update.bundles.len());
        for (index, bytes) in &update.bundles {
            indexes.push(to_i64(*index, "bundle index")?);
            data.push(bytes.as_slice());
        }
        tx.execute(
            "INSERT INTO log_bundles (log, idx, data) \
             SELECT $1, * FROM unnest($2::int8[], $3::bytea[]) \
             ON CONFLICT (log, idx) DO UPDATE SET data = EXCLUDED.data",
            &[&log, &indexes, &data],
        )
        .await
        .map_err(pg("write entry bundles"))?;
    }
    if !update.dedup.is_empty() {
        let mut keys = Vec::with_capacity(update.dedup.len());
        let mut indexes = Vec::with_capacity(update.dedup.len());
        for (key, index) in &update.dedup {
            keys.push(key.as_bytes().as_slice());
            indexes.push(to_i64(*index, "entry index")?);
        }
        tx.execute(
            "INSERT INTO log_dedup (log, key, idx) SELECT $1, * FROM unnest($2::bytea[], $3::int8[])",
            &[&log, &keys, &indexes],
        )
        .await
        .map_err(pg("write dedup keys"))?;
    }
    if !update.terms.is_empty() {
        let mut terms = Vec::with_capacity(update.terms.len());
        let mut indexes = Vec::with_capacity(update.terms.len());
        for (term, index) in &update.terms {
            terms.push(term.as_slice());
            indexes.push(to_i64(*index, "entry index")?);
        }
        tx.execute(
            "INSERT INTO log_terms (log, term, idx) \
             SELECT $1, * FROM unnest($2::bytea[], $3::int8[]) ON CONFLICT DO NOTHING",
            &[&log, &terms, &indexes],
        )
        .await
        .map_err(pg("write search terms"))?;
    }
    let size = to_i64(update.size, "tree size")?;
    if update.size > update.start {
        tx.execute(
            "INSERT INTO log_batches (log, end_size, start_size, time_ms) VALUES ($1, $2, $3, $4)",
            &[
                &log,
                &size,
                &to_i64(update.start, "tree size")?,
                &to_i64(update.time_ms, "batch time")?,
            ],
        )
        .await
        .map_err(pg("record the batch"))?;
    }
    tx.execute(
        "UPDATE log_tree SET size = $2 WHERE log = $1",
        &[&log, &size],
    )
    .await
    .map_err(pg("update the tree size"))?;
    Ok(())
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn load(&self) -> Result<StoredState, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_opt(
                    "SELECT size, checkpoint_size, checkpoint_root, checkpoint FROM log_tree \
                     WHERE log = $1",
                    &[&log],
                )
                .await
                .map_err(pg("read the tree state"))?
                .ok_or_else(|| StoreError::Corrupt {
                    what: format!("log {log:?} has no tree row"),
                })?;
            let size: i64 = row.get(0);
            let cp_size: Option<i64> = row.get(1);
            let cp_root: Option<Vec<u8>> = row.get(2);
            let note: Option<Vec<u8>> = row.get(3);
            StoredState::from_columns(size, cp_size, cp_root, note)
        })
    }

    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let wanted: Vec<Vec<u8>> = keys.iter().map(|k| k.as_bytes().to_vec()).collect();
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let rows = client
                .query(
                    "SELECT k.ord, d.idx FROM unnest($2::bytea[]) WITH ORDINALITY AS k(key, ord) \
                     JOIN log_dedup d ON d.log = $1 AND d.key = k.key",
                    &[&log, &wanted],
                )
                .await
                .map_err(pg("look up dedup keys"))?;
            let mut found = vec![None; wanted.len()];
            for row in rows {
                let ord: i64 = row.get(0);
                let slot = usize::try_from(ord - 1)
                    .ok()
                    .and_then(|i| found.get_mut(i))
                    .ok_or_else(|| StoreError::Corrupt {
                        what: format!("dedup lookup answered for key {ord}"),
                    })?;
                *slot = Some(to_u64(row.get(1), "dedup index")?);
            }
            Ok(found)
        })
    }

    fn integrate(&self, update: &Integration) -> Result<(), StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let update = update.clone();
        self.call(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client
                .transaction()
                .await
                .map_err(pg("begin an integration"))?;
            integrate_in(&tx, &log, &update).await?;
            tx.commit().await.map_err(pg("commit an integration"))
        })
    }

    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let checkpoint = checkpoint.clone();
        self.call(async move {
            let mut client = pool.get().await.map_err(pool_error)?;
            let tx = client
                .transaction()
                .await
                .map_err(pg("begin a publication"))?;
            let row = tx
                .query_one(
                    "SELECT size, checkpoint_size FROM log_tree WHERE log = $1 FOR UPDATE",
                    &[&log],
                )
                .await
                .map_err(pg("read the tree state"))?;
            let size = to_u64(row.get(0), "tree size")?;
            let published: Option<i64> = row.get(1);
            let published = published
                .map(|p| to_u64(p, "checkpoint size"))
                .transpose()?
                .unwrap_or(0);
            if checkpoint.size > size || checkpoint.size < published {
                return Err(StoreError::SizeMismatch {
                    expected: checkpoint.size,
                    stored: size,
                });
            }
            tx.execute(
                "UPDATE log_tree SET checkpoint_size = $2, checkpoint_root = $3, checkpoint = $4, \
                 checkpoint_at = now() WHERE log = $1",
                &[
                    &log,
                    &to_i64(checkpoint.size, "checkpoint size")?,
                    &checkpoint.root.as_bytes().as_slice(),
                    &checkpoint.note,
                ],
            )
            .await
            .map_err(pg("store the checkpoint"))?;
            // Delivered on commit: front ends of a cluster refresh their checkpoint.
            tx.execute("SELECT pg_notify($1, $2)", &[&CHANGED, &log])
                .await
                .map_err(pg("notify the front ends"))?;
            tx.commit().await.map_err(pg("commit a publication"))
        })
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let index = to_i64(index, "tile index")?;
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_opt(
                    "SELECT data FROM log_tiles WHERE log = $1 AND level = $2 AND idx = $3",
                    &[&log, &i16::from(level), &index],
                )
                .await
                .map_err(pg("read a tile"))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let index = to_i64(index, "bundle index")?;
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_opt(
                    "SELECT data FROM log_bundles WHERE log = $1 AND idx = $2",
                    &[&log, &index],
                )
                .await
                .map_err(pg("read an entry bundle"))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let term = term.to_vec();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let rows = client
                .query(
                    "SELECT idx FROM log_terms WHERE log = $1 AND term = $2 ORDER BY idx LIMIT $3",
                    &[&log, &term, &limit],
                )
                .await
                .map_err(pg("search"))?;
            rows.iter()
                .map(|r| to_u64(r.get(0), "entry index"))
                .collect()
        })
    }

    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let index = to_i64(index, "entry index")?;
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_opt(
                    "SELECT time_ms FROM log_batches WHERE log = $1 AND end_size > $2 \
                     AND start_size <= $2 ORDER BY end_size LIMIT 1",
                    &[&log, &index],
                )
                .await
                .map_err(pg("read a batch"))?;
            row.map(|r| to_u64(r.get(0), "batch time")).transpose()
        })
    }
}

impl IssuerStore for PgStore {
    fn put_issuer(&self, fingerprint: &[u8; 32], der: &[u8]) -> Result<(), StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let (fingerprint, der) = (fingerprint.to_vec(), der.to_vec());
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            client
                .execute(
                    "INSERT INTO log_issuers (log, fingerprint, der) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                    &[&log, &fingerprint, &der],
                )
                .await
                .map_err(pg("store an issuer"))?;
            Ok(())
        })
    }

    fn issuer(&self, fingerprint: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        let (pool, log) = (self.pool.clone(), self.log.clone());
        let fingerprint = fingerprint.to_vec();
        self.call(async move {
            let client = pool.get().await.map_err(pool_error)?;
            let row = client
                .query_opt(
                    "SELECT der FROM log_issuers WHERE log = $1 AND fingerprint = $2",
                    &[&log, &fingerprint],
                )
                .await
                .map_err(pg("read an issuer"))?;
            Ok(row.map(|r| r.get(0)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_tls_parameters_off_the_url() {
        let (url, tls, ca) = split_url(
            "postgres://u:p@db:5432/x?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
        )
        .unwrap();
        assert_eq!(url, "postgres://u:p@db:5432/x?connect_timeout=3");
        assert_eq!(tls, Tls::VerifyFull);
        assert_eq!(ca, Some(PathBuf::from("/etc/ca.pem")));
        let (_, tls, _) = split_url("postgresql://db/x").unwrap();
        assert_eq!(tls, Tls::Disable);
    }

    #[test]
    fn rejects_unsupported_sslmode_and_non_urls() {
        for url in [
            "postgres://db/x?sslmode=prefer",
            "postgres://db/x?sslmode=verify-ca",
            "host=db dbname=x",
            "mysql://db/x",
        ] {
            assert!(
                matches!(split_url(url), Err(StoreError::Postgres { .. })),
                "{url}"
            );
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact("postgres://u:secret@db/x"), "postgres://u:***@db/x");
        assert!(
            !format!("{:?}", PgOptions::new("postgres://u:secret@db/x", "ct")).contains("secret")
        );
    }

    /// The queue's exactly-once guard, results and their collection, on a real server.
    #[test]
    fn queue_results_are_written_with_the_integration_and_collected() {
        let server = crate::testing::PostgresServer::start().unwrap();
        let store = PgStore::connect(&PgOptions::new(&server.url("postgres"), "q")).unwrap();
        let key = |n: u8| waxseal_merkle::leaf_hash(&[n]);
        let ids = store
            .enqueue(vec![
                (b"a".to_vec(), key(1), vec![b"t".to_vec()]),
                (b"b".to_vec(), key(2), Vec::new()),
            ])
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert_eq!(store.queue_len().unwrap(), 2);
        let queued = store.queued(10).unwrap();
        assert_eq!(queued.iter().map(|q| q.id).collect::<Vec<_>>(), ids);
        assert_eq!(queued[0].terms, vec![b"t".to_vec()]);
        assert_eq!(queued[1].key, key(2));

        let result = |id, index| QueueResult {
            id,
            index,
            duplicate: false,
            time_ms: 5,
        };
        let empty = Integration {
            start: 0,
            size: 0,
            time_ms: 5,
            ..Integration::default()
        };
        // An id that is not queued: nothing changes.
        let err = store
            .integrate_queued(&empty, &[result(ids[0], 0), result(-1, 1)])
            .unwrap_err();
        assert!(matches!(
            err,
            StoreError::QueueMismatch {
                expected: 2,
                removed: 1
            }
        ));
        assert_eq!(store.queue_len().unwrap(), 2);
        // A stale size: nothing changes either.
        let stale = Integration {
            start: 7,
            ..empty.clone()
        };
        assert!(matches!(
            store.integrate_queued(&stale, &[result(ids[0], 0)]),
            Err(StoreError::SizeMismatch { .. })
        ));
        assert_eq!(store.queue_len().unwrap(), 2);

        store
            .integrate_queued(&empty, &[result(ids[0], 0), result(ids[1], 1)])
            .unwrap();
        assert_eq!(store.queue_len().unwrap(), 0);
        // Taking the same ids twice would be sequencing twice: the rows are gone.
        assert!(matches!(
            store.integrate_queued(&empty, &[result(ids[0], 0)]),
            Err(StoreError::QueueMismatch { .. })
        ));
        // Only results below the published size are taken, each once.
        let taken = store.take_results(ids.clone(), 1).unwrap();
        assert_eq!(taken, vec![result(ids[0], 0)]);
        assert!(store.take_results(ids.clone(), 1).unwrap().is_empty());
        // The other belongs to a front end that went away: collected by age.
        assert_eq!(store.collect_results(Duration::from_secs(3600)).unwrap(), 0);
        assert_eq!(store.collect_results(Duration::ZERO).unwrap(), 1);
        assert!(store.take_results(ids, 10).unwrap().is_empty());
    }

    #[test]
    fn terms_round_trip() {
        let terms = vec![b"a".to_vec(), Vec::new(), vec![7; 300]];
        assert_eq!(decode_terms(&encode_terms(&terms)).unwrap(), terms);
        assert!(decode_terms(&[0, 0, 0, 5, 1]).is_err());
        assert!(decode_terms(&[0, 0]).is_err());
    }
}
