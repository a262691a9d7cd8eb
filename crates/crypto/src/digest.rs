//! SHA-256 (FIPS 180-4), the one hash every Sigstore and C2SP structure here uses.

use std::fmt;

use sha2::Digest as _;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// An incremental SHA-256, for inputs that arrive in pieces.
#[derive(Clone, Default)]
pub struct Sha256(sha2::Sha256);

impl Sha256 {
    /// A fresh hash state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `data` into the hash.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Returns the digest of everything fed so far.
    pub fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sha256").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // FIPS 180-4 example vectors (NIST CSRC "Examples with intermediate values": SHA256.pdf).
    const CASES: &[(&str, &[u8], &str)] = &[
        (
            "empty",
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "abc",
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "two blocks",
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
    ];

    #[test]
    fn known_answers() {
        for (name, input, want) in CASES {
            assert_eq!(hex::encode(sha256(input)), *want, "{name}");
            let mut hasher = Sha256::new();
            for chunk in input.chunks(7) {
                hasher.update(chunk);
            }
            assert_eq!(hex::encode(hasher.finish()), *want, "{name} (incremental)");
        }
    }
}
