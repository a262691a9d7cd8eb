//! Credentials from the docker config file (`auths`, `credHelpers`, `credsStore`) and docker
//! credential helpers (docker/docker-credential-helpers `client/client.go`: the server URL on
//! stdin, `{"Username","Secret"}` on stdout).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;

use crate::{Credentials, Error};

/// The key Docker Hub credentials are stored under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// The parts of `config.json` read here.
#[derive(Debug, Default, Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The default docker config path: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub(crate) fn default_docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// Looks up credentials for `registry` (a host, `index.docker.io` for Docker Hub) in the
/// docker config at `path`: `credHelpers[registry]`, then `auths[registry]`, then `credsStore`.
/// A missing file means no credentials.
pub(crate) async fn lookup(
    path: &Path,
    helper_dir: Option<&Path>,
    registry: &str,
) -> Result<Option<Credentials>, Error> {
    let bytes = match tokio::fs::read(path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::DockerConfig {
                path: path.to_owned(),
                reason: e.to_string(),
            });
        }
    };
    let config: DockerConfig = serde_json::from_slice(&bytes).map_err(|e| Error::DockerConfig {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    if let Some(helper) = config
        .cred_helpers
        .iter()
        .find(|(key, _)| normalise_key(key) == registry)
        .map(|(_, helper)| helper)
    {
        return run_helper(helper, helper_dir, registry).await;
    }
    if let Some(entry) = config
        .auths
        .iter()
        .find(|(key, _)| normalise_key(key) == registry)
        .map(|(_, entry)| entry)
        && let Some(credentials) = entry_credentials(path, entry)?
    {
        return Ok(Some(credentials));
    }
    match &config.creds_store {
        Some(store) if !store.is_empty() => run_helper(store, helper_dir, registry).await,
        _ => Ok(None),
    }
}

/// A config key (`host`, `https://host`, `https://host/v1/`, `docker.io`) as a registry host.
fn normalise_key(key: &str) -> &str {
    let host = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = host.split('/').next().unwrap_or(host);
    match host {
        "docker.io" | "registry-1.docker.io" => waxseal_oci::DEFAULT_REGISTRY,
        _ => host,
    }
}

fn entry_credentials(path: &Path, entry: &AuthEntry) -> Result<Option<Credentials>, Error> {
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credentials::new(
            Credentials::IDENTITY_TOKEN_USERNAME,
            token,
        )));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let invalid = |reason: &str| Error::DockerConfig {
            path: path.to_owned(),
            reason: format!("an auths entry's \"auth\" is not base64 \"user:password\": {reason}"),
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| invalid(&e.to_string()))?;
        let text = String::from_utf8(decoded).map_err(|_| invalid("not UTF-8"))?;
        let (user, pass) = text.split_once(':').ok_or_else(|| invalid("no ':'"))?;
        return Ok(Some(Credentials::new(user, pass)));
    }
    match (&entry.username, &entry.password) {
        (Some(user), Some(pass)) if !user.is_empty() => Ok(Some(Credentials::new(user, pass))),
        _ => Ok(None),
    }
}

/// Runs `docker-credential-<helper> get` with the server URL on stdin.
async fn run_helper(
    helper: &str,
    helper_dir: Option<&Path>,
    registry: &str,
) -> Result<Option<Credentials>, Error> {
    let program = format!("docker-credential-{helper}");
    let failed = |reason: String| Error::CredentialHelper {
        helper: program.clone(),
        registry: registry.to_owned(),
        reason,
    };
    let server_url = if registry == waxseal_oci::DEFAULT_REGISTRY {
        DOCKER_HUB_KEY
    } else {
        registry
    };
    let executable = match helper_dir {
        Some(dir) => dir.join(&program),
        None => PathBuf::from(&program),
    };
    let mut child = tokio::process::Command::new(&executable)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| failed(format!("couldn't run {}: {e}", executable.display())))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server_url.as_bytes())
            .await
            .map_err(|e| failed(format!("couldn't write stdin: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        // docker-credential-helpers `credentials.ErrCredentialsNotFound`.
        if stdout.contains("credentials not found") || stderr.contains("credentials not found") {
            return Ok(None);
        }
        return Err(failed(format!("{}: {}", output.status, stderr.trim())));
    }
    let parsed: HelperOutput = serde_json::from_slice(&output.stdout).map_err(|e| {
        failed(format!(
            "output is not {{\"Username\",\"Secret\"}} JSON: {e}"
        ))
    })?;
    tracing::debug!(registry, helper = %program, "credentials from credential helper");
    Ok(Some(Credentials::new(parsed.username, parsed.secret)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn normalises_config_keys() {
        for (key, want) in [
            ("ghcr.io", "ghcr.io"),
            ("https://ghcr.io", "ghcr.io"),
            ("https://ghcr.io/v1/", "ghcr.io"),
            ("http://127.0.0.1:5000", "127.0.0.1:5000"),
            ("https://index.docker.io/v1/", "index.docker.io"),
            ("docker.io", "index.docker.io"),
        ] {
            assert_eq!(normalise_key(key), want, "{key}");
        }
    }

    #[test]
    fn reads_auth_username_password_and_identity_token() {
        let path = Path::new("config.json");
        let auth = AuthEntry {
            auth: Some("dXNlcjpwYTpzcw==".into()),
            ..AuthEntry::default()
        };
        assert_eq!(
            entry_credentials(path, &auth).unwrap(),
            Some(Credentials::new("user", "pa:ss"))
        );
        let split = AuthEntry {
            username: Some("u".into()),
            password: Some("p".into()),
            ..AuthEntry::default()
        };
        assert_eq!(
            entry_credentials(path, &split).unwrap(),
            Some(Credentials::new("u", "p"))
        );
        let token = AuthEntry {
            identitytoken: Some("tok".into()),
            ..AuthEntry::default()
        };
        assert!(
            entry_credentials(path, &token)
                .unwrap()
                .unwrap()
                .is_identity_token()
        );
        let bad = AuthEntry {
            auth: Some("!!".into()),
            ..AuthEntry::default()
        };
        assert!(entry_credentials(path, &bad).is_err());
    }
}
