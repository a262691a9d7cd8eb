//! The image checker `waxseal enforce` runs on: policies and trusted roots loaded from files
//! (and reloaded when they change), images resolved and their signatures and attestations
//! fetched from their registries, verified, and the policies evaluated over what verified;
//! decisions kept in the shared [`Cache`].

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, Result, bail};
use sha2::{Digest as _, Sha256};
use waxseal_enforce::cache::{Cache, CacheConfig, CacheKey};
use waxseal_enforce::gate::Checker;
use waxseal_oci::{Kind, Reference};
use waxseal_policy::{Decision, NoMatch, Options, PolicySet};
use waxseal_registry::Client as Registry;
use waxseal_verify::VerifyOptions;

use crate::image;
use crate::image_verify::image_facts;
use crate::policy::{NoMatchArg, Trust, read_sources};
use crate::verify::load_verifier;

/// What the checker is configured with (shared by `enforce serve` and `enforce watch`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CheckArgs {
    /// The policies: ClusterImagePolicy files or directories; repeatable. Reloaded when they
    /// change.
    #[arg(long, required = true)]
    pub(crate) policy: Vec<PathBuf>,
    /// A trusted root JSON (default: the embedded Sigstore public-good root). Reloaded when it
    /// changes.
    #[arg(long, conflicts_with = "trust_config")]
    pub(crate) trusted_root: Option<PathBuf>,
    /// A ClientTrustConfig JSON whose trusted root is used. Reloaded when it changes.
    #[arg(long)]
    pub(crate) trust_config: Option<PathBuf>,
    /// A named trusted root for `trustRootRef`: NAME=FILE; repeatable.
    #[arg(long, value_name = "NAME=FILE")]
    pub(crate) trust_root: Vec<String>,
    /// What an image no policy matches gets (policy-controller's `no-match-policy`).
    #[arg(long, value_enum, default_value = "deny")]
    pub(crate) no_match_policy: NoMatchArg,
    /// How long an allowed decision is cached.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub(crate) cache_allow_ttl: Duration,
    /// How long a denial is cached.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub(crate) cache_deny_ttl: Duration,
    /// Decisions kept at most (least recently used first out).
    #[arg(long, default_value_t = 10_000)]
    pub(crate) cache_capacity: usize,
    /// Accept signatures without a transparency log entry (cosign's `--insecure-ignore-tlog`).
    #[arg(long)]
    pub(crate) insecure_ignore_tlog: bool,
    #[command(flatten)]
    pub(crate) registry: image::RegistryArgs,
}

/// A file's identity for change detection: modification time and length.
type Stamp = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// Policies and trust loaded from the files, with the digests that key the cache.
pub(crate) struct Loaded {
    pub(crate) set: PolicySet,
    pub(crate) trust: Trust,
    pub(crate) policy_digest: String,
    pub(crate) root_digest: String,
    stamp: Stamp,
}

