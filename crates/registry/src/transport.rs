//! One HTTP exchange with a registry: scheme choice, auth (anonymous, then the challenge's
//! Basic or Bearer), retries with backoff, blob-only redirects and bounded body reads.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode, Url};

use crate::auth::{Challenge, TokenResponse, parse_challenge};
use crate::{ClientConfig, Credentials, Error};

/// Most redirects followed for one blob GET.
pub(crate) const MAX_REDIRECTS: usize = 5;
/// First retry delay; doubled on each further retry.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Longest computed backoff.
const BACKOFF_CAP: Duration = Duration::from_secs(2);
/// Longest `Retry-After` honoured.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(5);
/// Largest error or token body read.
const SMALL_BODY_LIMIT: u64 = 64 * 1024;

/// State shared by all clones of a [`crate::Client`].
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) config: ClientConfig,
    docker_config: Option<PathBuf>,
    requests: AtomicU64,
    /// Locked only for map reads and writes, never across an await.
    auth: Mutex<AuthState>,
    /// Registries whose referrers API answered 404 (it has none: distribution-spec registries
    /// with the API answer 200, with an empty index for an unknown subject), so it is not
    /// asked again by this client. Locked only for set reads and writes.
    pub(crate) no_referrers_api: Mutex<HashSet<String>>,
}

#[derive(Default)]
struct AuthState {
    /// Bearer tokens by (registry, scope).
    tokens: HashMap<(String, String), String>,
    /// Registries that asked for Basic auth; credentials are then sent pre-emptively.
    basic: HashSet<String>,
    /// Credentials looked up per registry (`None`: there are none).
    credentials: HashMap<String, Option<Credentials>>,
}

impl std::fmt::Debug for AuthState {
    /// Registry names only: tokens and credentials are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthState")
            .field("tokens", &self.tokens.keys().collect::<Vec<_>>())
            .field("basic", &self.basic)
            .field("credentials", &self.credentials.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What to send.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// The registry name credentials are kept under.
    pub(crate) registry: &'a str,
    /// The token scope, `repository:<repo>:pull` or `...:pull,push`.
    pub(crate) scope: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
    /// Retry on 429/502/503/504 and connect errors (idempotent requests only).
    pub(crate) retry: bool,
    /// Follow redirects (blob GETs only).
    pub(crate) follow_redirects: bool,
    /// Send and obtain registry credentials (off for a URL on another origin, such as an
    /// upload `Location` on a storage host).
    pub(crate) send_auth: bool,
}

impl Transport {
    pub(crate) fn new(config: ClientConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .user_agent(concat!("waxseal/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| Error::Http {
                url: String::new(),
                source,
            })?;
        let docker_config = config
            .docker_config
            .clone()
            .or_else(crate::credentials::default_docker_config);
        Ok(Self {
            http,
            config,
            docker_config,
            requests: AtomicU64::new(0),
            auth: Mutex::new(AuthState::default()),
            no_referrers_api: Mutex::new(HashSet::new()),
        })
    }

    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// `<scheme>://<host>/v2/` for a registry API host.
    pub(crate) fn base_url(&self, api_host: &str) -> Result<Url, Error> {
        let text = format!(
            "{}://{api_host}/v2/",
            scheme_for(api_host, self.config.allow_insecure)
        );
        Url::parse(&text).map_err(|e| Error::InvalidResponse {
            url: text.clone(),
            reason: format!("not a URL: {e}"),
        })
    }

