//! One log's publication: which objects a new checkpoint needs, read from the log, written in
//! an order that never shows a reader a checkpoint whose tiles are missing.

use std::collections::HashSet;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt as _;
use waxseal_log::Log;
use waxseal_log::ct::CtLog;
use waxseal_note::{Checkpoint, Note};
use waxseal_tiles::{TILE_HEIGHT, TILE_WIDTH, TilePath, bundle_width_at, tile_width_at};

use crate::error::Error;
use crate::target::{Kind, Target, Write};

/// Objects read from the log and written per step; bounds memory on a long catch-up.
const BATCH: usize = 64;
/// Writes in flight at once (an S3 round trip each).
const CONCURRENT_WRITES: usize = 8;

/// Publishes one log's C2SP tiles, entry bundles and checkpoints to a [`Target`], under a
/// prefix (the path the log is served under by `waxseal serve`).
///
/// Each [`Publisher::publish`] writes what changed between the size already at the target and
/// the log's latest checkpoint:
///
/// 1. for a static-ct-api log, the issuers the new entries name (`issuer/<fingerprint>`);
/// 2. every full tile and full entry bundle the new entries touched, write-once;
/// 3. the partial tiles and bundles of the new tree's right edge, write-once (a partial tile
///    of width W never changes either);
/// 4. the checkpoint, last, replacing the old one.
///
/// A write-once object already at the target is accepted only with identical bytes; anything
/// else is [`Error::Conflict`] and nothing more is written. A failure at any step leaves the
/// old checkpoint in place, so readers keep a consistent (older) view, and the next attempt
/// writes the same objects again.
///
/// Superseded partial tiles are left in place: tlog-tiles allows serving them, and clients
/// never ask for a partial tile narrower than their checkpoint needs.
#[derive(Debug)]
pub struct Publisher {
    target: Target,
    /// The log's path prefix at the target, without slashes at either end; empty for the root.
    prefix: String,
    source: Source,
    /// The size of the checkpoint at the target: `None` until read ([`Publisher::resume`]),
    /// `Some(None)` if the target has none.
    pub(crate) published: Option<Option<u64>>,
    /// Issuers already written (static-ct-api only).
    issuers: HashSet<[u8; 32]>,
}

/// What a publisher reads from, and so which layout it writes.
#[derive(Debug, Clone)]
enum Source {
    /// C2SP tlog-tiles: `tile/<L>/<N>`, `tile/entries/<N>`.
    Tlog(Log),
    /// C2SP static-ct-api: `tile/<L>/<N>`, `tile/data/<N>`, `issuer/<fingerprint>`.
    StaticCt(Arc<CtLog>),
}

impl Source {
    fn log(&self) -> &Log {
        match self {
            Self::Tlog(log) => log,
            Self::StaticCt(ct) => ct.log(),
        }
    }
}

/// The outcome of one [`Publisher::publish`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Publication {
    /// The size published before (0 if the target had no checkpoint).
    pub from: u64,
    /// The size of the checkpoint now at the target.
    pub size: u64,
    /// Objects written, the checkpoint included; 0 if the target was up to date.
    pub objects: usize,
}

impl Publisher {
    /// A publisher of a tlog-tiles log (Rekor v1 or v2) at `prefix` (e.g. `""` for the
    /// target's root, `"api/v1"`).
    pub fn tlog(target: Target, prefix: &str, log: Log) -> Self {
        Self::new(target, prefix, Source::Tlog(log))
    }

    /// A publisher of a static-ct-api log at `prefix` (e.g. `"ct"`): data tiles at
    /// `tile/data/<N>` and the issuers its entries name at `issuer/<fingerprint>`.
    pub fn static_ct(target: Target, prefix: &str, ct: Arc<CtLog>) -> Self {
        Self::new(target, prefix, Source::StaticCt(ct))
    }

    fn new(target: Target, prefix: &str, source: Source) -> Self {
        Self {
            target,
            prefix: prefix.trim_matches('/').to_owned(),
            source,
            published: None,
            issuers: HashSet::new(),
        }
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The log's path prefix at the target.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The size of the checkpoint at the target as last read or written; `None` before the
    /// first [`Publisher::resume`] or [`Publisher::publish`], or if the target has none.
    pub fn published_size(&self) -> Option<u64> {
        self.published.flatten()
    }

    /// `path` under the log's prefix.
    fn path(&self, path: &str) -> String {
        if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        }
    }

