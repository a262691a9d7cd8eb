//! Trust material in protobuf JSON: the trusted root (`dev.sigstore.trustroot.v1.TrustedRoot`),
//! the signing config v0.2 (`SigningConfig`) and the client trust config that pairs them
//! (`ClientTrustConfig`), all from protobuf-specs `sigstore_trustroot.proto`.
//!
//! Parsing is strict, as sigstore-python's is: unknown fields and unknown media types are
//! refused (waxseal INTEROP.md §1).

use serde::{Deserialize, Deserializer, Serialize, de};

use crate::common::{DistinguishedName, PublicKey, TimeRange, X509CertificateChain};
use crate::rekor::LogId;
use crate::{Error, protojson};

/// The trusted root media type that sigstore-python and sigstore-js accept.
pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
/// The newer spelling of the trusted root media type; read, but never written (sigstore-python
/// 4.5 refuses it).
pub const TRUSTED_ROOT_MEDIA_TYPE_V0_2: &str = "application/vnd.dev.sigstore.trustedroot.v0.2+json";
/// The signing config media type (v0.2; v0.1 has another shape and is refused).
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";
/// The client trust config media type.
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";

fn media_type<'de, D: Deserializer<'de>>(
    deserializer: D,
    what: &str,
    accepted: &[&str],
) -> Result<String, D::Error> {
    let value = String::deserialize(deserializer)?;
    if accepted.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(de::Error::custom(format_args!(
            "unsupported {what} mediaType {value:?} (expected {})",
            accepted.join(" or ")
        )))
    }
}

fn trusted_root_media_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    media_type(
        d,
        "trusted root",
        &[TRUSTED_ROOT_MEDIA_TYPE, TRUSTED_ROOT_MEDIA_TYPE_V0_2],
    )
}

fn signing_config_media_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    media_type(d, "signing config", &[SIGNING_CONFIG_MEDIA_TYPE])
}

fn client_trust_config_media_type<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    media_type(d, "client trust config", &[CLIENT_TRUST_CONFIG_MEDIA_TYPE])
}

/// `dev.sigstore.trustroot.v1.TrustedRoot`: the logs, CAs, CT logs and TSAs a client trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TrustedRoot {
    /// [`TRUSTED_ROOT_MEDIA_TYPE`] (or its v0.2 spelling when read).
    #[serde(alias = "media_type", deserialize_with = "trusted_root_media_type")]
    pub media_type: String,
    /// Transparency logs (Rekor v1 and v2).
    #[serde(default)]
    pub tlogs: Vec<TransparencyLogInstance>,
    /// Certificate authorities issuing signing certificates (Fulcio).
    #[serde(default, alias = "certificate_authorities")]
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// Certificate transparency logs.
    #[serde(default)]
    pub ctlogs: Vec<TransparencyLogInstance>,
    /// RFC 3161 timestamp authorities.
    #[serde(default, alias = "timestamp_authorities")]
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

impl TrustedRoot {
    /// An empty root with [`TRUSTED_ROOT_MEDIA_TYPE`]; fill the lists as needed.
    pub fn new() -> Self {
        Self {
            media_type: TRUSTED_ROOT_MEDIA_TYPE.to_owned(),
            tlogs: Vec::new(),
            certificate_authorities: Vec::new(),
            ctlogs: Vec::new(),
            timestamp_authorities: Vec::new(),
        }
    }

    /// Parses a trusted root's protobuf JSON.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] naming the problem (shape, unknown field, media type, timestamp).
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }

    /// The protobuf JSON, indented, with a final newline.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        to_json_pretty(self)
    }
}

impl Default for TrustedRoot {
    fn default() -> Self {
        Self::new()
    }
}

/// `dev.sigstore.trustroot.v1.TransparencyLogInstance`: a Rekor log or a CT log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct TransparencyLogInstance {
    /// The log's base URL (`https://rekor.sigstore.dev`).
    #[serde(default, alias = "base_url")]
    pub base_url: String,
    /// The Merkle tree hash: `SHA2_256`.
    #[serde(default, alias = "hash_algorithm")]
    pub hash_algorithm: String,
    /// The log's signing key and when it was used.
    #[serde(default, alias = "public_key")]
    pub public_key: PublicKey,
    /// The log ID entries carry (Rekor v1 and CT: SHA-256 of the DER SPKI; Rekor v2: the C2SP
    /// note key ID).
    #[serde(default, alias = "log_id")]
    pub log_id: LogId,
    /// The checkpoint key ID, when it differs from `log_id`.
    #[serde(
        default,
        alias = "checkpoint_key_id",
        skip_serializing_if = "Option::is_none"
    )]
    pub checkpoint_key_id: Option<LogId>,
    /// Who runs the log.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

