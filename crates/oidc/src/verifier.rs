//! Identity-token verification: OpenID Connect Core 1.0 §3.1.3.7 (ID token validation), OpenID
//! Connect Discovery 1.0 §4 (provider metadata), RFC 7517 (JWK sets), RFC 7519 (JWT), as Fulcio
//! applies them (sigstore/fulcio `pkg/config/config.go` verifiers, `pkg/identity/email`).

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde_json::{Map, Value};

use crate::ci::CiProvider;
use crate::config::{IssuerConfig, IssuerType, OidcConfig};
use crate::error::{Error, FetchError, IdentityError};
use crate::identity::Identity;

/// The largest clock skew a [`Verifier`] tolerates on `nbf` and `iat`, in seconds (`exp` gets
/// none).
pub const MAX_LEEWAY_SECS: i64 = 60;
/// How long fetched keys are trusted before discovery and JWKS are fetched again, by default.
pub const DEFAULT_JWKS_TTL_SECS: i64 = 3600;
/// The shortest time between two fetches of one issuer's JWKS caused by unknown key ids, by
/// default.
pub const DEFAULT_REFETCH_INTERVAL_SECS: i64 = 60;

/// The most issuers whose keys are cached at once; meta-issuers can name many. When full, the
/// entry fetched longest ago is evicted.
pub const MAX_CACHED_ISSUERS: usize = 1024;

/// Public-key algorithms accepted in token headers.
const ALLOWED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Fetches an issuer's discovery document and JWKS for a [`Verifier`]; implemented by the HTTP
/// layer (`waxseal-server`), or by a map in tests.
///
/// Implementations MUST return the body of a successful (2xx) response to `GET url` and an error
/// for anything else; they MUST NOT follow redirects to another origin. They SHOULD bound the
/// body size and time. The verifier calls `fetch` without holding its cache lock, possibly from
/// several threads at once, and rate-limits calls per issuer; implementations need no cache.
pub trait JwksFetcher {
    /// Returns the body at `url`.
    ///
    /// # Errors
    ///
    /// [`FetchError`] when the document could not be fetched.
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError>;
}

#[derive(Debug, Clone)]
struct CachedKeys {
    jwks_uri: String,
    keys: Vec<Jwk>,
    fetched_at: i64,
}

/// Verifies identity tokens against an [`OidcConfig`], with a per-issuer JWKS cache.
///
/// The cache is behind a mutex that is never held during a fetch.
#[derive(Debug)]
pub struct Verifier {
    config: OidcConfig,
    leeway: i64,
    jwks_ttl: i64,
    refetch_interval: i64,
    cache: Mutex<HashMap<String, CachedKeys>>,
}

