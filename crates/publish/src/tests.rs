#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use waxseal_log::testing::MemoryStore;
use waxseal_log::{Config, Log};
use waxseal_tiles::{HashTile, TileHashReader, TilePath, TileReader};

use super::*;
use crate::publisher::touched;

const ORIGIN: &str = "publish.test/log";

fn open_log(origin: &str) -> Log {
    let key = waxseal_crypto::SigningKey::generate(waxseal_crypto::Algorithm::Ed25519).unwrap();
    let signer = Arc::new(waxseal_note::Ed25519Signer::new(origin, key).unwrap());
    Log::open(Arc::new(MemoryStore::new()), signer, Config::new(origin)).unwrap()
}

/// Appends entries until the log has `size`, `tag` making them distinct from another log's.
fn grow(log: &Log, size: u64, tag: &str) {
    let start = log.checkpoint().size;
    let pending: Vec<_> = (start..size)
        .map(|i| log.append(format!("{tag} entry {i}").into_bytes()).unwrap())
        .collect();
    for p in pending {
        p.wait().unwrap();
    }
    assert_eq!(log.checkpoint().size, size);
}

struct TouchedCase {
    name: &'static str,
    from: u64,
    size: u64,
    want: &'static [&'static str],
}

const TOUCHED_CASES: &[TouchedCase] = &[
    TouchedCase {
        name: "no growth",
        from: 5,
        size: 5,
        want: &[],
    },
    TouchedCase {
        name: "first entry",
        from: 0,
        size: 1,
        want: &["tile/entries/000.p/1", "tile/0/000.p/1"],
    },
    TouchedCase {
        name: "a partial tile grows",
        from: 3,
        size: 7,
        want: &["tile/entries/000.p/7", "tile/0/000.p/7"],
    },
    TouchedCase {
        name: "the first tile fills: level 1 appears",
        from: 255,
        size: 256,
        want: &["tile/entries/000", "tile/0/000", "tile/1/000.p/1"],
    },
    TouchedCase {
        name: "a new level 0 tile, level 1 unchanged",
        from: 256,
        size: 257,
        want: &["tile/entries/001.p/1", "tile/0/001.p/1"],
    },
    TouchedCase {
        name: "from empty across two tiles",
        from: 0,
        size: 513,
        want: &[
            "tile/entries/000",
            "tile/entries/001",
            "tile/entries/002.p/1",
            "tile/0/000",
            "tile/0/001",
            "tile/0/002.p/1",
            "tile/1/000.p/2",
        ],
    },
    TouchedCase {
        name: "level 1 fills: level 2 appears",
        from: 65_535,
        size: 65_536,
        want: &[
            "tile/entries/255",
            "tile/0/255",
            "tile/1/000",
            "tile/2/000.p/1",
        ],
    },
    TouchedCase {
        name: "past a full level 1 tile",
        from: 65_536,
        size: 65_537,
        want: &["tile/entries/256.p/1", "tile/0/256.p/1"],
    },
];

#[test]
fn touched_tiles_are_exactly_those_that_change() {
    for case in TOUCHED_CASES {
        let got: Vec<String> = touched(case.from, case.size)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(got, case.want, "{}", case.name);
    }
}

/// The target's objects by path.
async fn objects(target: &Target) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for path in target.list().await.unwrap() {
        let bytes = target.read(&path).await.unwrap().unwrap();
        out.insert(path, bytes.to_vec());
    }
    out
}

