//! A [`HashReader`] over hash tiles: the complete-subtree hashes that proofs need, recomputed
//! from the tiles that hold them.
//!
//! Tile level `a` stores tree level `8a`, so a tree node at level `k` lives in tile level
//! `k / 8`. It covers `2^(k % 8)` consecutive hashes of that tile, and its hash is their Merkle
//! tree hash (tlog-tiles: "The Merkle Tree levels between those expressed by the tile hashes are
//! reconstructed by hashing the leaves").

use std::collections::BTreeMap;

use waxseal_merkle::{Hash, HashReader, Node, subtree_root};

use crate::tile::{HashTile, width_at};

/// A source of hash tiles, for example a log's object store or an HTTP client.
///
/// Implementations are only asked for tiles that exist in the tree being read: level 0 to 7, and
/// `width` is that tile's width in the tree ([`tile_width_at`](crate::tile_width_at)).
pub trait TileReader {
    /// The reader's own failure (I/O, a missing tile, a malformed tile, ...).
    type Error;

    /// Returns hash tile `index` at tile `level`, holding at least `width` hashes.
    ///
    /// The returned tile's first `width` hashes MUST be those of the requested tile. It MAY be
    /// wider: a later partial tile or the full tile (tiles only grow, and a narrower tile is a
    /// prefix of a wider one), and the caller ignores the extra hashes. A tile narrower than
    /// `width` is reported as [`TileHashReaderError::ShortTile`]. The reader MUST NOT return
    /// hashes it has not read from the log, and it is not trusted to: proofs built from its
    /// hashes are verified against a signed checkpoint.
    ///
    /// # Errors
    ///
    /// Whatever the underlying source fails with.
    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<HashTile, Self::Error>;

    /// The hash of the complete subtree over hashes `start..start + count` of hash tile `index`
    /// at tile `level` (`count` a power of two, `start` a multiple of it), if the reader keeps
    /// it precomputed; `None` makes the caller compute it from [`TileReader::read_tile`]. The
    /// default keeps none. Like `read_tile`, it MUST only answer with hashes of the log.
    fn subtree_hash(&self, level: u8, index: u64, start: usize, count: usize) -> Option<Hash> {
        let _ = (level, index, start, count);
        None
    }
}

impl<T: TileReader + ?Sized> TileReader for &T {
    type Error = T::Error;

    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<HashTile, Self::Error> {
        (**self).read_tile(level, index, width)
    }

    fn subtree_hash(&self, level: u8, index: u64, start: usize, count: usize) -> Option<Hash> {
        (**self).subtree_hash(level, index, start, count)
    }
}

/// The [`HashReader`] of the tree of `tree_size` leaves, backed by a [`TileReader`].
///
/// Each [`read_hashes`](HashReader::read_hashes) call reads each tile it needs once, so an
/// inclusion proof in a tree of up to 2^64 leaves costs at most eight tile reads.
#[derive(Debug, Clone)]
pub struct TileHashReader<R> {
    tree_size: u64,
    reader: R,
    /// log2 of the tile width: [`crate::TILE_HEIGHT`] outside tests.
    height: u8,
}

/// Why a [`TileHashReader`] could not supply a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileHashReaderError<E> {
    /// A node that is not a complete subtree of the tree being read was requested.
    #[error(
        "node at level {} index {} is not a complete subtree of the tree of size {tree_size}",
        node.level,
        node.index
    )]
    NodeOutsideTree {
        /// The requested node.
        node: Node,
        /// The size of the tree being read.
        tree_size: u64,
    },
    /// The tile reader failed.
    #[error("couldn't read hash tile {index} at level {level} (width {width}): {source}")]
    Read {
        /// The tile level.
        level: u8,
        /// The tile index.
        index: u64,
        /// The width asked for.
        width: u16,
        /// The reader's error.
        source: E,
    },
    /// The tile reader returned a tile narrower than asked for.
    #[error("hash tile {index} at level {level} has {actual} hashes, fewer than the {width} asked")]
    ShortTile {
        /// The tile level.
        level: u8,
        /// The tile index.
        index: u64,
        /// The width asked for.
        width: u16,
        /// The width returned.
        actual: u16,
    },
}

/// Where a node's hash comes from: `count` hashes from `start` in one tile.
#[derive(Debug, Clone, Copy)]
struct Location {
    level: u8,
    index: u64,
    /// The tile's width in the tree being read.
    width: u16,
    start: usize,
    count: usize,
}

