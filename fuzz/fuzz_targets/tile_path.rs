//! `TilePath::parse` on arbitrary UTF-8: never panics, and every accepted path is canonical
//! (it formats back to exactly the input).

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_tiles::{TilePath, parse_index};

fuzz_target!(|path: &str| {
    if let Ok(parsed) = TilePath::parse(path) {
        assert_eq!(
            parsed.to_string(),
            path,
            "accepted a non-canonical tile path"
        );
    }
    let _ = parse_index(path);
});
