//! OpenSSL 3 as an independent oracle: it builds requests we parse, and parses and verifies the
//! responses we issue (`openssl ts`, RFC 3161 with ESS signingCertificateV2 checks).

use std::path::Path;
use std::process::Command;

use waxseal_crypto::pem;
use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa};

use crate::common::{T0, at, keys};

const DATA: &[u8] = b"signature bytes from a sigstore client\n";

/// Runs `openssl args...` in `dir`; returns (success, stdout + stderr).
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl 3 is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn openssl_requests_parse_and_openssl_verifies_our_responses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    std::fs::write(path.join("data"), DATA).unwrap();
    std::fs::write(path.join("other"), b"different data").unwrap();
    let keys = keys();
    let chain = keys.chain_der();
    std::fs::write(
        path.join("tsa.pem"),
        pem::encode(pem::CERTIFICATE, &chain[0]),
    )
    .unwrap();
    std::fs::write(
        path.join("root.pem"),
        pem::encode(pem::CERTIFICATE, &chain[1]),
    )
    .unwrap();
    let tsa = Tsa::new(keys);
    let attime = (T0 + 100).to_string();

    struct Case {
        name: &'static str,
        query_args: &'static [&'static str],
        cert_req: bool,
        hash: HashAlgorithm,
    }
    let cases = [
        Case {
            name: "sha256 with certReq and nonce (sigstore-python's shape)",
            query_args: &["-sha256", "-cert"],
            cert_req: true,
            hash: HashAlgorithm::Sha256,
        },
        Case {
            name: "sha384 without certReq",
            query_args: &["-sha384"],
            cert_req: false,
            hash: HashAlgorithm::Sha384,
        },
        Case {
            name: "sha512 without nonce",
            query_args: &["-sha512", "-no_nonce", "-cert"],
            cert_req: true,
            hash: HashAlgorithm::Sha512,
        },
    ];
    for (i, case) in cases.iter().enumerate() {
        let name = case.name;
        let mut args = vec!["ts", "-query", "-data", "data", "-out", "req.der"];
        args.extend_from_slice(case.query_args);
        let (ok, text) = openssl(path, &args);
        assert!(ok, "{name}: openssl ts -query: {text}");

        let request = TimeStampRequest::from_der(&std::fs::read(path.join("req.der")).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(request.cert_req(), case.cert_req, "{name}");
        assert_eq!(request.hash_algorithm(), case.hash, "{name}");
        assert_eq!(request.digest(), case.hash.digest(DATA), "{name}");

        let response = tsa
            .timestamp(&request, at(T0 + 100), &[0x42, i as u8])
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        std::fs::write(path.join("resp.der"), &response).unwrap();

        let (ok, text) = openssl(path, &["ts", "-reply", "-in", "resp.der", "-text"]);
        assert!(ok, "{name}: openssl ts -reply: {text}");
        assert!(text.contains("Status: Granted."), "{name}: {text}");
        assert!(
            text.contains("Policy OID: 1.3.6.1.4.1.57264.2"),
            "{name}: {text}"
        );
        assert!(text.contains("Accuracy: 0x01 seconds"), "{name}: {text}");

        let verify = |extra: &[&str]| {
            let mut args = vec![
                "ts",
                "-verify",
                "-in",
                "resp.der",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "tsa.pem",
                "-attime",
                &attime,
            ];
            args.extend_from_slice(extra);
            openssl(path, &args)
        };
        let (ok, text) = verify(&["-data", "data"]);
        assert!(
            ok && text.contains("Verification: OK"),
            "{name}: -data: {text}"
        );
        let (ok, text) = verify(&["-queryfile", "req.der"]);
        assert!(
            ok && text.contains("Verification: OK"),
            "{name}: -queryfile: {text}"
        );
        let (ok, text) = verify(&["-data", "other"]);
        assert!(!ok, "{name}: openssl accepted the wrong data: {text}");
    }
}
