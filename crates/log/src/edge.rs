//! The right edge of the tree: the last hash tile of every level and the last entry bundle.
//!
//! That is all the sequencer keeps in memory, so memory stays bounded (at most 64 levels of
//! 8 KiB tiles plus one bundle of up to 256 entries) however large the log grows.

use waxseal_merkle::{Hash, subtree_root};
use waxseal_tiles::{HashTile, TILE_WIDTH, TileHashReader, TileReader};

use crate::error::StoreError;
use crate::format::{EntryFormat, Sealed};
use crate::store::{Integration, Store};

const WIDTH: usize = TILE_WIDTH as usize;

#[derive(Debug, Clone, Default)]
struct Level {
    /// Hashes ever added at this level (`size >> (8 * level)`).
    count: u64,
    /// The hashes of the last tile of the level: 1..=256 of them, empty while `count` is 0.
    tile: Vec<Hash>,
    /// The last tile changed since the last [`Edge::append`] emitted it.
    dirty: bool,
}

impl Level {
    fn tile_index(&self) -> u64 {
        (self.count - 1) / TILE_WIDTH
    }
}

/// The in-memory right edge of a tree of `size` leaves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Edge {
    size: u64,
    levels: Vec<Level>,
    /// The last entry bundle, encoded; `bundle_len` entries (0..=256).
    bundle: Vec<u8>,
    bundle_len: usize,
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt { what }
}

impl Edge {
    /// Reads the edge of the stored tree of `size` leaves, whose bundles `format` splits. The
    /// stored tree must have exactly `size` leaves.
    pub(crate) fn load(
        store: &dyn Store,
        format: &dyn EntryFormat,
        size: u64,
    ) -> Result<Self, StoreError> {
        Self::load_at(store, format, size, true)
    }

    /// Like [`Edge::load`]; unless `exact`, the stored tree may be larger (integrated beyond a
    /// published checkpoint of `size`) and its wider tiles and bundles are cut to `size`.
    pub(crate) fn load_at(
        store: &dyn Store,
        format: &dyn EntryFormat,
        size: u64,
        exact: bool,
    ) -> Result<Self, StoreError> {
        let mut edge = Self {
            size,
            ..Self::default()
        };
        let mut level = 0u8;
        loop {
            let count = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
            if count == 0 {
                break;
            }
            let index = (count - 1) / TILE_WIDTH;
            let width = (count - index * TILE_WIDTH) as usize;
            let bytes = store.read_tile(level, index)?.ok_or_else(|| {
                corrupt(format!(
                    "tile {level}/{index} of a tree of {size} is missing"
                ))
            })?;
            let tile = HashTile::parse(&bytes)
                .map_err(|e| corrupt(format!("tile {level}/{index}: {e}")))?;
            let tile = if !exact && tile.hashes().len() > width {
                tile.truncated(width as u16)
                    .map_err(|e| corrupt(format!("tile {level}/{index}: {e}")))?
            } else {
                tile
            };
            if tile.hashes().len() != width {
                return Err(corrupt(format!(
                    "tile {level}/{index} has {} hashes, a tree of {size} needs {width}",
                    tile.hashes().len()
                )));
            }
            edge.levels.push(Level {
                count,
                tile: tile.hashes().to_vec(),
                dirty: false,
            });
            level += 1;
        }
        if size > 0 {
            let index = (size - 1) / TILE_WIDTH;
            let width = (size - index * TILE_WIDTH) as usize;
            let bytes = store.read_bundle(index)?.ok_or_else(|| {
                corrupt(format!(
                    "entry bundle {index} of a tree of {size} is missing"
                ))
            })?;
            let ranges = format
                .split(&bytes)
                .map_err(|e| corrupt(format!("entry bundle {index}: {e}")))?;
            let mut bytes = bytes;
            let mut entries = ranges.len();
            if !exact && entries > width {
                // As `SplitBundle::truncated`: a bundle of `width` entries ends where entry
                // `width - 1` does.
                bytes.truncate(ranges[width - 1].end);
                entries = width;
            }
            if entries != width {
                return Err(corrupt(format!(
                    "entry bundle {index} has {entries} entries, a tree of {size} needs {width}"
                )));
            }
            edge.bundle = bytes;
            edge.bundle_len = width;
        }
        Ok(edge)
    }

    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Appends sealed entries, recording in `out` every tile and bundle that changed.
    pub(crate) fn append(&mut self, entries: Vec<Sealed>, out: &mut Integration) {
        let mut bundle_dirty = false;
        for entry in entries {
            if self.bundle_len == WIDTH {
                self.bundle.clear();
                self.bundle_len = 0;
            }
            self.bundle.extend_from_slice(&entry.bytes);
            self.bundle_len += 1;
            self.size += 1;
            bundle_dirty = true;
            if self.bundle_len == WIDTH {
                out.bundles
                    .push(((self.size - 1) / TILE_WIDTH, self.bundle.clone()));
                bundle_dirty = false;
            }
            self.push_hash(0, entry.leaf, out);
        }
        if bundle_dirty {
            out.bundles
                .push(((self.size - 1) / TILE_WIDTH, self.bundle.clone()));
        }
        for (level, l) in self.levels.iter_mut().enumerate() {
            if l.dirty {
                out.tiles
                    .push((level as u8, l.tile_index(), encode(&l.tile)));
                l.dirty = false;
            }
        }
        out.size = self.size;
    }

