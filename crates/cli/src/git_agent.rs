//! `waxseal git credential-cache`: one signing key and its certificate, kept in memory for the
//! certificate's life and handed to signing processes over a Unix socket (as gitsign's
//! `gitsign-credential-cache`).
//!
//! The protocol is one JSON line each way per connection: `{"op":"get"}` answers
//! `{"credential":…|null}`; `{"op":"put","credential":…}` answers `{"ok":true}`. A credential
//! is the PKCS#8 key and the certificate chain (DER, leaf first), base64, and the leaf's
//! `notAfter` (Unix seconds). The agent never writes either to disk, refuses peers of another
//! uid (`SO_PEERCRED`), and drops the credential once it expires. The directory is 0700 and
//! the socket 0600.

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _};
use zeroize::Zeroizing;

/// The environment variable naming the cache's socket (else git config
/// `waxseal.credentialCache`).
pub(crate) const SOCKET_ENV: &str = "WAXSEAL_CREDENTIAL_CACHE";

/// A credential is handed out only if it stays valid this much longer (a signing takes a few
/// seconds: the timestamp and the log entry must fall inside the certificate's window).
const MIN_REMAINING: Duration = Duration::from_secs(30);

/// The longest request line accepted.
const MAX_LINE: usize = 64 * 1024;

/// `waxseal git credential-cache`.
#[derive(Debug, clap::Args)]
pub(crate) struct CacheArgs {
    /// The socket to serve (default: $XDG_RUNTIME_DIR/waxseal/credential-cache.sock, else
    /// ~/.cache/waxseal/credential-cache.sock). Its directory is created 0700.
    #[arg(long)]
    socket: Option<PathBuf>,
}

/// A key and its certificate chain, as the cache holds them.
#[derive(Debug)]
pub(crate) struct Cached {
    /// PKCS#8 DER of the signing key.
    pub(crate) key_pkcs8: Zeroizing<Vec<u8>>,
    /// The certificate chain, DER, leaf first.
    pub(crate) chain: Vec<Vec<u8>>,
    /// The leaf's `notAfter`, Unix seconds.
    pub(crate) not_after: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WireCredential {
    key: String,
    chain: Vec<String>,
    not_after: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase", deny_unknown_fields)]
enum Request {
    Get,
    Put { credential: WireCredential },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reply {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    credential: Option<WireCredential>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ok: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl Cached {
    fn to_wire(&self) -> WireCredential {
        WireCredential {
            key: STANDARD.encode(&*self.key_pkcs8),
            chain: self.chain.iter().map(|c| STANDARD.encode(c)).collect(),
            not_after: self.not_after,
        }
    }

    fn from_wire(wire: &WireCredential) -> Result<Self> {
        let key = Zeroizing::new(
            STANDARD
                .decode(&wire.key)
                .context("the cached key is not base64")?,
        );
        let chain = wire
            .chain
            .iter()
            .map(|c| STANDARD.decode(c))
            .collect::<Result<Vec<_>, _>>()
            .context("the cached certificate is not base64")?;
        if chain.is_empty() {
            bail!("the cached credential has no certificate");
        }
        Ok(Self {
            key_pkcs8: key,
            chain,
            not_after: wire.not_after,
        })
    }

    fn usable_at(&self, now: i64) -> bool {
        let margin = i64::try_from(MIN_REMAINING.as_secs()).unwrap_or(i64::MAX);
        self.not_after.saturating_sub(margin) > now
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The default socket path.
pub(crate) fn default_socket() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir)
            .join("waxseal")
            .join("credential-cache.sock"));
    }
    let home = std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .context("neither XDG_RUNTIME_DIR nor HOME is set: pass --socket")?;
    Ok(PathBuf::from(home)
        .join(".cache")
        .join("waxseal")
        .join("credential-cache.sock"))
}

/// Creates the socket's directory 0700 (or checks an existing one is ours and 0700) and
/// returns our uid (the directory's owner).
fn private_dir(dir: &Path) -> Result<u32> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("couldn't create {}", dir.display()))?;
    let meta =
        std::fs::metadata(dir).with_context(|| format!("couldn't stat {}", dir.display()))?;
    // Whoever we are, a file we just created (or already own) tells us our uid.
    let probe = tempfile::Builder::new()
        .prefix(".uid-probe")
        .tempfile_in(dir)
        .with_context(|| format!("couldn't write in {}", dir.display()))?;
    let uid = probe
        .as_file()
        .metadata()
        .context("couldn't stat a file in the socket directory")?
        .uid();
    drop(probe);
    if meta.uid() != uid {
        bail!(
            "{} belongs to uid {}, not to us (uid {uid}): choose another --socket",
            dir.display(),
            meta.uid()
        );
    }
    if meta.mode() & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("couldn't make {} owner-only", dir.display()))?;
    }
    Ok(uid)
}

