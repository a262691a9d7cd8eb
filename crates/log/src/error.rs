//! The engine's errors.

use std::sync::Arc;
use std::time::Duration;

/// Why a log operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The batch holding this entry failed to sequence or publish; the entry was not
    /// acknowledged. It may or may not have been logged: submitting it again is safe (duplicates
    /// get their first index back).
    #[error("entry was not acknowledged: {cause}")]
    BatchFailed {
        /// What went wrong with the batch.
        cause: Arc<Error>,
    },
    /// The log has shut down.
    #[error("the log is shut down")]
    Closed,
    /// An entry is larger than a tlog-tiles entry bundle can hold.
    #[error("entry is {len} bytes; entries are limited to {max} bytes")]
    EntryTooLarge {
        /// The entry's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The log's entry format rejected a submitted entry.
    #[error(transparent)]
    InvalidEntry(crate::format::FormatError),
    /// A leaf index at or beyond the tree size.
    #[error("index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The requested index.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// A consistency proof was asked between sizes out of order.
    #[error("tree size {size1} is larger than tree size {size2}")]
    SizeOrder {
        /// The first size.
        size1: u64,
        /// The second size.
        size2: u64,
    },
    /// A tree size beyond the latest published checkpoint.
    #[error("tree size {size} is beyond the published size {published}")]
    SizeNotPublished {
        /// The requested size.
        size: u64,
        /// The latest published tree size.
        published: u64,
    },
    /// The pool of pending entries is full. Callers should retry after `retry_after`
    /// (HTTP: 503 with `Retry-After`).
    #[error("the log is overloaded ({pending} entries pending); retry after {retry_after:?}")]
    Pushback {
        /// Entries waiting to be sequenced.
        pending: usize,
        /// A suggested back-off.
        retry_after: Duration,
    },
    /// The log's entry format could not seal an entry at its index and time; the batch was
    /// not logged.
    #[error("couldn't seal an entry: {0}")]
    Seal(crate::format::FormatError),
    /// The checkpoint could not be signed.
    #[error("couldn't sign checkpoint: {0}")]
    Sign(String),
    /// The storage backend failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why the storage backend failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Stored data does not have the shape the log wrote.
    #[error("store is corrupt: {what}")]
    Corrupt {
        /// What was found wrong.
        what: String,
    },
    /// An integration did not start at the stored tree size: another writer, or a lost
    /// update. The engine reloads its state.
    #[error("store holds tree size {stored}, integration expected {expected}")]
    SizeMismatch {
        /// The size the writer thought was stored.
        expected: u64,
        /// The size actually stored.
        stored: u64,
    },
    /// A fault injected by a test store.
    #[error("injected fault in {op}")]
    Injected {
        /// The failed operation.
        op: &'static str,
    },
    /// The filesystem failed.
    #[error("couldn't {op}: {message}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The operating system's message.
        message: String,
    },
    /// PostgreSQL failed, or its configuration (URL, TLS) is unusable.
    #[error("postgres couldn't {op}: {message}")]
    Postgres {
        /// What was being done.
        op: &'static str,
        /// The server's or the client's message.
        message: String,
    },
    /// Cluster mode: queued entries the sequencer took were no longer queued (another
    /// sequencer took them). Nothing was changed; the sequencer reloads.
    #[error("expected to dequeue {expected} entries, found {removed}")]
    QueueMismatch {
        /// Entries the batch held.
        expected: u64,
        /// Entries still queued.
        removed: u64,
    },
    /// SQLite failed.
    #[error("sqlite couldn't {op}: {message}")]
    Sqlite {
        /// What was being done.
        op: &'static str,
        /// SQLite's message.
        message: String,
    },
}