impl TransparencyLogInstance {
    /// A log at `base_url` with SHA-256 Merkle trees, key `public_key` and ID `log_id`.
    pub fn new(base_url: impl Into<String>, public_key: PublicKey, log_id: LogId) -> Self {
        Self {
            base_url: base_url.into(),
            hash_algorithm: "SHA2_256".to_owned(),
            public_key,
            log_id,
            checkpoint_key_id: None,
            operator: String::new(),
        }
    }
}

/// `dev.sigstore.trustroot.v1.CertificateAuthority`: a certificate or timestamp authority.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct CertificateAuthority {
    /// The root's subject (informational).
    #[serde(default)]
    pub subject: DistinguishedName,
    /// The authority's URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// The chain, issuing certificate first, self-signed root last.
    #[serde(default, alias = "cert_chain")]
    pub cert_chain: X509CertificateChain,
    /// When the chain was in use (sigstore-python requires it).
    #[serde(default, alias = "valid_for", skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    /// Who runs the authority.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub operator: String,
}

impl CertificateAuthority {
    /// An authority with this subject, URI, chain and validity.
    pub fn new(
        subject: DistinguishedName,
        uri: impl Into<String>,
        cert_chain: X509CertificateChain,
        valid_for: TimeRange,
    ) -> Self {
        Self {
            subject,
            uri: uri.into(),
            cert_chain,
            valid_for: Some(valid_for),
            operator: String::new(),
        }
    }
}

/// `dev.sigstore.trustroot.v1.SigningConfig` v0.2: where a signer finds its services.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SigningConfig {
    /// [`SIGNING_CONFIG_MEDIA_TYPE`].
    #[serde(alias = "media_type", deserialize_with = "signing_config_media_type")]
    pub media_type: String,
    /// Certificate authorities (Fulcio), by origin URL.
    #[serde(default, alias = "ca_urls")]
    pub ca_urls: Vec<Service>,
    /// OIDC providers.
    #[serde(default, alias = "oidc_urls")]
    pub oidc_urls: Vec<Service>,
    /// Rekor logs (base URLs).
    #[serde(default, alias = "rekor_tlog_urls")]
    pub rekor_tlog_urls: Vec<Service>,
    /// How many logs to use. sigstore-js signs with no log at all if this is absent.
    #[serde(
        default,
        alias = "rekor_tlog_config",
        skip_serializing_if = "Option::is_none"
    )]
    pub rekor_tlog_config: Option<ServiceConfiguration>,
    /// Timestamp authorities (full endpoint URLs).
    #[serde(default, alias = "tsa_urls")]
    pub tsa_urls: Vec<Service>,
    /// How many TSAs to use; write it only when `tsa_urls` is not empty (sigstore-js fails
    /// otherwise).
    #[serde(default, alias = "tsa_config", skip_serializing_if = "Option::is_none")]
    pub tsa_config: Option<ServiceConfiguration>,
}

impl SigningConfig {
    /// An empty config with [`SIGNING_CONFIG_MEDIA_TYPE`].
    pub fn new() -> Self {
        Self {
            media_type: SIGNING_CONFIG_MEDIA_TYPE.to_owned(),
            ca_urls: Vec::new(),
            oidc_urls: Vec::new(),
            rekor_tlog_urls: Vec::new(),
            rekor_tlog_config: None,
            tsa_urls: Vec::new(),
            tsa_config: None,
        }
    }

    /// Parses a signing config's protobuf JSON.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] naming the problem.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }

    /// The protobuf JSON, indented, with a final newline.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        to_json_pretty(self)
    }
}

impl Default for SigningConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// `dev.sigstore.trustroot.v1.Service`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct Service {
    /// The service's URL.
    #[serde(default)]
    pub url: String,
    /// The API's major version (Rekor: 1 or 2; others: 1).
    #[serde(default, alias = "major_api_version")]
    pub major_api_version: u32,
    /// When clients may use it.
    #[serde(default, alias = "valid_for", skip_serializing_if = "Option::is_none")]
    pub valid_for: Option<TimeRange>,
    /// Who runs it (sigstore-python requires it).
    #[serde(default)]
    pub operator: String,
}

impl Service {
    /// A service at `url` of API version `major_api_version`, run by `operator`.
    pub fn new(
        url: impl Into<String>,
        major_api_version: u32,
        valid_for: TimeRange,
        operator: impl Into<String>,
    ) -> Self {
        Self {
            url: url.into(),
            major_api_version,
            valid_for: Some(valid_for),
            operator: operator.into(),
        }
    }
}

