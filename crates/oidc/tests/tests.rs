//! Integration tests for `waxseal-oidc`, one binary (`autotests = false`).
//!
//! - `verify`: the verification table (every rejection, each with its typed error), every
//!   accepted algorithm, key rotation, unknown-kid refetch and the JWKS TTL, counted on the
//!   fetcher;
//! - `identity`: GitHub Actions and GitLab CI claim → OID mappings against Fulcio's own test
//!   vectors, and the other issuer types (SPIFFE, URI, username, Kubernetes, custom CI);
//! - `config`: the crate-doc TOML example, meta-issuer wildcards, configuration errors;
//! - `rules`: issuance rules allow/refuse;
//! - `mint`: minted tokens checked with jsonwebtoken's `decode` directly and with PyJWT
//!   (`pyjwt_check.py`, skipped with a message when PyJWT is absent);
//! - `idp`: the in-memory test IdP and claim helpers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
mod identity;
mod idp;
mod mint;
mod rules;
mod verify;
