//! SHA-256 (FIPS 180-4), the one hash every Sigstore and C2SP structure here uses, and SHA-384
//! and SHA-512 for digests that signature algorithms bind to (ECDSA P-384 and P-521).

use std::fmt;

use sha2::Digest as _;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// SHA-384 of `data`.
pub fn sha384(data: &[u8]) -> [u8; 48] {
    sha2::Sha384::digest(data).into()
}

/// SHA-512 of `data`.
pub fn sha512(data: &[u8]) -> [u8; 64] {
    sha2::Sha512::digest(data).into()
}

/// SHA-1 of `data` (FIPS 180-4), for legacy fingerprints only: gpgsm, and so git's
/// `gpg.x509.program` status lines, name certificates by it. Never use it for a signature or a
/// content digest.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(digest.as_ref());
    out
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
    fn sha1_known_answer() {
        // FIPS 180-4 example ("abc"), NIST CSRC SHA1.pdf.
        assert_eq!(
            hex::encode(sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn sha384_and_sha512_known_answers() {
        // FIPS 180-4 examples ("abc"), NIST CSRC SHA384.pdf and SHA512.pdf.
        assert_eq!(
            hex::encode(sha384(b"abc")),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7"
        );
        assert_eq!(
            hex::encode(sha512(b"abc")),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

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
