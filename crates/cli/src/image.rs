//! Container images in OCI registries: telling an image argument from a file, the registry
//! flags, finding what is attached to an image (cosign v3 referrer bundles, the
//! referrers-tag fallback, legacy `.sig`/`.att` tags) and attaching new material.
//!
//! Formats come from `waxseal-oci`, HTTP from `waxseal-registry`; this module only decides
//! what to fetch and push, and fetches what it can concurrently: the referrers API, the
//! fallback tag and the legacy tags are asked for at once, then every referrer manifest, then
//! every layer, so a digest-pinned image with one signature costs three round trips.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context as _, Result, bail};
use futures_util::future::join_all;
use waxseal_oci::{
    Descriptor, Digest, Kind, LegacySignature, Manifest, ManifestDocument, Reference, annotation,
    legacy_manifest, legacy_tag, media_type, referrer_manifest,
};
use waxseal_registry::{Client as Registry, ClientConfig, Credentials, FetchedManifest};

/// The largest bundle layer read from a registry (the Rekor write limit: attestations of
/// large SBOMs are tens of MB).
pub(crate) const MAX_BUNDLE_SIZE: u64 = 64 << 20;

/// The layer media types cosign v3 reads referrer bundles from.
const BUNDLE_LAYER_PREFIX: &str = "application/vnd.dev.sigstore.bundle";

/// How to reach registries (shared by every image command).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct RegistryArgs {
    /// Allow plain-HTTP registries that are not on loopback (loopback registries are always
    /// reached over plain HTTP, as cosign does).
    #[arg(long)]
    allow_insecure_registry: bool,
    /// Registry user name (default: the Docker config's credentials for the registry).
    #[arg(
        long,
        env = "WAXSEAL_REGISTRY_USERNAME",
        requires = "registry_password"
    )]
    registry_username: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "WAXSEAL_REGISTRY_PASSWORD", hide_env_values = true)]
    registry_password: Option<String>,
}

impl RegistryArgs {
    /// A registry client for these flags.
    pub(crate) fn client(&self) -> Result<Registry> {
        let credentials = match (&self.registry_username, &self.registry_password) {
            (Some(username), Some(password)) => Some(Credentials {
                username: username.clone(),
                password: password.clone(),
            }),
            _ => None,
        };
        let config = ClientConfig {
            allow_insecure: self.allow_insecure_registry,
            credentials,
            ..ClientConfig::default()
        };
        Registry::new(config).context("couldn't set up the registry client")
    }
}

/// The image an argument names, when it is not an existing file or a `sha256:` digest.
pub(crate) fn image_argument(arg: &str) -> Option<Reference> {
    if arg.starts_with("sha256:") || Path::new(arg).exists() {
        return None;
    }
    Reference::parse(arg).ok()
}

/// For an argument that may have been meant as a file (a bare name), adds context saying it
/// was read as an image; other errors already name the image.
pub(crate) fn as_image<T>(arg: &str, reference: &Reference, result: Result<T>) -> Result<T> {
    if arg.contains(['/', ':', '@']) {
        return result;
    }
    result.with_context(|| format!("{arg} is not a file; read as the image {reference}"))
}

/// The async runtime the image commands run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("couldn't start the async runtime")
}

/// The image `reference` names, by digest: a digest-pinned reference costs no request; a tag
/// is resolved once (the digest of the manifest bytes served), with a warning on stderr when
/// `warn` is set.
pub(crate) async fn resolve(
    registry: &Registry,
    reference: &Reference,
    warn: Option<&str>,
) -> Result<(Digest, Option<FetchedManifest>)> {
    if let Some(digest) = reference.digest() {
        return Ok((digest, None));
    }
    let fetched = registry.resolve(reference).await?;
    if let Some(action) = warn {
        eprintln!(
            "waxseal: warning: {reference} is a tag; {action} {}@{} (the digest it names now). \
             Refer to images by digest so that what is {action_past} is what runs.",
            reference.name(),
            fetched.digest,
            action_past = past(action),
        );
    }
    Ok((fetched.digest, Some(fetched)))
}

fn past(action: &str) -> &'static str {
    match action {
        "signing" => "signed",
        "attesting" => "attested",
        _ => "verified",
    }
}

/// The reference of `tag` in `repo`'s repository.
pub(crate) fn tag_reference(repo: &Reference, tag: &str) -> Result<Reference> {
    repo.with_tag(tag)
        .with_context(|| format!("couldn't name the tag {tag} of {repo}"))
}

/// One cosign v3 referrer: a one-layer manifest holding a Sigstore bundle.
#[derive(Debug, Clone)]
pub(crate) struct Referrer {
    /// The referrer manifest's digest.
    pub(crate) manifest: Digest,
    /// The manifest's annotations (`dev.sigstore.bundle.predicateType`, ...).
    pub(crate) annotations: BTreeMap<String, String>,
    /// The bundle layer's bytes.
    pub(crate) bundle: Vec<u8>,
}

