//! The CT log over HTTP: a precertificate from the CA gets an SCT that verifies, lands in the
//! data tiles at its `leaf_index` and is provably under the checkpoint; bad input is refused.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use waxseal_crypto::{Algorithm, SigningKey, sha256};
use waxseal_log::ct::{CtLog, StaticCtFormat, parse_data_tile};
use waxseal_log::testing::{GatedStore, MemoryStore};
use waxseal_log::{Config, Store, check_log};
use waxseal_merkle::{Hash, verify_inclusion};
use waxseal_note::{Checkpoint, Note};
use waxseal_x509::{
    CaNames, CertificateAuthority, CtSignedEntry, LeafRequest, Precertificate, San,
    SignedCertificateTimestamp, parse_leaf, verify_sct, x509_sct_signing_input,
};

const ORIGIN: &str = "ct.waxseal.test";

fn config() -> Config {
    Config::new(ORIGIN).with_batch(4096, Duration::from_millis(1))
}

fn ca() -> CertificateAuthority {
    let now = SystemTime::now();
    let year = Duration::from_secs(365 * 86_400);
    CertificateAuthority::generate(Algorithm::EcdsaP256Sha256, &CaNames::default(), now, year)
        .unwrap()
}

fn precert(ca: &CertificateAuthority, email: &str) -> Precertificate {
    let now = SystemTime::now();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let request = LeafRequest::new(
        key.public_key(),
        San::Email(email.into()),
        "https://issuer.waxseal.test",
        now,
        now + Duration::from_secs(600),
    )
    .unwrap();
    ca.issue_precertificate(&request).unwrap()
}

struct Fixture {
    ca: CertificateAuthority,
    ct: Arc<CtLog>,
    store: Arc<MemoryStore>,
}

fn fixture() -> Fixture {
    let ca = ca();
    let store = Arc::new(MemoryStore::new());
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let ct = CtLog::open(
        Arc::clone(&store),
        key,
        config(),
        vec![ca.root_der().to_vec()],
    )
    .unwrap();
    Fixture {
        ca,
        ct: Arc::new(ct),
        store,
    }
}

async fn call(
    ct: &Arc<CtLog>,
    request: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let response = waxseal_server::ct::router(Arc::clone(ct))
        .oneshot(request)
        .await
        .unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, body)
}

