//! The signing flow: key (ephemeral with a certificate, or managed), signature, timestamps,
//! log entry, bundle v0.3.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use waxseal_bundle::dsse::{Envelope, EnvelopeSignature};
use waxseal_bundle::{
    Bundle, BundleContent, BundleVersion, ClientTrustConfig, HashOutput, MessageSignature,
    PublicKeyIdentifier, Rfc3161SignedTimestamp, TimestampVerificationData, TrustedRoot,
    VerificationContent, VerificationMaterial, X509Certificate,
};
use waxseal_crypto::{Algorithm, SigningKey};
use waxseal_verify::{Artifact, Identity, Matcher, Policy, Verifier};

use crate::http::Http;
use crate::rekor::{self, Signed, Signer};
use crate::{Error, IdentityToken, SigningServices, Stage, fulcio, timestamp, token};

/// The in-toto statement payload type (in-toto attestation `envelope.md`).
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A signing instance: its trust config and the services chosen from it.
#[derive(Debug, Clone)]
pub struct Instance {
    trust: ClientTrustConfig,
    services: SigningServices,
}

impl Instance {
    /// The instance of `trust`, with services selected at `now` ([`SigningServices::select`]).
    ///
    /// # Errors
    ///
    /// Those of [`SigningServices::select`].
    pub fn new(trust: ClientTrustConfig, now: SystemTime) -> Result<Self, Error> {
        let services = SigningServices::select(&trust.signing_config, now)?;
        Ok(Self { trust, services })
    }

    /// The trust config.
    pub fn trust_config(&self) -> &ClientTrustConfig {
        &self.trust
    }

    /// The trusted root replies are checked against.
    pub fn trusted_root(&self) -> &TrustedRoot {
        &self.trust.trusted_root
    }

    /// The services chosen.
    pub fn services(&self) -> &SigningServices {
        &self.services
    }
}

/// What signs.
#[derive(Debug)]
#[non_exhaustive]
pub enum Credential {
    /// Keyless with a key and the certificate the instance's CA issued for it earlier
    /// ([`Client::certificate`]; a credential cache holds both): no CA request is made. The
    /// certificate must be for `key` and valid now; the signed bundle is then checked against
    /// the trusted root as any keyless one (chain, SCT).
    Certified {
        /// The key the certificate certifies.
        key: SigningKey,
        /// The leaf certificate, DER.
        certificate_der: Vec<u8>,
    },
    /// Keyless: an ephemeral P-256 key certified by the instance's CA for this identity.
    IdentityToken(IdentityToken),
    /// A managed key; the bundle carries a `publicKey` hint and no certificate.
    Key(SigningKey),
}

/// What to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// An artifact's bytes: a message signature over them (hashedrekord).
    Artifact(Vec<u8>),
    /// Only an artifact's SHA-256 digest: the signature is over the digest as a prehash.
    Digest([u8; 32]),
    /// An in-toto statement (JSON), signed as a DSSE envelope.
    InToto(Vec<u8>),
}

impl Content {
    /// Reads `sha256:HEX` (64 hex digits) as [`Content::Digest`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] if it is not of that form.
    pub fn from_digest(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidInput {
            what: format!("the digest {text:?}"),
            reason: reason.to_owned(),
        };
        let hex_digest = text
            .strip_prefix("sha256:")
            .ok_or_else(|| invalid("expected sha256:<64 hex digits>"))?;
        let bytes = hex::decode(hex_digest).map_err(|_| invalid("not hexadecimal"))?;
        let digest = bytes
            .try_into()
            .map_err(|_| invalid("a SHA-256 digest has 64 hex digits"))?;
        Ok(Self::Digest(digest))
    }

    /// An in-toto statement, checked to be a JSON object with an in-toto `_type` and at least
    /// one subject.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the problem.
    pub fn in_toto(statement: Vec<u8>) -> Result<Self, Error> {
        let invalid = |reason: String| Error::InvalidInput {
            what: "the in-toto statement".to_owned(),
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&statement).map_err(|e| invalid(e.to_string()))?;
        let kind = value.get("_type").and_then(serde_json::Value::as_str);
        if !kind.is_some_and(|t| t.starts_with("https://in-toto.io/Statement/")) {
            return Err(invalid(format!(
                "_type is {kind:?}, expected https://in-toto.io/Statement/v1"
            )));
        }
        if sha256_subject(&value).is_none() {
            return Err(invalid(
                "it has no subject with a sha256 digest (64 hex digits)".to_owned(),
            ));
        }
        Ok(Self::InToto(statement))
    }

