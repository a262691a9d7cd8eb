//! waxseal's keyless certificate authority: an OIDC identity token and a proof of possession go
//! in, a 10-minute Fulcio-profile code-signing certificate comes out.
//!
//! The flow is sigstore/fulcio's `CreateSigningCertificate`, split around the CT log so that
//! the caller (the HTTP layer) can await the log without holding a thread:
//!
//! 1. [`SigningRequest::from_json`] parses the `CreateSigningCertificateRequest` JSON (both the
//!    CSR form of sigstore-python and the `publicKeyRequest` form of sigstore-js/cosign).
//! 2. [`Ca::prepare`] verifies the token (`waxseal-oidc`), maps it to the certificate identity,
//!    applies the issuer's issuance rules, checks the proof of possession, and signs the
//!    precertificate (`waxseal-x509`).
//! 3. The caller submits [`Prepared::precertificate`] with [`Ca::chain_der`] to the CT log and
//!    gets one SCT back.
//! 4. [`Ca::finish`] embeds the SCT and returns the chain; [`Issued::response_json`] is the
//!    `SigningCertificate` reply (`signedCertificateEmbeddedSct`).
//!
//! Errors map to Fulcio's HTTP statuses: [`CaError::status`].
//!
//! What it does not do: HTTP, fetching JWKS (the caller passes a [`JwksFetcher`]), reading the
//! clock (times are parameters), or running the CT log.

mod request;

use std::time::{Duration, SystemTime};

use serde_json::json;
use waxseal_crypto::pem;
use waxseal_oidc::{IdentityError, JwksFetcher, Refused, SubjectAlternativeName, Verifier};
use waxseal_x509::{
    CertificateAuthority, LeafRequest, Precertificate, San, SignedCertificateTimestamp,
    verify_proof_of_possession,
};

pub use request::{Proof, SigningRequest};

/// Fulcio's certificate lifetime.
pub const CERTIFICATE_VALIDITY: Duration = Duration::from_secs(600);

/// Why no certificate was issued. Every variant names the problem for the client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The request is not well-formed.
    #[error("{reason}")]
    InvalidRequest {
        /// What is wrong.
        reason: String,
    },
    /// The request carries no identity token.
    #[error(
        "no identity token: send credentials.oidcIdentityToken or an Authorization: Bearer header"
    )]
    MissingToken,
    /// The identity token did not verify.
    #[error("identity token rejected: {0}")]
    Token(#[from] waxseal_oidc::Error),
    /// The token's claims cannot become a certificate identity.
    #[error("identity token rejected: {0}")]
    Identity(#[from] IdentityError),
    /// An issuance rule refused the identity.
    #[error("{0}")]
    Refused(#[from] Refused),
    /// The key, CSR or proof of possession is unacceptable.
    #[error("{source}")]
    InvalidKey {
        /// The certificate-profile error.
        source: waxseal_x509::Error,
    },
    /// Signing failed; a server fault.
    #[error("certificate issuance failed: {0}")]
    Internal(waxseal_x509::Error),
}

impl CaError {
    /// The HTTP status Fulcio answers with: 400 for malformed requests and keys, 401 for
    /// tokens, 403 for refused identities, 500 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest { .. } | Self::InvalidKey { .. } => 400,
            Self::MissingToken | Self::Token(_) | Self::Identity(_) => 401,
            Self::Refused(_) => 403,
            Self::Internal(_) => 500,
        }
    }
}

/// The issuing CA and the token verifier.
#[derive(Debug)]
pub struct Ca {
    authority: CertificateAuthority,
    verifier: Verifier,
    validity: Duration,
    /// The intermediate and the root as PEM, encoded once: every reply carries them.
    issuers_pem: [String; 2],
}

/// A precertificate waiting for its SCT.
#[derive(Debug)]
pub struct Prepared {
    precertificate: Precertificate,
}

impl Prepared {
    /// The signed precertificate to submit to the CT log.
    pub fn precertificate(&self) -> &Precertificate {
        &self.precertificate
    }
}

/// An issued certificate and its chain, leaf first.
#[derive(Debug, Clone)]
pub struct Issued {
    chain_pem: Vec<String>,
}

impl Issued {
    /// The chain as PEM, leaf, intermediate, root, in Go's layout.
    pub fn chain_pem(&self) -> &[String] {
        &self.chain_pem
    }

    /// The Fulcio v2 `SigningCertificate` JSON reply.
    pub fn response_json(&self) -> serde_json::Value {
        json!({
            "signedCertificateEmbeddedSct": {"chain": {"certificates": self.chain_pem}}
        })
    }
}

