//! `hashedrekord` 0.0.1 (Rekor v1) and 0.0.2 (Rekor v2): the exact canonical body for every key
//! type, and every rejection by name.

use serde_json::{Value, json};
use waxseal_bundle::Error;
use waxseal_bundle::rekor::{self, Kind, SearchTerm};
use waxseal_crypto::{Algorithm, PublicKey, pem, sha256, sha384, sha512};

use crate::support::{
    Signer, assert_same_text, b64, bytes, hashedrekord_v1, hashedrekord_v2, rsa_fixture,
};

/// The expected v1 body, written out by hand.
fn v1_body(algorithm: &str, value: &str, signature: &[u8], pem: &str) -> String {
    format!(
        r#"{{"apiVersion":"0.0.1","kind":"hashedrekord","spec":{{"data":{{"hash":{{"algorithm":"{algorithm}","value":"{value}"}}}},"signature":{{"content":"{}","publicKey":{{"content":"{}"}}}}}}}}"#,
        b64(signature),
        b64(pem)
    )
}

/// The expected v2 body, written out by hand.
fn v2_body(algorithm: &str, digest: &[u8], signature: &[u8], verifier: &str) -> String {
    format!(
        r#"{{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{{"hashedRekordV002":{{"data":{{"algorithm":"{algorithm}","digest":"{}"}},"signature":{{"content":"{}","verifier":{verifier}}}}}}}}}"#,
        b64(digest),
        b64(signature)
    )
}

/// A signer's digest of `message` under its algorithm's hash, with the v1 and v2 names.
fn digest(algorithm: Algorithm, message: &[u8]) -> (Vec<u8>, &'static str, &'static str) {
    match algorithm {
        Algorithm::EcdsaP384Sha384 => (sha384(message).to_vec(), "sha384", "SHA2_384"),
        Algorithm::EcdsaP521Sha512 => (sha512(message).to_vec(), "sha512", "SHA2_512"),
        _ => (sha256(message).to_vec(), "sha256", "SHA2_256"),
    }
}

const SIGNERS: &[(&str, Algorithm, bool)] = &[
    ("P-256 key", Algorithm::EcdsaP256Sha256, false),
    ("P-256 certificate", Algorithm::EcdsaP256Sha256, true),
    ("P-384 key", Algorithm::EcdsaP384Sha384, false),
    ("P-384 certificate", Algorithm::EcdsaP384Sha384, true),
    ("P-521 key", Algorithm::EcdsaP521Sha512, false),
    ("P-521 certificate", Algorithm::EcdsaP521Sha512, true),
];

fn signer(algorithm: Algorithm, certified: bool) -> Signer {
    if certified {
        Signer::certified(algorithm)
    } else {
        Signer::key(algorithm)
    }
}

