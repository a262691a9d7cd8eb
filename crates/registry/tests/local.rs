//! Against a real docker-registry 2.8 (no referrers API: the fallback tag is used).

use waxseal_oci::{
    Descriptor, Digest, EMPTY_CONFIG_BYTES, Index, ManifestDocument, fallback_tag, media_type,
    referrer_manifest,
};
use waxseal_registry::testing::{push_random_image, push_random_image_as, push_random_index};
use waxseal_registry::{Client, Error, FetchedManifest};

use crate::support::{client, registry};

#[tokio::test]
async fn pushes_and_pulls_blobs() {
    let registry = registry();
    let client = client();
    let repo = registry.reference("blobs/a");
    let bytes = b"hello blob".to_vec();
    let digest = client.push_blob(&repo, &bytes).await.unwrap();
    assert_eq!(digest, Digest::of(&bytes));
    let descriptor = Descriptor::new("application/octet-stream", digest, bytes.len() as u64);
    assert_eq!(client.get_blob(&repo, &descriptor).await.unwrap(), bytes);

    // Already present: one HEAD, no upload.
    let before = client.requests();
    client.push_blob(&repo, &bytes).await.unwrap();
    assert_eq!(client.requests() - before, 1);

    let missing = Descriptor::new("application/octet-stream", Digest::of(b"nope"), 4);
    let err = client.get_blob(&repo, &missing).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
}

#[tokio::test]
async fn resolves_tag_to_sha256_of_put_bytes() {
    let registry = registry();
    let client = client();
    let image = registry.reference("app/oci:v1");
    let pushed = push_random_image(&client, &image).await.unwrap();
    let resolved = client.resolve(&image).await.unwrap();
    assert_eq!(resolved.digest, Digest::of(&pushed.bytes));
    assert_eq!(resolved.bytes, pushed.bytes);
    assert_eq!(resolved.media_type, media_type::OCI_MANIFEST);
    assert_eq!(resolved.descriptor().size, pushed.bytes.len() as u64);

    let by_digest = client
        .resolve(&image.with_digest(resolved.digest))
        .await
        .unwrap();
    assert_eq!(by_digest, resolved);

    // Blobs the manifest names are fetchable and checked.
    let ManifestDocument::Manifest(manifest) =
        ManifestDocument::parse(None, &resolved.bytes).unwrap()
    else {
        panic!("an image manifest");
    };
    client.get_blob(&image, &manifest.config).await.unwrap();
    client.get_blob(&image, &manifest.layers[0]).await.unwrap();
}

#[tokio::test]
async fn reads_docker_v2_manifests_and_indexes() {
    let registry = registry();
    let client = client();
    let docker = registry.reference("app/docker:v2");
    let pushed = push_random_image_as(&client, &docker, media_type::DOCKER_MANIFEST)
        .await
        .unwrap();
    let resolved = client.resolve(&docker).await.unwrap();
    assert_eq!(resolved.media_type, media_type::DOCKER_MANIFEST);
    assert_eq!(resolved.digest, pushed.digest);

    let multi = registry.reference("app/multi:latest");
    let index = push_random_index(&client, &multi).await.unwrap();
    let resolved = client.resolve(&multi).await.unwrap();
    assert_eq!(resolved.media_type, media_type::OCI_INDEX);
    assert_eq!(resolved.digest, index.digest);
    let ManifestDocument::Index(parsed) = ManifestDocument::parse(None, &resolved.bytes).unwrap()
    else {
        panic!("an index");
    };
    assert_eq!(parsed.manifests.len(), 2);
    for entry in &parsed.manifests {
        let child = client
            .resolve(&multi.with_digest(entry.digest))
            .await
            .unwrap();
        assert_eq!(child.descriptor().size, entry.size);
    }
}

#[tokio::test]
async fn missing_manifest_is_none_or_not_found() {
    let registry = registry();
    let client = client();
    let missing = registry.reference("app/none:nope");
    assert_eq!(client.get_manifest(&missing).await.unwrap(), None);
    let err = client.resolve(&missing).await.unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("app/none:nope"), "{err}");
}

/// Pushes a cosign-style referrer manifest's blobs and returns its bytes.
async fn referrer(
    client: &Client,
    repo: &waxseal_oci::Reference,
    subject: &FetchedManifest,
    content: &[u8],
) -> Vec<u8> {
    let bundle = client.push_blob(repo, content).await.unwrap();
    client.push_blob(repo, EMPTY_CONFIG_BYTES).await.unwrap();
    referrer_manifest(
        bundle,
        content.len() as u64,
        subject.descriptor(),
        "https://sigstore.dev/cosign/sign/v1",
        "2026-01-02T03:04:05Z",
    )
    .to_json()
}

