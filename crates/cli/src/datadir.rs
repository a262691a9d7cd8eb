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

/// The lock a starting front end holds on `setup.lock` while it loads or creates the
/// instance's keys, settings and trust files (see [`DataDir::lock_for_setup`]).
#[derive(Debug)]
pub(crate) struct SetupLock {
    _file: fs::File,
}

/// What [`DataDir::publish_new`] found.
#[derive(Debug)]
pub(crate) enum Publication {
    /// This process created the file.
    Created,
    /// Another process had created it first: its contents.
    Existed(Vec<u8>),
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

    /// Serializes first-start setup between front ends sharing the directory (the PostgreSQL
    /// backend lets several `waxseal serve` run on one data directory): waits for an exclusive
    /// lock on `setup.lock`, held until the guard is dropped (or the process dies: the kernel
    /// releases it). Material made of several files (the CA's key and chain, the TSA's) is
    /// created under it, so no front end can pair one process's key with another's chain;
    /// every single file is also published atomically ([`DataDir::publish_new`]).
    ///
    /// # Errors
    ///
    /// When the lock file cannot be opened or locked.
    pub(crate) fn lock_for_setup(&self) -> Result<SetupLock> {
        let path = self.path("setup.lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("couldn't open {}", path.display()))?;
        file.lock()
            .with_context(|| format!("couldn't lock {}", path.display()))?;
        Ok(SetupLock { _file: file })
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Loads the PKCS#8 PEM key `name`, generating it (file mode 0600) on first use.
    ///
    /// Several front ends may start at once on a fresh directory: the key is published with
    /// [`DataDir::publish_new`], so exactly one generated key wins and every process loads it.
    pub(crate) fn key(&self, name: &str, algorithm: Algorithm) -> Result<SigningKey> {
        let path = self.path(name);
        let read = |pem: &str| {
            SigningKey::from_pkcs8_pem(pem)
                .with_context(|| format!("couldn't read key {}", path.display()))
        };
        match fs::read_to_string(&path) {
            Ok(pem) => read(&pem),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::generate(algorithm).context("couldn't generate a key")?;
                let pem = key.to_pkcs8_pem();
                match self.publish_new(name, pem.as_bytes(), 0o600)? {
                    Publication::Created => {
                        tracing::info!(path = %path.display(), "generated a new key");
                        Ok(key)
                    }
                    Publication::Existed(stored) => read(&String::from_utf8_lossy(&stored)),
                }
            }
            Err(e) => Err(e).with_context(|| format!("couldn't read key {}", path.display())),
        }
    }

    /// Creates file `name` with `contents` and permissions `mode`, durably; fails if it exists.
    pub(crate) fn create_file(&self, name: &str, contents: &[u8], mode: u32) -> Result<()> {
        match self.publish_new(name, contents, mode)? {
            Publication::Created => Ok(()),
            Publication::Existed(_) => bail!(
                "{} appeared while this process was creating it",
                self.path(name).display()
            ),
        }
    }

    /// Publishes file `name` only if it does not exist yet, atomically and durably: the
    /// contents go to a fresh temporary file (create-new, `mode`, fsynced), which is then
    /// hard-linked to `name` (the link fails if `name` exists, so a winner is never replaced)
    /// and removed; the directory is fsynced. Readers never see a partly written file, and of
    /// several processes racing, exactly one creates the file and the others read it back.
    ///
    /// # Errors
    ///
    /// I/O failures, naming the file.
    pub(crate) fn publish_new(
        &self,
        name: &str,
        contents: &[u8],
        mode: u32,
    ) -> Result<Publication> {
        let path = self.path(name);
        let mut nonce = [0u8; 8];
        waxseal_crypto::random_bytes(&mut nonce).context("couldn't draw a temporary file name")?;
        let temporary = self.path(&format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            hex::encode(nonce)
        ));
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temporary)
            .and_then(|mut file| file.write_all(contents).and_then(|()| file.sync_all()));
        if let Err(e) = written {
            let _ = fs::remove_file(&temporary);
            return Err(e).with_context(|| format!("couldn't write {}", temporary.display()));
        }
        let linked = fs::hard_link(&temporary, &path);
        let _ = fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                fs::File::open(&self.path)
                    .and_then(|dir| dir.sync_all())
                    .with_context(|| format!("couldn't sync {}", self.path.display()))?;
                Ok(Publication::Created)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => fs::read(&path)
                .map(Publication::Existed)
                .with_context(|| format!("couldn't read {}", path.display())),
            Err(e) => Err(e).with_context(|| format!("couldn't create {}", path.display())),
        }
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
                match self.publish_new(name, format!("{value}\n").as_bytes(), 0o644)? {
                    Publication::Created => Ok(value),
                    // Another front end fixed it first: its value holds, checked as above.
                    Publication::Existed(_) => self.fixed_setting(name, wanted, default),
                }
            }
            Err(e) => Err(e).with_context(|| format!("couldn't read {}", path.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn racing_front_ends_load_one_key_and_one_setting() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("data");
        let results: Vec<(Vec<u8>, String)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|n| {
                    let path = &path;
                    scope.spawn(move || {
                        let dir = DataDir::open(path).unwrap();
                        let key = dir.key("k.pem", Algorithm::EcdsaP256Sha256).unwrap();
                        let setting = dir.fixed_setting("s", None, &format!("v{n}")).unwrap();
                        (key.public_key().spki_der().to_vec(), setting)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(
            results.windows(2).all(|w| w[0] == w[1]),
            "every racer loads the winner's key and setting"
        );
        let names: Vec<_> = fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| !n.ends_with(".tmp")),
            "no temporary file is left: {names:?}"
        );
        let mode = fs::metadata(path.join("k.pem")).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
    }

    #[test]
    fn publish_new_never_replaces_the_first_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        assert!(matches!(
            dir.publish_new("f", b"first", 0o600).unwrap(),
            Publication::Created
        ));
        match dir.publish_new("f", b"second", 0o600).unwrap() {
            Publication::Existed(stored) => assert_eq!(stored, b"first"),
            Publication::Created => panic!("the second publication replaced the first"),
        }
        assert!(dir.create_file("f", b"third", 0o600).is_err());
        assert_eq!(fs::read(tmp.path().join("f")).unwrap(), b"first");
    }

    #[test]
    fn fixed_setting_refuses_a_change() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::open(tmp.path()).unwrap();
        assert_eq!(dir.fixed_setting("o", Some("a"), "d").unwrap(), "a");
        assert_eq!(dir.fixed_setting("o", None, "d").unwrap(), "a");
        let error = dir.fixed_setting("o", Some("b"), "d").unwrap_err();
        assert!(
            format!("{error:#}").contains("cannot change it"),
            "{error:#}"
        );
    }
}