impl Referrer {
    /// The predicate type the manifest's annotation claims (unverified).
    pub(crate) fn predicate_type(&self) -> Option<&str> {
        self.annotations
            .get(annotation::BUNDLE_PREDICATE_TYPE)
            .map(String::as_str)
    }
}

/// One legacy layer of a `.sig` or `.att` tag.
#[derive(Debug, Clone)]
pub(crate) struct LegacyLayer {
    /// Which tag it came from.
    pub(crate) kind: Kind,
    /// The layer's digest.
    pub(crate) layer: Digest,
    /// The layer's payload and annotations.
    pub(crate) signature: LegacySignature,
}

/// Everything found attached to one image.
#[derive(Debug, Default)]
pub(crate) struct Attached {
    /// Referrers holding a Sigstore bundle.
    pub(crate) referrers: Vec<Referrer>,
    /// Other referrers (SBOMs, other tools' artifacts), not fetched.
    pub(crate) other_referrers: Vec<Descriptor>,
    /// Legacy layers, in tag then layer order.
    pub(crate) legacy: Vec<LegacyLayer>,
    /// What was listed but could not be read (missing manifests, wrong layouts), for
    /// messages.
    pub(crate) problems: Vec<String>,
}

/// Finds and reads what is attached to `image` in `repo`'s repository: every referrer bundle
/// (referrers API and fallback tag) and the layers of the legacy tags of `kinds`.
pub(crate) async fn fetch_attached(
    registry: &Registry,
    repo: &Reference,
    image: &Digest,
    kinds: &[Kind],
) -> Result<Attached> {
    let legacy_refs = kinds
        .iter()
        .map(|kind| Ok((*kind, tag_reference(repo, &legacy_tag(image, *kind))?)))
        .collect::<Result<Vec<_>>>()?;
    let (referrers, legacy_manifests) = tokio::join!(
        registry.referrers(repo, image, None),
        join_all(
            legacy_refs
                .iter()
                .map(|(_, reference)| registry.get_manifest(reference))
        )
    );
    let referrers = referrers.with_context(|| format!("couldn't list the referrers of {image}"))?;

    let mut attached = Attached::default();
    let (bundles, others): (Vec<_>, Vec<_>) = referrers.into_iter().partition(|d| {
        d.artifact_type
            .as_deref()
            .is_none_or(|t| t.starts_with(BUNDLE_LAYER_PREFIX))
    });
    attached.other_referrers = others;

    // Referrer manifests and legacy layers, all at once.
    let referrer_reads = join_all(
        bundles
            .iter()
            .map(|descriptor| read_referrer(registry, repo, descriptor)),
    );
    let mut legacy_reads = Vec::new();
    for ((kind, reference), fetched) in legacy_refs.iter().zip(legacy_manifests) {
        let fetched = fetched.with_context(|| format!("couldn't read {reference}"))?;
        let Some(fetched) = fetched else { continue };
        let manifest = match ManifestDocument::parse(Some(&fetched.media_type), &fetched.bytes) {
            Ok(ManifestDocument::Manifest(m)) => m,
            Ok(_) => {
                attached
                    .problems
                    .push(format!("{reference} is an index, not a signature manifest"));
                continue;
            }
            Err(e) => {
                attached.problems.push(format!("{reference}: {e}"));
                continue;
            }
        };
        for layer in manifest.layers {
            legacy_reads.push(read_legacy_layer(registry, repo, *kind, layer));
        }
    }
    let (referrers, legacy) = tokio::join!(referrer_reads, join_all(legacy_reads));
    for result in referrers {
        match result {
            Ok(Some(referrer)) => attached.referrers.push(referrer),
            Ok(None) => {}
            Err(problem) => attached.problems.push(problem),
        }
    }
    for result in legacy {
        match result {
            Ok(layer) => attached.legacy.push(layer),
            Err(problem) => attached.problems.push(problem),
        }
    }
    Ok(attached)
}

/// Reads one referrer: its manifest, and its bundle layer if it is cosign's layout (`None`
/// for other artifacts). Problems are returned as messages.
async fn read_referrer(
    registry: &Registry,
    repo: &Reference,
    descriptor: &Descriptor,
) -> std::result::Result<Option<Referrer>, String> {
    let reference = repo.with_digest(descriptor.digest);
    let fetched = match registry.get_manifest(&reference).await {
        Ok(Some(fetched)) => fetched,
        Ok(None) => {
            return Err(format!(
                "referrer {} is listed but the registry does not have it",
                descriptor.digest
            ));
        }
        Err(e) => return Err(format!("referrer {}: {e}", descriptor.digest)),
    };
    let manifest = match ManifestDocument::parse(Some(&fetched.media_type), &fetched.bytes) {
        Ok(ManifestDocument::Manifest(m)) => m,
        Ok(_) => return Ok(None),
        Err(e) => return Err(format!("referrer {}: {e}", descriptor.digest)),
    };
    let [layer] = manifest.layers.as_slice() else {
        return Ok(None);
    };
    if !layer.media_type.starts_with(BUNDLE_LAYER_PREFIX) {
        return Ok(None);
    }
    if layer.size > MAX_BUNDLE_SIZE {
        return Err(format!(
            "referrer {}: its bundle is {} bytes, over the {MAX_BUNDLE_SIZE}-byte limit",
            descriptor.digest, layer.size
        ));
    }
    let bundle = registry
        .get_blob(repo, layer)
        .await
        .map_err(|e| format!("referrer {}: its bundle: {e}", descriptor.digest))?;
    Ok(Some(Referrer {
        manifest: fetched.digest,
        annotations: manifest.annotations,
        bundle,
    }))
}

