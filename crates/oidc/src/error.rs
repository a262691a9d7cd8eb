//! Errors, one type per boundary: token verification ([`Error`], a CA answers 401), identity
//! mapping ([`IdentityError`], 401 as Fulcio's principals do), issuance rules ([`Refused`], 403),
//! configuration ([`ConfigError`], fatal at start-up) and minting ([`MintError`], 500).

use thiserror::Error as ThisError;

/// Why the caller's fetch of a discovery document or JWKS failed.
///
/// Returned by [`crate::JwksFetcher::fetch`] implementations; the verifier wraps it in
/// [`Error::Fetch`] together with the URL.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum FetchError {
    /// The server answered with a non-success HTTP status.
    #[error("HTTP status {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The request could not be made or completed (DNS, TLS, timeout, body too large...). The
    /// payload is the HTTP client's error display.
    #[error("transport: {0}")]
    Transport(String),
}

/// Why an identity token was rejected. Every variant is an authentication failure (HTTP 401 on
/// the Fulcio API) and names the problem.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum Error {
    /// The token header says `alg: none`: unsigned tokens are never accepted.
    #[error("token is unsigned (alg \"none\"); a signed identity token is required")]
    AlgorithmNone,
    /// The token's `aud` does not contain the client id configured for its issuer.
    #[error("token audience {actual:?} does not contain the expected client id {expected:?}")]
    AudienceMismatch {
        /// The configured client id.
        expected: String,
        /// The token's audiences.
        actual: Vec<String>,
    },
    /// The signature does not verify under the issuer's key(s).
    #[error("token signature does not verify under issuer key {kid:?}")]
    BadSignature {
        /// The key id from the token header, if any.
        kid: Option<String>,
    },
    /// A claim has the wrong JSON type or an invalid value.
    #[error("token claim {claim:?} is invalid: expected {expected}")]
    ClaimInvalid {
        /// The claim name.
        claim: &'static str,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// The discovery document could not be parsed or has no `jwks_uri`.
    #[error("OIDC discovery document at {url} is invalid: {reason}")]
    DiscoveryInvalid {
        /// Where it was fetched from.
        url: String,
        /// The parser's error display.
        reason: String,
    },
    /// The discovery document names another issuer (OpenID Connect Discovery 1.0 §4.3).
    #[error("OIDC discovery document names issuer {actual:?}, expected {expected:?}")]
    DiscoveryIssuerMismatch {
        /// The token's issuer.
        expected: String,
        /// The document's `issuer`.
        actual: String,
    },
    /// An email issuer's token has `email_verified` missing or not true.
    #[error("email {email:?} is not verified by the issuer (email_verified must be true)")]
    EmailNotVerified {
        /// The token's email claim.
        email: String,
    },
    /// The token expired: `exp` is not after `now`. There is no leeway on `exp` (Fulcio and
    /// RFC 7519 §4.1.4 allow none): a token with `exp == now` is expired.
    #[error("token expired at {exp} (now {now}; exp has no leeway); request a fresh token")]
    Expired {
        /// The token's `exp`.
        exp: i64,
        /// The verification time.
        now: i64,
    },
    /// Fetching the discovery document or JWKS failed. Not the client's fault: the CA should
    /// answer 503 and log the source.
    #[error("couldn't fetch {url}")]
    Fetch {
        /// The URL.
        url: String,
        /// The caller's fetch error.
        source: FetchError,
    },
    /// `iat` is later than `now + leeway`.
    #[error("token issued in the future at {iat} (now {now}, leeway {leeway} s)")]
    IssuedInFuture {
        /// The token's `iat`.
        iat: i64,
        /// The verification time.
        now: i64,
        /// The allowed clock skew in seconds.
        leeway: i64,
    },
    /// The JWKS document could not be parsed.
    #[error("JWKS at {url} is invalid: {reason}")]
    JwksInvalid {
        /// Where it was fetched from.
        url: String,
        /// The parser's error display.
        reason: String,
    },
    /// The header marks extensions critical (RFC 7515 §4.1.11); none are supported.
    #[error("token header has critical extensions {crit:?}, which are not supported")]
    CriticalHeader {
        /// The `crit` value, as JSON.
        crit: String,
    },
    /// The token is not three base64url parts of JSON.
    #[error("token is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
    /// A required claim is absent.
    #[error("token has no {claim:?} claim")]
    MissingClaim {
        /// The claim name.
        claim: &'static str,
    },
    /// `nbf` is later than `now + leeway`.
    #[error("token not valid before {nbf} (now {now}, leeway {leeway} s)")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: i64,
        /// The verification time.
        now: i64,
        /// The allowed clock skew in seconds.
        leeway: i64,
    },
    /// The header names an HMAC algorithm; shared-secret tokens are never accepted.
    #[error("token uses symmetric algorithm {alg:?}; only public-key algorithms are accepted")]
    SymmetricAlgorithm {
        /// The header's `alg`.
        alg: String,
    },
    /// No configured issuer or meta-issuer matches the token's `iss`.
    #[error("issuer {issuer:?} is not configured on this instance")]
    UnknownIssuer {
        /// The token's `iss`.
        issuer: String,
    },
    /// The issuer's JWKS has no key with the token's `kid`, even after a refetch.
    #[error("issuer {issuer:?} has no key with id {kid:?}")]
    UnknownKeyId {
        /// The token's issuer.
        issuer: String,
        /// The header's `kid`.
        kid: String,
    },
    /// The header names an algorithm outside RS*/PS*/ES256/ES384/EdDSA, or the key cannot be used
    /// with it.
    #[error("token algorithm {alg:?} is not supported or does not match the issuer key")]
    UnsupportedAlgorithm {
        /// The header's `alg`.
        alg: String,
    },
}