    /// Sends `request`, authenticating on a 401, retrying and following redirects as the
    /// request allows. The response is 2xx, 404 or another non-retried status; 401 after
    /// authenticating is [`Error::Unauthorized`].
    pub(crate) async fn send(&self, request: Request<'_>) -> Result<Response, Error> {
        let mut url = request.url.clone();
        let mut attempt = 0u32;
        let mut authenticated = false;
        let mut send_auth = request.send_auth;
        let mut redirects = 0usize;
        loop {
            let mut builder = self
                .http
                .request(request.method.clone(), url.clone())
                .headers(request.headers.clone());
            if send_auth && let Some(value) = self.auth_header(request.registry, &request.scope) {
                builder = builder.header(header::AUTHORIZATION, value);
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(method = %request.method, %url, attempt, "registry request");
            let response = match builder.send().await {
                Ok(response) => response,
                Err(source) => {
                    let error = Error::Http {
                        url: url.to_string(),
                        source,
                    };
                    if request.retry && error.is_retryable() && attempt < self.config.retries {
                        attempt += 1;
                        tokio::time::sleep(backoff(attempt, None)).await;
                        continue;
                    }
                    return Err(error);
                }
            };
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED {
                if !send_auth || authenticated {
                    return Err(Error::Unauthorized {
                        registry: request.registry.to_owned(),
                        message: error_message(response).await,
                    });
                }
                authenticated = true;
                let challenge = response
                    .headers()
                    .get(header::WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let message = error_message(response).await;
                self.authenticate(request.registry, &request.scope, challenge, message)
                    .await?;
                continue;
            }
            if matches!(status.as_u16(), 429 | 502 | 503 | 504)
                && request.retry
                && attempt < self.config.retries
            {
                attempt += 1;
                let delay = backoff(attempt, retry_after(response.headers()));
                tracing::debug!(%url, %status, ?delay, "registry asked to retry");
                tokio::time::sleep(delay).await;
                continue;
            }
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let followable = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
                let next = match (&location, request.follow_redirects && followable) {
                    (Some(location), true) => url.join(location).ok(),
                    _ => None,
                };
                let Some(next) = next else {
                    return Err(Error::Redirect {
                        url: url.to_string(),
                        status: status.as_u16(),
                        location,
                    });
                };
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(Error::TooManyRedirects {
                        url: request.url.to_string(),
                        limit: MAX_REDIRECTS,
                    });
                }
                check_url(&next, self.config.allow_insecure)?;
                // Storage backends on another origin get no registry credentials.
                if next.origin() != request.url.origin() {
                    send_auth = false;
                }
                url = next;
                continue;
            }
            return Ok(response);
        }
    }

    fn auth_header(&self, registry: &str, scope: &str) -> Option<HeaderValue> {
        let state = self.auth.lock().ok()?;
        let text = if let Some(token) = state.tokens.get(&(registry.to_owned(), scope.to_owned())) {
            format!("Bearer {token}")
        } else if state.basic.contains(registry) {
            basic(state.credentials.get(registry)?.as_ref()?)
        } else {
            return None;
        };
        let mut value = HeaderValue::from_str(&text).ok()?;
        value.set_sensitive(true);
        Some(value)
    }

    async fn credentials(&self, registry: &str) -> Result<Option<Credentials>, Error> {
        if let Some(credentials) = &self.config.credentials {
            return Ok(Some(credentials.clone()));
        }
        if let Ok(state) = self.auth.lock()
            && let Some(found) = state.credentials.get(registry)
        {
            return Ok(found.clone());
        }
        let found = match &self.docker_config {
            Some(path) => {
                crate::credentials::lookup(
                    path,
                    self.config.credential_helper_dir.as_deref(),
                    registry,
                )
                .await?
            }
            None => None,
        };
        if let Ok(mut state) = self.auth.lock() {
            state.credentials.insert(registry.to_owned(), found.clone());
        }
        Ok(found)
    }

