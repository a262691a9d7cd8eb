//! Search queries find what entries are indexed under.

use serde_json::json;
use waxseal_bundle::Error;
use waxseal_bundle::rekor::{self, SearchIndex, SearchTerm};
use waxseal_crypto::{Algorithm, pem, sha256};

use crate::support::{Signer, b64, bytes, hashedrekord_v1};

#[test]
fn queries_match_the_terms_entries_are_indexed_under() {
    let signer = Signer::certified(Algorithm::EcdsaP256Sha256);
    let certificate = signer.certificate.clone().unwrap();
    let request = hashedrekord_v1(
        &signer.sign(b"a"),
        &signer.pem(),
        "sha256",
        &hex::encode(sha256(b"a")),
    );
    let entry = rekor::validate_v1(&bytes(&request)).unwrap();
    let spki = signer.public_key().spki_der().to_vec();
    let queries = [
        (
            "hash",
            json!({"hash": format!("sha256:{}", hex::encode(sha256(b"a")))}),
        ),
        ("bare hash", json!({"hash": hex::encode(sha256(b"a"))})),
        ("e-mail", json!({"email": "SIGNER@example.com"})),
        (
            "certificate PEM",
            json!({"publicKey": {"format": "x509", "content": b64(pem::encode(pem::CERTIFICATE, &certificate))}}),
        ),
        (
            "certificate DER",
            json!({"publicKey": {"format": "x509", "content": b64(&certificate)}}),
        ),
        (
            "key PEM",
            json!({"publicKey": {"format": "x509", "content": b64(pem::encode(pem::PUBLIC_KEY, &spki))}}),
        ),
        (
            "key DER",
            json!({"publicKey": {"format": "x509", "content": b64(&spki)}}),
        ),
    ];
    for (name, query) in queries {
        let query = SearchIndex::from_json(&bytes(&query)).unwrap();
        let terms = SearchTerm::from_query(&query).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(terms.len(), 1, "{name}");
        assert!(
            entry.search_terms().contains(&terms[0]),
            "{name}: {terms:?}"
        );
    }
    // Certificate and key are distinct terms.
    let by_certificate = SearchTerm::from_public_key_query("x509", &b64(&certificate)).unwrap();
    let by_key = SearchTerm::from_public_key_query("x509", &b64(&spki)).unwrap();
    assert_eq!(by_certificate, SearchTerm::PublicKey(sha256(&certificate)));
    assert_eq!(by_key, SearchTerm::PublicKey(sha256(&spki)));
}

#[test]
fn query_errors_name_the_problem() {
    let cases = [
        (
            "content not base64",
            json!({"publicKey": {"format": "x509", "content": "%%"}}),
            Error::InvalidBase64 {
                field: "publicKey.content".to_owned(),
            },
        ),
        (
            "no content",
            json!({"publicKey": {"format": "x509", "url": "https://example.com/key"}}),
            Error::MissingField {
                field: "publicKey.content".to_owned(),
            },
        ),
        (
            "ssh key",
            json!({"publicKey": {"format": "ssh", "content": b64("ssh-ed25519 AAAA")}}),
            Error::UnsupportedPublicKeyFormat {
                format: "ssh".to_owned(),
            },
        ),
        (
            "sha1 hash",
            json!({"hash": format!("sha1:{}", "00".repeat(20))}),
            Error::InvalidSearchHash {
                value: format!("sha1:{}", "00".repeat(20)),
            },
        ),
        ("nothing", json!({"operator": "and"}), Error::EmptySearch),
    ];
    for (name, query, want) in cases {
        let query = SearchIndex::from_json(&bytes(&query)).unwrap();
        assert_eq!(SearchTerm::from_query(&query), Err(want), "{name}");
    }
}