/// Runs the cache until interrupted.
pub(crate) fn serve(args: &CacheArgs) -> Result<ExitCode> {
    let socket = match &args.socket {
        Some(path) => path.clone(),
        None => default_socket()?,
    };
    let dir = socket
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let uid = private_dir(dir)?;
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            bail!("a credential cache already serves {}", socket.display());
        }
        std::fs::remove_file(&socket)
            .with_context(|| format!("couldn't remove the stale socket {}", socket.display()))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::UnixListener::bind(&socket)
            .with_context(|| format!("couldn't listen on {}", socket.display()))?;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("couldn't make {} owner-only", socket.display()))?;
        println!(
            "waxseal: credential cache listening on {}",
            socket.display()
        );
        let _ = std::io::stdout().flush();
        let state: Arc<Mutex<Option<Cached>>> = Arc::new(Mutex::new(None));
        let expiry = tokio::spawn(expire(Arc::clone(&state)));
        let result = loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, _) = match accepted {
                        Ok(pair) => pair,
                        Err(e) => break Err(anyhow::Error::new(e).context("couldn't accept")),
                    };
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        if let Err(e) = handle(stream, uid, &state).await {
                            tracing::warn!("credential cache: {e:#}");
                        }
                    });
                }
                _ = tokio::signal::ctrl_c() => break Ok(()),
            }
        };
        expiry.abort();
        let _ = std::fs::remove_file(&socket);
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Drops the credential once it is no longer usable.
async fn expire(state: Arc<Mutex<Option<Cached>>>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Ok(mut held) = state.lock()
            && held.as_ref().is_some_and(|c| !c.usable_at(unix_now()))
        {
            *held = None;
        }
    }
}

async fn handle(
    stream: tokio::net::UnixStream,
    uid: u32,
    state: &Mutex<Option<Cached>>,
) -> Result<()> {
    let peer = stream
        .peer_cred()
        .context("couldn't read the peer's credentials")?;
    let (read, mut write) = stream.into_split();
    if peer.uid() != uid {
        let reply = error_reply(&format!(
            "refused: the cache serves uid {uid} only, not uid {}",
            peer.uid()
        ));
        write.write_all(reply.as_bytes()).await?;
        bail!("refused a peer of uid {}", peer.uid());
    }
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read).take(MAX_LINE as u64);
    reader
        .read_line(&mut line)
        .await
        .context("couldn't read the request")?;
    let reply = match serde_json::from_str::<Request>(&line) {
        Err(e) => error_reply(&format!("bad request: {e}")),
        Ok(Request::Get) => {
            let now = unix_now();
            let held = state
                .lock()
                .map_err(|_| anyhow::anyhow!("state lock poisoned"))?;
            let credential = held
                .as_ref()
                .filter(|c| c.usable_at(now))
                .map(Cached::to_wire);
            serde_json::to_string(&Reply {
                credential,
                ok: None,
                error: None,
            })? + "\n"
        }
        Ok(Request::Put { credential }) => match Cached::from_wire(&credential) {
            Err(e) => error_reply(&format!("{e:#}")),
            Ok(cached) if !cached.usable_at(unix_now()) => {
                error_reply("the credential has expired or is about to")
            }
            Ok(cached) => {
                let mut held = state
                    .lock()
                    .map_err(|_| anyhow::anyhow!("state lock poisoned"))?;
                *held = Some(cached);
                "{\"ok\":true}\n".to_owned()
            }
        },
    };
    write.write_all(reply.as_bytes()).await?;
    write.shutdown().await?;
    Ok(())
}

