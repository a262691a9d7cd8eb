//! The publisher's error.

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An object already at the target differs from the bytes the log has for it: the target
    /// holds another log (or a fork of this one). Publishing stops; an operator must look.
    #[error(
        "{path} at the target differs from the log's ({existing} bytes there, {ours} bytes \
         here): the target holds another log or a fork; publishing stopped"
    )]
    Conflict {
        /// The object's path at the target.
        path: String,
        /// The length of the object found there.
        existing: usize,
        /// The length of the log's version.
        ours: usize,
    },
    /// The log failed to read a tile, a bundle, an issuer or a root.
    #[error("couldn't read {what} from the log: {message}")]
    Log {
        /// What was being read.
        what: String,
        /// The log's error.
        message: String,
    },
    /// The log has no tile or bundle the published tree should have.
    #[error("the log has no {path} although its tree of {size} entries should")]
    Missing {
        /// The object's path.
        path: String,
        /// The tree size it was read for.
        size: u64,
    },
    /// The object store failed.
    #[error("couldn't {op} {path} at the target: {message}")]
    Store {
        /// The operation (`put`, `get`, `list`).
        op: &'static str,
        /// The object's path.
        path: String,
        /// The store's error.
        message: String,
    },
    /// The checkpoint already at the target is larger than the log's tree: publishing it
    /// would move the target back, which is never done.
    #[error(
        "the target's checkpoint has {target} entries, more than the log's {log}: refusing to \
         publish a smaller checkpoint over it"
    )]
    TargetAhead {
        /// The target checkpoint's size.
        target: u64,
        /// The log's published size.
        log: u64,
    },
    /// The checkpoint already at the target is not this log's tree at its size.
    #[error("the target's checkpoint ({origin:?}, {size} entries) is not this log's: {reason}")]
    TargetDiverges {
        /// The target checkpoint's origin line.
        origin: String,
        /// The target checkpoint's size.
        size: u64,
        /// What differs.
        reason: String,
    },
    /// The checkpoint already at the target does not parse.
    #[error("the checkpoint at {path} does not parse as a C2SP checkpoint: {message}")]
    TargetUnreadable {
        /// Its path.
        path: String,
        /// The parser's error.
        message: String,
    },
    /// The target URL is not one this crate can publish to.
    #[error("unsupported publish target {url:?}: {reason}")]
    UnsupportedTarget {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl Error {
    /// Whether retrying cannot help: the target holds something this log must not
    /// overwrite, or is set up wrongly. Store and log failures are worth a retry.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::Conflict { .. }
                | Self::TargetAhead { .. }
                | Self::TargetDiverges { .. }
                | Self::TargetUnreadable { .. }
                | Self::UnsupportedTarget { .. }
        )
    }

    pub(crate) fn store(
        op: &'static str,
        path: &object_store::path::Path,
        e: &object_store::Error,
    ) -> Self {
        Self::Store {
            op,
            path: path.to_string(),
            message: e.to_string(),
        }
    }
}
