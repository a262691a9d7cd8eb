//! ClusterImagePolicy documents on arbitrary bytes: loading must succeed or fail with errors
//! (never panic), and whatever loads evaluates over empty facts to a decision.

#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use waxseal_policy::{Facts, Options, PolicySet, RegoLimits, Source};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(set) = PolicySet::load(&[Source::new("fuzz.yaml", text)]) {
        let options = Options::new(SystemTime::UNIX_EPOCH)
            .with_rego_limits(RegoLimits::default().with_time(Duration::from_millis(50)));
        let decision = set.evaluate("registry.example/app:v1", &Facts::default(), &options);
        // No facts: nothing but a static pass (or no match allowed) can allow.
        let _ = decision.message();
    }
});
