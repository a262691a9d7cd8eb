//! Merkle tree math of RFC 6962 §2.1 as restated by RFC 9162 §2.1: leaf and node hashing, tree
//! heads, and inclusion and consistency proofs, both generated and verified.
//!
//! This crate is pure: it does no I/O and knows nothing about storage. Proof *generation* asks a
//! [`HashReader`] for the hashes of complete subtrees ([`Node`]s); the `waxseal-tiles` crate
//! implements that reader over C2SP tlog tiles, and [`MemoryTree`] implements it in memory.
//! Checkpoints (signed tree heads) live in `waxseal-note`.
//!
//! ```
//! use waxseal_merkle::{leaf_hash, verify_inclusion, MemoryTree};
//!
//! let mut tree = MemoryTree::new();
//! for entry in [&b"a"[..], b"b", b"c"] {
//!     tree.push(leaf_hash(entry));
//! }
//! let root = tree.root();
//! let proof = tree.prove_inclusion(1, 3).expect("index 1 is in a tree of 3");
//! verify_inclusion(&leaf_hash(b"b"), 1, 3, &proof, &root).expect("proof verifies");
//! ```

mod hash;
mod memory;
mod proof;
mod verify;

pub use hash::{Hash, HashParseError, empty_root, leaf_hash, node_hash};
pub use memory::{MemoryTree, MissingNode};
pub use proof::{
    HashReader, Node, ProveError, prove_consistency, prove_inclusion, subtree_root, tree_root,
};
pub use verify::{Error, root_from_inclusion_proof, verify_consistency, verify_inclusion};
