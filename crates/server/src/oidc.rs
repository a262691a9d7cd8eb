//! waxseal's built-in OIDC issuer for private instances and tests: discovery, the JWK set, and
//! a token endpoint for configured service accounts (OAuth 2.0 client-credentials grant,
//! RFC 6749 §4.4). Interactive login is not offered: `/authorize` answers with the RFC 6749
//! §4.1.2.1 error `unsupported_response_type`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use waxseal_oidc::TokenIssuer;

/// A service account allowed to obtain tokens with the client-credentials grant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccount {
    /// The OAuth client ID.
    pub client_id: String,
    /// SHA-256 of the client secret, lowercase hex (the secret itself is never stored).
    pub secret_sha256: String,
    /// The token's `sub`.
    pub subject: String,
    /// The token's `email` (with `email_verified: true`), if any.
    #[serde(default)]
    pub email: Option<String>,
}

/// The built-in issuer: its signing key, its service accounts, and token lifetime.
#[derive(Debug)]
pub struct BuiltinIssuer {
    issuer: TokenIssuer,
    accounts: Vec<ServiceAccount>,
    ttl_secs: i64,
}

impl BuiltinIssuer {
    /// An issuer that mints tokens valid for `ttl_secs`.
    pub fn new(issuer: TokenIssuer, accounts: Vec<ServiceAccount>, ttl_secs: i64) -> Self {
        Self {
            issuer,
            accounts,
            ttl_secs,
        }
    }

    /// The issuer URL (`iss`).
    pub fn issuer_url(&self) -> &str {
        self.issuer.issuer_url()
    }

    /// The token minter (its discovery document and JWKS).
    pub fn token_issuer(&self) -> &TokenIssuer {
        &self.issuer
    }
}

/// The issuer's routes, served at the issuer URL's root.
pub fn router(issuer: Arc<BuiltinIssuer>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/authorize", get(authorize))
        .with_state(issuer)
}

fn json_text(text: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response()
}

async fn discovery(State(issuer): State<Arc<BuiltinIssuer>>) -> Response {
    json_text(issuer.issuer.discovery_json(issuer.issuer.issuer_url()))
}

async fn jwks(State(issuer): State<Arc<BuiltinIssuer>>) -> Response {
    json_text(issuer.issuer.jwks_json())
}

/// An RFC 6749 §5.2 error response.
#[derive(Serialize)]
struct OauthError {
    error: &'static str,
    error_description: String,
}

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> Response {
    (
        status,
        Json(OauthError {
            error,
            error_description: description.into(),
        }),
    )
        .into_response()
}

async fn authorize() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "unsupported_response_type",
        "this issuer has no interactive login: use the client_credentials grant at /token, or \
         `waxseal token` on the instance",
    )
}

#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    audience: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    id_token: String,
    token_type: &'static str,
    expires_in: i64,
}

/// Client credentials from HTTP Basic authentication (RFC 6749 §2.3.1), if present.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(BASE64.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Compares two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn token(
    State(issuer): State<Arc<BuiltinIssuer>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Ok(request) = serde_urlencoded::from_bytes::<TokenRequest>(&body) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body must be a form",
        );
    };
    if request.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!(
                "grant_type {:?} is not supported: use client_credentials",
                request.grant_type
            ),
        );
    }
    let Some((client_id, secret)) = basic_credentials(&headers)
        .or_else(|| Some((request.client_id.clone()?, request.client_secret.clone()?)))
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client credentials are missing",
        );
    };
    let digest = hex::encode(waxseal_crypto::sha256(secret.as_bytes()));
    let account = issuer.accounts.iter().find(|a| {
        a.client_id == client_id && constant_time_eq(a.secret_sha256.as_bytes(), digest.as_bytes())
    });
    let Some(account) = account else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let audience = request
        .audience
        .as_deref()
        .unwrap_or(waxseal_oidc::DEFAULT_CLIENT_ID);
    match issuer.issuer.mint(
        &account.subject,
        account.email.as_deref(),
        audience,
        issuer.ttl_secs,
        now,
    ) {
        Ok(token) => Json(TokenResponse {
            access_token: token.clone(),
            id_token: token,
            token_type: "Bearer",
            expires_in: issuer.ttl_secs,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(cause = %e, "couldn't mint a token");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "couldn't mint a token",
            )
        }
    }
}
