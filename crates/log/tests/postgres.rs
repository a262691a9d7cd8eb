//! The PostgreSQL store's connection settings: TLS by `sslmode`, bad URLs, migrations.

use std::sync::Arc;

use waxseal_log::testing::PostgresServer;
use waxseal_log::{Config, IssuerStore, Log, PgOptions, PgStore, Store, StoreError};
use waxseal_note::{Ed25519Signer, NoteSigner};

use crate::harness::{ORIGIN, test_key};

fn tls_url(server: &PostgresServer, mode: &str) -> String {
    format!(
        "postgres://waxseal@127.0.0.1:{}/postgres?sslmode={mode}",
        server.port()
    )
}

#[test]
fn tls_modes_connect_and_verify_as_named() {
    let server = PostgresServer::start_with_tls().unwrap();
    let ca = server.ca_file().unwrap().to_path_buf();

    // verify-full with the issuing CA: a working log, over TLS (the server refuses plain TCP).
    let url = format!(
        "{}&sslrootcert={}",
        tls_url(&server, "verify-full"),
        ca.display()
    );
    let store = PgStore::connect(&PgOptions::new(&url, "rekor")).unwrap();
    let signer: Arc<dyn NoteSigner> = Arc::new(Ed25519Signer::new(ORIGIN, test_key()).unwrap());
    let log = Log::open(store, signer, Config::new(ORIGIN)).unwrap();
    assert_eq!(
        log.append(b"over tls".to_vec())
            .unwrap()
            .wait()
            .unwrap()
            .index,
        0
    );

    // The CA file as an option instead of in the URL.
    let options = PgOptions::new(&tls_url(&server, "verify-full"), "rekor").with_ca_file(&ca);
    assert_eq!(PgStore::connect(&options).unwrap().load().unwrap().size, 1);

    // require encrypts without verifying.
    let store = PgStore::connect(&PgOptions::new(&tls_url(&server, "require"), "rekor")).unwrap();
    assert_eq!(store.load().unwrap().size, 1);

    // Plain TCP is refused by this server; verify-full without the test CA does not trust it.
    for url in [
        tls_url(&server, "disable"),
        tls_url(&server, "verify-full"),
        format!(
            "{}&sslrootcert=/nonexistent/ca.pem",
            tls_url(&server, "verify-full")
        ),
    ] {
        let options =
            PgOptions::new(&url, "rekor").with_connect_timeout(std::time::Duration::from_secs(5));
        let err = PgStore::connect(&options).unwrap_err();
        assert!(matches!(err, StoreError::Postgres { .. }), "{url}: {err}");
    }
}

#[test]
fn rejects_bad_urls_and_modes_by_name() {
    for (url, names) in [
        ("mysql://db/x", "postgres://"),
        ("postgres://db/x?sslmode=prefer", "sslmode=prefer"),
        ("postgres://db/x?sslmode=verify-ca", "sslmode=verify-ca"),
    ] {
        let err = PgStore::connect(&PgOptions::new(url, "ct")).unwrap_err();
        assert!(err.to_string().contains(names), "{url}: {err}");
    }
}

#[test]
fn migrations_apply_once_and_logs_share_a_database() {
    let server = PostgresServer::start().unwrap();
    let url = server.create_database("shared").unwrap();
    // Several processes starting at once: every connect migrates or finds it migrated.
    let stores: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = ["rekor", "rekor-v2", "ct", "rekor"]
            .into_iter()
            .map(|log| {
                let url = url.clone();
                scope.spawn(move || PgStore::connect(&PgOptions::new(&url, log)).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let signer: Arc<dyn NoteSigner> = Arc::new(Ed25519Signer::new(ORIGIN, test_key()).unwrap());
    let rekor = Log::open(
        Arc::clone(&stores[0]) as Arc<dyn Store>,
        Arc::clone(&signer),
        Config::new(ORIGIN),
    )
    .unwrap();
    rekor
        .append(b"only in rekor".to_vec())
        .unwrap()
        .wait()
        .unwrap();
    assert_eq!(stores[3].load().unwrap().size, 1, "same log, other pool");
    assert_eq!(stores[1].load().unwrap().size, 0, "rekor-v2 is another log");
    // Issuers are per log too.
    let fingerprint = [7u8; 32];
    stores[2].put_issuer(&fingerprint, b"der").unwrap();
    stores[2].put_issuer(&fingerprint, b"der").unwrap();
    assert_eq!(stores[2].issuer(&fingerprint).unwrap().unwrap(), b"der");
    assert_eq!(stores[0].issuer(&fingerprint).unwrap(), None);
}
