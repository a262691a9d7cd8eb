//! Proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).

use crate::hash::{Hash, node_hash};
use crate::proof::{consistency_ranges, inclusion_ranges};

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A consistency proof between equal sizes must be empty and the roots equal.
    #[error("trees of equal size {size} have different roots {root1} and {root2}")]
    EqualSizeRootsDiffer {
        /// The tree size.
        size: u64,
        /// The first root.
        root1: Hash,
        /// The second root.
        root2: Hash,
    },
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// The proof has more or fewer hashes than the tree shape requires.
    #[error("proof has {actual} hashes, the tree shape needs {expected}")]
    ProofLength {
        /// The number the shape requires.
        expected: usize,
        /// The number given.
        actual: usize,
    },
    /// The proof's hashes lead to a different root than the one claimed.
    #[error("proof leads to root {computed}, expected {expected}")]
    RootMismatch {
        /// The root the caller trusts.
        expected: Hash,
        /// The root the proof computes.
        computed: Hash,
    },
    /// A consistency proof from a larger to a smaller tree.
    #[error("consistency needs size1 <= size2, got {size1} > {size2}")]
    SizeOrder {
        /// The first (older) tree size.
        size1: u64,
        /// The second (newer) tree size.
        size2: u64,
    },
}

/// RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its audit path.
///
/// # Errors
///
/// [`Error::IndexOutOfRange`] or [`Error::ProofLength`] if the proof cannot belong to a tree of
/// `size`.
pub fn root_from_inclusion_proof(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, Error> {
    if index >= size {
        return Err(Error::IndexOutOfRange { index, size });
    }
    let expected = inclusion_ranges(index, size).len();
    if proof.len() != expected {
        return Err(Error::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(Error::ProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(Error::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    Ok(r)
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is at `index` in the tree of `size` with `root`.
///
/// # Errors
///
/// [`Error::RootMismatch`] if the proof leads elsewhere; see [`root_from_inclusion_proof`].
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), Error> {
    let computed = root_from_inclusion_proof(leaf, index, size, proof)?;
    if computed != *root {
        return Err(Error::RootMismatch {
            expected: *root,
            computed,
        });
    }
    Ok(())
}

/// RFC 9162 §2.1.4.2: checks that the tree of `size2` with `root2` extends the tree of `size1`
/// with `root1`.
///
/// A tree of size 0 is consistent with every tree when the proof is empty.
///
/// # Errors
///
/// [`Error::SizeOrder`], [`Error::ProofLength`], [`Error::EqualSizeRootsDiffer`] or
/// [`Error::RootMismatch`] (for either root).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), Error> {
    if size1 > size2 {
        return Err(Error::SizeOrder { size1, size2 });
    }
    if size1 == size2 || size1 == 0 {
        if !proof.is_empty() {
            return Err(Error::ProofLength {
                expected: 0,
                actual: proof.len(),
            });
        }
        if size1 == size2 && root1 != root2 {
            return Err(Error::EqualSizeRootsDiffer {
                size: size1,
                root1: *root1,
                root2: *root2,
            });
        }
        return Ok(());
    }
    let expected = consistency_ranges(size1, size2).len();
    if proof.len() != expected {
        return Err(Error::ProofLength {
            expected,
            actual: proof.len(),
        });
    }

    let seed;
    let path: Vec<&Hash> = if size1.is_power_of_two() {
        seed = *root1;
        std::iter::once(&seed).chain(proof.iter()).collect()
    } else {
        proof.iter().collect()
    };
    let (mut fn_, mut sn) = (size1 - 1, size2 - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*path[0], *path[0]);
    for c in &path[1..] {
        if sn == 0 {
            return Err(Error::ProofLength {
                expected,
                actual: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(Error::ProofLength {
            expected,
            actual: proof.len(),
        });
    }
    if fr != *root1 {
        return Err(Error::RootMismatch {
            expected: *root1,
            computed: fr,
        });
    }
    if sr != *root2 {
        return Err(Error::RootMismatch {
            expected: *root2,
            computed: sr,
        });
    }
    Ok(())
}
