//! `waxseal enforce manifests`: the Kubernetes objects that install the admission webhook.
//!
//! Namespace, the TLS Secret made of the given certificate and key, a ConfigMap holding the
//! policies (and trust files), the Deployment running `waxseal enforce serve` on them, its
//! Service, and the Validating/MutatingWebhookConfiguration pointing at it with `caBundle`,
//! `failurePolicy: Fail`, `sideEffects: None`, `timeoutSeconds` and a namespaceSelector on
//! policy-controller's opt-in label `policy.sigstore.dev/include: "true"`
//! (`config/500-webhook-configuration.yaml` is the model).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// The namespace label that opts a namespace in (policy-controller's).
pub(crate) const INCLUDE_LABEL: &str = "policy.sigstore.dev/include";

/// `waxseal enforce manifests`.
#[derive(Debug, clap::Args)]
pub(crate) struct ManifestsArgs {
    /// The webhook's TLS certificate (PEM), valid for `<name>.<namespace>.svc`.
    #[arg(long)]
    tls_cert: PathBuf,
    /// Its private key (PEM), stored in the TLS Secret.
    #[arg(long)]
    tls_key: PathBuf,
    /// The CA that issued the certificate, for the webhooks' `caBundle` (default: the
    /// certificate itself, for a self-signed one).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
    /// The policies to install (files or directories of `*.yaml`); repeatable.
    #[arg(long, required = true)]
    policy: Vec<PathBuf>,
    /// A trusted root JSON to install beside the policies (default: the embedded public-good
    /// root).
    #[arg(long)]
    trusted_root: Option<PathBuf>,
    /// The namespace to install into.
    #[arg(long, default_value = "waxseal-system")]
    namespace: String,
    /// The name of the Deployment, Service and webhooks.
    #[arg(long, default_value = "waxseal-enforce")]
    name: String,
    /// The container image running waxseal.
    #[arg(long, default_value = concat!("ghcr.io/waxseal/waxseal:", env!("CARGO_PKG_VERSION")))]
    image: String,
    /// The webhooks' `timeoutSeconds` (1–30); the server's deadline is set 2 s below it.
    #[arg(long, default_value_t = 10)]
    timeout_seconds: u32,
    /// What the API server does when the webhook cannot be reached.
    #[arg(long, value_enum, default_value = "fail")]
    failure_policy: FailurePolicy,
    /// Replicas of the webhook Deployment.
    #[arg(long, default_value_t = 2)]
    replicas: u32,
    /// Also re-verify every running pod's images on this interval (`enforce serve --inventory
    /// kubernetes`), with a ServiceAccount allowed to get, list and watch pods cluster-wide.
    #[arg(long)]
    watch_interval: Option<String>,
}

/// `--failure-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailurePolicy {
    /// Refuse the request (fail closed).
    Fail,
    /// Admit the request (fail open; not recommended).
    Ignore,
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("couldn't read {}", path.display()))
}

