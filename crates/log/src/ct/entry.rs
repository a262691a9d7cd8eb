//! The static-ct-api entry encodings (pure: bytes in, bytes out): RFC 6962 §3.4
//! `TimestampedEntry` and `MerkleTreeLeaf`, C2SP static-ct-api `TileLeaf`, and the
//! [`EntryFormat`] that seals a submitted chain into a `TileLeaf` at its index and time.
//!
//! ```text
//! TimestampedEntry: uint64 timestamp || uint16 entry_type ||
//!     x509_entry:    ASN.1Cert (opaque<1..2^24-1>)
//!     precert_entry: opaque issuer_key_hash[32] || TBSCertificate (opaque<1..2^24-1>)
//!   || CtExtensions (opaque<0..2^16-1>)
//! MerkleTreeLeaf: version v1 (0) || leaf_type timestamped_entry (0) || TimestampedEntry
//! TileLeaf: TimestampedEntry || [precert_entry: ASN.1Cert pre_certificate]
//!   || Fingerprint certificate_chain<0..2^16-1>   (SHA-256 of each issuer's DER)
//! ```
//!
//! What the engine is *submitted* for a chain (internal to this crate, never served) is the
//! `TileLeaf` without the timestamp and extensions; its deduplication key covers the
//! `signed_entry` only, so a chain resubmitted with other intermediates gets its SCT back.

use std::ops::Range;

use waxseal_merkle::{Hash, leaf_hash};
use waxseal_x509::{CheckedCtChain, CtSignedEntry, leaf_index_extension};

use crate::format::{EntryFormat, FormatError, Sealed, Unsealed};

const FORMAT: &str = "static-ct-api";
const X509_ENTRY: u16 = 0;
const PRECERT_ENTRY: u16 = 1;
const MAX_U24: usize = (1 << 24) - 1;

/// One entry of a static-ct-api data tile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TileLeaf {
    /// The `TimestampedEntry` timestamp: when the entry was sequenced, ms since the epoch; the
    /// SCT's timestamp.
    pub timestamp: u64,
    /// The `signed_entry`.
    pub entry: CtSignedEntry,
    /// The raw `CtExtensions` (the static-ct-api `leaf_index`).
    pub extensions: Vec<u8>,
    /// The submitted precertificate, DER (`precert_entry` only).
    pub pre_certificate: Option<Vec<u8>>,
    /// SHA-256 of each issuer in the submitted chain, up to the root.
    pub certificate_chain: Vec<[u8; 32]>,
}

impl TileLeaf {
    /// The RFC 6962 §3.4 `TimestampedEntry` encoding.
    pub fn timestamped_entry(&self) -> Vec<u8> {
        let mut out = self.timestamp.to_be_bytes().to_vec();
        push_signed_entry(&mut out, &self.entry);
        push_u16_len(&mut out, &self.extensions);
        out
    }

    /// The RFC 6962 §3.4 `MerkleTreeLeaf` encoding, whose leaf hash is the entry's tree leaf.
    pub fn merkle_tree_leaf(&self) -> Vec<u8> {
        let mut out = vec![0, 0];
        out.extend_from_slice(&self.timestamped_entry());
        out
    }

    /// The RFC 6962 leaf hash, `SHA-256(0x00 || MerkleTreeLeaf)`.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.merkle_tree_leaf())
    }

    /// The static-ct-api `leaf_index` the extensions carry, if any.
    ///
    /// # Errors
    ///
    /// [`FormatError::MalformedBundle`] if the extensions are not a static-ct-api list.
    pub fn leaf_index(&self) -> Result<Option<u64>, FormatError> {
        let mut r = Reader(&self.extensions);
        while !r.0.is_empty() {
            let kind = r.u8()?;
            let data = r.vec16()?;
            if kind == 0 {
                let bytes: [u8; 5] = data
                    .try_into()
                    .map_err(|_| malformed("leaf_index is not 5 bytes"))?;
                let mut wide = [0u8; 8];
                wide[3..].copy_from_slice(&bytes);
                return Ok(Some(u64::from_be_bytes(wide)));
            }
        }
        Ok(None)
    }

    /// The `TileLeaf` encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.timestamped_entry();
        push_tail(
            &mut out,
            self.pre_certificate.as_deref(),
            &self.certificate_chain,
        );
        out
    }

    /// Parses one `TileLeaf` from the front of `bytes`; returns it and its length.
    ///
    /// # Errors
    ///
    /// [`FormatError::MalformedBundle`] naming what does not parse.
    pub fn parse_prefix(bytes: &[u8]) -> Result<(Self, usize), FormatError> {
        let mut r = Reader(bytes);
        let timestamp = u64::from_be_bytes(r.array::<8>()?);
        let entry = r.signed_entry()?;
        let extensions = r.vec16()?.to_vec();
        let (pre_certificate, certificate_chain) = r.tail(&entry)?;
        let len = bytes.len() - r.0.len();
        Ok((
            Self {
                timestamp,
                entry,
                extensions,
                pre_certificate,
                certificate_chain,
            },
            len,
        ))
    }

    /// The deduplication key of this entry: the same as its submission's.
    fn key(&self) -> Hash {
        dedup_key(&self.entry)
    }
}

