//! The registry operations (distribution-spec `spec.md` §Pull, §Push, §Content Discovery).

use std::sync::Arc;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use waxseal_oci::{
    Descriptor, Digest, Index, ManifestDocument, Reference, fallback_tag, media_type,
};

use crate::transport::{Request, Transport, read_limited, status_error};
use crate::{ClientConfig, Error};

/// Every manifest and index type, sent on each manifest GET and HEAD: Debian's
/// docker-registry answers 404 to a GET whose Accept lacks the stored type.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// Most pages of `tags/list` followed.
const MAX_TAG_PAGES: usize = 1000;

/// An OCI distribution client. Cheap to clone; clones share connections, tokens, credentials
/// and the request counter, and may be used from many tasks at once.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Transport>,
}

/// A manifest or index as the registry served it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FetchedManifest {
    /// The exact body.
    pub bytes: Vec<u8>,
    /// sha256 of `bytes` (the `Docker-Content-Digest` header is not trusted).
    pub digest: Digest,
    /// The body's `mediaType`, else the `Content-Type` header.
    pub media_type: String,
}

/// The registry's answer to a manifest PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PutManifest {
    /// sha256 of the bytes PUT.
    pub digest: Digest,
    /// The `OCI-Subject` header: set when the registry keeps the referrers list itself.
    pub oci_subject: Option<String>,
}

impl FetchedManifest {
    /// The descriptor of this manifest: media type, digest and size.
    #[must_use]
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest,
            self.bytes.len() as u64,
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Pull,
    Push,
}

