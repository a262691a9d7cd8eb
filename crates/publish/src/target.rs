//! Where objects are published: a directory, an S3 bucket, or memory.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload,
};

use crate::error::Error;

/// A publication target: an object store and the key prefix everything goes under.
///
/// Cloning is cheap and shares the store.
#[derive(Debug, Clone)]
pub struct Target {
    store: Arc<dyn ObjectStore>,
    /// The key prefix inside the store (an S3 URL's path); empty for a directory.
    base: String,
    /// The target as given, for messages.
    url: String,
    /// Whether the store keeps `Content-Type`/`Cache-Control` (S3, memory; not a directory,
    /// where the web server picks them).
    attributes: bool,
}

/// How an object is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Write {
    /// Write-once: an object already there must have the same bytes.
    Create,
    /// Replace whatever is there (the checkpoint).
    Overwrite,
}

/// What an object is, for its HTTP headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A signed note, served uncached.
    Checkpoint,
    /// An issuer certificate (DER), immutable.
    Certificate,
    /// A tile or entry bundle, immutable.
    Tile,
}

impl Kind {
    fn attributes(self) -> Attributes {
        let (content_type, cache) = match self {
            Self::Checkpoint => ("text/plain; charset=utf-8", "no-cache"),
            Self::Certificate => ("application/pkix-cert", IMMUTABLE),
            Self::Tile => ("application/octet-stream", IMMUTABLE),
        };
        Attributes::from_iter([
            (Attribute::ContentType, content_type),
            (Attribute::CacheControl, cache),
        ])
    }
}

/// The cache policy of immutable objects, as `waxseal serve` sends it.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

impl Target {
    /// Objects kept in memory (tests).
    pub fn memory() -> Self {
        Self {
            store: Arc::new(InMemory::new()),
            base: String::new(),
            url: "memory:".to_owned(),
            attributes: true,
        }
    }

    /// A local directory, created if missing. A static web server rooted at it serves the
    /// published paths.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedTarget`] if the directory cannot be created or opened.
    pub fn directory(dir: &std::path::Path) -> Result<Self, Error> {
        let url = dir.display().to_string();
        let unsupported = |reason: String| Error::UnsupportedTarget {
            url: url.clone(),
            reason,
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| unsupported(format!("couldn't create the directory: {e}")))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| unsupported(format!("couldn't open the directory: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            base: String::new(),
            url,
            attributes: false,
        })
    }

    /// A target by URL: a directory path or `file:///dir`, or `s3://bucket[/prefix]`.
    ///
    /// An S3 target is configured from `env`, the usual AWS variables (`AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, and `AWS_ENDPOINT_URL` with
    /// `AWS_ALLOW_HTTP=true` for a local S3 server); pass `std::env::vars()`. Write-once
    /// objects use S3 conditional writes (`If-None-Match: *`).
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedTarget`] for another scheme, an S3 URL without a bucket, an S3
    /// configuration the client refuses, or a directory that cannot be created.
    pub fn parse(
        url: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, Error> {
        let unsupported = |reason: &str| Error::UnsupportedTarget {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(unsupported("an S3 URL is s3://BUCKET[/PREFIX]"));
            }
            let mut builder = object_store::aws::AmazonS3Builder::new();
            for (key, value) in env {
                if key.starts_with("AWS_")
                    && let Ok(config) = key.to_ascii_lowercase().parse()
                {
                    builder = builder.with_config(config, value);
                }
            }
            let store = builder
                .with_bucket_name(bucket)
                .build()
                .map_err(|e| unsupported(&e.to_string()))?;
            let prefix = prefix.trim_matches('/');
            Path::parse(prefix).map_err(|e| unsupported(&format!("bad key prefix: {e}")))?;
            return Ok(Self {
                store: Arc::new(store),
                base: prefix.to_owned(),
                url: url.to_owned(),
                attributes: true,
            });
        }
        let dir = match url.strip_prefix("file://") {
            Some(path) if path.starts_with('/') => path,
            Some(_) => return Err(unsupported("a file URL is file:///ABSOLUTE/PATH")),
            None if url.contains("://") => {
                return Err(unsupported(
                    "the schemes supported are file:// and s3://, or a plain directory path",
                ));
            }
            None => url,
        };
        if dir.is_empty() {
            return Err(unsupported("the directory path is empty"));
        }
        let mut target = Self::directory(std::path::Path::new(dir))?;
        target.url = url.to_owned();
        Ok(target)
    }

    /// The target as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The store key of `path` (a path relative to the target's root).
    fn key(&self, path: &str) -> Result<Path, Error> {
        let full = match (self.base.is_empty(), path.is_empty()) {
            (true, _) => path.to_owned(),
            (false, true) => self.base.clone(),
            (false, false) => format!("{}/{path}", self.base),
        };
        Path::parse(&full).map_err(|e| Error::Store {
            op: "name",
            path: full.clone(),
            message: e.to_string(),
        })
    }

    /// Reads the object at `path`, `None` if there is none.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn read(&self, path: &str) -> Result<Option<Bytes>, Error> {
        let key = self.key(path)?;
        match self.store.get(&key).await {
            Ok(result) => result
                .bytes()
                .await
                .map(Some)
                .map_err(|e| Error::store("get", &key, &e)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(Error::store("get", &key, &e)),
        }
    }

    /// Every object's path under the target's root, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::Store`].
    pub async fn list(&self) -> Result<Vec<String>, Error> {
        let base = if self.base.is_empty() {
            None
        } else {
            Some(self.key("")?)
        };
        let mut stream = self.store.list(base.as_ref());
        let mut paths = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta =
                meta.map_err(|e| Error::store("list", &Path::from(self.base.as_str()), &e))?;
            let key = meta.location.to_string();
            let relative = match &base {
                None => key,
                Some(base) => key
                    .strip_prefix(base.as_ref())
                    .and_then(|k| k.strip_prefix('/'))
                    .unwrap_or(&key)
                    .to_owned(),
            };
            paths.push(relative);
        }
        paths.sort();
        Ok(paths)
    }

    /// Writes `bytes` at `path`. With [`Write::Create`], an object already there is accepted
    /// only if it has exactly these bytes.
    pub(crate) async fn write(
        &self,
        path: &str,
        bytes: Bytes,
        mode: Write,
        kind: Kind,
    ) -> Result<(), Error> {
        let key = self.key(path)?;
        let options = PutOptions {
            mode: match mode {
                Write::Create => PutMode::Create,
                Write::Overwrite => PutMode::Overwrite,
            },
            attributes: if self.attributes {
                kind.attributes()
            } else {
                Attributes::new()
            },
            ..PutOptions::default()
        };
        match self
            .store
            .put_opts(&key, PutPayload::from_bytes(bytes.clone()), options)
            .await
        {
            Ok(_) => Ok(()),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) if mode == Write::Create => {
                let existing = self.read(path).await?.ok_or_else(|| Error::Store {
                    op: "put",
                    path: key.to_string(),
                    message: "the store said the object exists, then that it does not".into(),
                })?;
                if existing == bytes {
                    Ok(())
                } else {
                    Err(Error::Conflict {
                        path: key.to_string(),
                        existing: existing.len(),
                        ours: bytes.len(),
                    })
                }
            }
            Err(e) => Err(Error::store("put", &key, &e)),
        }
    }
}