    /// Answers a 401's challenge: remembers Basic, or fetches and caches a Bearer token.
    async fn authenticate(
        &self,
        registry: &str,
        scope: &str,
        challenge: Option<String>,
        message: String,
    ) -> Result<(), Error> {
        let unauthorized = |message: String| Error::Unauthorized {
            registry: registry.to_owned(),
            message,
        };
        let Some(challenge) = challenge.as_deref().and_then(parse_challenge) else {
            return Err(unauthorized(message));
        };
        let credentials = self.credentials(registry).await?;
        match challenge {
            Challenge::Basic => {
                let Some(credentials) = credentials else {
                    return Err(unauthorized(message));
                };
                if let Ok(mut state) = self.auth.lock() {
                    state.basic.insert(registry.to_owned());
                    state
                        .credentials
                        .insert(registry.to_owned(), Some(credentials));
                }
                Ok(())
            }
            Challenge::Bearer {
                realm,
                service,
                scope: challenge_scope,
            } => {
                // Our scope (pull, or pull,push for writes), and the challenge's when it asks
                // for something else.
                let mut scopes = vec![scope];
                if let Some(asked) = challenge_scope.as_deref()
                    && asked != scope
                {
                    scopes.push(asked);
                }
                let token = self
                    .fetch_token(
                        registry,
                        &realm,
                        service.as_deref(),
                        &scopes,
                        credentials.as_ref(),
                    )
                    .await?;
                if let Ok(mut state) = self.auth.lock() {
                    state
                        .tokens
                        .insert((registry.to_owned(), scope.to_owned()), token);
                }
                Ok(())
            }
        }
    }

    /// distribution `docs/spec/auth/token.md`: GET realm?service=&scope= with Basic
    /// credentials, or the OAuth2 refresh-token POST (`docs/spec/auth/oauth.md`) for an identity
    /// token.
    async fn fetch_token(
        &self,
        registry: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &[&str],
        credentials: Option<&Credentials>,
    ) -> Result<String, Error> {
        let mut url = Url::parse(realm).map_err(|e| Error::InvalidResponse {
            url: realm.to_owned(),
            reason: format!("Bearer realm is not a URL: {e}"),
        })?;
        check_url(&url, self.config.allow_insecure)?;
        let mut builder = match credentials {
            Some(credentials) if credentials.is_identity_token() => {
                let mut form =
                    Url::parse("http://form.invalid/").map_err(|e| Error::InvalidResponse {
                        url: realm.to_owned(),
                        reason: e.to_string(),
                    })?;
                {
                    let mut pairs = form.query_pairs_mut();
                    pairs
                        .append_pair("grant_type", "refresh_token")
                        .append_pair("refresh_token", &credentials.password)
                        .append_pair("client_id", "waxseal")
                        // oauth.md: space-separated scopes.
                        .append_pair("scope", &scopes.join(" "));
                    if let Some(service) = service {
                        pairs.append_pair("service", service);
                    }
                }
                self.http
                    .post(url.clone())
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.query().unwrap_or_default().to_owned())
            }
            _ => {
                {
                    let mut pairs = url.query_pairs_mut();
                    if let Some(service) = service {
                        pairs.append_pair("service", service);
                    }
                    for scope in scopes {
                        pairs.append_pair("scope", scope);
                    }
                }
                let mut builder = self.http.get(url.clone());
                if let Some(credentials) = credentials
                    && let Ok(mut value) = HeaderValue::from_str(&basic(credentials))
                {
                    value.set_sensitive(true);
                    builder = builder.header(header::AUTHORIZATION, value);
                }
                builder
            }
        };
        builder = builder.header(header::ACCEPT, "application/json");
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(registry, realm, ?scopes, "fetching registry token");
        let response = builder.send().await.map_err(|source| Error::Http {
            url: realm.to_owned(),
            source,
        })?;
        let status = response.status();
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(Error::Unauthorized {
                registry: registry.to_owned(),
                message: error_message(response).await,
            });
        }
        if !status.is_success() {
            return Err(status_error(response).await);
        }
        let body = read_limited(response, SMALL_BODY_LIMIT).await?;
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                url: realm.to_owned(),
                reason: format!("token response is not JSON: {e}"),
            })?;
        parsed.into_token().ok_or_else(|| Error::InvalidResponse {
            url: realm.to_owned(),
            reason: "token response has no \"token\" or \"access_token\"".to_owned(),
        })
    }
}

fn basic(credentials: &Credentials) -> String {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", credentials.username, credentials.password));
    format!("Basic {encoded}")
}

/// `http` for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`) or when insecure
/// registries are allowed, else `https`.
pub(crate) fn scheme_for(host: &str, allow_insecure: bool) -> &'static str {
    if allow_insecure || is_loopback(host) {
        "http"
    } else {
        "https"
    }
}