    /// The path of a tile or bundle in this log's layout.
    fn tile_path(&self, tile: TilePath) -> String {
        let path = tile.to_string();
        match (&self.source, path.strip_prefix("tile/entries/")) {
            // static-ct-api "data tiles" are tlog-tiles entry bundles under another name.
            (Source::StaticCt(_), Some(rest)) => self.path(&format!("tile/data/{rest}")),
            _ => self.path(&path),
        }
    }

    /// Reads the checkpoint already at the target, so publishing continues from its size.
    /// Call it again whenever another writer may have published (a new sequencer). Returns
    /// the size found, `None` if the target has no checkpoint.
    ///
    /// The checkpoint is trusted only as far as it matches this log: its origin must be the
    /// log's, its size at most the log's, and its root the log's root at that size.
    ///
    /// # Errors
    ///
    /// [`Error::TargetUnreadable`], [`Error::TargetDiverges`], [`Error::TargetAhead`];
    /// store and log failures.
    pub async fn resume(&mut self) -> Result<Option<u64>, Error> {
        let path = self.path("checkpoint");
        let Some(bytes) = self.target.read(&path).await? else {
            self.published = Some(None);
            return Ok(None);
        };
        let unreadable = |message: String| Error::TargetUnreadable {
            path: path.clone(),
            message,
        };
        let note = Note::parse(&bytes).map_err(|e| unreadable(e.to_string()))?;
        let checkpoint = Checkpoint::parse(note.text()).map_err(|e| unreadable(e.to_string()))?;
        let log = self.source.log().clone();
        let diverges = |reason: String| Error::TargetDiverges {
            origin: checkpoint.origin().to_owned(),
            size: checkpoint.size(),
            reason,
        };
        if checkpoint.origin() != log.config().origin {
            return Err(diverges(format!(
                "the log's origin is {:?}",
                log.config().origin
            )));
        }
        let size = checkpoint.size();
        let log_size = log.checkpoint().size;
        if size > log_size {
            return Err(Error::TargetAhead {
                target: size,
                log: log_size,
            });
        }
        let root = blocking("the root hash", move || log.root(size)).await?;
        if root != checkpoint.root() {
            return Err(diverges(format!(
                "its root is {}, the log's root at that size is {root}",
                checkpoint.root()
            )));
        }
        self.published = Some(Some(size));
        Ok(Some(size))
    }

    /// Publishes the log's latest checkpoint and every object it needs that the target lacks
    /// (see the [type docs](Publisher)); resumes first if the target has not been read yet.
    ///
    /// # Errors
    ///
    /// [`Error::Conflict`] if a write-once object at the target differs; the errors of
    /// [`Publisher::resume`]; store and log failures. After an error the target's checkpoint
    /// is the old one (or, if only its write failed, possibly the new one).
    pub async fn publish(&mut self) -> Result<Publication, Error> {
        let published = match self.published {
            Some(published) => published,
            None => self.resume().await?,
        };
        let from = published.unwrap_or(0);
        let checkpoint = self.source.log().checkpoint();
        let size = checkpoint.size;
        if size < from {
            return Err(Error::TargetAhead {
                target: from,
                log: size,
            });
        }
        if published.is_some() && size == from {
            return Ok(Publication {
                from,
                size,
                objects: 0,
            });
        }
        let (full, partial): (Vec<TilePath>, Vec<TilePath>) = touched(from, size)
            .into_iter()
            .partition(|t| !t.is_partial());
        let mut objects = 0;
        for group in [full, partial] {
            for batch in group.chunks(BATCH) {
                objects += self.write_batch(batch, from, size).await?;
            }
        }
        self.target
            .write(
                &self.path("checkpoint"),
                Bytes::from(checkpoint.note.clone()),
                Write::Overwrite,
                Kind::Checkpoint,
            )
            .await?;
        self.published = Some(Some(size));
        Ok(Publication {
            from,
            size,
            objects: objects + 1,
        })
    }

