//! Entry bundles (tlog-tiles "Log entries"): up to 256 log entries, each prefixed by its length
//! as a big-endian uint16.

use std::fmt;

use crate::error::Error;
use crate::path::FULL_WIDTH;
use crate::tile::{prefix, width_u16};

/// The log entries of one bundle, in log order.
///
/// Entry `j` of bundle `n` is log entry `n * 256 + j`; its RFC 6962 leaf hash is hash `j` of
/// level 0 hash tile `n`. A bundle of 256 entries is full and immutable; a partial bundle is a
/// prefix of the full bundle it grows into.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EntryBundle {
    /// At most 256 entries, each at most [`EntryBundle::MAX_ENTRY_LEN`] bytes.
    entries: Vec<Vec<u8>>,
}

impl EntryBundle {
    /// The longest entry a bundle can hold: the largest big-endian uint16 length prefix.
    pub const MAX_ENTRY_LEN: usize = u16::MAX as usize;

    /// An empty bundle, to [`push`](Self::push) entries onto. An empty bundle is never served:
    /// [`EntryBundle::parse`] rejects one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a bundle's bytes: 1 to 256 entries, each a big-endian uint16 length and then that
    /// many bytes, with nothing after the last entry.
    ///
    /// Compare [`EntryBundle::width`] with the bundle path's width to check the entry count.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBundle`] for no bytes; [`Error::TruncatedEntry`] if a length prefix or an
    /// entry runs past the end; [`Error::TooManyEntries`] past 256 entries.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() {
            return Err(Error::EmptyBundle);
        }
        let mut entries = Vec::new();
        let mut rest = bytes;
        let mut offset = 0;
        while !rest.is_empty() {
            if entries.len() == usize::from(FULL_WIDTH) {
                return Err(Error::TooManyEntries {
                    count: entries.len() + 1,
                });
            }
            let (len, body) = rest
                .split_first_chunk::<2>()
                .ok_or(Error::TruncatedEntry { offset })?;
            let len = usize::from(u16::from_be_bytes(*len));
            let (entry, tail) = body
                .split_at_checked(len)
                .ok_or(Error::TruncatedEntry { offset })?;
            entries.push(entry.to_vec());
            offset += 2 + len;
            rest = tail;
        }
        Ok(Self { entries })
    }

    /// The bundle's bytes: each entry prefixed by its length as a big-endian uint16.
    pub fn to_bytes(&self) -> Vec<u8> {
        let len = self.entries.iter().map(|e| 2 + e.len()).sum();
        let mut out = Vec::with_capacity(len);
        for entry in &self.entries {
            // `push` and `parse` keep every entry within `MAX_ENTRY_LEN`.
            let len = u16::try_from(entry.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(entry);
        }
        out
    }

    /// The entries, in log order.
    pub fn entries(&self) -> &[Vec<u8>] {
        &self.entries
    }

    /// The number of entries, 0 to 256.
    pub fn width(&self) -> u16 {
        width_u16(self.entries.len())
    }

    /// Whether the bundle holds all 256 entries.
    pub fn is_full(&self) -> bool {
        self.entries.len() == usize::from(FULL_WIDTH)
    }

    /// Appends an entry.
    ///
    /// # Errors
    ///
    /// [`Error::EntryTooLong`] if the entry is longer than [`EntryBundle::MAX_ENTRY_LEN`];
    /// [`Error::TooManyEntries`] if the bundle is full. The bundle is unchanged on error.
    pub fn push(&mut self, entry: impl Into<Vec<u8>>) -> Result<(), Error> {
        let entry = entry.into();
        if entry.len() > Self::MAX_ENTRY_LEN {
            return Err(Error::EntryTooLong { len: entry.len() });
        }
        if self.is_full() {
            return Err(Error::TooManyEntries {
                count: self.entries.len() + 1,
            });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The partial bundle made of the first `width` entries.
    ///
    /// # Errors
    ///
    /// [`Error::WidthOutOfRange`] if `width` is 0; [`Error::TruncationTooWide`] if it exceeds
    /// [`EntryBundle::width`].
    pub fn truncated(&self, width: u16) -> Result<Self, Error> {
        Ok(Self {
            entries: prefix(&self.entries, width)?.to_vec(),
        })
    }
}

impl fmt::Debug for EntryBundle {
    /// Shows the shape, not the (possibly large) entry bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryBundle")
            .field("width", &self.entries.len())
            .field("bytes", &self.entries.iter().map(Vec::len).sum::<usize>())
            .finish()
    }
}

/// The width of entry bundle `index` in the log of `tree_size` entries: `Some(256)` for a full
/// bundle, `Some(w)` for a partial one, `None` if the log has no such bundle. The same as the
/// level 0 hash tile's width.
pub fn bundle_width_at(index: u64, tree_size: u64) -> Option<u16> {
    crate::tile::tile_width_at(0, index, tree_size)
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    struct ParseCase {
        name: &'static str,
        bytes: &'static [u8],
        want: Result<&'static [&'static [u8]], Error>,
    }

    const PARSE_CASES: &[ParseCase] = &[
        ParseCase {
            name: "one empty entry",
            bytes: b"\x00\x00",
            want: Ok(&[b""]),
        },
        ParseCase {
            name: "one entry",
            bytes: b"\x00\x03abc",
            want: Ok(&[b"abc"]),
        },
        ParseCase {
            name: "two entries",
            bytes: b"\x00\x01a\x00\x02bc",
            want: Ok(&[b"a", b"bc"]),
        },
        ParseCase {
            name: "no bytes",
            bytes: b"",
            want: Err(Error::EmptyBundle),
        },
        ParseCase {
            name: "half a prefix",
            bytes: b"\x00",
            want: Err(Error::TruncatedEntry { offset: 0 }),
        },
        ParseCase {
            name: "short entry",
            bytes: b"\x00\x04abc",
            want: Err(Error::TruncatedEntry { offset: 0 }),
        },
        ParseCase {
            name: "trailing half prefix",
            bytes: b"\x00\x01a\x00",
            want: Err(Error::TruncatedEntry { offset: 3 }),
        },
        ParseCase {
            name: "second entry short",
            bytes: b"\x00\x01a\x01\x00bc",
            want: Err(Error::TruncatedEntry { offset: 3 }),
        },
    ];

    #[test]
    fn parses_and_rejects_table() {
        for case in PARSE_CASES {
            let got = EntryBundle::parse(case.bytes);
            match (&got, &case.want) {
                (Ok(bundle), Ok(want)) => {
                    assert_eq!(bundle.entries(), *want, "case {}", case.name);
                    assert_eq!(
                        bundle.to_bytes(),
                        case.bytes,
                        "case {}: round trip",
                        case.name
                    );
                }
                _ => assert_eq!(
                    got.map(|_| ()),
                    case.want.clone().map(|_| ()),
                    "case {}",
                    case.name
                ),
            }
        }
    }

    #[test]
    fn rejects_more_than_256_entries() {
        let bytes = vec![0u8; 2 * 257];
        assert_eq!(
            EntryBundle::parse(&bytes),
            Err(Error::TooManyEntries { count: 257 })
        );
        let bundle = EntryBundle::parse(&bytes[..2 * 256]).expect("256 empty entries");
        assert!(bundle.is_full());
        assert_eq!(bundle.width(), 256);
    }

    #[test]
    fn push_enforces_limits_and_leaves_bundle_unchanged() {
        let mut bundle = EntryBundle::new();
        assert_eq!(bundle.width(), 0);
        let max = vec![1u8; EntryBundle::MAX_ENTRY_LEN];
        bundle.push(max.clone()).expect("65535 bytes fit");
        assert_eq!(
            bundle.push(vec![1u8; EntryBundle::MAX_ENTRY_LEN + 1]),
            Err(Error::EntryTooLong { len: 65536 })
        );
        assert_eq!(bundle.width(), 1);
        for i in 1..256u16 {
            bundle.push(i.to_be_bytes().as_slice()).expect("room left");
        }
        assert!(bundle.is_full());
        assert_eq!(
            bundle.push(&b"x"[..]),
            Err(Error::TooManyEntries { count: 257 })
        );
        let parsed = EntryBundle::parse(&bundle.to_bytes()).expect("round trip");
        assert_eq!(parsed, bundle);
        assert_eq!(parsed.entries().first(), Some(&max));
    }

    #[test]
    fn truncates_to_a_prefix() {
        let bundle = EntryBundle::parse(b"\x00\x01a\x00\x02bc\x00\x00").expect("three entries");
        let short = bundle.truncated(2).expect("2 <= 3");
        assert_eq!(short.to_bytes(), b"\x00\x01a\x00\x02bc");
        assert_eq!(
            bundle.truncated(0),
            Err(Error::WidthOutOfRange { width: 0 })
        );
        assert_eq!(
            bundle.truncated(4),
            Err(Error::TruncationTooWide {
                width: 4,
                available: 3
            })
        );
    }

    #[test]
    fn bundle_widths_match_level_0_tiles() {
        assert_eq!(bundle_width_at(0, 0), None);
        assert_eq!(bundle_width_at(0, 1), Some(1));
        assert_eq!(bundle_width_at(273, 70_000), Some(112));
        assert_eq!(bundle_width_at(272, 70_000), Some(256));
        assert_eq!(bundle_width_at(274, 70_000), None);
    }

    proptest! {
        #[test]
        fn parse_never_panics_on_any_bytes(bytes in vec(any::<u8>(), 0..2048)) {
            if let Ok(bundle) = EntryBundle::parse(&bytes) {
                prop_assert_eq!(bundle.to_bytes(), bytes);
            }
        }

        #[test]
        fn parse_inverts_to_bytes(
            entries in vec(vec(any::<u8>(), 0..300), 1..=256)
        ) {
            let mut bundle = EntryBundle::new();
            for entry in &entries {
                bundle.push(entry.clone()).expect("small entries, at most 256");
            }
            let parsed = EntryBundle::parse(&bundle.to_bytes());
            prop_assert_eq!(parsed.as_ref().map(EntryBundle::entries), Ok(entries.as_slice()));
        }
    }
}
