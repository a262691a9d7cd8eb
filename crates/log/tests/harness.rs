//! A test log that records every checkpoint its key signs and checks invariants on demand.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_log::{Appended, Config, Log, Store, check_log};
use waxseal_merkle::{leaf_hash, verify_consistency, verify_inclusion};
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
        };
        t.reopen().unwrap();
        t
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
            if let Ok(appended) = result
                && let Some(previous) = self.acked.insert(appended.index, entry.clone())
            {
                assert_eq!(
                    &previous, entry,
                    "index {} acknowledged for two entries",
                    appended.index
                );
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
        let checked = check_log(self.store.as_ref(), ORIGIN, &self.verifier).expect("check_log");
        let log = self.log();
        let published = log.checkpoint();
        // The served checkpoint may lag the stored one only after a failed publication.
        assert!(
            published.size <= checked.checkpoint_size,
            "served checkpoint is ahead of the store"
        );
        // Every acknowledged entry is at its index with its bytes.
        for (index, entry) in &self.acked {
            assert_eq!(
                &log.entry(*index).expect("acked entry readable"),
                entry,
                "entry {index}"
            );
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
        let leaf = leaf_hash(&self.acked[&index]);
        verify_inclusion(&leaf, index, size, &proof, &root)
            .unwrap_or_else(|e| panic!("inclusion of {index} in {size}: {e}"));
    }
}

pub(crate) fn entries(prefix: &str, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| format!("{prefix}-{i}").into_bytes())
        .collect()
}
