//! In-toto statements, predicates and signature documents on arbitrary bytes: a statement
//! parses or fails without panicking and what parses re-encodes to a statement that parses to
//! the same value; predicate checks never panic; a bundle-or-envelope document is told apart.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_attestation::{Statement, check_predicate};
use waxseal_bundle::Document;

fuzz_target!(|data: &[u8]| {
    if let Ok(statement) = Statement::parse(data) {
        let again = Statement::parse(&statement.to_json()).expect("a statement re-parses");
        assert_eq!(again.to_json(), statement.to_json(), "statement did not round-trip");
        let _ = check_predicate(statement.predicate_type(), statement.predicate());
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        for kind in [
            "https://slsa.dev/provenance/v1",
            "https://slsa.dev/provenance/v0.2",
            "https://cyclonedx.org/bom",
            "https://spdx.dev/Document",
            "https://openvex.dev/ns",
        ] {
            let _ = check_predicate(kind, &value);
        }
    }
    let _ = Document::from_json(data);
});