impl Client {
    /// A client with `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Http`] when the HTTP client cannot be built (no TLS roots).
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        Ok(Self {
            transport: Arc::new(Transport::new(config)?),
        })
    }

    /// HTTP requests sent so far by this client and all its clones (token requests included).
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.transport.requests()
    }

    /// GETs the manifest `reference` names (its digest if it has one, else its tag, else
    /// `latest`), sending every OCI and Docker manifest type in `Accept`. The digest is the
    /// sha256 of the exact body, which must match the reference's digest if it has one.
    /// `None` on 404.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`], [`Error::TooLarge`] over `max_manifest_size`,
    /// [`Error::Unauthorized`], [`Error::Status`], [`Error::Http`], [`Error::Redirect`].
    pub async fn get_manifest(
        &self,
        reference: &Reference,
    ) -> Result<Option<FetchedManifest>, Error> {
        self.fetch_manifest(reference, MANIFEST_ACCEPT).await
    }

    /// As [`Client::get_manifest`], with 404 an error.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] naming the reference, and those of [`Client::get_manifest`].
    pub async fn resolve(&self, reference: &Reference) -> Result<FetchedManifest, Error> {
        self.get_manifest(reference)
            .await?
            .ok_or_else(|| Error::NotFound {
                reference: reference.to_string(),
            })
    }

    /// GETs the blob `descriptor` names from `repo`'s repository, following up to 5
    /// redirects (to other hosts without the Authorization header), reading at most
    /// `descriptor.size` bytes and checking size and digest.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`], [`Error::TooLarge`], [`Error::SizeMismatch`],
    /// [`Error::DigestMismatch`], [`Error::Insecure`] (http redirect), and HTTP errors.
    pub async fn get_blob(
        &self,
        repo: &Reference,
        descriptor: &Descriptor,
    ) -> Result<Vec<u8>, Error> {
        let url = self.url(repo, &format!("blobs/{}", descriptor.digest))?;
        let shown = url.to_string();
        let mut request = self.request(Method::GET, url, repo, Access::Pull);
        request.follow_redirects = true;
        let response = self.transport.send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(Error::NotFound {
                reference: format!("{}@{}", repo_name(repo), descriptor.digest),
            });
        }
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let bytes = read_limited(response, descriptor.size).await?;
        if bytes.len() as u64 != descriptor.size {
            return Err(Error::SizeMismatch {
                url: shown,
                expected: descriptor.size,
                actual: bytes.len() as u64,
            });
        }
        let actual = Digest::of(&bytes);
        if actual != descriptor.digest {
            return Err(Error::DigestMismatch {
                reference: shown,
                expected: descriptor.digest,
                actual,
            });
        }
        Ok(bytes)
    }

    /// Uploads `bytes` as a blob of `repo`'s repository unless a HEAD finds it there: a POST
    /// to `/blobs/uploads/`, then a monolithic PUT to the returned `Location` with
    /// `?digest=`. A failed upload is restarted from the POST (up to `retries` times).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidResponse`] without a `Location`, [`Error::Status`],
    /// [`Error::Unauthorized`], [`Error::Http`].
    pub async fn push_blob(&self, repo: &Reference, bytes: &[u8]) -> Result<Digest, Error> {
        let digest = Digest::of(bytes);
        let head_url = self.url(repo, &format!("blobs/{digest}"))?;
        let mut head = self.request(Method::HEAD, head_url, repo, Access::Push);
        head.retry = true;
        let response = self.transport.send(head).await?;
        if response.status().is_success() {
            return Ok(digest);
        }
        let mut attempt = 0;
        loop {
            match self.upload_blob(repo, digest, bytes).await {
                Ok(()) => return Ok(digest),
                Err(error) if error.is_retryable() && attempt < self.transport.config.retries => {
                    attempt += 1;
                    tracing::debug!(%error, attempt, "restarting blob upload");
                }
                Err(error) => return Err(error),
            }
        }
    }

    async fn upload_blob(
        &self,
        repo: &Reference,
        digest: Digest,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let start = self.url(repo, "blobs/uploads/")?;
        let mut post = self.request(Method::POST, start.clone(), repo, Access::Push);
        post.headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        let response = self.transport.send(post).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(status_error(response).await);
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Error::InvalidResponse {
                url: start.to_string(),
                reason: "blob upload answered 202 without a Location".to_owned(),
            })?;
        // The Location may be absolute or relative, with or without a query.
        let mut put_url = start.join(location).map_err(|e| Error::InvalidResponse {
            url: start.to_string(),
            reason: format!("blob upload Location {location:?} is not a URL: {e}"),
        })?;
        crate::transport::check_url(&put_url, self.transport.config.allow_insecure)?;
        put_url
            .query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        // Credentials go only to the registry's own origin.
        let same_origin = put_url.origin() == start.origin();
        let mut put = self.request(Method::PUT, put_url, repo, Access::Push);
        put.send_auth = same_origin;
        put.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        put.body = Some(bytes.to_vec());
        let response = self.transport.send(put).await?;
        if response.status() != StatusCode::CREATED {
            return Err(status_error(response).await);
        }
        Ok(())
    }

    /// PUTs a manifest under `tag_or_digest` with `Content-Type: media_type`. Retried like a
    /// GET: a manifest PUT is idempotent.
    ///
    /// # Errors
    ///
    /// [`Error::DigestMismatch`] when `tag_or_digest` is a digest other than that of `bytes`;
    /// [`Error::Status`] (the registry's error body included), [`Error::Unauthorized`],
    /// [`Error::Http`].
    pub async fn put_manifest(
        &self,
        repo: &Reference,
        tag_or_digest: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<PutManifest, Error> {
        let digest = Digest::of(bytes);
        if let Ok(named) = tag_or_digest.parse::<Digest>()
            && named != digest
        {
            return Err(Error::DigestMismatch {
                reference: format!("{}@{named}", repo_name(repo)),
                expected: named,
                actual: digest,
            });
        }
        let url = self.url(repo, &format!("manifests/{tag_or_digest}"))?;
        let mut request = self.request(Method::PUT, url, repo, Access::Push);
        request.headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(media_type).map_err(|_| Error::InvalidResponse {
                url: repo_name(repo),
                reason: format!("media type {media_type:?} is not a valid header value"),
            })?,
        );
        request.body = Some(bytes.to_vec());
        request.retry = true;
        let response = self.transport.send(request).await?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let oci_subject = response
            .headers()
            .get("OCI-Subject")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(PutManifest {
            digest,
            oci_subject,
        })
    }

    /// The referrers of `subject` in `repo`'s repository: the referrers API
    /// (`GET /v2/<repo>/referrers/<digest>`, used only on a 200 whose Content-Type is the OCI
    /// index type) and the `sha256-<hex>` fallback tag, requested concurrently; entries merged
    /// and deduplicated by digest, then filtered by `artifact_type` client-side.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIndex`] when the fallback tag or the API body is not a referrers index;
    /// [`Error::Unauthorized`], [`Error::Http`], [`Error::Status`] of the tag GET.
    pub async fn referrers(
        &self,
        repo: &Reference,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, Error> {
        let (api, tag) = tokio::join!(
            self.referrers_api(repo, subject),
            self.fallback_index(repo, subject)
        );
        let mut merged: Vec<Descriptor> = Vec::new();
        for entry in api?
            .into_iter()
            .flatten()
            .chain(tag?.into_iter().flat_map(|i| i.manifests))
        {
            if !merged.iter().any(|m| m.digest == entry.digest) {
                merged.push(entry);
            }
        }
        if let Some(wanted) = artifact_type {
            merged.retain(|m| m.artifact_type.as_deref() == Some(wanted));
        }
        Ok(merged)
    }

    /// PUTs the referrer `manifest` (which has a `subject`) by its digest. When the registry
    /// does not answer with `OCI-Subject` it keeps no referrers list, so the fallback tag is
    /// read, the referrer added (other entries kept, duplicates not added) and the tag
    /// written back. `artifact_type` overrides the entry's artifact type (default: the
    /// manifest's, else its config's media type).
    ///
    /// The read-modify-write is not atomic: registries such as docker-registry 2.8 ignore
    /// `If-Match`, so two concurrent writers may lose an entry (as with cosign and ggcr).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidIndex`] when the fallback tag holds anything but a referrers index (it
    /// is then left as it is); [`Error::InvalidManifest`] when `manifest` cannot be read, and
    /// those of [`Client::put_manifest`].
    pub async fn attach_referrer(
        &self,
        repo: &Reference,
        subject: &Digest,
        media_type: &str,
        manifest: &[u8],
        artifact_type: Option<&str>,
    ) -> Result<Digest, Error> {
        let digest = Digest::of(manifest);
        let put = self
            .put_manifest(repo, &digest.to_string(), media_type, manifest)
            .await?;
        if put.oci_subject.is_some() {
            return Ok(digest);
        }
        let mut entry = match ManifestDocument::parse(Some(media_type), manifest) {
            Ok(ManifestDocument::Manifest(parsed)) => parsed.referrer_descriptor(manifest),
            Ok(ManifestDocument::Index(parsed)) => {
                let mut entry = Descriptor::new(media_type, digest, manifest.len() as u64);
                entry.artifact_type = parsed.artifact_type;
                entry
            }
            Ok(_) => Descriptor::new(media_type, digest, manifest.len() as u64),
            Err(source) => {
                return Err(Error::InvalidManifest {
                    reference: format!("{}@{digest}", repo_name(repo)),
                    source,
                });
            }
        };
        if let Some(artifact_type) = artifact_type {
            entry.artifact_type = Some(artifact_type.to_owned());
        }
        let mut index = self
            .fallback_index(repo, subject)
            .await?
            .unwrap_or_default();
        index.add_referrer(entry);
        let tag = fallback_tag(subject);
        match self
            .put_manifest(repo, &tag, media_type::OCI_INDEX, &index.to_json())
            .await
        {
            Ok(_) => Ok(digest),
            // distribution refuses an index listing a manifest it no longer has (a referrer
            // deleted since it was listed): such an entry refers to nothing, so it is dropped
            // and the others are kept.
            Err(Error::Status {
                status: 400,
                ref message,
                ..
            }) if message.contains("MANIFEST_BLOB_UNKNOWN") => {
                let mut kept = Vec::with_capacity(index.manifests.len());
                for listed in std::mem::take(&mut index.manifests) {
                    let exists = listed.digest == digest
                        || self
                            .get_manifest(&repo.with_digest(listed.digest))
                            .await?
                            .is_some();
                    if exists {
                        kept.push(listed);
                    } else {
                        tracing::warn!(
                            referrer = %listed.digest,
                            tag,
                            "dropping a referrer the registry no longer has from the fallback index"
                        );
                    }
                }
                index.manifests = kept;
                self.put_manifest(repo, &tag, media_type::OCI_INDEX, &index.to_json())
                    .await?;
                Ok(digest)
            }
            Err(e) => Err(e),
        }
    }

    /// The tags of `repo`'s repository (`GET /v2/<repo>/tags/list`), following `Link`
    /// pagination.
    ///
    /// # Errors
    ///
    /// [`Error::NotFound`] for an unknown repository, [`Error::InvalidResponse`] for a body
    /// that is not `{"tags":[...]}`, and HTTP errors.
    pub async fn list_tags(&self, repo: &Reference) -> Result<Vec<String>, Error> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut url = self.url(repo, "tags/list")?;
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let mut request = self.request(Method::GET, url.clone(), repo, Access::Pull);
            request.retry = true;
            let response = self.transport.send(request).await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Err(Error::NotFound {
                    reference: repo_name(repo),
                });
            }
            if !response.status().is_success() {
                return Err(status_error(response).await);
            }
            let next = response
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .and_then(|link| url.join(&link).ok());
            let limit = self.transport.config.max_manifest_size as u64;
            let body = read_limited(response, limit).await?;
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| Error::InvalidResponse {
                    url: url.to_string(),
                    reason: format!("tag list is not {{\"tags\":[...]}} JSON: {e}"),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(next) => url = next,
                None => return Ok(tags),
            }
        }
        Ok(tags)
    }

    async fn fetch_manifest(
        &self,
        reference: &Reference,
        accept: &'static str,
    ) -> Result<Option<FetchedManifest>, Error> {
        let target = match (reference.digest(), reference.tag()) {
            (Some(digest), _) => digest.to_string(),
            (None, Some(tag)) => tag.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        let url = self.url(reference, &format!("manifests/{target}"))?;
        let mut request = self.request(Method::GET, url, reference, Access::Pull);
        request
            .headers
            .insert(header::ACCEPT, HeaderValue::from_static(accept));
        request.retry = true;
        let response = self.transport.send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let content_type = content_type(response.headers());
        let limit = self.transport.config.max_manifest_size as u64;
        let bytes = read_limited(response, limit).await?;
        let digest = Digest::of(&bytes);
        if let Some(expected) = reference.digest()
            && expected != digest
        {
            return Err(Error::DigestMismatch {
                reference: reference.to_string(),
                expected,
                actual: digest,
            });
        }
        #[derive(serde::Deserialize)]
        struct MediaType {
            #[serde(default, rename = "mediaType")]
            media_type: Option<String>,
        }
        let body_type = serde_json::from_slice::<MediaType>(&bytes)
            .ok()
            .and_then(|m| m.media_type);
        let Some(media_type) = body_type.or(content_type) else {
            return Err(Error::InvalidManifest {
                reference: reference.to_string(),
                source: waxseal_oci::Error::MissingMediaType,
            });
        };
        Ok(Some(FetchedManifest {
            bytes,
            digest,
            media_type,
        }))
    }

    async fn referrers_api(
        &self,
        repo: &Reference,
        subject: &Digest,
    ) -> Result<Option<Vec<Descriptor>>, Error> {
        let knows_none = |set: &std::collections::HashSet<String>| set.contains(repo.registry());
        if self
            .transport
            .no_referrers_api
            .lock()
            .is_ok_and(|set| knows_none(&set))
        {
            return Ok(None);
        }
        let url = self.url(repo, &format!("referrers/{subject}"))?;
        let mut request = self.request(Method::GET, url, repo, Access::Pull);
        request.headers.insert(
            header::ACCEPT,
            HeaderValue::from_static(media_type::OCI_INDEX),
        );
        request.retry = true;
        let response = self.transport.send(request).await?;
        if response.status() == StatusCode::NOT_FOUND
            && let Ok(mut set) = self.transport.no_referrers_api.lock()
        {
            set.insert(repo.registry().to_owned());
        }
        // ggcr `pkg/v1/remote/referrers.go`: the API only on 200 with the index type.
        if response.status() != StatusCode::OK
            || content_type(response.headers()).as_deref() != Some(media_type::OCI_INDEX)
        {
            return Ok(None);
        }
        let limit = self.transport.config.max_manifest_size as u64;
        let bytes = read_limited(response, limit).await?;
        let index = Index::parse_referrers(&bytes).map_err(|source| Error::InvalidIndex {
            reference: format!("{}/referrers/{subject}", repo_name(repo)),
            source,
        })?;
        Ok(Some(index.manifests))
    }

    /// The fallback tag's index; `None` when the tag does not exist.
    async fn fallback_index(
        &self,
        repo: &Reference,
        subject: &Digest,
    ) -> Result<Option<Index>, Error> {
        let tag =
            repo.with_tag(&fallback_tag(subject))
                .map_err(|source| Error::InvalidManifest {
                    reference: repo_name(repo),
                    source,
                })?;
        // Every manifest type, not only the index type: docker-registry answers 404 when the
        // stored type is not accepted, and a squatting image manifest would then be taken for
        // "no tag yet" and overwritten.
        let Some(fetched) = self.fetch_manifest(&tag, MANIFEST_ACCEPT).await? else {
            return Ok(None);
        };
        Index::parse_referrers(&fetched.bytes)
            .map(Some)
            .map_err(|source| Error::InvalidIndex {
                reference: tag.to_string(),
                source,
            })
    }

    fn url(&self, reference: &Reference, path: &str) -> Result<Url, Error> {
        let base = self.transport.base_url(reference.api_host())?;
        let text = format!("{}/{path}", reference.repository());
        base.join(&text).map_err(|e| Error::InvalidResponse {
            url: format!("{base}{text}"),
            reason: format!("not a URL: {e}"),
        })
    }

    fn request<'a>(
        &self,
        method: Method,
        url: Url,
        reference: &'a Reference,
        access: Access,
    ) -> Request<'a> {
        let actions = match access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        Request {
            method,
            url,
            registry: reference.registry(),
            scope: format!("repository:{}:{actions}", reference.repository()),
            headers: HeaderMap::new(),
            body: None,
            retry: false,
            follow_redirects: false,
            send_auth: true,
        }
    }
}

fn repo_name(repo: &Reference) -> String {
    format!("{}/{}", repo.registry(), repo.repository())
}

/// The media type of `Content-Type`, parameters dropped.
fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let media = value.split(';').next().unwrap_or(value).trim();
    (!media.is_empty()).then(|| media.to_owned())
}

/// The target of `rel="next"` in a `Link` header (RFC 8288).
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| target.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_next_link() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=b&n=1>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=b&n=1")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }
}
