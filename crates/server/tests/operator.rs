//! The operator endpoints: `/healthz`, `/readyz` (503 when a store fails), `/admin/status`
//! (loopback or token only) and the per-log gauges in `/metrics`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_log::testing::{Failure, MemoryStore, Operation};
use waxseal_log::{Config, Log, StoreError};
use waxseal_note::Ed25519Signer;
use waxseal_server::operator::{OperatedLog, Operator, Sizes, StoreSizes};

const ORIGIN: &str = "operator.waxseal.test";
const TOKEN: &str = "an-admin-token-long-enough";

#[derive(Debug)]
struct FixedSizes;

impl StoreSizes for FixedSizes {
    fn sizes(&self) -> Result<Sizes, StoreError> {
        Ok(Sizes::of_log(BTreeMap::from([
            ("entries".to_owned(), 3000),
            ("tiles".to_owned(), 1000),
        ])))
    }
}

fn operated(store: Arc<MemoryStore>, entries: usize) -> OperatedLog {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let signer = Arc::new(Ed25519Signer::new(ORIGIN, key).unwrap());
    let config = Config::new(ORIGIN).with_batch(64, Duration::from_millis(1));
    let log = Log::open(Arc::clone(&store) as _, signer, config).unwrap();
    for i in 0..entries {
        log.append(format!("e{i}").into_bytes())
            .unwrap()
            .wait()
            .unwrap();
    }
    OperatedLog::new("rekor-v1", log, store, Arc::new(FixedSizes))
}

fn app(operator: Operator) -> Router {
    waxseal_server::operator::router(Arc::new(operator))
}

async fn call(
    app: Router,
    uri: &str,
    peer: Option<&str>,
    token: Option<&str>,
) -> (StatusCode, serde_json::Value) {
    let app = match peer {
        Some(peer) => app.layer(MockConnectInfo(peer.parse::<SocketAddr>().unwrap())),
        None => app,
    };
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn healthz_and_readyz_answer_when_the_store_does() {
    let store = Arc::new(MemoryStore::new());
    let app = app(Operator::new("memory", vec![operated(store, 3)]));
    let (status, body) = call(app.clone(), "/healthz", None, None).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("alive"))
    );
    let (status, body) = call(app, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ready"], true);
    assert_eq!(body["logs"]["rekor-v1"], "ready");
}

#[tokio::test]
async fn readyz_is_503_naming_the_log_whose_store_fails() {
    let store = Arc::new(MemoryStore::new());
    let app = app(Operator::new(
        "memory",
        vec![operated(Arc::clone(&store), 1)],
    ));
    store.fail_next(Operation::Load, Failure::NotPersisted);
    let (status, body) = call(app.clone(), "/readyz", None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["ready"], false);
    assert_eq!(body["logs"]["rekor-v1"], "store unreachable");
    // The cause is logged, not served.
    assert!(!body.to_string().contains("injected"), "{body}");
    let (status, _) = call(app, "/readyz", None, None).await;
    assert_eq!(status, StatusCode::OK, "ready again once the store answers");
}

#[tokio::test]
async fn admin_status_answers_loopback_and_token_holders_only() {
    let store = Arc::new(MemoryStore::new());
    let operator = Operator::new("memory", vec![operated(store, 5)])
        .with_admin_token(Some(waxseal_crypto::sha256(TOKEN.as_bytes())));
    let app = app(operator);
    for (peer, token, want) in [
        (None, None, StatusCode::FORBIDDEN),
        (Some("203.0.113.7:4000"), None, StatusCode::FORBIDDEN),
        (
            Some("203.0.113.7:4000"),
            Some("wrong-token-wrong-token"),
            StatusCode::FORBIDDEN,
        ),
        (Some("203.0.113.7:4000"), Some(TOKEN), StatusCode::OK),
        (Some("127.0.0.1:4000"), None, StatusCode::OK),
        (Some("[::1]:4000"), None, StatusCode::OK),
    ] {
        let (status, body) = call(app.clone(), "/admin/status", peer, token).await;
        assert_eq!(status, want, "peer {peer:?} token {token:?}: {body}");
        if status == StatusCode::FORBIDDEN {
            assert!(
                body["message"].as_str().unwrap().contains("loopback"),
                "{body}"
            );
        }
    }
    let (_, body) = call(app, "/admin/status", Some("127.0.0.1:1"), None).await;
    assert_eq!(body["backend"], "memory");
    let log = &body["logs"][0];
    assert_eq!(log["name"], "rekor-v1");
    assert_eq!(log["role"], "single");
    assert_eq!(log["checkpoint_size"], 5);
    assert_eq!(log["queued"], 0);
    assert_eq!(log["sizes"]["total_bytes"], 4000);
    assert_eq!(log["sizes"]["parts"]["tiles"], 1000);
}

#[tokio::test]
async fn admin_status_without_a_token_configured_refuses_any_bearer() {
    let store = Arc::new(MemoryStore::new());
    let app = app(Operator::new("memory", vec![operated(store, 1)]));
    let (status, _) = call(app, "/admin/status", Some("198.51.100.1:1"), Some(TOKEN)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
