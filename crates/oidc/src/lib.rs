//! OIDC identity tokens for a Fulcio-compatible CA: verification, identity mapping, issuance
//! rules, and minting for waxseal's built-in issuer.
//!
//! What it implements:
//!
//! - [`Verifier::verify`]: ID-token validation as OpenID Connect Core 1.0 §3.1.3.7 and Fulcio
//!   apply it. The issuer is found by exact `iss` or a meta-issuer pattern (sigstore/fulcio
//!   `pkg/config/config.go`); keys come from `{iss}/.well-known/openid-configuration` →
//!   `jwks_uri` (OpenID Connect Discovery 1.0 §4) and are cached with a TTL, with one
//!   rate-limited refetch when a token names an unknown `kid` (key rotation). Only RS*/PS*,
//!   ES256/ES384 and EdDSA are accepted (`alg: none` and HS* are refused by name). `aud` must
//!   contain the issuer's client id (default `sigstore`), `exp` is checked against the caller's
//!   clock without leeway (as Fulcio: expired once `exp <= now`), `nbf`/`iat` with at most
//!   [`MAX_LEEWAY_SECS`] of skew, and email issuers need
//!   `email_verified` true (a bool or the string `"true"`).
//! - [`VerifiedToken::identity`]: the certificate identity as Fulcio's principals build it
//!   (sigstore/fulcio `pkg/identity/*`): the SAN, the issuer for OIDs
//!   `1.3.6.1.4.1.57264.1.1`/`.8`, the subject for `.24`, and the CI claims for `.2`–`.6` and
//!   `.9`–`.23` (`docs/oid-info.md`) from Fulcio's `ci-issuer-metadata` templates.
//! - [`VerifiedToken::challenge_subject`]: what the proof of possession signs (`email`, else
//!   `sub`).
//! - [`Identity::check_rules`]: per-issuer issuance rules ([`IssuanceRules`]).
//! - [`TokenIssuer`]: ES256 tokens, JWKS and discovery documents for the built-in issuer.
//!
//! What it does not do: no HTTP and no clock. Documents are fetched through [`JwksFetcher`],
//! which `waxseal-server` (and `waxseal-client`) implement; time is a parameter. DER encoding of
//! the SAN and extensions is `waxseal-x509`'s job, and the login flow of the built-in issuer is
//! `waxseal-server`'s. Fulcio's federated `issuer-claim` (Dex) and the `chainguard-identity`,
//! `buildkite-job`, `codefresh-workflow` and `circleci-job` built-in types are not included;
//! the CI ones can be configured as `[ci_provider.NAME]` templates.
//!
//! # Configuration
//!
//! [`OidcConfig::from_toml`] reads:
//!
//! ```toml
//! # Exact issuers. client_id defaults to "sigstore".
//! [[issuer]]
//! url = "https://accounts.google.com"
//! type = "email"
//!
//! [[issuer]]
//! url = "https://token.actions.githubusercontent.com"
//! type = "ci-provider"                 # or "github-workflow"
//! ci_provider = "github-workflow"      # built in; so is "gitlab-pipeline"
//!
//! # Optional issuance rules: every listed condition must hold.
//! [issuer.rules]
//! san = ["https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"]
//! san_regex = ['https://github\.com/acme/app/\.github/workflows/.*@refs/tags/v.*']
//! claims = { repository = "acme/app", event_name = ["push", "release"] }
//! claims_regex = { ref = 'refs/(heads/main|tags/v.*)' }
//!
//! [[issuer]]
//! url = "https://spire.example.com"
//! type = "spiffe"
//! trust_domain = "example.com"
//!
//! [[issuer]]
//! url = "https://ci.example.com"
//! type = "uri"                         # sub must be a URI under subject_domain
//! subject_domain = "https://ci.example.com"
//!
//! [[issuer]]
//! url = "https://login.example.com"
//! type = "username"                    # SAN otherName "sub!example.com"
//! subject_domain = "example.com"
//! client_id = "waxseal"
//!
//! # Meta-issuers: each `*` matches one [-_a-zA-Z0-9]+ label or path segment.
//! [[meta_issuer]]
//! url = "https://oidc.eks.*.amazonaws.com/id/*"
//! type = "kubernetes"
//!
//! # Template-driven CI providers (Fulcio's ci-issuer-metadata). Without "{{", a template is a
//! # claim name; claims override defaults; a missing key refuses the token.
//! [ci_provider.buildkite-job]
//! subject_alternative_name_template = "{{.url}}/{{.organization_slug}}/{{.pipeline_slug}}"
//! default_template_values = { url = "https://buildkite.com" }
//! extension_templates = { runner-environment = "runner_environment", source-repository-digest = "build_commit" }
//! ```
//!
//! # Example
//!
//! ```
//! use std::collections::HashMap;
//! use waxseal_oidc::{FetchError, JwksFetcher, OidcConfig, TokenIssuer, Verifier};
//!
//! /// Serves documents from memory; `waxseal-server` implements this over HTTP.
//! struct Documents(HashMap<String, Vec<u8>>);
//! impl JwksFetcher for Documents {
//!     fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
//!         self.0.get(url).cloned().ok_or(FetchError::Status { status: 404 })
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP256Sha256)?;
//! let issuer = TokenIssuer::new("https://oidc.example.com", &key.to_pkcs8_der())?;
//! let now = 1_800_000_000;
//! let token = issuer.mint("alice", Some("alice@example.com"), "sigstore", 300, now)?;
//!
//! let fetcher = Documents(HashMap::from([
//!     (
//!         "https://oidc.example.com/.well-known/openid-configuration".to_owned(),
//!         issuer.discovery_json("https://oidc.example.com").into_bytes(),
//!     ),
//!     ("https://oidc.example.com/jwks".to_owned(), issuer.jwks_json().into_bytes()),
//! ]));
//! let config = OidcConfig::from_toml(
//!     "[[issuer]]\nurl = \"https://oidc.example.com\"\ntype = \"email\"\n",
//! )?;
//! let verifier = Verifier::new(config);
//!
//! let verified = verifier.verify(&token, now + 10, &fetcher)?;
//! assert_eq!(verified.challenge_subject(), "alice@example.com");
//! let identity = verified.identity()?;
//! assert_eq!(identity.san().value(), "alice@example.com");
//! identity.check_rules()?;
//! # Ok(())
//! # }
//! ```

mod ci;
mod config;
mod error;
mod identity;
mod issuer;
mod rules;
mod template;
mod verifier;

pub use config::{DEFAULT_CLIENT_ID, IssuerConfig, IssuerType, OidcConfig};
pub use error::{ConfigError, Error, FetchError, IdentityError, MintError, Refused};
pub use identity::{
    Identity, OID_ISSUER, OID_ISSUER_V2, OID_OTHER_NAME_SAN, OID_TOKEN_SUBJECT,
    SubjectAlternativeName,
};
pub use issuer::TokenIssuer;
pub use rules::IssuanceRules;
pub use verifier::{
    DEFAULT_JWKS_TTL_SECS, DEFAULT_REFETCH_INTERVAL_SECS, JwksFetcher, MAX_CACHED_ISSUERS,
    MAX_LEEWAY_SECS, VerifiedToken, Verifier,
};
