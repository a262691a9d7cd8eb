//! Integration tests for waxseal-bundle, one binary (STYLE.md, test rules 7).
//!
//! - `support`: request builders, test keys and certificates, fixture and vector readers.
//! - `hashedrekord`: Rekor v1 `hashedrekord` 0.0.1 and v2 `hashedrekord` 0.0.2: exact bodies
//!   for every key type, and every rejection.
//! - `dsse`: Rekor v1 `dsse` 0.0.1 and v2 `dsse` 0.0.2.
//! - `vectors`: real Sigstore bundles: the body each entry's request would produce, byte for
//!   byte, and the SET over it under the real Rekor key.
//! - `entries`: response shapes (`TransparencyLogEntry`, v1 `LogEntry`) against real data.
//! - `models`: bundles and trusted roots of the shared vectors parse and write back unchanged.
//! - `search`: search queries find the terms entries are indexed under.
//! - `robustness`: arbitrary and mutated requests give errors, never panics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dsse;
mod entries;
mod hashedrekord;
mod models;
mod robustness;
mod search;
mod support;
mod vectors;
