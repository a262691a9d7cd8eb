//! `waxseal bench ca` and `waxseal bench tsa`: certificate issuance and timestamping in
//! process, next to the machine's ECDSA P-256 sign and verify rates measured in the same run.
//!
//! `bench ca` builds the instance `waxseal serve` builds (a P-256 CA, the CT log on a durable
//! SQLite store with the serve configuration, the built-in token issuer accepted as an email
//! issuer) and drives [`Fulcio::issue`] from C concurrent tasks on a multi-thread runtime, each
//! request a `CreateSigningCertificateRequest` JSON body (a distinct pre-generated key and its
//! proof of possession, one of a few tokens) parsed and answered as the HTTP handler does. A
//! certificate costs at least two P-256 verifications (token, proof of possession) and three
//! signatures (precertificate, SCT, certificate): the ceiling is `1 / (3/sign + 2/verify)`
//! with both rates measured on all cores. A sample of the issued chains is checked afterwards
//! (chain signatures, SCT under the CT key, key and identity), so the figure cannot come from
//! a broken path.
//!
//! `bench tsa` answers DER `TimeStampReq`s with [`Tsa::timestamp`] on every core (what
//! `POST /api/v1/timestamp` does after reading the body), against the P-256 sign rate: one
//! signature per timestamp.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail, ensure};
use base64::Engine as _;
use serde::Serialize;
use waxseal_ca::{Ca, SigningRequest};
use waxseal_crypto::{Algorithm, SigningKey, pem};
use waxseal_log::SqliteStore;
use waxseal_log::ct::CtLog;
use waxseal_server::fulcio::{BuiltinCt, Fulcio};
use waxseal_tsa::{HashAlgorithm, TimeStampRequest, Tsa, TsaKeys};
use waxseal_x509::{CaNames, CertificateAuthority, CtSubmission, San};

use crate::bench::{Latency, cores, p256_sign_rate, p256_verify_rate};

/// The issuer URL of the benchmark's built-in token issuer.
const ISSUER_URL: &str = "https://bench.waxseal.invalid";
/// The CT log's origin.
const CT_ORIGIN: &str = "bench.waxseal.invalid/ct";

/// Arguments of `waxseal bench ca`.
#[derive(Debug, clap::Args)]
pub(crate) struct CaArgs {
    /// Seconds of issuance to measure.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Concurrent issuing tasks.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Distinct pre-generated keys, cycled through.
    #[arg(long, default_value_t = 20_000)]
    keys: usize,
    /// Distinct identity tokens (subjects), cycled through.
    #[arg(long, default_value_t = 4)]
    tokens: usize,
    /// Seconds to measure each P-256 baseline.
    #[arg(long, default_value_t = 2.0)]
    baseline_seconds: f64,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    json: bool,
    /// Where to create the temporary CT log store (default: the system temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct CaReport {
    cores: usize,
    concurrency: usize,
    seconds: f64,
    certificates: usize,
    certificates_per_sec: f64,
    latency: Latency,
    p256_signs_per_sec: f64,
    p256_verifies_per_sec: f64,
    /// `1 / (3/sign + 2/verify)`: certificates/s if the machine did nothing but the five
    /// ECDSA operations a certificate needs.
    ceiling_certificates_per_sec: f64,
    ratio_to_ceiling: f64,
    /// Issued chains checked after the run.
    verified_sample: usize,
    ct_log_size: u64,
}

/// A pre-built request: the JSON body and what its certificate must say.
struct Request {
    body: Vec<u8>,
    spki_der: Vec<u8>,
    email: String,
}

/// The instance under test.
struct Instance {
    fulcio: Arc<Fulcio>,
    ct: Arc<CtLog>,
    root_der: Vec<u8>,
    intermediate_der: Vec<u8>,
    issuer_key_hash: [u8; 32],
}