/// Reads one legacy layer's payload and annotations.
async fn read_legacy_layer(
    registry: &Registry,
    repo: &Reference,
    kind: Kind,
    layer: Descriptor,
) -> std::result::Result<LegacyLayer, String> {
    let tag = kind.suffix();
    if layer.size > MAX_BUNDLE_SIZE {
        return Err(format!(
            ".{tag} layer {}: {} bytes, over the {MAX_BUNDLE_SIZE}-byte limit",
            layer.digest, layer.size
        ));
    }
    let payload = registry
        .get_blob(repo, &layer)
        .await
        .map_err(|e| format!(".{tag} layer {}: {e}", layer.digest))?;
    let signature = LegacySignature::from_layer(&layer, payload)
        .map_err(|e| format!(".{tag} layer {}: {e}", layer.digest))?;
    Ok(LegacyLayer {
        kind,
        layer: layer.digest,
        signature,
    })
}

/// `org.opencontainers.image.created` for now: RFC 3339 in whole seconds, UTC.
fn created_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Pushes `bundle_json` as a cosign v3 referrer of `subject`: the empty config, the bundle
/// layer, the referrer manifest (by digest), and the fallback tag when the registry keeps no
/// referrers list. Returns the referrer manifest's digest.
pub(crate) async fn push_referrer(
    registry: &Registry,
    repo: &Reference,
    subject: &Descriptor,
    bundle_json: &[u8],
    predicate_type: &str,
) -> Result<Digest> {
    let push_blobs = || async {
        let (config, bundle) = tokio::join!(
            registry.push_blob(repo, waxseal_oci::EMPTY_CONFIG_BYTES),
            registry.push_blob(repo, bundle_json)
        );
        config.context("couldn't push the empty config blob")?;
        bundle.context("couldn't push the bundle blob")
    };
    let bundle_digest = push_blobs().await?;
    let manifest = referrer_manifest(
        bundle_digest,
        bundle_json.len() as u64,
        subject.clone(),
        predicate_type,
        &created_now(),
    );
    let bytes = manifest.to_json();
    let attach = || {
        registry.attach_referrer(
            repo,
            &subject.digest,
            media_type::OCI_MANIFEST,
            &bytes,
            manifest.artifact_type.as_deref(),
        )
    };
    let attached = match attach().await {
        // distribution's filesystem storage can lose a blob for a moment while another upload
        // of the same content (the shared empty config) is committed: push again, retry once.
        Err(e) if blob_unknown(&e) => {
            push_blobs().await?;
            attach().await
        }
        other => other,
    };
    attached.with_context(|| format!("couldn't attach the referrer to {}", subject.digest))
}

/// Whether a manifest PUT was refused for a blob the registry does not have.
fn blob_unknown(error: &waxseal_registry::Error) -> bool {
    matches!(error, waxseal_registry::Error::Status { status: 400, message, .. }
        if message.contains("MANIFEST_BLOB_UNKNOWN"))
}

/// Appends `signature` as a layer of `image`'s legacy `kind` tag (read-modify-write: the
/// layers already there are kept; the same layer is not added twice). Returns the tag.
pub(crate) async fn push_legacy(
    registry: &Registry,
    repo: &Reference,
    image: &Digest,
    kind: Kind,
    signature: &LegacySignature,
) -> Result<String> {
    let tag = legacy_tag(image, kind);
    let reference = tag_reference(repo, &tag)?;
    let mut layers = match registry
        .get_manifest(&reference)
        .await
        .with_context(|| format!("couldn't read {reference}"))?
    {
        None => Vec::new(),
        Some(fetched) => match ManifestDocument::parse(Some(&fetched.media_type), &fetched.bytes) {
            Ok(ManifestDocument::Manifest(Manifest { layers, .. })) => layers,
            Ok(_) => bail!("{reference} is an index, not cosign's signature manifest: not touched"),
            Err(e) => bail!("{reference} is not a manifest ({e}): not touched"),
        },
    };
    let layer = signature.to_descriptor();
    if !layers.contains(&layer) {
        layers.push(layer);
    }
    registry
        .push_blob(repo, &signature.payload)
        .await
        .context("couldn't push the signature payload")?;
    let (manifest, config) = legacy_manifest(layers);
    registry
        .push_blob(repo, &config)
        .await
        .context("couldn't push the signature image's config")?;
    registry
        .put_manifest(repo, &tag, media_type::OCI_MANIFEST, &manifest.to_json())
        .await
        .with_context(|| format!("couldn't write {reference}"))?;
    Ok(tag)
}