impl Verifier {
    /// A verifier with [`MAX_LEEWAY_SECS`] of clock skew, [`DEFAULT_JWKS_TTL_SECS`] and
    /// [`DEFAULT_REFETCH_INTERVAL_SECS`].
    pub fn new(config: OidcConfig) -> Self {
        Self {
            config,
            leeway: MAX_LEEWAY_SECS,
            jwks_ttl: DEFAULT_JWKS_TTL_SECS,
            refetch_interval: DEFAULT_REFETCH_INTERVAL_SECS,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the clock-skew leeway for `nbf` and `iat`, clamped to `0..=MAX_LEEWAY_SECS`. `exp` is
    /// always checked without leeway, as Fulcio checks it.
    #[must_use]
    pub fn with_leeway(mut self, secs: i64) -> Self {
        self.leeway = secs.clamp(0, MAX_LEEWAY_SECS);
        self
    }

    /// Sets how long fetched keys are used before being fetched again (at least 1 s).
    #[must_use]
    pub fn with_jwks_ttl(mut self, secs: i64) -> Self {
        self.jwks_ttl = secs.max(1);
        self
    }

    /// Sets the minimum time between refetches caused by unknown key ids.
    #[must_use]
    pub fn with_refetch_interval(mut self, secs: i64) -> Self {
        self.refetch_interval = secs.max(0);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Verifies `token` at time `now_unix` (seconds since the Unix epoch).
    ///
    /// Checks, in order: the header (`alg` a public-key algorithm), the issuer (configured),
    /// the key (by `kid`, refetching the JWKS once if unknown and the rate limit allows), the
    /// signature, `aud`, `exp`, `nbf`, `iat`, `sub`, and for email issuers `email` and
    /// `email_verified`.
    ///
    /// # Errors
    ///
    /// The [`Error`] variant naming the first check that failed.
    pub fn verify(
        &self,
        token: &str,
        now_unix: i64,
        fetcher: &dyn JwksFetcher,
    ) -> Result<VerifiedToken, Error> {
        let parts: Vec<&str> = token.split('.').collect();
        let [header_b64, payload_b64, _signature] = parts.as_slice() else {
            return Err(Error::Malformed {
                reason: "a JWS compact serialization has three dot-separated parts",
            });
        };
        let header = decode_json(header_b64, "header is not base64url JSON")?;
        let algorithm = header_algorithm(&header)?;
        if let Some(crit) = header.get("crit") {
            return Err(Error::CriticalHeader {
                crit: crit.to_string(),
            });
        }
        let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);

        // Unverified, to find the issuer; the same bytes are verified below.
        let unverified = decode_json(payload_b64, "payload is not base64url JSON")?;
        let iss = required_str(&unverified, "iss")?.to_owned();
        let issuer = self
            .config
            .issuer(&iss)
            .ok_or_else(|| Error::UnknownIssuer {
                issuer: iss.clone(),
            })?
            .clone();

        let keys = self.keys_for(&iss, kid.as_deref(), now_unix, fetcher)?;
        let claims = verify_signature(token, algorithm, &iss, kid.as_deref(), &keys)?;

        self.check_claims(&issuer, &iss, &claims, now_unix)?;
        let subject = required_str(&claims, "sub")?.to_owned();
        if subject.is_empty() {
            return Err(Error::ClaimInvalid {
                claim: "sub",
                expected: "a non-empty string",
            });
        }
        let email = match claims.get("email") {
            None | Some(Value::Null) => None,
            Some(Value::String(email)) => Some(email.clone()),
            Some(_) => {
                return Err(Error::ClaimInvalid {
                    claim: "email",
                    expected: "a string",
                });
            }
        };
        if *issuer.issuer_type() == IssuerType::Email {
            // Fulcio pkg/identity/email: email_verified as a bool or the string "true".
            let email = email
                .clone()
                .ok_or(Error::MissingClaim { claim: "email" })?;
            let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
                || matches!(claims.get("email_verified"), Some(Value::String(s)) if s == "true");
            if !verified {
                return Err(Error::EmailNotVerified { email });
            }
        }
        let ci = match issuer.issuer_type() {
            IssuerType::CiProvider { name } => self.config.ci_provider(name).cloned(),
            IssuerType::GithubWorkflow => {
                self.config.ci_provider(crate::ci::GITHUB_WORKFLOW).cloned()
            }
            IssuerType::GitlabPipeline => {
                self.config.ci_provider(crate::ci::GITLAB_PIPELINE).cloned()
            }
            _ => None,
        };
        Ok(VerifiedToken {
            issuer: iss,
            subject,
            email,
            claims,
            config: issuer,
            ci,
        })
    }

    fn check_claims(
        &self,
        issuer: &IssuerConfig,
        iss: &str,
        claims: &Map<String, Value>,
        now: i64,
    ) -> Result<(), Error> {
        if required_str(claims, "iss")? != iss {
            return Err(Error::Malformed {
                reason: "issuer changed between parses",
            });
        }
        let audiences: Vec<String> = match claims.get("aud") {
            None => return Err(Error::MissingClaim { claim: "aud" }),
            Some(Value::String(aud)) => vec![aud.clone()],
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or(Error::ClaimInvalid {
                    claim: "aud",
                    expected: "a string or an array of strings",
                })?,
            Some(_) => {
                return Err(Error::ClaimInvalid {
                    claim: "aud",
                    expected: "a string or an array of strings",
                });
            }
        };
        if !audiences.iter().any(|a| a == issuer.client_id()) {
            return Err(Error::AudienceMismatch {
                expected: issuer.client_id().to_owned(),
                actual: audiences,
            });
        }
        let leeway = self.leeway;
        let exp = numeric(claims, "exp")?.ok_or(Error::MissingClaim { claim: "exp" })?;
        // No leeway on `exp`: Fulcio (go-oidc `IDTokenVerifier.Verify`) refuses a token as soon
        // as `exp` is before its clock, and RFC 7519 §4.1.4 requires the current time to be
        // *before* `exp`. With whole seconds, `now == exp` is already expired: go-oidc's
        // sub-second clock is past `exp` for all of that second but its first instant.
        if exp <= now {
            return Err(Error::Expired { exp, now });
        }
        if let Some(nbf) = numeric(claims, "nbf")?
            && nbf > now.saturating_add(leeway)
        {
            return Err(Error::NotYetValid { nbf, now, leeway });
        }
        let iat = numeric(claims, "iat")?.ok_or(Error::MissingClaim { claim: "iat" })?;
        if iat > now.saturating_add(leeway) {
            return Err(Error::IssuedInFuture { iat, now, leeway });
        }
        Ok(())
    }

    /// Keys for `iss`, fetching on a cold or expired cache, and refetching once (rate-limited)
    /// when `kid` is not among the cached keys.
    fn keys_for(
        &self,
        iss: &str,
        kid: Option<&str>,
        now: i64,
        fetcher: &dyn JwksFetcher,
    ) -> Result<Vec<Jwk>, Error> {
        let cached = self.lock().get(iss).cloned();
        let fresh = match cached {
            Some(entry) if now.saturating_sub(entry.fetched_at) < self.jwks_ttl => {
                let known = kid.is_none_or(|kid| has_kid(&entry.keys, kid));
                if known || now.saturating_sub(entry.fetched_at) < self.refetch_interval {
                    return Ok(entry.keys);
                }
                // Unknown kid: the issuer may have rotated; refetch the JWKS only.
                fetch_jwks(&entry.jwks_uri, now, fetcher)?
            }
            _ => {
                let jwks_uri = discover(iss, fetcher)?;
                fetch_jwks(&jwks_uri, now, fetcher)?
            }
        };
        let keys = fresh.keys.clone();
        let mut cache = self.lock();
        if cache.len() >= MAX_CACHED_ISSUERS && !cache.contains_key(iss) {
            let oldest = cache
                .iter()
                .min_by_key(|(_, entry)| entry.fetched_at)
                .map(|(name, _)| name.clone());
            if let Some(oldest) = oldest {
                cache.remove(&oldest);
            }
        }
        cache.insert(iss.to_owned(), fresh);
        Ok(keys)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CachedKeys>> {
        // The map is always left consistent, so a panic elsewhere cannot poison its contents.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A token whose signature and claims verified; a proof for the CA's next steps.
#[derive(Debug, Clone)]
pub struct VerifiedToken {
    issuer: String,
    subject: String,
    email: Option<String>,
    claims: Map<String, Value>,
    config: IssuerConfig,
    ci: Option<CiProvider>,
}

impl VerifiedToken {
    /// The `iss` claim.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `sub` claim.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The `email` claim, if any.
    pub fn email(&self) -> Option<&str> {
        self.email.as_deref()
    }

    /// All claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The configuration of the issuer that verified the token.
    pub fn issuer_config(&self) -> &IssuerConfig {
        &self.config
    }

    /// The string the client must sign as proof of possession: the `email` claim if present,
    /// else `sub` (sigstore-js `signer/fulcio/index.js`, Fulcio `pkg/challenges`).
    pub fn challenge_subject(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }

    /// Maps the claims to the certificate identity for the issuer's type.
    ///
    /// # Errors
    ///
    /// [`IdentityError`] if the claims do not fit the issuer type (missing CI claims, subject
    /// outside the configured domain...).
    pub fn identity(&self) -> Result<Identity, IdentityError> {
        Identity::from_claims(
            self.config.issuer_type(),
            self.ci.as_ref(),
            self.config.rules().cloned(),
            &self.issuer,
            &self.subject,
            &self.claims,
        )
    }
}

fn decode_json(part: &str, reason: &'static str) -> Result<Map<String, Value>, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Error::Malformed { reason })?;
    serde_json::from_slice(&bytes).map_err(|_| Error::Malformed { reason })
}

fn header_algorithm(header: &Map<String, Value>) -> Result<Algorithm, Error> {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(Error::Malformed {
            reason: "header has no \"alg\" string",
        })?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(Error::AlgorithmNone);
    }
    if alg.to_ascii_uppercase().starts_with("HS") {
        return Err(Error::SymmetricAlgorithm {
            alg: alg.to_owned(),
        });
    }
    Algorithm::from_str(alg)
        .ok()
        .filter(|a| ALLOWED.contains(a))
        .ok_or_else(|| Error::UnsupportedAlgorithm {
            alg: alg.to_owned(),
        })
}

fn required_str<'a>(claims: &'a Map<String, Value>, claim: &'static str) -> Result<&'a str, Error> {
    match claims.get(claim) {
        None | Some(Value::Null) => Err(Error::MissingClaim { claim }),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::ClaimInvalid {
            claim,
            expected: "a string",
        }),
    }
}

/// A NumericDate (RFC 7519 §2): integer or fractional seconds, truncated.
fn numeric(claims: &Map<String, Value>, claim: &'static str) -> Result<Option<i64>, Error> {
    match claims.get(claim) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .map(Some)
            .ok_or(Error::ClaimInvalid {
                claim,
                expected: "a NumericDate (seconds since the epoch)",
            }),
        Some(_) => Err(Error::ClaimInvalid {
            claim,
            expected: "a NumericDate (seconds since the epoch)",
        }),
    }
}

fn has_kid(keys: &[Jwk], kid: &str) -> bool {
    keys.iter().any(|k| k.common.key_id.as_deref() == Some(kid))
}

/// OpenID Connect Discovery 1.0 §4: `{issuer}/.well-known/openid-configuration`, whose
/// `issuer` MUST equal the token issuer (§4.3).
fn discover(iss: &str, fetcher: &dyn JwksFetcher) -> Result<String, Error> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        iss.trim_end_matches('/')
    );
    let body = fetcher.fetch(&url).map_err(|source| Error::Fetch {
        url: url.clone(),
        source,
    })?;
    let document: Map<String, Value> =
        serde_json::from_slice(&body).map_err(|e| Error::DiscoveryInvalid {
            url: url.clone(),
            reason: e.to_string(),
        })?;
    let issuer = document
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if issuer != iss {
        return Err(Error::DiscoveryIssuerMismatch {
            expected: iss.to_owned(),
            actual: issuer.to_owned(),
        });
    }
    document
        .get("jwks_uri")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(Error::DiscoveryInvalid {
            url,
            reason: "no \"jwks_uri\" string".to_owned(),
        })
}

