//! ../shared/vectors/merkle/rfc6962-8-leaves.json (computed facts; see that folder's README).

use serde::Deserialize;
use waxseal_merkle::{
    Hash, MemoryTree, empty_root, leaf_hash, verify_consistency, verify_inclusion,
};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/merkle/rfc6962-8-leaves.json"
);

#[derive(Deserialize)]
struct Vectors {
    empty_tree_root: String,
    leaves: Vec<Leaf>,
    roots: Vec<Root>,
    inclusion_proofs: Vec<Inclusion>,
    consistency_proofs: Vec<Consistency>,
}

#[derive(Deserialize)]
struct Leaf {
    data: String,
    leaf_hash: String,
}

#[derive(Deserialize)]
struct Root {
    size: u64,
    root: String,
}

#[derive(Deserialize)]
struct Inclusion {
    index: u64,
    size: u64,
    leaf_hash: String,
    root: String,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct Consistency {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Vec<String>,
}

fn load() -> Vectors {
    let text = std::fs::read_to_string(VECTORS).expect("shared vectors are beside the repo");
    serde_json::from_str(&text).expect("vector file parses")
}

fn h(text: &str) -> Hash {
    Hash::from_hex(text).expect("vector hash is hex")
}

fn hs(texts: &[String]) -> Vec<Hash> {
    texts.iter().map(|t| h(t)).collect()
}

fn flip(proof: &[Hash], at: usize) -> Vec<Hash> {
    let mut out = proof.to_vec();
    let mut bytes = *out[at].as_bytes();
    bytes[0] ^= 1;
    out[at] = Hash::from_bytes(bytes);
    out
}

fn tree(v: &Vectors) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in &v.leaves {
        tree.push(leaf_hash(&hex::decode(&leaf.data).expect("leaf hex")));
    }
    tree
}

#[test]
fn leaf_hashes_and_roots_match() {
    let v = load();
    assert_eq!(empty_root(), h(&v.empty_tree_root));
    for leaf in &v.leaves {
        let data = hex::decode(&leaf.data).expect("leaf hex");
        assert_eq!(leaf_hash(&data), h(&leaf.leaf_hash), "leaf {}", leaf.data);
    }
    let tree = tree(&v);
    assert_eq!(v.roots.len(), 8);
    for root in &v.roots {
        assert_eq!(
            tree.root_at(root.size).expect("size in tree"),
            h(&root.root),
            "size {}",
            root.size
        );
    }
}

#[test]
fn inclusion_proofs_generate_and_verify() {
    let v = load();
    let tree = tree(&v);
    assert_eq!(v.inclusion_proofs.len(), 36);
    for case in &v.inclusion_proofs {
        let name = format!("index {} size {}", case.index, case.size);
        let proof = hs(&case.proof);
        let (leaf, root) = (h(&case.leaf_hash), h(&case.root));
        assert_eq!(
            tree.prove_inclusion(case.index, case.size).expect(&name),
            proof,
            "{name}"
        );
        verify_inclusion(&leaf, case.index, case.size, &proof, &root).expect(&name);
        for at in 0..proof.len() {
            let bad = flip(&proof, at);
            assert!(
                verify_inclusion(&leaf, case.index, case.size, &bad, &root).is_err(),
                "{name} flip {at}"
            );
        }
        if case.size >= 2 {
            let other = (case.index + 1) % case.size;
            assert!(
                verify_inclusion(&leaf, other, case.size, &proof, &root).is_err(),
                "{name} wrong index"
            );
        }
        assert!(
            verify_inclusion(&leaf, case.size, case.size, &proof, &root).is_err(),
            "{name} index = size"
        );
    }
}

#[test]
fn consistency_proofs_generate_and_verify() {
    let v = load();
    let tree = tree(&v);
    assert_eq!(v.consistency_proofs.len(), 36);
    for case in &v.consistency_proofs {
        let name = format!("{} -> {}", case.size1, case.size2);
        let proof = hs(&case.proof);
        let (r1, r2) = (h(&case.root1), h(&case.root2));
        assert_eq!(
            tree.prove_consistency(case.size1, case.size2).expect(&name),
            proof,
            "{name}"
        );
        verify_consistency(case.size1, case.size2, &r1, &r2, &proof).expect(&name);
        for at in 0..proof.len() {
            let bad = flip(&proof, at);
            assert!(
                verify_consistency(case.size1, case.size2, &r1, &r2, &bad).is_err(),
                "{name} flip {at}"
            );
        }
        if case.size1 < case.size2 {
            assert!(
                verify_consistency(case.size2, case.size1, &r2, &r1, &proof).is_err(),
                "{name} reversed"
            );
            let mut short = proof.clone();
            short.pop();
            assert!(
                verify_consistency(case.size1, case.size2, &r1, &r2, &short).is_err(),
                "{name} short"
            );
        }
    }
}
