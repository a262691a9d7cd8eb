//! waxseal-merkle integration tests:
//! - `vectors`: the RFC 6962 8-leaf vectors from ../shared/vectors/merkle;
//! - `naive`: property tests against a direct transcription of RFC 9162 §2.1's recursion.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod naive;
mod vectors;
