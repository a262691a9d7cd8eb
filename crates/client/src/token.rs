//! OIDC identity tokens: reading the claims a signer needs, and the client-credentials grant
//! (RFC 6749 §4.4) at an issuer found by OpenID Connect Discovery 1.0 §4.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::http::{Http, Post, form_encode};
use crate::{Error, Stage};

/// An OIDC identity token (a JWT) with the claims the signer reads. The signature is not
/// checked here: the CA checks it. `Debug` does not show the token.
#[derive(Clone)]
pub struct IdentityToken {
    jwt: String,
    claims: Claims,
    all_claims: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    exp: Option<i64>,
}

impl IdentityToken {
    /// Reads a compact JWT's claims: `iss` and `sub` are required, `email` and `exp` read if
    /// present.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] if it is not a JWT with those claims.
    pub fn parse(jwt: &str) -> Result<Self, Error> {
        let jwt = jwt.trim();
        let invalid = |reason: String| Error::InvalidToken { reason };
        let mut parts = jwt.split('.');
        let (Some(_), Some(payload), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "not a compact JWT (three base64url parts joined by dots)".to_owned(),
            ));
        };
        let payload = URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .map_err(|e| invalid(format!("the payload is not base64url: {e}")))?;
        let all_claims: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&payload)
                .map_err(|e| invalid(format!("the claims are not a JSON object: {e}")))?;
        let claims: Claims = serde_json::from_value(serde_json::Value::Object(all_claims.clone()))
            .map_err(|e| invalid(format!("the claims are not usable: {e}")))?;
        Ok(Self {
            jwt: jwt.to_owned(),
            claims,
            all_claims,
        })
    }

    /// Every claim of the token (unverified: the CA verifies the token), e.g. the GitHub
    /// Actions claims provenance is built from.
    pub fn claims(&self) -> &serde_json::Map<String, serde_json::Value> {
        &self.all_claims
    }

    /// The JWT as given.
    pub fn as_str(&self) -> &str {
        &self.jwt
    }

    /// The `iss` claim.
    pub fn issuer(&self) -> &str {
        &self.claims.iss
    }

    /// The `sub` claim.
    pub fn subject(&self) -> &str {
        &self.claims.sub
    }

    /// The `email` claim, if any.
    pub fn email(&self) -> Option<&str> {
        self.claims.email.as_deref()
    }

    /// The identity the certificate will name: `email` if present, else `sub`.
    pub fn identity(&self) -> &str {
        self.email().unwrap_or_else(|| self.subject())
    }

    /// When the token expires (`exp`), if it says.
    pub fn expires_at(&self) -> Option<SystemTime> {
        let exp = u64::try_from(self.claims.exp?).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(exp))
    }

    /// Fails if the token has expired at `now`.
    pub(crate) fn check_unexpired(&self, now: SystemTime) -> Result<(), Error> {
        match self.expires_at() {
            Some(exp) if exp <= now => Err(Error::InvalidToken {
                reason: format!(
                    "it expired {}s ago: get a new one",
                    now.duration_since(exp).map_or(0, |d| d.as_secs())
                ),
            }),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for IdentityToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityToken")
            .field("iss", &self.claims.iss)
            .field("sub", &self.claims.sub)
            .field("email", &self.claims.email)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Discovery {
    token_endpoint: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

/// Gets a token with the client-credentials grant: discovery at
/// `{issuer}/.well-known/openid-configuration`, then a form POST of `grant_type`,
/// `client_id` and `client_secret` to its `token_endpoint`; the `access_token` is the identity
/// token (as sigstore-python uses it).
pub(crate) async fn client_credentials(
    http: &Http,
    issuer: &str,
    client_id: &str,
    client_secret: &str,
) -> Result<IdentityToken, Error> {
    let stage = Stage::IdentityToken;
    let discovery_url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let discovery: Discovery = serde_json::from_slice(&http.get(stage, &discovery_url).await?)
        .map_err(|e| Error::MalformedReply {
            stage,
            url: discovery_url.clone(),
            reason: e.to_string(),
        })?;
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        form_encode(client_id),
        form_encode(client_secret)
    );
    let url = discovery.token_endpoint;
    let reply = http
        .post(
            stage,
            &url,
            Post {
                content_type: "application/x-www-form-urlencoded",
                accept: Some("application/json"),
                bearer: None,
                body: body.into_bytes(),
            },
        )
        .await?;
    let response: TokenResponse =
        serde_json::from_slice(&reply).map_err(|e| Error::MalformedReply {
            stage,
            url: url.clone(),
            reason: e.to_string(),
        })?;
    IdentityToken::parse(&response.access_token)
}

#[derive(Deserialize)]
struct ActionsTokenResponse {
    value: String,
}

/// Gets the job's OIDC token in GitHub Actions, as `actions/toolkit` `getIDToken` and
/// sigstore-python do: GET `ACTIONS_ID_TOKEN_REQUEST_URL` with `audience` added to its query and
/// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` as the bearer token; the reply's `value` is the JWT (the job
/// needs `permissions: id-token: write`).
pub(crate) async fn github_actions(
    http: &Http,
    request_url: &str,
    request_token: &str,
    audience: &str,
) -> Result<IdentityToken, Error> {
    let stage = Stage::IdentityToken;
    let reply = http
        .get_authorized(stage, request_url, &[("audience", audience)], request_token)
        .await?;
    let response: ActionsTokenResponse =
        serde_json::from_slice(&reply).map_err(|e| Error::MalformedReply {
            stage,
            url: request_url.to_owned(),
            reason: format!("expected {{\"value\": JWT}}: {e}"),
        })?;
    IdentityToken::parse(&response.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        format!(
            "eyJhbGciOiJFUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn reads_claims_and_expiry() {
        let token = IdentityToken::parse(&jwt(
            r#"{"iss":"https://i","sub":"s","email":"a@b","exp":100,"aud":"sigstore"}"#,
        ))
        .unwrap();
        assert_eq!(token.issuer(), "https://i");
        assert_eq!(token.identity(), "a@b");
        let at = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        token.check_unexpired(at(99)).unwrap();
        assert!(matches!(
            token.check_unexpired(at(100)),
            Err(Error::InvalidToken { .. })
        ));
        assert!(!format!("{token:?}").contains("eyJ"), "Debug hides the JWT");
        let no_email = IdentityToken::parse(&jwt(r#"{"iss":"https://i","sub":"s"}"#)).unwrap();
        assert_eq!(no_email.identity(), "s");
    }

    #[test]
    fn rejects_what_is_not_a_token() {
        const CASES: &[(&str, &str)] = &[
            ("two parts", "a.b"),
            ("four parts", "a.b.c.d"),
            ("bad base64", "a.!!!.c"),
        ];
        for (name, text) in CASES {
            assert!(IdentityToken::parse(text).is_err(), "{name}");
        }
        assert!(
            IdentityToken::parse(&jwt(r#"{"sub":"s"}"#)).is_err(),
            "no iss"
        );
    }
}
