//! RFC 3161 request parsing and token verification on arbitrary bytes:
//! `TimeStampRequest::from_der` and `from_json` must never panic, and a request they accept
//! encodes with `to_der` to DER that parses back to an equal request (and encodes the same
//! again). `verify_timestamp` against a fixed TSA chain must never panic.

#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use waxseal_tsa::{TimeStampRequest, TsaKeys, verify_timestamp};

/// A TSA chain (leaf, root) generated once per process.
fn chain() -> &'static [Vec<u8>] {
    static CHAIN: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        TsaKeys::generate(now, Duration::from_secs(365 * 24 * 3600))
            .expect("TSA keys generate")
            .chain_der()
    })
}

fn assert_der_round_trip(request: &TimeStampRequest) {
    let der = request.to_der().expect("a validated request must encode");
    let reparsed = TimeStampRequest::from_der(&der).expect("to_der output must parse");
    assert_eq!(
        &reparsed, request,
        "request did not round-trip through to_der"
    );
    assert_eq!(
        reparsed.to_der().expect("re-encode"),
        der,
        "to_der is not stable"
    );
}

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = TimeStampRequest::from_der(data) {
        assert_der_round_trip(&request);
    }
    if let Ok(request) = TimeStampRequest::from_json(data) {
        assert_der_round_trip(&request);
    }
    let chain: Vec<&[u8]> = chain().iter().map(Vec::as_slice).collect();
    let _ = verify_timestamp(data, b"x", &chain);
});
