//! `waxseal serve`: opens the instance in a data directory and serves it.
//!
//! The data directory holds, created on first start: the Rekor v1 log (`rekor-v1.db`, ECDSA
//! P-256 key `rekor-v1-key.pem`), the Rekor v2 log (`rekor-v2.db`, Ed25519 key
//! `rekor-v2-key.pem`), their settings fixed at creation (origins, tree ID, creation time),
//! and `trust/tlogs.json`: the trusted-root `tlogs[]` entries for both logs.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use waxseal_crypto::Algorithm;
use waxseal_log::{Config, Log, SqliteStore};
use waxseal_note::{Ed25519Signer, NoteSigner, RekorV1Signer};
use waxseal_server::Metrics;
use waxseal_server::rekor::{Rekor, V1Log, V2Log};

use crate::datadir::DataDir;

/// Options of `waxseal serve`.
#[derive(Debug)]
pub(crate) struct Options<'a> {
    pub(crate) data_dir: &'a Path,
    pub(crate) listen: SocketAddr,
    /// The URL clients reach the instance at; default `http://<listen address>`.
    pub(crate) public_url: Option<&'a str>,
    /// The Rekor v2 log's origin (C2SP checkpoint origin), fixed at first start.
    pub(crate) origin: Option<&'a str>,
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

fn open_log(dir: &DataDir, name: &str, signer: Arc<dyn NoteSigner>, origin: &str) -> Result<Log> {
    let store = Arc::new(
        SqliteStore::open(dir.path(&format!("{name}.db")))
            .with_context(|| format!("couldn't open the {name} store"))?,
    );
    // No batching delay: the sequencer commits whatever queued while the previous commit ran,
    // so batches grow with load and an idle log answers in one commit.
    let config = Config::new(origin).with_batch(4096, Duration::ZERO);
    let log = Log::open(store, signer, config)
        .with_context(|| format!("couldn't open the {name} log"))?;
    // Sigstore clients mishandle index 0 and one-leaf trees (INTEROP §4): seed a new log.
    if log.checkpoint().size == 0 {
        let genesis = format!("{{\"waxseal\":\"genesis\",\"origin\":{origin:?}}}");
        log.append(genesis.into_bytes())
            .and_then(waxseal_log::PendingAppend::wait)
            .with_context(|| format!("couldn't seed the {name} log"))?;
    }
    Ok(log)
}

fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

pub(crate) fn run(options: &Options<'_>) -> Result<()> {
    let dir = DataDir::open(options.data_dir)?;
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
    let v1_name = dir.fixed_setting("rekor-v1-name", None, &host)?;
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
    let v1_log = open_log(&dir, "rekor-v1", v1_signer, &v1_origin)?;

    // Rekor v2: Ed25519 C2SP checkpoints; the origin names the log and fixes its log ID.
    let v2_origin = dir.fixed_setting("rekor-v2-origin", options.origin, &host)?;
    let v2_key = dir.key("rekor-v2-key.pem", Algorithm::Ed25519)?;
    let v2_public = v2_key.public_key();
    let raw = v2_public
        .raw_ed25519()
        .context("the v2 key is not Ed25519")?;
    let v2_log_id = waxseal_note::rekor_v2_log_id(&v2_origin, &raw);
    let v2_signer = Arc::new(
        Ed25519Signer::new(&v2_origin, v2_key).context("couldn't make the v2 checkpoint signer")?,
    );
    let v2_log = open_log(&dir, "rekor-v2", v2_signer, &v2_origin)?;

    let tsa_keys = tsa_keys(&dir)?;
    let tsa_chain = tsa_keys.chain_der();
    let tsa = Arc::new(waxseal_tsa::Tsa::new(tsa_keys));

    let issuer = Arc::new(builtin_issuer(&dir, &public_url)?);

    let metrics = Arc::new(Metrics::new());
    let rekor = Rekor::new(
        V1Log {
            log: v1_log.clone(),
            key: v1_key,
            tree_id,
        },
        V2Log {
            log: v2_log.clone(),
            log_id: v2_log_id,
        },
        Arc::clone(&metrics),
    );
    write_trust(
        &dir,
        &public_url,
        &created,
        &rekor.v1_log_id(),
        &v1_public,
        &v2_log_id,
        &v2_public,
    )?;

    println!("waxseal: serving at {public_url}/");
    println!(
        "waxseal: Rekor v1 log {v1_origin:?} ({} entries), API {public_url}/api/v1/",
        v1_log.checkpoint().size
    );
    println!(
        "waxseal: Rekor v2 log {v2_origin:?} ({} entries), API {public_url}/api/v2/",
        v2_log.checkpoint().size
    );
    println!(
        "waxseal: trusted-root tlogs in {}",
        dir.path("trust/tlogs.json").display()
    );
    write_timestamp_authorities(&dir, &public_url, &created, &tsa_chain)?;
    println!("waxseal: timestamp authority at {public_url}/api/v1/timestamp");
    println!(
        "waxseal: OIDC issuer {} (tokens: `waxseal token` or client credentials at /token)",
        issuer.issuer_url()
    );
    let app = waxseal_server::app(Arc::new(rekor), tsa, issuer, metrics);
    runtime.block_on(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")
    })
}

