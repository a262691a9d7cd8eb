//! The instance's data directory: keys (0600) and stores, created on first start.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use waxseal_crypto::{Algorithm, SigningKey};

/// `$XDG_DATA_HOME/waxseal`, else `~/.local/share/waxseal`, else `./waxseal-data`.
pub(crate) fn default_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("waxseal");
    }
    match std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/waxseal"),
        None => PathBuf::from("waxseal-data"),
    }
}

/// The lock a running `waxseal serve` holds on its data directory (see
/// [`DataDir::lock_for_serving`]); released when dropped.
#[derive(Debug)]
pub(crate) struct ServeLock {
    _file: fs::File,
}

/// An opened data directory.
#[derive(Debug)]
pub(crate) struct DataDir {
    path: PathBuf,
}

impl DataDir {
    /// Creates the directory (0700) if needed.
    pub(crate) fn open(path: &Path) -> Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .with_context(|| format!("couldn't create data directory {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// Takes the directory for one `waxseal serve`: an exclusive lock on `serve.lock`, held
    /// until the returned guard is dropped or the process ends (the kernel releases it, so a
    /// SIGKILLed server leaves nothing to clean up), with the holder's PID written in it. The
    /// embedded stores have one writer: a second server on the same directory would serve a
    /// stale tree head and fail every write.
    ///
    /// # Errors
    ///
    /// When another process holds the lock, naming its PID and what to do.
    pub(crate) fn lock_for_serving(&self) -> Result<ServeLock> {
        use std::io::{Read as _, Seek as _};
        let path = self.path("serve.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("couldn't open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "another process".to_owned(),
                    pid => format!("another process (pid {pid})"),
                };
                bail!(
                    "data directory {} is in use by {holder} running `waxseal serve`: one data \
                     directory is one instance with a single writer; stop that server first, or \
                     start this one with another --data-dir",
                    self.path.display()
                );
            }
            Err(fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("couldn't lock {}", path.display()));
            }
        }
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| writeln!(file, "{}", std::process::id()))
            .and_then(|()| file.sync_all())
            .with_context(|| format!("couldn't write {}", path.display()))?;
        Ok(ServeLock { _file: file })
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Loads the PKCS#8 PEM key `name`, generating it (file mode 0600) on first use.
    pub(crate) fn key(&self, name: &str, algorithm: Algorithm) -> Result<SigningKey> {
        let path = self.path(name);
        match fs::read_to_string(&path) {
            Ok(pem) => SigningKey::from_pkcs8_pem(&pem)
                .with_context(|| format!("couldn't read key {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate(algorithm).context("couldn't generate a key")?;
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .with_context(|| format!("couldn't create key file {}", path.display()))?;
                file.write_all(key.to_pkcs8_pem().as_bytes())
                    .and_then(|()| file.sync_all())
                    .with_context(|| format!("couldn't write key file {}", path.display()))?;
                tracing::info!(path = %path.display(), "generated a new key");
                Ok(key)
            }
            Err(e) => Err(e).with_context(|| format!("couldn't read key {}", path.display())),
        }
    }

    /// Creates file `name` with `contents` and permissions `mode`, durably; fails if it exists.
    pub(crate) fn create_file(&self, name: &str, contents: &[u8], mode: u32) -> Result<()> {
        let path = self.path(name);
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .with_context(|| format!("couldn't create {}", path.display()))?;
        file.write_all(contents)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("couldn't write {}", path.display()))
    }

    /// A setting fixed at first start: returns the stored value, storing `wanted` (or
    /// `default`) the first time. A different `wanted` later is an error.
    pub(crate) fn fixed_setting(
        &self,
        name: &str,
        wanted: Option<&str>,
        default: &str,
    ) -> Result<String> {
        let path = self.path(name);
        match fs::read_to_string(&path) {
            Ok(stored) => {
                let stored = stored.trim_end().to_owned();
                if let Some(wanted) = wanted.filter(|w| *w != stored) {
                    bail!(
                        "{} is fixed to {stored:?} in {}; cannot change it to {wanted:?}",
                        name,
                        path.display()
                    );
                }
                Ok(stored)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let value = wanted.unwrap_or(default).to_owned();
                fs::write(&path, format!("{value}\n"))
                    .with_context(|| format!("couldn't write {}", path.display()))?;
                Ok(value)
            }
            Err(e) => Err(e).with_context(|| format!("couldn't read {}", path.display())),
        }
    }
}