/// Why a verified token's claims cannot become a certificate identity for its issuer type.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum IdentityError {
    /// A CI provider's SAN template rendered something that is not an absolute URI.
    #[error("CI identity {san:?} rendered from the SAN template is not an absolute URI")]
    CiSanNotUri {
        /// The rendered SAN.
        san: String,
    },
    /// A claim the issuer type or a CI template needs is absent.
    #[error("claim {claim:?} needed for the certificate is absent (issuer {issuer})")]
    MissingClaim {
        /// The claim or template value name.
        claim: String,
        /// The token's issuer.
        issuer: String,
    },
    /// A SPIFFE subject is not a SPIFFE ID in the configured trust domain.
    #[error("subject {subject:?} is not a SPIFFE ID in trust domain {trust_domain:?}")]
    SpiffeSubjectOutsideTrustDomain {
        /// The token's `sub`.
        subject: String,
        /// The configured trust domain.
        trust_domain: String,
    },
    /// The issuer's CI provider has no metadata (templates) configured.
    #[error("CI provider {name:?} has no claim templates configured")]
    UnknownCiProvider {
        /// The provider name.
        name: String,
    },
    /// A URI subject is not a URI under the configured subject domain.
    #[error("subject {subject:?} is not a URI under {subject_domain:?}")]
    UriSubjectOutsideDomain {
        /// The token's `sub`.
        subject: String,
        /// The configured subject domain.
        subject_domain: String,
    },
    /// A username subject contains `!`, the separator of `user!domain`.
    #[error("username subject {subject:?} must not contain '!'")]
    UsernameContainsSeparator {
        /// The token's `sub`.
        subject: String,
    },
}

/// An issuance rule refused the identity (HTTP 403 on the Fulcio API).
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[error("issuance refused by rule {rule}: got {actual:?}")]
#[non_exhaustive]
pub struct Refused {
    /// The rule that refused, as its configuration path (`rules.san`, `rules.claims.ref`...).
    pub rule: String,
    /// The value that did not match (the SAN or the claim value; empty if the claim is absent).
    pub actual: String,
}

/// Why an OIDC configuration was rejected.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum ConfigError {
    /// Two issuers have the same URL.
    #[error("issuer {url:?} is configured twice")]
    DuplicateIssuer {
        /// The URL.
        url: String,
    },
    /// An issuer URL is not an `https://` (or `http://`) URL.
    #[error("issuer URL {url:?} must start with https:// or http://")]
    InvalidIssuerUrl {
        /// The URL.
        url: String,
    },
    /// An issuance rule's regular expression does not compile.
    #[error("issuer {issuer:?}: rule {rule} has an invalid regex: {reason}")]
    InvalidRegex {
        /// The issuer URL.
        issuer: String,
        /// The rule path.
        rule: String,
        /// The regex crate's error display.
        reason: String,
    },
    /// A CI template does not parse.
    #[error("CI provider {provider:?}: template {name:?} is invalid: {reason}")]
    InvalidTemplate {
        /// The provider name.
        provider: String,
        /// The template's extension name.
        name: String,
        /// What is wrong.
        reason: String,
    },

    /// The issuer type needs a field that is absent.
    #[error("issuer {issuer:?} of type {issuer_type:?} needs field {field:?}")]
    MissingField {
        /// The issuer URL.
        issuer: String,
        /// The configured type.
        issuer_type: String,
        /// The missing field.
        field: &'static str,
    },
    /// The TOML does not parse or has the wrong shape.
    #[error("OIDC configuration is not valid TOML: {0}")]
    Toml(String),
    /// A CI provider names an extension that has no Fulcio OID.
    #[error("CI provider {provider:?}: unknown extension {name:?}")]
    UnknownExtension {
        /// The provider name.
        provider: String,
        /// The extension name.
        name: String,
    },
    /// The issuer type is not one of the supported names.
    #[error("issuer {issuer:?} has unknown type {issuer_type:?}")]
    UnknownIssuerType {
        /// The issuer URL.
        issuer: String,
        /// The type name.
        issuer_type: String,
    },
}

/// Why a token could not be minted by the built-in issuer.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum MintError {
    /// The signing key is not a PKCS#8 ECDSA P-256 key.
    #[error("issuer signing key is not a PKCS#8 ECDSA P-256 key: {0}")]
    InvalidKey(String),
    /// Signing failed in the crypto backend.
    #[error("couldn't sign token: {0}")]
    Signing(String),
}
