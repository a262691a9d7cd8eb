//! Hash tiles (tlog-tiles "Merkle Tree") and the tile math that says which tiles a tree has.

use waxseal_merkle::Hash;

use crate::error::Error;
use crate::path::FULL_WIDTH;

/// A Merkle tree tile: 1 to 256 consecutive hashes of one tree level, concatenated.
///
/// Hash `j` of tile `n` at tile level `l` is the root of the complete subtree
/// `Node { level: 8 * l, index: n * 256 + j }`: a leaf hash at level 0, the root of a full tile
/// of the level below otherwise. A tile of 256 hashes (8,192 bytes) is full and immutable; a
/// partial tile is a prefix of the full tile it grows into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashTile {
    /// 1 to 256 hashes.
    hashes: Vec<Hash>,
}

impl HashTile {
    /// Wraps 1 to 256 hashes as a tile.
    ///
    /// # Errors
    ///
    /// [`Error::WidthOutOfRange`] if `hashes` is empty or longer than 256.
    pub fn from_hashes(hashes: Vec<Hash>) -> Result<Self, Error> {
        if hashes.is_empty() || hashes.len() > usize::from(FULL_WIDTH) {
            return Err(Error::WidthOutOfRange {
                width: len_u64(hashes.len()),
            });
        }
        Ok(Self { hashes })
    }

    /// Parses a tile's bytes: 1 to 256 concatenated 32-byte hashes.
    ///
    /// Use [`HashTile::parse_with_width`] when the width is known from the tile's path.
    ///
    /// # Errors
    ///
    /// [`Error::TileLength`] if `bytes` is empty, longer than 8,192 bytes or not a multiple of
    /// 32.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        let (chunks, remainder) = bytes.as_chunks::<{ Hash::LEN }>();
        if chunks.is_empty() || chunks.len() > usize::from(FULL_WIDTH) || !remainder.is_empty() {
            return Err(Error::TileLength { len: bytes.len() });
        }
        Ok(Self {
            hashes: chunks.iter().map(|c| Hash::from_bytes(*c)).collect(),
        })
    }

    /// Parses a tile's bytes, which must hold exactly `width` hashes: the `<W>` of the tile's
    /// path, or 256 for a full tile.
    ///
    /// # Errors
    ///
    /// [`Error::WidthOutOfRange`] if `width` is not 1 to 256; the errors of [`HashTile::parse`];
    /// [`Error::WidthMismatch`] if the tile holds a different number of hashes.
    pub fn parse_with_width(bytes: &[u8], width: u16) -> Result<Self, Error> {
        if !(1..=FULL_WIDTH).contains(&width) {
            return Err(Error::WidthOutOfRange {
                width: u64::from(width),
            });
        }
        let tile = Self::parse(bytes)?;
        if tile.hashes.len() != usize::from(width) {
            return Err(Error::WidthMismatch {
                expected: width,
                actual: tile.hashes.len(),
            });
        }
        Ok(tile)
    }

    /// The tile's bytes: its hashes, concatenated.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.hashes.iter().flat_map(|h| *h.as_bytes()).collect()
    }

    /// The tile's hashes, in tree order.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// The number of hashes, 1 to 256.
    pub fn width(&self) -> u16 {
        width_u16(self.hashes.len())
    }

    /// Whether the tile holds all 256 hashes.
    pub fn is_full(&self) -> bool {
        self.hashes.len() == usize::from(FULL_WIDTH)
    }

    /// The partial tile made of the first `width` hashes: the tile as it was when its level had
    /// fewer hashes.
    ///
    /// # Errors
    ///
    /// [`Error::WidthOutOfRange`] if `width` is 0; [`Error::TruncationTooWide`] if it exceeds
    /// [`HashTile::width`].
    pub fn truncated(&self, width: u16) -> Result<Self, Error> {
        let prefix = prefix(&self.hashes, width)?;
        Ok(Self {
            hashes: prefix.to_vec(),
        })
    }
}

/// The width of hash tile `index` at tile `level` in the tree of `tree_size` leaves: `Some(256)`
/// for a full tile, `Some(w)` for a partial one, `None` if the tree has no such tile.
///
/// tlog-tiles "Partial Tiles": level `l` holds `floor(tree_size / 256^l)` hashes, so its last
/// tile has that count mod 256 of them (when not zero).
pub fn tile_width_at(level: u8, index: u64, tree_size: u64) -> Option<u16> {
    width_at(crate::TILE_HEIGHT, level, index, tree_size)
}

