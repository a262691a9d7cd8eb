//! Integration tests for waxseal-verify, one binary (STYLE.md, test rule 7).
//!
//! - `attestations`: the real SLSA attestation bundles of shared/vectors/attestations verify
//!   and report their facts; bare envelopes and Rekor v1 entries made into bundles verify too.
//! - `git`: every case of shared/vectors/git (real gitsign commits and a tag) ends as its
//!   manifest says; real offline signatures tampered part by part, and signatures made by an
//!   in-test instance (Rekor v1 and v2 entries, TSA, online entries over the object id).
//! - `image`: container-image signatures in cosign's formats (legacy `.sig`/`.att` layers,
//!   referrer bundles) built with in-test keys, and their tamperings.
//! - `intoto`: Rekor `intoto` 0.0.2 entries, built with in-test keys, and their tamperings.
//! - `manifest`: every case of shared/vectors/sigstore/manifest.json verifies or fails exactly
//!   as sigstore-python 4.5.1 did, and the embedded production root is the shared copy.
//! - `oci_legacy`: every case of shared/vectors/oci-legacy ends as cosign says; keyless legacy
//!   layers made of real Fulcio-signed bundles.
//! - `stages`: one real bundle tampered stage by stage, each failure in its own stage.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attestations;
mod git;
mod image;
mod intoto;
mod manifest;
mod oci_legacy;
mod stages;
mod support;