fn error_reply(message: &str) -> String {
    let reply = Reply {
        credential: None,
        ok: None,
        error: Some(message.to_owned()),
    };
    serde_json::to_string(&reply).unwrap_or_else(|_| "{\"error\":\"internal\"}".to_owned()) + "\n"
}

/// One request to the cache at `socket`.
fn exchange(socket: &Path, request: &Request) -> Result<Reply> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).with_context(|| {
        format!(
            "couldn't reach the credential cache at {} (is `waxseal git credential-cache` \
             running?)",
            socket.display()
        )
    })?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .context("couldn't set a timeout")?;
    let mut line = serde_json::to_string(request)?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .context("couldn't write to the credential cache")?;
    let mut answer = String::new();
    BufReader::new(std::io::Read::take(stream, MAX_LINE as u64))
        .read_line(&mut answer)
        .context("couldn't read the credential cache's answer")?;
    let reply: Reply =
        serde_json::from_str(&answer).context("the credential cache's answer is not valid")?;
    if let Some(error) = reply.error {
        bail!("the credential cache refused: {error}");
    }
    Ok(reply)
}

/// The cached credential, if the cache at `socket` holds a usable one.
pub(crate) fn fetch(socket: &Path) -> Result<Option<Cached>> {
    let reply = exchange(socket, &Request::Get)?;
    match reply.credential {
        None => Ok(None),
        Some(wire) => {
            let cached = Cached::from_wire(&wire)?;
            Ok(cached.usable_at(unix_now()).then_some(cached))
        }
    }
}

/// Hands `cached` to the cache at `socket`.
pub(crate) fn store(socket: &Path, cached: &Cached) -> Result<()> {
    let reply = exchange(
        socket,
        &Request::Put {
            credential: cached.to_wire(),
        },
    )?;
    if reply.ok != Some(true) {
        bail!("the credential cache did not take the credential");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(not_after: i64) -> Cached {
        Cached {
            key_pkcs8: Zeroizing::new(vec![1, 2, 3]),
            chain: vec![vec![4, 5], vec![6]],
            not_after,
        }
    }

    #[test]
    fn credentials_round_trip_the_wire_format() {
        let wire = cached(1_000).to_wire();
        let back = Cached::from_wire(&wire).unwrap();
        assert_eq!(*back.key_pkcs8, vec![1, 2, 3]);
        assert_eq!(back.chain, vec![vec![4, 5], vec![6]]);
        assert_eq!(back.not_after, 1_000);
        let mut empty = cached(1_000).to_wire();
        empty.chain.clear();
        assert!(Cached::from_wire(&empty).is_err());
        let mut bad = cached(1_000).to_wire();
        bad.key = "not base64!".to_owned();
        assert!(Cached::from_wire(&bad).is_err());
    }

    #[test]
    fn credentials_expire_with_a_margin() {
        let c = cached(1_000);
        assert!(c.usable_at(900));
        assert!(!c.usable_at(970), "less than 30 s left");
        assert!(!c.usable_at(1_000));
        assert!(!c.usable_at(2_000));
    }

    #[test]
    fn requests_are_strict_json() {
        assert!(matches!(
            serde_json::from_str::<Request>(r#"{"op":"get"}"#),
            Ok(Request::Get)
        ));
        for bad in [r#"{"op":"dump"}"#, r#"{"op":"put"}"#, "get"] {
            assert!(serde_json::from_str::<Request>(bad).is_err(), "{bad}");
        }
    }
}
