//! The engine driven through its public API, with `check()` after every step.

use std::sync::Arc;
use std::time::Duration;

use waxseal_log::testing::{GatedStore, MemoryStore};
use waxseal_log::{Config, Error, SqliteStore, Store};
use waxseal_merkle::{MemoryTree, leaf_hash};

use crate::harness::{ORIGIN, TestLog, entries};

fn memory_log() -> TestLog {
    TestLog::new(Arc::new(MemoryStore::new()), TestLog::fast_config())
}

#[test]
fn new_log_publishes_the_empty_tree() {
    let t = memory_log();
    let cp = t.log().checkpoint();
    assert_eq!(cp.size, 0);
    assert_eq!(cp.root, waxseal_merkle::empty_root());
    t.check();
}

#[test]
fn appends_get_sequential_indexes_and_proofs_verify() {
    let mut t = memory_log();
    let mut expected = 0;
    for (step, count) in [1usize, 2, 255, 1, 300, 512, 17].into_iter().enumerate() {
        let acks = t.append_ok(&entries(&format!("step{step}"), count));
        let mut indexes: Vec<u64> = acks.iter().map(|a| a.index).collect();
        indexes.sort_unstable();
        assert_eq!(
            indexes,
            (expected..expected + count as u64).collect::<Vec<_>>(),
            "step {step}"
        );
        assert!(
            acks.iter()
                .all(|a| a.checkpoint.size > a.index && !a.duplicate)
        );
        expected += count as u64;
        t.check();
    }
    let size = t.log().checkpoint().size;
    assert_eq!(size, expected);
    for index in [0, 1, 254, 255, 256, 511, 512, size - 1] {
        for at in [index + 1, 256, 257, 1000, size] {
            if index < at && at <= size {
                t.verify_inclusion(index, at);
            }
        }
    }
}

#[test]
fn duplicates_get_their_first_index_back() {
    let mut t = memory_log();
    let first = t.append_ok(&entries("a", 10));
    // Within one batch and across batches.
    let again = t.append_ok(&[
        b"a-3".to_vec(),
        b"new".to_vec(),
        b"new".to_vec(),
        b"a-7".to_vec(),
    ]);
    let index_of = |e: &str| {
        first
            .iter()
            .zip(entries("a", 10))
            .find(|(_, x)| x == e.as_bytes())
            .unwrap()
            .0
            .index
    };
    assert_eq!(
        (again[0].index, again[0].duplicate),
        (index_of("a-3"), true)
    );
    assert_eq!(again[1].index, 10);
    assert_eq!((again[2].index, again[2].duplicate), (10, true));
    assert_eq!(
        (again[3].index, again[3].duplicate),
        (index_of("a-7"), true)
    );
    assert_eq!(t.log().checkpoint().size, 11);
    assert_eq!(t.log().find(b"a-3").unwrap(), Some(index_of("a-3")));
    assert_eq!(t.log().find(b"absent").unwrap(), None);
    t.check();
}

#[test]
fn proofs_from_every_published_edge_match_a_reference_tree() {
    // The right-edge tiles are served with precomputed subtree hashes: check every inclusion
    // proof and a consistency proof after each of many uneven batches, so partial tiles of
    // every width (odd ones too) and the step to a second full tile are covered.
    let mut t = memory_log();
    let mut reference = MemoryTree::new();
    let mut sizes = Vec::new();
    for (chunk, len) in [1, 2, 5, 30, 90, 127, 1, 255, 3, 64, 200, 17]
        .into_iter()
        .enumerate()
    {
        let batch = entries(&format!("e{chunk}"), len);
        t.append_ok(&batch);
        for entry in &batch {
            reference.push(leaf_hash(entry));
        }
        let size = reference.size();
        let log = t.log();
        assert_eq!(log.checkpoint().size, size);
        assert_eq!(log.root(size).unwrap(), reference.root_at(size).unwrap());
        for index in 0..size {
            assert_eq!(
                log.prove_inclusion(index, size).unwrap(),
                reference.prove_inclusion(index, size).unwrap(),
                "inclusion {index} in {size}"
            );
        }
        for &earlier in &sizes {
            assert_eq!(
                log.prove_consistency(earlier, size).unwrap(),
                reference.prove_consistency(earlier, size).unwrap(),
                "consistency {earlier} to {size}"
            );
            // Older tree sizes are read through the same edge tiles.
            let index = earlier - 1;
            assert_eq!(
                log.prove_inclusion(index, earlier).unwrap(),
                reference.prove_inclusion(index, earlier).unwrap(),
                "inclusion {index} in {earlier}"
            );
        }
        sizes.push(size);
    }
    t.check();
}

