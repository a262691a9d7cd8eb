//! `waxseal serve` as a user runs it.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use crate::support::Server;

#[test]
fn first_start_creates_keys_and_serves_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--origin", "example.test/log"]);
    let key = data.join("rekor-v2-key.pem");
    assert_eq!(
        std::fs::metadata(data.join("rekor-v1-key.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let (status, body) = server.get("/checkpoint");
    assert_eq!(status, 200);
    let text = String::from_utf8(body).unwrap();
    // A new log holds one genesis entry, so clients never get index 0.
    assert!(text.starts_with("example.test/log\n1\n"), "{text}");
    assert!(text.contains("\n\n— example.test/log "), "{text}");
    assert_eq!(server.get("/api/v2/checkpoint").1, text.as_bytes());
    assert_eq!(
        server.get("/tile/0/000").0,
        404,
        "only a partial tile exists yet"
    );
    assert_eq!(server.get("/tile/0/000.p/1").0, 200);
    assert_eq!(server.get("/api/v2/tile/0/000.p/1").0, 200);
    assert_eq!(server.get("/tile/0/0").0, 400);
    let root: serde_json::Value =
        serde_json::from_slice(&std::fs::read(data.join("trust/trusted_root.json")).unwrap())
            .unwrap();
    let tlogs = &root["tlogs"];
    assert_eq!(
        tlogs[0]["publicKey"]["keyDetails"],
        "PKIX_ECDSA_P256_SHA_256"
    );
    assert_eq!(tlogs[1]["publicKey"]["keyDetails"], "PKIX_ED25519");
    assert_eq!(
        tlogs[0]["baseUrl"].as_str().unwrap(),
        format!("http://{}", server.addr)
    );
    check_trust_files(&server, &data);
    let first_key = std::fs::read(&key).unwrap();
    drop(server);

    // A restart keeps the key and the origin; a different origin is refused.
    let server = Server::start(&data, &[]);
    assert_eq!(std::fs::read(&key).unwrap(), first_key);
    assert!(
        String::from_utf8(server.get("/checkpoint").1)
            .unwrap()
            .starts_with("example.test/log\n")
    );
    drop(server);
    let out = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--origin",
            "other.test",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot change it"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fetches the issuer's documents from the running instance, as a CA would.
struct HttpFetcher<'a> {
    server: &'a Server,
}

impl waxseal_oidc::JwksFetcher for HttpFetcher<'_> {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, waxseal_oidc::FetchError> {
        let path = url
            .split_once(&self.server.addr)
            .map_or(url, |(_, path)| path);
        match self.server.get(path) {
            (200, body) => Ok(body),
            (status, _) => Err(waxseal_oidc::FetchError::Status { status }),
        }
    }
}