/// Every object under `prefix` equals what the log serves for its path; the checkpoint is the
/// log's; and the newest tiles alone hash to the checkpoint's root.
fn check_target(objects: &BTreeMap<String, Vec<u8>>, prefix: &str, log: &Log) {
    let strip = |p: &str| {
        if prefix.is_empty() {
            Some(p.to_owned())
        } else {
            p.strip_prefix(&format!("{prefix}/")).map(str::to_owned)
        }
    };
    let checkpoint = log.checkpoint();
    let mut newest: BTreeMap<(u8, u64), HashTile> = BTreeMap::new();
    for (path, bytes) in objects {
        let Some(relative) = strip(path) else {
            continue;
        };
        if relative == "checkpoint" {
            assert_eq!(bytes, &checkpoint.note, "{path}");
            continue;
        }
        let tile = TilePath::parse(&relative).unwrap();
        let want = match tile {
            TilePath::Hash {
                level,
                index,
                width,
            } => {
                let parsed = HashTile::parse_with_width(bytes, width).unwrap();
                let slot = newest.entry((level, index)).or_insert(parsed.clone());
                if parsed.width() > slot.width() {
                    *slot = parsed;
                }
                log.tile(level, index, Some(width)).unwrap()
            }
            TilePath::Entries { index, width } => log.bundle(index, Some(width)).unwrap(),
            _ => unreachable!(),
        };
        assert_eq!(Some(bytes), want.as_ref(), "{path}");
    }
    struct Tiles(BTreeMap<(u8, u64), HashTile>);
    impl TileReader for Tiles {
        type Error = std::io::Error;
        fn read_tile(&self, level: u8, index: u64, _: u16) -> Result<HashTile, Self::Error> {
            self.0
                .get(&(level, index))
                .cloned()
                .ok_or_else(|| std::io::Error::other(format!("no tile {level}/{index}")))
        }
    }
    let root = waxseal_merkle::tree_root(
        checkpoint.size,
        &TileHashReader::new(checkpoint.size, Tiles(newest)),
    )
    .unwrap();
    assert_eq!(root, checkpoint.root);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_the_tlog_tiles_layout_step_by_step() {
    let log = open_log(ORIGIN);
    let target = Target::memory();
    let mut publisher = Publisher::tlog(target.clone(), "api/v1", log.clone());
    let mut want: Vec<String> = vec!["api/v1/checkpoint".to_owned()];
    let mut previous = 0;
    for size in [1, 3, 255, 256, 300, 513] {
        grow(&log, size, "a");
        let publication = publisher.publish().await.unwrap();
        let touched = touched(previous, size);
        assert_eq!(
            (publication.from, publication.size, publication.objects),
            (previous, size, touched.len() + 1),
            "size {size}"
        );
        want.extend(touched.iter().map(|t| format!("api/v1/{t}")));
        want.sort();
        want.dedup();
        let objects = objects(&target).await;
        assert_eq!(
            objects.keys().cloned().collect::<Vec<_>>(),
            want,
            "size {size}"
        );
        check_target(&objects, "api/v1", &log);
        previous = size;
    }
    // Up to date: nothing is written.
    assert_eq!(publisher.publish().await.unwrap().objects, 0);
    // The partial tile was upgraded to the full one, and the partial kept.
    let objects = objects(&target).await;
    assert!(objects.contains_key("api/v1/tile/0/000.p/255"));
    assert_eq!(
        objects["api/v1/tile/0/000"],
        log.tile(0, 0, Some(256)).unwrap().unwrap()
    );
    assert_eq!(
        objects["api/v1/tile/0/000.p/255"][..],
        objects["api/v1/tile/0/000"][..255 * 32]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resumes_from_the_checkpoint_in_a_directory_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(ORIGIN);
    grow(&log, 200, "a");
    let target = Target::parse(&format!("file://{}", dir.path().display()), []).unwrap();
    let mut first = Publisher::tlog(target, "", log.clone());
    assert_eq!(first.publish().await.unwrap().size, 200);
    drop(first);
    let on_disk = std::fs::read(dir.path().join("checkpoint")).unwrap();
    assert_eq!(on_disk, log.checkpoint().note);

    grow(&log, 600, "a");
    let target = Target::parse(dir.path().to_str().unwrap(), []).unwrap();
    let mut second = Publisher::tlog(target.clone(), "", log.clone());
    assert_eq!(second.resume().await.unwrap(), Some(200));
    let publication = second.publish().await.unwrap();
    assert_eq!(
        (publication.from, publication.objects),
        (200, touched(200, 600).len() + 1)
    );
    check_target(&objects(&target).await, "", &log);
    assert_eq!(
        std::fs::read(dir.path().join("tile/entries/002.p/88")).unwrap(),
        log.bundle(2, Some(88)).unwrap().unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_objects_already_there_are_accepted() {
    let log = open_log(ORIGIN);
    grow(&log, 40, "a");
    let target = Target::memory();
    Publisher::tlog(target.clone(), "", log.clone())
        .publish()
        .await
        .unwrap();
    let before = objects(&target).await;
    // A second publisher that starts from nothing (as after losing the checkpoint) rewrites
    // the same write-once objects: accepted.
    let mut again = Publisher::tlog(target.clone(), "", log.clone());
    again.published = Some(None);
    assert_eq!(again.publish().await.unwrap().objects, before.len());
    assert_eq!(objects(&target).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_object_at_the_target_stops_publishing_before_the_checkpoint() {
    let log = open_log(ORIGIN);
    grow(&log, 10, "a");
    let target = Target::memory();
    let mut publisher = Publisher::tlog(target.clone(), "", log.clone());
    publisher.publish().await.unwrap();
    let old_checkpoint = log.checkpoint().note.clone();
    grow(&log, 12, "a");
    target
        .write(
            "tile/0/000.p/12",
            bytes::Bytes::from_static(b"not this log's tile"),
            target::Write::Create,
            target::Kind::Tile,
        )
        .await
        .unwrap();
    let err = publisher.publish().await.unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { path, existing: 19, ours: 384 } if path == "tile/0/000.p/12"),
        "{err}"
    );
    assert!(err.is_fatal());
    assert_eq!(
        target.read("checkpoint").await.unwrap().unwrap(),
        old_checkpoint
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_tile_write_leaves_the_old_checkpoint_and_full_tiles_go_first() {
    let dir = tempfile::tempdir().unwrap();
    let log = open_log(ORIGIN);
    grow(&log, 100, "a");
    let target = Target::directory(dir.path()).unwrap();
    let mut publisher = Publisher::tlog(target.clone(), "", log.clone());
    publisher.publish().await.unwrap();
    let old_checkpoint = log.checkpoint().note.clone();
    grow(&log, 300, "a");
    // A file where the level 1 directory must go: that tile's write fails.
    std::fs::write(dir.path().join("tile/1"), b"in the way").unwrap();
    let err = publisher.publish().await.unwrap_err();
    assert!(
        matches!(&err, Error::Store { path, .. } if path == "tile/1/000.p/1"),
        "{err}"
    );
    assert!(!err.is_fatal());
    assert_eq!(
        std::fs::read(dir.path().join("checkpoint")).unwrap(),
        old_checkpoint
    );
    // The full tile and bundle were written before the partial ones were tried.
    assert!(dir.path().join("tile/0/000").is_file());
    assert!(dir.path().join("tile/entries/000").is_file());
    // Once the obstacle is gone, the retry completes the publication.
    std::fs::remove_file(dir.path().join("tile/1")).unwrap();
    assert_eq!(publisher.publish().await.unwrap().size, 300);
    check_target(&objects(&target).await, "", &log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_refuses_a_target_holding_another_tree() {
    let target = Target::memory();
    let big = open_log(ORIGIN);
    grow(&big, 50, "a");
    Publisher::tlog(target.clone(), "", big.clone())
        .publish()
        .await
        .unwrap();

    let smaller = open_log(ORIGIN);
    grow(&smaller, 20, "a");
    let err = Publisher::tlog(target.clone(), "", smaller.clone())
        .publish()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::TargetAhead {
                target: 50,
                log: 20
            }
        ),
        "{err}"
    );

    let other = open_log(ORIGIN);
    grow(&other, 60, "b");
    let err = Publisher::tlog(target.clone(), "", other)
        .resume()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TargetDiverges { size: 50, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("root"), "{err}");

    let renamed = open_log("publish.test/other");
    grow(&renamed, 60, "a");
    let err = Publisher::tlog(target.clone(), "", renamed)
        .resume()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("origin"), "{err}");

    let garbage = Target::memory();
    garbage
        .write(
            "checkpoint",
            bytes::Bytes::from_static(b"not a note"),
            target::Write::Overwrite,
            target::Kind::Checkpoint,
        )
        .await
        .unwrap();
    let err = Publisher::tlog(garbage, "", big)
        .resume()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TargetUnreadable { .. }), "{err}");
    assert!(err.is_fatal());
}

struct ParseCase {
    name: &'static str,
    url: &'static str,
    /// `None`: accepted; else a word of the error.
    refused: Option<&'static str>,
}

const PARSE_CASES: &[ParseCase] = &[
    ParseCase {
        name: "s3 with a prefix",
        url: "s3://bucket/some/prefix/",
        refused: None,
    },
    ParseCase {
        name: "s3 without a bucket",
        url: "s3:///prefix",
        refused: Some("BUCKET"),
    },
    ParseCase {
        name: "another scheme",
        url: "gs://bucket",
        refused: Some("schemes"),
    },
    ParseCase {
        name: "a relative file URL",
        url: "file://relative/dir",
        refused: Some("ABSOLUTE"),
    },
    ParseCase {
        name: "empty",
        url: "",
        refused: Some("empty"),
    },
];

#[test]
fn target_urls_are_parsed_or_refused_by_name() {
    let env = [
        ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "test".to_owned()),
        (
            "AWS_ENDPOINT_URL".to_owned(),
            "http://127.0.0.1:1".to_owned(),
        ),
        ("AWS_ALLOW_HTTP".to_owned(), "true".to_owned()),
    ];
    for case in PARSE_CASES {
        match (Target::parse(case.url, env.clone()), case.refused) {
            (Ok(target), None) => assert_eq!(target.url(), case.url, "{}", case.name),
            (Err(e), Some(word)) => {
                assert!(
                    matches!(e, Error::UnsupportedTarget { .. }),
                    "{}",
                    case.name
                );
                assert!(e.to_string().contains(word), "{}: {e}", case.name);
            }
            (got, want) => panic!("{}: got {got:?}, want refused {want:?}", case.name),
        }
    }
}

/// Waits until `done()` or 10 s have passed.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    done()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_publishes_new_checkpoints_only_while_allowed() {
    let log = open_log(ORIGIN);
    let target = Target::memory();
    let allowed = Arc::new(AtomicBool::new(false));
    let metrics = Arc::new(Metrics::new());
    let flag = Arc::clone(&allowed);
    let task = tokio::spawn(follow(
        Publisher::tlog(target.clone(), "", log.clone()),
        Arc::new(move || flag.load(Ordering::Relaxed)),
        Arc::clone(&metrics),
    ));
    grow(&log, 5, "a");
    // Several polls while not allowed: nothing is written.
    tokio::time::sleep(POLL_INTERVAL * 4).await;
    assert!(target.list().await.unwrap().is_empty());

    allowed.store(true, Ordering::Relaxed);
    assert!(eventually(|| metrics.published_size() == 5).await);
    grow(&log, 300, "a");
    assert!(eventually(|| metrics.published_size() == 300).await);
    check_target(&objects(&target).await, "", &log);
    assert!(metrics.publications() >= 2);
    assert!(metrics.objects() >= touched(0, 300).len() as u64 + 2);
    assert_eq!(metrics.errors(), 0);
    assert!(metrics.last_duration() > Duration::ZERO);
    assert!(!task.is_finished());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_stops_on_a_conflict_and_counts_it() {
    let log = open_log(ORIGIN);
    grow(&log, 3, "a");
    let target = Target::memory();
    target
        .write(
            "tile/entries/000.p/3",
            bytes::Bytes::from_static(b"forged"),
            target::Write::Create,
            target::Kind::Tile,
        )
        .await
        .unwrap();
    let metrics = Arc::new(Metrics::new());
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        follow(
            Publisher::tlog(target.clone(), "", log),
            Arc::new(|| true),
            Arc::clone(&metrics),
        ),
    )
    .await
    .unwrap();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    assert_eq!(metrics.errors(), 1);
    assert_eq!(target.read("checkpoint").await.unwrap(), None);
}
