//! The Rekor v1 and v2 APIs, driven through the router as a client would, with every response
//! checked cryptographically (SET, inclusion proof, checkpoint signature).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use waxseal_crypto::{Algorithm, SigningKey, sha256};
use waxseal_log::testing::{GatedStore, MemoryStore};
use waxseal_log::{Config, Log, Store};
use waxseal_merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use waxseal_note::{
    Checkpoint, Ed25519Signer, Ed25519Verifier, Note, RekorV1Signer, RekorV1Verifier,
};
use waxseal_server::Metrics;
use waxseal_server::rekor::{Rekor, V1Log, V2Log};

const HOST: &str = "rekor.waxseal.test";

struct Instance {
    app: Router,
    v1_key: waxseal_crypto::PublicKey,
    v2_key: waxseal_crypto::PublicKey,
    v2_log_id: [u8; 32],
    v1_log: Log,
}

fn seeded(store: Arc<dyn Store>, signer: Arc<dyn waxseal_note::NoteSigner>, config: Config) -> Log {
    let log = Log::open(store, signer, config).unwrap();
    log.append(b"genesis".to_vec()).unwrap().wait().unwrap();
    log
}

/// A store size report with nothing in it.
#[derive(Debug)]
struct NoSizes;

impl waxseal_server::operator::StoreSizes for NoSizes {
    fn sizes(&self) -> Result<waxseal_server::operator::Sizes, waxseal_log::StoreError> {
        Ok(waxseal_server::operator::Sizes::default())
    }
}

fn instance_with(v1_store: Arc<dyn Store>, v1_config: Config, limit: Option<usize>) -> Instance {
    let v1_signing = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let v1_key = v1_signing.public_key();
    let v1_signer = Arc::new(
        RekorV1Signer::new(
            HOST,
            SigningKey::from_pkcs8_der(&v1_signing.to_pkcs8_der()).unwrap(),
        )
        .unwrap(),
    );
    let v1_log = seeded(Arc::clone(&v1_store), v1_signer, v1_config);
    let operated = waxseal_server::operator::OperatedLog::new(
        "rekor-v1",
        v1_log.clone(),
        v1_store,
        Arc::new(NoSizes),
    );
    let v2_signing = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let v2_key = v2_signing.public_key();
    let v2_log_id = waxseal_note::rekor_v2_log_id(HOST, &v2_key.raw_ed25519().unwrap());
    let v2_signer = Arc::new(Ed25519Signer::new(HOST, v2_signing).unwrap());
    let v2_config = Config::new(HOST).with_batch(64, Duration::from_millis(1));
    let v2_log = seeded(Arc::new(MemoryStore::new()), v2_signer, v2_config);
    let metrics = Arc::new(Metrics::new());
    let mut rekor = Rekor::new(
        V1Log {
            log: v1_log.clone(),
            key: v1_signing,
            tree_id: 42,
        },
        V2Log {
            log: v2_log,
            log_id: v2_log_id,
        },
        Arc::clone(&metrics),
    );
    if let Some(limit) = limit {
        rekor = rekor.with_max_request_bytes(limit);
    }
    Instance {
        app: waxseal_server::app(waxseal_server::Services {
            rekor: Arc::new(rekor),
            tsa: crate::tsa::test_tsa(),
            issuer: crate::oidc::test_issuer(),
            fulcio: crate::fulcio::test_fulcio(),
            extra: Router::new(),
            trust: Default::default(),
            metrics,
            operator: Arc::new(waxseal_server::operator::Operator::new(
                "memory",
                vec![operated],
            )),
        }),
        v1_key,
        v2_key,
        v2_log_id,
        v1_log,
    }
}

