//! Tile and entry bundle paths (tlog-tiles "Merkle Tree" and "Log entries").
//!
//! ```text
//! tile/<L>/<N>[.p/<W>]
//! tile/entries/<N>[.p/<W>]
//! ```

use std::fmt::{self, Write as _};
use std::str::FromStr;

use crate::error::Error;

/// The highest tile level a path may name: tlog-tiles "`<L>` ... MUST be a decimal ASCII integer
/// between 0 and 63".
pub(crate) const MAX_LEVEL: u8 = 63;

/// The width of a full tile or bundle, as stored in [`TilePath`].
pub(crate) const FULL_WIDTH: u16 = 256;

/// The resource a tile path names, relative to the log's prefix.
///
/// `width` is 1 to 256; 256 is a full tile (no `.p/` suffix), anything less a partial one. Build
/// paths with [`TilePath::hash_tile`] and [`TilePath::entry_bundle`], which check those ranges;
/// a hand-built value outside them formats as a path that [`TilePath::parse`] rejects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum TilePath {
    /// A Merkle tree tile: `tile/<L>/<N>[.p/<W>]`.
    Hash {
        /// The tile level `<L>`, 0 to 63. Level `l` holds hashes of tree level `8 * l`.
        level: u8,
        /// The tile index `<N>` within the level.
        index: u64,
        /// The number of hashes, 1 to 256.
        width: u16,
    },
    /// An entry bundle: `tile/entries/<N>[.p/<W>]`.
    Entries {
        /// The bundle index `<N>`.
        index: u64,
        /// The number of entries, 1 to 256.
        width: u16,
    },
}

impl TilePath {
    /// The path of hash tile `index` at `level`, holding `width` hashes.
    ///
    /// # Errors
    ///
    /// [`Error::LevelOutOfRange`] if `level > 63`; [`Error::WidthOutOfRange`] if `width` is not
    /// 1 to 256.
    pub fn hash_tile(level: u8, index: u64, width: u16) -> Result<Self, Error> {
        if level > MAX_LEVEL {
            return Err(Error::LevelOutOfRange {
                level: u64::from(level),
            });
        }
        check_width(width)?;
        Ok(Self::Hash {
            level,
            index,
            width,
        })
    }

    /// The path of entry bundle `index`, holding `width` entries.
    ///
    /// # Errors
    ///
    /// [`Error::WidthOutOfRange`] if `width` is not 1 to 256.
    pub fn entry_bundle(index: u64, width: u16) -> Result<Self, Error> {
        check_width(width)?;
        Ok(Self::Entries { index, width })
    }

    /// Parses a path relative to the log prefix, accepting only the one canonical encoding of
    /// each resource.
    ///
    /// # Errors
    ///
    /// [`Error::BadPrefix`] without `tile/`; [`Error::BadLevel`] or [`Error::LevelOutOfRange`]
    /// for `<L>`; [`Error::BadIndexElement`], [`Error::NonCanonicalIndex`] or
    /// [`Error::IndexOverflow`] for `<N>` (see [`parse_index`]); [`Error::BadPartialWidth`] or
    /// [`Error::WidthOutOfRange`] for `<W>`, which must be 1 to 255 (a full tile has no `.p/`).
    pub fn parse(path: &str) -> Result<Self, Error> {
        let rest = path.strip_prefix("tile/").ok_or_else(|| Error::BadPrefix {
            path: path.to_owned(),
        })?;
        // A path with no slash after `<L>` has an empty `<N>`, which `parse_index` rejects.
        let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
        let (index, width) = match tail.split_once(".p/") {
            Some((index, width)) => (index, parse_partial_width(width)?),
            None => (tail, FULL_WIDTH),
        };
        if head == "entries" {
            let index = parse_index(index)?;
            return Ok(Self::Entries { index, width });
        }
        let level = parse_decimal(head).ok_or_else(|| Error::BadLevel {
            level: head.to_owned(),
        })?;
        let level = u8::try_from(level)
            .ok()
            .filter(|l| *l <= MAX_LEVEL)
            .ok_or(Error::LevelOutOfRange { level })?;
        let index = parse_index(index)?;
        Ok(Self::Hash {
            level,
            index,
            width,
        })
    }

    /// The tile or bundle index `<N>`.
    pub const fn index(&self) -> u64 {
        match *self {
            Self::Hash { index, .. } | Self::Entries { index, .. } => index,
        }
    }