impl Ca {
    /// A CA issuing with `authority` for the tokens `verifier` accepts.
    pub fn new(authority: CertificateAuthority, verifier: Verifier) -> Self {
        let issuers_pem = [
            pem::encode(pem::CERTIFICATE, authority.intermediate_der()),
            pem::encode(pem::CERTIFICATE, authority.root_der()),
        ];
        Self {
            authority,
            verifier,
            validity: CERTIFICATE_VALIDITY,
            issuers_pem,
        }
    }

    /// The certificate authority.
    pub fn authority(&self) -> &CertificateAuthority {
        &self.authority
    }

    /// The token verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The issuing chain, intermediate first, as DER: what follows the precertificate in a CT
    /// `add-pre-chain` submission.
    pub fn chain_der(&self) -> Vec<Vec<u8>> {
        self.authority.chain_der()
    }

    /// Verifies the token and the proof of possession, applies the issuance rules, and signs the
    /// precertificate, valid from `now` for 10 minutes.
    ///
    /// # Errors
    ///
    /// [`CaError::Token`], [`CaError::Identity`], [`CaError::Refused`], [`CaError::InvalidKey`]
    /// (including a proof of possession over the wrong claim), and [`CaError::Internal`].
    pub fn prepare(
        &self,
        request: SigningRequest,
        now: SystemTime,
        fetcher: &dyn JwksFetcher,
    ) -> Result<Prepared, CaError> {
        let unix = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let token = self.verifier.verify(&request.token, unix, fetcher)?;
        let identity = token.identity()?;
        identity.check_rules()?;
        let public_key = match request.proof {
            Proof::Csr(csr) => csr.into_public_key(),
            Proof::SignedSubject {
                public_key,
                signature,
            } => verify_proof_of_possession(
                public_key.spki_der(),
                &signature,
                token.challenge_subject(),
            )
            .map_err(|source| CaError::InvalidKey { source })?,
        };
        let san = match identity.san() {
            SubjectAlternativeName::Email(v) => San::Email(v.clone()),
            SubjectAlternativeName::Uri(v) => San::Uri(v.clone()),
            SubjectAlternativeName::OtherName(v) => San::OtherName(v.clone()),
            other => {
                return Err(CaError::InvalidRequest {
                    reason: format!("unsupported identity kind {other:?}"),
                });
            }
        };
        let mut leaf =
            LeafRequest::new(public_key, san, identity.issuer(), now, now + self.validity)
                .map_err(|source| CaError::InvalidKey { source })?;
        for (oid, value) in identity.extensions() {
            // The issuer OIDs .1 and .8 are written by LeafRequest::new itself.
            if oid == waxseal_oidc::OID_ISSUER || oid == waxseal_oidc::OID_ISSUER_V2 {
                continue;
            }
            leaf = leaf
                .with_extension(oid, value.as_str())
                .map_err(CaError::Internal)?;
        }
        let precertificate = self
            .authority
            .issue_precertificate(&leaf)
            .map_err(CaError::Internal)?;
        Ok(Prepared { precertificate })
    }

    /// Embeds `sct` and returns the certificate with its chain.
    ///
    /// # Errors
    ///
    /// [`CaError::Internal`] if signing fails.
    pub fn finish(
        &self,
        prepared: &Prepared,
        sct: SignedCertificateTimestamp,
    ) -> Result<Issued, CaError> {
        let leaf = self
            .authority
            .finish(&prepared.precertificate, &[sct])
            .map_err(CaError::Internal)?;
        Ok(Issued {
            chain_pem: vec![
                leaf.to_pem(),
                self.issuers_pem[0].clone(),
                self.issuers_pem[1].clone(),
            ],
        })
    }

    /// The Fulcio v2 `TrustBundle` JSON (`GET /api/v2/trustBundle`): one chain, intermediate
    /// then root.
    pub fn trust_bundle_json(&self) -> serde_json::Value {
        json!({"chains": [{"certificates": self.issuers_pem}]})
    }

    /// The Fulcio v2 `Configuration` JSON (`GET /api/v2/configuration`): each accepted issuer
    /// with its audience, challenge claim and SPIFFE trust domain.
    pub fn configuration_json(&self) -> serde_json::Value {
        let issuers: Vec<serde_json::Value> = self
            .verifier
            .config()
            .issuers()
            .map(|(pattern, issuer)| {
                let mut entry = serde_json::Map::new();
                let key = if pattern {
                    "wildcardIssuerUrl"
                } else {
                    "issuerUrl"
                };
                entry.insert(key.into(), issuer.url().into());
                entry.insert("audience".into(), issuer.client_id().into());
                entry.insert(
                    "challengeClaim".into(),
                    issuer.issuer_type().challenge_claim().into(),
                );
                if let Some(domain) = issuer.issuer_type().spiffe_trust_domain() {
                    entry.insert("spiffeTrustDomain".into(), domain.into());
                }
                serde_json::Value::Object(entry)
            })
            .collect();
        json!({ "issuers": issuers })
    }
}
