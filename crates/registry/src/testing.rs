//! Test support (feature `testing`): a real Debian `docker-registry` (distribution 2.8) on a
//! free loopback port, and builders that push small random images to it.
//!
//! Tests using [`LocalRegistry`] fail, never skip, when `/usr/bin/docker-registry` is missing.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{self, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use waxseal_oci::{Digest, Reference, media_type};

use crate::{Client, Error, FetchedManifest};

/// The registry binary Debian's `docker-registry` package installs.
pub const DOCKER_REGISTRY: &str = "/usr/bin/docker-registry";

/// How long [`LocalRegistry::start`] waits for `GET /v2/` to answer.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A `docker-registry serve` child process with filesystem storage in a temporary directory,
/// listening on `127.0.0.1:<free port>`. Killed on drop.
#[derive(Debug)]
pub struct LocalRegistry {
    child: Child,
    host: String,
    dir: tempfile::TempDir,
}

impl LocalRegistry {
    /// Starts an anonymous registry (deletes enabled, log level warn).
    ///
    /// # Errors
    ///
    /// An [`io::Error`] saying to install `docker-registry` when it is missing, or why it did
    /// not start.
    pub fn start() -> io::Result<Self> {
        Self::start_inner(None)
    }

    /// Starts a registry that requires `user`/`pass` (htpasswd Basic auth, the file made by
    /// apache2-utils' `htpasswd -Bbn`).
    ///
    /// # Errors
    ///
    /// As [`LocalRegistry::start`], or when `htpasswd` is missing.
    pub fn start_with_htpasswd(user: &str, pass: &str) -> io::Result<Self> {
        Self::start_inner(Some((user, pass)))
    }

    /// `127.0.0.1:PORT`.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// `127.0.0.1:PORT/<repo_and_tag>` as a [`Reference`].
    ///
    /// # Panics
    ///
    /// When `repo_and_tag` is not a valid repository path (a test bug).
    #[must_use]
    #[expect(
        clippy::expect_used,
        reason = "test helper; a bad literal is a test bug"
    )]
    pub fn reference(&self, repo_and_tag: &str) -> Reference {
        Reference::parse(&format!("{}/{repo_and_tag}", self.host)).expect("test reference is valid")
    }

    /// The temporary directory holding config, storage and the registry's log.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn start_inner(htpasswd: Option<(&str, &str)>) -> io::Result<Self> {
        // The free port is found by binding and releasing it; another process may take it
        // before docker-registry binds, so an early exit is retried on a new port.
        let mut last = None;
        for _ in 0..3 {
            match Self::start_once(htpasswd) {
                Ok(registry) => return Ok(registry),
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("docker-registry did not start")))
    }

    fn start_once(htpasswd: Option<(&str, &str)>) -> io::Result<Self> {
        if !Path::new(DOCKER_REGISTRY).exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{DOCKER_REGISTRY} is missing: install it with \
                     `apt-get install -y docker-registry apache2-utils`"
                ),
            ));
        }
        let dir = tempfile::tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let host = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage)?;
        let mut config = format!(
            "version: 0.1\n\
             log:\n  level: warn\n  accesslog:\n    disabled: true\n\
             storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
             http:\n  addr: {host}\n",
            storage.display()
        );
        if let Some((user, pass)) = htpasswd {
            let path = write_htpasswd(dir.path(), user, pass)?;
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: waxseal-test\n    path: {}\n",
                path.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config)?;
        let log = std::fs::File::create(dir.path().join("registry.log"))?;
        let child = Command::new(DOCKER_REGISTRY)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut registry = Self { child, host, dir };
        registry.wait_ready()?;
        Ok(registry)
    }

    /// Polls `GET /v2/` until it answers 200 or 401.
    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(self.dir.path().join("registry.log"))
                    .unwrap_or_default();
                let kind = if log.contains("address already in use") {
                    io::ErrorKind::AddrInUse
                } else {
                    io::ErrorKind::Other
                };
                return Err(io::Error::new(
                    kind,
                    format!("docker-registry exited with {status}: {log}"),
                ));
            }
            if let Ok(status) = probe(&self.host)
                && matches!(status, 200 | 401)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("docker-registry on {} did not answer GET /v2/", self.host),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_htpasswd(dir: &Path, user: &str, pass: &str) -> io::Result<PathBuf> {
    let output = Command::new("htpasswd")
        .args(["-Bbn", user, pass])
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("couldn't run htpasswd ({e}): install it with `apt-get install -y apache2-utils`"),
            )
        })?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "htpasswd failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let path = dir.join("htpasswd");
    std::fs::write(&path, output.stdout)?;
    Ok(path)
}

/// The status of a plain `GET /v2/`.
fn probe(host: &str) -> io::Result<u16> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    write!(stream, "GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("not an HTTP response"))
}