fn stamp_of(paths: &[PathBuf]) -> Stamp {
    let mut out = Vec::new();
    for path in paths {
        let mut files = vec![path.clone()];
        if let Ok(entries) = std::fs::read_dir(path) {
            files = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            files.sort();
        }
        for file in files {
            let meta = std::fs::metadata(&file).ok();
            out.push((
                file,
                meta.as_ref().and_then(|m| m.modified().ok()),
                meta.map_or(0, |m| m.len()),
            ));
        }
    }
    out
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

impl CheckArgs {
    /// Every file whose change means a reload.
    fn watched(&self) -> Vec<PathBuf> {
        let mut paths = self.policy.clone();
        paths.extend(self.trusted_root.iter().cloned());
        paths.extend(self.trust_config.iter().cloned());
        for spec in &self.trust_root {
            if let Some((_, path)) = spec.split_once('=') {
                paths.push(PathBuf::from(path));
            }
        }
        paths
    }

    /// Loads policies and trust.
    pub(crate) fn load(&self) -> Result<Loaded> {
        let stamp = stamp_of(&self.watched());
        let sources = read_sources(&self.policy)?;
        let mut parts: Vec<&[u8]> = Vec::new();
        for source in &sources {
            parts.push(source.name.as_bytes());
            parts.push(source.text.as_bytes());
        }
        let policy_digest = hex_sha256(&parts);
        let set = PolicySet::load(&sources)
            .map_err(|errors| anyhow::anyhow!("invalid policy:\n{errors}"))?;
        let verifier = load_verifier(self.trusted_root.as_deref(), self.trust_config.as_deref())?;
        let mut root_files: Vec<Vec<u8>> = Vec::new();
        for path in self.trusted_root.iter().chain(self.trust_config.iter()) {
            root_files.push(read(path)?);
        }
        for spec in &self.trust_root {
            root_files.push(spec.as_bytes().to_vec());
            if let Some((_, path)) = spec.split_once('=') {
                root_files.push(read(Path::new(path))?);
            }
        }
        if root_files.is_empty() {
            root_files.push(waxseal_verify::Verifier::production_root_json().to_vec());
        }
        let root_digest = hex_sha256(&root_files.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let trust = Trust::new(&set, verifier, &self.trust_root)?;
        Ok(Loaded {
            set,
            trust,
            policy_digest,
            root_digest,
            stamp,
        })
    }

    fn no_match(&self) -> NoMatch {
        match self.no_match_policy {
            NoMatchArg::Deny => NoMatch::Deny,
            NoMatchArg::Allow => NoMatch::Allow,
            NoMatchArg::Warn => NoMatch::Warn,
        }
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("couldn't read {}", path.display()))
}

/// Resolves, verifies and evaluates images; shared by the webhook and the watcher.
pub(crate) struct ImageChecker {
    args: CheckArgs,
    registry: Registry,
    loaded: RwLock<Arc<Loaded>>,
    pub(crate) cache: Cache<Result<Decision, String>>,
    /// How long each verification took (the metrics' histogram).
    pub(crate) latency: waxseal_enforce::watch::Latency,
    failed_stamp: std::sync::Mutex<Option<Stamp>>,
}

impl ImageChecker {
    /// Loads everything once; an invalid policy or root is an error here.
    pub(crate) fn new(args: &CheckArgs) -> Result<Self> {
        let loaded = args.load()?;
        let cache = Cache::new(
            CacheConfig::default()
                .with_capacity(args.cache_capacity)
                .with_allow_ttl(args.cache_allow_ttl)
                .with_deny_ttl(args.cache_deny_ttl),
        );
        Ok(Self {
            args: args.clone(),
            registry: args.registry.client()?,
            loaded: RwLock::new(Arc::new(loaded)),
            cache,
            latency: waxseal_enforce::watch::Latency::new(),
            failed_stamp: std::sync::Mutex::new(None),
        })
    }

    /// What is loaded now.
    pub(crate) fn loaded(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads policies and roots when a file changed. Returns whether something was
    /// reloaded; a reload that fails keeps what was loaded (and says why).
    pub(crate) fn reload_if_changed(&self) -> bool {
        let current = self.loaded();
        let now = stamp_of(&self.args.watched());
        if now == current.stamp
            || self
                .failed_stamp
                .lock()
                .is_ok_and(|failed| failed.as_ref() == Some(&now))
        {
            return false;
        }
        match self.args.load() {
            Ok(new) => {
                if new.policy_digest != current.policy_digest {
                    self.cache.invalidate_policy_set(&current.policy_digest);
                }
                if new.root_digest != current.root_digest {
                    self.cache.invalidate_trusted_root(&current.root_digest);
                }
                tracing::info!(
                    policies = new.policy_digest,
                    roots = new.root_digest,
                    "reloaded policies and trusted roots"
                );
                if let Ok(mut guard) = self.loaded.write() {
                    *guard = Arc::new(new);
                }
                true
            }
            Err(e) => {
                // Reported once per change of the files.
                let mut failed = self.failed_stamp.lock().unwrap_or_else(|p| p.into_inner());
                let now = stamp_of(&self.args.watched());
                if failed.as_ref() != Some(&now) {
                    tracing::error!(
                        "reload failed, keeping the policies and roots loaded before: {e:#}"
                    );
                    *failed = Some(now);
                }
                false
            }
        }
    }

    /// The decision for a digest-pinned image, computed now (no cache).
    pub(crate) async fn decide(&self, image: &str) -> Result<Decision, String> {
        let start = Instant::now();
        let result = self.decide_inner(image).await.map_err(|e| format!("{e:#}"));
        self.latency.record(start.elapsed());
        result
    }

    async fn decide_inner(&self, image: &str) -> Result<Decision> {
        let reference = Reference::parse(image)
            .with_context(|| format!("{image} is not an image reference"))?;
        let Some(digest) = reference.digest() else {
            bail!("{image} must be an image digest");
        };
        let loaded = self.loaded();
        let options = Options::new(SystemTime::now()).with_no_match(self.args.no_match());
        // An image no policy covers, or covered only by static authorities, is decided
        // without asking its registry (policy-controller#1863).
        let matching = loaded.set.matching(image);
        let authorities = || matching.iter().flat_map(|policy| policy.authorities());
        let needs_material =
            authorities().any(|a| !matches!(a.kind(), waxseal_policy::AuthorityKind::Static(_)));
        if !needs_material {
            return Ok(loaded
                .set
                .evaluate(image, &waxseal_policy::Facts::default(), &options));
        }
        // The legacy `.att` tag only when a policy asks for attestations (referrers hold both).
        let kinds: &[Kind] = if authorities().any(|a| !a.attestations().is_empty()) {
            &[Kind::Signature, Kind::Attestation]
        } else {
            &[Kind::Signature]
        };
        let attached = image::fetch_attached(&self.registry, &reference, &digest, kinds).await?;
        let verify_options =
            VerifyOptions::default().with_tlog(if self.args.insecure_ignore_tlog {
                waxseal_verify::TlogRequirement::InsecureSkip
            } else {
                waxseal_verify::TlogRequirement::PromiseOrProof
            });
        let (facts, failures) = image_facts(&loaded.trust, &attached, &digest, &verify_options);
        for failure in &failures {
            tracing::debug!(image, "not verified: {failure}");
        }
        Ok(loaded.set.evaluate(image, &facts, &options))
    }

    /// The cache key of a digest-pinned image under what is loaded now.
    fn key(&self, image: &str) -> CacheKey {
        let loaded = self.loaded();
        CacheKey::new(
            image.to_owned(),
            loaded.policy_digest.clone(),
            loaded.root_digest.clone(),
        )
    }

    /// The decision for a digest-pinned image, through the cache.
    pub(crate) async fn decide_cached(&self, image: &str) -> Result<Decision, String> {
        let key = self.key(image);
        self.cache
            .get_or_insert_with(key, || async {
                let result = self.decide(image).await;
                let allowed = result.as_ref().is_ok_and(Decision::allowed);
                (result, allowed)
            })
            .await
    }

    /// HTTP requests sent to registries so far.
    pub(crate) fn registry_requests(&self) -> u64 {
        self.registry.requests()
    }

    /// `name:tag@sha256:…` for a tag reference.
    pub(crate) async fn pin(&self, image: &str) -> Result<String> {
        let reference = Reference::parse(image)
            .with_context(|| format!("{image} is not an image reference"))?;
        if reference.digest().is_some() {
            return Ok(image.to_owned());
        }
        let fetched = self.registry.resolve(&reference).await?;
        Ok(format!("{image}@{}", fetched.digest))
    }
}

impl Checker for ImageChecker {
    async fn resolve(&self, image: &str) -> Result<String, String> {
        self.pin(image).await.map_err(|e| format!("{e:#}"))
    }

    async fn check(&self, image: &str) -> Result<Decision, String> {
        self.decide_cached(image).await
    }
}

/// Polls the watched files every second and reloads on a change, calling `on_reload` after a
/// successful one. Runs until the task is dropped.
pub(crate) async fn reload_loop(checker: Arc<ImageChecker>, on_reload: impl Fn() + Send + 'static) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if checker.reload_if_changed() {
            on_reload();
        }
    }
}
