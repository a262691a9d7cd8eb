//! Token verification: the rejection table, algorithms, key rotation and the JWKS cache.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use waxseal_oidc::{Error, FetchError, Verifier};

use crate::idp::*;

struct Case {
    name: &'static str,
    token: fn(&Idp) -> String,
    /// `None`: accepted.
    want: Option<fn(&Error) -> bool>,
}

const CASES: &[Case] = &[
    Case {
        name: "accepts_valid_email_token",
        token: |idp| idp.sign(&email_claims()),
        want: None,
    },
    Case {
        name: "accepts_email_verified_as_string_true",
        token: |idp| idp.sign(&with(email_claims(), "email_verified", json!("true"))),
        want: None,
    },
    Case {
        name: "accepts_audience_array_containing_client_id",
        token: |idp| idp.sign(&with(email_claims(), "aud", json!(["other", "sigstore"]))),
        want: None,
    },
    Case {
        name: "accepts_token_expiring_one_second_from_now",
        token: |idp| idp.sign(&with(email_claims(), "exp", json!(NOW + 1))),
        want: None,
    },
    Case {
        name: "rejects_token_expiring_now_without_leeway",
        token: |idp| idp.sign(&with(email_claims(), "exp", json!(NOW))),
        want: Some(|e| matches!(e, Error::Expired { exp: NOW, now: NOW })),
    },
    Case {
        name: "rejects_token_expired_one_second_ago_despite_leeway",
        token: |idp| idp.sign(&with(email_claims(), "exp", json!(NOW - 1))),
        want: Some(|e| matches!(e, Error::Expired { exp, now: NOW } if *exp == NOW - 1)),
    },
    Case {
        name: "rejects_expired_token",
        token: |idp| idp.sign(&with(email_claims(), "exp", json!(NOW - 61))),
        want: Some(|e| matches!(e, Error::Expired { exp, now: NOW } if *exp == NOW - 61)),
    },
    Case {
        name: "accepts_nbf_within_leeway",
        token: |idp| idp.sign(&with(email_claims(), "nbf", json!(NOW + 30))),
        want: None,
    },
    Case {
        name: "accepts_iat_within_leeway",
        token: |idp| idp.sign(&with(email_claims(), "iat", json!(NOW + 30))),
        want: None,
    },
    Case {
        name: "rejects_token_without_exp",
        token: |idp| idp.sign(&without(email_claims(), "exp")),
        want: Some(|e| matches!(e, Error::MissingClaim { claim: "exp" })),
    },
    Case {
        name: "rejects_not_yet_valid_token",
        token: |idp| idp.sign(&with(email_claims(), "nbf", json!(NOW + 120))),
        want: Some(|e| matches!(e, Error::NotYetValid { nbf, .. } if *nbf == NOW + 120)),
    },
    Case {
        name: "rejects_token_issued_in_the_future",
        token: |idp| idp.sign(&with(email_claims(), "iat", json!(NOW + 120))),
        want: Some(|e| matches!(e, Error::IssuedInFuture { iat, .. } if *iat == NOW + 120)),
    },
    Case {
        name: "rejects_wrong_audience",
        token: |idp| idp.sign(&with(email_claims(), "aud", json!("not-sigstore"))),
        want: Some(|e| {
            matches!(e, Error::AudienceMismatch { expected, actual }
                if expected == "sigstore" && actual == &["not-sigstore".to_owned()])
        }),
    },
    Case {
        name: "rejects_unknown_issuer",
        token: |idp| {
            idp.sign(&with(
                email_claims(),
                "iss",
                json!("https://evil.example.com"),
            ))
        },
        want: Some(
            |e| matches!(e, Error::UnknownIssuer { issuer } if issuer == "https://evil.example.com"),
        ),
    },
    Case {
        name: "rejects_bad_signature",
        token: |idp| {
            let good = idp.sign(&email_claims());
            let other = idp.sign(&with(email_claims(), "sub", json!("mallory")));
            let (body, _) = good.rsplit_once('.').unwrap();
            let (_, signature) = other.rsplit_once('.').unwrap();
            format!("{body}.{signature}")
        },
        want: Some(|e| matches!(e, Error::BadSignature { kid: Some(kid) } if kid == "key-1")),
    },
    Case {
        name: "rejects_alg_none",
        token: |_| {
            let header = b64(br#"{"alg":"none","typ":"JWT"}"#);
            let payload = b64(email_claims().to_string().as_bytes());
            format!("{header}.{payload}.")
        },
        want: Some(|e| matches!(e, Error::AlgorithmNone)),
    },
    Case {
        name: "rejects_hs256",
        token: |_| {
            let key = EncodingKey::from_secret(b"shared");
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &email_claims(), &key).unwrap()
        },
        want: Some(|e| matches!(e, Error::SymmetricAlgorithm { alg } if alg == "HS256")),
    },
    Case {
        name: "rejects_unknown_kid",
        token: |idp| idp.sign_as(EMAIL_ISSUER, "key-1", "key-unknown", &email_claims()),
        want: Some(
            |e| matches!(e, Error::UnknownKeyId { kid, issuer } if kid == "key-unknown" && issuer == EMAIL_ISSUER),
        ),
    },
    Case {
        name: "rejects_email_verified_false",
        token: |idp| idp.sign(&with(email_claims(), "email_verified", json!(false))),
        want: Some(
            |e| matches!(e, Error::EmailNotVerified { email } if email == "alice@example.com"),
        ),
    },
    Case {
        name: "rejects_email_verified_missing",
        token: |idp| idp.sign(&without(email_claims(), "email_verified")),
        want: Some(|e| matches!(e, Error::EmailNotVerified { .. })),
    },
    Case {
        name: "rejects_email_issuer_token_without_email",
        token: |idp| idp.sign(&without(email_claims(), "email")),
        want: Some(|e| matches!(e, Error::MissingClaim { claim: "email" })),
    },
    Case {
        name: "rejects_token_without_sub",
        token: |idp| idp.sign(&without(email_claims(), "sub")),
        want: Some(|e| matches!(e, Error::MissingClaim { claim: "sub" })),
    },
    Case {
        name: "rejects_critical_header",
        token: |idp| {
            let good = idp.sign(&email_claims());
            let (_, rest) = good.split_once('.').unwrap();
            let header = b64(br#"{"alg":"ES256","kid":"key-1","crit":["exp"],"exp":1}"#);
            format!("{header}.{rest}")
        },
        want: Some(|e| matches!(e, Error::CriticalHeader { .. })),
    },
    Case {
        name: "rejects_malformed_token",
        token: |_| "not.a-jwt".to_owned(),
        want: Some(|e| matches!(e, Error::Malformed { .. })),
    },
];

#[test]
fn verification_table() {
    for case in CASES {
        let idp = Idp::new(&[EMAIL_ISSUER]);
        let verifier = Verifier::new(config());
        let token = (case.token)(&idp);
        let got = verifier.verify(&token, NOW, &idp);
        match (case.want, got) {
            (None, Ok(verified)) => {
                assert_eq!(
                    verified.challenge_subject(),
                    "alice@example.com",
                    "{}",
                    case.name
                );
            }
            (None, Err(e)) => panic!("{}: want accepted, got {e:?}", case.name),
            (Some(_), Ok(_)) => panic!("{}: want rejected, got accepted", case.name),
            (Some(want), Err(e)) => {
                assert!(want(&e), "{}: unexpected error {e:?}", case.name);
                assert!(!e.to_string().is_empty(), "{}", case.name);
            }
        }
    }
}

#[test]
fn accepts_every_public_key_algorithm() {
    use aws_lc_rs::encoding::AsDer as _;
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let rsa_pkcs1 = pkcs8_to_pkcs1(rsa.as_der().unwrap().as_ref());
    let p384 =
        waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP384Sha384).unwrap();
    let ed25519 = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::Ed25519).unwrap();
    let cases = [
        (
            "rs256",
            EncodingKey::from_rsa_der(&rsa_pkcs1),
            Algorithm::RS256,
        ),
        (
            "rs512",
            EncodingKey::from_rsa_der(&rsa_pkcs1),
            Algorithm::RS512,
        ),
        (
            "ps256",
            EncodingKey::from_rsa_der(&rsa_pkcs1),
            Algorithm::PS256,
        ),
        (
            "es384",
            EncodingKey::from_ec_der(&p384.to_pkcs8_der()),
            Algorithm::ES384,
        ),
        (
            "eddsa",
            EncodingKey::from_ed_der(&ed25519.to_pkcs8_der()),
            Algorithm::EdDSA,
        ),
    ];
    for (kid, key, alg) in cases {
        let idp = Idp::new(&[EMAIL_ISSUER]);
        idp.publish(EMAIL_ISSUER, kid, key, alg);
        let token = idp.sign_as(EMAIL_ISSUER, kid, kid, &email_claims());
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, alg, "{kid}");
        Verifier::new(config())
            .verify(&token, NOW, &idp)
            .unwrap_or_else(|e| panic!("{kid}: {e:?}"));
    }
}