    /// The width: 256 for a full tile or bundle, less for a partial one.
    pub const fn width(&self) -> u16 {
        match *self {
            Self::Hash { width, .. } | Self::Entries { width, .. } => width,
        }
    }

    /// Whether the path names a partial tile or bundle (one with a `.p/<W>` suffix).
    pub const fn is_partial(&self) -> bool {
        self.width() != FULL_WIDTH
    }
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Hash { level, .. } => write!(f, "tile/{level}/")?,
            Self::Entries { .. } => f.write_str("tile/entries/")?,
        }
        f.write_str(&encode_index(self.index()))?;
        if self.is_partial() {
            write!(f, ".p/{}", self.width())?;
        }
        Ok(())
    }
}

impl FromStr for TilePath {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

/// Encodes a tile index as tlog-tiles `<N>`: zero-padded 3-digit groups, most significant first,
/// all but the last prefixed by `x` (1234067 → `x001/x234/067`, 5 → `005`).
pub fn encode_index(index: u64) -> String {
    let mut groups = Vec::with_capacity(7);
    let mut rest = index;
    loop {
        groups.push(rest % 1000);
        rest /= 1000;
        if rest == 0 {
            break;
        }
    }
    let mut out = String::with_capacity(groups.len() * 5);
    for (i, group) in groups.iter().rev().enumerate() {
        if i > 0 {
            out.push('/');
        }
        if i + 1 < groups.len() {
            out.push('x');
        }
        // Writing to a `String` cannot fail.
        let _ = write!(out, "{group:03}");
    }
    out
}

/// Parses a tlog-tiles `<N>`, accepting only the encoding [`encode_index`] writes.
///
/// # Errors
///
/// [`Error::BadIndexElement`] for an element that is not `xDDD` (all but the last) or `DDD`
/// (the last), including an empty one; [`Error::NonCanonicalIndex`] for a leading `x000`;
/// [`Error::IndexOverflow`] for a value above `u64::MAX`.
pub fn parse_index(text: &str) -> Result<u64, Error> {
    let mut elements = text.split('/').peekable();
    let mut value: u64 = 0;
    let mut first = true;
    while let Some(element) = elements.next() {
        let last = elements.peek().is_none();
        let digits = match (element.as_bytes(), last) {
            ([b'x', d @ ..], false) | (d, true) => d,
            _ => {
                return Err(Error::BadIndexElement {
                    element: element.to_owned(),
                });
            }
        };
        let group = match *digits {
            [a, b, c] if [a, b, c].iter().all(u8::is_ascii_digit) => {
                u64::from(a - b'0') * 100 + u64::from(b - b'0') * 10 + u64::from(c - b'0')
            }
            _ => {
                return Err(Error::BadIndexElement {
                    element: element.to_owned(),
                });
            }
        };
        if first && !last && group == 0 {
            return Err(Error::NonCanonicalIndex {
                index: text.to_owned(),
            });
        }
        first = false;
        value = value
            .checked_mul(1000)
            .and_then(|v| v.checked_add(group))
            .ok_or_else(|| Error::IndexOverflow {
                index: text.to_owned(),
            })?;
    }
    Ok(value)
}

/// A decimal integer without leading zeros (`0` itself allowed) that fits a `u64`.
fn parse_decimal(text: &str) -> Option<u64> {
    let canonical = match text.as_bytes() {
        [] => false,
        [b'0'] => true,
        [b'0', ..] => false,
        digits => digits.iter().all(u8::is_ascii_digit),
    };
    if canonical { text.parse().ok() } else { None }
}

/// Parses the `<W>` of `.p/<W>`: 1 to 255, as a full tile carries no suffix.
fn parse_partial_width(text: &str) -> Result<u16, Error> {
    let width = parse_decimal(text).ok_or_else(|| Error::BadPartialWidth {
        width: text.to_owned(),
    })?;
    u16::try_from(width)
        .ok()
        .filter(|w| (1..FULL_WIDTH).contains(w))
        .ok_or(Error::WidthOutOfRange { width })
}

fn check_width(width: u16) -> Result<(), Error> {
    if (1..=FULL_WIDTH).contains(&width) {
        Ok(())
    } else {
        Err(Error::WidthOutOfRange {
            width: u64::from(width),
        })
    }
}

#[cfg(test)]
mod tests;