/// Parses a whole data tile into its `TileLeaf`s.
///
/// # Errors
///
/// [`FormatError::MalformedBundle`] if any entry does not parse.
pub fn parse_data_tile(mut bytes: &[u8]) -> Result<Vec<TileLeaf>, FormatError> {
    let mut leaves = Vec::new();
    while !bytes.is_empty() {
        let (leaf, len) = TileLeaf::parse_prefix(bytes)?;
        leaves.push(leaf);
        bytes = &bytes[len..];
    }
    Ok(leaves)
}

/// The bytes submitted to the engine for a checked chain.
pub(crate) fn submission(chain: &CheckedCtChain) -> Vec<u8> {
    let mut out = Vec::new();
    push_signed_entry(&mut out, chain.signed_entry());
    let fingerprints: Vec<[u8; 32]> = chain
        .issuers()
        .iter()
        .map(|der| waxseal_crypto::sha256(der))
        .collect();
    let pre_certificate = match chain.signed_entry() {
        CtSignedEntry::Precert { .. } => Some(chain.leaf()),
        _ => None,
    };
    push_tail(&mut out, pre_certificate, &fingerprints);
    out
}

/// A parsed submission: `signed_entry || [pre_certificate] || certificate_chain`.
struct Submission {
    entry: CtSignedEntry,
    pre_certificate: Option<Vec<u8>>,
    certificate_chain: Vec<[u8; 32]>,
}

fn parse_submission(bytes: &[u8]) -> Result<Submission, FormatError> {
    let invalid = |e: FormatError| FormatError::InvalidEntry {
        format: FORMAT,
        reason: e.to_string(),
    };
    let mut r = Reader(bytes);
    let entry = r.signed_entry().map_err(invalid)?;
    let (pre_certificate, certificate_chain) = r.tail(&entry).map_err(invalid)?;
    if !r.0.is_empty() {
        return Err(FormatError::InvalidEntry {
            format: FORMAT,
            reason: format!("{} trailing bytes", r.0.len()),
        });
    }
    Ok(Submission {
        entry,
        pre_certificate,
        certificate_chain,
    })
}

fn dedup_key(entry: &CtSignedEntry) -> Hash {
    let mut bytes = b"waxseal ct dedup\n".to_vec();
    push_signed_entry(&mut bytes, entry);
    leaf_hash(&bytes)
}

/// The static-ct-api personality's [`EntryFormat`]: submissions become `TileLeaf`s stamped
/// with their sequencing time and `leaf_index`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaticCtFormat;

impl EntryFormat for StaticCtFormat {
    fn key(&self, entry: &[u8]) -> Result<Hash, FormatError> {
        Ok(dedup_key(&parse_submission(entry)?.entry))
    }

    fn seal(&self, entry: &[u8], index: u64, time_ms: u64) -> Result<Sealed, FormatError> {
        let submission = parse_submission(entry)?;
        let extensions = leaf_index_extension(index).map_err(|e| FormatError::OutOfRange {
            format: FORMAT,
            what: e.to_string(),
        })?;
        let leaf = TileLeaf {
            timestamp: time_ms,
            entry: submission.entry,
            extensions,
            pre_certificate: submission.pre_certificate,
            certificate_chain: submission.certificate_chain,
        };
        Ok(Sealed::new(leaf.to_bytes(), leaf.leaf_hash()))
    }

