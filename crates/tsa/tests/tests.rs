//! Integration tests for waxseal-tsa, one binary (STYLE.md test rule 7).
//!
//! - `request`: DER and JSON request parsing, every rejection by name.
//! - `issue`: issue → verify round trips, issuing rejections, negative verification
//!   (tampered TSTInfo, wrong imprint, wrong key, bad signature, nonce, policy), and every
//!   single-bit flip of a response.
//! - `openssl`: OpenSSL 3 as an independent oracle (`openssl ts -query/-reply/-verify`).
//! - `vectors`: real Sigstore staging timestamps from `../shared/vectors/sigstore`.
//!
//! Expired and EKU-less TSA certificates are unit-tested in `src/tests.rs`, which can issue from
//! chains `TsaKeys::new` refuses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod issue;
mod openssl;
mod request;
mod vectors;
