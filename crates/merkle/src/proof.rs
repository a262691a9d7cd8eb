//! Proof generation (RFC 9162 §2.1.3.1 `PATH`, §2.1.4.1 `PROOF`) over a [`HashReader`].
//!
//! Every hash a proof needs is the root of a range of leaves `[start, end)` that RFC 9162's
//! recursion produces. Such a range splits into complete subtrees (largest first), so a reader
//! only ever has to supply hashes of complete, immutable subtrees: exactly what tlog tiles store.

use crate::hash::{Hash, empty_root, node_hash};

/// A complete subtree: the `2^level` leaves `[index << level, (index + 1) << level)`.
///
/// Level 0 nodes are leaf hashes. The hash of a complete subtree never changes once the tree has
/// grown past it, which is what makes it cacheable and storable in tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    /// Height above the leaves; the subtree holds `2^level` leaves.
    pub level: u8,
    /// Position among the subtrees of this level, counted from the left.
    pub index: u64,
}

impl Node {
    /// The first leaf the subtree covers.
    pub const fn start(self) -> u64 {
        self.index << self.level
    }

    /// One past the last leaf the subtree covers.
    pub const fn end(self) -> u64 {
        (self.index + 1) << self.level
    }
}

/// A source of complete-subtree hashes, for example tiles in a store.
pub trait HashReader {
    /// The reader's own failure (I/O, a missing tile, ...).
    type Error;

    /// Returns the hashes of `nodes`, in the same order.
    ///
    /// Implementations MUST return exactly one hash per requested node and MUST NOT return a hash
    /// for a subtree that is not complete in the tree being proven; callers only ask for nodes
    /// whose `end()` is at most the tree size.
    ///
    /// # Errors
    ///
    /// Whatever the underlying source fails with.
    fn read_hashes(&self, nodes: &[Node]) -> Result<Vec<Hash>, Self::Error>;
}

/// Why a proof or root could not be produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProveError<E> {
    /// The reader returned a different number of hashes than were asked for.
    #[error("hash reader returned {got} hashes for {requested} nodes")]
    ReaderCount {
        /// Hashes requested.
        requested: usize,
        /// Hashes returned.
        got: usize,
    },
    /// The reader failed.
    #[error("couldn't read tree hashes: {0}")]
    Read(E),
    /// A consistency proof was asked from a larger to a smaller tree.
    #[error("consistency proof needs size1 <= size2, got {size1} > {size2}")]
    SizeOrder {
        /// The first (older) tree size.
        size1: u64,
        /// The second (newer) tree size.
        size2: u64,
    },
    /// An inclusion proof was asked for a leaf outside the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
}

/// The largest power of two strictly smaller than `n` (`n >= 2`), RFC 9162 §2.1.1's `k`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Decomposes the range `[start, end)` (as produced by RFC 9162 recursion, so `start` is aligned)
/// into complete subtrees, largest first.
fn push_range_nodes(start: u64, end: u64, out: &mut Vec<Node>) {
    let mut start = start;
    while start < end {
        let size = end - start;
        let level = if size.is_power_of_two() {
            size.trailing_zeros()
        } else {
            split_point(size).trailing_zeros()
        };
        // The level fits in u8: a u64 size has at most 63 trailing zeros.
        let level = level as u8;
        out.push(Node {
            level,
            index: start >> level,
        });
        start += 1 << level;
    }
}

/// Reads the hashes of all `ranges` in one reader call and folds each range into its root.
fn range_hashes<R: HashReader>(
    ranges: &[(u64, u64)],
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    let mut nodes = Vec::new();
    let mut counts = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges {
        let before = nodes.len();
        push_range_nodes(start, end, &mut nodes);
        counts.push(nodes.len() - before);
    }
    let hashes = reader.read_hashes(&nodes).map_err(ProveError::Read)?;
    if hashes.len() != nodes.len() {
        return Err(ProveError::ReaderCount {
            requested: nodes.len(),
            got: hashes.len(),
        });
    }
    let mut out = Vec::with_capacity(ranges.len());
    let mut rest = hashes.as_slice();
    for count in counts {
        let (range, tail) = rest.split_at(count);
        rest = tail;
        out.push(fold_right(range));
    }
    Ok(out)
}

