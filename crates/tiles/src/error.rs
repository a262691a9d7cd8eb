//! The crate's one error type for paths, tiles and bundles.

/// Why a tile path, hash tile or entry bundle was rejected.
///
/// Path variants carry the offending path element as written, so a server can name it in a 404
/// body; tile and bundle variants carry the lengths, widths and offsets that broke the format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An element of a tile index `<N>` is not three decimal digits, prefixed by `x` on every
    /// element but the last (tlog-tiles "Merkle Tree"). This covers empty elements (doubled or
    /// trailing slashes), a missing index, an `x` on the last element and a missing `x` on the
    /// others.
    #[error(
        "tile index element {element:?} must be three digits, prefixed by x on all but the last"
    )]
    BadIndexElement {
        /// The element as written.
        element: String,
    },
    /// The `<L>` of a tile path is neither `entries` nor a decimal integer without leading zeros.
    #[error("tile level {level:?} must be a decimal integer without leading zeros")]
    BadLevel {
        /// The level as written.
        level: String,
    },
    /// The `<W>` of a `.p/<W>` suffix is not a decimal integer without leading zeros.
    #[error("partial tile width {width:?} must be a decimal integer without leading zeros")]
    BadPartialWidth {
        /// The width as written.
        width: String,
    },
    /// A path does not start with `tile/`.
    #[error("tile path {path:?} must start with \"tile/\"")]
    BadPrefix {
        /// The whole path.
        path: String,
    },
    /// An entry bundle has no entries; tlog-tiles forbids serving empty tiles.
    #[error("entry bundle is empty")]
    EmptyBundle,
    /// An entry is longer than a bundle's big-endian uint16 length prefix can express.
    #[error("entry of {len} bytes exceeds the 65535-byte bundle entry limit")]
    EntryTooLong {
        /// The entry's length in bytes.
        len: usize,
    },
    /// A tile index `<N>` is larger than `u64::MAX`.
    #[error("tile index {index:?} exceeds 2^64 - 1")]
    IndexOverflow {
        /// The index as written.
        index: String,
    },
    /// A tile level is above 63, the highest tlog-tiles allows.
    #[error("tile level {level} is above 63")]
    LevelOutOfRange {
        /// The level.
        level: u64,
    },
    /// A tile index `<N>` has a leading all-zero `x000` element; every index has exactly one
    /// encoding, and it has no leading zero groups.
    #[error("tile index {index:?} is not canonical: it has a leading x000 element")]
    NonCanonicalIndex {
        /// The index as written.
        index: String,
    },
    /// A hash tile is empty, longer than 256 hashes, or not a whole number of 32-byte hashes.
    #[error("hash tile of {len} bytes is not 1 to 256 32-byte hashes")]
    TileLength {
        /// The tile's length in bytes.
        len: usize,
    },
    /// A bundle would hold more than 256 entries.
    #[error("entry bundle would hold {count} entries, more than 256")]
    TooManyEntries {
        /// The number of entries counted when the limit was passed (the limit plus one).
        count: usize,
    },
    /// A bundle entry's length prefix, or the entry it announces, runs past the end of the data.
    #[error("entry bundle is truncated: the entry at byte offset {offset} runs past the end")]
    TruncatedEntry {
        /// The byte offset of the truncated entry's length prefix.
        offset: usize,
    },
    /// A tile or bundle was asked to shrink to a width wider than it is.
    #[error("can't truncate a tile of width {available} to width {width}")]
    TruncationTooWide {
        /// The requested width.
        width: u16,
        /// The tile's or bundle's current width.
        available: u16,
    },
    /// A hash tile does not hold the number of hashes its path names.
    #[error("hash tile holds {actual} hashes, expected {expected}")]
    WidthMismatch {
        /// The width the caller expected (from the tile path).
        expected: u16,
        /// The number of hashes found.
        actual: usize,
    },
    /// A width is outside 1..=256 (a partial tile's `.p/<W>` is outside 1..=255).
    #[error("tile width {width} is out of range")]
    WidthOutOfRange {
        /// The width.
        width: u64,
    },
}