/// `dev.sigstore.trustroot.v1.ServiceConfiguration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServiceConfiguration {
    /// Which services to use.
    #[serde(default)]
    pub selector: ServiceSelector,
    /// For [`ServiceSelector::Exact`], how many.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub count: u32,
}

fn is_zero(value: &u32) -> bool {
    *value == 0
}

impl ServiceConfiguration {
    /// A configuration with `selector` (and `count` for `Exact`, else 0).
    pub fn new(selector: ServiceSelector, count: u32) -> Self {
        Self { selector, count }
    }
}

/// `dev.sigstore.trustroot.v1.ServiceSelector`, by enum name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum ServiceSelector {
    /// Every listed service.
    #[serde(rename = "ALL")]
    All,
    /// Any one service (what clients support).
    #[serde(rename = "ANY")]
    Any,
    /// Exactly `count` services.
    #[serde(rename = "EXACT")]
    Exact,
    /// Unset.
    #[default]
    #[serde(rename = "SERVICE_SELECTOR_UNDEFINED")]
    Undefined,
}

/// `dev.sigstore.trustroot.v1.ClientTrustConfig`: the one file a client needs
/// (`sigstore --trust-config FILE`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientTrustConfig {
    /// [`CLIENT_TRUST_CONFIG_MEDIA_TYPE`].
    #[serde(
        alias = "media_type",
        deserialize_with = "client_trust_config_media_type"
    )]
    pub media_type: String,
    /// What to trust when verifying.
    #[serde(alias = "trusted_root")]
    pub trusted_root: TrustedRoot,
    /// Where to sign (mandatory, even for verifying clients).
    #[serde(alias = "signing_config")]
    pub signing_config: SigningConfig,
}

impl ClientTrustConfig {
    /// A config of this root and signing config.
    pub fn new(trusted_root: TrustedRoot, signing_config: SigningConfig) -> Self {
        Self {
            media_type: CLIENT_TRUST_CONFIG_MEDIA_TYPE.to_owned(),
            trusted_root,
            signing_config,
        }
    }

    /// Parses a client trust config's protobuf JSON.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidJson`] naming the problem.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        protojson::from_slice(json)
    }

    /// The protobuf JSON, indented, with a final newline.
    pub fn to_json_pretty(&self) -> Vec<u8> {
        to_json_pretty(self)
    }
}

fn to_json_pretty<T: Serialize>(value: &T) -> Vec<u8> {
    // These types hold only strings, numbers and lists: serializing cannot fail.
    let mut out = serde_json::to_vec_pretty(value).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Timestamp;

    #[test]
    fn client_trust_config_round_trips_and_is_strict() {
        let mut signing = SigningConfig::new();
        let valid = TimeRange::new(Timestamp::from_unix(1_700_000_000, 0), None);
        signing.ca_urls.push(Service::new(
            "https://ca.example.test",
            1,
            valid.clone(),
            "me",
        ));
        signing
            .rekor_tlog_urls
            .push(Service::new("https://rekor.example.test", 1, valid, "me"));
        signing.rekor_tlog_config = Some(ServiceConfiguration::new(ServiceSelector::Any, 0));
        let config = ClientTrustConfig::new(TrustedRoot::new(), signing);
        let json = config.to_json_pretty();
        assert_eq!(ClientTrustConfig::from_json(&json).unwrap(), config);
        let text = String::from_utf8(json).unwrap();
        assert!(text.contains(r#""rekorTlogConfig": {"#), "{text}");
        assert!(text.contains(r#""selector": "ANY""#), "{text}");
        assert!(
            text.contains(r#""start": "2023-11-14T22:13:20Z""#),
            "{text}"
        );
        assert!(!text.contains("tsaConfig"), "{text}");

        const CASES: &[(&str, &str, &str)] = &[
            (
                "unknown field",
                r#""operator": "me""#,
                r#""operator": "me", "x": 1"#,
            ),
            (
                "signing config v0.1",
                "signingconfig.v0.2",
                "signingconfig.v0.1",
            ),
            ("bad time", "2023-11-14T22:13:20Z", "2023-11-14"),
            ("unknown selector", r#""ANY""#, r#""SOME""#),
        ];
        for (name, from, to) in CASES {
            let bad = text.replacen(from, to, 1);
            assert_ne!(bad, text, "{name}: the replacement applies");
            assert!(
                ClientTrustConfig::from_json(bad.as_bytes()).is_err(),
                "{name}"
            );
        }
    }
}