/// Refuses an http URL to a host that is not loopback unless insecure registries are allowed.
pub(crate) fn check_url(url: &Url, allow_insecure: bool) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure || url.host_str().is_some_and(is_loopback) => Ok(()),
        _ => Err(Error::Insecure {
            url: url.to_string(),
        }),
    }
}

/// Whether `host` (maybe with `:port`, IPv6 maybe bracketed) is a loopback host.
pub(crate) fn is_loopback(host: &str) -> bool {
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(delay) = retry_after {
        return delay.min(RETRY_AFTER_CAP);
    }
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_CAP)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds))
}

/// Reads a body of at most `limit` bytes, refusing a larger `Content-Length` before reading
/// and stopping as soon as the streamed body passes the limit.
pub(crate) async fn read_limited(mut response: Response, limit: u64) -> Result<Vec<u8>, Error> {
    let url = response.url().to_string();
    let too_large = || Error::TooLarge {
        url: url.clone(),
        limit,
    };
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    let capacity = response.content_length().unwrap_or(0).min(limit);
    let mut body = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response.chunk().await.map_err(|source| Error::Http {
        url: url.clone(),
        source,
    })? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The registry's error body (`{"errors":[{"code","message"}]}`) as `CODE: message; ...`, or
/// the start of a non-JSON body.
pub(crate) async fn error_message(response: Response) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let Ok(body) = read_limited(response, SMALL_BODY_LIMIT).await else {
        return String::new();
    };
    if let Ok(parsed) = serde_json::from_slice::<Errors>(&body) {
        return parsed
            .errors
            .iter()
            .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                (false, false) => format!("{}: {}", e.code, e.message),
                (false, true) => e.code.clone(),
                _ => e.message.clone(),
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    String::from_utf8_lossy(&body)
        .trim()
        .chars()
        .take(200)
        .collect()
}

/// An [`Error::Status`] for an unexpected response.
pub(crate) async fn status_error(response: Response) -> Error {
    let status = response.status().as_u16();
    let url = response.url().to_string();
    Error::Status {
        status,
        url,
        message: error_message(response).await,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn chooses_http_only_for_loopback_or_insecure() {
        for (host, insecure, want) in [
            ("localhost", false, "http"),
            ("localhost:5000", false, "http"),
            ("127.0.0.1:5000", false, "http"),
            ("127.1.2.3", false, "http"),
            ("[::1]:5000", false, "http"),
            ("ghcr.io", false, "https"),
            ("registry.example.com:5000", false, "https"),
            ("10.0.0.1:5000", false, "https"),
            ("localhost.example.com", false, "https"),
            ("registry.example.com:5000", true, "http"),
        ] {
            assert_eq!(
                scheme_for(host, insecure),
                want,
                "{host} insecure={insecure}"
            );
        }
    }

    #[test]
    fn refuses_plain_http_to_non_loopback() {
        let url = Url::parse("http://registry.example.com/v2/").unwrap();
        let err = check_url(&url, false).unwrap_err();
        assert!(matches!(err, Error::Insecure { .. }));
        assert!(err.to_string().contains("registry.example.com"), "{err}");
        assert!(check_url(&url, true).is_ok());
        assert!(check_url(&Url::parse("http://127.0.0.1:1/").unwrap(), false).is_ok());
        assert!(check_url(&Url::parse("http://[::1]:1/").unwrap(), false).is_ok());
        assert!(check_url(&Url::parse("https://example.com/").unwrap(), false).is_ok());
        assert!(check_url(&Url::parse("ftp://example.com/").unwrap(), true).is_err());
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1, None), Duration::from_millis(100));
        assert_eq!(backoff(2, None), Duration::from_millis(200));
        assert_eq!(backoff(30, None), BACKOFF_CAP);
        assert_eq!(backoff(1, Some(Duration::from_secs(60))), RETRY_AFTER_CAP);
        assert_eq!(backoff(1, Some(Duration::ZERO)), Duration::ZERO);
    }
}
