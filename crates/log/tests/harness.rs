//! A test log that records every checkpoint its key signs and checks invariants on demand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_log::{
    Appended, Config, EntryFormat, FormatError, Log, Sealed, Store, Unsealed, check_log,
};
use waxseal_merkle::{Hash, leaf_hash, verify_consistency, verify_inclusion};
use waxseal_note::{Checkpoint, Ed25519Signer, Ed25519Verifier, Note, NoteSigner};

pub(crate) const ORIGIN: &str = "waxseal.test/log";

/// Signs with an Ed25519 key and remembers every note text it signed.
#[derive(Debug)]
pub(crate) struct RecordingSigner {
    inner: Ed25519Signer,
    pub(crate) signed: Mutex<Vec<String>>,
}

impl NoteSigner for RecordingSigner {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn key_hint(&self) -> [u8; 4] {
        self.inner.key_hint()
    }

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, waxseal_note::Error> {
        self.signed
            .lock()
            .unwrap()
            .push(String::from_utf8(text.to_vec()).unwrap());
        self.inner.sign(text)
    }
}

/// A toy personality whose stored entries depend on their index and time, as CT's do: each
/// bundle entry is `uint16 len || uint64 index || uint64 time_ms || entry`, the leaf hash covers
/// index, time and entry, and the deduplication key covers the entry only.
#[derive(Debug)]
pub(crate) struct Stamped;

const STAMP: usize = 16;

impl Stamped {
    /// The submitted entry, index and time of a stored entry.
    pub(crate) fn read(content: &[u8]) -> (Vec<u8>, u64, u64) {
        let index = u64::from_be_bytes(content[..8].try_into().unwrap());
        let time = u64::from_be_bytes(content[8..16].try_into().unwrap());
        (content[STAMP..].to_vec(), index, time)
    }
}

impl EntryFormat for Stamped {
    fn key(&self, entry: &[u8]) -> Result<Hash, FormatError> {
        if entry.starts_with(b"invalid") {
            return Err(FormatError::InvalidEntry {
                format: "stamped",
                reason: "starts with \"invalid\"".into(),
            });
        }
        Ok(leaf_hash(&[b"key:", entry].concat()))
    }

    fn seal(&self, entry: &[u8], index: u64, time_ms: u64) -> Result<Sealed, FormatError> {
        let content = [&index.to_be_bytes()[..], &time_ms.to_be_bytes(), entry].concat();
        let len = u16::try_from(content.len()).unwrap();
        let bytes = [&len.to_be_bytes()[..], &content].concat();
        Ok(Sealed::new(bytes, leaf_hash(&content)))
    }

    fn split(&self, bundle: &[u8]) -> Result<Vec<std::ops::Range<usize>>, FormatError> {
        waxseal_log::Verbatim.split(bundle)
    }

    fn unseal(&self, content: &[u8]) -> Result<Unsealed, FormatError> {
        if content.len() < STAMP {
            return Err(FormatError::MalformedBundle {
                format: "stamped",
                reason: "shorter than its stamp".into(),
            });
        }
        Ok(Unsealed::new(
            leaf_hash(content),
            self.key(&content[STAMP..])?,
        ))
    }
}

pub(crate) fn test_key() -> SigningKey {
    SigningKey::generate(Algorithm::Ed25519).unwrap()
}

pub(crate) struct TestLog {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) log: Option<Log>,
    pub(crate) signer: Arc<RecordingSigner>,
    pub(crate) verifier: Ed25519Verifier,
    pub(crate) config: Config,
    /// Every acknowledged entry: index -> bytes.
    pub(crate) acked: BTreeMap<u64, Vec<u8>>,
    /// Every acknowledged entry's sequencing time: index -> ms.
    pub(crate) times: BTreeMap<u64, u64>,
    /// The log uses [`Stamped`] entries rather than verbatim ones.
    pub(crate) stamped: bool,
}

impl TestLog {
    pub(crate) fn new(store: Arc<dyn Store>, config: Config) -> Self {
        let key = test_key();
        let verifier = Ed25519Verifier::new(ORIGIN, &key.public_key()).unwrap();
        let signer = Arc::new(RecordingSigner {
            inner: Ed25519Signer::new(ORIGIN, key).unwrap(),
            signed: Mutex::new(Vec::new()),
        });
        let mut t = Self {
            store,
            log: None,
            signer,
            verifier,
            config,
            acked: BTreeMap::new(),
            times: BTreeMap::new(),
            stamped: false,
        };
        t.reopen().unwrap();
        t
    }

    /// A log of [`Stamped`] entries.
    pub(crate) fn stamped(store: Arc<dyn Store>, config: Config) -> Self {
        let mut t = Self::new(store, config.with_format(Arc::new(Stamped)));
        t.stamped = true;
        t
    }

    /// The submitted entry a stored entry holds, and its leaf hash.
    pub(crate) fn submitted(&self, content: &[u8]) -> (Vec<u8>, Hash) {
        let leaf = leaf_hash(content);
        if self.stamped {
            (Stamped::read(content).0, leaf)
        } else {
            (content.to_vec(), leaf)
        }
    }

    pub(crate) fn fast_config() -> Config {
        Config::new(ORIGIN).with_batch(4096, Duration::from_millis(1))
    }

    pub(crate) fn reopen(&mut self) -> Result<(), waxseal_log::Error> {
        self.log = None;
        self.log = Some(Log::open(
            Arc::clone(&self.store),
            Arc::clone(&self.signer) as Arc<dyn NoteSigner>,
            self.config.clone(),
        )?);
        Ok(())
    }