pub(crate) fn run_ca(args: &CaArgs) -> Result<()> {
    ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    ensure!(
        args.keys > 0 && args.tokens > 0,
        "--keys and --tokens must be at least 1"
    );
    let say = |line: String| {
        if !args.json {
            eprintln!("{line}");
        }
    };
    let cores = cores();
    let sign = p256_sign_rate(cores, args.baseline_seconds)?;
    let verify = p256_verify_rate(cores, args.baseline_seconds)?;
    let ceiling = 1.0 / (3.0 / sign + 2.0 / verify);
    say(format!(
        "baseline  P-256 on {cores} cores: {sign:.0} signs/s, {verify:.0} verifies/s → ceiling \
         {ceiling:.0} certificates/s (3 signs + 2 verifies each)"
    ));

    let tmp = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .context("couldn't create a temporary directory")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("couldn't start the async runtime")?;
    let now = SystemTime::now();
    let (instance, minter) = {
        let _entered = runtime.enter();
        instance(&tmp.path().join("ct.db"), now)?
    };
    let requests = Arc::new(requests(&minter, args.keys, args.tokens, now)?);
    say(format!(
        "setup     {} keys with proofs of possession, {} tokens",
        args.keys, args.tokens
    ));

    let fulcio = Arc::clone(&instance.fulcio);
    let (certificates, seconds, mut latencies, sample) = runtime.block_on(async {
        // Warm-up: the first request fetches the issuer's JWKS and opens the log's readers.
        issue_for(&fulcio, &requests, 0, args.concurrency, 0.0).await?;
        issue_for(
            &fulcio,
            &requests,
            args.concurrency,
            args.concurrency,
            args.seconds,
        )
        .await
    })?;
    let rate = certificates as f64 / seconds;
    let latency = Latency::of(&mut latencies);
    say(format!(
        "issue     {certificates} certificates in {seconds:.1} s with {} tasks: {rate:.0}/s \
         ({:.2} of the ceiling), latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.concurrency,
        rate / ceiling,
        latency.p50_ms,
        latency.p99_ms,
        latency.max_ms
    ));
    for (index, response) in &sample {
        check_issued(&instance, &requests[index % requests.len()], response)
            .with_context(|| format!("issued certificate #{index} does not verify"))?;
    }
    say(format!(
        "check     {} issued chains verified (chain signatures, SCT, key, identity)",
        sample.len()
    ));
    let report = CaReport {
        cores,
        concurrency: args.concurrency,
        seconds,
        certificates,
        certificates_per_sec: rate,
        latency,
        p256_signs_per_sec: sign,
        p256_verifies_per_sec: verify,
        ceiling_certificates_per_sec: ceiling,
        ratio_to_ceiling: rate / ceiling,
        verified_sample: sample.len(),
        ct_log_size: instance.ct.checkpoint().size,
    };
    drop(instance);
    runtime.shutdown_timeout(Duration::from_secs(5));
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("couldn't encode the report")?
        );
    }
    Ok(())
}

/// What `waxseal serve` builds for the CA, on a CT store at `ct_path`; also returns the token
/// minter. Must run inside the runtime (the JWKS fetcher binds to it).
fn instance(
    ct_path: &std::path::Path,
    now: SystemTime,
) -> Result<(Instance, waxseal_oidc::TokenIssuer)> {
    let authority = CertificateAuthority::generate(
        Algorithm::EcdsaP256Sha256,
        &CaNames::default(),
        now - Duration::from_secs(3600),
        Duration::from_secs(10 * 365 * 24 * 3600),
    )
    .context("couldn't generate the CA")?;
    let oidc_key =
        SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't generate a key")?;
    let minter = waxseal_oidc::TokenIssuer::new(ISSUER_URL, &oidc_key.to_pkcs8_der())
        .context("couldn't make the token issuer")?;
    let mut config = waxseal_oidc::OidcConfig::new(Vec::new(), Vec::new())
        .context("couldn't build the OIDC configuration")?;
    config
        .add_default_issuer(waxseal_oidc::IssuerConfig::new(
            ISSUER_URL,
            waxseal_oidc::IssuerType::Email,
        ))
        .context("couldn't add the built-in issuer")?;
    let fetcher = waxseal_server::HttpFetcher::on_current_runtime().with_local_issuer(&minter);

    let root_der = authority.root_der().to_vec();
    let intermediate_der = authority.intermediate_der().to_vec();
    let issuer_key_hash = authority.issuer_key_hash();
    let store = Arc::new(SqliteStore::open(ct_path).context("couldn't open the CT log store")?);
    let ct_key =
        SigningKey::generate(Algorithm::EcdsaP256Sha256).context("couldn't generate a key")?;
    let ct = Arc::new(
        CtLog::open(
            store,
            ct_key,
            crate::serve::log_config(CT_ORIGIN),
            vec![root_der.clone()],
        )
        .context("couldn't open the CT log")?,
    );
    let fulcio = Arc::new(Fulcio::new(
        Ca::new(authority, waxseal_oidc::Verifier::new(config)),
        Arc::new(BuiltinCt(Arc::clone(&ct))),
        Arc::new(fetcher),
    ));
    Ok((
        Instance {
            fulcio,
            ct,
            root_der,
            intermediate_der,
            issuer_key_hash,
        },
        minter,
    ))
}

