//! The CT personality over the engine: restart with a partial data tile, `check_log` through
//! the static-ct-api format, SCTs bound to their leaves.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_log::ct::{CtError, CtLog, StaticCtFormat, parse_data_tile};
use waxseal_log::{Config, SqliteStore, check_log};
use waxseal_x509::{CaNames, CertificateAuthority, LeafRequest, San, verify_sct};

const ORIGIN: &str = "ct.waxseal.test/log";

fn config() -> Config {
    Config::new(ORIGIN).with_batch(4096, Duration::from_millis(1))
}

fn precert_chain(
    ca: &CertificateAuthority,
    i: usize,
) -> (waxseal_x509::Precertificate, Vec<Vec<u8>>) {
    let now = SystemTime::now();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let request = LeafRequest::new(
        key.public_key(),
        San::Email(format!("user{i}@waxseal.test")),
        "https://issuer.waxseal.test",
        now,
        now + Duration::from_secs(600),
    )
    .unwrap();
    let precert = ca.issue_precertificate(&request).unwrap();
    let chain = vec![precert.der().to_vec(), ca.intermediate_der().to_vec()];
    (precert, chain)
}

#[tokio::test]
async fn ct_log_survives_restart_with_a_partial_data_tile() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ct.db");
    let ca = CertificateAuthority::generate(
        Algorithm::EcdsaP256Sha256,
        &CaNames::default(),
        SystemTime::now(),
        Duration::from_secs(86_400),
    )
    .unwrap();
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let pkcs8 = key.to_pkcs8_der();
    let roots = vec![ca.root_der().to_vec()];
    let open = || {
        let key = SigningKey::from_pkcs8_der(&pkcs8).unwrap();
        let store = Arc::new(SqliteStore::open(&path).unwrap());
        Arc::new(CtLog::open(store, key, config(), roots.clone()).unwrap())
    };

    let mut issued = Vec::new();
    let ct = open();
    for i in 0..3 {
        let (precert, chain) = precert_chain(&ca, i);
        issued.push((precert, ct.add_pre_chain(chain).await.unwrap()));
    }
    drop(ct);

    // Reopen: the 3-entry data tile is reloaded through the CT format and extended.
    let ct = open();
    for i in 3..5 {
        let (precert, chain) = precert_chain(&ca, i);
        issued.push((precert, ct.add_pre_chain(chain).await.unwrap()));
    }
    // A resubmission after the restart still finds its first index and timestamp.
    let again = ct
        .add_pre_chain(vec![
            issued[1].0.der().to_vec(),
            ca.intermediate_der().to_vec(),
        ])
        .await
        .unwrap();
    assert!(again.duplicate());
    assert_eq!(
        (again.leaf_index(), again.timestamp()),
        (1, issued[1].1.timestamp())
    );

    let store = SqliteStore::open(&path).unwrap();
    let format = config().with_format(Arc::new(StaticCtFormat));
    let checked = check_log(&store, &format, ct.verifier()).unwrap();
    assert_eq!(checked.size, 5);

    let data = ct.log().bundle(0, None).unwrap().unwrap();
    let leaves = parse_data_tile(&data).unwrap();
    assert_eq!(leaves.len(), 5);
    for (index, ((precert, response), leaf)) in issued.iter().zip(&leaves).enumerate() {
        assert_eq!(response.leaf_index(), index as u64);
        assert_eq!(leaf.leaf_index().unwrap(), Some(index as u64));
        assert_eq!(leaf.timestamp, response.timestamp());
        verify_sct(
            response.sct(),
            &ct.public_key(),
            precert.issuer_key_hash(),
            precert.precert_tbs(),
        )
        .unwrap();
    }
    assert_eq!(
        ct.issuer(&waxseal_crypto::sha256(ca.intermediate_der()))
            .unwrap()
            .as_deref(),
        Some(ca.intermediate_der())
    );
}

#[test]
fn ct_log_refuses_keys_it_cannot_sign_with() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("ct.db")).unwrap());
    let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
    let result = CtLog::open(store, key, config(), Vec::new());
    assert!(matches!(result, Err(CtError::KeyUnsupported { .. })));
}

#[test]
fn ct_log_submits_without_an_async_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::generate(
        Algorithm::EcdsaP256Sha256,
        &CaNames::default(),
        SystemTime::now(),
        Duration::from_secs(86_400),
    )
    .unwrap();
    let store = Arc::new(SqliteStore::open(dir.path().join("ct.db")).unwrap());
    let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
    let ct = Arc::new(CtLog::open(store, key, config(), vec![ca.root_der().to_vec()]).unwrap());
    let (_, chain) = precert_chain(&ca, 0);
    // Any executor works: the engine's reply is a plain future.
    let response = futures_lite_block_on(ct.add_pre_chain(chain)).unwrap();
    assert_eq!(response.leaf_index(), 0);
}

/// A minimal executor for one future, polling on a thread-parking waker.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => std::thread::park(),
        }
    }
}

/// Two CT members on one PostgreSQL database, called from inside a tokio runtime: one log,
/// SCTs from either member, issuers stored by one served by the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ct_cluster_members_are_one_log() {
    use waxseal_log::{PgOptions, PgStore};
    let server = waxseal_log::testing::PostgresServer::start().unwrap();
    let url = server.create_database("ct").unwrap();
    let ca = CertificateAuthority::generate(
        Algorithm::EcdsaP256Sha256,
        &CaNames::default(),
        SystemTime::now(),
        Duration::from_secs(86_400),
    )
    .unwrap();
    let pkcs8 = SigningKey::generate(Algorithm::EcdsaP256Sha256)
        .unwrap()
        .to_pkcs8_der();
    let member = || {
        let store = PgStore::connect(&PgOptions::new(&url, "ct")).unwrap();
        let key = SigningKey::from_pkcs8_der(&pkcs8).unwrap();
        Arc::new(CtLog::open_cluster(store, key, config(), vec![ca.root_der().to_vec()]).unwrap())
    };
    let members = [member(), member()];
    let mut issued = Vec::new();
    for i in 0..6 {
        let (precert, chain) = precert_chain(&ca, i);
        let response = members[i % 2].add_pre_chain(chain).await.unwrap();
        issued.push((precert, response));
    }
    let mut indexes: Vec<u64> = issued.iter().map(|(_, r)| r.leaf_index()).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, (0..6).collect::<Vec<_>>());
    for (precert, response) in &issued {
        verify_sct(
            response.sct(),
            &members[0].public_key(),
            precert.issuer_key_hash(),
            precert.precert_tbs(),
        )
        .unwrap();
    }
    assert_eq!(
        members[1]
            .issuer(&waxseal_crypto::sha256(ca.intermediate_der()))
            .unwrap()
            .as_deref(),
        Some(ca.intermediate_der())
    );
    let store = PgStore::connect(&PgOptions::new(&url, "ct")).unwrap();
    let format = config().with_format(Arc::new(StaticCtFormat));
    let checked = check_log(store.as_ref(), &format, members[0].verifier()).unwrap();
    assert_eq!(checked.size, 6);
}
