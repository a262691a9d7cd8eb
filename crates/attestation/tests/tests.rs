//! Integration tests for waxseal-attestation, one binary (STYLE.md, test rule 7).
//!
//! - `vectors`: every case of shared/vectors/attestations/manifest.json passes or fails
//!   `check_provenance` as slsa-verifier does with the upstream flags, plus the tag and
//!   versioned-tag tables of its regression tests.
//! - `generation`: provenance generated from a recorded GitHub Actions job equals the real
//!   bcr-module-bazel predicate; GitLab's from a recorded job equals GitLab's documented example.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod generation;
mod support;
mod vectors;