#[test]
fn rejects_algorithm_that_does_not_match_the_key() {
    use aws_lc_rs::encoding::AsDer as _;
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let rsa_pkcs1 = pkcs8_to_pkcs1(rsa.as_der().unwrap().as_ref());
    let idp = Idp::new(&[EMAIL_ISSUER]);
    // An RS256 token naming the issuer's EC key id.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("key-1".to_owned());
    let key = EncodingKey::from_rsa_der(&rsa_pkcs1);
    let token = jsonwebtoken::encode(&header, &email_claims(), &key).unwrap();
    let err = Verifier::new(config())
        .verify(&token, NOW, &idp)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnsupportedAlgorithm { alg } if alg == "RS256"),
        "{err:?}"
    );
}

#[test]
fn key_rotation_refetches_jwks_once_rate_limited() {
    let idp = Idp::new(&[EMAIL_ISSUER]);
    let verifier = Verifier::new(config());
    verifier
        .verify(&idp.sign(&email_claims()), NOW, &idp)
        .unwrap();
    assert_eq!(idp.fetches.get(), 2, "discovery + JWKS");

    // Cached: no fetch.
    verifier
        .verify(&idp.sign(&email_claims()), NOW + 1, &idp)
        .unwrap();
    assert_eq!(idp.fetches.get(), 2, "cache hit");

    idp.add_key(EMAIL_ISSUER, "key-2");
    let rotated = idp.sign_as(EMAIL_ISSUER, "key-2", "key-2", &email_claims());

    // Within the refetch interval the unknown kid is refused without fetching.
    let early = verifier.verify(&rotated, NOW + 5, &idp).unwrap_err();
    assert!(matches!(early, Error::UnknownKeyId { .. }), "{early:?}");
    assert_eq!(idp.fetches.get(), 2, "rate-limited");

    // After it, one JWKS refetch finds the new key.
    let claims = with(email_claims(), "iat", json!(NOW + 100));
    let rotated = idp.sign_as(EMAIL_ISSUER, "key-2", "key-2", &claims);
    verifier.verify(&rotated, NOW + 100, &idp).unwrap();
    assert_eq!(idp.fetches.get(), 3, "JWKS only");
}

