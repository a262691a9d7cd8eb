//! The [C2SP tlog-tiles] formats: tile paths, hash tiles and entry bundles, plus a
//! [`waxseal_merkle::HashReader`] that serves proofs from hash tiles.
//!
//! Implemented sections of tlog-tiles:
//!
//! - "Merkle Tree": [`TilePath`] (`tile/<L>/<N>[.p/<W>]`, with [`encode_index`] and
//!   [`parse_index`] for `<N>`), [`HashTile`], and [`tile_width_at`] for "Partial Tiles".
//! - "Log entries": [`TilePath::Entries`] (`tile/entries/<N>[.p/<W>]`), [`EntryBundle`] and
//!   [`bundle_width_at`].
//! - The tile-to-tree mapping ("The Merkle Tree levels between those expressed by the tile hashes
//!   are reconstructed by hashing the leaves"): [`TileHashReader`] over a [`TileReader`].
//!
//! Parsers accept exactly one encoding of each resource and reject everything else with a
//! typed [`Error`]; no input reaches a panic.
//!
//! This crate does **not** store, fetch or serve anything: it has no I/O, no HTTP and no
//! clock. The log engine (`waxseal-log`) stores tiles and bundles and implements [`TileReader`]
//! over its store; the server (`waxseal-server`) maps paths to HTTP and sets caching headers;
//! clients fetch. Checkpoints, the signed tree heads that make tiles trustworthy, are in
//! `waxseal-note`; Merkle hashing and proofs are in `waxseal-merkle`. Pruning ("minimum index")
//! is a log policy and not modelled here.
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use waxseal_merkle::{MemoryTree, leaf_hash, tree_root};
//! use waxseal_tiles::{HashTile, TileHashReader, TilePath, TileReader, tile_width_at};
//!
//! // Paths have one canonical form.
//! let path = TilePath::parse("tile/0/x001/x234/067.p/8")?;
//! assert_eq!(path, TilePath::Hash { level: 0, index: 1_234_067, width: 8 });
//! assert_eq!(path.to_string(), "tile/0/x001/x234/067.p/8");
//! assert!(TilePath::parse("tile/0/x000/001").is_err());
//!
//! // A tree of 3 leaves is one partial level 0 tile of width 3.
//! let leaves: Vec<_> = [&b"a"[..], b"b", b"c"].iter().map(|e| leaf_hash(e)).collect();
//! assert_eq!(tile_width_at(0, 0, 3), Some(3));
//! let tile = HashTile::from_hashes(leaves.clone())?;
//!
//! // A store of tiles, keyed by (level, index); the log engine keeps them in storage.
//! struct Store(BTreeMap<(u8, u64), HashTile>);
//! impl TileReader for Store {
//!     type Error = std::io::Error;
//!     fn read_tile(&self, level: u8, index: u64, _: u16) -> Result<HashTile, Self::Error> {
//!         let missing = || std::io::Error::other(format!("no tile {level}/{index}"));
//!         self.0.get(&(level, index)).cloned().ok_or_else(missing)
//!     }
//! }
//! let store = Store(BTreeMap::from([((0, 0), HashTile::parse_with_width(&tile.to_bytes(), 3)?)]));
//!
//! // Roots and proofs read through tiles equal those of the whole tree.
//! let mut tree = MemoryTree::new();
//! leaves.iter().for_each(|leaf| tree.push(*leaf));
//! assert_eq!(tree_root(3, &TileHashReader::new(3, &store))?, tree.root());
//! // An older tree reads the same (wider) tile.
//! assert_eq!(tree_root(2, &TileHashReader::new(2, &store))?, tree.root_at(2)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [C2SP tlog-tiles]: https://c2sp.org/tlog-tiles

mod bundle;
mod error;
mod path;
mod reader;
mod tile;

pub use bundle::{EntryBundle, bundle_width_at};
pub use error::Error;
pub use path::{TilePath, encode_index, parse_index};
pub use reader::{TileHashReader, TileHashReaderError, TileReader};
pub use tile::{HashTile, tile_width_at};

/// The height of a tile in tree levels: a tile holds one tree level, and the 8 levels above it
/// are recomputed from its hashes.
pub const TILE_HEIGHT: u8 = 8;

/// The number of hashes in a full hash tile, and of entries in a full entry bundle (`2^8`).
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
