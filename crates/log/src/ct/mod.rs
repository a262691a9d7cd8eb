//! The Certificate Transparency personality: an RFC 6962 log (submission: `add-chain`,
//! `add-pre-chain`, `get-roots`, §4.1, §4.2, §4.7) with the C2SP static-ct-api read side
//! (checkpoint signed with an RFC 6962 note signature, hash tiles, data tiles of `TileLeaf`s,
//! issuers by fingerprint), over this crate's engine.
//!
//! [`CtLog::add_pre_chain`] checks the chain against the accepted roots
//! ([`waxseal_x509::check_ct_chain`]), stores its issuers durably, and submits the entry; the
//! sequencer seals it into a `TileLeaf` stamped with its batch time and `leaf_index`
//! ([`StaticCtFormat`]). Only once the entry is durable and under a published checkpoint does
//! the log sign the SCT, whose timestamp is the leaf's and whose extensions carry the
//! `leaf_index`, so every SCT it returns is already provably in the log. A resubmitted chain
//! (same `signed_entry`) gets its first index and timestamp back.
//!
//! HTTP lives in `waxseal-server`; the encodings are in [`entry`] and `waxseal-x509`.

pub mod entry;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use waxseal_crypto::{Algorithm, PublicKey, SigningKey};
use waxseal_note::{NoteSigner, Rfc6962Signer, Rfc6962Verifier};
use waxseal_x509::{
    CtSignedEntry, CtSubmission, SignedCertificateTimestamp, VerifiedLinks, check_ct_chain_with,
};

pub use entry::{StaticCtFormat, TileLeaf, parse_data_tile};

use crate::engine::{Config, Log};
use crate::error::{Error, StoreError};
use crate::store::{IssuerStore, PublishedCheckpoint, Store};

