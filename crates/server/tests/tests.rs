//! waxseal-server tests: each router driven without a socket (`oneshot`), plus one real-socket
//! test per service.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ct;
mod fulcio;
mod oidc;
mod operator;
mod rekor;
mod tlog;
mod tsa;
