//! The embedded store: one SQLite database in WAL mode with `synchronous=FULL`.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use waxseal_merkle::Hash;

use crate::error::StoreError;
use crate::store::{Integration, IssuerStore, PublishedCheckpoint, Store, StoredState, to_u64};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tree (
    id INTEGER PRIMARY KEY CHECK (id = 0),
    size INTEGER NOT NULL,
    checkpoint_size INTEGER,
    checkpoint_root BLOB,
    checkpoint BLOB
);
INSERT OR IGNORE INTO tree (id, size) VALUES (0, 0);
-- Latest version of each hash tile; key = level << 56 | index.
CREATE TABLE IF NOT EXISTS tiles (key INTEGER PRIMARY KEY, data BLOB NOT NULL);
-- Latest version of each entry bundle.
CREATE TABLE IF NOT EXISTS bundles (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS dedup (key BLOB PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS terms (term BLOB NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (term, idx)) WITHOUT ROWID;
-- Issuer certificates of a CT log, by SHA-256 fingerprint.
CREATE TABLE IF NOT EXISTS issuers (fingerprint BLOB PRIMARY KEY, der BLOB NOT NULL) WITHOUT ROWID;
-- One row per sequenced batch: entries [start_size, end_size) were sequenced at time_ms.
CREATE TABLE IF NOT EXISTS batches (end_size INTEGER PRIMARY KEY, start_size INTEGER NOT NULL,
    time_ms INTEGER NOT NULL);
";

/// How long a connection waits for another's lock before failing with SQLITE_BUSY.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Tile keys pack the level above a 56-bit index; tlog-tiles levels are < 64 and a tile index
/// never reaches 2^56 (that would need 2^64 leaves).
fn tile_key(level: u8, index: u64) -> i64 {
    ((u64::from(level) << 56) | (index & ((1 << 56) - 1))) as i64
}

fn sql(op: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| StoreError::Sqlite {
        op,
        message: e.to_string(),
    }
}

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt {
        what: format!("{what} {value} overflows"),
    })
}

/// A log store in one SQLite file.
///
/// Writes take the write lock up front (`BEGIN IMMEDIATE`), so a brief lock held by a reader
/// opening its snapshot is waited out by the busy handler instead of failing the batch.
/// Every write is one transaction committed with `synchronous=FULL` in WAL mode, so an `Ok` from
/// [`Store::integrate`] or [`Store::publish`] means the data is on disk. Readers use their own
/// connections and see committed transactions only.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl SqliteStore {
    /// Opens or creates the database at `path`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Sqlite`] if the file cannot be opened or its schema created.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let writer = Connection::open(&path).map_err(sql("open the database"))?;
        writer
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("enable WAL"))?;
        writer
            .pragma_update(None, "synchronous", "FULL")
            .map_err(sql("set synchronous=FULL"))?;
        writer
            .pragma_update(None, "cache_size", -65536)
            .map_err(sql("set the cache size"))?;
        // Readers opening a snapshot briefly take WAL locks; wait for them instead of failing
        // the batch with SQLITE_BUSY.
        writer
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(sql("set the busy timeout"))?;
        writer
            .execute_batch(SCHEMA)
            .map_err(sql("create the schema"))?;
        Ok(Self {
            path,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
        })
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done transaction behind (SQLite
        // rolls back an open transaction when it is dropped), so a poisoned lock is usable.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(sql("open a reader"))?;
                conn.busy_timeout(BUSY_TIMEOUT)
                    .map_err(sql("set the busy timeout"))?;
                conn.pragma_update(None, "cache_size", -16384)
                    .map_err(sql("set the cache size"))?;
                conn
            }
        };
        let result = f(&conn);
        let mut pool = self
            .readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.len() < 16 {
            pool.push(conn);
        }
        result
    }
}

/// The single row of the `tree` table.
struct TreeRow {
    size: i64,
    cp_size: Option<i64>,
    cp_root: Option<Vec<u8>>,
    note: Option<Vec<u8>>,
}