async fn get(ct: &Arc<CtLog>, uri: &str) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    call(ct, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn post(ct: &Arc<CtLog>, endpoint: &str, body: impl Into<Body>) -> (StatusCode, Value) {
    let request = Request::post(format!("/ct/ct/v1/{endpoint}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.into())
        .unwrap();
    let (status, _, body) = call(ct, request).await;
    (status, serde_json::from_slice(&body).unwrap())
}

fn chain_body(chain: &[&[u8]]) -> String {
    let chain: Vec<String> = chain.iter().map(|c| STANDARD.encode(c)).collect();
    json!({ "chain": chain }).to_string()
}

/// Rebuilds the TLS-encoded SCT from an RFC 6962 §4.1 JSON response.
fn sct_from_json(response: &Value) -> SignedCertificateTimestamp {
    assert_eq!(response["sct_version"], 0);
    let field = |name: &str| STANDARD.decode(response[name].as_str().unwrap()).unwrap();
    let extensions = field("extensions");
    let mut bytes = vec![0];
    bytes.extend_from_slice(&field("id"));
    bytes.extend_from_slice(&response["timestamp"].as_u64().unwrap().to_be_bytes());
    bytes.extend_from_slice(&u16::try_from(extensions.len()).unwrap().to_be_bytes());
    bytes.extend_from_slice(&extensions);
    bytes.extend_from_slice(&field("signature"));
    SignedCertificateTimestamp::from_bytes(&bytes).unwrap()
}

async fn checkpoint(ct: &Arc<CtLog>) -> Checkpoint {
    let (status, headers, body) = get(ct, "/ct/checkpoint").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
    let note = Note::parse(&body).unwrap();
    let verified = note.verify(&[ct.verifier()]).unwrap();
    Checkpoint::parse(verified.text()).unwrap()
}

#[tokio::test]
async fn precertificate_gets_an_sct_that_verifies_and_is_in_the_log() {
    let Fixture { ca, ct, store } = fixture();
    let intermediate = ca.intermediate_der();
    let first = precert(&ca, "first@waxseal.test");
    let (status, _) = post(
        &ct,
        "add-pre-chain",
        chain_body(&[first.der(), intermediate]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let precert = precert(&ca, "alice@waxseal.test");
    let (status, response) = post(
        &ct,
        "add-pre-chain",
        chain_body(&[precert.der(), intermediate]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let sct = sct_from_json(&response);
    assert_eq!(sct.log_id(), &ct.log_id());
    assert_eq!(sct.leaf_index().unwrap(), Some(1));
    verify_sct(
        &sct,
        &ct.public_key(),
        precert.issuer_key_hash(),
        precert.precert_tbs(),
    )
    .unwrap();

    // The final certificate embeds it, and the embedded SCT verifies as a client checks it.
    let leaf = ca.finish(&precert, std::slice::from_ref(&sct)).unwrap();
    let info = parse_leaf(leaf.der()).unwrap();
    verify_sct(
        &info.scts[0],
        &ct.public_key(),
        &ca.issuer_key_hash(),
        &info.precert_tbs,
    )
    .unwrap();

    // The checkpoint, signed with the RFC 6962 note signature, covers both entries.
    let checkpoint = checkpoint(&ct).await;
    assert_eq!((checkpoint.origin(), checkpoint.size()), (ORIGIN, 2));

    // The data tile holds the TimestampedEntry the SCT signed.
    let (status, headers, data) = get(&ct, "/ct/tile/data/000.p/2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let leaves = parse_data_tile(&data).unwrap();
    assert_eq!(leaves.len(), 2);
    let entry = &leaves[1];
    assert_eq!(entry.timestamp, sct.timestamp());
    assert_eq!(entry.extensions, sct.extensions());
    assert_eq!(entry.leaf_index().unwrap(), Some(1));
    assert_eq!(
        entry.entry,
        CtSignedEntry::Precert {
            issuer_key_hash: ca.issuer_key_hash(),
            tbs_certificate: precert.precert_tbs().to_vec(),
        }
    );
    assert_eq!(entry.pre_certificate.as_deref(), Some(precert.der()));
    assert_eq!(
        entry.certificate_chain,
        [sha256(intermediate), sha256(ca.root_der())]
    );

    // The level-0 tile holds its leaf hash, which proves inclusion in the checkpoint.
    let (status, _, tile) = get(&ct, "/ct/tile/0/000.p/2").await;
    assert_eq!(status, StatusCode::OK);
    let leaf_hash = entry.leaf_hash();
    assert_eq!(&tile[32..64], leaf_hash.as_bytes());
    let proof = ct.log().prove_inclusion(1, 2).unwrap();
    let from_tile = Hash::from_slice(&tile[32..64]).unwrap();
    verify_inclusion(&from_tile, 1, 2, &proof, &checkpoint.root()).unwrap();

    // Issuers are served by fingerprint.
    for der in [intermediate, ca.root_der()] {
        let (status, headers, body) =
            get(&ct, &format!("/ct/issuer/{}", hex::encode(sha256(der)))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/pkix-cert");
        assert_eq!(body, der);
    }

    // Resubmitting gets the first index and timestamp back.
    let (status, again) = post(
        &ct,
        "add-pre-chain",
        chain_body(&[precert.der(), intermediate, ca.root_der()]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let again = sct_from_json(&again);
    assert_eq!(
        (again.timestamp(), again.leaf_index().unwrap()),
        (sct.timestamp(), Some(1))
    );
    assert_eq!(checkpoint_size(&ct), 2);

    // The store passes the fsck, reading entries through the CT format.
    let format = config().with_format(Arc::new(StaticCtFormat));
    let checked = check_log(store.as_ref() as &dyn Store, &format, ct.verifier()).unwrap();
    assert_eq!(checked.size, 2);
}

fn checkpoint_size(ct: &CtLog) -> u64 {
    ct.checkpoint().size
}

#[tokio::test]
async fn final_certificate_chain_gets_an_x509_entry_sct() {
    let Fixture { ca, ct, .. } = fixture();
    let precert = precert(&ca, "bob@waxseal.test");
    let (_, response) = post(
        &ct,
        "add-pre-chain",
        chain_body(&[precert.der(), ca.intermediate_der()]),
    )
    .await;
    let leaf = ca.finish(&precert, &[sct_from_json(&response)]).unwrap();
    let (status, response) = post(
        &ct,
        "add-chain",
        chain_body(&[leaf.der(), ca.intermediate_der()]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{response}");
    let sct = sct_from_json(&response);
    assert_eq!(sct.leaf_index().unwrap(), Some(1));
    let input = x509_sct_signing_input(sct.timestamp(), leaf.der(), sct.extensions()).unwrap();
    ct.public_key().verify(&input, sct.signature()).unwrap();
    let (_, _, data) = get(&ct, "/ct/tile/data/000.p/2").await;
    let leaves = parse_data_tile(&data).unwrap();
    assert_eq!(
        leaves[1].entry,
        CtSignedEntry::X509 {
            certificate: leaf.der().to_vec()
        }
    );
    assert_eq!(leaves[1].pre_certificate, None);
}

#[tokio::test]
async fn get_roots_lists_the_ca_root() {
    let Fixture { ca, ct, .. } = fixture();
    let (status, _, body) = get(&ct, "/ct/ct/v1/get-roots").await;
    assert_eq!(status, StatusCode::OK);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({ "certificates": [STANDARD.encode(ca.root_der())] })
    );
}

#[tokio::test]
async fn bad_submissions_are_refused_with_a_reason() {
    let Fixture { ca, ct, .. } = fixture();
    let other = self::ca();
    let precert = precert(&ca, "carol@waxseal.test");
    let other_precert = self::precert(&other, "mallory@waxseal.test");
    let intermediate = ca.intermediate_der();
    let oversize = format!(
        "{{\"chain\": [\"{}\"]}}",
        "A".repeat(waxseal_server::ct::MAX_CHAIN_REQUEST_BYTES)
    );
    let cases: [(&str, &str, String, StatusCode, &str); 10] = [
        (
            "not JSON",
            "add-pre-chain",
            "chain".into(),
            StatusCode::BAD_REQUEST,
            "not JSON",
        ),
        (
            "no chain field",
            "add-pre-chain",
            "{}".into(),
            StatusCode::BAD_REQUEST,
            "not JSON",
        ),
        (
            "bad base64",
            "add-pre-chain",
            r#"{"chain": ["%%%"]}"#.into(),
            StatusCode::BAD_REQUEST,
            "chain[0] is not base64",
        ),
        (
            "empty chain",
            "add-pre-chain",
            r#"{"chain": []}"#.into(),
            StatusCode::BAD_REQUEST,
            "chain is empty",
        ),
        (
            "unparsable certificate",
            "add-pre-chain",
            chain_body(&[b"junk", intermediate]),
            StatusCode::BAD_REQUEST,
            "chain[0]",
        ),
        (
            "another CA",
            "add-pre-chain",
            chain_body(&[other_precert.der(), other.intermediate_der()]),
            StatusCode::BAD_REQUEST,
            "accepts",
        ),
        (
            "precert to add-chain",
            "add-chain",
            chain_body(&[precert.der(), intermediate]),
            StatusCode::BAD_REQUEST,
            "add-pre-chain",
        ),
        (
            "certificate to add-pre-chain",
            "add-pre-chain",
            chain_body(&[intermediate, ca.root_der()]),
            StatusCode::BAD_REQUEST,
            "poison",
        ),
        (
            "signature broken",
            "add-pre-chain",
            chain_body(&[precert.der(), other.intermediate_der()]),
            StatusCode::BAD_REQUEST,
            "signature",
        ),
        (
            "oversize body",
            "add-pre-chain",
            oversize,
            StatusCode::PAYLOAD_TOO_LARGE,
            "limit",
        ),
    ];
    for (name, endpoint, body, expected, message) in cases {
        let (status, response) = post(&ct, endpoint, body).await;
        assert_eq!(status, expected, "{name}: {response}");
        let text = response["message"].as_str().unwrap();
        assert!(
            text.contains(message),
            "{name}: message {text:?} lacks {message:?}"
        );
    }
    assert_eq!(checkpoint_size(&ct), 0, "nothing was logged");

    // Read paths refuse what does not exist.
    for (uri, expected) in [
        ("/ct/tile/data/000.p/1", StatusCode::NOT_FOUND),
        ("/ct/tile/entries/000", StatusCode::NOT_FOUND),
        ("/ct/tile/0/x", StatusCode::BAD_REQUEST),
        ("/ct/issuer/00", StatusCode::BAD_REQUEST),
        (
            &*format!("/ct/issuer/{}", "AB".repeat(32)),
            StatusCode::BAD_REQUEST,
        ),
        (
            &*format!("/ct/issuer/{}", "ab".repeat(32)),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(get(&ct, uri).await.0, expected, "{uri}");
    }
}

#[tokio::test]
async fn full_pool_answers_503_with_retry_after() {
    let ca = ca();
    let store = Arc::new(GatedStore::new());
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let ct = Arc::new(
        CtLog::open(
            Arc::clone(&store),
            key,
            config().with_pool(1, 1 << 20),
            vec![ca.root_der().to_vec()],
        )
        .unwrap(),
    );
    store.close();
    let submit = |email: &str| {
        let body = chain_body(&[precert(&ca, email).der(), ca.intermediate_der()]);
        let ct = Arc::clone(&ct);
        tokio::spawn(async move { post(&ct, "add-pre-chain", body).await })
    };
    // One entry held at the store's gate, one waiting in the pool of one.
    let held = submit("held@waxseal.test");
    while store.waiting() == 0 {
        tokio::task::yield_now().await;
    }
    let queued = submit("queued@waxseal.test");
    while ct.log().pending() == 0 {
        tokio::task::yield_now().await;
    }
    let request = Request::post("/ct/ct/v1/add-pre-chain")
        .body(Body::from(chain_body(&[
            precert(&ca, "refused@waxseal.test").der(),
            ca.intermediate_der(),
        ])))
        .unwrap();
    let (status, headers, _) = call(&ct, request).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(headers[header::RETRY_AFTER], "1");
    store.open();
    assert_eq!(held.await.unwrap().0, StatusCode::OK);
    assert_eq!(queued.await.unwrap().0, StatusCode::OK);
}
