//! The timestamp authority routes, with every token verified by `waxseal_tsa::verify_timestamp`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use tower::ServiceExt;
use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa, TsaKeys, verify_timestamp};

pub(crate) fn test_tsa() -> Arc<Tsa> {
    let keys = TsaKeys::generate(
        SystemTime::now() - Duration::from_secs(60),
        Duration::from_secs(86_400),
    )
    .unwrap();
    Arc::new(Tsa::new(keys))
}

async fn post(tsa: &Arc<Tsa>, content_type: &str, body: Vec<u8>) -> (StatusCode, String, Vec<u8>) {
    let request = Request::post("/api/v1/timestamp")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let response = waxseal_server::tsa::router(Arc::clone(tsa))
        .oneshot(request)
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        parts.status,
        content_type,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn timestamps_der_and_json_requests() {
    let tsa = test_tsa();
    let chain = tsa.keys().chain_der();
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    let signature = b"the signature bytes a client timestamps";
    let digest = waxseal_crypto::sha256(signature);

    let der = TimeStampRequest::new(HashAlgorithm::Sha256, &digest)
        .unwrap()
        .with_nonce(42)
        .with_cert_req(true)
        .to_der()
        .unwrap();
    let (status, content_type, response) = post(&tsa, "application/timestamp-query", der).await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "application/timestamp-reply")
    );
    verify_timestamp(&response, signature, &chain).expect("DER request's token verifies");

    let json =
        serde_json::json!({ "artifactHash": BASE64.encode(digest), "hashAlgorithm": "sha256" });
    let (status, _, response) =
        post(&tsa, "application/json", serde_json::to_vec(&json).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let verified =
        verify_timestamp(&response, signature, &chain).expect("JSON request's token verifies");
    let age = SystemTime::now()
        .duration_since(verified.gen_time())
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60));
    assert!(
        verify_timestamp(&response, b"other bytes", &chain).is_err(),
        "fails closed"
    );
}

#[tokio::test]
async fn rejects_bad_requests_with_json_errors() {
    let tsa = test_tsa();
    for (name, content_type, body, status) in [
        (
            "garbage DER",
            "application/timestamp-query",
            b"\x30\x03abc".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "malformed JSON",
            "application/json",
            b"{".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "short digest",
            "application/json",
            br#"{"artifactHash":"AAAA","hashAlgorithm":"sha256"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong content type",
            "text/plain",
            b"x".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "oversized",
            "application/json",
            vec![b' '; 20_000],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let (got, _, body) = post(&tsa, content_type, body).await;
        assert_eq!(got, status, "{name}: {}", String::from_utf8_lossy(&body));
        if status != StatusCode::PAYLOAD_TOO_LARGE {
            let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(error["code"], status.as_u16(), "{name}");
        }
    }
}

#[tokio::test]
async fn serves_the_certificate_chain() {
    let tsa = test_tsa();
    let request = Request::get("/api/v1/timestamp/certchain")
        .body(Body::empty())
        .unwrap();
    let response = waxseal_server::tsa::router(Arc::clone(&tsa))
        .oneshot(request)
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 2);
    assert_eq!(text, tsa.keys().chain_pem());
}