fn stored_size(conn: &Connection) -> Result<u64, StoreError> {
    let size: i64 = conn
        .query_row("SELECT size FROM tree WHERE id = 0", [], |r| r.get(0))
        .map_err(sql("read the tree size"))?;
    to_u64(size, "tree size")
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn load(&self) -> Result<StoredState, StoreError> {
        let conn = self.writer();
        let row = conn
            .query_row(
                "SELECT size, checkpoint_size, checkpoint_root, checkpoint FROM tree WHERE id = 0",
                [],
                |r| {
                    Ok(TreeRow {
                        size: r.get(0)?,
                        cp_size: r.get(1)?,
                        cp_root: r.get(2)?,
                        note: r.get(3)?,
                    })
                },
            )
            .map_err(sql("read the tree state"))?;
        let TreeRow {
            size,
            cp_size,
            cp_root,
            note,
        } = row;
        StoredState::from_columns(size, cp_size, cp_root, note)
    }

    fn lookup(&self, keys: &[Hash]) -> Result<Vec<Option<u64>>, StoreError> {
        // The sequencer is the only caller on the hot path; use the writer connection so the
        // lookups see its own latest commit without a reader's snapshot lag.
        let conn = self.writer();
        let mut stmt = conn
            .prepare_cached("SELECT idx FROM dedup WHERE key = ?1")
            .map_err(sql("prepare the dedup lookup"))?;
        keys.iter()
            .map(|key| {
                let idx: Option<i64> = stmt
                    .query_row([key.as_bytes()], |r| r.get(0))
                    .optional()
                    .map_err(sql("look up a dedup key"))?;
                idx.map(|i| to_u64(i, "dedup index")).transpose()
            })
            .collect()
    }

    fn integrate(&self, update: &Integration) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin an integration"))?;
        let stored = stored_size(&tx)?;
        if stored != update.start {
            return Err(StoreError::SizeMismatch {
                expected: update.start,
                stored,
            });
        }
        {
            let mut tile = tx
                .prepare_cached("INSERT OR REPLACE INTO tiles (key, data) VALUES (?1, ?2)")
                .map_err(sql("prepare a tile write"))?;
            for (level, index, data) in &update.tiles {
                tile.execute(params![tile_key(*level, *index), data])
                    .map_err(sql("write a tile"))?;
            }
            let mut bundle = tx
                .prepare_cached("INSERT OR REPLACE INTO bundles (idx, data) VALUES (?1, ?2)")
                .map_err(sql("prepare a bundle write"))?;
            for (index, data) in &update.bundles {
                bundle
                    .execute(params![to_i64(*index, "bundle index")?, data])
                    .map_err(sql("write an entry bundle"))?;
            }
            let mut dedup = tx
                .prepare_cached("INSERT INTO dedup (key, idx) VALUES (?1, ?2)")
                .map_err(sql("prepare a dedup write"))?;
            for (key, index) in &update.dedup {
                dedup
                    .execute(params![key.as_bytes(), to_i64(*index, "entry index")?])
                    .map_err(sql("write a dedup key"))?;
            }
            let mut term = tx
                .prepare_cached("INSERT OR IGNORE INTO terms (term, idx) VALUES (?1, ?2)")
                .map_err(sql("prepare a search-term write"))?;
            for (key, index) in &update.terms {
                term.execute(params![key, to_i64(*index, "entry index")?])
                    .map_err(sql("write a search term"))?;
            }
            if update.size > update.start {
                tx.execute(
                    "INSERT INTO batches (end_size, start_size, time_ms) VALUES (?1, ?2, ?3)",
                    params![
                        to_i64(update.size, "tree size")?,
                        to_i64(update.start, "tree size")?,
                        to_i64(update.time_ms, "batch time")?
                    ],
                )
                .map_err(sql("record the batch"))?;
            }
            tx.execute(
                "UPDATE tree SET size = ?1 WHERE id = 0",
                [to_i64(update.size, "tree size")?],
            )
            .map_err(sql("update the tree size"))?;
        }
        tx.commit().map_err(sql("commit an integration"))
    }

    fn publish(&self, checkpoint: &PublishedCheckpoint) -> Result<(), StoreError> {
        let mut conn = self.writer();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("begin a publication"))?;
        let (size, published): (i64, Option<i64>) = tx
            .query_row(
                "SELECT size, checkpoint_size FROM tree WHERE id = 0",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(sql("read the tree state"))?;
        let size = to_u64(size, "tree size")?;
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
            "UPDATE tree SET checkpoint_size = ?1, checkpoint_root = ?2, checkpoint = ?3 WHERE id = 0",
            params![to_i64(checkpoint.size, "checkpoint size")?, checkpoint.root.as_bytes(), checkpoint.note],
        )
        .map_err(sql("store the checkpoint"))?;
        tx.commit().map_err(sql("commit a publication"))
    }

    fn read_tile(&self, level: u8, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached("SELECT data FROM tiles WHERE key = ?1")
                .map_err(sql("prepare a tile read"))?
                .query_row([tile_key(level, index)], |r| r.get(0))
                .optional()
                .map_err(sql("read a tile"))
        })
    }

    fn read_bundle(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        let index = to_i64(index, "bundle index")?;
        self.read(|conn| {
            conn.prepare_cached("SELECT data FROM bundles WHERE idx = ?1")
                .map_err(sql("prepare a bundle read"))?
                .query_row([index], |r| r.get(0))
                .optional()
                .map_err(sql("read an entry bundle"))
        })
    }

    fn search(&self, term: &[u8], limit: usize) -> Result<Vec<u64>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT idx FROM terms WHERE term = ?1 ORDER BY idx LIMIT ?2")
                .map_err(sql("prepare a search"))?;
            let rows = stmt
                .query_map(params![term, limit], |r| r.get::<_, i64>(0))
                .map_err(sql("search"))?;
            rows.map(|r| {
                r.map_err(sql("read a search result"))
                    .and_then(|i| to_u64(i, "entry index"))
            })
            .collect()
        })
    }

    fn entry_time(&self, index: u64) -> Result<Option<u64>, StoreError> {
        let index = to_i64(index, "entry index")?;
        self.read(|conn| {
            let time: Option<i64> = conn
                .prepare_cached(
                    "SELECT time_ms FROM batches WHERE end_size > ?1 AND start_size <= ?1 \
                     ORDER BY end_size LIMIT 1",
                )
                .map_err(sql("prepare a batch read"))?
                .query_row([index], |r| r.get(0))
                .optional()
                .map_err(sql("read a batch"))?;
            time.map(|t| to_u64(t, "batch time")).transpose()
        })
    }
}

impl IssuerStore for SqliteStore {
    fn put_issuer(&self, fingerprint: &[u8; 32], der: &[u8]) -> Result<(), StoreError> {
        self.writer()
            .execute(
                "INSERT OR IGNORE INTO issuers (fingerprint, der) VALUES (?1, ?2)",
                params![&fingerprint[..], der],
            )
            .map_err(sql("store an issuer"))?;
        Ok(())
    }

    fn issuer(&self, fingerprint: &[u8; 32]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT der FROM issuers WHERE fingerprint = ?1",
                params![&fingerprint[..]],
                |row| row.get(0),
            )
            .optional()
            .map_err(sql("read an issuer"))
        })
    }
}
