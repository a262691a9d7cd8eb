//! Shared helpers.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use waxseal_crypto::{Algorithm, PublicKey, SigningKey, pem};

/// Base64 (standard, padded).
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64.
pub(crate) fn unb64(text: &str) -> Vec<u8> {
    STANDARD.decode(text).unwrap()
}

/// A path under the shared Sigstore vectors.
pub(crate) fn vector_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/sigstore"
    ))
    .join(relative)
}

/// A path under this crate's fixtures.
pub(crate) fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures")).join(relative)
}

/// A JSON file.
pub(crate) fn read_json(path: &PathBuf) -> Value {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

/// Compares two byte strings as text, printing both on mismatch.
#[track_caller]
pub(crate) fn assert_same_text(name: &str, got: &[u8], want: &[u8]) {
    if got != want {
        panic!(
            "{name}: bodies differ\n got: {}\nwant: {}",
            String::from_utf8_lossy(got),
            String::from_utf8_lossy(want)
        );
    }
}

/// A test signer: a key and, optionally, a self-signed certificate for it.
pub(crate) struct Signer {
    pub(crate) key: SigningKey,
    /// DER certificate, when the signer uses one.
    pub(crate) certificate: Option<Vec<u8>>,
}

impl Signer {
    /// A bare key.
    pub(crate) fn key(algorithm: Algorithm) -> Self {
        Self {
            key: SigningKey::generate(algorithm).unwrap(),
            certificate: None,
        }
    }

    /// A key with a self-signed certificate carrying an e-mail and a URI SAN.
    pub(crate) fn certified(algorithm: Algorithm) -> Self {
        let key = SigningKey::generate(algorithm).unwrap();
        let pkcs8 = key.to_pkcs8_der();
        let pair = rcgen::KeyPair::try_from(pkcs8.as_slice()).unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = vec![
            rcgen::SanType::Rfc822Name("Signer@Example.com".try_into().unwrap()),
            rcgen::SanType::URI(
                "https://github.com/waxseal/waxseal/.github/workflows/release.yml@refs/heads/main"
                    .try_into()
                    .unwrap(),
            ),
        ];
        let certificate = params.self_signed(&pair).unwrap();
        Self {
            key,
            certificate: Some(certificate.der().to_vec()),
        }
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The PEM Rekor v1 requests carry: the certificate, or the public key.
    pub(crate) fn pem(&self) -> String {
        match &self.certificate {
            Some(der) => pem::encode(pem::CERTIFICATE, der),
            None => self.key.public_key().to_pem(),
        }
    }

    /// The Rekor v2 verifier object.
    pub(crate) fn v2_verifier(&self) -> Value {
        let details = self.key.public_key().key_details();
        match &self.certificate {
            Some(der) => json!({"x509Certificate": {"rawBytes": b64(der)}, "keyDetails": details}),
            None => json!({
                "publicKey": {"rawBytes": b64(self.key.public_key().spki_der())},
                "keyDetails": details,
            }),
        }
    }

    /// The canonical Rekor v2 verifier JSON text (keys sorted).
    pub(crate) fn v2_verifier_text(&self) -> String {
        let details = self.key.public_key().key_details();
        match &self.certificate {
            Some(der) => format!(
                r#"{{"keyDetails":"{details}","x509Certificate":{{"rawBytes":"{}"}}}}"#,
                b64(der)
            ),
            None => format!(
                r#"{{"keyDetails":"{details}","publicKey":{{"rawBytes":"{}"}}}}"#,
                b64(self.key.public_key().spki_der())
            ),
        }
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.key.sign(message).unwrap()
    }
}

/// A Rekor v1 hashedrekord request.
pub(crate) fn hashedrekord_v1(signature: &[u8], pem: &str, algorithm: &str, value: &str) -> Value {
    json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "signature": {"content": b64(signature), "publicKey": {"content": b64(pem)}},
            "data": {"hash": {"algorithm": algorithm, "value": value}},
        },
    })
}

/// A Rekor v2 hashedrekord request.
pub(crate) fn hashedrekord_v2(digest: &[u8], signature: &[u8], verifier: Value) -> Value {
    json!({"hashedRekordRequestV002": {
        "digest": b64(digest),
        "signature": {"content": b64(signature), "verifier": verifier},
    }})
}

/// JSON text of a value, as bytes.
pub(crate) fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// The checked-in RSA-2048 fixture (tests/fixtures/README.md).
pub(crate) struct RsaFixture {
    pub(crate) pem: String,
    pub(crate) artifact: Vec<u8>,
    pub(crate) artifact_sig: Vec<u8>,
    pub(crate) dsse_payload: Vec<u8>,
    pub(crate) dsse_sig: Vec<u8>,
}

pub(crate) fn rsa_fixture() -> RsaFixture {
    let read = |name: &str| std::fs::read(fixture_path(&format!("rsa/{name}"))).unwrap();
    RsaFixture {
        pem: String::from_utf8(read("public.pem")).unwrap(),
        artifact: read("artifact.txt"),
        artifact_sig: read("artifact.sig"),
        dsse_payload: read("dsse-payload.json"),
        dsse_sig: read("dsse-payload.sig"),
    }
}
