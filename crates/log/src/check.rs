//! `check_log`: an fsck for a stored log. It re-reads every entry bundle and tile, recomputes
//! every level, checks the deduplication index and the checkpoint's root and signature.

use waxseal_merkle::{Hash, subtree_root};
use waxseal_note::{Checkpoint, Note, NoteVerifier};
use waxseal_tiles::{HashTile, TILE_WIDTH};

use crate::engine::Config;
use crate::error::StoreError;
use crate::format::SplitBundle;
use crate::store::Store;

/// What [`check_log`] found consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckedLog {
    /// The integrated tree size.
    pub size: u64,
    /// The published checkpoint's tree size.
    pub checkpoint_size: u64,
    /// The published checkpoint's root.
    pub checkpoint_root: Hash,
}

fn corrupt(what: String) -> StoreError {
    StoreError::Corrupt { what }
}

/// Verifies everything the store holds for the log `config` describes (its origin, and its
/// entry format, which splits bundles and recomputes leaf hashes and deduplication keys).
///
/// Costs a full read of the log: meant for tests (after every engine step) and offline repair
/// checks, not for the serving path.
///
/// # Errors
///
/// [`StoreError::Corrupt`] naming the first inconsistency; store failures.
pub fn check_log(
    store: &dyn Store,
    config: &Config,
    verifier: &dyn NoteVerifier,
) -> Result<CheckedLog, StoreError> {
    let origin = config.origin.as_str();
    let format = config.format.as_ref();
    let state = store.load()?;
    let size = state.size;

    // Level 0: the leaf hashes of every entry, bundle by bundle.
    let mut level: Vec<Hash> = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let bundles = size.div_ceil(TILE_WIDTH);
    for index in 0..bundles {
        let width = (size - index * TILE_WIDTH).min(TILE_WIDTH) as usize;
        let bytes = store
            .read_bundle(index)?
            .ok_or_else(|| corrupt(format!("entry bundle {index} is missing")))?;
        let bundle = SplitBundle::new(format, bytes)
            .map_err(|e| corrupt(format!("entry bundle {index}: {e}")))?;
        if bundle.len() != width {
            return Err(corrupt(format!(
                "entry bundle {index} has {} entries, expected {width}",
                bundle.len()
            )));
        }
        for i in 0..width {
            let entry_index = index * TILE_WIDTH + i as u64;
            let content = bundle.entry(i).unwrap_or_default();
            let unsealed = format
                .unseal(content)
                .map_err(|e| corrupt(format!("entry {entry_index}: {e}")))?;
            let hash = unsealed.leaf;
            let found = store.lookup(&[unsealed.key])?;
            if found.first().copied().flatten() != Some(entry_index) {
                return Err(corrupt(format!(
                    "dedup index maps entry {entry_index} to {:?}",
                    found.first().copied().flatten()
                )));
            }
            level.push(hash);
        }
    }

    let checkpoint = state
        .checkpoint
        .ok_or_else(|| corrupt("no published checkpoint".into()))?;
    if checkpoint.size > size {
        return Err(corrupt(format!(
            "checkpoint size {} exceeds the integrated size {size}",
            checkpoint.size
        )));
    }
    let computed = subtree_root(&level[..checkpoint.size as usize]);
    if computed != checkpoint.root {
        return Err(corrupt(format!(
            "checkpoint root {} differs from the recomputed root {computed} at size {}",
            checkpoint.root, checkpoint.size
        )));
    }

    // Every tile of every level holds exactly the hashes recomputed from the level below.
    let mut tile_level = 0u8;
    while !level.is_empty() {
        let mut next = Vec::with_capacity(level.len() / 256);
        for (index, chunk) in level.chunks(TILE_WIDTH as usize).enumerate() {
            let bytes = store
                .read_tile(tile_level, index as u64)?
                .ok_or_else(|| corrupt(format!("tile {tile_level}/{index} is missing")))?;
            let tile = HashTile::parse(&bytes)
                .map_err(|e| corrupt(format!("tile {tile_level}/{index}: {e}")))?;
            if tile.hashes() != chunk {
                return Err(corrupt(format!(
                    "tile {tile_level}/{index} ({} hashes) differs from the recomputed {} hashes",
                    tile.hashes().len(),
                    chunk.len()
                )));
            }
            if chunk.len() == TILE_WIDTH as usize {
                next.push(subtree_root(chunk));
            }
        }
        level = next;
        tile_level += 1;
    }

    let note =
        Note::parse(&checkpoint.note).map_err(|e| corrupt(format!("checkpoint note: {e}")))?;
    let verified = note
        .verify(&[verifier])
        .map_err(|e| corrupt(format!("checkpoint signature: {e}")))?;
    let parsed =
        Checkpoint::parse(verified.text()).map_err(|e| corrupt(format!("checkpoint body: {e}")))?;
    if parsed.origin() != origin
        || parsed.size() != checkpoint.size
        || parsed.root() != checkpoint.root
    {
        return Err(corrupt(format!(
            "checkpoint note says {} {} {}, the store says {origin} {} {}",
            parsed.origin(),
            parsed.size(),
            parsed.root(),
            checkpoint.size,
            checkpoint.root
        )));
    }
    Ok(CheckedLog {
        size,
        checkpoint_size: checkpoint.size,
        checkpoint_root: checkpoint.root,
    })
}
