//! The built-in issuer: minted tokens checked by independent verifiers.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use waxseal_oidc::{TokenIssuer, Verifier};

use crate::idp::*;

#[test]
fn minted_tokens_verify_independently_and_with_verifier() {
    let key =
        waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP256Sha256).unwrap();
    let issuer = TokenIssuer::new(EMAIL_ISSUER, &key.to_pkcs8_der()).unwrap();
    let token = issuer
        .mint("alice", Some("alice@example.com"), "sigstore", 300, NOW)
        .unwrap();

    // Independent check: jsonwebtoken's own decode with the published JWK.
    let jwks: JwkSet = serde_json::from_str(&issuer.jwks_json()).unwrap();
    let jwk = jwks.find(issuer.kid()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&["sigstore"]);
    validation.set_issuer(&[EMAIL_ISSUER]);
    validation.validate_exp = false;
    let data =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap();
    assert_eq!(data.header.kid.as_deref(), Some(issuer.kid()));
    assert_eq!(data.claims["sub"], "alice");
    assert_eq!(data.claims["email"], "alice@example.com");
    assert_eq!(data.claims["email_verified"], true);
    assert_eq!(data.claims["iat"], NOW);
    assert_eq!(data.claims["exp"], NOW + 300);

    // Discovery document fields that sigstore-python reads.
    let discovery: Value =
        serde_json::from_str(&issuer.discovery_json("https://oidc.example.com/")).unwrap();
    assert_eq!(discovery["issuer"], EMAIL_ISSUER);
    assert_eq!(discovery["jwks_uri"], "https://oidc.example.com/jwks");
    assert_eq!(
        discovery["authorization_endpoint"],
        "https://oidc.example.com/authorize"
    );
    assert_eq!(
        discovery["token_endpoint"],
        "https://oidc.example.com/token"
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );

    // And our verifier, fed the issuer's own documents.
    let idp = Idp::new(&[]);
    idp.docs.borrow_mut().insert(
        format!("{EMAIL_ISSUER}/.well-known/openid-configuration"),
        issuer.discovery_json(EMAIL_ISSUER).into_bytes(),
    );
    idp.docs.borrow_mut().insert(
        format!("{EMAIL_ISSUER}/jwks"),
        issuer.jwks_json().into_bytes(),
    );
    let verified = Verifier::new(config())
        .verify(&token, NOW + 1, &idp)
        .unwrap();
    assert_eq!(verified.challenge_subject(), "alice@example.com");

    // Without email: no email claims, challenge is sub.
    let token = issuer.mint("svc", None, "sigstore", 60, NOW).unwrap();
    let claims =
        jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap()
            .claims;
    assert!(claims.get("email").is_none() && claims.get("email_verified").is_none());
}

#[test]
fn token_issuer_rejects_non_ec_key() {
    let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::Ed25519).unwrap();
    assert!(TokenIssuer::new(EMAIL_ISSUER, &key.to_pkcs8_der()).is_err());
    assert!(TokenIssuer::new(EMAIL_ISSUER, b"junk").is_err());
}

/// Checks a minted token with PyJWT (`tests/pyjwt_check.py`), an implementation independent of
/// jsonwebtoken. The interpreter is `$WAXSEAL_PYTHON` or `python3`; skipped, with a message,
/// when it lacks PyJWT.
#[test]
fn minted_token_verifies_with_pyjwt() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    let python = std::env::var("WAXSEAL_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has_pyjwt = Command::new(&python)
        .args(["-c", "import jwt, cryptography"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_pyjwt {
        eprintln!("skipped minted_token_verifies_with_pyjwt: {python} has no PyJWT[crypto]");
        return;
    }
    let key =
        waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP256Sha256).unwrap();
    let issuer = TokenIssuer::new(EMAIL_ISSUER, &key.to_pkcs8_der()).unwrap();
    for email in [Some("alice@example.com"), None] {
        let token = issuer.mint("alice", email, "sigstore", 300, NOW).unwrap();
        let input = json!({
            "token": token, "jwks": issuer.jwks_json(), "issuer": EMAIL_ISSUER,
            "audience": "sigstore", "subject": "alice", "email": email, "ttl": 300,
        });
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pyjwt_check.py");
        let mut child = Command::new(&python)
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "email {email:?}: PyJWT rejected the token: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
