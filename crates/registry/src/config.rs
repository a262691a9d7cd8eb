//! Client configuration and credentials.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How a [`crate::Client`] connects, retries and authenticates. Every field has a safe default.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Use plain http for every registry, not only loopback ones (`localhost`, `127.0.0.0/8`,
    /// `[::1]`), and follow blob redirects to http. Off by default.
    pub allow_insecure: bool,
    /// Credentials for every registry; when `None` the docker config file is read.
    pub credentials: Option<Credentials>,
    /// The docker config file; default `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// Where `docker-credential-<helper>` programs are looked for; default: `PATH`. A test
    /// hook that avoids mutating the process environment.
    pub credential_helper_dir: Option<PathBuf>,
    /// Per-request timeout; default 30 s.
    pub timeout: Duration,
    /// Retries after the first attempt on 429, 502, 503, 504 and connect errors; default 3.
    pub retries: u32,
    /// The largest manifest body read; default [`waxseal_oci::MAX_MANIFEST_SIZE`].
    pub max_manifest_size: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            allow_insecure: false,
            credentials: None,
            docker_config: None,
            credential_helper_dir: None,
            timeout: Duration::from_secs(30),
            retries: 3,
            max_manifest_size: waxseal_oci::MAX_MANIFEST_SIZE,
        }
    }
}

/// A registry username and password (or token). `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The username; `<token>` marks an identity token in `password`, as docker's credential
    /// helpers do.
    pub username: String,
    /// The password, token or identity token.
    pub password: String,
}

impl Credentials {
    /// The username used for identity tokens by docker's credential helpers.
    pub const IDENTITY_TOKEN_USERNAME: &'static str = "<token>";

    /// Credentials from a username and password.
    #[must_use]
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
        }
    }

    /// Whether `password` is an identity (OAuth2 refresh) token rather than a password.
    #[must_use]
    pub fn is_identity_token(&self) -> bool {
        self.username == Self::IDENTITY_TOKEN_USERNAME
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}