/// `len` random bytes (not for cryptography: only to make test images distinct).
#[must_use]
pub fn random_bytes(len: usize) -> Vec<u8> {
    let state = RandomState::new();
    let mut out = Vec::with_capacity(len + 8);
    let mut counter = 0u64;
    while out.len() < len {
        let mut hasher = state.build_hasher();
        hasher.write_u64(counter);
        out.extend_from_slice(&hasher.finish().to_le_bytes());
        counter += 1;
    }
    out.truncate(len);
    out
}

/// Pushes a random small image (a config blob and one layer blob) as an OCI manifest under
/// `reference`'s tag (or digest).
///
/// # Errors
///
/// Those of [`Client::push_blob`] and [`Client::put_manifest`].
pub async fn push_random_image(
    client: &Client,
    reference: &Reference,
) -> Result<FetchedManifest, Error> {
    push_random_image_as(client, reference, media_type::OCI_MANIFEST).await
}

/// As [`push_random_image`] with manifest type `manifest_type`: [`media_type::OCI_MANIFEST`]
/// or [`media_type::DOCKER_MANIFEST`] (with Docker config and layer types).
///
/// # Errors
///
/// Those of [`Client::push_blob`] and [`Client::put_manifest`].
pub async fn push_random_image_as(
    client: &Client,
    reference: &Reference,
    manifest_type: &str,
) -> Result<FetchedManifest, Error> {
    let manifest = push_random_blobs(client, reference, manifest_type).await?;
    let target = tag_or_digest(reference, &manifest);
    put(client, reference, &target, manifest_type, manifest).await
}

/// Pushes a random config and layer to `repo`'s repository and returns the manifest of
/// `manifest_type` over them (not pushed).
async fn push_random_blobs(
    client: &Client,
    repo: &Reference,
    manifest_type: &str,
) -> Result<Vec<u8>, Error> {
    let (config_type, layer_type) = if manifest_type == media_type::DOCKER_MANIFEST {
        (
            "application/vnd.docker.container.image.v1+json",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
        )
    } else {
        (media_type::OCI_CONFIG, media_type::OCI_LAYER)
    };
    let layer = random_bytes(64);
    let layer_digest = Digest::of(&layer);
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{layer_digest}"]}},"config":{{"Labels":{{"waxseal.test":"{}"}}}}}}"#,
        hex_of(&random_bytes(8))
    );
    client.push_blob(repo, config.as_bytes()).await?;
    client.push_blob(repo, &layer).await?;
    Ok(format!(
        r#"{{"schemaVersion":2,"mediaType":"{manifest_type}","config":{{"mediaType":"{config_type}","digest":"{}","size":{}}},"layers":[{{"mediaType":"{layer_type}","digest":"{layer_digest}","size":{}}}]}}"#,
        Digest::of(config.as_bytes()),
        config.len(),
        layer.len()
    )
    .into_bytes())
}

/// Pushes two random OCI images (by digest) and an OCI index over them for `linux/amd64` and
/// `linux/arm64` under `reference`'s tag (by its own digest without a tag).
///
/// # Errors
///
/// Those of [`Client::push_blob`] and [`Client::put_manifest`].
pub async fn push_random_index(
    client: &Client,
    reference: &Reference,
) -> Result<FetchedManifest, Error> {
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let manifest = push_random_blobs(client, reference, media_type::OCI_MANIFEST).await?;
        let digest = Digest::of(&manifest).to_string();
        let image = put(
            client,
            reference,
            &digest,
            media_type::OCI_MANIFEST,
            manifest,
        )
        .await?;
        entries.push(format!(
            r#"{{"mediaType":"{}","size":{},"digest":"{}","platform":{{"architecture":"{arch}","os":"linux"}}}}"#,
            image.media_type,
            image.bytes.len(),
            image.digest
        ));
    }
    let index = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
        media_type::OCI_INDEX,
        entries.join(",")
    )
    .into_bytes();
    let target = tag_or_digest(reference, &index);
    put(client, reference, &target, media_type::OCI_INDEX, index).await
}

/// Where a manifest is PUT: the reference's tag, else the manifest's own digest.
fn tag_or_digest(reference: &Reference, manifest: &[u8]) -> String {
    reference
        .tag()
        .map_or_else(|| Digest::of(manifest).to_string(), str::to_owned)
}

/// PUTs `bytes` as `target` (a tag or its digest).
async fn put(
    client: &Client,
    repo: &Reference,
    target: &str,
    manifest_type: &str,
    bytes: Vec<u8>,
) -> Result<FetchedManifest, Error> {
    let put = client
        .put_manifest(repo, target, manifest_type, &bytes)
        .await?;
    Ok(FetchedManifest {
        bytes,
        digest: put.digest,
        media_type: manifest_type.to_owned(),
    })
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
