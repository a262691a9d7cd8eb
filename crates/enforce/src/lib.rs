//! Enforcement: admission decisions for Kubernetes, the verification cache they share with
//! continuous verification, and the inventory of what runs with its drift events.
//!
//! - [`admission`]: AdmissionReview v1 requests and responses (kubernetes `admission/v1`
//!   `types.go`), the images of every pod-bearing kind with their field paths, JSONPatch digest
//!   pinning.
//! - [`gate`]: the webhook's decisions over a [`gate::Checker`] (resolve a tag, verify and
//!   evaluate a digest), with a deadline, policy-controller's messages and warn mode.
//! - [`cache`]: a bounded, TTL'd, single-flight cache of decisions.
//! - [`inventory`], [`watch`], [`events`]: what runs (from `kubectl get pods -A -o json` or a
//!   list of references), the state per image and workload, drift as CloudEvents, and the
//!   report.
//!
//! No HTTP and no registry here: the caller (the `waxseal enforce` commands) serves HTTPS and
//! implements [`gate::Checker`] on the registry client and the verifier.

pub mod admission;
pub mod cache;
pub mod events;
pub mod gate;
pub mod inventory;
pub mod watch;
