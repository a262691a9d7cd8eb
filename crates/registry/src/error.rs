//! The one error type of this crate.

use std::path::PathBuf;

use waxseal_oci::Digest;

/// Why a registry operation failed. Every message names the registry, reference or URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A docker credential helper could not be run or gave unreadable output.
    #[error("docker credential helper {helper:?} for {registry} failed: {reason}")]
    CredentialHelper {
        /// The helper program (`docker-credential-<name>`).
        helper: String,
        /// The registry credentials were asked for.
        registry: String,
        /// What went wrong (the helper's stderr or the parse error).
        reason: String,
    },
    /// Content does not hash to the digest it was asked for by.
    #[error("{reference}: content digest is {actual}, expected {expected}")]
    DigestMismatch {
        /// The reference or blob URL fetched.
        reference: String,
        /// The digest asked for.
        expected: Digest,
        /// The sha256 of the bytes received.
        actual: Digest,
    },
    /// The docker config file exists but cannot be read.
    #[error("couldn't read docker config {path}: {reason}")]
    DockerConfig {
        /// The config file.
        path: PathBuf,
        /// The I/O or JSON error.
        reason: String,
    },
    /// The HTTP request failed below HTTP (connect, TLS, timeout, body read).
    #[error("request to {url} failed")]
    Http {
        /// The URL requested.
        url: String,
        /// reqwest's error.
        #[source]
        source: reqwest::Error,
    },
    /// Plain http was needed for a host that is not loopback, without `allow_insecure`.
    #[error(
        "refusing plain http to {url}: only loopback registries use http unless insecure \
         registries are allowed"
    )]
    Insecure {
        /// The http URL.
        url: String,
    },
    /// The referrers-tag fallback holds something that is not an OCI referrers index; it is
    /// reported, never overwritten.
    #[error("{reference}: the referrers fallback tag is not a referrers index: {source}")]
    InvalidIndex {
        /// The fallback tag reference.
        reference: String,
        /// Why the body was refused.
        #[source]
        source: waxseal_oci::Error,
    },
    /// A manifest body cannot be read.
    #[error("{reference}: invalid manifest: {source}")]
    InvalidManifest {
        /// The manifest reference.
        reference: String,
        /// Why the body was refused.
        #[source]
        source: waxseal_oci::Error,
    },
    /// A registry response lacks something the protocol requires.
    #[error("{url}: invalid registry response: {reason}")]
    InvalidResponse {
        /// The URL requested.
        url: String,
        /// What is missing or malformed.
        reason: String,
    },
    /// The manifest or tag does not exist.
    #[error("{reference}: not found in the registry")]
    NotFound {
        /// The reference asked for.
        reference: String,
    },
    /// A redirect was answered to a request that must not be redirected (only blob GETs are
    /// followed), or a blob redirect had no usable `Location`.
    #[error("{url}: unexpected redirect (HTTP {status}) to {location:?}")]
    Redirect {
        /// The URL requested.
        url: String,
        /// The 3xx status.
        status: u16,
        /// The `Location` header, if any.
        location: Option<String>,
    },
    /// A blob is shorter than its descriptor's size.
    #[error("{url}: blob is {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        /// The blob URL.
        url: String,
        /// The descriptor's size.
        expected: u64,
        /// The bytes received.
        actual: u64,
    },
    /// The registry answered with an unexpected status; `message` holds its error body.
    #[error("{url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        /// The HTTP status.
        status: u16,
        /// The URL requested.
        url: String,
        /// The registry's `{"errors":[{"code","message"}]}` as `CODE: message`, or empty.
        message: String,
    },
    /// Content was larger than allowed; reading stopped at the limit.
    #[error("{url}: response body is over the {limit}-byte limit")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// A blob GET was redirected more than 5 times.
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects {
        /// The URL first requested.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The registry refused the request for lack of (valid) credentials.
    #[error(
        "{registry} requires authentication{}: log in with `docker login {registry}` or pass \
         --registry-username/--registry-password",
        if message.is_empty() { String::new() } else { format!(" ({message})") }
    )]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The registry's error body, if any.
        message: String,
    },
}

impl Error {
    /// Whether retrying the same request may succeed: 429, 502, 503, 504 and connect errors
    /// (not timeouts: a hung registry must not cost `retries` times the timeout).
    pub(crate) fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => matches!(status, 429 | 502 | 503 | 504),
            Self::Http { source, .. } => source.is_connect(),
            _ => false,
        }
    }
}