fn instance() -> Instance {
    let config = Config::new(format!("{HOST} - 42")).with_batch(64, Duration::from_millis(1));
    instance_with(Arc::new(MemoryStore::new()), config, None)
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Option<Vec<u8>>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn post_json(
    app: &Router,
    uri: &str,
    value: &Value,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let (status, headers, body) =
        call(app, "POST", uri, Some(serde_json::to_vec(value).unwrap())).await;
    (
        status,
        headers,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

async fn get_json(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = call(app, "GET", uri, None).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A signer of artifacts, as a client would hold.
struct Client {
    key: SigningKey,
}

impl Client {
    fn new() -> Self {
        Self {
            key: SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap(),
        }
    }

    fn hashedrekord_v1(&self, artifact: &[u8], key_pem: &str) -> Value {
        let signature = self.key.sign(artifact).unwrap();
        json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "signature": {
                    "content": BASE64.encode(signature),
                    "publicKey": { "content": BASE64.encode(key_pem) },
                },
                "data": { "hash": { "algorithm": "sha256", "value": hex::encode(sha256(artifact)) } },
            },
        })
    }

    fn v1(&self, artifact: &[u8]) -> Value {
        self.hashedrekord_v1(artifact, &self.key.public_key().to_pem())
    }

    fn v2(&self, artifact: &[u8]) -> Value {
        json!({
            "hashedRekordRequestV002": {
                "digest": BASE64.encode(sha256(artifact)),
                "signature": {
                    "content": BASE64.encode(self.key.sign(artifact).unwrap()),
                    "verifier": {
                        "publicKey": { "rawBytes": BASE64.encode(self.key.public_key().spki_der()) },
                        "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    },
                },
            },
        })
    }
}

fn hex_hash(value: &Value) -> Hash {
    Hash::from_hex(value.as_str().unwrap()).unwrap()
}

/// Checks a v1 entry the way sigstore-python does: SET, inclusion proof, signed checkpoint.
fn check_v1_entry(instance: &Instance, entry: &Value) {
    let body = BASE64.decode(entry["body"].as_str().unwrap()).unwrap();
    let log_id = sha256(instance.v1_key.spki_der());
    assert_eq!(entry["logID"], hex::encode(log_id));
    let index = entry["logIndex"].as_u64().unwrap();
    assert!(index >= 1, "index 0 is the genesis entry");
    let payload = waxseal_bundle::rekor::set_payload(
        &body,
        entry["integratedTime"].as_i64().unwrap(),
        &log_id,
        index,
    );
    let set = BASE64
        .decode(
            entry["verification"]["signedEntryTimestamp"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    instance
        .v1_key
        .verify(&payload, &set)
        .expect("SET verifies with the log key");
    let proof = &entry["verification"]["inclusionProof"];
    let (size, root) = (
        proof["treeSize"].as_u64().unwrap(),
        hex_hash(&proof["rootHash"]),
    );
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(hex_hash)
        .collect();
    assert_eq!(proof["logIndex"].as_u64().unwrap(), index);
    verify_inclusion(&leaf_hash(&body), index, size, &hashes, &root)
        .expect("inclusion proof verifies");
    let note = Note::parse(proof["checkpoint"].as_str().unwrap().as_bytes()).unwrap();
    let verifier = RekorV1Verifier::new(HOST, &instance.v1_key).unwrap();
    let verified = note
        .verify(&[&verifier])
        .expect("checkpoint signature verifies");
    assert_eq!(verified.verified_signatures()[0].key_hint(), log_id[..4]);
    let checkpoint = Checkpoint::parse(verified.text()).unwrap();
    assert_eq!(
        (checkpoint.size(), checkpoint.root()),
        (size, root),
        "proof is against the checkpoint"
    );
}

fn only_value(map: &Value) -> (&String, &Value) {
    let object = map.as_object().unwrap();
    assert_eq!(object.len(), 1);
    object.iter().next().unwrap()
}

#[tokio::test]
async fn v1_create_answers_with_set_proof_and_checkpoint() {
    let instance = instance();
    let client = Client::new();
    let request = client.v1(b"artifact");
    let (status, headers, response) =
        post_json(&instance.app, "/api/v1/log/entries", &request).await;
    assert_eq!(status, StatusCode::CREATED, "{response}");
    let (uuid, entry) = only_value(&response);
    assert_eq!(uuid.len(), 80);
    assert_eq!(
        headers[header::LOCATION],
        format!("/api/v1/log/entries/{uuid}")
    );
    check_v1_entry(&instance, entry);
    let body: Value =
        serde_json::from_slice(&BASE64.decode(entry["body"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(body["kind"], "hashedrekord");
    assert_eq!(
        body["spec"]["data"]["hash"]["value"],
        hex::encode(sha256(b"artifact"))
    );

    // A duplicate is a 409 that points at the first entry. (Signing again would not be a
    // duplicate: ECDSA signatures are randomized, so the body differs.)
    let (status, headers, error) = post_json(&instance.app, "/api/v1/log/entries", &request).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        headers[header::LOCATION],
        format!("/api/v1/log/entries/{uuid}")
    );
    assert_eq!(error["code"], 409);
}

#[tokio::test]
async fn v1_rejects_bad_submissions_and_stores_nothing() {
    let instance = instance();
    let client = Client::new();
    let good = client.v1(b"artifact");
    let mut wrong_digest = good.clone();
    wrong_digest["spec"]["data"]["hash"]["value"] = json!(hex::encode(sha256(b"other")));
    let mut bad_base64 = good.clone();
    bad_base64["spec"]["signature"]["content"] = json!("%%%");
    let mut unknown_kind = good.clone();
    unknown_kind["kind"] = json!("rekord");
    let mut short_hash = good.clone();
    short_hash["spec"]["data"]["hash"]["value"] = json!("abcd");
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("malformed JSON", b"{not json".to_vec(), ""),
        (
            "signature over another digest",
            serde_json::to_vec(&wrong_digest).unwrap(),
            "does not verify",
        ),
        (
            "bad base64",
            serde_json::to_vec(&bad_base64).unwrap(),
            "base64",
        ),
        (
            "unknown kind",
            serde_json::to_vec(&unknown_kind).unwrap(),
            "rekord",
        ),
        (
            "short digest",
            serde_json::to_vec(&short_hash).unwrap(),
            "hash",
        ),
        ("empty body", Vec::new(), ""),
    ];
    let before = instance.v1_log.checkpoint().size;
    for (name, body, needle) in cases {
        let (status, _, response) =
            call(&instance.app, "POST", "/api/v1/log/entries", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}");
        let error: Value = serde_json::from_slice(&response).unwrap();
        assert_eq!(error["code"], 400, "{name}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.contains(needle) && !message.is_empty(),
            "{name}: {message}"
        );
    }
    assert_eq!(
        instance.v1_log.checkpoint().size,
        before,
        "nothing was stored"
    );
}

#[tokio::test]
async fn oversized_requests_get_413_naming_the_limit() {
    let config = Config::new(format!("{HOST} - 42"));
    let instance = instance_with(Arc::new(MemoryStore::new()), config, Some(1000));
    let (status, _, response) = call(
        &instance.app,
        "POST",
        "/api/v1/log/entries",
        Some(vec![b' '; 1001]),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = serde_json::from_slice(&response).unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("1000 bytes"),
        "{error}"
    );
}

#[tokio::test]
async fn v1_reads_find_entries_by_index_uuid_content_and_search() {
    let instance = instance();
    let client = Client::new();
    let mut uuids = Vec::new();
    let requests: Vec<Value> = (0..5u8).map(|i| client.v1(&[i; 10])).collect();
    for request in &requests {
        let (status, _, response) = post_json(&instance.app, "/api/v1/log/entries", request).await;
        assert_eq!(status, StatusCode::CREATED);
        uuids.push(only_value(&response).0.clone());
    }
    let (status, by_index) = get_json(&instance.app, "/api/v1/log/entries?logIndex=3").await;
    assert_eq!(status, StatusCode::OK);
    let (uuid, entry) = only_value(&by_index);
    assert_eq!(uuid, &uuids[2]);
    check_v1_entry(&instance, entry);
    let (status, by_uuid) =
        get_json(&instance.app, &format!("/api/v1/log/entries/{}", uuids[4])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(only_value(&by_uuid).1["logIndex"], 5);
    let (status, by_short_uuid) = get_json(
        &instance.app,
        &format!("/api/v1/log/entries/{}", &uuids[4][16..]),
    )
    .await;
    assert_eq!(
        (status, only_value(&by_short_uuid).1["logIndex"].clone()),
        (StatusCode::OK, json!(5))
    );
    assert_eq!(
        get_json(
            &instance.app,
            &format!("/api/v1/log/entries/{}", "ab".repeat(32))
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_json(&instance.app, "/api/v1/log/entries/xyz").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get_json(&instance.app, "/api/v1/log/entries?logIndex=99")
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    let request =
        json!({ "entryUUIDs": [uuids[0]], "logIndexes": [2, 99], "entries": [requests[4]] });
    let (status, _, retrieved) =
        post_json(&instance.app, "/api/v1/log/entries/retrieve", &request).await;
    assert_eq!(status, StatusCode::OK);
    let indexes: Vec<u64> = retrieved
        .as_array()
        .unwrap()
        .iter()
        .map(|m| only_value(m).1["logIndex"].as_u64().unwrap())
        .collect();
    assert_eq!(indexes, [1, 2, 5]);

    let by_hash = json!({ "hash": format!("sha256:{}", hex::encode(sha256(&[2; 10]))) });
    let (status, _, found) = post_json(&instance.app, "/api/v1/index/retrieve", &by_hash).await;
    assert_eq!((status, found), (StatusCode::OK, json!([uuids[2]])));
    let pem = client.key.public_key().to_pem();
    let by_key = json!({ "publicKey": { "format": "x509", "content": BASE64.encode(&pem) } });
    let (status, _, found) = post_json(&instance.app, "/api/v1/index/retrieve", &by_key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found.as_array().unwrap().len(), 5);
    let both =
        json!({ "publicKey": by_key["publicKey"], "hash": by_hash["hash"], "operator": "and" });
    assert_eq!(
        post_json(&instance.app, "/api/v1/index/retrieve", &both)
            .await
            .2,
        json!([uuids[2]])
    );
    assert_eq!(
        post_json(&instance.app, "/api/v1/index/retrieve", &json!({}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post_json(
            &instance.app,
            "/api/v1/index/retrieve",
            &json!({"hash": "sha256:zz"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    let (status, info) = get_json(&instance.app, "/api/v1/log").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (info["treeSize"].clone(), info["treeID"].clone()),
        (json!(6), json!("42"))
    );
    let (status, proof) = get_json(&instance.app, "/api/v1/log/proof?firstSize=2&lastSize=6").await;
    assert_eq!(status, StatusCode::OK);
    let old_root = instance.v1_log.root(2).unwrap();
    let hashes: Vec<Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(hex_hash)
        .collect();
    verify_consistency(2, 6, &old_root, &hex_hash(&proof["rootHash"]), &hashes).unwrap();
    assert_eq!(hex_hash(&proof["rootHash"]), hex_hash(&info["rootHash"]));
    assert_eq!(
        get_json(&instance.app, "/api/v1/log/proof?firstSize=6&lastSize=2")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        get_json(&instance.app, "/api/v1/log/proof?firstSize=1&lastSize=60")
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let (status, _, pem_body) = call(&instance.app, "GET", "/api/v1/log/publicKey", None).await;
    assert_eq!(
        (status, String::from_utf8(pem_body).unwrap()),
        (StatusCode::OK, instance.v1_key.to_pem())
    );
}

#[tokio::test]
async fn search_finds_certificate_identities() {
    let instance = instance();
    let client = Client::new();
    let mut params = rcgen::CertificateParams::default();
    params.subject_alt_names = vec![rcgen::SanType::Rfc822Name(
        "Alice@Example.com".try_into().unwrap(),
    )];
    let pkcs8 = client.key.to_pkcs8_der();
    let key_pair = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
    let cert = params.self_signed(&key_pair).unwrap();
    let request = client.hashedrekord_v1(b"signed by a cert", &cert.pem());
    let (status, _, response) = post_json(&instance.app, "/api/v1/log/entries", &request).await;
    assert_eq!(status, StatusCode::CREATED, "{response}");
    let uuid = only_value(&response).0.clone();
    let (status, _, found) = post_json(
        &instance.app,
        "/api/v1/index/retrieve",
        &json!({"email": "alice@example.com"}),
    )
    .await;
    assert_eq!((status, found), (StatusCode::OK, json!([uuid])));
}

#[tokio::test]
async fn v2_create_answers_with_a_checkpointed_entry() {
    let instance = instance();
    let client = Client::new();
    let (status, _, entry) = post_json(
        &instance.app,
        "/api/v2/log/entries",
        &client.v2(b"artifact"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    let parsed = waxseal_bundle::rekor::TransparencyLogEntry::from_json(
        &serde_json::to_vec(&entry).unwrap(),
    )
    .unwrap();
    assert_eq!(entry["logIndex"], "1", "int64 as a string, never 0");
    assert_eq!(parsed.log_id.key_id, instance.v2_log_id);
    assert_eq!(
        (
            parsed.kind_version.kind.as_str(),
            parsed.kind_version.version.as_str()
        ),
        ("hashedrekord", "0.0.2")
    );
    assert!(entry.get("integratedTime").is_none() && entry.get("inclusionPromise").is_none());
    let proof = parsed.inclusion_proof.unwrap();
    let root = Hash::from_slice(&proof.root_hash).unwrap();
    let hashes: Vec<Hash> = proof
        .hashes
        .iter()
        .map(|h| Hash::from_slice(h).unwrap())
        .collect();
    verify_inclusion(
        &leaf_hash(&parsed.canonicalized_body),
        1,
        proof.tree_size as u64,
        &hashes,
        &root,
    )
    .unwrap();
    let note = Note::parse(proof.checkpoint.unwrap().envelope.as_bytes()).unwrap();
    let verifier = Ed25519Verifier::new(HOST, &instance.v2_key).unwrap();
    let checkpoint = Checkpoint::parse(note.verify(&[&verifier]).unwrap().text()).unwrap();
    assert_eq!(
        (checkpoint.origin(), checkpoint.size(), checkpoint.root()),
        (HOST, proof.tree_size as u64, root)
    );
    assert_eq!(note.signatures()[0].key_hint(), instance.v2_log_id[..4]);

    // The checkpoint and tiles of the v2 log are served under /api/v2.
    let (status, _, served) = call(&instance.app, "GET", "/api/v2/checkpoint", None).await;
    assert_eq!(
        (status, served),
        (StatusCode::OK, note.encode().into_bytes())
    );
    let (status, _, tile) = call(&instance.app, "GET", "/api/v2/tile/0/000.p/2", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        &tile[32..],
        leaf_hash(&parsed.canonicalized_body).as_bytes()
    );

    let mut bad = client.v2(b"artifact");
    bad["hashedRekordRequestV002"]["digest"] = json!(BASE64.encode(sha256(b"other")));
    let (status, _, error) = post_json(&instance.app, "/api/v2/log/entries", &bad).await;
    assert_eq!(
        (status, error["code"].clone()),
        (StatusCode::BAD_REQUEST, json!(400))
    );
}

#[tokio::test]
async fn full_pool_answers_503_with_retry_after() {
    let store = Arc::new(GatedStore::new());
    let config = Config::new(format!("{HOST} - 42"))
        .with_pool(1, 1 << 20)
        .with_batch(1, Duration::ZERO);
    let instance = instance_with(Arc::clone(&store) as Arc<dyn Store>, config, None);
    store.close();
    let client = Client::new();
    // One request blocks in the store, one waits in the pool, the third is pushed back.
    let first = tokio::spawn({
        let (app, body) = (instance.app.clone(), client.v1(b"one"));
        async move { post_json(&app, "/api/v1/log/entries", &body).await.0 }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while store.waiting() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for the store"
        );
        assert!(
            !first.is_finished(),
            "the first request should block in the store"
        );
        tokio::task::yield_now().await;
    }
    let second = tokio::spawn({
        let (app, body) = (instance.app.clone(), client.v1(b"two"));
        async move { post_json(&app, "/api/v1/log/entries", &body).await.0 }
    });
    while instance.v1_log.pending() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for the pool"
        );
        assert!(
            !second.is_finished(),
            "the second request should wait in the pool"
        );
        tokio::task::yield_now().await;
    }
    let (status, headers, error) =
        post_json(&instance.app, "/api/v1/log/entries", &client.v1(b"three")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert_eq!(headers[header::RETRY_AFTER], "1");
    store.open();
    assert_eq!(first.await.unwrap(), StatusCode::CREATED);
    assert_eq!(second.await.unwrap(), StatusCode::CREATED);
}

#[tokio::test]
async fn metrics_count_entries_and_latency() {
    let instance = instance();
    let client = Client::new();
    let request = client.v1(b"a");
    post_json(&instance.app, "/api/v1/log/entries", &request).await;
    post_json(&instance.app, "/api/v1/log/entries", &request).await;
    call(
        &instance.app,
        "POST",
        "/api/v1/log/entries",
        Some(b"{}".to_vec()),
    )
    .await;
    let (status, _, text) = call(&instance.app, "GET", "/metrics", None).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(text).unwrap();
    for line in [
        r#"waxseal_log_entries_total{api="v1",kind="hashedrekord",outcome="created"} 1"#,
        r#"waxseal_log_entries_total{api="v1",kind="hashedrekord",outcome="duplicate"} 1"#,
        r#"waxseal_log_entries_total{api="v1",kind="invalid",outcome="rejected"} 1"#,
        r#"waxseal_http_request_duration_seconds_count{method="POST",route="/api/v1/log/entries",code="201"} 1"#,
        // The genesis entry and "a": the engine state sampled at the scrape.
        r#"waxseal_log_checkpoint_size{log="rekor-v1"} 2"#,
        r#"waxseal_log_queued_entries{log="rekor-v1"} 0"#,
        r#"waxseal_log_sequencer{log="rekor-v1"} 1"#,
        r#"waxseal_log_lock_changes{log="rekor-v1"} 0"#,
        r#"waxseal_log_last_batch_entries{log="rekor-v1"} 1"#,
        r#"waxseal_log_checkpoint_age_seconds{log="rekor-v1"}"#,
    ] {
        assert!(text.contains(line), "missing {line} in\n{text}");
    }
}

#[tokio::test]
async fn serves_rekor_over_a_real_socket() {
    let instance = instance();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, instance.app.clone()).into_future());
    let body = serde_json::to_string(&Client::new().v1(b"over a socket")).unwrap();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!(
        "POST /api/v1/log/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    server.abort();
}