    /// Reads `batch` from the log (as of the tree of `size`) and writes it, after the issuers
    /// its new entries (those at `from` and beyond) name. Returns the objects written.
    async fn write_batch(
        &mut self,
        batch: &[TilePath],
        from: u64,
        size: u64,
    ) -> Result<usize, Error> {
        let log = self.source.log().clone();
        let wanted = batch.to_vec();
        let read = blocking("tiles and bundles", move || {
            wanted
                .into_iter()
                .map(|tile| {
                    let bytes = match tile {
                        TilePath::Hash {
                            level,
                            index,
                            width,
                        } => log.tile(level, index, Some(width))?,
                        TilePath::Entries { index, width } => log.bundle(index, Some(width))?,
                        _ => None,
                    };
                    Ok((tile, bytes))
                })
                .collect::<Result<Vec<_>, waxseal_log::Error>>()
        })
        .await?;
        let mut writes = Vec::with_capacity(read.len());
        for (tile, bytes) in read {
            let path = self.tile_path(tile);
            let bytes = bytes.ok_or_else(|| Error::Missing {
                path: path.clone(),
                size,
            })?;
            writes.push((path, Bytes::from(bytes), Kind::Tile));
        }
        let mut written = 0;
        if let Source::StaticCt(ct) = &self.source {
            let ct = Arc::clone(ct);
            let issuers = self.new_issuers(batch, &writes, from)?;
            let wanted = issuers.clone();
            let certificates = blocking("issuers", move || {
                wanted
                    .iter()
                    .map(|fingerprint| ct.issuer(fingerprint).map(|der| (*fingerprint, der)))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
            let mut issuer_writes = Vec::with_capacity(certificates.len());
            for (fingerprint, der) in certificates {
                let path = self.path(&format!("issuer/{}", hex::encode(fingerprint)));
                let der = der.ok_or_else(|| Error::Missing {
                    path: path.clone(),
                    size,
                })?;
                issuer_writes.push((path, Bytes::from(der), Kind::Certificate));
            }
            written += self.write_all(issuer_writes).await?;
            self.issuers.extend(issuers);
        }
        written += self.write_all(writes).await?;
        Ok(written)
    }

    /// The issuers named by the entries at `from` and beyond in the data tiles of `batch`
    /// that have not been written yet.
    fn new_issuers(
        &self,
        batch: &[TilePath],
        writes: &[(String, Bytes, Kind)],
        from: u64,
    ) -> Result<Vec<[u8; 32]>, Error> {
        let mut found = Vec::new();
        for (tile, (path, bytes, _)) in batch.iter().zip(writes) {
            let TilePath::Entries { index, .. } = *tile else {
                continue;
            };
            let leaves = waxseal_log::ct::parse_data_tile(bytes).map_err(|e| Error::Log {
                what: path.clone(),
                message: e.to_string(),
            })?;
            let first = index * TILE_WIDTH;
            for (i, leaf) in leaves.iter().enumerate() {
                if first + i as u64 >= from {
                    for fingerprint in &leaf.certificate_chain {
                        if !self.issuers.contains(fingerprint) && !found.contains(fingerprint) {
                            found.push(*fingerprint);
                        }
                    }
                }
            }
        }
        Ok(found)
    }

    async fn write_all(&self, writes: Vec<(String, Bytes, Kind)>) -> Result<usize, Error> {
        let count = writes.len();
        let target = &self.target;
        let mut results = futures_util::stream::iter(writes)
            .map(|(path, bytes, kind)| async move {
                target.write(&path, bytes, Write::Create, kind).await
            })
            .buffer_unordered(CONCURRENT_WRITES);
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(count)
    }
}

/// The tiles and entry bundles whose content changes when the tree grows from `from` to
/// `size` entries, at their widths in the tree of `size` (tlog-tiles "Partial Tiles").
pub(crate) fn touched(from: u64, size: u64) -> Vec<TilePath> {
    let mut tiles = Vec::new();
    if size <= from {
        return tiles;
    }
    // Entry bundles hold the leaves, so they change exactly like the level 0 tiles.
    for index in from / TILE_WIDTH..=(size - 1) / TILE_WIDTH {
        if let Some(width) = bundle_width_at(index, size)
            && let Ok(path) = TilePath::entry_bundle(index, width)
        {
            tiles.push(path);
        }
    }
    for level in 0..=63u8 {
        let shift = u32::from(TILE_HEIGHT) * u32::from(level);
        // Level `level` holds one hash per complete subtree of 256^level leaves.
        let (old, new) = (
            from.checked_shr(shift).unwrap_or(0),
            size.checked_shr(shift).unwrap_or(0),
        );
        if new == old {
            // Nothing changed here, so nothing above either.
            break;
        }
        for index in old / TILE_WIDTH..=(new - 1) / TILE_WIDTH {
            if let Some(width) = tile_width_at(level, index, size)
                && let Ok(path) = TilePath::hash_tile(level, index, width)
            {
                tiles.push(path);
            }
        }
    }
    tiles
}

/// Runs a blocking log read on the blocking pool.
async fn blocking<T, E, F>(what: &str, read: F) -> Result<T, Error>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    let error = |message: String| Error::Log {
        what: what.to_owned(),
        message,
    };
    tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| error(e.to_string()))?
        .map_err(|e| error(e.to_string()))
}