#[test]
fn v1_accepts_each_ecdsa_key_and_certificate_with_the_exact_body() {
    for &(name, algorithm, certified) in SIGNERS {
        let signer = signer(algorithm, certified);
        let artifact = format!("artifact for {name}");
        let signature = signer.sign(artifact.as_bytes());
        let (digest, v1_name, _) = digest(algorithm, artifact.as_bytes());
        let request = hashedrekord_v1(&signature, &signer.pem(), v1_name, &hex::encode(&digest));
        let entry = rekor::validate_v1(&bytes(&request)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(entry.kind(), Kind::Hashedrekord, "{name}");
        assert_eq!(entry.api_version(), "0.0.1", "{name}");
        let want = v1_body(v1_name, &hex::encode(&digest), &signature, &signer.pem());
        assert_same_text(name, entry.canonical_body(), want.as_bytes());

        let terms = entry.search_terms();
        let key_term = SearchTerm::PublicKey(sha256(signer.public_key().spki_der()));
        assert!(terms.contains(&key_term), "{name}: {terms:?}");
        let artifact_term = match digest.len() {
            32 => SearchTerm::Sha256Artifact(digest.clone().try_into().unwrap()),
            48 => SearchTerm::Sha384Artifact(digest.clone().try_into().unwrap()),
            _ => SearchTerm::Sha512Artifact(digest.clone().try_into().unwrap()),
        };
        assert!(terms.contains(&artifact_term), "{name}: {terms:?}");
        if let Some(der) = &signer.certificate {
            assert!(
                terms.contains(&SearchTerm::PublicKey(sha256(der))),
                "{name}"
            );
            assert!(
                terms.contains(&SearchTerm::Email("signer@example.com".to_owned())),
                "{name}: e-mail SANs are indexed lowercased: {terms:?}"
            );
            assert!(
                terms.iter().any(|t| matches!(t, SearchTerm::Uri(u) if u.starts_with("https://github.com/waxseal/"))),
                "{name}: {terms:?}"
            );
        }
        assert_eq!(
            entry.leaf_hash(),
            waxseal_merkle::leaf_hash(entry.canonical_body())
        );
    }
}

#[test]
fn v1_accepts_an_rsa_key() {
    let rsa = rsa_fixture();
    let digest = sha256(&rsa.artifact);
    let request = hashedrekord_v1(&rsa.artifact_sig, &rsa.pem, "sha256", &hex::encode(digest));
    let entry = rekor::validate_v1(&bytes(&request)).unwrap();
    let want = v1_body("sha256", &hex::encode(digest), &rsa.artifact_sig, &rsa.pem);
    assert_same_text("RSA-2048", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v1_stores_rekors_canonical_pem_and_the_submitted_hash() {
    // Rekor re-encodes the key (pkg/pki/x509 CanonicalValue): CRLF line ends, a different line
    // width and text around the block do not reach the body. The hash value keeps its case.
    let signer = Signer::certified(Algorithm::EcdsaP256Sha256);
    let signature = signer.sign(b"a");
    let canonical = signer.pem();
    let body: String = canonical
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let odd = format!(
        "issued by the test CA\r\n-----BEGIN CERTIFICATE-----\r\n{}\r\n{}\r\n-----END CERTIFICATE-----\r\n\r\n",
        &body[..10],
        &body[10..]
    );
    let upper = hex::encode_upper(sha256(b"a"));
    let entry =
        rekor::validate_v1(&bytes(&hashedrekord_v1(&signature, &odd, "sha256", &upper))).unwrap();
    let want = v1_body("sha256", &upper, &signature, &canonical);
    assert_same_text("odd PEM", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v1_ignores_unknown_fields_as_rekor_does() {
    let signer = Signer::key(Algorithm::EcdsaP256Sha256);
    let signature = signer.sign(b"a");
    let value = hex::encode(sha256(b"a"));
    let mut request = hashedrekord_v1(&signature, &signer.pem(), "sha256", &value);
    request["extra"] = json!(1);
    request["spec"]["data"]["content"] = json!("ignored");
    let entry = rekor::validate_v1(&bytes(&request)).unwrap();
    let want = v1_body("sha256", &value, &signature, &signer.pem());
    assert_same_text("unknown fields", entry.canonical_body(), want.as_bytes());
}

/// A rejection case: a mutation of a valid v1 request and the error it must give.
struct Rejection {
    name: &'static str,
    mutate: fn(&mut Value, &Fixture),
    want: fn(&Fixture) -> Error,
}

/// A valid P-256 request and the material it was built from.
struct Fixture {
    signature: Vec<u8>,
    other: Signer,
}

fn field(name: &str) -> String {
    name.to_owned()
}

const V1_REJECTIONS: &[Rejection] = &[
    Rejection {
        name: "not an object",
        mutate: |r, _| *r = json!([1]),
        want: |_| Error::WrongType {
            field: field("the request"),
            expected: "a JSON object",
        },
    },
    Rejection {
        name: "missing kind",
        mutate: |r, _| drop(r.as_object_mut().unwrap().remove("kind")),
        want: |_| Error::MissingField {
            field: field("kind"),
        },
    },
    Rejection {
        name: "kind rekord",
        mutate: |r, _| r["kind"] = json!("rekord"),
        want: |_| Error::UnsupportedKind {
            kind: field("rekord"),
            supported: "hashedrekord, dsse",
        },
    },
    Rejection {
        name: "kind not a string",
        mutate: |r, _| r["kind"] = json!(7),
        want: |_| Error::WrongType {
            field: field("kind"),
            expected: "a string",
        },
    },
    Rejection {
        name: "apiVersion 0.0.2",
        mutate: |r, _| r["apiVersion"] = json!("0.0.2"),
        want: |_| Error::UnsupportedApiVersion {
            kind: field("hashedrekord"),
            version: field("0.0.2"),
            supported: "0.0.1",
        },
    },
    Rejection {
        name: "missing spec",
        mutate: |r, _| r["spec"] = Value::Null,
        want: |_| Error::MissingField {
            field: field("spec"),
        },
    },
    Rejection {
        name: "spec not an object",
        mutate: |r, _| r["spec"] = json!("x"),
        want: |_| Error::WrongType {
            field: field("spec"),
            expected: "a JSON object",
        },
    },
    Rejection {
        name: "missing signature content",
        mutate: |r, _| {
            drop(
                r["spec"]["signature"]
                    .as_object_mut()
                    .unwrap()
                    .remove("content"),
            )
        },
        want: |_| Error::MissingField {
            field: field("spec.signature.content"),
        },
    },
    Rejection {
        name: "empty signature content",
        mutate: |r, _| r["spec"]["signature"]["content"] = json!(""),
        want: |_| Error::MissingField {
            field: field("spec.signature.content"),
        },
    },
    Rejection {
        name: "signature content not base64",
        mutate: |r, _| r["spec"]["signature"]["content"] = json!("not base64!"),
        want: |_| Error::InvalidBase64 {
            field: field("spec.signature.content"),
        },
    },
    Rejection {
        name: "signature content url-safe base64",
        mutate: |r, f| {
            // Rekor decodes `format: byte` with the standard alphabet only.
            let mut text = b64(&f.signature);
            text.replace_range(0..1, "-");
            r["spec"]["signature"]["content"] = json!(text);
        },
        want: |_| Error::InvalidBase64 {
            field: field("spec.signature.content"),
        },
    },
    Rejection {
        name: "missing publicKey",
        mutate: |r, _| {
            drop(
                r["spec"]["signature"]
                    .as_object_mut()
                    .unwrap()
                    .remove("publicKey"),
            )
        },
        want: |_| Error::MissingField {
            field: field("spec.signature.publicKey"),
        },
    },
    Rejection {
        name: "publicKey not PEM",
        mutate: |r, _| r["spec"]["signature"]["publicKey"]["content"] = json!(b64("hello")),
        want: |_| Error::InvalidPem {
            field: field("spec.signature.publicKey.content"),
            reason: field("no PEM block found"),
        },
    },
    Rejection {
        name: "publicKey a private key",
        mutate: |r, f| {
            let pem = f.other.key.to_pkcs8_pem().to_string();
            r["spec"]["signature"]["publicKey"]["content"] = json!(b64(pem));
        },
        want: |_| Error::InvalidPem {
            field: field("spec.signature.publicKey.content"),
            reason: field("expected a PEM block labelled \"CERTIFICATE\", found \"PRIVATE KEY\""),
        },
    },
    Rejection {
        name: "publicKey a certificate chain",
        mutate: |r, f| {
            let der = f.other.certificate.clone().unwrap();
            let chain = pem::encode(pem::CERTIFICATE, &der) + &pem::encode(pem::CERTIFICATE, &der);
            r["spec"]["signature"]["publicKey"]["content"] = json!(b64(chain));
        },
        want: |_| Error::CertificateChainUnsupported {
            field: field("spec.signature.publicKey.content"),
            count: 2,
        },
    },
    Rejection {
        name: "publicKey a certificate that is not DER",
        mutate: |r, _| {
            let pem = pem::encode(pem::CERTIFICATE, &[0x30, 0x03, 0x02, 0x01, 0x01]);
            r["spec"]["signature"]["publicKey"]["content"] = json!(b64(pem));
        },
        want: |_| Error::InvalidCertificate {
            field: field("spec.signature.publicKey.content"),
            reason: String::new(),
        },
    },
    Rejection {
        name: "publicKey of an unsupported curve",
        mutate: |r, _| {
            // A secp256k1 SPKI (1.3.132.0.10).
            let mut spki = hex::decode("3056301006072a8648ce3d020106052b8104000a034200").unwrap();
            spki.push(4);
            spki.extend([1; 64]);
            r["spec"]["signature"]["publicKey"]["content"] =
                json!(b64(pem::encode(pem::PUBLIC_KEY, &spki)));
        },
        want: |_| Error::InvalidPublicKey {
            field: field("spec.signature.publicKey.content"),
            source: waxseal_crypto::Error::UnsupportedKeyAlgorithm {
                oid: field("1.2.840.10045.2.1"),
                parameters: field("1.3.132.0.10"),
            },
        },
    },
    Rejection {
        name: "missing hash",
        mutate: |r, _| r["spec"]["data"] = json!({}),
        want: |_| Error::MissingField {
            field: field("spec.data.hash"),
        },
    },
    Rejection {
        name: "hash algorithm md5",
        mutate: |r, _| r["spec"]["data"]["hash"]["algorithm"] = json!("md5"),
        want: |_| Error::UnsupportedHashAlgorithm {
            field: field("spec.data.hash.algorithm"),
            algorithm: field("md5"),
            supported: "sha256, sha384, sha512",
        },
    },
    Rejection {
        name: "hash value too short",
        mutate: |r, _| r["spec"]["data"]["hash"]["value"] = json!("abcd"),
        want: |_| Error::DigestLength {
            field: field("spec.data.hash.value"),
            algorithm: "SHA-256",
            expected: 32,
            actual: 2,
        },
    },
    Rejection {
        name: "hash value sha384 length under sha256",
        mutate: |r, _| r["spec"]["data"]["hash"]["value"] = json!("ab".repeat(48)),
        want: |_| Error::DigestLength {
            field: field("spec.data.hash.value"),
            algorithm: "SHA-256",
            expected: 32,
            actual: 48,
        },
    },
    Rejection {
        name: "hash value not hex",
        mutate: |r, _| r["spec"]["data"]["hash"]["value"] = json!("zz".repeat(32)),
        want: |_| Error::InvalidHex {
            field: field("spec.data.hash.value"),
        },
    },
    Rejection {
        name: "hash value a number",
        mutate: |r, _| r["spec"]["data"]["hash"]["value"] = json!(12),
        want: |_| Error::WrongType {
            field: field("spec.data.hash.value"),
            expected: "a string",
        },
    },
    Rejection {
        name: "digest of another artifact",
        mutate: |r, _| r["spec"]["data"]["hash"]["value"] = json!(hex::encode(sha256(b"b"))),
        want: |_| Error::SignatureInvalid {
            field: field("spec.signature.content"),
            holder: "public key",
            key: "ECDSA P-256",
        },
    },
    Rejection {
        name: "another key",
        mutate: |r, f| r["spec"]["signature"]["publicKey"]["content"] = json!(b64(f.other.pem())),
        want: |_| Error::SignatureInvalid {
            field: field("spec.signature.content"),
            holder: "certificate",
            key: "ECDSA P-384",
        },
    },
    Rejection {
        name: "ed25519 key",
        mutate: |r, _| {
            let key = Signer::key(Algorithm::Ed25519);
            r["spec"]["signature"]["publicKey"]["content"] = json!(b64(key.pem()));
        },
        want: |_| Error::Ed25519PrehashUnsupported {
            field: field("spec.signature.publicKey.content"),
        },
    },
];

#[test]
fn v1_rejections_name_the_problem() {
    let signer = Signer::key(Algorithm::EcdsaP256Sha256);
    let fixture = Fixture {
        signature: signer.sign(b"a"),
        other: Signer::certified(Algorithm::EcdsaP384Sha384),
    };
    let valid = hashedrekord_v1(
        &fixture.signature,
        &signer.pem(),
        "sha256",
        &hex::encode(sha256(b"a")),
    );
    rekor::validate_v1(&bytes(&valid)).unwrap();
    for case in V1_REJECTIONS {
        let mut request = valid.clone();
        (case.mutate)(&mut request, &fixture);
        let got = rekor::validate_v1(&bytes(&request));
        let want = (case.want)(&fixture);
        match (&got, &want) {
            // The DER parser's message is its own; the variant and field are ours.
            (
                Err(Error::InvalidCertificate { field, .. }),
                Error::InvalidCertificate {
                    field: want_field, ..
                },
            ) => assert_eq!(field, want_field, "{}", case.name),
            _ => assert_eq!(got, Err(want), "{}", case.name),
        }
        if let Err(error) = got {
            assert!(!error.to_string().is_empty(), "{}", case.name);
        }
    }
    assert!(matches!(
        rekor::validate_v1(b"{not json"),
        Err(Error::InvalidJson { .. })
    ));
}

#[test]
fn error_messages_read_well() {
    type Case = (&'static str, fn() -> Error, &'static str);
    const CASES: &[Case] = &[
        (
            "signature",
            || Error::SignatureInvalid {
                field: field("spec.signature.content"),
                holder: "certificate",
                key: "ECDSA P-256",
            },
            "spec.signature.content does not verify with the certificate's ECDSA P-256 key",
        ),
        (
            "kind",
            || Error::UnsupportedKind {
                kind: field("rekord"),
                supported: "hashedrekord, dsse",
            },
            "unsupported kind \"rekord\" (supported: hashedrekord, dsse)",
        ),
        (
            "base64",
            || Error::InvalidBase64 {
                field: field("spec.signature.content"),
            },
            "spec.signature.content is not valid base64",
        ),
        (
            "digest length",
            || Error::DigestLength {
                field: field("spec.data.hash.value"),
                algorithm: "SHA-256",
                expected: 32,
                actual: 2,
            },
            "spec.data.hash.value is 2 bytes, but a SHA-256 digest is 32 bytes",
        ),
    ];
    for (name, error, want) in CASES {
        assert_eq!(error().to_string(), *want, "{name}");
    }
}

#[test]
fn v2_accepts_each_key_and_certificate_with_the_exact_body() {
    for &(name, algorithm, certified) in SIGNERS {
        let signer = signer(algorithm, certified);
        let artifact = format!("v2 artifact for {name}");
        let signature = signer.sign(artifact.as_bytes());
        let (digest, _, v2_name) = digest(algorithm, artifact.as_bytes());
        let request = hashedrekord_v2(&digest, &signature, signer.v2_verifier());
        let entry = rekor::validate_v2(&bytes(&request)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (entry.kind(), entry.api_version()),
            (Kind::Hashedrekord, "0.0.2")
        );
        let want = v2_body(v2_name, &digest, &signature, &signer.v2_verifier_text());
        assert_same_text(name, entry.canonical_body(), want.as_bytes());
        assert!(entry.search_terms().contains(&SearchTerm::PublicKey(sha256(
            signer.public_key().spki_der()
        ))));
    }
}

#[test]
fn v2_accepts_an_rsa_key() {
    let rsa = rsa_fixture();
    let key = PublicKey::from_pem(&rsa.pem).unwrap();
    let digest = sha256(&rsa.artifact);
    let verifier = json!({"publicKey": {"rawBytes": b64(key.spki_der())}, "keyDetails": "PKIX_RSA_PKCS1V15_2048_SHA256"});
    let entry = rekor::validate_v2(&bytes(&hashedrekord_v2(
        &digest,
        &rsa.artifact_sig,
        verifier,
    )))
    .unwrap();
    let verifier_text = format!(
        r#"{{"keyDetails":"PKIX_RSA_PKCS1V15_2048_SHA256","publicKey":{{"rawBytes":"{}"}}}}"#,
        b64(key.spki_der())
    );
    let want = v2_body("SHA2_256", &digest, &rsa.artifact_sig, &verifier_text);
    assert_same_text("RSA-2048", entry.canonical_body(), want.as_bytes());
}

#[test]
fn v2_reads_proto_names_and_any_base64_as_protojson_does() {
    let signer = Signer::certified(Algorithm::EcdsaP256Sha256);
    let signature = signer.sign(b"x");
    let digest = sha256(b"x");
    let url = |bytes: &[u8]| {
        b64(bytes)
            .replace('+', "-")
            .replace('/', "_")
            .trim_end_matches('=')
            .to_owned()
    };
    let request = json!({"hashed_rekord_request_v002": {
        "digest": url(&digest),
        "signature": {
            "content": url(&signature),
            "verifier": {
                "x509_certificate": {"raw_bytes": url(signer.certificate.as_ref().unwrap())},
                "key_details": "PKIX_ECDSA_P256_SHA_256",
            },
        },
    }});
    let entry = rekor::validate_v2(&bytes(&request)).unwrap();
    let want = v2_body("SHA2_256", &digest, &signature, &signer.v2_verifier_text());
    assert_same_text("proto names", entry.canonical_body(), want.as_bytes());
}

struct V2Rejection {
    name: &'static str,
    mutate: fn(&mut Value),
    want: Error,
}

fn v2_rejections() -> Vec<V2Rejection> {
    let at = |s: &str| format!("hashedRekordRequestV002.{s}");
    vec![
        V2Rejection {
            name: "unknown top-level field",
            mutate: |r| r["logIndex"] = json!(1),
            want: Error::UnknownField {
                field: field("logIndex"),
            },
        },
        V2Rejection {
            name: "no request",
            mutate: |r| *r = json!({}),
            want: Error::OneofCount {
                field: field("the request"),
                options: "hashedRekordRequestV002, dsseRequestV002",
                count: 0,
            },
        },
        V2Rejection {
            name: "both requests",
            mutate: |r| r["dsseRequestV002"] = json!({}),
            want: Error::OneofCount {
                field: field("the request"),
                options: "hashedRekordRequestV002, dsseRequestV002",
                count: 2,
            },
        },
        V2Rejection {
            name: "old field name",
            mutate: |r| {
                *r = json!({"hashedRekordRequestV0_0_2": r["hashedRekordRequestV002"].clone()})
            },
            want: Error::UnknownField {
                field: field("hashedRekordRequestV0_0_2"),
            },
        },
        V2Rejection {
            name: "unknown field in signature",
            mutate: |r| r["hashedRekordRequestV002"]["signature"]["publicKey"] = json!({}),
            want: Error::UnknownField {
                field: at("signature.publicKey"),
            },
        },
        V2Rejection {
            name: "missing digest",
            mutate: |r| {
                drop(
                    r["hashedRekordRequestV002"]
                        .as_object_mut()
                        .unwrap()
                        .remove("digest"),
                )
            },
            want: Error::MissingField {
                field: at("digest"),
            },
        },
        V2Rejection {
            name: "digest not base64",
            mutate: |r| r["hashedRekordRequestV002"]["digest"] = json!("***"),
            want: Error::InvalidBase64 {
                field: at("digest"),
            },
        },
        V2Rejection {
            name: "empty signature",
            mutate: |r| r["hashedRekordRequestV002"]["signature"]["content"] = json!(""),
            want: Error::MissingField {
                field: at("signature.content"),
            },
        },
        V2Rejection {
            name: "missing verifier",
            mutate: |r| {
                drop(
                    r["hashedRekordRequestV002"]["signature"]
                        .as_object_mut()
                        .unwrap()
                        .remove("verifier"),
                )
            },
            want: Error::MissingField {
                field: at("signature.verifier"),
            },
        },
        V2Rejection {
            name: "key and certificate",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["x509Certificate"] =
                    json!({"rawBytes": "MA=="})
            },
            want: Error::OneofCount {
                field: at("signature.verifier"),
                options: "publicKey, x509Certificate",
                count: 2,
            },
        },
        V2Rejection {
            name: "missing keyDetails",
            mutate: |r| {
                drop(
                    r["hashedRekordRequestV002"]["signature"]["verifier"]
                        .as_object_mut()
                        .unwrap()
                        .remove("keyDetails"),
                )
            },
            want: Error::MissingField {
                field: at("signature.verifier.keyDetails"),
            },
        },
        V2Rejection {
            name: "unspecified keyDetails",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                    json!("PUBLIC_KEY_DETAILS_UNSPECIFIED")
            },
            want: Error::MissingField {
                field: at("signature.verifier.keyDetails"),
            },
        },
        V2Rejection {
            name: "keyDetails by number",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] = json!(5)
            },
            want: Error::WrongType {
                field: at("signature.verifier.keyDetails"),
                expected: "a PublicKeyDetails name",
            },
        },
        V2Rejection {
            name: "unknown keyDetails",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                    json!("PKIX_RSA_PSS_2048_SHA256")
            },
            want: Error::UnsupportedKeyDetails {
                field: at("signature.verifier.keyDetails"),
                name: field("PKIX_RSA_PSS_2048_SHA256"),
            },
        },
        V2Rejection {
            name: "keyDetails of another curve",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["keyDetails"] =
                    json!("PKIX_ECDSA_P384_SHA_384")
            },
            want: Error::KeyDetailsMismatch {
                field: at("signature.verifier.keyDetails"),
                given: field("PKIX_ECDSA_P384_SHA_384"),
                actual: "PKIX_ECDSA_P256_SHA_256",
            },
        },
        V2Rejection {
            name: "empty rawBytes",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["publicKey"]["rawBytes"] =
                    json!("")
            },
            want: Error::EmptyField {
                field: at("signature.verifier.publicKey.rawBytes"),
            },
        },
        V2Rejection {
            name: "rawBytes not a key",
            mutate: |r| {
                r["hashedRekordRequestV002"]["signature"]["verifier"]["publicKey"]["rawBytes"] =
                    json!("MAA=")
            },
            want: Error::InvalidPublicKey {
                field: at("signature.verifier.publicKey.rawBytes"),
                source: waxseal_crypto::Error::MalformedDer {
                    structure: "SubjectPublicKeyInfo",
                    offset: 2,
                    reason: "unexpected end of input",
                },
            },
        },
        V2Rejection {
            name: "sha384 digest under P-256",
            mutate: |r| r["hashedRekordRequestV002"]["digest"] = json!(b64(sha384(b"a"))),
            want: Error::DigestLength {
                field: at("digest"),
                algorithm: "SHA-256",
                expected: 32,
                actual: 48,
            },
        },
        V2Rejection {
            name: "digest of another artifact",
            mutate: |r| r["hashedRekordRequestV002"]["digest"] = json!(b64(sha256(b"b"))),
            want: Error::SignatureInvalid {
                field: at("signature.content"),
                holder: "public key",
                key: "ECDSA P-256",
            },
        },
    ]
}

