//! htpasswd (Basic) auth on a real docker-registry.

use std::os::unix::fs::PermissionsExt as _;

use base64::Engine as _;
use waxseal_registry::testing::{LocalRegistry, push_random_image};
use waxseal_registry::{Client, ClientConfig, Credentials, Error};

use crate::support::config;

const USER: &str = "alice";
const PASS: &str = "s3cret:pass";

fn registry() -> LocalRegistry {
    LocalRegistry::start_with_htpasswd(USER, PASS)
        .unwrap_or_else(|e| panic!("couldn't start docker-registry with htpasswd: {e}"))
}

async fn push_and_resolve(client: &Client, registry: &LocalRegistry) {
    let image = registry.reference("private/app:v1");
    let pushed = push_random_image(client, &image).await.unwrap();
    assert_eq!(client.resolve(&image).await.unwrap().digest, pushed.digest);
}

#[tokio::test]
async fn basic_auth_with_configured_credentials() {
    let registry = registry();
    let client = Client::new(ClientConfig {
        credentials: Some(Credentials::new(USER, PASS)),
        ..config()
    })
    .unwrap();
    push_and_resolve(&client, &registry).await;
    // Basic is then sent pre-emptively: one request per resolve.
    let before = client.requests();
    client
        .resolve(&registry.reference("private/app:v1"))
        .await
        .unwrap();
    assert_eq!(client.requests() - before, 1);
}

#[tokio::test]
async fn without_credentials_is_unauthorized_with_advice() {
    let registry = registry();
    let client = crate::support::client();
    let err = client
        .get_manifest(&registry.reference("private/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains(registry.host()), "{text}");
    assert!(text.contains("docker login"), "{text}");
    assert!(text.contains("--registry-username"), "{text}");
}

#[tokio::test]
async fn wrong_password_is_unauthorized() {
    let registry = registry();
    let client = Client::new(ClientConfig {
        credentials: Some(Credentials::new(USER, "wrong")),
        ..config()
    })
    .unwrap();
    let err = client
        .get_manifest(&registry.reference("private/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn credentials_from_docker_config_auths() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}"));
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        format!(
            r#"{{"auths":{{"https://{}":{{"auth":"{auth}"}},"other.example.com":{{"auth":"eDp5"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let client = Client::new(ClientConfig {
        docker_config: Some(path),
        ..config()
    })
    .unwrap();
    push_and_resolve(&client, &registry).await;
}

#[tokio::test]
async fn credentials_from_a_credential_helper() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let seen = dir.path().join("stdin");
    let helper = dir.path().join("docker-credential-test");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\ncat > '{}'\n\
             printf '{{\"ServerURL\":\"x\",\"Username\":\"{USER}\",\"Secret\":\"{PASS}\"}}'\n",
            seen.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        format!(r#"{{"credHelpers":{{"{}":"test"}}}}"#, registry.host()),
    )
    .unwrap();
    let client = Client::new(ClientConfig {
        docker_config: Some(path),
        credential_helper_dir: Some(dir.path().to_owned()),
        ..config()
    })
    .unwrap();
    push_and_resolve(&client, &registry).await;
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), registry.host());
}

#[tokio::test]
async fn credential_helper_failure_names_the_helper() {
    let registry = registry();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, r#"{"credsStore":"absent"}"#).unwrap();
    let client = Client::new(ClientConfig {
        docker_config: Some(path),
        credential_helper_dir: Some(dir.path().to_owned()),
        ..config()
    })
    .unwrap();
    let err = client
        .get_manifest(&registry.reference("private/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::CredentialHelper { .. }), "{err}");
    assert!(
        err.to_string().contains("docker-credential-absent"),
        "{err}"
    );
}
