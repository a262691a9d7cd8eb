//! `waxseal serve`: opens the instance in a data directory and serves it.
//!
//! The data directory holds, created on first start: the Rekor v1 log (`rekor-v1.db`, ECDSA
//! P-256 key `rekor-v1-key.pem`), the Rekor v2 log (`rekor-v2.db`, Ed25519 key
//! `rekor-v2-key.pem`), the CT log (`ct.db`, ECDSA P-256 key `ct-key.pem`), the CA
//! (`ca-key.pem`, `ca-root-key.pem`, `ca-chain.pem`), the TSA (`tsa-key.pem`,
//! `tsa-chain.pem`), the built-in OIDC issuer's key (`oidc-key.pem`), their settings fixed at
//! creation (origins, tree ID, issuer URL, CA key type, creation time), and optionally
//! `oidc.toml` (accepted issuers and issuance rules) and `oidc-clients.json` (service
//! accounts). Keys are written 0600. Every start rewrites `trust/` ([`crate::trust`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use waxseal_crypto::Algorithm;
use waxseal_log::{Config, Log, PgOptions, PgStore, Role, SqliteStore};
use waxseal_note::{Ed25519Signer, NoteSigner, RekorV1Signer};
use waxseal_server::Metrics;
use waxseal_server::fulcio::{BuiltinCt, Fulcio};
use waxseal_server::operator::{OperatedLog, Sizes, StoreSizes};
use waxseal_server::rekor::{Rekor, V1Log, V2Log};

use crate::datadir::DataDir;
use crate::trust::{self, LogKey, Material, SigningLog};

/// Options of `waxseal serve`.
#[derive(Debug)]
pub(crate) struct Options<'a> {
    pub(crate) data_dir: &'a Path,
    pub(crate) listen: SocketAddr,
    /// The URL clients reach the instance at; default `http://<listen address>`.
    pub(crate) public_url: Option<&'a str>,
    /// The Rekor v2 log's origin (C2SP checkpoint origin), fixed at first start.
    pub(crate) origin: Option<&'a str>,
    /// The OIDC issuer configuration file (default `DATA_DIR/oidc.toml` if present).
    pub(crate) oidc_config: Option<&'a Path>,
    /// The CA key type, fixed at first start (default P-256).
    pub(crate) ca_key_type: Option<CaKeyType>,
    /// The log the default signing config names.
    pub(crate) signing_log: SigningLog,
    /// Where the logs are stored.
    pub(crate) backend: Backend<'a>,
    /// A file whose first line is the bearer token that lets non-loopback clients read
    /// `/admin/status`.
    pub(crate) admin_token_file: Option<&'a Path>,
    /// Publish the logs' tiles and checkpoints to this directory (`--publish-dir`).
    pub(crate) publish_dir: Option<&'a Path>,
    /// Publish them to this URL: `file:///dir` or `s3://bucket/prefix` (`--publish-url`).
    pub(crate) publish_url: Option<&'a str>,
}

/// `host[:port]` of an `http(s)://` URL.
fn url_host(url: &str) -> Result<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .with_context(|| format!("public URL {url:?} must start with http:// or https://"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        bail!("public URL {url:?} has no host");
    }
    Ok(host)
}

/// The engine configuration of every log `serve` opens (and `bench ca` opens like it).
pub(crate) fn log_config(origin: &str) -> Config {
    // No batching delay: the sequencer commits whatever queued while the previous commit ran,
    // so batches grow with load and an idle log answers in one commit.
    Config::new(origin).with_batch(4096, Duration::ZERO)
}

/// Where `serve` keeps the logs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend<'a> {
    /// SQLite files in the data directory (the default): one `waxseal serve` per directory.
    Sqlite,
    /// A PostgreSQL database (`--database`), shared by every front end of the instance.
    Postgres {
        /// The connection URL, `postgres://user:password@host:port/database`.
        url: &'a str,
    },
}

impl Backend<'_> {
    fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }
}

/// A log's store, kept for readiness probes and the operator's size report.
#[derive(Debug, Clone)]
enum StoreHandle {
    Sqlite {
        store: Arc<SqliteStore>,
        path: PathBuf,
    },
    Postgres(Arc<PgStore>),
}

