//! Tests of waxseal-enforce.
//!
//! - `admission`: AdmissionReview parsing, images per kind, responses, JSONPatch pinning
//!   (fixtures in `data/admission/`).
//! - `gate`: validate and mutate over a fake checker, messages, deadline.
//! - `cache`: single flight, TTLs, LRU eviction, invalidation, cancellation.
//! - `inventory`: pod lists (fixtures in `data/inventory/`) and image lists.
//! - `watch`: drift events, history, report, metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod admission;
mod cache;
mod gate;
mod inventory;
mod watch;
