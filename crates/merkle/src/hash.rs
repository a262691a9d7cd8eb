//! SHA-256 hashes and the RFC 6962 §2.1 domain-separated leaf and node hashes.

use std::fmt;

use sha2::{Digest, Sha256};

/// A SHA-256 Merkle tree hash: a leaf hash, an interior node hash or a tree root.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash([u8; Hash::LEN]);

impl Hash {
    /// The length of a hash in bytes.
    pub const LEN: usize = 32;

    /// Wraps 32 bytes as a hash.
    pub const fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        Self(bytes)
    }

    /// Copies a hash out of a slice.
    ///
    /// # Errors
    ///
    /// [`HashParseError::Length`] if `bytes` is not exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashParseError> {
        let array: [u8; Self::LEN] = bytes.try_into().map_err(|_| HashParseError::Length {
            actual: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// Parses 64 hex digits (either case).
    ///
    /// # Errors
    ///
    /// [`HashParseError::Hex`] if `text` is not hex, [`HashParseError::Length`] if it does not
    /// decode to 32 bytes.
    pub fn from_hex(text: &str) -> Result<Self, HashParseError> {
        let bytes = hex::decode(text).map_err(|e| HashParseError::Hex(e.to_string()))?;
        Self::from_slice(&bytes)
    }

    /// The hash's bytes.
    pub const fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.0
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Why bytes or text could not be read as a [`Hash`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashParseError {
    /// The input was not valid hex; carries the decoder's message.
    #[error("hash is not valid hex: {0}")]
    Hex(String),
    /// The input did not hold exactly 32 bytes.
    #[error("hash must be 32 bytes, got {actual}")]
    Length {
        /// The number of bytes found.
        actual: usize,
    },
}

/// RFC 6962 §2.1: the hash of an empty tree, `SHA-256()`.
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}

/// RFC 6962 §2.1: `MTH({d}) = SHA-256(0x00 || d)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// RFC 6962 §2.1: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 1 + 2 * Hash::LEN];
    buf[0] = 0x01;
    buf[1..=Hash::LEN].copy_from_slice(&left.0);
    buf[1 + Hash::LEN..].copy_from_slice(&right.0);
    Hash(Sha256::digest(buf).into())
}