/// Why a CT operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CtError {
    /// The submitted chain was rejected (RFC 6962: HTTP 400): it does not parse, does not
    /// chain to an accepted root, or has the wrong poison for the endpoint.
    #[error("chain rejected: {0}")]
    Chain(#[source] waxseal_x509::Error),
    /// The CT log key cannot sign SCTs and RFC 6962 checkpoints: it must be ECDSA P-256.
    #[error("CT log keys must be ECDSA P-256, not {algorithm}")]
    KeyUnsupported {
        /// The key's algorithm.
        algorithm: Algorithm,
    },
    /// The engine failed or pushed back ([`Error::Pushback`]: retry later).
    #[error(transparent)]
    Log(#[from] Error),
    /// The SCT could not be signed.
    #[error("couldn't sign the SCT: {0}")]
    Sign(#[source] waxseal_x509::Error),
}

impl From<StoreError> for CtError {
    fn from(e: StoreError) -> Self {
        Self::Log(e.into())
    }
}

/// The answer to `add-chain` / `add-pre-chain` (RFC 6962 §4.1): an SCT for an entry that is
/// durable and covered by a published checkpoint.
#[derive(Debug, Clone)]
pub struct AddChainResponse {
    sct: SignedCertificateTimestamp,
    index: u64,
    duplicate: bool,
    checkpoint: Arc<PublishedCheckpoint>,
}

impl AddChainResponse {
    /// The signed certificate timestamp, to embed (via `CertificateAuthority::finish`).
    pub fn sct(&self) -> &SignedCertificateTimestamp {
        &self.sct
    }

    /// The entry's index in the log (also in the SCT's `leaf_index` extension).
    pub fn leaf_index(&self) -> u64 {
        self.index
    }

    /// The chain was already logged; the SCT carries its first index and timestamp.
    pub fn duplicate(&self) -> bool {
        self.duplicate
    }

    /// A published checkpoint whose tree contains the entry.
    pub fn checkpoint(&self) -> &Arc<PublishedCheckpoint> {
        &self.checkpoint
    }

    /// JSON `sct_version`: 0 (v1).
    pub fn sct_version(&self) -> u8 {
        0
    }

    /// JSON `id` (before base64): the log ID.
    pub fn id(&self) -> &[u8; 32] {
        self.sct.log_id()
    }

    /// JSON `timestamp`: ms since the epoch, the leaf's timestamp.
    pub fn timestamp(&self) -> u64 {
        self.sct.timestamp()
    }

    /// JSON `extensions` (before base64): the `CtExtensions` with `leaf_index`.
    pub fn extensions(&self) -> &[u8] {
        self.sct.extensions()
    }

    /// JSON `signature` (before base64): the TLS `digitally-signed` struct (hash algorithm,
    /// signature algorithm, uint16 length, DER ECDSA signature).
    pub fn signature(&self) -> Vec<u8> {
        let mut out = vec![4, 3];
        let signature = self.sct.signature();
        let len = u16::try_from(signature.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&signature[..usize::from(len)]);
        out
    }
}

/// Signs checkpoints with the RFC 6962 note signature at the current time.
#[derive(Debug)]
struct ClockSigner {
    signer: Rfc6962Signer,
    name: String,
    key_hint: [u8; 4],
}

impl ClockSigner {
    fn new(signer: Rfc6962Signer) -> Self {
        let at = signer.at(0);
        let (name, key_hint) = (at.name().to_owned(), at.key_hint());
        Self {
            signer,
            name,
            key_hint,
        }
    }
}

impl NoteSigner for ClockSigner {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_hint(&self) -> [u8; 4] {
        self.key_hint
    }

    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, waxseal_note::Error> {
        // The checkpoint is signed after its entries were sequenced, so its timestamp is at
        // least theirs, as RFC 6962 §3.5 requires of a tree head.
        self.signer.at(now_ms()).sign(text)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A Certificate Transparency log (see the [module docs](self)).
///
/// Cheap to share behind an `Arc`; the engine's sequencer stops when the last `CtLog` goes.
#[derive(Debug)]
pub struct CtLog {
    log: Log,
    key: SigningKey,
    verifier: Rfc6962Verifier,
    roots: Vec<Vec<u8>>,
    issuers: Arc<dyn IssuerStore>,
    /// Issuers already stored durably, so the common case (the same intermediate every
    /// time) costs no write. Only grows.
    stored_issuers: Mutex<HashSet<[u8; 32]>>,
    /// CA-to-CA chain links whose signatures verified, so the common case (the same
    /// intermediate under the same root every time) verifies one signature, the leaf's.
    verified_links: VerifiedLinks,
}

impl CtLog {
    /// Opens the CT log in `store`, signing SCTs and checkpoints with `key` (ECDSA P-256),
    /// accepting chains that lead to one of `roots` (DER). `config.origin` is the checkpoint
    /// origin, the submission prefix without scheme or trailing slash (e.g.
    /// `ct.example.com/2026`); its entry format is set to [`StaticCtFormat`].
    ///
    /// # Errors
    ///
    /// [`CtError::KeyUnsupported`]; the errors of [`Log::open`].
    pub fn open<S: Store + IssuerStore + 'static>(
        store: Arc<S>,
        key: SigningKey,
        config: Config,
        roots: Vec<Vec<u8>>,
    ) -> Result<Self, CtError> {
        let issuers = Arc::clone(&store) as Arc<dyn IssuerStore>;
        Self::open_with(key, config, roots, issuers, |signer, config| {
            Log::open(store, signer, config)
        })
    }

    /// Like [`CtLog::open`], as a member of a cluster ([`Log::open_cluster`]): several
    /// processes on one PostgreSQL database are one CT log. Each member checks chains, stores
    /// issuers and signs SCTs itself; the member holding the sequencer lock sequences.
    ///
    /// # Errors
    ///
    /// [`CtError::KeyUnsupported`]; the errors of [`Log::open_cluster`].
    pub fn open_cluster(
        store: Arc<crate::PgStore>,
        key: SigningKey,
        config: Config,
        roots: Vec<Vec<u8>>,
    ) -> Result<Self, CtError> {
        let issuers = Arc::clone(&store) as Arc<dyn IssuerStore>;
        Self::open_with(key, config, roots, issuers, |signer, config| {
            Log::open_cluster(store, signer, config)
        })
    }

    fn open_with(
        key: SigningKey,
        config: Config,
        roots: Vec<Vec<u8>>,
        issuers: Arc<dyn IssuerStore>,
        open: impl FnOnce(Arc<dyn waxseal_note::NoteSigner>, Config) -> Result<Log, Error>,
    ) -> Result<Self, CtError> {
        let algorithm = key.algorithm();
        if algorithm != Algorithm::EcdsaP256Sha256 {
            return Err(CtError::KeyUnsupported { algorithm });
        }
        let unsupported = |_| CtError::KeyUnsupported { algorithm };
        let note_key = SigningKey::from_pkcs8_der(&key.to_pkcs8_der())
            .map_err(|_| CtError::KeyUnsupported { algorithm })?;
        let signer = Rfc6962Signer::new(&config.origin, note_key).map_err(unsupported)?;
        let verifier = signer.verifier();
        let config = config.with_format(Arc::new(StaticCtFormat));
        let log = open(Arc::new(ClockSigner::new(signer)), config)?;
        Ok(Self {
            log,
            key,
            verifier,
            roots,
            issuers,
            stored_issuers: Mutex::new(HashSet::new()),
            verified_links: VerifiedLinks::new(),
        })
    }

    /// Logs a precertificate chain (`add-pre-chain`) and returns its SCT once the entry is
    /// durable and under a published checkpoint. Chain checks and storage run on a blocking
    /// thread when called inside a Tokio runtime.
    ///
    /// # Errors
    ///
    /// [`CtError::Chain`] for a rejected chain, [`CtError::Log`] (including
    /// [`Error::Pushback`]), [`CtError::Sign`].
    pub async fn add_pre_chain(
        self: &Arc<Self>,
        chain: Vec<Vec<u8>>,
    ) -> Result<AddChainResponse, CtError> {
        self.add(chain, CtSubmission::Precertificate).await
    }

    /// Logs a final certificate chain (`add-chain`); see [`CtLog::add_pre_chain`].
    ///
    /// # Errors
    ///
    /// As [`CtLog::add_pre_chain`].
    pub async fn add_chain(
        self: &Arc<Self>,
        chain: Vec<Vec<u8>>,
    ) -> Result<AddChainResponse, CtError> {
        self.add(chain, CtSubmission::Certificate).await
    }

    async fn add(
        self: &Arc<Self>,
        chain: Vec<Vec<u8>>,
        kind: CtSubmission,
    ) -> Result<AddChainResponse, CtError> {
        let submitted = match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let this = Arc::clone(self);
                handle
                    .spawn_blocking(move || this.submit(&chain, kind))
                    .await
                    .map_err(|_| CtError::Log(Error::Closed))??
            }
            Err(_) => self.submit(&chain, kind)?,
        };
        let (entry, pending) = submitted;
        let appended = pending.await?;
        self.respond(&entry, appended)
    }

    /// The blocking half of a submission: checks the chain, stores its issuers, and queues
    /// the entry.
    fn submit(
        &self,
        chain: &[Vec<u8>],
        kind: CtSubmission,
    ) -> Result<(CtSignedEntry, crate::PendingAppend), CtError> {
        let checked = check_ct_chain_with(chain, &self.roots, kind, Some(&self.verified_links))
            .map_err(CtError::Chain)?;
        for der in checked.issuers() {
            let fingerprint = waxseal_crypto::sha256(der);
            let known = self
                .stored_issuers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&fingerprint);
            if !known {
                self.issuers.put_issuer(&fingerprint, der)?;
                self.stored_issuers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(fingerprint);
            }
        }
        let pending = self.log.append(entry::submission(&checked))?;
        Ok((checked.signed_entry().clone(), pending))
    }

    fn respond(
        &self,
        entry: &CtSignedEntry,
        appended: crate::Appended,
    ) -> Result<AddChainResponse, CtError> {
        let sct = match entry {
            CtSignedEntry::Precert {
                issuer_key_hash,
                tbs_certificate,
            } => waxseal_x509::sign_sct(
                &self.key,
                appended.time_ms,
                Some(appended.index),
                issuer_key_hash,
                tbs_certificate,
            ),
            CtSignedEntry::X509 { certificate } => waxseal_x509::sign_x509_sct(
                &self.key,
                appended.time_ms,
                Some(appended.index),
                certificate,
            ),
            _ => unreachable_entry(),
        }
        .map_err(CtError::Sign)?;
        Ok(AddChainResponse {
            sct,
            index: appended.index,
            duplicate: appended.duplicate,
            checkpoint: appended.checkpoint,
        })
    }

    /// The accepted roots, DER (`get-roots`).
    pub fn roots(&self) -> &[Vec<u8>] {
        &self.roots
    }

    /// The RFC 6962 log ID: SHA-256 of the log key's DER SubjectPublicKeyInfo.
    pub fn log_id(&self) -> [u8; 32] {
        waxseal_crypto::sha256(self.key.public_key().spki_der())
    }

    /// The log's public key (for SCT and checkpoint verification).
    pub fn public_key(&self) -> PublicKey {
        self.key.public_key()
    }

    /// The checkpoint verifier (RFC 6962 note signatures under the log's origin).
    pub fn verifier(&self) -> &Rfc6962Verifier {
        &self.verifier
    }

    /// The engine: checkpoints, tiles, data tiles (`Log::bundle`), proofs.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The latest published checkpoint.
    pub fn checkpoint(&self) -> Arc<PublishedCheckpoint> {
        self.log.checkpoint()
    }

    /// The issuer certificate with SHA-256 `fingerprint`, DER, if a logged chain had it.
    ///
    /// # Errors
    ///
    /// Store failures.
    pub fn issuer(&self, fingerprint: &[u8; 32]) -> Result<Option<Vec<u8>>, CtError> {
        Ok(self.issuers.issuer(fingerprint)?)
    }
}

fn unreachable_entry() -> Result<SignedCertificateTimestamp, waxseal_x509::Error> {
    Err(waxseal_x509::Error::MalformedSct {
        reason: "unknown signed_entry kind",
    })
}