/// [`tile_width_at`] for tiles of `2^height` hashes, so tests can exercise many tile levels with
/// small trees.
pub(crate) fn width_at(height: u8, level: u8, index: u64, tree_size: u64) -> Option<u16> {
    let tile_width = 1u64 << height;
    let shift = u32::from(height) * u32::from(level);
    let count = tree_size.checked_shr(shift).unwrap_or(0);
    let start = index.checked_mul(tile_width)?;
    let width = count.checked_sub(start).filter(|w| *w > 0)?.min(tile_width);
    u16::try_from(width).ok()
}

/// The first `width` items of a tile or bundle.
pub(crate) fn prefix<T>(items: &[T], width: u16) -> Result<&[T], Error> {
    if width == 0 {
        return Err(Error::WidthOutOfRange { width: 0 });
    }
    items
        .get(..usize::from(width))
        .ok_or(Error::TruncationTooWide {
            width,
            available: width_u16(items.len()),
        })
}

/// A tile or bundle width; callers hold at most 256 items, so the cap never bites.
pub(crate) fn width_u16(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

/// A length as a `u64` for error reports.
pub(crate) fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn hashes(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| Hash::from_bytes([(i % 251) as u8; Hash::LEN]))
            .collect()
    }

    #[test]
    fn round_trips_full_and_partial_tiles() {
        for width in [1, 2, 255, 256] {
            let tile = HashTile::from_hashes(hashes(width)).expect("1..=256 hashes");
            let bytes = tile.to_bytes();
            assert_eq!(bytes.len(), width * 32, "width {width}");
            let expected = u16::try_from(width).expect("small");
            assert_eq!(
                HashTile::parse_with_width(&bytes, expected),
                Ok(tile.clone()),
                "width {width}"
            );
            assert_eq!(HashTile::parse(&bytes), Ok(tile.clone()), "width {width}");
            assert_eq!(tile.width(), expected, "width {width}");
            assert_eq!(tile.is_full(), width == 256, "width {width}");
        }
    }

    struct ParseCase {
        name: &'static str,
        len: usize,
        expected_width: Option<u16>,
        want: Error,
    }

    const PARSE_CASES: &[ParseCase] = &[
        ParseCase {
            name: "empty",
            len: 0,
            expected_width: None,
            want: Error::TileLength { len: 0 },
        },
        ParseCase {
            name: "short hash",
            len: 31,
            expected_width: None,
            want: Error::TileLength { len: 31 },
        },
        ParseCase {
            name: "ragged",
            len: 65,
            expected_width: None,
            want: Error::TileLength { len: 65 },
        },
        ParseCase {
            name: "257 hashes",
            len: 257 * 32,
            expected_width: None,
            want: Error::TileLength { len: 257 * 32 },
        },
        ParseCase {
            name: "narrower than path",
            len: 64,
            expected_width: Some(3),
            want: Error::WidthMismatch {
                expected: 3,
                actual: 2,
            },
        },
        ParseCase {
            name: "wider than path",
            len: 256 * 32,
            expected_width: Some(255),
            want: Error::WidthMismatch {
                expected: 255,
                actual: 256,
            },
        },
        ParseCase {
            name: "expected width 0",
            len: 32,
            expected_width: Some(0),
            want: Error::WidthOutOfRange { width: 0 },
        },
        ParseCase {
            name: "expected width 257",
            len: 32,
            expected_width: Some(257),
            want: Error::WidthOutOfRange { width: 257 },
        },
    ];

    #[test]
    fn rejects_malformed_tiles_table() {
        for case in PARSE_CASES {
            let bytes = vec![7; case.len];
            assert_eq!(
                match case.expected_width {
                    Some(width) => HashTile::parse_with_width(&bytes, width),
                    None => HashTile::parse(&bytes),
                },
                Err(case.want.clone()),
                "case {}",
                case.name
            );
        }
    }

    #[test]
    fn from_hashes_rejects_empty_and_oversized() {
        assert_eq!(
            HashTile::from_hashes(Vec::new()),
            Err(Error::WidthOutOfRange { width: 0 })
        );
        assert_eq!(
            HashTile::from_hashes(hashes(257)),
            Err(Error::WidthOutOfRange { width: 257 })
        );
    }

    #[test]
    fn truncates_to_a_prefix() {
        let tile = HashTile::from_hashes(hashes(10)).expect("10 hashes");
        let short = tile.truncated(4).expect("4 <= 10");
        assert_eq!(short.hashes(), &tile.hashes()[..4]);
        assert_eq!(tile.truncated(10), Ok(tile.clone()));
        assert_eq!(tile.truncated(0), Err(Error::WidthOutOfRange { width: 0 }));
        assert_eq!(
            tile.truncated(11),
            Err(Error::TruncationTooWide {
                width: 11,
                available: 10
            })
        );
    }

    struct WidthCase {
        name: &'static str,
        level: u8,
        index: u64,
        tree_size: u64,
        want: Option<u16>,
    }

    const WIDTH_CASES: &[WidthCase] = &[
        WidthCase {
            name: "empty tree",
            level: 0,
            index: 0,
            tree_size: 0,
            want: None,
        },
        WidthCase {
            name: "one leaf",
            level: 0,
            index: 0,
            tree_size: 1,
            want: Some(1),
        },
        WidthCase {
            name: "255 leaves",
            level: 0,
            index: 0,
            tree_size: 255,
            want: Some(255),
        },
        WidthCase {
            name: "255 leaves, no level 1",
            level: 1,
            index: 0,
            tree_size: 255,
            want: None,
        },
        // tlog-tiles: "a tree of size 256 will be represented by a full level 0 tile and a
        // partial level 1 tile of width 1".
        WidthCase {
            name: "256 leaves, level 0",
            level: 0,
            index: 0,
            tree_size: 256,
            want: Some(256),
        },
        WidthCase {
            name: "256 leaves, no tile 1",
            level: 0,
            index: 1,
            tree_size: 256,
            want: None,
        },
        WidthCase {
            name: "256 leaves, level 1",
            level: 1,
            index: 0,
            tree_size: 256,
            want: Some(1),
        },
        // tlog-tiles: size 70,000 has 273 full level 0 tiles, a partial of width 112, one full
        // level 1 tile, a partial level 1 tile of width 17 and a partial level 2 tile of width 1.
        WidthCase {
            name: "70000, full level 0",
            level: 0,
            index: 272,
            tree_size: 70_000,
            want: Some(256),
        },
        WidthCase {
            name: "70000, partial level 0",
            level: 0,
            index: 273,
            tree_size: 70_000,
            want: Some(112),
        },
        WidthCase {
            name: "70000, past level 0",
            level: 0,
            index: 274,
            tree_size: 70_000,
            want: None,
        },
        WidthCase {
            name: "70000, full level 1",
            level: 1,
            index: 0,
            tree_size: 70_000,
            want: Some(256),
        },
        WidthCase {
            name: "70000, partial level 1",
            level: 1,
            index: 1,
            tree_size: 70_000,
            want: Some(17),
        },
        WidthCase {
            name: "70000, partial level 2",
            level: 2,
            index: 0,
            tree_size: 70_000,
            want: Some(1),
        },
        WidthCase {
            name: "70000, no level 3",
            level: 3,
            index: 0,
            tree_size: 70_000,
            want: None,
        },
        WidthCase {
            name: "max tree, level 7",
            level: 7,
            index: 0,
            tree_size: u64::MAX,
            want: Some(255),
        },
        WidthCase {
            name: "max tree, level 8",
            level: 8,
            index: 0,
            tree_size: u64::MAX,
            want: None,
        },
        WidthCase {
            name: "max tree, level 63",
            level: 63,
            index: 0,
            tree_size: u64::MAX,
            want: None,
        },
        WidthCase {
            name: "max tree, last level 0 tile",
            level: 0,
            index: u64::MAX >> 8,
            tree_size: u64::MAX,
            want: Some(255),
        },
        WidthCase {
            name: "index overflows",
            level: 0,
            index: u64::MAX,
            tree_size: u64::MAX,
            want: None,
        },
    ];

    #[test]
    fn tile_widths_table() {
        for case in WIDTH_CASES {
            assert_eq!(
                tile_width_at(case.level, case.index, case.tree_size),
                case.want,
                "case {}",
                case.name
            );
        }
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_any_bytes(bytes in vec(any::<u8>(), 0..9000)) {
            if let Ok(tile) = HashTile::parse(&bytes) {
                prop_assert_eq!(tile.to_bytes(), bytes);
            }
        }

        #[test]
        fn widths_sum_to_the_level_count(tree_size in any::<u64>(), level in 0u8..8) {
            let count = tree_size >> (8 * u32::from(level));
            let full = count / 256;
            let partial = u16::try_from(count % 256).ok().filter(|w| *w > 0);
            prop_assert_eq!(tile_width_at(level, full, tree_size), partial);
            if full > 0 {
                prop_assert_eq!(tile_width_at(level, full - 1, tree_size), Some(256));
            }
            prop_assert_eq!(tile_width_at(level, full + 1, tree_size), None);
        }
    }
}
