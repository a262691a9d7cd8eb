//! The tlog-tiles read API.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_log::testing::MemoryStore;
use waxseal_log::{Config, Log};
use waxseal_merkle::leaf_hash;
use waxseal_note::{Checkpoint, Ed25519Signer, Ed25519Verifier, Note};

const ORIGIN: &str = "tlog.waxseal.test";

fn log_with(entries: usize) -> (Log, Ed25519Verifier) {
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let verifier = Ed25519Verifier::new(ORIGIN, &key.public_key()).unwrap();
    let signer = Arc::new(Ed25519Signer::new(ORIGIN, key).unwrap());
    let config = Config::new(ORIGIN).with_batch(4096, Duration::from_millis(1));
    let log = Log::open(Arc::new(MemoryStore::new()), signer, config).unwrap();
    let pending: Vec<_> = (0..entries)
        .map(|i| log.append(format!("e{i}").into_bytes()).unwrap())
        .collect();
    for p in pending {
        p.wait().unwrap();
    }
    (log, verifier)
}

async fn get(log: &Log, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = waxseal_server::tlog::router(log.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn serves_the_signed_checkpoint_uncached() {
    let (log, verifier) = log_with(300);
    let (status, headers, body) = get(&log, "/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let note = Note::parse(&body).unwrap();
    let checkpoint = Checkpoint::parse(note.verify(&[&verifier]).unwrap().text()).unwrap();
    assert_eq!((checkpoint.origin(), checkpoint.size()), (ORIGIN, 300));
}

#[tokio::test]
async fn serves_tiles_and_bundles_that_recompute_the_root() {
    let (log, _) = log_with(300);
    let (status, headers, full) = get(&log, "/tile/0/000").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert!(
        headers[header::CACHE_CONTROL]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    assert_eq!(full.len(), 256 * 32);
    let (_, _, partial) = get(&log, "/tile/0/001.p/44").await;
    assert_eq!(partial.len(), 44 * 32);
    // The bundle's entries hash to the tile's leaves.
    let (status, _, bundle) = get(&log, "/tile/entries/001.p/44").await;
    assert_eq!(status, StatusCode::OK);
    let bundle = waxseal_tiles::EntryBundle::parse(&bundle).unwrap();
    for (i, entry) in bundle.entries().iter().enumerate() {
        assert_eq!(
            leaf_hash(entry).as_bytes(),
            &partial[i * 32..(i + 1) * 32],
            "entry {i}"
        );
    }
    assert_eq!(bundle.entries()[0], b"e256");
}

#[tokio::test]
async fn missing_and_malformed_tiles_are_refused() {
    let (log, _) = log_with(300);
    for (uri, status) in [
        ("/tile/0/001", StatusCode::NOT_FOUND), // only 44 wide so far
        ("/tile/0/001.p/45", StatusCode::NOT_FOUND), // wider than published
        ("/tile/1/000", StatusCode::NOT_FOUND), // level 1 not started
        ("/tile/entries/002", StatusCode::NOT_FOUND),
        ("/tile/0/1", StatusCode::BAD_REQUEST), // not 3 digits
        ("/tile/0/x000", StatusCode::BAD_REQUEST),
        ("/tile/0/000.p/0", StatusCode::BAD_REQUEST),
        ("/tile/0/000.p/256", StatusCode::BAD_REQUEST),
        ("/tile/64/000", StatusCode::BAD_REQUEST),
        ("/tile/entries/abc", StatusCode::BAD_REQUEST),
    ] {
        let (got, _, body) = get(&log, uri).await;
        assert_eq!(got, status, "{uri}: {}", String::from_utf8_lossy(&body));
    }
}

#[tokio::test]
async fn serves_over_a_real_socket() {
    let (log, _) = log_with(3);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server =
        tokio::spawn(axum::serve(listener, waxseal_server::tlog::router(log)).into_future());
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(&format!("\r\n\r\n{ORIGIN}\n3\n")),
        "{response}"
    );
    server.abort();
}
