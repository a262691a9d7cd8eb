//! The test IdP: an in-memory discovery/JWKS server that counts fetches, and claim helpers.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use waxseal_oidc::{FetchError, JwksFetcher, OidcConfig};

pub(crate) const NOW: i64 = 1_800_000_000;

pub(crate) const EMAIL_ISSUER: &str = "https://accounts.example.com";

pub(crate) const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

pub(crate) const GITLAB_ISSUER: &str = "https://gitlab.com";

/// An in-memory IdP serving discovery and JWKS documents, counting fetches.
pub(crate) struct Idp {
    pub(crate) docs: RefCell<HashMap<String, Vec<u8>>>,
    keys: RefCell<HashMap<String, (EncodingKey, Jwk)>>,
    pub(crate) fetches: Cell<usize>,
}

impl JwksFetcher for Idp {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        self.fetches.set(self.fetches.get() + 1);
        self.docs
            .borrow()
            .get(url)
            .cloned()
            .ok_or(FetchError::Status { status: 404 })
    }
}

impl Idp {
    pub(crate) fn new(issuers: &[&str]) -> Self {
        let idp = Self {
            docs: RefCell::new(HashMap::new()),
            keys: RefCell::new(HashMap::new()),
            fetches: Cell::new(0),
        };
        for issuer in issuers {
            idp.docs.borrow_mut().insert(
                format!("{issuer}/.well-known/openid-configuration"),
                json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwks")})
                    .to_string()
                    .into_bytes(),
            );
            idp.add_key(issuer, "key-1");
        }
        idp
    }

    /// Generates a P-256 key `kid` and publishes it in `issuer`'s JWKS.
    pub(crate) fn add_key(&self, issuer: &str, kid: &str) {
        let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP256Sha256)
            .unwrap();
        let encoding = EncodingKey::from_ec_der(&key.to_pkcs8_der());
        self.publish(issuer, kid, encoding, Algorithm::ES256);
    }

    /// Publishes `encoding`'s public key as `kid` in `issuer`'s JWKS.
    pub(crate) fn publish(&self, issuer: &str, kid: &str, encoding: EncodingKey, alg: Algorithm) {
        let mut jwk = Jwk::from_encoding_key(&encoding, alg).unwrap();
        jwk.common.key_id = Some(kid.to_owned());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        self.keys
            .borrow_mut()
            .insert(format!("{issuer}#{kid}"), (encoding, jwk));
        let keys: Vec<Jwk> = self
            .keys
            .borrow()
            .iter()
            .filter(|(name, _)| name.starts_with(&format!("{issuer}#")))
            .map(|(_, (_, jwk))| jwk.clone())
            .collect();
        self.docs.borrow_mut().insert(
            format!("{issuer}/jwks"),
            serde_json::to_vec(&JwkSet { keys }).unwrap(),
        );
    }

    /// Signs `claims` with `issuer`'s key `kid`, naming `header_kid` in the header.
    pub(crate) fn sign_as(
        &self,
        issuer: &str,
        kid: &str,
        header_kid: &str,
        claims: &Value,
    ) -> String {
        let keys = self.keys.borrow();
        let (key, jwk) = &keys[&format!("{issuer}#{kid}")];
        let alg = jwk
            .common
            .key_algorithm
            .and_then(|a| a.to_string().parse().ok())
            .unwrap_or(Algorithm::ES256);
        let mut header = Header::new(alg);
        header.kid = Some(header_kid.to_owned());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    pub(crate) fn sign(&self, claims: &Value) -> String {
        let issuer = claims["iss"].as_str().unwrap_or(EMAIL_ISSUER);
        let issuer = if self.keys.borrow().contains_key(&format!("{issuer}#key-1")) {
            issuer
        } else {
            EMAIL_ISSUER
        };
        self.sign_as(issuer, "key-1", "key-1", claims)
    }
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn email_claims() -> Value {
    json!({
        "iss": EMAIL_ISSUER,
        "sub": "1234567890",
        "aud": "sigstore",
        "iat": NOW,
        "exp": NOW + 300,
        "email": "alice@example.com",
        "email_verified": true,
    })
}

pub(crate) fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

pub(crate) fn without(mut claims: Value, key: &str) -> Value {
    if let Value::Object(map) = &mut claims {
        map.remove(key);
    }
    claims
}

pub(crate) fn config() -> OidcConfig {
    OidcConfig::from_toml(&format!(
        r#"
[[issuer]]
url = "{EMAIL_ISSUER}"
type = "email"

[[issuer]]
url = "{GITHUB_ISSUER}"
type = "ci-provider"
ci_provider = "github-workflow"

[[issuer]]
url = "{GITLAB_ISSUER}"
type = "gitlab-pipeline"
"#
    ))
    .unwrap()
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 v1 `PrivateKeyInfo` (RFC 5208 §5): the contents
/// of the OCTET STRING after the version and algorithm identifier.
pub(crate) fn pkcs8_to_pkcs1(pkcs8: &[u8]) -> Vec<u8> {
    fn header(der: &[u8]) -> (usize, usize) {
        // (header length, content length)
        match der[1] {
            n if n < 0x80 => (2, n as usize),
            0x81 => (3, der[2] as usize),
            0x82 => (4, (der[2] as usize) << 8 | der[3] as usize),
            other => panic!("unsupported DER length byte {other:#x}"),
        }
    }
    let (outer, _) = header(pkcs8);
    let mut rest = &pkcs8[outer..];
    for _ in 0..2 {
        let (h, len) = header(rest);
        rest = &rest[h + len..]; // skip version, then AlgorithmIdentifier
    }
    assert_eq!(rest[0], 0x04, "OCTET STRING");
    let (h, len) = header(rest);
    rest[h..h + len].to_vec()
}

pub(crate) fn extension<'a>(identity: &'a waxseal_oidc::Identity, oid: &str) -> Option<&'a str> {
    identity
        .extensions()
        .iter()
        .find(|(o, _)| o == oid)
        .map(|(_, v)| v.as_str())
}