/// The objects, in the order they are applied.
pub(crate) fn objects(args: &ManifestsArgs) -> Result<Vec<Value>> {
    if !(1..=30).contains(&args.timeout_seconds) {
        bail!("--timeout-seconds must be 1 to 30 (the API server's limit)");
    }
    let cert = read(&args.tls_cert)?;
    let key = read(&args.tls_key)?;
    let ca = match &args.ca_cert {
        Some(path) => read(path)?,
        None => cert.clone(),
    };
    if !String::from_utf8_lossy(&ca).contains("-----BEGIN CERTIFICATE-----") {
        bail!("the caBundle certificate is not PEM");
    }
    // The policies, checked before they are installed.
    let sources = crate::policy::read_sources(&args.policy)?;
    waxseal_policy::PolicySet::load(&sources)
        .map_err(|errors| anyhow::anyhow!("invalid policy:\n{errors}"))?;
    let mut data = serde_json::Map::new();
    for (i, source) in sources.iter().enumerate() {
        let file = Path::new(&source.name)
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("policy.yaml");
        // ConfigMap keys must be unique and [-._a-zA-Z0-9]+.
        let key: String = format!("{i:02}-{file}")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-._".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        data.insert(key, Value::String(source.text.clone()));
    }
    let (ns, name) = (args.namespace.as_str(), args.name.as_str());
    let labels = json!({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "waxseal" });
    let mut trust_args = Vec::new();
    let mut trust_volume = Vec::new();
    let mut trust_mount = Vec::new();
    if let Some(root) = &args.trusted_root {
        let text = String::from_utf8(read(root)?)
            .with_context(|| format!("{} is not UTF-8 JSON", root.display()))?;
        waxseal_verify::Verifier::from_json(text.as_bytes())
            .with_context(|| format!("{} is not a usable trusted root", root.display()))?;
        trust_args = vec![
            "--trusted-root".to_owned(),
            "/etc/waxseal/trust/trusted_root.json".to_owned(),
        ];
        trust_volume
            .push(json!({ "name": "trust", "configMap": { "name": format!("{name}-trust") } }));
        trust_mount
            .push(json!({ "name": "trust", "mountPath": "/etc/waxseal/trust", "readOnly": true }));
    }
    let deadline = args.timeout_seconds.saturating_sub(2).max(1);
    let mut container_args = vec![
        "enforce".to_owned(),
        "serve".to_owned(),
        "--policy".to_owned(),
        "/etc/waxseal/policies".to_owned(),
        "--tls-cert".to_owned(),
        "/etc/waxseal/tls/tls.crt".to_owned(),
        "--tls-key".to_owned(),
        "/etc/waxseal/tls/tls.key".to_owned(),
        "--listen".to_owned(),
        "0.0.0.0:8443".to_owned(),
        "--deadline".to_owned(),
        format!("{deadline}s"),
    ];
    container_args.extend(trust_args);
    if let Some(interval) = &args.watch_interval {
        humantime::parse_duration(interval)
            .with_context(|| format!("--watch-interval {interval:?} is not a duration"))?;
        container_args.extend([
            "--inventory".to_owned(),
            "kubernetes".to_owned(),
            "--interval".to_owned(),
            interval.clone(),
        ]);
    }
    let mut volumes = vec![
        json!({ "name": "tls", "secret": { "secretName": format!("{name}-tls") } }),
        json!({ "name": "policies", "configMap": { "name": format!("{name}-policies") } }),
    ];
    volumes.extend(trust_volume);
    let mut mounts = vec![
        json!({ "name": "tls", "mountPath": "/etc/waxseal/tls", "readOnly": true }),
        json!({ "name": "policies", "mountPath": "/etc/waxseal/policies", "readOnly": true }),
    ];
    mounts.extend(trust_mount);

    let mut objects = vec![
        json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": ns, "labels": labels },
        }),
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": { "name": format!("{name}-tls"), "namespace": ns, "labels": labels },
            "data": { "tls.crt": STANDARD.encode(&cert), "tls.key": STANDARD.encode(&key) },
        }),
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": format!("{name}-policies"), "namespace": ns, "labels": labels },
            "data": data,
        }),
    ];
    if let Some(root) = &args.trusted_root {
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": { "name": format!("{name}-trust"), "namespace": ns, "labels": labels },
            "data": { "trusted_root.json": String::from_utf8(read(root)?)? },
        }));
    }
    if args.watch_interval.is_some() {
        objects.push(json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": name, "namespace": ns, "labels": labels },
        }));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": format!("{name}-pod-reader"), "labels": labels },
            "rules": [{ "apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"] }],
        }));
        objects.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": format!("{name}-pod-reader"), "labels": labels },
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": format!("{name}-pod-reader"),
            },
            "subjects": [{ "kind": "ServiceAccount", "name": name, "namespace": ns }],
        }));
    }
    objects.push(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": {
            "replicas": args.replicas,
            "selector": { "matchLabels": { "app.kubernetes.io/name": name } },
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "automountServiceAccountToken": args.watch_interval.is_some(),
                    "containers": [{
                        "name": "waxseal",
                        "image": args.image,
                        "args": container_args,
                        "ports": [{ "name": "https", "containerPort": 8443, "protocol": "TCP" }],
                        "readinessProbe": {
                            "httpGet": { "path": "/healthz", "port": 8443, "scheme": "HTTPS" },
                            "periodSeconds": 5,
                        },
                        "livenessProbe": {
                            "httpGet": { "path": "/healthz", "port": 8443, "scheme": "HTTPS" },
                            "periodSeconds": 10,
                        },
                        "resources": {
                            "requests": { "cpu": "100m", "memory": "64Mi" },
                            "limits": { "memory": "512Mi" },
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "capabilities": { "drop": ["ALL"] },
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "volumeMounts": mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    }));
    if args.watch_interval.is_some()
        && let Some(deployment) = objects.last_mut()
    {
        deployment["spec"]["template"]["spec"]["serviceAccountName"] = json!(name);
    }
    objects.push(json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": {
            "selector": { "app.kubernetes.io/name": name },
            "ports": [{ "name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP" }],
        },
    }));
    let rules = json!([
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["pods", "pods/ephemeralcontainers", "replicationcontrollers"],
            "scope": "Namespaced",
        },
        {
            "apiGroups": ["apps"],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["deployments", "replicasets", "statefulsets", "daemonsets"],
            "scope": "Namespaced",
        },
        {
            "apiGroups": ["batch"],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["jobs", "cronjobs"],
            "scope": "Namespaced",
        },
    ]);
    let failure_policy = match args.failure_policy {
        FailurePolicy::Fail => "Fail",
        FailurePolicy::Ignore => "Ignore",
    };
    let webhook = |path: &str, suffix: &str| {
        json!({
            "name": format!("{suffix}.{name}.waxseal.dev"),
            "admissionReviewVersions": ["v1"],
            "clientConfig": {
                "service": { "name": name, "namespace": ns, "path": path, "port": 443 },
                "caBundle": STANDARD.encode(&ca),
            },
            "failurePolicy": failure_policy,
            "matchPolicy": "Equivalent",
            "namespaceSelector": {
                "matchExpressions": [{ "key": INCLUDE_LABEL, "operator": "In", "values": ["true"] }],
            },
            "rules": rules,
            "sideEffects": "None",
            "timeoutSeconds": args.timeout_seconds,
        })
    };
    let mut mutating = webhook("/mutate", "mutate");
    mutating["reinvocationPolicy"] = json!("IfNeeded");
    objects.push(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": { "name": format!("{name}-mutate"), "labels": labels },
        "webhooks": [mutating],
    }));
    objects.push(json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": { "name": format!("{name}-validate"), "labels": labels },
        "webhooks": [webhook("/validate", "validate")],
    }));
    Ok(objects)
}

/// Runs `waxseal enforce manifests`: the objects as one multi-document YAML stream on stdout.
pub(crate) fn run(args: &ManifestsArgs) -> Result<()> {
    let objects = objects(args)?;
    let yaml = serde_saphyr::to_string_multiple(&objects).context("couldn't write YAML")?;
    print!("---\n{yaml}");
    Ok(())
}
