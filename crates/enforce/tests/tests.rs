//! Tests of waxseal-enforce.

#![allow(clippy::unwrap_used, clippy::expect_used)]

// AdmissionReview parsing, images per kind, responses, JSONPatch pinning.
mod admission;
// The gate: validate and mutate over a fake checker, messages, deadline.
mod gate;
