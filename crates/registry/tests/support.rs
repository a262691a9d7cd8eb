//! Shared helpers.

use std::time::Duration;

use waxseal_registry::testing::LocalRegistry;
use waxseal_registry::{Client, ClientConfig};

/// A registry, failing (never skipping) when docker-registry is missing.
pub(crate) fn registry() -> LocalRegistry {
    LocalRegistry::start().unwrap_or_else(|e| panic!("couldn't start docker-registry: {e}"))
}

/// A client with a docker config that does not exist (tests never read the user's).
pub(crate) fn config() -> ClientConfig {
    ClientConfig {
        docker_config: Some("/nonexistent/waxseal-test/config.json".into()),
        timeout: Duration::from_secs(10),
        ..ClientConfig::default()
    }
}

pub(crate) fn client() -> Client {
    Client::new(config()).unwrap()
}

/// Serves `router` on 127.0.0.1:0; returns `127.0.0.1:PORT`.
pub(crate) async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    host
}
