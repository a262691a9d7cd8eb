//! The Fulcio-compatible CA routes: both request forms issue a certificate whose embedded SCT
//! verifies, and every bad token, key, CSR or body is refused with a Fulcio-style error.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use waxseal_ca::Ca;
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, pem};
use waxseal_oidc::{IssuanceRules, IssuerConfig, IssuerType, OidcConfig, TokenIssuer, Verifier};
use waxseal_server::HttpFetcher;
use waxseal_server::fulcio::{CertificateTransparency, Fulcio, SubmitError, SubmitFuture};
use waxseal_x509::{
    CaNames, CertificateAuthority, Precertificate, San, parse_leaf, sign_sct, verify_sct,
};
use x509_parser::prelude::FromDer as _;

const ISSUER: &str = "http://issuer.waxseal.test";
const RULED_ISSUER: &str = "http://ruled.waxseal.test";
const EMAIL: &str = "alice@example.com";

/// A CT log that signs SCTs in memory, numbering entries from 0.
#[derive(Debug)]
struct MemoryCt {
    key: SigningKey,
    issuer: PublicKey,
    next: AtomicU64,
}

impl CertificateTransparency for MemoryCt {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> SubmitFuture<'_> {
        Box::pin(async move {
            let precert = Precertificate::from_der(&chain[0], &self.issuer)
                .map_err(|e| SubmitError::Failed(e.to_string()))?;
            let index = self.next.fetch_add(1, Ordering::SeqCst);
            sign_sct(
                &self.key,
                now_unix() as u64 * 1000,
                Some(index),
                precert.issuer_key_hash(),
                precert.precert_tbs(),
            )
            .map_err(|e| SubmitError::Failed(e.to_string()))
        })
    }
}

struct Instance {
    fulcio: Arc<Fulcio>,
    minter: TokenIssuer,
    ruled_minter: TokenIssuer,
    ct_key: PublicKey,
    ca_key_hash: [u8; 32],
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn new_minter(url: &str) -> TokenIssuer {
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    TokenIssuer::new(url, &key.to_pkcs8_der()).unwrap()
}

/// One fetcher answering both test issuers locally, as `serve` answers its own.
#[derive(Debug)]
struct Both(HttpFetcher, HttpFetcher);

impl waxseal_oidc::JwksFetcher for Both {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, waxseal_oidc::FetchError> {
        if url.starts_with(RULED_ISSUER) {
            self.1.fetch(url)
        } else {
            self.0.fetch(url)
        }
    }
}

fn authority() -> CertificateAuthority {
    CertificateAuthority::generate(
        Algorithm::EcdsaP256Sha256,
        &CaNames::default(),
        SystemTime::now() - Duration::from_secs(3600),
        Duration::from_secs(365 * 86_400),
    )
    .unwrap()
}

fn instance() -> Instance {
    let authority = authority();
    let (minter, ruled_minter) = (new_minter(ISSUER), new_minter(RULED_ISSUER));
    let rules = IssuanceRules::new().allow_san("release@example.com");
    let config = OidcConfig::new(
        vec![
            IssuerConfig::new(ISSUER, IssuerType::Email),
            IssuerConfig::new(RULED_ISSUER, IssuerType::Email).with_rules(rules),
        ],
        vec![],
    )
    .unwrap();
    let ct_key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let ct_public = ct_key.public_key();
    let ca_key_hash = authority.issuer_key_hash();
    let ct = Arc::new(MemoryCt {
        key: ct_key,
        issuer: authority.public_key(),
        next: AtomicU64::new(0),
    });
    let fetcher = Both(
        HttpFetcher::on_current_runtime().with_local_issuer(&minter),
        HttpFetcher::on_current_runtime().with_local_issuer(&ruled_minter),
    );
    let ca = Ca::new(authority, Verifier::new(config));
    Instance {
        fulcio: Arc::new(Fulcio::new(ca, ct, Arc::new(fetcher))),
        minter,
        ruled_minter,
        ct_key: ct_public,
        ca_key_hash,
    }
}

/// A CA for other routers' tests.
pub(crate) fn test_fulcio() -> Arc<Fulcio> {
    instance().fulcio
}

impl Instance {
    fn token(&self, email: &str) -> String {
        self.minter
            .mint("alice", Some(email), "sigstore", 300, now_unix())
            .unwrap()
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, Value) {
        let response = waxseal_server::fulcio::router(Arc::clone(&self.fulcio))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        (status, value)
    }

