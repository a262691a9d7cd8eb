//! End-to-end tests of the `waxseal` binary.
//!
//! - `serve`: first start creates keys (0600) and the log; the checkpoint and tiles are served;
//!   a restart keeps the key and origin;
//! - `crash`: SIGKILL under HTTP load; every 201 answered before the kill is still served,
//!   byte-identical, after a restart, and every acknowledged checkpoint is consistent;
//! - `ca_crash`: SIGKILL during certificate issuance; every certificate answered 201 is in the
//!   CT log after a restart, at its SCT's `leaf_index`, under the newest checkpoint;
//! - `cluster`: three `waxseal serve --database` front ends on a real PostgreSQL server; the
//!   Rekor v1 sequencer SIGKILLed under load every cycle; every 201 stays in the log exactly once
//!   at its index, every checkpoint is consistent, failover is bounded; v2 and CT writes through
//!   followers; health, readiness, metrics and `waxseal admin status`; `waxseal bench cluster
//!   --json` reports every figure;
//! - `bench`: `waxseal bench log --json` reports the promised figures;
//! - `sign`: `waxseal sign` keyless on Rekor v1 and v2, digests, in-toto statements, managed keys,
//!   client credentials and `conformance sign-bundle`, each bundle checked by `waxseal verify`;
//! - `verify`: `waxseal verify` and `conformance verify-bundle` exit 0, 1 or 2 on real bundles;
//! - `attest`: `verify-attestation` on the real SLSA provenance vectors (slsa-verifier's flags),
//!   and `attest`, `verify-attestation` and `policy check|validate` against a real instance;
//! - `images`: `sign`/`verify`/`attest`/`verify-attestation`/`policy check`/`tree`/`download`
//!   on images in a real registry (Debian's docker-registry), both signature formats, the
//!   oci-legacy vectors pushed into it, tampering, htpasswd auth, dangling referrers;
//! - `enforce`: the admission webhook over HTTPS (every kind, mutate, warn, deadline,
//!   malformed reviews), `enforce manifests`, and `enforce watch`'s drift events;
//! - `publish`: `serve --publish-dir` writes exactly what the server answers for every log
//!   (Rekor v1, v2, CT with issuers), resumes after a restart, and refuses bad targets;
//! - `git`: the gitsign vectors through `waxseal git verify` and `git verify-commit`/`verify-tag`;
//!   `git commit -S`/`git tag -s` against a real instance verified by git (`%G?`, `merge
//!   --verify-signatures`) and by the gate (unsigned, foreign, rewritten commits, a policy
//!   file), SHA-256 repositories, the credential cache (one certificate for five commits) and a
//!   device-code login;
//! - `enforce_kube`: `enforce watch --inventory kubernetes` against a fake API server (list
//!   pages, watch events, a token kubeconfig).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod attest;
mod bench;
mod ca_crash;
mod cluster;
mod crash;
mod enforce;
mod enforce_kube;
mod git;
mod images;
mod publish;
mod serve;
mod sign;
mod support;
mod verify;
