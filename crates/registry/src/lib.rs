//! An OCI distribution client (opencontainers/distribution-spec v1.1 `spec.md`): manifests and
//! blobs by exact digest, blob and manifest pushes, tag lists, and referrers through the
//! referrers API or its tag fallback (§Referrers Tag Schema), with registry auth
//! (distribution `docs/spec/auth/token.md`) and docker's config file and credential helpers.
//!
//! This is our own client on reqwest rather than the `oci-client` crate: waxseal needs
//! digests over the exact bytes served, size limits enforced while streaming, its own retry
//! and redirect rules (redirects only for blob GETs, never carrying credentials to another
//! host), docker credential helpers, a request counter for benchmarks, and the read-modify-
//! write of the `sha256-<hex>` fallback tag, which `oci-client` never writes.
//!
//! Rules it keeps:
//!
//! - Every manifest GET sends the OCI and Docker manifest and index types in `Accept`; a
//!   manifest's digest is the sha256 of its body and must match a digest asked for; bodies
//!   over [`ClientConfig::max_manifest_size`] are refused while streaming.
//! - HTTPS, except plain http for loopback registries or with
//!   [`ClientConfig::allow_insecure`].
//! - Anonymous first; on a 401 the `WWW-Authenticate` challenge is answered with Basic or a
//!   Bearer token (cached per registry and scope). Credentials come from
//!   [`ClientConfig::credentials`], else the docker config (`credHelpers`, `auths`,
//!   `credsStore`). Secrets are never logged.
//! - 429, 502, 503, 504 and connect errors are retried with capped exponential backoff
//!   (honouring `Retry-After`, capped), at most [`ClientConfig::retries`] times; a blob upload
//!   is restarted from its POST.
//!
//! What it does **not** do: parse or build manifests and indexes beyond reading a
//! referrers index (`waxseal-oci` does), sign or verify anything (`waxseal-verify`), chunked
//! uploads, cross-repository mounts, deletes, or Docker schema 1.
//!
//! ```no_run
//! use waxseal_oci::Reference;
//! use waxseal_registry::{Client, ClientConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ClientConfig::default())?;
//! let image = Reference::parse("ghcr.io/owner/app:v1")?;
//! let manifest = client.resolve(&image).await?;
//! let referrers = client.referrers(&image, &manifest.digest, None).await?;
//! println!("{} has {} referrers", image.with_digest(manifest.digest), referrers.len());
//! # Ok(())
//! # }
//! ```

mod auth;
mod client;
mod config;
mod credentials;
mod error;
mod transport;

#[cfg(feature = "testing")]
pub mod testing;

pub use client::{Client, FetchedManifest, PutManifest};
pub use config::{ClientConfig, Credentials};
pub use error::Error;
