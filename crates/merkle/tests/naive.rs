//! Property tests: proofs from the tile-friendly generator equal a literal transcription of
//! RFC 9162 §2.1.1 (`MTH`), §2.1.3.1 (`PATH`) and §2.1.4.1 (`SUBPROOF`), and verify.

use proptest::prelude::*;
use waxseal_merkle::{
    Error, Hash, MemoryTree, leaf_hash, node_hash, root_from_inclusion_proof, verify_consistency,
    verify_inclusion,
};

fn k(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => waxseal_merkle::empty_root(),
        1 => d[0],
        n => node_hash(&mth(&d[..k(n)]), &mth(&d[k(n)..])),
    }
}

fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = k(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { Vec::new() } else { vec![mth(d)] };
    }
    let k = k(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
        .collect()
}

fn build(d: &[Hash]) -> MemoryTree {
    let mut t = MemoryTree::new();
    for h in d {
        t.push(*h);
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn inclusion_matches_rfc_recursion(size in 1usize..3000, seed in any::<u64>()) {
        let d = leaves(size);
        let tree = build(&d);
        let index = (seed % size as u64) as usize;
        let proof = tree.prove_inclusion(index as u64, size as u64).unwrap();
        prop_assert_eq!(&proof, &path(index, &d));
        let root = mth(&d);
        prop_assert_eq!(tree.root(), root);
        verify_inclusion(&d[index], index as u64, size as u64, &proof, &root).unwrap();
        // An extra hash or a missing one never verifies.
        let mut long = proof.clone();
        long.push(root);
        let is_length_error = matches!(
            root_from_inclusion_proof(&d[index], index as u64, size as u64, &long),
            Err(Error::ProofLength { .. })
        );
        prop_assert!(is_length_error);
    }

    #[test]
    fn inclusion_at_older_sizes(size in 2usize..2000, a in any::<u64>(), b in any::<u64>()) {
        let d = leaves(size);
        let tree = build(&d);
        let old = 1 + (a % size as u64) as usize;
        let index = (b % old as u64) as usize;
        let proof = tree.prove_inclusion(index as u64, old as u64).unwrap();
        prop_assert_eq!(&proof, &path(index, &d[..old]));
        verify_inclusion(&d[index], index as u64, old as u64, &proof, &mth(&d[..old])).unwrap();
    }

    #[test]
    fn consistency_matches_rfc_recursion(size2 in 1usize..3000, a in any::<u64>()) {
        let d = leaves(size2);
        let tree = build(&d);
        let size1 = 1 + (a % size2 as u64) as usize;
        let proof = tree.prove_consistency(size1 as u64, size2 as u64).unwrap();
        let expected = if size1 == size2 { Vec::new() } else { subproof(size1, &d, true) };
        prop_assert_eq!(&proof, &expected);
        let (r1, r2) = (mth(&d[..size1]), mth(&d));
        verify_consistency(size1 as u64, size2 as u64, &r1, &r2, &proof).unwrap();
        if size1 < size2 {
            // A root from a different tree of the same size must not verify.
            let forged = leaf_hash(b"forged");
            prop_assert!(verify_consistency(size1 as u64, size2 as u64, &forged, &r2, &proof).is_err());
            prop_assert!(verify_consistency(size1 as u64, size2 as u64, &r1, &forged, &proof).is_err());
        }
    }

    #[test]
    fn verifiers_never_panic(
        index in any::<u64>(), size in any::<u64>(), size2 in any::<u64>(),
        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70),
    ) {
        let proof: Vec<Hash> = proof.into_iter().map(Hash::from_bytes).collect();
        let h = leaf_hash(b"x");
        let _ = verify_inclusion(&h, index, size, &proof, &h);
        let _ = verify_consistency(size, size2, &h, &h, &proof);
    }
}
