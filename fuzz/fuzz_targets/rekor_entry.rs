//! Rekor entry validation on arbitrary bytes: `validate_v1`, `validate_v2` and
//! `dsse::Envelope::from_json` must never panic. A validated entry has its API's version, no
//! duplicate search terms, and a `hashedrekord` 0.0.1 canonical body is itself a proposed entry
//! that validates to the same entry; a parsed envelope survives `to_json` and parsing again.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_bundle::dsse::Envelope;
use waxseal_bundle::rekor::{Kind, ValidatedEntry, validate_v1, validate_v2};

fn assert_unique_terms(entry: &ValidatedEntry) {
    let terms = entry.search_terms();
    for (i, term) in terms.iter().enumerate() {
        assert!(!terms[..i].contains(term), "duplicate search term {term:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(entry) = validate_v1(data) {
        assert_eq!(entry.api_version(), "0.0.1");
        assert_unique_terms(&entry);
        if entry.kind() == Kind::Hashedrekord {
            // The canonical body keeps every field a proposal needs, in canonical form.
            let again = validate_v1(entry.canonical_body())
                .expect("a hashedrekord canonical body must validate as a proposed entry");
            assert_eq!(
                again, entry,
                "hashedrekord canonicalisation is not idempotent"
            );
        }
    }
    if let Ok(entry) = validate_v2(data) {
        assert_eq!(entry.api_version(), "0.0.2");
        assert_unique_terms(&entry);
    }
    if let Ok(envelope) = Envelope::from_json(data) {
        let json = envelope.to_json();
        let reparsed = Envelope::from_json(&json).expect("to_json output must parse");
        assert_eq!(
            reparsed, envelope,
            "envelope did not round-trip through to_json"
        );
        assert_eq!(reparsed.to_json(), json, "to_json is not stable");
    }
});
