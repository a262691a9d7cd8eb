//! Cluster mode in one process: two members on one database are one log; when the sequencer
//! member goes, the other takes the lock and goes on.

use std::sync::Arc;
use std::time::{Duration, Instant};

use waxseal_log::{Config, Log, PgOptions, PgStore, Role, check_log};
use waxseal_merkle::verify_consistency;
use waxseal_note::{Ed25519Signer, Ed25519Verifier, NoteSigner};

use crate::harness::{Backend, ORIGIN, Stores, entries, test_key};

fn member(url: &str, signer: &Arc<dyn NoteSigner>) -> Log {
    let store = PgStore::connect(&PgOptions::new(url, "rekor")).unwrap();
    Log::open_cluster(
        store,
        Arc::clone(signer),
        Config::new(ORIGIN).with_batch(256, Duration::from_millis(2)),
    )
    .unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Appends from both members at once; returns `(entry, index)` of every acknowledgement.
fn append_from(logs: &[&Log], prefix: &str, count: usize) -> Vec<(Vec<u8>, u64)> {
    let batch = entries(prefix, count);
    let pending: Vec<_> = batch
        .iter()
        .enumerate()
        .map(|(i, e)| (e.clone(), logs[i % logs.len()].append(e.clone()).unwrap()))
        .collect();
    pending
        .into_iter()
        .map(|(e, p)| {
            let appended = p.wait().unwrap();
            assert!(appended.checkpoint.size > appended.index);
            (e, appended.index)
        })
        .collect()
}

#[test]
fn cluster_members_are_one_log_and_fail_over() {
    let stores = Stores::new(Backend::Postgres);
    let url = stores.url().to_string();
    let key = test_key();
    let verifier = Ed25519Verifier::new(ORIGIN, &key.public_key()).unwrap();
    let signer: Arc<dyn NoteSigner> = Arc::new(Ed25519Signer::new(ORIGIN, key).unwrap());
    let a = member(&url, &signer);
    let b = member(&url, &signer);
    wait_for("a sequencer", || {
        [a.status().role, b.status().role].contains(&Role::Sequencer)
    });
    let roles = [a.status().role, b.status().role];
    assert!(
        roles.contains(&Role::Sequencer) && roles.contains(&Role::Follower),
        "one sequencer, one follower: {roles:?}"
    );

    let mut acked = append_from(&[&a, &b], "first", 200);
    let mut indexes: Vec<u64> = acked.iter().map(|(_, i)| *i).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..200).collect::<Vec<_>>(), "each entry once");
    // A duplicate through the other member gets its first index back.
    let again = b.append(acked[0].0.clone()).unwrap().wait().unwrap();
    assert!(again.duplicate);
    assert_eq!(again.index, acked[0].1);
    // Any member serves every read, once it has seen the checkpoint.
    wait_for("both members to serve 200", || {
        a.checkpoint().size >= 200 && b.checkpoint().size >= 200
    });
    for (entry, index) in &acked {
        assert_eq!(&a.entry(*index).unwrap(), entry);
        assert_eq!(&b.entry(*index).unwrap(), entry);
    }
    let status = a.status();
    assert_eq!(status.backend, "postgres");
    assert!(status.pool.is_some());
    wait_for("the lock holder in the status", || {
        a.status()
            .sequencer
            .is_some_and(|s| s.contains(&std::process::id().to_string()))
    });
    let first = a.checkpoint();

    // The sequencer goes; the follower takes over.
    let (sequencer, follower) = if a.status().role == Role::Sequencer {
        (a, b)
    } else {
        (b, a)
    };
    assert!(sequencer.status().integrated_entries > 0);
    drop(sequencer);
    wait_for("the follower to take the lock", || {
        follower.status().role == Role::Sequencer
    });
    assert!(follower.status().lock_changes >= 1);
    acked.extend(append_from(&[&follower], "second", 50));
    let latest = follower.checkpoint();
    assert_eq!(latest.size, 250);
    // Durable appends through the queue, for the report.
    let (acked_now, rate) =
        waxseal_log::testing::durable_appends_per_second(&follower, 2000, 256, 200).unwrap();
    assert_eq!(acked_now, 2000);
    eprintln!("cluster (one member, through the queue): {rate:.0} durable appends/s");
    let latest = follower.checkpoint();
    let proof = follower.prove_consistency(first.size, latest.size).unwrap();
    verify_consistency(first.size, latest.size, &first.root, &latest.root, &proof).unwrap();
    drop(follower);

    let store = PgStore::connect(&PgOptions::new(&url, "rekor")).unwrap();
    let checked = check_log(store.as_ref(), &Config::new(ORIGIN), &verifier).unwrap();
    assert_eq!(checked.size, 2250);
    // Another log in the same database is separate.
    let other = PgStore::connect(&PgOptions::new(&url, "ct")).unwrap();
    assert_eq!(waxseal_log::Store::load(other.as_ref()).unwrap().size, 0);
    let sizes = store.sizes().unwrap();
    assert_eq!(sizes.entries, 2250);
    assert!(sizes.database_bytes > 0);
    assert!(sizes.tables.iter().any(|(t, _)| t == "log_tiles"));
}

#[test]
fn cluster_entries_wait_for_a_sequencer_and_the_pool_pushes_back() {
    let stores = Stores::new(Backend::Postgres);
    let url = stores.url().to_string();
    let store = PgStore::connect(&PgOptions::new(&url, "rekor")).unwrap();
    let held = waxseal_log::testing::SequencerLock::take(&store).unwrap();
    let signer: Arc<dyn NoteSigner> = Arc::new(Ed25519Signer::new(ORIGIN, test_key()).unwrap());
    let log = Log::open_cluster(
        store,
        signer,
        Config::new(ORIGIN)
            .with_pool(4, 1 << 20)
            .with_batch(256, Duration::from_millis(1)),
    )
    .unwrap();
    let pending: Vec<_> = entries("waiting", 4)
        .into_iter()
        .map(|e| log.append(e).unwrap())
        .collect();
    // Queued entries stay counted in the pool until answered.
    assert!(matches!(
        log.append(b"one too many".to_vec()),
        Err(waxseal_log::Error::Pushback { pending: 4, .. })
    ));
    wait_for("the entries in the shared queue", || {
        let status = log.status();
        status.queued == 4 && status.sequencer.is_some()
    });
    assert_eq!(log.status().role, Role::Follower);
    assert_eq!(log.checkpoint().size, 0);

    drop(held);
    let mut indexes: Vec<u64> = pending
        .into_iter()
        .map(|p| p.wait().unwrap().index)
        .collect();
    indexes.sort_unstable();
    assert_eq!(indexes, vec![0, 1, 2, 3]);
    assert_eq!(log.status().role, Role::Sequencer);
    assert_eq!(
        log.append(b"room again".to_vec())
            .unwrap()
            .wait()
            .unwrap()
            .index,
        4
    );
}
