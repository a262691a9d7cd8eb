//! `HashTile::parse` and `EntryBundle::parse` on arbitrary bytes: never panic, and whatever
//! parses serializes back to the same bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_tiles::{EntryBundle, HashTile};

fuzz_target!(|data: &[u8]| {
    if let Ok(tile) = HashTile::parse(data) {
        assert_eq!(tile.to_bytes(), data, "hash tile did not round-trip");
        let width = tile.width();
        assert_eq!(HashTile::parse_with_width(data, width), Ok(tile));
    }
    // The first two bytes also serve as an expected width, to reach the width checks.
    if let Some((width, rest)) = data.split_first_chunk::<2>() {
        let _ = HashTile::parse_with_width(rest, u16::from_be_bytes(*width));
    }
    if let Ok(bundle) = EntryBundle::parse(data) {
        assert_eq!(bundle.to_bytes(), data, "entry bundle did not round-trip");
    }
});