    fn split(&self, bundle: &[u8]) -> Result<Vec<Range<usize>>, FormatError> {
        let mut ranges = Vec::new();
        let mut at = 0;
        while at < bundle.len() {
            let (_, len) =
                TileLeaf::parse_prefix(&bundle[at..]).map_err(|e| malformed_at(at, &e))?;
            ranges.push(at..at + len);
            at += len;
        }
        Ok(ranges)
    }

    fn unseal(&self, content: &[u8]) -> Result<Unsealed, FormatError> {
        let (leaf, len) = TileLeaf::parse_prefix(content)?;
        if len != content.len() {
            return Err(malformed("trailing bytes after a TileLeaf"));
        }
        Ok(Unsealed::new(leaf.leaf_hash(), leaf.key()))
    }
}

fn push_signed_entry(out: &mut Vec<u8>, entry: &CtSignedEntry) {
    match entry {
        CtSignedEntry::Precert {
            issuer_key_hash,
            tbs_certificate,
        } => {
            out.extend_from_slice(&PRECERT_ENTRY.to_be_bytes());
            out.extend_from_slice(issuer_key_hash);
            push_u24_len(out, tbs_certificate);
        }
        // X509 and any future kind of x509's non-exhaustive enum: x509_entry carries the
        // certificate; x509 only produces these two.
        CtSignedEntry::X509 { certificate } => {
            out.extend_from_slice(&X509_ENTRY.to_be_bytes());
            push_u24_len(out, certificate);
        }
        _ => out.extend_from_slice(&u16::MAX.to_be_bytes()),
    }
}

fn push_tail(out: &mut Vec<u8>, pre_certificate: Option<&[u8]>, chain: &[[u8; 32]]) {
    if let Some(der) = pre_certificate {
        push_u24_len(out, der);
    }
    let fingerprints: Vec<u8> = chain.iter().flatten().copied().collect();
    push_u16_len(out, &fingerprints);
}

/// Writes a uint24 length and the bytes. Certificates are bounded far below 2^24 by the
/// engine's entry limit, which callers go through first.
fn push_u24_len(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len().min(MAX_U24)).unwrap_or(0);
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.extend_from_slice(&bytes[..bytes.len().min(MAX_U24)]);
}