impl<R> TileHashReader<R> {
    /// A hash reader for the tree of `tree_size` leaves.
    ///
    /// `tree_size` MUST be a size the tiles behind `reader` cover (a checkpoint's size, or any
    /// earlier size); hashes are only read for nodes complete in that tree.
    pub const fn new(tree_size: u64, reader: R) -> Self {
        Self {
            tree_size,
            reader,
            height: crate::TILE_HEIGHT,
        }
    }

    /// Tiles of `2^height` hashes (1 to 8) instead of 256, so tests reach high tile levels with
    /// small trees. Path and tile parsing stay at height 8.
    #[cfg(test)]
    pub(crate) const fn with_height(tree_size: u64, reader: R, height: u8) -> Self {
        Self {
            tree_size,
            reader,
            height,
        }
    }

    /// The size of the tree this reader reads.
    pub const fn tree_size(&self) -> u64 {
        self.tree_size
    }

    /// The underlying tile reader.
    pub const fn reader(&self) -> &R {
        &self.reader
    }

    /// Returns the underlying tile reader.
    pub fn into_inner(self) -> R {
        self.reader
    }

    /// Finds the tile hashes a node's hash is computed from, or `None` if the node is not a
    /// complete subtree of the tree.
    fn locate(&self, node: Node) -> Option<Location> {
        // `end` fits u128 for every level below 64; a level of 64 or more spans no u64 tree.
        if node.level >= 64 {
            return None;
        }
        let end = (u128::from(node.index) + 1) << node.level;
        if end > u128::from(self.tree_size) {
            return None;
        }
        let level = node.level / self.height;
        let within = node.level % self.height;
        // `first << (level * height)` is the node's first leaf, below `tree_size`: no overflow.
        let first = node.index << within;
        let index = first >> self.height;
        let start = usize::try_from(first & ((1 << self.height) - 1)).ok()?;
        let width = width_at(self.height, level, index, self.tree_size)?;
        Some(Location {
            level,
            index,
            width,
            start,
            count: 1 << within,
        })
    }
}

impl<R: TileReader> HashReader for TileHashReader<R> {
    type Error = TileHashReaderError<R::Error>;

    fn read_hashes(&self, nodes: &[Node]) -> Result<Vec<Hash>, Self::Error> {
        let locations = nodes
            .iter()
            .map(|&node| {
                self.locate(node)
                    .ok_or(TileHashReaderError::NodeOutsideTree {
                        node,
                        tree_size: self.tree_size,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;

        // Precomputed subtrees first (full-height tiles only: the reader's pyramid is over
        // 256-hash tiles); tiles are read for the rest.
        let precomputed: Vec<Option<Hash>> = locations
            .iter()
            .map(|loc| {
                (self.height == crate::TILE_HEIGHT)
                    .then(|| {
                        self.reader
                            .subtree_hash(loc.level, loc.index, loc.start, loc.count)
                    })
                    .flatten()
            })
            .collect();
        let mut tiles: BTreeMap<(u8, u64), HashTile> = BTreeMap::new();
        for (loc, known) in locations.iter().zip(&precomputed) {
            if known.is_some() || tiles.contains_key(&(loc.level, loc.index)) {
                continue;
            }
            let tile = self
                .reader
                .read_tile(loc.level, loc.index, loc.width)
                .map_err(|source| TileHashReaderError::Read {
                    level: loc.level,
                    index: loc.index,
                    width: loc.width,
                    source,
                })?;
            if tile.width() < loc.width {
                return Err(TileHashReaderError::ShortTile {
                    level: loc.level,
                    index: loc.index,
                    width: loc.width,
                    actual: tile.width(),
                });
            }
            tiles.insert((loc.level, loc.index), tile);
        }

        locations
            .iter()
            .zip(precomputed)
            .map(|(loc, known)| {
                if let Some(hash) = known {
                    return Ok(hash);
                }
                // The node's hashes end within the tile's width in this tree, and the tile was
                // checked to be at least that wide; hashes past that width are ignored.
                let tile = tiles.get(&(loc.level, loc.index));
                let hashes = tile.and_then(|t| t.hashes().get(loc.start..loc.start + loc.count));
                hashes
                    .map(subtree_root)
                    .ok_or(TileHashReaderError::ShortTile {
                        level: loc.level,
                        index: loc.index,
                        width: loc.width,
                        actual: tile.map_or(0, HashTile::width),
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
