//! A misbehaving registry: what a real one cannot be made to do.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use waxseal_oci::{Descriptor, Digest, Reference, media_type};
use waxseal_registry::{Client, ClientConfig, Credentials, Error};

use crate::support::{config, serve};

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;

fn manifest_response() -> Response {
    ([(header::CONTENT_TYPE, media_type::OCI_MANIFEST)], MANIFEST).into_response()
}

fn reference(host: &str, rest: &str) -> Reference {
    Reference::parse(&format!("{host}/{rest}")).unwrap()
}

fn client_with(retries: u32) -> Client {
    Client::new(ClientConfig {
        retries,
        ..config()
    })
    .unwrap()
}

#[tokio::test]
async fn rejects_a_body_that_does_not_match_the_requested_digest() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|| async { manifest_response() }),
    ))
    .await;
    let client = client_with(0);
    let asked = Digest::of(b"something else");
    let err = client
        .get_manifest(&reference(&host, &format!("r@{asked}")))
        .await
        .unwrap_err();
    match &err {
        Error::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(*expected, asked);
            assert_eq!(*actual, Digest::of(MANIFEST.as_bytes()));
        }
        other => panic!("want DigestMismatch, got {other}"),
    }
    assert!(err.to_string().contains(&host), "{err}");
    // By tag the same body is accepted, and its digest is computed from the bytes.
    let fetched = client.resolve(&reference(&host, "r:v1")).await.unwrap();
    assert_eq!(fetched.digest, Digest::of(MANIFEST.as_bytes()));
}

#[tokio::test]
async fn sends_every_manifest_accept_type() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|headers: HeaderMap| async move {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let all = [
                media_type::OCI_MANIFEST,
                media_type::OCI_INDEX,
                media_type::DOCKER_MANIFEST,
                media_type::DOCKER_MANIFEST_LIST,
            ];
            if all.iter().all(|t| accept.contains(t)) {
                manifest_response()
            } else {
                StatusCode::NOT_FOUND.into_response()
            }
        }),
    ))
    .await;
    client_with(0)
        .resolve(&reference(&host, "r:v1"))
        .await
        .unwrap();
}

#[tokio::test]
async fn refuses_oversize_manifest_with_content_length() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|| async { vec![b' '; 2048] }),
    ))
    .await;
    let client = Client::new(ClientConfig {
        max_manifest_size: 1024,
        ..config()
    })
    .unwrap();
    let err = client
        .get_manifest(&reference(&host, "r:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 1024, .. }), "{err}");
}

#[tokio::test]
async fn refuses_oversize_manifest_while_streaming() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|| async {
            let (mut sender, body) = http_body_util::channel::Channel::<Bytes>::new(4);
            tokio::spawn(async move {
                // Far more than the limit, with no Content-Length; the client must stop early.
                for _ in 0..1024 {
                    if sender
                        .send_data(Bytes::from(vec![b' '; 1024]))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
            Body::new(body)
        }),
    ))
    .await;
    let client = Client::new(ClientConfig {
        max_manifest_size: 4096,
        ..config()
    })
    .unwrap();
    let err = client
        .get_manifest(&reference(&host, "r:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 4096, .. }), "{err}");
}

#[tokio::test]
async fn retries_after_429() {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(move || {
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "0")]).into_response()
                } else {
                    manifest_response()
                }
            }
        }),
    ))
    .await;
    let client = client_with(3);
    client.resolve(&reference(&host, "r:v1")).await.unwrap();
    assert_eq!(client.requests(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn gives_up_on_503_after_the_retries() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#,
            )
        }),
    ))
    .await;
    let client = client_with(2);
    let err = client
        .get_manifest(&reference(&host, "r:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 503, .. }), "{err}");
    assert_eq!(client.requests(), 3);
    let text = err.to_string();
    assert!(text.contains("503") && text.contains(&host), "{text}");
    assert!(text.contains("UNAVAILABLE: try later"), "{text}");
}

#[tokio::test]
async fn includes_registry_error_bodies() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        put(|| async {
            (
                StatusCode::BAD_REQUEST,
                r#"{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid","detail":{}}]}"#,
            )
        }),
    ))
    .await;
    let err = client_with(0)
        .put_manifest(
            &reference(&host, "r"),
            "v1",
            media_type::OCI_MANIFEST,
            MANIFEST.as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Status { status: 400, .. }), "{err}");
    assert!(
        err.to_string()
            .contains("MANIFEST_INVALID: manifest invalid"),
        "{err}"
    );
}