#[test]
fn v2_rejections_name_the_problem() {
    let signer = Signer::key(Algorithm::EcdsaP256Sha256);
    let valid = hashedrekord_v2(&sha256(b"a"), &signer.sign(b"a"), signer.v2_verifier());
    rekor::validate_v2(&bytes(&valid)).unwrap();
    for case in v2_rejections() {
        let mut request = valid.clone();
        (case.mutate)(&mut request);
        let got = rekor::validate_v2(&bytes(&request));
        match (&got, &case.want) {
            (
                Err(Error::InvalidPublicKey { field, .. }),
                Error::InvalidPublicKey { field: want, .. },
            ) => {
                assert_eq!(field, want, "{}", case.name);
            }
            _ => assert_eq!(got, Err(case.want), "{}", case.name),
        }
    }
}

#[test]
fn v2_refuses_ed25519_which_rekor_tiles_verifies_as_ed25519ph() {
    let signer = Signer::key(Algorithm::Ed25519);
    let request = hashedrekord_v2(&sha512(b"a"), &signer.sign(b"a"), signer.v2_verifier());
    assert_eq!(
        rekor::validate_v2(&bytes(&request)),
        Err(Error::Ed25519PrehashUnsupported {
            field: field("hashedRekordRequestV002.signature.verifier"),
        })
    );
}