    /// The artifact the bundle verifies against: the bytes, the digest, or the statement's
    /// first SHA-256 subject.
    fn artifact(&self) -> Option<Artifact<'_>> {
        match self {
            Self::Artifact(bytes) => Some(Artifact::Bytes(bytes)),
            Self::Digest(digest) => Some(Artifact::Sha256(*digest)),
            Self::InToto(statement) => {
                let value = serde_json::from_slice(statement).ok()?;
                sha256_subject(&value).map(Artifact::Sha256)
            }
        }
    }
}

/// The first subject's SHA-256 digest of an in-toto statement.
fn sha256_subject(statement: &serde_json::Value) -> Option<[u8; 32]> {
    statement
        .get("subject")?
        .as_array()?
        .iter()
        .filter_map(|s| s.get("digest")?.get("sha256")?.as_str())
        .find_map(|h| hex::decode(h).ok()?.try_into().ok())
}

/// A signing's result.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignedBundle {
    /// The bundle (v0.3).
    pub bundle: Bundle,
    /// The log index of its entry.
    pub log_index: i64,
    /// The identity the certificate names (keyless), from the token.
    pub identity: Option<String>,
}

/// The waxseal signing client. One HTTP client serves every request it makes.
#[derive(Debug, Clone)]
pub struct Client {
    http: Http,
}

impl Client {
    /// A client with waxseal's timeouts and user agent.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`] if the HTTP client cannot be set up (no TLS backend).
    pub fn new() -> Result<Self, Error> {
        Ok(Self { http: Http::new()? })
    }

    /// Fetches `{instance_url}/trust/client_trust_config.json`.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`], [`Error::Refused`], or [`Error::MalformedReply`] if it is not a
    /// client trust config.
    pub async fn fetch_trust_config(&self, instance_url: &str) -> Result<ClientTrustConfig, Error> {
        let url = format!(
            "{}/trust/client_trust_config.json",
            instance_url.trim_end_matches('/')
        );
        let body = self.http.get(Stage::TrustConfig, &url).await?;
        ClientTrustConfig::from_json(&body).map_err(|e| Error::MalformedReply {
            stage: Stage::TrustConfig,
            url,
            reason: e.to_string(),
        })
    }

