"""RFC 9162 Merkle tree hashing and proof verification, written from the RFC for the interop
tests. Nothing here comes from waxseal: it is the independent side of the comparison.

The ``reference_*`` generators are the RFC's recursive definitions, used only to self-test the
verifiers (they are never used to check the server).
"""

import hashlib


class VerifyError(Exception):
    """A verification failed. The verifiers raise only this, so a test that expects a
    rejection can tell it apart from a bug in the test."""


def check(cond, msg):
    if not cond:
        raise VerifyError(msg)


def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(entry):
    """RFC 9162 §2.1.1: MTH({d}) = SHA-256(0x00 || d)."""
    return sha256(b"\x00" + entry)


def node_hash(left, right):
    """RFC 9162 §2.1.1: SHA-256(0x01 || left || right)."""
    return sha256(b"\x01" + left + right)


def _split(n):
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def root_from_hashes(hashes):
    """MTH over a list of already-hashed leaves (or of the roots of equal, full, power-of-two
    subtrees, which the recursion treats the same way)."""
    n = len(hashes)
    check(n > 0, "the hash of an empty list is not used here")
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root_from_hashes(hashes[:k]), root_from_hashes(hashes[k:]))


def _lsb(x):
    return x & 1


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 §2.1.3.2. ``leaf`` is the leaf hash, ``path`` the audit path bottom-up."""
    check(isinstance(index, int) and isinstance(size, int), "index and size must be ints")
    check(0 <= index < size, f"leaf index {index} not below tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        check(len(p) == 32, "proof hash is not 32 bytes")
        check(sn != 0, "inclusion proof is too long")
        if _lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    check(sn == 0, "inclusion proof is too short")
    check(r == root, "inclusion proof does not lead to the root hash")


def verify_consistency(first, second, first_root, second_root, path):
    """RFC 9162 §2.1.4.2, plus the trivial first == second case (empty proof, equal roots)."""
    check(0 < first <= second, f"bad sizes {first}, {second}")
    if first == second:
        check(len(path) == 0, "proof between equal sizes must be empty")
        check(first_root == second_root, "roots of equal sizes differ")
        return
    check(len(path) > 0, "empty consistency proof")
    for p in path:
        check(len(p) == 32, "proof hash is not 32 bytes")
    path = list(path)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        check(sn != 0, "consistency proof is too long")
        if _lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    check(sn == 0, "consistency proof is too short")
    check(fr == first_root, "consistency proof does not lead to the first root")
    check(sr == second_root, "consistency proof does not lead to the second root")


def reference_inclusion_path(m, hashes):
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) over leaf hashes."""
    n = len(hashes)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return reference_inclusion_path(m, hashes[:k]) + [root_from_hashes(hashes[k:])]
    return reference_inclusion_path(m - k, hashes[k:]) + [root_from_hashes(hashes[:k])]


def reference_consistency_proof(m, hashes):
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""

    def subproof(m, d, b):
        n = len(d)
        if m == n:
            return [] if b else [root_from_hashes(d)]
        k = _split(n)
        if m <= k:
            return subproof(m, d[:k], b) + [root_from_hashes(d[k:])]
        return subproof(m - k, d[k:], False) + [root_from_hashes(d[:k])]

    return subproof(m, hashes, True)
