//! The waxseal signing client: everything a signer does over HTTP against a Sigstore
//! instance (waxseal's own, or any with a v0.2 signing config), checked against the instance's
//! trusted root.
//!
//! What it implements, as sigstore-python 4.x does (waxseal `INTEROP.md` §1–§6):
//!
//! - The instance: a `ClientTrustConfig` ([`Client::fetch_trust_config`] fetches
//!   `{URL}/trust/client_trust_config.json`), and the services chosen from its signing config
//!   ([`SigningServices::select`]: valid now, supported API version, highest version per
//!   operator, then the selector).
//! - Identity tokens ([`IdentityToken`]) and the OAuth 2.0 client-credentials grant at the
//!   instance's OIDC issuer ([`Client::client_credentials_token`]).
//! - [`Client::sign`]: an ephemeral P-256 key and a CSR for a Fulcio v2 certificate (checked:
//!   our key, issued by a trusted CA, SCT from a trusted CT log), or a managed key; the
//!   signature (over the artifact, its SHA-256 prehash, or an in-toto statement's DSSE PAE);
//!   RFC 3161 timestamps over the signature (nonce and chain checked); one Rekor v1
//!   (`hashedrekord`/`dsse` 0.0.1) or v2 (`hashedrekord` 0.0.2) entry (checked: canonical body,
//!   inclusion proof, signed checkpoint, SET); and a bundle v0.3.
//!
//! What it does **not** do: interactive OIDC login, ambient CI credentials, TUF, signing with
//! several logs at once (the first selected log is used), and full offline verification of the
//! bundle against an identity policy (`waxseal-verify`). Formats are the `waxseal-bundle`,
//! `-x509`, `-tsa`, `-note` and `-merkle` crates'; this crate only speaks HTTP and sequences.
//!
//! ```no_run
//! use std::time::SystemTime;
//! use waxseal_client::{Client, Content, Credential, IdentityToken, Instance};
//!
//! # async fn run() -> Result<(), waxseal_client::Error> {
//! let client = Client::new()?;
//! let trust = client.fetch_trust_config("http://127.0.0.1:8700").await?;
//! let instance = Instance::new(trust, SystemTime::now())?;
//! let token = IdentityToken::parse(&std::env::var("SIGSTORE_ID_TOKEN").unwrap_or_default())?;
//! let signed = client
//!     .sign(&instance, &Credential::IdentityToken(token), &Content::Artifact(b"hello".to_vec()))
//!     .await?;
//! std::fs::write("hello.sigstore.json", signed.bundle.to_json_pretty()).ok();
//! # Ok(())
//! # }
//! ```

mod error;
mod fulcio;
mod http;
mod rekor;
mod services;
mod sign;
mod timestamp;
mod token;

pub use error::{Error, Stage};
pub use services::SigningServices;
pub use sign::{Client, Content, Credential, IN_TOTO_PAYLOAD_TYPE, Instance, SignedBundle};
pub use token::IdentityToken;