impl StoreHandle {
    fn sqlite(store: Arc<SqliteStore>, path: PathBuf) -> Self {
        Self::Sqlite { store, path }
    }

    fn postgres(store: Arc<PgStore>) -> Self {
        Self::Postgres(store)
    }

    fn operated(&self, name: &str, log: Log) -> OperatedLog {
        match self {
            Self::Sqlite { store, path } => OperatedLog::new(
                name,
                log,
                Arc::clone(store) as Arc<dyn waxseal_log::Store>,
                Arc::new(SqliteSizes(path.clone())),
            ),
            Self::Postgres(store) => OperatedLog::new(
                name,
                log,
                Arc::clone(store) as Arc<dyn waxseal_log::Store>,
                Arc::new(PostgresSizes(Arc::clone(store))),
            ),
        }
    }
}

/// The size of a SQLite store: its database file and write-ahead log.
#[derive(Debug)]
struct SqliteSizes(PathBuf);

impl StoreSizes for SqliteSizes {
    fn sizes(&self) -> Result<Sizes, waxseal_log::StoreError> {
        let mut parts = std::collections::BTreeMap::new();
        for suffix in ["", "-wal"] {
            let path = PathBuf::from(format!("{}{suffix}", self.0.display()));
            match std::fs::metadata(&path) {
                Ok(meta) => {
                    parts.insert(format!("file{suffix}"), meta.len());
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(waxseal_log::StoreError::Io {
                        op: "read the store's file size",
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(Sizes::of_log(parts))
    }
}

/// The size of a log's PostgreSQL tables, as the database reports it.
#[derive(Debug)]
struct PostgresSizes(Arc<PgStore>);

impl StoreSizes for PostgresSizes {
    fn sizes(&self) -> Result<Sizes, waxseal_log::StoreError> {
        let pg = self.0.sizes()?;
        Ok(pg_sizes(&pg))
    }
}

/// The operator's view of PostgreSQL sizes: the log tables (shared by every log of the
/// database), with their indexes and TOAST.
pub(crate) fn pg_sizes(pg: &waxseal_log::PgSizes) -> Sizes {
    Sizes::of_database(pg.tables.iter().cloned().collect())
}

/// A log as `serve` opened it.
struct OpenedLog {
    log: Log,
    store: StoreHandle,
}

impl OpenedLog {
    fn operated(&self, name: &str) -> OperatedLog {
        self.store.operated(name, self.log.clone())
    }
}

/// Connects to `log`'s tables in the PostgreSQL database at `url`.
fn connect(url: &str, log: &str) -> Result<Arc<PgStore>> {
    PgStore::connect(&PgOptions::new(url, log))
        .with_context(|| format!("couldn't connect the {log} log to PostgreSQL"))
}

fn open_log(
    dir: &DataDir,
    backend: Backend<'_>,
    name: &str,
    signer: Arc<dyn NoteSigner>,
    origin: &str,
) -> Result<OpenedLog> {
    let (log, store) = match backend {
        Backend::Sqlite => {
            let path = dir.path(&format!("{name}.db"));
            let store = Arc::new(
                SqliteStore::open(&path)
                    .with_context(|| format!("couldn't open the {name} store"))?,
            );
            let log = Log::open(Arc::clone(&store) as _, signer, log_config(origin))
                .with_context(|| format!("couldn't open the {name} log"))?;
            (log, StoreHandle::sqlite(store, path))
        }
        Backend::Postgres { url } => {
            let store = connect(url, name)?;
            let log = Log::open_cluster(Arc::clone(&store), signer, log_config(origin))
                .with_context(|| format!("couldn't open the {name} log"))?;
            (log, StoreHandle::postgres(store))
        }
    };
    // Sigstore clients mishandle index 0 and one-leaf trees (INTEROP §4): seed a new log. Front
    // ends racing to seed one cluster log append the same bytes, which the log deduplicates.
    if log.checkpoint().size == 0 {
        let genesis = format!("{{\"waxseal\":\"genesis\",\"origin\":{origin:?}}}");
        log.append(genesis.into_bytes())
            .and_then(waxseal_log::PendingAppend::wait)
            .with_context(|| format!("couldn't seed the {name} log"))?;
    }
    Ok(OpenedLog { log, store })
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

pub(crate) fn run(options: &Options<'_>) -> Result<()> {
    let dir = DataDir::open(options.data_dir)?;
    // The embedded stores have one writer; PostgreSQL serializes writers itself (its advisory
    // lock elects one sequencer per log), so front ends sharing a database share the directory.
    let _lock = match options.backend {
        Backend::Sqlite => Some(dir.lock_for_serving()?),
        Backend::Postgres { .. } => None,
    };
    let publish = publish_target(options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(options.listen))
        .with_context(|| format!("couldn't listen on {}", options.listen))?;
    let local = listener
        .local_addr()
        .context("couldn't read the listening address")?;
    let public_url = options.public_url.map_or_else(
        || format!("http://{local}"),
        |u| u.trim_end_matches('/').to_owned(),
    );
    let host = url_host(&public_url)?.to_owned();

    // Keys, settings and trust files: loaded, or created by the first front end to start.
    let setup = dir.lock_for_setup()?;
    let keys = instance_keys(&dir, options, &public_url, &host)?;
    let trust_files = trust::write(&dir, &keys.material, options.signing_log)?;
    drop(setup);

    let v1_log = open_log(
        &dir,
        options.backend,
        "rekor-v1",
        keys.v1_signer,
        &keys.v1_origin,
    )?;
    let v2_log = open_log(
        &dir,
        options.backend,
        "rekor-v2",
        keys.v2_signer,
        &keys.v2_origin,
    )?;
    let tsa = Arc::new(waxseal_tsa::Tsa::new(keys.tsa));
    let issuer = Arc::new(builtin_issuer(&dir, &public_url)?);

    // The CA and its CT log: the CT log accepts chains to the CA's root only.
    let roots = vec![keys.authority.root_der().to_vec()];
    let ct_config = log_config(&keys.ct_origin);
    let (ct, ct_store) = match options.backend {
        Backend::Sqlite => {
            let store = Arc::new(
                SqliteStore::open(dir.path("ct.db")).context("couldn't open the CT log store")?,
            );
            let ct =
                waxseal_log::ct::CtLog::open(Arc::clone(&store), keys.ct_key, ct_config, roots)
                    .context("couldn't open the CT log")?;
            (ct, StoreHandle::sqlite(store, dir.path("ct.db")))
        }
        Backend::Postgres { url } => {
            let store = connect(url, "ct")?;
            let ct = waxseal_log::ct::CtLog::open_cluster(
                Arc::clone(&store),
                keys.ct_key,
                ct_config,
                roots,
            )
            .context("couldn't open the CT log")?;
            (ct, StoreHandle::postgres(store))
        }
    };
    let ct = Arc::new(ct);
    let oidc = oidc_config(&dir, options.oidc_config, issuer.issuer_url())?;
    let fetcher = {
        let _runtime = runtime.enter();
        waxseal_server::HttpFetcher::on_current_runtime().with_local_issuer(issuer.token_issuer())
    };
    let fulcio = Arc::new(Fulcio::new(
        waxseal_ca::Ca::new(keys.authority, waxseal_oidc::Verifier::new(oidc)),
        Arc::new(BuiltinCt(Arc::clone(&ct))),
        Arc::new(fetcher),
    ));

    let metrics = Arc::new(Metrics::new());
    let operated = vec![
        v1_log.operated("rekor-v1"),
        v2_log.operated("rekor-v2"),
        ct_store.operated("ct", ct.log().clone()),
    ];
    let rekor = Rekor::new(
        V1Log {
            log: v1_log.log.clone(),
            key: keys.v1_key,
            tree_id: keys.tree_id,
        },
        V2Log {
            log: v2_log.log.clone(),
            log_id: keys.v2_log_id,
        },
        Arc::clone(&metrics),
    );

    println!("waxseal: serving at {public_url}/");
    println!("waxseal: listening on {local}");
    println!(
        "waxseal: Rekor v1 log {:?} ({} entries), API {public_url}/api/v1/",
        keys.v1_origin,
        v1_log.log.checkpoint().size
    );
    println!(
        "waxseal: Rekor v2 log {:?} ({} entries), API {public_url}/api/v2/",
        keys.v2_origin,
        v2_log.log.checkpoint().size
    );
    println!(
        "waxseal: CA at {public_url}/api/v2/signingCert, CT log {:?} ({} entries) at {public_url}/ct/",
        keys.ct_origin,
        ct.checkpoint().size
    );
    println!("waxseal: timestamp authority at {public_url}/api/v1/timestamp");
    println!(
        "waxseal: OIDC issuer {} (tokens: `waxseal token` or client credentials at /token)",
        issuer.issuer_url()
    );
    match options.backend {
        Backend::Sqlite => println!(
            "waxseal: logs in SQLite in {}; health at {public_url}/healthz and /readyz, status at \
             /admin/status",
            options.data_dir.display()
        ),
        Backend::Postgres { .. } => println!(
            "waxseal: logs in PostgreSQL (one sequencer per log among the front ends on it); \
             health at {public_url}/healthz and /readyz, status at /admin/status"
        ),
    }
    let trust_config = dir.path("trust/client_trust_config.json");
    println!(
        "waxseal: client trust config {} (also at {public_url}/trust/client_trust_config.json)",
        trust_config.display()
    );
    println!(
        "waxseal: sign with `waxseal sign FILE --identity-token \"$(waxseal token --data-dir {dir} --subject you --email you@example.com)\"`, or \
         `sigstore --trust-config {config} sign FILE`",
        dir = options.data_dir.display(),
        config = trust_config.display(),
    );
    for (name, log) in [
        ("rekor-v1", &v1_log.log),
        ("rekor-v2", &v2_log.log),
        ("ct", ct.log()),
    ] {
        tracing::info!(
            log = name,
            sequencer = is_sequencer(log),
            "log opened (a cluster member takes the sequencer lock when it is free)"
        );
    }
    if let Some(target) = publish {
        println!(
            "waxseal: publishing tiles and checkpoints to {}",
            target.url()
        );
        // One follower per log, at the path serve answers it on. Each publishes only while
        // this process is the log's sequencer, so one writer publishes each log.
        let followers = [
            (
                waxseal_publish::Publisher::tlog(target.clone(), "api/v1", v1_log.log.clone()),
                v1_log.log.clone(),
            ),
            (
                waxseal_publish::Publisher::tlog(target.clone(), "", v2_log.log.clone()),
                v2_log.log.clone(),
            ),
            (
                waxseal_publish::Publisher::static_ct(target.clone(), "ct", Arc::clone(&ct)),
                ct.log().clone(),
            ),
        ];
        for (publisher, log) in followers {
            let should_publish: Arc<dyn Fn() -> bool + Send + Sync> =
                Arc::new(move || is_sequencer(&log));
            runtime.spawn(waxseal_publish::follow(
                publisher,
                should_publish,
                Arc::new(waxseal_publish::Metrics::new()),
            ));
        }
    }
    let operator = waxseal_server::operator::Operator::new(options.backend.name(), operated)
        .with_admin_token(admin_token(options.admin_token_file)?);
    let app = waxseal_server::app(waxseal_server::Services {
        rekor: Arc::new(rekor),
        tsa,
        issuer,
        fulcio,
        extra: waxseal_server::ct::router(ct),
        trust: trust_files
            .into_iter()
            .map(|(name, body)| (name.to_owned(), body))
            .collect(),
        metrics,
        operator: Arc::new(operator),
    });
    runtime.block_on(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")
    })
}

/// Whether this process is `log`'s sequencer: always with the embedded store, and while it
/// holds the log's PostgreSQL lock in a cluster. Whatever only one writer may do per log
/// (publishing tiles to a directory or bucket) is gated on it.
pub(crate) fn is_sequencer(log: &Log) -> bool {
    matches!(log.status().role, Role::Single | Role::Sequencer)
}

/// Everything `serve` loads from (or creates in) the data directory before opening the logs.
struct InstanceKeys {
    tree_id: u64,
    v1_origin: String,
    v1_key: waxseal_crypto::SigningKey,
    v1_signer: Arc<dyn NoteSigner>,
    v2_origin: String,
    v2_log_id: [u8; 32],
    v2_signer: Arc<dyn NoteSigner>,
    ct_origin: String,
    ct_key: waxseal_crypto::SigningKey,
    authority: waxseal_x509::CertificateAuthority,
    tsa: waxseal_tsa::TsaKeys,
    material: Material,
}

/// Loads or creates the instance's keys and fixed settings (call under
/// [`DataDir::lock_for_setup`]).
fn instance_keys(
    dir: &DataDir,
    options: &Options<'_>,
    public_url: &str,
    host: &str,
) -> Result<InstanceKeys> {
    let created = dir.fixed_setting("created", None, &rfc3339(SystemTime::now()))?;

    // Rekor v1: ECDSA P-256, Rekor-flavoured checkpoints "<host> - <treeID>".
    let tree_id: u64 = dir
        .fixed_setting(
            "rekor-v1-tree-id",
            None,
            &(u64::from_be_bytes(random8()?) >> 1).to_string(),
        )?
        .parse()
        .context("rekor-v1-tree-id is not a number")?;
    let v1_origin = dir.fixed_setting("rekor-v1-origin", None, &format!("{host} - {tree_id}"))?;
    // The checkpoint signature's name: sigstore-js matches it against the log's base URL, so
    // it is the public host, fixed at first start like the origins (a log's checkpoints must
    // not change names between restarts).
    let v1_name = dir.fixed_setting("rekor-v1-name", None, host)?;
    if v1_name != host {
        tracing::warn!(
            fixed = %v1_name,
            public = %host,
            "the public URL's host differs from the one the logs were created with; clients \
             that match checkpoint names against the base URL (sigstore-js) will refuse them: \
             serve with --public-url matching the first start"
        );
    }
    let v1_key = dir.key("rekor-v1-key.pem", Algorithm::EcdsaP256Sha256)?;
    let v1_public = v1_key.public_key();
    let v1_signer = Arc::new(
        RekorV1Signer::new(
            &v1_name,
            dir.key("rekor-v1-key.pem", Algorithm::EcdsaP256Sha256)?,
        )
        .context("couldn't make the v1 checkpoint signer")?,
    );
    let v1_log_id = waxseal_note::rekor_v1_log_id(v1_public.spki_der());

    // Rekor v2: Ed25519 C2SP checkpoints; the origin names the log and fixes its log ID.
    let v2_origin = dir.fixed_setting("rekor-v2-origin", options.origin, host)?;
    let v2_key = dir.key("rekor-v2-key.pem", Algorithm::Ed25519)?;
    let v2_public = v2_key.public_key();
    let raw = v2_public
        .raw_ed25519()
        .context("the v2 key is not Ed25519")?;
    let v2_log_id = waxseal_note::rekor_v2_log_id(&v2_origin, &raw);
    let v2_signer = Arc::new(
        Ed25519Signer::new(&v2_origin, v2_key).context("couldn't make the v2 checkpoint signer")?,
    );

    let tsa = tsa_keys(dir)?;
    let tsa_chain = tsa.chain_der();
    // The issuer URL is fixed here too, so racing front ends agree on it.
    token_issuer(dir, Some(public_url))?;

    let authority = certificate_authority(dir, options.ca_key_type)?;
    let ca_chain = authority.chain_der();
    let ct_origin = dir.fixed_setting("ct-origin", None, &format!("{host}/ct"))?;
    let ct_key = dir.key("ct-key.pem", Algorithm::EcdsaP256Sha256)?;
    let ct_public = ct_key.public_key();
    // RFC 6962 §3.2: the log ID is SHA-256 of the log key's DER SubjectPublicKeyInfo.
    let ct_log_id = waxseal_crypto::sha256(ct_public.spki_der());
    let material = Material {
        public_url: public_url.to_owned(),
        created: waxseal_bundle::Timestamp::parse(&created)
            .with_context(|| format!("the stored creation time {created:?} is not RFC 3339"))?,
        rekor_v1: LogKey {
            base_url: public_url.to_owned(),
            key: v1_public,
            log_id: v1_log_id,
        },
        rekor_v2: LogKey {
            base_url: public_url.to_owned(),
            key: v2_public,
            log_id: v2_log_id,
        },
        ct: LogKey {
            base_url: format!("{public_url}/ct"),
            key: ct_public,
            log_id: ct_log_id,
        },
        ca_chain,
        tsa_chain,
    };
    Ok(InstanceKeys {
        tree_id,
        v1_origin,
        v1_key,
        v1_signer,
        v2_origin,
        v2_log_id,
        v2_signer,
        ct_origin,
        ct_key,
        authority,
        tsa,
        material,
    })
}

/// The admin token's SHA-256, from `--admin-token-file` (its first line), if given.
fn admin_token(path: Option<&Path>) -> Result<Option<[u8; 32]>> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("couldn't read the admin token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or_default().trim();
    if token.len() < 16 {
        bail!(
            "the admin token in {} is shorter than 16 characters: write a long random token \
             (e.g. `openssl rand -hex 32`)",
            path.display()
        );
    }
    Ok(Some(waxseal_crypto::sha256(token.as_bytes())))
}

/// The static-hosting target of `--publish-dir` or `--publish-url`, if either is given.
fn publish_target(options: &Options<'_>) -> Result<Option<waxseal_publish::Target>> {
    let target = match (options.publish_dir, options.publish_url) {
        (Some(_), Some(_)) => bail!("give --publish-dir or --publish-url, not both"),
        (Some(dir), None) => waxseal_publish::Target::directory(dir),
        (None, Some(url)) => waxseal_publish::Target::parse(url, std::env::vars()),
        (None, None) => return Ok(None),
    };
    target.map(Some).context("couldn't open the publish target")
}

fn random8() -> Result<[u8; 8]> {
    let mut out = [0u8; 8];
    waxseal_crypto::random_bytes(&mut out).context("couldn't draw a random tree ID")?;
    Ok(out)
}

/// The lifetime of tokens from the built-in issuer.
const TOKEN_TTL_SECS: i64 = 600;

/// The built-in OIDC issuer: its URL (the public URL, fixed at first start so issued tokens
/// keep verifying), its ES256 key (0600), and the service accounts in `oidc-clients.json`
/// (a JSON array of `{client_id, secret_sha256, subject, email?}`; none if the file is absent).
fn builtin_issuer(dir: &DataDir, public_url: &str) -> Result<waxseal_server::oidc::BuiltinIssuer> {
    let minter = token_issuer(dir, Some(public_url))?;
    let accounts = match std::fs::read(dir.path("oidc-clients.json")) {
        Ok(bytes) => serde_json::from_slice(&bytes).context("couldn't read oidc-clients.json")?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).context("couldn't read oidc-clients.json"),
    };
    Ok(waxseal_server::oidc::BuiltinIssuer::new(
        minter,
        accounts,
        TOKEN_TTL_SECS,
    ))
}

/// The issuer's token minter. `public_url` fixes the issuer URL on first start; `None` reads
/// the fixed one (for `waxseal token`, which needs an instance that has been started once).
pub(crate) fn token_issuer(
    dir: &DataDir,
    public_url: Option<&str>,
) -> Result<waxseal_oidc::TokenIssuer> {
    let url = match public_url {
        Some(url) => dir.fixed_setting("oidc-issuer", None, url)?,
        None => std::fs::read_to_string(dir.path("oidc-issuer"))
            .map(|s| s.trim_end().to_owned())
            .context("the instance has no OIDC issuer yet: start `waxseal serve` on this data directory once")?,
    };
    let key = dir.key("oidc-key.pem", Algorithm::EcdsaP256Sha256)?;
    waxseal_oidc::TokenIssuer::new(&url, &key.to_pkcs8_der())
        .context("couldn't load the OIDC issuer key")
}

/// The CA: a self-signed root and an issuing intermediate, ECDSA P-256 unless `key_type` asks
/// for P-384 at first start (the choice is fixed). The intermediate's key (`ca-key.pem`) and the
/// root's (`ca-root-key.pem`) are written 0600, the chain (`ca-chain.pem`) 0644.
fn certificate_authority(
    dir: &DataDir,
    key_type: Option<CaKeyType>,
) -> Result<waxseal_x509::CertificateAuthority> {
    const KEY: &str = "ca-key.pem";
    const ROOT_KEY: &str = "ca-root-key.pem";
    const CHAIN: &str = "ca-chain.pem";
    let fixed = dir.fixed_setting(
        "ca-key-type",
        key_type.map(CaKeyType::name),
        CaKeyType::P256.name(),
    )?;
    let algorithm = match fixed.as_str() {
        "p256" => Algorithm::EcdsaP256Sha256,
        "p384" => Algorithm::EcdsaP384Sha384,
        other => bail!("ca-key-type {other:?} in the data directory is not p256 or p384"),
    };
    match (
        std::fs::read_to_string(dir.path(KEY)),
        std::fs::read_to_string(dir.path(CHAIN)),
    ) {
        (Ok(key), Ok(chain)) => waxseal_x509::CertificateAuthority::from_pem(&key, &chain)
            .context("couldn't read the CA key and chain"),
        (Err(e), _) | (_, Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context("couldn't read the CA key material")
        }
        (Err(_), Err(_)) => {
            let validity = Duration::from_secs(10 * 365 * 24 * 3600);
            let ca = waxseal_x509::CertificateAuthority::generate(
                algorithm,
                &waxseal_x509::CaNames::default(),
                SystemTime::now(),
                validity,
            )
            .context("couldn't generate the CA")?;
            if let Some(root_key) = ca.root_key_pem() {
                dir.create_file(ROOT_KEY, root_key.as_bytes(), 0o600)?;
            }
            dir.create_file(KEY, ca.key_pem().as_bytes(), 0o600)?;
            dir.create_file(CHAIN, ca.chain_pem().as_bytes(), 0o644)?;
            tracing::info!("generated the certificate authority's keys");
            Ok(ca)
        }
        _ => bail!("only one of {KEY} and {CHAIN} exists in the data directory: restore the other"),
    }
}

/// The CA's key type, chosen at first start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CaKeyType {
    /// ECDSA P-256 with SHA-256 (what every Sigstore client verifies).
    P256,
    /// ECDSA P-384 with SHA-384.
    P384,
}

impl CaKeyType {
    fn name(self) -> &'static str {
        match self {
            Self::P256 => "p256",
            Self::P384 => "p384",
        }
    }
}

/// The issuers the CA accepts: the file given with `--oidc-config`, else `DATA_DIR/oidc.toml`
/// if present (the format is `waxseal_oidc::OidcConfig::from_toml`'s), plus the built-in
/// issuer as an `email` issuer unless the file configures it itself.
fn oidc_config(
    dir: &DataDir,
    path: Option<&Path>,
    builtin_issuer: &str,
) -> Result<waxseal_oidc::OidcConfig> {
    // An explicit file must exist; the default one is optional.
    let (path, required) = match path {
        Some(path) => (path.to_owned(), true),
        None => (dir.path("oidc.toml"), false),
    };
    let mut config = match std::fs::read_to_string(&path) {
        Ok(text) => waxseal_oidc::OidcConfig::from_toml(&text)
            .with_context(|| format!("invalid OIDC configuration in {}", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            waxseal_oidc::OidcConfig::new(Vec::new(), Vec::new())
                .context("couldn't build the default OIDC configuration")?
        }
        Err(e) => return Err(e).with_context(|| format!("couldn't read {}", path.display())),
    };
    config
        .add_default_issuer(waxseal_oidc::IssuerConfig::new(
            builtin_issuer,
            waxseal_oidc::IssuerType::Email,
        ))
        .context("couldn't add the built-in issuer")?;
    Ok(config)
}

/// The TSA's key (0600) and certificate chain, generated on first start: a self-signed root and
/// a timestamping certificate valid for ten years.
fn tsa_keys(dir: &DataDir) -> Result<waxseal_tsa::TsaKeys> {
    const KEY: &str = "tsa-key.pem";
    const CHAIN: &str = "tsa-chain.pem";
    match (
        std::fs::read_to_string(dir.path(KEY)),
        std::fs::read_to_string(dir.path(CHAIN)),
    ) {
        (Ok(key), Ok(chain)) => waxseal_tsa::TsaKeys::from_pem(&key, &chain)
            .context("couldn't read the TSA key and chain"),
        (Err(e), _) | (_, Err(e)) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).context("couldn't read the TSA key material")
        }
        (Err(_), Err(_)) => {
            let validity = Duration::from_secs(10 * 365 * 24 * 3600);
            let keys = waxseal_tsa::TsaKeys::generate(SystemTime::now(), validity)
                .context("couldn't generate the TSA keys")?;
            let files = keys.to_pem_files();
            dir.create_file(KEY, files.key.as_bytes(), 0o600)?;
            dir.create_file(CHAIN, files.chain.as_bytes(), 0o644)?;
            tracing::info!("generated the timestamp authority's keys");
            Ok(keys)
        }
        _ => bail!("only one of {KEY} and {CHAIN} exists in the data directory: restore the other"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = ctrl_c.await;
            return;
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