#[test]
fn unknown_kid_is_refused_after_one_refetch() {
    let idp = Idp::new(&[EMAIL_ISSUER]);
    let verifier = Verifier::new(config());
    verifier
        .verify(&idp.sign(&email_claims()), NOW, &idp)
        .unwrap();
    let token = idp.sign_as(EMAIL_ISSUER, "key-1", "nope", &email_claims());
    let err = verifier.verify(&token, NOW + 100, &idp).unwrap_err();
    assert!(
        matches!(err, Error::UnknownKeyId { ref kid, .. } if kid == "nope"),
        "{err:?}"
    );
    assert_eq!(idp.fetches.get(), 3, "refetched the JWKS once");
}

#[test]
fn jwks_cache_expires_after_ttl() {
    let idp = Idp::new(&[EMAIL_ISSUER]);
    let verifier = Verifier::new(config()).with_jwks_ttl(600);
    verifier
        .verify(&idp.sign(&email_claims()), NOW, &idp)
        .unwrap();
    let later = with(
        with(email_claims(), "iat", json!(NOW + 600)),
        "exp",
        json!(NOW + 900),
    );
    verifier.verify(&idp.sign(&later), NOW + 600, &idp).unwrap();
    assert_eq!(idp.fetches.get(), 4, "discovery + JWKS twice");
}

#[test]
fn rejects_discovery_naming_another_issuer() {
    let idp = Idp::new(&[EMAIL_ISSUER]);
    idp.docs.borrow_mut().insert(
        format!("{EMAIL_ISSUER}/.well-known/openid-configuration"),
        json!({"issuer": "https://other.example.com", "jwks_uri": format!("{EMAIL_ISSUER}/jwks")})
            .to_string()
            .into_bytes(),
    );
    let err = Verifier::new(config())
        .verify(&idp.sign(&email_claims()), NOW, &idp)
        .unwrap_err();
    assert!(
        matches!(err, Error::DiscoveryIssuerMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn reports_fetch_failures_with_url() {
    let idp = Idp::new(&[]);
    let token = {
        let keyed = Idp::new(&[EMAIL_ISSUER]);
        keyed.sign(&email_claims())
    };
    let err = Verifier::new(config())
        .verify(&token, NOW, &idp)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Fetch { url, source: FetchError::Status { status: 404 } }
            if url == &format!("{EMAIL_ISSUER}/.well-known/openid-configuration")),
        "{err:?}"
    );
}
