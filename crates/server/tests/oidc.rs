//! The built-in OIDC issuer: its tokens verify with `waxseal_oidc::Verifier` fed only the
//! discovery document and JWK set the routes serve.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_oidc::{
    FetchError, IssuerConfig, IssuerType, JwksFetcher, OidcConfig, TokenIssuer, Verifier,
};
use waxseal_server::oidc::{BuiltinIssuer, ServiceAccount};

const ISSUER: &str = "http://issuer.waxseal.test";

pub(crate) fn test_issuer() -> Arc<BuiltinIssuer> {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let minter = TokenIssuer::new(ISSUER, &key.to_pkcs8_der()).unwrap();
    let account = ServiceAccount {
        client_id: "ci".into(),
        secret_sha256: hex::encode(waxseal_crypto::sha256(b"s3cret")),
        subject: "ci-robot".into(),
        email: Some("robot@example.com".into()),
    };
    Arc::new(BuiltinIssuer::new(minter, vec![account], 600))
}

async fn call(issuer: &Arc<BuiltinIssuer>, request: Request<Body>) -> (StatusCode, Value) {
    let response = waxseal_server::oidc::router(Arc::clone(issuer))
        .oneshot(request)
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn get(issuer: &Arc<BuiltinIssuer>, path: &str) -> Value {
    let (status, body) = call(issuer, Request::get(path).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    body
}

fn token_request(form: &str, basic: Option<&str>) -> Request<Body> {
    let mut request =
        Request::post("/token").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(credentials) = basic {
        request = request.header(
            header::AUTHORIZATION,
            format!("Basic {}", BASE64.encode(credentials)),
        );
    }
    request.body(Body::from(form.to_owned())).unwrap()
}

/// Serves what the routes answered, as the CA's fetcher would over HTTP.
struct Served {
    discovery: Vec<u8>,
    jwks: Vec<u8>,
}

impl JwksFetcher for Served {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        match url.strip_prefix(ISSUER) {
            Some("/.well-known/openid-configuration") => Ok(self.discovery.clone()),
            Some("/jwks") => Ok(self.jwks.clone()),
            _ => Err(FetchError::Status { status: 404 }),
        }
    }
}

#[tokio::test]
async fn client_credentials_tokens_verify_against_the_served_keys() {
    let issuer = test_issuer();
    let discovery = get(&issuer, "/.well-known/openid-configuration").await;
    assert_eq!(discovery["issuer"], ISSUER);
    assert_eq!(discovery["jwks_uri"], format!("{ISSUER}/jwks"));
    let jwks = get(&issuer, "/jwks").await;
    assert_eq!(jwks["keys"][0]["crv"], "P-256");

    let (status, answer) = call(
        &issuer,
        token_request(
            "grant_type=client_credentials&client_id=ci&client_secret=s3cret",
            None,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["token_type"], "Bearer");
    let token = answer["access_token"].as_str().unwrap();
    assert_eq!(answer["id_token"], token);

    let config = OidcConfig::new(
        vec![IssuerConfig::new(ISSUER, IssuerType::Email)],
        Vec::new(),
    )
    .unwrap();
    let served = Served {
        discovery: serde_json::to_vec(&discovery).unwrap(),
        jwks: serde_json::to_vec(&jwks).unwrap(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let verified = Verifier::new(config)
        .verify(token, now, &served)
        .expect("token verifies");
    assert_eq!(verified.subject(), "ci-robot");
    assert_eq!(verified.challenge_subject(), "robot@example.com");

    // HTTP Basic client authentication works too.
    let (status, _) = call(
        &issuer,
        token_request("grant_type=client_credentials", Some("ci:s3cret")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refuses_bad_clients_and_grants() {
    let issuer = test_issuer();
    for (name, request, status, error) in [
        (
            "wrong secret",
            token_request(
                "grant_type=client_credentials&client_id=ci&client_secret=nope",
                None,
            ),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "unknown client",
            token_request("grant_type=client_credentials", Some("who:s3cret")),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "no credentials",
            token_request("grant_type=client_credentials", None),
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        ),
        (
            "password grant",
            token_request(
                "grant_type=password&client_id=ci&client_secret=s3cret",
                None,
            ),
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            "interactive login",
            Request::get("/authorize").body(Body::empty()).unwrap(),
            StatusCode::BAD_REQUEST,
            "unsupported_response_type",
        ),
    ] {
        let (got, body) = call(&issuer, request).await;
        assert_eq!(
            (got, body["error"].as_str().unwrap_or_default()),
            (status, error),
            "{name}: {body}"
        );
    }
}
