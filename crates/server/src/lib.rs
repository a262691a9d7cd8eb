//! waxseal's HTTP services: one axum router per service, each built by a `router` function
//! that tests drive without a socket.
//!
//! Now: [`tlog`], the C2SP `tlog-tiles` read API (checkpoint, hash tiles, entry bundles) over a
//! [`waxseal_log::Log`]. The Rekor, Fulcio, CT and TSA APIs arrive with their issues.
//! Formats live in their own crates; this crate only maps HTTP to them.

pub mod tlog;
