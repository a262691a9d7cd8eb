//! The tile hash reader against [`MemoryTree`]: roots and proofs read through tiles equal those
//! read from every stored subtree, at the tiles' tree size and at every older size.

use std::cell::RefCell;
use std::collections::BTreeMap;

use proptest::prelude::*;
use waxseal_merkle::{MemoryTree, leaf_hash, prove_consistency, prove_inclusion, tree_root};

use super::*;

/// Tiles in memory, as a log would store them after publishing the tree they were built from.
#[derive(Debug, Default)]
struct StoredTiles {
    tiles: BTreeMap<(u8, u64), HashTile>,
    /// Return exactly the width asked for, instead of the widest tile stored.
    exact: bool,
    /// Every `read_tile` call, in order.
    reads: RefCell<Vec<(u8, u64, u16)>>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("no tile {index} at level {level}")]
struct MissingTile {
    level: u8,
    index: u64,
}

impl TileReader for StoredTiles {
    type Error = MissingTile;

    fn read_tile(&self, level: u8, index: u64, width: u16) -> Result<HashTile, MissingTile> {
        self.reads.borrow_mut().push((level, index, width));
        let tile = self
            .tiles
            .get(&(level, index))
            .ok_or(MissingTile { level, index })?;
        if self.exact {
            // A too-wide request is the reader's failure to find the tile, not a panic.
            return tile
                .truncated(width)
                .map_err(|_| MissingTile { level, index });
        }
        Ok(tile.clone())
    }
}

fn memory_tree(size: u64) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..size {
        tree.push(leaf_hash(&i.to_be_bytes()));
    }
    tree
}

/// Every tile of `tree` with tiles of `2^height` hashes: full tiles and the partial tile at each
/// level, read from the tree's stored subtrees.
fn tiles_of(tree: &MemoryTree, height: u8) -> StoredTiles {
    let size = tree.size();
    let tile_width = 1u64 << height;
    let mut tiles = BTreeMap::new();
    for level in 0u8.. {
        let tree_level = u32::from(level) * u32::from(height);
        if tree_level >= 64 || size >> tree_level == 0 {
            break;
        }
        for index in 0.. {
            let Some(width) = width_at(height, level, index, size) else {
                break;
            };
            let nodes: Vec<Node> = (0..u64::from(width))
                .map(|j| Node {
                    level: u8::try_from(tree_level).expect("below 64"),
                    index: index * tile_width + j,
                })
                .collect();
            let hashes = tree
                .read_hashes(&nodes)
                .expect("complete subtrees are stored");
            tiles.insert(
                (level, index),
                HashTile::from_hashes(hashes).expect("1..=256 hashes"),
            );
        }
    }
    StoredTiles {
        tiles,
        ..StoredTiles::default()
    }
}

