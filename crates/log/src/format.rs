//! How a log's personality lays its entries out: the extension point between the engine and
//! formats whose stored bytes depend on where and when an entry was sequenced.
//!
//! The engine is given *submitted* entries. At sequencing time it asks the log's
//! [`EntryFormat`] to *seal* each new one at its index and batch time, which yields the bytes
//! appended to the entry bundle (the "data tile") and the entry's Merkle leaf hash. To read a
//! bundle back (reloading the right edge after a restart, [`crate::Log::entry`],
//! [`crate::check_log`]) it asks the format to split the bundle into entries and to recompute
//! each one's leaf hash and deduplication key.
//!
//! [`Verbatim`], the default, is C2SP tlog-tiles: bundles of uint16-length-prefixed entries,
//! each logged as is, with leaf hash `SHA-256(0x00 || entry)`. The static-ct-api personality
//! ([`crate::ct`]) stores `TileLeaf`s whose `TimestampedEntry` carries the batch time and a
//! `leaf_index` extension.

use std::fmt;
use std::ops::Range;

use waxseal_merkle::{Hash, leaf_hash};

/// A submitted entry turned into what the log stores: the bytes appended to its entry bundle
/// and its Merkle leaf hash.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sealed {
    /// The bytes appended to the entry bundle, self-delimiting so that
    /// [`EntryFormat::split`] can find the entry again.
    pub bytes: Vec<u8>,
    /// The RFC 6962 / RFC 9162 leaf hash of the entry.
    pub leaf: Hash,
}

impl Sealed {
    /// Pairs bundle bytes with a leaf hash.
    pub fn new(bytes: Vec<u8>, leaf: Hash) -> Self {
        Self { bytes, leaf }
    }
}

/// What the engine needs to know about an entry read back from a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Unsealed {
    /// The entry's Merkle leaf hash.
    pub leaf: Hash,
    /// The deduplication key of the entry as it was submitted.
    pub key: Hash,
}

impl Unsealed {
    /// Pairs a leaf hash with a deduplication key.
    pub fn new(leaf: Hash, key: Hash) -> Self {
        Self { leaf, key }
    }
}

