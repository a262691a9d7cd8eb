//! Token minting for waxseal's built-in OIDC issuer: ES256 ID tokens (RFC 7519, OpenID Connect
//! Core 1.0 §2), its JWK set (RFC 7517) and discovery document (OpenID Connect Discovery 1.0
//! §3). Serving them, and the login flow, belong to `waxseal-server`.

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

use crate::error::MintError;

/// Signs identity tokens for one issuer URL with an ECDSA P-256 key.
pub struct TokenIssuer {
    issuer_url: String,
    key: EncodingKey,
    jwk: Jwk,
    kid: String,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer_url", &self.issuer_url)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

#[derive(Serialize)]
struct Discovery<'a> {
    issuer: &'a str,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    response_types_supported: &'a [&'a str],
    subject_types_supported: &'a [&'a str],
    id_token_signing_alg_values_supported: &'a [&'a str],
    scopes_supported: &'a [&'a str],
    claims_supported: &'a [&'a str],
    code_challenge_methods_supported: &'a [&'a str],
    grant_types_supported: &'a [&'a str],
}

impl TokenIssuer {
    /// An issuer named `issuer_url` (the `iss` of its tokens) signing with the PKCS#8 DER
    /// ECDSA P-256 key `pkcs8_der` (as `waxseal_crypto::SigningKey::to_pkcs8_der` exports).
    /// The key id is the key's RFC 7638 SHA-256 thumbprint.
    ///
    /// # Errors
    ///
    /// [`MintError::InvalidKey`] if the key is not a P-256 PKCS#8 key.
    pub fn new(issuer_url: &str, pkcs8_der: &[u8]) -> Result<Self, MintError> {
        let key = EncodingKey::from_ec_der(pkcs8_der);
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::ES256)
            .map_err(|e| MintError::InvalidKey(e.to_string()))?;
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| MintError::InvalidKey(e.to_string()))?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self {
            issuer_url: issuer_url.to_owned(),
            key,
            jwk,
            kid,
        })
    }

    /// The issuer URL.
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// The key id in token headers and the JWKS.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Mints a token for `subject` valid from `now_unix` for `ttl_secs` seconds, with claims
    /// `iss, sub, aud, iat, nbf, exp`, and `email` plus `email_verified: true` when `email` is
    /// given (sigstore-js refuses an `email` without `email_verified`).
    ///
    /// # Errors
    ///
    /// [`MintError::Signing`] if the backend fails to sign.
    pub fn mint(
        &self,
        subject: &str,
        email: Option<&str>,
        audience: &str,
        ttl_secs: i64,
        now_unix: i64,
    ) -> Result<String, MintError> {
        let claims = Claims {
            iss: &self.issuer_url,
            sub: subject,
            aud: audience,
            iat: now_unix,
            nbf: now_unix,
            exp: now_unix.saturating_add(ttl_secs),
            email,
            email_verified: email.map(|_| true),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("JWT".to_owned());
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| MintError::Signing(e.to_string()))
    }

    /// The public JWK set document (`{"keys":[{"kty":"EC","crv":"P-256",...}]}`).
    pub fn jwks_json(&self) -> String {
        let set = JwkSet {
            keys: vec![self.jwk.clone()],
        };
        serde_json::to_string(&set).unwrap_or_default()
    }

    /// The discovery document, with endpoints under `base` (no trailing slash needed):
    /// `{base}/authorize`, `{base}/token`, `{base}/jwks`. `issuer` is the issuer URL.
    pub fn discovery_json(&self, base: &str) -> String {
        let base = base.trim_end_matches('/');
        let document = Discovery {
            issuer: &self.issuer_url,
            authorization_endpoint: format!("{base}/authorize"),
            token_endpoint: format!("{base}/token"),
            jwks_uri: format!("{base}/jwks"),
            response_types_supported: &["code"],
            subject_types_supported: &["public"],
            id_token_signing_alg_values_supported: &["ES256"],
            scopes_supported: &["openid", "email"],
            claims_supported: &["iss", "sub", "aud", "iat", "exp", "email", "email_verified"],
            code_challenge_methods_supported: &["S256"],
            grant_types_supported: &["authorization_code"],
        };
        serde_json::to_string(&document).unwrap_or_default()
    }
}