#[tokio::test]
async fn attach_referrer_keeps_both_entries_in_the_fallback_tag() {
    let registry = registry();
    let client = client();
    let image = registry.reference("signed/app:v1");
    let subject = push_random_image(&client, &image).await.unwrap();
    assert!(
        client
            .referrers(&image, &subject.digest, None)
            .await
            .unwrap()
            .is_empty()
    );

    let first = referrer(&client, &image, &subject, b"bundle one").await;
    let second = referrer(&client, &image, &subject, b"bundle two").await;
    let d1 = client
        .attach_referrer(
            &image,
            &subject.digest,
            media_type::OCI_MANIFEST,
            &first,
            None,
        )
        .await
        .unwrap();
    let d2 = client
        .attach_referrer(
            &image,
            &subject.digest,
            media_type::OCI_MANIFEST,
            &second,
            None,
        )
        .await
        .unwrap();
    // Attaching again adds nothing.
    client
        .attach_referrer(
            &image,
            &subject.digest,
            media_type::OCI_MANIFEST,
            &first,
            None,
        )
        .await
        .unwrap();
    assert_eq!(d1, Digest::of(&first));

    let found = client
        .referrers(&image, &subject.digest, None)
        .await
        .unwrap();
    let mut digests: Vec<_> = found.iter().map(|d| d.digest).collect();
    digests.sort();
    let mut want = vec![d1, d2];
    want.sort();
    assert_eq!(digests, want);
    for entry in &found {
        assert_eq!(
            entry.artifact_type.as_deref(),
            Some(media_type::SIGSTORE_BUNDLE_V03)
        );
    }
    // The registry has no referrers API: after its first 404 the client asks only the tag.
    let before = client.requests();
    let filtered = client
        .referrers(&image, &subject.digest, Some("application/other"))
        .await
        .unwrap();
    assert!(filtered.is_empty());
    assert_eq!(client.requests() - before, 1);
    let fresh = waxseal_registry::Client::new(waxseal_registry::ClientConfig::default()).unwrap();
    fresh
        .referrers(&image, &subject.digest, None)
        .await
        .unwrap();
    assert_eq!(fresh.requests(), 2, "a new client asks the API once");

    // The fallback tag is an OCI index; the referrer manifest is stored byte for byte.
    let tag = image.with_tag(&fallback_tag(&subject.digest)).unwrap();
    let index = client.resolve(&tag).await.unwrap();
    assert_eq!(index.media_type, media_type::OCI_INDEX);
    Index::parse_referrers(&index.bytes).unwrap();
    let stored = client.resolve(&image.with_digest(d2)).await.unwrap();
    assert_eq!(stored.bytes, second);
}

#[tokio::test]
async fn attach_referrer_keeps_a_foreign_entry_with_annotations() {
    let registry = registry();
    let client = client();
    let image = registry.reference("signed/foreign:v1");
    let subject = push_random_image(&client, &image).await.unwrap();
    // docker-registry checks that index entries exist: the foreign referrer is a real manifest.
    let other = push_random_image(&client, &registry.reference("signed/foreign:other"))
        .await
        .unwrap();
    let foreign = other.digest;
    let existing = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","size":{},"digest":"{foreign}","annotations":{{"org.example.note":"keep me"}},"artifactType":"application/example"}}]}}"#,
        media_type::OCI_INDEX,
        media_type::OCI_MANIFEST,
        other.bytes.len()
    );
    client
        .put_manifest(
            &image,
            &fallback_tag(&subject.digest),
            media_type::OCI_INDEX,
            existing.as_bytes(),
        )
        .await
        .unwrap();

    let manifest = referrer(&client, &image, &subject, b"bundle").await;
    let ours = client
        .attach_referrer(
            &image,
            &subject.digest,
            media_type::OCI_MANIFEST,
            &manifest,
            None,
        )
        .await
        .unwrap();
    let found = client
        .referrers(&image, &subject.digest, None)
        .await
        .unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    let kept = found.iter().find(|d| d.digest == foreign).unwrap();
    assert_eq!(kept.annotations["org.example.note"], "keep me");
    assert_eq!(kept.artifact_type.as_deref(), Some("application/example"));
    assert!(found.iter().any(|d| d.digest == ours));
    let only_foreign = client
        .referrers(&image, &subject.digest, Some("application/example"))
        .await
        .unwrap();
    assert_eq!(only_foreign.len(), 1);
}

#[tokio::test]
async fn non_index_at_the_fallback_tag_is_an_error_not_an_overwrite() {
    let registry = registry();
    let client = client();
    let image = registry.reference("signed/clash:v1");
    let subject = push_random_image(&client, &image).await.unwrap();
    // An image manifest squats on the fallback tag.
    let tag = image.with_tag(&fallback_tag(&subject.digest)).unwrap();
    let squatter = push_random_image(&client, &tag).await.unwrap();

    let manifest = referrer(&client, &image, &subject, b"bundle").await;
    let err = client
        .attach_referrer(
            &image,
            &subject.digest,
            media_type::OCI_MANIFEST,
            &manifest,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidIndex { .. }), "{err}");
    assert!(
        err.to_string().contains(&fallback_tag(&subject.digest)),
        "{err}"
    );
    let err = client
        .referrers(&image, &subject.digest, None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidIndex { .. }), "{err}");

    let still = client.resolve(&tag).await.unwrap();
    assert_eq!(still.bytes, squatter.bytes);
}

#[tokio::test]
async fn lists_tags() {
    let registry = registry();
    let client = client();
    for tag in ["a", "b", "c"] {
        push_random_image(&client, &registry.reference(&format!("tags/app:{tag}")))
            .await
            .unwrap();
    }
    let mut tags = client
        .list_tags(&registry.reference("tags/app"))
        .await
        .unwrap();
    tags.sort();
    assert_eq!(tags, ["a", "b", "c"]);
}

#[tokio::test]
async fn clones_share_state_across_tasks() {
    let registry = registry();
    let client = client();
    let image = registry.reference("shared/app:v1");
    push_random_image(&client, &image).await.unwrap();
    let before = client.requests();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = client.clone();
        let image = image.clone();
        tasks.push(tokio::spawn(async move { client.resolve(&image).await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(client.requests() - before, 4);
}
