//! The Kubernetes API as `waxseal enforce watch`'s inventory: the pods of every namespace,
//! listed page by page, and a watch on them that says when the images that run changed.
//!
//! The pods are turned back into the JSON of `kubectl get pods -A -o json` and read by
//! [`parse_pod_list`], so a cluster and a file give the same inventory.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, Result};
use futures_util::StreamExt as _;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::WatchStreamExt as _;
use kube::runtime::watcher;
use kube::{Client, Config};
use waxseal_enforce::inventory::{Running, parse_pod_list};

/// Pods asked for per page of a list.
const PAGE_SIZE: u32 = 500;

/// How long the watch task waits before it starts over when its stream ends.
const RESTART_DELAY: Duration = Duration::from_secs(5);

/// The pods of a cluster, read through its API server.
#[derive(Clone)]
pub(crate) struct KubeInventory {
    pods: Api<Pod>,
    /// The API server's URL, for messages.
    server: String,
}

impl std::fmt::Debug for KubeInventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeInventory")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl KubeInventory {
    /// Connects with `kubeconfig` (its current context, or `context`) when given; else with
    /// the pod's service account when running in a cluster, else with `$KUBECONFIG` or
    /// `~/.kube/config` (again with `context` when given).
    pub(crate) async fn connect(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Self> {
        let options = KubeConfigOptions {
            context: context.map(str::to_owned),
            ..KubeConfigOptions::default()
        };
        let config = match (kubeconfig, context) {
            (Some(path), _) => {
                let file = Kubeconfig::read_from(path)
                    .with_context(|| format!("couldn't read kubeconfig {}", path.display()))?;
                Config::from_custom_kubeconfig(file, &options)
                    .await
                    .with_context(|| format!("couldn't use kubeconfig {}", path.display()))?
            }
            (None, Some(context)) => Config::from_kubeconfig(&options)
                .await
                .with_context(|| format!("couldn't use the kubeconfig's context {context}"))?,
            (None, None) => Config::infer().await.context(
                "couldn't configure the Kubernetes client (no service account, no kubeconfig)",
            )?,
        };
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config)
            .with_context(|| format!("couldn't set up a Kubernetes client for {server}"))?;
        Ok(Self {
            pods: Api::all(client),
            server,
        })
    }

    /// What runs: every pod of every namespace, listed `PAGE_SIZE` at a time. When a
    /// `continue` token has expired (410 Gone), the listing starts over, once.
    pub(crate) async fn list(&self) -> Result<Vec<Running>> {
        let mut pods = Vec::new();
        let mut token: Option<String> = None;
        let mut restarted = false;
        loop {
            let mut params = ListParams::default().limit(PAGE_SIZE);
            if let Some(token) = &token {
                params = params.continue_token(token);
            }
            let page = match self.pods.list(&params).await {
                Ok(page) => page,
                Err(kube::Error::Api(status))
                    if status.code == 410 && token.is_some() && !restarted =>
                {
                    tracing::info!("the pod list of {} expired; listing again", self.server);
                    (pods, token, restarted) = (Vec::new(), None, true);
                    continue;
                }
                Err(e) => {
                    return Err(e)
                        .with_context(|| format!("couldn't list the pods of {}", self.server));
                }
            };
            pods.extend(page.items);
            match page.metadata.continue_ {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        running_of(&pods).with_context(|| format!("couldn't read the pods of {}", self.server))
    }

    /// Starts watching the pods: the counter goes up once the watch has its first complete
    /// listing, then whenever a pod appears or goes, or the images one runs change (its spec
    /// images or its containers' `imageID`s). The watch
    /// reconnects on errors with backoff and stops once every receiver is gone. Each call
    /// starts another watch; it needs a Tokio runtime.
    pub(crate) fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        let (tx, rx) = tokio::sync::watch::channel(0);
        tokio::spawn(watch_pods(self.pods.clone(), self.server.clone(), tx));
        rx
    }
}

/// The inventory of `pods`, through the `kubectl get pods -A -o json` shape.
fn running_of(pods: &[Pod]) -> Result<Vec<Running>> {
    let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": pods });
    let bytes = serde_json::to_vec(&list).context("couldn't serialize the pods")?;
    Ok(parse_pod_list(&bytes)?)
}

/// What of a pod the inventory depends on: its images and the digests they run as.
type Images = Vec<(String, Option<String>)>;

/// A pod's key (`namespace/name`) and [`Images`]; `None` when it cannot be read.
fn images_of(pod: &Pod) -> Option<(String, Images)> {
    let key = format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.name.as_deref()?
    );
    let running = running_of(std::slice::from_ref(pod)).ok()?;
    let mut images: Images = running
        .into_iter()
        .map(|r| (r.image, r.digest_ref))
        .collect();
    images.sort();
    Some((key, images))
}

/// The background watch behind [`KubeInventory::changes`]. The first complete listing always
/// counts as a change (so the caller can wait for the watch to be in sync before it lists);
/// later ones (after a reconnect) when they differ from what was known.
async fn watch_pods(pods: Api<Pod>, server: String, tx: tokio::sync::watch::Sender<u64>) {
    let mut known: BTreeMap<String, Images> = BTreeMap::new();
    let mut listing: BTreeMap<String, Images> = BTreeMap::new();
    let mut synced = false;
    let bump = |tx: &tokio::sync::watch::Sender<u64>| tx.send_modify(|n| *n = n.wrapping_add(1));
    while !tx.is_closed() {
        let mut stream = watcher(pods.clone(), watcher::Config::default())
            .default_backoff()
            .boxed();
        while let Some(event) = stream.next().await {
            if tx.is_closed() {
                return;
            }
            match event {
                Ok(watcher::Event::Init) => listing.clear(),
                Ok(watcher::Event::InitApply(pod)) => listing.extend(images_of(&pod)),
                Ok(watcher::Event::InitDone) => {
                    let changed = listing != known;
                    known = std::mem::take(&mut listing);
                    if changed || !synced {
                        bump(&tx);
                    }
                    synced = true;
                }
                Ok(watcher::Event::Apply(pod)) => {
                    let Some((key, images)) = images_of(&pod) else {
                        continue;
                    };
                    if known.get(&key) != Some(&images) {
                        known.insert(key, images);
                        bump(&tx);
                    }
                }
                Ok(watcher::Event::Delete(pod)) => {
                    if let Some((key, _)) = images_of(&pod) {
                        known.remove(&key);
                    }
                    bump(&tx);
                }
                Err(e) => tracing::warn!("watching the pods of {server}: {e}"),
            }
        }
        tokio::time::sleep(RESTART_DELAY).await;
    }
}
