//! waxseal-log integration tests.
//!
//! - `harness`: a log over an in-memory or SQLite store, recording every checkpoint it signs,
//!   with `check()` (the `check_log` invariant plus consistency of every signed checkpoint)
//!   run after each step;
//! - `engine`: appends, deduplication, reads, tiles, proofs, pushback, reopening;
//! - `faults`: every store write failing twice, "not persisted" and "persisted anyway", with
//!   verbatim and with stamped entries;
//! - `ct`: the CT personality: restart with a partial data tile, `check_log`, SCTs;
//! - `format`: the entry-format hook (entries sealed with their index and time);
//! - `cluster`: two cluster members on one PostgreSQL database, fail-over;
//! - `postgres`: TLS modes, bad URLs, concurrent migrations, several logs in one database;
//! - `crash`: SIGKILL a process that appends in a loop, restart, verify what was acknowledged.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cluster;
mod crash;
mod ct;
mod engine;
mod faults;
mod format;
mod harness;
mod postgres;