/// Combines the roots of adjacent complete subtrees (largest first) into the range's root.
fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest.iter().rev().fold(*last, |acc, h| node_hash(h, &acc)),
    }
}

/// The root hash of the tree of `size` leaves (RFC 6962 §2.1 `MTH`).
///
/// # Errors
///
/// [`ProveError::Read`] if the reader fails.
pub fn tree_root<R: HashReader>(size: u64, reader: &R) -> Result<Hash, ProveError<R::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    Ok(range_hashes(&[(0, size)], reader)?.remove(0))
}

/// The Merkle tree hash of an in-memory list of leaf hashes (RFC 6962 §2.1 `MTH` over already
/// hashed leaves). Used to hash the subtrees inside a tile.
pub fn subtree_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&subtree_root(&leaves[..k]), &subtree_root(&leaves[k..]))
        }
    }
}

/// RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size`, leaf side first.
///
/// # Errors
///
/// [`ProveError::IndexOutOfRange`] if `index >= size`; [`ProveError::Read`] if the reader fails.
pub fn prove_inclusion<R: HashReader>(
    index: u64,
    size: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    if index >= size {
        return Err(ProveError::IndexOutOfRange { index, size });
    }
    range_hashes(&inclusion_ranges(index, size), reader)
}

/// The leaf ranges whose roots form the audit path of `index < size`, leaf side first.
pub(crate) fn inclusion_ranges(index: u64, size: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    let (mut lo, mut hi) = (0, size);
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
        }
    }
    ranges.reverse();
    ranges
}

/// RFC 9162 §2.1.4.1: the consistency proof from the tree of `size1` to the tree of `size2`.
///
/// The proof is empty when `size1 == size2` or `size1 == 0` (every tree extends the empty one).
///
/// # Errors
///
/// [`ProveError::SizeOrder`] if `size1 > size2`; [`ProveError::Read`] if the reader fails.
pub fn prove_consistency<R: HashReader>(
    size1: u64,
    size2: u64,
    reader: &R,
) -> Result<Vec<Hash>, ProveError<R::Error>> {
    if size1 > size2 {
        return Err(ProveError::SizeOrder { size1, size2 });
    }
    range_hashes(&consistency_ranges(size1, size2), reader)
}

/// The leaf ranges whose roots form the consistency proof from `size1` to `size2`
/// (`size1 <= size2`), in proof order; empty when `size1` is 0 or equal to `size2`.
pub(crate) fn consistency_ranges(size1: u64, size2: u64) -> Vec<(u64, u64)> {
    if size1 == 0 || size1 >= size2 {
        return Vec::new();
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled; `m` stays relative to `lo`.
    let mut ranges = Vec::new();
    let (mut lo, mut hi, mut m, mut whole_old_tree) = (0, size2, size1, true);
    loop {
        let n = hi - lo;
        if m == n {
            if !whole_old_tree {
                ranges.push((lo, hi));
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            ranges.push((lo + k, hi));
            hi = lo + k;
        } else {
            ranges.push((lo, lo + k));
            lo += k;
            m -= k;
            whole_old_tree = false;
        }
    }
    ranges.reverse();
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (1 << 40, 1 << 39),
        ] {
            assert_eq!(split_point(n), k, "n={n}");
        }
    }

    #[test]
    fn ranges_decompose_into_aligned_complete_subtrees() {
        let mut nodes = Vec::new();
        push_range_nodes(8, 15, &mut nodes);
        assert_eq!(
            nodes,
            [
                Node { level: 2, index: 2 },
                Node { level: 1, index: 6 },
                Node {
                    level: 0,
                    index: 14
                }
            ]
        );
    }
}
