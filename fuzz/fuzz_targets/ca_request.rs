//! The Fulcio `CreateSigningCertificateRequest` parser on arbitrary bytes, with and without a
//! bearer token: `SigningRequest::from_json` must never panic, and anything it accepts carries a
//! non-empty token.

#![no_main]

use libfuzzer_sys::fuzz_target;
use waxseal_ca::SigningRequest;

fuzz_target!(|data: &[u8]| {
    for bearer in [None, Some("header.payload.signature")] {
        if let Ok(request) = SigningRequest::from_json(data, bearer) {
            assert!(!request.token.is_empty(), "an accepted request has a token");
        }
    }
});
