//! Integration tests for waxseal-oci.
//!
//! - `vectors`: every case of `../shared/vectors/oci-legacy` (real cosign legacy signatures).
//! - `tables`: manifests, indexes, the referrers fallback, the referrer manifest layout,
//!   simple signing bytes and docker reference normalisation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod tables;
mod vectors;