    pub(crate) fn log(&self) -> &Log {
        self.log.as_ref().unwrap()
    }

    /// Appends entries concurrently (one batch when they arrive together) and records acks.
    pub(crate) fn append_all(
        &mut self,
        entries: &[Vec<u8>],
    ) -> Vec<Result<Appended, waxseal_log::Error>> {
        let pending: Vec<_> = entries
            .iter()
            .map(|e| self.log().append(e.clone()))
            .collect();
        let results: Vec<_> = pending
            .into_iter()
            .map(|p| p.and_then(|p| p.wait()))
            .collect();
        for (entry, result) in entries.iter().zip(&results) {
            if let Ok(appended) = result {
                if let Some(previous) = self.acked.insert(appended.index, entry.clone()) {
                    assert_eq!(
                        &previous, entry,
                        "index {} acknowledged for two entries",
                        appended.index
                    );
                }
                if let Some(previous) = self.times.insert(appended.index, appended.time_ms) {
                    assert_eq!(
                        previous, appended.time_ms,
                        "index {} acknowledged with two times",
                        appended.index
                    );
                }
            }
        }
        results
    }

    pub(crate) fn append_ok(&mut self, entries: &[Vec<u8>]) -> Vec<Appended> {
        self.append_all(entries)
            .into_iter()
            .map(|r| r.expect("append acknowledged"))
            .collect()
    }

    /// The invariants that must hold after every step.
    pub(crate) fn check(&self) {
        let checked =
            check_log(self.store.as_ref(), &self.config, &self.verifier).expect("check_log");
        let log = self.log();
        let published = log.checkpoint();
        // The served checkpoint may lag the stored one only after a failed publication.
        assert!(
            published.size <= checked.checkpoint_size,
            "served checkpoint is ahead of the store"
        );
        // Every acknowledged entry is at its index with its bytes.
        for (index, entry) in &self.acked {
            let stored = log.entry(*index).expect("acked entry readable");
            assert_eq!(&self.submitted(&stored).0, entry, "entry {index}");
            if self.stamped {
                let (_, stamped_index, time) = Stamped::read(&stored);
                assert_eq!(
                    stamped_index, *index,
                    "entry {index} was sealed at its index"
                );
                assert_eq!(
                    time, self.times[index],
                    "entry {index} was sealed at its time"
                );
            }
        }
        // Every checkpoint ever signed is consistent with the latest published one.
        let latest = (published.size, published.root);
        for text in self.signer.signed.lock().unwrap().iter() {
            let cp = Checkpoint::parse(text).unwrap();
            assert!(
                cp.size() <= latest.0 || cp.size() <= checked.size,
                "signed beyond the tree"
            );
            if cp.size() <= latest.0 {
                let proof = log.prove_consistency(cp.size(), latest.0).unwrap();
                verify_consistency(cp.size(), latest.0, &cp.root(), &latest.1, &proof)
                    .unwrap_or_else(|e| panic!("checkpoint {} inconsistent: {e}", cp.size()));
            }
        }
        // The published note verifies.
        let note = Note::parse(&published.note).unwrap();
        note.verify(&[&self.verifier]).unwrap();
    }

    pub(crate) fn verify_inclusion(&self, index: u64, size: u64) {
        let log = self.log();
        let proof = log.prove_inclusion(index, size).unwrap();
        let root = log.root(size).unwrap();
        let (entry, leaf) = self.submitted(&log.entry(index).unwrap());
        assert_eq!(entry, self.acked[&index]);
        verify_inclusion(&leaf, index, size, &proof, &root)
            .unwrap_or_else(|e| panic!("inclusion of {index} in {size}: {e}"));
    }
}

pub(crate) fn entries(prefix: &str, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("{prefix}-{i}").into_bytes())
        .collect()
}

/// A storage backend the parametrised suites run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Memory,
    Sqlite,
    Postgres,
}

/// Makes fresh stores of one backend: temporary SQLite files, or logs in a database of a
/// throwaway PostgreSQL server (several logs in one database, as in production).
pub(crate) struct Stores {
    backend: Backend,
    dir: tempfile::TempDir,
    server: Option<waxseal_log::testing::PostgresServer>,
    url: Option<String>,
    made: usize,
}

impl Stores {
    pub(crate) fn new(backend: Backend) -> Self {
        let (server, url) = if backend == Backend::Postgres {
            let server = waxseal_log::testing::PostgresServer::start()
                .unwrap_or_else(|e| panic!("the PostgreSQL variant needs a server: {e}"));
            let url = server.create_database("log_tests").unwrap();
            (Some(server), Some(url))
        } else {
            (None, None)
        };
        Self {
            backend,
            dir: tempfile::tempdir().unwrap(),
            server,
            url,
            made: 0,
        }
    }

    pub(crate) fn url(&self) -> &str {
        self.url.as_deref().expect("a PostgreSQL backend")
    }

    pub(crate) fn server(&self) -> &waxseal_log::testing::PostgresServer {
        self.server.as_ref().expect("a PostgreSQL backend")
    }

    /// A new, empty store.
    pub(crate) fn store(&mut self) -> Arc<dyn Store> {
        self.made += 1;
        match self.backend {
            Backend::Memory => Arc::new(waxseal_log::testing::MemoryStore::new()),
            Backend::Sqlite => Arc::new(
                waxseal_log::SqliteStore::open(self.dir.path().join(format!("{}.db", self.made)))
                    .unwrap(),
            ),
            Backend::Postgres => waxseal_log::PgStore::connect(&waxseal_log::PgOptions::new(
                self.url(),
                &format!("log-{}", self.made),
            ))
            .unwrap(),
        }
    }
}