    /// Gets an identity token from the OIDC issuer at `issuer_url` with the client-credentials
    /// grant.
    ///
    /// # Errors
    ///
    /// [`Error::Transport`], [`Error::Refused`] (wrong credentials: HTTP 401),
    /// [`Error::MalformedReply`], [`Error::InvalidToken`].
    pub async fn client_credentials_token(
        &self,
        issuer_url: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<IdentityToken, Error> {
        token::client_credentials(&self.http, issuer_url, client_id, client_secret).await
    }

    /// Gets the job's OIDC token in GitHub Actions from `ACTIONS_ID_TOKEN_REQUEST_URL` with the
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN` (the caller reads both from the environment), for
    /// `audience` (`sigstore` for Sigstore CAs).
    ///
    /// # Errors
    ///
    /// [`Error::Transport`], [`Error::Refused`], [`Error::MalformedReply`],
    /// [`Error::InvalidToken`].
    pub async fn github_actions_token(
        &self,
        request_url: &str,
        request_token: &str,
        audience: &str,
    ) -> Result<IdentityToken, Error> {
        token::github_actions(&self.http, request_url, request_token, audience).await
    }

    /// Asks the instance's CA for a certificate for `key` with `token`, checked as
    /// [`Client::sign`] checks it (for `key`, issued by a CA of the trusted root, SCT from a
    /// CT log of the root). Returns the DER leaf, for [`Credential::Certified`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] for an expired token, [`Error::NoService`] without a CA, and
    /// the certificate stage's errors.
    pub async fn certificate(
        &self,
        instance: &Instance,
        token: &IdentityToken,
        key: &SigningKey,
    ) -> Result<Vec<u8>, Error> {
        let now = SystemTime::now();
        token.check_unexpired(now)?;
        let ca = instance.services().ca.as_ref().ok_or(Error::NoService {
            kind: "certificate authority",
            supported: "Fulcio v1",
        })?;
        let issued = fulcio::signing_certificate(
            &self.http,
            &ca.url,
            token,
            key,
            instance.trusted_root(),
            now,
        )
        .await?;
        Ok(issued.der)
    }

    /// Signs `content` with `credential` on `instance`: certificate (keyless), signature,
    /// a timestamp from each selected TSA, one log entry; every reply is checked against the
    /// instance's trusted root. Returns a v0.3 bundle.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidToken`] for an expired token, [`Error::NoService`] when keyless signing
    /// has no CA or Rekor v2 has no TSA, [`Error::Signing`], and each stage's errors.
    pub async fn sign(
        &self,
        instance: &Instance,
        credential: &Credential,
        content: &Content,
    ) -> Result<SignedBundle, Error> {
        let now = SystemTime::now();
        let root = instance.trusted_root();
        let services = instance.services();
        if services.tlog.major_api_version == 2 && services.tsas.is_empty() {
            return Err(Error::NoService {
                kind: "timestamp authority (Rekor v2 entries carry no time of their own)",
                supported: "v1",
            });
        }
        let ephemeral;
        let (key, certificate, identity) = match credential {
            Credential::IdentityToken(token) => {
                token.check_unexpired(now)?;
                let ca = services.ca.as_ref().ok_or(Error::NoService {
                    kind: "certificate authority",
                    supported: "Fulcio v1",
                })?;
                ephemeral =
                    SigningKey::generate(Algorithm::EcdsaP256Sha256).map_err(Error::Signing)?;
                let certificate =
                    fulcio::signing_certificate(&self.http, &ca.url, token, &ephemeral, root, now)
                        .await?;
                (
                    &ephemeral,
                    Some(certificate),
                    Some(token.identity().to_owned()),
                )
            }
            Credential::Certified {
                key,
                certificate_der,
            } => {
                let identity = check_certified(key, certificate_der, now)?;
                let certificate = fulcio::IssuedCertificate {
                    der: certificate_der.clone(),
                    pem: waxseal_crypto::pem::encode(
                        waxseal_crypto::pem::CERTIFICATE,
                        certificate_der,
                    ),
                };
                (key, Some(certificate), Some(identity))
            }
            Credential::Key(key) => (key, None, None),
        };
        let public = key.public_key();

        // Sign.
        let (digest, signature, envelope) = match content {
            Content::Artifact(bytes) => (
                waxseal_crypto::sha256(bytes),
                key.sign(bytes).map_err(Error::Signing)?,
                None,
            ),
            Content::Digest(digest) => (
                *digest,
                key.sign_prehashed(digest).map_err(Error::Signing)?,
                None,
            ),
            Content::InToto(statement) => {
                let pae = waxseal_bundle::dsse::pae(IN_TOTO_PAYLOAD_TYPE, statement);
                let signature = key.sign(&pae).map_err(Error::Signing)?;
                let envelope = Envelope::new(
                    IN_TOTO_PAYLOAD_TYPE,
                    statement.clone(),
                    vec![EnvelopeSignature::new("", signature.clone())],
                );
                (waxseal_crypto::sha256(&pae), signature, Some(envelope))
            }
        };

        // Timestamp the signature bytes.
        let mut timestamps = Vec::with_capacity(services.tsas.len());
        for tsa in &services.tsas {
            let reply = timestamp::timestamp(&self.http, &tsa.url, &signature, root).await?;
            timestamps.push(Rfc3161SignedTimestamp::new(reply));
        }

        // Log.
        let signer = match &certificate {
            Some(c) => Signer::Certificate {
                der: &c.der,
                pem: &c.pem,
            },
            None => Signer::PublicKey(&public),
        };
        let signed = match &envelope {
            Some(envelope) => Signed::Dsse(envelope),
            None => Signed::Artifact {
                digest: &digest,
                signature: &signature,
            },
        };
        let entry = rekor::log(
            &self.http,
            &services.tlog,
            signer,
            signed,
            public.key_details(),
            root,
            now,
        )
        .await?;
        let log_index = entry.log_index;

        let verification_content = match certificate {
            Some(c) => VerificationContent::Certificate(X509Certificate::new(c.der)),
            None => VerificationContent::PublicKey(PublicKeyIdentifier::new(
                STANDARD.encode(waxseal_crypto::sha256(public.spki_der())),
            )),
        };
        let material = VerificationMaterial::new(
            verification_content,
            vec![entry],
            (!timestamps.is_empty()).then(|| TimestampVerificationData::new(timestamps)),
        );
        let bundle_content = match envelope {
            Some(envelope) => BundleContent::DsseEnvelope(envelope),
            None => BundleContent::MessageSignature(MessageSignature::new(
                Some(HashOutput::new("SHA2_256", digest.to_vec())),
                signature,
            )),
        };
        let bundle = Bundle::new(BundleVersion::V0_3, material, bundle_content);
        self_check(&bundle, root, content, &public)?;
        Ok(SignedBundle {
            bundle,
            log_index,
            identity,
        })
    }
}

/// A cached certificate must be for `key` and valid at `now`; returns its first SAN.
fn check_certified(
    key: &SigningKey,
    certificate_der: &[u8],
    now: SystemTime,
) -> Result<String, Error> {
    let invalid = |reason: String| Error::InvalidInput {
        what: "the cached signing certificate".to_owned(),
        reason,
    };
    let leaf = waxseal_x509::parse_leaf(certificate_der).map_err(|e| invalid(e.to_string()))?;
    if leaf.public_key != key.public_key() {
        return Err(invalid(
            "it certifies another key than the one given".to_owned(),
        ));
    }
    if now < leaf.not_before || leaf.not_after < now {
        let at = |t: SystemTime| waxseal_bundle::Timestamp::from_system_time(t).to_string();
        return Err(invalid(format!(
            "it is valid from {} to {}, not now ({}); get a new certificate",
            at(leaf.not_before),
            at(leaf.not_after),
            at(now)
        )));
    }
    leaf.san
        .first()
        .map(|san| san.value().to_owned())
        .ok_or_else(|| invalid("it names no identity".to_owned()))
}