/// Checks root, inclusion and consistency proofs at `size` (at most the tiles' tree size)
/// against the memory tree.
fn check_size(tree: &MemoryTree, tiles: &StoredTiles, height: u8, size: u64, index: u64, old: u64) {
    let reader = TileHashReader::with_height(size, tiles, height);
    let ctx = format!(
        "height {height} tree {} size {size} index {index} old {old}",
        tree.size()
    );
    assert_eq!(
        tree_root(size, &reader).expect("root through tiles"),
        tree.root_at(size).expect("root in memory"),
        "{ctx}"
    );
    if index < size {
        assert_eq!(
            prove_inclusion(index, size, &reader).expect("inclusion through tiles"),
            tree.prove_inclusion(index, size)
                .expect("inclusion in memory"),
            "{ctx}"
        );
    }
    if old <= size {
        assert_eq!(
            prove_consistency(old, size, &reader).expect("consistency through tiles"),
            tree.prove_consistency(old, size)
                .expect("consistency in memory"),
            "{ctx}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn tile_proofs_equal_memory_proofs(
        height in 1u8..=8,
        tree_size in 1u64..3000,
        size_frac in 0.0f64..=1.0,
        index_frac in 0.0f64..1.0,
        old_frac in 0.0f64..=1.0,
        exact in any::<bool>(),
    ) {
        let tree = memory_tree(tree_size);
        let mut tiles = tiles_of(&tree, height);
        tiles.exact = exact;
        // An older size reads tiles wider than its own (truncated unless `exact`).
        let size = ((tree_size as f64 * size_frac) as u64).clamp(1, tree_size);
        let index = (size as f64 * index_frac) as u64;
        let old = (size as f64 * old_frac) as u64;
        for size in [tree_size, size] {
            check_size(&tree, &tiles, height, size, index.min(size - 1), old.min(size));
        }
    }
}

#[test]
fn small_trees_at_every_size_and_height() {
    let tree = memory_tree(70);
    for height in 1..=8 {
        let tiles = tiles_of(&tree, height);
        for size in 0..=70u64 {
            for index in [0, size / 3, size.saturating_sub(1)] {
                check_size(&tree, &tiles, height, size, index, size / 2);
            }
        }
    }
}

/// tlog-tiles' own example size: 273 full level 0 tiles, a partial of width 112, one full level 1
/// tile, a partial level 1 tile of width 17, and a partial level 2 tile of width 1.
#[test]
fn spec_example_tree_of_70000_through_256_wide_tiles() {
    let tree = memory_tree(70_000);
    let tiles = tiles_of(&tree, crate::TILE_HEIGHT);
    let widths: Vec<(u8, u64, u16)> = tiles
        .tiles
        .iter()
        .map(|(&(l, i), t)| (l, i, t.width()))
        .collect();
    assert_eq!(widths.len(), 274 + 2 + 1);
    assert!(widths[..273].iter().all(|&(l, _, w)| l == 0 && w == 256));
    assert_eq!(
        widths[273..],
        [(0, 273, 112), (1, 0, 256), (1, 1, 17), (2, 0, 1)]
    );

    for size in [70_000, 69_999, 65_537, 65_536, 65_535, 257, 256, 255, 1] {
        for index in [0, 255, 256, 65_535, 65_536, size - 1] {
            check_size(&tree, &tiles, crate::TILE_HEIGHT, size, index, 1);
            check_size(&tree, &tiles, crate::TILE_HEIGHT, size, index, size / 2);
            check_size(
                &tree,
                &tiles,
                crate::TILE_HEIGHT,
                size,
                index,
                65_536.min(size),
            );
        }
    }
    // The public constructor uses the same 256-wide tiles.
    let reader = TileHashReader::new(70_000, &tiles);
    assert_eq!(tree_root(70_000, &reader), Ok(tree.root()));
}

#[test]
fn reads_each_tile_once_per_call() {
    let tree = memory_tree(40);
    let tiles = tiles_of(&tree, 2);
    let reader = TileHashReader::with_height(40, &tiles, 2);
    // Nodes at levels 0 and 1 of the same level 0 tile, and at levels 2 and 3 of one level 1
    // tile, each requested twice.
    let nodes = [
        Node { level: 0, index: 5 },
        Node { level: 1, index: 3 },
        Node { level: 2, index: 2 },
        Node { level: 3, index: 0 },
        Node { level: 0, index: 5 },
        Node { level: 3, index: 0 },
    ];
    let hashes = reader.read_hashes(&nodes).expect("complete nodes");
    assert_eq!(hashes, tree.read_hashes(&nodes).expect("complete nodes"));
    assert_eq!(*tiles.reads.borrow(), [(0, 1, 4), (1, 0, 4)]);
}

#[test]
fn rejects_nodes_outside_the_tree() {
    let tree = memory_tree(300);
    let tiles = tiles_of(&tree, crate::TILE_HEIGHT);
    let reader = TileHashReader::new(300, &tiles);
    for node in [
        Node {
            level: 0,
            index: 300,
        },
        Node {
            level: 2,
            index: 75,
        },
        Node { level: 9, index: 0 },
        Node {
            level: 63,
            index: 1,
        },
        Node {
            level: 64,
            index: 0,
        },
        Node {
            level: 255,
            index: u64::MAX,
        },
        Node {
            level: 0,
            index: u64::MAX,
        },
    ] {
        assert_eq!(
            reader.read_hashes(&[node]),
            Err(TileHashReaderError::NodeOutsideTree {
                node,
                tree_size: 300
            }),
            "{node:?}"
        );
    }
    assert!(
        tiles.reads.borrow().is_empty(),
        "no tile is read for a bad request"
    );
}

#[test]
fn reports_short_tiles_and_reader_failures() {
    let tree = memory_tree(300);
    let mut tiles = tiles_of(&tree, crate::TILE_HEIGHT);
    let short = tiles.tiles[&(0, 1)].truncated(10).expect("44 hashes");
    tiles.tiles.insert((0, 1), short);
    tiles.tiles.remove(&(1, 0));
    let reader = TileHashReader::new(300, &tiles);
    assert_eq!(
        reader.read_hashes(&[Node {
            level: 0,
            index: 256
        }]),
        Err(TileHashReaderError::ShortTile {
            level: 0,
            index: 1,
            width: 44,
            actual: 10
        })
    );
    assert_eq!(
        reader.read_hashes(&[Node { level: 8, index: 0 }]),
        Err(TileHashReaderError::Read {
            level: 1,
            index: 0,
            width: 1,
            source: MissingTile { level: 1, index: 0 },
        })
    );
}

#[test]
fn empty_request_reads_nothing() {
    let tiles = StoredTiles::default();
    let reader = TileHashReader::new(0, &tiles);
    assert_eq!(reader.read_hashes(&[]), Ok(Vec::new()));
    assert_eq!(tree_root(0, &reader), Ok(waxseal_merkle::empty_root()));
    assert!(tiles.reads.borrow().is_empty());
}
