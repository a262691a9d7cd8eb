//! Tests of waxseal-enforce.
//!
//! - `cache`: single flight, TTLs, LRU eviction, invalidation, cancellation.
//! - `inventory`: pod lists (fixtures in `data/inventory/`) and image lists.
//! - `watch`: drift events, history, report, metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod inventory;
mod watch;