#[test]
fn proofs_match_a_reference_tree_across_tile_levels() {
    // 70,000 entries reach the second tile level (256 * 256 = 65,536).
    let mut t = memory_log();
    let mut reference = MemoryTree::new();
    let mut sizes = Vec::new();
    for chunk in 0..14 {
        let batch = entries(&format!("c{chunk}"), 5000);
        let acks = t.append_ok(&batch);
        for (entry, ack) in batch.iter().zip(&acks) {
            assert_eq!(ack.index, reference.size());
            reference.push(leaf_hash(entry));
        }
        sizes.push(reference.size());
    }
    t.check();
    let log = t.log();
    for &size in &sizes {
        assert_eq!(
            log.root(size).unwrap(),
            reference.root_at(size).unwrap(),
            "root at {size}"
        );
        for index in [0, 255, 256, 65_535, 65_536, size / 3, size - 1] {
            if index < size {
                assert_eq!(
                    log.prove_inclusion(index, size).unwrap(),
                    reference.prove_inclusion(index, size).unwrap(),
                    "inclusion {index} in {size}"
                );
            }
        }
        assert_eq!(
            log.prove_consistency(sizes[0], size).unwrap(),
            reference.prove_consistency(sizes[0], size).unwrap()
        );
        if size >= 65_536 {
            assert_eq!(
                log.prove_consistency(65_536, size).unwrap(),
                reference.prove_consistency(65_536, size).unwrap()
            );
        }
    }
}

#[test]
fn tiles_and_bundles_are_served_only_within_the_published_tree() {
    let mut t = memory_log();
    let batch = entries("t", 300);
    t.append_ok(&batch);
    let log = t.log();
    let full = log.tile(0, 0, None).unwrap().unwrap();
    assert_eq!(full.len(), 256 * 32);
    let partial = log.tile(0, 1, None).unwrap().unwrap();
    assert_eq!(partial.len(), 44 * 32);
    assert_eq!(
        log.tile(0, 1, Some(10)).unwrap().unwrap(),
        partial[..10 * 32]
    );
    assert_eq!(
        log.tile(0, 1, Some(45)).unwrap(),
        None,
        "wider than published"
    );
    assert_eq!(log.tile(0, 2, None).unwrap(), None);
    // Level 1 holds the roots of full level-0 tiles: one so far.
    let level1 = log.tile(1, 0, None).unwrap().unwrap();
    assert_eq!(
        level1,
        waxseal_merkle::subtree_root(waxseal_tiles::HashTile::parse(&full).unwrap().hashes())
            .as_bytes()
    );
    assert_eq!(
        log.tile(2, 0, None).unwrap(),
        None,
        "level 2 has no tile yet"
    );
    let bundle = log.bundle(1, Some(2)).unwrap().unwrap();
    let mut expected = Vec::new();
    for entry in &batch[256..258] {
        expected.extend_from_slice(&(entry.len() as u16).to_be_bytes());
        expected.extend_from_slice(entry);
    }
    assert_eq!(bundle, expected);
    assert!(matches!(
        log.entry(300),
        Err(Error::IndexOutOfRange {
            index: 300,
            size: 300
        })
    ));
    assert!(matches!(
        log.prove_inclusion(0, 301),
        Err(Error::SizeNotPublished { size: 301, .. })
    ));
    assert!(matches!(
        log.prove_consistency(10, 5),
        Err(Error::SizeOrder {
            size1: 10,
            size2: 5
        })
    ));
    assert!(log.entry_time(299).unwrap() > 1_700_000_000_000);
}

#[test]
fn oversized_entries_are_refused() {
    let t = memory_log();
    let err = t.log().append(vec![0; 65_536]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::EntryTooLarge {
                len: 65_536,
                max: 65_535
            }
        ),
        "{err}"
    );
    t.log().append(vec![7; 65_535]).unwrap().wait().unwrap();
    t.check();
}

#[test]
fn full_pool_pushes_back_and_recovers() {
    let store = Arc::new(GatedStore::new());
    let config = Config::new(ORIGIN)
        .with_pool(4, 1 << 20)
        .with_batch(1, Duration::ZERO);
    let t = TestLog::new(Arc::clone(&store) as Arc<dyn Store>, config);
    store.close();
    let log = t.log();
    // The sequencer takes the first entry and blocks in the store; four more fill the pool.
    let mut pending = vec![log.append(b"first".to_vec()).unwrap()];
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while log.pending() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sequencer never took the entry"
        );
        std::thread::yield_now();
    }
    for i in 0..4 {
        pending.push(log.append(format!("queued{i}").into_bytes()).unwrap());
    }
    let err = log.append(b"one too many".to_vec()).unwrap_err();
    assert!(matches!(err, Error::Pushback { pending: 4, .. }), "{err}");
    store.open();
    let indexes: Vec<u64> = pending
        .into_iter()
        .map(|p| p.wait().unwrap().index)
        .collect();
    assert_eq!(indexes, [0, 1, 2, 3, 4]);
    log.append(b"after".to_vec()).unwrap().wait().unwrap();
    t.check();
}