    async fn post(&self, body: Value, bearer: Option<&str>) -> (StatusCode, Value) {
        let mut request = Request::post("/api/v2/signingCert")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/pem-certificate-chain");
        if let Some(token) = bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.call(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Checks a 201 reply: three PEMs, the leaf names `email`, the SCT verifies.
    fn check_issued(&self, body: &Value, email: &str, key: &PublicKey) {
        let chain = body["signedCertificateEmbeddedSct"]["chain"]["certificates"]
            .as_array()
            .unwrap();
        assert_eq!(chain.len(), 3);
        for certificate in chain {
            let text = certificate.as_str().unwrap();
            assert!(text.ends_with("-----END CERTIFICATE-----\n"));
            // Go's layout: 64-column base64 lines.
            assert!(text.lines().all(|l| l.len() <= 64));
        }
        let leaf = pem::decode(chain[0].as_str().unwrap(), pem::CERTIFICATE).unwrap();
        let info = parse_leaf(&leaf).unwrap();
        assert_eq!(info.san, [San::Email(email.into())]);
        assert_eq!(info.oidc_issuer(), Some(ISSUER));
        assert_eq!(info.public_key.spki_der(), key.spki_der());
        assert_eq!(info.scts.len(), 1);
        verify_sct(
            &info.scts[0],
            &self.ct_key,
            &self.ca_key_hash,
            &info.precert_tbs,
        )
        .unwrap();

        // An independent parser agrees on the profile.
        let (_, cert) = x509_parser::parse_x509_certificate(&leaf).unwrap();
        let validity = cert.validity();
        assert_eq!(
            validity.not_after.timestamp() - validity.not_before.timestamp(),
            600
        );
        assert!(cert.subject().iter().next().is_none(), "empty subject");
        let san = cert.subject_alternative_name().unwrap().unwrap();
        assert!(san.critical);
        let eku = cert.extended_key_usage().unwrap().unwrap();
        assert!(eku.value.code_signing && !eku.critical);
        assert!(cert.key_usage().unwrap().unwrap().value.digital_signature());
    }
}

fn csr_body(key: &rcgen::KeyPair) -> Value {
    let csr = rcgen::CertificateParams::default()
        .serialize_request(key)
        .unwrap()
        .pem()
        .unwrap();
    json!({ "certificateSigningRequest": BASE64.encode(csr) })
}

fn pop_body(token: &str, key: &SigningKey, signed: &str) -> Value {
    json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": BASE64.encode(key.sign(signed.as_bytes()).unwrap()),
        },
    })
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, needle: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], expected.as_u16(), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "message {message:?} should mention {needle:?}"
    );
}

#[tokio::test]
async fn csr_with_bearer_token_gets_a_certificate_with_one_verifying_sct() {
    let instance = instance();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let public = PublicKey::from_pem(&key.public_key_pem()).unwrap();
    let (status, body) = instance
        .post(csr_body(&key), Some(&instance.token(EMAIL)))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    instance.check_issued(&body, EMAIL, &public);
}

#[tokio::test]
async fn public_key_with_proof_of_possession_gets_a_certificate() {
    let instance = instance();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let (status, body) = instance
        .post(pop_body(&instance.token(EMAIL), &key, EMAIL), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    instance.check_issued(&body, EMAIL, &key.public_key());
}

#[tokio::test]
async fn proof_of_possession_over_the_wrong_claim_is_refused() {
    let instance = instance();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    // The token has an email, so the proof must sign the email, not `sub`.
    let (status, body) = instance
        .post(pop_body(&instance.token(EMAIL), &key, "alice"), None)
        .await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "proof of possession",
    );
}

/// A DER TLV with a definite length.
fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

#[tokio::test]
async fn csr_signed_by_another_key_is_refused() {
    let instance = instance();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let csr = rcgen::CertificateParams::default()
        .serialize_request(&key)
        .unwrap();
    let (_, parsed) =
        x509_parser::certification_request::X509CertificationRequest::from_der(csr.der()).unwrap();
    // The request names `key` but is signed by another key.
    let info = parsed.certification_request_info.raw;
    let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let ecdsa_with_sha256 = [
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
    ];
    let mut signature = vec![0];
    signature.extend(other.sign(info).unwrap());
    let mut content = info.to_vec();
    content.extend(ecdsa_with_sha256);
    content.extend(tlv(0x03, &signature));
    let forged = tlv(0x30, &content);
    let body = json!({"certificateSigningRequest": BASE64.encode(
        pem::encode("CERTIFICATE REQUEST", &forged))});
    let (status, body) = instance.post(body, Some(&instance.token(EMAIL))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "CSR signature");
}