fn random8() -> Result<[u8; 8]> {
    let mut out = [0u8; 8];
    waxseal_crypto::random_bytes(&mut out).context("couldn't draw a random tree ID")?;
    Ok(out)
}

/// Writes `trust/tlogs.json`: the trusted-root `tlogs[]` entries of both logs (protobuf JSON).
fn write_trust(
    dir: &DataDir,
    base_url: &str,
    created: &str,
    v1_log_id: &[u8; 32],
    v1_key: &waxseal_crypto::PublicKey,
    v2_log_id: &[u8; 32],
    v2_key: &waxseal_crypto::PublicKey,
) -> Result<()> {
    let tlog = |key: &waxseal_crypto::PublicKey, log_id: &[u8; 32]| {
        serde_json::json!({
            "baseUrl": base_url,
            "hashAlgorithm": "SHA2_256",
            "publicKey": {
                "rawBytes": BASE64.encode(key.spki_der()),
                "keyDetails": key.key_details(),
                "validFor": { "start": created },
            },
            "logId": { "keyId": BASE64.encode(log_id) },
        })
    };
    let tlogs = serde_json::json!([tlog(v1_key, v1_log_id), tlog(v2_key, v2_log_id)]);
    let trust = dir.path("trust");
    std::fs::create_dir_all(&trust)
        .with_context(|| format!("couldn't create {}", trust.display()))?;
    let path = trust.join("tlogs.json");
    let text = serde_json::to_string_pretty(&tlogs).context("couldn't encode tlogs.json")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("couldn't write {}", path.display()))
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

/// Writes `trust/timestamp_authorities.json`: the trusted-root `timestampAuthorities[]` entry.
fn write_timestamp_authorities(
    dir: &DataDir,
    base_url: &str,
    created: &str,
    chain: &[Vec<u8>],
) -> Result<()> {
    let certificates: Vec<_> = chain
        .iter()
        .map(|der| serde_json::json!({ "rawBytes": BASE64.encode(der) }))
        .collect();
    let tsas = serde_json::json!([{
        "subject": { "organization": "waxseal", "commonName": "waxseal timestamp authority" },
        "uri": format!("{base_url}/api/v1/timestamp"),
        "certChain": { "certificates": certificates },
        "validFor": { "start": created },
    }]);
    let path = dir.path("trust/timestamp_authorities.json");
    let text = serde_json::to_string_pretty(&tsas)
        .context("couldn't encode timestamp_authorities.json")?;
    std::fs::write(&path, text + "\n").with_context(|| format!("couldn't write {}", path.display()))
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