#[test]
fn tokens_from_the_builtin_issuer_verify_against_its_served_keys() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let waxseal = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_waxseal"))
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap()
    };
    // Before the instance has run, there is no issuer to mint with.
    let out = waxseal(&["token", "--subject", "alice"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("start `waxseal serve`"));

    let server = Server::start(&data, &[]);
    let out = waxseal(&[
        "token",
        "--subject",
        "alice",
        "--email",
        "alice@example.com",
        "--ttl",
        "5m",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    let issuer = format!("http://{}", server.addr);
    let config = waxseal_oidc::OidcConfig::new(
        vec![waxseal_oidc::IssuerConfig::new(
            &issuer,
            waxseal_oidc::IssuerType::Email,
        )],
        Vec::new(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let verified = waxseal_oidc::Verifier::new(config)
        .verify(token.trim(), now, &HttpFetcher { server: &server })
        .expect("the minted token verifies with the served JWKS");
    assert_eq!(
        (verified.subject(), verified.email()),
        ("alice", Some("alice@example.com"))
    );
    assert_eq!(
        std::fs::metadata(data.join("oidc-key.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

/// The trust files parse as the Sigstore models, are served as written, name one tlog per
/// signing config with the right API version, and carry the CA chain `/api/v2/trustBundle`
/// serves, the CT log key and the TSA chain.
fn check_trust_files(server: &Server, data: &std::path::Path) {
    use waxseal_bundle::{ClientTrustConfig, SigningConfig, TrustedRoot};
    let read = |name: &str| std::fs::read(data.join("trust").join(name)).unwrap();
    for name in [
        "trusted_root.json",
        "signing_config.json",
        "client_trust_config.json",
        "client_trust_config.rekor-v2.json",
    ] {
        let (status, body) = server.get(&format!("/trust/{name}"));
        assert_eq!(status, 200, "{name}");
        assert_eq!(body, read(name), "{name} is served as written");
    }
    assert_eq!(server.get("/trust/nope.json").0, 404);
    let root = TrustedRoot::from_json(&read("trusted_root.json")).unwrap();
    assert_eq!(root.tlogs.len(), 2);
    assert_eq!(root.ctlogs.len(), 1);
    assert_eq!(
        root.certificate_authorities[0]
            .cert_chain
            .certificates
            .len(),
        2
    );
    assert_eq!(
        root.timestamp_authorities[0].cert_chain.certificates.len(),
        2
    );
    for (name, version) in [
        ("signing_config.json", 1),
        ("signing_config.rekor-v1.json", 1),
        ("signing_config.rekor-v2.json", 2),
    ] {
        let config = SigningConfig::from_json(&read(name)).unwrap();
        assert_eq!(config.rekor_tlog_urls.len(), 1, "{name}: exactly one tlog");
        assert_eq!(
            config.rekor_tlog_urls[0].major_api_version, version,
            "{name}"
        );
        assert_eq!(config.ca_urls[0].url, format!("http://{}", server.addr));
        assert!(config.tsa_urls[0].url.ends_with("/api/v1/timestamp"));
    }
    let client = ClientTrustConfig::from_json(&read("client_trust_config.json")).unwrap();
    assert_eq!(client.trusted_root, root);
    let export = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args(["trust", "export", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert!(export.status.success());
    assert_eq!(export.stdout, read("client_trust_config.json"));
    let export = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args(["trust", "export", "--signing-log", "rekor-v2", "--data-dir"])
        .arg(data)
        .output()
        .unwrap();
    assert_eq!(export.stdout, read("client_trust_config.rekor-v2.json"));

    let (status, bundle) = server.get("/api/v2/trustBundle");
    assert_eq!(status, 200);
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let served: Vec<Vec<u8>> = bundle["chains"][0]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pem| waxseal_crypto::pem::decode(pem.as_str().unwrap(), "CERTIFICATE").unwrap())
        .collect();
    let trusted: Vec<Vec<u8>> = root.certificate_authorities[0]
        .cert_chain
        .certificates
        .iter()
        .map(|c| c.raw_bytes.clone())
        .collect();
    assert_eq!(served, trusted);
    let (status, roots) = server.get("/ct/ct/v1/get-roots");
    assert_eq!(status, 200);
    let roots: serde_json::Value = serde_json::from_slice(&roots).unwrap();
    assert_eq!(roots["certificates"].as_array().unwrap().len(), 1);
}

/// A `publicKeyRequest` signing-certificate body for `email`'s token.
fn signing_request(token: &str, email: &str) -> String {
    use base64::Engine as _;
    let key =
        waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::EcdsaP256Sha256).unwrap();
    serde_json::json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": key.public_key().to_pem()},
            "proofOfPossession": base64::engine::general_purpose::STANDARD
                .encode(key.sign(email.as_bytes()).unwrap()),
        },
    })
    .to_string()
}

#[test]
fn issuance_rules_in_the_oidc_config_refuse_other_identities() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // First start fixes the issuer URL; the rules then name it.
    drop(Server::start(&data, &[]));
    let issuer = std::fs::read_to_string(data.join("oidc-issuer")).unwrap();
    let config = dir.path().join("oidc.toml");
    std::fs::write(
        &config,
        format!(
            "[[issuer]]\nurl = {:?}\ntype = \"email\"\n\n[issuer.rules]\n\
             san = [\"release@example.com\"]\n",
            issuer.trim()
        ),
    )
    .unwrap();
    let server = Server::start(&data, &["--oidc-config", config.to_str().unwrap()]);

    let email = "release@example.com";
    let (status, body) = server.post_json(
        "/api/v2/signingCert",
        &signing_request(&server.token("robot", email), email),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));

    let email = "mallory@example.com";
    let (status, body) = server.post_json(
        "/api/v2/signingCert",
        &signing_request(&server.token("robot", email), email),
    );
    assert_eq!(status, 403);
    let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["code"], 403);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("rules.san") && message.contains(email),
        "{message}"
    );

    // A broken configuration stops the start with a message naming the file.
    drop(server);
    std::fs::write(&config, "[[issuer]]\nurl = \"ftp://x\"\ntype = \"email\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args(["serve", "--listen", "127.0.0.1:0", "--oidc-config"])
        .arg(&config)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("oidc.toml"), "{stderr}");
}

#[test]
fn a_second_server_on_a_data_directory_in_use_refuses_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = Server::start(&data, &[]);
    let pid = std::fs::read_to_string(data.join("serve.lock")).unwrap();
    let second = Command::new(env!("CARGO_BIN_EXE_waxseal"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("is in use") && stderr.contains(&format!("pid {}", pid.trim())),
        "{stderr}"
    );
    // The first still answers; once it is gone (SIGKILL: the kernel drops the lock), the
    // directory can be served again.
    assert_eq!(first.get("/api/v1/log").0, 200);
    first.kill();
    let again = Server::start(&data, &[]);
    assert_eq!(again.get("/api/v1/log").0, 200);
}
