//! Fuzzes checkpoint parsing: `Checkpoint::parse` and `SignedCheckpoint::parse` must never
//! panic, and a parsed checkpoint must print back to its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_note::{Checkpoint, SignedCheckpoint};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(checkpoint) = Checkpoint::parse(text) {
            assert_eq!(checkpoint.to_text(), text, "parse/to_text must round-trip");
        }
    }
    let _ = SignedCheckpoint::parse(data);
});