    fn push_hash(&mut self, level: usize, hash: Hash, out: &mut Integration) {
        let mut level = level;
        let mut hash = hash;
        loop {
            if self.levels.len() == level {
                self.levels.push(Level::default());
            }
            let l = &mut self.levels[level];
            if l.tile.len() == WIDTH {
                l.tile.clear();
            }
            l.tile.push(hash);
            l.count += 1;
            if l.tile.len() < WIDTH {
                l.dirty = true;
                return;
            }
            // A full tile is final: write it now and carry its root one tile level up.
            out.tiles
                .push((level as u8, l.tile_index(), encode(&l.tile)));
            l.dirty = false;
            hash = subtree_root(&l.tile);
            level += 1;
        }
    }

    /// The last tile of every level, as `(level, index, tile)`.
    pub(crate) fn tiles(&self) -> Vec<(u8, u64, HashTile)> {
        self.levels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.count > 0)
            .filter_map(|(level, l)| {
                let tile = HashTile::from_hashes(l.tile.clone()).ok()?;
                Some((level as u8, l.tile_index(), tile))
            })
            .collect()
    }

    /// The root of the tree the edge describes.
    ///
    /// Every node of the root's decomposition lies in the last tile of its level, so an error
    /// here means the edge itself is inconsistent.
    pub(crate) fn root(&self) -> Result<Hash, StoreError> {
        let reader = TileHashReader::new(self.size, self);
        waxseal_merkle::tree_root(self.size, &reader)
            .map_err(|e| corrupt(format!("tree edge of size {}: {e}", self.size)))
    }
}

fn encode(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| *h.as_bytes()).collect()
}

/// Reads come only from the edge; a request outside it means a bug and yields an error.
#[derive(Debug, thiserror::Error)]
#[error("tile {level}/{index} is not on the right edge")]
pub(crate) struct OffEdge {
    level: u8,
    index: u64,
}

impl TileReader for Edge {
    type Error = OffEdge;

    fn read_tile(&self, level: u8, index: u64, _width: u16) -> Result<HashTile, OffEdge> {
        self.levels
            .get(usize::from(level))
            .filter(|l| l.count > 0 && l.tile_index() == index)
            .and_then(|l| HashTile::from_hashes(l.tile.clone()).ok())
            .ok_or(OffEdge { level, index })
    }
}
