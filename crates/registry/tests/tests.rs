//! Integration tests for waxseal-registry (one binary).
//!
//! - `local`: against a real Debian docker-registry 2.8 (`testing::LocalRegistry`): blobs,
//!   OCI and Docker manifests, an index, tag resolution, the referrers fallback tag, tag lists.
//! - `auth`: an htpasswd registry: credentials from the config, a docker `config.json` and a
//!   credential helper; a clear error without them.
//! - `fake`: a misbehaving axum registry on 127.0.0.1:0: digest mismatches, oversize bodies,
//!   retries, Bearer tokens, redirects, error bodies, pagination, plain-http refusal.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod fake;
mod local;
mod support;