/// Fetches a JWK set (RFC 7517 §5); keys this crate cannot use (unknown `kty`, `use: enc`) are
/// skipped rather than failing the set.
fn fetch_jwks(jwks_uri: &str, now: i64, fetcher: &dyn JwksFetcher) -> Result<CachedKeys, Error> {
    let body = fetcher.fetch(jwks_uri).map_err(|source| Error::Fetch {
        url: jwks_uri.to_owned(),
        source,
    })?;
    let document: Map<String, Value> =
        serde_json::from_slice(&body).map_err(|e| Error::JwksInvalid {
            url: jwks_uri.to_owned(),
            reason: e.to_string(),
        })?;
    let Some(Value::Array(raw_keys)) = document.get("keys") else {
        return Err(Error::JwksInvalid {
            url: jwks_uri.to_owned(),
            reason: "no \"keys\" array".to_owned(),
        });
    };
    let keys = raw_keys
        .iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .filter(|k| !matches!(k.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .collect();
    Ok(CachedKeys {
        jwks_uri: jwks_uri.to_owned(),
        keys,
        fetched_at: now,
    })
}

/// Verifies the signature with the key named by `kid` (or, without `kid`, any key that
/// verifies, as go-oidc does) and returns the claims.
fn verify_signature(
    token: &str,
    algorithm: Algorithm,
    iss: &str,
    kid: Option<&str>,
    keys: &[Jwk],
) -> Result<Map<String, Value>, Error> {
    let candidates: Vec<&Jwk> = match kid {
        Some(kid) => {
            let found: Vec<&Jwk> = keys
                .iter()
                .filter(|k| k.common.key_id.as_deref() == Some(kid))
                .collect();
            if found.is_empty() {
                return Err(Error::UnknownKeyId {
                    issuer: iss.to_owned(),
                    kid: kid.to_owned(),
                });
            }
            found
        }
        None => keys.iter().collect(),
    };
    let mut validation = Validation::new(algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let mut last = Error::BadSignature {
        kid: kid.map(str::to_owned),
    };
    for jwk in candidates {
        if let Some(key_alg) = jwk.common.key_algorithm
            && format!("{key_alg:?}") != format!("{algorithm:?}")
        {
            last = Error::UnsupportedAlgorithm {
                alg: format!("{algorithm:?}"),
            };
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        match jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation) {
            Ok(data) => return Ok(data.claims),
            Err(e) => {
                last = match e.kind() {
                    ErrorKind::InvalidSignature => Error::BadSignature {
                        kid: kid.map(str::to_owned),
                    },
                    ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) => {
                        Error::Malformed {
                            reason: "token does not decode as a JWS",
                        }
                    }
                    _ => Error::UnsupportedAlgorithm {
                        alg: format!("{algorithm:?}"),
                    },
                }
            }
        }
    }
    Err(last)
}
