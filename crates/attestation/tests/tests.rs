//! Integration tests for waxseal-attestation, one binary (STYLE.md, test rule 7).

#![allow(clippy::unwrap_used, clippy::expect_used)]