/// Why an entry or a stored bundle does not fit a log's entry format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// A submitted entry is not one this format accepts.
    #[error("entry is not a valid {format} entry: {reason}")]
    InvalidEntry {
        /// The format's name.
        format: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A stored bundle or entry does not parse.
    #[error("malformed {format} entry bundle: {reason}")]
    MalformedBundle {
        /// The format's name.
        format: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The entry's index or time cannot be encoded in this format.
    #[error("{format} entries cannot record {what}")]
    OutOfRange {
        /// The format's name.
        format: &'static str,
        /// The value that does not fit, described.
        what: String,
    },
}

/// The layout of a log's entries: how a submitted entry becomes bundle bytes and a leaf hash.
///
/// Contract:
///
/// - [`EntryFormat::key`] and [`EntryFormat::seal`] MUST be pure functions of their arguments:
///   the engine may call them again for the same entry (a retried batch), and
///   [`crate::check_log`] recomputes from the stored bytes what they produced.
/// - For every entry the format accepts, [`EntryFormat::unseal`] of the sealed bytes MUST give
///   back the sealed leaf hash and the entry's [`EntryFormat::key`], so the deduplication index
///   can be verified from the bundles alone.
/// - [`EntryFormat::split`] of the concatenation of sealed entries MUST give back exactly those
///   entries, in order, each range ending where the next entry's bytes begin (so a bundle can
///   be cut to its first `n` entries at the end of the `n`-th range).
/// - Implementations MUST NOT panic on any input and MUST be safe to call from several threads.
pub trait EntryFormat: Send + Sync + fmt::Debug {
    /// The deduplication key of a submitted entry: two submissions with the same key are the
    /// same entry, and the second gets the first's index and time back. Called when the entry
    /// enters the pool, so it also validates the entry.
    ///
    /// # Errors
    ///
    /// [`FormatError::InvalidEntry`] if the entry is not one this format accepts.
    fn key(&self, entry: &[u8]) -> Result<Hash, FormatError>;

    /// Seals a submitted (and accepted) entry at `index`, sequenced at `time_ms` (milliseconds
    /// since the Unix epoch).
    ///
    /// # Errors
    ///
    /// [`FormatError::OutOfRange`] if the index or time cannot be encoded. The engine fails
    /// the whole batch then.
    fn seal(&self, entry: &[u8], index: u64, time_ms: u64) -> Result<Sealed, FormatError>;

    /// Splits a bundle into its entries: the byte range of each entry's content in `bundle`.
    ///
    /// # Errors
    ///
    /// [`FormatError::MalformedBundle`] if the bytes are not a sequence of sealed entries.
    fn split(&self, bundle: &[u8]) -> Result<Vec<Range<usize>>, FormatError>;

    /// Reads one entry's content (a range [`EntryFormat::split`] returned) back into its leaf
    /// hash and deduplication key.
    ///
    /// # Errors
    ///
    /// [`FormatError::MalformedBundle`] if the content does not parse.
    fn unseal(&self, content: &[u8]) -> Result<Unsealed, FormatError>;
}

/// C2SP tlog-tiles entries, logged verbatim: each bundle entry is a big-endian uint16 length
/// and the entry; the leaf hash is RFC 6962 `SHA-256(0x00 || entry)`, which is also the
/// deduplication key. The default format.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verbatim;

const VERBATIM: &str = "tlog-tiles";

impl EntryFormat for Verbatim {
    fn key(&self, entry: &[u8]) -> Result<Hash, FormatError> {
        Ok(leaf_hash(entry))
    }

    fn seal(&self, entry: &[u8], _index: u64, _time_ms: u64) -> Result<Sealed, FormatError> {
        // tlog-tiles: each entry is prefixed by its length as a big-endian uint16.
        let len = u16::try_from(entry.len()).map_err(|_| FormatError::OutOfRange {
            format: VERBATIM,
            what: format!("an entry of {} bytes", entry.len()),
        })?;
        let mut bytes = Vec::with_capacity(entry.len() + 2);
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(entry);
        Ok(Sealed::new(bytes, leaf_hash(entry)))
    }

    fn split(&self, bundle: &[u8]) -> Result<Vec<Range<usize>>, FormatError> {
        let mut ranges = Vec::new();
        let mut at = 0usize;
        while at < bundle.len() {
            let header = bundle
                .get(at..at + 2)
                .ok_or_else(|| malformed(format!("truncated length at byte {at}")))?;
            let len = usize::from(u16::from_be_bytes([header[0], header[1]]));
            let start = at + 2;
            let end = start + len;
            if end > bundle.len() {
                return Err(malformed(format!(
                    "entry at byte {at} claims {len} bytes, {} remain",
                    bundle.len() - start
                )));
            }
            ranges.push(start..end);
            at = end;
        }
        Ok(ranges)
    }

    fn unseal(&self, content: &[u8]) -> Result<Unsealed, FormatError> {
        let hash = leaf_hash(content);
        Ok(Unsealed::new(hash, hash))
    }
}

fn malformed(reason: String) -> FormatError {
    FormatError::MalformedBundle {
        format: VERBATIM,
        reason,
    }
}

/// A bundle read back through its format: its bytes and each entry's range.
#[derive(Debug)]
pub(crate) struct SplitBundle {
    pub(crate) bytes: Vec<u8>,
    pub(crate) ranges: Vec<Range<usize>>,
}

impl SplitBundle {
    pub(crate) fn new(format: &dyn EntryFormat, bytes: Vec<u8>) -> Result<Self, FormatError> {
        let ranges = format.split(&bytes)?;
        Ok(Self { bytes, ranges })
    }

    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }

    /// The content of entry `i`.
    pub(crate) fn entry(&self, i: usize) -> Option<&[u8]> {
        self.ranges.get(i).and_then(|r| self.bytes.get(r.clone()))
    }

    /// The bundle cut to its first `width` entries.
    pub(crate) fn truncated(&self, width: usize) -> Option<&[u8]> {
        match width {
            0 => Some(&[]),
            w => self.ranges.get(w - 1).and_then(|r| self.bytes.get(..r.end)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbatim_round_trips_through_split_and_unseal() {
        let entries: [&[u8]; 3] = [b"a", b"", b"hello world"];
        let mut bundle = Vec::new();
        let mut leaves = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let sealed = Verbatim.seal(entry, i as u64, 0).unwrap();
            assert_eq!(sealed.leaf, leaf_hash(entry));
            bundle.extend_from_slice(&sealed.bytes);
            leaves.push(sealed.leaf);
        }
        // Same bytes as the tiles crate's entry bundle.
        let mut reference = waxseal_tiles::EntryBundle::new();
        for entry in entries {
            reference.push(entry).unwrap();
        }
        assert_eq!(bundle, reference.to_bytes());
        let split = SplitBundle::new(&Verbatim, bundle.clone()).unwrap();
        assert_eq!(split.len(), 3);
        for (i, entry) in entries.iter().enumerate() {
            assert_eq!(split.entry(i).unwrap(), *entry);
            let unsealed = Verbatim.unseal(split.entry(i).unwrap()).unwrap();
            assert_eq!(unsealed.leaf, leaves[i]);
            assert_eq!(unsealed.key, Verbatim.key(entry).unwrap());
        }
        assert_eq!(split.truncated(1).unwrap(), &bundle[..3]);
        assert_eq!(split.truncated(3).unwrap(), &bundle[..]);
        assert!(split.truncated(4).is_none());
    }

    #[test]
    fn verbatim_rejects_truncated_bundles() {
        for (name, bundle) in [
            ("half a length", &[0u8][..]),
            ("short entry", &[0, 3, b'a', b'b'][..]),
        ] {
            assert!(
                matches!(
                    Verbatim.split(bundle),
                    Err(FormatError::MalformedBundle { .. })
                ),
                "{name}"
            );
        }
    }
}
