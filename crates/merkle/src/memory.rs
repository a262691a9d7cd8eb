//! An in-memory tree that stores every complete subtree hash: a reference [`HashReader`] for
//! tests and small trees.

use crate::hash::{Hash, node_hash};
use crate::proof::{self, HashReader, Node, ProveError};

/// A Merkle tree held in memory, level by level.
///
/// Memory grows with the tree (two hashes per leaf); the log engine uses tiles instead.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of [`Node`] `{ level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
}

/// A [`MemoryTree`] was asked for a subtree it does not hold (the requested size exceeds it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("subtree at level {} index {} is not complete in this tree", .0.level, .0.index)]
pub struct MissingNode(pub Node);

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash and every complete subtree it finishes.
    pub fn push(&mut self, leaf: Hash) {
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            let row = &self.levels[level];
            if row.len() % 2 == 1 {
                break;
            }
            hash = node_hash(&row[row.len() - 2], &row[row.len() - 1]);
            level += 1;
        }
    }

    /// The root of the current tree.
    pub fn root(&self) -> Hash {
        // Every complete subtree of the current tree is stored, so the read cannot miss.
        self.root_at(self.size()).unwrap_or_default()
    }

    /// The root of the tree at an earlier `size`.
    ///
    /// # Errors
    ///
    /// [`ProveError::Read`] if `size` exceeds the tree.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProveError<MissingNode>> {
        proof::tree_root(size, self)
    }

    /// The inclusion proof of `index` in the tree at `size`.
    ///
    /// # Errors
    ///
    /// [`ProveError::IndexOutOfRange`] if `index >= size`, [`ProveError::Read`] if `size`
    /// exceeds the tree.
    pub fn prove_inclusion(
        &self,
        index: u64,
        size: u64,
    ) -> Result<Vec<Hash>, ProveError<MissingNode>> {
        proof::prove_inclusion(index, size, self)
    }

    /// The consistency proof between two sizes of this tree.
    ///
    /// # Errors
    ///
    /// [`ProveError::SizeOrder`] if `size1 > size2`, [`ProveError::Read`] if `size2` exceeds
    /// the tree.
    pub fn prove_consistency(
        &self,
        size1: u64,
        size2: u64,
    ) -> Result<Vec<Hash>, ProveError<MissingNode>> {
        proof::prove_consistency(size1, size2, self)
    }
}

impl HashReader for MemoryTree {
    type Error = MissingNode;

    fn read_hashes(&self, nodes: &[Node]) -> Result<Vec<Hash>, MissingNode> {
        nodes
            .iter()
            .map(|n| {
                self.levels
                    .get(usize::from(n.level))
                    .and_then(|row| row.get(usize::try_from(n.index).ok()?))
                    .copied()
                    .ok_or(MissingNode(*n))
            })
            .collect()
    }
}