fn jwt(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[tokio::test]
async fn bad_tokens_get_401_naming_the_problem() {
    let instance = instance();
    let now = now_unix();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let mint = |aud: &str, ttl: i64, at: i64| {
        instance
            .minter
            .mint("alice", Some(EMAIL), aud, ttl, at)
            .unwrap()
    };
    let good = mint("sigstore", 300, now);
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut signature = URL_SAFE_NO_PAD.decode(&parts[2]).unwrap();
    signature[10] ^= 1;
    parts[2] = URL_SAFE_NO_PAD.encode(signature);
    let bad_signature = parts.join(".");
    let unknown = new_minter("https://unknown.example.com")
        .mint("alice", Some(EMAIL), "sigstore", 300, now)
        .unwrap();
    let unsigned = jwt(
        &json!({"alg": "none", "typ": "JWT"}),
        &json!({"iss": ISSUER, "sub": "alice", "aud": "sigstore", "iat": now, "exp": now + 300,
                "email": EMAIL, "email_verified": true}),
    );
    let cases = [
        (mint("sigstore", 300, now - 3600), "exp"),
        (mint("sigstore", 300, now + 3600), "not valid before"),
        (mint("someone-else", 300, now), "audience"),
        (unknown, "issuer"),
        (bad_signature, "signature"),
        (unsigned, "unsigned"),
        ("not-a-jwt".to_owned(), "three"),
    ];
    for (token, needle) in cases {
        let (status, body) = instance.post(pop_body(&token, &key, EMAIL), None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, needle);
    }
    let mut missing = pop_body("", &key, EMAIL);
    missing.as_object_mut().unwrap().remove("credentials");
    let (status, body) = instance.post(missing, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "no identity token");
}

#[tokio::test]
async fn weak_and_unsupported_keys_are_refused() {
    let instance = instance();
    let token = instance.token(EMAIL);
    // An RSA-1024 and a secp256k1 key, as PEM SubjectPublicKeyInfo.
    let rsa_1024 = "-----BEGIN PUBLIC KEY-----\n\
        MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDG0rdcVr2ydGgMxsn14eiQNPaE\n\
        MdMcO2SkaIk7FVXBvJelFRamDyoapLc4y9cUNgOxYbfo28jtSYJs8H2pVyKBTi0G\n\
        gqgEWM+xVH6c2KpEgZ9Xsvol5CSsjqFkbJt5IXqg9+A+ADp5bEYBXdj7YsvnwpQa\n\
        Tq8umx8+68LPzpo+9QIDAQAB\n\
        -----END PUBLIC KEY-----\n";
    let secp256k1 = "-----BEGIN PUBLIC KEY-----\n\
        MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEr1VL3XcB1I5S1+UPlmc4X/FCR6/kBHaS\n\
        9Y4Vb8A0HnkMzNQq1JgGgMRGNsFWJpuTcdxv4Cv/KWuKLpumgPkqtQ==\n\
        -----END PUBLIC KEY-----\n";
    for (pem_key, needle) in [(rsa_1024, "RSA"), (secp256k1, "key")] {
        let body = json!({
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"algorithm": "ECDSA", "content": pem_key},
                "proofOfPossession": BASE64.encode([0x30, 0x00]),
            },
        });
        let (status, body) = instance.post(body, None).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, needle);
    }
}

