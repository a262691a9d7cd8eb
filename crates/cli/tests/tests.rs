//! End-to-end tests of the `waxseal` binary.
//!
//! - `serve`: first start creates keys (0600) and the log; the checkpoint and tiles are served;
//!   a restart keeps the key and origin;
//! - `bench`: `waxseal bench log --json` reports the promised figures.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bench;
mod serve;
