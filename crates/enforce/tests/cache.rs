//! The verification cache: single flight, TTLs, LRU eviction, invalidation, cancellation.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinSet;
use waxseal_enforce::cache::{Cache, CacheConfig, CacheKey};

fn key(image: &str) -> CacheKey {
    CacheKey::new(image, "policies-1", "root-1")
}

/// Looks `k` up, computing `value` (allowed or not) and counting computations in `runs`.
async fn lookup(
    cache: &Cache<u32>,
    k: CacheKey,
    value: u32,
    allowed: bool,
    runs: &AtomicUsize,
) -> u32 {
    cache
        .get_or_insert_with(k, || async move {
            runs.fetch_add(1, Ordering::SeqCst);
            (value, allowed)
        })
        .await
}

#[tokio::test(start_paused = true)]
async fn concurrent_callers_share_one_computation() {
    let cache = Arc::new(Cache::<u32>::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for i in 0..16 {
        let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
        tasks.spawn(async move {
            cache
                .get_or_insert_with(key("img"), || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    (100 + i, true)
                })
                .await
        });
    }
    let values: Vec<u32> = tasks.join_all().await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(values.iter().all(|v| *v == values[0]), "{values:?}");
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits, stats.entries), (1, 15, 1));
}

#[tokio::test(start_paused = true)]
async fn allow_and_deny_verdicts_expire_after_their_ttls() {
    let cache = Cache::<u32>::new(
        CacheConfig::default()
            .with_allow_ttl(Duration::from_secs(300))
            .with_deny_ttl(Duration::from_secs(10)),
    );
    let runs = AtomicUsize::new(0);
    assert_eq!(lookup(&cache, key("allowed"), 1, true, &runs).await, 1);
    assert_eq!(lookup(&cache, key("denied"), 2, false, &runs).await, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(lookup(&cache, key("allowed"), 10, true, &runs).await, 1);
    assert_eq!(lookup(&cache, key("denied"), 20, false, &runs).await, 2);
    assert_eq!(runs.load(Ordering::SeqCst), 2, "both still cached at 9 s");

    tokio::time::advance(Duration::from_secs(2)).await;
    assert_eq!(
        lookup(&cache, key("denied"), 21, false, &runs).await,
        21,
        "deny expired at 10 s"
    );
    assert_eq!(
        lookup(&cache, key("allowed"), 11, true, &runs).await,
        1,
        "allow still live at 11 s"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 3);

    tokio::time::advance(Duration::from_secs(290)).await;
    assert_eq!(
        lookup(&cache, key("allowed"), 12, true, &runs).await,
        12,
        "allow expired at 301 s"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    assert_eq!(
        cache.stats().entries,
        2,
        "expired entries are replaced, not duplicated"
    );
}

#[tokio::test]
async fn evicts_least_recently_used_beyond_capacity() {
    let cache = Cache::<u32>::new(CacheConfig::default().with_capacity(2));
    let runs = AtomicUsize::new(0);
    lookup(&cache, key("a"), 1, true, &runs).await;
    lookup(&cache, key("b"), 2, true, &runs).await;
    // Using a makes b the least recently used.
    assert_eq!(lookup(&cache, key("a"), 0, true, &runs).await, 1);
    lookup(&cache, key("c"), 3, true, &runs).await;
    let stats = cache.stats();
    assert_eq!((stats.entries, stats.evictions), (2, 1));
    assert_eq!(lookup(&cache, key("a"), 0, true, &runs).await, 1, "a kept");
    assert_eq!(lookup(&cache, key("c"), 0, true, &runs).await, 3, "c kept");
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(
        lookup(&cache, key("b"), 20, true, &runs).await,
        20,
        "b was evicted"
    );
    // b's return evicted a, the least recently used of a and c.
    assert_eq!(cache.stats().evictions, 2);
    assert_eq!(lookup(&cache, key("c"), 0, true, &runs).await, 3, "c kept");
    assert_eq!(
        lookup(&cache, key("a"), 10, true, &runs).await,
        10,
        "a was evicted"
    );
}

#[tokio::test]
async fn invalidates_by_policy_set_and_trusted_root() {
    let cache = Cache::<u32>::default();
    let runs = AtomicUsize::new(0);
    let keys = [
        CacheKey::new("img", "p1", "r1"),
        CacheKey::new("img", "p2", "r1"),
        CacheKey::new("img", "p2", "r2"),
    ];
    for (i, k) in keys.iter().enumerate() {
        lookup(&cache, k.clone(), u32::try_from(i).unwrap(), true, &runs).await;
    }
    assert_eq!(cache.stats().entries, 3, "each input digest is its own key");

    cache.invalidate_policy_set("p1");
    assert_eq!(cache.stats().entries, 2);
    assert_eq!(
        lookup(&cache, keys[1].clone(), 9, true, &runs).await,
        1,
        "p2 entries kept"
    );
    cache.invalidate_trusted_root("r2");
    assert_eq!(cache.stats().entries, 1);
    assert_eq!(
        lookup(&cache, keys[2].clone(), 22, true, &runs).await,
        22,
        "r2 entry recomputed"
    );
    assert_eq!(
        lookup(&cache, keys[0].clone(), 11, true, &runs).await,
        11,
        "p1 entry recomputed"
    );

    cache.clear();
    assert_eq!(cache.stats().entries, 0);
    assert_eq!(lookup(&cache, keys[1].clone(), 12, true, &runs).await, 12);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_computation_does_not_wedge_waiters() {
    let cache = Arc::new(Cache::<u32>::default());
    let (started_tx, started_rx) = oneshot::channel::<()>();
    // The first caller starts computing and never finishes.
    let first = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            cache
                .get_or_insert_with(key("img"), || async move {
                    let _ = started_tx.send(());
                    std::future::pending::<()>().await;
                    (1, true)
                })
                .await
        })
    };
    started_rx.await.unwrap();
    // A second caller waits on that computation.
    let second = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            cache
                .get_or_insert_with(key("img"), || async { (2, true) })
                .await
        })
    };
    tokio::task::yield_now().await;
    assert!(!second.is_finished(), "waits for the first computation");
    first.abort();
    assert!(first.await.unwrap_err().is_cancelled());
    let value = tokio::time::timeout(Duration::from_secs(5), second)
        .await
        .expect("the waiter computed instead of hanging")
        .unwrap();
    assert_eq!(value, 2);
    // A timed-out caller is the same as an aborted one.
    let third = tokio::time::timeout(
        Duration::from_millis(10),
        cache.get_or_insert_with(key("slow"), || async {
            std::future::pending::<()>().await;
            (3, true)
        }),
    )
    .await;
    assert!(third.is_err());
    let fourth = cache
        .get_or_insert_with(key("slow"), || async { (4, true) })
        .await;
    assert_eq!(fourth, 4);
    assert_eq!(
        cache.stats().misses,
        4,
        "every computation that ran counts as a miss"
    );
}

