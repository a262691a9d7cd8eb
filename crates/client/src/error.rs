//! The crate's error type: every failure names the stage of the signing flow it happened in.

use std::fmt;

/// A stage of the signing flow, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Getting a signing certificate from the CA (Fulcio).
    Certificate,
    /// Getting an identity token from the OIDC issuer.
    IdentityToken,
    /// Logging the signature in the transparency log (Rekor).
    LogEntry,
    /// Getting an RFC 3161 timestamp.
    Timestamp,
    /// Fetching the instance's client trust config.
    TrustConfig,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Certificate => "getting a signing certificate",
            Self::IdentityToken => "getting an identity token",
            Self::LogEntry => "logging the signature",
            Self::Timestamp => "timestamping the signature",
            Self::TrustConfig => "fetching the trust config",
        })
    }
}

/// Why signing (or a step of it) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The CA issued a certificate for another key than the one that asked.
    #[error("{stage}: the certificate from {url} names another public key than ours")]
    CertificateKeyMismatch {
        /// The stage ([`Stage::Certificate`]).
        stage: Stage,
        /// The CA's URL.
        url: String,
    },
    /// An input to sign is not usable (`what` names it).
    #[error("{what}: {reason}")]
    InvalidInput {
        /// What was given (`the digest "sha256:…"`, `the in-toto statement`).
        what: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The identity token cannot be used.
    #[error("the identity token is not usable: {reason}")]
    InvalidToken {
        /// What is wrong with it.
        reason: String,
    },
    /// A service answered, but not with a reply of the expected shape.
    #[error("{stage}: the reply from {url} is malformed: {reason}")]
    MalformedReply {
        /// Where in the flow.
        stage: Stage,
        /// The URL asked.
        url: String,
        /// The parser's message.
        reason: String,
    },
    /// The signing config names no usable service of a kind.
    #[error(
        "the signing config lists no usable {kind}: none is valid now with a supported API \
         version ({supported})"
    )]
    NoService {
        /// `certificate authority`, `transparency log`...
        kind: &'static str,
        /// The API versions this client speaks.
        supported: &'static str,
    },
    /// The trusted root has nothing to check a reply against.
    #[error("{stage}: the trusted root has no {what}")]
    NotInTrustedRoot {
        /// Where in the flow.
        stage: Stage,
        /// What is missing (`transparency log with log ID …`).
        what: String,
    },
    /// A service refused the request.
    #[error("{stage}: {url} refused the request: HTTP {status}: {message}")]
    Refused {
        /// Where in the flow.
        stage: Stage,
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The service's message (its error JSON's `message`, or the body's start).
        message: String,
    },
    /// The assembled bundle failed full offline verification against the trusted root (a
    /// service misbehaved in a way the per-stage checks did not catch).
    #[error("the signed bundle does not verify against the trusted root: {0}")]
    SelfCheck(#[source] waxseal_verify::Error),
    /// Signing with the key failed.
    #[error("couldn't sign: {0}")]
    Signing(#[source] waxseal_crypto::Error),
    /// The request could not be sent or its reply not read.
    #[error("{stage}: couldn't reach {url}: {reason}")]
    Transport {
        /// Where in the flow.
        stage: Stage,
        /// The URL asked.
        url: String,
        /// The HTTP client's message.
        reason: String,
    },
    /// A reply failed a check against the trusted root or the request: the service may be
    /// misbehaving, or the trust config is not this instance's.
    #[error("{stage}: the reply from {url} does not verify: {reason}")]
    Unverified {
        /// Where in the flow.
        stage: Stage,
        /// The URL asked.
        url: String,
        /// The check that failed.
        reason: String,
    },
}

impl Error {
    /// The stage the error happened in, if it belongs to one.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            Self::CertificateKeyMismatch { stage, .. }
            | Self::MalformedReply { stage, .. }
            | Self::NotInTrustedRoot { stage, .. }
            | Self::Refused { stage, .. }
            | Self::Transport { stage, .. }
            | Self::Unverified { stage, .. } => Some(*stage),
            _ => None,
        }
    }
}