#[tokio::test]
async fn malformed_requests_are_400_or_415() {
    let instance = instance();
    let token = instance.token(EMAIL);
    let cases = [
        (json!({"certificateSigningRequest": "%%%"}), "base64"),
        (
            json!({"certificateSigningRequest": BASE64.encode("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")}),
            "CSR",
        ),
        (
            json!({"unexpected": true}),
            "CreateSigningCertificateRequest",
        ),
        (json!({}), "required"),
        (
            json!({"publicKeyRequest": {
                "publicKey": {"content": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"},
                "proofOfPossession": "MEUCIQ==",
            }}),
            "not a supported public key",
        ),
        (
            json!({"publicKeyRequest": {"publicKey": {"content": ""}, "proofOfPossession": "MEUCIQ=="}}),
            "publicKeyRequest.publicKey.content is required",
        ),
    ];
    for (body, needle) in cases {
        let (status, body) = instance.post(body, Some(&token)).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, needle);
    }
    let request = Request::post("/api/v2/signingCert")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, body) = instance.call(request).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "not a");
    let request = Request::post("/api/v2/signingCert")
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    let (status, _) = instance.call(request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn an_issuance_rule_refuses_with_403_naming_the_rule() {
    let instance = instance();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let mint = |email: &str| {
        instance
            .ruled_minter
            .mint("x", Some(email), "sigstore", 300, now_unix())
            .unwrap()
    };
    let (status, body) = instance
        .post(
            pop_body(&mint("mallory@example.com"), &key, "mallory@example.com"),
            None,
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "rules.san");
    let (status, body) = instance
        .post(
            pop_body(&mint("release@example.com"), &key, "release@example.com"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn trust_bundle_configuration_and_root_cert() {
    let instance = instance();
    let authority = instance.fulcio.ca().authority();
    let (status, bundle) = instance
        .call(
            Request::get("/api/v2/trustBundle")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let chain = bundle["chains"][0]["certificates"].as_array().unwrap();
    assert_eq!(
        pem::decode(chain[0].as_str().unwrap(), pem::CERTIFICATE).unwrap(),
        authority.intermediate_der()
    );
    assert_eq!(
        pem::decode(chain[1].as_str().unwrap(), pem::CERTIFICATE).unwrap(),
        authority.root_der()
    );

    let (status, config) = instance
        .call(
            Request::get("/api/v2/configuration")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let issuers = config["issuers"].as_array().unwrap();
    assert!(issuers.contains(&json!({
        "issuerUrl": ISSUER, "audience": "sigstore", "challengeClaim": "email"
    })));

    let (status, text) = instance
        .call(
            Request::get("/api/v1/rootCert")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let ders = pem::decode_all(text.as_str().unwrap(), pem::CERTIFICATE).unwrap();
    assert_eq!(ders, authority.chain_der());
}

/// An external issuer on a real socket whose JWKS the test can rotate.
async fn external_issuer(jwks: Arc<std::sync::Mutex<String>>) -> (String, TokenIssuer) {
    use axum::routing::get;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let first = new_minter(&url);
    *jwks.lock().unwrap() = first.jwks_json();
    let discovery = first.discovery_json(&url);
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(move || async move { discovery }),
        )
        .route(
            "/jwks",
            get(move || async move { jwks.lock().unwrap().clone() }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_issuer_keys_are_fetched_over_http_and_rotation_is_followed() {
    let jwks = Arc::new(std::sync::Mutex::new(String::new()));
    let (url, first) = external_issuer(Arc::clone(&jwks)).await;
    let authority = authority();
    let ct = Arc::new(MemoryCt {
        key: SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap(),
        issuer: authority.public_key(),
        next: AtomicU64::new(0),
    });
    let config = OidcConfig::new(vec![IssuerConfig::new(&url, IssuerType::Email)], vec![]).unwrap();
    let verifier = Verifier::new(config).with_refetch_interval(0);
    let fulcio = Arc::new(Fulcio::new(
        Ca::new(authority, verifier),
        ct,
        Arc::new(HttpFetcher::on_current_runtime()),
    ));
    let post = |token: String| {
        let fulcio = Arc::clone(&fulcio);
        async move {
            let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
            let request = Request::post("/api/v2/signingCert")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(pop_body(&token, &key, EMAIL).to_string()))
                .unwrap();
            let response = waxseal_server::fulcio::router(fulcio)
                .oneshot(request)
                .await
                .unwrap();
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    let mint = |minter: &TokenIssuer| {
        minter
            .mint("alice", Some(EMAIL), "sigstore", 300, now_unix())
            .unwrap()
    };

    let (status, body) = post(mint(&first)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The issuer rotates to a new key: a token naming the new kid makes the CA refetch.
    let second = new_minter(&url);
    *jwks.lock().unwrap() = second.jwks_json();
    let (status, body) = post(mint(&second)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // A key the issuer never published is refused even after a refetch.
    let rogue = new_minter(&url);
    let (status, body) = post(mint(&rogue)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}
