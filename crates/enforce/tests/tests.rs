//! Tests of waxseal-enforce.

#![allow(clippy::unwrap_used, clippy::expect_used)]