/// Runs the full offline verification of `bundle` against `root`: the signer is the
/// certificate's own SAN and issuer (keyless; the certificate was checked to be for our key) or
/// `public` (managed key).
fn self_check(
    bundle: &Bundle,
    root: &TrustedRoot,
    content: &Content,
    public: &waxseal_crypto::PublicKey,
) -> Result<(), Error> {
    let policy = match &bundle.verification_material.content {
        VerificationContent::Certificate(certificate) => {
            let leaf = waxseal_x509::parse_leaf(&certificate.raw_bytes).map_err(|e| {
                Error::InvalidInput {
                    what: "the signing certificate".to_owned(),
                    reason: e.to_string(),
                }
            })?;
            let san = leaf.san.first().map(|s| s.value().to_owned());
            let issuer = leaf.oidc_issuer().map(str::to_owned);
            let (Some(san), Some(issuer)) = (san, issuer) else {
                return Err(Error::InvalidInput {
                    what: "the signing certificate".to_owned(),
                    reason: "it names no identity or no OIDC issuer".to_owned(),
                });
            };
            Policy::Identity(Identity::new(Matcher::exact(san), Matcher::exact(issuer)))
        }
        _ => Policy::PublicKey(public.clone()),
    };
    let artifact = content.artifact().ok_or_else(|| Error::InvalidInput {
        what: "the in-toto statement".to_owned(),
        reason: "it has no subject with a sha256 digest".to_owned(),
    })?;
    Verifier::new(root)
        .and_then(|v| v.verify(bundle, artifact, &policy))
        .map(|_| ())
        .map_err(Error::SelfCheck)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certified_credentials_must_be_for_the_key_and_valid_now() {
        use std::time::Duration;
        use waxseal_x509::{CaNames, CertificateAuthority, LeafRequest, San};

        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ca = CertificateAuthority::generate(
            Algorithm::EcdsaP256Sha256,
            &CaNames::default(),
            start,
            Duration::from_secs(86_400),
        )
        .unwrap();
        let key = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let other = SigningKey::generate(Algorithm::EcdsaP256Sha256).unwrap();
        let request = LeafRequest::new(
            key.public_key(),
            San::Email("alice@example.com".to_owned()),
            "https://issuer.example",
            start,
            start + Duration::from_secs(600),
        )
        .unwrap();
        let der = ca.issue_precertificate(&request).unwrap().der().to_vec();
        let at = |s| start + Duration::from_secs(s);
        assert_eq!(
            check_certified(&key, &der, at(300)).unwrap(),
            "alice@example.com"
        );
        type Case<'a> = (&'a str, &'a SigningKey, &'a [u8], SystemTime, &'a str);
        let cases: [Case; 4] = [
            ("other key", &other, &der, at(300), "another key"),
            ("expired", &key, &der, at(601), "get a new certificate"),
            (
                "not yet valid",
                &key,
                &der,
                start - Duration::from_secs(1),
                "not now",
            ),
            ("garbage", &key, b"\x30\x00", at(300), ""),
        ];
        for (name, key, der, now, needle) in cases {
            let error = check_certified(key, der, now).unwrap_err();
            assert!(
                matches!(&error, Error::InvalidInput { .. }) && error.to_string().contains(needle),
                "{name}: {error}"
            );
        }
    }

    #[test]
    fn reads_digests() {
        let hex64 = "ab".repeat(32);
        assert_eq!(
            Content::from_digest(&format!("sha256:{hex64}")).unwrap(),
            Content::Digest([0xab; 32])
        );
        for bad in [
            hex64.clone(),
            format!("sha256:{}", &hex64[2..]),
            "sha256:zz".into(),
        ] {
            assert!(Content::from_digest(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checks_in_toto_statements() {
        let good = br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000"}}],"predicateType":"x","predicate":{}}"#;
        assert!(Content::in_toto(good.to_vec()).is_ok());
        const BAD: &[(&str, &[u8])] = &[
            ("not json", b"{"),
            ("wrong type", br#"{"_type":"x","subject":[{}]}"#),
            (
                "no subject",
                br#"{"_type":"https://in-toto.io/Statement/v1","subject":[]}"#,
            ),
            (
                "no sha256 subject",
                br#"{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha512":"00"}}]}"#,
            ),
        ];
        for (name, statement) in BAD {
            assert!(Content::in_toto(statement.to_vec()).is_err(), "{name}");
        }
    }
}