#[test]
fn byte_budget_pushes_back() {
    let store = Arc::new(GatedStore::new());
    let config = Config::new(ORIGIN)
        .with_pool(1000, 100_000)
        .with_batch(1, Duration::ZERO);
    let t = TestLog::new(Arc::clone(&store) as Arc<dyn Store>, config);
    store.close();
    let log = t.log();
    let first = log.append(vec![1; 60_000]).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while log.pending() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the sequencer never took the entry"
        );
        std::thread::yield_now();
    }
    let second = log.append(vec![2; 60_000]).unwrap();
    assert!(matches!(
        log.append(vec![3; 60_000]),
        Err(Error::Pushback { .. })
    ));
    store.open();
    first.wait().unwrap();
    second.wait().unwrap();
    t.check();
}

#[test]
fn sqlite_log_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let mut t = TestLog::new(store, TestLog::fast_config());
    t.append_ok(&entries("x", 700));
    t.check();
    let before = t.log().checkpoint();
    // Reopen with a fresh store handle on the same file.
    t.log = None;
    t.store = Arc::new(SqliteStore::open(&path).unwrap());
    t.reopen().unwrap();
    assert_eq!(
        *t.log().checkpoint(),
        *before,
        "checkpoint survives reopening"
    );
    t.check();
    let acks = t.append_ok(&entries("y", 10));
    assert!(acks.iter().all(|a| a.index >= 700));
    t.append_ok(&entries("x", 3))
        .iter()
        .for_each(|a| assert!(a.duplicate && a.index < 700));
    t.check();
    t.verify_inclusion(699, 710);
}

#[test]
fn async_callers_can_await_appends() {
    let t = memory_log();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let appended = runtime
        .block_on(async { t.log().append(b"async".to_vec()).unwrap().await })
        .unwrap();
    assert_eq!(appended.index, 0);
}

fn search_terms_case(t: &mut TestLog) {
    let log = t.log().clone();
    let a = log
        .append_with_terms(b"a".to_vec(), vec![b"alice".to_vec(), b"sha:1".to_vec()])
        .unwrap();
    let b = log
        .append_with_terms(b"b".to_vec(), vec![b"alice".to_vec()])
        .unwrap();
    let (a, b) = (a.wait().unwrap(), b.wait().unwrap());
    // A duplicate's terms are not added.
    let again = log
        .append_with_terms(b"a".to_vec(), vec![b"mallory".to_vec()])
        .unwrap()
        .wait()
        .unwrap();
    assert!(again.duplicate && again.index == a.index);
    assert_eq!(
        again.time_ms, a.time_ms,
        "a duplicate reports its first sequencing time"
    );
    let mut both = vec![a.index, b.index];
    both.sort_unstable();
    assert_eq!(log.search(b"alice", 10).unwrap(), both);
    assert_eq!(log.search(b"alice", 1).unwrap(), &both[..1]);
    assert_eq!(log.search(b"sha:1", 10).unwrap(), [a.index]);
    assert!(log.search(b"mallory", 10).unwrap().is_empty());
    assert!(log.search(b"nobody", 10).unwrap().is_empty());
    t.acked.insert(a.index, b"a".to_vec());
    t.acked.insert(b.index, b"b".to_vec());
    t.check();
}

#[test]
fn search_terms_index_new_entries() {
    search_terms_case(&mut memory_log());
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("log.db")).unwrap());
    search_terms_case(&mut TestLog::new(store, TestLog::fast_config()));
}

#[test]
fn durable_append_rate_sqlite_and_postgres() {
    // Engine-only: same batch sizes, 256 appends in flight, 200-byte entries.
    use crate::harness::{Backend, Stores};
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let mut stores = Stores::new(backend);
        let t = TestLog::new(stores.store(), TestLog::fast_config());
        let (acked, rate) =
            waxseal_log::testing::durable_appends_per_second(t.log(), 3000, 256, 200).unwrap();
        assert_eq!(acked, 3000);
        assert_eq!(t.log().checkpoint().size, 3000);
        t.check();
        let status = t.log().status();
        assert_eq!(status.role, waxseal_log::Role::Single);
        assert_eq!(
            status.backend,
            if backend == Backend::Sqlite {
                "sqlite"
            } else {
                "postgres"
            }
        );
        assert_eq!(status.integrated_entries, 3000);
        assert_eq!((status.queued, status.checkpoint_size), (0, 3000));
        assert!(status.last_batch_entries > 0 && status.sequencer.is_none());
        eprintln!("{backend:?}: {rate:.0} durable appends/s");
    }
}
