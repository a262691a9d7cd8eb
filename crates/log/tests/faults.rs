//! Every store operation the sequencer performs, failing in both ways a backend fails (sunlight's
//! `TestSequenceErrors`, tessera's fault tests): "fails, not persisted" and "fails, persisted
//! anyway". After each step the invariants hold, nothing acknowledged is lost, and the log
//! makes progress once the store recovers.

use std::sync::Arc;
use std::time::Duration;

use waxseal_log::testing::{Failure, FaultyStore, Operation};
use waxseal_log::{Config, Error, Store};

use crate::harness::{Backend, ORIGIN, Stores, TestLog, entries};

struct Case {
    name: &'static str,
    /// Faults queued before each failing batch (one list per batch). They are queued just
    /// before the batch, so that the invariant checks in between never trip them.
    attempts: &'static [&'static [(Operation, Failure)]],
    /// Whether the failed batch's entries end up logged at the indexes the batch assigned.
    logged_anyway: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "lookup fails",
        attempts: &[&[(Operation::Lookup, Failure::NotPersisted)]],
        logged_anyway: false,
    },
    Case {
        name: "integrate fails, not persisted",
        attempts: &[&[(Operation::Integrate, Failure::NotPersisted)]],
        logged_anyway: false,
    },
    Case {
        name: "integrate fails, persisted anyway",
        attempts: &[&[(Operation::Integrate, Failure::PersistedAnyway)]],
        logged_anyway: true,
    },
    Case {
        name: "publish fails, not persisted",
        attempts: &[&[(Operation::Publish, Failure::NotPersisted)]],
        logged_anyway: true,
    },
    Case {
        name: "publish fails, persisted anyway",
        attempts: &[&[(Operation::Publish, Failure::PersistedAnyway)]],
        logged_anyway: true,
    },
    Case {
        name: "integrate fails, then the reload fails",
        attempts: &[
            &[(Operation::Integrate, Failure::NotPersisted)],
            &[(Operation::Load, Failure::NotPersisted)],
        ],
        logged_anyway: false,
    },
    Case {
        name: "integrate persisted anyway, then reading the edge fails",
        attempts: &[
            &[(Operation::Integrate, Failure::PersistedAnyway)],
            &[(Operation::ReadTile, Failure::NotPersisted)],
        ],
        logged_anyway: true,
    },
    Case {
        name: "integrate persisted anyway, then recovery's publish fails twice",
        attempts: &[
            &[(Operation::Integrate, Failure::PersistedAnyway)],
            &[(Operation::Publish, Failure::NotPersisted)],
            &[(Operation::Publish, Failure::PersistedAnyway)],
        ],
        logged_anyway: true,
    },
];

fn config() -> Config {
    // A long batching window so that each step's entries form exactly one batch.
    Config::new(ORIGIN).with_batch(4096, Duration::from_millis(100))
}

#[test]
fn sequencing_survives_every_store_failure_memory() {
    sequencing_survives_every_store_failure_on(Backend::Memory);
}

#[test]
fn sequencing_survives_every_store_failure_sqlite() {
    sequencing_survives_every_store_failure_on(Backend::Sqlite);
}

#[test]
fn sequencing_survives_every_store_failure_postgres() {
    sequencing_survives_every_store_failure_on(Backend::Postgres);
}

/// The whole table over one backend, verbatim and stamped; then the open-time cases.
fn sequencing_survives_every_store_failure_on(backend: Backend) {
    let mut stores = Stores::new(backend);
    sequencing_survives_every_store_failure_with(&mut stores, false);
    // Entries sealed with their index and time: a retried batch seals them again, and a
    // batch persisted anyway keeps its first index and time.
    sequencing_survives_every_store_failure_with(&mut stores, true);
    open_recovers_a_tree_without_a_checkpoint(&mut stores);
    open_fails_cleanly_on_a_failing_store(&mut stores);
}

fn sequencing_survives_every_store_failure_with(stores: &mut Stores, stamped: bool) {
    for case in CASES {
        let store = Arc::new(FaultyStore::new(stores.store()));
        let store_dyn = Arc::clone(&store) as Arc<dyn Store>;
        let mut t = if stamped {
            TestLog::stamped(store_dyn, config())
        } else {
            TestLog::new(store_dyn, config())
        };
        t.append_ok(&entries("before", 300));
        t.check();

        let batch = entries("failing", 10);
        for (attempt, faults) in case.attempts.iter().enumerate() {
            for &(operation, failure) in *faults {
                store.fail_next(operation, failure);
            }
            for result in t.append_all(&batch) {
                assert!(
                    matches!(result, Err(Error::BatchFailed { .. })),
                    "{}: attempt {attempt} should fail, got {result:?}",
                    case.name
                );
            }
            assert_eq!(
                store.pending_faults(),
                0,
                "{}: attempt {attempt}'s faults fired",
                case.name
            );
            t.check();
        }

        // The store works again: resubmitting succeeds, at the first-assigned indexes if the
        // failed batch was persisted anyway.
        let acks = t.append_ok(&batch);
        let mut indexes: Vec<u64> = acks.iter().map(|a| a.index).collect();
        indexes.sort_unstable();
        assert_eq!(indexes, (300..310).collect::<Vec<_>>(), "{}", case.name);
        assert!(
            acks.iter().all(|a| a.duplicate == case.logged_anyway),
            "{}: duplicate flags {:?}",
            case.name,
            acks.iter().map(|a| a.duplicate).collect::<Vec<_>>()
        );
        t.check();
        t.append_ok(&entries("after", 5));
        t.check();

        // Reopening finds the same state.
        t.reopen().unwrap();
        t.check();
        assert_eq!(t.log().checkpoint().size, 315, "{}", case.name);
    }
}

fn open_recovers_a_tree_without_a_checkpoint(stores: &mut Stores) {
    // A crash between integration and publication leaves a durable tree with no checkpoint.
    let store = Arc::new(FaultyStore::new(stores.store()));
    let mut t = TestLog::new(Arc::clone(&store) as Arc<dyn Store>, config());
    t.append_ok(&entries("a", 20));
    store.fail_next(Operation::Publish, Failure::NotPersisted);
    assert!(t.append_all(&entries("b", 5)).iter().all(Result::is_err));
    assert_eq!(store.load().unwrap().size, 25);
    assert_eq!(store.load().unwrap().checkpoint.unwrap().size, 20);
    t.reopen().unwrap();
    assert_eq!(
        t.log().checkpoint().size,
        25,
        "open publishes the durable tree"
    );
    t.check();
}

fn open_fails_cleanly_on_a_failing_store(stores: &mut Stores) {
    let store = Arc::new(FaultyStore::new(stores.store()));
    let mut t = TestLog::new(Arc::clone(&store) as Arc<dyn Store>, config());
    t.append_ok(&entries("a", 3));
    store.fail_next(Operation::Load, Failure::NotPersisted);
    assert!(matches!(t.reopen(), Err(Error::Store(_))));
    t.reopen().unwrap();
    t.check();
}