/// Writes a uint16 length and the bytes; see [`push_u24_len`] for the bound.
fn push_u16_len(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

fn malformed(reason: &str) -> FormatError {
    FormatError::MalformedBundle {
        format: FORMAT,
        reason: reason.to_owned(),
    }
}

fn malformed_at(at: usize, e: &FormatError) -> FormatError {
    FormatError::MalformedBundle {
        format: FORMAT,
        reason: format!("entry at byte {at}: {e}"),
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.0.len() < n {
            return Err(malformed("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, FormatError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn vec16(&mut self) -> Result<&'a [u8], FormatError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    fn u24_bytes(&mut self, what: &str) -> Result<&'a [u8], FormatError> {
        let [a, b, c] = self.array::<3>()?;
        let len = u32::from_be_bytes([0, a, b, c]) as usize;
        if len == 0 {
            return Err(malformed(&format!("empty {what}")));
        }
        self.bytes(len)
    }

    fn signed_entry(&mut self) -> Result<CtSignedEntry, FormatError> {
        match self.u16()? {
            X509_ENTRY => Ok(CtSignedEntry::X509 {
                certificate: self.u24_bytes("certificate")?.to_vec(),
            }),
            PRECERT_ENTRY => Ok(CtSignedEntry::Precert {
                issuer_key_hash: self.array()?,
                tbs_certificate: self.u24_bytes("TBSCertificate")?.to_vec(),
            }),
            other => Err(malformed(&format!("unknown entry_type {other}"))),
        }
    }

    #[allow(clippy::type_complexity)]
    fn tail(
        &mut self,
        entry: &CtSignedEntry,
    ) -> Result<(Option<Vec<u8>>, Vec<[u8; 32]>), FormatError> {
        let pre_certificate = match entry {
            CtSignedEntry::Precert { .. } => Some(self.u24_bytes("pre_certificate")?.to_vec()),
            _ => None,
        };
        let chain = self.vec16()?;
        if chain.len() % 32 != 0 {
            return Err(malformed(
                "certificate_chain is not a list of 32-byte fingerprints",
            ));
        }
        let fingerprints = chain
            .chunks_exact(32)
            .map(|c| {
                let mut f = [0u8; 32];
                f.copy_from_slice(c);
                f
            })
            .collect();
        Ok((pre_certificate, fingerprints))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn precert_leaf() -> TileLeaf {
        TileLeaf {
            timestamp: 1_700_000_000_000,
            entry: CtSignedEntry::Precert {
                issuer_key_hash: [7; 32],
                tbs_certificate: vec![0x30, 0x03, 1, 2, 3],
            },
            extensions: leaf_index_extension(300).unwrap(),
            pre_certificate: Some(vec![0x30, 0x01, 0]),
            certificate_chain: vec![[1; 32], [2; 32]],
        }
    }

    #[test]
    fn tile_leaf_encoding_matches_rfc_6962_layout() {
        let leaf = precert_leaf();
        let bytes = leaf.to_bytes();
        let mut expected = 1_700_000_000_000u64.to_be_bytes().to_vec();
        expected.extend_from_slice(&[0, 1]); // precert_entry
        expected.extend_from_slice(&[7; 32]);
        expected.extend_from_slice(&[0, 0, 5, 0x30, 0x03, 1, 2, 3]);
        expected.extend_from_slice(&[0, 8, 0, 0, 5, 0, 0, 0, 1, 44]); // leaf_index 300
        let timestamped_len = expected.len();
        expected.extend_from_slice(&[0, 0, 3, 0x30, 0x01, 0]);
        expected.extend_from_slice(&[0, 64]);
        expected.extend_from_slice(&[1; 32]);
        expected.extend_from_slice(&[2; 32]);
        assert_eq!(bytes, expected);
        assert_eq!(leaf.timestamped_entry(), expected[..timestamped_len]);
        assert_eq!(&leaf.merkle_tree_leaf()[..2], &[0, 0]);
        assert_eq!(leaf.leaf_index().unwrap(), Some(300));
        let (parsed, len) = TileLeaf::parse_prefix(&bytes).unwrap();
        assert_eq!((parsed, len), (leaf, bytes.len()));
    }

    #[test]
    fn sealing_a_submission_round_trips_through_the_format() {
        let leaf = precert_leaf();
        let mut submitted = Vec::new();
        push_signed_entry(&mut submitted, &leaf.entry);
        push_tail(
            &mut submitted,
            leaf.pre_certificate.as_deref(),
            &leaf.certificate_chain,
        );
        let sealed = StaticCtFormat
            .seal(&submitted, 300, leaf.timestamp)
            .unwrap();
        assert_eq!(sealed.bytes, leaf.to_bytes());
        assert_eq!(sealed.leaf, leaf.leaf_hash());
        let x509 = TileLeaf {
            entry: CtSignedEntry::X509 {
                certificate: vec![0x30, 0],
            },
            pre_certificate: None,
            certificate_chain: vec![],
            ..leaf.clone()
        };
        let tile = [sealed.bytes.clone(), x509.to_bytes()].concat();
        let ranges = StaticCtFormat.split(&tile).unwrap();
        assert_eq!(ranges.len(), 2);
        let unsealed = StaticCtFormat.unseal(&tile[ranges[0].clone()]).unwrap();
        assert_eq!(unsealed.leaf, sealed.leaf);
        assert_eq!(unsealed.key, StaticCtFormat.key(&submitted).unwrap());
        assert_eq!(parse_data_tile(&tile).unwrap(), vec![leaf, x509]);
    }

    #[test]
    fn rejects_malformed_submissions_and_tiles() {
        let cases: [(&str, &[u8]); 4] = [
            ("empty", &[]),
            ("unknown entry type", &[0, 9, 0, 0, 1, 0]),
            ("truncated certificate", &[0, 0, 0, 0, 9, 0x30]),
            ("ragged chain", &[0, 0, 0, 0, 1, 0x30, 0, 3, 1, 2, 3]),
        ];
        for (name, bytes) in cases {
            assert!(
                matches!(
                    StaticCtFormat.key(bytes),
                    Err(FormatError::InvalidEntry { .. })
                ),
                "{name}"
            );
            if !bytes.is_empty() {
                assert!(StaticCtFormat.split(bytes).is_err(), "{name}");
            }
        }
    }
}