/// `keys` requests in sigstore-js's form (`publicKeyRequest`: a PEM key and its signature over
/// the token's email), over `tokens` tokens.
fn requests(
    minter: &waxseal_oidc::TokenIssuer,
    keys: usize,
    tokens: usize,
    now: SystemTime,
) -> Result<Vec<Request>> {
    let unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("the clock is before 1970")?
        .as_secs();
    let unix = i64::try_from(unix).context("the clock is past 2262")?;
    let identities = (0..tokens)
        .map(|t| {
            let email = format!("bench{t}@example.com");
            let token = minter
                .mint(&format!("bench-{t}"), Some(&email), "sigstore", 3600, unix)
                .context("couldn't mint a token")?;
            Ok((email, token))
        })
        .collect::<Result<Vec<_>>>()?;
    (0..keys)
        .map(|i| {
            let (email, token) = &identities[i % tokens];
            let key = SigningKey::generate(Algorithm::EcdsaP256Sha256)
                .context("couldn't generate a key")?;
            let proof = key.sign(email.as_bytes()).context("couldn't sign")?;
            let public = key.public_key();
            let body = serde_json::json!({
                "credentials": {"oidcIdentityToken": token},
                "publicKeyRequest": {
                    "publicKey": {"algorithm": "ECDSA", "content": public.to_pem()},
                    "proofOfPossession": base64::engine::general_purpose::STANDARD.encode(proof),
                },
            });
            Ok(Request {
                body: serde_json::to_vec(&body).context("couldn't encode a request")?,
                spki_der: public.spki_der().to_vec(),
                email: email.clone(),
            })
        })
        .collect()
}

/// Issued responses kept for checking, by request number.
type Sample = Vec<(usize, Vec<u8>)>;

