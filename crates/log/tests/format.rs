//! The entry-format hook: entries sealed at sequencing time with their index and time (the toy
//! [`Stamped`] format, shaped like static-ct-api's `TileLeaf`).

use std::sync::Arc;

use waxseal_log::testing::MemoryStore;
use waxseal_log::{Config, Error, SqliteStore, Store, StoreError, check_log};

use crate::harness::{ORIGIN, Stamped, TestLog, entries};

fn stamped_memory_log() -> TestLog {
    TestLog::stamped(Arc::new(MemoryStore::new()), TestLog::fast_config())
}

#[test]
fn stamped_entries_carry_their_index_and_time_and_prove_inclusion() {
    let mut t = stamped_memory_log();
    // 300 entries: a full bundle and a partial one.
    let acks = t.append_ok(&entries("a", 300));
    t.check();
    for ack in &acks {
        let (_, index, time) = Stamped::read(&t.log().entry(ack.index).unwrap());
        assert_eq!((index, time), (ack.index, ack.time_ms));
    }
    let size = t.log().checkpoint().size;
    for index in [0, 255, 256, 299] {
        t.verify_inclusion(index, size);
    }
}

#[test]
fn stamped_duplicates_get_their_first_index_and_time_back() {
    let mut t = stamped_memory_log();
    let first = t.append_ok(&entries("a", 5));
    // A later batch, sequenced at a later millisecond, holding duplicates and new entries.
    let now_ms = || {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        since.unwrap().as_millis() as u64
    };
    while now_ms() <= first[0].time_ms {
        std::hint::spin_loop();
    }
    let mut batch = entries("a", 5);
    batch.extend(entries("b", 2));
    let again = t.append_ok(&batch);
    for (a, b) in first.iter().zip(&again) {
        assert!(b.duplicate);
        assert_eq!((a.index, a.time_ms), (b.index, b.time_ms));
    }
    assert!(again[5..].iter().all(|a| !a.duplicate));
    assert!(
        again[5].time_ms > first[0].time_ms,
        "the new entries got a later time"
    );
    assert_eq!(t.log().checkpoint().size, 7);
    assert_eq!(
        t.log().find(b"a-3").unwrap(),
        Some(first[3].index),
        "find looks entries up by the format's key"
    );
    t.check();
}

#[test]
fn stamped_log_reloads_a_partial_bundle_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("log.db")).unwrap());
    let mut t = TestLog::stamped(store as Arc<dyn Store>, TestLog::fast_config());
    t.append_ok(&entries("a", 3));
    t.check();
    let before = t.log().bundle(0, None).unwrap().unwrap();

    // Reopen on a fresh connection: the sequencer reloads the partial bundle through the format.
    t.store = Arc::new(SqliteStore::open(dir.path().join("log.db")).unwrap());
    t.reopen().unwrap();
    t.append_ok(&entries("b", 300));
    t.check();
    let after = t.log().bundle(0, None).unwrap().unwrap();
    assert!(
        after.starts_with(&before),
        "the partial bundle was extended"
    );
    assert_eq!(
        t.log().bundle(0, Some(3)).unwrap().unwrap(),
        before,
        "the 3-entry partial bundle is still served"
    );
    let size = t.log().checkpoint().size;
    for index in [0, 2, 3, 255, 302] {
        t.verify_inclusion(index, size);
    }
}

#[test]
fn check_log_reads_entries_through_the_format() {
    let mut t = stamped_memory_log();
    t.append_ok(&entries("a", 4));
    t.check();
    // The same store read as verbatim entries: the leaf hashes still match, but the
    // deduplication keys do not.
    let verbatim = Config::new(ORIGIN);
    let result = check_log(t.store.as_ref(), &verbatim, &t.verifier);
    assert!(
        matches!(result, Err(StoreError::Corrupt { ref what }) if what.contains("dedup")),
        "{result:?}"
    );
}

#[test]
fn entries_the_format_rejects_never_enter_the_pool() {
    let t = stamped_memory_log();
    let result = t.log().append(b"invalid entry".to_vec());
    assert!(matches!(result, Err(Error::InvalidEntry(_))), "{result:?}");
    assert!(matches!(
        t.log().find(b"invalid"),
        Err(Error::InvalidEntry(_))
    ));
    assert_eq!(t.log().pending(), 0);
}