#[tokio::test]
async fn bearer_token_flow_with_scope() {
    let host_cell: Arc<Mutex<String>> = Arc::default();
    let realm_host = host_cell.clone();
    let router = Router::new()
        .route(
            "/v2/r/manifests/{reference}",
            get(move |headers: HeaderMap| {
                let realm_host = realm_host.clone();
                async move {
                    let authorized = headers
                        .get(header::AUTHORIZATION)
                        .is_some_and(|v| v == "Bearer tok-pull");
                    if authorized {
                        return manifest_response();
                    }
                    let realm = format!("http://{}/token", realm_host.lock().unwrap());
                    (
                        StatusCode::UNAUTHORIZED,
                        [(
                            header::WWW_AUTHENTICATE,
                            format!(
                                r#"Bearer realm="{realm}",service="fake-registry",scope="repository:r:pull""#
                            ),
                        )],
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/token",
            get(|uri: axum::http::Uri, headers: HeaderMap| async move {
                let query = uri.query().unwrap_or_default().to_owned();
                let basic = headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                // base64("u:p")
                if query.contains("service=fake-registry")
                    && query.contains("scope=repository%3Ar%3Apull")
                    && basic == "Basic dTpw"
                {
                    ([(header::CONTENT_TYPE, "application/json")], r#"{"access_token":"tok-pull"}"#)
                        .into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        );
    let host = serve(router).await;
    *host_cell.lock().unwrap() = host.clone();
    let client = Client::new(ClientConfig {
        credentials: Some(Credentials::new("u", "p")),
        ..config()
    })
    .unwrap();
    let image = reference(&host, "r:v1");
    client.resolve(&image).await.unwrap();
    assert_eq!(client.requests(), 3, "401, token, retry");
    // The token is cached per (registry, scope).
    client.resolve(&image).await.unwrap();
    assert_eq!(client.requests(), 4);

    // Without the credentials the token endpoint refuses: Unauthorized.
    let anonymous = client_with(0);
    let err = anonymous.resolve(&image).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
}

#[tokio::test]
async fn refuses_a_plain_http_realm_off_loopback() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|| async {
            (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="http://auth.example.com/token",service="x""#,
                )],
            )
        }),
    ))
    .await;
    let client = client_with(0);
    let err = client
        .get_manifest(&reference(&host, "r:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Insecure { .. }), "{err}");
    assert!(err.to_string().contains("auth.example.com"), "{err}");
    assert_eq!(client.requests(), 1, "no request to the insecure realm");
}

#[tokio::test]
async fn follows_blob_redirect_without_authorization() {
    let blob = b"layer bytes".to_vec();
    let digest = Digest::of(&blob);
    let storage_saw_auth = Arc::new(Mutex::new(None::<bool>));
    let saw = storage_saw_auth.clone();
    let served = blob.clone();
    let storage = serve(Router::new().route(
        "/storage/blob",
        get(move |headers: HeaderMap| {
            let saw = saw.clone();
            let served = served.clone();
            async move {
                *saw.lock().unwrap() = Some(headers.contains_key(header::AUTHORIZATION));
                served
            }
        }),
    ))
    .await;
    let registry = serve(Router::new().route(
        "/v2/r/blobs/{digest}",
        get(move |headers: HeaderMap| {
            let storage = storage.clone();
            async move {
                if !headers.contains_key(header::AUTHORIZATION) {
                    return (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, r#"Basic realm="fake""#)],
                    )
                        .into_response();
                }
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(
                        header::LOCATION,
                        format!("http://{storage}/storage/blob?sig=x"),
                    )],
                )
                    .into_response()
            }
        }),
    ))
    .await;
    let client = Client::new(ClientConfig {
        credentials: Some(Credentials::new("u", "p")),
        ..config()
    })
    .unwrap();
    let descriptor = Descriptor::new("application/octet-stream", digest, blob.len() as u64);
    let got = client
        .get_blob(&reference(&registry, "r"), &descriptor)
        .await
        .unwrap();
    assert_eq!(got, blob);
    assert_eq!(*storage_saw_auth.lock().unwrap(), Some(false));

    // A blob bigger or different than its descriptor is refused.
    let short = Descriptor::new("application/octet-stream", digest, 4);
    let err = client
        .get_blob(&reference(&registry, "r"), &short)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    let wrong = Descriptor::new(
        "application/octet-stream",
        Digest::of(b"x"),
        blob.len() as u64,
    );
    let err = client
        .get_blob(&reference(&registry, "r"), &wrong)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn refuses_a_redirect_on_a_manifest_get() {
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        get(|| async {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, "http://127.0.0.1:1/elsewhere")],
            )
        }),
    ))
    .await;
    let client = client_with(0);
    let err = client
        .get_manifest(&reference(&host, "r:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Redirect { status: 307, .. }), "{err}");
    assert!(err.to_string().contains("/v2/r/manifests/v1"), "{err}");
    assert_eq!(client.requests(), 1);
}

#[tokio::test]
async fn refuses_too_many_blob_redirects() {
    let host = serve(Router::new().route(
        "/v2/r/blobs/{digest}",
        get(|uri: axum::http::Uri| async move {
            (
                StatusCode::FOUND,
                [(header::LOCATION, format!("{}x", uri.path()))],
            )
        }),
    ))
    .await;
    let client = client_with(0);
    let descriptor = Descriptor::new("application/octet-stream", Digest::of(b"a"), 1);
    let err = client
        .get_blob(&reference(&host, "r"), &descriptor)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::TooManyRedirects { limit: 5, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn restarts_a_failed_blob_upload_from_post() {
    let posts = Arc::new(AtomicU32::new(0));
    let puts = Arc::new(AtomicU32::new(0));
    let (p1, p2) = (posts.clone(), puts.clone());
    let router = Router::new()
        .route(
            "/v2/r/blobs/{digest}",
            axum::routing::head(|| async { StatusCode::NOT_FOUND }),
        )
        .route(
            "/v2/r/blobs/uploads/",
            post(move || {
                let p1 = p1.clone();
                async move {
                    let n = p1.fetch_add(1, Ordering::SeqCst);
                    (
                        StatusCode::ACCEPTED,
                        [(
                            header::LOCATION,
                            format!("/v2/r/blobs/uploads/u{n}?_state=abc"),
                        )],
                    )
                }
            }),
        )
        .route(
            "/v2/r/blobs/uploads/{id}",
            put(move |uri: axum::http::Uri, body: Bytes| {
                let p2 = p2.clone();
                async move {
                    if p2.fetch_add(1, Ordering::SeqCst) == 0 {
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                    let query = uri.query().unwrap_or_default();
                    let want = format!("digest=sha256%3A{}", Digest::of(&body).hex());
                    if uri.path() == "/v2/r/blobs/uploads/u1"
                        && query.contains("_state=abc")
                        && query.contains(&want)
                    {
                        StatusCode::CREATED.into_response()
                    } else {
                        StatusCode::BAD_REQUEST.into_response()
                    }
                }
            }),
        );
    let host = serve(router).await;
    let digest = client_with(2)
        .push_blob(&reference(&host, "r"), b"data")
        .await
        .unwrap();
    assert_eq!(digest, Digest::of(b"data"));
    assert_eq!(posts.load(Ordering::SeqCst), 2);
    assert_eq!(puts.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn follows_tag_list_pagination() {
    let router = Router::new().route(
        "/v2/r/tags/list",
        get(|uri: axum::http::Uri| async move {
            if uri.query().is_some_and(|q| q.contains("last=b")) {
                (StatusCode::OK, r#"{"name":"r","tags":["c"]}"#).into_response()
            } else {
                (
                    StatusCode::OK,
                    [(header::LINK, r#"</v2/r/tags/list?last=b&n=2>; rel="next""#)],
                    r#"{"name":"r","tags":["a","b"]}"#,
                )
                    .into_response()
            }
        }),
    );
    let host = serve(router).await;
    let tags = client_with(0)
        .list_tags(&reference(&host, "r"))
        .await
        .unwrap();
    assert_eq!(tags, ["a", "b", "c"]);
}

#[tokio::test]
async fn uses_the_referrers_api_only_with_the_index_content_type() {
    let subject = Digest::of(b"subject");
    let api_entry = Digest::of(b"from api");
    let tag_entry = Digest::of(b"from tag");
    let index = |d: Digest| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{{"mediaType":"{}","size":1,"digest":"{d}","artifactType":"a/b"}}]}}"#,
            media_type::OCI_INDEX,
            media_type::OCI_MANIFEST
        )
    };
    let (api_body, tag_body) = (index(api_entry), index(tag_entry));
    let router = Router::new()
        .route(
            "/v2/r/referrers/{digest}",
            get(move || {
                let body = api_body.clone();
                async move { ([(header::CONTENT_TYPE, media_type::OCI_INDEX)], body) }
            }),
        )
        .route(
            "/v2/r/manifests/{reference}",
            get(move || {
                let body = tag_body.clone();
                async move { ([(header::CONTENT_TYPE, media_type::OCI_INDEX)], body) }
            }),
        )
        .route(
            "/v2/q/referrers/{digest}",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], "{}") }),
        )
        .route(
            "/v2/q/manifests/{reference}",
            get(|| async { StatusCode::NOT_FOUND }),
        );
    let host = serve(router).await;
    let client = client_with(0);
    let found = client
        .referrers(&reference(&host, "r"), &subject, Some("a/b"))
        .await
        .unwrap();
    let digests: Vec<_> = found.iter().map(|d| d.digest).collect();
    assert_eq!(digests, [api_entry, tag_entry]);
    assert_eq!(client.requests(), 2);
    // A 200 that is not an index is not the API; no tag means no referrers.
    let none = client
        .referrers(&reference(&host, "q"), &subject, None)
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn retries_connect_errors_then_gives_up() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = client_with(2);
    let err = client
        .get_manifest(&reference(&format!("127.0.0.1:{port}"), "r:v1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    assert_eq!(client.requests(), 3);
}

#[tokio::test]
async fn retries_an_idempotent_manifest_put() {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let host = serve(Router::new().route(
        "/v2/r/manifests/{reference}",
        put(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                    return StatusCode::BAD_GATEWAY.into_response();
                }
                assert_eq!(headers[header::CONTENT_TYPE], media_type::OCI_MANIFEST);
                assert_eq!(&body[..], MANIFEST.as_bytes());
                (StatusCode::CREATED, [("OCI-Subject", "sha256:abc")]).into_response()
            }
        }),
    ))
    .await;
    let put = client_with(3)
        .put_manifest(
            &reference(&host, "r"),
            "v1",
            media_type::OCI_MANIFEST,
            MANIFEST.as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(put.digest, Digest::of(MANIFEST.as_bytes()));
    assert_eq!(put.oci_subject.as_deref(), Some("sha256:abc"));

    // A digest that is not the body's is refused before sending.
    let err = client_with(0)
        .put_manifest(
            &reference(&host, "r"),
            &Digest::of(b"other").to_string(),
            media_type::OCI_MANIFEST,
            MANIFEST.as_bytes(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err}");
}

#[tokio::test]
async fn asks_for_a_push_token_on_writes() {
    let host_cell: Arc<Mutex<String>> = Arc::default();
    let realm_host = host_cell.clone();
    let router = Router::new()
        .route(
            "/v2/r/manifests/{reference}",
            put(move |headers: HeaderMap| {
                let realm_host = realm_host.clone();
                async move {
                    if headers
                        .get(header::AUTHORIZATION)
                        .is_some_and(|v| v == "Bearer tok-push")
                    {
                        return StatusCode::CREATED.into_response();
                    }
                    let realm = format!("http://{}/token", realm_host.lock().unwrap());
                    (
                        StatusCode::UNAUTHORIZED,
                        [(
                            header::WWW_AUTHENTICATE,
                            format!(r#"Bearer realm="{realm}",service="s""#),
                        )],
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/token",
            get(|uri: axum::http::Uri| async move {
                if uri
                    .query()
                    .is_some_and(|q| q.contains("scope=repository%3Ar%3Apull%2Cpush"))
                {
                    r#"{"token":"tok-push"}"#.into_response()
                } else {
                    StatusCode::UNAUTHORIZED.into_response()
                }
            }),
        );
    let host = serve(router).await;
    *host_cell.lock().unwrap() = host.clone();
    // Anonymous token (no credentials): the token endpoint decides.
    client_with(0)
        .put_manifest(
            &reference(&host, "r"),
            "v1",
            media_type::OCI_MANIFEST,
            MANIFEST.as_bytes(),
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn refuses_a_blob_redirect_to_plain_http_off_loopback() {
    let host = serve(Router::new().route(
        "/v2/r/blobs/{digest}",
        get(|| async {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, "http://storage.example.com/blob")],
            )
        }),
    ))
    .await;
    let client = client_with(0);
    let descriptor = Descriptor::new("application/octet-stream", Digest::of(b"a"), 1);
    let err = client
        .get_blob(&reference(&host, "r"), &descriptor)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Insecure { .. }), "{err}");
    assert!(err.to_string().contains("storage.example.com"), "{err}");
    assert_eq!(client.requests(), 1);
}

#[tokio::test]
async fn debug_output_never_shows_secrets() {
    let client = Client::new(ClientConfig {
        credentials: Some(Credentials::new("user", "hunter2")),
        ..config()
    })
    .unwrap();
    let shown = format!("{client:?}");
    assert!(
        shown.contains("user") && !shown.contains("hunter2"),
        "{shown}"
    );
}

#[tokio::test]
async fn exchanges_an_identity_token_for_a_registry_token() {
    let host_cell: Arc<Mutex<String>> = Arc::default();
    let realm_host = host_cell.clone();
    let router = Router::new()
        .route(
            "/v2/r/manifests/{reference}",
            get(move |headers: HeaderMap| {
                let realm_host = realm_host.clone();
                async move {
                    if headers
                        .get(header::AUTHORIZATION)
                        .is_some_and(|v| v == "Bearer from-refresh")
                    {
                        return manifest_response();
                    }
                    let realm = format!("http://{}/token", realm_host.lock().unwrap());
                    (
                        StatusCode::UNAUTHORIZED,
                        [(
                            header::WWW_AUTHENTICATE,
                            format!(
                                r#"Bearer realm="{realm}",service="s",scope="repository:r:pull""#
                            ),
                        )],
                    )
                        .into_response()
                }
            }),
        )
        .route(
            "/token",
            post(|headers: HeaderMap, body: String| async move {
                let form = headers[header::CONTENT_TYPE] == "application/x-www-form-urlencoded";
                if form
                    && body.contains("grant_type=refresh_token")
                    && body.contains("refresh_token=my-identity-token")
                    && body.contains("scope=repository%3Ar%3Apull")
                    && body.contains("service=s")
                {
                    r#"{"access_token":"from-refresh"}"#.into_response()
                } else {
                    StatusCode::BAD_REQUEST.into_response()
                }
            }),
        );
    let host = serve(router).await;
    *host_cell.lock().unwrap() = host.clone();
    let client = Client::new(ClientConfig {
        credentials: Some(Credentials::new(
            Credentials::IDENTITY_TOKEN_USERNAME,
            "my-identity-token",
        )),
        ..config()
    })
    .unwrap();
    client.resolve(&reference(&host, "r:v1")).await.unwrap();
}