/// Issues from `tasks` concurrent tasks for `seconds` (at least one request each), request
/// numbers from `first` on. Returns the count, the wall time, every latency and a sample of
/// responses (about 200, and each task's first).
async fn issue_for(
    fulcio: &Arc<Fulcio>,
    requests: &Arc<Vec<Request>>,
    first: usize,
    tasks: usize,
    seconds: f64,
) -> Result<(usize, f64, Vec<Duration>, Sample)> {
    let next = Arc::new(AtomicUsize::new(first));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let handles: Vec<_> = (0..tasks)
        .map(|_| {
            let (fulcio, requests, next) =
                (Arc::clone(fulcio), Arc::clone(requests), Arc::clone(&next));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut sample = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let body = &requests[index % requests.len()].body;
                    let began = Instant::now();
                    // What the handler does between reading the body and writing the reply.
                    let request = SigningRequest::from_json(body, None)
                        .map_err(|e| anyhow::anyhow!("request #{index} rejected: {e}"))?;
                    let issued = fulcio
                        .issue(request, SystemTime::now())
                        .await
                        .map_err(|e| anyhow::anyhow!("request #{index} failed: {e}"))?;
                    let response = serde_json::to_vec(&issued.response_json())
                        .context("couldn't encode a response")?;
                    latencies.push(began.elapsed());
                    if sample.is_empty() || index.is_multiple_of(1000) {
                        sample.push((index, response));
                    }
                    if Instant::now() >= deadline {
                        return Ok::<_, anyhow::Error>((latencies, sample));
                    }
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut sample = Vec::new();
    for handle in handles {
        let (l, s) = handle.await.context("an issuing task panicked")??;
        latencies.extend(l);
        sample.extend(s);
    }
    Ok((
        latencies.len(),
        start.elapsed().as_secs_f64(),
        latencies,
        sample,
    ))
}

/// Checks an issued `SigningCertificate` reply for `request`: the chain is leaf, this CA's
/// intermediate and root, each signed by the next; the leaf names the requested key and email
/// and embeds exactly one SCT, which verifies under the CT log's key and names an index the
/// log has published.
fn check_issued(instance: &Instance, request: &Request, response: &[u8]) -> Result<()> {
    let reply: serde_json::Value =
        serde_json::from_slice(response).context("the reply is not JSON")?;
    let chain = reply["signedCertificateEmbeddedSct"]["chain"]["certificates"]
        .as_array()
        .context("the reply has no chain")?
        .iter()
        .map(|c| {
            let text = c.as_str().context("a chain entry is not a string")?;
            pem::decode(text, pem::CERTIFICATE).context("a chain entry is not a PEM certificate")
        })
        .collect::<Result<Vec<_>>>()?;
    ensure!(
        chain.len() == 3,
        "the chain has {} certificates",
        chain.len()
    );
    ensure!(
        chain[1] == instance.intermediate_der && chain[2] == instance.root_der,
        "the chain is not this CA's"
    );
    // The RFC 6962 chain check verifies leaf ← intermediate ← root and refuses a poison.
    waxseal_x509::check_ct_chain(
        &chain,
        std::slice::from_ref(&instance.root_der),
        CtSubmission::Certificate,
    )
    .context("the chain does not verify")?;
    let leaf = waxseal_x509::parse_leaf(&chain[0]).context("the leaf does not parse")?;
    ensure!(
        leaf.public_key.spki_der() == request.spki_der.as_slice(),
        "the leaf names another key"
    );
    ensure!(
        matches!(leaf.san.as_slice(), [San::Email(email)] if *email == request.email),
        "the leaf names another identity: {:?}",
        leaf.san
    );
    let [sct] = leaf.scts.as_slice() else {
        bail!("the leaf embeds {} SCTs, not one", leaf.scts.len());
    };
    waxseal_x509::verify_sct(
        sct,
        &instance.ct.public_key(),
        &instance.issuer_key_hash,
        &leaf.precert_tbs,
    )
    .context("the SCT does not verify")?;
    let index = sct
        .leaf_index()
        .context("the SCT's extensions do not parse")?
        .context("the SCT has no leaf_index")?;
    let size = instance.ct.checkpoint().size;
    ensure!(
        index < size,
        "the SCT's leaf_index {index} is not in the log ({size} entries)"
    );
    Ok(())
}

/// Arguments of `waxseal bench tsa`.
#[derive(Debug, clap::Args)]
pub(crate) struct TsaArgs {
    /// Seconds of timestamping to measure.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Seconds to measure the P-256 baseline.
    #[arg(long, default_value_t = 2.0)]
    baseline_seconds: f64,
    /// Print one JSON object instead of lines of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct TsaReport {
    cores: usize,
    seconds: f64,
    timestamps: usize,
    timestamps_per_sec: f64,
    latency: Latency,
    p256_signs_per_sec: f64,
    /// Timestamps/s ÷ P-256 signs/s: one signature per timestamp.
    ratio_to_ceiling: f64,
    verified_sample: usize,
}

/// Distinct DER requests (SHA-256 imprints of distinct artifacts, with nonce and certReq, as
/// sigstore-python sends them) and the artifacts.
const TSA_REQUESTS: usize = 4096;

pub(crate) fn run_tsa(args: &TsaArgs) -> Result<()> {
    let say = |line: String| {
        if !args.json {
            eprintln!("{line}");
        }
    };
    let cores = cores();
    let sign = p256_sign_rate(cores, args.baseline_seconds)?;
    say(format!(
        "baseline  P-256 on {cores} cores: {sign:.0} signs/s (one per timestamp)"
    ));
    let now = SystemTime::now();
    let keys = TsaKeys::generate(
        now - Duration::from_secs(3600),
        Duration::from_secs(10 * 365 * 24 * 3600),
    )
    .context("couldn't generate the TSA keys")?;
    let chain = keys.chain_der();
    let tsa = Tsa::new(keys);
    let artifacts: Vec<Vec<u8>> = (0..TSA_REQUESTS)
        .map(|i| format!("bench artifact signature {i}").into_bytes())
        .collect();
    let requests = artifacts
        .iter()
        .enumerate()
        .map(|(i, artifact)| {
            TimeStampRequest::new(
                HashAlgorithm::Sha256,
                &HashAlgorithm::Sha256.digest(artifact),
            )
            .map(|r| r.with_nonce(i as u64).with_cert_req(true))
            .and_then(|r| r.to_der())
            .context("couldn't build a request")
        })
        .collect::<Result<Vec<_>>>()?;

    let next = AtomicUsize::new(0);
    let limit = Duration::from_secs_f64(args.seconds);
    let start = Instant::now();
    let results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| -> Result<(Vec<Duration>, Sample)> {
                    let mut latencies = Vec::new();
                    let mut sample = Vec::new();
                    while start.elapsed() < limit {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let began = Instant::now();
                        let response = timestamp(&tsa, &requests[index % requests.len()])?;
                        latencies.push(began.elapsed());
                        if sample.is_empty() || index.is_multiple_of(1000) {
                            sample.push((index, response));
                        }
                    }
                    Ok((latencies, sample))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("a timestamping thread panicked"))?
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let (mut latencies, mut sample) = (Vec::new(), Vec::new());
    for (l, s) in results {
        latencies.extend(l);
        sample.extend(s);
    }
    let chain: Vec<&[u8]> = chain.iter().map(Vec::as_slice).collect();
    for (index, response) in &sample {
        let artifact = &artifacts[index % artifacts.len()];
        waxseal_tsa::verify_timestamp(response, artifact, &chain)
            .with_context(|| format!("timestamp #{index} does not verify"))?;
    }
    let timestamps = latencies.len();
    let rate = timestamps as f64 / seconds;
    let latency = Latency::of(&mut latencies);
    say(format!(
        "timestamp {timestamps} in {seconds:.1} s on {cores} threads: {rate:.0}/s ({:.2} of the \
         sign rate), latency p50 {:.2} ms, p99 {:.2} ms; {} responses verified",
        rate / sign,
        latency.p50_ms,
        latency.p99_ms,
        sample.len()
    ));
    let report = TsaReport {
        cores,
        seconds,
        timestamps,
        timestamps_per_sec: rate,
        latency,
        p256_signs_per_sec: sign,
        ratio_to_ceiling: rate / sign,
        verified_sample: sample.len(),
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).context("couldn't encode the report")?
        );
    }
    Ok(())
}

/// What `POST /api/v1/timestamp` does with a DER body: parse, draw a serial, sign.
fn timestamp(tsa: &Tsa, der: &[u8]) -> Result<Vec<u8>> {
    let request = TimeStampRequest::from_der(der).context("couldn't parse a request")?;
    let mut serial = [0u8; 16];
    waxseal_crypto::random_bytes(&mut serial).context("couldn't draw a serial")?;
    serial[0] = (serial[0] & 0x7f).max(1);
    tsa.timestamp(&request, SystemTime::now(), &serial)
        .context("couldn't timestamp")
}