#[tokio::test]
async fn never_evicts_an_entry_still_computing() {
    let cache = Arc::new(Cache::<u32>::new(CacheConfig::default().with_capacity(1)));
    let (release_tx, release_rx) = oneshot::channel::<()>();
    let (started_tx, started_rx) = oneshot::channel::<()>();
    let slow = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            cache
                .get_or_insert_with(key("slow"), || async move {
                    let _ = started_tx.send(());
                    release_rx.await.unwrap();
                    (1, true)
                })
                .await
        })
    };
    started_rx.await.unwrap();
    let runs = AtomicUsize::new(0);
    assert_eq!(lookup(&cache, key("fast"), 2, true, &runs).await, 2);
    let stats = cache.stats();
    assert_eq!(
        (stats.entries, stats.evictions),
        (2, 0),
        "over capacity while computing"
    );
    // A second caller for the slow key still joins the first computation.
    let joined = {
        let cache = Arc::clone(&cache);
        tokio::spawn(async move {
            cache
                .get_or_insert_with(key("slow"), || async { (99, true) })
                .await
        })
    };
    tokio::task::yield_now().await;
    release_tx.send(()).unwrap();
    assert_eq!(slow.await.unwrap(), 1);
    assert_eq!(joined.await.unwrap(), 1);
    // Back within capacity at the next insertion: the least recently used ready entry goes.
    lookup(&cache, key("third"), 3, true, &runs).await;
    let stats = cache.stats();
    assert_eq!(stats.entries, 1);
    assert_eq!(lookup(&cache, key("third"), 0, true, &runs).await, 3);
}
