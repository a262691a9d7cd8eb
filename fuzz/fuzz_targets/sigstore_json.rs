//! The Sigstore JSON models on arbitrary bytes: bundles, trusted roots, signing configs and
//! client trust configs must parse or fail without panicking, and whatever parses serialises
//! to JSON that parses back to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_bundle::{Bundle, ClientTrustConfig, SigningConfig, TrustedRoot};

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = Bundle::from_json(data) {
        let again = Bundle::from_json(&bundle.to_json()).expect("a serialised bundle parses");
        assert_eq!(again, bundle, "bundle did not round-trip");
    }
    if let Ok(root) = TrustedRoot::from_json(data) {
        let again = TrustedRoot::from_json(&root.to_json_pretty()).expect("root parses");
        assert_eq!(again, root, "trusted root did not round-trip");
    }
    if let Ok(config) = SigningConfig::from_json(data) {
        let again = SigningConfig::from_json(&config.to_json_pretty()).expect("config parses");
        assert_eq!(again, config, "signing config did not round-trip");
    }
    if let Ok(config) = ClientTrustConfig::from_json(data) {
        let again =
            ClientTrustConfig::from_json(&config.to_json_pretty()).expect("trust config parses");
        assert_eq!(again, config, "client trust config did not round-trip");
    }
});
