//! Fetching OIDC discovery documents and JWK sets for the CA's token verifier.
//!
//! The built-in issuer's documents are answered in process (a CA must not depend on reaching
//! itself over the network); every other issuer is fetched over HTTPS with a time and size
//! bound, refusing redirects, as `waxseal_oidc::JwksFetcher` requires.

use std::time::Duration;

use waxseal_oidc::{FetchError, JwksFetcher, TokenIssuer};

/// The largest discovery document or JWKS accepted.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The documents of the instance's own issuer, served without a network round trip.
#[derive(Debug, Clone)]
struct LocalIssuer {
    discovery_url: String,
    discovery: Vec<u8>,
    jwks_url: String,
    jwks: Vec<u8>,
}

/// A [`JwksFetcher`] over HTTP(S), with the built-in issuer answered locally.
///
/// `fetch` blocks: call it from a blocking thread (`spawn_blocking`), never from an async task.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
    local: Option<LocalIssuer>,
}

impl HttpFetcher {
    /// A fetcher running its requests on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    #[allow(clippy::expect_used)] // Building a client without custom TLS roots cannot fail.
    pub fn on_current_runtime() -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("waxseal/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with default TLS settings");
        Self {
            client,
            runtime: tokio::runtime::Handle::current(),
            local: None,
        }
    }

    /// Answers `issuer`'s discovery document and JWKS locally.
    #[must_use]
    pub fn with_local_issuer(mut self, issuer: &TokenIssuer) -> Self {
        let url = issuer.issuer_url().trim_end_matches('/');
        self.local = Some(LocalIssuer {
            discovery_url: format!("{url}/.well-known/openid-configuration"),
            discovery: issuer.discovery_json(issuer.issuer_url()).into_bytes(),
            jwks_url: format!("{url}/jwks"),
            jwks: issuer.jwks_json().into_bytes(),
        });
        self
    }

    async fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let transport = |e: reqwest::Error| FetchError::Transport(e.to_string());
        let mut response = self.client.get(url).send().await.map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return Err(FetchError::Transport(format!(
                    "document is larger than {MAX_DOCUMENT_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl JwksFetcher for HttpFetcher {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        if let Some(local) = &self.local {
            if url == local.discovery_url {
                return Ok(local.discovery.clone());
            }
            if url == local.jwks_url {
                return Ok(local.jwks.clone());
            }
        }
        self.runtime.block_on(self.get(url))
    }
}
