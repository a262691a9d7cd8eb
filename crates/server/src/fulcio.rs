//! The Fulcio-compatible CA routes (sigstore/fulcio `fulcio.proto`, REST mapping):
//! `POST /api/v2/signingCert`, `GET /api/v2/trustBundle`, `GET /api/v2/configuration`, and the
//! legacy `GET /api/v1/rootCert`.
//!
//! A signing request is verified and its precertificate signed on a blocking thread (token
//! verification may fetch an issuer's JWKS), the precertificate is logged by the CT log
//! ([`CertificateTransparency`]), and the final certificate embeds exactly that one SCT.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use waxseal_ca::{Ca, CaError, SigningRequest};
use waxseal_oidc::JwksFetcher;
use waxseal_x509::SignedCertificateTimestamp;

use crate::error::{ApiError, media_type};

/// The largest signing request accepted (a CSR or key, a proof and a token).
const MAX_REQUEST_BYTES: usize = 64 * 1024;

/// Why a CT log gave no SCT.
#[derive(Debug)]
pub enum SubmitError {
    /// The log is overloaded; retry after the given time.
    Busy {
        /// When to retry.
        retry_after: Duration,
    },
    /// The submission failed; the message is logged, not sent to the client.
    Failed(String),
}

/// The future a [`CertificateTransparency`] submission returns.
pub type SubmitFuture<'a> =
    Pin<Box<dyn Future<Output = Result<SignedCertificateTimestamp, SubmitError>> + Send + 'a>>;

/// A CT log that logs precertificates for the CA: the built-in one, in process.
pub trait CertificateTransparency: Send + Sync + std::fmt::Debug {
    /// Logs `chain` (precertificate DER, then the issuing chain, root last) and returns the
    /// SCT once the entry is durable.
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> SubmitFuture<'_>;
}

/// The built-in CT log, in process: the precertificate is logged through the same checks as
/// `POST /ct/ct/v1/add-pre-chain`.
#[derive(Debug)]
pub struct BuiltinCt(pub Arc<waxseal_log::ct::CtLog>);

impl CertificateTransparency for BuiltinCt {
    fn add_pre_chain(&self, chain: Vec<Vec<u8>>) -> SubmitFuture<'_> {
        Box::pin(async move {
            match self.0.add_pre_chain(chain).await {
                Ok(response) => Ok(response.sct().clone()),
                Err(waxseal_log::ct::CtError::Log(waxseal_log::Error::Pushback {
                    retry_after,
                    ..
                })) => Err(SubmitError::Busy { retry_after }),
                Err(e) => Err(SubmitError::Failed(e.to_string())),
            }
        })
    }
}

/// The CA service: the certificate authority, its CT log, and how it fetches issuer keys.
pub struct Fulcio {
    ca: Ca,
    ct: Arc<dyn CertificateTransparency>,
    fetcher: Arc<dyn JwksFetcher + Send + Sync>,
}

impl std::fmt::Debug for Fulcio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fulcio")
            .field("ca", &self.ca)
            .field("ct", &self.ct)
            .finish_non_exhaustive()
    }
}

impl Fulcio {
    /// A CA service issuing with `ca`, logging to `ct`, fetching JWKS with `fetcher`.
    pub fn new(
        ca: Ca,
        ct: Arc<dyn CertificateTransparency>,
        fetcher: Arc<dyn JwksFetcher + Send + Sync>,
    ) -> Self {
        Self { ca, ct, fetcher }
    }

    /// The certificate authority.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// Issues a certificate for a parsed request at `now`: what `POST /api/v2/signingCert`
    /// does after parsing, for benchmarks and in-process callers.
    ///
    /// # Errors
    ///
    /// The request's [`CaError`], or a CT failure rendered as a CA error message.
    pub async fn issue(
        self: &Arc<Self>,
        request: SigningRequest,
        now: SystemTime,
    ) -> Result<waxseal_ca::Issued, IssueError> {
        let this = Arc::clone(self);
        let prepared = tokio::task::spawn_blocking(move || {
            this.ca.prepare(request, now, this.fetcher.as_ref())
        })
        .await
        .map_err(|e| IssueError::Submit(SubmitError::Failed(e.to_string())))??;
        let mut chain = Vec::with_capacity(3);
        chain.push(prepared.precertificate().der().to_vec());
        chain.extend(self.ca.chain_der());
        let sct = self
            .ct
            .add_pre_chain(chain)
            .await
            .map_err(IssueError::Submit)?;
        Ok(self.ca.finish(&prepared, sct)?)
    }
}

/// Why [`Fulcio::issue`] failed.
#[derive(Debug)]
pub enum IssueError {
    /// The CA refused or failed.
    Ca(CaError),
    /// The CT log gave no SCT.
    Submit(SubmitError),
}

impl From<CaError> for IssueError {
    fn from(e: CaError) -> Self {
        Self::Ca(e)
    }
}

impl std::fmt::Display for IssueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ca(e) => e.fmt(f),
            Self::Submit(SubmitError::Busy { .. }) => f.write_str("the CT log is overloaded"),
            Self::Submit(SubmitError::Failed(m)) => write!(f, "CT log submission failed: {m}"),
        }
    }
}

impl From<IssueError> for ApiError {
    fn from(e: IssueError) -> Self {
        match e {
            IssueError::Ca(e) => e.into(),
            IssueError::Submit(SubmitError::Busy { retry_after }) => Self::Pushback { retry_after },
            IssueError::Submit(SubmitError::Failed(m)) => {
                Self::Internal(format!("CT log submission failed: {m}"))
            }
        }
    }
}

impl From<CaError> for ApiError {
    fn from(e: CaError) -> Self {
        let message = e.to_string();
        match e.status() {
            400 => Self::BadRequest(message),
            401 => Self::Unauthorized(message),
            403 => Self::Forbidden(message),
            _ => Self::Internal(message),
        }
    }
}

/// The CA routes.
pub fn router(fulcio: Arc<Fulcio>) -> Router {
    Router::new()
        .route("/api/v2/signingCert", post(signing_cert))
        .route("/api/v2/trustBundle", get(trust_bundle))
        .route("/api/v2/configuration", get(configuration))
        .route("/api/v1/rootCert", get(root_cert))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(fulcio)
}

/// `application/json` `CreateSigningCertificateRequest` → 201 `SigningCertificate`.
async fn signing_cert(
    State(fulcio): State<Arc<Fulcio>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (media_type, content_type) = media_type(&headers);
    if media_type != "application/json" {
        return Err(ApiError::UnsupportedMediaType(format!(
            "unsupported content type {content_type:?}: send application/json"
        )));
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let request = SigningRequest::from_json(&body, bearer)?;
    let issued = fulcio.issue(request, SystemTime::now()).await?;
    Ok((StatusCode::CREATED, Json(issued.response_json())).into_response())
}

async fn trust_bundle(State(fulcio): State<Arc<Fulcio>>) -> Response {
    Json(fulcio.ca.trust_bundle_json()).into_response()
}

async fn configuration(State(fulcio): State<Arc<Fulcio>>) -> Response {
    Json(fulcio.ca.configuration_json()).into_response()
}

/// The issuing chain as PEM, intermediate first.
async fn root_cert(State(fulcio): State<Arc<Fulcio>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/pem-certificate-chain")],
        fulcio.ca.authority().chain_pem(),
    )
        .into_response()
}
