//! Integration tests for waxseal-verify, one binary (STYLE.md, test rule 7).
//!
//! - `manifest`: every case of shared/vectors/sigstore/manifest.json verifies or fails exactly
//!   as sigstore-python 4.5.1 did, and the embedded production root is the shared copy.
//! - `stages`: one real bundle tampered stage by stage, each failure in its own stage.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod manifest;
mod stages;
mod support;
